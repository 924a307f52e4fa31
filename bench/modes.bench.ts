// Benchmark of kube-proxy's nftables and iptables layers at scale (not a timed test): the synthetic cluster
// of bench/core.bench.ts (1,000 nodes, 10,000 Services, 100,000 endpoints); for one node, the model, its
// text as the tool prints it, the parse back and the comparison, each mode in a fresh process so one mode's
// heap does not count against the other. Run: npm run bench:modes   (target: each check < 1 s, < 300 MiB)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { compareIptables, compareNftables } from '../src/compare/rulesets.ts';
import { expectedIptables } from '../src/model/services/iptables.ts';
import { expectedNftables } from '../src/model/services/nftables.ts';
import type { NodeIptables, NodeNftables } from '../src/model/types.ts';
import { parseIptablesSave } from '../src/parse/iptables-save.ts';
import { parseNftTable } from '../src/parse/nft.ts';
import { renderIptablesSave } from '../src/render/iptables-save.ts';
import { renderNftTable } from '../src/render/nft.ts';
import { syntheticCluster } from './synthetic.ts';

const withRuleTexts = <C extends { rules: { text: string }[] }>(chains: C[]) => chains.map((c) => ({ ...c, rules: c.rules.map((r) => r.text) }));
const nftText = (model: NodeNftables) => renderNftTable({ ...model, chains: withRuleTexts(model.chains) });
const iptablesText = (model: NodeIptables) => renderIptablesSave({ tables: model.tables.map((t) => ({ name: t.name, chains: withRuleTexts(t.chains) })) });

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
  let findings: number;
  let size: number;
  if (mode === 'nftables') {
    const model = time('model', () => expectedNftables(snapshot, node));
    const text = time('render', () => nftText(model));
    size = text.length;
    const parsed = time('parse', () => parseNftTable(text, 'bench'));
    findings = time('compare', () => compareNftables(model, parsed)).findings.length;
  } else {
    const model = time('model', () => expectedIptables(snapshot, node));
    const text = time('render', () => iptablesText(model));
    size = text.length;
    const parsed = time('parse', () => parseIptablesSave(text, 'bench'));
    findings = time('compare', () => compareIptables(model, parsed)).findings.length;
  }
  const total = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(`${mode}: one node's check ${total.toFixed(0)} ms (${times.join(', ')}); ${(size / 2 ** 20).toFixed(1)} MiB of text; ${findings} findings; `
    + `peak RSS ${peak.toFixed(0)} MiB (${(rss0 / 2 ** 20).toFixed(0)} MiB after building the cluster)`);
}

const mode = process.argv[2];
if (mode) {
  runMode(mode);
} else {
  console.log(`kube-proxy modes at 10,000 Services / 100,000 endpoints, one node; ${os.cpus().length} × ${os.cpus()[0]?.model}, load ${os.loadavg()[0]!.toFixed(1)}`);
  for (const m of ['nftables', 'iptables']) execFileSync(process.execPath, [fileURLToPath(import.meta.url), m], { stdio: 'inherit' });
}
