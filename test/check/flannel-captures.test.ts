// The routes layer against real flanneld v0.28.10 output (test/fixtures/flannel-v0.28.10, see its README):
// flanneld annotated the Nodes in a real kube-apiserver and programmed node 1's routes in a network namespace,
// the real CNI bridge plugin made cni0 for its first pod.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkLab } from '../../src/check/check.ts';
import { expectedRoutes } from '../../src/model/routes/index.ts';
import { readObservationDir } from '../../src/observe/files.ts';
import { parseRouteN } from '../../src/parse/route.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';

const fixtures = fileURLToPath(new URL('../fixtures/flannel-v0.28.10/', import.meta.url));
const SETS = [
  { backend: 'vxlan', node: 'fl-vxlan-mx2p2xzy-1', rows: ['10.246.0.0 0.0.0.0 U cni0', '10.246.1.0 10.246.1.0 UG flannel.1', '10.246.2.0 10.246.2.0 UG flannel.1'] },
  { backend: 'host-gw', node: 'fl-host-gw-mx2p2xzy-1', rows: ['10.247.0.0 0.0.0.0 U cni0', '10.247.1.0 10.130.29.81 UG eth0', '10.247.2.0 10.130.29.82 UG eth0'] },
] as const;

describe.each(SETS)('real flanneld $backend output', ({ backend, node, rows }) => {
  test('passes the routes layer with no findings; the report names Flannel', async () => {
    const snapshot = await loadSnapshotDir(`${fixtures}${backend}/snapshot`);
    const report = checkLab(snapshot, await readObservationDir(`${fixtures}${backend}/observed`), { layers: ['routes'], nodes: [node] });
    expect(report.layers.routes.findings).toEqual([]);
    expect(report.layers.routes).toMatchObject({ status: 'pass', counts: { expected: 3, observed: 3 } });
    expect(report.cni).toEqual({ cni: 'flannel', evidence: 'Flannel (flannel.alpha.coreos.com annotations on 3 of 3 nodes)' });
  });

  test('the model\'s rows are exactly the flannel and cni0 rows flanneld and the bridge plugin made', async () => {
    const snapshot = await loadSnapshotDir(`${fixtures}${backend}/snapshot`);
    const table = parseRouteN(readFileSync(`${fixtures}${backend}/observed/${node}/route-n.txt`, 'utf8'));
    const expected = expectedRoutes(snapshot, node, { observedRoutes: table.routes });
    expect(expected.routes.map((r) => `${r.destination} ${r.gateway} ${r.flags} ${r.iface}`)).toEqual(rows);
    expect(expected.routes.map(({ why: _why, ...row }) => row)).toEqual(table.routes.filter((r) => r.destination.startsWith('10.24')));
    expect(expected.notes).toEqual([]);
  });

  test('flanneld\'s own annotations read as written (VXLAN: VNI 1 and the VTEP MAC; host-gw: backend-data "null")', async () => {
    const [view] = (await loadSnapshotDir(`${fixtures}${backend}/snapshot`)).nodes;
    expect(view!.flannel).toMatchObject({ kubeSubnetManager: true, backendType: backend, publicIP: '10.130.29.80' });
    if (backend === 'vxlan') expect(view!.flannel).toMatchObject({ vni: 1, vtepMAC: 'e6:4a:eb:28:94:dd' });
    else expect(view!.flannel).toMatchObject({ vni: null, vtepMAC: null });
  });
});
