// The endpoint choice every kube-proxy mode shares (src/model/endpoints.ts): topology hints and the
// EndpointSlice conditions, as kube-proxy's pkg/proxy/topology.go and endpointslicecache.go read them.
// Each rule is also checked against the real kube-proxy in test/integration/kube-proxy-rules.test.ts.
import { categorizeEndpoints, portEndpoints, topologyOf, type TopologyNode } from '../../src/model/endpoints.ts';
import { explainTopology, explainVirtualServer } from '../../src/explain/ipvs.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import type { EndpointView, ServiceView } from '../../src/snapshot/types.ts';
import { makeEndpoint, makeNode, makeService, makeSlice, makeSnapshot } from './builders.ts';

const NODE_A: TopologyNode = { name: 'node-1', zone: 'zone-a' };
const service = (overrides: Partial<ServiceView> = {}) => makeService('default', 'web', ['10.96.0.20'], overrides);
const PREFER_CLOSE = { trafficDistribution: 'PreferClose' };

/** Endpoints of the web Service: one per (address, node, zone hints, node hints). */
function endpointsOf(...endpoints: EndpointView[]) {
  return portEndpoints([makeSlice('default', 'web', endpoints)], service().ports[0]!, 'IPv4', NODE_A.name);
}
const hinted = (address: string, node: string, zones: string[], nodes: string[] = [], overrides: Partial<EndpointView> = {}) =>
  makeEndpoint(address, node, `pod-${address}`, { zoneHints: zones, nodeHints: nodes, ...overrides });
const addresses = (chosen: { endpoints: { address: string }[] } | null) => chosen?.endpoints.map((e) => e.address) ?? [];

