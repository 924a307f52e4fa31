import { nodeTables, pageState } from '../../src/web/state.ts';
import { seedPage } from './support.ts';

describe('the page state of the seed example', () => {
  test('the picture: nodes with address, tunnel address, blocks, pods; Services with their VIPs', async () => {
    const state = pageState(await seedPage());
    expect(state.cluster.nodes.map((n) => [n.name, n.address, n.tunnel?.address, n.blocks.join(), n.pods.length, n.hostNetworkPods, n.observed])).toEqual([
      ['node-1', '10.130.29.80', '10.244.0.0', '10.244.0.0/24', 3, 1, true],
      ['node-2', '10.130.29.81', '10.244.1.0', '10.244.1.0/24', 1, 1, false],
      ['node-3', '10.130.29.82', '10.244.2.0', '10.244.2.0/24', 0, 1, false],
    ]);
    expect(state.cluster.nodes[0]!.pods).toContainEqual({ namespace: 'kube-system', name: 'coredns-78fcd69978-9v6wz', ip: '10.244.0.137', ready: true, phase: 'Running' });
    expect(state.cluster.services.find((s) => s.name === 'kube-dns')).toEqual({ namespace: 'kube-system', name: 'kube-dns', type: 'ClusterIP', vips: ['10.96.0.10'], ports: ['53/UDP (dns)', '53/TCP (dns-tcp)', '9153/TCP (metrics)'] });
    expect(state.suggestedTrace).toEqual({ from: 'default/rpc-75d9b7d7c9-2zzrx', to: 'kube-dns.kube-system' });
  });

  test('the labs carry checkLab\'s layer results and findings, as the text report does', async () => {
    const input = await seedPage();
    const state = pageState(input);
    expect(state.labs).toHaveLength(1);
    expect(state.labs[0]!.layers.map((l) => [l.layer, l.status])).toEqual([['routes', 'unknown'], ['ipvs', 'unknown'], ['dns', 'unknown'], ['resolvconf', 'pass']]);
    expect(state.labs[0]!.layers[0]!.unknown).toEqual(['node node-2: no route -n output was observed', 'node node-3: no route -n output was observed']);
    expect(state.labs[0]!.findings).toEqual([]);
  });

  test('one node\'s tables: its routes and IPVS lines with verdicts and explanations; the cluster-wide ones apart', async () => {
    const input = await seedPage();
    const tables = nodeTables(input, 'node-1');
    expect(tables.sections.map((s) => [s.layer, s.observed])).toEqual([['routes', true], ['ipvs', true]]);
    const tunnel = tables.sections[0]!.lines.find((l) => l.text.startsWith('10.244.1.0 '))!;
    expect(tunnel.status).toBe('ok');
    expect(tunnel.explanation).toContain('IP-in-IP tunnel (tunl0)');
    expect(nodeTables(input, 'node-2').sections.map((s) => [s.layer, s.observed])).toEqual([['routes', false], ['ipvs', false]]);
    expect(nodeTables(input, null).sections.map((s) => s.layer)).toEqual(['dns', 'resolvconf']);
  });
});
