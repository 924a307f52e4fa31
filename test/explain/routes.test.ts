// Explanations of route rows in each CNI's words, and the annotated table (src/explain/routes/).
import { checkLab } from '../../src/check/check.ts';
import { explainExpectedRoute, explainUnaccountedRoute } from '../../src/explain/routes/index.ts';
import { expectedRoutes } from '../../src/model/routes/index.ts';
import { parseRouteN } from '../../src/parse/route.ts';
import { renderReport } from '../../src/report/text.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { makeNode, makePod, makeSnapshot } from '../model/builders.ts';

const flannelNode = (i: number, backend: 'vxlan' | 'host-gw') => makeNode(`node-${i + 1}`, `10.130.29.8${i}`, {
  calico: {},
  podCIDRs: [`10.244.${i}.0/24`],
  flannel: { kubeSubnetManager: true, backendType: backend, publicIP: `10.130.29.8${i}`, vni: backend === 'vxlan' ? 1 : null, vtepMAC: backend === 'vxlan' ? `5a:1c:9e:3f:20:0${i + 1}` : null },
});
const flannelCluster = (backend: 'vxlan' | 'host-gw', pods = [makePod('default', 'web', 'node-1', ['10.244.0.2'])]) =>
  makeSnapshot({ nodes: [0, 1, 2].map((i) => flannelNode(i, backend)), pods });

