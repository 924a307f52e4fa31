// Which endpoints kube-proxy sends a service port's traffic to, as seen from one node.
// Sources: kubernetes pkg/proxy endpointslicecache.go (gathering), topology.go CategorizeEndpoints,
// serviceport.go (UsesClusterEndpoints / UsesLocalEndpoints), pkg/api/v1/service ExternalPolicyLocal.
import { ipFamily, type IpFamily } from '../net/ip.ts';
import type { EndpointSliceView, EndpointView, ServicePortView, ServiceView } from '../snapshot/types.ts';
import { RealServerIndex } from '../net/real-server-index.ts';
import type { RealServerWhy } from './types.ts';

/** One endpoint of a service port, as kube-proxy keys it: address:port. */
export interface PortEndpoint {
  address: string;
  port: number;
  endpoint: EndpointView;
  local: boolean;
}

/** Endpoints chosen for one policy, all for the same reason (ready, serving+terminating fallback, local). */
export interface ChosenEndpoints {
  endpoints: PortEndpoint[];
  reason: RealServerWhy['reason'];
}

/**
 * The endpoints of one service port for one address family, as kube-proxy's EndpointSlice cache builds them
 * from the service's slices:
 * - slices whose addressType is FQDN are skipped;
 * - the slice port with the same name and protocol as the service port; a port that is null or 0 is ignored;
 * - only the endpoint's first address counts, and only when it is of `family`;
 * - duplicates (same address:port in several slices) collapse into one, preferring the copy on this node.
 */
export function portEndpoints(slices: EndpointSliceView[], port: ServicePortView, family: IpFamily, nodeName: string): PortEndpoint[] {
  const found = new RealServerIndex<PortEndpoint>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    for (const slicePort of slice.ports) {
      if (slicePort.name !== port.name || slicePort.protocol !== port.protocol || !slicePort.port) continue;
      for (const endpoint of slice.endpoints) {
        const address = endpoint.addresses[0];
        if (address === undefined || ipFamily(address) !== family) continue;
        const local = endpoint.nodeName === nodeName;
        const duplicate = found.lastIndexOf(address, slicePort.port);
        if (duplicate === -1) {
          found.push({ address, port: slicePort.port, endpoint, local });
        } else if (local) {
          const kept = found.items[duplicate]!;
          kept.endpoint = endpoint;
          kept.local = true;
        }
      }
    }
  }
  return found.items;
}

/** apiservice.ExternallyAccessible: NodePort and LoadBalancer services, and ClusterIP services with externalIPs. */
function serviceExternallyAccessible(service: ServiceView): boolean {
  return service.type === 'NodePort' || service.type === 'LoadBalancer' || (service.type === 'ClusterIP' && service.externalIPs.length > 0);
}

/** apiservice.ExternalPolicyLocal: externalTrafficPolicy Local counts only on an externally accessible service. */
export function externalPolicyLocal(service: ServiceView): boolean {
  return serviceExternallyAccessible(service) && service.externalTrafficPolicy === 'Local';
}

export interface CategorizedEndpoints {
  /** null when the service port never uses Cluster policy */
  cluster: ChosenEndpoints | null;
  /** null when the service port never uses Local policy */
  local: ChosenEndpoints | null;
}

/**
 * kube-proxy's CategorizeEndpoints, without topology hints (netlab's snapshot carries no hints; with
 * hints, kube-proxy may narrow the cluster endpoints to this node's zone):
 * - cluster endpoints: the ready ones; if none is ready anywhere, the serving-and-terminating ones.
 *   Computed only when the port uses Cluster policy: internalTrafficPolicy Cluster, or the port is
 *   reachable from outside at all (`portExternallyAccessible`: NodePort, externalIPs or LB VIPs) — even
 *   with externalTrafficPolicy Local, kube-proxy keeps them for in-cluster short circuits.
 * - local endpoints: the ready ones on this node; if none, this node's serving-and-terminating ones.
 *   Computed only when the port uses Local policy: internalTrafficPolicy Local, or externalTrafficPolicy
 *   Local on a port reachable from outside.
 */
export function categorizeEndpoints(endpoints: PortEndpoint[], service: ServiceView, portExternallyAccessible: boolean): CategorizedEndpoints {
  const internalLocal = service.internalTrafficPolicy === 'Local';
  const usesCluster = !internalLocal || portExternallyAccessible;
  const usesLocal = internalLocal || (externalPolicyLocal(service) && portExternallyAccessible);
  const servingTerminating = (e: PortEndpoint) => e.endpoint.serving && e.endpoint.terminating;

  let cluster: ChosenEndpoints | null = null;
  if (usesCluster) {
    // Usually every endpoint is ready: the list is then used as it is.
    const ready = endpoints.every((e) => e.endpoint.ready) ? endpoints : endpoints.filter((e) => e.endpoint.ready);
    cluster = ready.length ? { endpoints: ready, reason: 'ready' } : { endpoints: endpoints.filter(servingTerminating), reason: 'serving-terminating' };
  }
  let local: ChosenEndpoints | null = null;
  if (usesLocal) {
    const here = endpoints.filter((e) => e.local);
    const ready = here.filter((e) => e.endpoint.ready);
    local = ready.length ? { endpoints: ready, reason: 'local' } : { endpoints: here.filter(servingTerminating), reason: 'local-serving-terminating' };
  }
  return { cluster, local };
}

export interface PolicyChoice {
  chosen: ChosenEndpoints;
  /** Local policy, but this node has no usable endpoint: cluster endpoints are used instead (PR 97081) */
  localFallback: boolean;
}

const NONE: ChosenEndpoints = { endpoints: [], reason: 'ready' };

/**
 * The real servers of one virtual server (kube-proxy's syncEndpoint):
 * - Cluster policy: the cluster endpoints;
 * - Local policy: the local endpoints; when there are none, the cluster endpoints (kubernetes PR 97081:
 *   pods on this node can still reach the service). Those are nil when the port never uses Cluster
 *   policy (internalTrafficPolicy Local and not reachable from outside): then no real server at all.
 */
export function endpointsForPolicy(categorized: CategorizedEndpoints, localPolicy: boolean): PolicyChoice {
  if (!localPolicy) return { chosen: categorized.cluster ?? NONE, localFallback: false };
  if (categorized.local?.endpoints.length) return { chosen: categorized.local, localFallback: false };
  return { chosen: categorized.cluster ?? NONE, localFallback: true };
}
