// The nftables rendering of the shared endpoint choice, as kube-proxy v1.37.2 writes it (the layout was
// taken from the real kube-proxy in the VM: test/integration/kube-proxy-modes.test.ts and the capture
// test/fixtures/captures/vm-kube-proxy-nftables.txt).
import { expectedNftables, nftDuration } from '../../../src/model/services/nftables.ts';
import type { NodeNftables } from '../../../src/model/types.ts';
import { servicesScenario } from './scenario.ts';

const table = expectedNftables(servicesScenario(), 'node-1');
const chain = (name: string) => table.chains.find((c) => c.name === name);
const rules = (name: string) => chain(name)?.rules.map((r) => r.text);
const elements = (t: NodeNftables, set: string) => Object.fromEntries(t.sets.find((s) => s.name === set)!.elements.map((e) => [e.key, e.value]));
const target = (verdict: string | null | undefined) => verdict!.replace(/^goto /, '');

describe('expectedNftables', () => {
  test('three ready endpoints: the service chain chooses one and DNATs to it in one rule, endpoints in ip:port order', () => {
    const svc = target(elements(table, 'service-ips')['10.96.0.20 . tcp . 80']);
    expect(svc).toMatch(/^service-[A-Z2-7]{8}-demo\/web\/tcp\/http$/);
    expect(rules(svc)).toEqual(['meta l4proto tcp dnat ip to numgen random mod 3 map { 0 : 10.244.0.11 . 8080, 1 : 10.244.1.12 . 8080, 2 : 10.244.1.13 . 8080 }']);
    // no endpoint chains without session affinity; the not-ready endpoint 10.244.0.14 appears nowhere
    expect(table.chains.some((c) => c.name.startsWith('endpoint-') && c.name.includes('/web/'))).toBe(false);
    expect(JSON.stringify(table)).not.toContain('10.244.0.14');
  });

  test('endpoints on this node are hairpin candidates; off-cluster clients of every ClusterIP are marked once, in the services chain', () => {
    expect(Object.keys(elements(table, 'hairpin-connections')).sort()).toEqual([
      '10.244.0.11 . 10.244.0.11 . tcp . 8080', '10.244.0.30 . 10.244.0.30 . tcp . 8080', '10.244.0.40 . 10.244.0.40 . tcp . 8080', '10.244.0.60 . 10.244.0.60 . udp . 53',
    ]);
    expect(rules('services')).toEqual([
      'ip daddr @cluster-ips ip saddr != 10.244.0.0/16 meta mark set meta mark | 0x00004000 comment "masquerade clusterIP traffic from outside cluster"',
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    ]);
    expect(rules('masquerading')).toEqual([
      'meta mark & 0x00004000 != 0x00000000 meta mark set meta mark ^ 0x00004000 masquerade fully-random',
      'ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random',
    ]);
  });

  test('NodePorts answer on the node\'s primary address by default (nodeport-ips)', () => {
    expect(elements(table, 'nodeport-ips')).toEqual({ '10.130.29.80': null });
    const snapshot = servicesScenario();
    snapshot.kubeProxy.nodePortAddresses = ['0.0.0.0/0'];
    const all = expectedNftables(snapshot, 'node-1');
    expect(all.sets.some((s) => s.name === 'nodeport-ips')).toBe(false);
    expect(all.chains.find((c) => c.name === 'services')!.rules[2]!.text).toBe('fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports');
  });

  test('no endpoints: no service chain; the ClusterIP and NodePort are rejected through the no-endpoint maps', () => {
    expect(table.chains.some((c) => c.name.includes('demo/empty/'))).toBe(false);
    expect(elements(table, 'no-endpoint-services')['10.96.0.22 . tcp . 80']).toBe('goto reject-chain');
    expect(elements(table, 'no-endpoint-nodeports')['tcp . 30081']).toBe('goto reject-chain');
    expect(table.sets.find((s) => s.name === 'no-endpoint-services')!.elements[0]!.comment).toBe('demo/empty:http');
    expect(elements(table, 'cluster-ips')['10.96.0.22']).toBeNull();
  });

  test('NodePort with externalTrafficPolicy Cluster: the external chain marks for masquerade, then uses every endpoint', () => {
    const ext = target(elements(table, 'service-nodeports')['tcp . 30080']);
    expect(ext).toMatch(/^external-[A-Z2-7]{8}-demo\/nodeport\/tcp\/http$/);
    expect(rules(ext)).toEqual(['meta mark set meta mark | 0x00004000 comment "masquerade"', `goto ${ext.replace('external-', 'service-')}`]);
    expect(rules(ext.replace('external-', 'service-'))).toEqual(['meta l4proto tcp dnat to 10.244.1.20:8080']);
  });

  test('externalTrafficPolicy Local: a local chain with this node\'s endpoint, short circuits for pods and the node', () => {
    const ext = target(elements(table, 'service-nodeports')['tcp . 30082']);
    const svc = ext.replace('external-', 'service-');
    expect(rules(ext)).toEqual([
      `ip saddr 10.244.0.0/16 goto ${svc} comment "short-circuit pod traffic"`,
      'fib saddr type local meta mark set meta mark | 0x00004000 comment "masquerade local traffic"',
      `fib saddr type local goto ${svc} comment "short-circuit local traffic"`,
      `goto ${ext.replace('external-', 'local-')}`,
    ]);
    expect(rules(ext.replace('external-', 'local-'))).toEqual(['meta l4proto tcp dnat to 10.244.0.40:8080']);
  });

  test('externalTrafficPolicy Local without a local endpoint: the NodePort still leads to the external chain, and outside traffic is dropped', () => {
    const ext = target(elements(table, 'service-nodeports')['tcp . 30083']);
    expect(rules(ext)).toHaveLength(3); // the short circuits only: no "goto local-…"
    expect(elements(table, 'no-endpoint-nodeports')['tcp . 30083']).toBe('drop');
  });

  test('ClientIP affinity: endpoint chains and a dynamic set per endpoint, checked before the random choice', () => {
    const affinity = table.sets.filter((s) => s.name.includes('demo/sticky/'));
    expect(affinity.map((s) => [s.type, s.flags, s.timeout, s.dynamic])).toEqual([['ipv4_addr', ['dynamic', 'timeout'], '10m', true], ['ipv4_addr', ['dynamic', 'timeout'], '10m', true]]);
    const svc = table.chains.find((c) => c.why.kind === 'service' && c.why.port?.service === 'sticky')!;
    expect(svc.rules.map((r) => r.why.kind)).toEqual(['affinity-check', 'affinity-check', 'balance']);
    const endpointChain = affinity[0]!.name.replace('affinity-', 'endpoint-');
    expect(svc.rules[0]!.text).toBe(`ip saddr @${affinity[0]!.name} goto ${endpointChain}`);
    expect(svc.rules[2]!.text).toMatch(/^numgen random mod 2 vmap \{ 0 : goto endpoint-\S+__10\.244\.0\.30\/8080, 1 : goto endpoint-\S+__10\.244\.1\.31\/8080 \}$/);
    expect(rules(endpointChain)).toEqual([`update @${affinity[0]!.name} { ip saddr }`, 'meta l4proto tcp dnat to 10.244.0.30:8080']);
  });

  test('an unnamed UDP port and the ServiceCIDR drop rule', () => {
    const svc = target(elements(table, 'service-ips')['10.96.0.26 . udp . 53']);
    expect(svc).toMatch(/^service-[A-Z2-7]{8}-demo\/dns\/udp\/$/);
    expect(rules(svc)).toEqual(['meta l4proto udp dnat to 10.244.0.60:53']);
    expect(rules('cluster-ips-check')).toEqual([
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'ip daddr 10.96.0.0/12 drop comment "Drop traffic to unallocated ClusterIPs"',
    ]);
  });

  test('the masquerade mark follows masqueradeBit', () => {
    const snapshot = servicesScenario();
    snapshot.kubeProxy.masqueradeBit = 15;
    expect(expectedNftables(snapshot, 'node-1').chains.find((c) => c.name === 'masquerading')!.rules[0]!.text).toBe('meta mark & 0x00008000 != 0x00000000 meta mark set meta mark ^ 0x00008000 masquerade fully-random');
  });

  test('timeouts print like nft prints them', () => {
    expect([10800, 5400, 600, 100000, 10].map(nftDuration)).toEqual(['3h', '1h30m', '10m', '1d3h46m40s', '10s']);
  });
});
