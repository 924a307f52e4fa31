// `netlab check --snapshot DIR --observed DIR [--json]`: the whole pipeline on captured files.
import { CHECK_NAMES, checkLab, DEFAULT_CHECKS } from '../../check/check.ts';
import type { CheckName, CheckReport } from '../../check/types.ts';
import { readObservationDir } from '../../observe/files.ts';
import { renderReport } from '../../report/text.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import { EXIT, jsonText, UsageError } from '../io.ts';

export function parseLayers(value: string | undefined): CheckName[] {
  if (!value) return DEFAULT_CHECKS;
  const layers = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const l of layers) {
    if (!(CHECK_NAMES as string[]).includes(l)) throw new UsageError(`unknown layer "${l}": use ${CHECK_NAMES.join(', ')}`);
  }
  return layers as CheckName[];
}

/** 2 when some input could not be read (the report says what was not checked), else 1 for findings, else 0. */
export function exitCodeOf(report: CheckReport): number {
  const layers = Object.values(report.layers);
  if (layers.some((r) => r.unreadable)) return EXIT.usage;
  return layers.some((r) => r.findings.length) ? EXIT.findings : EXIT.ok;
}

export interface OfflineCheckOptions {
  snapshot: string;
  observed: string;
  json?: boolean;
  layers?: string;
  node?: string[];
  namespace: string;
  dnsPolicy: string;
  explain: boolean;
}

export async function offlineCheckCommand(opts: OfflineCheckOptions): Promise<number> {
  const snapshot = await loadSnapshotDir(opts.snapshot);
  const observation = await readObservationDir(opts.observed, { namespace: opts.namespace, dnsPolicy: opts.dnsPolicy });
  const layers = parseLayers(opts.layers);
  const nodes = opts.node?.length ? opts.node : observation.nodes.map((n) => n.node);
  for (const node of nodes) {
    if (!snapshot.nodes.some((n) => n.name === node)) {
      throw new UsageError(`node "${node}" (from ${opts.node?.length ? '--node' : `the folder ${opts.observed}/${node}`}) is not in the snapshot ${opts.snapshot}`);
    }
  }
  const report = checkLab(snapshot, observation, { layers, nodes });
  process.stdout.write(opts.json ? jsonText(report) : renderReport(report, { explain: opts.explain }));
  return exitCodeOf(report);
}
