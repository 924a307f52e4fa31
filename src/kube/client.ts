// netlab's one client for the Kubernetes API, used by the command line and the operator alike.
// client-node's KubeConfig supplies the configuration and the authentication (kubeconfig or in-cluster
// ServiceAccount, client certificates, tokens, exec plugins, proxies); requests and answers are plain JSON,
// the shape `kubectl get -o json` shows and the snapshot projections expect, instead of client-node's typed
// models (which turn timestamps into Date objects, rename fields and cost memory at 10,000 objects).
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';

export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  constructor(method: string, path: string, statusCode: number, reason: string, message: string) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${message}`);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export interface RequestOptions {
  /** default application/json (a merge patch needs application/merge-patch+json) */
  contentType?: string;
  /** default application/json (kubectl's table view asks for application/json;as=Table;v=v1;g=meta.k8s.io) */
  accept?: string;
  /** aborts the request early (the client's own timeout still applies) */
  signal?: AbortSignal;
}

export interface KubeClient {
  /** GET/POST/PUT/PATCH/DELETE with a JSON body; resolves to the parsed response body. */
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, options?: RequestOptions): Promise<unknown>;
}

const METHODS = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, PATCH: HttpMethod.PATCH, DELETE: HttpMethod.DELETE } as const;

/**
 * A client for the current context of `kc`. An answer other than 2xx throws KubeApiError with the
 * apiserver's reason and message (e.g. RBAC's "forbidden"); no answer throws an Error naming the URL.
 */
export function kubeClient(kc: KubeConfig, timeoutMs = 30_000): KubeClient {
  // client-node builds a new connection pool (undici Agent) for every request it authenticates, so each
  // request would open its own TCP and TLS connection. One pool per cluster and user keeps connections alive
  // between requests: on a CPU-starved node a TLS handshake per request was slow enough to time out.
  // (Client certificates that an exec plugin rotates would need a new client.)
  const pools = new Map<string, Dispatcher | undefined>();
  return {
    async request(method, path, body, { contentType = 'application/json', accept = 'application/json', signal } = {}) {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) throw new Error('the kubeconfig has no current cluster');
      const url = `${cluster.server.replace(/\/+$/, '')}${path}`; // a server URL may carry a path prefix (proxies)
      const ctx = new RequestContext(url, METHODS[method]);
      await kc.applySecurityAuthentication(ctx);
      const poolKey = JSON.stringify([cluster, kc.getCurrentUser()]);
      if (!pools.has(poolKey)) pools.set(poolKey, ctx.getDispatcher());
      const headers: Record<string, string> = { ...ctx.getHeaders(), accept };
      if (body !== undefined) headers['content-type'] = contentType;
      const timeout = AbortSignal.timeout(timeoutMs);
      let response;
      let text;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          dispatcher: pools.get(poolKey),
          signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
        });
        text = await response.text();
      } catch (error) {
        // undici says "fetch failed" and puts the reason (refused, reset, timeout) in the cause
        const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
        throw new Error(`${method} ${url}: ${cause}`);
      }
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = text; // errors outside any API group come as plain text ("404 page not found")
      }
      if (!response.ok) {
        const status = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as { reason?: string; message?: string };
        throw new KubeApiError(method, path, response.status, status.reason ?? response.statusText, status.message ?? String(text).trim().slice(0, 500));
      }
      return parsed;
    },
  };
}

export function isStatus(error: unknown, code: number): boolean {
  return error instanceof KubeApiError && error.statusCode === code;
}

/** One page of a list, as the apiserver sends it. */
export interface ListPage {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

export interface ListOptions {
  /** items per request; default 500, as kubectl */
  pageSize?: number;
  fieldSelector?: string;
}

/**
 * Reads a list page by page (`limit`, then `continue` until the apiserver gives none), so that only one
 * page of whole objects is in memory at a time: `onPage` turns each into what the caller keeps. Resolves
 * to the resourceVersion of the list, from which a watch can start.
 */
export async function listInPages(client: KubeClient, path: string, options: ListOptions, onPage: (page: ListPage) => void): Promise<string> {
  let resourceVersion = '';
  let token = '';
  do {
    const query = new URLSearchParams({ limit: String(options.pageSize ?? 500) });
    if (options.fieldSelector !== undefined) query.set('fieldSelector', options.fieldSelector);
    if (token) query.set('continue', token);
    const page = await client.request('GET', `${path}?${query}`);
    if (page === null || typeof page !== 'object' || !Array.isArray((page as ListPage).items)) {
      throw new Error(`GET ${path} did not return a list (kind ${String((page as ListPage | null)?.kind)})`);
    }
    onPage(page as ListPage);
    resourceVersion = (page as ListPage).metadata?.resourceVersion ?? resourceVersion;
    token = (page as ListPage).metadata?.continue ?? '';
  } while (token);
  return resourceVersion;
}
