// The page as a person uses it, in a real browser: Debian's chromium driven by playwright-core, on the seed
// example served by the real server. Screenshots are kept in artifacts/browser/ (NETLAB_ARTIFACTS_DIR to move
// them) for CI to publish. Without chromium the suite skips with one line (and fails under NETLAB_REQUIRE_REAL=1).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { labsPageSource } from '../../src/operator/page.ts';
import { startWebServer, type WebServer } from '../../src/web/server.ts';
import { skipOrFail } from '../harness/require-real.ts';
import { SEED_OBSERVED, seedPage } from './support.ts';

const CHROMIUM = process.env.NETLAB_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.NETLAB_ARTIFACTS_DIR ?? fileURLToPath(new URL('../../artifacts/browser/', import.meta.url));
const RPC = 'default/rpc-75d9b7d7c9-2zzrx';

const missing = existsSync(CHROMIUM) ? null : `no chromium at ${CHROMIUM} (Debian: apt-get install chromium)`;
if (missing) skipOrFail(`browser tests: ${missing}`);
const describeBrowser = missing ? describe.skip : describe;

/** The seed's real node-1 output with the CoreDNS pod's /32 route deleted: the pod has no way in. */
function observedWithoutCorednsRoute(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'netlab-browser-'));
  cpSync(SEED_OBSERVED, dir, { recursive: true });
  const file = join(dir, 'node-1/route-n.txt');
  writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('10.244.0.137 ')).join('\n'));
  return dir;
}

