import { readFileSync } from 'node:fs';
import { compareRoutes } from '../../src/compare/routes/index.ts';
import type { ExpectedRoute, NodeRoutes } from '../../src/model/types.ts';
import { parseRouteN } from '../../src/parse/route.ts';

// Real `route -n` of the seed article's node 10.130.29.80.
const seed = parseRouteN(readFileSync(new URL('../fixtures/captures/seed-route-n.txt', import.meta.url), 'utf8'));

const row = (destination: string, gateway: string, genmask: string, flags: string, iface: string, why: ExpectedRoute['why']): ExpectedRoute =>
  ({ destination, gateway, genmask, flags, metric: 0, ref: 0, use: 0, iface, why });
const pod = (ip: string, iface: string, name: string) =>
  row(ip, '0.0.0.0', '255.255.255.255', 'UH', iface, { kind: 'pod', namespace: 'kube-system', pod: name, node: 'node-1', interfaceFrom: 'workloadEndpoint', metric: { value: 0, calicoVersion: null } });
const remote = (block: string, gw: string, node: string) =>
  row(block, gw, '255.255.255.0', 'UG', 'tunl0', { kind: 'remote-block', block: `${block}/24`, node, nodeIP: gw, via: 'ipip', pool: 'default', blockFrom: 'ipamBlock' });

function seedExpectation(): NodeRoutes {
  return {
    node: 'node-1',
    cni: 'calico',
    notes: [],
    ownedCIDRs: ['10.244.0.0/16'],
    routes: [
      row('10.244.0.0', '0.0.0.0', '255.255.255.0', 'U', '*', { kind: 'blackhole', block: '10.244.0.0/24', node: 'node-1', blockFrom: 'ipamBlock' }),
      pod('10.244.0.137', 'calid3c6b0469a6', 'coredns-a'),
      pod('10.244.0.138', 'calidbc2311f514', 'coredns-b'),
      pod('10.244.0.140', 'califb4eac25ec6', 'rpc'),
      remote('10.244.1.0', '10.130.29.81', 'node-2'),
      remote('10.244.2.0', '10.130.29.82', 'node-3'),
    ],
  };
}

describe('compareRoutes on the real seed table', () => {
  test('matching expectation: no findings; default route and host subnet are not managed', () => {
    const cmp = compareRoutes(seedExpectation(), seed);
    expect(cmp.findings).toEqual([]);
    expect(cmp.observed.map((r) => r.status)).toEqual(['unmanaged', 'unmanaged', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  });

  test('a route the model expects but the node lacks is missing, named by its block and node', () => {
    const exp = seedExpectation();
    exp.routes.push(remote('10.244.3.0', '10.130.29.83', 'node-4'));
    const cmp = compareRoutes(exp, seed);
    expect(cmp.findings).toHaveLength(1);
    expect(cmp.findings[0]).toMatchObject({ kind: 'missing', key: '10.244.3.0/24', node: 'node-1' });
    expect(cmp.findings[0]!.message).toContain('node-4');
  });

  test('a pod-network route nothing explains is unexpected; one outside the pod network is not managed', () => {
    const exp = seedExpectation();
    exp.routes = exp.routes.filter((r) => r.destination !== '10.244.0.140');
    const cmp = compareRoutes(exp, seed);
    expect(cmp.findings.map((f) => [f.kind, f.key])).toEqual([['unexpected', '10.244.0.140/32']]);
  });

  test('different gateway or interface on the same destination is a mismatch listing the fields', () => {
    const exp = seedExpectation();
    exp.routes[4] = { ...exp.routes[4]!, gateway: '10.130.29.99', iface: 'vxlan.calico' };
    const [finding] = compareRoutes(exp, seed).findings;
    expect(finding).toMatchObject({ kind: 'mismatch', key: '10.244.1.0/24', fields: ['gateway', 'iface'] });
    expect(finding!.observed).toContain('tunl0');
    expect(finding!.expected).toContain('vxlan.calico');
  });

  test('metric, Ref and Use are not compared (Calico 3.32 moved pod routes to metric 1024)', () => {
    const exp = seedExpectation();
    exp.routes[1] = { ...exp.routes[1]!, metric: 1024, use: 7 };
    expect(compareRoutes(exp, seed).findings).toEqual([]);
  });
});
