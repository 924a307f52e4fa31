// Flannel's rows in one node's `route -n` (IPv4 main table), worked out from the nodes' flannel.alpha.coreos.com
// annotations and podCIDRs. Sources: flannel-io/flannel v0.28 — pkg/subnet/kube/kube.go (nodeToLease, AcquireLease),
// pkg/lease/lease.go (LeaseWatcher skips the node's own subnet), pkg/backend/vxlan/{vxlan.go,vxlan_network.go,
// device.go}, pkg/backend/hostgw/hostgw.go with pkg/backend/route_network.go; and the CNI plugins flannel's own
// CNI plugin delegates to (containernetworking/plugins bridge + host-local).
import { cidrContains, ipFamily, parseCidr } from '../../net/ip.ts';
import { compareRoutes } from '../tool-order.ts';
import type { ClusterSnapshot, NodeView } from '../../snapshot/types.ts';
import { checkedCidr } from '../lookup.ts';
import type { ExpectedRoute, NodeRoutes } from '../types.ts';
import { ANY, findUplink, routeRow, uplinkRow, uplinkWhy } from './table.ts';
import type { CniRouteModel, RouteModelOptions } from './types.ts';

/** The bridge flannel's CNI plugin asks the bridge plugin for (its default name). */
export const FLANNEL_BRIDGE = 'cni0';
/** VXLAN's VNI when backend-data does not say (flannel's defaultVNI); the device is flannel.<VNI>. */
const DEFAULT_VNI = 1;

type Backend = 'vxlan' | 'host-gw';
const isModelledBackend = (type: string | null): type is Backend => type === 'vxlan' || type === 'host-gw';

/** A node's lease as flanneld's Kubernetes subnet manager makes it from the Node, or why there is none. */
type Lease = { subnet: string; publicIP: string; backend: string | null; vtepMAC: string | null } | { missing: string };

/** The node's subnet: its first IPv4 podCIDR, as flannel takes it (spec.podCIDRs, else spec.podCIDR). */
function nodeSubnet(node: NodeView): string | null {
  return node.podCIDRs.find((cidr) => checkedCidr(cidr, `Node ${node.name} podCIDR`).family === 'IPv4') ?? null;
}

function leaseOf(node: NodeView): Lease {
  const flannel = node.flannel;
  if (flannel === null) return { missing: 'it has no flannel.alpha.coreos.com annotations (flanneld has not run there yet)' };
  if (!flannel.kubeSubnetManager) return { missing: 'its flannel.alpha.coreos.com/kube-subnet-manager annotation is not "true"' };
  if (flannel.publicIP === null) return { missing: 'it has no flannel.alpha.coreos.com/public-ip annotation' };
  const subnet = nodeSubnet(node);
  if (subnet === null) return { missing: 'it has no IPv4 podCIDR' };
  return { subnet, publicIP: flannel.publicIP, backend: flannel.backendType, vtepMAC: flannel.vtepMAC };
}

/**
 * The routes flannel (Kubernetes subnet manager, VXLAN or host-gw backend) and its CNI plugin give `local`. Rules:
 * - Leases: a node has one when it carries flannel.alpha.coreos.com/kube-subnet-manager "true", an IPv4
 *   public-ip and an IPv4 podCIDR (its subnet: the first one); flanneld skips every other node, and its own subnet.
 * - This node's backend is its backend-type annotation; leases of another backend type are ignored.
 * - VXLAN: each other lease's subnet via the subnet's own network address (the remote flannel.N holds it as a
 *   /32) on flannel.<VNI> (VNI from this node's backend-data, default 1), onlink: `<subnet> <subnet address>
 *   <mask> UG 0 0 0 flannel.1`. A lease without a VtepMAC in its backend-data gets no route (no ARP entry).
 * - host-gw: each other lease's subnet via that node's public-ip on the uplink (the interface holding this
 *   node's public-ip): `<subnet> <public-ip> <mask> UG 0 0 0 <uplink>`.
 * - Metric 0 everywhere: flanneld sets none. flannel.N's own /32 address makes no main-table row.
 * - This node's own subnet is a connected route on the cni0 bridge (the bridge plugin gives cni0 the subnet's
 *   first address, .1, with the subnet's prefix): `<subnet> 0.0.0.0 <mask> U 0 0 0 cni0`. The bridge exists
 *   only from the node's first pod on (CNI ADD creates it, CNI DEL leaves it), so with no pod holding an IP on
 *   the node the row is optional.
 * ownedCIDRs: every node's IPv4 podCIDRs (the flannel network itself is in flannel's ConfigMap, not read).
 * Not modelled, as both live in flanneld's own configuration, which netlab does not read: VXLAN's DirectRouting
 * (a peer on this node's subnet is then routed via its public-ip on the uplink; the gateway mismatch finding names
 * it) and --ip-blackhole-route (a blackhole for the node's subnet, meant for setups without the bridge).
 */
