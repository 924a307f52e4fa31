// The operator's real entry point as a process against the harness API server, both as the sources
// (src/operator/main.ts, how `netlab` runs it on a workstation) and as the bundle the image runs
// (scripts/bundle-operator.ts): flags, structured JSON logs, /readyz, leader Lease, a status written, and
// a clean exit on SIGTERM that hands the Lease back. Its lab selects no node and no DNS, so the process sends no traffic anywhere but
// the API server (its default observers would ask the cluster's DNS IPs, which exist only in a cluster).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { kubeClient, type KubeClient } from '../../src/kube/client.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';
import { BUNDLE_FILES, bundleOperator } from '../../scripts/bundle-operator.ts';
import { apply, conditionOf, deleteNamespace, installCrd, lab, waitForLab, waitUntil } from '../operator/support.ts';

const root = path.resolve(import.meta.dirname, '../..');
/** Each entry point as [what it is, a function that gives its script and the directory to remove after] */
const ENTRY_POINTS: [string, () => { script: string; temporary?: string }][] = [
  ['the sources', () => ({ script: 'src/operator/main.ts' })],
  ['the bundle the image runs', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-operator-bundle-'));
    bundleOperator(dir);
    return { script: path.join(dir, BUNDLE_FILES.script), temporary: dir };
  }],
];

for (const [what, entryPoint] of ENTRY_POINTS) describeReal(`the operator process (${what})`, (info) => {
  const ns = `main-${randomBytes(3).toString('hex')}`;
  const lease = `netlab-main-${randomBytes(3).toString('hex')}`;
  let admin: KubeClient;
  let child: ChildProcess | undefined;
  let temporary: string | undefined;
  const logs: Record<string, unknown>[] = [];
  const unparsable: string[] = [];

  beforeAll(async () => {
    admin = kubeClient(adminKubeConfig(info));
    await installCrd(admin);
    for (const name of [ns, 'netlab-system']) await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await deleteNamespace(admin, ns);
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  });

  test('starts, leads, writes a status, logs JSON, and exits 0 on SIGTERM, releasing its Lease', async () => {
    const entry = entryPoint();
    temporary = entry.temporary;
    child = spawn(
      process.execPath,
      [entry.script, `--kubeconfig=${info.kubeconfig}`, '--namespace=netlab-system', `--watch-namespace=${ns}`, '--metrics-port=0', `--leader-election-id=${lease}`],
      { cwd: root, env: { ...process.env, POD_NAME: 'main-test' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        unparsable.push(line);
      }
    });
    const port = await waitUntil('the "starting" log line', async () => logs.find((l) => l.msg === 'starting')?.httpPort as number | undefined, 20_000);
    await waitUntil('/readyz 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000);
    await waitUntil('leadership', async () => logs.some((l) => l.msg === 'became the leader'), 20_000);
    // Without flags the Lease carries the default duration (else it never expires and no standby can take over
    // from a killed leader) and is renewed every 2 s (not in a busy loop): seen over 6.5 s, 3 or 4 renewals.
    const renewals = new Set<string>();
    let duration: number | undefined;
    for (const until = Date.now() + 6_500; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const { spec } = (await admin.request('GET', `/apis/coordination.k8s.io/v1/namespaces/netlab-system/leases/${lease}`)) as { spec: { renewTime: string; leaseDurationSeconds?: number } };
      renewals.add(spec.renewTime);
      duration = spec.leaseDurationSeconds;
    }
    expect(duration).toBe(15);
    expect(renewals.size).toBeGreaterThanOrEqual(3);
    expect(renewals.size).toBeLessThanOrEqual(5);

    await apply(admin, lab(ns, 'no-nodes', { checks: ['ipvs'], nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'no-such-node' } } }));
    const done = await waitForLab(admin, ns, 'no-nodes', 'Ready=True', (l) => conditionOf(l, 'Ready')?.status === 'True');
    expect(conditionOf(done, 'IPVSVerified')!.message).toBe('All 0 expected IPVS virtual servers match what was observed.');

    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running after 15 s'), 15_000))]);
    expect(code).toBe(0);
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    for (const entry of logs) expect(entry).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), msg: expect.any(String), instance: 'main-test' }));
    expect(unparsable.filter((l) => !l.includes('ExperimentalWarning') && !l.includes('--trace-warnings'))).toEqual([]);
    const held = (await admin.request('GET', `/apis/coordination.k8s.io/v1/namespaces/netlab-system/leases/${lease}`)) as { spec: { holderIdentity?: string } };
    expect(held.spec.holderIdentity ?? '').toBe('');
  }, 90_000);
});
