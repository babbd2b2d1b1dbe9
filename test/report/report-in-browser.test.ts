import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import type { ConformanceSummary } from '../../helpers/report/summary.ts';
import { makeReport, startIngressStandIn } from '../support/report-fixture.ts';

/**
 * The report as a person sees it: a nested conformance run with passing, failing, skipped and never-run features
 * (test/support/report-fixture.ts), its single-file report opened from file:// in Debian's Chromium. Screenshots
 * go to reports/screenshots/ for a person to look at; MESHPROOF_UPDATE_DOCS=1 also refreshes docs/report.png,
 * the README's picture.
 */
const chromiumPath = process.env.MESHPROOF_CHROMIUM ?? '/usr/bin/chromium';
const screenshots = fromRoot('reports', 'screenshots');
// The flags a headless Chromium needs on a closed machine (no sandbox as root, no background calls home).
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let index: string;
let summary: ConformanceSummary;
let dir: string;
const outside: string[] = [];
// Each test opens a 5 MB report and renders pages in Chromium beside the other self-tests.
const testTimeoutMs = 180_000;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  const ingress = await startIngressStandIn();
  // One run for every test of the file (test/support/temp.ts clears its folders after each test).
  dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-report-'));
  try {
    const made = await makeReport(dir, ingress.url);
    expect(made.run.exitCode, made.run.output).toBe(1);
    index = made.index;
    summary = JSON.parse(readFileSync(path.join(made.run.reportsDir, 'conformance-summary.json'), 'utf8')) as ConformanceSummary;
  } finally {
    await ingress.close();
  }
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  mkdirSync(screenshots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The report, opened once and shared by the tests (each finds its way from the tree): parsing a 5 MB page is the
 * costly part, and a person does not reload the report either.
 */
let opened: Promise<Page> | undefined;
const report = (): Promise<Page> => (opened ??= openReport());

/** A page on the report that lets nothing leave the machine, and notes whatever tried. */
async function openReport(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // The report is a 5 MB page rendered on a machine busy with other self-tests: patience, not a weaker check.
  page.setDefaultTimeout(90_000);
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (/^(file|data|blob|about):/.test(url) || url.startsWith('http://127.0.0.1')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(index).href);
  await page.getByText('0 · conformance').first().waitFor();
  return page;
}

/** Finds a test as a person would: types its name into the report's search, opens the groups, clicks it. */
async function openTest(page: Page, name: string): Promise<void> {
  // Back to the tree without reloading the 5 MB page: the report routes by the URL's fragment.
  await page.evaluate(() => {
    window.location.hash = '';
  });
  await page.getByTestId('search-input').locator('input').or(page.getByPlaceholder('Search tests')).first().fill(name);
  const leaf = page.getByTestId('tree-leaf').filter({ hasText: name });
  // A search shows the matching groups collapsed. Open closed groups (an arrow whose icon is not "--opened") until
  // the test shows: opening never closes anything, so a tree that redraws slowly on a busy machine, or the search
  // applying only after a first click, costs a round, not the test.
  const closedGroup = page.locator('[data-testid="tree-arrow"]:not(:has([class*="--opened"]))');
  const deadline = Date.now() + 60_000;
  while ((await leaf.count()) === 0 && Date.now() < deadline) {
    if ((await closedGroup.count()) > 0) await closedGroup.first().click({ timeout: 5_000 }).catch(() => undefined);
    await leaf.first().waitFor({ timeout: 1_000 }).catch(() => undefined);
  }
  await leaf.first().click();
  await page.getByTestId('test-result-info-title').filter({ hasText: name }).waitFor();
}

/**
 * Shows a test by its address in the report (the fragment a click in the tree sets), for the checks of what a
 * test's page draws: finding a test as a person does is openTest's, and each search re-renders the 5 MB page's tree,
 * about half a CPU-second on this machine.
 */
async function showTest(page: Page, name: string): Promise<void> {
  const { byId } = JSON.parse(readFileSync(path.join(path.dirname(index), 'test-results.json'), 'utf8')) as { byId: Record<string, { id: string; name: string }> };
  const ids = Object.values(byId)
    .filter((test) => test.name.includes(name))
    .map((test) => test.id);
  expect(ids, `the report's tests named like "${name}"`).toHaveLength(1);
  await page.evaluate((id) => {
    window.location.hash = id;
  }, ids[0]!);
  await page.getByTestId('test-result-info-title').filter({ hasText: name }).waitFor();
}

/** The test's description, which the report draws in a frame of its own. */
async function descriptionFrame(page: Page): Promise<Frame> {
  const handle = await page.getByTestId('test-result-description-frame').elementHandle();
  const frame = await handle!.contentFrame();
  await frame!.waitForLoadState();
  return frame!;
}

/** The charts a description draws: their titles, each only when its image decoded. */
async function chartsDrawn(frame: Frame): Promise<string[]> {
  await frame.waitForFunction(() => [...document.images].every((img) => img.complete));
  return frame.evaluate(() => [...document.images].filter((img) => img.naturalWidth > 0 && img.src.startsWith('data:image/svg+xml')).map((img) => img.alt));
}

describe('the report of a conformance run, in a browser', () => {
  it('opens from file:// on the conformance result, before anything else', async () => {
    const page = await report();
    const text = await page.evaluate(() => document.body.innerText);
    const headline = 'conformance failed — 6 passed, 1 failed, 1 skipped, 6 not run';
    expect(text).toContain(`meshproof: ${headline}`);
    // The first test of the tree is the result, ahead of every feature.
    const firstTest = text.indexOf(`0 · ${headline}`);
    expect(firstTest).toBeGreaterThan(0);
    for (const feature of ['traffic-shifting', 'fault-delay', 'mirroring', 'kiali']) expect(text.indexOf(feature, firstTest + 1)).toBeGreaterThan(firstTest);
    expect(text).toMatch(/Conformance\s+failed \(failed: fault-delay; not run: ab-testing, request-routing, rate-limiting, grafana, jaeger, kiali\)/);
    expect(text).toMatch(/Skipped\s+1/);
    expect(text).toMatch(/Unknown\s+6/);
    await page.screenshot({ path: path.join(screenshots, 'report-overview.png') });
    if (process.env.MESHPROOF_UPDATE_DOCS === '1') copyFileSync(path.join(screenshots, 'report-overview.png'), fromRoot('docs', 'report.png'));
  }, testTimeoutMs);

  it('lists every feature of the catalogue with its status and why', async () => {
    const page = await report();
    await openTest(page, '0 · conformance failed');
    const frame = await descriptionFrame(page);
    const rows = await frame.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll('tr[data-feature]')].map((row) => [row.getAttribute('data-feature'), { status: row.querySelector('[data-status]')!.getAttribute('data-status'), text: (row as HTMLElement).innerText }])),
    );
    expect(Object.keys(rows)).toEqual(Object.keys(summary.features));
    for (const [feature, { status }] of Object.entries(summary.features)) expect(rows[feature]!.status, feature).toBe(status);
    expect(rows.mirroring!.text).toContain('skipped by MESHPROOF_SKIP: the lab has no v3 capacity today');
    expect(rows.kiali!.text).toContain('its suite did not run in this run');
    expect(rows['fault-delay']!.text).toContain('✗ calls to ratings without end-user: jason are not delayed');
    await page.getByTestId('test-result-tab-attachments').click();
    await expect.poll(() => page.evaluate(() => document.body.innerText)).toContain('conformance-summary.json');
    await page.getByTestId('test-result-tab-overview').click();
    await page.screenshot({ path: path.join(screenshots, 'report-conformance-result.png'), fullPage: true });
  }, testTimeoutMs);

  it('shows a skipped and a never-run feature as tests with that status and the reason', async () => {
    const page = await report();
    await openTest(page, 'reviews v3 receives a copy of each request');
    expect(await page.evaluate(() => document.body.innerText)).toContain('skipped by MESHPROOF_SKIP: the lab has no v3 capacity today');
    await openTest(page, 'Kiali draws the bookinfo graph');
    expect(await page.getByTestId('test-result-info-title').locator('..').innerText()).toMatch(/Unknown/);
    expect(await (await descriptionFrame(page)).evaluate(() => document.body.innerText)).toContain('not run: its suite did not run in this run');
  }, testTimeoutMs);

  it('draws a failed verdict as a red step whose message is its sentence, with no matcher text', async () => {
    const page = await report();
    await openTest(page, "jason's calls to ratings are delayed by 7 s");
    await expect.poll(() => page.getByTestId('test-result-status-failed').count()).toBeGreaterThan(0);
    const sentence = 'calls to ratings without end-user: jason are not delayed: 20 requests took min';
    const failedStep = page.getByTestId('test-result-step-header').filter({ hasText: sentence }).filter({ has: page.getByTestId('tree-leaf-status-failed') });
    await expect.poll(() => failedStep.count()).toBeGreaterThan(0);
    const passedStep = page.getByTestId('test-result-step-header').filter({ hasText: "jason's requests delayed by 7 s" }).filter({ has: page.getByTestId('tree-leaf-status-passed') });
    expect(await passedStep.count()).toBeGreaterThan(0);
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).not.toMatch(/expected .* to (be|equal)|AssertionError|toBe\(/);
    // The live proof: each proxy proven, the probe seen, how long it took.
    expect(text).toMatch(/bookinfo\/reviews-v2 has route meshproof-live-probe-[0-9a-f]{8} for ratings\.bookinfo\.svc\.cluster\.local/);
    expect(text).toContain('probe: the stand-in ingress answered 418 from the probe route');
    // No path of the machine that ran it: the failure bundle is named relative to the reports folder.
    expect(text).toMatch(/failure bundle\s+failures\/fault-delay-/);
    expect(text).not.toContain(dir);
    await page.screenshot({ path: path.join(screenshots, 'report-failed-feature.png'), fullPage: true });
  }, testTimeoutMs);

  it('draws a chart of every verdict kind, as SVG, at the top of each test', async () => {
    const page = await report();
    const charts: Record<string, string[]> = {};
    for (const [test, kind] of [
      ['80 % of traffic to reviews v1', 'weighted split'],
      ['10 % of calls to ratings are answered HTTP 500', 'rate'],
      ["jason's calls to ratings are delayed by 7 s", 'latency'],
      ['one at a time every request is served', 'all-match and ejection'],
      ['each request to httpbin /status/503 is tried 1 + 2 times', 'counter ratio'],
      ['Istio metrics count the requests', 'metric increase'],
      ['plaintext from outside the mesh is refused', 'mTLS matrix'],
    ] as const) {
      await showTest(page, test);
      charts[kind] = await chartsDrawn(await descriptionFrame(page));
    }
    expect(charts['weighted split']).toEqual(['traffic-shifting: 80 % of traffic to reviews v1']);
    expect(charts.rate).toHaveLength(2);
    expect(charts.latency).toEqual(['fault-delay: a 7 s delay for user jason', 'fault-delay/others: calls to ratings without end-user: jason are not delayed', 'fault-delay: response times, group by group']);
    expect(charts['all-match and ejection']).toEqual([expect.stringMatching(/^circuit-breaker\/sequential: /), expect.stringMatching(/^circuit-breaker\/ejection: /)]);
    expect(charts['counter ratio']).toEqual([expect.stringMatching(/^timeouts-retries\/no-retries-before: /), expect.stringMatching(/^timeouts-retries\/retries: /)]);
    expect(charts['metric increase']).toEqual(['prometheus: Istio metrics count the requests']);
    expect(charts['mTLS matrix']).toContain('mtls-strict: who is served, in each phase');
  }, testTimeoutMs);

  it('asked for nothing outside 127.0.0.1', () => {
    expect(outside).toEqual([]);
  }, testTimeoutMs);
});
