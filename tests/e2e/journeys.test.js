// What a new user does in the first hour, as journeys: switch a setting and back, paste a big text
// and click once, open a file right after the page loads, follow a link with odd values, watch the
// results go stale. Each step checks the form, the results and the numbers against the API.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { safetensorsBytes } from '../js/tensor-files.js';
import { browserSuite } from './harness.js';

const SEED = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const suite = browserSuite();
const openPage = (o) => suite.openPage(o);
let qz;
before(async () => {
  qz = await (await import('../../web/src/quantizer.js')).createQuantizer();
});

const label = (page, text) => page.getByLabel(text, { exact: true });
const renders = (page) => page.locator('#results').getAttribute('data-render');
async function calculate(page) {
  const old = await renders(page);
  await page.getByRole('button', { name: 'Calculate', exact: true }).click();
  await page.waitForFunction((o) => document.getElementById('results').dataset.render !== o, old);
}
const metric = async (page, key) => Number(await page.locator(`[data-metric="${key}"]`).getAttribute('data-value'));
const usable = (page, text) => label(page, text).evaluate((e) => !e.disabled && e.offsetParent !== null);

// After a journey the same page still computes the seed example exactly.
async function seedStillExact(page) {
  await page.getByRole('button', { name: 'Load example' }).click();
  await page.waitForFunction(() => document.getElementById('results-settings').textContent.startsWith('8-bit symmetric signed, custom range −1.5 … 1.5'));
  await page.waitForFunction(() => !document.getElementById('results').classList.contains('stale'));
  const api = qz.analyze(qz.parseValues(SEED), { bits: 8, range: { min: -1.5, max: 1.5 } });
  assert.equal(await metric(page, 'mse'), api.metrics.mse);
  assert.equal(await metric(page, 'scale'), api.scale);
}

