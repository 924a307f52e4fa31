// The IPVS model against the real kube-proxy: kube-proxy (IPVS mode) runs in the node VM on Debian's
// kernel, watching the harness apiserver. The test creates Services and Pods, marks Pods ready as a kubelet
// would, lets kube-controller-manager build the EndpointSlices, and then compares the real `ipvsadm -Ln`
// (read through the VM's exec channel) with expectedIpvs() of a snapshot taken from the same apiserver.
// kube-proxy syncs on its own schedule, so every comparison polls until both sides agree, and each step
// also waits for the change it made to be visible, so "agree" never means "both still show the old state".
import { randomBytes } from 'node:crypto';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import { realServerKey, virtualServerKey } from '../../src/compare/keys.ts';
import type { Finding } from '../../src/compare/types.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { outputOf } from '../../src/observe/exec.ts';
import type { IpvsService, IpvsTable } from '../../src/parse/types.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { clientsFor, setPodReady, waitFor } from '../../harness/control-plane/cluster.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { readIpvs, signalKubeProxy, startKubeProxy } from '../../harness/vm/kube-proxy.ts';
import { describeVmWithKubeProxy } from '../harness/require-vm.ts';
import { createScenario, scenarioServices } from './service-scenario.ts';
import { startNodeVm } from '../../harness/vm/vm.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';

const NODE = 'netlab-vm-node';
// A second Node without a VM: its pods are remote endpoints for the VM's kube-proxy.
const OTHER_NODE = { name: 'netlab-ipvs-node-2', internalIP: '10.0.2.16', podCIDRs: ['10.244.1.0/24'] };
const ns = `ipvs-${randomBytes(2).toString('hex')}`;
const CONVERGE_TIMEOUT_MS = 60_000;
/** a step changes the cluster and waits for both sides (up to CONVERGE_TIMEOUT_MS, twice in some steps) */
const STEP_TIMEOUT_MS = 150_000;


function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `  ${f.kind} ${f.key}${f.fields.length ? ` [${f.fields.join(',')}]` : ''}\n    expected: ${f.expected ?? '-'}\n    observed: ${f.observed ?? '-'}`).join('\n');
}

