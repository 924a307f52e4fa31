// Routing hops: the longest-prefix match on a node over the model's table and the observed `route -n`,
// what the chosen row does with the packet, and the tunnel it may take.
import { routeKey } from '../compare/keys.ts';
import { explainExpectedRoute, explainUnaccountedRoute } from '../explain/routes/index.ts';
import { nodeRoutingAddress } from '../model/calico.ts';
import type { ExpectedRoute, RouteWhy } from '../model/types.ts';
import type { RouteEntry } from '../parse/types.ts';
import { renderRouteLine } from '../render/route.ts';
import type { NodeView } from '../snapshot/types.ts';
import { capitalized, type TraceContext } from './context.ts';
import { longestPrefixMatch } from './lpm.ts';
import type { RouteChoice, RouteHop, RouteOutcome, TableLineRef, TunnelHop, Verdict } from './types.ts';

/** The tunnel device a CNI creates, by name, for observed rows the model does not account for. */
function tunnelOfDevice(iface: string): 'ipip' | 'vxlan' | null {
  if (iface === 'tunl0') return 'ipip';
  return iface === 'vxlan.calico' || /^flannel\.\d+$/.test(iface) ? 'vxlan' : null;
}

/** A VXLAN device's VNI and UDP port: Calico's FelixConfiguration defaults (4096, 4789); flannel's device is
 *  flannel.<VNI> and uses the kernel's default port 8472. */
function vxlanSettings(iface: string): { vni: number; port: number } {
  const flannel = /^flannel\.(\d+)$/.exec(iface);
  return flannel ? { vni: Number(flannel[1]), port: 8472 } : { vni: 4096, port: 4789 };
}

function choiceOf(route: RouteEntry, meaning: string): RouteChoice {
  return { destination: routeKey(route), gateway: route.gateway, iface: route.iface, text: renderRouteLine(route), meaning };
}

const podRef = (pod: { namespace: string; name: string } | null) => (pod ? { namespace: pod.namespace, name: pod.name } : null);

/** The addresses the API shows for a node: its routing address, status addresses and tunnel addresses. */
export function nodeOwnsAddress(node: NodeView, address: string): boolean {
  return nodeRoutingAddress(node) === address || node.calico.ipipTunnelAddr === address || node.calico.vxlanTunnelAddr === address
    || node.flannel?.publicIP === address || node.addresses.some((a) => a.address === address);
}

/** The node a next hop belongs to: by its routing address, its tunnel addresses, or (VXLAN) its VTEP. */
function nodeAt(context: TraceContext, address: string): NodeView | null {
  return context.snapshot.nodes.find((n) => nodeOwnsAddress(n, address)) ?? null;
}

/** Where a row the model explains sends the packet, from the facts that put it there. */
function outcomeFromWhy(context: TraceContext, route: RouteEntry, why: RouteWhy, address: string): RouteOutcome | null {
  switch (why.kind) {
    case 'pod':
      return { kind: 'local', iface: route.iface, bridge: false, pod: { namespace: why.namespace, name: why.pod } };
    case 'blackhole':
      return { kind: 'blackhole' };
    case 'flannel-bridge':
      return { kind: 'local', iface: route.iface, bridge: true, pod: podRef(context.podWithIP(address)) };
    case 'flannel-subnet':
      return why.backend === 'vxlan'
        ? { kind: 'tunnel', tunnel: 'vxlan', iface: route.iface, gateway: route.gateway, toNode: why.node, outerDst: why.publicIP }
        : { kind: 'host', iface: route.iface, gateway: route.gateway, toNode: why.node };
    case 'remote-block':
    case 'borrowed-tunnel': {
      const toNode = why.node;
      if (why.via === 'direct') return { kind: 'host', iface: route.iface, gateway: route.gateway, toNode };
      // IP-in-IP sends to the route's gateway; Calico's VXLAN resolves the VTEP to the owner's address (FDB)
      return { kind: 'tunnel', tunnel: why.via, iface: route.iface, gateway: route.gateway, toNode, outerDst: why.via === 'ipip' ? route.gateway : why.nodeIP };
    }
  }
}

