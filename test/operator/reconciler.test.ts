// The reconciler end to end over plain data: the seed cluster's snapshot (examples/seed/snapshot) and
// its real captured `route -n` / `ipvsadm -Ln` (examples/seed/observed/node-1). The cluster reader,
// node exec, status writer and event recorder are FAKES that hold plain data, so the test watches each
// decision: what status is written, when, which Events, which outcome.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Transition } from '../../src/operator/status.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { operatorMetrics } from '../../src/operator/metrics.ts';
import type { ExecResult, NodeExec } from '../../src/observe/exec.ts';
import type { Observers } from '../../src/operator/observe.ts';
import { Reconciler, type ClusterReader } from '../../src/operator/reconciler.ts';
import type { NetworkLabStatus } from '../../src/operator/status.ts';
import type { LabRef } from '../../src/operator/writes.ts';
import { LabGoneError } from '../../src/operator/writes.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { makeNode, makePod, makeSnapshot } from '../model/builders.ts';

const root = path.resolve(import.meta.dirname, '../..');
const observed = (file: string) => readFileSync(path.join(root, 'examples/seed/observed/node-1', file), 'utf8');
const KEY = 'default/seed';
const T0 = Date.parse('2026-11-25T12:00:00Z');

let snapshot: ClusterSnapshot;
beforeAll(async () => {
  snapshot = await loadSnapshotDir(path.join(root, 'examples/seed/snapshot'));
});

/** FAKE world: one lab object, a fixed snapshot, and node outputs a test may change. */
function world(spec: Record<string, unknown>, options: { informerLags?: boolean } = {}) {
  let now = T0;
  // stdout of a command that succeeds, an exec that breaks, or a command's whole result (a non-zero exit)
  const outputs: Record<string, string | Error | ExecResult> = { 'route -n': observed('route-n.txt'), 'ipvsadm -Ln': observed('ipvsadm-Ln.txt') };
  const ran: string[] = [];
  const lab = { object: { metadata: { namespace: 'default', name: 'seed', uid: 'uid-1', generation: 1 }, spec } as { metadata: Record<string, unknown>; spec: unknown }, status: undefined as NetworkLabStatus | undefined };
  let labPresent = true;
  let notReady: string | null = null;
  const writes: NetworkLabStatus[] = [];
  const events: Transition[] = [];
  let writeError: Error | null = null;
  const cluster: ClusterReader = {
    notReady: () => notReady,
    lab: () => (labPresent ? { metadata: { resourceVersion: String(writes.length + 1) }, view: lab, error: null } : undefined),
    snapshot: () => snapshot,
  };
  const nodeExec: NodeExec = {
    async exec(_node, argv) {
      ran.push(argv.join(' '));
      const out = outputs[argv.join(' ')];
      // Commands the test gives no output for fail as on a node without them (ip -o addr: the model then infers the NodePort addresses).
      if (out === undefined) return { stdout: '', stderr: `sh: ${argv[0]}: not found`, exitCode: 127 };
      if (out instanceof Error) throw out;
      return typeof out === 'string' ? { stdout: out, stderr: '', exitCode: 0 } : out;
    },
  };
  const observers: Observers = {
    nodeExec,
    dns: { prober: { query: async () => ({ rcode: 'NOERROR', answers: [] }) }, servers: () => [] },
    resolvConf: { namespace: 'default', dnsPolicy: 'ClusterFirst', read: async () => readFileSync(path.join(root, 'examples/seed/observed/resolv.conf'), 'utf8') },
  };
  const metrics = operatorMetrics();
  const reconciler = new Reconciler({
    cluster,
    observers,
    writer: {
      async write(_ref: LabRef, status: NetworkLabStatus) {
        if (writeError) throw writeError;
        writes.push(status);
        if (!options.informerLags) lab.status = status; // what the informer would bring back
      },
    },
    events: { record: async (_ref, t) => void events.push(t) },
    metrics,
    log: silentLogger,
    now: () => now,
  });
  return {
    reconciler,
    outputs,
    ran,
    metrics,
    writes,
    events,
    lab,
    setNow: (t: number) => (now = t),
    setNotReady: (why: string | null) => (notReady = why),
    removeLab: () => (labPresent = false),
    failWrites: (error: Error | null) => (writeError = error),
    condition: (type: string) => writes.at(-1)?.conditions.find((c) => c.type === type),
  };
}

