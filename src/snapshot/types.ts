// The model's input: plain, slim views of the cluster objects netlab reads.
// Every view is a projection of a Kubernetes (or Calico) object; nothing downstream
// of src/snapshot touches a raw API object. The same views are built from a folder of
// `kubectl get -o yaml` files (src/snapshot/load.ts) and from the operator's informers.

export type IPFamily = 'IPv4' | 'IPv6';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface NodeAddress {
  type: string; // InternalIP, ExternalIP, Hostname, ...
  address: string;
}

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  addresses: NodeAddress[];
  podCIDRs: string[];
  /** Calico's node annotations; absent when Calico has not annotated the node. */
  calico: {
    /** projectcalico.org/IPv4Address, CIDR form such as "10.130.29.80/24" (the BGP address and its subnet). */
    ipv4Address?: string;
    /** projectcalico.org/IPv4IPIPTunnelAddr, the tunl0 address. */
    ipipTunnelAddr?: string;
    /** projectcalico.org/IPv4VXLANTunnelAddr, the vxlan.calico VTEP address. */
    vxlanTunnelAddr?: string;
    /** projectcalico.org/Interfaces: the host's interfaces and their addresses, as calico-node's startup found them. */
    interfaces?: NodeInterface[];
  };
  /** Flannel's node annotations (flannel.alpha.coreos.com/*, written by flanneld's Kubernetes subnet manager);
   *  null when the node has none of them. */
  flannel: FlannelNodeView | null;
}

export interface NodeInterface {
  name: string;
  addresses: string[];
}

export interface FlannelNodeView {
  /** kube-subnet-manager is "true": flanneld on other nodes only turns nodes marked so into routes. */
  kubeSubnetManager: boolean;
  /** backend-type: vxlan, host-gw, wireguard, ... ; null when not written yet. */
  backendType: string | null;
  /** public-ip: the address other nodes send this node's pod traffic to (IPv4); null when not written yet. */
  publicIP: string | null;
  /** backend-data of the VXLAN backend, {"VNI":1,"VtepMAC":"…"}; both null for other backends ("null"). */
  vni: number | null;
  vtepMAC: string | null;
}

export interface PodView {
  namespace: string;
  name: string;
  nodeName: string | null;
  podIPs: string[];
  hostname: string | null;
  subdomain: string | null;
  hostNetwork: boolean;
  dnsPolicy: string; // ClusterFirst (default), ClusterFirstWithHostNet, Default, None
  /** status condition Ready == True */
  ready: boolean;
  /** metadata.deletionTimestamp is set */
  terminating: boolean;
  phase: string;
  labels: Record<string, string>;
  /** Calico's CNI plugin's record of the pod's addresses (cni.projectcalico.org/podIPs, else podIP), written as
   *  soon as the pod is wired, before the kubelet reports status.podIPs; empty without the annotation. */
  calicoPodIPs: string[];
  /** cni.projectcalico.org/podIP is "": Calico's CNI plugin has taken the pod's network down (pod being deleted). */
  calicoNetworkReleased: boolean;
}

