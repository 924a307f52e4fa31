// IPVS layer: one node's expected virtual servers (what kube-proxy should program) against `ipvsadm -Ln`.
// Like kube-proxy's own sync loop, it diffs two keyed sets; counters (ActiveConn, InActConn) are ignored.
import { cidrContains, ipFamily } from '../net/ip.ts';
import type { IpvsRealServer, IpvsService, IpvsTable } from '../parse/types.ts';
import { renderIpvsServiceLine, renderRealServerLine } from '../render/ipvsadm.ts';
import type { ExpectedVirtualServer, NodeIpvs } from '../model/types.ts';
import { RealServerIndex } from '../net/real-server-index.ts';
import { realServerKey, virtualServerKey } from './keys.ts';
import type { Finding } from './types.ts';

export type ObservedLineStatus = 'ok' | 'mismatch' | 'unexpected' | 'draining';

export interface ObservedRealServer {
  server: IpvsRealServer;
  status: ObservedLineStatus;
}

export interface ObservedVirtualServer {
  service: IpvsService;
  status: ObservedLineStatus;
  expected: ExpectedVirtualServer | null;
  realServers: ObservedRealServer[];
  /** expected real servers of this virtual server that were not observed */
  missingRealServers: IpvsRealServer[];
}

export interface IpvsComparison {
  findings: Finding[];
  observed: ObservedVirtualServer[];
  missing: ExpectedVirtualServer[];
}

const SERVICE_FIELDS = ['scheduler', 'persistent', 'netmask', 'flags'] as const;
const REAL_SERVER_FIELDS = ['forward', 'weight'] as const;

export function compareIpvs(expected: NodeIpvs, observed: IpvsTable): IpvsComparison {
  const node = expected.node;
  const wantedKeys = expected.services.map(virtualServerKey);
  // Each key stands for its last expected virtual server (as a Map built from the list keeps);
  // matched[i]: the key of expected.services[i] was seen, flagged at the key's last index.
  const wanted = new Map<string, number>();
  wantedKeys.forEach((key, index) => wanted.set(key, index));
  const matched = new Uint8Array(wantedKeys.length);
  const findings: Finding[] = [];
  const rows: ObservedVirtualServer[] = [];

  const onAnyAddress = new Map((expected.nodePortsOnAnyAddress ?? []).map((vs) => [anyAddressKey(vs), vs] as const));
  for (const service of observed.services) {
    const key = virtualServerKey(service);
    const index = wanted.get(key);
    let want: ExpectedVirtualServer | undefined;
    if (index !== undefined && !matched[index]) {
      matched[index] = 1;
      want = expected.services[index]!;
    } else if (index === undefined && service.address !== null) {
      // The node's addresses were not observed: a NodePort on any address of the node is kube-proxy's.
      const template = onAnyAddress.get(anyAddressKey(service));
      const within = template?.why.nodeAddressWithin;
      if (template && (!within || within.some((cidr) => cidrContains(cidr, service.address!)))) want = { ...template, address: service.address };
    }
    if (!want) {
      rows.push({
        service, status: 'unexpected', expected: null, missingRealServers: [],
        realServers: service.realServers.map((server) => ({ server, status: 'unexpected' })),
      });
      findings.push(serviceUnexpected(node, key, service));
      continue;
    }
    const fields = changedFields(SERVICE_FIELDS, want, service, sameValue);
    if (fields) findings.push(serviceMismatch(node, key, want, service, fields));
    const { realServers, missingRealServers } = compareRealServers(node, key, want, service, findings);
    rows.push({ service, status: fields ? 'mismatch' : 'ok', expected: want, realServers, missingRealServers });
  }
  const missing = expected.services.filter((_, i) => !matched[wanted.get(wantedKeys[i]!)!]);
  for (const want of missing) findings.push(serviceMissing(node, want));
  return { findings, observed: rows, missing };
}

/** Protocol, family and port: what a NodePort on an unknown node address is recognised by. */
function anyAddressKey(vs: Pick<IpvsService, 'protocol' | 'address' | 'port'>): string {
  return `${vs.protocol} ${vs.address === null ? null : ipFamily(vs.address)} ${vs.port}`;
}

