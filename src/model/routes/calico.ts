// Calico's rows in one node's `route -n` (IPv4 main table), worked out from the cluster objects.
// Sources: projectcalico/calico v3.32.1 (BIRD templates for IP-in-IP/no-encap, felix dataplane/linux route_mgr.go,
// vxlan_mgr.go and ipip_mgr.go, felix calc/l3_route_resolver.go, cni-plugin k8s.go for pod routes, libcalico-go
// k8s/conversion getPodIPs and IsFinished); see the model spec §2. Checked against real Calico v3.32.1 output
// (test/fixtures/calico-v3.32.1).
import { type Cidr, cidrContains, ipFamily } from '../../net/ip.ts';
import { compareRoutes } from '../tool-order.ts';
import type { ClusterSnapshot, IPPoolView, NodeView, PodView, WorkloadEndpointView } from '../../snapshot/types.ts';
import {
  calicoVethName,
  type Encapsulation,
  inNodeSubnet,
  nodeRoutingAddress,
  poolContaining,
  poolEncapsulation,
  workloadRouteMetric,
  type WorkloadRouteMetric,
} from '../calico.ts';
import { checkedCidr, podFinished } from '../lookup.ts';
import type { CalicoRouteWhy, ExpectedRoute, NodeRoutes } from '../types.ts';
import { ANY, findUplink, firstByKey, groupBy, routeRow, type Uplink, uplinkRow, uplinkWhy } from './table.ts';
import type { CniRouteModel, RouteModelOptions } from './types.ts';

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
  /** the interface holding this node's address, for routes without encapsulation */
  uplink: Uplink;
  workloadRouteMetric: WorkloadRouteMetric;
  encapsulationWithoutPool: Encapsulation;
}

/**
 * The routes Calico programs on `local`, in /proc/net/route order (render/route.ts compareRoutes). Rules:
 * - Pod routes: every pod on the node that is not hostNetwork and not finished (phase Succeeded/Failed, or being
 *   deleted with Calico's cni.projectcalico.org/podIP annotation emptied by the CNI plugin) gets, for its IPv4
 *   pod IP, `<ip> 0.0.0.0 255.255.255.255 UH <metric> 0 0 <veth>`, metric 1024 from Calico v3.32 on, else 0 (model/calico.ts
 *   workloadRouteMetric, from the ClusterInformation's calicoVersion; a note when that is unknown). The pod's IPs are status.podIPs, else, as
 *   libcalico-go's getPodIPs reads them, Calico's cni.projectcalico.org/podIPs (or podIP) annotation: the CNI
 *   plugin writes it, and the route exists, before the kubelet reports the IP. The veth is the WorkloadEndpoint's
 *   interfaceName when the snapshot has one for the pod, else "cali" + 11 hex digits of SHA-1("<namespace>.<pod>").
 *   A pod IP outside every block of its node (borrowed) gets its route all the same.
 * - Blocks: the IPAM blocks that have a node affinity; when the snapshot has none, each node's IPv4
 *   podCIDRs instead (host-local IPAM / Calico CRDs absent: why.blockFrom says "podCIDR").
 * - This node's blocks become blackholes: `<block> 0.0.0.0 <mask> U 0 0 0 *`.
 * - Another node's block is routed by the encapsulation of the IPv4 pool that contains it (IP-in-IP Always
 *   when no pool does, see options):
 *   - IP-in-IP Always: via the owner's address (IPv4Address annotation, else InternalIP) on tunl0, flags UG;
 *   - VXLAN Always: via the owner's VTEP (IPv4VXLANTunnelAddr) on vxlan.calico, flags UG;
 *   - CrossSubnet (either): like Always, except an owner inside this node's subnet (the prefix of this
 *     node's IPv4Address annotation) is reached directly, via its address on the uplink;
 *   - no encapsulation: via the owner's address on the uplink.
 *   The uplink is the interface holding this node's own address (felix's parent device), never a fixed name:
 *   see table.ts findUplink. A block whose owner is not a snapshot node, has no address, or (VXLAN) has no VTEP
 *   gets no route.
 * - Borrowed IPs of pods on other nodes (IPAM blocks only): a /32 route to the pod's node, chosen as for
 *   a block (flags UGH); why.borrowedBy names the pod.
 * - Borrowed tunnel addresses (IPAM blocks only): another node's tunl0 or vxlan.calico address that lies in a
 *   block affine to a different node (this one included) gets a /32 (felix's l3_route_resolver marks it Borrowed):
 *   for VXLAN `<addr> 0.0.0.0 255.255.255.255 UH 0 0 0 vxlan.calico` (the address IS the remote VTEP, so no
 *   gateway), for IP-in-IP via that node's address on tunl0 (UGH), direct as for a block. The pool containing the
 *   address must use that tunnel.
 * - Tunnel addresses of this node and kube-ipvs0 addresses are /32s on devices: local table, no row.
 * ownedCIDRs: the IPv4 pool CIDRs, else the routed blocks' CIDRs; rows outside them are not Calico's.
 */
