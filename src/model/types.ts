// The model's expected state per layer. Each expected item has the same shape as the
// parsed observation (so they compare field by field) plus `why`: the facts that put it
// there, which the explanations turn into plain words.
import type { IpvsService, ResolvConf, RouteEntry } from '../parse/types.ts';
import type { NodePortAddress } from './node-addresses.ts';

export type RouteWhy =
  | {
      kind: 'pod';
      namespace: string;
      pod: string;
      node: string;
      interfaceFrom: 'workloadEndpoint' | 'sha1';
      /** the pod's IP lies in no block of its node (Calico borrowed it from another node's block) */
      borrowed?: boolean;
    }
  | { kind: 'blackhole'; block: string; node: string; blockFrom: 'ipamBlock' | 'podCIDR' }
  | {
      kind: 'remote-block';
      block: string;
      node: string; // the node owning the block
      nodeIP: string;
      via: 'ipip' | 'vxlan' | 'direct';
      pool: string | null;
      blockFrom: 'ipamBlock' | 'podCIDR';
      /** set when `block` is a single borrowed pod IP (a /32 route to the node that runs the pod) */
      borrowedBy?: { namespace: string; pod: string };
    };

export interface ExpectedRoute extends RouteEntry {
  why: RouteWhy;
}

export interface NodeRoutes {
  node: string;
  routes: ExpectedRoute[];
  /** CIDRs this layer owns on the node: an observed route inside them that was not expected is "unexpected";
   *  anything outside them (default route, host subnet, docker bridge) is "not managed". */
  ownedCIDRs: string[];
}

export interface RealServerWhy {
  namespace: string;
  pod: string | null; // targetRef name when the endpoint has one
  node: string | null;
  /** why this endpoint is used: ready, or serving+terminating fallback, or local-policy choice */
  reason: 'ready' | 'serving-terminating' | 'local' | 'local-serving-terminating';
}

/**
 * How kube-proxy narrowed a Service's cluster endpoints by the EndpointSlice topology hints, as data for
 * explanations. `askedBy` names what asked for hints ("trafficDistribution: PreferClose"), null when nothing did.
 */
export type TopologyChoice =
  | { mode: 'PreferSameNode'; node: string; askedBy: string | null }
  | { mode: 'PreferSameZone'; zone: string; askedBy: string | null }
  | {
      mode: null;
      /** why hints present were not used; null when no ready endpoint has any */
      ignored: 'some-endpoints-unhinted' | 'node-has-no-zone' | 'no-endpoint-for-zone' | null;
      askedBy: string | null;
    };

export interface VirtualServerWhy {
  namespace: string;
  service: string;
  portName: string;
  /** which address kind made this virtual server */
  kind: 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';
  policy: 'Cluster' | 'Local';
  /** Local policy but no local endpoint: kube-proxy falls back to cluster endpoints */
  localFallback: boolean;
  realServers: RealServerWhy[]; // same order as realServers
  /** how topology hints narrowed the cluster endpoints; absent when this virtual server uses local endpoints */
  topology?: TopologyChoice;
  /** NodePorts: how netlab knows the address is the node's (null: recognised by its port, see nodePortsOnAnyAddress) */
  nodeAddress?: NodePortAddress['source'] | null;
  /** a NodePort recognised by its port: the nodePortAddresses CIDRs its address must lie in (absent: any) */
  nodeAddressWithin?: string[];
}

export interface ExpectedVirtualServer extends IpvsService {
  why: VirtualServerWhy;
}

export interface NodeIpvs {
  node: string;
  services: ExpectedVirtualServer[];
  /**
   * Set when the node's addresses were not observed: one NodePort virtual server per Service port and
   * family, with `address` null. kube-proxy opens it on every interface address, which netlab cannot list,
   * so an observed virtual server on this protocol and port at another address of the family is this one.
   */
  nodePortsOnAnyAddress?: ExpectedVirtualServer[];
}

export type DnsType = 'A' | 'AAAA' | 'SRV' | 'CNAME' | 'PTR' | 'TXT';
export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';

/** One answer record, as plain data. `data` is the address, the CNAME/PTR target, or for SRV "prio weight port target". */
export interface DnsRecord {
  name: string; // fully qualified, lower case, no trailing dot
  type: DnsType;
  data: string;
}

export interface DnsQuery {
  name: string; // fully qualified, no trailing dot
  type: DnsType;
}

export interface DnsAnswer {
  rcode: DnsRcode;
  /** answer section; compared as a set (CoreDNS's loadbalance plugin shuffles the order) */
  answers: DnsRecord[];
  /** true when the real answer also carries records netlab cannot predict (the addresses of an ExternalName
   *  target outside the cluster, resolved upstream): only the records listed here are compared */
  partial?: boolean;
}

export interface DnsExpectation {
  query: DnsQuery;
  expect: DnsAnswer;
  /** what this query teaches, e.g. "ClusterIP of Service default/kubernetes" */
  why: string;
}

export interface ExpectedResolvConf extends ResolvConf {
  namespace: string;
  dnsPolicy: string;
}
