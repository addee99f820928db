// llama.cpp's GGUF files on the built page: ggml's quantized reference file compared with its float
// original (opened, then the original chosen; and by dropping the second file on the report), the
// Q4_K_M recipe on the float file, an imatrix from a file input, and a lying imatrix's message.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { safetensorsBytes } from '../js/tensor-files.js';
import { browserSuite, parseCsv } from './harness.js';

const DIR = fileURLToPath(new URL('../../../shared/ggml/', import.meta.url));
const FLOAT = join(DIR, 'tiny-float.gguf'), QUANT = join(DIR, 'tiny-q4_k_m.gguf');
const skip = existsSync(FLOAT) ? false : `ggml's reference files in ${DIR} are absent`;
const suite = browserSuite();

const rowsOf = (page) => page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => ({
  name: tr.dataset.tensor,
  cells: Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.column ?? 'message', td.dataset.value ?? td.textContent])),
  text: tr.textContent,
})));

describe('GGUF files on the page', { skip }, () => {
  test('compare with the original, a recipe and an imatrix', { timeout: 240000 }, async () => {
    const { createQuantizer } = await import('../../web/src/quantizer.js');
    const qz = await createQuantizer();
    const float = new Uint8Array(readFileSync(FLOAT)), quant = new Uint8Array(readFileSync(QUANT));
    const api = await qz.compareFiles(float, quant);
    const page = await suite.openPage();

    // The quantized file's report, then its original chosen: one row per tensor, as the API compares them.
    await page.setInputFiles('#file-input', QUANT);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 11 && document.getElementById('report').dataset.render);
    assert.equal(await page.locator('#gguf-tools').isVisible(), true);
    const before = await page.locator('#report').getAttribute('data-render');
    await page.setInputFiles('#compare-input', FLOAT);
    await page.waitForFunction((old) => document.getElementById('report').dataset.render !== old, before);
    assert.equal(await page.locator('#report-title').textContent(), 'tiny-q4_k_m.gguf against its original tiny-float.gguf');
    const rows = await rowsOf(page);
    assert.equal(rows.length, 11);
    for (const want of api.tensors) {
      const got = rows.find((r) => r.name === want.name);
      assert.ok(got, want.name);
      assert.equal(Number(got.cells.range), want.metrics.mse, want.name);
      assert.equal(Number(got.cells.sqnrDb), want.metrics.sqnrDb === Infinity ? Infinity : want.metrics.sqnrDb, want.name);
      assert.match(got.text, new RegExp(want.verdict.replace(/[.()]/g, '\\$&')));
    }
    const summary = await page.locator('#report-summary').textContent();
    assert.match(summary, /11 tensors matched by name, 11 compared/);
    assert.match(summary, /gives the file's bytes for 11 of 11 tensors \(identical to llama\.cpp's reference quantizer\)/);
    // The comparison's CSV: every metric of each row.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'tiny-q4_k_m-compare.csv');
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    assert.equal(csv.length, 12);
    const medianAt = csv[0].indexOf('median_abs_error');
    const attnV = csv.find((r) => r[0] === 'blk.0.attn_v.weight');
    assert.equal(Number(attnV[medianAt]), api.tensors.find((t) => t.name === 'blk.0.attn_v.weight').metrics.medianAbsError);

    // An imatrix from the file input: the comparison again, weighted, re-quantized with it.
    const dir = mkdtempSync(join(tmpdir(), 'gguf-page-'));
    const sums = new Float32Array(512).map((_, j) => (1 + (j % 5)) * 4);
    const dat = (entries) => {
      const parts = [];
      const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
      i32(entries.length);
      for (const [name, v] of entries) { i32(name.length); parts.push(Buffer.from(name)); i32(4); i32(v.length); parts.push(Buffer.from(v.buffer)); }
      return Buffer.concat(parts);
    };
    writeFileSync(join(dir, 'imatrix.dat'), dat([['blk.0.attn_q.weight', sums]]));
    const again = await page.locator('#report').getAttribute('data-render');
    await page.setInputFiles('#imatrix-input', join(dir, 'imatrix.dat'));
    await page.waitForFunction((old) => document.getElementById('report').dataset.render !== old, again);
    const attnQ = (await rowsOf(page)).find((r) => r.name === 'blk.0.attn_q.weight');
    const im = qz.readImatrix(new Uint8Array(readFileSync(join(dir, 'imatrix.dat'))));
    const weighted = (await qz.compareFiles(float, quant, { imatrix: im })).tensors.find((t) => t.name === 'blk.0.attn_q.weight');
    assert.equal(Number(attnQ.cells.weightedSqnrDb), weighted.metrics.weightedSqnrDb);
    assert.match(attnQ.text, /of 256 blocks differ \(re-quantized with the imatrix\)/);
    assert.equal(await page.locator('#imatrix-name').textContent(), 'Importance from imatrix.dat');
    // A lying imatrix: its message at the field, and nothing else is lost (the file stays open).
    writeFileSync(join(dir, 'broken.dat'), dat([['blk.0.attn_q.weight', sums]]).subarray(0, 60));
    await page.setInputFiles('#imatrix-input', join(dir, 'broken.dat'));
    await page.locator('#imatrix-error').filter({ hasText: /claims 512 values/ }).waitFor();
    assert.match(await page.locator('#imatrix-error').textContent(), /^broken\.dat: imatrix entry "blk\.0\.attn_q\.weight" claims 512 values, but \d+ bytes remain$/);
    await page.getByRole('button', { name: 'No imatrix' }).click();
    await page.waitForFunction(() => document.getElementById('imatrix-error').textContent === '' && document.querySelectorAll('#report-table tbody tr').length === 11);

    // The float file as llama-quantize's Q4_K_M would write it: the types, the sizes, the file's bits per weight.
    await page.setInputFiles('#file-input', FLOAT);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 11);
    const beforeRecipe = await page.locator('#report').getAttribute('data-render');
    await page.getByLabel('llama-quantize recipe', { exact: true }).selectOption('q4_k_m');
    await page.waitForFunction((old) => document.getElementById('report').dataset.render !== old, beforeRecipe);
    const recipe = qz.recipeTypes('q4_k_m', qz.tensorHeader('gguf', float, float.length));
    const recipeRows = await rowsOf(page);
    for (const t of recipe.tensors) {
      const got = recipeRows.find((r) => r.name === t.name);
      if (t.type) assert.equal(got.cells.recipeType, t.type, t.name);
      else assert.match(got.text, new RegExp(t.kept));
    }
    // The q6_k attn_v the recipe makes is the quantized file's tensor: the comparison's error.
    const v = recipeRows.find((r) => r.name === 'blk.0.attn_v.weight');
    assert.equal(Number(v.cells.mse), api.tensors.find((t) => t.name === 'blk.0.attn_v.weight').metrics.mse);
    const recipeSummary = await page.locator('#report-summary').textContent();
    const bpw = Number(recipeSummary.match(/As Q4_K_M: [\d.]+ MB, ([\d.]+) bits per weight/)[1]);
    assert.ok(Math.abs(bpw - recipe.bitsPerWeight) < 1e-3 * recipe.bitsPerWeight, `${bpw} against ${recipe.bitsPerWeight}`);

    // Dropping the quantized file on the float file's report compares them (the report's file is the original).
    const beforeDrop = await page.locator('#report').getAttribute('data-render');
    const handle = await page.evaluateHandle(async (bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'tiny-q4_k_m.gguf'));
      return dt;
    }, [...quant]);
    await page.dispatchEvent('#report', 'drop', { dataTransfer: handle });
    await page.waitForFunction((old) => document.getElementById('report').dataset.render !== old, beforeDrop);
    assert.equal(await page.locator('#report-title').textContent(), 'tiny-q4_k_m.gguf against its original tiny-float.gguf');
    await page.context().close();
  });

  test('a comparison of two large files is cancelled while it runs: its message, the rows kept, the page usable', { timeout: 240000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gguf-cancel-'));
    const big = {};
    for (let k = 0; k < 40; k++) big[`block.${k}`] = Float32Array.from({ length: 1000000 }, (_, i) => Math.sin(i * 0.001 + k));
    const a = join(dir, 'big.safetensors'), b = join(dir, 'big-copy.safetensors');
    writeFileSync(a, safetensorsBytes(big));
    writeFileSync(b, safetensorsBytes(big));
    const page = await suite.openPage();
    await page.setInputFiles('#file-input', a);
    await page.locator('#report-progress:not([hidden])').waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('report-error').textContent !== '');
    // The copy chosen as the report's original (the GGUF tools' button fills this input).
    await page.setInputFiles('#compare-input', b);
    await page.waitForFunction(() => document.getElementById('report-title').textContent === 'big.safetensors against its original big-copy.safetensors');
    await page.locator('#report-progress:not([hidden])').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length >= 1, null, { timeout: 120000, polling: 10 });
    await page.locator('#report-cancel').click();
    await page.waitForFunction(() => document.getElementById('report-error').textContent !== '');
    assert.match(await page.locator('#report-error').textContent(), /^Cancelled: \d+ tensors were compared before Cancel \(kept below\)\.$/);
    const kept = await rowsOf(page);
    assert.ok(kept.length >= 1 && kept.length < 40, `${kept.length} rows kept`);
    assert.match(kept[0].text, /identical values \(float32 of the original\)/);
    assert.equal(await page.locator('#report-progress').isHidden(), true);
    // Still usable: a GGUF file's report after it.
    await page.setInputFiles('#file-input', QUANT);
    await page.waitForFunction(() => document.querySelectorAll('#report-table tbody tr').length === 11);
    await page.context().close();
  });
});
