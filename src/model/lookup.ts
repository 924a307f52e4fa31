// Finding objects in a snapshot, with errors that name what was asked for.
import { type Cidr, parseCidr } from '../net/ip.ts';
import type { ClusterSnapshot, EndpointSliceView, NodeView, ServiceView } from '../snapshot/types.ts';

/** The node called `name`; throws naming the nodes the snapshot does have. */
export function findNode(snapshot: ClusterSnapshot, name: string): NodeView {
  const node = snapshot.nodes.find((n) => n.name === name);
  if (!node) {
    const known = snapshot.nodes.map((n) => n.name).join(', ') || 'none';
    throw new Error(`node ${JSON.stringify(name)} is not in the snapshot (nodes: ${known})`);
  }
  return node;
}

/** EndpointSlices by namespace, then by Service name: nested maps, so a look-up builds no key string. */
export type SliceIndex = Map<string, Map<string, EndpointSliceView[]>>;

/** The EndpointSlices grouped by the Service they belong to (same namespace, label kubernetes.io/service-name). */
export function indexSlices(snapshot: ClusterSnapshot): SliceIndex {
  const index: SliceIndex = new Map();
  for (const slice of snapshot.endpointSlices) {
    let byService = index.get(slice.namespace);
    if (!byService) index.set(slice.namespace, (byService = new Map()));
    const slices = byService.get(slice.serviceName);
    if (slices) slices.push(slice);
    else byService.set(slice.serviceName, [slice]);
  }
  return index;
}

export function slicesOf(index: SliceIndex, service: Pick<ServiceView, 'namespace' | 'name'>): EndpointSliceView[] {
  return index.get(service.namespace)?.get(service.name) ?? [];
}

/** A pod is finished when its phase is Succeeded or Failed: its sandbox, veth and routes are gone. */
export function podFinished(phase: string): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** parseCidr, with an error that says which object the bad CIDR came from. */
export function checkedCidr(cidr: string, where: string): Cidr {
  try {
    return parseCidr(cidr);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}
