// The words of Calico's route findings: what a missing or different row means, and where to look next.
import type { RouteEntry } from '../../parse/types.ts';
import type { CalicoRouteWhy, ExpectedRoute } from '../../model/types.ts';
import type { RouteFindingTexts } from './types.ts';

const viaWords = { ipip: 'the IP-in-IP tunnel', vxlan: 'VXLAN', direct: 'the host network' } as const;

function mismatch(node: string, want: ExpectedRoute & { why: CalicoRouteWhy }, got: RouteEntry, fields: string[]) {
  const why = want.why;
  if (fields.includes('iface') && why.kind === 'pod') {
    return {
      cause: `The interface of pod ${why.namespace}/${why.pod} is not the one Calico names for it: the pod may have been recreated, or its veth was replaced.`,
      next: `kubectl -n ${why.namespace} get pod ${why.pod} -o wide; on ${node}: ip link show ${want.iface}`,
    };
  }
  if (fields.includes('gateway') && why.kind === 'remote-block') {
    return {
      cause: `Block ${why.block} is routed to another next hop than node ${why.node} (${why.nodeIP}): the block's affinity moved, or the node's address changed and BGP has not converged.`,
      next: `calicoctl ipam show --show-blocks; kubectl get node ${why.node} -o jsonpath='{.metadata.annotations}'`,
    };
  }
  if (fields.includes('iface') && (why.kind === 'remote-block' || why.kind === 'borrowed-tunnel')) {
    const what = why.kind === 'remote-block' ? `Block ${why.block}` : `The tunnel address ${why.address} of node ${why.node}`;
    return {
      cause: `${what} leaves through ${got.iface} instead of ${want.iface}: the IP pool's encapsulation (ipipMode/vxlanMode) differs from what the routes were programmed for, or the node's address moved to another interface.`,
      next: 'kubectl get ippools.crd.projectcalico.org -o yaml (ipipMode, vxlanMode); calico-node logs on this node',
    };
  }
  return {
    cause: 'Calico programmed this route differently from what the cluster objects say.',
    next: `Compare the route on ${node} (ip route get ${got.destination}) with the Calico objects that own it.`,
  };
}

function missing(node: string, want: ExpectedRoute & { why: CalicoRouteWhy }, key: string) {
  const why = want.why;
  switch (why.kind) {
    case 'pod':
      return {
        message: `Route ${key} to pod ${why.namespace}/${why.pod} via ${want.iface} is missing on ${node}: traffic for that pod has no way in.`,
        cause: 'The pod\'s veth or its /32 route was not created or was removed (CNI ADD failed, Felix not running, or someone deleted it).',
        next: `kubectl -n ${why.namespace} describe pod ${why.pod}; on ${node}: ip link show ${want.iface}; calico-node logs`,
      };
    case 'blackhole':
      return {
        message: `Blackhole route for this node's own block ${why.block} is missing on ${node}.`,
        cause: 'BIRD/Felix did not program the block\'s blackhole; traffic to unused addresses of the block may loop instead of being dropped.',
        next: `calico-node logs on ${node}; calicoctl ipam show --show-blocks`,
      };
    case 'remote-block':
      return {
        message: `Route ${key} to the pods of node ${why.node} (via ${viaWords[why.via]}) is missing on ${node}: pods there are unreachable from this node.`,
        cause: `No route to block ${why.block}: the BGP session to ${why.node} is down, or its calico-node is not running.`,
        next: `calicoctl node status (on ${node}); kubectl -n kube-system get pods -l k8s-app=calico-node -o wide`,
      };
    case 'borrowed-tunnel':
      return {
        message: `Route ${key} to the ${why.tunnel === 'vxlan' ? 'VXLAN' : 'IP-in-IP'} tunnel address of node ${why.node} (borrowed from block ${why.block} of ${why.blockNode}) is missing on ${node}: the block's route would send that address's traffic to ${why.blockNode} instead.`,
        cause: 'Felix on this node has not programmed the /32 for the borrowed tunnel address (calico-node not running or not synced), or it was deleted.',
        next: `kubectl get node ${why.node} -o yaml (projectcalico.org/IPv4${why.tunnel === 'vxlan' ? 'VXLAN' : 'IPIP'}TunnelAddr); calicoctl ipam show --ip=${why.address}; calico-node logs on ${node}`,
      };
  }
}

export const calicoFindingTexts: RouteFindingTexts<CalicoRouteWhy> = {
  mismatch,
  missing,
  unexpected: (node, key, got, owned) => ({
    message: `Route ${key} on ${node} is inside the pod network (${owned.join(', ')}) but no pod, block or node explains it.`,
    cause: 'A stale route left behind by a deleted pod or a block that moved to another node, or a route added by hand.',
    next: `On ${node}: ip route show ${key}; check whether a pod still uses ${got.destination} (kubectl get pods -A -o wide).`,
  }),
};
