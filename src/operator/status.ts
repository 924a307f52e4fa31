// The NetworkLab status, built as plain data from one check: a condition per checked layer, Ready and
// Progressing, per-layer counts, the most urgent findings (capped, so the object stays far below etcd's
// 1.5 MiB limit whatever the cluster size), and per-node network programming latency.
import { SERVICE_LAYERS, type ServiceLayer } from '../check/check.ts';
import type { CheckReport, LayerCounts, LayerResult } from '../check/types.ts';
import type { Finding, Layer } from '../compare/types.ts';
import type { ClassifiedFinding, Change, LatencySample } from './convergence.ts';
import { formatDuration } from './lab.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** The standard metav1.Condition shape. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface StatusFinding {
  layer: Layer;
  kind: Finding['kind'];
  node?: string;
  key: string;
  fields?: string[];
  expected?: string;
  observed?: string;
  message: string;
  cause: string;
  next: string;
  converging: boolean;
  firstSeen: string;
}

export interface LatencyEntry {
  node: string;
  change: string;
  changedAt: string;
  observedAt: string;
  seconds: number;
}

/**
 * kube-proxy's layer as `kubectl get nlab` shows it (PROXY, SERVICES): a printer column cannot pick whichever
 * of IPVSVerified, NFTablesVerified and IPTablesVerified is there, so the checked mode and its condition's
 * status are repeated here.
 */
export interface ServiceLayerStatus {
  mode: ServiceLayer;
  status: ConditionStatus;
}

export interface NetworkLabStatus {
  observedGeneration: number;
  conditions: Condition[];
  /** absent when the lab checks no Service layer */
  serviceLayer?: ServiceLayerStatus;
  layers: Partial<Record<Layer, LayerCounts>>;
  totalFindings: number;
  omittedFindings: number;
  findings: StatusFinding[];
  programmingLatency: LatencyEntry[];
  lastCheckTime: string;
}

export const CONDITION_TYPES: Record<Layer, string> = {
  routes: 'RoutesVerified',
  ipvs: 'IPVSVerified',
  nftables: 'NFTablesVerified',
  iptables: 'IPTablesVerified',
  dns: 'DNSVerified',
  resolvconf: 'ResolvConfVerified',
};
export const READY = 'Ready';
export const PROGRESSING = 'Progressing';

const LAYER_ORDER: readonly Layer[] = ['routes', 'ipvs', 'nftables', 'iptables', 'dns', 'resolvconf'];
const LAYER_NOUN: Record<Layer, string> = {
  routes: 'routes',
  ipvs: 'IPVS virtual servers',
  nftables: 'nftables chains, rules and map elements',
  iptables: 'iptables chains and rules',
  dns: 'DNS answers',
  resolvconf: 'resolv.conf settings',
};

