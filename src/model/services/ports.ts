// What kube-proxy decides for each Service port on one node before any mode writes a rule: its addresses
// of one family, the endpoints each traffic policy uses, and whether there are any at all. The IPVS,
// nftables and iptables renderings all start from this (kube-proxy's own proxiers share ServicePort and
// CategorizeEndpoints the same way). Sources: kubernetes pkg/proxy/serviceport.go, topology.go,
// endpointslicecache.go (endpoints sorted by their "ip:port" string).
import { ipFamily, type IpFamily } from '../../net/ip.ts';
import type { ClusterSnapshot, ServicePortView, ServiceView } from '../../snapshot/types.ts';
import { type CategorizedEndpoints, categorizeEndpoints, externalPolicyLocal, type PortEndpoint, portEndpoints, type TopologyNode, ZONE_LABEL } from '../endpoints.ts';
import { findNode, indexSlices, slicesOf } from '../lookup.ts';
import type { EndpointRef, PortRef } from '../types.ts';
import { endpointString, servicePortName } from './names.ts';

export const SESSION_AFFINITY_DEFAULT_TIMEOUT = 10800; // API default of sessionAffinityConfig.clientIP.timeoutSeconds

/** One Service port as one family's proxier sees it on one node. */
export interface ServicePortPlan {
  service: ServiceView;
  port: ServicePortView;
  family: IpFamily;
  /** kube-proxy's name for it: "ns/name:port" (or "ns/name" for an unnamed port) */
  name: string;
  clusterIP: string;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** a nodePort, an externalIP or a load balancer IP of this family: external traffic policy applies */
  externallyAccessible: boolean;
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
  categorized: CategorizedEndpoints;
  /** the cluster endpoints, or [] when the port never uses them (both sorted like kube-proxy's map) */
  clusterEndpoints: PortEndpoint[];
  localEndpoints: PortEndpoint[];
  /** every endpoint some chain of this port may send to: kube-proxy makes one endpoint chain for each */
  reachableEndpoints: PortEndpoint[];
  /** some endpoint anywhere can take traffic (ready, or serving while terminating) */
  hasEndpoints: boolean;
  /** ClusterIP traffic has somewhere to go (with internalTrafficPolicy Local: a usable endpoint on this node) */
  hasInternalEndpoints: boolean;
  /** external traffic has somewhere to go (with externalTrafficPolicy Local: a usable endpoint on this node) */
  hasExternalEndpoints: boolean;
  /** every endpoint of this port and family, usable or not (kube-proxy's size measure for large clusters) */
  endpointCount: number;
  /** sessionAffinity ClientIP: its timeout in seconds; null without affinity */
  affinityTimeout: number | null;
}

/**
 * The endpoints in kube-proxy's order, by their "ip:port" string. Each key is made once (a comparator that
 * formats both sides made ~6 strings per endpoint and sort), and a list already in order is returned as it is.
 */
function inEndpointStringOrder(endpoints: PortEndpoint[]): PortEndpoint[] {
  if (endpoints.length < 2) return endpoints;
  const keyed = endpoints.map((endpoint) => ({ endpoint, key: endpointString(endpoint.address, endpoint.port) }));
  let sorted = true;
  for (let i = 1; i < keyed.length && sorted; i++) sorted = keyed[i - 1]!.key < keyed[i]!.key;
  if (sorted) return endpoints;
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.endpoint);
}

/**
 * Every Service port kube-proxy proxies on `nodeName`, for one family, in the snapshot's order (namespace,
 * name, then the Service's port order). Headless and ExternalName Services have none; a Service has ports
 * of a family only when it has a ClusterIP of that family.
 */
export function servicePortPlans(snapshot: ClusterSnapshot, nodeName: string, family: IpFamily): ServicePortPlan[] {
  return [...eachServicePortPlan(snapshot, nodeName, family)];
}

/** Whether any Service has ports of `family` (a ClusterIP of it, neither headless nor ExternalName). */
export function hasServicePortsOf(snapshot: ClusterSnapshot, family: IpFamily): boolean {
  return snapshot.services.some((s) => !s.headless && s.type !== 'ExternalName' && s.clusterIPs.some((ip) => ipFamily(ip) === family));
}

/**
 * The same plans one at a time, for a model that writes each port's rules and moves on: a plan and its endpoint
 * lists are then garbage at once, instead of 10,000s of them living until the last port (and being copied
 * into the old generation by the garbage collector on the way).
 */
