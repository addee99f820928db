// <quant-error-calculator> on the demo documentation page (dist/demo.html) in Chromium, served
// with the production CSP: no CSP violation, one worker for every widget, each wasm module fetched once,
// nothing loaded before a widget is in view, numbers equal to the JS API's, result events, live
// attributes, and a bad attribute shown in its own widget while the others keep working.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { startServer } from '../../scripts/serve.js';
import { createQuantizer } from '../../web/src/quantizer.js';

let server, browser, origin, qz;

before(async () => {
  server = await startServer();
  origin = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  qz = await createQuantizer();
});
after(async () => {
  await browser?.close();
  server?.close();
});

// A page with its problems (console errors, CSP reports), workers and wasm downloads recorded.
async function open(path, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const seen = { problems: [], workers: 0, wasm: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) seen.problems.push(m.text());
  });
  page.on('pageerror', (e) => seen.problems.push(e.message));
  page.on('worker', () => seen.workers++);
  context.on('request', (r) => {
    if (r.url().endsWith('.wasm')) seen.wasm.push(r.url());
  });
  await page.exposeFunction('reportViolation', (text) => seen.problems.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(`CSP: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(origin + path);
  return { page, seen };
}

const LADDER = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46, 0.65, -0.33, 0.05, 1.3, -1.1, 0.9';
// The widgets' last results' metrics, in page order (null where none yet).
const results = (page, selector) => page.$$eval(selector, (els) => els.map((e) => (e.result ? { ...e.result.metrics, scale: e.result.scale } : null)));

test('three widgets on the demo page: lazy, one worker, the API\'s numbers, result events', async () => {
  // A short window: no widget is in view (or within its margin) until the page scrolls.
  const { page, seen } = await open('demo.html', { width: 1280, height: 200 });
  await page.waitForTimeout(800);
  assert.equal(seen.workers, 0, 'no worker before a widget is in view');
  assert.deepEqual(seen.wasm, [], 'no wasm before a widget is in view');
  assert.match(await page.locator('#intro .qec-status').textContent(), /loads when it is in view/);

  await page.locator('quant-error-calculator.ladder').first().scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll('quant-error-calculator.ladder')].every((e) => e.result));
  const names = () => seen.wasm.map((u) => u.split('/').pop().replace(/-[\w-]{8}\.wasm$/, ''));
  assert.deepEqual(names(), ['quant-core'], 'integer widgets need only the small first module');
  const api = [8, 4, 2].map((bits) => qz.analyze(qz.parseValues(LADDER), { bits }));
  const shown = await results(page, 'quant-error-calculator.ladder');
  shown.forEach((m, k) => {
    assert.equal(m.mse, api[k].metrics.mse, `${[8, 4, 2][k]} bits: MSE`);
    assert.equal(m.sqnrDb, api[k].metrics.sqnrDb);
    assert.equal(m.scale, api[k].scale);
  });
  // The host page's table, filled from the widgets' result events.
  await page.waitForFunction(() => document.querySelectorAll('#ladder-table tbody tr').length === 3);
  const rows = await page.$$eval('#ladder-table tbody tr', (trs) => trs.map((tr) => tr.dataset.bits));
  assert.deepEqual(rows, ['8', '4', '2']);
  // Each chart view draws its one chart, named for screen readers.
  assert.equal(await page.locator('quant-error-calculator.ladder >> #chart-errors [role=img]').count(), 3);
  // and says what it shows.
  const captions = await page.locator('quant-error-calculator.ladder >> .qec-caption strong').allTextContents();
  assert.deepEqual(captions, ['8 bits, symmetric signed', '4 bits, symmetric signed', '2 bits, symmetric signed']);

  // Every widget further down computes too, all through the one worker and one wasm download.
  for (const widget of await page.locator('quant-error-calculator').all()) await widget.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll('quant-error-calculator')].every((e) => e.result));
  // The calibration pair: the same heavy-tailed tensor with the min-max range and the MSE-optimal
  // one; the latter clips a few values and errs less overall, as the API says.
  const tensor = await page.locator('quant-error-calculator.calibrated').first().getAttribute('values');
  const [minmax, mse] = ['minmax', 'mse'].map((calibration) => qz.analyze(qz.parseValues(tensor), { bits: 4, calibration }));
  const calibrated = await results(page, 'quant-error-calculator.calibrated');
  assert.deepEqual(calibrated.map((m) => [m.scale, m.mse, m.sqnrDb, m.clipCount]),
    [minmax, mse].map((r) => [r.scale, r.metrics.mse, r.metrics.sqnrDb, r.metrics.clipCount]));
  assert.deepEqual(await page.locator('quant-error-calculator.calibrated >> .qec-caption').allTextContents(),
    ['4 bits, symmetric signed, min-max range', '4 bits, symmetric signed, MSE-optimal range']);
  assert.ok(mse.metrics.clipCount > 0 && mse.metrics.mse < minmax.metrics.mse, 'the demo\'s calibration example clips and wins');
  // The float format's transfer chart spans the samples (not its 256 codes).
  const label = await page.locator('quant-error-calculator[format="fp8-e4m3"] >> #chart-transfer [role=img]').getAttribute('aria-label');
  assert.match(label, /x̂ against x from [−-]1\.25 to 1\.46:/);
  assert.equal(seen.workers, 1);
  // The FP8 widget brought the whole core, once, for every widget after it.
  assert.deepEqual(names(), ['quant-core', 'quant']);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});

test('attributes and the form are live; a bad attribute stays in its widget', async () => {
  const { page, seen } = await open('demo.html');
  await page.waitForFunction(() => document.getElementById('intro').result);
  // An attribute set by the host page re-runs the widget and shows in its form.
  const ladder = page.locator('quant-error-calculator.ladder').nth(1);
  await ladder.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('quant-error-calculator.ladder')[1].result);
  await ladder.evaluate((e) => e.setAttribute('bits', '3'));
  await page.waitForFunction(() => document.querySelectorAll('quant-error-calculator.ladder')[1].result?.qmax === 3);
  assert.equal((await results(page, 'quant-error-calculator.ladder'))[1].mse, qz.analyze(qz.parseValues(LADDER), { bits: 3 }).metrics.mse);

  // The full view's form writes the attributes.
  const intro = page.locator('#intro');
  await intro.scrollIntoViewIfNeeded();
  await intro.getByLabel('Bits', { exact: true }).fill('6');
  await page.waitForFunction(() => document.getElementById('intro').getAttribute('bits') === '6' && document.getElementById('intro').result?.qmax === 31);
  const seed = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
  const api = qz.analyze(qz.parseValues(seed), { bits: 6, range: { min: -1.5, max: 1.5 } });
  assert.equal(Number(await intro.locator('[data-metric="mse"]').getAttribute('data-value')), api.metrics.mse);

  // Bad samples: the message at the widget's Samples field; the other widgets keep working.
  await intro.evaluate((e) => e.setAttribute('values', '1, abc, 3'));
  await intro.locator('.error:has-text("abc")').waitFor();
  assert.equal(await intro.getByLabel('Samples', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.match(await intro.locator('#qec1-values-error').textContent(), /^Sample 2: "abc" is not a number/);
  assert.equal(await page.evaluate(() => document.getElementById('intro').result), null);
  await ladder.evaluate((e) => e.setAttribute('bits', '5'));
  await page.waitForFunction(() => document.querySelectorAll('quant-error-calculator.ladder')[1].result?.qmax === 15);
  // A bad range in a results view (no form): named by its attribute.
  const outlier = page.locator('quant-error-calculator[view="results"]').first();
  await outlier.scrollIntoViewIfNeeded();
  await outlier.evaluate((e) => e.setAttribute('range', '2,oops'));
  await outlier.locator('.qec-error:not([hidden])').waitFor();
  assert.match(await outlier.locator('.qec-error').textContent(), /^range: Range "2,oops" is not two numbers/);
  await outlier.evaluate((e) => e.setAttribute('range', '-1,1'));
  await outlier.locator('.qec-error[hidden]').waitFor({ state: 'attached' });
  // Theming: a custom property on the element reaches inside its shadow root.
  const color = await outlier.evaluate((e) => {
    e.style.setProperty('--qec-fg', 'rgb(1, 2, 3)');
    return getComputedStyle(e.shadowRoot.querySelector('.qec')).color;
  });
  assert.equal(color, 'rgb(1, 2, 3)');
  assert.equal(seen.workers, 1);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});

test('attributes a host page may get wrong: the text as written in the message, never markup; an unknown view is named', async () => {
  const { page, seen } = await open('demo.html');
  await page.evaluate(() => {
    document.querySelector('quant-error-calculator[view="results"]').dataset.probe = '1';
  });
  const widget = page.locator('quant-error-calculator[data-probe]');
  await widget.scrollIntoViewIfNeeded();
  const result = () => document.querySelector('quant-error-calculator[data-probe]').result;
  await page.waitForFunction(result);
  const error = widget.locator('.qec-error:not([hidden])');
  for (const [bits, got] of [['<script>alert(1)</script>', '"<script>alert(1)</script>"'], ['4294967304', '"4294967304"'], ['', '""']]) {
    await widget.evaluate((e, b) => e.setAttribute('bits', b), bits);
    await page.waitForFunction((text) => document.querySelector('quant-error-calculator[data-probe]').shadowRoot.querySelector('.qec-error')?.textContent.includes(text), got);
    assert.equal(await error.textContent(), `bits: Bit depth must be a whole number between 2 and 16 (got ${got})`); // it said "(got NaN)"
    assert.equal(await widget.evaluate((e) => e.shadowRoot.querySelectorAll('script').length), 0);
  }
  await widget.evaluate((e) => e.setAttribute('bits', '4'));
  await page.waitForFunction(() => document.querySelector('quant-error-calculator[data-probe]').result?.qmax === 7);
  await widget.evaluate((e) => e.setAttribute('view', '<script>'));
  await error.waitFor();
  assert.equal(await error.textContent(), 'view: no view "<script>" (choose full, results, layer or chart:<name>)'); // it was accepted silently
  assert.equal(await page.evaluate(result), null);
  await widget.evaluate((e) => e.setAttribute('view', 'results'));
  await page.waitForFunction(() => document.querySelector('quant-error-calculator[data-probe]').result?.qmax === 7);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});

test('a full-view widget switched to FP8 and back: the format\'s numbers, no message about a field it does not have', async () => {
  const { page, seen } = await open('demo.html');
  await page.waitForFunction(() => document.getElementById('intro').result);
  const intro = page.locator('#intro');
  await intro.scrollIntoViewIfNeeded();
  await intro.getByLabel('Format', { exact: true }).selectOption('fp8-e4m3');
  await page.waitForFunction(() => document.getElementById('intro').result?.format?.name === 'fp8-e4m3');
  const seed = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
  const api = qz.analyze(qz.parseValues(seed), { format: 'fp8-e4m3' });
  assert.equal(await page.evaluate(() => document.getElementById('intro').result.metrics.mse), api.metrics.mse);
  assert.equal(await intro.locator('.error:not(:empty)').count(), 0, 'no message');
  assert.equal(await intro.locator('.qec-error').isHidden(), true);
  for (const f of ['Bits', 'Mode', 'Rounding', 'Range (min, max)', 'Calibration']) {
    assert.equal(await intro.getByLabel(f, { exact: true }).isDisabled(), true, `${f} does not apply to FP8`);
  }
  await intro.getByLabel('Format', { exact: true }).selectOption('int');
  await page.waitForFunction(() => document.getElementById('intro').result && !document.getElementById('intro').result.format);
  for (const f of ['Bits', 'Mode', 'Rounding', 'Range (min, max)', 'Calibration']) {
    assert.equal(await intro.getByLabel(f, { exact: true }).isDisabled(), false, `${f} after FP8 and back`);
  }
  assert.equal(await page.evaluate(() => document.getElementById('intro').result.metrics.mse),
    qz.analyze(qz.parseValues(seed), { bits: 8, range: { min: -1.5, max: 1.5 } }).metrics.mse);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});

test('view="layer": the API\'s layer on the same seeded inputs, live attributes, a bad one named in its widget', async () => {
  const { generateActivations, generateWeights } = await import('../../web/src/shared/layer-inputs.js');
  const full = await createQuantizer({ module: 'full' });
  const { page, seen } = await open('demo.html');
  const widget = page.locator('#layer-widget');
  await widget.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.getElementById('layer-widget').result?.shape);
  const expected = (bits) => full.layer({ weights: generateWeights(64, 256, 1), weightShape: [64, 256], activations: generateActivations('outliers', 16, 256, 2),
    activationShape: [16, 256], weightScheme: { bits, mode: 'symmetric', granularity: 'channel', axis: 0 }, activationScheme: { bits: 8, mode: 'asymmetric' },
    output: 'auto', profile: 'tflite' });
  const shown = () => page.evaluate(() => {
    const r = document.getElementById('layer-widget').result;
    return { sqnrDb: r.metrics.sqnrDb, maxAbs: r.accumulator.maxAbs, multiplier: r.requantization.multiplier[0], shift: r.requantization.shift[0] };
  });
  let api = expected(8);
  assert.deepEqual(await shown(), { sqnrDb: api.metrics.sqnrDb, maxAbs: api.accumulator.maxAbs, multiplier: api.requantization.multiplier[0], shift: api.requantization.shift[0] });
  assert.match(await widget.locator('.qec-caption').textContent(), /^W 64×256 8-bit symmetric per output channel · X 16×256 8-bit asymmetric per tensor · accumulator int32$/);
  assert.match(await widget.locator('.qec-verdict').textContent(), /Output SQNR/);
  assert.equal(await widget.locator('[data-layer-metric="accMax"]').textContent(), String(api.accumulator.maxAbs).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009'));
  // A live attribute re-runs the layer.
  await widget.evaluate((e) => e.setAttribute('weight-bits', '4'));
  api = expected(4);
  await page.waitForFunction((s) => document.getElementById('layer-widget').result?.metrics?.sqnrDb === s, api.metrics.sqnrDb);
  // A bad attribute, and one the core refuses: each named in the widget; fixed, it computes again.
  await widget.evaluate((e) => e.setAttribute('weight-bits', 'many'));
  await widget.locator('.qec-error:has-text("weight-bits")').waitFor();
  assert.equal(await page.evaluate(() => document.getElementById('layer-widget').result), null);
  await widget.evaluate((e) => {
    e.setAttribute('weight-bits', '16');
    e.setAttribute('accumulator', 'int16');
  });
  await widget.locator('.qec-error:has-text("accumulator: An int16 accumulator cannot hold even one product")').waitFor();
  await widget.evaluate((e) => e.removeAttribute('accumulator'));
  await page.waitForFunction(() => document.getElementById('layer-widget').result?.shape);
  assert.equal(await widget.locator('.qec-error').isHidden(), true);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});

// Screenshots to look at (build/screenshots/), and what a look checks first: at desktop and phone
// widths the page never scrolls sideways, and every widget fits its column.
test('the demo page at 1280 and 390 px: every widget computed, nothing wider than the page', async () => {
  const { mkdirSync } = await import('node:fs');
  const dir = new URL('../../build/screenshots/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const width of [1280, 390]) {
    const { page, seen } = await open('demo.html', { width, height: 900 });
    for (const widget of await page.locator('quant-error-calculator').all()) await widget.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => [...document.querySelectorAll('quant-error-calculator')].every((e) => e.result));
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), width, `${width} px: no sideways scroll`);
    const overflowing = await page.$$eval('quant-error-calculator', (els) => els.filter((e) => {
      const box = e.getBoundingClientRect();
      return box.right > document.documentElement.clientWidth + 0.5 || e.shadowRoot.querySelector('.qec').scrollWidth > e.clientWidth + 1;
    }).length);
    assert.equal(overflowing, 0, `${width} px: every widget fits`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: new URL(`demo-${width}.png`, dir).pathname, fullPage: true });
    assert.deepEqual(seen.problems, []);
    await page.context().close();
  }
});

// The README's plain-HTML snippet on a host page elsewhere on a site: the component's worker and
// wasm are found beside the component (/static/assets/), not beside the page.
test('one script tag on a page in another folder: the worker and wasm load from beside the component', async () => {
  const { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const site = mkdtempSync(join(tmpdir(), 'qec-site-'));
  const host = await startServer({ root: site });
  try {
    symlinkSync(new URL('../../dist/', import.meta.url).pathname, join(site, 'static'));
    mkdirSync(join(site, 'docs', 'guide'), { recursive: true });
    writeFileSync(join(site, 'docs', 'guide', 'page.html'), `<!doctype html><meta charset="utf-8"><title>Guide</title><link rel="icon" href="data:,">
<script type="module" src="/static/quant-error-calculator.js"></script>
<quant-error-calculator bits="4" range="-1.5,1.5" view="results" values="${LADDER}"></quant-error-calculator>`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = [];
    const urls = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    context.on('request', (r) => urls.push(new URL(r.url()).pathname));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
    await page.goto(`http://127.0.0.1:${host.address().port}/docs/guide/page.html`);
    await page.waitForFunction(() => document.querySelector('quant-error-calculator').result);
    const shown = await page.evaluate(() => document.querySelector('quant-error-calculator').result.metrics.mse);
    assert.equal(shown, qz.analyze(qz.parseValues(LADDER), { bits: 4, range: { min: -1.5, max: 1.5 } }).metrics.mse);
    const fetched = urls.filter((u) => /\.(wasm|js)$/.test(u));
    assert.ok(fetched.some((u) => /^\/static\/assets\/quant-[\w-]+\.wasm$/.test(u)), fetched.join(' '));
    assert.ok(fetched.some((u) => /^\/static\/assets\/worker-[\w-]+\.js$/.test(u)), fetched.join(' '));
    assert.deepEqual(fetched.filter((u) => !u.startsWith('/static/')), []);
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    host.close();
    rmSync(site, { recursive: true, force: true });
  }
});

test('the component as one script: dist/quant-error-calculator.js defines the element and exports its class', async () => {
  const { page, seen } = await open('demo.html');
  const exported = await page.evaluate(async () => {
    const m = await import('./quant-error-calculator.js');
    return typeof m.QuantErrorCalculator === 'function' && customElements.get('quant-error-calculator') !== undefined;
  });
  assert.equal(exported, true);
  assert.deepEqual(seen.problems, []);
  await page.context().close();
});