/** Caps that keep one NetworkLab small: 50 findings of at most ~5 KiB each, plus short conditions. */
export const LIMITS = {
  findings: 50,
  latencyEntries: 50,
  /** CRD maxLength of the finding text fields */
  findingText: 1024,
  findingLine: 512,
  /** a condition message lists at most this many lines (nodes, reasons) */
  messageLines: 10,
  conditionMessage: 4096,
} as const;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "a; b; c (and 7 more)" */
function listLines(lines: readonly string[]): string {
  const shown = lines.slice(0, LIMITS.messageLines);
  const more = lines.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

interface ConditionDraft {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface LayerVerdictInput {
  layer: Layer;
  result: LayerResult;
  /** this layer's findings, classified */
  classified: readonly ClassifiedFinding[];
  lastChange: Change | null;
  graceMs: number;
}

/**
 * One layer's condition. Firm differences make it False; otherwise a failed probe makes it Unknown
 * (ProbeFailed, naming the nodes), and differences still inside the grace window make it Unknown
 * (Converging). Only a layer with nothing to report is True.
 */
export function layerCondition({ layer, result, classified, lastChange, graceMs }: LayerVerdictInput): ConditionDraft {
  const type = CONDITION_TYPES[layer];
  const firm = classified.filter((c) => !c.converging);
  const converging = classified.filter((c) => c.converging);
  const notes = result.notes.length > 0 ? ` Note: ${listLines(result.notes)}` : '';
  const unobserved = result.unknown.length > 0 ? ` Not observed: ${listLines(result.unknown)}.` : '';
  if (firm.length > 0) {
    const kinds = (['missing', 'unexpected', 'mismatch'] as const)
      .map((kind) => [kind, firm.filter((c) => c.finding.kind === kind).length] as const)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind === 'mismatch' ? 'mismatched' : kind}`);
    const first = firm[0]!.finding;
    return {
      type,
      status: 'False',
      reason: 'Mismatched',
      message: `${plural(firm.length, 'difference')} (${kinds.join(', ')}). First: ${first.message}${unobserved}${notes}`,
    };
  }
  if (result.unknown.length > 0) {
    const convergingText = converging.length > 0 ? ` ${plural(converging.length, 'difference')} still converging.` : '';
    return { type, status: 'Unknown', reason: 'ProbeFailed', message: `Could not observe: ${listLines(result.unknown)}.${convergingText}${notes}` };
  }
  if (converging.length > 0) {
    const deadline = converging.reduce((earliest, c) => Math.min(earliest, c.deadline ?? Infinity), Infinity);
    const after = lastChange === null ? 'a recent change' : `${lastChange.what} at ${iso(lastChange.at)}`;
    return {
      type,
      status: 'Unknown',
      reason: 'Converging',
      message:
        `${plural(converging.length, 'difference')} appeared within the ${formatDuration(graceMs)} grace period after ${after}: ` +
        `kube-proxy and the CNI may still be programming the nodes. Still present at ${iso(deadline)}, they count as failures. ` +
        `First: ${converging[0]!.finding.message}${notes}`,
    };
  }
  const { expected } = result.counts;
  return { type, status: 'True', reason: 'Verified', message: `All ${expected} expected ${LAYER_NOUN[layer]} match what was observed.${notes}` };
}

/** Ready summarises the checked layers: False if any is False, else Unknown if any is Unknown, else True. */
export function readyCondition(layers: readonly ConditionDraft[]): ConditionDraft {
  const failed = layers.filter((c) => c.status === 'False');
  if (failed.length > 0) {
    return { type: READY, status: 'False', reason: 'LayersFailed', message: `Not verified: ${failed.map((c) => c.type).join(', ')}.` };
  }
  const unknown = layers.filter((c) => c.status === 'Unknown');
  if (unknown.length > 0) {
    const converging = unknown.some((c) => c.reason === 'Converging');
    return {
      type: READY,
      status: 'Unknown',
      reason: converging ? 'Converging' : unknown[0]!.reason,
      message: `Not yet known: ${unknown.map((c) => `${c.type} (${c.reason})`).join(', ')}.`,
    };
  }
  return { type: READY, status: 'True', reason: 'AllVerified', message: `Verified: ${layers.map((c) => c.type).join(', ')}.` };
}

/** Progressing is True while some difference is still inside its grace window. */
export function progressingCondition(classified: readonly ClassifiedFinding[]): ConditionDraft {
  const converging = classified.filter((c) => c.converging).length;
  return converging > 0
    ? { type: PROGRESSING, status: 'True', reason: 'Converging', message: `${plural(converging, 'difference')} may still be the network catching up with a change.` }
    : { type: PROGRESSING, status: 'False', reason: 'Settled', message: 'No difference is waiting for the network to catch up.' };
}

/** Carries lastTransitionTime over from the previous condition of the same type when its status did not change. */
export function stampConditions(drafts: readonly ConditionDraft[], previous: readonly Condition[], generation: number, now: number): Condition[] {
  return drafts.map((draft) => {
    const before = previous.find((c) => c.type === draft.type);
    const lastTransitionTime = before !== undefined && before.status === draft.status ? before.lastTransitionTime : iso(now);
    return {
      type: draft.type,
      status: draft.status,
      observedGeneration: generation,
      lastTransitionTime,
      reason: draft.reason,
      message: truncate(draft.message, LIMITS.conditionMessage),
    };
  });
}

export interface Transition {
  type: string;
  from: ConditionStatus | null;
  to: ConditionStatus;
  reason: string;
  message: string;
}

/** The conditions whose status changed (or that appeared): each becomes a Kubernetes Event. */
export function transitions(previous: readonly Condition[], next: readonly Condition[]): Transition[] {
  return next.flatMap((condition) => {
    const before = previous.find((c) => c.type === condition.type);
    if (before !== undefined && before.status === condition.status) return [];
    return [{ type: condition.type, from: before?.status ?? null, to: condition.status, reason: condition.reason, message: condition.message }];
  });
}

function severity(c: ClassifiedFinding): number {
  return c.converging ? 1 : 0;
}

function byUrgency(a: ClassifiedFinding, b: ClassifiedFinding): number {
  return (
    severity(a) - severity(b) ||
    LAYER_ORDER.indexOf(a.finding.layer) - LAYER_ORDER.indexOf(b.finding.layer) ||
    (a.finding.node ?? '').localeCompare(b.finding.node ?? '') ||
    a.finding.key.localeCompare(b.finding.key)
  );
}

function toStatusFinding({ finding, converging, firstSeen }: ClassifiedFinding): StatusFinding {
  const out: StatusFinding = { layer: finding.layer, kind: finding.kind, key: truncate(finding.key, LIMITS.findingLine), message: '', cause: '', next: '', converging, firstSeen: iso(firstSeen) };
  if (finding.node !== null) out.node = finding.node;
  if (finding.fields.length > 0) out.fields = finding.fields.slice(0, 16).map((f) => truncate(f, 64));
  if (finding.expected !== null) out.expected = truncate(finding.expected, LIMITS.findingLine);
  if (finding.observed !== null) out.observed = truncate(finding.observed, LIMITS.findingLine);
  out.message = truncate(finding.message, LIMITS.findingText);
  out.cause = truncate(finding.cause, LIMITS.findingText);
  out.next = truncate(finding.next, LIMITS.findingText);
  return out;
}

/** The most urgent findings (firm before converging, then by layer, node and key), at most LIMITS.findings. */
export function capFindings(classified: readonly ClassifiedFinding[]): { findings: StatusFinding[]; omitted: number } {
  // Keeps only the best LIMITS.findings in a sorted array: one pass, no sort of every finding.
  const kept: ClassifiedFinding[] = [];
  for (const c of classified) {
    if (kept.length === LIMITS.findings && byUrgency(c, kept[kept.length - 1]!) >= 0) continue;
    let at = kept.length;
    while (at > 0 && byUrgency(c, kept[at - 1]!) < 0) at--;
    kept.splice(at, 0, c);
    if (kept.length > LIMITS.findings) kept.pop();
  }
  return { findings: kept.map(toStatusFinding), omitted: classified.length - kept.length };
}

export function latencyEntries(samples: Iterable<LatencySample>): LatencyEntry[] {
  return [...samples]
    .sort((a, b) => b.ms - a.ms || a.node.localeCompare(b.node))
    .slice(0, LIMITS.latencyEntries)
    .map((s) => ({ node: s.node, change: truncate(s.change, LIMITS.findingLine), changedAt: iso(s.changedAt), observedAt: iso(s.observedAt), seconds: Math.round(s.ms) / 1000 }));
}

export interface StatusInput {
  generation: number;
  checks: readonly Layer[];
  report: CheckReport;
  classified: readonly ClassifiedFinding[];
  lastChange: Change | null;
  graceMs: number;
  latency: Iterable<LatencySample>;
  previous: NetworkLabStatus | undefined;
  now: number;
}

/** The whole status of one check. */
export function buildStatus(input: StatusInput): NetworkLabStatus {
  const { generation, checks, report, classified, lastChange, graceMs, previous, now } = input;
  const byLayer = new Map<Layer, ClassifiedFinding[]>();
  for (const c of classified) {
    const list = byLayer.get(c.finding.layer);
    if (list === undefined) byLayer.set(c.finding.layer, [c]);
    else list.push(c);
  }
  const layerDrafts = LAYER_ORDER.filter((layer) => checks.includes(layer)).map((layer) =>
    layerCondition({ layer, result: report.layers[layer], classified: byLayer.get(layer) ?? [], lastChange, graceMs }),
  );
  const drafts = [...layerDrafts, readyCondition(layerDrafts), progressingCondition(classified)];
  const layers: Partial<Record<Layer, LayerCounts>> = {};
  for (const layer of LAYER_ORDER) if (checks.includes(layer)) layers[layer] = { ...report.layers[layer].counts };
  const { findings, omitted } = capFindings(classified);
  const mode = SERVICE_LAYERS.find((layer) => checks.includes(layer));
  const serviceCondition = mode === undefined ? undefined : layerDrafts.find((d) => d.type === CONDITION_TYPES[mode]);
  return {
    observedGeneration: generation,
    conditions: stampConditions(drafts, previous?.conditions ?? [], generation, now),
    ...(mode !== undefined && serviceCondition !== undefined ? { serviceLayer: { mode, status: serviceCondition.status } } : {}),
    layers,
    totalFindings: classified.length,
    omittedFindings: omitted,
    findings,
    programmingLatency: latencyEntries(input.latency),
    lastCheckTime: iso(now),
  };
}

/** The status of a lab whose spec cannot be used: Ready False, InvalidSpec, and nothing else checked. */
export function invalidSpecStatus(generation: number, problem: string, previous: NetworkLabStatus | undefined, now: number): NetworkLabStatus {
  const drafts: ConditionDraft[] = [{ type: READY, status: 'False', reason: 'InvalidSpec', message: problem }];
  return {
    observedGeneration: generation,
    conditions: stampConditions(drafts, previous?.conditions ?? [], generation, now),
    layers: {},
    totalFindings: 0,
    omittedFindings: 0,
    findings: [],
    programmingLatency: [],
    lastCheckTime: iso(now),
  };
}

/** Structural equality of plain JSON data, key order ignored (the API server may reorder keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => sameJson(item, other[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson(ra[k], rb[k]));
}

/**
 * Whether the status must be written: when anything but lastCheckTime changed, or when lastCheckTime
 * is older than `heartbeatMs` (so a quiet lab still shows it is being checked, at most once per interval).
 */
export function needsWrite(previous: NetworkLabStatus | undefined, next: NetworkLabStatus, heartbeatMs: number): boolean {
  if (previous === undefined) return true;
  const { lastCheckTime: before, ...restBefore } = previous;
  const { lastCheckTime: after, ...restAfter } = next;
  if (!sameJson(restBefore, restAfter)) return true;
  const last = before === undefined ? NaN : Date.parse(before);
  return !(Date.parse(after) - last < heartbeatMs);
}