const node1 = { matchLabels: { 'kubernetes.io/hostname': 'node-1' } };

test('the seed cluster checks clean on node-1: Ready True, one write, an Event per condition, re-check at the interval', async () => {
  const w = world({ checks: ['routes', 'ipvs', 'resolvconf'], nodeSelector: node1, interval: '60s', gracePeriod: '30s' });
  expect(await w.reconciler.reconcile(KEY)).toEqual({ kind: 'requeueAfter', ms: 60_000 });
  expect(w.writes).toHaveLength(1);
  expect(w.writes[0]!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
    'RoutesVerified=True',
    'IPVSVerified=True',
    'ResolvConfVerified=True',
    'Ready=True',
    'Progressing=False',
  ]);
  expect(w.writes[0]!.layers.routes).toEqual({ expected: 6, observed: 6, missing: 0, unexpected: 0, mismatched: 0 });
  expect(w.events.map((e) => `${e.type}:${e.from}->${e.to}`)).toEqual(['RoutesVerified:null->True', 'IPVSVerified:null->True', 'ResolvConfVerified:null->True', 'Ready:null->True', 'Progressing:null->False']);
  // nothing changed: no second write, no Event
  w.setNow(T0 + 5_000);
  await w.reconciler.reconcile(KEY);
  expect(w.writes).toHaveLength(1);
  expect(w.events).toHaveLength(5);
});

test('a real server removed behind kube-proxy\'s back turns IPVSVerified False at once (no change was seen)', async () => {
  const w = world({ checks: ['ipvs'], nodeSelector: node1 });
  await w.reconciler.reconcile(KEY);
  w.outputs['ipvsadm -Ln'] = observed('ipvsadm-Ln.txt').replace(/^ {2}-> 10\.244\.0\.138:53 .*\n/m, '');
  w.setNow(T0 + 10_000);
  await w.reconciler.reconcile(KEY);
  expect(w.condition('IPVSVerified')).toMatchObject({ status: 'False', reason: 'Mismatched' });
  expect(w.writes.at(-1)!.findings.map((f) => `${f.kind} ${f.key}`)).toEqual([expect.stringMatching(/^missing .*10\.96\.0\.10:53.*10\.244\.0\.138:53/)]);
  expect(w.events.at(-2)).toMatchObject({ type: 'IPVSVerified', from: 'True', to: 'False' });
  // the fix brings it back
  w.outputs['ipvsadm -Ln'] = observed('ipvsadm-Ln.txt');
  w.setNow(T0 + 20_000);
  await w.reconciler.reconcile(KEY);
  expect(w.condition('IPVSVerified')).toMatchObject({ status: 'True', reason: 'Verified' });
});

test('a difference right after a change is Converging until the grace period ends, then False; latency is measured when it clears', async () => {
  const w = world({ checks: ['ipvs'], nodeSelector: node1, gracePeriod: '30s' });
  await w.reconciler.reconcile(KEY); // learns the lab's nodes
  w.reconciler.noteChange(KEY, { at: T0 + 1_000, what: 'EndpointSlice kube-system/kube-dns-abc updated' });
  w.outputs['ipvsadm -Ln'] = observed('ipvsadm-Ln.txt').replace(/^ {2}-> 10\.244\.0\.138:53 .*\n/m, '');
  w.setNow(T0 + 1_200);
  const outcome = await w.reconciler.reconcile(KEY);
  expect(w.condition('IPVSVerified')).toMatchObject({ status: 'Unknown', reason: 'Converging' });
  expect(w.condition('Ready')).toMatchObject({ status: 'Unknown', reason: 'Converging' });
  expect(outcome).toEqual({ kind: 'requeueAfter', ms: 1_000 }); // polls while node-1 has not caught up
  w.setNow(T0 + 31_300);
  expect(await w.reconciler.reconcile(KEY)).toEqual({ kind: 'requeueAfter', ms: 1_000 });
  expect(w.condition('IPVSVerified')).toMatchObject({ status: 'False', reason: 'Mismatched' });
  // kube-proxy finally catches up: True again, and the latency is on the status
  w.outputs['ipvsadm -Ln'] = observed('ipvsadm-Ln.txt');
  w.setNow(T0 + 40_000);
  await w.reconciler.reconcile(KEY);
  expect(w.condition('IPVSVerified')!.status).toBe('True');
  expect(w.writes.at(-1)!.programmingLatency).toEqual([
    { node: 'node-1', change: 'EndpointSlice kube-system/kube-dns-abc updated', changedAt: '2026-11-25T12:00:01.000Z', observedAt: '2026-11-25T12:00:40.000Z', seconds: 39 },
  ]);
});

