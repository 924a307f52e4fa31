// Plain-word explanations of the rows Calico programs (src/model/routes/calico.ts).
import type { CalicoRouteWhy } from '../../model/types.ts';
import type { RouteEntry } from '../../parse/types.ts';
import { flagWords } from './flags.ts';
import { uplinkWords } from './uplink.ts';

/** Who picked a node's block (libcalico-go ipam randomBlockGenerator: a start in the pool seeded by an FNV hash of the
 *  node's name, then the first free block), so that a learner does not look for a setting of theirs or the podCIDR. */
const IPAM_CHOICE = 'Calico\'s IPAM chose this block for the node, not you and not the node\'s podCIDR: when the node first needed pod addresses, '
  + 'Calico searched the pool for a free block from a starting point derived from the node\'s name, and recorded the choice as the block\'s affinity to the node';

function metricWords(metric: Extract<CalicoRouteWhy, { kind: 'pod' }>['metric']): string {
  return metric.calicoVersion
    ? ` Metric ${metric.value}: what Calico ${metric.calicoVersion} gives pod routes (0 before v3.32, 1024 since); netlab does not compare it.`
    : ` Metric: Calico before v3.32 gives pod routes 0, v3.32 and later 1024; which Calico runs is not known, so netlab expects ${metric.value} and does not compare it.`;
}

export function explainCalicoRoute(route: RouteEntry, why: CalicoRouteWhy): string {
  switch (why.kind) {
    case 'pod':
      return `Pod ${why.namespace}/${why.pod} (${route.destination}) runs on this node: packets for it go straight into its veth ${route.iface}${flagWords(route.flags)}. `
        + (why.interfaceFrom === 'sha1'
          ? `Calico names the host side of the veth "cali" + the first 11 hex characters of sha1("${why.namespace}.${why.pod}").`
          : 'The interface name is the one Calico recorded in the pod\'s WorkloadEndpoint.')
        + (why.ipFrom === 'calico-annotation'
          ? ' The kubelet has not reported the pod\'s IP yet; Calico\'s CNI plugin wrote it to the pod\'s cni.projectcalico.org/podIPs annotation when it wired the pod, and the route exists from that moment.'
          : '')
        + (why.borrowed ? ' The address lies outside this node\'s blocks: Calico borrowed it from another node\'s block, so this /32 is more specific than that block\'s route.' : '')
        + metricWords(why.metric);
    case 'blackhole':
      return `Block ${why.block} belongs to this node (${why.node})${why.blockFrom === 'podCIDR' ? ', taken from its podCIDR' : `: ${IPAM_CHOICE}`}: pods here get addresses from it. `
        + 'Calico installs a blackhole route (Iface "*") for the whole block, so a packet to an address no local pod uses is dropped here instead of bouncing back to the network; each live pod has a more specific /32 route.';
    case 'remote-block': {
      const where = why.borrowedBy
        ? `Pod ${why.borrowedBy.namespace}/${why.borrowedBy.pod} (${route.destination}) runs on node ${why.node} with an address borrowed from another node's block, so it needs its own /32`
        : `Pods of block ${why.block} live on node ${why.node}${why.blockFrom === 'ipamBlock' ? ` (${IPAM_CHOICE})` : ''}`;
      if (why.via === 'ipip') {
        return `${where}; they are reached through the IP-in-IP tunnel (tunl0) to that node's address ${why.nodeIP}${flagWords(route.flags)}: `
          + `each packet gets an outer IP header addressed to ${why.nodeIP}, which unwraps it and hands it to the pod's veth.`;
      }
      if (why.via === 'vxlan') {
        return `${where}; they are reached through VXLAN (vxlan.calico): packets are wrapped in UDP and sent to that node's VTEP address ${route.gateway}${flagWords(route.flags)}.`;
      }
      return `${where}; they are reached directly over the host network via that node's address ${why.nodeIP}, without encapsulation, leaving through ${uplinkWords(route.iface, why.uplink)}${flagWords(route.flags)}.`;
    }
    case 'borrowed-tunnel': {
      const device = why.tunnel === 'vxlan' ? 'vxlan.calico VTEP' : 'tunl0';
      const start = `${why.address} is the ${device} address of node ${why.node}, but it lies in block ${why.block} of ${why.blockNode === why.node ? 'another node' : `node ${why.blockNode}`}: Calico borrowed it, so felix adds this /32, more specific than the block's route`;
      if (why.via === 'vxlan') return `${start}. It has no gateway: the address IS the remote VTEP, reached straight through vxlan.calico${flagWords(route.flags)}.`;
      if (why.via === 'ipip') return `${start}, through the IP-in-IP tunnel to that node's address ${why.nodeIP}${flagWords(route.flags)}.`;
      return `${start}, directly via that node's address ${why.nodeIP} on ${uplinkWords(route.iface, why.uplink)}${flagWords(route.flags)}.`;
    }
  }
}
