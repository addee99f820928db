// A deployed model's own parameters per channel or group: `scale` and `zeroPoint` as lists. Under
// the `onnx` profile, bit for bit against ONNX Runtime's per-axis and blocked (opset 21
// block_size) QuantizeLinear → DequantizeLinear, models built here (onnx-model.js) and run by
// onnxruntime-node, for int8, uint8, int16 and uint16; under the formula, each channel's codes
// equal the per-tensor analysis of that channel alone with its scale and zero point; then bad lists.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { intAttribute, onnxModel, ort, ortSkip } from './onnx-model.js';
import { createQuantizer, needsFullModule, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// A seeded generator (xorshift32): the same tensors on every run.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const RANGES = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535] };
const ARRAYS = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array };

// x of `shape` with per-parameter scales and zero points (`count` of them), plus exact ties
// (x = s·(k + ½) in float32 where that is exact), values that clip, and zeros.
function tensorCase(seed, shape, count, dtype, paramOf) {
  const r = rng(seed);
  const [lo, hi] = RANGES[dtype];
  const span = hi - lo;
  const scale = Float32Array.from({ length: count }, () => 2 ** (Math.floor(r() * 12) - 8) * (1 + Math.floor(r() * 64) / 64));
  const zeroPoint = Array.from({ length: count }, () => lo + Math.floor(span * (0.25 + r() * 0.5)));
  const n = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = paramOf(i);
    const k = Math.floor((r() - 0.5) * span * 1.1); // some beyond the range: they clip
    const kind = i % 7;
    x[i] = kind === 0 ? 0 : kind === 1 ? scale[p] * (k + 0.5) : scale[p] * (k + r());
  }
  return { x, scale, zeroPoint };
}

// QuantizeLinear then DequantizeLinear with the given parameters, as ONNX Runtime runs them.
async function runOrt({ x, shape, scale, zeroPoint, scaleDims, dtype, axis, blockSize }) {
  const attributes = [intAttribute('axis', axis), ...(blockSize ? [intAttribute('block_size', blockSize)] : [])];
  const opset = blockSize || dtype.endsWith('16') ? 21 : 13;
  const model = onnxModel({
    opset,
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'], attributes },
      { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'], attributes },
    ],
    inputs: [{ name: 'x', type: 'float', dims: shape }],
    outputs: [{ name: 'q', type: dtype, dims: shape }, { name: 'y', type: 'float', dims: shape }],
    initializers: [{ name: 's', type: 'float', dims: scaleDims, values: scale }, { name: 'z', type: dtype, dims: scaleDims, values: zeroPoint }],
  });
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ x: new ort.Tensor('float32', x, shape) });
  return { q: Array.from(out.q.data, Number), y: out.y.data };
}

const bits = (f) => Array.from(new Uint32Array(Float32Array.from(f).buffer));

