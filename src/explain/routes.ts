// Plain-word explanations of `route -n` rows, and the annotated table of one node.
import type { RoutesComparison } from '../compare/routes.ts';
import { routeKey } from '../compare/keys.ts';
import type { ExpectedRoute, NodeRoutes, RouteWhy } from '../model/types.ts';
import type { RouteEntry } from '../parse/types.ts';
import { renderRouteLine } from '../render/route.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import type { AnnotatedLine } from './types.ts';

export const ROUTE_HEADER = ['Kernel IP routing table', 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface'];

function flagWords(flags: string): string {
  const words: string[] = [];
  if (flags.includes('!')) words.push('! = reject');
  if (flags.includes('U')) words.push('U = up');
  if (flags.includes('G')) words.push('G = via a gateway');
  if (flags.includes('H')) words.push('H = a single host (/32)');
  return words.length ? ` (flags ${flags}: ${words.join(', ')})` : '';
}

/** Explains a row the model expects, from the facts that put it there. */
export function explainExpectedRoute(route: RouteEntry, why: RouteWhy): string {
  switch (why.kind) {
    case 'pod':
      return `Pod ${why.namespace}/${why.pod} (${route.destination}) runs on this node: packets for it go straight into its veth ${route.iface}${flagWords(route.flags)}. `
        + (why.interfaceFrom === 'sha1'
          ? `Calico names the host side of the veth "cali" + the first 11 hex characters of sha1("${why.namespace}.${why.pod}").`
          : 'The interface name is the one Calico recorded in the pod\'s WorkloadEndpoint.');
    case 'blackhole':
      return `Block ${why.block} belongs to this node (${why.node})${why.blockFrom === 'podCIDR' ? ', taken from its podCIDR' : ''}: pods here get addresses from it. `
        + 'Calico installs a blackhole route (Iface "*") for the whole block, so a packet to an address no local pod uses is dropped here instead of bouncing back to the network; each live pod has a more specific /32 route.';
    case 'remote-block': {
      const where = `Pods of block ${why.block} live on node ${why.node}`;
      if (why.via === 'ipip') {
        return `${where}; they are reached through the IP-in-IP tunnel (tunl0) to that node's address ${why.nodeIP}${flagWords(route.flags)}: `
          + `each packet gets an outer IP header addressed to ${why.nodeIP}, which unwraps it and hands it to the pod's veth.`;
      }
      if (why.via === 'vxlan') {
        return `${where}; they are reached through VXLAN (vxlan.calico): packets are wrapped in UDP and sent to that node's VTEP address ${route.gateway}${flagWords(route.flags)}.`;
      }
      return `${where}; they are reached directly over the host network via that node's address ${why.nodeIP}, without encapsulation${flagWords(route.flags)}.`;
    }
  }
}

/** Explains a row nothing in the model accounts for, from its shape alone. */
export function explainUnaccountedRoute(route: RouteEntry, snapshot: ClusterSnapshot | null, owned: boolean): string {
  const key = routeKey(route);
  const ownership = owned ? 'It lies in the pod network, but no pod, block or node explains it.' : 'Not managed by the CNI.';
  if (key === '0.0.0.0/0') return `Default route: anything no more specific route matches leaves via ${route.gateway} on ${route.iface}. ${ownership}`;
  if (route.iface === '*') return `Blackhole route for ${key}: packets to it are dropped. ${ownership}`;
  if (route.flags.includes('!')) return `Reject route for ${key}: packets to it are refused with an ICMP error. ${ownership}`;
  if (route.iface.startsWith('cali')) {
    const pod = snapshot?.pods.find((p) => p.podIPs.includes(route.destination));
    return `A /32 route into the veth ${route.iface}${pod ? ` (the address belongs to pod ${pod.namespace}/${pod.name} on ${pod.nodeName ?? 'no node'})` : ' (no pod in the snapshot has this address)'}. ${ownership}`;
  }
  if (route.iface === 'tunl0') return `Route to ${key} through the IP-in-IP tunnel to ${route.gateway}. ${ownership}`;
  if (route.iface === 'vxlan.calico') return `Route to ${key} through VXLAN to ${route.gateway}. ${ownership}`;
  if (route.gateway === '0.0.0.0') return `The network ${key} is directly connected on ${route.iface}${flagWords(route.flags)}. ${ownership}`;
  return `Route to ${key} via ${route.gateway} on ${route.iface}${flagWords(route.flags)}. ${ownership}`;
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
  return lines;
}

export function annotateExpectedRoute(route: ExpectedRoute, status: 'missing' | 'expected'): AnnotatedLine {
  return { text: renderRouteLine(route), status, explanation: explainExpectedRoute(route, route.why) };
}
