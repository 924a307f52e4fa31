// Which endpoints kube-proxy sends a service port's traffic to, as seen from one node.
// Sources: kubernetes pkg/proxy endpointslicecache.go (gathering), topology.go CategorizeEndpoints,
// serviceport.go (UsesClusterEndpoints / UsesLocalEndpoints), pkg/api/v1/service ExternalPolicyLocal.
import { ipFamily, type IpFamily } from '../net/ip.ts';
import type { EndpointSliceView, EndpointView, ServicePortView, ServiceView } from '../snapshot/types.ts';
import { RealServerIndex } from '../net/real-server-index.ts';
import type { RealServerWhy, TopologyChoice } from './types.ts';

/** The node label kube-proxy reads its zone from. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

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
  /** cluster endpoints only: how topology hints narrowed them */
  topology?: TopologyChoice;
}

/** The node kube-proxy runs on, as topology sees it: its name and its zone label (null without one). */
export interface TopologyNode {
  name: string;
  zone: string | null;
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

/** What asked the EndpointSlice controller for hints, for explanations: "trafficDistribution: PreferClose". */
function hintsAskedBy(service: ServiceView): string | null {
  if (service.trafficDistribution) return `trafficDistribution: ${service.trafficDistribution}`;
  if (service.topologyMode) return `service.kubernetes.io/topology-mode: ${service.topologyMode}`;
  return null;
}

/**
 * kube-proxy's topologyModeFromHints (pkg/proxy/topology.go), over the ready endpoints. kube-proxy reads only
 * the hints, never the Service's trafficDistribution (the EndpointSlice controller turns that into hints):
 * - every ready endpoint has a node hint and one names this node: PreferSameNode (keep those hinted for it);
 * - else every ready endpoint has a zone hint and one names this node's zone: PreferSameZone;
 * - else no narrowing: hints that are incomplete, or name neither this node nor its zone, are ignored.
 */
export function topologyOf(endpoints: PortEndpoint[], node: TopologyNode, service: ServiceView): TopologyChoice {
  const askedBy = hintsAskedBy(service);
  // Most Services have no hints: found without building the ready list (this runs for every port of the cluster).
  if (!endpoints.some((e) => e.endpoint.ready && (e.endpoint.zoneHints.length || e.endpoint.nodeHints.length))) return { mode: null, ignored: null, askedBy };
  const ready = endpoints.filter((e) => e.endpoint.ready);
  const everyReady = (test: (e: EndpointView) => boolean) => ready.every((e) => test(e.endpoint));
  const someReady = (test: (e: EndpointView) => boolean) => ready.some((e) => test(e.endpoint));
  if (everyReady((e) => e.nodeHints.length > 0) && someReady((e) => e.nodeHints.includes(node.name))) {
    return { mode: 'PreferSameNode', node: node.name, askedBy };
  }
  if (!everyReady((e) => e.zoneHints.length > 0)) return { mode: null, ignored: 'some-endpoints-unhinted', askedBy };
  if (node.zone === null) return { mode: null, ignored: 'node-has-no-zone', askedBy };
  if (!someReady((e) => e.zoneHints.includes(node.zone!))) return { mode: null, ignored: 'no-endpoint-for-zone', askedBy };
  return { mode: 'PreferSameZone', zone: node.zone, askedBy };
}

/** availableForTopology: whether the chosen topology mode keeps this endpoint. */
function availableForTopology(endpoint: EndpointView, topology: TopologyChoice): boolean {
  if (topology.mode === 'PreferSameNode') return endpoint.nodeHints.includes(topology.node);
  if (topology.mode === 'PreferSameZone') return endpoint.zoneHints.includes(topology.zone);
  return true;
}

/**
 * kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go):
 * - cluster endpoints: the ready ones that the topology hints keep for this node (topologyOf); if none is
 *   ready anywhere, the serving-and-terminating ones (without topology). Computed only when the port uses
 *   Cluster policy: internalTrafficPolicy Cluster, or the port is reachable from outside at all
 *   (`portExternallyAccessible`: NodePort, externalIPs or LB VIPs) — even with externalTrafficPolicy Local,
 *   kube-proxy keeps them for in-cluster short circuits.
 * - local endpoints: the ready ones on this node; if none, this node's serving-and-terminating ones.
 *   Computed only when the port uses Local policy: internalTrafficPolicy Local, or externalTrafficPolicy
 *   Local on a port reachable from outside.
 */
export function categorizeEndpoints(endpoints: PortEndpoint[], service: ServiceView, portExternallyAccessible: boolean, node: TopologyNode): CategorizedEndpoints {
  const internalLocal = service.internalTrafficPolicy === 'Local';
  const usesCluster = !internalLocal || portExternallyAccessible;
  const usesLocal = internalLocal || (externalPolicyLocal(service) && portExternallyAccessible);
  const servingTerminating = (e: PortEndpoint) => e.endpoint.serving && e.endpoint.terminating;

  let cluster: ChosenEndpoints | null = null;
  if (usesCluster) {
    const topology = topologyOf(endpoints, node, service);
    const usable = (e: PortEndpoint) => e.endpoint.ready && availableForTopology(e.endpoint, topology);
    // Usually every endpoint is usable: the list is then used as it is.
    const ready = endpoints.every(usable) ? endpoints : endpoints.filter(usable);
    cluster = ready.length
      ? { endpoints: ready, reason: 'ready', topology }
      : { endpoints: endpoints.filter(servingTerminating), reason: 'serving-terminating', topology: { mode: null, ignored: null, askedBy: topology.askedBy } };
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
