// The routes layer against real Calico v3.32.1 output (test/fixtures/calico-v3.32.1, see its README): felix
// programmed every route of node-1 there. Where a rule needs a situation the captures do not show, the test
// changes a copy of the real objects in memory and says what it changed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkLab } from '../../src/check/check.ts';
import { expectedRoutes } from '../../src/model/routes/index.ts';
import { readObservationDir } from '../../src/observe/files.ts';
import { parseRouteN } from '../../src/parse/route.ts';
import { buildSnapshot, type SnapshotInput } from '../../src/snapshot/build.ts';
import { loadSnapshotDir, parseSnapshotFile } from '../../src/snapshot/load.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const fixtures = fileURLToPath(new URL('../fixtures/calico-v3.32.1/', import.meta.url));
const SETS = ['ipip', 'ipip-kubelet', 'vxlan', 'vxlan-kubelet'] as const;
const routeN = (set: string) => readFileSync(`${fixtures}${set}/observed/node-1/route-n.txt`, 'utf8');

/** The capture's raw objects, to change a copy before building the snapshot. */
function rawObjects(set: string): SnapshotInput[] {
  return ['cluster.yaml', 'calico.yaml'].flatMap((file) => parseSnapshotFile(file, readFileSync(`${fixtures}${set}/snapshot/${file}`, 'utf8')));
}

type Raw = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; status?: Record<string, unknown>; spec?: Record<string, unknown> };
const find = (inputs: SnapshotInput[], kind: string, name: string) => inputs.map((i) => i.object as Raw).find((o) => o.kind === kind && o.metadata.name === name)!;

describe.each(SETS)('the real %s capture', (set) => {
  test('passes the routes layer with no findings, and the report says it found Calico', async () => {
    const snapshot = await loadSnapshotDir(`${fixtures}${set}/snapshot`);
    const observation = await readObservationDir(`${fixtures}${set}/observed`);
    const report = checkLab(snapshot, observation, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings).toEqual([]);
    expect(report.layers.routes.status).toBe('pass');
    expect(report.cni).toEqual({ cni: 'calico', evidence: 'Calico (1 IP pool, 3 IPAM blocks, projectcalico.org annotations on 3 nodes)' });
    expect(report.layers.routes.notes[0]).toBe(`CNI: ${report.cni!.evidence}`);
  });
});

describe('issue 10, point 4: the uplink is the interface holding the node\'s address, never a fixed eth0', () => {
  test('in the real vxlan capture, Calico\'s Interfaces annotation and the connected route both name eth0 for 10.130.29.80', async () => {
    const snapshot = await loadSnapshotDir(`${fixtures}vxlan/snapshot`);
    // Changed copy: the pool becomes no-encapsulation, so node-1 must route node-2's and node-3's blocks directly.
    snapshot.ipPools = snapshot.ipPools.map((pool) => ({ ...pool, vxlanMode: 'Never', ipipMode: 'Never' }));
    const viaAnnotation = expectedRoutes(snapshot, 'node-1').routes.find((r) => r.destination === '10.244.5.0')!;
    expect(viaAnnotation).toMatchObject({ gateway: '10.130.29.81', flags: 'UG', iface: 'eth0', why: { via: 'direct', uplink: { address: '10.130.29.80', from: 'calico-interfaces' } } });

    const node1 = snapshot.nodes.find((n) => n.name === 'node-1')!;
    delete node1.calico.interfaces;
    const real = parseRouteN(routeN('vxlan'), 'route-n.txt').routes;
    const viaRoute = expectedRoutes(snapshot, 'node-1', { observedRoutes: real }).routes.find((r) => r.destination === '10.244.5.0')!;
    expect(viaRoute).toMatchObject({ iface: 'eth0', why: { uplink: { from: 'connected-route' } } });
  });

  test('with ip-addr.txt observed, its interface wins over the annotation (real ip -o addr: ens5 holds 10.130.29.80)', async () => {
    const snapshot = await loadSnapshotDir(`${fixtures}vxlan/snapshot`);
    snapshot.ipPools = snapshot.ipPools.map((pool) => ({ ...pool, vxlanMode: 'Never', ipipMode: 'Never' })); // changed copy, as above
    const ipAddr = readCapture('netns-ip-o-addr.txt');
    const report = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN: routeN('vxlan'), ipAddr }] }, { layers: ['routes'], nodes: ['node-1'] });
    const direct = report.layers.routes.findings.find((f) => f.key === '10.244.5.0/24')!;
    expect(direct.expected).toMatch(/10\.130\.29\.81 +255\.255\.255\.0 +UG +0 +0 +0 ens5$/);
  });

  test('an uplink called ens192 gives no false mismatch; an unnamed uplink is not compared on Iface', async () => {
    // Changed copy of the real ipip capture: no encapsulation, node-1's uplink renamed ens192 in its annotation,
    // and route -n rows for the direct routes written the way the kernel prints them (imitated rows).
    const inputs = rawObjects('ipip');
    const pool = find(inputs, 'IPPool', 'default-ipv4-ippool');
    pool.spec!.ipipMode = 'Never';
    find(inputs, 'Node', 'node-1').metadata.annotations!['projectcalico.org/Interfaces'] = '[{"name":"ens192","addresses":["10.130.29.80"]}]';
    const observed = routeN('ipip')
      .replace('10.130.29.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0', '10.130.29.0     0.0.0.0         255.255.255.0   U     0      0        0 ens192')
      .replace(/10\.130\.29\.(8[12])    255\.255\.255\.0   UG    0      0        0 tunl0/g, '10.130.29.$1    255.255.255.0   UG    0      0        0 ens192');
    const report = checkLab(buildSnapshot(inputs), { nodes: [{ node: 'node-1', routeN: observed }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings).toEqual([]);

    delete find(inputs, 'Node', 'node-1').metadata.annotations!['projectcalico.org/Interfaces'];
    const unnamed = buildSnapshot(inputs);
    const expected = expectedRoutes(unnamed, 'node-1');
    expect(expected.routes.find((r) => r.destination === '10.244.45.0')).toMatchObject({ iface: '<uplink>', ifaceUnknown: true });
    expect(expected.notes).toContainEqual(expect.stringContaining('the name of the interface holding 10.130.29.80 is unknown'));
  });
});