export function* eachServicePortPlan(snapshot: ClusterSnapshot, nodeName: string, family: IpFamily): Generator<ServicePortPlan> {
  const node = findNode(snapshot, nodeName);
  const slices = indexSlices(snapshot);
  const topologyNode: TopologyNode = { name: node.name, zone: node.labels[ZONE_LABEL] ?? null };
  for (const service of snapshot.services) {
    if (service.headless || service.type === 'ExternalName') continue;
    const clusterIP = service.clusterIPs.find((ip) => ipFamily(ip) === family);
    if (!clusterIP) continue;
    const serviceSlices = slicesOf(slices, service);
    for (const port of service.ports) {
      yield planPort(service, port, family, clusterIP, portEndpoints(serviceSlices, port, family, node.name), topologyNode);
    }
  }
}

function planPort(service: ServiceView, port: ServicePortView, family: IpFamily, clusterIP: string, endpoints: PortEndpoint[], node: TopologyNode): ServicePortPlan {
  const externalIPs = service.externalIPs.filter((ip) => ipFamily(ip) === family);
  const loadBalancerIPs = service.loadBalancerIngressIPs.filter((ip) => ipFamily(ip) === family);
  const externallyAccessible = Boolean(port.nodePort) || externalIPs.length > 0 || loadBalancerIPs.length > 0;
  const internalPolicyLocal = service.internalTrafficPolicy === 'Local';
  const externalLocal = externalPolicyLocal(service);
  const usesClusterEndpoints = !internalPolicyLocal || externallyAccessible;
  const usesLocalEndpoints = internalPolicyLocal || (externalLocal && externallyAccessible);
  // Sorted once, before the policies pick: their picks keep the order (portEndpoints made each address:port unique).
  const ordered = inEndpointStringOrder(endpoints);
  const categorized = categorizeEndpoints(ordered, service, externallyAccessible, node);
  const clusterEndpoints = categorized.cluster?.endpoints ?? [];
  const localEndpoints = categorized.local?.endpoints ?? [];
  const usable = (e: PortEndpoint) => e.endpoint.ready || (e.endpoint.serving && e.endpoint.terminating);
  const hasEndpoints = clusterEndpoints.length > 0 || (usesLocalEndpoints && endpoints.some(usable));
  return {
    service, port, family,
    name: servicePortName(service.namespace, service.name, port.name),
    clusterIP, externalIPs, loadBalancerIPs, externallyAccessible,
    internalPolicyLocal, externalPolicyLocal: externalLocal,
    usesClusterEndpoints, usesLocalEndpoints, categorized,
    clusterEndpoints, localEndpoints,
    reachableEndpoints: either(ordered, clusterEndpoints, localEndpoints),
    hasEndpoints,
    endpointCount: endpoints.length,
    hasInternalEndpoints: hasEndpoints && !(internalPolicyLocal && localEndpoints.length === 0),
    hasExternalEndpoints: hasEndpoints && !(externalLocal && localEndpoints.length === 0),
    affinityTimeout: service.sessionAffinity === 'ClientIP' ? (service.sessionAffinityTimeoutSeconds ?? SESSION_AFFINITY_DEFAULT_TIMEOUT) : null,
  };
}

/** The endpoints of `ordered` in `a` or `b` (two picks from it), in its order. */
function either(ordered: PortEndpoint[], a: PortEndpoint[], b: PortEndpoint[]): PortEndpoint[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const picked = new Set([...a, ...b]);
  return ordered.filter((e) => picked.has(e));
}

/** The port as the explanations name it. */
export function portRef(plan: ServicePortPlan): PortRef {
  return { namespace: plan.service.namespace, service: plan.service.name, portName: plan.port.name, name: plan.name, protocol: plan.port.protocol.toLowerCase() };
}

export function endpointRef(plan: ServicePortPlan, e: PortEndpoint): EndpointRef {
  const ref = e.endpoint.targetRef;
  const reason = plan.localEndpoints.includes(e) ? (plan.categorized.local?.reason ?? 'local') : (plan.categorized.cluster?.reason ?? 'ready');
  return { address: e.address, port: e.port, namespace: ref?.namespace ?? plan.service.namespace, pod: ref?.kind === 'Pod' ? ref.name : null, node: e.endpoint.nodeName, reason };
}
