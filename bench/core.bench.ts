// Benchmark of the pure core at scale (not a timed test): a synthetic cluster of 1,000 nodes, 10,000 services
// and 100,000 endpoints. For one node it renders the model's `ipvsadm -Ln` and `route -n`, parses them back
// and compares, printing each stage's time and memory, and the ratio of parsing to merely splitting lines.
// Run: npm run bench   (targets: IPVS check < 1 s and < 500 MB peak; parse within 5x of split)
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compareIpvs } from '../src/compare/ipvs.ts';
import { compareRoutes } from '../src/compare/routes/index.ts';
import { expectedIpvs } from '../src/model/ipvs.ts';
import { expectedRoutes } from '../src/model/routes/index.ts';
import { parseIpvsadm } from '../src/parse/ipvsadm.ts';
import { parseRouteN } from '../src/parse/route.ts';
import { renderIpvsadm } from '../src/render/ipvsadm.ts';
import { renderRouteN } from '../src/render/route.ts';
import { syntheticCluster as syntheticClusterOf } from './synthetic.ts';

const NODES = 1000;
const SERVICES = 10_000;
const ENDPOINTS_PER_SERVICE = 10; // 100,000 endpoints

/** The synthetic cluster of this benchmark (bench/synthetic.ts). */
const syntheticCluster = () => syntheticClusterOf({ nodes: NODES, services: SERVICES, endpointsPerService: ENDPOINTS_PER_SERVICE });

interface Timing { ms: number; cpuMs: number }
interface Row { stage: string; cold: Timing; warm: Timing[]; rssMB: number; note: string }
const rows: Row[] = [];

/** Wall time, and CPU time of this thread: on a shared machine the wall time also counts other processes' load. */
function timed<T>(fn: () => T): { result: T } & Timing {
  const cpu0 = process.threadCpuUsage();
  const t0 = performance.now();
  const result = fn();
  const ms = performance.now() - t0;
  const cpu = process.threadCpuUsage(cpu0);
  return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs a stage and records its timing; later runs of a stage of the same name count as warm runs. */
function stage<T>(name: string, fn: () => T, note: (r: T) => string = () => ''): T {
  const { result, ms, cpuMs } = timed(fn);
  const row = rows.find((r) => r.stage === name);
  if (row) row.warm.push({ ms, cpuMs });
  else rows.push({ stage: name, cold: { ms, cpuMs }, warm: [], rssMB: process.memoryUsage().rss / 2 ** 20, note: note(result) });
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/**
 * Median times of two functions run in turns, for the parse/split ratio: the median so that one GC pause
 * doesn't decide it, in turns so that a change in the machine's load affects both alike.
 */
function medianMsInTurns(a: () => unknown, b: () => unknown, runs: number): [number, number] {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    times[0].push(timed(a).ms);
    times[1].push(timed(b).ms);
  }
  return [median(times[0]), median(times[1])];
}

// No collection between building the cluster and the first check: a one-shot CLI goes straight from loading
// its snapshot to the check too. (A forced collection here made the first check slower, not faster: V8 then
// shrinks the young generation, and the check has to grow it again.)
const snapshot = stage('build synthetic cluster (not part of a check)', syntheticCluster, (s) => `${s.nodes.length} nodes, ${s.services.length} services, ${s.endpointSlices.reduce((n, e) => n + e.endpoints.length, 0)} endpoints`);
const node = 'node-0';

/** One node's full IPVS check, stage by stage: the first run is cold (a one-shot CLI), the others warm (the operator). */
function ipvsCheck() {
  const { result, ms } = timed(() => {
    const ipvs = stage('ipvs: model', () => expectedIpvs(snapshot, node), (r) => `${r.services.length} virtual servers, ${r.services.reduce((n, s) => n + s.realServers.length, 0)} real servers`);
    const text = stage('ipvs: render ipvsadm -Ln', () => renderIpvsadm({ services: ipvs.services }), (t) => `${(t.length / 2 ** 20).toFixed(1)} MiB of text`);
    const parsed = stage('ipvs: parse', () => parseIpvsadm(text, 'bench'));
    const cmp = stage('ipvs: compare', () => compareIpvs(ipvs, parsed), (c) => `${c.findings.length} findings`);
    return { text, findings: cmp.findings.length };
  });
  return { ms, ...result };
}
const cold = ipvsCheck();
const ipvsText = cold.text;
const ipvsWarm = median([1, 2, 3, 4, 5].map(() => ipvsCheck().ms));
const routes = stage('routes: model', () => expectedRoutes(snapshot, node), (r) => `${r.routes.length} rows`);
const routeText = stage('routes: render route -n', () => renderRouteN({ routes: routes.routes }));
const routeParsed = stage('routes: parse', () => parseRouteN(routeText, 'bench'));
stage('routes: compare', () => compareRoutes(routes, routeParsed), (c) => `${c.findings.length} findings`);

// The checks above leave an old generation full of garbage, often with a collection of it under way: parsing,
// which allocates 100,000 objects, would then pay for its marking phase and split would not. Collect it first.
v8.setFlagsFromString('--expose-gc'); // must be set before gc is first looked up
(runInNewContext('gc') as () => void)();
const RATIO_RUNS = 7;
const [splitMs, parseMs] = medianMsInTurns(() => ipvsText.split('\n'), () => parseIpvsadm(ipvsText, 'bench'), RATIO_RUNS);
const peakMB = process.resourceUsage().maxRSS / 1024;

const fixed = (value: number, width: number) => (Number.isNaN(value) ? '' : value.toFixed(0)).padStart(width);
console.log(`netlab core benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log('first run: wall and CPU time; warm: median of the next 5 runs. The CPU time is this thread\'s only, so other');
console.log('processes\' load does not count in it (the GC\'s helper threads do not either).\n');
console.log(`${'stage'.padEnd(46)} ${'first ms'.padStart(8)} ${'cpu ms'.padStart(7)} ${'warm ms'.padStart(8)} ${'cpu ms'.padStart(7)} ${'RSS MiB'.padStart(8)}  note`);
for (const r of rows) {
  const warm = [fixed(median(r.warm.map((w) => w.ms)), 8), fixed(median(r.warm.map((w) => w.cpuMs)), 7)].join(' ');
  console.log(`${r.stage.padEnd(46)} ${fixed(r.cold.ms, 8)} ${fixed(r.cold.cpuMs, 7)} ${warm} ${fixed(r.rssMB, 8)}  ${r.note}`);
}
console.log(`\none node's full IPVS check (model + render + parse + compare): first run ${cold.ms.toFixed(0)} ms, warm median of 5 ${ipvsWarm.toFixed(0)} ms (target < 1000 ms) ${cold.ms < 1000 ? 'OK' : ipvsWarm < 1000 ? 'OK warm only' : 'OVER'}`);
console.log(`peak RSS of the whole run: ${peakMB.toFixed(0)} MiB (target < 500 MiB) ${peakMB < 500 ? 'OK' : 'OVER'}`);
console.log(`parse vs split of the same ${(ipvsText.length / 2 ** 20).toFixed(1)} MiB text (median of ${RATIO_RUNS}, in turns): ${parseMs.toFixed(1)} ms vs ${splitMs.toFixed(1)} ms = ${(parseMs / splitMs).toFixed(2)}x (target <= 5x) ${parseMs / splitMs <= 5 ? 'OK' : 'OVER'}`);
if (cold.findings) console.log(`unexpected: ${cold.findings} findings on a rendered copy of the model`);
