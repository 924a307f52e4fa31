// `netlab ui`'s server: the page's routes (handler.ts) on localhost, GET and HEAD only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PageSource, pageHandler, SECURITY_HEADERS, type WebResponse } from './handler.ts';

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Writes a handler's answer; any error becomes a 500 that names it, and the server keeps serving. */
export function respond(res: http.ServerResponse, answer: () => WebResponse | null, method: string): boolean {
  let reply: WebResponse | null;
  try {
    reply = answer();
  } catch (error) {
    reply = { status: 500, type: 'text/plain; charset=utf-8', body: `internal error: ${(error as Error).message}\n` };
  }
  if (reply === null) return false;
  res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(method === 'HEAD' ? undefined : reply.body);
  return true;
}

export async function startWebServer(source: PageSource, options: { port?: number; host?: string } = {}): Promise<WebServer> {
  const handle = pageHandler(source);
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
      res.end('the page is read-only: GET and HEAD only\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!respond(res, () => handle(url.pathname, url.searchParams), method)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The first visitor should not wait for the page state to be built: build it now (a pending source skips this).
  handle('/api/state', new URLSearchParams());
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
