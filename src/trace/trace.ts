// Follow one packet: a pure function over the snapshot and (when present) the observation, beside checkLab.
// The CLI prints its hops (`netlab trace`), the web page draws them; neither recomputes anything.
import type { Observation } from '../observation/types.ts';
import { isInZone } from '../model/dns/names.ts';
import { nodeRoutingAddress } from '../model/calico.ts';
import { isIpv4, isIpv6, parseCidr } from '../net/ip.ts';
import type { ClusterSnapshot, NodeView, PodView, Protocol } from '../snapshot/types.ts';
import { type TraceContext, traceContext } from './context.ts';
import { dnsHop } from './dns.ts';
import { nodeOwnsAddress, routeHop, tunnelHop } from './routing.ts';
import { frontendsAt, serviceHop } from './service.ts';
import { type DeliverHop, type Hop, type ReplyHop, type RouteHop, type ServiceHop, type SourceHop, type Trace, TraceError, type TraceRequest, type Verdict, VERDICT_WORDS } from './types.ts';

const PROTOCOL_PREFERENCE: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const SEVERITY: Verdict[] = ['ok', 'expected', 'unknown', 'broken'];

interface Source {
  node: NodeView;
  pod: PodView | null;
}

function findSource(snapshot: ClusterSnapshot, from: string): Source {
  const nodeOf = (pod: PodView) => {
    const node = snapshot.nodes.find((n) => n.name === pod.nodeName);
    if (!node) throw new TraceError(`pod ${pod.namespace}/${pod.name} is not scheduled on a node of the snapshot (nodeName ${pod.nodeName ?? 'unset'}): it sends no packets`);
    return node;
  };
  if (from.includes('/')) {
    const [namespace, name] = from.split('/', 2) as [string, string];
    const pod = snapshot.pods.find((p) => p.namespace === namespace && p.name === name);
    if (!pod) throw new TraceError(`--from ${from}: no pod ${name} in namespace ${namespace} in the snapshot`);
    return { node: nodeOf(pod), pod };
  }
  const pods = snapshot.pods.filter((p) => p.name === from);
  if (pods.length > 1) throw new TraceError(`--from ${from}: pods of that name exist in namespaces ${pods.map((p) => p.namespace).join(', ')}; write NAMESPACE/${from}`);
  if (pods[0]) return { node: nodeOf(pods[0]), pod: pods[0] };
  const node = snapshot.nodes.find((n) => n.name === from);
  if (node) return { node, pod: null };
  throw new TraceError(`--from ${from}: no pod and no node of that name in the snapshot (nodes: ${snapshot.nodes.map((n) => n.name).join(', ')})`);
}

/** "web", "web.shop:8080", "10.96.0.10:53" → host and port. IPv6 destinations are refused: `route -n` is IPv4. */
export function parseDestination(to: string): { host: string; port: number | null } {
  const match = /^(.*?)(?::(\d+))?$/.exec(to.trim())!;
  const host = match[1]!;
  if (!host) throw new TraceError(`--to ${JSON.stringify(to)}: give NAME[:PORT] or IP:PORT`);
  if (isIpv6(host) || host.includes(':')) throw new TraceError(`--to ${to}: IPv6 destinations are not traced yet (netlab reads IPv4 routing tables)`);
  const port = match[2] === undefined ? null : Number(match[2]);
  if (port !== null && (port < 1 || port > 65535)) throw new TraceError(`--to ${to}: port ${port} is outside 1-65535`);
  return { host, port };
}

