// Benchmark of the operator at scale against the harness API server (not a timed test): loads 10,000
// Services and 50,000 endpoints (EndpointSlices of 5), starts the operator in-process and reports
//   - its memory once the caches are filled (goal: at most 100 MB + 5 KB per cached object),
//   - the time of one full IPVS check of a node (goal: under 2 s),
//   - the re-check after one Service change (goal: under 200 ms of the operator's own time),
//   - the change-to-status latency (goal: p99 under 2 s).
// The node's `ipvsadm -Ln` is SYNTHETIC here: rendered once from the model of the loaded cluster (kube-proxy in
// the TCG VM cannot program 10,000 Services in reasonable time), so the check does real parsing and comparing
// of a 10,000-service table; no fake stands in for the API server, the informers or the status writes.
// Run (with a control plane up: `npm run harness -- up`):
//   NETLAB_HARNESS_INFO=<info.json> node --expose-gc test/operator/scale.bench.ts [services=10000]
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { kubeClient, type KubeClient } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { runOperator } from '../../src/operator/operator.ts';
import { renderIpvsadm } from '../../src/render/ipvsadm.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { apply, conditionOf, deleteNamespace, getLab, installCrd, lab, waitForLab } from './support.ts';

const SERVICES = Number(process.argv[2] ?? 10_000);
const ENDPOINTS_PER_SERVICE = 5;
const NODE = 'bench-node';
const ns = `bench-${Date.now() % 100_000}`;
const infoFile = process.env.NETLAB_HARNESS_INFO;
if (!infoFile) throw new Error('set NETLAB_HARNESS_INFO to the info.json of a running control plane (npm run harness -- up)');
const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { kubeconfig: string };
const kc = new KubeConfig();
kc.loadFromFile(info.kubeconfig);
const admin = kubeClient(kc);

const gc = (globalThis as { gc?: () => void }).gc;
const heapMB = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const ms = (t: number) => `${Math.round(t)} ms`;

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function load(client: KubeClient): Promise<void> {
  const started = performance.now();
  await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await apply(client, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } } });
  const indexes = Array.from({ length: SERVICES }, (_, i) => i);
  await inParallel(indexes, 24, async (i) => {
    // No selector: the endpoint slice controller leaves these Services alone and the bench writes their slices.
    await client.request('POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    await client.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, e) => {
        const n = i * ENDPOINTS_PER_SERVICE + e;
        return { addresses: [`10.${64 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } };
      }),
    });
    if (i % 1000 === 999) process.stderr.write(`  loaded ${i + 1} Services\n`);
  });
  console.log(`load: ${SERVICES} Services, ${SERVICES * ENDPOINTS_PER_SERVICE} endpoints in ${ms(performance.now() - started)}`);
}

await installCrd(admin);
await load(admin);
const snapshot = await fetchSnapshot(kc);
const observedText = renderIpvsadm(expectedIpvs(snapshot, NODE));
console.log(`synthetic ipvsadm -Ln of ${NODE}: ${observedText.split('\n').length} lines, ${(observedText.length / 2 ** 20).toFixed(1)} MiB`);

const baseline = heapMB();
const startedAt = performance.now();
const operator = await runOperator({
  kubeConfig: kc,
  namespace: 'netlab-system',
  watchNamespace: ns,
  leaderElection: null,
  metricsPort: null,
  log: silentLogger,
  observers: { nodeExec: { exec: async () => ({ stdout: observedText, stderr: '', exitCode: 0 }) } },
});
await operator.ready(300_000);
const syncMs = performance.now() - startedAt;
const heap = heapMB() - baseline;
const cached = snapshot.services.length + snapshot.endpointSlices.length + snapshot.pods.length + snapshot.nodes.length + snapshot.namespaces.length;
console.log(`operator caches filled in ${ms(syncMs)}: +${heap.toFixed(1)} MB heap for ${cached} objects (${((heap * 1024) / cached).toFixed(2)} KB each); goal ${(100 + (5 * cached) / 1024).toFixed(0)} MB; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);

const histogram = operator.metrics.checkDuration;
const checkSum = () => Number(operator.metrics.registry.render().match(/^netlab_check_duration_seconds_sum (\S+)$/m)?.[1] ?? 0);
/** Waits for the check in progress to be counted, then returns its mean duration (ms) since `before`. */
async function checkMs(before: { sum: number; count: number }): Promise<number> {
  while (histogram.count() === before.count) await new Promise((resolve) => setTimeout(resolve, 10));
  return ((checkSum() - before.sum) * 1000) / (histogram.count() - before.count);
}

await apply(admin, lab(ns, 'bench', { checks: ['ipvs'], nodeSelector: { matchLabels: { 'kubernetes.io/hostname': NODE } }, interval: '24h' }));
const first = await waitForLab(admin, ns, 'bench', 'first check', (l) => conditionOf(l, 'IPVSVerified') !== undefined, 120_000);
console.log(`first full IPVS check of ${NODE} (${first.status!.layers!.ipvs!.expected} virtual servers): ${ms(await checkMs({ sum: 0, count: 0 }))}`);

const latencies: number[] = [];
const checkTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const before = (await getLab(admin, ns, 'bench')).status!.layers!.ipvs!.expected;
  const counted = { sum: checkSum(), count: histogram.count() };
  const t0 = performance.now();
  if (i % 2 === 0) await admin.request('POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'flip' }, spec: { ports: [{ port: 80, protocol: 'TCP' }] } });
  else await admin.request('DELETE', `/api/v1/namespaces/${ns}/services/flip`);
  await waitForLab(admin, ns, 'bench', 'the change in status', (l) => l.status?.layers?.ipvs?.expected !== before, 30_000);
  latencies.push(performance.now() - t0);
  checkTimes.push(await checkMs(counted));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the EndpointSlice echo of the change settle
}
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
console.log(`Service change -> status: p50 ${ms(pct(50))}, p99 ${ms(pct(99))}, max ${ms(sorted.at(-1)!)} (20 changes)`);
console.log(`re-check after one change (check duration, mean per change): ${checkTimes.map((t) => Math.round(t)).join(', ')} ms`);

await operator.stop();
await deleteNamespace(admin, ns);
await admin.request('DELETE', `/api/v1/nodes/${NODE}`).catch(() => {});
process.exit(0);