describe('the onnx profile with given lists, bit for bit against ONNX Runtime', { skip: ortSkip }, () => {
  const perAxis = [
    { dtype: 'int8', shape: [4, 6], axis: 0 },
    { dtype: 'uint8', shape: [3, 5, 2], axis: 1 },
    { dtype: 'int8', shape: [2, 3, 7], axis: 2 },
    { dtype: 'int16', shape: [5, 9], axis: 0 },
    { dtype: 'uint16', shape: [6, 4], axis: 1 },
  ];
  for (const [i, c] of perAxis.entries()) {
    test(`per axis: ${c.dtype}, shape ${c.shape.join('×')}, axis ${c.axis}`, async () => {
      const channels = c.shape[c.axis];
      const inner = c.shape.slice(c.axis + 1).reduce((a, b) => a * b, 1);
      const { x, scale, zeroPoint } = tensorCase(11 + i, c.shape, channels, c.dtype, (j) => Math.floor(j / inner) % channels);
      const ref = await runOrt({ ...c, x, scale, zeroPoint, scaleDims: [channels] });
      const r = qz.analyze(x, { profile: 'onnx', dtype: c.dtype, mode: 'asymmetric', granularity: 'channel', shape: c.shape, axis: c.axis, scale, zeroPoint });
      assert.deepEqual(Array.from(r.codes), ref.q, 'codes');
      assert.deepEqual(bits(r.dequantized), bits(ref.y), 'x̂, float32 bits');
      assert.deepEqual(Array.from(r.groupColumns.scale), Array.from(scale));
      assert.deepEqual(Array.from(r.groupColumns.zeroPoint), zeroPoint);
      assert.ok(r.metrics.clipCount > 0, 'the case clips somewhere');
      assert.ok(r.metrics.tieCount > 0, 'and holds exact ties');
      // The comparison sees the parameters: one zero point off by one changes that channel's codes.
      const shifted = zeroPoint.slice();
      shifted[0] += 1;
      const other = qz.analyze(x, { profile: 'onnx', dtype: c.dtype, mode: 'asymmetric', granularity: 'channel', shape: c.shape, axis: c.axis, scale, zeroPoint: shifted });
      assert.notDeepEqual(Array.from(other.codes), ref.q);
    });
  }
  const blocked = [
    { dtype: 'int8', shape: [3, 8], blockSize: 4 },
    { dtype: 'uint8', shape: [2, 3, 8], blockSize: 2 },
    { dtype: 'int16', shape: [4, 16], blockSize: 8 },
    { dtype: 'uint16', shape: [3, 12], blockSize: 3 },
  ];
  for (const [i, c] of blocked.entries()) {
    test(`blocked (opset 21 block_size ${c.blockSize} on the last axis): ${c.dtype}, shape ${c.shape.join('×')}`, async () => {
      const axis = c.shape.length - 1;
      const scaleDims = c.shape.map((d, k) => (k === axis ? d / c.blockSize : d));
      const count = scaleDims.reduce((a, b) => a * b, 1);
      const { x, scale, zeroPoint } = tensorCase(31 + i, c.shape, count, c.dtype, (j) => Math.floor(j / c.blockSize));
      const ref = await runOrt({ ...c, axis, x, scale, zeroPoint, scaleDims });
      const r = qz.analyze(x, { profile: 'onnx', dtype: c.dtype, mode: 'asymmetric', granularity: 'group', groupSize: c.blockSize, shape: c.shape, scale, zeroPoint });
      assert.deepEqual(Array.from(r.codes), ref.q, 'codes');
      assert.deepEqual(bits(r.dequantized), bits(ref.y), 'x̂, float32 bits');
      assert.equal(r.groups.length, count);
    });
  }
  test('int16 and uint16 per tensor, with one given scale and zero point', async () => {
    for (const dtype of ['int16', 'uint16']) {
      const { x, scale, zeroPoint } = tensorCase(57, [64], 1, dtype, () => 0);
      const model = onnxModel({
        opset: 21,
        nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q'] }, { op: 'DequantizeLinear', inputs: ['q', 's', 'z'], outputs: ['y'] }],
        inputs: [{ name: 'x', type: 'float', dims: [64] }],
        outputs: [{ name: 'q', type: dtype, dims: [64] }, { name: 'y', type: 'float', dims: [64] }],
        initializers: [{ name: 's', type: 'float', dims: [], values: scale }, { name: 'z', type: dtype, dims: [], values: zeroPoint }],
      });
      const session = await ort.InferenceSession.create(model);
      const out = await session.run({ x: new ort.Tensor('float32', x, [64]) });
      const r = qz.analyze(x, { profile: 'onnx', dtype, mode: 'asymmetric', scale: scale[0], zeroPoint: zeroPoint[0] });
      assert.deepEqual(Array.from(r.codes), Array.from(out.q.data, Number), dtype);
      assert.deepEqual(bits(r.dequantized), bits(out.y.data), dtype);
    }
  });
});

