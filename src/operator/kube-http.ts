// A minimal JSON client for the Kubernetes API on top of client-node's KubeConfig (credentials, TLS).
// The operator reads and writes plain JSON, the same shape `kubectl get -o json` shows and the
// snapshot projections expect, instead of client-node's typed models (which turn timestamps into Date
// objects and rename fields).
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';

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
}

export interface KubeClient {
  /** GET/POST/PUT/PATCH/DELETE with a JSON body; resolves to the parsed response body. */
  request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, options?: RequestOptions): Promise<unknown>;
}

const METHODS = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, PATCH: HttpMethod.PATCH, DELETE: HttpMethod.DELETE } as const;

export function kubeClient(kc: KubeConfig, timeoutMs = 30_000): KubeClient {
  return {
    async request(method, path, body, { contentType = 'application/json', accept = 'application/json' } = {}) {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) throw new Error('the kubeconfig has no current cluster');
      const url = `${cluster.server.replace(/\/$/, '')}${path}`;
      const ctx = new RequestContext(url, METHODS[method]);
      await kc.applySecurityAuthentication(ctx);
      const headers: Record<string, string> = { ...ctx.getHeaders(), accept };
      if (body !== undefined) headers['content-type'] = contentType;
      const response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: ctx.getDispatcher(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = text;
      }
      if (!response.ok) {
        const status = (parsed ?? {}) as { reason?: string; message?: string };
        throw new KubeApiError(method, path, response.status, status.reason ?? response.statusText, status.message ?? String(text).slice(0, 500));
      }
      return parsed;
    },
  };
}

export function isStatus(error: unknown, code: number): boolean {
  return error instanceof KubeApiError && error.statusCode === code;
}
