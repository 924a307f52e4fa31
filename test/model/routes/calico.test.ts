import { readFileSync } from 'node:fs';
import { parseRouteN } from '../../../src/parse/route.ts';
import { calicoVethName } from '../../../src/model/calico.ts';
import { expectedRoutes } from '../../../src/model/routes/index.ts';
import type { ExpectedRoute } from '../../../src/model/types.ts';
import { cidrContains } from '../../../src/net/ip.ts';
import { makeBlock, makeNode, makePod, makePool, makeSnapshot, makeWorkloadEndpoint } from '../builders.ts';

const row = (r: ExpectedRoute) => `${r.destination} ${r.gateway} ${r.genmask} ${r.flags} ${r.metric} ${r.ref} ${r.use} ${r.iface}`;
const rowFor = (routes: ExpectedRoute[], destination: string) => routes.find((r) => r.destination === destination);
/** The kernel's connected route of a /24 on `iface`, as an observed `route -n` row. */
const connected = (destination: string, iface: string) =>
  ({ destination, gateway: '0.0.0.0', genmask: '255.255.255.0', flags: 'U', metric: 0, ref: 0, use: 0, iface });

/** Three nodes in one /24, one block each, an IP-in-IP pool: the layout of the seed article's cluster. */
function threeNodes(poolOverrides = {}, nodeOverrides: Parameters<typeof makeNode>[2] = {}) {
  return makeSnapshot({
    nodes: [makeNode('node-1', '10.130.29.80', nodeOverrides), makeNode('node-2', '10.130.29.81'), makeNode('node-3', '10.130.29.82')],
    ipPools: [makePool('10.244.0.0/16', { blockSize: 24, ...poolOverrides })],
    ipamBlocks: [makeBlock('10.244.0.0/24', 'node-1'), makeBlock('10.244.1.0/24', 'node-2'), makeBlock('10.244.2.0/24', 'node-3')],
  });
}

describe('pod routes', () => {
  test('the veth is cali + 11 hex digits of sha1("<namespace>.<pod>"): the spec example default.nginx-7c5ddbdf54-abcde', () => {
    expect(calicoVethName('default', 'nginx-7c5ddbdf54-abcde')).toBe('cali306ce65e73b');
  });

  test('a pod without WorkloadEndpoint gets a /32 UH route to its computed veth', () => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'nginx-7c5ddbdf54-abcde', 'node-1', ['10.244.0.5'])];
    const route = rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.0.5')!;
    expect(row(route)).toBe('10.244.0.5 0.0.0.0 255.255.255.255 UH 0 0 0 cali306ce65e73b');
    expect(route.why).toEqual({ kind: 'pod', namespace: 'default', pod: 'nginx-7c5ddbdf54-abcde', node: 'node-1', interfaceFrom: 'sha1', metric: { value: 0, calicoVersion: null } });
  });

  test("the WorkloadEndpoint's interfaceName wins over the computed name", () => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'web', 'node-1', ['10.244.0.6'])];
    snapshot.workloadEndpoints = [makeWorkloadEndpoint('default', 'web', 'node-1', 'calirealname01', '10.244.0.6')];
    const route = rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.0.6')!;
    expect(route.iface).toBe('calirealname01');
    expect(route.why).toMatchObject({ kind: 'pod', interfaceFrom: 'workloadEndpoint' });
  });

  test('hostNetwork pods, finished pods, IPv6 pod IPs and pods of other nodes get no local route', () => {
    const snapshot = threeNodes();
    snapshot.pods = [
      makePod('kube-system', 'kube-proxy-x', 'node-1', ['10.130.29.80'], { hostNetwork: true }),
      makePod('default', 'job-done', 'node-1', ['10.244.0.7'], { phase: 'Succeeded' }),
      makePod('default', 'job-failed', 'node-1', ['10.244.0.8'], { phase: 'Failed' }),
      makePod('default', 'dual', 'node-1', ['10.244.0.9', 'fd00:10:244::9']),
      makePod('default', 'elsewhere', 'node-2', ['10.244.1.9']),
    ];
    const podRows = expectedRoutes(snapshot, 'node-1').routes.filter((r) => r.why.kind === 'pod');
    expect(podRows.map((r) => r.destination)).toEqual(['10.244.0.9']);
  });

  test.each([
    ['v3.32.1', 3, 32, 1024],
    ['v3.32.0-0.dev-41-g6e160cc396', 3, 32, 1024], // a pre-release counts as its release
    ['v4.0.0', 4, 0, 1024],
    ['v3.31.7', 3, 31, 0],
    ['v2.6.12', 2, 6, 0],
  ])('Calico %s (release %i.%i) gives pod routes metric %i', (text, major, minor, metric) => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'web', 'node-1', ['10.244.0.6'])];
    snapshot.calicoVersion = { where: 'calico.yaml: ClusterInformation default', text, release: { major, minor } };
    const routes = expectedRoutes(snapshot, 'node-1').routes;
    expect(rowFor(routes, '10.244.0.6')).toMatchObject({ metric, why: { metric: { value: metric, calicoVersion: text } } });
    expect(rowFor(routes, '10.244.0.0')!.metric).toBe(0); // block routes keep metric 0 in every release
  });

  test('a pod IP borrowed from another node\'s block still gets its /32 route, marked borrowed', () => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'borrower', 'node-1', ['10.244.2.77'])];
    const route = rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.2.77')!;
    expect(route.flags).toBe('UH');
    expect(route.why).toMatchObject({ kind: 'pod', borrowed: true });
  });
});

