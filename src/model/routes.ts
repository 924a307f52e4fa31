// Calico's rows in one node's `route -n` (IPv4 main table), worked out from the cluster objects.
// Sources: projectcalico/calico v3.32 (BIRD templates for IP-in-IP/no-encap, felix route_mgr.go and
// vxlan_mgr.go for VXLAN, cni-plugin k8s.go for pod routes); see the model spec §2.
import { type Cidr, cidrContains, ipFamily, parseCidr, prefixToMask } from '../net/ip.ts';
import { compareRoutes } from './tool-order.ts';
import type { ClusterSnapshot, IPPoolView, NodeView, PodView, WorkloadEndpointView } from '../snapshot/types.ts';
import { calicoVethName, type Encapsulation, inNodeSubnet, nodeRoutingAddress, poolContaining, poolEncapsulation } from './calico.ts';
import { checkedCidr, findNode, podFinished } from './lookup.ts';
import type { ExpectedRoute, NodeRoutes, RouteWhy } from './types.ts';

export interface RouteModelOptions {
  /** The node's uplink ("parent" interface) that un-encapsulated routes leave through. Default "eth0". */
  hostInterface?: string;
  /** Metric of the pod /32 routes: 0 up to Calico v3.31; v3.32 moved them to 1024 (IPv4NormalRoutePriority). Default 0. */
  workloadRouteMetric?: number;
  /** Encapsulation assumed for remote blocks when no IP pool contains them (Calico CRDs absent).
   *  Default IP-in-IP Always, the encapsulation of Calico's stock manifest. */
  encapsulationWithoutPool?: Encapsulation;
}

const ANY = '0.0.0.0';
const BLACKHOLE_IFACE = '*';

type BlockSource = 'ipamBlock' | 'podCIDR';

interface RoutedBlock {
  cidr: string;
  range: Cidr;
  node: string;
  from: BlockSource;
}

interface RouteContext {
  snapshot: ClusterSnapshot;
  local: NodeView;
  pools: IPPoolView[];
  blocks: RoutedBlock[];
  // Indexes, so that a cluster of N nodes and P pods costs N + P look-ups rather than N × P scans.
  blocksByNode: Map<string, RoutedBlock[]>;
  nodesByName: Map<string, NodeView>;
  /** the first WorkloadEndpoint of each "namespace/pod" */
  workloadEndpoints: Map<string, WorkloadEndpointView>;
  hostInterface: string;
  workloadRouteMetric: number;
  encapsulationWithoutPool: Encapsulation;
}

/**
 * The routes Calico programs on `nodeName`, in /proc/net/route order (tool-order.ts compareRoutes). Rules:
 * - Pod routes: every pod on the node that is not hostNetwork and not finished (phase Succeeded/Failed)
 *   gets, for its IPv4 pod IP, `<ip> 0.0.0.0 255.255.255.255 UH <metric> 0 0 <veth>`. The veth is the
 *   WorkloadEndpoint's interfaceName when the snapshot has one for the pod, else "cali" + 11 hex digits of
 *   SHA-1("<namespace>.<pod>"). A pod IP outside every block of its node (borrowed) gets its route all the same.
 * - Blocks: the IPAM blocks that have a node affinity; when the snapshot has none, each node's IPv4
 *   podCIDRs instead (host-local IPAM / Calico CRDs absent: why.blockFrom says "podCIDR").
 * - This node's blocks become blackholes: `<block> 0.0.0.0 <mask> U 0 0 0 *`.
 * - Another node's block is routed by the encapsulation of the IPv4 pool that contains it (IP-in-IP Always
 *   when no pool does, see options):
 *   - IP-in-IP Always: via the owner's address (IPv4Address annotation, else InternalIP) on tunl0, flags UG;
 *   - VXLAN Always: via the owner's VTEP (IPv4VXLANTunnelAddr) on vxlan.calico, flags UG;
 *   - CrossSubnet (either): like Always, except an owner inside this node's subnet (the prefix of this
 *     node's IPv4Address annotation) is reached directly, via its address on the host interface;
 *   - no encapsulation: via the owner's address on the host interface.
 *   A block whose owner is not a snapshot node, has no address, or (VXLAN) has no VTEP gets no route.
 * - Borrowed IPs of pods on other nodes (IPAM blocks only): a /32 route to the pod's node, chosen as for
 *   a block (flags UGH); why.borrowedBy names the pod.
 * - Tunnel addresses (tunl0, vxlan.calico) and kube-ipvs0 addresses are /32s on devices: local table, no row.
 * ownedCIDRs: the IPv4 pool CIDRs, else the routed blocks' CIDRs; rows outside them are not Calico's.
 */
