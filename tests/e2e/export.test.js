// The charts and the downloads of the built page (dist/) in Debian's Chromium, served with the
// production CSP: what the charts name and where they reach, the index convention, the CSV's
// headers and the PDF's text (pdftotext).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { browserSuite } from './harness.js';
import { pdfText } from '../../web/src/export/pdf.js';

const suite = browserSuite();
const openPage = (o) => suite.openPage(o);

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

const laplace = JSON.parse(readFileSync(new URL('../data/calibration.json', import.meta.url), 'utf8')).data.laplace.values.slice(0, 2000);

// Pixels of a chart's canvas in the plot column `dx` CSS pixels right of x value `v` (the x scale
// spans [from, to]), counted by colour: clip-rate red (red well above green and blue) and SQNR blue.
async function columnColours(page, chart, v, [from, to], dx = 0) {
  return page.locator(`#${chart}`).evaluate((fig, [v, from, to, dx]) => {
    const canvas = fig.querySelector('canvas');
    const over = fig.querySelector('.u-over');
    const dpr = canvas.width / canvas.getBoundingClientRect().width;
    const x = Math.round((over.offsetLeft + ((v - from) / (to - from)) * over.offsetWidth + dx) * dpr);
    const top = Math.round(over.offsetTop * dpr), height = Math.round(over.offsetHeight * dpr);
    const data = canvas.getContext('2d').getImageData(x - 1, top, 3, height).data;
    let red = 0, blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a < 40) continue;
      if (r - Math.max(g, b) > 50) red++;
      if (b - Math.max(r, g) > 50) blue++;
    }
    return { red, blue };
  }, [v, from, to, dx]);
}

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

  test('compare chart: the clip rate is a bar beside each configuration\'s SQNR bar, with no line across configurations', async () => {
    const page = await openPage();
    await page.getByLabel('Sample values', { exact: true }).fill(laplace.join(', '));
    await page.getByRole('button', { name: 'Compare all' }).click();
    await page.locator('#chart-compare canvas').waitFor();
    const n = await page.locator('#compare-table tbody tr').count();
    const qz = await api();
    const rates = qz.compare(qz.parseValues(laplace.join(', ')), [{ bits: 8 }, { bits: 4 }, { bits: 4, calibration: 'mse' }]).map((r) => r.metrics.clipRate);
    assert.equal(n, 3);
    assert.ok(rates[2] > 0 && rates[1] === 0, `the defaults: no clipping in row 2, some in row 3 (${rates})`);
    const span = [0.4, n + 0.6];
    // Between configurations 2 and 3 (0% and above): nothing red, as a line would be.
    assert.equal((await columnColours(page, 'chart-compare', 2.5, span)).red, 0);
    // Configuration 3: its SQNR bar left of the tick, its clip-rate bar right of it.
    const left = await columnColours(page, 'chart-compare', 3, span, -8);
    const right = await columnColours(page, 'chart-compare', 3, span, 8);
    assert.ok(left.blue > 0 && left.red === 0, JSON.stringify(left));
    assert.ok(right.red > 10, JSON.stringify(right));
    const legend = await page.locator('#chart-compare .u-legend .u-series .u-label').allTextContents();
    assert.deepEqual(legend, ['configuration', 'SQNR (dB)', 'clip rate (%)']);

    // Per channel (40 channels): the clip rate as points, no line along the ranks.
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await page.getByLabel('Granularity', { exact: true }).selectOption({ label: 'Per channel' });
    await page.getByLabel('Shape', { exact: true }).fill('40,50');
    await page.getByLabel('Axis', { exact: true }).fill('0');
    await calculate(page);
    await page.locator('#chart-groups canvas').waitFor();
    const between = await columnColours(page, 'chart-groups', 1.5, [0.4, 40.6]);
    const on = await columnColours(page, 'chart-groups', 1, [0.4, 40.6]);
    assert.equal(between.red, 0, 'no line between channels');
    assert.ok(on.red > 0, 'a point on each channel');
    await page.context().close();
  });

  test('indices from 0 in the charts: the first sample is [0], the per-channel bars are ranked and name their channel [c]', async () => {
    const page = await openPage();
    const cells = await page.$$eval('#chart-values details tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(cells, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(await legendXAt(page, 'chart-values', 0), '0');
    assert.equal(await legendXAt(page, 'chart-errors', 1), '9');

    await page.getByLabel('Sample values', { exact: true }).fill(laplace.join(', '));
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await page.getByLabel('Granularity', { exact: true }).selectOption({ label: 'Per channel' });
    await page.getByLabel('Shape', { exact: true }).fill('40,50');
    await page.getByLabel('Axis', { exact: true }).fill('0');
    await calculate(page);
    const qz = await api();
    const r = qz.analyze(qz.parseValues(laplace.join(', ')), { bits: 8, granularity: 'channel', shape: [40, 50], axis: 0 });
    const order = [...r.groups].sort((a, b) => a.metrics.sqnrDb - b.metrics.sqnrDb);
    assert.equal(await legendXAt(page, 'chart-groups', 0), `[${order[0].index}] (rank 1)`);
    assert.equal(await legendXAt(page, 'chart-groups', 1), `[${order[39].index}] (rank 40)`);
    assert.equal(await page.locator('#chart-groups .u-legend .u-series .u-label').first().textContent(), 'channel');
    assert.match(await page.locator('#chart-groups [role=img]').getAttribute('aria-label'),
      new RegExp(`lowest first: channel \\[${order[0].index}\\] at `));
    assert.match(await page.locator('#chart-transfer [role=img]').getAttribute('aria-label'),
      new RegExp(`\\(channel \\[${Math.floor(r.metrics.maxAbsErrorIndex / 50)}\\], which holds the largest error\\)`));
    await page.context().close();
  });
});