describe('topology hints (pkg/proxy/topology.go)', () => {
  test('every ready endpoint hinted for a zone, one for this node\'s zone: only the same-zone endpoints (PreferSameZone)', () => {
    const endpoints = endpointsOf(hinted('10.244.0.5', 'node-1', ['zone-a']), hinted('10.244.1.5', 'node-2', ['zone-b']), hinted('10.244.2.5', 'node-3', ['zone-a']));
    const { cluster } = categorizeEndpoints(endpoints, service(PREFER_CLOSE), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.0.5', '10.244.2.5']);
    expect(cluster!.topology).toEqual({ mode: 'PreferSameZone', zone: 'zone-a', askedBy: 'trafficDistribution: PreferClose' });
  });

  test('one ready endpoint without a hint: hints are incomplete and ignored, every ready endpoint is used', () => {
    const endpoints = endpointsOf(hinted('10.244.0.5', 'node-1', ['zone-a']), hinted('10.244.1.5', 'node-2', []));
    const { cluster } = categorizeEndpoints(endpoints, service(PREFER_CLOSE), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.0.5', '10.244.1.5']);
    expect(cluster!.topology).toMatchObject({ mode: null, ignored: 'some-endpoints-unhinted' });
  });

  test('an unready endpoint without a hint does not spoil the hints (only ready endpoints count)', () => {
    const endpoints = endpointsOf(hinted('10.244.0.5', 'node-1', ['zone-a']), hinted('10.244.1.5', 'node-2', ['zone-b']), hinted('10.244.1.6', 'node-2', [], [], { ready: false }));
    expect(topologyOf(endpoints, NODE_A, service()).mode).toBe('PreferSameZone');
  });

  test('no endpoint hinted for this node\'s zone, or a node without a zone label: hints ignored', () => {
    const endpoints = endpointsOf(hinted('10.244.1.5', 'node-2', ['zone-b']), hinted('10.244.2.5', 'node-3', ['zone-c']));
    expect(topologyOf(endpoints, NODE_A, service())).toMatchObject({ mode: null, ignored: 'no-endpoint-for-zone' });
    expect(topologyOf(endpoints, { name: 'node-1', zone: null }, service())).toMatchObject({ mode: null, ignored: 'node-has-no-zone' });
    expect(addresses(categorizeEndpoints(endpoints, service(), false, NODE_A).cluster)).toEqual(['10.244.1.5', '10.244.2.5']);
  });

  test('node hints on every ready endpoint, one for this node: only the endpoints hinted for this node (PreferSameNode)', () => {
    const endpoints = endpointsOf(hinted('10.244.0.5', 'node-1', ['zone-a'], ['node-1']), hinted('10.244.0.6', 'node-4', ['zone-a'], ['node-4']), hinted('10.244.1.5', 'node-2', ['zone-b'], ['node-2']));
    const { cluster } = categorizeEndpoints(endpoints, service({ trafficDistribution: 'PreferSameNode' }), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.0.5']);
    expect(cluster!.topology).toMatchObject({ mode: 'PreferSameNode', node: 'node-1' });
  });

  test('node hints, none for this node: falls back to the zone hints', () => {
    const endpoints = endpointsOf(hinted('10.244.0.6', 'node-4', ['zone-a'], ['node-4']), hinted('10.244.1.5', 'node-2', ['zone-b'], ['node-2']));
    const { cluster } = categorizeEndpoints(endpoints, service(), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.0.6']);
    expect(cluster!.topology!.mode).toBe('PreferSameZone');
  });

  test('hints never narrow the serving-terminating fallback (used when nothing is ready anywhere)', () => {
    const terminating = { ready: false, serving: true, terminating: true };
    const endpoints = endpointsOf(hinted('10.244.1.5', 'node-2', ['zone-b'], [], terminating), hinted('10.244.2.5', 'node-3', ['zone-c'], [], terminating));
    const { cluster } = categorizeEndpoints(endpoints, service(), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.1.5', '10.244.2.5']);
    expect(cluster!.reason).toBe('serving-terminating');
  });

  test('explanations say what kube-proxy did, in plain words', () => {
    expect(explainTopology({ mode: 'PreferSameZone', zone: 'zone-a', askedBy: 'trafficDistribution: PreferClose' })).toMatch(/^Only same-zone endpoints \(trafficDistribution: PreferClose\): .* zone-a, this node's zone/);
    expect(explainTopology({ mode: null, ignored: 'some-endpoints-unhinted', askedBy: null })).toMatch(/^Topology hints ignored: not every ready endpoint has a zone hint/);
    expect(explainTopology({ mode: null, ignored: null, askedBy: 'service.kubernetes.io/topology-mode: Auto' })).toMatch(/no endpoint carries a hint yet/);
  });

  test('in the IPVS model: the ClusterIP and the NodePort use the same-zone endpoints, and say so', () => {
    const snapshot = makeSnapshot({
      nodes: [makeNode('node-1', '10.130.29.80', { labels: { 'topology.kubernetes.io/zone': 'zone-a' } }), makeNode('node-2', '10.130.29.81')],
      services: [service({ ...PREFER_CLOSE, type: 'NodePort', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] })],
      endpointSlices: [makeSlice('default', 'web', [hinted('10.244.0.5', 'node-1', ['zone-a']), hinted('10.244.1.5', 'node-2', ['zone-b'])])],
    });
    const ipvs = expectedIpvs(snapshot, 'node-1');
    for (const vs of ipvs.services) expect(vs.realServers.map((rs) => rs.address)).toEqual(['10.244.0.5']);
    expect(explainVirtualServer(ipvs.services[0]!)).toContain('Only same-zone endpoints (trafficDistribution: PreferClose)');
  });
});

describe('EndpointSlice conditions (pkg/proxy/endpointslicecache.go)', () => {
  test('terminating and serving (serving nil is true): the fallback when nothing is ready', () => {
    // as projected from `conditions: {ready: false, terminating: true}` with serving omitted
    const endpoints = endpointsOf(makeEndpoint('10.244.1.5', 'node-2', 'old', { ready: false, serving: true, terminating: true }));
    const { cluster } = categorizeEndpoints(endpoints, service(), false, NODE_A);
    expect(addresses(cluster)).toEqual(['10.244.1.5']);
    expect(cluster!.reason).toBe('serving-terminating');
  });

  test('not serving, or not terminating: never a fallback', () => {
    const endpoints = endpointsOf(makeEndpoint('10.244.1.5', 'node-2', 'a', { ready: false, serving: false, terminating: true }), makeEndpoint('10.244.1.6', 'node-2', 'b', { ready: false, serving: true, terminating: false }));
    expect(addresses(categorizeEndpoints(endpoints, service(), false, NODE_A).cluster)).toEqual([]);
  });
});