function flannelRoutes(snapshot: ClusterSnapshot, local: NodeView, options: RouteModelOptions): Omit<NodeRoutes, 'node' | 'cni'> {
  return routesBetweenNodes(snapshot, local, options, 'bridge');
}

/**
 * Canal: the same routes to other nodes' subnets, but Calico's CNI plugin wires the local pods (a /32 per pod on
 * its cali veth, and a blackhole for the subnet when flanneld runs with --ip-blackhole-route): those rows are
 * not modelled, so the node's own subnet is left out of ownedCIDRs and nothing in it is judged.
 */
function canalRoutes(snapshot: ClusterSnapshot, local: NodeView, options: RouteModelOptions): Omit<NodeRoutes, 'node' | 'cni'> {
  return routesBetweenNodes(snapshot, local, options, 'not-modelled');
}

export const flannelRouteModel: CniRouteModel = { expectedRoutes: flannelRoutes };
export const canalRouteModel: CniRouteModel = { expectedRoutes: canalRoutes };

function routesBetweenNodes(snapshot: ClusterSnapshot, local: NodeView, options: RouteModelOptions, localPods: 'bridge' | 'not-modelled'): Omit<NodeRoutes, 'node' | 'cni'> {
  const notes: string[] = [];
  const routes: ExpectedRoute[] = [];
  const localSubnet = nodeSubnet(local);
  const ownedCIDRs = snapshot.nodes.map(nodeSubnet).filter((cidr): cidr is string => cidr !== null && (localPods === 'bridge' || cidr !== localSubnet));
  if (localSubnet === null) notes.push(`node ${local.name} has no IPv4 podCIDR: flannel gives it no subnet, so pods there get no addresses`);
  else if (localPods === 'bridge') routes.push(bridgeRoute(snapshot, local, localSubnet));
  else notes.push(`node ${local.name}: in Canal, Calico's CNI plugin wires the pods of ${localSubnet} (cali veths); those rows are not checked`);

  const backend = local.flannel?.backendType ?? null;
  if (local.flannel === null) {
    notes.push(`node ${local.name} has no flannel.alpha.coreos.com annotations: flanneld has not run there, so it has no routes to other nodes' pods`);
  } else if (!isModelledBackend(backend)) {
    notes.push(`node ${local.name} runs flannel's ${backend ?? 'unnamed'} backend; netlab models the vxlan and host-gw backends only, so its routes to other nodes are not checked`);
  } else {
    const vni = local.flannel.vni ?? DEFAULT_VNI;
    const uplink = findUplink(local.flannel.publicIP, undefined, { interfaces: options.interfaces, routes: options.observedRoutes });
    for (const node of snapshot.nodes) {
      if (node.name === local.name) continue;
      const lease = leaseOf(node);
      if ('missing' in lease) {
        notes.push(`node ${node.name}: flannel programs no route to its pods, because ${lease.missing}`);
        continue;
      }
      if (lease.subnet === localSubnet) continue;
      if (lease.backend !== backend) {
        notes.push(`node ${node.name} runs flannel's ${lease.backend ?? 'unnamed'} backend, ${local.name} runs ${backend}: flannel ignores a lease of another backend, so no route to its pods`);
        continue;
      }
      const why = { kind: 'flannel-subnet' as const, subnet: lease.subnet, node: node.name, publicIP: lease.publicIP };
      if (backend === 'host-gw') {
        routes.push(uplinkRow(lease.subnet, lease.publicIP, uplink, { ...why, backend, uplink: uplinkWhy(uplink) }));
      } else if (lease.vtepMAC === null) {
        notes.push(`node ${node.name}: its flannel.alpha.coreos.com/backend-data has no VtepMAC, so flannel cannot reach its VXLAN device and programs no route to its pods`);
      } else {
        routes.push(routeRow(lease.subnet, parseCidr(lease.subnet).network, `flannel.${vni}`, 0, { ...why, backend, vtepMAC: lease.vtepMAC }));
      }
    }
    if (backend === 'host-gw' && uplink.from === 'unknown') {
      notes.push(`node ${local.name}: the name of the interface holding ${local.flannel.publicIP ?? 'its public-ip'} is unknown (no ip -o addr or connected route observed), so host-gw routes are not compared on Iface`);
    }
  }
  return { routes: routes.sort(compareRoutes), ownedCIDRs: [...new Set(ownedCIDRs)], notes };
}

function bridgeRoute(snapshot: ClusterSnapshot, local: NodeView, subnet: string): ExpectedRoute {
  const pods = snapshot.pods.filter(
    (pod) => pod.nodeName === local.name && !pod.hostNetwork && pod.podIPs.some((ip) => ipFamily(ip) === 'IPv4' && cidrContains(subnet, ip)),
  ).length;
  const row = routeRow(subnet, ANY, FLANNEL_BRIDGE, 0, { kind: 'flannel-bridge', subnet, node: local.name, bridge: FLANNEL_BRIDGE, pods });
  return pods === 0 ? { ...row, optional: true } : row;
}
