// Benchmark of the web page at 100 nodes (not a timed test): a synthetic cluster of 100 nodes, 300 Services
// and 3,000 pods, every node "observed" (its observation is the model's own tables rendered as the tools print
// them), checked once as `netlab ui` does; then the page is loaded in a real browser (Debian's chromium
// through playwright-core) and timed from navigation until the picture and the checks are drawn, until the
// first trace is drawn, and until a node's tables are shown. Run: npm run bench:ui   (target: page < 1 s)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkLab, DEFAULT_CHECKS } from '../src/check/check.ts';
import { expectedIpvs } from '../src/model/ipvs.ts';
import { expectedRoutes } from '../src/model/routes/index.ts';
import type { Observation } from '../src/observation/types.ts';
import { renderIpvsadm } from '../src/render/ipvsadm.ts';
import { renderRouteN } from '../src/render/route.ts';
import { startWebServer } from '../src/web/server.ts';
import type { PageInput } from '../src/web/state.ts';
import { syntheticCluster } from './synthetic.ts';

const CHROMIUM = process.env.NETLAB_CHROMIUM ?? '/usr/bin/chromium';
const RUNS = 5;

const t0 = performance.now();
const snapshot = syntheticCluster({ nodes: 100, services: 300, endpointsPerService: 10 });
const observation: Observation = {
  nodes: snapshot.nodes.map((n) => ({
    node: n.name,
    routeN: renderRouteN({ routes: expectedRoutes(snapshot, n.name).routes }),
    ipvsadmLn: renderIpvsadm({ services: expectedIpvs(snapshot, n.name).services }),
  })),
};
const t1 = performance.now();
const report = checkLab(snapshot, observation, { layers: DEFAULT_CHECKS }); // what `netlab ui` checks
const t2 = performance.now();
const input: PageInput = { origin: 'bench: synthetic 100 nodes', snapshot, observation, labs: [{ name: 'bench', report }], computedAt: new Date().toISOString() };
const server = await startWebServer({ current: () => input });
const lines = report.sections.reduce((n, s) => n + s.lines.length, 0);

const s0 = performance.now();
const state = await (await fetch(new URL('/api/state', server.url))).text();
const s1 = performance.now();
const tables = await (await fetch(new URL('/api/tables?node=node-7', server.url))).text();
const s2 = performance.now();

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`cluster: ${snapshot.nodes.length} nodes, ${snapshot.pods.length} pods, ${snapshot.services.length} Services; ${lines.toLocaleString()} annotated table lines`);
console.log(`server: observation rendered in ${(t1 - t0).toFixed(0)} ms, checkLab over every node in ${(t2 - t1).toFixed(0)} ms (once, before serving)`);
console.log(`server: /api/state ${(state.length / 1024).toFixed(0)} KiB in ${(s1 - s0).toFixed(0)} ms; /api/tables of one node ${(tables.length / 1024).toFixed(0)} KiB in ${(s2 - s1).toFixed(0)} ms`);

if (!existsSync(CHROMIUM)) {
  console.log(`browser: skipped, no chromium at ${CHROMIUM} (apt-get install chromium)`);
} else {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(os.tmpdir(), 'netlab-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // Times from the browser's own clock (navigation start -> the page's performance marks): what a person
    // waits for. The wall time seen from here also counts playwright's round trips on a loaded machine.
    const samples: { drawn: number; wall: number; trace: number; tables: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      await page.goto(server.url, { waitUntil: 'commit' });
      await page.waitForSelector('body[data-ready="true"]');
      const wall = performance.now() - start;
      await page.waitForSelector('body[data-trace-ready="true"]');
      const drawn = await page.evaluate(() => performance.getEntriesByName('netlab:drawn')[0]!.startTime);
      const trace = await page.evaluate(() => performance.now());
      const before = performance.now();
      await page.selectOption('#node-select', 'node-42');
      await page.waitForSelector('#table-view h3:has-text("node-42")');
      samples.push({ drawn, wall, trace, tables: performance.now() - before });
    }
    const median = (k: keyof (typeof samples)[number]) => [...samples.map((s) => s[k])].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
    const first = samples[0]!;
    console.log(`browser (chromium, ${RUNS} loads): navigation start to picture and checks drawn: first ${first.drawn.toFixed(0)} ms, median ${median('drawn').toFixed(0)} ms (target < 1000 ms)`);
    console.log(`browser: the same seen from the benchmark process (wall, through playwright): first ${first.wall.toFixed(0)} ms, median ${median('wall').toFixed(0)} ms`);
    console.log(`browser: first trace drawn by ${median('trace').toFixed(0)} ms (median); one node's tables (first page of 100 lines) shown in ${median('tables').toFixed(0)} ms (median)`);
    const nodeBoxes = await page.locator('.node-box').count();
    console.log(`browser: ${nodeBoxes} node boxes drawn`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
await server.close();
