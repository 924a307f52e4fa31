// Informers that cache slim views instead of whole API objects. client-node's ListWatch does the
// list-then-watch, the 410 Gone relist and the resourceVersion bookkeeping; this file adds what an
// operator needs around it:
//   - projection at the edge: every listed or watched object is turned into its view at once (the
//     src/snapshot projections), so the cache holds a few hundred bytes per object, not the object;
//   - change filtering: an update that leaves the view as it was (a kubelet heartbeat, a new
//     resourceVersion, a managedFields shuffle) is not reported as a change;
//   - restart with backoff after any error (client-node's ListWatch stops for good on a non-410 error);
//   - a `synced` flag: the first list has completed.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { type KubeClient, listInPages } from '../kube/client.ts';
import type { Logger } from './log.ts';
import { backoffDelay } from './queue.ts';
import { sameJson } from './status.ts';

/** What the cache holds for one object: identity, its view, or why it could not be projected. */
export interface Slim<V> extends KubernetesObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  view: V | null;
  /** the projection failed: the message names the object and the field */
  error: string | null;
  /** false when an update left the view (and error) as they were */
  changed: boolean;
}

export type ChangeVerb = 'add' | 'update' | 'delete';

export interface InformerSpec<V> {
  /** a short name for logs and metrics: "services" */
  resource: string;
  /** the list/watch path, e.g. /api/v1/services */
  path: string;
  fieldSelector?: string;
  project(raw: unknown, source: string): V;
  /** what counts as a change (default: the whole view); labs ignore their own status */
  identity?(view: V): unknown;
}

export interface InformerOptions {
  log: Logger;
  /** first restart delay after an error, doubled per failure in a row; default 500 ms */
  restartBaseMs?: number;
  restartMaxMs?: number;
  pageSize?: number;
  onRestart?: (resource: string) => void;
}

type RawObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

export class ViewInformer<V> {
  readonly spec: InformerSpec<V>;
  readonly #client: KubeClient;
  readonly #lw: ListWatch<Slim<V>>;
  readonly #log: Logger;
  readonly #restartBaseMs: number;
  readonly #restartMaxMs: number;
  readonly #pageSize: number;
  readonly #onRestart: InformerOptions['onRestart'];
  #synced = false;
  #stopped = true;
  #failures = 0;
  #lastError: string | null = null;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(kc: KubeConfig, client: KubeClient, spec: InformerSpec<V>, options: InformerOptions) {
    this.spec = spec;
    this.#client = client;
    this.#log = options.log.with({ resource: spec.resource });
    this.#restartBaseMs = options.restartBaseMs ?? 500;
    this.#restartMaxMs = options.restartMaxMs ?? 30_000;
    this.#pageSize = options.pageSize ?? 500;
    this.#onRestart = options.onRestart;
    const slim = (raw: unknown) => this.#slim(raw as RawObject);
    const alive = () => this.#alive();
    // The watch hands every event's object through the projection before ListWatch caches it.
    class ProjectingWatch extends Watch {
      override watch(path: string, params: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: any, w?: any) => void, done: (err: any) => void) {
        // Bookmarks keep a quiet watch's resourceVersion fresh, so a reconnect rarely needs a relist.
        return super.watch(path, { ...params, allowWatchBookmarks: true }, (phase, obj, w) => {
          alive();
          callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? slim(obj) : obj, w);
        }, done);
      }
    }
    this.#lw = new ListWatch<Slim<V>>(spec.path, new ProjectingWatch(kc), () => this.#list(), false, undefined, spec.fieldSelector);
    this.#lw.on('error', (err) => this.#restartAfterError(err));
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** The last error, while the informer is retrying; null when healthy. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Every cached object, or those of one namespace (ListWatch keeps them by namespace: no scan). */
  list(namespace?: string): readonly Slim<V>[] {
    return this.#lw.list(namespace);
  }

  get(name: string, namespace?: string): Slim<V> | undefined {
    return this.#lw.get(name, namespace);
  }

  /** Changes with an unchanged view are filtered out; deletes always count. */
  on(handler: (verb: ChangeVerb, object: Slim<V>) => void): void {
    this.#lw.on('add', (o) => handler('add', o));
    this.#lw.on('update', (o) => o.changed && handler('update', o));
    this.#lw.on('delete', (o) => handler('delete', o));
  }

  async start(): Promise<void> {
    this.#stopped = false;
    try {
      await this.#lw.start();
    } catch (err) {
      this.#restartAfterError(err);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#lw.stop();
  }

  #slim(raw: RawObject): Slim<V> {
    const name = raw.metadata?.name ?? '';
    const namespace = raw.metadata?.namespace;
    const source = `informer ${this.spec.resource}`;
    let view: V | null = null;
    let error: string | null = null;
    try {
      view = this.spec.project(raw, source);
    } catch (err) {
      error = (err as Error).message;
    }
    const metadata: Slim<V>['metadata'] = { name, resourceVersion: raw.metadata?.resourceVersion };
    if (namespace !== undefined) metadata.namespace = namespace;
    const before = this.#lw.get(name, namespace);
    const identity = this.spec.identity ?? ((v: V) => v);
    const changed = before === undefined || before.error !== error || !sameJson(before.view === null ? null : identity(before.view), view === null ? null : identity(view));
    return { metadata, view, error, changed };
  }

  async #list(): Promise<KubernetesListObject<Slim<V>>> {
    const items: Slim<V>[] = [];
    // Each page is projected as it comes, so that only one page of whole objects is in memory at a time.
    const resourceVersion = await listInPages(this.#client, this.spec.path, { pageSize: this.#pageSize, fieldSelector: this.spec.fieldSelector }, (page) => {
      for (const raw of page.items ?? []) items.push(this.#slim(raw as RawObject));
    });
    this.#synced = true;
    this.#alive();
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
  }

  /** The API server answered: the next error starts the backoff from the beginning. */
  #alive(): void {
    this.#failures = 0;
    if (this.#lastError !== null) this.#log.info('informer recovered');
    this.#lastError = null;
  }

  #restartAfterError(err: unknown): void {
    if (this.#stopped) return;
    this.#failures += 1;
    this.#lastError = err instanceof Error ? err.message : String(err);
    const delay = backoffDelay(this.#failures, this.#restartBaseMs, this.#restartMaxMs);
    this.#log.warn('watch failed; restarting', { error: this.#lastError, failures: this.#failures, retryInMs: delay });
    this.#onRestart?.(this.spec.resource);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopped) return;
      this.#lw.start().catch((error: unknown) => this.#restartAfterError(error));
    }, delay);
  }
}
