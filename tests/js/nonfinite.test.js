// nonFinite: 'skip' through the JS API: a tensor holding NaN and ±Inf is measured over its finite
// values, with their counts; per-sample arrays keep their length; per channel and group each one's
// finite values; the stream, chunk by chunk, equals the whole analysis; the first module sends it
// to the whole core; 'error' (the default) still refuses.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { createQuantizer, needsFullModule, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// 600 values with NaN, +Inf and −Inf at the start, the end, side by side, and a run of 40
// (positions 200..239, which fills groups 10 and 11 of 20).
function holed(Kind = Float64Array) {
  const x = Kind.from({ length: 600 }, (_, i) => 2.5 * Math.sin(0.41 * i + 0.3) + 0.3 * Math.cos(1.7 * i));
  for (const i of [0, 33, 599]) x[i] = NaN;
  for (const i of [34, 410]) x[i] = Infinity;
  for (const i of [35, 411, 598]) x[i] = -Infinity;
  for (let i = 200; i < 240; i++) x[i] = i % 3 ? NaN : -Infinity;
  return x;
}

const counts = (x) => ({
  nan: x.filter(Number.isNaN).length,
  posInf: x.filter((v) => v === Infinity).length,
  negInf: x.filter((v) => v === -Infinity).length,
});

const SUM_METRICS = ['mse', 'rmse', 'mae', 'meanError', 'errorStd', 'sqnrDb', 'psnrDb', 'cosine', 'mseRounding', 'mseClipping'];
const EXACT_METRICS = ['count', 'maxAbsError', 'clipCount', 'clipRate', 'tieCount', 'codesUsed', 'medianAbsError', 'p95AbsError'];

function closeTo(a, b, what, rel = 1e-12) {
  if (b === null || !Number.isFinite(b)) assert.equal(a, b, what);
  else assert.ok(Math.abs(a - b) <= rel * Math.abs(b) + 1e-300, `${what}: ${a} vs ${b}`);
}

