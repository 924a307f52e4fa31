// Plain-word explanations of `ipvsadm -Ln` lines, and the annotated table of one node.
import type { IpvsComparison } from '../compare/ipvs.ts';
import { virtualServerKey } from '../compare/keys.ts';
import type { ExpectedVirtualServer, NodeIpvs, RealServerWhy, TopologyChoice } from '../model/types.ts';
import type { IpvsRealServer, IpvsService } from '../parse/types.ts';
import { hostPort, renderIpvsServiceLine, renderRealServerLine } from '../render/ipvsadm.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import { describeScheduler } from './schedulers.ts';
import type { AnnotatedLine } from './types.ts';

export const IPVS_HEADER = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
];

const KIND_WORDS: Record<Exclude<ExpectedVirtualServer['why']['kind'], 'NodePort'>, string> = {
  ClusterIP: 'its ClusterIP, reachable from inside the cluster',
  ExternalIP: 'one of its externalIPs',
  LoadBalancer: 'its load balancer\'s ingress IP, so traffic for it is handled on the node without leaving',
};

function podName(why: RealServerWhy | undefined, address: string): string {
  if (!why) return address;
  return why.pod ? `pod ${why.namespace}/${why.pod}${why.node ? ` on ${why.node}` : ''}` : `${address} (an endpoint with no pod, e.g. an API server)`;
}

/** Which address of the node a NodePort is on, and how netlab knows the node has it. */
function nodePortAddressWords(vs: ExpectedVirtualServer): string {
  const source = vs.why.nodeAddress;
  const on = `NodePort on ${vs.address}`;
  if (!source) {
    return `${on}, an address of this node (kube-proxy opens NodePorts on every interface address, e.g. docker0 or a second NIC; the node's addresses were not observed, so this one is recognised by its port: capture \`ip -o addr\` to check it)`;
  }
  return source.observed ? `${on}, an address of this node on ${source.iface}` : `${on}, the node's ${source.field}`;
}

/** How topology hints shaped the real servers, in plain words; null when there is nothing to say. */
export function explainTopology(topology: TopologyChoice | undefined): string | null {
  if (!topology) return null;
  const asked = topology.askedBy ? ` (${topology.askedBy})` : '';
  if (topology.mode === 'PreferSameZone') {
    return `Only same-zone endpoints${asked}: every ready endpoint carries a zone hint, so kube-proxy keeps those hinted for ${topology.zone}, this node's zone.`;
  }
  if (topology.mode === 'PreferSameNode') {
    return `Only endpoints on this node${asked}: every ready endpoint carries a node hint, so kube-proxy keeps those hinted for ${topology.node}.`;
  }
  const why = {
    'some-endpoints-unhinted': 'not every ready endpoint has a zone hint',
    'node-has-no-zone': 'this node has no topology.kubernetes.io/zone label',
    'no-endpoint-for-zone': 'no ready endpoint is hinted for this node\'s zone',
  };
  if (topology.ignored) return `Topology hints ignored${asked}: ${why[topology.ignored]}, so kube-proxy uses every ready endpoint.`;
  return `The Service asks for topology-aware routing${asked}, but no endpoint carries a hint yet (the EndpointSlice controller sets them), so every ready endpoint is used.`;
}

export function explainVirtualServer(vs: ExpectedVirtualServer): string {
  const w = vs.why;
  const port = `${w.portName ? `port "${w.portName}" ` : ''}(${vs.port}/${vs.protocol})`;
  const what = w.kind === 'NodePort' ? `${nodePortAddressWords(vs)}, reachable from outside the cluster` : KIND_WORDS[w.kind];
  const parts = [`Service ${w.namespace}/${w.service} ${port}: ${what}.`];
  parts.push(`${vs.scheduler} = ${describeScheduler(vs.scheduler)}.`);
  if (vs.persistent !== null) {
    parts.push(`persistent ${vs.persistent} = sessionAffinity: ClientIP: a client keeps the same real server until it has been idle ${vs.persistent} s.`);
  }
  if (vs.realServers.length === 0) {
    parts.push('No real servers: the Service has no ready endpoints, so connections to it are refused (kube-proxy still creates the virtual server).');
  } else {
    const pods = vs.realServers.map((rs, i) => podName(w.realServers[i], rs.address));
    parts.push(`Real servers: ${pods.join(', ')}.`);
  }
  const topology = explainTopology(w.topology);
  if (topology) parts.push(topology);
  if (w.policy === 'Local') {
    parts.push(w.localFallback
      ? 'Traffic policy Local, but no endpoint runs on this node, so kube-proxy uses every endpoint of the cluster instead.'
      : 'Traffic policy Local: only endpoints on this node are used.');
  }
  return parts.join(' ');
}