describe('journeys', () => {
  test('switch a format or a profile and back: the form is never left locked, and a link with unknown values says so', async () => {
    const page = await openPage();
    const integerFields = ['Bit depth', 'Mode', 'Rounding', 'Range', 'Granularity'];
    for (const f of integerFields) assert.equal(await usable(page, f), true, `${f} at load`);
    await label(page, 'Format').selectOption('nf4');
    for (const f of integerFields) assert.equal(await usable(page, f), false, `${f} does not apply to NF4`);
    await label(page, 'Format').selectOption('int');
    for (const f of integerFields) assert.equal(await usable(page, f), true, `${f} after NF4 and back`);
    await label(page, 'Format').selectOption('fp8-e4m3');
    await calculate(page);
    await label(page, 'Format').selectOption('int');
    for (const f of integerFields) assert.equal(await usable(page, f), true, `${f} after a calculation in FP8 and back`);
    await label(page, 'Profile').selectOption('pytorch');
    assert.equal(await usable(page, 'Bit depth'), false, 'the integer type decides the bits');
    assert.equal(await usable(page, 'Rounding'), false, 'PyTorch rounds half to even');
    assert.equal(await usable(page, 'Integer type'), true);
    await label(page, 'Profile').selectOption('formula');
    for (const f of ['Bit depth', 'Rounding', 'Mode']) assert.equal(await usable(page, f), true, `${f} after PyTorch and back`);
    assert.equal(await page.locator('#dtype').isHidden(), true);
    // Mode "asymmetric unsigned" survives a trip through a profile (where the dtype decides it).
    await label(page, 'Mode').selectOption('asymmetric-unsigned');
    await label(page, 'Profile').selectOption('onnx');
    assert.equal(await label(page, 'Mode').inputValue(), 'asymmetric');
    assert.equal(await page.locator('#mode option[value="asymmetric-unsigned"]').isDisabled(), true);
    await label(page, 'Profile').selectOption('formula');
    assert.equal(await label(page, 'Mode').inputValue(), 'asymmetric-unsigned');
    // Derive a range and back to custom: calibration and the ends swap places.
    await label(page, 'Range').selectOption('samples');
    assert.equal(await usable(page, 'Calibration'), true);
    assert.equal(await usable(page, 'Range min'), false);
    await label(page, 'Range').selectOption('custom');
    assert.equal(await usable(page, 'Range min'), true);
    assert.equal(await usable(page, 'Calibration'), false);
    await label(page, 'Mode').selectOption('symmetric');
    await seedStillExact(page);
    await page.context().close();

    const odd = await openPage({ query: `?bits=abc&mode=bogus&format=zzz#values=${encodeURIComponent(SEED)}`, wait: false });
    await odd.locator('#url-note:not([hidden])').waitFor();
    assert.equal(await odd.locator('#url-note').textContent(),
      'The link\'s Format "zzz", Mode "bogus" are not known: the defaults are used instead.');
    assert.equal(await label(odd, 'Mode').inputValue(), 'symmetric');
    assert.equal(await label(odd, 'Format').inputValue(), 'int');
    for (const f of integerFields) assert.equal(await usable(odd, f), true, `${f} after a link with unknown values`);
    // A free-text field keeps what the link says, and says what is wrong with it.
    assert.equal(await label(odd, 'Bit depth').inputValue(), 'abc');
    await odd.locator('#bits-error:not(:empty)').waitFor();
    assert.equal(await odd.locator('#bits-error').textContent(), 'Bit depth must be a whole number from 2 to 16 (got "abc")');
    await label(odd, 'Bit depth').fill('8');
    await seedStillExact(odd);
    await odd.context().close();
  });

  test('paste 10,000 values and click once: one click calculates; Ctrl+Enter does too', async () => {
    const page = await openPage();
    const values = Array.from({ length: 10000 }, (_, i) => (Math.sin(i * 1.37) * 1.2).toFixed(5));
    await label(page, 'Sample values').fill(values.join(', '));
    const old = await renders(page);
    // The click's mousedown blurs the textarea: nothing may move the button before its mouseup.
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.waitForFunction((o) => document.getElementById('results').dataset.render !== o, old, { timeout: 20000 });
    assert.match(await page.locator('#page-status').textContent(), /of 10\u2009000$/);
    const api = qz.analyze(qz.parseValues(values.join(', ')), { bits: 8, range: { min: -1.5, max: 1.5 } });
    assert.equal(await metric(page, 'mse'), api.metrics.mse);
    // Ctrl+Enter in the samples.
    await label(page, 'Sample values').fill(SEED);
    await label(page, 'Bit depth').fill('4');
    const before4 = await renders(page);
    await label(page, 'Sample values').press('Control+Enter');
    await page.waitForFunction((o) => document.getElementById('results').dataset.render !== o, before4);
    assert.equal(await metric(page, 'mse'), qz.analyze(qz.parseValues(SEED), { bits: 4, range: { min: -1.5, max: 1.5 } }).metrics.mse);
    await page.context().close();
  });

  test('a model file opened right after load: each tensor on its own range, the settings stated, both ranges shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-journey-'));
    // A σ = 0.02 weight: min-max of its own values, not the form's ±1.5.
    let state = 12345;
    const normal = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const u = (state + 0.5) / 2 ** 32;
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const v = (state + 0.5) / 2 ** 32;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    const weight = Float32Array.from({ length: 4096 }, () => 0.02 * normal());
    const bias = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 400);
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, safetensorsBytes({ 'layer.weight': weight, 'layer.bias': bias }));
    const page = await openPage({ wait: false });
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(() => document.getElementById('report').dataset.render !== undefined);
    const own = qz.analyze(weight, { bits: 8, perSample: false });
    const cell = (name, column) => page.locator(`#report-table tr[data-tensor="${name}"] td[data-column="${column}"]`);
    assert.equal(Number(await cell('layer.weight', 'sqnrDb').getAttribute('data-value')), own.metrics.sqnrDb);
    assert.ok(own.metrics.sqnrDb > 35, `a σ = 0.02 weight at 8 bits on its own range: ${own.metrics.sqnrDb} dB`);
    assert.equal(await page.locator('#report-settings').textContent(),
      'Settings: 8-bit symmetric signed, min-max range, half to even, per tensor — each tensor\'s min-max range from its own values (the form\'s custom range applies to the calculator only).');
    assert.match(await cell('layer.weight', 'range').textContent(), /^\[-0\.0\d+, 0\.0\d+\]$/);
    assert.equal(await cell('layer.weight', 'rangeUsed').textContent(), `[${Number(own.calibration.rangeMin.toPrecision(6))}, ${Number(own.calibration.rangeMax.toPrecision(6))}]`);
    // The report's table fits the page, or scrolls inside its card.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false);
    assert.equal(await page.locator('#report .table-wrap').evaluate((w) => w.scrollWidth <= w.clientWidth + 1 || getComputedStyle(w).overflowX === 'auto'), true);
    // Asked for explicitly, the custom range applies to every tensor, and the heading says so.
    await page.locator('#file-range').check();
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(() => document.getElementById('report').dataset.render === '2');
    const fixed = qz.analyze(weight, { bits: 8, range: { min: -1.5, max: 1.5 }, perSample: false });
    assert.equal(Number(await cell('layer.weight', 'sqnrDb').getAttribute('data-value')), fixed.metrics.sqnrDb);
    assert.match(await page.locator('#report-settings').textContent(), /custom range −1\.5 … 1\.5, .* the same range for every tensor, as asked\.$/);
    // Opening a tensor scrolls to its results, computed as the report computed them.
    await page.getByRole('button', { name: 'layer.weight', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('results-title').textContent === 'Results for layer.weight');
    assert.equal(await metric(page, 'sqnrDb'), fixed.metrics.sqnrDb);
    const top = await page.locator('#results').evaluate((e) => e.getBoundingClientRect().top);
    assert.ok(Math.abs(top) < 5, `the results are at the top of the window (${top})`);
    await page.context().close();
  });

  test('the file report\'s error paths: a bad file after a good one, random bytes, Cancel keeps what was read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-journey-'));
    const good = join(dir, 'good.safetensors');
    writeFileSync(good, safetensorsBytes({ w: Float32Array.from({ length: 256 }, (_, i) => Math.sin(i)) }));
    const noise = join(dir, 'noise.safetensors');
    writeFileSync(noise, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)));
    const page = await openPage();
    await page.setInputFiles('#file-input', good);
    await page.waitForFunction(() => document.getElementById('report').dataset.render === '1');
    assert.equal(await page.getByRole('button', { name: 'Download report CSV' }).isVisible(), true);
    await page.setInputFiles('#file-input', noise);
    await page.locator('#report-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#report-title').textContent(), 'Tensors in noise.safetensors');
    assert.match(await page.locator('#report-error').textContent(), /^noise\.safetensors: This is not a \.safetensors file: its first 8 bytes give a header length of \d+, beyond the 100 MB limit$/);
    assert.equal(await page.getByRole('button', { name: 'Download report CSV' }).isVisible(), false, 'no download of the previous file\'s report');
    assert.equal(await label(page, 'Filter tensors').isVisible(), false);
    assert.equal(await page.locator('#report-summary').textContent(), '');
    // Cancel after some tensors: they stay, marked partial, and can be downloaded.
    // Two small tensors, then one streamed (2^25 + 3 values, MSE-optimal: several passes).
    const huge = new Float32Array(2 ** 25 + 3);
    for (let i = 0; i < huge.length; i++) huge[i] = Math.sin(i * 0.0001);
    const bigFile = join(dir, 'big.safetensors');
    writeFileSync(bigFile, safetensorsBytes({ 'a.weight': Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i)), 'b.weight': Float32Array.from({ length: 500 }, (_, i) => Math.sin(i)), huge }));
    await label(page, 'Range').selectOption('samples');
    await label(page, 'Calibration').selectOption('mse');
    await page.setInputFiles('#file-input', bigFile);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length >= 2, null, { timeout: 60000 });
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.locator('#report-error:not(:empty)').waitFor();
    const kept = await page.locator('#report-table tbody tr').count();
    assert.equal(kept, 2);
    assert.equal(await page.locator('#report-error').textContent(), 'Cancelled: the file was not read to the end; the 2 tensors read before Cancel are kept below (a partial report).');
    assert.match(await page.locator('#report-summary').textContent(), /^Cancelled: 2 of 3 tensors read before Cancel \(the report is partial\)/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report CSV' }).click()]);
    assert.equal(readFileSync(await download.path(), 'utf8').trim().split('\r\n').length, kept + 1);
    await label(page, 'Range').selectOption('custom');
    await seedStillExact(page);
    await page.context().close();
  });

  test('a file read by one worker and by a pool of two: the same rows, bit for bit, in the file\'s order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-journey-'));
    const tensors = {};
    for (let k = 0; k < 9; k++) tensors[`t.${k}`] = Float32Array.from({ length: 5000 + 7000 * (k % 4) }, (_, i) => Math.sin(i * (0.1 + k / 50)) * (1 + k));
    const file = join(dir, 'pool.safetensors');
    writeFileSync(file, safetensorsBytes(tensors, { 'skip.me': { dtype: 'F8_E4M3', shape: [4], bytes: 4 } }));
    const rowsOf = async (workers) => {
      const page = await openPage({ query: `?workers=${workers}` });
      await label(page, 'Range').selectOption('samples');
      await label(page, 'Calibration').selectOption('percentile');
      await page.setInputFiles('#file-input', file);
      await page.waitForFunction(() => document.getElementById('report').dataset.render === '1');
      const rows = await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.tensor,
        ...[...tr.querySelectorAll('td[data-column]')].map((td) => td.dataset.value ?? td.textContent)]));
      await page.context().close();
      return rows;
    };
    const one = await rowsOf(1);
    const two = await rowsOf(2);
    assert.deepEqual(one.map((r) => r[0]), [...Object.keys(tensors), 'skip.me']);
    assert.deepEqual(two, one);
    const api = qz.analyze(tensors['t.5'], { bits: 8, calibration: 'percentile', perSample: false });
    assert.ok(one[5].includes(String(api.metrics.mse)), 't.5: the API\'s MSE');
  });

  test('what engineers paste: Python lists, NumPy and PyTorch prints, a true minus sign; notes for an elided print and decimal commas', async () => {
    const page = await openPage();
    const cases = [
      ['[0.1, -0.25, 1.5]', [0.1, -0.25, 1.5]],
      ['[[1, 2], [3, 4]]', [1, 2, 3, 4]],
      ['tensor([ 0.1250, −0.5000,  0.7500])', [0.125, -0.5, 0.75]],
      ['array([-1.25, 0.5, 1.e-03], dtype=float32)', [-1.25, 0.5, 0.001]],
      ['tensor([[0.1, 0.2],\n        [0.3, 0.4]], dtype=torch.float16, requires_grad=True)', [0.1, 0.2, 0.3, 0.4]],
      ['−1.25, −0.92, 0.14', [-1.25, -0.92, 0.14]],
    ];
    for (const [text, values] of cases) {
      await label(page, 'Sample values').fill(text);
      await calculate(page);
      const api = qz.analyze(Float64Array.from(values), { bits: 8, range: { min: -1.5, max: 1.5 } });
      assert.equal(await metric(page, 'mse'), api.metrics.mse, text);
      assert.match(await page.locator('#page-status').textContent(), new RegExp(`of ${values.length}$`), text);
      assert.equal(await page.locator('#values-notes').isHidden(), true, `${text}: no note`);
    }
    await label(page, 'Sample values').fill('tensor([0.1000, 0.2000, 0.3000,  ..., 0.7000, 0.8000, 0.9000])');
    await calculate(page);
    assert.match(await page.locator('#values-notes').textContent(), /\.\.\./);
    assert.match(await page.locator('#values-notes').textContent(), /part of the tensor|only part/);
    await label(page, 'Sample values').fill('1,5 2,5 3,5');
    await calculate(page);
    assert.match(await page.locator('#values-notes').textContent(), /decimal comma/);
    // Editing the samples clears the notes of the last calculation.
    await label(page, 'Sample values').fill('1 2 3');
    assert.equal(await page.locator('#values-notes').isHidden(), true);
    // Still refused, at the field: an unbalanced bracket.
    await label(page, 'Sample values').fill('[1, 2');
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.locator('#values-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#values-error').textContent(), 'Sample 3: "]" is missing at the end of the text');
    await seedStillExact(page);
    await page.context().close();
  });

  test('llama.cpp\'s types on the page: Q4_K with a shape gives the API\'s numbers, a row that does not fit names the fallback, a GGUF model reports bits per weight', async () => {
    const page = await openPage();
    const values = Array.from({ length: 512 }, (_, i) => (Math.sin(i * 0.37) * 0.05).toFixed(5));
    await label(page, 'Sample values').fill(values.join(', '));
    await label(page, 'Format').selectOption('q4_k');
    assert.equal(await usable(page, 'Shape'), true, 'the rows need a shape');
    assert.equal(await usable(page, 'Granularity'), false);
    await label(page, 'Shape').fill('2,256');
    await calculate(page);
    const api = qz.analyze(qz.parseValues(values.join(', ')), { format: 'q4_k', shape: [2, 256] });
    assert.equal(await metric(page, 'mse'), api.metrics.mse);
    assert.equal(await metric(page, 'bitsPerWeight'), 4.5);
    assert.equal(await page.locator('#results-settings').textContent(), 'Q4_K (4.5 bpw)');
    assert.match(await page.locator('#formula-scale').textContent(), /^Q4_K \(llama\.cpp\): x̂ = d·sc·q − dmin·m; block \[\d\]/);
    await label(page, 'Shape').fill('4,128');
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.locator('#shape-error:not(:empty)').waitFor();
    assert.match(await page.locator('#shape-error').textContent(), /Q4_K stores rows in blocks of 256 values.*Q5_0 instead/);
    // A GGUF model: each quantized tensor with its type and bits per weight.
    await label(page, 'Format').selectOption('int');
    await page.setInputFiles('#file-input', new URL('../../../shared/ggml/tiny-q4_k_m.gguf', import.meta.url).pathname);
    await page.waitForFunction(() => document.getElementById('report').dataset.render !== undefined, null, { timeout: 60000 });
    const cell = (name, column) => page.locator(`#report-table tr[data-tensor="${name}"] td[data-column="${column}"]`);
    assert.equal(await cell('blk.0.attn_v.weight', 'dtype').textContent(), 'q6_k');
    assert.equal(await cell('blk.0.attn_v.weight', 'bitsPerWeight').textContent(), '6.5625');
    assert.equal(await cell('blk.0.ffn_gate_inp.weight', 'bitsPerWeight').textContent(), '8.5');
    await seedStillExact(page);
    await page.context().close();
  });

  test('a checkpoint tensor holding NaN and ±Inf is reported with its counts and its metrics over the finite values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quant-error-journey-'));
    const bad = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.3));
    bad[10] = NaN;
    bad[20] = NaN;
    bad[30] = Infinity;
    bad[40] = -Infinity;
    const good = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const file = join(dir, 'nan.safetensors');
    writeFileSync(file, safetensorsBytes({ bad, good }));
    const page = await openPage();
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(() => document.getElementById('report').dataset.render !== undefined);
    const cell = (name, column) => page.locator(`#report-table tr[data-tensor="${name}"] td[data-column="${column}"]`);
    assert.equal(await cell('bad', 'nonFinite').textContent(), '2 NaN, 1 +Inf, 1 −Inf');
    // The core skips them in place (each value keeps its index, so its sum lane): as the API does it.
    const api = qz.analyze(bad, { bits: 8, perSample: false, nonFinite: 'skip' });
    assert.deepEqual(api.nonFinite, { nan: 2, posInf: 1, negInf: 1 });
    assert.equal(Number(await cell('bad', 'mse').getAttribute('data-value')), api.metrics.mse);
    assert.equal(await cell('good', 'nonFinite').textContent(), '');
    assert.match(await page.locator('#report-summary').textContent(), /1 tensor holds NaN or Inf: their metrics are over the finite values/);
    await page.context().close();
  });

  test('results say what produced them, go stale when the form changes, and their studies are never the previous data\'s', async () => {
    const page = await openPage();
    assert.equal(await page.locator('#results-settings').textContent(), '8-bit symmetric signed, custom range −1.5 … 1.5, half to even, per tensor');
    assert.equal(await page.locator('#stale-note').isHidden(), true);
    await label(page, 'Bit depth').fill('4');
    await page.locator('#stale-note:not([hidden])').waitFor();
    assert.equal(await page.locator('#stale-note').textContent(), 'Settings changed — press Calculate');
    assert.equal(await page.locator('#results').evaluate((e) => e.classList.contains('stale')), true);
    await label(page, 'Bit depth').fill('8');
    await page.locator('#stale-note').waitFor({ state: 'hidden' });
    await label(page, 'Range max').fill('oops');
    await page.getByRole('button', { name: 'Calculate', exact: true }).click();
    await page.locator('#range-max-error:not(:empty)').waitFor();
    assert.equal(await page.locator('#stale-note').isVisible(), true, 'a validation error leaves the old results marked');
    await label(page, 'Range max').fill('1.50');
    // The what-if studies: at the moment new results are drawn, their section is busy and empty.
    await page.evaluate(() => {
      window.atRender = [];
      new MutationObserver(() => {
        const s = document.getElementById('studies');
        if (window.atRender.length) return; // the moment the new results are drawn
        window.atRender.push({ busy: s.getAttribute('aria-busy'), charts: document.querySelectorAll('#explore figure').length,
          answer: document.getElementById('target-answer').textContent });
      }).observe(document.getElementById('results'), { attributes: true, attributeFilter: ['data-render'] });
    });
    await label(page, 'Sample values').fill(Array.from({ length: 20000 }, (_, i) => Math.cos(i * 0.7).toFixed(4)).join(' '));
    await calculate(page);
    const seen = await page.evaluate(() => window.atRender);
    assert.deepEqual(seen.at(-1), { busy: 'true', charts: 0, answer: '' });
    await page.locator('#studies[aria-busy="false"]').waitFor({ timeout: 30000 });
    assert.equal(await page.locator('#studies-busy').isHidden(), true);
    assert.match(await page.locator('#target-answer').textContent(), /^The smallest bit depth that reaches 40 dB/);
    // Only the verdict is a live region, not every card.
    assert.equal(await page.locator('#results').getAttribute('aria-live'), null);
    assert.equal(await page.locator('#verdict').getAttribute('aria-live'), 'polite');
    await page.context().close();
  });

  test('a link carries 100,000 values compressed, and a reload or a new tab computes the same', async () => {
    const page = await openPage();
    const values = Array.from({ length: 100000 }, (_, i) => (Math.sin(i * 0.61) * Math.exp(Math.cos(i * 0.13))).toFixed(4)).join(', ');
    await label(page, 'Sample values').fill(values);
    await calculate(page);
    await page.waitForFunction(() => location.hash.startsWith('#z='));
    const url = page.url();
    assert.ok(url.length < values.length, `the link (${url.length} characters) is shorter than the samples (${values.length})`);
    assert.equal(await page.locator('#link-status').isHidden(), true, 'no "settings only" note');
    const mse = await metric(page, 'mse');
    const other = await openPage({ query: url.slice(suite.origin.length), wait: false });
    await other.waitForFunction(() => document.getElementById('page-status').textContent.endsWith('of 100\u2009000'), null, { timeout: 30000 });
    assert.equal(await metric(other, 'mse'), mse);
    assert.equal(await label(other, 'Sample values').inputValue(), values);
    await other.context().close();
    // A damaged fragment is named, and the page still works.
    const broken = await openPage({ query: '?bits=8#z=AAAA', wait: false });
    await broken.locator('#url-note:not([hidden])').waitFor();
    assert.match(await broken.locator('#url-note').textContent(), /compressed samples \(damaged\)/);
    await seedStillExact(broken);
    await broken.context().close();
    await page.context().close();
  });

  test('one index convention: [i] from 0 in the cards, the table and the formulas', async () => {
    const page = await openPage();
    const api = qz.analyze(qz.parseValues(SEED), { bits: 8, range: { min: -1.5, max: 1.5 } });
    const i = api.metrics.maxAbsErrorIndex;
    assert.match(await page.locator('[data-metric="maxAbsError"]').textContent(), new RegExp(`\\(sample \\[${i}\\]\\)$`));
    assert.equal(await page.locator('#samples-body tr:first-child td:first-child').textContent(), '[0]');
    assert.match(await page.locator('#formula-quantize').textContent(), new RegExp(`^sample \\[${i}\\]: `));
    // Largest |error| first, and a jump to it.
    await page.getByRole('button', { name: 'Jump to the largest error' }).click();
    assert.equal(await page.locator('#samples-body tr:first-child td:first-child').textContent(), `[${i}]`);
    await page.context().close();
  });

  test('negative numbers in the formulas are parenthesised with a true minus sign', async () => {
    const page = await openPage();
    await label(page, 'Mode').selectOption('asymmetric');
    await label(page, 'Range min').fill('-2.16');
    await label(page, 'Range max').fill('4.43');
    await calculate(page);
    const scale = await page.locator('#formula-scale').textContent();
    assert.match(scale, /^scale = \(4\.43 − \(−2\.16\)\) \/ \(127 − \(−128\)\)/);
    assert.doesNotMatch(await page.locator('#formula-quantize').textContent(), /\+ -|- -/);
    await page.context().close();
  });

  test('no table overflows the page at 1280 px, and the compare row actions are on screen', async () => {
    const page = await openPage();
    await label(page, 'Rounding').selectOption('stochastic');
    await calculate(page);
    await page.locator('#studies[aria-busy="false"]').waitFor({ timeout: 30000 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false);
    const wide = await page.$$eval('.table-wrap', (wraps) => wraps.filter((w) => w.offsetParent !== null)
      .filter((w) => w.scrollWidth > w.clientWidth + 1 && getComputedStyle(w).overflowX !== 'auto').map((w) => w.querySelector('table')?.id));
    assert.deepEqual(wide, [], 'a table wider than its card scrolls inside it');
    const actions = await page.getByRole('button', { name: 'Remove configuration 1' }).boundingBox();
    assert.ok(actions.x + actions.width <= 1280, `Remove is on screen (${actions.x + actions.width})`);
    await page.context().close();
  });
});

// Screenshots to look at (build/screenshots/page-*.png), and what a look checks first: at each
// width and theme the page never scrolls sideways and Calculate is on the first screen.
test('the page at 1280, 800 and 390 px, light and dark: Calculate on the first screen, no sideways scroll', async () => {
  const dir = new URL('../../build/screenshots/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const [width, height] of [[1280, 900], [800, 1000], [390, 844]]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await openPage({ width, height, colorScheme });
      const button = await page.getByRole('button', { name: 'Calculate', exact: true }).boundingBox();
      assert.ok(button.y + button.height <= height, `Calculate is on the first screen at ${width} px (${button.y})`);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, `no sideways scroll at ${width} px`);
      // No control shows disabled on load: what does not apply is not shown.
      assert.equal(await page.locator('#form :is(input, select, textarea):disabled:visible').count(), 0, `${width} px`);
      await page.screenshot({ path: new URL(`page-${width}-${colorScheme}.png`, dir).pathname });
      await page.locator('#results').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: new URL(`page-${width}-${colorScheme}-results.png`, dir).pathname });
      await page.context().close();
    }
  }
});