describeVmWithKubeProxy('kube-proxy (IPVS mode) on a real kernel and the IPVS model agree', (info) => {
  const c = clientsFor(info.kubeconfig);
  const kc = adminKubeConfig(info);
  let vm: NodeVm;
  let clusterIPs = new Map<string, string>();
  let nodePorts = new Map<string, number>();

  /** The VM's IPVS table once the model of the current snapshot agrees with it and `settled` holds. */
  async function agreed(what: string, settled: (table: IpvsTable) => boolean = () => true): Promise<IpvsTable> {
    let last: { findings: Finding[]; table: IpvsTable } | null = null;
    try {
      return await waitFor(
        `IPVS and the model to agree: ${what}`,
        async () => {
          const snapshot = await fetchSnapshot(kc);
          const table = await readIpvs(vm);
          const { findings } = compareIpvs(expectedIpvs(snapshot, NODE), table);
          last = { findings, table };
          return findings.length === 0 && settled(table) ? table : null;
        },
        CONVERGE_TIMEOUT_MS,
      );
    } catch (err) {
      const state = last as { findings: Finding[]; table: IpvsTable } | null;
      if (state) (err as Error).message += `\nlast findings:\n${describeFindings(state.findings) || '  (none: the step condition did not hold)'}`;
      throw err;
    }
  }

  function virtualServer(table: IpvsTable, service: string, port = 80, protocol = 'TCP'): IpvsService | undefined {
    const address = clusterIPs.get(service);
    return table.services.find((s) => s.address === address && s.port === port && s.protocol === protocol);
  }

  const realServerAddresses = (vs: IpvsService | undefined) => (vs?.realServers ?? []).map((rs) => `${rs.address}:${rs.port}`).sort();

  beforeAll(async () => {
    vm = await startNodeVm({ nodeName: NODE, apiserverPort: info.apiserverPort, kubeProxy: true });
    ({ clusterIPs, nodePorts } = await createScenario(c, vm, { namespace: ns, node: NODE, other: OTHER_NODE }, scenarioServices()));
    const started = await startKubeProxy(vm, info, { scheduler: 'rr' });
    process.stderr.write(`netlab harness: kube-proxy in VM ${NODE}: first sync ${(started.firstSyncMs / 1000).toFixed(1)} s after start (VM boot ${(vm.bootMs / 1000).toFixed(1)} s)\n`);
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  test('ClusterIP, NodePort, ClientIP affinity, headless, endpoint-less and Local-policy services: ipvsadm -Ln has no findings against the model', async () => {
    const table = await agreed('initial services', (t) => realServerAddresses(virtualServer(t, 'web')).length === 3);
    expect(realServerAddresses(virtualServer(table, 'web'))).toEqual(['10.244.0.11:8080', '10.244.0.12:8080', '10.244.1.13:8080']);
    expect(realServerAddresses(virtualServer(table, 'web', 53, 'UDP'))).toEqual(['10.244.0.11:5353', '10.244.0.12:5353', '10.244.1.13:5353']);
    expect(virtualServer(table, 'sticky')?.persistent).toBe(600);
    expect(virtualServer(table, 'empty')?.realServers).toEqual([]);
    // the headless service has no ClusterIP, so no virtual server at all
    expect(clusterIPs.get('headless')).toBe('None');
    const onNodeIP = (service: string) => table.services.find((s) => s.address === vm.guestIP && s.port === nodePorts.get(service));
    expect(realServerAddresses(onNodeIP('web-np'))).toHaveLength(3);
    expect(realServerAddresses(onNodeIP('local-np'))).toEqual(['10.244.0.11:8080', '10.244.0.12:8080']);
    expect(realServerAddresses(onNodeIP('remote-np'))).toEqual(['10.244.1.21:8080']);
  }, STEP_TIMEOUT_MS);

  test('the model lists virtual servers and real servers in the order ipvsadm prints them', async () => {
    const table = await agreed('order check');
    const expected = expectedIpvs(await fetchSnapshot(kc), NODE);
    const lines = (services: IpvsService[]) => services.flatMap((s) => [virtualServerKey(s), ...s.realServers.map((rs) => `  -> ${realServerKey(rs)}`)]);
    expect(lines(table.services)).toEqual(lines(expected.services));
  }, STEP_TIMEOUT_MS);

  test('scaling down (a pod deleted): its real servers leave IPVS and the model together', async () => {
    await c.core.deleteNamespacedPod({ namespace: ns, name: 'web-3', gracePeriodSeconds: 0 });
    const table = await agreed('web-3 deleted', (t) => realServerAddresses(virtualServer(t, 'web')).length === 2);
    expect(realServerAddresses(virtualServer(table, 'web'))).toEqual(['10.244.0.11:8080', '10.244.0.12:8080']);
  }, STEP_TIMEOUT_MS);

  test('a pod marked not ready: its real servers leave IPVS and the model together, and come back when it is ready again', async () => {
    await setPodReady(c, ns, 'web-2', false);
    let table = await agreed('web-2 not ready', (t) => realServerAddresses(virtualServer(t, 'web')).length === 1);
    expect(realServerAddresses(virtualServer(table, 'sticky'))).toEqual(['10.244.0.11:8080']);
    await setPodReady(c, ns, 'web-2', true);
    table = await agreed('web-2 ready again', (t) => realServerAddresses(virtualServer(t, 'web')).length === 2);
    expect(realServerAddresses(virtualServer(table, 'sticky'))).toEqual(['10.244.0.11:8080', '10.244.0.12:8080']);
  }, STEP_TIMEOUT_MS);

  test('session affinity changed: persistence follows in IPVS and the model', async () => {
    await c.core.patchNamespacedService({ namespace: ns, name: 'sticky', body: [{ op: 'replace', path: '/spec/sessionAffinity', value: 'None' }, { op: 'remove', path: '/spec/sessionAffinityConfig' }] });
    let table = await agreed('sticky without affinity', (t) => virtualServer(t, 'sticky')?.persistent === null);
    expect(virtualServer(table, 'sticky')?.persistent).toBeNull();
    await c.core.patchNamespacedService({ namespace: ns, name: 'web', body: [{ op: 'replace', path: '/spec/sessionAffinity', value: 'ClientIP' }] });
    table = await agreed('web with default affinity', (t) => virtualServer(t, 'web')?.persistent !== null);
    expect(virtualServer(table, 'web')?.persistent).toBe(10800);
  }, STEP_TIMEOUT_MS);

  test('a deleted service: its virtual servers leave IPVS and the model together', async () => {
    await c.core.deleteNamespacedService({ namespace: ns, name: 'empty' });
    const table = await agreed('service empty deleted', (t) => virtualServer(t, 'empty') === undefined);
    expect(virtualServer(table, 'empty')).toBeUndefined();
  }, STEP_TIMEOUT_MS);

  test('a real server deleted behind kube-proxy\'s back is reported as exactly that one missing real server', async () => {
    await agreed('before the break');
    const vip = `${clusterIPs.get('web')}:80`;
    // Frozen, kube-proxy cannot repair the table before netlab looks at it.
    await signalKubeProxy(vm, 'STOP');
    try {
      await outputOf(vm, NODE, ['ipvsadm', '-d', '-t', vip, '-r', '10.244.0.12:8080']);
      const findings = compareIpvs(expectedIpvs(await fetchSnapshot(kc), NODE), await readIpvs(vm)).findings;
      expect(findings.map((f) => ({ kind: f.kind, key: f.key, node: f.node, layer: f.layer }))).toEqual([
        { kind: 'missing', key: `TCP ${vip} -> 10.244.0.12:8080`, node: NODE, layer: 'ipvs' },
      ]);
      expect(findings[0]!.message).toContain(`${ns}/web-2`);
    } finally {
      await signalKubeProxy(vm, 'CONT');
    }
    // kube-proxy compares with the kernel at every sync and puts it back
    const table = await agreed('kube-proxy repaired the table', (t) => realServerAddresses(virtualServer(t, 'web')).length === 2);
    expect(realServerAddresses(virtualServer(table, 'web'))).toContain('10.244.0.12:8080');
  }, STEP_TIMEOUT_MS);

  describe.each(['lc', 'sh', 'mh', 'rr'])('kube-proxy restarted with scheduler %s', (scheduler) => {
    test(`every virtual server uses ${scheduler}, in IPVS and in the model`, async () => {
      const started = await startKubeProxy(vm, info, { scheduler });
      process.stderr.write(`netlab harness: kube-proxy (scheduler ${scheduler}) first sync ${(started.firstSyncMs / 1000).toFixed(1)} s after restart\n`);
      const table = await agreed(`scheduler ${scheduler}`, (t) => t.services.every((s) => s.scheduler === scheduler));
      expect(new Set(table.services.map((s) => s.scheduler))).toEqual(new Set([scheduler]));
    }, 180_000);
  });
});
