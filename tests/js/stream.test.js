// qz.stream: a tensor from chunks read twice equals one analysis of the whole tensor.
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
    for (let a = 0; a < values.length; a += chunk) st.scan(values.subarray(a, a + chunk));
    st.start();
    for (let a = 0; a < values.length; a += chunk) st.quantize(values.subarray(a, a + chunk));
    return st.finish();
  } finally {
    st.delete();
  }
}

test('chunks read twice give the whole tensor\'s parameters and metrics', () => {
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

test('what streaming refuses, a bad value named by its place, nothing leaked', () => {
  const before = qz.heapInUse();
  for (const [options, field] of [[{ calibration: 'entropy' }, 'values'], [{ format: 'nf4', granularity: 'group', groupSize: 64 }, 'granularity'],
    [{ bits: 1 }, 'bits']]) {
    assert.throws(() => qz.stream(options), (e) => e instanceof QuantizerError && e.field === field, JSON.stringify(options));
  }
  const st = qz.stream({});
  st.scan(Float64Array.from([1, 2]));
  assert.throws(() => st.scan(Float64Array.from([3, NaN])), (e) => e instanceof QuantizerError && e.index === 3 && e.message === 'Value 4 is NaN');
  st.delete();
  assert.equal(qz.heapInUse(), before);
});
