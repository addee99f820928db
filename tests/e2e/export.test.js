// The charts and the downloads of the built page (dist/) in Debian's Chromium, served with the
// production CSP: what the charts name and where they reach, the index convention, the CSV's
// headers and the PDF's text (pdftotext).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { startServer } from '../../scripts/serve.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
let server, browser, origin;
const consoleProblems = [];

before(async () => {
  server = await startServer();
  origin = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  server?.close();
  assert.deepEqual(consoleProblems, [], 'no console error, page error or CSP violation in any test');
});

async function openPage({ width = 1280, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true, colorScheme });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) consoleProblems.push(m.text());
  });
  page.on('pageerror', (e) => consoleProblems.push(e.message));
  await page.goto(origin);
  await page.locator('[data-metric="mse"]').waitFor();
  return page;
}

async function calculate(page) {
  const before = await page.locator('#results').getAttribute('data-render');
  await page.getByRole('button', { name: 'Calculate' }).click();
  await page.waitForFunction((old) => document.getElementById('results').dataset.render !== old, before);
}

let qzPromise;
const api = () => (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));

// The page's number format: six significant digits.
const six = (v) => String(Number(v.toPrecision(6)));
const SEED = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';

// The x value uPlot's legend shows with the cursor at a fraction of the plot's width.
async function legendXAt(page, chart, fraction) {
  const over = page.locator(`#${chart} .u-over`);
  await over.scrollIntoViewIfNeeded();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + fraction * (box.width - 1), box.y + box.height / 2);
  return page.locator(`#${chart} .u-legend .u-series`).first().locator('.u-value').textContent();
}

describe('the charts', () => {
  test('clipping curve: each calibration pick named with its threshold, the current range in its own style, the axis out to a wide custom range', async () => {
    const page = await openPage();
    const qz = await api();
    const x = qz.parseValues(SEED);
    const amax = Math.max(...x.map(Math.abs));
    const factor = (calibration) => {
      const c = qz.analyze(x, { bits: 8, calibration, percentile: 99.99 }).calibration;
      return Math.max(Math.abs(c.rangeMin), Math.abs(c.rangeMax)) / amax;
    };
    const keys = () => page.$$eval('#chart-clipping .chart-keys li', (lis) => lis.map((li) => ({
      text: li.textContent, current: li.classList.contains('current'), style: getComputedStyle(li.querySelector('.chart-key-swatch')).borderTopStyle })));

    // A custom range of ±3 on samples within ±1.46: twice as wide as the data.
    await page.getByLabel('Range min', { exact: true }).fill('-3');
    await page.getByLabel('Range max', { exact: true }).fill('3');
    await calculate(page);
    const wide = 3 / amax;
    await page.waitForFunction((want) => document.querySelector('#chart-clipping .chart-keys li.current')?.textContent.includes(want), `${six(wide)} ×`);
    const shown = await keys();
    const picks = { 'min-max': 'minmax', 'percentile 99.99': 'percentile', 'MSE-optimal': 'mse', 'entropy (KL)': 'entropy' };
    for (const [name, calibration] of Object.entries(picks)) {
      const key = shown.find((k) => k.text.startsWith(`${name}:`));
      assert.ok(key, `a key names ${name}: ${JSON.stringify(shown)}`);
      assert.match(key.text, new RegExp(`^${name.replace(/[()]/g, '\\$&')}: ${six(factor(calibration)).replace('.', '\\.')} × max\\|x\\|, MSE `));
      assert.equal(key.style, 'dashed');
      assert.equal(key.current, false);
    }
    const mse = qz.analyze(x, { bits: 8, range: { min: -3, max: 3 } }).metrics.mse;
    const current = shown.filter((k) => k.current);
    assert.equal(current.length, 1);
    assert.equal(current[0].text, `Current range (custom range): ${six(wide)} × max|x|, MSE ${six(mse)}`);
    assert.equal(current[0].style, 'solid', 'the current range in its own style');
    // The axis reaches the current range: the cursor at the right edge is on it, with its MSE.
    assert.equal(await legendXAt(page, 'chart-clipping', 1), six(wide));
    assert.equal(await page.locator('#chart-clipping .u-legend .u-series').filter({ hasText: 'current range' }).locator('.u-value').textContent(), six(mse));
    assert.match(await page.locator('#chart-clipping [role=img]').getAttribute('aria-label'), new RegExp(`Current range, custom range, at ${six(wide).replace('.', '\\.')}`));

    // Then the range from the samples: the current range is min-max's own, and the axis ends near 1.
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await calculate(page);
    await page.waitForFunction(() => /^Current range \(min-max\): 1 ×/.test(document.querySelector('#chart-clipping .chart-keys li.current')?.textContent ?? ''));
    assert.ok(Number(await legendXAt(page, 'chart-clipping', 1)) <= 1);
    await page.context().close();
  });
});
