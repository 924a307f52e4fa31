// The Flannel route model's rules one by one (src/model/routes/flannel.ts). The snapshots here imitate the
// annotations flanneld writes (pkg/subnet/kube), so that each rule gets the situation it needs; the observed tables
// are real `route -n` text from a network namespace where the routes were programmed by hand the way flannel does
// (test/fixtures/captures/netns-flannel-*.txt). Real flanneld output is checked in test/check/flannel-captures.test.ts.
import { compareRoutes } from '../../../src/compare/routes/index.ts';
import { expectedRoutes } from '../../../src/model/routes/index.ts';
import type { ExpectedRoute } from '../../../src/model/types.ts';
import { parseIpAddr } from '../../../src/parse/ip-addr.ts';
import { parseRouteN } from '../../../src/parse/route.ts';
import type { FlannelNodeView } from '../../../src/snapshot/types.ts';
import { readCapture } from '../../fixtures/captures/read.ts';
import { makeNode, makePod, makeSnapshot } from '../builders.ts';

const row = (r: ExpectedRoute) => `${r.destination} ${r.gateway} ${r.genmask} ${r.flags} ${r.metric} ${r.iface}`;
const capture = (name: string) => parseRouteN(readCapture(name), name);

const MACS = ['5a:1c:9e:3f:20:01', '5a:1c:9e:3f:20:02', '5a:1c:9e:3f:20:03'];

/** node-1..3 at 10.130.29.80-82 with podCIDRs 10.244.0-2.0/24, annotated by flanneld for `backend`. */
function cluster(backend: 'vxlan' | 'host-gw', flannel: (i: number) => Partial<FlannelNodeView> | null = () => ({})) {
  return makeSnapshot({
    nodes: [0, 1, 2].map((i) => {
      const extra = flannel(i);
      const annotations: FlannelNodeView | null = extra === null ? null : {
        kubeSubnetManager: true, backendType: backend, publicIP: `10.130.29.8${i}`,
        vni: backend === 'vxlan' ? 1 : null, vtepMAC: backend === 'vxlan' ? MACS[i]! : null, ...extra,
      };
      return makeNode(`node-${i + 1}`, `10.130.29.8${i}`, { calico: {}, podCIDRs: [`10.244.${i}.0/24`, `fd00:10:244:${i}::/64`], flannel: annotations });
    }),
    pods: [makePod('default', 'web', 'node-1', ['10.244.0.2']), makePod('kube-flannel', 'kube-flannel-ds-x', 'node-1', ['10.130.29.80'], { hostNetwork: true })],
  });
}

describe('VXLAN backend', () => {
  test('remote /24s via their own .0 on flannel.1 (UG, metric 0), the own /24 on cni0: the rows of the netns table', () => {
    const expected = expectedRoutes(cluster('vxlan'), 'node-1');
    expect(expected.cni).toBe('flannel');
    expect(expected.routes.map(row)).toEqual([
      '10.244.0.0 0.0.0.0 255.255.255.0 U 0 cni0',
      '10.244.1.0 10.244.1.0 255.255.255.0 UG 0 flannel.1',
      '10.244.2.0 10.244.2.0 255.255.255.0 UG 0 flannel.1',
    ]);
    expect(expected.routes[1]!.why).toEqual({ kind: 'flannel-subnet', subnet: '10.244.1.0/24', node: 'node-2', publicIP: '10.130.29.81', backend: 'vxlan', vtepMAC: MACS[1] });
    const cmp = compareRoutes(expected, capture('netns-flannel-vxlan-route-n.txt'));
    expect(cmp.findings).toEqual([]);
    expect(cmp.observed.map((r) => r.status)).toEqual(['unmanaged', 'ok', 'ok', 'ok']);
    expect(expected.ownedCIDRs).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
  });

  test('the device is flannel.<VNI> from this node\'s backend-data', () => {
    const routes = expectedRoutes(cluster('vxlan', () => ({ vni: 4 })), 'node-1').routes;
    expect(routes.filter((r) => r.why.kind === 'flannel-subnet').map((r) => r.iface)).toEqual(['flannel.4', 'flannel.4']);
  });

  test('a remote lease without a VtepMAC gets no route, and a note says why', () => {
    const expected = expectedRoutes(cluster('vxlan', (i) => (i === 2 ? { vtepMAC: null } : {})), 'node-1');
    expect(expected.routes.map((r) => r.destination)).toEqual(['10.244.0.0', '10.244.1.0']);
    expect(expected.notes).toEqual(['node node-3: its flannel.alpha.coreos.com/backend-data has no VtepMAC, so flannel cannot reach its VXLAN device and programs no route to its pods']);
  });
});

