// The route scenario's break on a Flannel VXLAN (or host-gw) cluster: one node's route to another node's Pod
// subnet deleted. flanneld's VXLAN backend never re-adds a deleted route (it programs routes when a lease
// changes), so the route stays deleted until the repair adds it back, as `ip route show` printed it.
import type { Kube } from './cluster.ts';
import type { ConformanceCluster, RouteBreak } from './scenarios.ts';

/**
 * Deletes `node`'s route to `towards`'s podCIDR through `onNode` (a command in the node's network namespace).
 * The request across nodes goes from a Pod on `towards` to a Pod on `node`: its answers need this route.
 */
export async function deleteFlannelRoute(kube: Kube, onNode: ConformanceCluster['onNode'], node: string, towards: string): Promise<RouteBreak> {
  const nodes = await kube.json<{ items: { metadata: { name: string }; spec: { podCIDR?: string } }[] }>(['get', 'nodes']);
  const subnet = nodes.items.find((n) => n.metadata.name === towards)?.spec.podCIDR;
  if (!subnet) throw new Error(`node ${towards} has no podCIDR`);
  const route = (await onNode(node, ['ip', 'route', 'show', subnet])).trim();
  if (!route) throw new Error(`node ${node} has no route to ${subnet}`);
  await onNode(node, ['ip', 'route', 'del', subnet]);
  return {
    finding: { layer: 'routes', kind: 'missing', node, key: subnet },
    // The operator's DNS questions that reach a CoreDNS Pod on `node` from `towards` (kube-proxy sends part of
    // them there) are answered over this route too: those go unanswered and DNSVerified may turn Unknown.
    alsoBreaks: ['DNSVerified'],
    async restore() {
      // `ip route show` prints the route as `ip route add` takes it
      if (!(await onNode(node, ['ip', 'route', 'show', subnet])).trim()) await onNode(node, ['ip', 'route', 'add', ...route.split(/\s+/)]);
    },
  };
}