function sourceHop(source: Source): SourceHop {
  const { pod, node } = source;
  if (pod) {
    const address = pod.hostNetwork ? nodeRoutingAddress(node) : (pod.podIPs.find(isIpv4) ?? null);
    const running = pod.phase === 'Running';
    return {
      kind: 'source', id: 'source', title: `pod ${pod.namespace}/${pod.name}`, node: node.name, pod: { namespace: pod.namespace, name: pod.name }, address,
      verdict: running && address ? 'ok' : 'broken',
      reason: running && address ? null : `The pod is ${pod.phase || 'not running'}${address ? '' : ' and has no IPv4 address'}: it sends nothing.`,
      explanation: `Pod ${pod.namespace}/${pod.name} on ${node.name}${pod.hostNetwork ? ' (host network: it uses the node\'s addresses)' : ''}, address ${address ?? 'none'}. `
        + 'Its packets leave through its eth0 to the node, where the node\'s tables take over.',
      lines: [],
    };
  }
  return {
    kind: 'source', id: 'source', title: `node ${node.name}`, node: node.name, pod: null, address: nodeRoutingAddress(node),
    verdict: 'ok', reason: null, lines: [],
    explanation: `A process on ${node.name}'s host network. The kernel picks the source address from the route it takes (the tunnel's address for a tunnel route).`,
  };
}

/** For a node source: the name asked as written, if it is fully qualified in the cluster domain. */
function nodeDnsHop(context: TraceContext, source: Source, name: string): Hop {
  const zone = context.snapshot.dns.clusterDomain;
  const hop = {
    kind: 'dns' as const, id: 'dns', title: `DNS: ${name}`, node: source.node.name, lines: [],
    resolvConf: { nameservers: [], search: [], ndots: 1, from: 'model' as const }, queries: [], answer: null,
    verdict: 'unknown' as const,
    explanation: `A node resolves names with its own /etc/resolv.conf, which netlab does not read.`,
    reason: `Give the destination as IP:PORT, or trace from a pod${zone ? `, or a name fully qualified in ${zone}` : ''}.`,
  };
  if (!isInZone(name.replace(/\.$/, '').toLowerCase(), zone)) return hop;
  // The absolute name, asked of CoreDNS: the same step a pod's resolver would take for it.
  const podLike = { namespace: 'default', name: source.node.name, nodeName: source.node.name, dnsPolicy: 'ClusterFirst', hostNetwork: false } as PodView;
  const resolved = dnsHop({ ...context, observation: context.observation ? { ...context.observation, resolvConf: undefined } : null }, podLike, `${name.replace(/\.$/, '')}.`);
  return { ...resolved, title: hop.title, node: source.node.name, verdict: resolved.answer ? 'unknown' : resolved.verdict,
    reason: `${hop.explanation} Shown: what CoreDNS answers if the node asks it for the absolute name.`, explanation: resolved.explanation };
}

function pickFrontend(context: TraceContext, node: string, address: string, port: number | null, protocol: Protocol | undefined) {
  const frontends = frontendsAt(context, node, address).filter((vs) => (port === null || vs.port === port) && (!protocol || vs.protocol === protocol));
  if (!frontends.length) return null;
  const byPreference = [...frontends].sort((a, b) => PROTOCOL_PREFERENCE.indexOf(a.protocol as Protocol) - PROTOCOL_PREFERENCE.indexOf(b.protocol as Protocol));
  // Without a port: the first virtual server ipvsadm lists for the address.
  const chosen = port === null ? frontends[0]! : byPreference[0]!;
  return { protocol: chosen.protocol as Protocol, address, port: chosen.port! };
}