describe('the cni0 route exists from the node\'s first pod on', () => {
  test('no pod with an address on the node: the cni0 row is optional, so the real table without cni0 passes', () => {
    const snapshot = cluster('vxlan');
    snapshot.pods = snapshot.pods.filter((p) => p.hostNetwork);
    const expected = expectedRoutes(snapshot, 'node-1');
    expect(expected.routes[0]).toMatchObject({ iface: 'cni0', optional: true, why: { kind: 'flannel-bridge', pods: 0 } });
    const cmp = compareRoutes(expected, capture('netns-flannel-vxlan-no-pod-route-n.txt'));
    expect(cmp.findings).toEqual([]);
    expect(cmp.absentOptional.map((r) => r.iface)).toEqual(['cni0']);
    // once cni0 exists it stays (the bridge plugin never deletes it): still no finding
    expect(compareRoutes(expected, capture('netns-flannel-vxlan-route-n.txt')).findings).toEqual([]);
  });

  test('a pod with an address but no cni0 route is a missing finding about the bridge', () => {
    const cmp = compareRoutes(expectedRoutes(cluster('vxlan'), 'node-1'), capture('netns-flannel-vxlan-no-pod-route-n.txt'));
    expect(cmp.findings.map((f) => `${f.kind} ${f.key}`)).toEqual(['missing 10.244.0.0/24']);
    expect(cmp.findings[0]!.message).toBe('Route 10.244.0.0/24 of this node\'s own pod subnet on cni0 is missing on node-1, though 1 pod has an address from it: pods here cannot be reached.');
  });
});

describe('host-gw backend', () => {
  test('remote /24s via the node\'s public-ip on the uplink, named by the observed connected route', () => {
    const table = capture('netns-flannel-host-gw-route-n.txt');
    const expected = expectedRoutes(cluster('host-gw'), 'node-1', { observedRoutes: table.routes });
    expect(expected.routes.map(row)).toEqual([
      '10.244.0.0 0.0.0.0 255.255.255.0 U 0 cni0',
      '10.244.1.0 10.130.29.81 255.255.255.0 UG 0 eth0',
      '10.244.2.0 10.130.29.82 255.255.255.0 UG 0 eth0',
    ]);
    expect(expected.routes[1]!.why).toMatchObject({ backend: 'host-gw', uplink: { address: '10.130.29.80', from: 'connected-route' } });
    expect(compareRoutes(expected, table).findings).toEqual([]);
  });

  test('the observed ip -o addr names the uplink first (real capture: ens5 holds 10.130.29.80)', () => {
    const interfaces = parseIpAddr(readCapture('netns-ip-o-addr.txt'), 'netns-ip-o-addr.txt');
    const expected = expectedRoutes(cluster('host-gw'), 'node-1', { interfaces, observedRoutes: capture('netns-flannel-host-gw-route-n.txt').routes });
    expect(expected.routes[1]).toMatchObject({ iface: 'ens5', why: { uplink: { address: '10.130.29.80', from: 'ip-addr' } } });
  });

  test('with the uplink unobserved the rows say <uplink>, Iface is not compared, and a note says so', () => {
    const expected = expectedRoutes(cluster('host-gw'), 'node-1');
    expect(expected.routes[1]).toMatchObject({ iface: '<uplink>', ifaceUnknown: true });
    expect(expected.notes).toEqual(['node node-1: the name of the interface holding 10.130.29.80 is unknown (no ip -o addr or connected route observed), so host-gw routes are not compared on Iface']);
    expect(compareRoutes(expected, capture('netns-flannel-host-gw-route-n.txt')).findings).toEqual([]);
  });
});

describe('Canal (flannel between nodes, Calico\'s CNI plugin on each node)', () => {
  test('the remote subnets are checked as flannel\'s; the local subnet\'s cali /32s and blackhole are left alone', () => {
    const snapshot = cluster('vxlan');
    const expected = expectedRoutes(snapshot, 'node-1', { cni: 'canal' });
    expect(expected.routes.map(row)).toEqual(['10.244.1.0 10.244.1.0 255.255.255.0 UG 0 flannel.1', '10.244.2.0 10.244.2.0 255.255.255.0 UG 0 flannel.1']);
    expect(expected.ownedCIDRs).toEqual(['10.244.1.0/24', '10.244.2.0/24']);
    // The netns VXLAN table with the cni0 row replaced by what Canal shows instead (imitated rows).
    const table = capture('netns-flannel-vxlan-route-n.txt');
    table.routes.splice(1, 1,
      { destination: '10.244.0.0', gateway: '0.0.0.0', genmask: '255.255.255.0', flags: 'U', metric: 0, ref: 0, use: 0, iface: '*' },
      { destination: '10.244.0.2', gateway: '0.0.0.0', genmask: '255.255.255.255', flags: 'UH', metric: 0, ref: 0, use: 0, iface: 'cali5e1c4d6c68c' });
    const cmp = compareRoutes(expected, table);
    expect(cmp.findings).toEqual([]);
    expect(cmp.observed.map((r) => r.status)).toEqual(['unmanaged', 'unmanaged', 'unmanaged', 'ok', 'ok']);
    table.routes.pop();
    expect(compareRoutes(expected, table).findings.map((f) => `${f.kind} ${f.key}`)).toEqual(['missing 10.244.2.0/24']);
  });
});

