// Plain-word explanations of the rows flannel and its CNI plugin program (src/model/routes/flannel.ts).
import type { FlannelRouteWhy } from '../../model/types.ts';
import type { RouteEntry } from '../../parse/types.ts';
import { flagWords } from './flags.ts';
import { uplinkWords } from './uplink.ts';

export function explainFlannelRoute(route: RouteEntry, why: FlannelRouteWhy): string {
  if (why.kind === 'flannel-bridge') {
    return `Subnet ${why.subnet} is this node's share of the pod network (its podCIDR, leased by flanneld): every local pod has an address from it and a veth plugged into the ${why.bridge} bridge, `
      + `which holds the subnet's first address as the pods' gateway. This is the kernel's connected route of that address${flagWords(route.flags)}: no gateway, the pods answer ARP on the bridge themselves. `
      + (why.pods === 0
        ? `No pod has an address on this node yet, and ${why.bridge} only appears when the CNI bridge plugin wires the first pod (it stays after the last one), so this route may be absent.`
        : `${why.pods} pod${why.pods === 1 ? ' has' : 's have'} an address here, so ${why.bridge} must exist.`);
  }
  if (why.backend === 'vxlan') {
    return `Pods of subnet ${why.subnet} live on node ${why.node}. flanneld reaches them through VXLAN: the gateway ${route.gateway} is the address that node's ${route.iface} holds (its subnet's first address, as a /32), `
      + `set "onlink" because no other route leads to it. flanneld added a permanent ARP entry for ${route.gateway} (the remote VTEP MAC ${why.vtepMAC ?? ''}) and a bridge FDB entry sending that MAC to ${why.publicIP}, `
      + `so each packet is wrapped in UDP (port 8472) to node ${why.node}'s public-ip ${why.publicIP}${flagWords(route.flags)}.`;
  }
  return `Pods of subnet ${why.subnet} live on node ${why.node}. flannel's host-gw backend routes them without encapsulation: straight to that node's public-ip ${why.publicIP}, `
    + `which must be on the same L2 network, leaving through ${uplinkWords(route.iface, why.uplink)}${flagWords(route.flags)}.`;
}
