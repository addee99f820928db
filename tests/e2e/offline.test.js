// The offline single-file build (dist-offline/quant-error-calculator.html, npm run build:offline)
// opened from file:// in Chromium with every http(s) request refused: the seed example's numbers
// equal the JS API's, CSV and PDF downloads work (the PDF's text read with pdftotext), the compare
// view runs, and a tensor file generated here is reported.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { createQuantizer } from '../../web/src/quantizer.js';
import { safetensorsBytes } from '../js/tensor-files.js';

const file = fileURLToPath(new URL('../../dist-offline/quant-error-calculator.html', import.meta.url));
let browser, qz;

before(async () => {
  if (!existsSync(file)) execFileSync('node', ['scripts/build-offline.js'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  qz = await createQuantizer();
});
after(async () => {
  await browser?.close();
});

test('one HTML file: nothing external in it', () => {
  const html = readFileSync(file, 'utf8');
  assert.equal(/<script[^>]+src=/.test(html), false, 'no script file');
  assert.equal(/<link[^>]+rel="(stylesheet|modulepreload)"/.test(html), false, 'no style sheet file');
});

test('from file:// with the network refused: every feature works', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.route(/^(https?|wss?):/, (route) => route.abort());
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(pathToFileURL(file).href);

  // The seed example (the page's default: 8-bit symmetric, range ±1.5).
  await page.locator('[data-metric="mse"]').waitFor();
  const seed = qz.analyze(qz.parseValues('-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46'), { bits: 8, range: { min: -1.5, max: 1.5 } });
  const shown = Object.fromEntries(await page.$$eval('[data-metric]', (els) => els.map((e) => [e.dataset.metric, e.dataset.value])));
  assert.equal(Number(shown.scale), seed.scale);
  assert.equal(Number(shown.mse), seed.metrics.mse);
  assert.equal(Number(shown.sqnrDb), seed.metrics.sqnrDb);
  await page.locator('#chart-values canvas').first().waitFor();

  // CSV and PDF.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  assert.match(readFileSync(await csv.path(), 'utf8'), /^setting,value\r?\ntensor,/);
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download PDF' }).click()]);
  const text = execFileSync('pdftotext', ['-layout', await pdf.path(), '-'], { encoding: 'utf8' });
  assert.match(text, /Quantization error report/);
  assert.match(text, /Histogram of the errors/);

  // The compare view.
  await page.getByRole('button', { name: 'Compare all', exact: true }).click();
  await page.locator('#compare-table tbody tr').first().waitFor();

  // A tensor file, read from disk.
  const dir = mkdtempSync(join(tmpdir(), 'quant-error-offline-'));
  const w = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i * 0.3) * 2);
  writeFileSync(join(dir, 'w.safetensors'), safetensorsBytes({ w }));
  await page.setInputFiles('#file-input', join(dir, 'w.safetensors'));
  await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 1);
  const mse = Number(await page.locator('#report-table tbody td[data-column="mse"]').getAttribute('data-value'));
  // Each tensor of a file on its own range (min-max of its values), not the form's custom range.
  assert.equal(mse, qz.analyze(w, { bits: 8, perSample: false }).metrics.mse);

  assert.deepEqual(problems, []);
  assert.deepEqual(requests.filter((u) => !/^(file|data|blob):/.test(u)), [], 'nothing but the file itself, data: and blob: URLs');
  await context.close();
});