describe('the downloads', () => {
  test('PDF: the index convention stated at the top, and the per-sample table from [0]', async () => {
    const page = await openPage();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
    const text = execFileSync('pdftotext', ['-layout', await download.path(), '-'], { encoding: 'utf8' });
    assert.match(text, /Indices count from 0, as frameworks print them: sample \[0\] is the first sample/);
    assert.match(text, /Per sample: \[0\] to \[9\]/);
    const x = SEED.split(', ').map(Number);
    const rows = [...text.matchAll(/^\s*(\d+)\s+(-?[\d.]+)\s/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(rows.map((r) => r[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(rows.map((r) => r[1]), x, 'row [i] holds sample [i]');
    await page.context().close();
  });

  test('PDF: the verdict, each chart\'s legend, headings kept with what follows, the per-sample columns apart, each parameter once', async () => {
    const page = await openPage();
    // 2,000 Laplace samples on a custom range twice their max|x|: the report runs to many pages.
    const amax = Math.max(...laplace.map(Math.abs));
    await page.getByLabel('Sample values', { exact: true }).fill(laplace.join(', '));
    await page.getByLabel('Range min', { exact: true }).fill(String(-2 * amax));
    await page.getByLabel('Range max', { exact: true }).fill(String(2 * amax));
    await calculate(page);
    const verdict = await page.$$eval('#verdict p', (ps) => ps.map((p) => p.textContent));
    const legends = await page.$$eval('#charts figure', (figs) => figs.map((f) => ({
      title: f.querySelector('figcaption').textContent, labels: JSON.parse(f.dataset.legend).map((e) => e.label) })));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
    const file = await download.path();
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const flat = text.replace(/\s+/g, ' ');

    // The verdict, as the page reads it.
    assert.ok(verdict.length > 0);
    assert.ok(flat.includes(' Verdict '), 'a Verdict section');
    for (const sentence of verdict) assert.ok(flat.includes(pdfText(sentence).replace(/\s+/g, ' ')), `the PDF has the verdict "${sentence}"`);

    // Each chart's legend after its title: its series and its marks (clip limits, ±Δ/2).
    assert.equal(legends.length, 5);
    const pages = text.split('\f');
    for (const { title, labels } of legends) {
      const at = flat.indexOf(pdfText(title));
      assert.ok(at >= 0, title);
      assert.ok(labels.length >= 2, `${title}: ${labels}`);
      const after = flat.slice(at, at + 1500);
      for (const label of labels) assert.ok(after.includes(pdfText(label)), `${title}: the legend names "${label}"`);
    }
    assert.ok(legends.find((l) => l.title === 'Quantizer transfer function').labels.some((l) => /^clip limits /.test(l)));

    // No heading at the foot of a page: the page of each holds what it introduces.
    const pageOf = (needle) => pages.findIndex((p) => p.includes(needle));
    assert.equal(pageOf('Charts\n'), pageOf('Original and reconstructed values by sample'), 'Charts and its first chart on one page');
    assert.equal(pageOf('Verdict\n'), pageOf(pdfText(verdict[0]).slice(0, 30)));
    const tableAt = pages.findIndex((p) => /Per sample: \[0\] to \[999\] of 2,000/.test(p));
    assert.match(pages[tableAt], /index\s+x\s+scaled\s+q\s+x_hat\s+error\s+abs_error\s+clipped\n\s+0\s+2\.54/);
    for (const p of pages) {
      const lines = p.split('\n').map((l) => l.trim()).filter((l) => l && !/: page \d+ of \d+$/.test(l));
      assert.doesNotMatch(lines.at(-1) ?? '', /^(Verdict|Settings|Parameters and metrics|Formulas with these numbers|Charts|Per sample.*)$/, 'a heading ends a page');
    }

    // The per-sample columns: at most 7 significant digits, and at least 8 pt between neighbours.
    const bbox = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
    const lines = new Map(); // "page:y" → the words on that line
    bbox.split('<page ').slice(1).forEach((chunk, p) => {
      for (const m of chunk.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<\/word>/g)) {
        const key = `${p}:${Math.round(Number(m[2]))}`;
        if (!lines.has(key)) lines.set(key, []);
        lines.get(key).push({ x0: Number(m[1]), x1: Number(m[3]), text: m[4] });
      }
    });
    const sampleRows = [...lines.values()].map((ws) => ws.sort((a, b) => a.x0 - b.x0))
      .filter((ws) => ws.length === 8 && /^\d+$/.test(ws[0].text) && /^(yes|no)$/.test(ws[7].text));
    assert.equal(sampleRows.length, 1000);
    let narrowest = Infinity;
    for (const ws of sampleRows) {
      for (let k = 1; k < ws.length; k++) narrowest = Math.min(narrowest, ws[k].x0 - ws[k - 1].x1);
      for (const w of ws.slice(1, 7)) {
        const digits = w.text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '');
        assert.ok(digits.length <= 7, `${w.text}: at most 7 significant digits`);
      }
    }
    assert.ok(narrowest >= 8, `the closest two per-sample cells are ${narrowest.toFixed(1)} pt apart`);

    // Scale, zero point and the range used, each once.
    for (const label of ['Scale', 'Zero point', 'Range used', 'Code range']) {
      assert.equal(text.match(new RegExp(`^\\s*${label}: `, 'gm'))?.length, 1, `${label} once`);
    }
    const qz = await api();
    const r = qz.analyze(qz.parseValues(laplace.join(', ')), { bits: 8, range: { min: -2 * amax, max: 2 * amax } });
    assert.doesNotMatch(text, new RegExp(String(r.scale).replace('.', '\\.')), 'the scale at full precision is not repeated');
    assert.match(text, new RegExp(`Scale: ${six(r.scale).replace('.', '\\.')}\n`));
    await page.context().close();
  });
});
