// Whole GGUF models through the public API and the command line: ggml's quantized reference file
// against its float original (every quantized tensor's dequantization is ggml's, and re-quantizing
// the original with each tensor's type gives the file's bytes), imatrix files generated here in
// both layouts (and their truncated or lying versions), and llama-quantize's recipes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createQuantizer, QuantizerError, RECIPES } from '../../web/src/quantizer.js';

const DIR = fileURLToPath(new URL('../../../shared/ggml/', import.meta.url));
const present = existsSync(join(DIR, 'tiny-float.gguf'));
const skip = present ? false : `ggml's reference files in ${DIR} are absent (they live beside the repository)`;
const CLI = fileURLToPath(new URL('../../build/native/quant-error', import.meta.url));

let qz, float, quant, tmp;
before(async () => {
  qz = await createQuantizer();
  tmp = mkdtempSync(join(tmpdir(), 'gguf-model-'));
  if (present) {
    float = new Uint8Array(readFileSync(join(DIR, 'tiny-float.gguf')));
    quant = new Uint8Array(readFileSync(join(DIR, 'tiny-q4_k_m.gguf')));
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const header = (bytes) => qz.tensorHeader('gguf', bytes, bytes.length);
let f16 = null;
const floatsOf = (t, bytes) => {
  const raw = bytes.subarray(t.offset, t.offset + t.bytes);
  if (t.dtype === 'float32') return new Float32Array(raw.slice().buffer);
  if (t.dtype === 'float16') {
    f16 ??= qz.describeFormat({ format: 'fp16' }).values;
    return Float32Array.from(new Uint16Array(raw.slice().buffer), (h) => f16[h]);
  }
  if (t.dtype === 'bfloat16') return new Float32Array(Uint32Array.from(new Uint16Array(raw.slice().buffer), (h) => h << 16).buffer);
  return qz.dequantizeGgml(t.dtype, raw);
};

// A GGUF imatrix: name.in_sum2 (ne = [columns, matrices]) and name.counts (ne = [1, matrices]), F32.
function imatrixGguf(entries, { countsType = 0 } = {}) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { u64(Buffer.byteLength(s)); parts.push(Buffer.from(s)); };
  parts.push(Buffer.from('GGUF'));
  u32(3); u64(entries.length * 2); u64(1);
  str('imatrix.chunk_count'); u32(4); u32(3);
  const data = [];
  let at = 0;
  for (const { name, sums, counts } of entries) {
    for (const [suffix, v, ne0, type] of [['.in_sum2', sums, sums.length / counts.length, 0], ['.counts', counts, 1, countsType]]) {
      str(name + suffix); u32(2); u64(ne0); u64(counts.length); u32(type); u64(at);
      const b = Buffer.from(new Float32Array(v).buffer);
      data.push([at, b]);
      at += Math.ceil(b.length / 32) * 32;
    }
  }
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  const body = Buffer.alloc(at);
  for (const [off, b] of data) b.copy(body, off);
  return new Uint8Array(Buffer.concat([head, body]));
}

// llama-imatrix's legacy .dat.
function imatrixDat(entries, ncall, trailer = true) {
  const parts = [];
  const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v); parts.push(b); };
  i32(entries.length);
  for (const [name, v] of entries) {
    i32(Buffer.byteLength(name)); parts.push(Buffer.from(name)); i32(ncall); i32(v.length);
    parts.push(Buffer.from(new Float32Array(v).buffer));
  }
  if (trailer) { i32(10); i32(4); parts.push(Buffer.from('wiki')); }
  return new Uint8Array(Buffer.concat(parts));
}