export interface ServicePortView {
  name: string; // "" when unnamed
  protocol: Protocol;
  port: number;
  targetPort: number | string | null;
  nodePort: number | null;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServiceView {
  namespace: string;
  name: string;
  type: ServiceType;
  /** spec.clusterIPs without "None"; empty for headless and ExternalName services. */
  clusterIPs: string[];
  /** clusterIP: None */
  headless: boolean;
  ports: ServicePortView[];
  selector: Record<string, string> | null;
  sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds (API default 10800) when affinity is ClientIP. */
  sessionAffinityTimeoutSeconds: number | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip (ingress entries with ipMode Proxy are left out, as kube-proxy does). */
  loadBalancerIngressIPs: string[];
  externalName: string | null;
  publishNotReadyAddresses: boolean;
  /** spec.trafficDistribution (PreferClose, PreferSameZone, PreferSameNode), null when unset */
  trafficDistribution: string | null;
  /** annotation service.kubernetes.io/topology-mode (or the older topology-aware-hints), null when unset */
  topologyMode: string | null;
}

export interface EndpointView {
  addresses: string[];
  /** conditions.ready; nil counts as true (the API's rule, and kube-proxy's) */
  ready: boolean;
  /** conditions.serving; nil counts as true, as kube-proxy reads it (not "same as ready") */
  serving: boolean;
  /** conditions.terminating; nil counts as false */
  terminating: boolean;
  hostname: string | null;
  nodeName: string | null;
  zone: string | null;
  /** hints.forZones[].name and hints.forNodes[].name (set by the EndpointSlice controller for topology-aware routing) */
  zoneHints: string[];
  nodeHints: string[];
  targetRef: { kind: string; namespace: string; name: string } | null;
}

export interface EndpointSlicePortView {
  name: string; // "" when unnamed
  protocol: Protocol;
  port: number | null;
}

export interface EndpointSliceView {
  namespace: string;
  name: string;
  /** label kubernetes.io/service-name */
  serviceName: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointSlicePortView[];
  endpoints: EndpointView[];
}

export type EncapMode = 'Always' | 'CrossSubnet' | 'Never';

export interface IPPoolView {
  name: string;
  cidr: string;
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  disabled: boolean;
}

export interface IPAMBlockView {
  cidr: string;
  /** node name from the block's affinity "host:<node>", null when unaffine */
  node: string | null;
}

/** Calico WorkloadEndpoint (projectcalico.org/v3), when the user captured them: gives the real interface name. */
export interface WorkloadEndpointView {
  namespace: string;
  pod: string;
  node: string;
  interfaceName: string;
  ipNetworks: string[];
}

/** Calico's ClusterInformation `default` (calico-node writes spec.calicoVersion at startup): which Calico runs. */
export interface CalicoVersionView {
  /** where it was read, as errors name objects: "calico.yaml: ClusterInformation default" */
  where: string;
  /** spec.calicoVersion as written, e.g. "v3.32.1" */
  text: string;
  /** its release; null when the text is not a version such as v3.32.1 */
  release: { major: number; minor: number } | null;
}

export interface KubeProxyView {
  mode: string; // ipvs, iptables, nftables
  /** ipvs.scheduler; "" in the config means rr */
  scheduler: string;
  /** nodePortAddresses; empty means every address of the node */
  nodePortAddresses: string[];
  /** clusterCIDR split on commas: with detectLocalMode ClusterCIDR (the default) it tells pod traffic from
   *  other traffic; empty when unset (iptables/nftables modes then write no "not from a pod" masquerade rules) */
  clusterCIDRs: string[];
  /** iptables.masqueradeBit (nftables.masqueradeBit in nftables mode): the packet mark bit meaning "masquerade me"; default 14 */
  masqueradeBit: number;
  /** iptables.masqueradeAll (nftables.masqueradeAll): masquerade all traffic to ClusterIPs; default false */
  masqueradeAll: boolean;
  /** iptables.localhostNodePorts: NodePorts also answer on 127.0.0.1 (iptables mode, IPv4); default true */
  localhostNodePorts: boolean;
}

export interface ClusterDNSView {
  clusterDomain: string; // cluster.local
  /** kube-dns Service ClusterIPs: the nameserver pods get */
  serviceIPs: string[];
  /** CoreDNS kubernetes plugin "pods" mode */
  podsMode: 'disabled' | 'insecure' | 'verified';
  ttl: number;
}

export interface ClusterSnapshot {
  nodes: NodeView[];
  pods: PodView[];
  services: ServiceView[];
  endpointSlices: EndpointSliceView[];
  namespaces: string[];
  /** Calico objects; empty when Calico's CRDs are absent (the routes model then falls back to node podCIDRs). */
  ipPools: IPPoolView[];
  ipamBlocks: IPAMBlockView[];
  workloadEndpoints: WorkloadEndpointView[];
  /** Calico's version from its ClusterInformation; null when none was given or it holds no calicoVersion */
  calicoVersion: CalicoVersionView | null;
  kubeProxy: KubeProxyView;
  /** ServiceCIDR objects' spec.cidrs (networking.k8s.io/v1): the ranges ClusterIPs come from; empty when none was given */
  serviceCIDRs: string[];
  dns: ClusterDNSView;
  /** Where each fact came from when it was not read from an object (defaults, fallbacks), for explanations. */
  notes: string[];
}
