// Leader election against the real kube-apiserver's Lease, when the leader is cut off without releasing
// it: its requests are never answered (a connection stalled on a starved node, a partition). It must stop
// leading within its renew deadline, and the standby must take the Lease once it has gone unrenewed for a
// lease duration. Seen on the emulated nodes: a standby's loop waiting on a request that never settled.
import { randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { kubeClient, type KubeClient } from '../../src/kube/client.ts';
import { jsonLogger } from '../../src/operator/log.ts';
import { LeaderElector } from '../../src/operator/leader.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { waitFor } from '../../harness/control-plane/cluster.ts';
import { describeReal } from '../harness/require-real.ts';
import { apply, deleteNamespace } from '../operator/support.ts';

const NS = `leader-${randomBytes(3).toString('hex')}`;
const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

/** The real client until cut(); after that no request settles unless its signal aborts it. */
function cuttable(client: KubeClient): KubeClient & { cut(): void } {
  let cut = false;
  return {
    cut: () => {
      cut = true;
    },
    request(method, path, body, options) {
      if (!cut) return client.request(method, path, body, options);
      return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(new Error(`${method} ${path}: ${String(options.signal?.reason)}`))));
    },
  };
}

describeReal('leader election through the real Lease API', (info) => {
  let admin: KubeClient;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    admin = kubeClient(adminKubeConfig(info));
    await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  afterAll(async () => {
    await Promise.all(electors.map((e) => e.stop().catch(() => {})));
    await deleteNamespace(admin, NS);
  });

  function elector(client: KubeClient, identity: string, lines: string[]): LeaderElector {
    const e = new LeaderElector(client, {
      namespace: NS,
      leaseName: 'cut-off',
      identity,
      ...TIMINGS,
      log: jsonLogger({ write: (line) => lines.push(line) }),
      onStartedLeading() {},
      onStoppedLeading() {},
    });
    electors.push(e);
    e.start();
    return e;
  }

  test('a leader whose requests are never answered steps down within its renew deadline; the standby takes the unreleased Lease once it expires', async () => {
    const cutOff = cuttable(kubeClient(adminKubeConfig(info)));
    const aLog: string[] = [];
    const bLog: string[] = [];
    const a = elector(cutOff, 'instance-a', aLog);
    await waitFor('instance-a to lead', async () => a.isLeader, 15_000);
    const b = elector(kubeClient(adminKubeConfig(info)), 'instance-b', bLog);
    await setTimeout(TIMINGS.retryPeriodMs * 4); // b has read the Lease a few times, held by a
    expect(b.isLeader).toBe(false);

    const cutAt = performance.now();
    cutOff.cut();
    await waitFor('instance-a to stop leading', async () => !a.isLeader, 15_000);
    const steppedDown = performance.now() - cutAt;
    await waitFor('instance-b to lead', async () => b.isLeader, 15_000);
    const tookOver = performance.now() - cutAt;

    // a stops after its renew deadline and at most one retry period and one stalled attempt more
    expect(steppedDown).toBeLessThan(TIMINGS.renewDeadlineMs * 2 + TIMINGS.retryPeriodMs + 1_000);
    // b waits for a whole lease duration without renewal, then takes it over
    expect(tookOver).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs);
    expect(tookOver).toBeLessThan(TIMINGS.leaseDurationMs * 2 + 2_000);
    const lease = (await admin.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/cut-off`)) as { spec: { holderIdentity: string; leaseTransitions: number } };
    expect(lease.spec).toMatchObject({ holderIdentity: 'instance-b', leaseTransitions: 1 });
    expect(bLog.some((l) => l.includes('held by another instance') && l.includes('instance-a'))).toBe(true);
    expect(aLog.some((l) => l.includes('could not reach the Lease') && l.includes('timeout'))).toBe(true);
    const taking = bLog.map((l) => JSON.parse(l) as { msg: string; why?: string }).find((l) => l.msg === 'taking the leader Lease');
    expect(taking?.why).toMatch(/^not renewed by instance-a for \d+ s$/);
  }, 60_000);
});
