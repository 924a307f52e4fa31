// The operator's HTTP endpoints: /healthz (the process is alive and its loop turns), /readyz (caches
// filled), /metrics (Prometheus text format), and netlab's page read-only (/, /api/...) when given one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PageSource, pageHandler } from '../web/handler.ts';
import { respond } from '../web/server.ts';

export interface HealthSource {
  /** null when healthy, else why not */
  liveness(): string | null;
  readiness(): string | null;
  metrics(): string;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(source: HealthSource, port: number, host = '0.0.0.0', page: PageSource | null = null): Promise<HealthServer> {
  const pageRoutes = page ? pageHandler(page) : null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/healthz': {
        const problem = source.liveness();
        return problem === null ? reply(200, 'ok\n') : reply(500, `${problem}\n`);
      }
      case '/readyz': {
        const problem = source.readiness();
        return problem === null ? reply(200, 'ok\n') : reply(503, `${problem}\n`);
      }
      case '/metrics':
        return reply(200, source.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      default:
        if (pageRoutes && respond(res, () => pageRoutes(path, url.searchParams), req.method ?? 'GET')) return;
        return reply(404, `not found: try ${pageRoutes ? '/ (the page), ' : ''}/healthz, /readyz or /metrics\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
