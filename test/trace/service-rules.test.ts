// The Service hop in kube-proxy's nftables and iptables modes, on the modes' shared scenario (node-1).
import { checkLab } from '../../src/check/check.ts';
import { expectedIptables } from '../../src/model/services/iptables.ts';
import { expectedNftables } from '../../src/model/services/nftables.ts';
import type { Observation } from '../../src/observation/types.ts';
import { renderIptablesSave } from '../../src/render/iptables-save.ts';
import { renderNftTable } from '../../src/render/nft.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { traceFlow } from '../../src/trace/trace.ts';
import type { ServiceHop } from '../../src/trace/types.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import { servicesScenario } from '../model/services/scenario.ts';

const serviceHop = (snapshot: ClusterSnapshot, observation: Observation | null, to: string) =>
  traceFlow(snapshot, observation, { from: 'node-1', to }).hops.find((h) => h.kind === 'service') as ServiceHop;

/** node-1's table as `nft list table ip kube-proxy` prints it, from the model, minus the chains `drop` names, then `edit`ed. */
function nftText(snapshot: ClusterSnapshot, drop: (chain: string) => boolean = () => false, edit: (text: string) => string = (text) => text): string {
  const t = expectedNftables(snapshot, 'node-1');
  return edit(renderNftTable({
    family: t.family, name: t.name, comment: t.comment,
    sets: t.sets.map(({ dynamic: _d, port: _p, endpoint: _e, ...set }) => ({ ...set, elements: set.elements.map(({ why: _w, ...e }) => e) })),
    chains: t.chains.filter((c) => !drop(c.name)).map((c) => ({ name: c.name, hook: c.hook, comment: c.comment, rules: c.rules.map((r) => r.text) })),
  }));
}