function calicoRoutes(snapshot: ClusterSnapshot, local: NodeView, options: RouteModelOptions): Omit<NodeRoutes, 'node' | 'cni'> {
  const blocks = routedBlocks(snapshot);
  const localAddress = nodeRoutingAddress(local);
  const context: RouteContext = {
    snapshot,
    local,
    pools: snapshot.ipPools.filter((pool) => checkedCidr(pool.cidr, `IPPool ${pool.name}`).family === 'IPv4'),
    blocks,
    blocksByNode: groupBy(blocks, (block) => block.node),
    nodesByName: firstByKey(snapshot.nodes, (node) => node.name),
    workloadEndpoints: firstByKey(snapshot.workloadEndpoints, (endpoint) => podKey(endpoint.namespace, endpoint.pod)),
    uplink: findUplink(localAddress, local.calico.interfaces, { interfaces: options.interfaces, routes: options.observedRoutes }),
    workloadRouteMetric: workloadRouteMetric(snapshot.calicoVersion),
    encapsulationWithoutPool: options.encapsulationWithoutPool ?? { tunnel: 'ipip', mode: 'Always' },
  };
  const pods = podRoutes(context);
  const routes = [...pods, ...blockRoutes(context), ...borrowedRemoteRoutes(context), ...borrowedTunnelRoutes(context)].sort(compareRoutes);
  const ownedCIDRs = context.pools.length ? context.pools.map((p) => p.cidr) : context.blocks.map((b) => b.cidr);
  const notes: string[] = [];
  const metricNote = context.workloadRouteMetric.note;
  if (pods.length > 0 && metricNote !== null) notes.push(metricNote);
  if (routes.some((route) => route.ifaceUnknown)) {
    notes.push(`node ${local.name}: the name of the interface holding ${localAddress ?? 'its address'} is unknown (no ip -o addr or connected route observed, no projectcalico.org/Interfaces annotation), so direct routes are not compared on Iface`);
  }
  return { routes, ownedCIDRs: [...new Set(ownedCIDRs)], notes };
}

export const calicoRouteModel: CniRouteModel = { expectedRoutes: calicoRoutes };

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

/** The pod's IPv4 addresses as Calico sees them, and where they came from; none for host-network and finished pods. */
function calicoPodIPs(pod: PodView): { ips: string[]; fromAnnotation: boolean } {
  const released = pod.terminating && pod.calicoNetworkReleased;
  if (pod.hostNetwork || podFinished(pod.phase) || released) return { ips: [], fromAnnotation: false };
  const fromAnnotation = pod.podIPs.length === 0;
  const ips = (fromAnnotation ? pod.calicoPodIPs : pod.podIPs).filter((ip) => ipFamily(ip) === 'IPv4');
  return { ips, fromAnnotation: fromAnnotation && ips.length > 0 };
}

function blockOf(context: RouteContext, node: string, ip: string): RoutedBlock | undefined {
  return context.blocksByNode.get(node)?.find((b) => cidrContains(b.range, ip));
}

function podRoutes(context: RouteContext): ExpectedRoute[] {
  const { snapshot, local } = context;
  return snapshot.pods
    .filter((pod) => pod.nodeName === local.name)
    .flatMap((pod) => {
      const { ips, fromAnnotation } = calicoPodIPs(pod);
      return ips.map((ip) => {
        const endpoint = context.workloadEndpoints.get(podKey(pod.namespace, pod.name));
        const borrowed = context.blocks[0]?.from === 'ipamBlock' && !blockOf(context, local.name, ip);
        const { metric, calicoVersion } = context.workloadRouteMetric;
        return routeRow(`${ip}/32`, ANY, endpoint?.interfaceName ?? calicoVethName(pod.namespace, pod.name), metric, {
          kind: 'pod',
          namespace: pod.namespace,
          pod: pod.name,
          node: local.name,
          interfaceFrom: endpoint ? 'workloadEndpoint' : 'sha1',
          ...(borrowed ? { borrowed } : {}),
          ...(fromAnnotation ? { ipFrom: 'calico-annotation' as const } : {}),
          metric: { value: metric, calicoVersion },
        });
      });
    });
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
    for (const ip of calicoPodIPs(pod).ips) {
      if (blockOf(context, owner, ip) || !poolContaining(context.pools, `${ip}/32`)) continue;
      const route = remoteRoute(context, owner, `${ip}/32`, 'ipamBlock', { namespace: pod.namespace, pod: pod.name });
      if (route) routes.push(route);
    }
  }
  return routes;
}

