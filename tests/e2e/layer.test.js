// "Through a layer" in the built page: open it, run it (the numbers are the API's on the same
// seeded inputs), change a setting and back, cancel a real-sized run, bad input at its field and
// the same page computing after, the link, the downloads, and screenshots to look at.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { generateActivations, generateWeights } from '../../web/src/shared/layer-inputs.js';
import { browserSuite, parseCsv } from './harness.js';

const suite = browserSuite();
let qz;
before(async () => {
  qz = await (await import('../../web/src/quantizer.js')).createQuantizer({ module: 'full' });
});

const label = (page, text) => page.getByLabel(text, { exact: true });
const fill = async (page, text, value) => label(page, text).fill(value);

async function openLayer(options = {}) {
  const page = await suite.openPage(options);
  await page.locator('#layer').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.getElementById('layer-w-source').options.length > 0);
  return page;
}

// Runs the layer and waits for its new results, or for an error at a field (then returns it).
async function run(page, { timeout = 60000 } = {}) {
  const old = await page.locator('#layer').getAttribute('data-render');
  await page.locator('#layer-run').click();
  await page.waitForFunction((o) => (document.getElementById('layer').dataset.render ?? null) !== o
    || document.querySelector('#layer-form [aria-invalid="true"]') !== null, old, { timeout });
  const invalid = page.locator('#layer-form [aria-invalid="true"]');
  if (await invalid.count()) return { field: await invalid.getAttribute('id'), message: await page.locator(`#${await invalid.getAttribute('id')}-error`).textContent() };
  return null;
}

const small = async (page, { out = '48', inner = '96', tokens = '12' } = {}) => {
  await fill(page, 'W out', out);
  await fill(page, 'W in', inner);
  await fill(page, 'Tokens', tokens);
};

async function csvOf(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download layer CSV' }).click()]);
  return { name: download.suggestedFilename(), rows: parseCsv(readFileSync(await download.path(), 'utf8')) };
}
const valueOf = (rows, key) => rows.find((r) => r[0] === key)?.[1];