describe('nftables mode', () => {
  const snapshot = servicesScenario(); // kube-proxy mode nftables

  test('the port\'s backends, each with chance 1/N by numgen, and the rules behind the hop', () => {
    const hop = serviceHop(snapshot, null, '10.96.0.20:80');
    expect(hop).toMatchObject({ mechanism: 'nftables', verdict: 'expected', service: { namespace: 'demo', name: 'web', portName: 'http' }, scheduler: null });
    expect(hop.backends.map((b) => [b.address, b.probability, b.followed])).toEqual([['10.244.0.11', 1 / 3, true], ['10.244.1.12', 1 / 3, false], ['10.244.1.13', 1 / 3, false]]);
    expect(hop.balancing).toMatch(/^numgen random mod 3/);
    // kube-proxy v1.37: no endpoint chains without affinity, one rule picks the endpoint and DNATs to it
    expect(hop.lines.filter((l) => l.layer === 'nftables' && /^meta l4proto tcp dnat ip to numgen random mod 3 map \{/.test(l.text))).toHaveLength(1);
    expect(hop.reason).toBe('No nft list table ip kube-proxy output of this node was observed.');
  });

  test('observed as the model has it: OK, every backend listed; an endpoint gone from the DNAT map: BROKEN, that backend not listed', () => {
    const ok = serviceHop(snapshot, { nodes: [{ node: 'node-1', nftListTable: nftText(snapshot) }] }, '10.96.0.20:80');
    expect(ok.verdict).toBe('ok');
    expect(ok.backends.every((b) => b.observed === true)).toBe(true);
    const gone = (text: string) => text.replace('numgen random mod 3 map { 0 : 10.244.0.11 . 8080, 1 : 10.244.1.12 . 8080, 2 : 10.244.1.13 . 8080 }', 'numgen random mod 2 map { 0 : 10.244.0.11 . 8080, 1 : 10.244.1.13 . 8080 }');
    expect(gone(nftText(snapshot))).not.toBe(nftText(snapshot));
    const broken = serviceHop(snapshot, { nodes: [{ node: 'node-1', nftListTable: nftText(snapshot, undefined, gone) }] }, '10.96.0.20:80');
    expect(broken.verdict).toBe('broken');
    expect(broken.backends.find((b) => b.address === '10.244.1.12')!.observed).toBe(false);
    expect(broken.reason).toContain('chooses an endpoint and rewrites the destination to it for Service demo/web port "http"');
  });

  test('a Service without endpoints: BROKEN, kube-proxy rejects', () => {
    const hop = serviceHop(snapshot, null, '10.96.0.22:80');
    expect(hop).toMatchObject({ verdict: 'broken', backends: [] });
    expect(hop.reason).toBe('TCP 10.96.0.22:80 has no endpoint for this traffic on node-1: kube-proxy rejects it.');
  });

  test('ClientIP affinity is the persistence', () => {
    expect(serviceHop(snapshot, null, '10.96.0.23:80').persistence).toBe(600);
  });
});

describe('iptables mode', () => {
  const snapshot: ClusterSnapshot = { ...servicesScenario(), kubeProxy: { ...servicesScenario().kubeProxy, mode: 'iptables' } };

  test('statistic mode random splits, the KUBE-SVC/KUBE-SEP rules behind the hop, observed from iptables-save', () => {
    const expected = expectedIptables(snapshot, 'node-1');
    const text = renderIptablesSave({ tables: expected.tables.map((t) => ({ name: t.name, chains: t.chains.map((c) => ({ name: c.name, policy: c.policy, rules: c.rules.map((r) => r.text) })) })) });
    const hop = serviceHop(snapshot, { nodes: [{ node: 'node-1', iptablesSave: text }] }, '10.96.0.20:80');
    expect(hop).toMatchObject({ mechanism: 'iptables', verdict: 'ok' });
    expect(hop.balancing).toMatch(/^statistic mode random/);
    expect(hop.lines.some((l) => /^-A KUBE-SVC-\S+ .*--probability 0\.33333333349/.test(l.text))).toBe(true);
    expect(hop.lines.filter((l) => /^-A KUBE-SEP-\S+ .*DNAT/.test(l.text))).toHaveLength(3);
  });
});

test('every table line the hop names is a line of the node\'s table in the check\'s report (the page links them)', () => {
  const snapshot = servicesScenario();
  const observation: Observation = { nodes: [{ node: 'node-1', nftListTable: nftText(snapshot) }] };
  const report = checkLab(snapshot, observation, { layers: ['nftables'], nodes: ['node-1'] });
  const section = report.sections.find((s) => s.layer === 'nftables' && s.node === 'node-1')!;
  const shown = new Set(section.lines.map((l) => l.text.trim()));
  const hop = serviceHop(snapshot, observation, '10.96.0.20:80');
  expect(hop.lines.length).toBeGreaterThanOrEqual(4); // its cluster-ips, service-ips and hairpin elements, its chain's rule
  expect(hop.lines.filter((l) => !shown.has(l.text.trim()))).toEqual([]);
});

test('on the seed in nftables mode the path reaches CoreDNS, and connection tracking, not IPVS, undoes the DNAT', async () => {
  const seed = await loadSnapshotDir(new URL('../../examples/seed/snapshot', import.meta.url).pathname);
  const trace = traceFlow({ ...seed, kubeProxy: { ...seed.kubeProxy, mode: 'nftables' } }, null, { from: 'default/rpc-75d9b7d7c9-2zzrx', to: 'kube-dns.kube-system:53', protocol: 'UDP' });
  expect(trace.hops.map((h) => h.kind)).toEqual(['source', 'dns', 'service', 'route', 'deliver', 'route', 'reply']);
  expect(trace.hops[2]).toMatchObject({ mechanism: 'nftables', backends: [{ address: '10.244.0.137' }, { address: '10.244.0.138' }] });
  expect(trace.hops[6]!.explanation).toContain('the connection-tracking entry of the DNAT (conntrack -L) rewrites its source to 10.96.0.10:53');
});
