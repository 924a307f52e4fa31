// Benchmark of the operator's start as whole processes (not a timed test): `--help` from the sources
// (src/operator/main.ts, about 1,100 modules) against the bundle the image runs (scripts/bundle-operator.ts).
// `--help` imports the whole module graph before it prints, and stops before any network, so the time is
// what a Pod spends loading code before it can log "starting". Runs alternate, so the machine's load hits
// both alike. Peak memory (RSS) from /usr/bin/time.
// Run: npm run bench:operator-start   (goal: the bundle starts in at most half the time)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BUNDLE_FILES, bundleOperator } from '../scripts/bundle-operator.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = 11;
const GOAL_RATIO = 2;

const work = mkdtempSync(path.join(os.tmpdir(), 'netlab-operator-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
bundleOperator(work);

const entries = [
  { name: 'sources (src/operator/main.ts)', script: path.join(ROOT, 'src/operator/main.ts') },
  { name: `bundle (${BUNDLE_FILES.script})`, script: path.join(work, BUNDLE_FILES.script) },
];
const samples = entries.map(() => ({ ms: [] as number[], rssKb: [] as number[] }));

for (let run = 0; run < RUNS; run++) {
  entries.forEach((entry, i) => {
    const began = performance.now();
    // node's compile cache off: a Pod's first start has none
    const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, entry.script, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    });
    const ms = performance.now() - began;
    if (result.status !== 0 || !result.stdout.startsWith('netlab operator:')) throw new Error(`${entry.name} --help failed: ${result.stderr}`);
    samples[i]!.ms.push(ms);
    samples[i]!.rssKb.push(Number(result.stderr.trim().split('\n').at(-1)));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`operator start (--help), median of ${RUNS}, ${os.cpus().length} × ${cpu}, node ${process.version}\n`);
entries.forEach((entry, i) => {
  process.stdout.write(`  ${entry.name.padEnd(36)} ${median(samples[i]!.ms).toFixed(0).padStart(6)} ms  ${(median(samples[i]!.rssKb) / 1024).toFixed(0).padStart(4)} MB peak RSS\n`);
});
const ratio = median(samples[0]!.ms) / median(samples[1]!.ms);
process.stdout.write(`  the bundle starts ${ratio.toFixed(1)}x as fast (goal: at least ${GOAL_RATIO}x)\n`);
if (ratio < GOAL_RATIO) process.exitCode = 1;
