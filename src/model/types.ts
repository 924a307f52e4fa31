// The model's expected state per layer. Each expected item has the same shape as the
// parsed observation (so they compare field by field) plus `why`: the facts that put it
// there, which the explanations turn into plain words.
import type { IpvsService, IptablesChain, NftChain, NftElement, NftSet, ResolvConf, RouteEntry } from '../parse/types.ts';
import type { NodePortAddress } from './node-addresses.ts';

/** The CNIs whose routes netlab models (src/model/routes/, one file each). Canal is flannel's routing between
 *  nodes with Calico's CNI plugin on each node (cali veths, no cni0 bridge). */
export type CniName = 'calico' | 'flannel' | 'canal';

/** Where the model learnt the name of the node's uplink (the interface holding the node's own address). */
export type UplinkSource =
  | 'ip-addr' // the observed `ip -o addr`
  | 'calico-interfaces' // Calico's projectcalico.org/Interfaces node annotation
  | 'connected-route' // the observed route -n: the kernel's route of the node's own subnet
  | 'unknown'; // neither: the interface is not compared

/** A row through the uplink: the node address that names it, and how the interface's name was found. */
export interface UplinkWhy {
  address: string;
  from: UplinkSource;
}

/** Calico's rows: see src/model/routes/calico.ts. */
export type CalicoRouteWhy =
  | {
      kind: 'pod';
      namespace: string;
      pod: string;
      node: string;
      interfaceFrom: 'workloadEndpoint' | 'sha1';
      /** the pod's IP lies in no block of its node (Calico borrowed it from another node's block) */
      borrowed?: boolean;
      /** set when the address came from Calico's cni.projectcalico.org/podIPs annotation (status.podIPs still empty) */
      ipFrom?: 'calico-annotation';
      /** the route's metric and the Calico version (spec.calicoVersion) it follows; null: version unknown, 0 assumed */
      metric: { value: number; calicoVersion: string | null };
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
      /** via "direct": the uplink it leaves through */
      uplink?: UplinkWhy;
    }
  | {
      /** another node's tunnel address (tunl0 / vxlan.calico) that lies in a block affine to a third node or this one */
      kind: 'borrowed-tunnel';
      address: string;
      tunnel: 'ipip' | 'vxlan';
      node: string; // the node whose tunnel device holds the address
      nodeIP: string;
      block: string; // the block the address was borrowed from
      blockNode: string; // that block's node
      via: 'ipip' | 'vxlan' | 'direct';
      uplink?: UplinkWhy;
    };

/** Flannel's rows: see src/model/routes/flannel.ts. */
export type FlannelRouteWhy =
  | {
      /** this node's own subnet on the cni0 bridge (a connected route of the bridge's gateway address) */
      kind: 'flannel-bridge';
      subnet: string;
      node: string;
      bridge: string;
      /** pods with an IP on this node; 0 means cni0 may not exist yet */
      pods: number;
    }
  | {
      /** another node's subnet, from its flannel.alpha.coreos.com annotations */
      kind: 'flannel-subnet';
      subnet: string;
      node: string;
      publicIP: string;
      backend: 'vxlan' | 'host-gw';
      /** vxlan: the remote flannel.N's MAC, from backend-data */
      vtepMAC?: string;
      /** host-gw: the uplink it leaves through */
      uplink?: UplinkWhy;
    };

export type RouteWhy = CalicoRouteWhy | FlannelRouteWhy;

export interface ExpectedRoute extends RouteEntry {
  why: RouteWhy;
  /** the route may be absent without anything being wrong (cni0's subnet before the node's first pod) */
  optional?: boolean;
  /** the model could not name the interface (the uplink, unobserved): Iface is not compared */
  ifaceUnknown?: boolean;
}

export interface NodeRoutes {
  node: string;
  /** the CNI whose rules made these rows */
  cni: CniName;
  routes: ExpectedRoute[];
  /** CIDRs this layer owns on the node: an observed route inside them that was not expected is "unexpected";
   *  anything outside them (default route, host subnet, docker bridge) is "not managed". */
  ownedCIDRs: string[];
  /** facts the reader should know about this node's rows (a node the CNI skips, an unknown uplink) */
  notes: string[];
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
  /**
   * What of the file comes from a node resolv.conf that could not be read: `search-tail` (the kubelet
   * appends the node's search domains after the cluster's, so any may follow), `node-file` (the pod gets
   * the node's nameservers and search list as they are), or nothing.
   */
  unknownFromNode: 'search-tail' | 'node-file' | null;
}

/** The Service port a rule, element or chain of kube-proxy's iptables/nftables rules belongs to. */
export interface PortRef {
  namespace: string;
  service: string;
  portName: string;
  /** kube-proxy's "ns/name:port" */
  name: string;
  protocol: string;
}

