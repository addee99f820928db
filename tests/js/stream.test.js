// qz.stream: a tensor from chunks read in passes equals one analysis of the whole tensor.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

const x = Float32Array.from({ length: 123457 }, (_, i) => Math.sin(i * 0.37) * 3 + (i % 1000 === 0 ? 20 : 0));

function streamed(values, options, chunk) {
  const st = qz.stream(options);
  try {
    const passes = [];
    while (!st.done) {
      passes.push(st.pass);
      for (let a = 0; a < values.length; a += chunk) st.add(values.subarray(a, a + chunk));
      st.next();
    }
    assert.equal(st.passes, passes.length);
    return { ...st.finish(), passes };
  } finally {
    st.delete();
  }
}

test('chunks read in two passes give the whole tensor\'s parameters and metrics', () => {
  for (const options of [{ bits: 6, mode: 'asymmetric' }, { bits: 4, rounding: 'stochastic', seed: 3 }, { range: { min: -2, max: 2 } },
    { bits: 8, arithmetic: 'float32' }]) {
    const whole = qz.analyze(x, { ...options, perSample: false });
    for (const chunk of [1000, 65536, x.length]) {
      const r = streamed(x, options, chunk);
      const what = `${JSON.stringify(options)} in chunks of ${chunk}`;
      assert.equal(r.scale, whole.scale, what);
      assert.equal(r.zeroPoint, whole.zeroPoint, what);
      assert.equal(r.metrics.clipCount, whole.metrics.clipCount, what);
      assert.equal(r.metrics.maxAbsError, whole.metrics.maxAbsError, what);
      assert.equal(r.metrics.maxAbsErrorIndex, whole.metrics.maxAbsErrorIndex, what);
      const tol = options.arithmetic === 'float32' ? 1e-6 : 1e-12;
      assert.ok(Math.abs(r.metrics.mse - whole.metrics.mse) <= tol * whole.metrics.mse, what);
      assert.equal(r.calibration.method, whole.calibration.method);
    }
  }
});

test('float and block formats stream too', () => {
  for (const options of [{ format: 'fp8-e4m3', formatScale: 'amax' }, { format: 'mxfp4' }, { format: 'nf4' }]) {
    const whole = qz.analyze(x, { ...options, perSample: false });
    const r = streamed(x, options, 65536);
    assert.equal(r.scale, whole.format.tensorScale);
    assert.ok(Math.abs(r.metrics.mse - whole.metrics.mse) <= 1e-12 * whole.metrics.mse, options.format);
    assert.equal(r.metrics.maxAbsErrorIndex, whole.metrics.maxAbsErrorIndex);
  }
});

test('calibrations take passes of their own and choose the whole tensor\'s range', () => {
  for (const [options, passes] of [[{ bits: 4, calibration: 'percentile', percentile: 99.9 }, ['range', 'calibration', 'calibration', 'quantization']],
    [{ bits: 4, mode: 'asymmetric', calibration: 'mse' }, ['range', 'calibration', 'calibration', 'calibration', 'quantization']],
    [{ bits: 6, calibration: 'entropy' }, ['range', 'calibration', 'quantization']]]) {
    const whole = qz.analyze(x, { ...options, perSample: false });
    const r = streamed(x, options, 10007);
    const what = JSON.stringify(options);
    assert.deepEqual(r.passes, passes, what);
    assert.deepEqual(r.calibration, whole.calibration, what);
    assert.equal(r.scale, whole.scale, what);
    assert.equal(r.zeroPoint, whole.zeroPoint, what);
    assert.equal(r.metrics.clipCount, whole.metrics.clipCount, what);
    assert.ok(Math.abs(r.metrics.mse - whole.metrics.mse) <= 1e-12 * whole.metrics.mse, what);
  }
});

test('per-channel and per-group ranges stream, channel by channel', () => {
  const shape = [3, 41152];
  for (const options of [{ granularity: 'channel', shape, axis: 0 }, { granularity: 'channel', shape, axis: 1, bits: 4 },
    { granularity: 'group', groupSize: 128, shape: [964, 128] }, { granularity: 'channel', shape, profile: 'pytorch', mode: 'asymmetric', dtype: 'uint8' }]) {
    const values = x.subarray(0, options.shape[0] * options.shape[1]);
    const whole = qz.analyze(values, { ...options, perSample: false });
    const r = streamed(values, options, 65536);
    const what = JSON.stringify(options);
    assert.equal(r.scale, null, what);
    assert.deepEqual(r.groupColumns.scale, whole.groupColumns.scale, what);
    assert.deepEqual(r.groupColumns.zeroPoint, whole.groupColumns.zeroPoint, what);
    assert.deepEqual(r.groupColumns.clipCount, whole.groupColumns.clipCount, what);
    assert.equal(r.groups.length, whole.groups.length, what);
    assert.equal(r.metrics.maxAbsErrorIndex, whole.metrics.maxAbsErrorIndex, what);
    assert.ok(Math.abs(r.metrics.mse - whole.metrics.mse) <= 1e-12 * whole.metrics.mse, what);
  }
});

test('what streaming refuses, a bad value named by its place, nothing leaked', () => {
  const before = qz.heapInUse();
  for (const [options, field] of [[{ granularity: 'channel' }, 'shape'], [{ format: 'nf4', granularity: 'group', groupSize: 64 }, 'granularity'],
    [{ bits: 1 }, 'bits'], [{ granularity: 'group', groupSize: 64, calibration: 'mse' }, 'calibration']]) {
    assert.throws(() => qz.stream(options), (e) => e instanceof QuantizerError && e.field === field, JSON.stringify(options));
  }
  const st = qz.stream({});
  st.add(Float64Array.from([1, 2]));
  assert.throws(() => st.finish(), /in its range pass/);
  assert.throws(() => st.add(Float64Array.from([3, NaN])), (e) => e instanceof QuantizerError && e.index === 3 && e.message === 'Value 4 is NaN');
  st.delete();
  const bad = qz.stream({ granularity: 'channel', shape: [2, 2] });
  bad.add(Float64Array.from([1, 2, 3]));
  assert.throws(() => bad.next(), (e) => e.field === 'shape' && /holds 4 values, but there are 3/.test(e.message));
  bad.delete();
  assert.equal(qz.heapInUse(), before);
});
