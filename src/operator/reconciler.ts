// One function decides what a lab's status is now: reconcile(labKey) -> Outcome. It reads the lab and
// the cluster from the informer caches (never from the event that triggered it), observes the nodes,
// runs the same pure check as `netlab check`, applies the grace window, writes the status only when it
// changed, records an Event per condition transition, and says when to look again.
import { ALL_LAYERS, checkLab, isNodeLayer, resolveChecks } from '../check/check.ts';
import type { CheckOptions, CheckReport } from '../check/types.ts';
import type { Observation } from '../observation/types.ts';
import type { Finding, Layer } from '../compare/types.ts';
import type { ClusterSnapshot, ServiceView } from '../snapshot/types.ts';
import { advance, emptyConvergence, recordChange, type Change, type ConvergenceState } from './convergence.ts';
import { LabSpecError, readLab, selectorMatches, splitLabKey, type Lab } from './lab.ts';
import type { Logger } from './log.ts';
import type { OperatorMetrics } from './metrics.ts';
import { dnsQuestions, observeLab, type ObserveOptions, type Observers } from './observe.ts';
import type { Outcome } from './queue.ts';
import { buildStatus, type Condition, invalidSpecStatus, needsWrite, transitions, type NetworkLabStatus } from './status.ts';
import { LabGoneError, type EventRecorder, type StatusWriter } from './writes.ts';

/** What the reconciler reads: the informer caches (ClusterCache), or a fake in unit tests. */
export interface ClusterReader {
  notReady(): string | null;
  lab(namespace: string, name: string): { metadata: { resourceVersion?: string }; view: { object: unknown; status: NetworkLabStatus | undefined } | null; error: string | null } | undefined;
  snapshot(): ClusterSnapshot;
}

/** Services carry their labels in the operator's cache so that spec.services.selector can be applied. */
export type LabelledService = ServiceView & { labels?: Record<string, string> };

export interface ReconcilerDeps {
  cluster: ClusterReader;
  observers: Observers;
  writer: StatusWriter;
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  observeOptions?: ObserveOptions;
  /** while a change has not yet shown up on some node, look again this often; default 1000 ms */
  convergencePollMs?: number;
  /** how long to wait for the caches before trying again; default 1000 ms */
  notReadyRetryMs?: number;
  now?: () => number;
  /** false while this instance may not write statuses (it does not lead); default: always may */
  mayWrite?: () => boolean;
}

/** The snapshot narrowed to the Services the lab selects (and their EndpointSlices), for the DNS layer. */
function selectServices(snapshot: ClusterSnapshot, lab: Lab): ClusterSnapshot {
  const selector = lab.spec.services.selector;
  if (selector === null) return snapshot;
  const services = snapshot.services.filter((s: LabelledService) => selectorMatches(selector, s.labels ?? {}));
  const kept = new Set(services.map((s) => `${s.namespace}/${s.name}`));
  return { ...snapshot, services, endpointSlices: snapshot.endpointSlices.filter((e) => kept.has(`${e.namespace}/${e.serviceName}`)) };
}

/**
 * The layers a lab checks in this cluster now: "services" is the layer of kube-proxy's configured mode (its
 * ConfigMap in the snapshot), so the probe runs that mode's command and the check compares that mode.
 */
export function labLayers(lab: Lab, snapshot: ClusterSnapshot): Layer[] {
  return resolveChecks(lab.spec.checks, snapshot);
}

/** Runs the pure check on the lab's layers (labLayers); the DNS layer sees only the selected Services. */
export function checkForLab(snapshot: ClusterSnapshot, observation: Observation, lab: Lab, nodes: string[]): CheckReport {
  const layers = labLayers(lab, snapshot);
  const options: CheckOptions = { layers, nodes, namespaces: lab.spec.services.namespaces, dnsQueries: lab.spec.dnsQueries };
  const report = checkLab(snapshot, observation, { ...options, layers: layers.filter((l) => l !== 'dns') });
  if (layers.includes('dns')) {
    report.layers.dns = checkLab(selectServices(snapshot, lab), observation, { ...options, layers: ['dns'] }).layers.dns;
  }
  return report;
}

