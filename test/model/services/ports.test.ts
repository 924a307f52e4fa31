// The endpoint choice every mode renders (src/model/services/ports.ts): lists in kube-proxy's "ip:port" order.
import { servicePortPlans } from '../../../src/model/services/ports.ts';
import { makeEndpoint, makeNode, makeService, makeSlice, makeSnapshot } from '../builders.ts';

test('cluster, local and reachable endpoints come in "ip:port" string order (10.244.0.10 before 10.244.0.9), whatever the slice order', () => {
  const snapshot = makeSnapshot({
    nodes: [makeNode('node-1', '10.130.29.80'), makeNode('node-2', '10.130.29.81')],
    services: [makeService('demo', 'web', ['10.96.0.20'], { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] })],
    endpointSlices: [makeSlice('demo', 'web', [
      makeEndpoint('10.244.1.5', 'node-2', 'web-1'),
      // the only endpoint on node-1 is terminating but serving: Local policy falls back to it, Cluster policy does not
      makeEndpoint('10.244.0.9', 'node-1', 'web-2', { ready: false, serving: true, terminating: true }),
      makeEndpoint('10.244.0.10', 'node-2', 'web-3'),
    ])],
  });
  const [plan] = servicePortPlans(snapshot, 'node-1', 'IPv4');
  const addresses = (endpoints: { address: string }[]) => endpoints.map((e) => e.address);
  expect(addresses(plan!.clusterEndpoints)).toEqual(['10.244.0.10', '10.244.1.5']);
  expect(addresses(plan!.localEndpoints)).toEqual(['10.244.0.9']);
  expect(addresses(plan!.reachableEndpoints)).toEqual(['10.244.0.10', '10.244.0.9', '10.244.1.5']);
  expect(plan!.categorized.local?.reason).toBe('local-serving-terminating');
});