describe('blocks', () => {
  test("this node's IPAM block is a blackhole: gateway 0.0.0.0, flags U, iface *", () => {
    const route = rowFor(expectedRoutes(threeNodes(), 'node-1').routes, '10.244.0.0')!;
    expect(row(route)).toBe('10.244.0.0 0.0.0.0 255.255.255.0 U 0 0 0 *');
    expect(route.why).toEqual({ kind: 'blackhole', block: '10.244.0.0/24', node: 'node-1', blockFrom: 'ipamBlock' });
  });

  test('without affine IPAM blocks the nodes\' podCIDRs are the blocks (why.blockFrom = podCIDR)', () => {
    const snapshot = makeSnapshot({
      nodes: [
        makeNode('a', '172.18.0.2', { podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'] }),
        makeNode('b', '172.18.0.3', { podCIDRs: ['10.244.1.0/24'] }),
      ],
      ipamBlocks: [makeBlock('10.244.9.0/26', null)],
    });
    const routes = expectedRoutes(snapshot, 'a').routes;
    expect(routes.map(row)).toEqual(['10.244.0.0 0.0.0.0 255.255.255.0 U 0 0 0 *', '10.244.1.0 172.18.0.3 255.255.255.0 UG 0 0 0 tunl0']);
    expect(routes.every((r) => (r.why.kind === 'blackhole' || r.why.kind === 'remote-block') && r.why.blockFrom === 'podCIDR')).toBe(true);
  });

  test('without any pool, remote blocks use the encapsulationWithoutPool option (default IP-in-IP)', () => {
    const snapshot = makeSnapshot({
      nodes: [makeNode('a', '172.18.0.2', { podCIDRs: ['10.244.0.0/24'] }), makeNode('b', '172.18.0.3', { podCIDRs: ['10.244.1.0/24'] })],
    });
    expect(rowFor(expectedRoutes(snapshot, 'a').routes, '10.244.1.0')!.why).toMatchObject({ via: 'ipip', pool: null });
    const direct = expectedRoutes(snapshot, 'a', { encapsulationWithoutPool: { tunnel: 'none', mode: 'Never' }, observedRoutes: [connected('172.18.0.0', 'ens3')] });
    expect(row(rowFor(direct.routes, '10.244.1.0')!)).toBe('10.244.1.0 172.18.0.3 255.255.255.0 UG 0 0 0 ens3');
  });
});

describe('remote blocks by encapsulation', () => {
  test('IP-in-IP Always: via the owner\'s IPv4Address on tunl0, UG', () => {
    const route = rowFor(expectedRoutes(threeNodes(), 'node-1').routes, '10.244.1.0')!;
    expect(row(route)).toBe('10.244.1.0 10.130.29.81 255.255.255.0 UG 0 0 0 tunl0');
    expect(route.why).toEqual({ kind: 'remote-block', block: '10.244.1.0/24', node: 'node-2', nodeIP: '10.130.29.81', via: 'ipip', pool: 'default-ipv4-ippool', blockFrom: 'ipamBlock' });
  });

  test('the owner without IPv4Address annotation is reached through its InternalIP', () => {
    const snapshot = threeNodes();
    snapshot.nodes[1] = makeNode('node-2', '10.130.29.91', { calico: {} });
    expect(rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.1.0')!.gateway).toBe('10.130.29.91');
  });

  test('IP-in-IP CrossSubnet: a peer in this node\'s subnet directly on the host interface, others on tunl0', () => {
    const snapshot = threeNodes({ ipipMode: 'CrossSubnet' });
    snapshot.nodes[2] = makeNode('node-3', '10.130.30.82');
    const routes = expectedRoutes(snapshot, 'node-1', { observedRoutes: [connected('10.130.29.0', 'ens32')] }).routes;
    expect(row(rowFor(routes, '10.244.1.0')!)).toBe('10.244.1.0 10.130.29.81 255.255.255.0 UG 0 0 0 ens32');
    expect(row(rowFor(routes, '10.244.2.0')!)).toBe('10.244.2.0 10.130.30.82 255.255.255.0 UG 0 0 0 tunl0');
  });

  test('no encapsulation (Never): via the owner\'s address on the uplink; with its name unknown, Iface is left unchecked', () => {
    const routes = expectedRoutes(threeNodes({ ipipMode: 'Never' }), 'node-1').routes;
    expect(row(rowFor(routes, '10.244.2.0')!)).toBe('10.244.2.0 10.130.29.82 255.255.255.0 UG 0 0 0 <uplink>');
    expect(rowFor(routes, '10.244.2.0')!).toMatchObject({ ifaceUnknown: true, why: { via: 'direct', uplink: { address: '10.130.29.80', from: 'unknown' } } });
  });

  test('VXLAN Always: via the owner\'s VTEP address on vxlan.calico', () => {
    const snapshot = threeNodes({ ipipMode: 'Never', vxlanMode: 'Always' });
    snapshot.nodes[1] = makeNode('node-2', '10.130.29.81', { calico: { ipv4Address: '10.130.29.81/24', vxlanTunnelAddr: '10.244.1.0' } });
    const route = rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.1.0')!;
    expect(row(route)).toBe('10.244.1.0 10.244.1.0 255.255.255.0 UG 0 0 0 vxlan.calico');
    expect(route.why).toMatchObject({ via: 'vxlan', nodeIP: '10.130.29.81' });
  });

  test('VXLAN CrossSubnet: a same-subnet peer directly, another subnet through its VTEP', () => {
    const snapshot = threeNodes({ ipipMode: 'Never', vxlanMode: 'CrossSubnet' });
    snapshot.nodes[0] = makeNode('node-1', '10.130.29.80', { calico: { ipv4Address: '10.130.29.80/24', interfaces: [{ name: 'ens192', addresses: ['10.130.29.80'] }] } });
    snapshot.nodes[2] = makeNode('node-3', '10.130.30.82', { calico: { ipv4Address: '10.130.30.82/24', vxlanTunnelAddr: '10.244.2.0' } });
    const routes = expectedRoutes(snapshot, 'node-1').routes;
    expect(row(rowFor(routes, '10.244.1.0')!)).toBe('10.244.1.0 10.130.29.81 255.255.255.0 UG 0 0 0 ens192');
    expect(row(rowFor(routes, '10.244.2.0')!)).toBe('10.244.2.0 10.244.2.0 255.255.255.0 UG 0 0 0 vxlan.calico');
  });

  test('no route when the VXLAN owner has no VTEP or the block\'s node is not in the snapshot', () => {
    const snapshot = threeNodes({ ipipMode: 'Never', vxlanMode: 'Always' });
    snapshot.ipamBlocks.push(makeBlock('10.244.3.0/24', 'node-gone'));
    const remote = expectedRoutes(snapshot, 'node-1').routes.filter((r) => r.why.kind === 'remote-block');
    expect(remote).toEqual([]);
  });

  test('a pod on another node with an IP borrowed from a block not its node\'s gets a /32 UGH route to that node', () => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'borrower', 'node-3', ['10.244.0.200']), makePod('default', 'at-home', 'node-3', ['10.244.2.5'])];
    const routes = expectedRoutes(snapshot, 'node-1').routes;
    expect(row(rowFor(routes, '10.244.0.200')!)).toBe('10.244.0.200 10.130.29.82 255.255.255.255 UGH 0 0 0 tunl0');
    expect(rowFor(routes, '10.244.0.200')!.why).toMatchObject({ kind: 'remote-block', node: 'node-3', borrowedBy: { namespace: 'default', pod: 'borrower' } });
    expect(rowFor(routes, '10.244.2.5')).toBeUndefined();
  });
});