function outcomeOf(context: TraceContext, route: RouteEntry, why: RouteWhy | null, address: string): RouteOutcome {
  if (route.iface === '*' || route.flags.includes('!')) return { kind: 'blackhole' };
  const known = why ? outcomeFromWhy(context, route, why, address) : null;
  if (known) return known;
  // A row the model does not account for: judged by its device and next hop alone.
  const tunnel = tunnelOfDevice(route.iface);
  const peer = nodeAt(context, route.gateway);
  if (tunnel) return { kind: 'tunnel', tunnel, iface: route.iface, gateway: route.gateway, toNode: peer?.name ?? null, outerDst: tunnel === 'ipip' ? route.gateway : null };
  if (route.gateway === '0.0.0.0' && route.iface.startsWith('cali')) return { kind: 'local', iface: route.iface, bridge: false, pod: podRef(context.podWithIP(address)) };
  // A directly connected network: the destination itself is the next hop.
  const nextHop = route.gateway === '0.0.0.0' ? address : route.gateway;
  return { kind: 'host', iface: route.iface, gateway: route.gateway, toNode: nodeAt(context, nextHop)?.name ?? null };
}

function describeOutcome(outcome: RouteOutcome): string {
  switch (outcome.kind) {
    case 'local':
      return outcome.bridge
        ? `onto the bridge ${outcome.iface}, which hands it to the veth${outcome.pod ? ` of pod ${outcome.pod.namespace}/${outcome.pod.name}` : ' of the pod that has the address'}`
        : `into the veth ${outcome.iface}${outcome.pod ? ` of pod ${outcome.pod.namespace}/${outcome.pod.name}` : ''}`;
    case 'tunnel':
      return `into the ${outcome.tunnel === 'ipip' ? 'IP-in-IP' : outcome.tunnel.toUpperCase()} tunnel ${outcome.iface} towards ${outcome.gateway}${outcome.toNode ? ` (${outcome.toNode})` : ''}`;
    case 'host':
      return `out of ${outcome.iface}${outcome.gateway === '0.0.0.0' ? ' on the directly connected network' : ` via ${outcome.gateway}`}${outcome.toNode ? ` to ${outcome.toNode}` : ''}`;
    case 'blackhole':
      return 'into a blackhole: the kernel drops it';
    case 'this-node':
      return 'to this node itself: the address is one of its own, so the local routing table delivers it to the host';
    case 'no-route':
      return 'nowhere: no route matches, the kernel answers "network unreachable"';
  }
}

/** The kernel's row is the model's: same destination and gateway, and same device unless the model cannot name it (an unobserved uplink). */
const sameRoute = (expected: RouteChoice, observed: RouteChoice, ifaceKnown = true) =>
  expected.destination === observed.destination && expected.gateway === observed.gateway && (!ifaceKnown || expected.iface === observed.iface);

/**
 * The routing decision for `address` on `node`. Verdicts:
 * - observed: the kernel's choice is the observed match; it agrees with the model's match (same row), or
 *   the model has no row for the address (outside the pod network: the node's own routes) → ok;
 *   a different row, a blackhole, or no row → broken;
 * - not observed: the model's match → expected; no model row → unknown (netlab models the CNI's rows only).
 */
