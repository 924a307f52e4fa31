// Routes layer: one node's expected Calico rows against its observed `route -n`.
import { cidrContains } from '../net/ip.ts';
import type { RouteEntry, RouteTable } from '../parse/types.ts';
import { renderRouteLine } from '../render/route.ts';
import type { ExpectedRoute, NodeRoutes } from '../model/types.ts';
import { routeKey } from './keys.ts';
import type { Finding } from './types.ts';

/** How each observed row was classified. "unmanaged" rows lie outside every range the CNI owns. */
export type ObservedRouteStatus = 'ok' | 'mismatch' | 'unexpected' | 'unmanaged';

export interface ObservedRoute {
  entry: RouteEntry;
  status: ObservedRouteStatus;
  expected: ExpectedRoute | null;
}

export interface RoutesComparison {
  findings: Finding[];
  observed: ObservedRoute[];
  /** expected rows with no observed counterpart */
  missing: ExpectedRoute[];
}

// Ref and Use are counters; the metric is the CNI's choice (Calico 3.32 moved pod routes to 1024), so neither is compared.
const COMPARED_FIELDS = ['gateway', 'flags', 'iface'] as const;

export function compareRoutes(expected: NodeRoutes, observed: RouteTable): RoutesComparison {
  const node = expected.node;
  const wanted = new Map<string, ExpectedRoute>();
  for (const route of expected.routes) wanted.set(routeKey(route), route);
  const matched = new Set<string>();
  const findings: Finding[] = [];
  const rows: ObservedRoute[] = [];

  for (const entry of observed.routes) {
    const key = routeKey(entry);
    const want = wanted.get(key);
    if (want && !matched.has(key)) {
      matched.add(key);
      const fields = COMPARED_FIELDS.filter((f) => want[f] !== entry[f]);
      rows.push({ entry, status: fields.length ? 'mismatch' : 'ok', expected: want });
      if (fields.length) findings.push(routeMismatch(node, key, want, entry, fields));
    } else if (expected.ownedCIDRs.some((cidr) => cidrContains(cidr, entry.destination))) {
      rows.push({ entry, status: 'unexpected', expected: null });
      findings.push(routeUnexpected(node, key, entry, expected.ownedCIDRs));
    } else {
      rows.push({ entry, status: 'unmanaged', expected: null });
    }
  }
  const missing = expected.routes.filter((r) => !matched.has(routeKey(r)));
  for (const route of missing) findings.push(routeMissing(node, route));
  return { findings, observed: rows, missing };
}

function routeMismatch(node: string, key: string, want: ExpectedRoute, got: RouteEntry, fields: string[]): Finding {
  const diffs = fields.map((f) => `${f} is ${JSON.stringify(got[f as keyof RouteEntry])}, expected ${JSON.stringify(want[f as keyof RouteEntry])}`);
  const why = want.why;
  let cause = 'The CNI programmed this route differently from what the cluster objects say.';
  let next = `Compare the route on ${node} (ip route get ${got.destination}) with the Calico objects that own it.`;
  if (fields.includes('iface') && why.kind === 'pod') {
    cause = `The interface of pod ${why.namespace}/${why.pod} is not the one Calico names for it: the pod may have been recreated, or its veth was replaced.`;
    next = `kubectl -n ${why.namespace} get pod ${why.pod} -o wide; on ${node}: ip link show ${want.iface}`;
  } else if (fields.includes('gateway') && why.kind === 'remote-block') {
    cause = `Block ${why.block} is routed to another next hop than node ${why.node} (${why.nodeIP}): the block's affinity moved, or the node's address changed and BGP has not converged.`;
    next = `calicoctl ipam show --show-blocks; kubectl get node ${why.node} -o jsonpath='{.metadata.annotations}'`;
  } else if (fields.includes('iface') && why.kind === 'remote-block') {
    cause = `Block ${why.block} leaves through ${got.iface} instead of ${want.iface}: the IP pool's encapsulation (ipipMode/vxlanMode) differs from what the routes were programmed for.`;
    next = 'kubectl get ippools.crd.projectcalico.org -o yaml (ipipMode, vxlanMode); calico-node logs on this node';
  }
  return {
    layer: 'routes', kind: 'mismatch', node, key, fields,
    expected: renderRouteLine(want), observed: renderRouteLine(got),
    message: `Route ${key} on ${node}: ${diffs.join('; ')}.`, cause, next,
  };
}

function routeUnexpected(node: string, key: string, got: RouteEntry, owned: string[]): Finding {
  return {
    layer: 'routes', kind: 'unexpected', node, key, fields: [],
    expected: null, observed: renderRouteLine(got),
    message: `Route ${key} on ${node} is inside the pod network (${owned.join(', ')}) but no pod, block or node explains it.`,
    cause: 'A stale route left behind by a deleted pod or a block that moved to another node, or a route added by hand.',
    next: `On ${node}: ip route show ${key}; check whether a pod still uses ${got.destination} (kubectl get pods -A -o wide).`,
  };
}

function routeMissing(node: string, want: ExpectedRoute): Finding {
  const key = routeKey(want);
  const why = want.why;
  let message: string;
  let cause: string;
  let next: string;
  switch (why.kind) {
    case 'pod':
      message = `Route ${key} to pod ${why.namespace}/${why.pod} via ${want.iface} is missing on ${node}: traffic for that pod has no way in.`;
      cause = 'The pod\'s veth or its /32 route was not created or was removed (CNI ADD failed, Felix not running, or someone deleted it).';
      next = `kubectl -n ${why.namespace} describe pod ${why.pod}; on ${node}: ip link show ${want.iface}; calico-node logs`;
      break;
    case 'blackhole':
      message = `Blackhole route for this node's own block ${why.block} is missing on ${node}.`;
      cause = 'BIRD/Felix did not program the block\'s blackhole; traffic to unused addresses of the block may loop instead of being dropped.';
      next = `calico-node logs on ${node}; calicoctl ipam show --show-blocks`;
      break;
    case 'remote-block':
      message = `Route ${key} to the pods of node ${why.node} (via ${why.via === 'ipip' ? 'the IP-in-IP tunnel' : why.via === 'vxlan' ? 'VXLAN' : 'the host network'}) is missing on ${node}: pods there are unreachable from this node.`;
      cause = `No route to block ${why.block}: the BGP session to ${why.node} is down, or its calico-node is not running.`;
      next = `calicoctl node status (on ${node}); kubectl -n kube-system get pods -l k8s-app=calico-node -o wide`;
      break;
  }
  return {
    layer: 'routes', kind: 'missing', node, key, fields: [],
    expected: renderRouteLine(want), observed: null, message, cause, next,
  };
}