describe('borrowed tunnel addresses (felix l3_route_resolver Borrowed, route_mgr/ipip_mgr/vxlan_mgr tunnel routes)', () => {
  test('IP-in-IP: node-3\'s tunl0 address in node-2\'s block gets a /32 UGH via node-3 on tunl0, on node-1', () => {
    const snapshot = threeNodes();
    snapshot.nodes[2] = makeNode('node-3', '10.130.29.82', { calico: { ipv4Address: '10.130.29.82/24', ipipTunnelAddr: '10.244.1.77' } });
    const route = rowFor(expectedRoutes(snapshot, 'node-1').routes, '10.244.1.77')!;
    expect(row(route)).toBe('10.244.1.77 10.130.29.82 255.255.255.255 UGH 0 0 0 tunl0');
    expect(route.why).toMatchObject({ kind: 'borrowed-tunnel', tunnel: 'ipip', node: 'node-3', block: '10.244.1.0/24', blockNode: 'node-2', via: 'ipip' });
  });

  test('no /32 for a tunnel address inside its own node\'s block, on its own node, or in a pool of another encapsulation', () => {
    const snapshot = threeNodes();
    snapshot.nodes[1] = makeNode('node-2', '10.130.29.81', { calico: { ipv4Address: '10.130.29.81/24', ipipTunnelAddr: '10.244.1.1', vxlanTunnelAddr: '10.244.0.9' } });
    const tunnelRows = (node: string) => expectedRoutes(snapshot, node).routes.filter((r) => r.why.kind === 'borrowed-tunnel');
    // 10.244.1.1 is in node-2's own block; 10.244.0.9 is a VXLAN address in an IP-in-IP pool: felix's VXLAN manager ignores it
    expect(tunnelRows('node-1')).toEqual([]);
    expect(tunnelRows('node-2')).toEqual([]);
  });
});

