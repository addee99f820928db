// The public JS API in node: the golden file, every option, every error path, no leaks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';

import { createQuantizer, DEFAULT_OPTIONS, MODES, QuantizerError, ROUNDING_RULES } from '../../web/src/quantizer.js';
import { checkCase, golden, samplesOf } from './golden.js';

const SEED_TEXT = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
let qz;
before(async () => {
  qz = await createQuantizer();
});

function throwsAt(fn, field, index = null, message = undefined) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof QuantizerError, `expected a QuantizerError, got ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.field, field);
    assert.equal(e.index, index);
    if (message instanceof RegExp) assert.match(e.message, message);
    else if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

describe('golden file', () => {
  for (const c of golden.cases) {
    test(c.name, () => {
      const parsed = qz.parseValues(c.valuesText);
      if (!c.float32) assert.deepEqual(Array.from(parsed), c.values, 'valuesText parses to values');
      for (const kernel of ['simd', 'scalar']) {
        checkCase(c, qz.analyze(samplesOf(c), { ...c.options, kernel }));
      }
    });
  }
});

describe('analyze', () => {
  test('the seed example, from text to metrics', () => {
    const r = qz.analyze(qz.parseValues(SEED_TEXT), { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 } });
    assert.equal(r.scale, 1.5 / 127);
    assert.equal(r.zeroPoint, 0);
    assert.deepEqual([r.qmin, r.qmax], [-127, 127]);
    assert.ok(r.codes instanceof Int32Array);
    assert.ok(r.dequantized instanceof Float64Array);
    assert.ok(r.errors instanceof Float64Array);
    assert.ok(r.clipped instanceof Uint8Array);
    assert.equal(r.metrics.count, 10);
    assert.equal(r.metrics.rmse, Math.sqrt(r.metrics.mse));
    assert.deepEqual(r.options, { ...DEFAULT_OPTIONS, range: { min: -1.5, max: 1.5 } });
  });

  test('accepts Float64Array, Float32Array and arrays of numbers', () => {
    const list = [0.1, -0.7, 0.33];
    const a = qz.analyze(list);
    const b = qz.analyze(Float64Array.from(list));
    assert.deepEqual(a.codes, b.codes);
    assert.deepEqual(a.errors, b.errors);
    const f = qz.analyze(Float32Array.from(list));
    // float32 samples are measured as the float32 values they are, not as the decimals typed.
    assert.equal(f.errors[0], Math.fround(0.1) - f.dequantized[0]);
    assert.ok(f.dequantized instanceof Float64Array, 'float64 arithmetic keeps x̂ in float64');
    const g = qz.analyze(Float32Array.from(list), { arithmetic: 'float32' });
    assert.ok(g.dequantized instanceof Float32Array, 'float32 arithmetic gives float32 x̂');
    assert.equal(g.scale, Math.fround(0.7 / 127));
  });

  test('every mode, rounding rule and arithmetic runs, and SIMD equals scalar', () => {
    const x = new Float64Array(1037).map((_, i) => Math.sin(i * 0.37) * 3 + (i % 13 === 0 ? 0.5 : 0));
    for (const mode of MODES) {
      for (const rounding of ROUNDING_RULES) {
        for (const arithmetic of ['float64', 'float32']) {
          const opts = { bits: 4, mode, rounding, arithmetic, seed: 9, range: { min: -2, max: 2.5 } };
          const s = qz.analyze(x, { ...opts, kernel: 'simd' });
          const t = qz.analyze(x, { ...opts, kernel: 'scalar' });
          assert.deepEqual(s.codes, t.codes);
          assert.deepEqual(s.dequantized, t.dequantized);
          assert.deepEqual(s.errors, t.errors);
          assert.deepEqual(s.metrics, t.metrics);
          assert.ok(s.metrics.clipCount > 0, 'the range is narrower than the data');
        }
      }
    }
  });

  test('qmin/qmax, scale and zeroPoint overrides', () => {
    const r = qz.analyze([-5, 0, 1.2, 200], { mode: 'asymmetric-unsigned', scale: 0.5, zeroPoint: 10 });
    assert.deepEqual(Array.from(r.codes), [0, 10, 12, 255]);
    assert.deepEqual(Array.from(r.clipped), [0, 0, 0, 1]);
    const q = qz.analyze([0, 0.5, 1.27, 2], { mode: 'asymmetric-unsigned', qmin: 0, qmax: 127, range: { min: 0, max: 1.27 } });
    assert.equal(q.qmax, 127);
    assert.equal(q.codes[3], 127);
    assert.equal(q.metrics.clipCount, 1);
  });

  test('stochastic rounding is seeded and reproducible', () => {
    const x = new Float64Array(500).fill(0.5);
    const a = qz.analyze(x, { rounding: 'stochastic', seed: 1, scale: 1 });
    const b = qz.analyze(x, { rounding: 'stochastic', seed: 1, scale: 1 });
    const c = qz.analyze(x, { rounding: 'stochastic', seed: 2, scale: 1 });
    assert.deepEqual(a.codes, b.codes);
    assert.notDeepEqual(a.codes, c.codes);
    const ones = a.codes.reduce((s, v) => s + v, 0);
    assert.ok(ones > 200 && ones < 300, `about half round up: ${ones}`);
  });

  test('load() keeps samples in the heap for many analyses, delete() frees them', () => {
    const x = qz.parseValues(SEED_TEXT);
    const before = qz.heapInUse();
    const samples = qz.load(x);
    assert.equal(samples.length, 10);
    assert.equal(samples.float32, false);
    for (const bits of [2, 4, 8, 16]) {
      assert.deepEqual(samples.analyze({ bits }).metrics, qz.analyze(x, { bits }).metrics);
    }
    assert.ok(Math.abs(samples.readFloor() - x.reduce((a, b) => a + b, 0)) < 1e-12, 'the floor pass reads every sample');
    samples.delete();
    samples.delete();
    assert.equal(qz.heapInUse(), before);
    throwsAt(() => samples.analyze(), 'values', null, 'These samples were deleted');
  });

  test('perSample: false gives the sums-based metrics only', () => {
    const x = qz.parseValues(SEED_TEXT);
    const full = qz.analyze(x, { mode: 'asymmetric' });
    const lean = qz.analyze(x, { mode: 'asymmetric', perSample: false });
    assert.equal(lean.codes, null);
    assert.equal(lean.errors, null);
    for (const key of ['mse', 'mae', 'maxAbsError', 'sqnrDb', 'cosine', 'clipCount', 'tieCount']) {
      assert.equal(lean.metrics[key], full.metrics[key], key);
    }
    assert.equal(lean.metrics.medianAbsError, null);
    assert.equal(lean.metrics.codesUsed, 0);
  });

  test('undefined metrics are null and lossless SQNR is Infinity', () => {
    const zero = qz.analyze([0, 0, 0]);
    assert.equal(zero.metrics.sqnrDb, null);
    assert.equal(zero.metrics.psnrDb, null);
    assert.equal(zero.metrics.cosine, null);
    assert.equal(zero.metrics.mse, 0);
    const exact = qz.analyze([-1, 0.5, 2], { scale: 0.5 });
    assert.equal(exact.metrics.sqnrDb, Infinity);
    assert.equal(exact.metrics.cosine, 1);
  });

  test('2^20 float32 samples: SIMD and scalar agree', () => {
    const n = 1 << 20;
    const x = new Float32Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      x[i] = (s / 2 ** 32 - 0.5) * (i % 1000 === 0 ? 40 : 4);
    }
    for (const arithmetic of ['float32', 'float64']) {
      const a = qz.analyze(x, { mode: 'asymmetric', arithmetic, kernel: 'simd' });
      const b = qz.analyze(x, { mode: 'asymmetric', arithmetic, kernel: 'scalar' });
      assert.deepEqual(a.metrics, b.metrics);
      assert.deepEqual(a.codes, b.codes);
    }
  });
});

describe('errors', () => {
  const x = [1, 2, 3];
  test('bad options name their field', () => {
    throwsAt(() => qz.analyze(x, { bits: 1 }), 'bits', null, 'Bit depth must be between 2 and 16 (got 1)');
    throwsAt(() => qz.analyze(x, { bits: 17 }), 'bits', null, 'Bit depth must be between 2 and 16 (got 17)');
    throwsAt(() => qz.analyze(x, { bits: 8.5 }), 'bits');
    throwsAt(() => qz.analyze(x, { bits: '8' }), 'bits');
    throwsAt(() => qz.analyze(x, { mode: 'sym' }), 'mode', null, /Unknown mode "sym"/);
    throwsAt(() => qz.analyze(x, { rounding: 'banker' }), 'rounding', null, /Unknown rounding "banker"/);
    throwsAt(() => qz.analyze(x, { arithmetic: 'float16' }), 'arithmetic');
    throwsAt(() => qz.analyze(x, { kernel: 'gpu' }), 'kernel');
    throwsAt(() => qz.analyze(x, { range: { min: 1, max: 1 } }), 'range.min', null, 'Range min must be below Range max');
    throwsAt(() => qz.analyze(x, { range: { min: 2, max: 1 } }), 'range.min');
    throwsAt(() => qz.analyze(x, { range: { min: 0, max: NaN } }), 'range.max');
    throwsAt(() => qz.analyze(x, { range: { min: -Infinity, max: 1 } }), 'range.min');
    throwsAt(() => qz.analyze(x, { range: 5 }), 'range');
    throwsAt(() => qz.analyze(x, { qmin: 10, qmax: 10 }), 'qmin');
    throwsAt(() => qz.analyze(x, { qmax: 1000 }), 'qmax');
    throwsAt(() => qz.analyze(x, { qmin: 0.5 }), 'qmin');
    throwsAt(() => qz.analyze(x, { scale: 0 }), 'scale');
    throwsAt(() => qz.analyze(x, { scale: -2 }), 'scale');
    throwsAt(() => qz.analyze(x, { scale: Infinity }), 'scale');
    throwsAt(() => qz.analyze(x, { mode: 'asymmetric', zeroPoint: 500 }), 'zeroPoint');
    throwsAt(() => qz.analyze(x, { zeroPoint: 1 }), 'zeroPoint');
    throwsAt(() => qz.analyze(x, { seed: -1 }), 'seed');
    throwsAt(() => qz.analyze(x, { bitz: 4 }), 'bitz', null, 'Unknown option "bitz"');
    throwsAt(() => qz.analyze(x, 'fast'), 'options');
  });

  test('bad samples name their position', () => {
    throwsAt(() => qz.analyze([]), 'values', null, 'No samples: enter at least one value');
    throwsAt(() => qz.analyze(new Float32Array(0)), 'values');
    throwsAt(() => qz.analyze([1, NaN, 3]), 'values', 1, 'Sample 2 is NaN');
    throwsAt(() => qz.analyze(Float32Array.of(1, 2, 3, 4, -Infinity)), 'values', 4, 'Sample 5 is infinite');
    throwsAt(() => qz.analyze([1, 'two', 3]), 'values', 1, 'Sample 2 is not a number');
    throwsAt(() => qz.analyze([1, 1e300]), 'values', 1, /too large/);
    throwsAt(() => qz.analyze('1, 2, 3'), 'values');
    throwsAt(() => qz.analyze(null), 'values');
  });

  test('bad text names the sample and its text', () => {
    throwsAt(() => qz.parseValues('1, 2, 3, 4, 5, 6, abc'), 'values', 6, 'Sample 7: "abc" is not a number');
    throwsAt(() => qz.parseValues('1.2.3'), 'values', 0, 'Sample 1: "1.2.3" is not a number');
    throwsAt(() => qz.parseValues('0 NaN'), 'values', 1, 'Sample 2: "NaN" is not a finite number');
    throwsAt(() => qz.parseValues('-inf'), 'values', 0, 'Sample 1: "-inf" is not a finite number');
    throwsAt(() => qz.parseValues('1e999'), 'values', 0, /outside the range of a double/);
    throwsAt(() => qz.parseValues(42), 'values');
    assert.deepEqual(Array.from(qz.parseValues('+1;\t2e3\n-.5,')), [1, 2000, -0.5]);
    assert.deepEqual(Array.from(qz.parseValues('')), []);
    throwsAt(() => qz.parseValues('3 über'), 'values', 1, 'Sample 2: "über" is not a number');
  });

  test('too many samples for the per-sample results: a clear error, and the module lives on', () => {
    // 2^28 float32 zeros (1 GB, lazily zeroed by the OS): per-sample results need ~7.8 GB > 4 GB.
    const huge = new Float32Array(2 ** 28);
    const samples = qz.load(huge);
    try {
      throwsAt(() => samples.analyze(), 'values', null, /^Not enough memory for the per-sample results of 268435456 samples \(about 7\.8 GB\): use perSample: false/);
      assert.equal(samples.analyze({ perSample: false }).metrics.count, 2 ** 28);
    } finally {
      samples.delete();
    }
    assert.equal(qz.analyze([1, 2]).metrics.count, 2);
  });

  test('an error leaves the quantizer usable', () => {
    throwsAt(() => qz.analyze([NaN]), 'values', 0);
    assert.equal(qz.analyze([1, 2]).metrics.count, 2);
  });
});

test('10,000 analyze calls leave the wasm heap as it was', () => {
  const x = qz.parseValues(SEED_TEXT);
  const f = Float32Array.from(x);
  qz.analyze(x);
  const before = qz.heapInUse();
  for (let i = 0; i < 10000; i++) {
    qz.analyze(i % 2 ? x : f, { mode: MODES[i % 3], rounding: ROUNDING_RULES[i % 7], arithmetic: i % 4 < 2 ? 'float64' : 'float32' });
    if (i % 1000 === 0) {
      assert.throws(() => qz.analyze(x, { bits: 99 }));
      assert.throws(() => qz.parseValues('1 x'));
      qz.parseValues(SEED_TEXT);
    }
  }
  assert.equal(qz.heapInUse(), before);
});

test('golden.json is what its generator computes', { skip: !existsSync('/usr/bin/python3') && 'no /usr/bin/python3' }, () => {
  const out = execFileSync('/usr/bin/python3', [fileURLToPath(new URL('../data/make_golden.py', import.meta.url)), '--check'], { encoding: 'utf8' });
  assert.match(out, /matches/);
});

test('chart reductions: buckets and histograms', () => {
  const x = new Float32Array(100000).map((_, i) => Math.sin(i / 1000) * 2);
  const r = qz.analyze(x, { bits: 4, mode: 'asymmetric', range: { min: -1, max: 1 }, chartBuckets: 640, histogramBins: 64 });
  const { buckets, valueHistogram, errorHistogram } = r.charts;
  assert.equal(buckets.xMin.length, 640);
  for (let b = 0; b < 640; b++) assert.ok(buckets.xMin[b] <= buckets.xMax[b] && buckets.errMin[b] <= buckets.errMax[b]);
  assert.equal(valueHistogram.counts.reduce((a, b) => a + b, 0), x.length);
  assert.equal(errorHistogram.counts.reduce((a, b) => a + b, 0), x.length);
  assert.equal(errorHistogram.hi, r.metrics.maxAbsError);
  assert.equal(qz.analyze(x).charts, null);
  assert.throws(() => qz.analyze(x, { chartBuckets: -1 }), /chartBuckets/);
});
