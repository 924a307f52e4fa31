// The virtual servers kube-proxy (IPVS mode) programs on one node, as `ipvsadm -Ln` lists them.
// Source: kubernetes pkg/proxy/ipvs/proxier.go syncProxyRules/syncService/syncEndpoint (v1.31+); model spec §1.
import { type Cidr, ipFamily, type IpFamily } from '../net/ip.ts';
import { compareIpvsRealServers, compareIpvsServices } from './tool-order.ts';
import type { InterfaceAddressTable } from '../parse/types.ts';
import type { ClusterSnapshot, EndpointSliceView, NodeView, ServicePortView, ServiceView } from '../snapshot/types.ts';
import { type CategorizedEndpoints, categorizeEndpoints, endpointsForPolicy, externalPolicyLocal, type PortEndpoint, portEndpoints, ZONE_LABEL } from './endpoints.ts';
import { findNode, indexSlices, slicesOf } from './lookup.ts';
import { type NodePortAddress, nodePortAddresses } from './node-addresses.ts';
import type { ExpectedVirtualServer, NodeIpvs, RealServerWhy, VirtualServerWhy } from './types.ts';

export interface IpvsModelOptions {
  /** The node's interface addresses (`ip -o addr`): kube-proxy opens NodePorts on them. Without them netlab
   *  expects NodePorts only on the addresses the Node object shows, and recognises the others by port. */
  interfaces?: InterfaceAddressTable | null;
}

const FAMILIES: IpFamily[] = ['IPv4', 'IPv6'];
const SESSION_AFFINITY_DEFAULT_TIMEOUT = 10800; // API default of sessionAffinityConfig.clientIP.timeoutSeconds

interface VirtualServerSpec {
  address: string;
  port: number;
  kind: VirtualServerWhy['kind'];
  localPolicy: boolean;
  nodeAddress?: NodePortAddress['source'] | null;
  within?: string[];
}

/** The address of a NodePort virtual server that stands for "any address of this node" (nodePortsOnAnyAddress). */
const ANY_ADDRESS: Record<IpFamily, string> = { IPv4: '0.0.0.0', IPv6: '::' };

/**
 * The NodePort addresses of one family. `unlisted`: addresses netlab cannot list may carry NodePorts too (the
 * node's addresses were not observed): null when none can, otherwise the CIDRs bounding them ([] = any).
 */
type NodeAddressesOf = (family: IpFamily) => { addresses: NodePortAddress[]; unlisted: string[] | null };

/** Unobserved addresses that may carry NodePorts: any (MatchAll), those in the CIDRs, or none when every CIDR is one address ("primary"). */
function unlistedWithin(within: Cidr[] | null, family: IpFamily): string[] | null {
  if (within === null) return [];
  if (within.every((cidr) => cidr.prefix === (family === 'IPv4' ? 32 : 128))) return null;
  return within.map((cidr) => `${cidr.address}/${cidr.prefix}`);
}

/**
 * Every virtual server kube-proxy creates on `nodeName`, in ipvsadm's order. Rules:
 * - Headless and ExternalName services get none; a service gets virtual servers of a family only when it
 *   has a ClusterIP of that family (each family's proxier skips services without one).
 * - Per service port and family: the ClusterIP on `port`; each externalIP and LoadBalancer ingress IP of
 *   the family on `port`; when the port has a nodePort (only NodePort and LoadBalancer Services have one),
 *   each node address (see nodePortAddresses) on `nodePort`. When the node's addresses were not observed,
 *   NodeIpvs.nodePortsOnAnyAddress holds each NodePort once more, for the addresses netlab cannot list.
 * - Scheduler: kube-proxy's ipvs.scheduler, "" meaning rr; the same for every service.
 * - persistent: sessionAffinity ClientIP gives its timeout (10800 when unset); netmask is never printed
 *   (kube-proxy always uses the full-length mask).
 * - flags: with scheduler mh kube-proxy sets IP_VS_SVC_F_SCHED2, which ipvsadm 1.31 prints as
 *   " (mh-port)" after the scheduler (read from the disassembled Debian ipvsadm 1.31 binary, not from a
 *   live run); otherwise none.
 * - Real servers: the port's endpoints chosen by traffic policy — internalTrafficPolicy for the ClusterIP,
 *   externalTrafficPolicy for externalIPs, LB IPs and NodePorts (see categorizeEndpoints and
 *   endpointsForPolicy, which include the PR 97081 fallback); forward Masq, weight 1, counters 0.
 *   A service without usable endpoints keeps its virtual servers with no real servers.
 * - Two ports resolving to the same protocol/address/port: the first one wins (kube-proxy's own order is a
 *   Go map walk, so the real winner is not defined).
 * Real servers draining with weight 0 (graceful termination) are not predicted: they are no longer
 * endpoints, and the comparison treats them as draining.
 */