describe('pod IPs before the kubelet reports them (libcalico-go getPodIPs)', () => {
  test('status.podIPs empty: the address comes from cni.projectcalico.org/podIPs; status wins when both exist', () => {
    const snapshot = threeNodes();
    snapshot.pods = [
      makePod('default', 'early', 'node-1', [], { phase: 'Pending', calicoPodIPs: ['10.244.0.21'] }),
      makePod('default', 'reported', 'node-1', ['10.244.0.22'], { calicoPodIPs: ['10.244.0.99'] }),
    ];
    const podRows = expectedRoutes(snapshot, 'node-1').routes.filter((r) => r.why.kind === 'pod');
    expect(podRows.map((r) => r.destination)).toEqual(['10.244.0.21', '10.244.0.22']);
    expect(podRows[0]!.why).toMatchObject({ pod: 'early', ipFrom: 'calico-annotation' });
    expect(podRows[1]!.why).not.toHaveProperty('ipFrom');
  });

  test('a terminating pod keeps its route until Calico\'s CNI plugin empties the podIP annotation', () => {
    const snapshot = threeNodes();
    snapshot.pods = [
      makePod('default', 'going', 'node-1', ['10.244.0.23'], { terminating: true }),
      makePod('default', 'gone', 'node-1', ['10.244.0.24'], { terminating: true, calicoNetworkReleased: true }),
    ];
    expect(expectedRoutes(snapshot, 'node-1').routes.filter((r) => r.why.kind === 'pod').map((r) => r.destination)).toEqual(['10.244.0.23']);
  });
});

