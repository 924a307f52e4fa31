// The whole check on real kube-proxy v1.37.2 output (test/fixtures/kube-proxy-v1.37.2, see its README):
// NodePorts on docker0, a second NIC and the tunnel address; topology hints; a nil serving condition.
// A correct node passes with the node's addresses and without them.
import { fileURLToPath } from 'node:url';
import { checkLab } from '../../src/check/check.ts';
import type { Observation } from '../../src/observation/types.ts';
import { readObservationDir } from '../../src/observe/files.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';

const fixture = fileURLToPath(new URL('../fixtures/kube-proxy-v1.37.2/', import.meta.url));
let snapshot: ClusterSnapshot;
let observation: Observation;
beforeAll(async () => {
  snapshot = await loadSnapshotDir(`${fixture}snapshot`);
  observation = await readObservationDir(`${fixture}observed`);
});

const ipvsOf = (obs: Observation) => checkLab(snapshot, obs, { layers: ['ipvs'], nodes: ['node-1'] });
const withNode = (change: (node: Observation['nodes'][number]) => void): Observation => {
  const node = { ...observation.nodes[0]! };
  change(node);
  return { nodes: [node] };
};
const explanation = (report: ReturnType<typeof ipvsOf>, start: string) => report.sections.flatMap((s) => s.lines).find((l) => l.text.startsWith(start))!.explanation;

describe('kube-proxy v1.37.2 in the VM: the real node passes', () => {
  test('with ip-addr.txt: no findings, and each NodePort line names its interface', () => {
    const report = ipvsOf(observation);
    expect(report.layers.ipvs).toMatchObject({ status: 'pass', findings: [], notes: [] });
    expect(explanation(report, 'TCP  172.17.0.1:30714')).toContain('NodePort on 172.17.0.1, an address of this node on docker0');
    expect(explanation(report, 'TCP  192.168.77.5:30714')).toContain('on ens5');
    expect(explanation(report, 'TCP  10.244.20.1:30714')).toContain('on tunl0');
  });

  test('without ip-addr.txt: no findings; the NodePorts the Node object does not show are recognised by port', () => {
    const report = ipvsOf(withNode((node) => delete node.ipAddr));
    expect(report.layers.ipvs).toMatchObject({ status: 'pass', findings: [] });
    expect(explanation(report, 'TCP  172.17.0.1:30714')).toContain('recognised by its port');
    expect(explanation(report, 'TCP  10.0.2.15:30714')).toContain("the node's InternalIP");
    // the Node's ExternalIP is never expected: kube-proxy opened nothing there
    expect(snapshot.nodes.find((n) => n.name === 'node-1')!.addresses).toContainEqual({ type: 'ExternalIP', address: '203.0.113.50' });
  });

  test('the observed addresses are what the model uses: without docker0 in ip-addr.txt, its NodePort is unexpected', () => {
    const report = ipvsOf(withNode((node) => (node.ipAddr = (node.ipAddr as string).split('\n').filter((l) => !l.includes('docker0')).join('\n'))));
    expect(report.layers.ipvs.findings.map((f) => `${f.kind} ${f.key}`)).toEqual(['unexpected TCP 172.17.0.1:30714']);
  });

  test('topology and conditions as kube-proxy applied them, explained', () => {
    const report = ipvsOf(observation);
    const cart = snapshot.services.find((s) => s.name === 'cart')!.clusterIPs[0];
    expect(explanation(report, `TCP  ${cart}:80`)).toContain('Only same-zone endpoints (trafficDistribution: PreferClose)');
    expect(explanation(report, '  -> 10.244.21.51:8080')).toContain('a terminating endpoint that still serves, used because no endpoint is ready');
  });
});
