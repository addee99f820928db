// Float and block formats through the JS API: codes are bit patterns whose table values give x̂,
// block scales follow each format's rule, overflow follows the named policy, bad combinations
// name their field. The encodings themselves are checked against numpy, torch and the OCP tables
// in the C++ suite (tests/core/formats_test.cpp).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { hasTorch } from './golden.js';
import { createQuantizer, FORMATS, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// Heavy-tailed, with values near 0 (subnormals) and a few large ones.
const x = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 64) / 8) * (i % 97 === 0 ? 40 : 1) * (i % 13 === 0 ? 1e-3 : 1));
const f32 = (v) => Math.fround(v);

test('element formats: x̂ is the value of the code times the tensor scale', () => {
  for (const format of ['fp16', 'bf16', 'fp8-e4m3', 'fp8-e5m2', 'fp6-e3m2', 'fp6-e2m3', 'fp4-e2m1']) {
    for (const formatScale of ['none', 'amax']) {
      const r = qz.analyze(x, { format, formatScale });
      const { values, max } = qz.describeFormat({ format });
      const s = formatScale === 'amax' ? Math.max(...x.map(Math.abs)) / max : 1;
      assert.equal(r.format.tensorScale, s, `${format} ${formatScale}`);
      for (let i = 0; i < x.length; i += 7) assert.equal(r.dequantized[i], values[r.codes[i]] * s, `${format} ${formatScale} sample ${i}`);
      assert.equal(r.format.name, format);
      assert.equal(r.blocks, null);
      // Past the top: nearer to the next step up (max + one top ulp) than to max.
      const finite = Array.from(values).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
      const ulp = max - finite.at(-2);
      const over = Array.from(x).filter((v) => Math.abs(v / s) > max + ulp / 2).length;
      assert.equal(r.format.overflowCount, over, `${format} ${formatScale}`);
      assert.equal(r.metrics.clipCount, r.format.overflowCount);
      assert.equal(r.metrics.step, null);
    }
  }
});

test('overflow: saturate, or Inf/NaN where the format has them', () => {
  const big = [1e6, -1e6, 1];
  const sat = qz.analyze(big, { format: 'fp8-e4m3' });
  assert.deepEqual(Array.from(sat.dequantized), [448, -448, 1]);
  assert.equal(sat.format.overflowCount, 2);
  const nan = qz.analyze(big, { format: 'fp8-e4m3', overflow: 'inf-nan' });
  assert.deepEqual(Array.from(nan.codes), [0x7f, 0xff, 0x38]);
  assert.ok(Number.isNaN(nan.dequantized[0]));
  const inf = qz.analyze(big, { format: 'fp16', overflow: 'inf-nan' });
  assert.deepEqual(Array.from(inf.dequantized), [Infinity, -Infinity, 1]);
  assert.equal(inf.metrics.mse, Infinity);
  assert.deepEqual(Array.from(qz.analyze(big, { format: 'fp4-e2m1', overflow: 'inf-nan' }).dequantized), [6, -6, 1], 'FP4 has no Inf: it saturates');
  const tiny = qz.analyze([1e-9, 2 ** -9, 2 ** -10 * 3], { format: 'fp8-e4m3' });
  assert.equal(tiny.format.underflowCount, 1);
  assert.equal(tiny.format.subnormalCount, 2);
});

test('OCP MX: a power-of-two scale per block of 32, 2^(floor(log2 amax) − emax)', () => {
  for (const [format, emax] of [['mxfp8-e4m3', 8], ['mxfp8-e5m2', 15], ['mxfp6-e3m2', 4], ['mxfp6-e2m3', 2], ['mxfp4', 2], ['mxint8', 0]]) {
    const r = qz.analyze(x, { format });
    assert.equal(r.blocks.scale.length, x.length / 32);
    for (let b = 0; b < r.blocks.scale.length; b += 9) {
      const amax = Math.max(...x.subarray(b * 32, b * 32 + 32).map(Math.abs));
      assert.equal(r.blocks.scale[b], 2 ** (Math.floor(Math.log2(amax)) - emax), `${format} block ${b}`);
      assert.equal(r.blocks.code[b], Math.floor(Math.log2(amax)) - emax + 127);
    }
  }
  const r = qz.analyze(x, { format: 'mxint8' });
  for (let i = 0; i < 64; i++) {
    const q = (r.codes[i] << 24) >> 24; // the int8 bit pattern
    assert.ok(q >= -127 && q <= 127);
    assert.ok(r.dequantized[i] === q * 2 ** -6 * r.blocks.scale[i >> 5], `sample ${i}`);
  }
});