describe('which nodes flannel routes to', () => {
  test('nodes flannel skips get no route, each with a note naming why', () => {
    const snapshot = cluster('vxlan', (i) => (i === 1 ? { kubeSubnetManager: false } : i === 2 ? null : {}));
    snapshot.nodes.push(makeNode('node-4', '10.130.29.83', { calico: {}, podCIDRs: ['10.244.3.0/24'], flannel: { kubeSubnetManager: true, backendType: 'host-gw', publicIP: '10.130.29.83', vni: null, vtepMAC: null } }));
    snapshot.nodes.push(makeNode('node-5', '10.130.29.84', { calico: {}, podCIDRs: [], flannel: { kubeSubnetManager: true, backendType: 'vxlan', publicIP: '10.130.29.84', vni: 1, vtepMAC: MACS[0]! } }));
    const expected = expectedRoutes(snapshot, 'node-1');
    expect(expected.routes.map((r) => r.destination)).toEqual(['10.244.0.0']);
    expect(expected.notes).toEqual([
      'node node-2: flannel programs no route to its pods, because its flannel.alpha.coreos.com/kube-subnet-manager annotation is not "true"',
      'node node-3: flannel programs no route to its pods, because it has no flannel.alpha.coreos.com annotations (flanneld has not run there yet)',
      'node node-4 runs flannel\'s host-gw backend, node-1 runs vxlan: flannel ignores a lease of another backend, so no route to its pods',
      'node node-5: flannel programs no route to its pods, because it has no IPv4 podCIDR',
    ]);
  });

  test('a node flanneld has not annotated has its cni0 row but no routes to others; other backends are not modelled', () => {
    const bare = expectedRoutes(cluster('vxlan', (i) => (i === 0 ? null : {})), 'node-1');
    expect(bare.routes.map((r) => r.iface)).toEqual(['cni0']);
    expect(bare.notes).toEqual(['node node-1 has no flannel.alpha.coreos.com annotations: flanneld has not run there, so it has no routes to other nodes\' pods']);
    const wireguard = expectedRoutes(cluster('vxlan', () => ({ backendType: 'wireguard' })), 'node-1');
    expect(wireguard.routes.map((r) => r.iface)).toEqual(['cni0']);
    expect(wireguard.notes[0]).toMatch(/runs flannel's wireguard backend; netlab models the vxlan and host-gw backends only/);
  });

  test('a row inside a node\'s subnet that flannel does not program is unexpected, in flannel\'s words', () => {
    const table = capture('netns-flannel-vxlan-route-n.txt');
    table.routes.push({ destination: '10.244.2.7', gateway: '0.0.0.0', genmask: '255.255.255.255', flags: 'UH', metric: 0, ref: 0, use: 0, iface: 'veth9' });
    const [finding] = compareRoutes(expectedRoutes(cluster('vxlan'), 'node-1'), table).findings;
    expect(finding).toMatchObject({ kind: 'unexpected', key: '10.244.2.7/32' });
    expect(finding!.message).toBe('Route 10.244.2.7/32 on node-1 is inside a node\'s pod subnet (10.244.0.0/24, 10.244.1.0/24, 10.244.2.0/24) but flannel does not program it.');
  });

  test('a VXLAN route sent to the public-ip instead of the subnet address is a gateway mismatch naming directRouting', () => {
    const table = capture('netns-flannel-vxlan-route-n.txt');
    table.routes[2] = { ...table.routes[2]!, gateway: '10.130.29.81', iface: 'eth0' };
    const [finding] = compareRoutes(expectedRoutes(cluster('vxlan'), 'node-1'), table).findings;
    expect(finding).toMatchObject({ kind: 'mismatch', key: '10.244.1.0/24', fields: ['gateway', 'iface'] });
    expect(finding!.cause).toMatch(/directRouting/);
  });
});
