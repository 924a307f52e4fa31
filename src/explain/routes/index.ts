// Plain-word explanations of `route -n` rows, and the annotated table of one node. The rows a CNI programs
// are explained in that CNI's words (calico.ts, flannel.ts); a row nothing accounts for, by its shape.
import type { RoutesComparison } from '../../compare/routes/index.ts';
import { routeKey } from '../../compare/keys.ts';
import type { ExpectedRoute, NodeRoutes, RouteWhy } from '../../model/types.ts';
import type { RouteEntry } from '../../parse/types.ts';
import { renderRouteLine } from '../../render/route.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import type { AnnotatedLine } from '../types.ts';
import { explainCalicoRoute } from './calico.ts';
import { FLANNEL_BRIDGE } from '../../model/routes/flannel.ts';
import { flagWords } from './flags.ts';
import { explainFlannelRoute } from './flannel.ts';

export const ROUTE_HEADER = ['Kernel IP routing table', 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface'];

/** Explains a row the model expects, from the facts that put it there, in the words of the CNI that made it. */
export function explainExpectedRoute(route: RouteEntry, why: RouteWhy): string {
  return why.kind === 'flannel-bridge' || why.kind === 'flannel-subnet' ? explainFlannelRoute(route, why) : explainCalicoRoute(route, why);
}

/** The tunnel devices Calico creates, in words. */
const TUNNEL_WORDS: Record<string, string> = { tunl0: 'the IP-in-IP tunnel tunl0', 'vxlan.calico': 'Calico\'s VXLAN device vxlan.calico' };

/** Explains a row nothing in the model accounts for, from its shape alone. */
export function explainUnaccountedRoute(route: RouteEntry, snapshot: ClusterSnapshot | null, owned: boolean): string {
  const key = routeKey(route);
  const ownership = owned ? 'It lies in the pod network, but nothing the CNI programs explains it.' : 'Not managed by the CNI.';
  if (key === '0.0.0.0/0') return `Default route: anything no more specific route matches leaves via ${route.gateway} on ${route.iface}. ${ownership}`;
  if (route.iface === '*') return `Blackhole route for ${key}: packets to it are dropped. ${ownership}`;
  if (route.flags.includes('!')) return `Reject route for ${key}: packets to it are refused with an ICMP error. ${ownership}`;
  if (route.iface.startsWith('cali')) {
    const pod = snapshot?.pods.find((p) => p.podIPs.includes(route.destination));
    return `A /32 route into the veth ${route.iface}${pod ? ` (the address belongs to pod ${pod.namespace}/${pod.name} on ${pod.nodeName ?? 'no node'})` : ' (no pod in the snapshot has this address)'}. ${ownership}`;
  }
  // A /32 is one address, not a network; a tunnel row without gateway sends to the far end the address itself names.
  const target = route.genmask === '255.255.255.255' ? `the single address ${route.destination}` : key;
  const tunnel = TUNNEL_WORDS[route.iface] ?? (/^flannel\.\d+$/.test(route.iface) ? `flannel's VXLAN device ${route.iface}` : null);
  if (tunnel && route.gateway === '0.0.0.0') {
    return `Route to ${target} straight through ${tunnel}, with no gateway: the destination is itself the tunnel's far end (another node's tunnel address)${flagWords(route.flags)}. ${ownership}`;
  }
  if (tunnel) {
    const far = /^flannel/.test(route.iface) ? `, the address another node's ${route.iface} holds` : '';
    return `Route to ${target} through ${tunnel} to ${route.gateway}${far}${flagWords(route.flags)}. ${ownership}`;
  }
  if (route.iface === FLANNEL_BRIDGE) return `The pods of ${key} sit on the ${FLANNEL_BRIDGE} bridge (flannel's CNI plugin, through the bridge plugin), directly connected${flagWords(route.flags)}. ${ownership}`;
  if (route.gateway === '0.0.0.0') {
    const what = route.genmask === '255.255.255.255' ? `The single address ${route.destination} is reached directly` : `The network ${key} is directly connected`;
    return `${what} on ${route.iface}${flagWords(route.flags)}. ${ownership}`;
  }
  return `Route to ${target} via ${route.gateway} on ${route.iface}${flagWords(route.flags)}. ${ownership}`;
}

/** The observed table with every row explained, and the missing rows inserted where they belong. */
export function annotateRoutes(cmp: RoutesComparison, expected: NodeRoutes, snapshot: ClusterSnapshot): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [
    { text: ROUTE_HEADER[0]!, status: 'info', explanation: 'net-tools reads /proc/net/route: the main routing table, IPv4 only.' },
    { text: ROUTE_HEADER[1]!, status: 'info', explanation: 'Genmask is the prefix as a netmask; Ref and Use are always 0 on modern kernels.' },
  ];
  for (const row of cmp.observed) {
    const text = renderRouteLine(row.entry);
    if (row.expected) {
      const base = explainExpectedRoute(row.entry, row.expected.why);
      const note = row.status === 'mismatch' ? ` Expected instead: ${renderRouteLine(row.expected).trim()}` : '';
      lines.push({ text, status: row.status, explanation: base + note });
    } else {
      lines.push({ text, status: row.status, explanation: explainUnaccountedRoute(row.entry, snapshot, row.status === 'unexpected') });
    }
  }
  for (const route of cmp.missing) lines.push(annotateExpectedRoute(route, 'missing'));
  for (const route of cmp.absentOptional) {
    lines.push({ text: renderRouteLine(route), status: 'info', explanation: `Absent, and that is fine: ${explainExpectedRoute(route, route.why)}` });
  }
  return lines;
}

export function annotateExpectedRoute(route: ExpectedRoute, status: 'missing' | 'expected'): AnnotatedLine {
  return { text: renderRouteLine(route), status, explanation: explainExpectedRoute(route, route.why) };
}
