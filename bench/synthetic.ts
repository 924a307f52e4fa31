// Synthetic clusters for the benchmarks: plain, regular and large, built directly as snapshot views.
import type { ClusterSnapshot, EndpointSliceView, NodeView, PodView, ServiceView } from '../src/snapshot/types.ts';

const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const BASE_POD = (10 << 24) >>> 0; // pods in 10.0.0.0/8, one /24 block per node
const BASE_SVC = ((10 << 24) | (96 << 16)) >>> 0; // services from 10.96.0.0

export interface SyntheticSize {
  nodes: number;
  services: number;
  endpointsPerService: number;
}

/**
 * A cluster of `nodes` nodes (one /24 pod block each, Calico IP-in-IP), `services` ClusterIP Services of one
 * port each, and `endpointsPerService` ready pods per Service spread over the nodes round-robin.
 */
export function syntheticCluster({ nodes: NODES, services: SERVICES, endpointsPerService: ENDPOINTS_PER_SERVICE }: SyntheticSize): ClusterSnapshot {
  const nodes: NodeView[] = [];
  for (let i = 0; i < NODES; i++) {
    nodes.push({
      name: `node-${i}`, labels: {}, podCIDRs: [`${ip(BASE_POD + i * 256)}/24`],
      addresses: [{ type: 'InternalIP', address: ip(((192 << 24) | (168 << 16)) + 10 + i) }],
      calico: { ipv4Address: `${ip(((192 << 24) | (168 << 16)) + 10 + i)}/16` },
      flannel: null,
    });
  }
  const pods: PodView[] = [];
  const services: ServiceView[] = [];
  const endpointSlices: EndpointSliceView[] = [];
  let podIndex = 0;
  for (let s = 0; s < SERVICES; s++) {
    const name = `svc-${s}`;
    services.push({
      namespace: 'bench', name, type: 'ClusterIP', clusterIPs: [ip(BASE_SVC + 16 + s)], headless: false,
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: null }],
      selector: { app: name }, sessionAffinity: 'None', sessionAffinityTimeoutSeconds: null,
      externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', externalIPs: [], loadBalancerIngressIPs: [],
      externalName: null, publishNotReadyAddresses: false, trafficDistribution: null, topologyMode: null,
    });
    const endpoints: EndpointSliceView['endpoints'] = [];
    for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++, podIndex++) {
      const node = podIndex % NODES;
      const address = ip(BASE_POD + node * 256 + 2 + Math.floor(podIndex / NODES));
      const pod = `${name}-${e}`;
      pods.push({
        namespace: 'bench', name: pod, nodeName: `node-${node}`, podIPs: [address], hostname: null, subdomain: null,
        hostNetwork: false, dnsPolicy: 'ClusterFirst', ready: true, terminating: false, phase: 'Running', labels: { app: name },
        calicoPodIPs: [], calicoNetworkReleased: false,
      });
      endpoints.push({
        addresses: [address], ready: true, serving: true, terminating: false, hostname: null, nodeName: `node-${node}`,
        zone: null, zoneHints: [], nodeHints: [], targetRef: { kind: 'Pod', namespace: 'bench', name: pod },
      });
    }
    endpointSlices.push({ namespace: 'bench', name: `${name}-abcde`, serviceName: name, addressType: 'IPv4', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints });
  }
  return {
    nodes, pods, services, endpointSlices, namespaces: ['bench'], workloadEndpoints: [], calicoVersion: null,
    ipPools: [{ name: 'default', cidr: '10.0.0.0/8', blockSize: 24, ipipMode: 'Always', vxlanMode: 'Never', disabled: false }],
    ipamBlocks: nodes.map((n, i) => ({ cidr: `${ip(BASE_POD + i * 256)}/24`, node: n.name })),
    kubeProxy: { mode: 'ipvs', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: ['10.0.0.0/8'], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true },
    serviceCIDRs: ['10.96.0.0/12'],
    dns: { clusterDomain: 'cluster.local', serviceIPs: ['10.96.0.10'], podsMode: 'insecure', ttl: 30 }, notes: [],
  };
}

