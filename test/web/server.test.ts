// The page's server on loopback: assets with a strict content policy and nothing from elsewhere, the data
// routes, clear errors, and read-only.
import { readdirSync, readFileSync } from 'node:fs';
import { startWebServer, type WebServer } from '../../src/web/server.ts';
import type { Trace } from '../../src/trace/types.ts';
import { seedPage } from './support.ts';

let server: WebServer;
beforeAll(async () => {
  const input = await seedPage();
  server = await startWebServer({ current: () => input });
});
afterAll(() => server?.close());

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

test('the assets load nothing from elsewhere: no URL but the SVG namespace, and a content policy of self only', async () => {
  const assets = new URL('../../src/web/assets/', import.meta.url);
  for (const file of readdirSync(assets)) {
    const urls = readFileSync(new URL(file, assets), 'utf8').match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi) ?? [];
    expect({ file, urls: urls.filter((u) => u !== 'http://www.w3.org/2000/svg') }).toEqual({ file, urls: [] });
  }
  const page = await get('/');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
  expect((await get('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
});

test('/api/state, /api/tables and /api/trace answer with the data the text report and trace use', async () => {
  const state = await (await get('/api/state')).json();
  expect(state.cluster.nodes).toHaveLength(3);
  const tables = await (await get('/api/tables?node=node-1')).json();
  expect(tables.sections.map((s: { layer: string }) => s.layer)).toEqual(['routes', 'ipvs']);
  const trace = (await (await get('/api/trace?from=default/rpc-75d9b7d7c9-x7m4q&to=kube-dns.kube-system')).json()) as Trace;
  expect(trace.hops.map((h) => h.kind)).toEqual(['source', 'dns', 'service', 'route', 'tunnel', 'route', 'deliver', 'route', 'reply']);
});

test('bad requests get a status and a message that says what is wrong', async () => {
  const noPod = await get('/api/trace?from=default/nope&to=kube-dns');
  expect(noPod.status).toBe(400);
  expect((await noPod.json()).error).toBe('--from default/nope: no pod nope in namespace default in the snapshot');
  expect((await get('/api/trace?from=node-1')).status).toBe(400);
  expect((await get('/api/trace?from=node-1&to=x:1&protocol=ICMP')).status).toBe(400);
  expect((await get('/api/tables?node=node-9')).status).toBe(404);
  expect((await get('/api/nothing')).status).toBe(404);
  expect((await get('/nothing')).status).toBe(404);
});

test('read-only: anything but GET and HEAD is refused', async () => {
  const post = await get('/api/state', { method: 'POST', body: '{}' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
});

test('a source with nothing computed yet answers 503 with its reason', async () => {
  const pending = await startWebServer({ current: () => ({ pending: 'no NetworkLab has been checked yet' }) });
  try {
    const r = await fetch(new URL('/api/state', pending.url));
    expect(r.status).toBe(503);
    expect((await r.json()).error).toBe('no NetworkLab has been checked yet');
  } finally {
    await pending.close();
  }
});