test('a probe that fails makes the layer Unknown naming the node; the check itself still succeeds', async () => {
  const w = world({ checks: ['routes', 'ipvs'], nodeSelector: node1 });
  w.outputs['ipvsadm -Ln'] = new Error('`ipvsadm -Ln` on node node-1 (pod netlab-system/netlab-probe-x) timed out after 10000 ms');
  expect((await w.reconciler.reconcile(KEY)).kind).toBe('requeueAfter');
  expect(w.condition('RoutesVerified')!.status).toBe('True');
  expect(w.condition('IPVSVerified')).toMatchObject({ status: 'Unknown', reason: 'ProbeFailed' });
  expect(w.condition('IPVSVerified')!.message).toContain('node node-1');
  expect(w.events.find((e) => e.type === 'IPVSVerified')).toMatchObject({ to: 'Unknown', reason: 'ProbeFailed' });
});

describe('kube-proxy in nftables and iptables mode (its real v1.37.2 output and the snapshot of the same moment)', () => {
  const useCapture = (mode: 'nftables' | 'iptables') => {
    snapshot = JSON.parse(readCapture(`vm-kube-proxy-${mode}-final-snapshot.json`)) as ClusterSnapshot;
    return { matchLabels: { 'kubernetes.io/hostname': `netlab-${mode}-node` } };
  };
  let seedSnapshot: ClusterSnapshot;
  beforeEach(() => (seedSnapshot = snapshot));
  afterEach(() => (snapshot = seedSnapshot));

  test.each([
    ['nftables', 'nft list table ip kube-proxy', 'NFTablesVerified'],
    ['iptables', 'iptables-save', 'IPTablesVerified'],
  ] as const)('"services" follows kube-proxy\'s ConfigMap to %s mode: the probe runs `%s`, the condition is %s', async (mode, command, type) => {
    const nodeSelector = useCapture(mode);
    const w = world({ checks: ['services'], nodeSelector });
    w.outputs[command] = readCapture(`vm-kube-proxy-${mode}-final.txt`);
    await w.reconciler.reconcile(KEY);
    expect(w.ran.sort()).toEqual([command, 'ip -o addr'].sort());
    expect(w.writes[0]!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([`${type}=True`, 'Ready=True', 'Progressing=False']);
    expect(w.writes[0]!.serviceLayer).toEqual({ mode, status: 'True' });
    expect(Object.keys(w.writes[0]!.layers)).toEqual([mode]);
  });

  test('a lab that names ipvs keeps checking IPVS whatever kube-proxy\'s mode', async () => {
    const w = world({ checks: ['ipvs'], nodeSelector: useCapture('nftables') });
    await w.reconciler.reconcile(KEY);
    expect(w.ran.sort()).toEqual(['ip -o addr', 'ipvsadm -Ln']);
    expect(w.writes[0]!.serviceLayer).toEqual({ mode: 'ipvs', status: 'False' });
  });

  test('when kube-proxy\'s ConfigMap changes mode, a "services" lab checks the new mode and drops the old layer\'s condition and metrics', async () => {
    const w = world({ checks: ['services'], nodeSelector: node1 });
    await w.reconciler.reconcile(KEY);
    expect(w.writes.at(-1)!.serviceLayer).toEqual({ mode: 'ipvs', status: 'True' });
    expect(w.metrics.findings.render()).toContain('netlab_findings{lab="default/seed",layer="ipvs",converging="false"} 0');
    snapshot = { ...snapshot, kubeProxy: { ...snapshot.kubeProxy, mode: 'nftables' } };
    w.outputs['nft list table ip kube-proxy'] = { stdout: '', stderr: 'Error: No such file or directory\nlist table ip kube-proxy\n              ^^^^^^^^^^\n', exitCode: 1 };
    w.setNow(T0 + 10_000);
    await w.reconciler.reconcile(KEY);
    expect(w.writes.at(-1)!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['NFTablesVerified=Unknown', 'Ready=Unknown', 'Progressing=False']);
    expect(w.ran.slice(-2).sort()).toEqual(['ip -o addr', 'nft list table ip kube-proxy']);
    expect(w.metrics.findings.render()).not.toContain('layer="ipvs"');
    expect(w.metrics.findings.render()).toContain('netlab_findings{lab="default/seed",layer="nftables",converging="false"} 0');
  });

  test('an absent kube-proxy table makes NFTablesVerified Unknown, naming the node, the command and what it means', async () => {
    const w = world({ checks: ['routes', 'nftables'], nodeSelector: useCapture('nftables') });
    // nft 1.0.6's own words (read on a real kernel, in a network namespace without the table)
    w.outputs['nft list table ip kube-proxy'] = { stdout: '', stderr: 'Error: No such file or directory\nlist table ip kube-proxy\n              ^^^^^^^^^^\n', exitCode: 1 };
    expect((await w.reconciler.reconcile(KEY)).kind).toBe('requeueAfter');
    expect(w.condition('NFTablesVerified')).toMatchObject({ status: 'Unknown', reason: 'ProbeFailed' });
    expect(w.condition('NFTablesVerified')!.message.startsWith(
      'Could not observe: node netlab-nftables-node: nft list table ip kube-proxy failed: `nft list table ip kube-proxy` on node netlab-nftables-node: the node has no table ip kube-proxy (nft: "No such file or directory"): kube-proxy does not run in nftables mode there, or has not programmed it yet.',
    )).toBe(true);
    expect(w.writes[0]!.serviceLayer).toEqual({ mode: 'nftables', status: 'Unknown' });
  });

  test('iptables-save refused (no NET_ADMIN) is Unknown with the tool\'s own words', async () => {
    const w = world({ checks: ['iptables'], nodeSelector: useCapture('iptables') });
    w.outputs['iptables-save'] = { stdout: '', stderr: 'iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n', exitCode: 4 };
    await w.reconciler.reconcile(KEY);
    expect(w.condition('IPTablesVerified')).toMatchObject({ status: 'Unknown', reason: 'ProbeFailed' });
    expect(w.condition('IPTablesVerified')!.message).toContain('`iptables-save` on node netlab-iptables-node: exit code 4: iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied');
  });
});

test('an invalid spec is reported on the lab and not retried; a missing lab or cold caches are handled', async () => {
  const bad = world({ interval: '1s' });
  const outcome = await bad.reconciler.reconcile(KEY);
  expect(outcome.kind).toBe('terminal');
  expect(bad.condition('Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec', message: 'NetworkLab default/seed: spec.interval must be between 10s and 24h, got 1s' });

  const cold = world({});
  cold.setNotReady('waiting for the first list of pods');
  expect(await cold.reconciler.reconcile(KEY)).toEqual({ kind: 'requeueAfter', ms: 1000, why: 'waiting for the first list of pods' });
  cold.setNotReady(null);
  cold.removeLab();
  expect(await cold.reconciler.reconcile(KEY)).toEqual({ kind: 'ok' });
  expect(cold.writes).toHaveLength(0);
});

test('a failed status write is a transient outcome (retried with backoff); a lab deleted meanwhile is not', async () => {
  const w = world({ checks: ['routes'], nodeSelector: node1 });
  w.failWrites(new Error('PUT .../status: 503 ServiceUnavailable'));
  expect(await w.reconciler.reconcile(KEY)).toMatchObject({ kind: 'transient', error: { message: 'PUT .../status: 503 ServiceUnavailable' } });
  w.failWrites(new LabGoneError({ namespace: 'default', name: 'seed', uid: 'uid-1' }));
  expect(await w.reconciler.reconcile(KEY)).toEqual({ kind: 'ok' });
});

test('an informer that has not yet delivered our own write does not cause a second write or repeated Events', async () => {
  const w = world({ checks: ['routes'], nodeSelector: node1 }, { informerLags: true });
  await w.reconciler.reconcile(KEY);
  w.setNow(T0 + 1_000);
  await w.reconciler.reconcile(KEY);
  expect(w.writes).toHaveLength(1);
  expect(w.events.map((e) => e.type)).toEqual(['RoutesVerified', 'Ready', 'Progressing']);
});

test('the RoutesVerified message names the CNI: Calico on the seed; Flannel on a Flannel cluster, with its finding when a route goes', async () => {
  const seed = world({ checks: ['routes'], nodeSelector: node1, interval: '60s', gracePeriod: '0s' });
  await seed.reconciler.reconcile(KEY);
  expect(seed.condition('RoutesVerified')!.message).toBe('All 6 expected routes match what was observed. Note: CNI: Calico (1 IP pool, 3 IPAM blocks, projectcalico.org annotations on 3 nodes); '
    + 'which Calico runs is not known (no ClusterInformation default with spec.calicoVersion), so pod routes are expected with metric 0, as Calico before v3.32 programs them (v3.32 and later: 1024); the metric is not compared');

  // A Flannel cluster: node annotations as flanneld writes them (imitated), and real `route -n` text from a
  // namespace programmed the way flannel does (test/fixtures/captures/netns-flannel-vxlan-route-n.txt).
  const seedSnapshot = snapshot;
  snapshot = makeSnapshot({
    nodes: [0, 1, 2].map((i) => makeNode(`node-${i + 1}`, `10.130.29.8${i}`, {
      labels: { 'kubernetes.io/hostname': `node-${i + 1}` },
      calico: {},
      podCIDRs: [`10.244.${i}.0/24`],
      flannel: { kubeSubnetManager: true, backendType: 'vxlan', publicIP: `10.130.29.8${i}`, vni: 1, vtepMAC: `5a:1c:9e:3f:20:0${i + 1}` },
    })),
    pods: [makePod('default', 'web', 'node-1', ['10.244.0.2'])],
  });
  try {
    const w = world({ checks: ['routes'], nodeSelector: node1, interval: '60s', gracePeriod: '0s' });
    w.outputs['route -n'] = readCapture('netns-flannel-vxlan-route-n.txt');
    await w.reconciler.reconcile(KEY);
    expect(w.condition('RoutesVerified')).toMatchObject({ status: 'True', message: 'All 3 expected routes match what was observed. Note: CNI: Flannel (flannel.alpha.coreos.com annotations on 3 of 3 nodes)' });
    w.outputs['route -n'] = readCapture('netns-flannel-vxlan-route-n.txt').replace(/^10\.244\.2\.0 .*\n/m, '');
    w.setNow(T0 + 60_000);
    await w.reconciler.reconcile(KEY);
    expect(w.condition('RoutesVerified')!.status).toBe('False');
    expect(w.condition('RoutesVerified')!.message).toMatch(/^1 difference \(1 missing\)\. First: Route 10\.244\.2\.0\/24 to the pods of node node-3 \(through flannel\.1 \(VXLAN\)\) is missing on node-1/);
    expect(w.writes.at(-1)!.findings[0]!.cause).toMatch(/flanneld on node-1 has not programmed node node-3's subnet/);
  } finally {
    snapshot = seedSnapshot;
  }
});

test('the last check of each lab is kept for the page, with the conditions it wrote; a forgotten lab leaves it', async () => {
  const w = world({ checks: ['routes', 'ipvs'], nodeSelector: node1 });
  expect(w.reconciler.results().labs.size).toBe(0);
  await w.reconciler.reconcile(KEY);
  const { version, labs } = w.reconciler.results();
  const check = labs.get(KEY)!;
  expect(check.report.layers.routes.status).toBe('pass');
  expect(check.observation.nodes.map((n) => n.node)).toEqual(['node-1']);
  expect(check.conditions).toEqual(w.writes[0]!.conditions);
  w.reconciler.forget(KEY);
  expect(w.reconciler.results().labs.size).toBe(0);
  expect(w.reconciler.results().version).toBeGreaterThan(version);
});