function compareRealServers(node: string, vsKey: string, want: ExpectedVirtualServer, got: IpvsService, findings: Finding[]) {
  const wanted = new RealServerIndex(want.realServers);
  // matched[i]: the key of want.realServers[i] was seen, flagged at the key's last index (the one `wanted` finds).
  const matched = new Uint8Array(want.realServers.length);
  const realServers: ObservedRealServer[] = [];
  for (const server of got.realServers) {
    const index = wanted.lastIndexOf(server.address, server.port);
    if (index === -1 || matched[index]) {
      // kube-proxy keeps a removed endpoint with weight 0 until its connections drain (graceful termination).
      if (server.weight === 0) {
        realServers.push({ server, status: 'draining' });
        continue;
      }
      realServers.push({ server, status: 'unexpected' });
      findings.push(realServerUnexpected(node, vsKey, want, server));
      continue;
    }
    matched[index] = 1;
    const expectedServer = want.realServers[index]!;
    const fields = changedFields(REAL_SERVER_FIELDS, expectedServer, server, sameValue);
    realServers.push({ server, status: fields ? 'mismatch' : 'ok' });
    if (fields) findings.push(realServerMismatch(node, vsKey, want, expectedServer, server, fields));
  }
  const missingRealServers = want.realServers.filter((rs) => !matched[wanted.lastIndexOf(rs.address, rs.port)]);
  for (const rs of missingRealServers) {
    findings.push(realServerMissing(node, vsKey, want, rs, want.why.realServers[want.realServers.indexOf(rs)] ?? null));
  }
  return { realServers, missingRealServers };
}

/** The fields whose values differ, or null when none does (the usual case, which then allocates nothing). */
function changedFields<T>(fields: readonly (keyof T & string)[], want: T, got: T, same: (a: unknown, b: unknown) => boolean): string[] | null {
  let changed: string[] | null = null;
  for (const field of fields) if (!same(want[field], got[field])) (changed ??= []).push(field);
  return changed;
}

function sameValue(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) ? a.join(',') === b.join(',') : a === b;
}

function serviceName(want: ExpectedVirtualServer): string {
  const w = want.why;
  return `Service ${w.namespace}/${w.service}${w.portName ? ` port "${w.portName}"` : ''} (${w.kind})`;
}

function serviceMismatch(node: string, key: string, want: ExpectedVirtualServer, got: IpvsService, fields: string[]): Finding {
  const diffs = fields.map((f) => `${f} is ${JSON.stringify(got[f as keyof IpvsService])}, expected ${JSON.stringify(want[f as keyof IpvsService])}`);
  const causes: string[] = [];
  if (fields.includes('scheduler')) causes.push('kube-proxy runs with another --ipvs-scheduler than its ConfigMap says (it reads the scheduler only at start), or someone changed the virtual server with ipvsadm -E');
  if (fields.includes('persistent')) causes.push(`the Service's sessionAffinity changed and kube-proxy has not synced yet, or persistence was set by hand`);
  if (fields.includes('netmask') || fields.includes('flags')) causes.push('the virtual server was edited outside kube-proxy (kube-proxy never sets a persistence mask or one-packet scheduling)');
  return {
    layer: 'ipvs', kind: 'mismatch', node, key, fields,
    expected: renderIpvsServiceLine(want), observed: renderIpvsServiceLine(got),
    message: `Virtual server ${key} on ${node} (${serviceName(want)}): ${diffs.join('; ')}.`,
    cause: causes.join('; ') + '.',
    next: `kubectl -n kube-system get configmap kube-proxy -o yaml (ipvs.scheduler); kube-proxy logs on ${node}; kubectl -n ${want.why.namespace} get service ${want.why.service} -o yaml`,
  };
}