/** One lab's last check: what it read, what it saw and what it found. */
export interface LabCheck {
  snapshot: ClusterSnapshot;
  observation: Observation;
  report: CheckReport;
  /** the conditions the check wrote (after the grace window: a young difference is Converging, not False) */
  conditions: Condition[];
  at: number;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #now: () => number;
  /** per lab key: grace-window and latency bookkeeping, kept between checks */
  readonly #convergence = new Map<string, ConvergenceState>();
  /** per lab key: the nodes whose routes or Service rules the last check observed */
  readonly #nodes = new Map<string, string[]>();
  /** per lab key: the status this instance last wrote, newer than the cache until the watch brings it back */
  readonly #written = new Map<string, { uid: string; status: NetworkLabStatus }>();
  /** per lab key: the last check, for the page; `#version` counts changes so readers can cache */
  readonly #results = new Map<string, LabCheck>();
  #version = 0;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** A watched object changed: the lab's grace window opens and each of its nodes starts a latency measurement. */
  noteChange(key: string, change: Change): void {
    this.#convergence.set(key, recordChange(this.#convergence.get(key) ?? emptyConvergence, change, this.#nodes.get(key) ?? []));
  }

  /** The last check of every lab this instance ran, and a number that changes whenever they do. */
  results(): { version: number; labs: ReadonlyMap<string, LabCheck> } {
    return { version: this.#version, labs: this.#results };
  }

  forget(key: string): void {
    if (this.#results.delete(key)) this.#version++;
    this.#convergence.delete(key);
    this.#nodes.delete(key);
    this.#written.delete(key);
    this.#removeFindingMetrics(key, ALL_LAYERS);
  }

  /** Forgets what this instance wrote: after a change of leader, another instance may have written since. */
  forgetWrites(): void {
    this.#written.clear();
  }

  #selectedNodes(snapshot: ClusterSnapshot, lab: Lab): string[] {
    return snapshot.nodes.filter((n) => selectorMatches(lab.spec.nodeSelector, n.labels)).map((n) => n.name);
  }

  async reconcile(key: string): Promise<Outcome> {
    const { cluster, log } = this.#deps;
    const notReady = cluster.notReady();
    if (notReady !== null) return { kind: 'requeueAfter', ms: this.#deps.notReadyRetryMs ?? 1000, why: notReady };
    const { namespace, name } = splitLabKey(key);
    const cached = cluster.lab(namespace, name);
    if (cached === undefined || cached.view === null) {
      this.forget(key);
      return { kind: 'ok' };
    }
    const raw = cached.view.object as { metadata: { uid?: string; generation?: number } };
    const ref = { namespace, name, uid: String(raw.metadata.uid ?? '') };
    // Our own last write, when the informer has not delivered it yet: comparing against the older cached
    // status would write again and repeat the same Events.
    const mine = this.#written.get(key);
    const previous = mine !== undefined && mine.uid === ref.uid ? mine.status : cached.view.status;
    let lab: Lab;
    try {
      lab = readLab(cached.view.object);
    } catch (error) {
      if (!(error instanceof LabSpecError)) throw error;
      const status = invalidSpecStatus(Number(raw.metadata.generation ?? 0), error.message, previous, this.#now());
      await this.#publish(ref, previous, status, cached.metadata.resourceVersion, Infinity);
      return { kind: 'terminal', error };
    }

    const snapshot = cluster.snapshot();
    const nodes = this.#selectedNodes(snapshot, lab);
    const layers = labLayers(lab, snapshot);
    this.#nodes.set(key, layers.some(isNodeLayer) ? nodes : []);
    const { observation, nodeTimes } = await observeLab(
      this.#deps.observers,
      { snapshot, checks: layers, nodes, dnsQuestions: layers.includes('dns') ? dnsQuestions(selectServices(snapshot, lab), lab.spec.services.namespaces, lab.spec.dnsQueries) : [] },
      { now: this.#now, ...this.#deps.observeOptions },
    );
    const report = checkForLab(snapshot, observation, lab, nodes);
    const findings: Finding[] = layers.flatMap((layer) => report.layers[layer].findings);

    const now = this.#now();
    const result = advance(this.#convergence.get(key) ?? emptyConvergence, { findings, observed: nodeTimes, now, graceMs: lab.spec.gracePeriodMs });
    this.#convergence.set(key, result.state);
    this.#recordMetrics(lab, layers, result.classified, result.measured);

    const status = buildStatus({
      generation: lab.generation,
      checks: layers,
      report,
      classified: result.classified,
      lastChange: result.state.lastChange,
      graceMs: lab.spec.gracePeriodMs,
      latency: result.state.latency.values(),
      previous,
      now,
    });
    this.#results.set(key, { snapshot, observation, report, conditions: status.conditions, at: now });
    this.#version++;
    try {
      await this.#publish(ref, previous, status, cached.metadata.resourceVersion, lab.spec.intervalMs);
    } catch (error) {
      if (error instanceof LabGoneError) {
        this.forget(key);
        return { kind: 'ok' };
      }
      return { kind: 'transient', error: error instanceof Error ? error : new Error(String(error)) };
    }
    log.debug('lab checked', { lab: key, findings: findings.length, ready: status.conditions.find((c) => c.type === 'Ready')?.status });

    // Look again: at the interval; sooner when a converging difference's window ends, or while some node
    // has not yet shown a change (to time its programming latency).
    let next = lab.spec.intervalMs;
    if (result.nextDeadline !== null) next = Math.min(next, Math.max(0, result.nextDeadline - now) + 50);
    if (result.state.pending.size > 0 && nodes.length > 0) next = Math.min(next, this.#deps.convergencePollMs ?? 1000);
    return { kind: 'requeueAfter', ms: next };
  }

  async #publish(ref: { namespace: string; name: string; uid: string }, previous: NetworkLabStatus | undefined, status: NetworkLabStatus, resourceVersion: string | undefined, heartbeatMs: number): Promise<void> {
    const { writer, events, metrics, log } = this.#deps;
    if (!needsWrite(previous, status, heartbeatMs)) return;
    if (this.#deps.mayWrite?.() === false) {
      log.info('status not written: this instance no longer leads', { lab: `${ref.namespace}/${ref.name}` });
      return;
    }
    try {
      await writer.write(ref, status, resourceVersion);
      this.#written.set(`${ref.namespace}/${ref.name}`, { uid: ref.uid, status });
      metrics.statusWrites.inc({ result: 'written' });
    } catch (error) {
      metrics.statusWrites.inc({ result: 'error' });
      throw error;
    }
    for (const transition of transitions(previous?.conditions ?? [], status.conditions)) {
      // An Event is a courtesy: the status is the record. A failed Event is logged, not retried.
      await events.record(ref, transition).catch((error: unknown) => log.warn('could not record an Event', { lab: `${ref.namespace}/${ref.name}`, error }));
    }
  }

  #removeFindingMetrics(key: string, layers: readonly Layer[]): void {
    for (const layer of layers) {
      for (const converging of ['false', 'true']) this.#deps.metrics.findings.remove({ lab: key, layer, converging });
    }
  }

  #recordMetrics(lab: Lab, layers: readonly Layer[], classified: ReturnType<typeof advance>['classified'], measured: ReturnType<typeof advance>['measured']): void {
    const { metrics } = this.#deps;
    // A "services" lab changes layer when kube-proxy changes mode: the old layer's series must not linger.
    this.#removeFindingMetrics(lab.key, ALL_LAYERS.filter((l) => !layers.includes(l)));
    for (const layer of layers) {
      for (const converging of [false, true]) {
        const n = classified.filter((c) => c.finding.layer === layer && c.converging === converging).length;
        metrics.findings.set({ lab: lab.key, layer, converging: String(converging) }, n);
      }
    }
    for (const sample of measured) metrics.programmingLatency.observe({ node: sample.node }, sample.ms / 1000);
  }
}
