// `netlab explain FILE|- --format route|ipvsadm|resolv|nft|iptables-save [--snapshot DIR] [--node NAME]`:
// annotates real output line by line. With a snapshot, each line is also checked against the model.
// The check and the snapshot loader are loaded only then: explaining by shape alone starts faster without them.
import type { CheckReport } from '../../check/types.ts';
import type { Layer } from '../../compare/types.ts';
import { explainIptablesByShape, explainNftByShape } from '../../explain/service-rules-shape.ts';
import { explainIpvsByShape, explainResolvConfByShape, explainRoutesByShape } from '../../explain/shape.ts';
import type { AnnotatedLine } from '../../explain/types.ts';
import type { NodeObservation, Observation } from '../../observation/types.ts';
import { parseIptablesSave } from '../../parse/iptables-save.ts';
import { parseIpvsadm } from '../../parse/ipvsadm.ts';
import { parseNftTables } from '../../parse/nft.ts';
import { parseResolvConf } from '../../parse/resolvconf.ts';
import { parseRouteN } from '../../parse/route.ts';
import { renderReport, renderSection } from '../../report/text.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { parseText } from './parse.ts';
import { asFormat, EXIT, type Format, readInput, UsageError } from '../io.ts';

/** Without a snapshot there is no model: lines are explained from their shape alone. */
function explainByShape(format: Format, text: string, source: string): AnnotatedLine[] {
  switch (format) {
    case 'route': return explainRoutesByShape(parseRouteN(text, source));
    case 'ipvsadm': return explainIpvsByShape(parseIpvsadm(text, source));
    case 'resolv': return explainResolvConfByShape(parseResolvConf(text, source));
    case 'nft': return explainNftByShape(parseNftTables(text, source));
    case 'iptables-save': return explainIptablesByShape(parseIptablesSave(text, source));
  }
}

const LAYER: Record<Format, Layer> = { route: 'routes', ipvsadm: 'ipvs', resolv: 'resolvconf', nft: 'nftables', 'iptables-save': 'iptables' };
/** Where a node's output of each per-node format goes in an observation. */
const FIELD: Record<Exclude<Format, 'resolv'>, keyof Omit<NodeObservation, 'node' | 'ipAddr'>> = { route: 'routeN', ipvsadm: 'ipvsadmLn', nft: 'nftListTable', 'iptables-save': 'iptablesSave' };

function countFindings(report: CheckReport): number {
  return Object.values(report.layers).reduce((n, r) => n + r.findings.length, 0);
}

type CheckLab = typeof import('../../check/check.ts').checkLab;

/** The node whose expected table fits the output best, when the user did not say. */
function guessNode(checkLab: CheckLab, snapshot: ClusterSnapshot, observe: (node: string) => Observation, layer: Layer): string {
  let best: { node: string; findings: number } | null = null;
  for (const node of snapshot.nodes.map((n) => n.name)) {
    const findings = countFindings(checkLab(snapshot, observe(node), { layers: [layer], nodes: [node] }));
    if (!best || findings < best.findings) best = { node, findings };
  }
  if (!best) throw new UsageError('the snapshot has no nodes');
  return best.node;
}

export async function explainCommand(file: string | undefined, opts: { format: string; snapshot?: string; node?: string; namespace: string; dnsPolicy: string }): Promise<number> {
  const format = asFormat(opts.format);
  const { text, source } = await readInput(file);
  if (!opts.snapshot) {
    process.stdout.write(renderSection({ layer: LAYER[format], node: null, observed: true, lines: explainByShape(format, text, source) }) + '\n');
    return EXIT.ok;
  }
  parseText(format, text, source); // unparsable input is a usage error here, not an "unknown" layer
  const [{ checkLab }, { loadSnapshotDir }] = await Promise.all([import('../../check/check.ts'), import('../../snapshot/load.ts')]);
  const snapshot = await loadSnapshotDir(opts.snapshot);
  const layer = LAYER[format];
  const observe = (node: string): Observation =>
    format === 'resolv'
      ? { nodes: [], resolvConf: { namespace: opts.namespace, dnsPolicy: opts.dnsPolicy, text } }
      : { nodes: [{ node, [FIELD[format]]: text }] };
  let node = opts.node;
  if (format !== 'resolv') {
    if (node && !snapshot.nodes.some((n) => n.name === node)) throw new UsageError(`node "${node}" is not in the snapshot`);
    node ??= guessNode(checkLab, snapshot, observe, layer);
    if (!opts.node) process.stderr.write(`netlab: no --node given; ${node} fits this output best\n`);
  }
  const report = checkLab(snapshot, observe(node ?? ''), { layers: [layer], nodes: node ? [node] : [] });
  process.stdout.write(renderReport(report));
  return countFindings(report) ? EXIT.findings : EXIT.ok;
}