describe("nonFinite: 'skip'", () => {
  test('per tensor: the finite values alone, at their own positions, for every calibration and mode', () => {
    for (const Kind of [Float64Array, Float32Array]) {
      const x = holed(Kind);
      const position = [];
      x.forEach((v, i) => Number.isFinite(v) && position.push(i));
      const finite = Kind.from(position, (i) => x[i]);
      for (const mode of ['symmetric', 'asymmetric']) {
        for (const calibration of ['minmax', 'percentile', 'mse', 'entropy']) {
          const o = { bits: 5, mode, calibration };
          const r = qz.analyze(x, { ...o, nonFinite: 'skip' });
          const ref = qz.analyze(finite, o);
          const what = `${Kind.name} ${mode} ${calibration}`;
          assert.deepEqual(r.nonFinite, counts(Array.from(x)), what);
          assert.deepEqual(ref.nonFinite, { nan: 0, posInf: 0, negInf: 0 });
          assert.equal(r.scale, ref.scale, what);
          assert.equal(r.zeroPoint, ref.zeroPoint, what);
          assert.deepEqual(r.calibration.rangeMin, ref.calibration.rangeMin);
          assert.equal(r.codes.length, x.length, 'the per-sample arrays keep their length');
          position.forEach((at, j) => {
            assert.equal(r.codes[at], ref.codes[j]);
            assert.equal(r.errors[at], ref.errors[j]);
          });
          x.forEach((v, i) => {
            if (Number.isFinite(v)) return;
            assert.equal(r.codes[i], 0, `${what}: code at skipped ${i}`);
            assert.ok(Number.isNaN(r.dequantized[i]) && Number.isNaN(r.errors[i]), `${what}: x̂ and error at skipped ${i}`);
            assert.equal(r.clipped[i], 0);
          });
          for (const k of EXACT_METRICS) assert.equal(r.metrics[k], ref.metrics[k], `${what}: ${k}`);
          for (const k of SUM_METRICS) closeTo(r.metrics[k], ref.metrics[k], `${what}: ${k}`);
          assert.equal(r.metrics.maxAbsErrorIndex, position[ref.metrics.maxAbsErrorIndex], `${what}: the largest error's own index`);
        }
      }
    }
  });

  test('per channel and per group: each one\'s finite values; one with none has count 0 and null metrics', () => {
    const x = holed();
    for (const o of [{ granularity: 'group', groupSize: 20 }, { granularity: 'channel', shape: [30, 20], axis: 1 }, { granularity: 'channel', shape: [30, 20] }]) {
      const r = qz.analyze(x, { ...o, mode: 'asymmetric', nonFinite: 'skip' });
      const n = r.groups.length;
      const run = o.granularity === 'group' ? 20 : o.axis === 1 ? 1 : 20;
      const members = Array.from({ length: n }, () => []);
      x.forEach((v, i) => Number.isFinite(v) && members[Math.floor(i / run) % n].push(v));
      assert.equal(r.groupColumns.count, x.length / n);
      r.groups.forEach((g, k) => {
        assert.equal(r.groupColumns.finiteCount[k], members[k].length);
        assert.equal(g.metrics.count, members[k].length);
        if (!members[k].length) {
          assert.equal(g.scale, 1);
          assert.deepEqual([g.metrics.mse, g.metrics.sqnrDb, g.metrics.clipRate, g.metrics.maxAbsError], [null, null, null, null]);
          return;
        }
        const alone = qz.analyze(members[k], { mode: 'asymmetric', perSample: false });
        assert.equal(g.scale, alone.scale);
        assert.equal(g.zeroPoint, alone.zeroPoint);
        assert.equal(g.metrics.maxAbsError, alone.metrics.maxAbsError);
        closeTo(g.metrics.mse, alone.metrics.mse, `group ${k} MSE`);
      });
      if (o.granularity === 'group') assert.equal(r.groups.filter((g) => g.metrics.count === 0).length, 2);
      assert.equal(r.metrics.count, x.length - Object.values(r.nonFinite).reduce((a, b) => a + b));
    }
  });

  test('formats and profiles skip them too', () => {
    const x = holed(Float32Array);
    const zeroed = x.map((v) => (Number.isFinite(v) ? v : 0));
    for (const o of [{ format: 'fp8-e4m3', formatScale: 'amax' }, { format: 'mxfp4' }, { format: 'nvfp4' }, { format: 'nf4' },
      { profile: 'pytorch', dtype: 'uint8', mode: 'asymmetric' }, { profile: 'onnx' }]) {
      const r = qz.analyze(x, { ...o, nonFinite: 'skip' });
      const ref = qz.analyze(zeroed, o); // a zero is coded exactly and changes no amax or observer range
      assert.deepEqual(r.nonFinite, counts(Array.from(x)));
      assert.equal(r.scale, ref.scale, JSON.stringify(o));
      x.forEach((v, i) => {
        if (Number.isFinite(v)) assert.equal(r.codes[i], ref.codes[i]);
        else assert.ok(Number.isNaN(r.errors[i]));
      });
      closeTo(r.metrics.mse * r.metrics.count, ref.metrics.mse * ref.metrics.count, `${JSON.stringify(o)}: Σe²`, 1e-14);
      assert.equal(r.metrics.maxAbsError, ref.metrics.maxAbsError);
    }
  });

  test('charts leave them out: a bucket of skipped samples alone is NaN', () => {
    const x = holed();
    const r = qz.analyze(x, { nonFinite: 'skip', chartBuckets: 60, histogramBins: 16 });
    const finite = x.filter(Number.isFinite);
    assert.equal(r.charts.valueHistogram.counts.reduce((a, b) => a + b), finite.length);
    assert.equal(r.charts.errorHistogram.counts.reduce((a, b) => a + b), finite.length);
    assert.ok(Number.isFinite(r.charts.valueHistogram.lo) && Number.isFinite(r.charts.valueHistogram.hi));
    const b = r.charts.buckets;
    // Bucket k holds samples 10k .. 10k + 9: 200..239 are all skipped.
    for (let k = 0; k < 60; k++) {
      const members = Array.from(x.subarray(10 * k, 10 * k + 10)).filter(Number.isFinite);
      if (!members.length) assert.ok(Number.isNaN(b.xMin[k]) && Number.isNaN(b.errMax[k]), `bucket ${k}`);
      else assert.deepEqual([b.xMin[k], b.xMax[k]], [Math.min(...members), Math.max(...members)], `bucket ${k}`);
    }
  });

  test('compare, sweeps and stochastic trials take it', () => {
    const x = holed();
    const [a, b] = qz.compare(x, [{ bits: 4, nonFinite: 'skip' }, { bits: 8, nonFinite: 'skip', calibration: 'mse' }]);
    assert.equal(a.metrics.count, b.metrics.count);
    assert.deepEqual(a.nonFinite, counts(Array.from(x)));
    assert.equal(qz.sweepBits(x, { nonFinite: 'skip' }, { from: 2, to: 4 }).length, 3);
    assert.ok(Number.isFinite(qz.stochasticTrials(x, { bits: 3, nonFinite: 'skip' }, { trials: 4 }).mse.mean));
  });

  test('the stream, chunk by chunk, equals the whole analysis', () => {
    for (const Kind of [Float64Array, Float32Array]) {
      const x = holed(Kind);
      for (const o of [{ calibration: 'percentile', mode: 'asymmetric' }, { calibration: 'mse' }, { calibration: 'entropy' }, { granularity: 'group', groupSize: 20 },
        { rounding: 'stochastic', seed: 3 }, { format: 'mxfp4' }, { profile: 'pytorch' }]) {
        const whole = qz.analyze(x, { ...o, nonFinite: 'skip', perSample: false });
        for (const chunk of [1, 40, 64, 599]) {
          if (o.format && chunk % 32) continue; // block formats: chunks of whole blocks
          const st = qz.stream({ ...o, nonFinite: 'skip' });
          try {
            while (!st.done) {
              for (let at = 0; at < x.length; at += chunk) st.add(x.subarray(at, at + chunk));
              st.next();
            }
            const r = st.finish();
            const what = `${Kind.name} ${JSON.stringify(o)} by ${chunk}`;
            assert.deepEqual(r.nonFinite, whole.nonFinite, what);
            for (const k of ['scale', 'zeroPoint', 'rangeMin', 'rangeMax']) closeTo(r[k], whole[k], `${what}: ${k}`, 1e-15);
            for (const k of ['count', 'clipCount', 'tieCount', 'maxAbsError', 'maxAbsErrorIndex']) assert.equal(r.metrics[k], whole.metrics[k], `${what}: ${k}`);
            closeTo(r.metrics.mse, whole.metrics.mse, `${what}: mse`, 1e-12);
            if (whole.groups) assert.deepEqual(r.groupColumns.finiteCount, whole.groupColumns.finiteCount);
          } finally {
            st.delete();
          }
        }
      }
    }
  });

  test('what is still refused, and the default', () => {
    const throwsAt = (fn, field, index, message) => assert.throws(fn, (e) => {
      assert.ok(e instanceof QuantizerError, String(e));
      assert.equal(e.field, field);
      assert.equal(e.index, index);
      if (message) assert.match(e.message, message);
      return true;
    });
    const x = holed();
    throwsAt(() => qz.analyze(x), 'values', 0, /^Sample 1 is NaN$/);
    throwsAt(() => qz.analyze([NaN, Infinity, -Infinity], { nonFinite: 'skip' }), 'values', null,
      /^Every sample is NaN or infinite \(1 NaN, 1 \+Inf, 1 -Inf\): nothing finite to measure$/);
    throwsAt(() => qz.analyze([1, NaN, 1e200], { nonFinite: 'skip' }), 'values', 2, /too large/);
    throwsAt(() => qz.analyze([1, 2], { nonFinite: 'ignore' }), 'nonFinite', null, /^Unknown nonFinite "ignore" \(use error or skip\)$/);
    const st = qz.stream({});
    try {
      throwsAt(() => st.add(Float64Array.from([1, NaN])), 'values', 1, /^Value 2 is NaN$/);
    } finally {
      st.delete();
    }
  });

  test('the first module leaves skipping to the whole core', async () => {
    const core = await createQuantizer({ module: 'core' });
    assert.equal(needsFullModule({ nonFinite: 'skip' }), true);
    assert.equal(needsFullModule({ nonFinite: 'error' }), false);
    assert.throws(() => core.analyze(holed(), { nonFinite: 'skip' }), (e) => e instanceof QuantizerError && e.field === 'nonFinite' && /whole core/.test(e.message));
    const r = core.analyze([1, 2, 3, 4], { granularity: 'group', groupSize: 2 });
    assert.deepEqual(r.nonFinite, { nan: 0, posInf: 0, negInf: 0 });
    assert.deepEqual(Array.from(r.groupColumns.finiteCount), [2, 2]);
    assert.deepEqual(r.groups[1].metrics, qz.analyze([1, 2, 3, 4], { granularity: 'group', groupSize: 2 }).groups[1].metrics);
  });

  test('nothing is left behind in the heap', () => {
    const x = holed();
    qz.analyze(x, { nonFinite: 'skip' });
    const before = qz.heapInUse();
    for (let i = 0; i < 3; i++) {
      qz.analyze(x, { nonFinite: 'skip', granularity: 'group', groupSize: 20 });
      qz.analyze(x, { nonFinite: 'skip', format: 'nf4' });
    }
    assert.equal(qz.heapInUse(), before);
  });
});
