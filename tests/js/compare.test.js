// qz.compare, qz.sweepBits and qz.stochasticTrials: each is a set of analyses of one tensor,
// so each entry must equal the single analysis it stands for.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// Heavy-tailed: a few large values make the calibration methods disagree.
const x = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 64) / 8) * (i % 509 === 0 ? 6 : 1));

test('compare: one full result per configuration, without per-sample arrays', () => {
  const list = [
    { bits: 8 },
    { bits: 4, mode: 'asymmetric', calibration: 'mse' },
    { bits: 4, calibration: 'percentile', percentile: 99.9, rounding: 'half-away' },
    { bits: 4, granularity: 'group', groupSize: 64 },
    { bits: 6, calibration: 'entropy' },
  ];
  const results = qz.compare(x, list);
  assert.equal(results.length, list.length);
  list.forEach((options, i) => {
    const alone = qz.analyze(x, options);
    const r = results[i];
    assert.deepEqual(r.metrics, alone.metrics, `configuration ${i + 1}`);
    assert.deepEqual([r.scale, r.zeroPoint, r.calibration.rangeMin, r.calibration.rangeMax],
      [alone.scale, alone.zeroPoint, alone.calibration.rangeMin, alone.calibration.rangeMax]);
    assert.equal(r.options.bits, options.bits);
    for (const key of ['codes', 'dequantized', 'errors', 'clipped', 'charts']) assert.equal(r[key], null);
    assert.notEqual(r.metrics.medianAbsError, null, 'percentile metrics are kept');
  });
  assert.equal(results[3].groups.length, 64);
});

test('compare: a bad configuration names its position and field', () => {
  const cases = [
    [[{ bits: 8 }, { bits: 40 }], 1, 'bits', /^Configuration 2: /],
    [[{ calibration: 'kl' }], 0, 'calibration', /^Configuration 1: /],
    [[{ bits: 4 }, { bits: 4 }, { granularity: 'group', groupSize: 3 }], 2, 'groupSize', /^Configuration 3: Group size 3/],
  ];
  for (const [list, config, field, message] of cases) {
    assert.throws(() => qz.compare(x, list), (e) => e instanceof QuantizerError && e.config === config && e.field === field && message.test(e.message));
  }
  assert.throws(() => qz.compare(x, []), (e) => e instanceof QuantizerError && e.field === 'options');
  assert.throws(() => qz.compare(x, 'bits=8'), (e) => e instanceof QuantizerError && e.field === 'options');
  const before = qz.heapInUse();
  assert.throws(() => qz.compare(x, [{ bits: 8 }, { bits: 1 }]));
  assert.equal(qz.heapInUse(), before, 'nothing leaks when a configuration fails');
});

test('sweepBits: each bit depth as its own analysis; SQNR grows about 6 dB per bit', () => {
  const options = { mode: 'asymmetric', calibration: 'minmax' };
  const sweep = qz.sweepBits(x, options);
  assert.deepEqual(sweep.map((s) => s.bits), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  for (const s of [sweep[0], sweep[6], sweep[14]]) assert.deepEqual(s.metrics, qz.analyze(x, { ...options, bits: s.bits }).metrics);
  for (let i = 4; i < sweep.length; i++) {
    const gain = sweep[i].metrics.sqnrDb - sweep[i - 1].metrics.sqnrDb;
    assert.ok(gain > 5 && gain < 7, `${sweep[i].bits} bits gains ${gain} dB`);
  }
  assert.deepEqual(qz.sweepBits(x, {}, { from: 7, to: 8 }).map((s) => s.bits), [7, 8]);
  for (const range of [{ from: 1 }, { to: 17 }, { from: 9, to: 8 }, { from: 2.5 }]) {
    assert.throws(() => qz.sweepBits(x, {}, range), (e) => e instanceof QuantizerError && e.field === 'bits');
  }
});

test('stochasticTrials: seeded trials on the range round-to-nearest used, unbiased on average', () => {
  const options = { bits: 4, mode: 'asymmetric', seed: 100 };
  const st = qz.stochasticTrials(x, options, { trials: 24 });
  assert.equal(st.trials.length, 24);
  const nearest = qz.analyze(x, { ...options, perSample: false });
  assert.equal(st.nearest.mse, nearest.metrics.mse);
  assert.equal(st.nearest.meanError, nearest.metrics.meanError);
  const range = { min: nearest.calibration.rangeMin, max: nearest.calibration.rangeMax };
  for (const t of [st.trials[0], st.trials[23]]) {
    const alone = qz.analyze(x, { ...options, range, rounding: 'stochastic', seed: t.seed, perSample: false }).metrics;
    assert.equal(t.mse, alone.mse);
    assert.equal(t.meanError, alone.meanError);
  }
  assert.deepEqual(st.trials.map((t) => t.seed), Array.from({ length: 24 }, (_, i) => 100 + i));
  const n = st.trials.length;
  const mean = st.trials.reduce((a, t) => a + t.mse, 0) / n;
  assert.ok(Math.abs(st.mse.mean - mean) <= 1e-15 * mean);
  const std = Math.sqrt(st.trials.reduce((a, t) => a + (t.mse - mean) ** 2, 0) / n);
  assert.ok(Math.abs(st.mse.std - std) <= 1e-9 * std);
  // Unbiased: E[x̂] = x without clipping, so the trials' bias scatters around zero within its
  // standard error; and the variance of stochastic rounding (up to Δ²/4, Δ²/6 on average) is above
  // round-to-nearest's Δ²/12.
  assert.ok(Math.abs(st.meanError.mean) < 4 * st.meanError.std / Math.sqrt(n) + 1e-12);
  assert.ok(st.mse.mean > 1.5 * st.nearest.mse && st.mse.mean < 2.5 * st.nearest.mse, `${st.mse.mean} vs ${st.nearest.mse}`);
  assert.throws(() => qz.stochasticTrials(x, options, { trials: 0 }), (e) => e instanceof QuantizerError && e.field === 'trials');
});