describe('through a layer', () => {
  test('open the view and run it: the page shows what qz.layer() computes on the same seeded inputs', async () => {
    const page = await openLayer();
    await small(page);
    await label(page, 'X distribution').selectOption('outliers');
    await label(page, 'Output codes').selectOption('auto');
    await label(page, 'Requantization').selectOption('tflite');
    assert.equal(await run(page), null);
    const w = generateWeights(48, 96, 1), x = generateActivations('outliers', 12, 96, 2);
    const api = qz.layer({ weights: w, weightShape: [48, 96], activations: x, activationShape: [12, 96],
      weightScheme: { bits: 8, mode: 'symmetric', calibration: 'minmax', granularity: 'channel', axis: 0 },
      activationScheme: { bits: 8, mode: 'asymmetric', calibration: 'minmax' }, output: { dtype: 'int8' }, profile: 'tflite' });
    const { name, rows } = await csvOf(page);
    assert.equal(name, 'layer-48x96.csv');
    assert.equal(Number(valueOf(rows, 'sqnrDb')), api.metrics.sqnrDb);
    assert.equal(Number(valueOf(rows, 'cosine')), api.metrics.cosine);
    assert.equal(Number(valueOf(rows, 'max_abs_sum')), api.accumulator.maxAbs);
    assert.equal(Number(valueOf(rows, 'tflite_differs')), api.requantization.differ.tflite);
    const channelHead = rows.findIndex((r) => r[0] === 'channel');
    assert.deepEqual(rows[channelHead].slice(0, 4), ['channel', 'sqnr_db', 'real_multiplier', 'multiplier']);
    for (let o = 0; o < 48; o++) {
      assert.equal(Number(rows[channelHead + 1 + o][1]), api.perChannel.sqnrDb[o]);
      assert.equal(Number(rows[channelHead + 1 + o][3]), api.requantization.multiplier[o]);
    }
    const tokenHead = rows.findIndex((r) => r[0] === 'token' && r[1] === 'sqnr_db');
    assert.equal(Number(rows[tokenHead + 12][1]), api.perToken.sqnrDb[11]);
    // The cards, the verdict and the three charts.
    assert.equal(await page.locator('[data-layer-metric="sqnrDb"]').textContent(), String(Number(api.metrics.sqnrDb.toPrecision(6))));
    assert.match(await page.locator('#layer-verdict').textContent(), /Output SQNR \d+\.\d dB/);
    assert.match(await page.locator('#layer-verdict').textContent(), /accumulator cannot overflow/);
    for (const id of ['chart-layer-errors', 'chart-layer-channels', 'chart-layer-accumulator']) assert.equal(await page.locator(`#${id} canvas`).count(), 1, id);
    assert.equal(await page.locator('#layer-differences tbody tr').count(), Math.min(20, api.requantization.differences.length));
    await page.context().close();
  });

  test('change a setting and change it back: fields come and go, the results go stale and fresh, and the link keeps the layer', async () => {
    const page = await openLayer();
    await small(page);
    assert.equal(await run(page), null);
    assert.equal(await page.locator('#layer-stale').isHidden(), true);
    await label(page, 'W scheme').selectOption('float');
    assert.equal(await page.locator('#layer-w-bits').isHidden(), true, 'a float side has no bits');
    assert.equal(await page.locator('#layer-stale').isVisible(), true);
    await label(page, 'W scheme').selectOption('int');
    assert.equal(await label(page, 'W bits').inputValue(), '8', 'the bits are as they were');
    assert.equal(await page.locator('#layer-stale').isHidden(), true, 'back to the settings shown');
    await label(page, 'X from').selectOption('pasted');
    assert.equal(await label(page, 'X values').isVisible(), true);
    assert.equal(await label(page, 'Tokens').isHidden(), true);
    await label(page, 'X from').selectOption('generated');
    // A preset sets both schemes; every field stays as it shows.
    await label(page, 'Preset').selectOption('w4a16');
    assert.equal(await label(page, 'Preset').inputValue(), '');
    assert.equal(await label(page, 'W bits').inputValue(), '4');
    assert.equal(await label(page, 'W granularity').inputValue(), 'group');
    assert.equal(await label(page, 'X scheme').inputValue(), 'float');
    assert.equal(await label(page, 'X bits').isHidden(), true);
    await label(page, 'Preset').selectOption('w8a8');
    assert.equal(await page.locator('#layer-stale').isHidden(), true, 'W8A8 is what ran');
    await label(page, 'Then').selectOption('gelu');
    assert.equal(await label(page, 'Layer 2 out').isVisible(), true);
    await fill(page, 'Layer 2 out', '32');
    assert.equal(await run(page), null);
    assert.match(await page.locator('#layer-chain').textContent(), /carried through/);
    assert.match(await page.locator('#layer-verdict').textContent(), /After GELU and the second layer/);
    // The link carries the layer's settings: a new page from it shows them and computes the same.
    await page.waitForFunction(() => location.search.includes(encodeURIComponent('next=gelu')));
    const url = page.url();
    const sqnr = await page.locator('[data-layer-metric="nextSqnrDb"]').textContent();
    const again = await suite.openPage({ query: url.slice(suite.origin.length) });
    await again.waitForFunction(() => document.getElementById('layer-w-source').options.length > 0);
    assert.equal(await label(again, 'W out').inputValue(), '48');
    assert.equal(await label(again, 'Then').inputValue(), 'gelu');
    assert.equal(await run(again), null);
    assert.equal(await again.locator('[data-layer-metric="nextSqnrDb"]').textContent(), sqnr);
    await again.context().close();
    await page.context().close();
  });

  test('W4A16 and per-token activations: a float side or many activation scales run, without output codes, and say so', async () => {
    const page = await openLayer();
    await small(page);
    await fill(page, 'W bits', '4');
    await label(page, 'X scheme').selectOption('float');
    assert.equal(await run(page), null);
    assert.equal(await page.locator('[data-layer-metric="accumulator"]').textContent(), 'double');
    assert.match(await page.locator('#layer-settings').textContent(), /X 12×96: float \(not quantized\).*No output codes/);
    const w = generateWeights(48, 96, 1), x = generateActivations('outliers', 12, 96, 2);
    const api = qz.layer({ weights: w, weightShape: [48, 96], activations: x, activationShape: [12, 96],
      weightScheme: { bits: 4, mode: 'symmetric', calibration: 'minmax', granularity: 'channel', axis: 0 }, activationScheme: null });
    assert.equal(Number(valueOf((await csvOf(page)).rows, 'sqnrDb')), api.metrics.sqnrDb);
    await label(page, 'X scheme').selectOption('int');
    await label(page, 'X granularity').selectOption('token');
    assert.equal(await run(page), null);
    assert.equal(await page.locator('[data-layer-metric="accumulator"]').textContent(), 'int32');
    assert.match(await page.locator('#layer-verdict').textContent(), /accumulator cannot overflow/);
    await page.context().close();
  });

  test('W from a tensor of the open file: the file\'s two-dimensional tensors to choose from, and the API\'s numbers', async () => {
    const page = await openLayer();
    await label(page, 'W from').selectOption('file');
    assert.match(await page.locator('#layer-w-tensor-error').textContent(), /open a tensor file/);
    assert.deepEqual(await run(page), { field: 'layer-w-tensor', message: 'Open a tensor file first (Open a tensor file… in the calculator)' });
    // An .npy of W [24, 80] (float32, C order), opened in the calculator.
    const w = Float32Array.from({ length: 24 * 80 }, (_, i) => Math.sin(i * 0.61) * 0.2);
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (24, 80), }";
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const head = Buffer.alloc(10);
    head.write('\x93NUMPY', 0, 'latin1');
    head[6] = 1;
    head.writeUInt16LE(header.length, 8);
    const dir = mkdtempSync(join(tmpdir(), 'layer-page-'));
    const file = join(dir, 'proj.npy');
    writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(w.buffer)]));
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction(() => document.getElementById('layer-w-tensor').options.length === 1);
    assert.equal(await page.locator('#layer-w-tensor option').textContent(), 'proj.npy [24, 80]');
    await fill(page, 'Tokens', '6');
    assert.equal(await run(page), null);
    const api = qz.layer({ weights: w, weightShape: [24, 80], activations: generateActivations('outliers', 6, 80, 2), activationShape: [6, 80],
      weightScheme: { bits: 8, mode: 'symmetric', calibration: 'minmax', granularity: 'channel', axis: 0 },
      activationScheme: { bits: 8, mode: 'asymmetric', calibration: 'minmax' }, output: { dtype: 'int8' } });
    const { rows } = await csvOf(page);
    assert.equal(valueOf(rows, 'weights'), 'tensor proj.npy');
    assert.equal(Number(valueOf(rows, 'sqnrDb')), api.metrics.sqnrDb);
    assert.equal(Number(valueOf(rows, 'formula_differs')), api.requantization.differ.formula);
    rmSync(dir, { recursive: true, force: true });
    await page.context().close();
  });

  test('a 4096×4096 weight with 64 tokens: progress and Cancel, then the whole run in seconds', async () => {
    const page = await openLayer();
    await small(page, { out: '4096', inner: '4096', tokens: '64' });
    await page.locator('#layer-run').click();
    await page.locator('#layer-cancel').waitFor({ state: 'visible' });
    await page.waitForFunction(() => /step \d of \d/.test(document.getElementById('layer-progress-text').textContent));
    await page.locator('#layer-cancel').click();
    assert.match(await page.locator('#layer-progress-text').textContent(), /^Cancelled/);
    assert.equal(await page.locator('#layer-results').isHidden(), true, 'nothing half-computed is shown');
    assert.equal(await page.locator('#layer-run').isEnabled(), true);
    // The same run to its end, timed from the click to the results drawn.
    const started = Date.now();
    assert.equal(await run(page, { timeout: 120000 }), null);
    const seconds = (Date.now() - started) / 1000;
    console.log(`# 4096x4096 weight, 64 tokens: ${seconds.toFixed(1)} s in the page (${await page.locator('#layer-settings').textContent()})`);
    assert.ok(seconds < 60, `${seconds} s`);
    assert.match(await page.locator('#layer-results-title').textContent(), /64 tokens × 4\u2009096 channels/);
    await page.context().close();
  });

  test('bad input at its field, and the same page computes after each', async () => {
    const page = await openLayer();
    await small(page);
    // Inner dimensions that differ: pasted X of 2×5 against W's in = 96.
    await label(page, 'X from').selectOption('pasted');
    await fill(page, 'X values', '1 2 3 4 5 6 7 8 9 10');
    await fill(page, 'X shape', '2,5');
    let problem = await run(page);
    assert.equal(problem?.field, 'layer-x-shape');
    assert.match(problem.message, /in|inner/i);
    await fill(page, 'X shape', '');
    problem = await run(page);
    assert.equal(problem?.field, 'layer-x-values', 'ten values are not whole tokens of 96');
    await label(page, 'X from').selectOption('generated');
    assert.equal(await run(page), null);
    // A shape that does not match the calculator's ten samples.
    await label(page, 'W from').selectOption('samples');
    await fill(page, 'W shape', '3,3');
    problem = await run(page);
    assert.equal(problem?.field, 'layer-w-shape');
    assert.match(problem.message, /10|9/);
    await fill(page, 'W shape', '2,5');
    assert.equal(await run(page), null);
    assert.match(await page.locator('#layer-results-title').textContent(), /12 tokens × 2 channels/);
    // An accumulator too small even for one product: 16-bit weights into int16.
    await label(page, 'W from').selectOption('generated');
    await fill(page, 'W bits', '16');
    await label(page, 'Accumulator').selectOption('int16');
    problem = await run(page);
    assert.equal(problem?.field, 'layer-accumulator');
    assert.match(problem.message, /int16/);
    await label(page, 'Accumulator').selectOption('int32');
    assert.equal(await run(page), null);
    assert.equal(await page.locator('#layer-form [aria-invalid="true"]').count(), 0);
    // A page-side check: a word where a number goes.
    await fill(page, 'Tokens', 'many');
    problem = await run(page);
    assert.deepEqual(problem, { field: 'layer-x-tokens', message: 'Tokens must be a whole number from 1 to 65\u2009536 (got "many")' });
    await fill(page, 'Tokens', '12');
    assert.equal(await run(page), null);
    await page.context().close();
  });

  test('the PDF holds the verdict, the accumulator and the charts', async () => {
    const page = await openLayer();
    await small(page);
    assert.equal(await run(page), null);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download layer PDF' }).click()]);
    const text = execFileSync('pdftotext', ['-layout', await download.path(), '-'], { encoding: 'utf8' });
    assert.match(text, /Through a layer/);
    assert.match(text, /Verdict/);
    assert.match(text, /The accumulator/);
    assert.match(text, /SQNR per output channel/);
    await page.context().close();
  });
});

