// The operator's read-only page: the last check of each lab, merged, served beside /healthz.
import { startHealthServer } from '../../src/operator/http.ts';
import { labsPage, labsPageSource } from '../../src/operator/page.ts';
import type { LabCheck } from '../../src/operator/reconciler.ts';
import { pageState } from '../../src/web/state.ts';
import { seedPage } from '../web/support.ts';

async function labChecks(): Promise<Map<string, LabCheck>> {
  const input = await seedPage();
  const report = input.labs[0]!.report;
  const node1 = input.observation!.nodes.find((n) => n.node === 'node-1')!;
  const ready = { type: 'Ready', status: 'True' as const, observedGeneration: 1, lastTransitionTime: '2026-11-30T00:00:00Z', reason: 'Verified', message: 'every checked layer matches' };
  return new Map([
    ['demo/routes', { snapshot: input.snapshot, observation: { nodes: [{ ...node1, routeN: 'older' }] }, report, conditions: [ready], at: 1000 }],
    ['demo/walkthrough', { snapshot: input.snapshot, observation: { nodes: [node1] }, report, conditions: [], at: 2000 }],
  ]);
}

test('each lab is listed; each node is taken from the newest check that saw it', async () => {
  const page = labsPage(await labChecks());
  if ('pending' in page) throw new Error(page.pending);
  expect(page.labs.map((l) => l.name)).toEqual(['NetworkLab demo/routes', 'NetworkLab demo/walkthrough']);
  // the conditions the operator wrote reach the page as they are
  expect(pageState(page).labs[0]!.conditions).toEqual([{ type: 'Ready', status: 'True', reason: 'Verified', message: 'every checked layer matches' }]);
  expect(page.observation!.nodes).toHaveLength(1);
  expect(page.observation!.nodes[0]!.routeN).toContain('Kernel IP routing table');
  expect(page.computedAt).toBe(new Date(2000).toISOString());
  expect(labsPage(new Map())).toEqual({ pending: 'no NetworkLab has been checked yet (kubectl get nlab -A)' });
});

test('the source rebuilds its input only when the results change', async () => {
  const labs = await labChecks();
  let version = 1;
  const source = labsPageSource(() => ({ version, labs }));
  const first = source.current();
  expect(source.current()).toBe(first);
  version++;
  expect(source.current()).not.toBe(first);
});

test('the health server serves the page read-only beside /healthz', async () => {
  const labs = await labChecks();
  const server = await startHealthServer({ liveness: () => null, readiness: () => null, metrics: () => '' }, 0, '127.0.0.1', labsPageSource(() => ({ version: 1, labs })));
  try {
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>netlab');
    const trace = await (await fetch(`${base}/api/trace?from=default/rpc-75d9b7d7c9-2zzrx&to=kube-dns.kube-system`)).json();
    expect(trace.hops.find((h: { id: string }) => h.id === 'service').verdict).toBe('ok');
    expect((await fetch(`${base}/api/state`, { method: 'POST' })).status).toBe(405);
  } finally {
    await server.close();
  }
});