test('int16 and uint16 code ranges and their calibration (onnxruntime.quantization\'s get_qmin_qmax_for_qType)', () => {
  const x = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3 + 0.5);
  const int16 = qz.analyze(x, { profile: 'onnx', dtype: 'int16', mode: 'symmetric' });
  assert.deepEqual([int16.qmin, int16.qmax, int16.zeroPoint], [-32768, 32767, 0]);
  const amax = Math.max(...x.map(Math.abs));
  assert.equal(int16.scale, Math.fround(Math.fround(2 * amax) / 65534)); // [−32767, 32767]
  const uint16 = qz.analyze(x, { profile: 'onnx', dtype: 'uint16', mode: 'asymmetric' });
  assert.deepEqual([uint16.qmin, uint16.qmax], [0, 65535]);
  const lo = Math.min(...x), hi = Math.max(...x);
  assert.equal(uint16.scale, Math.fround(Math.fround(hi - lo) / 65535));
  const reduced = qz.analyze(x, { profile: 'onnx', dtype: 'int16', mode: 'symmetric', reduceRange: true });
  assert.equal(reduced.scale, Math.fround(Math.fround(2 * amax) / 32768)); // [−16384, 16384]
  assert.throws(() => qz.analyze(x, { profile: 'pytorch', dtype: 'int16' }), (e) => e.field === 'dtype');
});

test('formula: each channel\'s codes are the per-tensor codes of that channel alone, with its scale and zero point', () => {
  const shape = [5, 12];
  const r = rng(5);
  const x = Float64Array.from({ length: 60 }, () => (r() - 0.5) * 8);
  const scale = [0.01, 0.02, 0.05, 0.03, 0.004];
  const zeroPoint = [0, -3, 7, 100, -128];
  for (const arithmetic of ['float64', 'float32']) {
    const all = qz.analyze(x, { bits: 8, mode: 'asymmetric', granularity: 'channel', shape, axis: 0, scale, zeroPoint, arithmetic });
    for (let c = 0; c < 5; c++) {
      const one = qz.analyze(x.subarray(c * 12, c * 12 + 12), { bits: 8, mode: 'asymmetric', scale: scale[c], zeroPoint: zeroPoint[c], arithmetic });
      assert.deepEqual(Array.from(all.codes.subarray(c * 12, c * 12 + 12)), Array.from(one.codes), `channel ${c} (${arithmetic})`);
      assert.deepEqual(Array.from(all.dequantized.subarray(c * 12, c * 12 + 12)), Array.from(one.dequantized));
      assert.equal(all.groups[c].scale, arithmetic === 'float32' ? Math.fround(scale[c]) : scale[c]);
      assert.equal(all.groups[c].zeroPoint, zeroPoint[c]);
      assert.equal(all.groups[c].metrics.clipCount, one.metrics.clipCount);
    }
  }
  // Per group, scales only (the zero points follow from each group's range with its own scale), interleaved channels on axis 1.
  const groups = qz.analyze(x, { bits: 4, mode: 'asymmetric', granularity: 'group', groupSize: 4, shape, scale: Array.from({ length: 15 }, (_, g) => 0.1 + g / 100) });
  for (let g = 0; g < 15; g++) {
    const one = qz.analyze(x.subarray(g * 4, g * 4 + 4), { bits: 4, mode: 'asymmetric', scale: 0.1 + g / 100 });
    assert.deepEqual(Array.from(groups.codes.subarray(g * 4, g * 4 + 4)), Array.from(one.codes), `group ${g}`);
    assert.equal(groups.groups[g].zeroPoint, one.zeroPoint);
  }
  const axis1 = qz.analyze(x, { bits: 8, mode: 'symmetric', granularity: 'channel', shape, axis: 1, scale: Array.from({ length: 12 }, (_, c) => 0.01 * (c + 1)) });
  for (let i = 0; i < 60; i++) {
    const s = 0.01 * ((i % 12) + 1);
    assert.equal(axis1.codes[i], Math.max(-127, Math.min(127, Math.round(x[i] / s))), `sample ${i}`); // no exact ties in these draws
  }
});

