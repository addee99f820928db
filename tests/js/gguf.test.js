// llama.cpp's block types through the public API: on every case of ../shared/ggml/quants.json
// (ggml's own quantizers and dequantization, with and without importance weights), the result's
// blocks.bytes are ggml's bytes and its dequantized values ggml's float32 values, bit for bit, in
// both wasm builds. Also the per-block fields, describeFormat, the weighted metrics and the errors
// of bad rows and bad importance weights. Skips, saying so, when the reference data is absent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createQuantizer, FORMATS, GGML_TYPES, PROFILES, QuantizerError } from '../../web/src/quantizer.js';
import { indexTensorFile, readTensor, readTensorRange } from '../../web/src/worker/tensor-files.js';

const QUANTS = new URL('../../../shared/ggml/quants.json', import.meta.url);
const present = existsSync(QUANTS);
const skip = present ? false : `ggml's reference data ${QUANTS.pathname} is absent (it lives beside the repository)`;

const bytesOf = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));
const floatsOf = (b64) => {
  const b = bytesOf(b64);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const bitsOf = (f) => new Uint32Array(f.buffer, f.byteOffset, f.length);

let cases = [];
let qz, scalar;
before(async () => {
  if (present) {
    cases = JSON.parse(readFileSync(QUANTS, 'utf8')).cases.map((c) => ({
      id: c.id,
      type: c.type.toLowerCase(),
      rows: c.nrows,
      perRow: c.n_per_row,
      x: floatsOf(c.input_f32),
      importance: c.imatrix_f32 === null ? null : floatsOf(c.imatrix_f32),
      blocks: bytesOf(c.blocks),
      dequantized: floatsOf(c.dequantized_f32),
      blockBytes: c.block_bytes,
      blockElements: c.block_elements,
    }));
  }
  qz = await createQuantizer();
  scalar = await createQuantizer({ simd: false });
});

// ggml's MXFP4 and NVFP4 are the formats of those names under profile 'ggml'.
const optionsOf = (c) => ({
  format: c.type,
  profile: c.type === 'mxfp4' || c.type === 'nvfp4' ? 'ggml' : 'formula',
  shape: [c.rows, c.perRow],
  importance: c.importance,
});

function firstDifference(a, b) {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

test('every case of quants.json: ggml\'s bytes and ggml\'s dequantization, bit for bit (SIMD and scalar builds)', { skip }, () => {
  assert.equal(cases.length, 320);
  const passed = {};
  for (const c of cases) {
    const metrics = [];
    for (const q of [qz, scalar]) {
      const r = q.analyze(c.x, optionsOf(c));
      metrics.push(r.metrics);
      assert.equal(firstDifference(r.blocks.bytes, c.blocks), -1, `${c.id}: blocks (simd ${q.simd})`);
      assert.ok(r.dequantized instanceof Float32Array, c.id);
      assert.equal(firstDifference(bitsOf(r.dequantized), bitsOf(c.dequantized)), -1, `${c.id}: x̂ (simd ${q.simd})`);
      // e = x − x̂ in double.
      for (let i = 0; i < c.x.length; i += 31) assert.ok(Object.is(r.errors[i], c.x[i] - r.dequantized[i]), `${c.id} e[${i}]`);
    }
    // The SIMD build's lanes (the scale searches, the f64x2 sums) give the scalar build's numbers.
    assert.deepEqual(metrics[0], metrics[1], `${c.id}: metrics`);
    passed[c.type] = (passed[c.type] ?? 0) + 1;
  }
  for (const t of [...GGML_TYPES, 'mxfp4', 'nvfp4']) assert.equal(passed[t], 20, t);
});

test('the blocks\' fields: sizes, bits per weight, scales as stored and codes used, as the bytes say', { skip }, () => {
  for (const c of cases.filter((k) => k.importance === null)) {
    const r = qz.analyze(c.x, optionsOf(c));
    const b = r.blocks;
    const count = (c.rows * c.perRow) / c.blockElements;
    assert.equal(b.type, c.type);
    assert.equal(b.blockSize, c.blockElements);
    assert.equal(b.blockBytes, c.blockBytes);
    assert.equal(b.count, count);
    assert.equal(b.bitsPerWeight, (8 * c.blockBytes) / c.blockElements);
    assert.equal(b.codesUsed.length, count);
    const d = qz.describeFormat({ format: c.type, profile: optionsOf(c).profile });
    assert.equal(d.bitsPerWeight, b.bitsPerWeight);
    assert.equal(d.block, c.blockElements);
    // Codes lie in the type's range, and each block's count of distinct ones is codesUsed.
    for (let k = 0; k < count; k++) {
      const codes = r.codes.subarray(k * c.blockElements, (k + 1) * c.blockElements);
      assert.ok(codes.every((q) => q >= d.codeMin && q <= d.codeMax), c.id);
      assert.equal(new Set(codes).size, b.codesUsed[k], `${c.id} block ${k}`);
    }
    const view = new DataView(c.blocks.buffer, c.blocks.byteOffset);
    const half = (at) => view.getUint16(at, true);
    if (['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'iq4_nl', 'iq4_xs', 'q4_k', 'q5_k'].includes(c.type)) {
      // d is the block's first two bytes.
      for (let k = 0; k < count; k++) assert.equal(b.code[k], half(k * c.blockBytes), `${c.id} d of block ${k}`);
    }
    if (c.type === 'q6_k') {
      for (let k = 0; k < count; k++) {
        assert.equal(b.code[k], half(k * 210 + 208));
        for (let j = 0; j < 16; j++) assert.equal(b.subScaleCode[16 * k + j], view.getInt8(k * 210 + 192 + j));
      }
    }
    if (c.type === 'q2_k') {
      for (let k = 0; k < count; k++) {
        for (let j = 0; j < 16; j++) {
          assert.equal(b.subScaleCode[16 * k + j], c.blocks[84 * k + j] & 15);
          assert.equal(b.subMinCode[16 * k + j], c.blocks[84 * k + j] >> 4);
        }
      }
    }
    if (c.type === 'mxfp4') for (let k = 0; k < count; k++) assert.equal(b.scale[k], 2 ** (c.blocks[17 * k] - 127));
    if (c.type === 'nvfp4') {
      assert.equal(b.scale, null);
      assert.equal(b.subScale.length, 4 * count);
    }
    // Sub-block arrays only where a block has several scales; mins only where the type has them.
    const subs = c.blockElements / d.subBlock;
    assert.equal(b.subScale === null, subs === 1, c.id);
    assert.equal(b.min === null, !d.hasMin, c.id);
    if (subs > 1) assert.equal(b.subScale.length, subs * count);
    assert.equal(r.metrics.weightedMse, null);
  }
});

test('describeFormat: each of llama.cpp\'s types, and what its codes stand for', () => {
  for (const format of GGML_TYPES) assert.ok(FORMATS.includes(format), format);
  assert.ok(PROFILES.includes('ggml'));
  const expected = { q8_0: [8.5, 32], q4_0: [4.5, 32], q4_1: [5, 32], q5_0: [5.5, 32], q5_1: [6, 32], q2_k: [2.625, 256],
    q3_k: [3.4375, 256], q4_k: [4.5, 256], q5_k: [5.5, 256], q6_k: [6.5625, 256], iq4_nl: [4.5, 32], iq4_xs: [4.25, 256],
    tq1_0: [1.6875, 256], tq2_0: [2.0625, 256] };
  for (const [format, [bpw, block]] of Object.entries(expected)) {
    const d = qz.describeFormat({ format });
    assert.equal(d.name, format);
    assert.equal(d.bitsPerWeight, bpw, format);
    assert.equal(d.block, block, format);
    assert.equal(d.blockBytes, (bpw * block) / 8, format);
    assert.match(d.equation, /x ≈/);
    assert.equal(d.values.length, d.codeMax - d.codeMin + 1, format);
  }
  assert.deepEqual(Array.from(qz.describeFormat({ format: 'iq4_nl' }).values),
    [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]);
  assert.deepEqual(Array.from(qz.describeFormat({ format: 'q4_0' }).values), Array.from({ length: 16 }, (_, c) => c - 8));
  assert.deepEqual(Array.from(qz.describeFormat({ format: 'mxfp4', profile: 'ggml' }).values).slice(0, 8), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
  assert.equal(qz.describeFormat({ format: 'q4_k' }).fallback, 'q5_0');
  assert.equal(qz.describeFormat({ format: 'q4_k' }).hasMin, true);
  assert.equal(qz.describeFormat({ format: 'q8_0' }).fallback, null);
  assert.equal(qz.describeFormat({ format: 'nvfp4', profile: 'ggml' }).block, 64);
  assert.equal(qz.describeFormat({ format: 'nvfp4' }).block, 16); // the OCP definition without the profile
});

const row = Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * 0.61) * (1 + (i % 9)) * (i % 101 === 0 ? 20 : 1));

test('importance: the imatrix path changes the blocks, and the weighted metrics weigh each column', () => {
  const w = Float32Array.from({ length: 256 }, (_, i) => 0.1 + (i % 17));
  const plain = qz.analyze(row, { format: 'q4_k', shape: [4, 256] });
  const weighted = qz.analyze(row, { format: 'q4_k', shape: [4, 256], importance: w });
  assert.notDeepEqual(weighted.blocks.bytes, plain.blocks.bytes);
  let sw = 0, swe = 0, swx = 0;
  for (let i = 0; i < row.length; i++) {
    const c = w[i % 256], e = weighted.errors[i];
    sw += c, swe += c * e * e, swx += c * row[i] * row[i];
  }
  assert.ok(Math.abs(weighted.metrics.weightedMse - swe / sw) <= 1e-12 * (swe / sw));
  assert.ok(Math.abs(weighted.metrics.weightedSqnrDb - 10 * Math.log10(swx / swe)) <= 1e-9);
  // Types without an imatrix path ignore the weights for their blocks but still weigh the error.
  const q8 = qz.analyze(row, { format: 'q8_0', shape: [4, 256] }), q8w = qz.analyze(row, { format: 'q8_0', shape: [4, 256], importance: w });
  assert.deepEqual(q8w.blocks.bytes, q8.blocks.bytes);
  assert.equal(q8.metrics.weightedMse, null);
  assert.ok(q8w.metrics.weightedMse > 0);
  // An array of numbers is taken as float32 weights.
  assert.deepEqual(qz.analyze(row, { format: 'q4_k', shape: [4, 256], importance: Array.from(w) }).blocks.bytes, weighted.blocks.bytes);
  // compare() runs each configuration's own importance.
  const [a, b] = qz.compare(row, [{ format: 'q4_k', shape: [4, 256] }, { format: 'q4_k', shape: [4, 256], importance: w }]);
  assert.equal(a.metrics.mse, plain.metrics.mse);
  assert.equal(b.metrics.mse, weighted.metrics.mse);
});

test('bad rows and bad importance weights: a QuantizerError at the field, and the heap is left as it was', () => {
  const throwsAt = (options, field, pattern, index = null) => {
    assert.throws(() => qz.analyze(row, options), (e) => {
      assert.ok(e instanceof QuantizerError, String(e));
      assert.equal(e.field, field, e.message);
      assert.equal(e.index, index, e.message);
      if (pattern) assert.match(e.message, pattern);
      return true;
    });
  };
  const heap = qz.heapInUse();
  throwsAt({ format: 'q4_k', shape: [8, 128] }, 'shape', /blocks of 256.*holds 128.*as Q5_0 instead/);
  throwsAt({ format: 'q6_k', shape: [8, 128] }, 'shape', /as Q8_0 instead/);
  throwsAt({ format: 'q5_k', shape: [8, 128] }, 'shape', /as Q5_1 instead/);
  throwsAt({ format: 'q2_k', shape: [8, 128] }, 'shape', /as Q4_0 instead/);
  throwsAt({ format: 'q3_k', shape: [8, 128] }, 'shape', /as Q4_0 instead/);
  throwsAt({ format: 'iq4_xs', shape: [8, 128] }, 'shape', /as IQ4_NL instead/);
  throwsAt({ format: 'q4_k', shape: [64, 16] }, 'shape', /store the tensor as F16/);
  throwsAt({ format: 'q4_k', shape: [4, 256], importance: new Float32Array(100) }, 'importance', /one weight per column, 256/);
  const negative = new Float32Array(256).fill(1);
  negative[5] = -0.5;
  throwsAt({ format: 'q4_k', shape: [4, 256], importance: negative }, 'importance', /weight 6/, 5);
  const nan = new Float32Array(256).fill(1);
  nan[200] = NaN;
  throwsAt({ format: 'iq4_xs', shape: [4, 256], importance: nan }, 'importance', /weight 201/, 200);
  throwsAt({ format: 'q4_k', importance: 'weights' }, 'importance', /Float32Array/);
  throwsAt({ format: 'q4_k', importance: [1, 'a'] }, 'importance', /weight 2 is not a number/, 1);
  throwsAt({ bits: 4, importance: new Float32Array(1024) }, 'importance', /ggml's types/);
  throwsAt({ format: 'q4_k', granularity: 'group', groupSize: 32 }, 'granularity', /own blocks/);
  throwsAt({ format: 'q8_0', calibration: 'mse' }, 'calibration');
  throwsAt({ format: 'q8_0', profile: 'pytorch' }, 'profile');
  throwsAt({ format: 'fp16', profile: 'ggml' }, 'profile', /ggml's types/);
  throwsAt({ format: 'q9_k' }, 'format', /q4_k/);
  assert.throws(() => qz.stream({ format: 'q4_k' }), (e) => e.field === 'format' && /analysed whole/.test(e.message));
  assert.equal(qz.heapInUse(), heap);
});

test('ggml\'s types are the whole core\'s: the first module says so', async () => {
  const core = await createQuantizer({ module: 'core' });
  assert.throws(() => core.analyze(row, { format: 'q4_k' }), (e) => e.field === 'format' && /whole core/.test(e.message));
});

test('float64 samples are quantized as float32 tensors; errors are measured against the samples as given', () => {
  const x64 = Float64Array.from(row, (v, i) => v + (i % 3) * 1e-12);
  const r64 = qz.analyze(x64, { format: 'q5_k', shape: [4, 256] });
  const r32 = qz.analyze(Float32Array.from(x64), { format: 'q5_k', shape: [4, 256] });
  assert.deepEqual(r64.blocks.bytes, r32.blocks.bytes);
  assert.deepEqual(r64.dequantized, r32.dequantized);
  for (let i = 0; i < x64.length; i += 17) assert.equal(r64.errors[i], x64[i] - r64.dequantized[i]);
  assert.throws(() => qz.analyze([1, 2e39], { format: 'q8_0' }), (e) => e.field === 'values' && e.index === 1);
});

test('the command line: --format q4_k and --profile ggml --format mxfp4 give the API\'s numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quant-error-gguf-'));
  // A float32 .npy of shape [4, 256], written by hand (little-endian, C order).
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 256), }";
  const pad = 64 - ((10 + header.length + 1) % 64);
  const head = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.alloc(2), Buffer.from(header + ' '.repeat(pad) + '\n')]);
  head.writeUInt16LE(head.length - 10, 8);
  writeFileSync(join(dir, 'w.npy'), Buffer.concat([head, Buffer.from(row.buffer)]));
  const cli = fileURLToPath(new URL('../../build/native/quant-error', import.meta.url));
  for (const args of [['--format', 'q4_k'], ['--profile', 'ggml', '--format', 'mxfp4'], ['--format', 'iq4_xs']]) {
    const out = JSON.parse(execFileSync(cli, [join(dir, 'w.npy'), ...args, '--output', 'json'], { encoding: 'utf8' }));
    const format = args.at(-1), profile = args.includes('ggml') ? 'ggml' : 'formula';
    const r = qz.analyze(row, { format, profile, shape: [4, 256] });
    assert.equal(out[0].mse, r.metrics.mse, args.join(' '));
    assert.equal(out[0].sqnrDb, r.metrics.sqnrDb, args.join(' '));
  }
});