function serviceMissing(node: string, want: ExpectedVirtualServer): Finding {
  const key = virtualServerKey(want);
  const source = want.why.nodeAddress;
  // netlab inferred this address from the Node object: kube-proxy uses it only if an interface holds it
  const inferred = source && !source.observed ? ` Or ${want.address} (the node's ${source.field}) is on no interface of the node, and kube-proxy opens NodePorts only on interface addresses: capture \`ip -o addr\` on the node (ip-addr.txt) so netlab knows them.` : '';
  return {
    layer: 'ipvs', kind: 'missing', node, key, fields: [],
    expected: renderIpvsServiceLine(want), observed: null,
    message: `Virtual server ${key} for ${serviceName(want)} is missing on ${node}: connections to it from this node are not load-balanced.`,
    cause: `kube-proxy on this node has not synced since the Service was created, is not running, or runs in another mode (iptables/nftables).${inferred}`,
    next: `kube-proxy logs on ${node} (look for "syncProxyRules"); kubectl -n kube-system get pods -l k8s-app=kube-proxy -o wide; curl http://127.0.0.1:10249/proxyMode on the node`,
  };
}

function serviceUnexpected(node: string, key: string, got: IpvsService): Finding {
  return {
    layer: 'ipvs', kind: 'unexpected', node, key, fields: [],
    expected: null, observed: renderIpvsServiceLine(got),
    message: `Virtual server ${key} on ${node} matches no Service port in the cluster.`,
    cause: 'A stale virtual server of a deleted Service that kube-proxy has not cleaned up yet, or one added by hand with ipvsadm.',
    next: `kubectl get services -A -o wide | grep ${got.address ?? got.fwmark}; kube-proxy logs on ${node}`,
  };
}

function realServerMissing(node: string, vsKey: string, want: ExpectedVirtualServer, rs: IpvsRealServer, why: { namespace: string; pod: string | null } | null): Finding {
  const who = why?.pod ? `pod ${why.namespace}/${why.pod}` : 'an endpoint without a pod';
  return {
    layer: 'ipvs', kind: 'missing', node, key: `${vsKey} -> ${realServerKey(rs)}`, fields: [],
    expected: renderRealServerLine(rs), observed: null,
    message: `Real server ${realServerKey(rs)} (${who}) is missing from ${vsKey} on ${node}: ${serviceName(want)} never sends traffic from this node to it.`,
    cause: 'kube-proxy has not seen the endpoint become ready yet, or the real server was deleted outside kube-proxy (it re-adds it at its next full sync).',
    next: `kubectl -n ${want.why.namespace} get endpointslices -l kubernetes.io/service-name=${want.why.service} -o yaml; kube-proxy logs on ${node}`,
  };
}

function realServerUnexpected(node: string, vsKey: string, want: ExpectedVirtualServer, rs: IpvsRealServer): Finding {
  return {
    layer: 'ipvs', kind: 'unexpected', node, key: `${vsKey} -> ${realServerKey(rs)}`, fields: [],
    expected: null, observed: renderRealServerLine(rs),
    message: `Real server ${realServerKey(rs)} behind ${vsKey} (${serviceName(want)}) on ${node} is not a ready endpoint of that Service: traffic may go to a pod that is gone or not ready.`,
    cause: 'A stale endpoint: the pod was deleted or became not ready and kube-proxy has not synced, or the real server was added by hand.',
    next: `kubectl -n ${want.why.namespace} get endpointslices -l kubernetes.io/service-name=${want.why.service} -o wide; kubectl get pods -A -o wide | grep ${rs.address}`,
  };
}

function realServerMismatch(node: string, vsKey: string, want: ExpectedVirtualServer, wantRs: IpvsRealServer, got: IpvsRealServer, fields: string[]): Finding {
  const diffs = fields.map((f) => `${f} is ${JSON.stringify(got[f as keyof IpvsRealServer])}, expected ${JSON.stringify(wantRs[f as keyof IpvsRealServer])}`);
  return {
    layer: 'ipvs', kind: 'mismatch', node, key: `${vsKey} -> ${realServerKey(got)}`, fields,
    expected: renderRealServerLine(wantRs), observed: renderRealServerLine(got),
    message: `Real server ${realServerKey(got)} behind ${vsKey} (${serviceName(want)}) on ${node}: ${diffs.join('; ')}.`,
    cause: fields.includes('weight')
      ? 'kube-proxy always uses weight 1; weight 0 on a ready endpoint means it is being drained, or the weight was changed by hand.'
      : 'kube-proxy always uses masquerading (Masq); another forwarding method was set outside kube-proxy.',
    next: `kube-proxy logs on ${node}; ipvsadm -Ln -t ${vsKey.replace(/^\w+ /, '')}`,
  };
}