function deliverHop(context: TraceContext, route: RouteHop, address: string, port: number): DeliverHop {
  const pod = context.podWithIP(address);
  const node = context.snapshot.nodes.find((n) => n.name === route.node);
  const hostEndpoint = !pod && node !== undefined && nodeOwnsAddress(node, address);
  const iface = route.outcome.kind === 'local' ? route.outcome.iface : null;
  const bridge = route.outcome.kind === 'local' && route.outcome.bridge;
  let verdict: Verdict = route.verdict === 'broken' ? 'unknown' : route.verdict;
  let reason: string | null = route.verdict === 'ok' ? null : route.reason;
  let explanation: string;
  if (pod) {
    explanation = bridge
      ? `The bridge ${iface} hands the packet to the veth of pod ${pod.namespace}/${pod.name} (${address}), to port ${port}.`
      : `${iface ?? 'The veth'} carries the packet into pod ${pod.namespace}/${pod.name} (${address}), to port ${port}.`;
    if (!pod.ready || pod.phase !== 'Running') {
      verdict = 'broken';
      reason = `Pod ${pod.namespace}/${pod.name} is ${pod.phase}${pod.ready ? '' : ', not ready'}: it may not answer.`;
    }
  } else if (hostEndpoint) {
    explanation = `${address} is an address of ${route.node} itself: a process on its host network must listen on port ${port}.`;
    verdict = 'unknown';
    reason = 'netlab does not observe listening sockets on the node.';
  } else {
    explanation = `No pod of the snapshot has ${address}.`;
    verdict = 'broken';
    reason = `No pod or node of the snapshot has ${address}: nothing answers.`;
  }
  return { kind: 'deliver', id: 'deliver', title: pod ? `pod ${pod.namespace}/${pod.name}` : `${address}:${port}`, node: route.node, pod: pod ? { namespace: pod.namespace, name: pod.name } : null,
    address, port, iface, verdict, reason, explanation, lines: route.outcome.kind === 'local' ? route.lines : [] };
}

/** Where the packet ends after the source node's route: the destination node's route and the delivery, or nothing. */
function forward(context: TraceContext, first: RouteHop, address: string, port: number, hops: Hop[]): RouteHop | null {
  if (first.outcome.kind === 'local' || first.outcome.kind === 'this-node') {
    hops.push(deliverHop(context, first, address, port));
    return first;
  }
  if (first.outcome.kind !== 'tunnel' && first.outcome.kind !== 'host') return null;
  const tunnel = tunnelHop(context, first, 'tunnel');
  if (tunnel) hops.push(tunnel);
  const toNode = first.outcome.toNode;
  if (!toNode) return null;
  if (nodeOwnsAddress(context.snapshot.nodes.find((n) => n.name === toNode)!, address)) {
    const arrived: RouteHop = { ...first, node: toNode };
    hops.push(deliverHop(context, arrived, address, port));
    return arrived;
  }
  const last = routeHop(context, toNode, address, 'destination', 'route-destination');
  hops.push(last);
  if (last.outcome.kind === 'local') hops.push(deliverHop(context, last, address, port));
  return last.outcome.kind === 'local' ? last : null;
}

function sourceAddressFor(source: Source, first: RouteHop): string | null {
  if (source.pod && !source.pod.hostNetwork) return source.pod.podIPs.find(isIpv4) ?? null;
  // The kernel takes the source from the outgoing device: the tunnel device's own address.
  if (first.outcome.kind === 'tunnel') {
    const { calico, flannel, podCIDRs } = source.node;
    const flannelDevice = flannel ? (podCIDRs.map((cidr) => parseCidr(cidr)).find((c) => c.family === 'IPv4')?.network ?? null) : null;
    const tunnelAddress = first.outcome.iface === 'tunl0' ? calico.ipipTunnelAddr : first.outcome.iface === 'vxlan.calico' ? calico.vxlanTunnelAddr : flannelDevice;
    if (tunnelAddress) return tunnelAddress;
  }
  return source.node.flannel?.publicIP ?? nodeRoutingAddress(source.node);
}