test('NVFP4: an E4M3 scale per block of 16 under a float32 tensor scale', () => {
  const r = qz.analyze(x, { format: 'nvfp4', arithmetic: 'float32' });
  const amax = Math.max(...x.map(Math.abs));
  const s2 = f32(amax / (448 * 6));
  assert.equal(r.format.tensorScale, s2);
  const e4m3 = qz.describeFormat({ format: 'fp8-e4m3' }).values;
  const fp4 = qz.describeFormat({ format: 'fp4-e2m1' }).values;
  for (let b = 0; b < x.length / 16; b += 11) {
    assert.equal(r.blocks.scale[b], f32(e4m3[r.blocks.code[b]] * s2));
    for (let i = b * 16; i < b * 16 + 16; i++) assert.equal(r.dequantized[i], f32(fp4[r.codes[i]] * r.blocks.scale[b]));
  }
});

test('NF4: the nearest of the 16 levels times each block of 64\'s float32 absmax', () => {
  const r = qz.analyze(x, { format: 'nf4', arithmetic: 'float32' });
  const levels = qz.describeFormat({ format: 'nf4' }).values;
  assert.equal(levels.length, 16);
  for (let b = 0; b < x.length / 64; b += 5) {
    const amax = f32(Math.max(...x.subarray(b * 64, b * 64 + 64).map(Math.abs)));
    assert.equal(r.blocks.scale[b], amax);
    for (let i = b * 64; i < b * 64 + 64; i++) {
      const v = x[i] / amax;
      const best = levels.reduce((k, l, j) => (Math.abs(l - v) < Math.abs(levels[k] - v) ? j : k), 0);
      assert.ok(Math.abs(levels[r.codes[i]] - v) <= Math.abs(levels[best] - v) + 1e-7, `sample ${i}`);
      assert.equal(r.dequantized[i], f32(levels[r.codes[i]] * amax));
    }
  }
});

test('custom minifloats: E4M3 by its fields is fp8-e4m3', () => {
  const custom = qz.analyze(x, { format: 'custom', customFormat: { exponentBits: 4, mantissaBits: 3, bias: 7, specials: 'finite-nan' } });
  const named = qz.analyze(x, { format: 'fp8-e4m3' });
  assert.deepEqual(custom.codes, named.codes);
  assert.equal(custom.metrics.mse, named.metrics.mse);
  const e3m4 = qz.describeFormat({ format: 'custom', customFormat: { exponentBits: 3, mantissaBits: 4, bias: 3, specials: 'none' } });
  assert.equal(e3m4.max, 31);
  assert.equal(e3m4.values.length, 256);
});

test('every named format runs, SIMD and scalar agree, and bad combinations name their field', () => {
  for (const format of FORMATS.filter((f) => f !== 'custom')) {
    const a = qz.analyze(x, { format, kernel: 'simd' });
    const b = qz.analyze(x, { format, kernel: 'scalar' });
    assert.deepEqual(a.codes, b.codes, format);
    assert.equal(a.metrics.mse, b.metrics.mse, format);
  }
  const cases = [
    [{ format: 'fp9' }, 'format'],
    [{ format: 'fp8-e4m3', overflow: 'wrap' }, 'overflow'],
    [{ format: 'nf4', granularity: 'group', groupSize: 64 }, 'granularity'],
    [{ format: 'fp8-e4m3', range: { min: -1, max: 1 } }, 'range.min'],
    [{ format: 'fp8-e4m3', calibration: 'mse' }, 'calibration'],
    [{ format: 'fp8-e4m3', rounding: 'floor' }, 'rounding'],
    [{ format: 'mxfp4', scale: 0.5 }, 'scale'],
    [{ format: 'custom' }, 'customFormat'],
    [{ format: 'custom', customFormat: { exponentBits: 9, mantissaBits: 3, bias: 7, specials: 'none' } }, 'customFormat'],
    [{ format: 'fp8-e4m3', formatScale: 'max' }, 'formatScale'],
  ];
  for (const [options, field] of cases) {
    assert.throws(() => qz.analyze(x, options), (e) => e instanceof QuantizerError && e.field === field, JSON.stringify(options));
  }
  assert.throws(() => qz.sweepBits(x, { format: 'nf4' }), (e) => e instanceof QuantizerError && e.field === 'format');
});

test('the formats reference file is what its generator computes', { skip: !hasTorch() && 'no python3-torch here' }, () => {
  const script = fileURLToPath(new URL('../data/make_format_golden.py', import.meta.url));
  assert.match(execFileSync('/usr/bin/python3', [script, '--check'], { encoding: 'utf8' }), /is what/);
});

