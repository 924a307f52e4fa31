// The nftables rendering of the shared endpoint choice. Expected texts follow kube-proxy's
// pkg/proxy/nftables/proxier.go; that nft prints them back this way was checked against real nft
// (see test/integration/kube-proxy-modes.test.ts for the real kube-proxy).
import { expectedNftables, nftDuration } from '../../../src/model/services/nftables.ts';
import type { NodeNftables } from '../../../src/model/types.ts';
import { servicesScenario } from './scenario.ts';

const table = expectedNftables(servicesScenario(), 'node-1');
const chain = (name: string) => table.chains.find((c) => c.name === name);
const rules = (name: string) => chain(name)?.rules.map((r) => r.text);
const elements = (t: NodeNftables, set: string) => Object.fromEntries(t.sets.find((s) => s.name === set)!.elements.map((e) => [e.key, e.value]));

describe('expectedNftables', () => {
  test('a ClusterIP with three ready endpoints: one service chain choosing among three endpoint chains in ip:port order', () => {
    expect(elements(table, 'service-ips')['10.96.0.20 . tcp . 80']).toMatch(/^goto service-[A-Z2-7]{8}-demo\/web\/tcp\/http$/);
    const name = elements(table, 'service-ips')['10.96.0.20 . tcp . 80']!.slice('goto '.length);
    const [masq, balance] = rules(name)!;
    expect(masq).toBe('ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
    expect(balance).toMatch(/^numgen random mod 3 vmap \{ 0 : goto endpoint-\S+__10\.244\.0\.11\/8080, 1 : goto endpoint-\S+__10\.244\.1\.12\/8080, 2 : goto endpoint-\S+__10\.244\.1\.13\/8080 \}$/);
    // the not-ready endpoint 10.244.0.14 gets no chain
    expect(table.chains.some((c) => c.name.includes('10.244.0.14'))).toBe(false);
    const endpoint = table.chains.find((c) => c.name.endsWith('__10.244.0.11/8080'))!;
    expect(endpoint.rules.map((r) => r.text)).toEqual(['ip saddr 10.244.0.11 jump mark-for-masquerade', 'meta l4proto tcp dnat to 10.244.0.11:8080']);
    expect(endpoint.why.endpoint).toMatchObject({ pod: 'web-1', node: 'node-1' });
  });

  test('no endpoints: no service chain; the ClusterIP and NodePort are rejected through the no-endpoint maps', () => {
    expect(table.chains.some((c) => c.name.includes('demo/empty/'))).toBe(false);
    expect(elements(table, 'no-endpoint-services')['10.96.0.22 . tcp . 80']).toBe('goto reject-chain');
    expect(elements(table, 'no-endpoint-nodeports')['tcp . 30081']).toBe('goto reject-chain');
    expect(table.sets.find((s) => s.name === 'no-endpoint-services')!.elements[0]!.comment).toBe('demo/empty:http');
    expect(elements(table, 'cluster-ips')['10.96.0.22']).toBeNull();
  });

  test('NodePort with externalTrafficPolicy Cluster: the external chain masquerades, then uses every endpoint', () => {
    const ext = elements(table, 'service-nodeports')['tcp . 30080']!.slice('goto '.length);
    expect(ext).toMatch(/^external-[A-Z2-7]{8}-demo\/nodeport\/tcp\/http$/);
    expect(rules(ext)).toEqual(['jump mark-for-masquerade', `goto ${ext.replace('external-', 'service-')}`]);
  });

  test('externalTrafficPolicy Local: a local chain with this node\'s endpoint, short circuits for pods and the node', () => {
    const ext = elements(table, 'service-nodeports')['tcp . 30082']!.slice('goto '.length);
    const svc = ext.replace('external-', 'service-');
    expect(rules(ext)).toEqual([
      `ip saddr 10.244.0.0/16 goto ${svc} comment "short-circuit pod traffic"`,
      'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
      `fib saddr type local goto ${svc} comment "short-circuit local traffic"`,
      `goto ${ext.replace('external-', 'local-')}`,
    ]);
    expect(rules(ext.replace('external-', 'local-'))).toEqual([expect.stringMatching(/^numgen random mod 1 vmap \{ 0 : goto endpoint-\S+__10\.244\.0\.40\/8080 \}$/)]);
  });

  test('externalTrafficPolicy Local without a local endpoint: the NodePort still leads to the external chain, and outside traffic is dropped', () => {
    const ext = elements(table, 'service-nodeports')['tcp . 30083']!.slice('goto '.length);
    expect(rules(ext)).toHaveLength(3); // the short circuits only: no "goto local-…"
    expect(elements(table, 'no-endpoint-nodeports')['tcp . 30083']).toBe('drop');
  });

  test('ClientIP affinity: a dynamic set per endpoint, checked before the random choice and updated on the way out', () => {
    const affinity = table.sets.filter((s) => s.name.includes('demo/sticky/'));
    expect(affinity.map((s) => [s.type, s.flags, s.timeout, s.dynamic])).toEqual([['ipv4_addr', ['dynamic', 'timeout'], '10m', true], ['ipv4_addr', ['dynamic', 'timeout'], '10m', true]]);
    const svc = table.chains.find((c) => c.why.kind === 'service' && c.why.port?.service === 'sticky')!;
    expect(svc.rules.map((r) => r.why.kind)).toEqual(['masquerade-off-cluster', 'affinity-check', 'affinity-check', 'balance']);
    expect(svc.rules[1]!.text).toBe(`ip saddr @${affinity[0]!.name} goto ${affinity[0]!.name.replace('affinity-', 'endpoint-')}`);
    expect(rules(affinity[0]!.name.replace('affinity-', 'endpoint-'))![1]).toBe(`update @${affinity[0]!.name} { ip saddr }`);
  });

  test('an unnamed UDP port and the ServiceCIDR drop rule', () => {
    expect(elements(table, 'service-ips')['10.96.0.26 . udp . 53']).toMatch(/^goto service-[A-Z2-7]{8}-demo\/dns\/udp\/$/);
    expect(rules('cluster-ips-check')).toEqual([
      'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
      'ip daddr 10.96.0.0/12 drop comment "Drop traffic to unallocated ClusterIPs"',
    ]);
  });

  test('the masquerade mark follows masqueradeBit', () => {
    const snapshot = servicesScenario();
    snapshot.kubeProxy.masqueradeBit = 15;
    expect(expectedNftables(snapshot, 'node-1').chains.find((c) => c.name === 'mark-for-masquerade')!.rules[0]!.text).toBe('meta mark set meta mark | 0x00008000');
  });

  test('timeouts print like nft prints them', () => {
    expect([10800, 5400, 600, 100000, 10].map(nftDuration)).toEqual(['3h', '1h30m', '10m', '1d3h46m40s', '10s']);
  });
});
