// The words of Flannel's route findings: what a missing or different row means, and where to look next.
import type { FlannelRouteWhy, ExpectedRoute } from '../../model/types.ts';
import type { RouteEntry } from '../../parse/types.ts';
import type { RouteFindingTexts } from './types.ts';

const FLANNEL_PODS = 'kubectl -n kube-flannel get pods -o wide (the kube-flannel DaemonSet; older manifests use kube-system)';

function mismatch(node: string, want: ExpectedRoute & { why: FlannelRouteWhy }, got: RouteEntry, fields: string[]) {
  const why = want.why;
  if (why.kind === 'flannel-subnet' && fields.includes('gateway')) {
    return {
      cause: why.backend === 'vxlan'
        ? `Subnet ${why.subnet} of node ${why.node} goes to ${got.gateway} instead of ${want.gateway}, the address its flannel.1 holds: the node's podCIDR changed, or flannel's VXLAN directRouting sends same-subnet peers straight to their public-ip.`
        : `Subnet ${why.subnet} of node ${why.node} goes to ${got.gateway} instead of its public-ip ${why.publicIP}: the node's address changed and flanneld here has not seen its new annotations.`,
      next: `kubectl get node ${why.node} -o jsonpath='{.metadata.annotations}{"\\n"}{.spec.podCIDRs}'; ${FLANNEL_PODS}; flanneld logs on ${node}`,
    };
  }
  if (why.kind === 'flannel-subnet' && fields.includes('iface')) {
    return {
      cause: `Subnet ${why.subnet} leaves through ${got.iface} instead of ${want.iface}: the flannel backend on ${node} (${why.backend}) differs from the one that programmed this route, or flanneld picked another interface (--iface).`,
      next: `kubectl get nodes -o custom-columns=NAME:.metadata.name,BACKEND:.metadata.annotations.flannel\\.alpha\\.coreos\\.com/backend-type; the net-conf.json in flannel's ConfigMap`,
    };
  }
  return {
    cause: 'This route is not the one flannel and its CNI plugin program for it.',
    next: `Compare the route on ${node} (ip route get ${got.destination}) with the nodes' podCIDRs and flannel annotations.`,
  };
}

function missing(node: string, want: ExpectedRoute & { why: FlannelRouteWhy }, key: string) {
  const why = want.why;
  if (why.kind === 'flannel-bridge') {
    return {
      message: `Route ${key} of this node's own pod subnet on ${why.bridge} is missing on ${node}, though ${why.pods} pod${why.pods === 1 ? ' has' : 's have'} an address from it: pods here cannot be reached.`,
      cause: `The ${why.bridge} bridge is gone or down, or lost its gateway address: the CNI bridge plugin creates it with the subnet's first address for the node's first pod.`,
      next: `On ${node}: ip addr show ${why.bridge}; ip link show master ${why.bridge}; cat /run/flannel/subnet.env`,
    };
  }
  const via = why.backend === 'vxlan' ? 'through flannel.1 (VXLAN)' : 'through the host network (host-gw)';
  return {
    message: `Route ${key} to the pods of node ${why.node} (${via}) is missing on ${node}: pods there are unreachable from this node.`,
    cause: `flanneld on ${node} has not programmed node ${why.node}'s subnet: it is not running, has not seen the node's annotations yet, or the route was deleted (flanneld re-adds host-gw routes within 10 s, VXLAN routes only when the node's lease changes).`,
    next: `${FLANNEL_PODS}; flanneld logs on ${node}; kubectl get node ${why.node} -o jsonpath='{.metadata.annotations}'`,
  };
}

export const flannelFindingTexts: RouteFindingTexts<FlannelRouteWhy> = {
  mismatch,
  missing,
  unexpected: (node, key, _got, owned) => ({
    message: `Route ${key} on ${node} is inside a node's pod subnet (${owned.join(', ')}) but flannel does not program it.`,
    cause: 'A route left behind by a node that was deleted or changed its podCIDR, a route of another CNI, or one added by hand.',
    next: `On ${node}: ip route show ${key}; kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR`,
  }),
};
