// Convergence, not false alarms. After a Service, EndpointSlice, Pod or Node changes, kube-proxy and the
// CNI need a moment to program the nodes; a difference seen in that moment is the network catching up,
// not a fault. These pure functions remember when each difference was first seen and when the last
// relevant change happened, decide which differences are still "converging", and measure per node how
// long a change took to show up (network programming latency).
import type { Finding } from '../compare/types.ts';

/** A watched object changed, as the operator saw it. */
export interface Change {
  at: number; // epoch ms
  /** e.g. "Service default/web updated" */
  what: string;
}

/** How long one change took to show up on one node. */
export interface LatencySample {
  node: string;
  change: string;
  changedAt: number;
  observedAt: number;
  ms: number;
}

/** Per lab, kept in memory between checks. */
export interface ConvergenceState {
  /** finding identity -> epoch ms it was first seen (only findings present in the last check) */
  firstSeen: ReadonlyMap<string, number>;
  /** the latest relevant change, or null when none was seen since the operator started */
  lastChange: Change | null;
  /** per node, the earliest change the node has not yet been seen to match */
  pending: ReadonlyMap<string, Change>;
  /** per node, the last measured latency */
  latency: ReadonlyMap<string, LatencySample>;
}

export const emptyConvergence: ConvergenceState = { firstSeen: new Map(), lastChange: null, pending: new Map(), latency: new Map() };

/** A finding's identity across checks: the same difference on the same node keeps its first-seen time. */
export function findingId(finding: Finding): string {
  return `${finding.layer}|${finding.node ?? ''}|${finding.kind}|${finding.key}`;
}

/** Records a change relevant to the lab: it opens a grace window and starts a latency measurement on every node. */
export function recordChange(state: ConvergenceState, change: Change, nodes: readonly string[]): ConvergenceState {
  const pending = new Map(state.pending);
  for (const node of nodes) if (!pending.has(node)) pending.set(node, change);
  return { ...state, lastChange: change, pending };
}

export interface ClassifiedFinding {
  finding: Finding;
  firstSeen: number;
  /** true while the difference may still be the network catching up with a change */
  converging: boolean;
  /** when a converging finding stops being excused (epoch ms) */
  deadline: number | null;
}

/**
 * A difference is converging when it has existed for less than the grace period and a relevant change
 * happened no earlier than one grace period before it was first seen (the change that may explain it).
 * A difference that was already there before the change, or that outlives the window, is a real one.
 */
export function isConverging(firstSeen: number, now: number, lastChangeAt: number | null, graceMs: number): boolean {
  return lastChangeAt !== null && now - firstSeen < graceMs && lastChangeAt >= firstSeen - graceMs;
}

export interface NodeObservationTime {
  node: string;
  /** when the probe started reading the node's state (epoch ms): the time the node's findings describe */
  startedAt: number;
  /** false when the probe failed: nothing can be concluded for this node */
  ok: boolean;
}

export interface ConvergenceInput {
  findings: readonly Finding[];
  /** the nodes observed in this check, with when */
  observed: readonly NodeObservationTime[];
  now: number;
  graceMs: number;
}

export interface ConvergenceResult {
  state: ConvergenceState;
  classified: ClassifiedFinding[];
  /** latency samples completed in this check */
  measured: LatencySample[];
  /** the earliest deadline of a converging finding: when the lab must be looked at again */
  nextDeadline: number | null;
}

/**
 * One check's bookkeeping: first-seen times, converging or not, and latencies completed.
 * A node's finding is dated from when that node was read, not from when the check ended: on a slow
 * cluster a check can end after the grace period, and a difference read inside it would never be
 * excused (the status would skip Converging and say False at once).
 */
export function advance(state: ConvergenceState, input: ConvergenceInput): ConvergenceResult {
  const { findings, observed, now, graceMs } = input;
  const readAt = new Map(observed.map((o) => [o.node, o.startedAt]));
  const firstSeen = new Map<string, number>();
  const classified = findings.map((finding): ClassifiedFinding => {
    const id = findingId(finding);
    const seenAt = (finding.node !== null ? readAt.get(finding.node) : undefined) ?? now;
    const since = firstSeen.get(id) ?? state.firstSeen.get(id) ?? seenAt;
    firstSeen.set(id, since);
    const converging = isConverging(since, seenAt, state.lastChange?.at ?? null, graceMs);
    return { finding, firstSeen: since, converging, deadline: converging ? since + graceMs : null };
  });

  // A node's pending change has "appeared" once the node is observed with no difference at all.
  const nodesWithFindings = new Set(findings.map((f) => f.node).filter((n): n is string => n !== null));
  const pending = new Map(state.pending);
  const latency = new Map(state.latency);
  const measured: LatencySample[] = [];
  for (const { node, startedAt, ok } of observed) {
    const change = pending.get(node);
    if (change === undefined || !ok || nodesWithFindings.has(node) || startedAt < change.at) continue;
    const sample = { node, change: change.what, changedAt: change.at, observedAt: startedAt, ms: startedAt - change.at };
    measured.push(sample);
    latency.set(node, sample);
    pending.delete(node);
  }
  // Nodes that left the lab (deleted, or no longer selected) stop being tracked.
  const observedNodes = new Set(observed.map((o) => o.node));
  for (const node of pending.keys()) if (!observedNodes.has(node)) pending.delete(node);
  for (const node of latency.keys()) if (!observedNodes.has(node)) latency.delete(node);

  let nextDeadline: number | null = null;
  for (const { deadline } of classified) {
    if (deadline !== null && (nextDeadline === null || deadline < nextDeadline)) nextDeadline = deadline;
  }
  return {
    state: { firstSeen, lastChange: state.lastChange, pending, latency },
    classified,
    measured,
    nextDeadline,
  };
}