test('bad lists: a clear message at scale or zeroPoint, with the position', async () => {
  const x = Float64Array.from({ length: 24 }, (_, i) => i / 10 - 1);
  const base = { bits: 8, mode: 'asymmetric', granularity: 'channel', shape: [4, 6], axis: 0 };
  const cases = [
    [{ ...base, scale: [0.1, 0.1, 0.1] }, 'scale', null, /Scale lists 3 values, but there are 4 channels/],
    [{ ...base, scale: [0.1, 0.1, 0.1, 0.1, 0.1] }, 'scale', null, /lists 5 values/],
    [{ ...base, scale: [0.1, 0, 0.1, 0.1] }, 'scale', 1, /Scale 2 of 4 \(0\) must be a positive finite number/],
    [{ ...base, scale: [0.1, 0.1, -0.5, 0.1] }, 'scale', 2, /Scale 3 of 4/],
    [{ ...base, scale: [0.1, 0.1, 0.1, Infinity] }, 'scale', 3, /positive finite/],
    [{ ...base, scale: [0.1, NaN, 0.1, 0.1] }, 'scale', 1, /Scale 2 of the list is not a number/],
    [{ ...base, scale: [0.1, '0.2', 0.1, 0.1] }, 'scale', 1, /not a number/],
    [{ ...base, scale: [0.1, 0.1, 0.1, 1e-300], arithmetic: 'float32' }, 'scale', 3, /float32's range/],
    [{ ...base, zeroPoint: [0, 0, 300, 0] }, 'zeroPoint', 2, /Zero point 3 of 4 \(300\) must lie in \[-128, 127\]/],
    [{ ...base, zeroPoint: [0, 0.5, 0, 0] }, 'zeroPoint', 1, /not a whole number/],
    [{ ...base, zeroPoint: [0, 0, 0] }, 'zeroPoint', null, /Zero point lists 3 values/],
    [{ ...base, mode: 'symmetric', zeroPoint: [0, 1, 0, 0] }, 'zeroPoint', 1, /symmetric mode fixes the zero point at 0/],
    [{ bits: 8, scale: [0.1, 0.2] }, 'scale', null, /choose granularity 'channel' or 'group'/],
    [{ ...base, granularity: 'group', groupSize: 3, scale: [0.1, 0.1] }, 'scale', null, /but there are 8 groups/],
    [{ format: 'fp8-e4m3', scale: [0.1, 0.1] }, 'scale', null, /integer formats/],
    [{ profile: 'onnx', dtype: 'uint8', granularity: 'channel', shape: [4, 6], zeroPoint: [0, 0, 0, 256], scale: [1, 1, 1, 1] }, 'zeroPoint', 3, /\[0, 255\]/],
    [{ profile: 'onnx', granularity: 'channel', shape: [4, 6], scale: [1, 1, 1] }, 'scale', null, /lists 3 values/],
    [{ profile: 'pytorch', granularity: 'group', groupSize: 6, shape: [4, 6] }, 'granularity', null, /per tensor or per channel/],
  ];
  for (const [options, field, index, message] of cases) {
    assert.throws(() => qz.analyze(x, options), (e) => {
      assert.ok(e instanceof QuantizerError, String(e));
      assert.equal(e.field, field, `${JSON.stringify(options)}: ${e.message}`);
      assert.equal(e.index, index, `${JSON.stringify(options)}: ${e.message}`);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(() => qz.stream({ ...base, scale: [1, 1, 1, 1] }), (e) => e.field === 'scale' && /analyze\(\)'s, not a stream's/.test(e.message));
  assert.throws(() => qz.layer({ weights: new Float64Array(4), weightShape: [2, 2], activations: new Float64Array(2), activationShape: [1, 2],
    weightScheme: { granularity: 'channel', scale: [1, 1] } }), (e) => e.field === 'weightScheme.scale');
  assert.equal(needsFullModule({ scale: [1, 2] }), true);
  assert.equal(needsFullModule({ zeroPoint: Int32Array.of(1) }), true);
  assert.equal(needsFullModule({ scale: 0.5 }), false);
  const first = await createQuantizer({ module: 'first' });
  assert.throws(() => first.analyze(x, { ...base, scale: [1, 1, 1, 1] }), (e) => e.field === 'scale' && /whole core/.test(e.message));
  // The heap: lists are copied in for the call and freed after it, error or not.
  const before = qz.heapInUse();
  for (let i = 0; i < 20; i++) {
    qz.analyze(x, { ...base, scale: [0.1, 0.1, 0.1, 0.1], zeroPoint: [1, 2, 3, 4] });
    try { qz.analyze(x, { ...base, scale: [0.1] }); } catch { /* refused */ }
  }
  assert.equal(qz.heapInUse(), before);
});