describe('issue 10, point 5: another node\'s borrowed VXLAN tunnel address gets a /32 UH on vxlan.calico', () => {
  // Changed copy of the real vxlan capture: node-2's VTEP address moved into node-1's block 10.244.25.0/24
  // (as when Calico borrows from another node's block). No real capture shows this; the rule is felix's
  // (calc/l3_route_resolver.go marks the route Borrowed, vxlan_mgr.go tunnelRoute gives it no gateway).
  function borrowedSnapshot() {
    const inputs = rawObjects('vxlan');
    find(inputs, 'Node', 'node-2').metadata.annotations!['projectcalico.org/IPv4VXLANTunnelAddr'] = '10.244.25.200';
    return buildSnapshot(inputs);
  }

  test('node-1 expects the /32 with no gateway and routes node-2\'s block via the borrowed VTEP', () => {
    const routes = expectedRoutes(borrowedSnapshot(), 'node-1').routes;
    const tunnel = routes.find((r) => r.destination === '10.244.25.200')!;
    expect(tunnel).toMatchObject({ gateway: '0.0.0.0', genmask: '255.255.255.255', flags: 'UH', metric: 0, iface: 'vxlan.calico' });
    expect(tunnel.why).toEqual({ kind: 'borrowed-tunnel', address: '10.244.25.200', tunnel: 'vxlan', node: 'node-2', nodeIP: '10.130.29.81', block: '10.244.25.0/24', blockNode: 'node-1', via: 'vxlan' });
    expect(routes.find((r) => r.destination === '10.244.5.0')).toMatchObject({ gateway: '10.244.25.200', iface: 'vxlan.calico' });
  });

  test('its absence is a missing finding that says why the /32 matters; node-2 itself expects no such row', () => {
    const snapshot = borrowedSnapshot();
    const observed = routeN('vxlan').replace('10.244.5.0      10.244.5.1 ', '10.244.5.0      10.244.25.200');
    const report = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN: observed }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings.map((f) => `${f.kind} ${f.key}`)).toEqual(['missing 10.244.25.200/32']);
    expect(report.layers.routes.findings[0]!.message).toMatch(/tunnel address of node node-2 \(borrowed from block 10\.244\.25\.0\/24 of node-1\)/);
    expect(expectedRoutes(snapshot, 'node-2').routes.some((r) => r.destination === '10.244.25.200')).toBe(false);
  });
});

describe('issue 10, point 6: pod IPs from Calico\'s annotations before the kubelet reports them', () => {
  test('the real ipip-kubelet capture with status.podIP(s) removed still expects the pod\'s /32, and passes', () => {
    // Changed copy: the pod's status.podIP and status.podIPs deleted, the moment before the kubelet reports them;
    // the real pod carries cni.projectcalico.org/podIP(s) 10.244.25.22/32, written by Calico's CNI plugin.
    const inputs = rawObjects('ipip-kubelet');
    const pod = find(inputs, 'Pod', 'web');
    delete pod.status!.podIP;
    delete pod.status!.podIPs;
    const snapshot = buildSnapshot(inputs);
    const route = expectedRoutes(snapshot, 'node-1').routes.find((r) => r.destination === '10.244.25.22')!;
    expect(route).toMatchObject({ flags: 'UH', iface: 'cali68caf03a5f4', why: { kind: 'pod', ipFrom: 'calico-annotation' } });
    const report = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN: routeN('ipip-kubelet') }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings).toEqual([]);
  });

  test('a deleted pod whose podIP annotation Calico emptied has no route any more (libcalico-go IsFinished)', () => {
    const inputs = rawObjects('ipip-kubelet');
    const pod = find(inputs, 'Pod', 'web') as Raw & { metadata: { deletionTimestamp?: string } };
    pod.metadata.deletionTimestamp = '2026-11-30T01:20:00Z';
    pod.metadata.annotations!['cni.projectcalico.org/podIP'] = '';
    pod.metadata.annotations!['cni.projectcalico.org/podIPs'] = '';
    const routes = expectedRoutes(buildSnapshot(inputs), 'node-1').routes;
    expect(routes.some((r) => r.destination === '10.244.25.22')).toBe(false);
  });
});