describe('Flannel rows', () => {
  test('a VXLAN row names the remote flannel.1 address, onlink, the ARP/FDB entries and the public-ip', () => {
    const route = expectedRoutes(flannelCluster('vxlan'), 'node-1').routes.find((r) => r.destination === '10.244.1.0')!;
    const text = explainExpectedRoute(route, route.why);
    expect(text).toMatch(/^Pods of subnet 10\.244\.1\.0\/24 live on node node-2\. flanneld reaches them through VXLAN: the gateway 10\.244\.1\.0 is the address that node's flannel\.1 holds/);
    expect(text).toMatch(/"onlink"/);
    expect(text).toMatch(/remote VTEP MAC 5a:1c:9e:3f:20:02\) and a bridge FDB entry sending that MAC to 10\.130\.29\.81/);
    expect(text).toMatch(/flags UG: U = up, G = via a gateway/);
  });

  test('the cni0 row says it may be absent before the first pod, and must exist after', () => {
    const before = expectedRoutes(flannelCluster('vxlan', []), 'node-1').routes[0]!;
    expect(explainExpectedRoute(before, before.why)).toMatch(/No pod has an address on this node yet, and cni0 only appears when the CNI bridge plugin wires the first pod \(it stays after the last one\), so this route may be absent\.$/);
    const after = expectedRoutes(flannelCluster('vxlan'), 'node-1').routes[0]!;
    expect(explainExpectedRoute(after, after.why)).toMatch(/1 pod has an address here, so cni0 must exist\.$/);
  });

  test('a host-gw row names the uplink and where its name came from', () => {
    const observed = parseRouteN(readCapture('netns-flannel-host-gw-route-n.txt')).routes;
    const named = expectedRoutes(flannelCluster('host-gw'), 'node-1', { observedRoutes: observed }).routes.find((r) => r.destination === '10.244.2.0')!;
    expect(explainExpectedRoute(named, named.why)).toMatch(/straight to that node's public-ip 10\.130\.29\.82, which must be on the same L2 network, leaving through eth0, the interface holding this node's address 10\.130\.29\.80 \(its connected route in this table\)/);
    const unnamed = expectedRoutes(flannelCluster('host-gw'), 'node-1').routes.find((r) => r.destination === '10.244.2.0')!;
    expect(explainExpectedRoute(unnamed, unnamed.why)).toMatch(/leaving through the interface holding this node's address 10\.130\.29\.80 \(its name was not observed, so Iface is not checked\)/);
  });

  test('by shape alone (no snapshot): flannel.1 and cni0 rows are recognised', () => {
    const [, bridge, vxlan] = parseRouteN(readCapture('netns-flannel-vxlan-route-n.txt')).routes;
    expect(explainUnaccountedRoute(vxlan!, null, false)).toBe('Route to 10.244.1.0/24 through flannel\'s VXLAN device flannel.1 to 10.244.1.0, the address another node\'s flannel.1 holds (flags UG: U = up, G = via a gateway). Not managed by the CNI.');
    expect(explainUnaccountedRoute(bridge!, null, false)).toMatch(/^The pods of 10\.244\.0\.0\/24 sit on the cni0 bridge/);
  });
});

describe('by shape: a /32 is the single address, a gatewayless tunnel row says where it goes (issue 10, point 10)', () => {
  const row = (destination: string, gateway: string, genmask: string, flags: string, iface: string) => ({ destination, gateway, genmask, flags, metric: 0, ref: 0, use: 0, iface });

  test('a /32 UH on vxlan.calico (a borrowed VTEP address) is sent straight to that address, not "via 0.0.0.0"', () => {
    expect(explainUnaccountedRoute(row('10.244.25.200', '0.0.0.0', '255.255.255.255', 'UH', 'vxlan.calico'), null, false)).toBe(
      'Route to the single address 10.244.25.200 straight through Calico\'s VXLAN device vxlan.calico, with no gateway: the destination is itself the tunnel\'s far end (another node\'s tunnel address) (flags UH: U = up, H = a single host (/32)). Not managed by the CNI.',
    );
  });

  test('/32 rows name one address; networks stay networks', () => {
    expect(explainUnaccountedRoute(row('10.244.0.200', '10.130.29.82', '255.255.255.255', 'UGH', 'tunl0'), null, false)).toMatch(/^Route to the single address 10\.244\.0\.200 through the IP-in-IP tunnel tunl0 to 10\.130\.29\.82 /);
    expect(explainUnaccountedRoute(row('169.254.1.1', '0.0.0.0', '255.255.255.255', 'UH', 'eth0'), null, false)).toMatch(/^The single address 169\.254\.1\.1 is reached directly on eth0 /);
    expect(explainUnaccountedRoute(row('10.130.29.0', '0.0.0.0', '255.255.255.0', 'U', 'eth0'), null, false)).toMatch(/^The network 10\.130\.29\.0\/24 is directly connected on eth0 /);
  });
});

describe('the report of a Flannel cluster', () => {
  test('names the CNI and its evidence, and shows an absent cni0 row as fine', () => {
    const report = checkLab(flannelCluster('vxlan', []), { nodes: [{ node: 'node-1', routeN: readCapture('netns-flannel-vxlan-no-pod-route-n.txt') }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.cni).toEqual({ cni: 'flannel', evidence: 'Flannel (flannel.alpha.coreos.com annotations on 3 of 3 nodes)' });
    expect(report.layers.routes).toMatchObject({ status: 'pass', counts: { expected: 2, observed: 2 } });
    const text = renderReport(report);
    expect(text).toContain('routes: note: CNI: Flannel (flannel.alpha.coreos.com annotations on 3 of 3 nodes)');
    expect(text).toMatch(/ {5}10\.244\.0\.0 +0\.0\.0\.0 +255\.255\.255\.0 +U +0 +0 +0 cni0\n {8}Absent, and that is fine: Subnet 10\.244\.0\.0\/24 is this node's share/);
  });
});

describe('Calico rows', () => {
  test('a borrowed VXLAN tunnel address has no gateway because it is the remote VTEP itself', () => {
    const why = { kind: 'borrowed-tunnel' as const, address: '10.244.25.200', tunnel: 'vxlan' as const, node: 'node-2', nodeIP: '10.130.29.81', block: '10.244.25.0/24', blockNode: 'node-1', via: 'vxlan' as const };
    const route = { destination: '10.244.25.200', gateway: '0.0.0.0', genmask: '255.255.255.255', flags: 'UH', metric: 0, ref: 0, use: 0, iface: 'vxlan.calico' };
    expect(explainExpectedRoute(route, why)).toBe(
      '10.244.25.200 is the vxlan.calico VTEP address of node node-2, but it lies in block 10.244.25.0/24 of node node-1: Calico borrowed it, so felix adds this /32, more specific than the block\'s route. '
      + 'It has no gateway: the address IS the remote VTEP, reached straight through vxlan.calico (flags UH: U = up, H = a single host (/32)).',
    );
  });
});