/** How traffic for a remote node's pods leaves this node: directly over the uplink, or through a tunnel. */
interface RemotePath {
  owner: NodeView;
  nodeIP: string;
  pool: IPPoolView | null;
  via: 'ipip' | 'vxlan' | 'direct';
}

function remotePath(context: RouteContext, ownerName: string, cidr: string): RemotePath | null {
  const owner = context.nodesByName.get(ownerName);
  const nodeIP = owner ? nodeRoutingAddress(owner) : null;
  if (!owner || !nodeIP) return null;
  const pool = poolContaining(context.pools, cidr);
  const encapsulation = pool ? poolEncapsulation(pool) : context.encapsulationWithoutPool;
  const direct = encapsulation.tunnel === 'none' || (encapsulation.mode === 'CrossSubnet' && inNodeSubnet(context.local, nodeIP));
  return { owner, nodeIP, pool, via: direct ? 'direct' : encapsulation.tunnel === 'vxlan' ? 'vxlan' : 'ipip' };
}

/** The route to `cidr` (a block or a borrowed pod IP) owned by node `ownerName`; null when it cannot be built. */
function remoteRoute(
  context: RouteContext,
  ownerName: string,
  cidr: string,
  blockFrom: BlockSource,
  borrowedBy?: { namespace: string; pod: string },
): ExpectedRoute | null {
  const path = remotePath(context, ownerName, cidr);
  if (!path) return null;
  const { nodeIP, via } = path;
  const why = { kind: 'remote-block' as const, block: cidr, node: ownerName, nodeIP, pool: path.pool?.name ?? null, blockFrom, ...(borrowedBy ? { borrowedBy } : {}) };
  if (via === 'direct') return uplinkRow(cidr, nodeIP, context.uplink, { ...why, via, uplink: uplinkWhy(context.uplink) });
  if (via === 'vxlan') {
    const vtep = path.owner.calico.vxlanTunnelAddr;
    return vtep ? routeRow(cidr, vtep, 'vxlan.calico', 0, { ...why, via }) : null;
  }
  return routeRow(cidr, nodeIP, 'tunl0', 0, { ...why, via });
}

/** The /32 routes to other nodes' tunnel addresses borrowed from a block affine to a different node. */
function borrowedTunnelRoutes(context: RouteContext): ExpectedRoute[] {
  if (context.blocks[0]?.from !== 'ipamBlock') return [];
  const routes: ExpectedRoute[] = [];
  for (const node of context.snapshot.nodes) {
    if (node.name === context.local.name) continue;
    const tunnels = [
      { tunnel: 'ipip' as const, address: node.calico.ipipTunnelAddr },
      { tunnel: 'vxlan' as const, address: node.calico.vxlanTunnelAddr },
    ];
    for (const { tunnel, address } of tunnels) {
      if (address === undefined) continue;
      const block = context.blocks.find((b) => cidrContains(b.range, address));
      if (!block || block.node === node.name) continue;
      const cidr = `${address}/32`;
      const path = remotePath(context, node.name, cidr);
      // Felix hands the route to the manager of the pool's encapsulation: a VXLAN address needs a VXLAN pool.
      if (!path || !path.pool || poolEncapsulation(path.pool).tunnel !== tunnel) continue;
      const why: Extract<CalicoRouteWhy, { kind: 'borrowed-tunnel' }> = { kind: 'borrowed-tunnel', address, tunnel, node: node.name, nodeIP: path.nodeIP, block: block.cidr, blockNode: block.node, via: path.via };
      if (path.via === 'direct') routes.push(uplinkRow(cidr, path.nodeIP, context.uplink, { ...why, uplink: uplinkWhy(context.uplink) }));
      else if (path.via === 'vxlan') routes.push(routeRow(cidr, ANY, 'vxlan.calico', 0, why));
      else routes.push(routeRow(cidr, path.nodeIP, 'tunl0', 0, why));
    }
  }
  return routes;
}
