// Renders a CheckReport for a terminal: annotated tables, a summary, then the findings.
import type { CheckReport, LayerResult, ReportSection } from '../check/types.ts';
import type { Finding, Layer } from '../compare/types.ts';
import type { LineStatus } from '../explain/types.ts';

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
  dns: 'DNS answers',
  resolvconf: 'resolv.conf',
};

export function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

export function renderSection(section: ReportSection, explain = true): string {
  const where = section.node ? `${section.node}: ` : '';
  const kind = section.observed ? 'observed' : 'expected only (nothing observed)';
  const out = [`== ${where}${TITLE[section.layer]} — ${kind} ==`];
  for (const line of section.lines) {
    out.push(`${MARK[line.status].padEnd(5)} ${line.text.trimEnd()}`);
    if (explain && line.explanation) out.push(wrap(line.explanation, 96, '        '));
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
    for (const u of r.unknown) out.push(`  ${r.layer}: unknown: ${u}`);
    for (const n of r.notes) out.push(`  ${r.layer}: note: ${n}`);
  }
  return out.join('\n');
}

export function renderFinding(f: Finding, index: number): string {
  const out = [`${index + 1}. [${f.layer}/${f.kind}] ${f.message}`];
  if (f.expected) out.push(`     expected: ${f.expected.trimEnd()}`);
  if (f.observed) out.push(`     observed: ${f.observed.trimEnd()}`);
  out.push(wrap(`likely cause: ${f.cause}`, 96, '     '));
  out.push(wrap(`look next: ${f.next}`, 96, '     '));
  return out.join('\n');
}

export function renderReport(report: CheckReport, opts: { explain?: boolean } = {}): string {
  const findings = Object.values(report.layers).flatMap((r) => r.findings);
  const parts = [LEGEND, ...report.sections.map((s) => renderSection(s, opts.explain ?? true)), 'Summary', renderSummary(report)];
  parts.push(findings.length ? `Findings (${findings.length})\n${findings.map(renderFinding).join('\n')}` : 'No findings: everything observed matches the model.');
  return parts.join('\n\n') + '\n';
}
