// ONNX Runtime's DynamicQuantizeLinear (onnxOp: 'dynamic-quantize-linear') against the op run by
// onnxruntime-node (a one-node model built here): its scale, zero point and codes; and beside it
// onnxruntime.quantization's compute_scale_zp, whose float64 zero point differs by one on
// near-ties: a tensor where they differ is found by search and both are shown.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { onnxModel, ort, ortSkip } from './onnx-model.js';
import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

async function dynamicQuantize(x) {
  const model = onnxModel({
    opset: 11,
    nodes: [{ op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 's', 'z'] }],
    inputs: [{ name: 'x', type: 'float', dims: [x.length] }],
    outputs: [{ name: 'y', type: 'uint8', dims: [x.length] }, { name: 's', type: 'float', dims: [] }, { name: 'z', type: 'uint8', dims: [] }],
  });
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ x: new ort.Tensor('float32', x, [x.length]) });
  return { codes: Array.from(out.y.data), scale: out.s.data[0], zeroPoint: out.z.data[0] };
}

const halfEven = (v) => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
};
// compute_scale_zp in float64 (numpy), and the op's float32 steps (Math.fround after each).
function zeroPoints(lo, hi) {
  const min = Math.min(lo, 0), max = Math.max(hi, 0);
  const dr = Math.fround(max - min);
  const python = halfEven(0 - min / (dr / 255));
  const scale32 = Math.fround(dr / 255);
  const op = halfEven(Math.min(255, Math.max(0, Math.fround(0 - Math.fround(min / scale32)))));
  return { python, op };
}

describe('DynamicQuantizeLinear as ONNX Runtime runs it', { skip: ortSkip }, () => {
  test('scale, zero point and codes on random tensors, one-signed ones and an all-zero one', async () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const tensors = [];
    for (let t = 0; t < 20; t++) tensors.push(Float32Array.from({ length: 97 }, () => (next() - 0.3) * 2 ** (t % 9 - 4)));
    tensors.push(Float32Array.from({ length: 10 }, (_, i) => i + 1), Float32Array.from({ length: 10 }, (_, i) => -i - 0.5), new Float32Array(8));
    for (const [i, x] of tensors.entries()) {
      const ref = await dynamicQuantize(x);
      const r = qz.analyze(x, { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', onnxOp: 'dynamic-quantize-linear' });
      assert.equal(r.scale, ref.scale, `tensor ${i}: scale`);
      assert.equal(r.zeroPoint, ref.zeroPoint, `tensor ${i}: zero point`);
      assert.deepEqual(Array.from(r.codes), ref.codes, `tensor ${i}: codes`);
      assert.deepEqual(r.onnx.dynamicQuantizeLinear, { scale: ref.scale, zeroPoint: ref.zeroPoint });
    }
  });

  test('a near-tie: the op\'s float32 zero point and compute_scale_zp\'s float64 one differ by one, and both are shown', async () => {
    // Search for a [min, max] where −min / scale lies so near a half that float32 and float64 round apart.
    let found = null;
    for (let k = 1; k < 200000 && !found; k++) {
      const lo = -Math.fround(k * 0.00173 + 0.01), hi = Math.fround(1 + (k % 97) * 0.013);
      const z = zeroPoints(lo, hi);
      if (z.python !== z.op) found = { lo, hi, ...z };
    }
    assert.ok(found, 'a near-tie exists');
    const x = Float32Array.from([found.lo, found.hi, 0.25, -0.001, found.hi / 3]);
    const ref = await dynamicQuantize(x);
    assert.equal(ref.zeroPoint, found.op, 'ONNX Runtime\'s op takes the float32 zero point');
    const dynamic = qz.analyze(x, { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', onnxOp: 'dynamic-quantize-linear' });
    const python = qz.analyze(x, { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric' });
    assert.equal(dynamic.zeroPoint, found.op);
    assert.equal(python.zeroPoint, found.python);
    assert.equal(Math.abs(found.op - found.python), 1);
    assert.deepEqual(Array.from(dynamic.codes), ref.codes);
    for (const r of [dynamic, python]) {
      assert.deepEqual(r.onnx, { quantizeLinear: { scale: python.scale, zeroPoint: found.python }, dynamicQuantizeLinear: { scale: ref.scale, zeroPoint: found.op } });
    }
    assert.equal(dynamic.scale, python.scale, 'the scales agree: only the zero point differs');
  });
});

test('DynamicQuantizeLinear\'s limits: uint8, asymmetric, per tensor, its own parameters', () => {
  const x = [0.1, -0.4, 0.9, 0.3];
  const base = { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', onnxOp: 'dynamic-quantize-linear' };
  for (const [options, field] of [
    [{ ...base, dtype: 'int8' }, 'dtype'], [{ ...base, mode: 'symmetric' }, 'mode'], [{ ...base, granularity: 'channel', shape: [2, 2] }, 'granularity'],
    [{ ...base, reduceRange: true }, 'reduceRange'], [{ ...base, range: { min: -1, max: 1 } }, 'range.min'], [{ ...base, scale: 0.1 }, 'scale'],
    [{ ...base, zeroPoint: 3 }, 'zeroPoint'], [{ ...base, profile: 'pytorch' }, 'onnxOp'], [{ ...base, onnxOp: 'dynamic' }, 'onnxOp'],
  ]) {
    assert.throws(() => qz.analyze(x, options), (e) => e instanceof QuantizerError && e.field === field, JSON.stringify(options));
  }
  assert.equal(qz.analyze(x, { profile: 'onnx', dtype: 'int8' }).onnx, null, 'int8: no DynamicQuantizeLinear to compare with');
  assert.equal(qz.analyze(x, { bits: 8 }).onnx, null);
});
