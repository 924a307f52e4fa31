// Leader election with a coordination.k8s.io/v1 Lease, the way Kubernetes' own controllers do it: the
// leader renews the Lease every retry period; another instance takes over once the Lease has not been
// renewed for a whole lease duration. Expiry is judged by the local clock from the moment this instance
// last saw the Lease change, never by comparing timestamps written by another machine's clock.
// Every attempt is bounded by the renew deadline, as client-go bounds it: a request that never settles
// (a connection stalled on a starved node) must neither keep a leader leading nor stop a standby's loop.
import type { KubeClient } from '../kube/client.ts';
import { isStatus } from '../kube/client.ts';
import type { Logger } from './log.ts';

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  identity: string;
  /** how long a Lease stays valid without renewal; default 15 s */
  leaseDurationMs?: number;
  /** a leader that could not renew for this long steps down; default 10 s */
  renewDeadlineMs?: number;
  /** how often to try to acquire or renew; default 2 s */
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** Lease timestamps are MicroTime: RFC 3339 with microseconds. */
function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type ElectionTimings = Required<Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>>;

/** lease duration > renew deadline > retry period > 0, as client-go requires */
export function electionTimingsInOrder(t: ElectionTimings): boolean {
  return t.retryPeriodMs > 0 && t.renewDeadlineMs > t.retryPeriodMs && t.leaseDurationMs > t.renewDeadlineMs;
}

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #options: Required<Omit<LeaderElectionOptions, 'log' | 'onStartedLeading' | 'onStoppedLeading'>> & Pick<LeaderElectionOptions, 'log' | 'onStartedLeading' | 'onStoppedLeading'>;
  #leading = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** the Lease as last seen, and when (local clock) its holder or renew time last changed */
  #observed: { spec: LeaseSpec; at: number } | null = null;
  #lastRenewal = 0;
  #loop: Promise<void> | null = null;

  constructor(client: KubeClient, options: LeaderElectionOptions) {
    this.#client = client;
    // `?? default`, not spread defaults: runOperator passes the timings it was given, undefined included, and
    // undefined ones once meant a Lease written without a duration (never expiring) and a retry every 0 ms.
    const timings: ElectionTimings = {
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
    };
    if (!electionTimingsInOrder(timings)) {
      throw new Error(`leader election: needs lease duration > renew deadline > retry period > 0, got ${timings.leaseDurationMs} ms, ${timings.renewDeadlineMs} ms, ${timings.retryPeriodMs} ms`);
    }
    this.#options = { ...options, ...timings };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops trying; a leader releases the Lease so another instance can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#loop;
    if (this.#leading) {
      this.#setLeading(false);
      await this.#release().catch((error: unknown) => this.#options.log.warn('could not release the leader Lease', { error }));
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#loop = this.#tick().finally(() => {
        this.#loop = null;
        this.#schedule(this.#options.retryPeriodMs);
      });
    }, ms);
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#options.namespace)}/leases`;
  }

  async #tick(): Promise<void> {
    try {
      const acquired = await this.#tryAcquireOrRenew(AbortSignal.timeout(this.#options.renewDeadlineMs));
      if (acquired) this.#lastRenewal = Date.now();
      this.#setLeading(acquired || (this.#leading && Date.now() - this.#lastRenewal < this.#options.renewDeadlineMs));
    } catch (error) {
      this.#options.log.warn('leader election: could not reach the Lease', { error, lease: this.#options.leaseName });
      // A leader keeps leading until its renew deadline passes: a short API outage must not stop the checks.
      if (this.#leading && Date.now() - this.#lastRenewal >= this.#options.renewDeadlineMs) this.#setLeading(false);
    }
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#options.log.info(leading ? 'became the leader' : 'stopped leading', { lease: this.#options.leaseName, identity: this.#options.identity });
    if (leading) this.#options.onStartedLeading();
    else this.#options.onStoppedLeading();
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { leaseName, namespace, identity, leaseDurationMs } = this.#options;
    const now = new Date();
    const mine: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000), renewTime: microTime(now) };
    let lease: Lease;
    try {
      lease = (await this.#client.request('GET', `${this.#path}/${encodeURIComponent(leaseName)}`, undefined, { signal })) as Lease;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      await this.#client.request('POST', this.#path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: leaseName, namespace },
        spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
      }, { signal });
      return true;
    }
    const spec = lease.spec ?? {};
    if (this.#observed === null || this.#observed.spec.holderIdentity !== spec.holderIdentity || this.#observed.spec.renewTime !== spec.renewTime) {
      if (this.#observed?.spec.holderIdentity !== spec.holderIdentity && spec.holderIdentity && spec.holderIdentity !== identity) {
        this.#options.log.info('the leader Lease is held by another instance', { lease: leaseName, holder: spec.holderIdentity });
      }
      this.#observed = { spec, at: Date.now() };
    }
    const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '';
    const duration = (spec.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    const expired = Date.now() - this.#observed.at >= duration;
    if (held && spec.holderIdentity !== identity && !expired) return false;
    const takingOver = spec.holderIdentity !== identity;
    if (takingOver) {
      const why = held ? `not renewed by ${spec.holderIdentity} for ${Math.round((Date.now() - this.#observed.at) / 1000)} s` : 'it has no holder';
      this.#options.log.info('taking the leader Lease', { lease: leaseName, why });
    }
    const next: LeaseSpec = {
      ...spec,
      ...mine,
      acquireTime: takingOver ? microTime(now) : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && held ? 1 : 0),
    };
    try {
      await this.#client.request('PUT', `${this.#path}/${encodeURIComponent(leaseName)}`, { ...lease, spec: next }, { signal });
    } catch (error) {
      if (isStatus(error, 409)) return false; // another instance wrote first
      throw error;
    }
    return true;
  }

  async #release(): Promise<void> {
    const path = `${this.#path}/${encodeURIComponent(this.#options.leaseName)}`;
    const lease = (await this.#client.request('GET', path)) as Lease;
    if (lease.spec?.holderIdentity !== this.#options.identity) return;
    await this.#client.request('PUT', path, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() } });
  }
}