function replyHops(context: TraceContext, source: Source, service: ServiceHop | null, endpointNode: string, srcAddress: string, target: string): Hop[] {
  const hops: Hop[] = [routeHop(context, endpointNode, srcAddress, 'reply', 'route-reply')];
  if (!service) return hops;
  const frontend = `${service.frontend.address}:${service.frontend.port}`;
  const hairpin = source.pod !== null && context.podWithIP(target.split(':')[0]!) === source.pod;
  const observed = service.verdict === 'ok';
  const reply: ReplyHop = {
    kind: 'reply', id: 'reply', title: `reply un-NAT on ${service.node}`, node: service.node, from: frontend, to: srcAddress,
    verdict: service.verdict === 'unknown' ? 'unknown' : observed ? 'ok' : 'expected',
    reason: observed ? null : 'Follows the Service hop, which was not observed.',
    explanation: `The reply from ${target} comes back to ${service.node}, where ${service.mechanism === 'ipvs' ? 'the IPVS connection entry (ipvsadm -Lnc)' : 'the connection-tracking entry of the DNAT (conntrack -L)'} rewrites its source to ${frontend}: `
      + `the DNAT is undone, so ${srcAddress} sees the answer come from the address it asked.`
      + (hairpin ? ' The pod reached itself through its Service (hairpin): kube-proxy masquerades such connections, so the backend saw the node\'s address as the source and the masquerade is undone here too.' : '')
      + (!source.pod ? ' From a node\'s host network, kube-proxy may also masquerade the connection (when its clusterCIDR is set and the source lies outside it); that setting is not in the snapshot.' : ''),
    lines: service.lines.slice(0, 1),
  };
  hops.push(reply);
  return hops;
}

function worst(hops: Hop[]): Verdict {
  return hops.reduce<Verdict>((w, h) => (SEVERITY.indexOf(h.verdict) > SEVERITY.indexOf(w) ? h.verdict : w), 'ok');
}

function summarize(hops: Hop[], verdict: Verdict): string {
  const path = hops.filter((h) => h.kind !== 'reply' && !(h.kind === 'route' && h.role === 'reply')).map((h) => h.title).join(' → ');
  const broken = hops.find((h) => h.verdict === 'broken');
  return `${VERDICT_WORDS[verdict]}: ${path}${broken ? `. Breaks at ${broken.title}: ${broken.reason}` : ''}`;
}

/**
 * The path of one packet from `request.from` to `request.to`, hop by hop: the source; name resolution
 * (a name); the Service layer on the source node (a Service address); the source node's route; the tunnel;
 * the destination node's route; the delivery into the pod; the reply's route and its un-NAT. The path
 * follows what the node shows where it was observed, and stops where the packet stops.
 * Throws TraceError for a request that names nothing in the snapshot.
 */
export function traceFlow(snapshot: ClusterSnapshot, observation: Observation | null, request: TraceRequest): Trace {
  const context = traceContext(snapshot, observation);
  const source = findSource(snapshot, request.from);
  const { host, port: givenPort } = parseDestination(request.to);
  const hops: Hop[] = [sourceHop(source)];
  const done = (): Trace => {
    const verdict = worst(hops);
    return { request, verdict, summary: summarize(hops, verdict), hops };
  };
  if (hops[0]!.verdict === 'broken') return done();

  let address = host;
  if (!isIpv4(host)) {
    const dns = source.pod ? dnsHop(context, source.pod, host) : nodeDnsHop(context, source, host);
    hops.push(dns);
    if (dns.kind !== 'dns' || !dns.answer) return done();
    address = dns.answer;
  }
  const frontend = pickFrontend(context, source.node.name, address, givenPort, request.protocol);
  let target = address;
  let port = givenPort;
  let service: ServiceHop | null = null;
  if (frontend) {
    service = serviceHop(context, source.node.name, frontend, request.endpoint);
    hops.push(service);
    const followed = service.backends.find((b) => b.followed);
    if (!followed) return done();
    target = followed.address;
    port = followed.port;
  } else if (port === null) {
    throw new TraceError(`--to ${request.to}: ${address} is not a Service address on ${source.node.name}${givenPort === null ? '' : ` with port ${givenPort}`}; give the port as ${host}:PORT`);
  }
  const first = routeHop(context, source.node.name, target, 'source', 'route-source');
  hops.push(first);
  const last = forward(context, first, target, port!, hops);
  const srcAddress = sourceAddressFor(source, first);
  if (last && srcAddress && last.node) hops.push(...replyHops(context, source, service, last.node, srcAddress, `${target}:${port}`));
  return done();
}
