// One small cluster with the cases each kube-proxy mode renders differently: ClusterIP with several
// endpoints, NodePort, no endpoints, ClientIP affinity, externalTrafficPolicy Local with and without a
// local endpoint, a not-ready endpoint, an unnamed UDP port. Node node-1 is the node under test.
import type { ClusterSnapshot } from '../../../src/snapshot/types.ts';
import { makeEndpoint, makeNode, makeService, makeSlice, makeSnapshot } from '../builders.ts';

export function servicesScenario(): ClusterSnapshot {
  return makeSnapshot({
    nodes: [makeNode('node-1', '10.130.29.80'), makeNode('node-2', '10.130.29.81')],
    kubeProxy: { mode: 'nftables', scheduler: '', nodePortAddresses: [], clusterCIDRs: ['10.244.0.0/16'], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true },
    serviceCIDRs: ['10.96.0.0/12'],
    services: [
      makeService('demo', 'web', ['10.96.0.20']),
      makeService('demo', 'nodeport', ['10.96.0.21'], { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] }),
      makeService('demo', 'empty', ['10.96.0.22'], { type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30081 }] }),
      makeService('demo', 'sticky', ['10.96.0.23'], { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600 }),
      makeService('demo', 'local', ['10.96.0.24'], { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30082 }] }),
      makeService('demo', 'remote', ['10.96.0.25'], { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30083 }] }),
      makeService('demo', 'dns', ['10.96.0.26'], { ports: [{ name: '', protocol: 'UDP', port: 53, targetPort: 53, nodePort: null }] }),
    ],
    endpointSlices: [
      makeSlice('demo', 'web', [
        makeEndpoint('10.244.1.12', 'node-2', 'web-2'),
        makeEndpoint('10.244.0.11', 'node-1', 'web-1'),
        makeEndpoint('10.244.1.13', 'node-2', 'web-3'),
        makeEndpoint('10.244.0.14', 'node-1', 'web-4', { ready: false, serving: false }),
      ]),
      makeSlice('demo', 'nodeport', [makeEndpoint('10.244.1.20', 'node-2', 'np-1')]),
      makeSlice('demo', 'empty', []),
      makeSlice('demo', 'sticky', [makeEndpoint('10.244.0.30', 'node-1', 'sticky-1'), makeEndpoint('10.244.1.31', 'node-2', 'sticky-2')]),
      makeSlice('demo', 'local', [makeEndpoint('10.244.0.40', 'node-1', 'local-1'), makeEndpoint('10.244.1.41', 'node-2', 'local-2')]),
      makeSlice('demo', 'remote', [makeEndpoint('10.244.1.50', 'node-2', 'remote-1')]),
      makeSlice('demo', 'dns', [makeEndpoint('10.244.0.60', 'node-1', 'dns-1')], { ports: [{ name: '', protocol: 'UDP', port: 53 }] }),
    ],
  });
}
