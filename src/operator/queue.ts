// A keyed work queue, the operator's heartbeat. Cluster events only say "lab X may need a look"; the
// queue turns a burst of them into one run per lab (debouncing), never runs one lab twice at the same
// time (per-key serialisation), bounds how many labs run at once, retries failures with growing
// delays, and keeps each lab's periodic re-check on the calendar.
import { setTimeout as sleep } from 'node:timers/promises';

/** What one reconcile run asks the queue to do next. */
export type Outcome =
  | { kind: 'ok' }
  | { kind: 'requeueAfter'; ms: number; why?: string }
  | { kind: 'transient'; error: Error }
  | { kind: 'terminal'; error: Error };

export type Handler = (key: string) => Promise<Outcome>;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface WorkQueueOptions {
  /** quiet time after the last event before a lab runs, so a burst becomes one run; default 100 ms */
  debounceMs?: number;
  /** a never-ending stream of events may postpone a run by at most this long; default 1000 ms */
  maxDebounceMs?: number;
  /** labs running at the same time; default 4 */
  concurrency?: number;
  /** retry delay after the first transient failure, doubled after each further one; default 500 ms */
  backoffBaseMs?: number;
  /** retry delay ceiling; default 5 minutes */
  backoffMaxMs?: number;
  timers?: Timers;
  /** told of every finished run (for logs and metrics) */
  onResult?: (key: string, outcome: Outcome, durationMs: number) => void;
}

interface KeyState {
  /** when the key is due, and the timer that will make it ready */
  dueAt: number | null;
  timer: unknown;
  /** the due time was set by an event's debounce (a later event may push it back, up to the cap) */
  dueByEvent: boolean;
  /** first event of the current burst, to cap debouncing */
  burstStart: number | null;
  running: boolean;
  /** an event arrived while the key was running: run again afterwards */
  dirty: boolean;
  queued: boolean;
  failures: number;
  /** forget() came while the key was running: its outcome is dropped when the run ends */
  forgotten: boolean;
}

