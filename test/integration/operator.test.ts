// The operator in-process against the harness: the real kube-apiserver (informers, status subresource,
// Events, Leases) and the real CoreDNS (the DNS layer's observer queries it on its loopback port). Node
// layers (routes, IPVS) need the VM: see operator-vm.test.ts. Covered here: reaching Ready=True, a
// Service deleted and re-created followed within the latency bound, leader election between two
// instances, recovery from an API server outage (connections cut by a relay: changes made meanwhile are
// caught up; and a real restart of the kube-apiserver process), and a churn of Services with no false "False".
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeClient, type KubeClient } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { runOperator, type OperatorOptions, type RunningOperator } from '../../src/operator/operator.ts';
import { createDnsProber } from '../../src/observe/dns.ts';
import { adminKubeConfig, restartApiserver } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';
import { apply, conditionOf, deleteNamespace, getLab, harnessObservers, installCrd, kubeConfigVia, lab, labPath, recordLabStatuses, startTcpRelay, waitForLab, waitUntil, type LabObject } from '../operator/support.ts';

const ns = `op-${randomBytes(3).toString('hex')}`;
const OPERATOR_NS = 'netlab-system';

function service(name: string, labels: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

/**
 * A Lease of its own per test. A stopping leader releases it, so the other instance takes it within one retry
 * period; the renew deadline is long enough for a busy machine (with 4 s and 3 s, CI on 2026-12-01 saw the
 * leader write one status of the two expected, most likely having lost the Lease mid-test).
 */
const testLease = () => ({ leaseName: `netlab-test-${randomBytes(3).toString('hex')}`, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 500 });

const ready = (l: LabObject) => conditionOf(l, 'Ready')?.status === 'True' && l.status?.observedGeneration === l.metadata.generation;

describeReal('the operator against the real API server and CoreDNS', (info) => {
  let admin: KubeClient;
  let kc: KubeConfig;
  const running: RunningOperator[] = [];

  async function start(options: Partial<OperatorOptions> = {}): Promise<RunningOperator> {
    const operator = await runOperator({
      kubeConfig: kc,
      namespace: OPERATOR_NS,
      leaderElection: null,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      observers: harnessObservers(info),
      log: silentLogger,
      ...options,
    });
    running.push(operator);
    await operator.ready();
    return operator;
  }

  beforeAll(async () => {
    kc = adminKubeConfig(info);
    admin = kubeClient(kc);
    await installCrd(admin);
    for (const name of [ns, OPERATOR_NS]) await apply(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await apply(admin, service('web', { tier: 'front' }));
    await apply(admin, service('api', { tier: 'back' }));
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(admin, ns);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
  });

  test('a DNS lab reaches Ready=True against the real CoreDNS, with Events and metrics', async () => {
    const operator = await start();
    await apply(admin, lab(ns, 'dns', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10s' }));
    const done = await waitForLab(admin, ns, 'dns', 'Ready=True', ready);
    expect(conditionOf(done, 'DNSVerified')).toMatchObject({ status: 'True', reason: 'Verified' });
    expect(done.status!.layers!.dns!.expected).toBeGreaterThan(0);
    expect(done.status!.layers!.dns!.observed).toBe(done.status!.layers!.dns!.expected);
    // Events are recorded just after the status write: poll briefly rather than race it.
    const wanted = `DNSVerified set True: ${conditionOf(done, 'DNSVerified')!.message}`.slice(0, 1024);
    const eventMessages = async () => ((await admin.request('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name=dns`)) as { items: { message: string }[] }).items.map((e) => e.message);
    let messages = await eventMessages();
    for (let i = 0; i < 50 && !messages.includes(wanted); i++) {
      await new Promise((r) => setTimeout(r, 100));
      messages = await eventMessages();
    }
    expect(messages).toContain(wanted);
    // The check is counted when reconcile returns, just after its status write: poll briefly rather than race it.
    const scrape = async () => (await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).text();
    let metrics = await scrape();
    for (let i = 0; i < 50 && !/netlab_checks_total\{result="requeue"\} [1-9]/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await scrape();
    }
    expect(metrics).toMatch(/netlab_checks_total\{result="requeue"\} [1-9]/);
    expect(metrics).toContain(`netlab_findings{lab="${ns}/dns",layer="dns",converging="false"} 0`);
  }, 60_000);

  test('spec.services.selector narrows the DNS questions to the selected Services', async () => {
    await start();
    await apply(admin, lab(ns, 'front', { checks: ['dns'], services: { namespaces: [ns], selector: { matchLabels: { tier: 'front' } } }, interval: '10s' }));
    await apply(admin, lab(ns, 'all', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10s' }));
    const front = await waitForLab(admin, ns, 'front', 'Ready=True', ready);
    const all = await waitForLab(admin, ns, 'all', 'Ready=True', ready);
    expect(front.status!.layers!.dns!.expected).toBeLessThan(all.status!.layers!.dns!.expected);
  }, 60_000);

  test('a Service deleted and created again: the status follows each change within 2 s', async () => {
    await start();
    await apply(admin, service('flip'));
    await apply(admin, lab(ns, 'flip', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10m' }));
    let before = await waitForLab(admin, ns, 'flip', 'Ready=True', ready);
    const latencies: number[] = [];
    for (const step of ['delete', 'create', 'delete', 'create'] as const) {
      const expected = before.status!.layers!.dns!.expected;
      const changedAt = performance.now();
      if (step === 'delete') await admin.request('DELETE', `/api/v1/namespaces/${ns}/services/flip`);
      else await apply(admin, service('flip'));
      before = await waitForLab(admin, ns, 'flip', `${step}: expected DNS answers no longer ${expected}`, (l) => l.status?.layers?.dns?.expected !== expected, 10_000);
      latencies.push(Math.round(performance.now() - changedAt));
    }
    process.stderr.write(`operator: Service change to status, DNS lab (${before.status!.layers!.dns!.expected} queries), ms: ${latencies.join(', ')}\n`);
    for (const ms of latencies) expect(ms).toBeLessThan(2_000);
  }, 90_000);

  test('two instances: only the leader checks and writes; the other takes over when it stops', async () => {
    const lease = testLease();
    const a = await start({ leaderElection: lease, identity: 'instance-a' });
    const b = await start({ leaderElection: lease, identity: 'instance-b' });
    const leader = await waitUntil('a leader', async () => (a.isLeader() ? a : b.isLeader() ? b : null), 15_000);
    const follower = leader === a ? b : a;
    await apply(admin, lab(ns, 'elected', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10s' }));
    await waitForLab(admin, ns, 'elected', 'Ready=True', ready);
    await admin.request('PATCH', labPath(ns, 'elected'), { spec: { interval: '11s' } }, { contentType: 'application/merge-patch+json' });
    await waitForLab(admin, ns, 'elected', 'generation 2 observed', ready);
    expect(leader.isLeader()).toBe(true);
    expect(follower.isLeader()).toBe(false);
    expect(leader.metrics.statusWrites.get({ result: 'written' })).toBeGreaterThanOrEqual(2);
    expect(follower.metrics.statusWrites.get({ result: 'written' })).toBe(0);
    expect(follower.metrics.checks.get({ result: 'requeue' })).toBe(0);

    await leader.stop(); // releases the Lease
    await waitUntil('the follower to lead', async () => follower.isLeader(), 10_000);
    await admin.request('PATCH', labPath(ns, 'elected'), { spec: { interval: '12s' } }, { contentType: 'application/merge-patch+json' });
    await waitForLab(admin, ns, 'elected', 'generation 3 observed by the new leader', ready);
    expect(follower.metrics.statusWrites.get({ result: 'written' })).toBeGreaterThanOrEqual(1);
  }, 90_000);

  test('a check still running when the leader stops does not write its status afterwards', async () => {
    const lease = testLease();
    // DNS answers held back on request: the check that asks then runs past the leader's stop
    const real = harnessObservers(info).dns!;
    let hold: Promise<void> | null = null;
    let release = () => {};
    let held = false;
    const prober = { query: async (...args: Parameters<typeof real.prober.query>) => {
      if (hold) {
        held = true;
        await hold;
      }
      return real.prober.query(...args);
    } };
    const leader = await start({ leaderElection: lease, identity: 'slow-a', observers: { ...harnessObservers(info), dns: { ...real, prober } } });
    await waitUntil('leadership', async () => leader.isLeader() || null, 15_000);
    await apply(admin, lab(ns, 'outlived', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10s' }));
    const before = await waitForLab(admin, ns, 'outlived', 'Ready=True', ready);
    hold = new Promise((resolve) => (release = resolve));
    await admin.request('PATCH', labPath(ns, 'outlived'), { spec: { interval: '11s' } }, { contentType: 'application/merge-patch+json' });
    await waitUntil('the check of generation 2 to wait in the DNS prober', async () => held || null, 15_000);
    await leader.stop(); // the queue waits 10 s for the running check, then gives up on it
    const written = leader.metrics.statusWrites.get({ result: 'written' });
    release();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the check finishes and would write now
    expect(leader.metrics.statusWrites.get({ result: 'written' })).toBe(written);
    expect((await getLab(admin, ns, 'outlived')).status?.observedGeneration).toBe(before.status?.observedGeneration);
  }, 90_000);

  test('an API server outage: the watches recover, nothing crashes, and statuses resume', async () => {
    const relay = await startTcpRelay(info.apiserverPort);
    try {
      const operator = await start({ kubeConfig: kubeConfigVia(kc, relay.port) });
      await apply(admin, lab(ns, 'outage', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10m' }));
      const before = await waitForLab(admin, ns, 'outage', 'Ready=True', ready);
      await relay.cut();
      // While the operator cannot reach the API server, the cluster changes.
      await apply(admin, service('during-outage'));
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(operator.metrics.informerRestarts.get({ resource: 'services' })).toBeGreaterThan(0);
      await relay.restore();
      const after = await waitForLab(admin, ns, 'outage', 'the Service created during the outage is counted', (l) => (l.status?.layers?.dns?.expected ?? 0) > before.status!.layers!.dns!.expected, 45_000);
      expect(conditionOf(after, 'Ready')!.status).toBe('True');
      expect(await (await fetch(`http://127.0.0.1:${operator.httpPort}/readyz`)).text()).toBe('ok\n');
    } finally {
      await relay.close();
    }
  }, 120_000);

  test('a real API server restart: the operator stays up, its watches recover, and statuses resume', async () => {
    const operator = await start();
    const healthz = async () => (await fetch(`http://127.0.0.1:${operator.httpPort}/healthz`)).text();
    await apply(admin, lab(ns, 'restart', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10m' }));
    const before = await waitForLab(admin, ns, 'restart', 'Ready=True', ready);
    const restartsBefore = operator.metrics.informerRestarts.get({ resource: 'services' });
    const downMs = 4_000;
    const stoppedAt = performance.now();
    const restart = await restartApiserver(info, {
      whileDown: async () => {
        await new Promise((resolve) => setTimeout(resolve, downMs));
        expect(operator.metrics.informerRestarts.get({ resource: 'services' })).toBeGreaterThan(restartsBefore);
        expect(await healthz()).toBe('ok\n');
      },
    });
    const outageMs = Math.round(performance.now() - stoppedAt);
    const changedAt = performance.now();
    const created = (await apply(admin, service('after-restart'))) as { spec: { clusterIP: string } };
    const since = () => Math.round(performance.now() - changedAt);
    const counted = (l: LabObject) => (l.status?.layers?.dns?.expected ?? 0) > before.status!.layers!.dns!.expected;
    const name = `after-restart.${ns}.svc.${info.clusterDomain}`;
    const askCoreDns = () => createDnsProber().query({ name, type: 'A' }, { ...info.dns, transport: 'udp' });
    // Each client of the API server reconnects by itself, the operator, CoreDNS and the controller manager
    // alike (the suites after this one share them): time each.
    const [countedMs, coreDnsMs, sliceMs] = await Promise.all([
      waitForLab(admin, ns, 'restart', 'the Service created after the restart is counted', counted, 45_000).then(since),
      waitUntil('CoreDNS to answer for the Service created after the restart', async () => (await askCoreDns()).rcode === 'NOERROR', 60_000, 250).then(since),
      waitUntil('an EndpointSlice for the Service created after the restart', async () => {
        const slices = (await admin.request('GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io/service-name=after-restart`)) as { items: unknown[] };
        return slices.items.length > 0;
      }, 60_000, 250).then(since),
    ]);
    // If the lab was checked before CoreDNS knew the Service, that difference is converging: the lab looks
    // again when its grace period (30 s by default) ends.
    const after = await waitForLab(admin, ns, 'restart', 'Ready=True with the new Service', (l) => counted(l) && ready(l), 60_000);
    process.stderr.write(
      `operator: apiserver restart: SIGTERM to gone ${restart.stopMs} ms, down ${downMs} ms more, new process ready in ${restart.readyMs} ms ` +
        `(outage ${outageMs} ms); then a Service created: counted by the operator after ${countedMs} ms, answered by CoreDNS after ${coreDnsMs} ms, ` +
        `EndpointSlice after ${sliceMs} ms, lab Ready after ${since()} ms\n`,
    );
    expect(Date.parse(after.status!.lastCheckTime!)).toBeGreaterThan(Date.parse(before.status!.lastCheckTime!));
    expect(await healthz()).toBe('ok\n');
    expect(await askCoreDns()).toEqual({ rcode: 'NOERROR', answers: [{ name, type: 'A', data: created.spec.clusterIP }] });
  }, 150_000);

  test('a churn of Service creations and deletions never shows a false "False", and the lab ends Ready', async () => {
    await start();
    await apply(admin, lab(ns, 'churn', { checks: ['dns'], services: { namespaces: [ns] }, interval: '10m', gracePeriod: '30s' }));
    await waitForLab(admin, ns, 'churn', 'Ready=True', ready);
    const recorder = recordLabStatuses(kc, ns, 'churn');
    try {
      for (let round = 0; round < 30; round++) {
        const name = `churn-${round % 6}`;
        if (round % 2 === 0) await apply(admin, service(name));
        else await admin.request('DELETE', `/api/v1/namespaces/${ns}/services/churn-${(round - 1) % 6}`);
        await new Promise((resolve) => setTimeout(resolve, 50 + (round % 3) * 100));
      }
      const final = await waitForLab(admin, ns, 'churn', 'Ready=True after the churn', ready, 60_000);
      expect(conditionOf(final, 'DNSVerified')!.status).toBe('True');
      const falses = recorder.statuses.flatMap((l) => (l.status?.conditions ?? []).filter((c) => c.status === 'False' && c.type !== 'Progressing'));
      expect(falses).toEqual([]);
      process.stderr.write(`operator churn (DNS): ${recorder.statuses.length} status versions seen, reasons: ${[...new Set(recorder.statuses.map((l) => conditionOf(l, 'Ready')?.reason))].join(', ')}\n`);
    } finally {
      recorder.stop();
    }
    expect((await getLab(admin, ns, 'churn')).status!.findings).toEqual([]);
  }, 120_000);
});