export function expectedRoutes(snapshot: ClusterSnapshot, nodeName: string, options: RouteModelOptions = {}): NodeRoutes {
  const blocks = routedBlocks(snapshot);
  const context: RouteContext = {
    snapshot,
    local: findNode(snapshot, nodeName),
    pools: snapshot.ipPools.filter((pool) => checkedCidr(pool.cidr, `IPPool ${pool.name}`).family === 'IPv4'),
    blocks,
    blocksByNode: groupBy(blocks, (block) => block.node),
    nodesByName: firstByKey(snapshot.nodes, (node) => node.name),
    workloadEndpoints: firstByKey(snapshot.workloadEndpoints, (endpoint) => podKey(endpoint.namespace, endpoint.pod)),
    hostInterface: options.hostInterface ?? 'eth0',
    workloadRouteMetric: options.workloadRouteMetric ?? 0,
    encapsulationWithoutPool: options.encapsulationWithoutPool ?? { tunnel: 'ipip', mode: 'Always' },
  };
  const routes = [...podRoutes(context), ...blockRoutes(context), ...borrowedRemoteRoutes(context)].sort(compareRoutes);
  const ownedCIDRs = context.pools.length ? context.pools.map((p) => p.cidr) : context.blocks.map((b) => b.cidr);
  return { node: nodeName, routes, ownedCIDRs: [...new Set(ownedCIDRs)] };
}

/** The blocks that get routes: affine IPAM blocks, else node podCIDRs (IPv4 only, duplicates dropped). */
function routedBlocks(snapshot: ClusterSnapshot): RoutedBlock[] {
  const affine = snapshot.ipamBlocks.filter((b) => b.node !== null);
  const candidates = affine.length
    ? affine.map((b) => ({ cidr: b.cidr, node: b.node!, from: 'ipamBlock' as const, where: `IPAMBlock ${b.cidr}` }))
    : snapshot.nodes.flatMap((n) => n.podCIDRs.map((cidr) => ({ cidr, node: n.name, from: 'podCIDR' as const, where: `Node ${n.name} podCIDR` })));
  const blocks = new Map<string, RoutedBlock>();
  for (const { cidr, node, from, where } of candidates) {
    const range = checkedCidr(cidr, where);
    const key = `${range.network}/${range.prefix}`;
    if (range.family === 'IPv4' && !blocks.has(key)) blocks.set(key, { cidr, range, node, from });
  }
  return [...blocks.values()];
}

const podKey = (namespace: string, pod: string) => `${namespace}/${pod}`;

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Each key's first item, as Array.find would return it. */
function firstByKey<T>(items: T[], key: (item: T) => string): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item);
  return first;
}

function routeRow(cidr: string, gateway: string, iface: string, metric: number, why: RouteWhy): ExpectedRoute {
  const { network, prefix } = parseCidr(cidr);
  const flags = `U${gateway === ANY ? '' : 'G'}${prefix === 32 ? 'H' : ''}`;
  return { destination: network, gateway, genmask: prefixToMask(prefix), flags, metric, ref: 0, use: 0, iface, why };
}

function ipv4PodIPs(pod: PodView): string[] {
  if (pod.hostNetwork || podFinished(pod.phase)) return [];
  return pod.podIPs.filter((ip) => ipFamily(ip) === 'IPv4');
}