export function routeHop(context: TraceContext, node: string, address: string, role: RouteHop['role'], id: string): RouteHop {
  const self = context.snapshot.nodes.find((n) => n.name === node);
  if (self && nodeOwnsAddress(self, address)) {
    return {
      kind: 'route', id, title: `local on ${node}`, node, role, address, expected: null, outcome: { kind: 'this-node' }, verdict: 'ok', reason: null, lines: [],
      explanation: `${address} is an address of ${node} itself: the kernel's local table, consulted before the main one, delivers the packet to the host.`,
    };
  }
  const tables = context.routes(node);
  const expectedRow: ExpectedRoute | null = longestPrefixMatch(tables.expected.routes, address);
  const expected = expectedRow ? choiceOf(expectedRow, explainExpectedRoute(expectedRow, expectedRow.why)) : null;
  const title = `${role === 'reply' ? 'reply route' : 'route'} on ${node}`;
  const lines: TableLineRef[] = [];
  const line = (text: string) => lines.push({ layer: 'routes', node, text });
  let verdict: Verdict;
  let reason: string | null = null;
  let observed: RouteChoice | null | undefined;
  let outcome: RouteOutcome;

  if ('table' in tables.observed) {
    const cmp = tables.observed.table;
    const match = longestPrefixMatch(cmp.observed.map((r) => r.entry), address);
    const row = match ? cmp.observed.find((r) => r.entry === match)! : null;
    // The model's reasons hold for the row only when the node shows it as the model has it: a row with
    // another gateway or device goes where the node says, and is explained by its shape.
    const why = row?.status === 'ok' ? row.expected!.why : null;
    observed = row ? choiceOf(row.entry, why ? explainExpectedRoute(row.entry, why) : explainUnaccountedRoute(row.entry, context.snapshot, row.status !== 'unmanaged')) : null;
    outcome = row ? outcomeOf(context, row.entry, why, address) : { kind: 'no-route' };
    if (observed) line(observed.text);
    const ifaceKnown = !expectedRow?.ifaceUnknown;
    if (expected && (!observed || !sameRoute(expected, observed, ifaceKnown))) line(expected.text);
    const finding = expected ? cmp.findings.find((f) => f.key === expected.destination) : undefined;
    if (!observed) {
      verdict = 'broken';
      reason = `${node} has no route for ${address}${expected ? `; the model expects ${expected.destination} via ${expected.gateway} on ${expected.iface}` : ''}.`;
    } else if (outcome.kind === 'blackhole') {
      verdict = 'broken';
      reason = `${node} drops the packet: the best match for ${address} is the blackhole ${observed.destination}${expected && !sameRoute(expected, observed, ifaceKnown) ? `, not ${expected.destination} on ${expected.iface}` : ''}.`;
    } else if (expected && !sameRoute(expected, observed, ifaceKnown)) {
      verdict = 'broken';
      reason = `The model expects ${expected.destination} via ${expected.gateway} on ${expected.iface}; ${node} uses ${observed.destination} via ${observed.gateway} on ${observed.iface}.`
        + (finding ? ` ${finding.message}` : '');
    } else {
      verdict = 'ok';
    }
  } else {
    observed = undefined;
    outcome = expectedRow ? outcomeOf(context, expectedRow, expectedRow.why, address) : { kind: 'no-route' };
    if (expected) line(expected.text);
    verdict = expected ? (outcome.kind === 'blackhole' ? 'broken' : 'expected') : 'unknown';
    reason = expected
      ? (outcome.kind === 'blackhole' ? `The model's best match for ${address} on ${node} is the blackhole ${expected.destination}: no pod has this address.` : `${capitalized(tables.observed.missing)}.`)
      : `${address} is outside the pod network, so the model has no row for it (the node's own routes decide), and ${tables.observed.missing}.`;
  }
  const chosen = observed ?? expected;
  const explanation = chosen
    ? `Longest-prefix match for ${address} on ${node}: ${chosen.destination} via ${chosen.gateway} on ${chosen.iface}. The packet goes ${describeOutcome(outcome)}.`
    : observed === null ? `No route for ${address} on ${node}.`
    : `The model has no row for ${address} (it is outside the pod network) and ${node}'s own routes were not observed: netlab cannot follow the packet further.`;
  return { kind: 'route', id, title, node, role, address, expected, ...(observed !== undefined ? { observed } : {}), outcome, verdict, explanation, reason, lines };
}

/** The tunnel a route hop sends the packet into, with its outer header; null when the outcome is not a tunnel. */
export function tunnelHop(context: TraceContext, route: RouteHop, id: string): TunnelHop | null {
  if (route.outcome.kind !== 'tunnel') return null;
  const { tunnel, iface, gateway, toNode, outerDst } = route.outcome;
  const from = context.snapshot.nodes.find((n) => n.name === route.node)!;
  const src = from.flannel?.publicIP ?? nodeRoutingAddress(from);
  // The tunnel does what the route that chose it says: its verdict is whether that route was observed.
  let verdict: Verdict = route.observed !== undefined ? 'ok' : 'expected';
  let reason: string | null = verdict === 'expected' ? route.reason : null;
  let protocol = 'IP-in-IP (IP protocol 4)';
  if (tunnel === 'vxlan') {
    const { vni, port } = vxlanSettings(iface);
    protocol = `UDP to port ${port}, VNI ${vni}`;
    if (verdict === 'ok') {
      // the CNI's ARP entry (VTEP address -> MAC) and FDB entry (MAC -> node address) pick the outer destination
      verdict = 'expected';
      reason = 'The VXLAN forwarding entries (ip neigh, bridge fdb) are not observed: the outer destination is the model\'s.';
    }
  }
  if (!outerDst) {
    verdict = 'unknown';
    reason = `No node of the snapshot has the tunnel address ${gateway}: the outer destination is unknown.`;
  }
  const dst = outerDst ?? '?';
  const words = tunnel === 'ipip' ? 'IP-in-IP' : tunnel.toUpperCase();
  return {
    kind: 'tunnel', id, title: `${words} ${route.node} → ${toNode ?? dst}`, node: route.node, tunnel, device: iface, fromNode: route.node, toNode,
    outer: { src, dst, protocol },
    verdict, reason, lines: route.lines,
    explanation: `${iface} wraps the packet in an outer IP header from ${src ?? 'this node'} to ${dst} (${protocol}); `
      + `${toNode ?? 'the other end'} unwraps it and routes the inner packet by its own table.`
      + (src ? ' The outer source is the address of the interface the kernel reaches the outer destination through.' : ''),
  };
}
