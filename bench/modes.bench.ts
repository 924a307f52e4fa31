// Benchmark of kube-proxy's three modes at scale (not a timed test): the synthetic cluster of
// bench/core.bench.ts (1,000 nodes, 10,000 Services, 100,000 endpoints); for one node, the model, its text as
// the tool prints it, the parse back and the comparison, each mode in a fresh process so one mode's heap does
// not count against another, IPVS alongside as the yardstick. `npm run bench:modes -- --runs N --modes nftables,ipvs`
// runs the modes named (default all three) N times in turns and prints each mode's median. (target: the nftables check < 1 s first run, < 300 MiB)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compareIpvs } from '../src/compare/ipvs.ts';
import { compareIptables, compareNftables } from '../src/compare/rulesets.ts';
import { expectedIpvs } from '../src/model/ipvs.ts';
import { expectedIptables } from '../src/model/services/iptables.ts';
import { expectedNftables } from '../src/model/services/nftables.ts';
import type { NodeIptables, NodeNftables } from '../src/model/types.ts';
import { parseIptablesSave } from '../src/parse/iptables-save.ts';
import { parseIpvsadm } from '../src/parse/ipvsadm.ts';
import { parseNftTable } from '../src/parse/nft.ts';
import { renderIptablesSave } from '../src/render/iptables-save.ts';
import { renderIpvsadm } from '../src/render/ipvsadm.ts';
import { renderNftTable } from '../src/render/nft.ts';
import { syntheticCluster } from './synthetic.ts';

const withRuleTexts = <C extends { rules: { text: string }[] }>(chains: C[]) => chains.map((c) => ({ ...c, rules: c.rules.map((r) => r.text) }));
const nftText = (model: NodeNftables) => renderNftTable({ ...model, chains: withRuleTexts(model.chains) });
const iptablesText = (model: NodeIptables) => renderIptablesSave({ tables: model.tables.map((t) => ({ name: t.name, chains: withRuleTexts(t.chains) })) });

const MODES = ['nftables', 'ipvs', 'iptables'];

/** One node's check in `mode`; prints one line, which ends in what the parent reads: "total=<ms> cpu=<ms> peak=<MiB>". */
function runMode(mode: string): void {
  const snapshot = syntheticCluster({ nodes: 1000, services: 10_000, endpointsPerService: 10 });
  const node = snapshot.nodes[0]!.name;
  const rss0 = process.memoryUsage().rss;
  const times: string[] = [];
  const time = <T>(what: string, fn: () => T): T => {
    const t0 = performance.now();
    const result = fn();
    times.push(`${what} ${(performance.now() - t0).toFixed(0)} ms`);
    return result;
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let findings: number;
  let size: number;
  if (mode === 'nftables') {
    const model = time('model', () => expectedNftables(snapshot, node));
    const text = time('render', () => nftText(model));
    size = text.length;
    const parsed = time('parse', () => parseNftTable(text, 'bench'));
    findings = time('compare', () => compareNftables(model, parsed)).findings.length;
  } else if (mode === 'ipvs') {
    const model = time('model', () => expectedIpvs(snapshot, node));
    const text = time('render', () => renderIpvsadm({ services: model.services }));
    size = text.length;
    const parsed = time('parse', () => parseIpvsadm(text, 'bench'));
    findings = time('compare', () => compareIpvs(model, parsed)).findings.length;
  } else {
    const model = time('model', () => expectedIptables(snapshot, node));
    const text = time('render', () => iptablesText(model));
    size = text.length;
    const parsed = time('parse', () => parseIptablesSave(text, 'bench'));
    findings = time('compare', () => compareIptables(model, parsed)).findings.length;
  }
  const total = performance.now() - t0;
  // the process's CPU time (GC threads included): on a shared machine the wall time also counts others' load
  const { user, system } = process.cpuUsage(cpu0);
  const cpu = (user + system) / 1000;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(`${mode}: one node's check ${total.toFixed(0)} ms, CPU ${cpu.toFixed(0)} ms (${times.join(', ')}); ${(size / 2 ** 20).toFixed(1)} MiB of text; ${findings} findings; `
    + `peak RSS ${peak.toFixed(0)} MiB (${(rss0 / 2 ** 20).toFixed(0)} MiB after building the cluster); total=${total.toFixed(0)} cpu=${cpu.toFixed(0)} peak=${peak.toFixed(0)}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const mode = process.argv[2];
if (mode && MODES.includes(mode)) {
  runMode(mode);
} else {
  const option = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] ?? '' : undefined);
  const runs = Number(option('--runs') ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a whole number of runs, not "${option('--runs')}"`);
  const modes = option('--modes')?.split(',') ?? MODES;
  const unknown = modes.filter((m) => !MODES.includes(m));
  if (unknown.length) throw new Error(`--modes: unknown mode ${unknown.join(', ')} (the modes are ${MODES.join(', ')})`);
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`kube-proxy modes at 10,000 Services / 100,000 endpoints, one node; ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}, load average ${load()}`);
  const results = new Map(modes.map((m) => [m, { ms: [] as number[], cpu: [] as number[], mib: [] as number[] }]));
  // In turns, so that a change in the machine's load falls on every mode alike.
  for (let run = 0; run < runs; run++) {
    for (const m of modes) {
      const line = execFileSync(process.execPath, [fileURLToPath(import.meta.url), m], { encoding: 'utf8' });
      process.stdout.write(line);
      const [, ms, cpu, mib] = /total=(\d+) cpu=(\d+) peak=(\d+)\s*$/.exec(line) ?? [];
      results.get(m)!.ms.push(Number(ms));
      results.get(m)!.cpu.push(Number(cpu));
      results.get(m)!.mib.push(Number(mib));
    }
  }
  const ipvs = results.get('ipvs');
  for (const [m, { ms, cpu, mib }] of results) {
    const ratio = (of: number[], to: number[]) => (ipvs ? ` (${(median(of) / median(to)).toFixed(2)}x IPVS)` : '');
    console.log(`${m}: median of ${runs} first runs ${median(ms)} ms${ratio(ms, ipvs?.ms ?? [])}, CPU ${median(cpu)} ms${ratio(cpu, ipvs?.cpu ?? [])}, peak RSS ${median(mib)} MiB`);
  }
  console.log(`load average at the end ${load()}`);
}