function blockOf(context: RouteContext, node: string, ip: string): RoutedBlock | undefined {
  return context.blocksByNode.get(node)?.find((b) => cidrContains(b.range, ip));
}

function podRoutes(context: RouteContext): ExpectedRoute[] {
  const { snapshot, local } = context;
  return snapshot.pods
    .filter((pod) => pod.nodeName === local.name)
    .flatMap((pod) =>
      ipv4PodIPs(pod).map((ip) => {
        const endpoint = context.workloadEndpoints.get(podKey(pod.namespace, pod.name));
        const borrowed = context.blocks[0]?.from === 'ipamBlock' && !blockOf(context, local.name, ip);
        return routeRow(`${ip}/32`, ANY, endpoint?.interfaceName ?? calicoVethName(pod.namespace, pod.name), context.workloadRouteMetric, {
          kind: 'pod',
          namespace: pod.namespace,
          pod: pod.name,
          node: local.name,
          interfaceFrom: endpoint ? 'workloadEndpoint' : 'sha1',
          ...(borrowed ? { borrowed } : {}),
        });
      }),
    );
}

function blockRoutes(context: RouteContext): ExpectedRoute[] {
  return context.blocks.flatMap((block) => {
    if (block.node === context.local.name) {
      return [routeRow(block.cidr, ANY, BLACKHOLE_IFACE, 0, { kind: 'blackhole', block: block.cidr, node: block.node, blockFrom: block.from })];
    }
    const route = remoteRoute(context, block.node, block.cidr, block.from);
    return route ? [route] : [];
  });
}

function borrowedRemoteRoutes(context: RouteContext): ExpectedRoute[] {
  if (context.blocks[0]?.from !== 'ipamBlock') return [];
  // A plain loop: this visits every pod of the cluster, and chained filter/flatMap/map made 4 arrays per pod.
  const routes: ExpectedRoute[] = [];
  for (const pod of context.snapshot.pods) {
    const owner = pod.nodeName;
    if (owner === null || owner === context.local.name) continue;
    for (const ip of ipv4PodIPs(pod)) {
      if (blockOf(context, owner, ip) || !poolContaining(context.pools, `${ip}/32`)) continue;
      const route = remoteRoute(context, owner, `${ip}/32`, 'ipamBlock', { namespace: pod.namespace, pod: pod.name });
      if (route) routes.push(route);
    }
  }
  return routes;
}

/** The route to `cidr` (a block or a borrowed pod IP) owned by node `ownerName`; null when it cannot be built. */
function remoteRoute(
  context: RouteContext,
  ownerName: string,
  cidr: string,
  blockFrom: BlockSource,
  borrowedBy?: { namespace: string; pod: string },
): ExpectedRoute | null {
  const owner = context.nodesByName.get(ownerName);
  const nodeIP = owner ? nodeRoutingAddress(owner) : null;
  if (!owner || !nodeIP) return null;
  const pool = poolContaining(context.pools, cidr);
  const encapsulation = pool ? poolEncapsulation(pool) : context.encapsulationWithoutPool;
  const direct = encapsulation.tunnel === 'none' || (encapsulation.mode === 'CrossSubnet' && inNodeSubnet(context.local, nodeIP));
  const why = { kind: 'remote-block' as const, block: cidr, node: ownerName, nodeIP, pool: pool?.name ?? null, blockFrom, ...(borrowedBy ? { borrowedBy } : {}) };
  if (direct) return routeRow(cidr, nodeIP, context.hostInterface, 0, { ...why, via: 'direct' });
  if (encapsulation.tunnel === 'vxlan') {
    const vtep = owner.calico.vxlanTunnelAddr;
    return vtep ? routeRow(cidr, vtep, 'vxlan.calico', 0, { ...why, via: 'vxlan' }) : null;
  }
  return routeRow(cidr, nodeIP, 'tunl0', 0, { ...why, via: 'ipip' });
}