// Screenshots to look at (build/screenshots/layer-*.png): the section after a run at each width,
// light and dark; none scrolls sideways.
test('the layer view at 1280, 800 and 390 px, light and dark', async () => {
  const dir = new URL('../../build/screenshots/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const [width, height] of [[1280, 900], [800, 1000], [390, 844]]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await openLayer({ width, height, colorScheme });
      await small(page, { out: '64', inner: '256', tokens: '16' });
      await label(page, 'Requantization').selectOption('tflite');
      assert.equal(await run(page), null);
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, `no sideways scroll at ${width} px`);
      // In parts, each small enough to look at: the form, the verdict and cards, the tables, the charts.
      for (const [part, selector] of [['form', '#layer-form'], ['verdict', '#layer-results > :is(h3, p, div#layer-verdict, dl, .downloads)'],
        ['tables', '#layer-details'], ['charts', '#layer-charts']]) {
        const box = await page.locator(selector).evaluateAll((nodes) => {
          const rects = nodes.map((n) => n.getBoundingClientRect()).filter((r) => r.height > 0);
          const top = Math.min(...rects.map((r) => r.top)) + window.scrollY, bottom = Math.max(...rects.map((r) => r.bottom)) + window.scrollY;
          return { x: 0, y: top, width: document.documentElement.clientWidth, height: bottom - top };
        });
        await page.screenshot({ path: new URL(`layer-${width}-${colorScheme}-${part}.png`, dir).pathname, fullPage: true, clip: box });
      }
      await page.context().close();
    }
  }
});