export function expectedIpvs(snapshot: ClusterSnapshot, nodeName: string, options: IpvsModelOptions = {}): NodeIpvs {
  const node = findNode(snapshot, nodeName);
  const slices = indexSlices(snapshot);
  const interfaces = options.interfaces ?? null;
  // The same for every NodePort: worked out at the first one of each family (not before, as it can throw).
  const nodeAddresses = new Map<IpFamily, ReturnType<NodeAddressesOf>>();
  const nodeAddressesOf: NodeAddressesOf = (family) => {
    let found = nodeAddresses.get(family);
    if (!found) {
      const { addresses, within } = nodePortAddresses(node, family, snapshot.kubeProxy.nodePortAddresses, interfaces);
      nodeAddresses.set(family, (found = { addresses, unlisted: interfaces ? null : unlistedWithin(within, family) }));
    }
    return found;
  };
  const byKey = new Map<string, ExpectedVirtualServer>();
  const anyAddress = new Map<string, ExpectedVirtualServer>();
  for (const service of snapshot.services) {
    if (service.headless || service.type === 'ExternalName') continue;
    const serviceSlices = slicesOf(slices, service);
    for (const family of FAMILIES) {
      const clusterIP = service.clusterIPs.find((ip) => ipFamily(ip) === family);
      if (!clusterIP) continue;
      for (const port of service.ports) {
        for (const vs of virtualServersOfPort(snapshot, serviceSlices, node, service, port, family, clusterIP, nodeAddressesOf)) {
          const key = `${vs.protocol} ${vs.address}:${vs.port}`;
          const into = vs.address === ANY_ADDRESS[family] ? anyAddress : byKey;
          if (!into.has(key)) into.set(key, vs);
        }
      }
    }
  }
  const ipvs: NodeIpvs = { node: nodeName, services: [...byKey.values()].sort(compareIpvsServices) };
  if (anyAddress.size) ipvs.nodePortsOnAnyAddress = [...anyAddress.values()];
  return ipvs;
}

function virtualServerSpecs(service: ServiceView, port: ServicePortView, family: IpFamily, clusterIP: string, nodeAddressesOf: NodeAddressesOf): VirtualServerSpec[] {
  const externalLocal = externalPolicyLocal(service);
  const specs: VirtualServerSpec[] = [{ address: clusterIP, port: port.port, kind: 'ClusterIP', localPolicy: service.internalTrafficPolicy === 'Local' }];
  for (const address of service.externalIPs) {
    if (ipFamily(address) === family) specs.push({ address, port: port.port, kind: 'ExternalIP', localPolicy: externalLocal });
  }
  for (const address of service.loadBalancerIngressIPs) {
    if (ipFamily(address) === family) specs.push({ address, port: port.port, kind: 'LoadBalancer', localPolicy: externalLocal });
  }
  if (port.nodePort) {
    const { addresses, unlisted } = nodeAddressesOf(family);
    for (const { address, source } of addresses) {
      specs.push({ address, port: port.nodePort, kind: 'NodePort', localPolicy: externalLocal, nodeAddress: source });
    }
    if (unlisted) specs.push({ address: ANY_ADDRESS[family], port: port.nodePort, kind: 'NodePort', localPolicy: externalLocal, nodeAddress: null, within: unlisted });
  }
  return specs;
}

function virtualServersOfPort(
  snapshot: ClusterSnapshot,
  serviceSlices: EndpointSliceView[],
  node: NodeView,
  service: ServiceView,
  port: ServicePortView,
  family: IpFamily,
  clusterIP: string,
  nodeAddressesOf: NodeAddressesOf,
): ExpectedVirtualServer[] {
  const specs = virtualServerSpecs(service, port, family, clusterIP, nodeAddressesOf);
  // ServicePort.ExternallyAccessible: a nodePort, or an external/LB IP of this family (node addresses or not)
  const portExternallyAccessible = Boolean(port.nodePort) || specs.some((s) => s.kind === 'ExternalIP' || s.kind === 'LoadBalancer');
  const topologyNode = { name: node.name, zone: node.labels[ZONE_LABEL] ?? null };
  const categorized = inIpvsadmOrder(categorizeEndpoints(portEndpoints(serviceSlices, port, family, node.name), service, portExternallyAccessible, topologyNode));
  const scheduler = snapshot.kubeProxy.scheduler || 'rr';
  const persistent = service.sessionAffinity === 'ClientIP' ? (service.sessionAffinityTimeoutSeconds ?? SESSION_AFFINITY_DEFAULT_TIMEOUT) : null;
  return specs.map((spec) => {
    const { chosen, localFallback } = endpointsForPolicy(categorized, spec.localPolicy);
    const endpoints = chosen.endpoints;
    const vs: ExpectedVirtualServer = {
      protocol: port.protocol,
      address: spec.address,
      port: spec.port,
      fwmark: null,
      scheduler,
      persistent,
      netmask: null,
      flags: scheduler === 'mh' ? ['mh-port'] : [],
      realServers: endpoints.map((e) => ({ address: e.address, port: e.port, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 })),
      why: {
        namespace: service.namespace,
        service: service.name,
        portName: port.name,
        kind: spec.kind,
        policy: spec.localPolicy ? 'Local' : 'Cluster',
        localFallback,
        realServers: endpoints.map((e) => realServerWhy(service, e, chosen.reason)),
      },
    };
    const topology = chosen.topology;
    // only when there is something to say: hints were used or ignored, or the Service asked for them
    if (topology && (topology.mode || topology.ignored || topology.askedBy)) vs.why.topology = topology;
    if (spec.nodeAddress !== undefined) vs.why.nodeAddress = spec.nodeAddress;
    if (spec.within?.length) vs.why.nodeAddressWithin = spec.within;
    return vs;
  });
}

/**
 * Sorts both endpoint lists as ipvsadm lists real servers: once per port, however many virtual servers use
 * them. In place: the lists were made for this port alone (by portEndpoints and categorizeEndpoints).
 */
function inIpvsadmOrder(categorized: CategorizedEndpoints): CategorizedEndpoints {
  categorized.cluster?.endpoints.sort(compareIpvsRealServers);
  categorized.local?.endpoints.sort(compareIpvsRealServers);
  return categorized;
}

function realServerWhy(service: ServiceView, chosen: PortEndpoint, reason: RealServerWhy['reason']): RealServerWhy {
  const ref = chosen.endpoint.targetRef;
  return {
    namespace: ref?.namespace ?? service.namespace,
    pod: ref && ref.kind === 'Pod' ? ref.name : null,
    node: chosen.endpoint.nodeName,
    reason,
  };
}