export interface EndpointRef {
  address: string;
  port: number;
  namespace: string;
  pod: string | null;
  node: string | null;
  reason: RealServerWhy['reason'];
}

/**
 * What one rule (or map element) kube-proxy writes does, in the same words for nftables and iptables mode,
 * so one explanation serves both.
 */
export type ServiceRuleKind =
  // plumbing written once per node
  | 'hook' // a netfilter hook (or built-in chain) sends packets into one of kube-proxy's chains
  | 'mark-for-masquerade' // sets the masquerade bit of the packet mark
  | 'masquerade-skip-unmarked'
  | 'masquerade-clear-mark'
  | 'masquerade'
  | 'masquerade-hairpin' // nftables: masquerade DNATed connections found in hairpin-connections
  | 'dispatch-service-ips' // one lookup of (destination, protocol, port) in the service-ips map
  | 'dispatch-nodeports' // the same for NodePorts on local addresses
  | 'check-no-endpoints' // lookup in the no-endpoint maps
  | 'check-nodeport-no-endpoints'
  | 'check-firewall'
  | 'reject' // the reject helper chain
  | 'cluster-ip-bad-port' // traffic to a ClusterIP on a port no Service has
  | 'cluster-ip-unallocated' // traffic to an unallocated address of a ServiceCIDR
  | 'forward-drop-invalid'
  | 'forward-accept-marked'
  | 'forward-accept-established'
  | 'block-localnet'
  | 'to-nodeports' // iptables: KUBE-SERVICES hands local destinations to KUBE-NODEPORTS (its last rule)
  // per Service port
  | 'cluster-ip' // the ClusterIP set element
  | 'dispatch-cluster-ip'
  | 'dispatch-external-ip'
  | 'dispatch-load-balancer'
  | 'dispatch-nodeport'
  | 'dispatch-nodeport-localhost'
  | 'no-endpoints' // reject/drop: no endpoint for this kind of traffic
  | 'masquerade-off-cluster'
  | 'masquerade-all'
  | 'affinity-check'
  | 'balance' // choose one endpoint (numgen / statistic)
  | 'balance-dnat' // nftables: choose an endpoint and DNAT to it in one rule (numgen ... map)
  | 'hairpin' // nftables: an endpoint on this node in hairpin-connections
  | 'external-masquerade'
  | 'external-pod-short-circuit'
  | 'external-local-masquerade'
  | 'external-local-short-circuit'
  | 'external-policy'
  | 'endpoint-hairpin'
  | 'affinity-record'
  | 'dnat';

export interface ServiceRuleWhy {
  kind: ServiceRuleKind;
  port?: PortRef;
  endpoint?: EndpointRef;
  /** balance: this endpoint's place among `count` (0-based), and the exact probability written, if any */
  share?: { index: number; count: number; probability: string | null };
  /** no-endpoints: reject (no endpoint anywhere) or drop (traffic policy Local, none here) */
  verdict?: 'reject' | 'drop';
  /** which address a dispatch or no-endpoints rule is for */
  address?: 'ClusterIP' | 'ExternalIP' | 'LoadBalancer' | 'NodePort';
  /** hook: the chain or hook it jumps from */
  from?: string;
}

export type ServiceChainKind = 'base' | 'plumbing' | 'service' | 'local' | 'external' | 'endpoint';

export interface ServiceChainWhy {
  kind: ServiceChainKind;
  port?: PortRef;
  endpoint?: EndpointRef;
}

export interface ExpectedRule {
  text: string;
  why: ServiceRuleWhy;
}

export interface ExpectedNftChain extends Omit<NftChain, 'rules'> {
  rules: ExpectedRule[];
  why: ServiceChainWhy;
}

export interface ExpectedNftElement extends NftElement {
  why: ServiceRuleWhy;
}

export interface ExpectedNftSet extends Omit<NftSet, 'elements'> {
  elements: ExpectedNftElement[];
  /** an affinity set: its elements are client addresses kube-proxy never writes, so they are not compared */
  dynamic: boolean;
  port?: PortRef;
  endpoint?: EndpointRef;
}

/** The `ip kube-proxy` (or `ip6 kube-proxy`) table kube-proxy in nftables mode keeps on one node. */
export interface NodeNftables {
  node: string;
  family: 'ip' | 'ip6';
  name: string;
  comment: string | null;
  sets: ExpectedNftSet[];
  chains: ExpectedNftChain[];
}

export interface ExpectedIptablesChain extends Omit<IptablesChain, 'rules'> {
  rules: ExpectedRule[];
  why: ServiceChainWhy;
}

/** The chains and rules kube-proxy in iptables mode keeps on one node, per table (filter, nat, mangle). */
export interface NodeIptables {
  node: string;
  tables: { name: string; chains: ExpectedIptablesChain[] }[];
}
