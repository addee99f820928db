// The built page (dist/) in Debian's Chromium, served with the production CSP: the form filled
// by label, every data-metric against the golden file, CSV, layouts, bad input, the URL round
// trip, and no console error or CSP violation anywhere.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { golden, hasTorch } from '../js/golden.js';
import { ggufBytes, Q8_0_VALUES, safetensorsBytes } from '../js/tensor-files.js';
import { browserSuite, parseCsv } from './harness.js';

const suite = browserSuite();
const openPage = (o) => suite.openPage(o);

const golden_ = (name) => golden.cases.find((c) => c.name === name);


// Laplace samples from the calibration reference file, and the JS API's own answer for them.
const calibrationData = JSON.parse(readFileSync(new URL('../data/calibration.json', import.meta.url), 'utf8'));
const laplace = calibrationData.data.laplace.values.slice(0, 2000);
const reference_laplace = () => laplace.join(', ');
let qzPromise;
async function qzReference(calibration) {
  qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer());
  const qz = await qzPromise;
  // The page parses the text it shows: feed the API the same decimal strings.
  return qz.analyze(qz.parseValues(reference_laplace()), { bits: 8, mode: 'symmetric', calibration, percentile: calibration === 'percentile' ? 99 : 99.99 });
}

async function fillFromCase(page, c) {
  const o = c.options;
  await page.getByLabel('Tensor name', { exact: true }).fill(c.name);
  await page.getByLabel('Bit depth', { exact: true }).fill(String(o.bits));
  const modes = { symmetric: 'Symmetric signed', asymmetric: 'Asymmetric signed', 'asymmetric-unsigned': 'Asymmetric unsigned' };
  await page.getByLabel('Mode', { exact: true }).selectOption({ label: modes[o.mode] });
  await page.getByLabel('Rounding', { exact: true }).selectOption(o.rounding ?? 'half-even');
  if (o.range) {
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Custom range' });
    await page.getByLabel('Range min', { exact: true }).fill(String(o.range.min));
    await page.getByLabel('Range max', { exact: true }).fill(String(o.range.max));
  } else {
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
  }
  await page.getByLabel('Sample values', { exact: true }).fill(c.valuesText);
}

async function calculate(page) {
  const before = await page.locator('#results').getAttribute('data-render');
  await page.getByRole('button', { name: 'Calculate' }).click();
  await page.waitForFunction((old) => document.getElementById('results').dataset.render !== old, before);
}




async function metricValues(page) {
  return page.$$eval('[data-metric]', (els) => Object.fromEntries(els.map((e) => [e.dataset.metric, e.dataset.value])));
}

function checkMetrics(shown, c) {
  const e = c.expected;
  const split = (clipped) => e.errors.reduce((s, v, i) => (e.clipped[i] === clipped ? s + v * v : s), 0) / e.errors.length;
  const expected = { ...e.metrics, scale: e.scale, zeroPoint: e.zeroPoint, qRange: e.qmax - e.qmin + 1, rangeUsed: e.rangeMax - e.rangeMin,
    mseRounding: split(false), mseClipping: split(true) };
  for (const key of Object.keys(shown)) {
    assert.ok(key in expected, `data-metric="${key}" has an expectation`);
    const want = expected[key] === 'Infinity' ? Infinity : expected[key];
    const got = shown[key] === 'null' ? null : Number(shown[key]);
    if (want === null || !Number.isFinite(want)) assert.equal(got, want, key);
    else assert.ok(Math.abs(got - want) <= 1e-12 * Math.abs(want) + 1e-300, `${c.name} ${key}: page ${got}, golden ${want}`);
  }
  for (const key of ['scale', 'zeroPoint', 'mse', 'rmse', 'mae', 'maxAbsError', 'meanError', 'errorStd', 'sqnrDb', 'psnrDb',
    'clipCount', 'clipRate', 'step', 'codesUsed']) {
    assert.ok(key in shown, `the page shows ${key}`);
  }
}

