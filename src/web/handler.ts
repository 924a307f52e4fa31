// The page's HTTP routes, read-only: the static assets, the page state, one node's tables, and traces.
// `netlab ui` serves them on its own server (server.ts); the operator mounts them on its HTTP port.
import { readFileSync } from 'node:fs';
import { traceFlow } from '../trace/trace.ts';
import { TraceError, type TraceRequest } from '../trace/types.ts';
import { nodeTables, type PageInput, pageState } from './state.ts';

export interface WebResponse {
  status: number;
  type: string;
  body: string;
}

/** Where the page's data comes from: the latest computed input, or null (with why) while there is none. */
export interface PageSource {
  current(): PageInput | { pending: string };
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** No CDN, no font service, no inline script: the page works air-gapped and nothing else can run in it. */
export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const json = (status: number, value: unknown): WebResponse => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(value) });
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** The route handler: answers the page's paths, null for any other path (the caller's own routes, or 404). */
export function pageHandler(source: PageSource): (path: string, query: URLSearchParams) => WebResponse | null {
  const assets = new Map(Object.entries(ASSETS).map(([path, a]) => [path, { type: a.type, body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url), 'utf8') }]));
  // The state and each node's tables of one input are serialized once, however often the page asks.
  const states = new WeakMap<PageInput, string>();
  const tables = new WeakMap<PageInput, Map<string, string>>();
  return (path, query) => {
    const asset = assets.get(path);
    if (asset) return { status: 200, ...asset };
    if (!path.startsWith('/api/')) return null;
    const input = source.current();
    if ('pending' in input) return json(503, { error: input.pending });
    switch (path) {
      case '/api/state': {
        let body = states.get(input);
        if (body === undefined) states.set(input, (body = JSON.stringify(pageState(input))));
        return { status: 200, type: 'application/json; charset=utf-8', body };
      }
      case '/api/tables': {
        const node = query.get('node') || null;
        if (node !== null && !input.snapshot.nodes.some((n) => n.name === node)) return json(404, { error: `no node ${node} in the cluster` });
        let byNode = tables.get(input);
        if (!byNode) tables.set(input, (byNode = new Map()));
        let body = byNode.get(node ?? '');
        if (body === undefined) byNode.set(node ?? '', (body = JSON.stringify(nodeTables(input, node))));
        return { status: 200, type: 'application/json; charset=utf-8', body };
      }
      case '/api/trace': {
        const from = query.get('from');
        const to = query.get('to');
        if (!from || !to) return json(400, { error: 'a trace needs from (a pod or a node) and to (NAME[:PORT] or IP:PORT)' });
        const protocol = query.get('protocol') || undefined;
        if (protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(protocol)) return json(400, { error: `protocol ${protocol} is not one of ${PROTOCOLS.join(', ')}` });
        const request: TraceRequest = { from, to, ...(protocol ? { protocol: protocol as TraceRequest['protocol'] } : {}), ...(query.get('endpoint') ? { endpoint: query.get('endpoint')! } : {}) };
        try {
          return json(200, traceFlow(input.snapshot, input.observation, request));
        } catch (error) {
          if (error instanceof TraceError) return json(400, { error: error.message });
          throw error;
        }
      }
      default:
        return json(404, { error: `no such path ${path}: try /api/state, /api/tables?node=NAME, /api/trace?from=POD&to=NAME` });
    }
  };
}