test('ggml\'s GGUF files through the tensor-file reader: quantized tensors read as ggml dequantizes them, and the float file re-quantized gives their blocks', { skip }, async () => {
  const dir = new URL('../../../shared/ggml/', import.meta.url);
  const quantized = new Blob([readFileSync(new URL('tiny-q4_k_m.gguf', dir))]);
  const floats = new Blob([readFileSync(new URL('tiny-float.gguf', dir))]);
  const qt = await indexTensorFile(qz, quantized, 'tiny-q4_k_m.gguf');
  const ft = await indexTensorFile(qz, floats, 'tiny-float.gguf');
  assert.equal(qt.length, 11);
  const bpw = { q4_k: 4.5, q5_k: 5.5, q6_k: 6.5625, q8_0: 8.5, float32: 32 };
  const seen = {};
  for (const t of qt) {
    assert.equal(t.skipped, '', t.name);
    assert.equal(t.bitsPerWeight, bpw[t.dtype], t.name);
    seen[t.dtype] = (seen[t.dtype] ?? 0) + 1;
    const f = ft.find((k) => k.name === t.name);
    assert.deepEqual(f.shape, t.shape);
    const x = await readTensor(qz, floats, f), xhat = await readTensor(qz, quantized, t);
    assert.ok(xhat instanceof Float32Array);
    if (t.dtype === 'float32') {
      assert.deepEqual(xhat, x);
      continue;
    }
    const r = qz.analyze(x, { format: t.dtype, shape: t.shape, perSample: true });
    const bytes = new Uint8Array(await quantized.slice(t.offset, t.offset + t.bytes).arrayBuffer());
    assert.equal(firstDifference(r.blocks.bytes, bytes), -1, `${t.name}: re-quantized blocks`);
    assert.equal(firstDifference(bitsOf(r.dequantized), bitsOf(xhat)), -1, `${t.name}: x̂`);
    // A part of the tensor, as a streamed read takes it: whole blocks from a block boundary.
    const first = r.blocks.blockSize * 3, count = r.blocks.blockSize * 5;
    assert.deepEqual(await readTensorRange(qz, quantized, t, first, count), xhat.subarray(first, first + count));
  }
  assert.deepEqual(seen, { float32: 2, q4_k: 4, q5_k: 1, q6_k: 3, q8_0: 1 });
  assert.throws(() => qz.dequantizeGgml('q4_k', new Uint8Array(100)), (e) => e.field === 'bytes' && /whole Q4_K blocks of 144/.test(e.message));
  assert.throws(() => qz.dequantizeGgml('q9', new Uint8Array(0)), (e) => e.field === 'type');
});