describe('the calculator page', () => {
  for (const name of ['seed004-symmetric', 'seed004-asymmetric-from-samples', 'clipping-4bit']) {
    test(`${name}: every data-metric equals the golden file`, async () => {
      const page = await openPage();
      await fillFromCase(page, golden_(name));
      await calculate(page);
      checkMetrics(await metricValues(page), golden_(name));
      await page.context().close();
    });
  }

  test('the scalar build (?wasm=scalar, as an engine without wasm SIMD gets it): the same numbers as the SIMD build', async () => {
    const fast = await openPage();
    const wasm = [];
    const context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (r) => {
      // The page's and its worker's requests (the service worker precaches every file).
      if (r.url().endsWith('.wasm') && !r.serviceWorker()) wasm.push(r.url().split('/').pop());
    });
    const slow = await context.newPage();
    await slow.goto(`${suite.origin}?wasm=scalar`);
    await slow.locator('[data-metric="mse"]').waitFor();
    assert.match(await fast.locator('#engine').textContent(), /^Computed by the WebAssembly SIMD core/);
    assert.match(await slow.locator('#engine').textContent(), /^Computed by the scalar WebAssembly core \(chosen with \?wasm=scalar\)/);
    for (const page of [fast, slow]) {
      await page.getByLabel('Bit depth', { exact: true }).fill('5');
      await page.getByLabel('Rounding', { exact: true }).selectOption('stochastic');
      await calculate(page);
    }
    const a = await metricValues(fast), b = await metricValues(slow);
    assert.ok(Object.keys(a).length > 20);
    assert.deepEqual(b, a);
    assert.match(slow.url(), /wasm=scalar/); // kept when the state is written to the URL
    // Only the build chosen is fetched by the page (the first module's: integer formats).
    assert.ok(wasm.length > 0 && wasm.every((name) => name.startsWith('quant-core-scalar-')), wasm.join(', '));
    await fast.context().close();
    await slow.context().close();
  });

  test('after the first visit the page works offline (service worker), and says so', async () => {
    const page = await openPage();
    await page.locator('#offline-status[data-ready="true"]').waitFor({ timeout: 60000 });
    assert.match(await page.locator('#offline-status').textContent(), /^Works offline/);
    await page.context().setOffline(true);
    await page.reload();
    await page.locator('[data-metric="mse"]').waitFor();
    await page.getByLabel('Bit depth', { exact: true }).fill('4');
    await calculate(page);
    const api = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const seed = api.analyze(api.parseValues('-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46'), { bits: 4, range: { min: -1.5, max: 1.5 } });
    assert.equal(Number(await page.locator('[data-metric="mse"]').getAttribute('data-value')), seed.metrics.mse);
    // The PDF library too comes from the saved copy.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
    assert.match(execFileSync('pdftotext', [await download.path(), '-'], { encoding: 'utf8' }), /Quantization error report/);
    await page.context().close();
  });

  test('five charts, each with an accessible name and a data table', async () => {
    const page = await openPage();
    const figures = page.locator('#charts figure');
    assert.equal(await figures.count(), 5);
    for (let i = 0; i < 5; i++) {
      const f = figures.nth(i);
      const name = await f.getByRole('img').getAttribute('aria-label');
      assert.ok(name.length > 30, name);
      assert.equal(await f.locator('canvas').count(), 1);
      assert.ok((await f.locator('details table tbody tr').count()) > 0);
    }
    assert.match(await page.locator('#chart-transfer [role=img]').getAttribute('aria-label'), /255 levels of step 0\.011811/);
    await page.context().close();
  });

  test('calibration on the page: each method, the error split in words, a bad percentile', async () => {
    const page = await openPage();
    await page.getByLabel('Sample values', { exact: true }).fill(reference_laplace());
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    for (const [label, method] of [['Min-max', 'minmax'], ['MSE-optimal', 'mse'], ['Entropy (KL)', 'entropy'], ['Percentile', 'percentile']]) {
      await page.getByLabel('Calibration', { exact: true }).selectOption({ label });
      if (method === 'percentile') await page.getByLabel('Percentile', { exact: true }).fill('99');
      await calculate(page);
      const api = await qzReference(method);
      const shown = await metricValues(page);
      assert.ok(Math.abs(Number(shown.mse) - api.metrics.mse) <= 1e-12 * api.metrics.mse, `${method}: the page's MSE is the API's`);
      assert.match(await page.locator('#formula-scale').textContent(), method === 'minmax' ? /min-max/ : method === 'mse' ? /MSE-optimal/ : method === 'entropy' ? /entropy threshold/ : /99th percentile/);
    }
    assert.match(await page.locator('#verdict').innerText(), /(Clipping causes \d+% of the error: widen the range|Rounding causes \d+% of the error and clipping \d+%)/);
    await page.getByLabel('Percentile', { exact: true }).fill('20');
    await page.getByRole('button', { name: 'Calculate' }).click();
    await page.locator('#percentile-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#percentile-error').textContent(), 'Percentile must be a number above 50 and at most 100 (got "20")');
    await page.context().close();
  });

  test('bit-depth sweep and clipping curve: the smallest bit depth for a target SQNR', async () => {
    const page = await openPage();
    await page.locator('#chart-bits').waitFor();
    await page.locator('#chart-clipping').waitFor();
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const x = qz.parseValues(golden_('seed004-symmetric').valuesText);
    const sqnr = (bits) => qz.analyze(x, { bits, range: { min: -1.5, max: 1.5 } }).metrics.sqnrDb;
    for (const target of [40, 55]) {
      let bits = 2;
      while (sqnr(bits) < target) bits++;
      await page.getByLabel('Target SQNR (dB)', { exact: true }).fill(String(target));
      assert.equal(await page.locator('#target-answer').textContent(),
        `The smallest bit depth that reaches ${target} dB with these settings is ${bits} bits (${sqnr(bits).toFixed(1)} dB).`);
    }
    await page.getByLabel('Target SQNR (dB)', { exact: true }).fill('forty');
    assert.equal(await page.locator('#target-sqnr-error').textContent(), 'Target SQNR must be a number of dB (got "forty")');
    assert.match(await page.locator('#chart-clipping [role=img]').getAttribute('aria-label'), /Calibration picks: minmax at 1/);
    assert.equal(await page.locator('#chart-bits details tbody tr').count(), 15);
    const st = qz.stochasticTrials(x, { range: { min: -1.5, max: 1.5 } }, { trials: 32 });
    assert.match(await page.locator('#stochastic-summary').textContent(), /^Over 32 seeds, stochastic rounding's bias is /);
    const rows = await page.$$eval('#stochastic-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r[0]), ['Round half to even', 'Stochastic, 32 seeds (mean ± std)']);
    // Four significant digits: the spread across seeds makes more meaningless.
    assert.equal(rows[0][2], String(Number(st.nearest.mse.toPrecision(4))));
    assert.equal(rows[1][2], `${Number(st.mse.mean.toPrecision(4))} ± ${Number(st.mse.std.toPrecision(4))}`);
    await page.context().close();
  });

  test('per group and per channel: the groups table, the CSV rows, and layout messages', async () => {
    const page = await openPage();
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await page.getByLabel('Mode', { exact: true }).selectOption({ label: 'Asymmetric signed' });
    await page.getByLabel('Granularity', { exact: true }).selectOption({ label: 'Per group' });
    await page.getByLabel('Group size', { exact: true }).fill('5');
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const api = qz.analyze(qz.parseValues(golden_('seed004-symmetric').valuesText), { mode: 'asymmetric', granularity: 'group', groupSize: 5 });
    const rows = await page.$$eval('#groups-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, 2);
    for (const row of rows) {
      const g = api.groups[Number(row[0].match(/^\[(\d+)\]$/)[1])]; // 0-based, as frameworks print
      assert.equal(row[1], String(Number(g.scale.toPrecision(6))));
      assert.equal(row[2], String(g.zeroPoint));
    }
    assert.match(await page.locator('#groups-summary').textContent(), /^2 groups, each with its own scale and zero point/);
    assert.ok(Math.abs(Number(await page.locator('[data-metric="mse"]').getAttribute('data-value')) - api.metrics.mse) <= 1e-12 * api.metrics.mse);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const lines = readFileSync(await download.path(), 'utf8').split('\r\n');
    const header = lines.indexOf('group,scale,zero_point,range_min,range_max,count,mse,sqnr_db,clip_rate,max_abs_error');
    assert.ok(header > 0);
    assert.equal(Number(lines[header + 1].split(',')[1]), api.groups[0].scale);
    for (const [fields, id, message] of [
      [{ 'Group size': '3' }, 'group-size', 'Group size 3 does not divide the last dimension (10)'],
      [{ 'Group size': '5', Shape: '64,3' }, 'shape', 'Shape 64×3 holds 192 values, but there are 10 samples'],
      [{ Shape: 'big' }, 'shape', 'Shape must be whole numbers separated by commas, such as 64,3,3,3 (got "big")'],
    ]) {
      for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
      await page.getByRole('button', { name: 'Calculate' }).click();
      await page.waitForFunction((i) => document.getElementById(`${i}-error`).textContent !== '', id);
      assert.equal(await page.locator(`#${id}-error`).textContent(), message);
    }
    await page.getByLabel('Shape', { exact: true }).fill('2,5');
    await page.getByLabel('Granularity', { exact: true }).selectOption({ label: 'Per channel' });
    await page.getByLabel('Axis', { exact: true }).fill('0');
    await calculate(page);
    assert.match(await page.locator('#groups-summary').textContent(), /^2 channels/);
    await page.context().close();
  });

  test('compare: three configurations edited, duplicated and removed; the table, best values, CSV and the URL', async () => {
    const page = await openPage();
    await page.getByLabel('Sample values', { exact: true }).fill(reference_laplace());
    const field = (label, row) => page.getByLabel(`${label}, configuration ${row}`, { exact: true });
    const edit = async (label, row, value) => {
      const f = field(label, row);
      if ((await f.evaluate((e) => e.tagName)) === 'SELECT') await f.selectOption(value);
      else {
        await f.fill(value);
        await f.dispatchEvent('change');
      }
    };
    // Defaults: 8-bit min-max, 4-bit min-max, 4-bit MSE. Make row 2 asymmetric percentile 99.9,
    // duplicate row 3 into per-group 4-bit min-max, then remove row 3 (the MSE row).
    await edit('Mode', 2, 'asymmetric');
    await edit('Range', 2, 'percentile');
    await edit('Percentile', 2, '99.9');
    await page.getByRole('button', { name: 'Duplicate configuration 3' }).click();
    await edit('Range', 4, 'minmax');
    await edit('Granularity', 4, 'group');
    await edit('Group size', 4, '40');
    await page.getByRole('button', { name: 'Remove configuration 3' }).click();
    assert.equal(await page.locator('#compare-configs tbody tr').count(), 3);
    const run = async () => {
      const before = await page.locator('#compare').getAttribute('data-render');
      await page.getByRole('button', { name: 'Compare all' }).click();
      await page.waitForFunction((old) => (document.getElementById('compare').dataset.render ?? null) !== old, before);
    };
    await run();
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const x = qz.parseValues(reference_laplace());
    const list = [{ bits: 8 }, { bits: 4, mode: 'asymmetric', calibration: 'percentile', percentile: 99.9 },
      { bits: 4, granularity: 'group', groupSize: 40 }];
    const api = qz.compare(x, list);
    const shown = await page.$$eval('#compare-table tbody tr', (trs) => trs.map((tr) => Object.fromEntries(
      [...tr.querySelectorAll('[data-metric]')].map((td) => [td.dataset.metric, { value: Number(td.dataset.value), best: td.classList.contains('best') }]))));
    assert.equal(shown.length, 3);
    for (let i = 0; i < 3; i++) {
      for (const key of ['sqnrDb', 'mse', 'maxAbsError', 'clipRate', 'p95AbsError', 'cosine']) {
        const want = api[i].metrics[key];
        assert.ok(Math.abs(shown[i][key].value - want) <= 1e-12 * Math.abs(want), `configuration ${i + 1} ${key}`);
      }
    }
    const bestSqnr = api.reduce((b, r, i) => (r.metrics.sqnrDb > api[b].metrics.sqnrDb ? i : b), 0);
    assert.deepEqual(shown.map((r) => r.sqnrDb.best), [0, 1, 2].map((i) => i === bestSqnr));
    const bestMax = api.reduce((b, r, i) => (r.metrics.maxAbsError < api[b].metrics.maxAbsError ? i : b), 0);
    assert.deepEqual(shown.map((r) => r.maxAbsError.best), [0, 1, 2].map((i) => i === bestMax));
    assert.match(await page.locator('#compare-table tbody tr:nth-child(3) td.text').textContent(), /^4-bit symmetric, min-max range, per group of 40$/);
    assert.match(await page.locator('#chart-compare [role=img]').getAttribute('aria-label'), /^SQNR and clip rate per configuration\. 3 configurations; the highest SQNR is configuration 1/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download comparison CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'activations-comparison.csv');
    const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
    const header = rows[0];
    assert.deepEqual(header.slice(0, 4), ['configuration', 'description', 'format', 'bits']);
    const sqnrColumn = header.indexOf('sqnrDb');
    assert.equal(rows.length, 4);
    for (let i = 0; i < 3; i++) {
      assert.equal(rows[i + 1][1], ['8-bit symmetric, min-max range', '4-bit asymmetric, 99.9th percentile range', '4-bit symmetric, min-max range, per group of 40'][i]);
      assert.equal(Number(rows[i + 1][sqnrColumn]), api[i].metrics.sqnrDb);
    }

    // The set is in the URL: a reload shows the same rows.

    await page.reload();
    await page.locator('[data-metric="mse"]').first().waitFor();
    assert.match(page.url(), /\?[^#]{0,2000}#z=/, 'the samples travel compressed in the fragment, the settings in a short query');
    assert.equal(await page.locator('#compare-configs tbody tr').count(), 3);
    assert.equal(await field('Group size', 3).inputValue(), '40');
    assert.equal(await field('Percentile', 2).inputValue(), '99.9');

    // Bad rows: a bit depth as text stops the run at its field; a group size the samples refuse
    // comes back on its row while the other rows still report.
    await edit('Bits', 2, 'four');
    await page.getByRole('button', { name: 'Compare all' }).click();
    await page.locator('#cmp-2-bits-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#cmp-2-bits-error').textContent(), 'Configuration 2: Bit depth must be a whole number from 2 to 16 (got "four")');
    assert.equal(await field('Bits', 2).getAttribute('aria-invalid'), 'true');
    await edit('Bits', 2, '4');
    await edit('Group size', 3, '7');
    await run();
    assert.equal(await page.locator('#cmp-3-groupSize-error').textContent(), 'Group size 7 does not divide the last dimension (2000)');
    assert.equal(await page.locator('#compare-table tbody tr:nth-child(3) .error-cell').textContent(), 'Group size 7 does not divide the last dimension (2000)');
    assert.equal(await page.locator('#compare-table tbody tr:nth-child(1) [data-metric]').count(), 12);
    await page.context().close();
  });

  test('compare: INT8 against FP8 E4M3, MXFP4 and NF4 in one table', async () => {
    const page = await openPage();
    await page.getByLabel('Sample values', { exact: true }).fill(reference_laplace());
    const field = (label, row) => page.getByLabel(`${label}, configuration ${row}`, { exact: true });
    await field('Format', 2).selectOption('fp8-e4m3');
    await field('Format', 3).selectOption('mxfp4');
    await page.getByRole('button', { name: 'Duplicate configuration 3' }).click();
    await field('Format', 4).selectOption('nf4');
    assert.equal(await field('Bits', 4).isDisabled(), true, 'integer fields do not apply to a format row');
    await page.getByRole('button', { name: 'Compare all' }).click();
    await page.waitForFunction(() => document.getElementById('compare').dataset.render !== undefined);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const api = qz.compare(qz.parseValues(reference_laplace()), [{ bits: 8 }, { format: 'fp8-e4m3' }, { format: 'mxfp4' }, { format: 'nf4' }]);
    const rows = await page.$$eval('#compare-table tbody tr', (trs) => trs.map((tr) => ({
      description: tr.querySelector('td.text').textContent, sqnr: Number(tr.querySelector('[data-metric="sqnrDb"]').dataset.value) })));
    assert.deepEqual(rows.map((r) => r.description), ['8-bit symmetric, min-max range', 'FP8 E4M3', 'MXFP4', 'NF4']);
    rows.forEach((r, i) => assert.ok(Math.abs(r.sqnr - api[i].metrics.sqnrDb) <= 1e-9, `row ${i + 1}`));
    await page.context().close();
  });

  test('float and block formats: the API\'s numbers, the format\'s limits, the CSV, and bad custom fields', async () => {
    // The page starts with the small first module; a float format brings the whole core, once.
    const wasm = [];
    const page = await openPage({ onRequest: (r) => r.url().endsWith('.wasm') && !r.serviceWorker() && wasm.push(r.url().split('/').pop()) });
    assert.deepEqual(wasm.map((name) => name.replace(/-[\w-]{8}\.wasm$/, '')), ['quant-core'], 'the first result needs only the first module');
    await page.getByLabel('Sample values', { exact: true }).fill(reference_laplace());
    await page.getByLabel('Format', { exact: true }).selectOption('fp8-e4m3');
    await page.locator('#format-info:not(:empty)').waitFor();
    assert.match(await page.locator('#format-info').textContent(), /^FP8 E4M3 \(E4M3FN\): 8 bits — 1 sign, 4 exponent, 3 mantissa, bias 7\. Largest 448; smallest normal 0\.015625; smallest subnormal 0\.00195313; NaN 0x7F; no Inf\./);
    assert.equal(await page.locator('#bits').isHidden(), true, 'integer fields do not apply: they are not shown');
    await page.getByLabel('Tensor scale', { exact: true }).selectOption('amax');
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const x = qz.parseValues(reference_laplace());
    const api = qz.analyze(x, { format: 'fp8-e4m3', formatScale: 'amax' });
    const shown = await metricValues(page);
    assert.equal(shown.format, 'fp8-e4m3');
    assert.deepEqual(wasm.map((name) => name.replace(/-[\w-]{8}\.wasm$/, '')), ['quant-core', 'quant']);
    assert.equal(Number(shown.tensorScale), api.format.tensorScale);
    assert.equal(Number(shown.overflowCount), api.format.overflowCount);
    assert.equal(Number(shown.subnormalCount), api.format.subnormalCount);
    assert.ok(Math.abs(Number(shown.mse) - api.metrics.mse) <= 1e-12 * api.metrics.mse);
    assert.equal(await page.locator('#samples-body tr:first-child td:nth-child(4)').textContent(), `0x${api.codes[0].toString(16).toUpperCase().padStart(2, '0')}`);
    assert.match(await page.locator('#chart-transfer [role=img]').getAttribute('aria-label'), /values of FP8 E4M3/);
    await page.locator('#chart-bits').waitFor();
    const ladder = await page.locator('#chart-bits [role=img]').getAttribute('aria-label');
    assert.match(ladder, /^SQNR by bit width: integers and float formats\./);
    const e4m3 = qz.analyze(x, { format: 'fp8-e4m3', formatScale: 'amax', perSample: false }).metrics.sqnrDb;
    assert.ok(ladder.includes(`fp8-e4m3 ${Number(e4m3.toPrecision(6))} dB`), ladder);
    // The format explorer: every code, and a code's bit fields.
    assert.equal(await page.locator('#explorer-code option').count(), 256);
    await page.getByLabel('Code', { exact: true }).selectOption('90'); // 0x5A
    assert.equal(await page.locator('#explorer-bits').textContent(), '0x5A = 0 | 1011 | 010  (sign | exponent | mantissa): +2^(11−7) × (1 + 2/8) = 20.');
    await page.getByLabel('Code', { exact: true }).selectOption('129'); // 0x81: the smallest negative subnormal
    assert.equal(await page.locator('#explorer-bits').textContent(), '0x81 = 1 | 0000 | 001  (sign | exponent | mantissa): subnormal: −2^(1−7) × 1/8 = -0.00195313.');
    await page.getByLabel('Code', { exact: true }).selectOption('127');
    assert.match(await page.locator('#explorer-bits').textContent(), /NaN\.$/);
    assert.match(await page.locator('#chart-explorer [role=img]').getAttribute('aria-label'), /253 distinct values from -448 to 448/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(rows[2], ['format', 'fp8-e4m3']);
    assert.equal(Number(rows.find((r) => r[0] === 'tensor_scale')[1]), api.format.tensorScale);

    // A block format: each block's scale in the table of cards and in the CSV.
    await page.getByLabel('Format', { exact: true }).selectOption('nf4');
    await calculate(page);
    const nf4 = qz.analyze(x, { format: 'nf4' });
    assert.ok(Math.abs(Number((await metricValues(page)).mse) - nf4.metrics.mse) <= 1e-12 * nf4.metrics.mse);
    assert.match(await page.locator('[data-metric="blockScales"]').textContent(), /^32 blocks of 64/);
    assert.match(await page.locator('#formula-scale').textContent(), /^a = absmax of block \[\d+\]/);

    // A custom minifloat: its fields, and a message at the field that is wrong.
    await page.getByLabel('Format', { exact: true }).selectOption('custom');
    await page.getByLabel('Exponent bits', { exact: true }).fill('3');
    await page.getByLabel('Mantissa bits', { exact: true }).fill('4');
    await page.getByLabel('Exponent bias', { exact: true }).fill('3');
    await page.getByLabel('Inf and NaN', { exact: true }).selectOption('none');
    await calculate(page);
    // The tensor scale chosen above still applies.
    const e3m4 = qz.analyze(x, { format: 'custom', formatScale: 'amax', customFormat: { exponentBits: 3, mantissaBits: 4, bias: 3, specials: 'none' } });
    assert.ok(Math.abs(Number((await metricValues(page)).mse) - e3m4.metrics.mse) <= 1e-12 * e3m4.metrics.mse);
    await page.getByLabel('Exponent bits', { exact: true }).fill('9');
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.locator('#custom-ebits-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#custom-ebits-error').textContent(), 'Exponent bits must be from 1 to 8 (got 9)');
    await page.getByLabel('Exponent bits', { exact: true }).fill('three');
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('custom-ebits-error').textContent.includes('whole number'));
    assert.equal(await page.locator('#custom-ebits-error').textContent(), 'Exponent bits must be a whole number (got "three")');
    await page.context().close();
  });

  test('MX scale rounding: the field for the MX formats only, the API\'s codes and saturated blocks, the CSV and the link', async () => {
    const page = await openPage();
    // 64 values: block 0's largest is 480 (1.875·2^8), which floor rounding saturates in MXFP8 E4M3.
    const values = Array.from({ length: 64 }, (_, i) => (i === 3 ? 480 : i === 40 ? -7 : ((i * 37) % 19) / 8 - 1.1));
    await page.getByLabel('Sample values', { exact: true }).fill(values.join(', '));
    assert.equal(await page.locator('#mx-scale').isHidden(), true, 'integers: no scale rounding');
    await page.getByLabel('Format', { exact: true }).selectOption('nvfp4');
    assert.equal(await page.locator('#mx-scale').isHidden(), true, 'NVFP4 has its own scales');
    await page.getByLabel('Format', { exact: true }).selectOption('mxfp8-e4m3');
    assert.equal(await page.locator('#mx-scale').isVisible(), true);
    assert.equal(await page.getByLabel('Scale rounding', { exact: true }).inputValue(), 'floor');
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const x = qz.parseValues(values.join(', '));
    const floor = qz.analyze(x, { format: 'mxfp8-e4m3' });
    assert.equal(floor.format.saturatedBlocks, 1);
    assert.equal(Number((await metricValues(page)).saturatedBlocks), 1);
    assert.match(await page.locator('[data-metric="saturatedBlocks"]').textContent(), /^1 of 2 \(floor scale rounding\)$/);
    assert.match(await page.locator('#verdict').textContent(), /under floor scale rounding; Scale rounding: RCEIL never does/);
    await page.getByLabel('Scale rounding', { exact: true }).selectOption('rceil');
    await calculate(page);
    const rceil = qz.analyze(x, { format: 'mxfp8-e4m3', mxScale: 'rceil' });
    const shown = await metricValues(page);
    assert.equal(Number(shown.saturatedBlocks), 0);
    assert.ok(Math.abs(Number(shown.mse) - rceil.metrics.mse) <= 1e-12 * rceil.metrics.mse);
    assert.notEqual(rceil.metrics.mse, floor.metrics.mse);
    assert.match(page.url(), /mxScale=rceil/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(csv.find((r) => r[0] === 'mx_scale'), ['mx_scale', 'rceil']);
    assert.deepEqual(csv.find((r) => r[0] === 'saturated_blocks'), ['saturated_blocks', '0']);
    const other = await openPage({ query: page.url().slice(suite.origin.length) });
    assert.equal(await other.getByLabel('Scale rounding', { exact: true }).inputValue(), 'rceil');
    assert.deepEqual(await metricValues(other), shown);
    await other.context().close();
    await page.context().close();
  });

  test('ONNX parameters on the page: DynamicQuantizeLinear\'s zero point where it differs from the Python tool\'s, and int16', async () => {
    const page = await openPage();
    // min −80.15744, max 1.767: the op's float32 zero point is 250, compute_scale_zp's 249.
    const values = [-80.15744018554688, 1.7669999599456787, 0.25, -3];
    await page.getByLabel('Sample values', { exact: true }).fill(values.join(', '));
    assert.equal(await page.locator('#onnx-op').isHidden(), true, 'the formula: no ONNX parameters');
    await page.getByLabel('Profile', { exact: true }).selectOption('onnx');
    await page.getByLabel('Integer type', { exact: true }).selectOption('uint8');
    await page.getByLabel('Mode', { exact: true }).selectOption({ label: 'Asymmetric signed' });
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await calculate(page);
    assert.equal(Number((await metricValues(page)).zeroPoint), 249);
    await page.getByLabel('ONNX parameters', { exact: true }).selectOption('dynamic-quantize-linear');
    await calculate(page);
    assert.equal(Number((await metricValues(page)).zeroPoint), 250);
    assert.match(page.url(), /onnxOp=dynamic-quantize-linear/);
    await page.getByLabel('ONNX parameters', { exact: true }).selectOption('quantize-linear');
    await page.getByLabel('Integer type', { exact: true }).selectOption('int16');
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const api = qz.analyze(Float32Array.from(values), { profile: 'onnx', dtype: 'int16', mode: 'asymmetric' });
    const shown = await metricValues(page);
    assert.equal(Number(shown.scale), api.scale);
    assert.equal(Number(shown.zeroPoint), api.zeroPoint);
    assert.match(await page.locator('#snippet').textContent(), /INT16/);
    await page.context().close();
  });

  test('runtime profiles on the page: PyTorch\'s numbers, and a snippet that PyTorch runs to the same codes', async () => {
    const page = await openPage();
    await page.getByLabel('Profile', { exact: true }).selectOption('pytorch');
    assert.equal(await page.getByLabel('Bit depth', { exact: true }).isDisabled(), true);
    await page.getByLabel('Integer type', { exact: true }).selectOption('uint8');
    await page.getByLabel('Mode', { exact: true }).selectOption({ label: 'Asymmetric signed' });
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const api = qz.analyze(Float32Array.from(qz.parseValues(golden_('seed004-symmetric').valuesText)), { profile: 'pytorch', dtype: 'uint8', mode: 'asymmetric' });
    const shown = await metricValues(page);
    assert.equal(Number(shown.scale), api.scale);
    assert.equal(Number(shown.zeroPoint), api.zeroPoint);
    const code = await page.locator('#snippet').textContent();
    assert.match(code, /MinMaxObserver\(dtype=torch\.quint8, qscheme=torch\.per_tensor_affine\)/);
    if (hasTorch()) {
      const out = execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', code], { encoding: 'utf8' }).trim().split('\n');
      assert.equal(out[0], `${api.scale} ${api.zeroPoint}`, 'PyTorch prints the same scale and zero point');
      assert.deepEqual(out[1].replace(/dtype=.*$/, '').match(/-?\d+/g).map(Number), Array.from(api.codes.slice(0, 8)), 'and the same codes');
    }
    await page.getByLabel('Profile', { exact: true }).selectOption('onnx');
    await page.getByLabel('Integer type', { exact: true }).selectOption('int4');
    await calculate(page);
    const onnx = qz.analyze(Float32Array.from(qz.parseValues(golden_('seed004-symmetric').valuesText)), { profile: 'onnx', dtype: 'int4', mode: 'asymmetric' });
    assert.equal(Number((await metricValues(page)).scale), onnx.scale);
    assert.match(await page.locator('#snippet').textContent(), /QuantizeLinear[\s\S]*TensorProto\.INT4[\s\S]*make_opsetid\("", 21\)/);
    await page.context().close();
  });

  test('a tensor file: every tensor reported as the API gives it, sorted, filtered, exported, opened; a big one cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-page-'));
    const tensors = {
      'layer.0.weight': Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.3) * (1 + (i % 17))),
      'layer.0.bias': Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 40),
      'layer.1.weight': Float32Array.from({ length: 2048 }, (_, i) => Math.cos(i) * 0.01),
    };
    const file = join(dir, 'small.safetensors');
    writeFileSync(file, safetensorsBytes(tensors, { 'layer.1.scale_f8': { dtype: 'F8_E4M3', shape: [4], bytes: 4 } }));
    const page = await openPage();
    await page.getByLabel('Bit depth', { exact: true }).fill('4');
    await page.getByLabel('Range', { exact: true }).selectOption({ label: 'Derive from samples' });
    const rendered = async () => page.waitForFunction(() => document.getElementById('report').dataset.render !== undefined);
    await page.setInputFiles('#file-input', file);
    await rendered();
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const rows = await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => ({ name: tr.dataset.tensor, cells: Object.fromEntries(
      [...tr.querySelectorAll('td[data-column]')].map((td) => [td.dataset.column, td.dataset.value ?? td.textContent])), text: tr.textContent })));
    assert.deepEqual(rows.map((r) => r.name), ['layer.0.weight', 'layer.0.bias', 'layer.1.weight', 'layer.1.scale_f8']);
    for (const [name, x] of Object.entries(tensors)) {
      const api = qz.analyze(x, { bits: 4, perSample: false });
      const row = rows.find((r) => r.name === name);
      assert.equal(Number(row.cells.mse), api.metrics.mse, name);
      assert.equal(Number(row.cells.sqnrDb), api.metrics.sqnrDb, name);
    }
    assert.match(rows[3].text, /skipped: dtype F8_E4M3 is not read/);
    // The command line gives the same rows for the same file and settings.
    const cliPath = new URL('../../build/native/quant-error', import.meta.url).pathname;
    const cli = JSON.parse(execFileSync(cliPath, [file, '--bits', '4', '--output', 'json'], { encoding: 'utf8' }));
    for (const row of rows.slice(0, 3)) {
      const c = cli.find((r) => r.tensor === row.name);
      assert.equal(Number(row.cells.mse), c.mse, `${row.name}: the page's MSE is the command line's`);
      assert.equal(Number(row.cells.scale), c.scale, `${row.name}: scale`);
    }
    assert.match(cli.find((r) => r.tensor === 'layer.1.scale_f8').skipped, /^dtype F8_E4M3 is not read/);
    assert.match(await page.locator('#report-summary').textContent(), /^4 tensors, 3 analysed, 1 skipped; over 6.208 values/);
    await page.getByRole('button', { name: /^SQNR \(dB\)/ }).click();
    const sorted = await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => tr.dataset.tensor));
    const bySqnr = Object.entries(tensors).map(([name, x]) => [name, qz.analyze(x, { bits: 4, perSample: false }).metrics.sqnrDb]).sort((a, b) => a[1] - b[1]);
    assert.deepEqual(sorted.slice(0, 3), bySqnr.map(([name]) => name));
    assert.equal(await page.locator('#report-table tr.worst').count(), 1);
    await page.getByLabel('Filter tensors', { exact: true }).fill('bias');
    assert.deepEqual(await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => tr.dataset.tensor)), ['layer.0.bias']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'small-report.csv');
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    assert.equal(csv.length, 5);
    assert.equal(Number(csv.find((r) => r[0] === 'layer.0.bias')[csv[0].indexOf('mse')]), qz.analyze(tensors['layer.0.bias'], { bits: 4, perSample: false }).metrics.mse);
    // Open a tensor in the calculator view.
    const before = await page.locator('#results').getAttribute('data-render');
    await page.getByRole('button', { name: 'layer.0.bias', exact: true }).click();
    await page.waitForFunction((old) => document.getElementById('results').dataset.render !== old, before);
    assert.equal(await page.getByLabel('Tensor name', { exact: true }).inputValue(), 'layer.0.bias');
    assert.equal(Number(await page.locator('[data-metric="mse"]').getAttribute('data-value')), qz.analyze(tensors['layer.0.bias'], { bits: 4 }).metrics.mse);

    // A GGUF file: its float tensors reported, and its Q8_0 one as ggml dequantizes it.
    const ggufPath = join(dir, 'tiny.gguf');
    writeFileSync(ggufPath, ggufBytes());
    await page.setInputFiles('#file-input', ggufPath);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 3);
    const ggufRows = await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.tensor, tr.textContent]));
    assert.deepEqual(ggufRows.map(([name]) => name), ['blk.0.weight', 'blk.0.norm', 'blk.0.q']);
    assert.doesNotMatch(ggufRows[2][1], /skipped/);
    const q8Mse = Number(await page.locator('#report-table tbody tr[data-tensor="blk.0.q"] td[data-column="mse"]').getAttribute('data-value'));
    assert.equal(q8Mse, qz.analyze(Float32Array.from(Q8_0_VALUES), { bits: 4, perSample: false }).metrics.mse);
    const ggufMse = Number(await page.locator('#report-table tbody tr[data-tensor="blk.0.weight"] td[data-column="mse"]').getAttribute('data-value'));
    assert.equal(ggufMse, qz.analyze(Float32Array.from([1.5, -2, 0.25, 3, -0.5, 4]), { bits: 4, perSample: false }).metrics.mse);

    // A tensor too large to hold (2^25 + 3 values, 128 MiB) is streamed: read in chunks pass after
    // pass, with the whole tensor's numbers, here under MSE-optimal calibration (three passes of
    // its own).
    const hugeCount = 2 ** 25 + 3;
    const huge = new Float32Array(hugeCount);
    for (let i = 0; i < hugeCount; i++) huge[i] = Math.sin(i * 0.0001) * (i % 4099 === 0 ? 9 : 1);
    const hugeFile = join(dir, 'huge.safetensors');
    writeFileSync(hugeFile, safetensorsBytes({ embed: huge }));
    await page.getByLabel('Calibration', { exact: true }).selectOption({ label: 'MSE-optimal' });
    await page.setInputFiles('#file-input', hugeFile);
    await page.waitForFunction(() => document.querySelector('#report-table tbody tr')?.dataset.tensor === 'embed', null, { timeout: 180000 });
    const hugeApi = qz.analyze(huge, { bits: 4, calibration: 'mse', perSample: false });
    const hugeRow = Object.fromEntries(await page.$$eval('#report-table tbody td[data-column]', (tds) => tds.map((td) => [td.dataset.column, td.dataset.value])));
    assert.equal(Number(hugeRow.scale), hugeApi.scale);
    assert.ok(Math.abs(Number(hugeRow.mse) - hugeApi.metrics.mse) <= 1e-12 * hugeApi.metrics.mse);
    assert.equal(Number(hugeRow.maxAbsError), hugeApi.metrics.maxAbsError);
    // Opened in the calculator: a sample of it, quantized with the whole tensor's range.
    const shown = await page.locator('#results').getAttribute('data-render');
    await page.getByRole('button', { name: 'embed', exact: true }).click();
    await page.waitForFunction((old) => (document.getElementById('results').dataset.render ?? null) !== old, shown, { timeout: 60000 });
    assert.match(await page.locator('#sample-note').textContent(), /^embed has 33,554,435 values: this is a uniform random sample of 262,144 of them/);
    assert.equal(Number(await page.locator('[data-metric="scale"]').getAttribute('data-value')), hugeApi.scale);
    assert.equal(await page.getByLabel('Range', { exact: true }).inputValue(), 'custom');
    // Its histograms count the whole tensor: every value, and every error at the tensor's range.
    assert.match(await page.locator('#chart-histogram [role=img]').getAttribute('aria-label'), /^Histogram of the values. All 33\s554\s435 values of the tensor in 100 bins/);
    assert.match(await page.locator('#chart-error-histogram [role=img]').getAttribute('aria-label'), /^Histogram of the errors. All 33\s554\s435 errors of the tensor in 100 bins/);

    // A bigger file, cancelled while it is read: the message says so and the page stays usable.
    const big = {};
    for (let k = 0; k < 40; k++) big[`block.${k}`] = Float32Array.from({ length: 1000000 }, (_, i) => Math.sin(i * 0.001 + k));
    const bigFile = join(dir, 'big.safetensors');
    writeFileSync(bigFile, safetensorsBytes(big));
    await page.setInputFiles('#file-input', bigFile);
    await page.locator('#report-progress:not([hidden])').waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('report-error').textContent !== '');
    assert.match(await page.locator('#report-error').textContent(), /^Cancelled: the file was not read to the end/);
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 4);
    await page.context().close();
  });

  test('a CSV column and a raw binary file: described by the user, reported, and messages where the description does not fit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-page-'));
    const csvPath = join(dir, 'acts.csv');
    const col = Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.7) * 3);
    writeFileSync(csvPath, `step,act\n${col.map((v, i) => `${i},${v}`).join('\n')}\n`);
    const page = await openPage();
    await page.setInputFiles('#file-input', csvPath);
    // The columns are picked from the file's header, not typed.
    assert.deepEqual(await page.locator('#csv-column option').allTextContents(), ['step (column 0)', 'act (column 1)']);
    await page.getByLabel('Column', { exact: true }).selectOption({ label: 'act (column 1)' });
    await page.getByRole('button', { name: 'Read the file' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 1);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    // A file report takes each tensor's range from its own values (min-max here), not the form's custom range.
    const api = qz.analyze(qz.parseValues(col.join(',')), { perSample: false });
    assert.equal(Number(await page.locator('#report-table tbody td[data-column="mse"]').getAttribute('data-value')), api.metrics.mse);
    assert.equal(await page.locator('#report-table tbody tr').getAttribute('data-tensor'), 'acts.csv: act');

    const rawPath = join(dir, 'weights.bin');
    const raw = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
    writeFileSync(rawPath, Buffer.from(raw.buffer));
    await page.setInputFiles('#file-input', rawPath);
    await page.getByLabel('Value type', { exact: true }).selectOption('float32');
    await page.getByLabel('Raw file shape', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Read the file' }).click();
    await page.locator('#raw-shape-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#raw-shape-error').textContent(), 'weights.bin: shape 4 holds 4 values, but the file holds 6 float32 values');
    await page.getByLabel('Raw file shape', { exact: true }).fill('2,3');
    await page.getByRole('button', { name: 'Read the file' }).click();
    await page.waitForFunction(() => document.querySelector('#report-table tbody tr')?.dataset.tensor === 'weights.bin');
    const rawApi = qz.analyze(raw, { perSample: false });
    assert.equal(Number(await page.locator('#report-table tbody td[data-column="mse"]').getAttribute('data-value')), rawApi.metrics.mse);
    assert.equal(await page.locator('#report-table tbody td[data-column="shape"]').textContent(), '[2, 3]');
    await page.context().close();
  });

  test('stochastic rounding with a seed: the codes the API gives for that seed', async () => {
    const page = await openPage();
    await page.getByLabel('Rounding', { exact: true }).selectOption({ label: 'Stochastic (seeded)' });
    await page.getByLabel('Seed', { exact: true }).fill('7');
    await calculate(page);
    const qz = await (qzPromise ??= import('../../web/src/quantizer.js').then((m) => m.createQuantizer()));
    const api = qz.analyze(qz.parseValues(golden_('seed004-symmetric').valuesText), { rounding: 'stochastic', seed: 7, range: { min: -1.5, max: 1.5 } });
    const codes = await page.$$eval('#samples-body tr', (trs) => trs.map((tr) => Number(tr.cells[3].textContent)));
    assert.deepEqual(codes, Array.from(api.codes));
    await page.getByLabel('Seed', { exact: true }).fill('-1');
    await page.getByRole('button', { name: 'Calculate' }).click();
    await page.locator('#seed-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#seed-error').textContent(), 'Seed must be a whole number from 0 to 2^53 − 1 (got "-1")');
    await page.context().close();
  });

  test('the verdict warns about clipping above 1%', async () => {
    const page = await openPage();
    await fillFromCase(page, golden_('clipping-4bit'));
    await calculate(page);
    assert.match(await page.locator('#verdict').innerText(), /clipped: the range is too narrow/);
    await page.context().close();
  });

  test('CSV: settings, metrics and every sample, RFC 4180, formula-safe', async () => {
    const page = await openPage();
    await fillFromCase(page, golden_('seed004-symmetric'));
    await page.getByLabel('Tensor name', { exact: true }).fill('=cmd|"evil", layer');
    await calculate(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'cmd_evil_layer-quantization.csv');
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.split('\r\n');
    assert.equal(lines.at(-1), '', 'ends with CRLF');
    assert.equal(lines[1], 'tensor,"\'=cmd|""evil"", layer"', 'the name is quoted, doubled and neutralised');
    const e = golden_('seed004-symmetric').expected;
    const metric = (k) => Number(lines.find((l) => l.startsWith(`${k},`)).split(',')[1]);
    assert.equal(metric('mse'), e.metrics.mse === 0 ? 0 : metric('mse'));
    assert.ok(Math.abs(metric('mse') - e.metrics.mse) <= 1e-12 * e.metrics.mse);
    assert.equal(metric('scale'), e.scale);
    const header = lines.indexOf('index,x,scaled,q,x_hat,error,abs_error,clipped');
    const rows = lines.slice(header + 1, -1).map((l) => l.split(',').map(Number));
    assert.equal(rows.length, 10);
    assert.deepEqual(rows.map((r) => r[3]), e.codes);
    assert.deepEqual(rows.map((r) => r[4]), e.dequantized, 'x̂ written with round-trip precision');
    await page.context().close();
  });

  test('PDF: the text of the report is extractable (pdftotext finds the tensor name and the SQNR)', async () => {
    const page = await openPage();
    await fillFromCase(page, golden_('seed004-asymmetric-from-samples'));
    await page.getByLabel('Tensor name', { exact: true }).fill('encoder.layer3.attn');
    await calculate(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
    assert.equal(download.suggestedFilename(), 'encoder.layer3.attn-quantization.pdf');
    const text = execFileSync('pdftotext', ['-layout', await download.path(), '-'], { encoding: 'utf8' });
    assert.match(text, /Quantization error report: encoder\.layer3\.attn/);
    const sqnr = golden_('seed004-asymmetric-from-samples').expected.metrics.sqnrDb;
    assert.match(text, new RegExp(`SQNR \\(dB\\): ${String(Number(sqnr.toPrecision(6))).replace('.', '\\.')}`));
    assert.match(text, /zero_point = round\(\(-128\) - \(-1\.25\)/);
    assert.match(text, /Histogram of the errors/);
    assert.equal((text.match(/^\s+\d+\s+-?[\d.]+/gm) ?? []).length >= 10, true, 'the per-sample rows');
    await page.context().close();
  });

  test('three columns at 1280 px, two at 800, one at 375', async () => {
    for (const [width, columns] of [[1280, 3], [800, 2], [375, 1]]) {
      const page = await openPage({ width });
      const lefts = await page.$$eval('#format-group .grid > .field', (els) => new Set(els.filter((e) => !e.hidden).map((e) => Math.round(e.getBoundingClientRect().left))).size);
      assert.equal(lefts, columns, `${width} px`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, `no horizontal scroll at ${width} px`);
      await page.context().close();
    }
  });

  test('bad input: a message at the field, focus on it, other fields kept', async () => {
    const page = await openPage();
    const cases = [
      [{ 'Sample values': '1, 2, 3, 4, 5, 6, abc' }, 'values', 'Sample 7: "abc" is not a number'],
      [{ 'Sample values': '' }, 'values', 'No samples: enter at least one value'],
      [{ 'Sample values': '1, NaN' }, 'values', 'Sample 2: "NaN" is not a finite number'],
      [{ 'Range min': '2' }, 'range-min', 'Range min must be below Range max'],
      [{ 'Range min': '' }, 'range-min', 'Enter Range min, or choose Derive from samples'],
      [{ 'Range max': '1.2.3' }, 'range-max', 'Range max must be a number (got "1.2.3")'],
      [{ 'Bit depth': '17' }, 'bits', 'Bit depth must be between 2 and 16 (got 17)'],
      [{ 'Bit depth': '1' }, 'bits', 'Bit depth must be between 2 and 16 (got 1)'],
      [{ 'Bit depth': 'eight' }, 'bits', 'Bit depth must be a whole number from 2 to 16 (got "eight")'],
    ];
    for (const [fields, id, message] of cases) {
      await page.getByRole('button', { name: 'Load example' }).click();
      await page.locator('[data-metric="mse"]').waitFor();
      for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
      await page.getByRole('button', { name: 'Calculate' }).click();
      await page.waitForFunction((i) => document.getElementById(`${i}-error`).textContent !== '', id);
      assert.equal(await page.locator(`#${id}-error`).textContent(), message);
      assert.equal(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement.id), id, 'focus moves to the problem');
      assert.equal(await page.getByLabel('Tensor name', { exact: true }).inputValue(), 'activations', 'other fields kept');
      for (const [label, value] of Object.entries(fields)) assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), value);
    }
    await page.context().close();
  });

  test('the URL holds the state: a reload and a shared link reproduce the calculation', async () => {
    const page = await openPage();
    await fillFromCase(page, golden_('clipping-4bit'));
    await calculate(page);
    const shown = await metricValues(page);
    const url = page.url();
    assert.match(url, /bits=4/);
    await page.reload();
    await page.locator('[data-metric="mse"]').waitFor();
    assert.equal(await page.getByLabel('Bit depth', { exact: true }).inputValue(), '4');
    assert.equal(await page.getByLabel('Tensor name', { exact: true }).inputValue(), 'clipping-4bit');
    assert.deepEqual(await metricValues(page), shown);
    const other = await openPage({ query: url.slice(suite.origin.length) });
    assert.deepEqual(await metricValues(other), shown);
    await other.context().close();
    await page.context().close();
  });

  test('Reset, Load example and Generate samples', async () => {
    const page = await openPage();
    await page.getByLabel('Bit depth', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Reset' }).click();
    assert.equal(await page.getByLabel('Bit depth', { exact: true }).inputValue(), '8');
    await page.getByText('Generate samples').click();
    await page.getByLabel('Distribution', { exact: true }).selectOption('laplace');
    await page.getByLabel('Count', { exact: true }).fill('5000');
    await page.getByRole('button', { name: 'Generate and calculate' }).click();
    await page.waitForFunction(() => document.getElementById('page-status').textContent.includes('of 5\u2009000'));
    const first = await page.getByLabel('Sample values', { exact: true }).inputValue();
    assert.equal(first.split(',').length, 5000);
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match(await page.locator('#page-status').textContent(), /^Samples \[100\]–\[199\] of 5\u2009000$/);
    await page.getByRole('button', { name: 'Generate and calculate' }).click();
    assert.equal(await page.getByLabel('Sample values', { exact: true }).inputValue(), first, 'seeded: the same draws again');
    await page.context().close();
  });

  test('offline once loaded: calculations, a cancelled one included, need no network', async () => {
    const page = await openPage();
    await page.context().setOffline(true);
    await page.getByLabel('Sample values', { exact: true }).fill('0.5, 1.5, 2.5, -3');
    await page.getByRole('button', { name: 'Calculate' }).click();
    await calculate(page); // the second Calculate cancels the first: a new worker starts, offline
    // 2.5 and −3 lie outside −1.50..1.50: two clipped, three distinct codes.
    assert.equal(await page.locator('[data-metric="clipCount"]').getAttribute('data-value'), '2');
    assert.equal(await page.locator('[data-metric="codesUsed"]').getAttribute('data-value'), '3');
    await page.context().close();
  });

  test('keyboard only: Tab to a field, type, Tab to Calculate, Enter', async () => {
    const page = await openPage();
    await page.getByLabel('Bit depth', { exact: true }).focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('4');
    const before = await page.locator('#results').getAttribute('data-render');
    let guard = 0;
    while ((await page.evaluate(() => document.activeElement.textContent)) !== 'Calculate' && guard++ < 20) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction((old) => document.getElementById('results').dataset.render !== old, before);
    assert.equal(await page.locator('[data-metric="qRange"]').textContent(), '[-7, 7]');
    await page.context().close();
  });

  test('text contrast meets WCAG AA in the light and the dark theme', async () => {
    for (const colorScheme of ['light', 'dark']) {
      const page = await openPage({ colorScheme });
      await page.getByLabel('Bit depth', { exact: true }).fill('99');
      await page.getByRole('button', { name: 'Calculate' }).click();
      await page.locator('#bits-error:not(:empty)').waitFor();
      const low = await page.evaluate(() => {
        const rgb = (c) => c.match(/[\d.]+/g).slice(0, 4).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
          .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
        const background = (el) => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length < 4 || c[3] > 0) return c;
          }
          return getComputedStyle(document.body).backgroundColor === 'rgba(0, 0, 0, 0)' ? [255, 255, 255] : rgb(getComputedStyle(document.body).backgroundColor);
        };
        const out = [];
        for (const el of document.querySelectorAll('h1, h2, h3, p, label, dt, dd, td, th, summary, button, li, .verdict')) {
          if (!el.textContent.trim() || el.closest('[hidden]') || el.closest('details:not([open]) > :not(summary)')) continue;
          const fg = lum(rgb(getComputedStyle(el).color));
          const bg = lum(background(el));
          const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
          if (ratio < 4.5) out.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)}`);
        }
        return out;
      });
      assert.deepEqual(low, [], `${colorScheme} theme`);
      await page.context().close();
    }
  });

  test('1,000,000 samples: results arrive and the page stays responsive', async () => {
    const page = await openPage();
    await page.getByText('Generate samples').click();
    await page.getByLabel('Count', { exact: true }).fill('1000000');
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Generate and calculate' }).click();
    await page.waitForFunction(() => document.getElementById('page-status').textContent.endsWith('of 1\u2009000\u2009000'), null, { timeout: 60000 });
    assert.ok(Date.now() - t0 < 30000);
    assert.equal(await page.evaluate(() => 1 + 1), 2);
    await page.context().close();
  });
});
