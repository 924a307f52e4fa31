// Renders a CheckReport for a terminal: annotated tables, a summary, then the findings.
import type { CheckReport, LayerResult, ReportSection } from '../check/types.ts';
import type { Finding, Layer } from '../compare/types.ts';
import type { LineStatus } from '../explain/types.ts';
import { wrapWords } from './wrap.ts';

const MARK: Record<LineStatus, string> = {
  ok: ' ok ',
  mismatch: 'DIFF',
  unexpected: 'XTRA',
  missing: 'MISS',
  draining: 'drain',
  unmanaged: ' -- ',
  expected: 'want',
  info: '    ',
};

export const LEGEND = 'Legend: ok = observed as expected, DIFF = observed differently, XTRA = observed but not expected, '
  + 'MISS = expected but not observed, drain = being removed gracefully, -- = not managed by the CNI, want = expected (nothing observed to compare).';

const TITLE: Record<Layer, string> = {
  routes: 'route -n',
  ipvs: 'ipvsadm -Ln',
  nftables: 'nft list table ip kube-proxy',
  iptables: 'iptables-save',
  dns: 'DNS answers',
  resolvconf: 'resolv.conf',
};

export function renderSection(section: ReportSection, explain = true): string {
  const where = section.node ? `${section.node}: ` : '';
  const kind = section.observed ? 'observed' : 'expected only (nothing observed)';
  const out = [`== ${where}${TITLE[section.layer]} — ${kind} ==`];
  for (const line of section.lines) {
    out.push(`${MARK[line.status].padEnd(5)} ${line.text.trimEnd()}`);
    if (explain && line.explanation) out.push(wrapWords(line.explanation, 104, '        '));
  }
  return out.join('\n');
}

function statusWord(result: LayerResult): string {
  return { pass: 'PASS', fail: 'FAIL', unknown: 'UNKNOWN', skipped: 'skipped' }[result.status];
}

export function renderSummary(report: CheckReport): string {
  const header = ['layer', 'result', 'expected', 'observed', 'missing', 'unexpected', 'mismatched'];
  const rows = Object.values(report.layers).map((r) => [
    r.layer, statusWord(r), r.counts.expected, r.counts.observed, r.counts.missing, r.counts.unexpected, r.counts.mismatched,
  ].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
  for (const r of Object.values(report.layers)) {
    for (const n of r.notes) out.push(`  ${r.layer}: note: ${n}`);
  }
  return out.join('\n');
}

/** What was not checked and why, one line each; empty when everything asked for was checked. */
export function renderNotChecked(report: CheckReport): string {
  const lines = Object.values(report.layers).flatMap((r) => r.unknown.map((why) => `  ${r.layer}: ${why}`));
  if (lines.length === 0) return '';
  const unreadable = Object.values(report.layers).some((r) => r.unreadable);
  const title = unreadable ? 'Not checked (some input could not be read: exit code 2)' : 'Not checked';
  return [title, ...lines].join('\n');
}

/** The last line: never "everything matches" when something was not checked. */
function conclusion(report: CheckReport, findings: number): string {
  const complete = Object.values(report.layers).every((r) => r.unknown.length === 0);
  if (findings) return complete ? `${findings} finding${findings === 1 ? '' : 's'}.` : `${findings} finding${findings === 1 ? '' : 's'} in what was checked; the rest was not checked (above).`;
  return complete ? 'No findings: everything observed matches the model.' : 'No findings in what was checked, but not everything was checked (above).';
}

export function renderFinding(f: Finding, index: number): string {
  const out = [`${index + 1}. [${f.layer}/${f.kind}] ${f.message}`];
  if (f.expected) out.push(`     expected: ${f.expected.trimEnd()}`);
  if (f.observed) out.push(`     observed: ${f.observed.trimEnd()}`);
  out.push(wrapWords(`likely cause: ${f.cause}`, 101, '     '));
  out.push(wrapWords(`look next: ${f.next}`, 101, '     '));
  return out.join('\n');
}

export function renderReport(report: CheckReport, opts: { explain?: boolean } = {}): string {
  const findings = Object.values(report.layers).flatMap((r) => r.findings);
  const parts = [LEGEND, ...report.sections.map((s) => renderSection(s, opts.explain ?? true)), 'Summary', renderSummary(report)];
  if (findings.length) parts.push(`Findings (${findings.length})\n${findings.map(renderFinding).join('\n')}`);
  const notChecked = renderNotChecked(report);
  if (notChecked) parts.push(notChecked);
  parts.push(conclusion(report, findings.length));
  return parts.join('\n\n') + '\n';
}