describe('issue 10, point 7: the pod routes\' metric follows Calico\'s version; Calico\'s IPAM chose the blocks', () => {
  // The captures hold no ClusterInformation; calico-node's startup (v3.32.1) wrote ClusterInformation default with
  // spec.calicoVersion "v3.32.1" there (libcalico-go ensureClusterInformation), so these tests add that object.
  const clusterInformation = (calicoVersion: unknown): SnapshotInput => ({
    source: 'clusterinformation.yaml',
    object: { apiVersion: 'crd.projectcalico.org/v1', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion, clusterType: 'k8s,kdd', datastoreReady: true } },
  });
  const rendered = (r: { destination: string; gateway: string; genmask: string; flags: string; metric: number; iface: string }) => [r.destination, r.gateway, r.genmask, r.flags, r.metric, r.iface].join(' ');
  const realRows = (set: string) => parseRouteN(routeN(set), 'route-n.txt').routes.map(rendered);

  test.each(SETS)('with calicoVersion v3.32.1 every expected row of %s, metric included, is a real row, and the check is clean', (set) => {
    const snapshot = buildSnapshot([...rawObjects(set), clusterInformation('v3.32.1')]);
    const expected = expectedRoutes(snapshot, 'node-1');
    const pods = expected.routes.filter((r) => r.why.kind === 'pod');
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.map((r) => r.metric)).toEqual(pods.map(() => 1024));
    expect(expected.routes.map(rendered).filter((row) => !realRows(set).includes(row))).toEqual([]);
    expect(expected.notes.filter((note) => note.includes('metric'))).toEqual([]); // read, not assumed: the explanation names the version
    const report = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN: routeN(set) }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings).toEqual([]);
  });

  test('v3.31.7, no ClusterInformation and an unreadable calicoVersion give metric 0; the note says why, naming the object and value', () => {
    const podMetric = (inputs: SnapshotInput[]) => {
      const expected = expectedRoutes(buildSnapshot(inputs), 'node-1');
      return { metric: expected.routes.find((r) => r.destination === '10.244.25.1')!.metric, note: expected.notes[0] };
    };
    expect(podMetric([...rawObjects('ipip'), clusterInformation('v3.31.7')])).toEqual({ metric: 0, note: undefined });
    expect(podMetric(rawObjects('ipip')).metric).toBe(0);
    expect(podMetric(rawObjects('ipip')).note).toMatch(/^which Calico runs is not known \(no ClusterInformation default with spec\.calicoVersion\), so pod routes are expected with metric 0/);
    expect(podMetric([...rawObjects('ipip'), clusterInformation('master')])).toEqual({
      metric: 0,
      note: 'clusterinformation.yaml: ClusterInformation default: spec.calicoVersion "master" is not a version such as v3.32.1, so pod routes are expected with metric 0, as Calico before v3.32 programs them (v3.32 and later: 1024); the metric is not compared',
    });
    // a YAML number (calicoVersion: 3.32 unquoted) is not read as a version either
    expect(podMetric([...rawObjects('ipip'), clusterInformation(3.32)]).note).toMatch(/^clusterinformation\.yaml: ClusterInformation default: spec\.calicoVersion "3\.32" is not a version/);
    // the real route -n shows 1024 all the same: the metric is not compared, so the check stays clean
    const report = checkLab(buildSnapshot(rawObjects('ipip')), { nodes: [{ node: 'node-1', routeN: routeN('ipip') }] }, { layers: ['routes'], nodes: ['node-1'] });
    expect(report.layers.routes.findings).toEqual([]);
  });

  test('the explanations say Calico\'s IPAM chose node-1\'s block 10.244.25.0/24 (not the learner, not the podCIDR), and which Calico set the metric', () => {
    const snapshot = buildSnapshot([...rawObjects('ipip'), clusterInformation('v3.32.1')]);
    const report = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN: routeN('ipip') }] }, { layers: ['routes'], nodes: ['node-1'] });
    const lines = report.sections.find((s) => s.layer === 'routes')!.lines;
    const explanation = (start: string) => lines.find((l) => l.text.startsWith(start))!.explanation;
    expect(explanation('10.244.25.0 ')).toMatch(/^Block 10\.244\.25\.0\/24 belongs to this node \(node-1\): Calico's IPAM chose this block for the node, not you and not the node's podCIDR/);
    expect(explanation('10.244.5.0 ')).toMatch(/^Pods of block 10\.244\.5\.0\/24 live on node node-2 \(Calico's IPAM chose this block for the node, not you/);
    expect(explanation('10.244.25.1 ')).toMatch(/Metric 1024: what Calico v3.32.1 gives pod routes \(0 before v3\.32, 1024 since\); netlab does not compare it\.$/);
  });
});