test('compareFiles: ggml\'s quantized file against its float original, every tensor identical to the reference quantizer', { skip }, async () => {
  const seen = [];
  const r = await qz.compareFiles(new Blob([float]), new Blob([quant]), { chunkValues: 3000, onTensor: (row, k, n) => seen.push([row.name, k, n]) });
  assert.equal(seen.length, 11);
  assert.deepEqual(seen[0], ['token_embd.weight', 0, 11]);
  assert.deepEqual(r.onlyOriginal, []);
  assert.deepEqual(r.onlyQuantized, []);
  assert.equal(r.summary.compared, 11);
  assert.equal(r.summary.identical, 11);
  const hf = header(float), hq = header(quant);
  let e2 = 0, x2 = 0, n = 0, bytes = 0;
  for (const row of r.tensors) {
    const ta = hf.tensors.find((t) => t.name === row.name), tb = hq.tensors.find((t) => t.name === row.name);
    assert.equal(row.error, null, row.name);
    assert.equal(row.requantized.differing, 0, row.name);
    assert.equal(row.requantized.unit, GGML(tb.dtype) ? 'blocks' : 'values');
    assert.match(row.verdict, GGML(tb.dtype) ? /^identical to llama\.cpp's reference quantizer$/ : /^identical values/);
    // The error from the values: the file's blocks through ggml's dequantization against the original.
    const x = floatsOf(ta, float), y = floatsOf(tb, quant);
    let s = 0, sx = 0, max = 0;
    for (let i = 0; i < x.length; i++) {
      const e = x[i] - y[i];
      s += e * e, sx += x[i] * x[i], max = Math.max(max, Math.abs(e));
    }
    assert.ok(Math.abs(row.metrics.mse - s / x.length) <= 1e-12 * (s / x.length), row.name);
    assert.equal(row.metrics.maxAbsError, max);
    assert.equal(row.bitsPerWeight, (8 * tb.bytes) / tb.count);
    e2 += s, x2 += sx, n += x.length, bytes += tb.bytes;
  }
  assert.ok(Math.abs(r.summary.mse - e2 / n) <= 1e-12 * r.summary.mse);
  assert.ok(Math.abs(r.summary.sqnrDb - 10 * Math.log10(x2 / e2)) < 1e-9);
  assert.equal(r.summary.bitsPerWeight, (8 * bytes) / n);
  // Uint8Arrays and Blobs give the same rows.
  const again = await qz.compareFiles(float, quant);
  assert.deepEqual(again.tensors.map((t) => t.metrics), r.tensors.map((t) => t.metrics));
});

const GGML = (d) => !['float32', 'float16', 'bfloat16'].includes(d);

test('compare: a changed block is counted and named; another shape or a missing tensor is named', { skip }, async () => {
  const hq = header(quant);
  const t = hq.tensors.find((k) => k.name === 'blk.0.ffn_down.weight');
  assert.equal(t.dtype, 'q6_k');
  const changed = quant.slice();
  changed[t.offset + 3 * 210 + 17] ^= 0x40; // a code of block 3 (q6_K: 210 bytes a block)
  const r = await qz.compareFiles(float, changed);
  const row = r.tensors.find((k) => k.name === t.name);
  assert.equal(row.requantized.differing, 1);
  assert.equal(row.requantized.firstDiffering, 3);
  assert.equal(row.verdict, '1 of 512 blocks differ');
  assert.equal(r.summary.identical, 10);
  // Tensors matched by name, shapes checked.
  const ha = header(float);
  const m = qz.matchTensors(ha.tensors.slice(1), hq.tensors.map((k, i) => (i === 10 ? { ...k, name: 'lm_head.weight' } : i === 2 ? { ...k, shape: [512, 128] } : k)));
  assert.deepEqual(m.onlyQuantized, ['token_embd.weight', 'lm_head.weight']);
  assert.deepEqual(m.onlyOriginal, ['output.weight']);
  assert.equal(m.pairs.find((p) => p.error).error, 'shape [512, 128] here, [128, 512] in the original');
  assert.throws(() => qz.tensorComparison(ha.tensors[2], { ...hq.tensors[2], shape: [64, 1024] }),
    (e) => e instanceof QuantizerError && e.message === 'Tensor "blk.0.attn_q.weight": shape [64, 1024] here, [128, 512] in the original');
  const c = qz.tensorComparison(ha.tensors[2], hq.tensors[2]);
  assert.throws(() => c.add(new Uint8Array(10), new Uint8Array(10), 1), (e) => e.field === 'file' && /1 rows take 1024 bytes of the original and 288/.test(e.message));
  c.delete();
});

test('readImatrix: GGUF and the legacy .dat, importance as llama-quantize divides it; truncated or lying files are errors', () => {
  const g = qz.readImatrix(imatrixGguf([{ name: 'w', sums: [8, 4, 2, 0, 30, 60, 90, 120], counts: [4, 30] }, { name: 'a', sums: [5, 6], counts: [0] }]));
  assert.equal(g.format, 'gguf');
  assert.equal(g.chunks, 3);
  assert.deepEqual(Array.from(g.entries.find((e) => e.name === 'w').importance), [2, 1, 0.5, 0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(g.entries.find((e) => e.name === 'a').importance), [1, 1]);
  assert.equal(qz.importanceFor(g, { name: 'w', shape: [2, 3, 4] }).length, 8);
  assert.equal(qz.importanceFor(g, { name: 'other', shape: [3, 4] }), null);
  assert.throws(() => qz.importanceFor(g, { name: 'w', shape: [3, 5] }),
    (e) => e.field === 'imatrix' && e.message === 'imatrix entry "w" holds 8 weights; tensor [3, 5] needs 5 per column (is the imatrix from another model?)');
  const d = imatrixDat([['blk.0.attn_q.weight', [10, 20, 5]]], 5);
  const legacy = qz.readImatrix(d);
  assert.equal(legacy.format, 'dat');
  assert.equal(legacy.dataset, 'wiki');
  assert.deepEqual(Array.from(legacy.entries[0].importance), [2, 4, 1]);
  for (const cut of [0, 3, 9, 30, 46, 49, 54]) {
    assert.throws(() => qz.readImatrix(d.subarray(0, cut)), (e) => e instanceof QuantizerError && e.field === 'imatrix', `cut at ${cut}`);
  }
  const lying = d.slice();
  lying[4] = 200;
  assert.throws(() => qz.readImatrix(lying), { message: "The imatrix file's entry 1 of 1 claims a name of 200 bytes, but 51 remain" });
  assert.throws(() => qz.readImatrix(imatrixDat([['x', [1, NaN]]], 1)), { message: 'imatrix entry "x": weight 2 is NaN (a mean of squares is a finite number of at least 0)' });
  assert.throws(() => qz.readImatrix(imatrixGguf([{ name: 'w', sums: [1, 2], counts: [1] }], { countsType: 1 })),
    { message: 'imatrix tensor "w.counts" is F16 (in_sum2 and counts are F32)' });
  assert.throws(() => qz.readImatrix(new TextEncoder().encode('not an imatrix at all')), (e) => e.field === 'imatrix' && /Not an imatrix file/.test(e.message));
});

test('compareFiles with an imatrix: weighted metrics, and the re-quantization takes the imatrix path', { skip }, async () => {
  // An imatrix for attn_q (512 columns) made here: column j saw Σa² = (1 + j % 5) · 4 over 4 tokens.
  const sums = Array.from({ length: 512 }, (_, j) => (1 + (j % 5)) * 4);
  const im = qz.readImatrix(imatrixGguf([{ name: 'blk.0.attn_q.weight', sums, counts: [4] }]));
  const r = await qz.compareFiles(float, quant, { imatrix: im });
  const row = r.tensors.find((k) => k.name === 'blk.0.attn_q.weight');
  assert.equal(row.requantized.withImportance, true);
  assert.ok(row.requantized.differing > 0, 'the file was quantized without an imatrix');
  assert.match(row.verdict, /^\d+ of 256 blocks differ \(re-quantized with the imatrix\)$/);
  const ha = header(float), hq = header(quant);
  const x = floatsOf(ha.tensors[2], float), y = floatsOf(hq.tensors[2], quant);
  let we2 = 0, ws = 0;
  for (let i = 0; i < x.length; i++) we2 += (1 + ((i % 512) % 5)) * (x[i] - y[i]) ** 2, ws += 1 + ((i % 512) % 5);
  assert.ok(Math.abs(row.metrics.weightedMse - we2 / ws) <= 1e-12 * row.metrics.weightedMse);
  assert.equal(r.tensors.find((k) => k.name === 'blk.0.attn_k.weight').metrics.weightedMse, null);
  // The imatrix of another model: that tensor's row says so, the others are compared.
  const wrong = qz.readImatrix(imatrixGguf([{ name: 'blk.0.attn_k.weight', sums: [1, 2, 3], counts: [1] }]));
  const r2 = await qz.compareFiles(float, quant, { imatrix: wrong });
  assert.match(r2.tensors.find((k) => k.name === 'blk.0.attn_k.weight').error, /^imatrix entry "blk\.0\.attn_k\.weight" holds 3 weights/);
  assert.equal(r2.summary.compared, 10);
});

test('recipeTypes: llama-quantize\'s Q4_K_M on ggml\'s float file, the sizes and bits per weight', { skip }, () => {
  assert.deepEqual(RECIPES, ['q4_k_m', 'q5_k_m', 'q6_k', 'q8_0', 'q4_0', 'iq4_xs']);
  const h = header(float);
  const r = qz.recipeTypes('Q4_K_M', h);
  assert.equal(r.recipe, 'Q4_K_M');
  assert.deepEqual(r.facts, { architecture: 'llama', layers: 1, experts: 0, gqa: 2 });
  assert.deepEqual(Object.fromEntries(r.tensors.map((t) => [t.name, t.type ?? t.kept])), {
    'token_embd.weight': 'q4_k', 'blk.0.attn_norm.weight': '1-D: kept', 'blk.0.attn_q.weight': 'q4_k', 'blk.0.attn_k.weight': 'q4_k',
    'blk.0.attn_v.weight': 'q6_k', 'blk.0.ffn_down.weight': 'q6_k', 'blk.0.ffn_up.weight': 'q4_k', 'blk.0.ffn_gate.weight': 'q4_k',
    'blk.0.ffn_gate_inp.weight': 'the expert router: kept', 'output_norm.weight': '1-D: kept', 'output.weight': 'q6_k',
  });
  const q4 = r.tensors.find((t) => t.name === 'blk.0.attn_q.weight');
  assert.equal(q4.bytes, (65536 / 256) * 144);
  assert.equal(q4.bitsPerWeight, 4.5);
  const total = r.tensors.reduce((a, t) => a + t.bytes, 0), values = h.tensors.reduce((a, t) => a + t.count, 0);
  assert.equal(r.bytes, total);
  assert.equal(r.bitsPerWeight, (8 * total) / values);
  assert.equal(qz.recipeTypes('q8_0', h).tensors.find((t) => t.name === 'output.weight').type, 'q8_0');
  assert.throws(() => qz.recipeTypes('q4_k_s', h), (e) => e.field === 'recipe' && /Unknown recipe "q4_k_s"/.test(e.message));
});

const haveCli = existsSync(CLI);
test('the command line: --compare, --imatrix and --recipe', { skip: skip || (!haveCli && 'build/native/quant-error is not built') }, () => {
  const f = join(DIR, 'tiny-float.gguf'), q = join(DIR, 'tiny-q4_k_m.gguf');
  const json = JSON.parse(execFileSync(CLI, ['--compare', f, q, '--output', 'json'], { encoding: 'utf8' }));
  assert.equal(json.summary.identical, 11);
  const api = qz.compareFiles(float, quant);
  return api.then((r) => {
    for (const row of json.tensors) {
      const a = r.tensors.find((t) => t.name === row.tensor);
      assert.equal(row.mse, a.metrics.mse, row.tensor);
      assert.equal(row.medianAbsError, a.metrics.medianAbsError, row.tensor);
      assert.equal(row.verdict, a.verdict);
    }
    assert.equal(json.summary.bitsPerWeight, r.summary.bitsPerWeight);
    const table = execFileSync(CLI, ['--compare', f, q], { encoding: 'utf8' });
    assert.match(table, /11 of 11 reproduced exactly by re-quantizing the original/);
    // An imatrix file on the command line: the weighted columns, and the re-quantization with it.
    const sums = Array.from({ length: 512 }, (_, j) => (1 + (j % 5)) * 4);
    const path = join(tmp, 'imatrix.gguf');
    writeFileSync(path, imatrixGguf([{ name: 'blk.0.attn_q.weight', sums, counts: [4] }]));
    const withIm = JSON.parse(execFileSync(CLI, ['--compare', f, q, '--imatrix', path, '--output', 'json'], { encoding: 'utf8' }));
    const attnQ = withIm.tensors.find((t) => t.tensor === 'blk.0.attn_q.weight');
    assert.equal(attnQ.requantized.withImportance, true);
    assert.ok(attnQ.weightedMse > 0);
    const dat = join(tmp, 'imatrix.dat');
    const broken = imatrixDat([['blk.0.attn_q.weight', sums]], 4).subarray(0, 100);
    writeFileSync(dat, broken);
    const bad = spawnSync(CLI, ['--compare', f, q, '--imatrix', dat], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /imatrix\.dat: imatrix entry "blk\.0\.attn_q\.weight" claims 512 values, but 65 bytes remain/);
    // --recipe: the API's types, and errors of the ggml analysis through the same quantizer.
    const recipe = JSON.parse(execFileSync(CLI, [f, '--recipe', 'q4_k_m', '--output', 'json'], { encoding: 'utf8' }));
    const types = qz.recipeTypes('q4_k_m', header(float));
    for (const row of recipe) {
      const t = types.tensors.find((k) => k.name === row.tensor);
      assert.equal(row.type, t.type ?? 'kept', row.tensor);
      assert.equal(row.bytes, t.bytes, row.tensor);
    }
    // The q6_k attn_v of the recipe is the quantized file's tensor: the same error as --compare's.
    assert.equal(recipe.find((k) => k.tensor === 'blk.0.attn_v.weight').mse, json.tensors.find((k) => k.tensor === 'blk.0.attn_v.weight').mse);
    assert.match(execFileSync(CLI, [f, '--recipe', 'q4_k_m'], { encoding: 'utf8' }), /tiny-float\.gguf: as Q4_K_M: [\d.]+ MB, [\d.]+ bits per weight;/);
    const unknown = spawnSync(CLI, [f, '--recipe', 'q3_k_s'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /bad value "q3_k_s" for --recipe/);
  });
});

test('an expert tensor\'s imatrix entry (one vector per matrix) weighs each matrix in analyze(), as in compareTensor', () => {
  // Shape [2, 4, 256]: two experts; the imatrix entry holds 2 × 256 weights.
  const x = Float32Array.from({ length: 2048 }, (_, i) => Math.sin(0.37 * i) * 0.05);
  const im = qz.readImatrix(imatrixGguf([{ name: 'blk.0.ffn_up_exps.weight', sums: Array.from({ length: 512 }, (_, i) => (1 + (i % 7)) * 3), counts: [3, 3] }]));
  const importance = qz.importanceFor(im, { name: 'blk.0.ffn_up_exps.weight', shape: [2, 4, 256] });
  assert.equal(importance.length, 512);
  const r = qz.analyze(x, { format: 'q4_k', shape: [2, 4, 256], importance, perSample: false });
  // The same blocks as each matrix quantized alone with its own weights.
  for (const m of [0, 1]) {
    const alone = qz.analyze(x.subarray(m * 1024, (m + 1) * 1024), { format: 'q4_k', shape: [4, 256], importance: importance.subarray(m * 256, (m + 1) * 256), perSample: false });
    assert.deepEqual(r.blocks.bytes.subarray(m * 576, (m + 1) * 576), alone.blocks.bytes, `matrix ${m}`);
  }
  // And compareTensor re-quantizes with the same weights: the analysis' blocks are identical.
  const t = { name: 'e', dtype: 'float32', fileDtype: 'F32', shape: [2, 4, 256], count: 2048, skipped: '' };
  const c = qz.compareTensor(t, { ...t, dtype: 'q4_k', fileDtype: 'Q4_K' }, new Uint8Array(x.buffer), r.blocks.bytes, { importance });
  assert.equal(c.verdict, 'identical to llama.cpp\'s reference quantizer (re-quantized with the imatrix)');
  assert.ok(Math.abs(c.metrics.weightedMse - r.metrics.weightedMse) <= 1e-12 * r.metrics.weightedMse);
  assert.throws(() => qz.analyze(x, { format: 'q4_k', shape: [2, 4, 256], importance: new Float32Array(300) }),
    { message: 'Importance needs one weight per column, 256 (the row length: the last axis of shape), or one per column of each of the 2 matrices, but has 300' });
});
