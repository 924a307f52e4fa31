// Benchmark of the command line as whole processes (not a timed test): how long `netlab --help`, `parse` and
// `explain` take against a bare `node -e 0`, and `netlab parse ipvsadm FILE --json` end to end on a listing of
// 10,000 virtual servers and 100,000 real servers against a process that only reads the same file, splits it
// into lines and prints them as JSON. Commands run in turns, so a change in the machine's load hits all alike.
// Run: npm run bench:cli   (goals: start within 150 ms of bare node; parse within 5x of the split process)
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { IpvsService } from '../src/parse/types.ts';
import { renderIpvsadm } from '../src/render/ipvsadm.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NETLAB = path.join(ROOT, 'bin/netlab.js');
const ROUTES = path.join(ROOT, 'test/fixtures/captures/seed-route-n.txt');
const RUNS = 15;
const START_GOAL_MS = 150;
const PARSE_GOAL_RATIO = 5;

const work = mkdtempSync(path.join(os.tmpdir(), 'netlab-cli-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

/** The listing a node with 10,000 ClusterIP Services of 10 endpoints each shows (7 MiB). */
function bigListing(): string {
  const ip = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const services: IpvsService[] = [];
  for (let s = 0; s < 10_000; s++) {
    const realServers = Array.from({ length: 10 }, (_, e) => ({
      address: ip((10 << 24) + s * 10 + e + 2), port: 8080, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0,
    }));
    services.push({ protocol: 'TCP', address: ip(((10 << 24) | (96 << 16)) + 16 + s), port: 80, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [], realServers });
  }
  return renderIpvsadm({ services });
}
const listing = path.join(work, 'ipvsadm-Ln.txt');
writeFileSync(listing, bigListing());
const split = path.join(work, 'split.js');
writeFileSync(split, "const lines = require('node:fs').readFileSync(process.argv[2], 'utf8').split('\\n');\nprocess.stdout.write(JSON.stringify(lines) + '\\n');\n");

interface Command {
  name: string;
  args: string[];
  /** write stdout to a file, as `> file` would (the big outputs); otherwise it goes to /dev/null */
  toFile?: boolean;
}
const BARE: Command = { name: 'node -e 0', args: ['-e', '0'] };
const STARTS: Command[] = [
  { name: 'netlab --help', args: [NETLAB, '--help'] },
  { name: 'netlab parse route (8 rows) --json', args: [NETLAB, 'parse', 'route', ROUTES, '--json'] },
  { name: 'netlab explain (8 rows) --format route', args: [NETLAB, 'explain', ROUTES, '--format', 'route'] },
];
const SPLIT: Command = { name: 'node split.js (read, split, print JSON)', args: [split, listing], toFile: true };
const PARSE: Command = { name: 'netlab parse ipvsadm --json', args: [NETLAB, 'parse', 'ipvsadm', listing, '--json'], toFile: true };

// A fresh compile cache: the first run of each netlab command fills it (a first start after install), the rest use it.
const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: path.join(work, 'compile-cache') };
delete env.NODE_DISABLE_COMPILE_CACHE;

/** CPU time (user + system) of this process's waited-for children so far, in ms: fields cutime and cstime of /proc/self/stat. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // after "pid (comm) ", field 16 (cutime) is index 13 and field 17 (cstime) index 14; clock ticks of 10 ms
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

interface Timing { wallMs: number; cpuMs: number }

function run(command: Command): Timing {
  const out = command.toFile ? openSync(path.join(work, 'out.json'), 'w') : 'ignore';
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const result = spawnSync(process.execPath, command.args, { env, stdio: ['ignore', out, 'pipe'] });
  const wallMs = performance.now() - t0;
  const cpuMs = childrenCpuMs() - cpu0;
  if (typeof out === 'number') closeSync(out);
  if (result.status !== 0) throw new Error(`${command.name} exited ${result.status}: ${result.stderr.toString()}`);
  return { wallMs, cpuMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The first run of each command, then RUNS runs of all of them in turns. */
function measure(commands: Command[]): Map<Command, { first: Timing; wall: number; cpu: number }> {
  const first = new Map(commands.map((c) => [c, run(c)] as const));
  const runs = new Map<Command, Timing[]>(commands.map((c) => [c, []]));
  for (let i = 0; i < RUNS; i++) for (const c of commands) runs.get(c)!.push(run(c));
  return new Map(commands.map((c) => {
    const timings = runs.get(c)!;
    // CPU: the mean, since one run is a few clock ticks; wall: the median, so that one stall does not decide it
    return [c, { first: first.get(c)!, wall: median(timings.map((t) => t.wallMs)), cpu: timings.reduce((n, t) => n + t.cpuMs, 0) / RUNS }];
  }));
}

const ms = (value: number, width = 7) => value.toFixed(0).padStart(width);
console.log(`netlab command-line benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
console.log(`first: the first run (an empty compile cache); wall: median of ${RUNS} runs in turns; cpu: mean user + system time.\n`);

const starts = measure([BARE, ...STARTS]);
const bare = starts.get(BARE)!;
console.log(`${'start-up'.padEnd(42)} ${'first'.padStart(7)} ${'wall'.padStart(7)} ${'cpu'.padStart(7)}   over bare node (goal < ${START_GOAL_MS} ms)`);
for (const [command, t] of starts) {
  const [overWall, overCpu] = [t.wall - bare.wall, t.cpu - bare.cpu];
  const verdict = (over: number) => (over < START_GOAL_MS ? 'OK' : 'OVER');
  const line = command === BARE ? '' : `${ms(overWall, 5)} ms wall ${verdict(overWall)}, ${ms(overCpu, 5)} ms cpu ${verdict(overCpu)}`;
  console.log(`${command.name.padEnd(42)} ${ms(t.first.wallMs)} ${ms(t.wall)} ${ms(t.cpu)}   ${line}`);
}
const [load] = os.loadavg();
if (load! > os.cpus().length) {
  console.log(`(load ${load!.toFixed(1)} on ${os.cpus().length} cores: the wall times include waiting for a core; the cpu times are the commands' own work)`);
}

const parse = measure([SPLIT, PARSE]);
const splitT = parse.get(SPLIT)!;
const parseT = parse.get(PARSE)!;
const size = (readFileSync(listing).length / 2 ** 20).toFixed(1);
console.log(`\n${`end to end on a ${size} MiB ipvsadm -Ln listing (10,000 virtual servers, 100,000 real servers), stdout to a file`}`);
for (const [command, t] of parse) console.log(`${command.name.padEnd(42)} ${ms(t.first.wallMs)} ${ms(t.wall)} ${ms(t.cpu)}`);
const ratio = parseT.wall / splitT.wall;
console.log(`parse vs split: ${ratio.toFixed(2)}x wall, ${(parseT.cpu / splitT.cpu).toFixed(2)}x cpu (goal <= ${PARSE_GOAL_RATIO}x) ${ratio <= PARSE_GOAL_RATIO ? 'OK' : 'OVER'}`);