export function explainRealServer(rs: IpvsRealServer, why: RealServerWhy | undefined, vs: IpvsService): string {
  const reason = why ? {
    ready: 'a ready endpoint',
    'serving-terminating': 'a terminating endpoint that still serves, used because no endpoint is ready',
    local: 'a ready endpoint on this node (traffic policy Local)',
    'local-serving-terminating': 'a terminating endpoint on this node that still serves, used because none is ready',
  }[why.reason] : 'an endpoint';
  const forward = rs.forward === 'Masq' ? 'Masq = NAT: the destination is rewritten to this address' : `forward method ${rs.forward}`;
  return `${podName(why, rs.address)}, ${reason} of ${virtualServerKey(vs)}. ${forward}; weight ${rs.weight} = ${rs.weight === 0 ? 'no new connections' : 'its share of new connections'}. ActiveConn/InActConn are live counters, not compared.`;
}

function explainUnexpectedService(svc: IpvsService, snapshot: ClusterSnapshot): string {
  const owner = snapshot.services.find((s) => svc.address !== null && (s.clusterIPs.includes(svc.address) || s.externalIPs.includes(svc.address)));
  const hint = owner ? `The address belongs to Service ${owner.namespace}/${owner.name}, which has no such port.` : 'No Service in the snapshot has this address and port.';
  return `Virtual server ${virtualServerKey(svc)} (${describeScheduler(svc.scheduler)}). ${hint}`;
}

/** The observed table with every line explained, and the missing lines inserted where they belong. */
export function annotateIpvs(cmp: IpvsComparison, expected: NodeIpvs, snapshot: ClusterSnapshot): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [
    { text: IPVS_HEADER[0]!, status: 'info', explanation: 'The kernel\'s IPVS version and connection hash table size.' },
    { text: IPVS_HEADER[1]!, status: 'info', explanation: 'Each virtual server: protocol, address:port, scheduler and flags such as persistence.' },
    { text: IPVS_HEADER[2]!, status: 'info', explanation: 'Each real server (->): where connections are sent, how, and with what weight.' },
  ];
  for (const row of cmp.observed) {
    const want = row.expected;
    let explanation = want ? explainVirtualServer(want) : explainUnexpectedService(row.service, snapshot);
    if (want && row.status === 'mismatch') explanation += ` Expected instead: ${renderIpvsServiceLine(want)}`;
    lines.push({ text: renderIpvsServiceLine(row.service), status: row.status, explanation });
    for (const { server, status } of row.realServers) {
      const index = want ? want.realServers.findIndex((rs) => hostPort(rs.address, rs.port) === hostPort(server.address, server.port)) : -1;
      const why = index >= 0 ? want!.why.realServers[index] : undefined;
      let text = explainRealServer(server, why, row.service);
      if (status === 'draining') text = `Weight 0: kube-proxy removed this endpoint and keeps it only until its connections drain (graceful termination). ${text}`;
      if (status === 'unexpected') text = `Not a ready endpoint of this Service: ${text}`;
      lines.push({ text: renderRealServerLine(server), status, explanation: text });
    }
    for (const rs of row.missingRealServers) {
      const why = want!.why.realServers[want!.realServers.indexOf(rs)];
      lines.push({ text: renderRealServerLine(rs), status: 'missing', explanation: explainRealServer(rs, why, row.service) });
    }
  }
  for (const vs of cmp.missing) lines.push(...annotateExpectedVirtualServer(vs, 'missing'));
  return lines;
}

export function annotateExpectedVirtualServer(vs: ExpectedVirtualServer, status: 'missing' | 'expected'): AnnotatedLine[] {
  return [
    { text: renderIpvsServiceLine(vs), status, explanation: explainVirtualServer(vs) },
    ...vs.realServers.map((rs, i) => ({ text: renderRealServerLine(rs), status, explanation: explainRealServer(rs, vs.why.realServers[i], vs) })),
  ];
}