describeBrowser('the page in chromium', () => {
  let clean: WebServer;
  let faulty: WebServer;
  let faultDir: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const [good, bad] = [await seedPage(), await seedPage((faultDir = observedWithoutCorednsRoute()))];
    clean = await startWebServer({ current: () => good });
    faulty = await startWebServer({ current: () => bad });
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(os.tmpdir(), 'netlab-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 1000 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await clean?.close();
    await faulty?.close();
    for (const dir of [profile, faultDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const verdictWords = () => page.locator('#trace-diagram .hop').evaluateAll((hops) => hops.map((h) => h.getAttribute('data-verdict')));
  const hopLabels = () => page.locator('#trace-diagram .hop').evaluateAll((hops) => hops.map((h) => h.getAttribute('aria-label')));

  test('the seed loads: three nodes, the checks, and the trace from a pod to kube-dns with its hops in order', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(clean.url);
    await page.waitForSelector('body[data-trace-ready="true"]');
    expect(await page.locator('.node-box').count()).toBe(3);
    await expect(page.locator('.node-box').first().getAttribute('aria-label')).resolves.toContain('node node-1, address 10.130.29.80, tunl0 10.244.0.0');
    expect(await page.locator('#lab-list td.result').allTextContents()).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'PASS']);
    expect(await hopLabels()).toEqual([
      `hop 1 of 7: pod ${RPC}: OK`,
      'hop 2 of 7: DNS: kube-dns.kube-system: NOT OBSERVED',
      'hop 3 of 7: TCP 10.96.0.10:53 on node-1: OK',
      'hop 4 of 7: route on node-1: OK',
      'hop 5 of 7: pod kube-system/coredns-78fcd69978-9v6wz: OK',
      'hop 6 of 7: reply route on node-1: OK',
      'hop 7 of 7: reply un-NAT on node-1: OK',
    ]);
    // the verdict is written in the box, not only coloured
    expect(await page.locator('#trace-diagram .hop text.word').allTextContents()).toEqual(['OK', 'NOT OBSERVED', 'OK', 'OK', 'OK', 'OK', 'OK']);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'seed-page.png'), fullPage: true });
  });

  test('the keyboard moves along the hops and opens one; its table line is shown highlighted in the node\'s table', async () => {
    await page.goto(clean.url);
    await page.waitForSelector('body[data-trace-ready="true"]');
    await page.locator('#trace-diagram .hop').first().focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('hop 4 of 7: route on node-1: OK');
    await page.keyboard.press('Enter');
    await expect(page.locator('#hop-title').textContent()).resolves.toBe('4. route on node-1 — OK');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('hop-title');
    await page.keyboard.press('Tab'); // from the heading to the table line behind the hop
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('10.244.0.137');
    await page.keyboard.press('Enter');
    const lit = page.locator('#table-view tr.highlight');
    await lit.waitFor();
    expect(await lit.locator('td.word').textContent()).toBe('ok');
    expect(await lit.locator('td.text').textContent()).toMatch(/^10\.244\.0\.137 +0\.0\.0\.0 +255\.255\.255\.255 UH .*calid3c6b0469a6$/);
    expect(await lit.locator('td.explanation').textContent()).toContain('Pod kube-system/coredns-78fcd69978-9v6wz (10.244.0.137) runs on this node');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('highlight'))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'hop-table-line.png') });
  });

  test('a click on a hop shows it: the Service hop lists the backends and which one the trace follows', async () => {
    await page.goto(clean.url);
    await page.waitForSelector('body[data-trace-ready="true"]');
    await page.locator('#trace-diagram .hop').nth(2).click();
    await expect(page.locator('#hop-title').textContent()).resolves.toBe('3. TCP 10.96.0.10:53 on node-1 — OK');
    const rows = await page.locator('#hop-detail tbody tr').allTextContents();
    expect(rows).toEqual([
      '10.244.0.137:53kube-system/coredns-78fcd69978-9v6wznode-1by rryesfollowed',
      '10.244.0.138:53kube-system/coredns-78fcd69978-qjz5bnode-1by rryes',
    ]);
  });

  test('a deleted pod route turns exactly that hop red, labelled BROKEN, and it says why', async () => {
    await page.goto(faulty.url);
    await page.waitForSelector('body[data-trace-ready="true"]');
    expect(await verdictWords()).toEqual(['OK', 'NOT OBSERVED', 'OK', 'BROKEN']);
    const broken = page.locator('#trace-diagram .hop.verdict-broken');
    expect(await broken.count()).toBe(1);
    expect(await broken.getAttribute('aria-label')).toBe('hop 4 of 4: route on node-1: BROKEN');
    expect(await broken.locator('text.word').textContent()).toBe('✖ BROKEN');
    // red, and not only red: a thicker frame than the others
    const frame = await broken.locator('rect.frame').evaluate((r) => ({ stroke: getComputedStyle(r).stroke, width: getComputedStyle(r).strokeWidth }));
    expect(frame).toEqual({ stroke: 'rgb(180, 35, 24)', width: '5px' });
    // the first broken hop opens by itself
    await expect(page.locator('#hop-detail .why').textContent()).resolves.toBe(
      'Why BROKEN: node-1 drops the packet: the best match for 10.244.0.137 is the blackhole 10.244.0.0/24, not 10.244.0.137/32 on calid3c6b0469a6.');
    await page.screenshot({ path: join(ARTIFACTS, 'broken-route.png'), fullPage: true });
    // the missing line is in node-1's table as MISS
    await page.locator('#hop-detail button.line-link', { hasText: 'calid3c6b0469a6' }).click();
    const lit = page.locator('#table-view tr.highlight', { hasText: 'calid3c6b0469a6' });
    await lit.waitFor();
    expect(await lit.locator('td.word').textContent()).toBe('MISS');
  });

  test('the operator\'s page: each NetworkLab with the conditions it wrote', async () => {
    const input = await seedPage();
    const ready = { type: 'Ready', status: 'True' as const, observedGeneration: 1, lastTransitionTime: '2026-11-30T00:00:00Z', reason: 'Verified', message: 'every checked layer matches' };
    const labs = new Map([['demo/walkthrough', { snapshot: input.snapshot, observation: input.observation!, report: input.labs[0]!.report, conditions: [ready], at: Date.parse('2026-11-30T00:00:00Z') }]]);
    const operatorPage = await startWebServer(labsPageSource(() => ({ version: 1, labs })));
    try {
      await page.goto(operatorPage.url);
      await page.waitForSelector('body[data-trace-ready="true"]');
      expect(await page.locator('#origin').textContent()).toMatch(/^operator: the last check of 1 NetworkLab/);
      expect(await page.locator('#lab-list h3').allTextContents()).toEqual(['NetworkLab demo/walkthrough']);
      expect(await page.locator('#lab-list table.conditions tbody tr').allTextContents()).toEqual(['ReadyTrueVerifiedevery checked layer matches']);
    } finally {
      await operatorPage.close();
    }
  });

  test('a trace typed into the form is drawn, and a bad one says what is wrong', async () => {
    await page.goto(clean.url);
    await page.waitForSelector('body[data-trace-ready="true"]');
    await page.fill('#trace-from', 'default/rpc-75d9b7d7c9-x7m4q');
    await page.fill('#trace-to', 'kube-dns.kube-system');
    await page.press('#trace-to', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#trace-diagram .hop').length === 9);
    expect((await hopLabels())[4]).toBe('hop 5 of 9: IP-in-IP node-2 → node-1: NOT OBSERVED');
    await page.screenshot({ path: join(ARTIFACTS, 'trace-through-tunnel.png'), fullPage: true });
    await page.fill('#trace-from', 'default/nope');
    await page.press('#trace-to', 'Enter');
    await page.waitForSelector('body[data-trace-ready="error"]');
    expect(await page.locator('#trace-summary').textContent()).toBe('Cannot trace: --from default/nope: no pod nope in namespace default in the snapshot');
  });
});