/** Exponential backoff: base, 2*base, 4*base ... up to max, with +-10% jitter so retries do not align. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (0.9 + 0.2 * random()));
}

export class WorkQueue {
  readonly #handler: Handler;
  readonly #debounceMs: number;
  readonly #maxDebounceMs: number;
  readonly #concurrency: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #timers: Timers;
  readonly #onResult: WorkQueueOptions['onResult'];
  readonly #keys = new Map<string, KeyState>();
  readonly #ready: string[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(handler: Handler, options: WorkQueueOptions = {}) {
    this.#handler = handler;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#maxDebounceMs = options.maxDebounceMs ?? 1000;
    this.#concurrency = options.concurrency ?? 4;
    this.#backoffBaseMs = options.backoffBaseMs ?? 500;
    this.#backoffMaxMs = options.backoffMaxMs ?? 300_000;
    this.#timers = options.timers ?? realTimers;
    this.#onResult = options.onResult;
  }

  /** Something about this key changed: run it soon, once, however many times this is called. */
  add(key: string): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    if (state.running) {
      state.dirty = true;
      return;
    }
    const now = this.#timers.now();
    state.burstStart ??= now;
    this.#schedule(key, state, Math.min(now + this.#debounceMs, state.burstStart + this.#maxDebounceMs), true);
  }

  /** Run this key after `ms` unless something already made it due sooner. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    this.#schedule(key, state, this.#timers.now() + ms, false);
  }

  /**
   * The key is gone (lab deleted): drop its timers and retry count. A run in progress finishes, but
   * nothing it asks for (a retry, the next periodic check) is scheduled; an add() after this starts afresh.
   */
  forget(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined) return;
    this.#timers.clearTimeout(state.timer);
    const index = this.#ready.indexOf(key);
    if (index >= 0) this.#ready.splice(index, 1);
    if (!state.running) this.#keys.delete(key);
    // The state stays while the run lasts, so that an add() meanwhile still waits for the run to end.
    else Object.assign(state, { forgotten: true, dirty: false, dueAt: null, timer: undefined, queued: false });
  }

  /** Keys waiting or running: for /metrics and tests. */
  get size(): number {
    return this.#keys.size;
  }

  /** Failures in a row of this key (0 after a success). */
  failures(key: string): number {
    return this.#keys.get(key)?.failures ?? 0;
  }

  /** When the key is next due (epoch ms), or null. */
  dueAt(key: string): number | null {
    return this.#keys.get(key)?.dueAt ?? null;
  }

  /** Stops scheduling and waits for the runs in progress (bounded by `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#stopped = true;
    for (const state of this.#keys.values()) this.#timers.clearTimeout(state.timer);
    this.#ready.length = 0;
    const ac = new AbortController();
    await Promise.race([Promise.allSettled([...this.#inFlight]), sleep(timeoutMs, undefined, { signal: ac.signal }).catch(() => {})]);
    ac.abort();
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { dueAt: null, timer: undefined, dueByEvent: false, burstStart: null, running: false, dirty: false, queued: false, failures: 0, forgotten: false };
      this.#keys.set(key, state);
    }
    return state;
  }

  /**
   * Makes the key due at `at`. An earlier due time wins, except that a debounce may be pushed back by a
   * later event of the same burst (that is what makes a burst one run).
   */
  #schedule(key: string, state: KeyState, at: number, fromEvent: boolean): void {
    if (state.queued) return; // already waiting for a free slot: it runs as soon as it can
    if (state.running) {
      // Decided after the run; a timer would break serialisation.
      if (fromEvent) state.dirty = true;
      return;
    }
    const extendsDebounce = fromEvent && state.dueByEvent;
    if (state.dueAt !== null && state.dueAt <= at && !extendsDebounce) return;
    this.#timers.clearTimeout(state.timer);
    state.dueAt = at;
    state.dueByEvent = fromEvent;
    state.timer = this.#timers.setTimeout(() => this.#makeReady(key), Math.max(0, at - this.#timers.now()));
  }

  #makeReady(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined || this.#stopped) return;
    state.timer = undefined;
    state.dueAt = null;
    state.dueByEvent = false;
    state.burstStart = null;
    state.queued = true;
    this.#ready.push(key);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#inFlight.size < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      const state = this.#keys.get(key);
      if (state === undefined) continue;
      state.queued = false;
      state.running = true;
      const run = this.#run(key, state).finally(() => {
        this.#inFlight.delete(run);
        this.#pump();
      });
      this.#inFlight.add(run);
    }
  }

  async #run(key: string, state: KeyState): Promise<void> {
    const started = this.#timers.now();
    let outcome: Outcome;
    try {
      outcome = await this.#handler(key);
    } catch (error) {
      // A handler must return an outcome; a throw is treated as a transient failure, never a crash.
      outcome = { kind: 'transient', error: error instanceof Error ? error : new Error(String(error)) };
    }
    state.running = false;
    this.#onResult?.(key, outcome, this.#timers.now() - started);
    if (state.forgotten) {
      // The outcome belongs to a lab that is gone. An event since (the lab created again) starts a new key.
      this.#keys.delete(key);
      if (state.dirty) this.add(key);
      return;
    }
    switch (outcome.kind) {
      case 'ok':
        state.failures = 0;
        break;
      case 'requeueAfter':
        state.failures = 0;
        this.addAfter(key, outcome.ms);
        break;
      case 'transient':
        state.failures += 1;
        this.addAfter(key, backoffDelay(state.failures, this.#backoffBaseMs, this.#backoffMaxMs));
        break;
      case 'terminal':
        // Retrying cannot help; the next change to the key (a new spec) brings it back.
        state.failures = 0;
        break;
    }
    if (state.dirty) {
      state.dirty = false;
      this.add(key);
    } else if (state.dueAt === null && !state.queued) {
      this.#keys.delete(key);
    }
  }
}
