// Small snapshots for the model tests: every builder fills in what a plain cluster object would have,
// and takes overrides for the fields a test is about.
import type {
  ClusterSnapshot,
  EndpointSliceView,
  EndpointView,
  IPAMBlockView,
  IPPoolView,
  NodeView,
  PodView,
  ServiceView,
  WorkloadEndpointView,
} from '../../src/snapshot/types.ts';

export function makeSnapshot(overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return {
    nodes: [],
    pods: [],
    services: [],
    endpointSlices: [],
    namespaces: ['default', 'kube-system'],
    ipPools: [],
    ipamBlocks: [],
    workloadEndpoints: [],
    calicoVersion: null,
    kubeProxy: { mode: 'ipvs', scheduler: '', nodePortAddresses: [], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true },
    serviceCIDRs: [],
    dns: { clusterDomain: 'cluster.local', serviceIPs: ['10.96.0.10'], podsMode: 'insecure', ttl: 30 },
    notes: [],
    ...overrides,
  };
}

/** A node with InternalIP `ip` and, when `calico` is not given, Calico's IPv4Address `<ip>/24`. */
export function makeNode(name: string, ip: string, overrides: Partial<NodeView> = {}): NodeView {
  return {
    name,
    labels: {},
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    podCIDRs: [],
    calico: { ipv4Address: `${ip}/24` },
    flannel: null,
    ...overrides,
  };
}

export function makePod(namespace: string, name: string, nodeName: string | null, podIPs: string[], overrides: Partial<PodView> = {}): PodView {
  return {
    namespace,
    name,
    nodeName,
    podIPs,
    hostname: null,
    subdomain: null,
    hostNetwork: false,
    dnsPolicy: 'ClusterFirst',
    ready: true,
    terminating: false,
    phase: 'Running',
    labels: {},
    calicoPodIPs: [],
    calicoNetworkReleased: false,
    ...overrides,
  };
}

/** A ClusterIP Service with one TCP port named "http" (80 -> 8080). */
export function makeService(namespace: string, name: string, clusterIPs: string[], overrides: Partial<ServiceView> = {}): ServiceView {
  return {
    namespace,
    name,
    type: 'ClusterIP',
    clusterIPs,
    headless: false,
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: null }],
    selector: { app: name },
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: null,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    externalIPs: [],
    loadBalancerIngressIPs: [],
    externalName: null,
    publishNotReadyAddresses: false,
    trafficDistribution: null,
    topologyMode: null,
    ...overrides,
  };
}

/** A ready endpoint backed by pod `pod` on `nodeName`. */
export function makeEndpoint(address: string, nodeName: string | null, pod: string | null, overrides: Partial<EndpointView> = {}): EndpointView {
  return {
    addresses: [address],
    ready: true,
    serving: true,
    terminating: false,
    hostname: null,
    nodeName,
    zone: null,
    zoneHints: [],
    nodeHints: [],
    targetRef: pod === null ? null : { kind: 'Pod', namespace: 'default', name: pod },
    ...overrides,
  };
}

/** An IPv4 EndpointSlice of Service `service` with one TCP port "http" 8080. */
export function makeSlice(namespace: string, service: string, endpoints: EndpointView[], overrides: Partial<EndpointSliceView> = {}): EndpointSliceView {
  return {
    namespace,
    name: `${service}-abcde`,
    serviceName: service,
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints,
    ...overrides,
  };
}

export function makePool(cidr: string, overrides: Partial<IPPoolView> = {}): IPPoolView {
  return { name: 'default-ipv4-ippool', cidr, blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never', disabled: false, ...overrides };
}

export function makeBlock(cidr: string, node: string | null): IPAMBlockView {
  return { cidr, node };
}

export function makeWorkloadEndpoint(namespace: string, pod: string, node: string, interfaceName: string, ip: string): WorkloadEndpointView {
  return { namespace, pod, node, interfaceName, ipNetworks: [`${ip}/32`] };
}