describe('table', () => {
  test('ownedCIDRs are the IP pools, else the routed podCIDRs', () => {
    expect(expectedRoutes(threeNodes(), 'node-1').ownedCIDRs).toEqual(['10.244.0.0/16']);
    const noPools = makeSnapshot({ nodes: [makeNode('a', '172.18.0.2', { podCIDRs: ['10.244.0.0/24'] }), makeNode('b', '172.18.0.3', { podCIDRs: ['10.244.1.0/24'] })] });
    expect(expectedRoutes(noPools, 'a').ownedCIDRs).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
  });

  test('rows come in /proc/net/route order: ascending destination, the longer prefix first', () => {
    const snapshot = threeNodes();
    snapshot.pods = [makePod('default', 'z', 'node-1', ['10.244.0.250']), makePod('default', 'a', 'node-1', ['10.244.0.0'])];
    const order = expectedRoutes(snapshot, 'node-1').routes.map((r) => `${r.destination}/${r.genmask}`);
    expect(order).toEqual([
      '10.244.0.0/255.255.255.255',
      '10.244.0.0/255.255.255.0',
      '10.244.0.250/255.255.255.255',
      '10.244.1.0/255.255.255.0',
      '10.244.2.0/255.255.255.0',
    ]);
  });

  test('an unknown node is an error naming the nodes there are', () => {
    expect(() => expectedRoutes(threeNodes(), 'node-9')).toThrow('node "node-9" is not in the snapshot (nodes: node-1, node-2, node-3)');
  });

  test('a bad pool CIDR is an error naming the pool', () => {
    expect(() => expectedRoutes(threeNodes({ cidr: '10.244.0.0/33' }), 'node-1')).toThrow(/^IPPool default-ipv4-ippool: /);
  });
});

describe('the seed article\'s cluster', () => {
  // test/fixtures/captures/seed-route-n.txt is the article's real `route -n` of node 10.130.29.80.
  const capture = parseRouteN(readFileSync(new URL('../../fixtures/captures/seed-route-n.txt', import.meta.url), 'utf8'), 'seed-route-n.txt');

  test("node-1's expected rows equal the capture's Calico rows, and the others are outside the pool", () => {
    const snapshot = threeNodes();
    const pods = [
      ['coredns-a', '10.244.0.137', 'calid3c6b0469a6'],
      ['coredns-b', '10.244.0.138', 'calidbc2311f514'],
      ['rpc-75d9b7d7c9-2zzrx', '10.244.0.140', 'califb4eac25ec6'],
    ] as const;
    snapshot.pods = pods.map(([name, ip]) => makePod('default', name, 'node-1', [ip]));
    snapshot.workloadEndpoints = pods.map(([name, ip, iface]) => makeWorkloadEndpoint('default', name, 'node-1', iface, ip));
    const expected = expectedRoutes(snapshot, 'node-1', { observedRoutes: capture.routes });
    const owned = (destination: string) => expected.ownedCIDRs.some((cidr) => cidrContains(cidr, destination));
    const calicoRows = capture.routes.filter((r) => owned(r.destination));
    expect(expected.routes.map(({ why: _, ...entry }) => entry)).toEqual(calicoRows);
    expect(calicoRows).toHaveLength(6);
    expect(capture.routes.filter((r) => !owned(r.destination)).map((r) => r.destination)).toEqual(['0.0.0.0', '10.130.29.0']);
  });
});
