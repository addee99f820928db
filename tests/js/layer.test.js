// qz.layer() (docs/api.md, "Through a layer"): bit for bit against ONNX Runtime's QuantizeLinear,
// MatMulInteger, QLinearMatMul and DequantizeLinear → MatMul → QuantizeLinear (onnxruntime-node,
// a devDependency; the tiny models are written in tests/js/onnx-model.js), the fixed-point
// multiplier against TensorFlow Lite's published definitions derived here in BigInt, property
// tests, and bad input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { before, describe, test } from 'node:test';

import { intAttribute, onnxModel, ort, ortSkip } from './onnx-model.js';
import { ACCUMULATOR_OVERFLOWS, ACCUMULATORS, ACTIVATIONS, LAYER_PROFILES, OUTPUT_DTYPES, values } from '../../web/src/shared/choices.js';
import * as api from '../../web/src/quantizer.js';
import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// ---- seeded data ----------------------------------------------------------------------------------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(n, sigma, seed) {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

// W [out, in] as ONNX's B = Wᵀ [in, out].
function transpose(w, rows, cols) {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

// Whether this machine's ONNX Runtime (MLAS) multiplies uint8 × int8 with AVX2's vpmaddubsw,
// which saturates each pair of products to int16: x86-64 with AVX2 but neither AVX-VNNI nor
// AVX512-VNNI (MLAS picks the VNNI kernels where they exist; other CPUs sum exactly).
function mlasPairSaturation() {
  if (platform() !== 'linux' || arch() !== 'x64') return false;
  const flags = new Set((readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
  return flags.has('avx2') && !flags.has('avx512_vnni') && !flags.has('avx_vnni');
}

// ---- ONNX Runtime ---------------------------------------------------------------------------------

// The layer as ONNX Runtime runs it, from float X [T, K] and Wᵀ [K, O]: QuantizeLinear of both
// (W per column when channels), then MatMulInteger, QLinearMatMul and DequantizeLinear → MatMul
// → QuantizeLinear, every output returned.
async function ortLayer({ x, wt, T, K, O, sx, zx, xType, sw, zw, wType, sy, zy, yType }) {
  const perChannel = sw.length > 1;
  const wParam = perChannel ? [O] : [];
  const axis = perChannel ? [intAttribute('axis', 1)] : [];
  const model = onnxModel({
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
      { op: 'QuantizeLinear', inputs: ['wt', 'sw', 'zw'], outputs: ['wq'], attributes: axis },
      { op: 'MatMulInteger', inputs: ['xq', 'wq', 'zx', 'zw'], outputs: ['acc'] },
      { op: 'QLinearMatMul', inputs: ['xq', 'sx', 'zx', 'wq', 'sw', 'zw', 'sy', 'zy'], outputs: ['yq'] },
      { op: 'DequantizeLinear', inputs: ['xq', 'sx', 'zx'], outputs: ['xf'] },
      { op: 'DequantizeLinear', inputs: ['wq', 'sw', 'zw'], outputs: ['wf'], attributes: axis },
      { op: 'MatMul', inputs: ['xf', 'wf'], outputs: ['yf'] },
      { op: 'QuantizeLinear', inputs: ['yf', 'sy', 'zy'], outputs: ['yqdq'] },
    ],
    inputs: [{ name: 'x', type: 'float', dims: [T, K] }, { name: 'wt', type: 'float', dims: [K, O] }],
    initializers: [
      { name: 'sx', type: 'float', dims: [], values: [sx] }, { name: 'zx', type: xType, dims: [], values: [zx] },
      { name: 'sw', type: 'float', dims: wParam, values: sw }, { name: 'zw', type: wType, dims: wParam, values: zw },
      { name: 'sy', type: 'float', dims: [], values: [sy] }, { name: 'zy', type: yType, dims: [], values: [zy] },
    ],
    outputs: [
      { name: 'xq', type: xType, dims: [T, K] }, { name: 'wq', type: wType, dims: [K, O] }, { name: 'acc', type: 'int32', dims: [T, O] },
      { name: 'yq', type: yType, dims: [T, O] }, { name: 'yqdq', type: yType, dims: [T, O] },
    ],
  });
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [T, K]), wt: new ort.Tensor('float32', wt, [K, O]) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)]));
  } finally {
    await session.release?.();
  }
}

const ORT_CASES = [
  // uint8 activations × int8 weights with ONNX Runtime's reduce_range (|q_w| ≤ 64): no pair of
  // products can pass int16, so the sums are exact on every CPU.
  { name: 'uint8 × int8 (reduce range) per tensor, uint8 output from the range', T: 7, K: 33, O: 9, seed: 1,
    x: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric' }, w: { profile: 'onnx', dtype: 'int8', mode: 'symmetric', reduceRange: true },
    output: { dtype: 'uint8' } },
  { name: 'int8 × int8 per output channel, int8 output', T: 5, K: 64, O: 16, seed: 2,
    x: { profile: 'onnx', dtype: 'int8', mode: 'asymmetric' }, w: { profile: 'onnx', dtype: 'int8', mode: 'symmetric', granularity: 'channel' },
    output: { dtype: 'int8' } },
  { name: 'uint8 × uint8 asymmetric weights per channel', T: 6, K: 40, O: 11, seed: 3,
    x: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric' }, w: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', granularity: 'channel' },
    output: { dtype: 'uint8' } },
  // An output scale a twentieth of the range's: most outputs saturate at 0 or 255.
  { name: 'saturation: an output scale far too small', T: 8, K: 32, O: 8, seed: 4, yScale: 1 / 20,
    x: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric' }, w: { profile: 'onnx', dtype: 'int8', mode: 'symmetric', reduceRange: true },
    output: { dtype: 'uint8' } },
];

describe('bit for bit against ONNX Runtime', { skip: ortSkip }, () => {
  for (const c of ORT_CASES) {
    test(c.name, async () => {
      const { T, K, O } = c;
      const w = gaussian(O * K, 0.2, c.seed), x = gaussian(T * K, 1, c.seed + 100);
      const base = { weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], weightScheme: c.w, activationScheme: c.x, profile: 'onnx' };
      // The output's parameters: ONNX Runtime's calibration of the float output (then a twentieth of the scale).
      const auto = qz.layer({ ...base, output: { dtype: c.output.dtype } }).requantization;
      const output = { scale: Math.fround(auto.scale * (c.yScale ?? 1)), zeroPoint: auto.zeroPoint, dtype: c.output.dtype };
      const r = qz.layer({ ...base, output });
      const wa = qz.analyze(w, { ...c.w, shape: [O, K] }), xa = qz.analyze(x, { ...c.x, shape: [T, K] });
      const wGroups = wa.groups ?? [wa];
      const o = await ortLayer({ x, wt: transpose(w, O, K), T, K, O, sx: xa.scale, zx: xa.zeroPoint, xType: c.x.dtype,
        sw: wGroups.map((g) => g.scale), zw: wGroups.map((g) => g.zeroPoint), wType: c.w.dtype,
        sy: output.scale, zy: output.zeroPoint, yType: output.dtype });
      assert.deepEqual(o.xq, Array.from(xa.codes), 'QuantizeLinear of X');
      assert.deepEqual(o.wq, Array.from(transpose(Float32Array.from(wa.codes), O, K)), 'QuantizeLinear of W');
      assert.deepEqual(o.acc, Array.from(r.accumulator.sums), 'MatMulInteger');
      assert.deepEqual(o.yq, Array.from(r.requantization.paths.onnx), 'QLinearMatMul');
      assert.deepEqual(o.yq, Array.from(r.codes), 'the onnx profile\'s codes are QLinearMatMul\'s');
      // DequantizeLinear → MatMul: ONNX Runtime sums float32 products in its own order (with FMA),
      // the calculator rounds the double sum once, so y may differ in its last bits and, rarely, a
      // code by one.
      const qdq = r.requantization.paths.qdq;
      const off = o.yqdq.filter((v, i) => v !== qdq[i]);
      assert.ok(o.yqdq.every((v, i) => Math.abs(v - qdq[i]) <= 1), 'DequantizeLinear → MatMul → QuantizeLinear within one code');
      assert.ok(off.length <= Math.max(1, 0.01 * T * O), `${off.length} of ${T * O} DQ → MatMul → Q codes differ`);
      if (c.yScale) assert.ok(r.requantization.clipped > (T * O) / 2, 'most outputs saturate');
      const q = r.requantization;
      assert.ok(o.yq.filter((v) => v === q.qmin || v === q.qmax).length >= q.clipped, 'every saturated output sits at q_min or q_max');
    });
  }

  test('ties and exact float sums: power-of-two scales, every path bit for bit, the fixed point rounds ties away', async () => {
    const T = 9, K = 12, O = 10;
    const u = rng(7);
    // Codes in [−15, 15] on scales 2^-4 and 2^-6: every product and float32 sum is exact, and
    // M = 2^-4 · 2^-6 / 2^-8 = 2^-2 puts a quarter of the outputs on a tie.
    const xc = Float32Array.from({ length: T * K }, () => Math.round(30 * u()) - 15);
    const wc = Float32Array.from({ length: O * K }, () => Math.round(30 * u()) - 15);
    const x = xc.map((v) => v / 16), w = wc.map((v) => v / 64);
    const scheme = (scale) => ({ profile: 'onnx', dtype: 'int8', mode: 'symmetric', scale });
    const r = qz.layer({ weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], weightScheme: scheme(1 / 64),
      activationScheme: scheme(1 / 16), output: { scale: 1 / 256, zeroPoint: 1, dtype: 'int8' }, profile: 'onnx' });
    const o = await ortLayer({ x, wt: transpose(w, O, K), T, K, O, sx: 1 / 16, zx: 0, xType: 'int8', sw: [1 / 64], zw: [0], wType: 'int8',
      sy: 1 / 256, zy: 1, yType: 'int8' });
    const q = r.requantization;
    assert.deepEqual(o.acc, Array.from(r.accumulator.sums), 'MatMulInteger');
    assert.deepEqual(o.yq, Array.from(q.paths.onnx), 'QLinearMatMul');
    assert.deepEqual(o.yqdq, Array.from(q.paths.qdq), 'DequantizeLinear → MatMul → QuantizeLinear');
    assert.deepEqual(o.yq, Array.from(q.paths.exact), 'ties to even, as round(acc / 4) + 1');
    const ties = Array.from(r.accumulator.sums).filter((s) => ((s % 4) + 4) % 4 === 2).length;
    assert.ok(ties > 5, `${ties} ties`);
    assert.equal(q.reasons.tie, q.differences.filter((d) => d.reasons.includes('tie')).length);
    assert.ok(q.differ.tflite >= 1 && q.differ.tflite <= q.reasons.tie + q.reasons.doubleRounding);
    for (const d of q.differences) {
      assert.equal(Math.abs(d.tflite - d.exact), 1);
      if (d.reasons.includes('tie')) assert.equal(((d.acc % 4) + 4) % 4, 2, 'a tie is acc ≡ 2 (mod 4)');
    }
  });

  test('where float32 requantization leaves the exact rounding: QLinearMatMul follows it, code for code', async () => {
    // Every sum q_x·q_w of uint8 codes 0..255 by int8 codes −127..127 (K = 1), with scales found by
    // a seeded search so that float32(acc)·M_f rounds away from round(acc·M) somewhere in range.
    const T = 256, O = 255, K = 1;
    const u = rng(13);
    const f32 = Math.fround;
    const rne = (v) => (v - Math.floor(v) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
    let sx, sw, sy, count = 0;
    for (let attempt = 0; attempt < 1000 && count < 2; attempt++) {
      sx = f32(0.01 + 0.05 * u()), sw = f32(0.001 + 0.01 * u()), sy = f32(sx * sw * (60 + 80 * u()));
      const mf = f32(f32(sx * sw) / sy), m = (sx * sw) / sy;
      count = 0;
      for (let a = 0; a < 256; a++) {
        for (let b = -127; b <= 127; b++) {
          const exact = rne(a * b * m);
          if (exact >= -128 && exact <= 127 && exact !== rne(f32(a * b * mf))) count++;
        }
      }
    }
    assert.ok(count >= 2, 'the search found scales whose float32 path differs');
    const x = Float32Array.from({ length: T }, (_, i) => f32(i * sx)), wq = Array.from({ length: O }, (_, i) => i - 127);
    const w = Float32Array.from(wq, (v) => f32(v * sw));
    const r = qz.layer({ weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], profile: 'onnx',
      weightScheme: { profile: 'onnx', dtype: 'int8', mode: 'symmetric', scale: sw },
      activationScheme: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', scale: sx, zeroPoint: 0 },
      output: { scale: sy, zeroPoint: 128, dtype: 'uint8' } });
    const o = await ortLayer({ x, wt: transpose(w, O, K), T, K, O, sx, zx: 0, xType: 'uint8', sw: [sw], zw: [0], wType: 'int8', sy, zy: 128, yType: 'uint8' });
    const q = r.requantization;
    assert.deepEqual(o.acc, Array.from(r.accumulator.sums), 'MatMulInteger');
    assert.deepEqual(o.yq, Array.from(q.paths.onnx), 'QLinearMatMul');
    assert.equal(q.differ.onnx, count, `${q.differ.onnx} float32 codes leave the exact rounding`);
    assert.notDeepEqual(o.yq, Array.from(q.paths.exact));
    assert.ok(q.differences.filter((d) => d.onnx !== d.exact).every((d) => d.reasons.includes('float32')));
    assert.ok(q.reasons.multiplier + q.reasons.doubleRounding + q.reasons.tie > 0, 'the fixed-point path has its own differences');
  });

  test('MatMulInteger of uint8 × int8: the pairs this CPU\'s kernel saturates, or the exact sums', async () => {
    const T = 6, K = 31, O = 7;
    const u = rng(9);
    // Large codes of one sign side by side, so that q_x·q_w + q_x'·q_w' passes 32767 now and then.
    const xq = Array.from({ length: T * K }, () => 200 + Math.floor(56 * u()));
    const wq = Array.from({ length: O * K }, (_, i) => (i % 5 === 0 ? -1 : 1) * (100 + Math.floor(28 * u())));
    const x = Float32Array.from(xq, (v) => (v - 10) / 128), w = Float32Array.from(wq, (v) => v / 128);
    const r = qz.layer({ weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], profile: 'onnx',
      weightScheme: { profile: 'onnx', dtype: 'int8', mode: 'symmetric', scale: 1 / 128 },
      activationScheme: { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric', scale: 1 / 128, zeroPoint: 10 } });
    const model = onnxModel({
      nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b', 'za', 'zb'], outputs: ['y'] }],
      inputs: [{ name: 'a', type: 'uint8', dims: [T, K] }, { name: 'b', type: 'int8', dims: [K, O] }],
      initializers: [{ name: 'za', type: 'uint8', dims: [], values: [10] }, { name: 'zb', type: 'int8', dims: [], values: [0] }],
      outputs: [{ name: 'y', type: 'int32', dims: [T, O] }],
    });
    const session = await ort.InferenceSession.create(model);
    const out = await session.run({ a: new ort.Tensor('uint8', Uint8Array.from(xq), [T, K]),
      b: new ort.Tensor('int8', Int8Array.from(transpose(Float32Array.from(wq), O, K)), [K, O]) });
    await session.release?.();
    const got = Array.from(out.y.data);
    const pairs = r.accumulator.avx2Pairs;
    assert.ok(pairs, 'uint8 × int8 codes under the onnx profile: the AVX2 pairs are measured');
    assert.ok(pairs.saturated > 0, 'the data makes some pairs pass int16');
    assert.notDeepEqual(Array.from(pairs.sums), Array.from(r.accumulator.sums));
    const expected = mlasPairSaturation() ? pairs.sums : r.accumulator.sums;
    assert.deepEqual(got, Array.from(expected), mlasPairSaturation() ? 'AVX2 without VNNI: pairs saturated' : 'exact sums');
  });
});

// ---- the fixed-point multiplier, from TensorFlow Lite's published definitions in BigInt --------

// QuantizeMultiplier: M = q·2^e, q ∈ [0.5, 1) (frexp); M0 = round(q·2^31), ties away from zero;
// M0 = 2^31 carries into (2^30, e + 1); e < −31 flushes to (0, 0); e > 30 saturates.
function quantizeMultiplierReference(m) {
  if (m === 0) return { multiplier: 0, shift: 0 };
  const bits = new DataView(new Float64Array([m]).buffer).getBigUint64(0, true);
  let exponent = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exponent === 0) { // subnormal: normalize
    while (!(mant & (1n << 52n))) mant <<= 1n, exponent -= 1;
    exponent += 1;
  } else {
    mant |= 1n << 52n;
  }
  let shift = exponent - 1022; // M = (mant / 2^53) · 2^shift
  let q = (mant + (1n << 21n)) >> 22n; // mant · 2^31 / 2^53, half up (= away: positive)
  if (q === 1n << 31n) q >>= 1n, shift += 1;
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 30) return { multiplier: 2 ** 31 - 1, shift: 30 };
  return { multiplier: Number(q), shift };
}

// SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, in BigInt.
function multiplyReference(acc, { multiplier, shift }) {
  const left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const wrap32 = (v) => BigInt.asIntN(32, v);
  const a = wrap32(BigInt(acc) << BigInt(left)), b = BigInt(multiplier);
  let high;
  if (a === -(2n ** 31n) && b === -(2n ** 31n)) high = 2n ** 31n - 1n;
  else {
    const ab = a * b, nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    high = (ab + nudge) / (1n << 31n); // BigInt division truncates toward zero, as C++'s
  }
  const mask = (1n << BigInt(right)) - 1n, remainder = high & mask;
  const threshold = (mask >> 1n) + (high < 0n ? 1n : 0n);
  return Number((high >> BigInt(right)) + (remainder > threshold ? 1n : 0n));
}

describe('the fixed-point multiplier', () => {
  test('QuantizeMultiplier on a table of real multipliers, 966/16-like cases among them', () => {
    const table = [
      966 / 2 ** 16, 966 / 2 ** 10, 1 / 966, 0.5, 1, 0.25, 0.75, 1 - 2 ** -33, 0.5 + 2 ** -32, 2 ** -32, 2 ** -33, 2 ** -40, 1.5, 3.999, 2 ** 30,
      // CMSIS-NN / TFLite-style s_x·s_w/s_y of real layers
      (0.0235 * 0.00127) / 0.0457, (0.047 * 0.0021) / 0.18, (0.00392 * 0.0123) / 0.0078,
    ];
    const u = rng(11);
    for (let i = 0; i < 200; i++) table.push(10 ** (-9 + 9.5 * u()));
    for (const m of table) assert.deepEqual(qz.quantizeMultiplier(m), quantizeMultiplierReference(m), `M = ${m}`);
    assert.deepEqual(qz.quantizeMultiplier(966 / 2 ** 16), { multiplier: 966 * 2 ** 21, shift: -6 });
    assert.deepEqual(qz.quantizeMultiplier(1 - 2 ** -33), { multiplier: 2 ** 30, shift: 1 }, 'the carry');
  });

  test('MultiplyByQuantizedMultiplier bit for bit on random sums, extremes and ties', () => {
    const u = rng(12);
    const sums = [0, 1, -1, 2, -2, 3, -3, 2 ** 31 - 1, -(2 ** 31), 12345, -12345, 1 << 20, -(1 << 20)];
    for (let i = 0; i < 300; i++) sums.push(Math.floor(u() * 2 ** 32) - 2 ** 31);
    for (const m of [966 / 2 ** 16, 2 ** -2, 0.5, 0.999, 1 / 3, 1.75, 3e-5, 2 ** -31]) {
      const f = qz.quantizeMultiplier(m);
      for (const acc of sums) assert.equal(qz.multiplyByQuantizedMultiplier(acc, f), multiplyReference(acc, f), `acc ${acc}, M ${m}`);
    }
  });

  test('the tflite profile: each channel\'s multiplier and every output code by the definitions', () => {
    const T = 12, K = 48, O = 20;
    const r = qz.layer({ weights: gaussian(O * K, 0.1, 21), weightShape: [O, K], activations: gaussian(T * K, 1, 22), activationShape: [T, K],
      weightScheme: { granularity: 'channel', arithmetic: 'float32' }, activationScheme: { mode: 'asymmetric', arithmetic: 'float32' },
      output: 'auto', profile: 'tflite' });
    const q = r.requantization;
    assert.equal(q.realMultiplier.length, O);
    for (let c = 0; c < O; c++) {
      assert.deepEqual({ multiplier: q.multiplier[c], shift: q.shift[c] }, quantizeMultiplierReference(q.realMultiplier[c]));
      // M = s_x·s_w/s_y from float32 scales, in double, as TFLite computes it.
      const sx = Math.fround(r.activations.scale), sw = Math.fround(r.weights.groups[c].scale);
      assert.equal(q.realMultiplier[c], (sx * sw) / Math.fround(q.scale));
    }
    const sums = r.accumulator.sums;
    for (let i = 0; i < sums.length; i++) {
      const c = i % O;
      const v = multiplyReference(sums[i], { multiplier: q.multiplier[c], shift: q.shift[c] }) + q.zeroPoint;
      assert.equal(q.codes[i], Math.min(127, Math.max(-128, v)), `output ${i}`);
    }
    assert.deepEqual(Array.from(q.codes), Array.from(q.paths.tflite));
  });
});

// ---- properties -----------------------------------------------------------------------------------

describe('properties', () => {
  const identity = (k) => Float64Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0));

  test('an identity on one side reproduces the per-tensor calculator on the other', () => {
    const K = 24, T = 10;
    const x = gaussian(T * K, 1.5, 31);
    for (const scheme of [{ bits: 4 }, { bits: 8, mode: 'asymmetric' }, { bits: 6, calibration: 'percentile', percentile: 99 }]) {
      const a = qz.analyze(x, scheme);
      const viaW = qz.layer({ weights: identity(K), weightShape: [K, K], activations: x, activationShape: [T, K], activationScheme: scheme });
      const viaX = qz.layer({ weights: x, weightShape: [T, K], activations: identity(K), activationShape: [K, K], weightScheme: scheme });
      for (const r of [viaW, viaX]) {
        assert.ok(Math.abs(r.metrics.sqnrDb - a.metrics.sqnrDb) < 1e-9, `${r.metrics.sqnrDb} vs ${a.metrics.sqnrDb}`);
        assert.ok(Math.abs(r.metrics.mse - a.metrics.mse) <= 1e-12 * a.metrics.mse);
        assert.equal(r.metrics.maxAbsError, a.metrics.maxAbsError);
      }
      assert.equal(viaW.metrics.maxAbsErrorIndex, a.metrics.maxAbsErrorIndex);
      assert.deepEqual(viaW.activations.metrics, { ...a.metrics, medianAbsError: null, p95AbsError: null, codesUsed: 0, codeEntropyBits: null });
    }
  });

  test('the first-order prediction is within 10% of each measured part on Gaussian data', () => {
    const T = 48, K = 192, O = 96;
    const r = qz.layer({ weights: gaussian(O * K, 0.05, 41), weightShape: [O, K], activations: gaussian(T * K, 1, 42), activationShape: [T, K],
      weightScheme: { bits: 4, granularity: 'channel' }, activationScheme: { bits: 6, granularity: 'token', mode: 'asymmetric' } });
    for (const key of ['weights', 'activations', 'interaction']) {
      const p = r.parts[key];
      assert.ok(Math.abs(p.energy / p.predicted - 1) < 0.1, `${key}: ${p.energy} vs ${p.predicted}`);
    }
    assert.ok(Math.abs(r.parts.simulated.predictedSqnrDb - r.metrics.sqnrDb) < 0.5);
  });

  test('overflow counts against a brute-force sum in BigInt', () => {
    const T = 5, K = 520, O = 6;
    const w = gaussian(O * K, 1, 51), x = gaussian(T * K, 1, 52);
    const ws = { bits: 8 }, xs = { bits: 8, mode: 'asymmetric' };
    const wa = qz.analyze(w, { ...ws, shape: [O, K] }), xa = qz.analyze(x, { ...xs, shape: [T, K] });
    const int32 = qz.layer({ weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], weightScheme: ws, activationScheme: xs });
    for (const overflow of ['wrap', 'saturate']) {
      const r = qz.layer({ weights: w, weightShape: [O, K], activations: x, activationShape: [T, K], weightScheme: ws, activationScheme: xs,
        accumulator: 'int16', overflow });
      let wrapped = 0, saturated = 0, excursions = 0;
      for (let t = 0; t < T; t++) {
        for (let o = 0; o < O; o++) {
          let s = 0n, sat = 0n, out = false;
          for (let k = 0; k < K; k++) {
            const p = BigInt(xa.codes[t * K + k] - xa.zeroPoint) * BigInt(wa.codes[o * K + k]);
            s += p;
            out ||= s < -32768n || s > 32767n;
            sat = sat + p < -32768n ? -32768n : sat + p > 32767n ? 32767n : sat + p;
          }
          assert.equal(r.accumulator.sums[t * O + o], Number(s));
          wrapped += s < -32768n || s > 32767n;
          saturated += sat !== s;
          excursions += out;
          const held = overflow === 'wrap' ? BigInt.asIntN(16, s) : sat;
          const yq = xa.scale * wa.scale * Number(held);
          assert.ok(Math.abs(r.quantized[t * O + o] - yq) <= 1e-12 * Math.abs(yq), `output ${t},${o}`);
        }
      }
      assert.deepEqual([r.accumulator.int16.wrapped, r.accumulator.int16.saturated, r.accumulator.int16.excursions], [wrapped, saturated, excursions]);
      assert.ok(wrapped > 0, 'int16 overflows');
      assert.equal(r.accumulator.int32.wrapped, 0);
      assert.equal(r.accumulator.bound, K * 127 * Math.max(xa.zeroPoint + 128, 127 - xa.zeroPoint));
      assert.ok(r.metrics.sqnrDb < int32.metrics.sqnrDb - 10, 'the overflowing int16 sums ruin the output');
      const own = overflow === 'wrap' ? r.accumulator.int16.wrapSqnrDb : r.accumulator.int16.saturateSqnrDb;
      assert.ok(Math.abs(own - r.metrics.sqnrDb) < 1e-9, 'the output under the requested type and policy is the result\'s');
      assert.ok(Math.abs(r.accumulator.int32.wrapSqnrDb - int32.metrics.sqnrDb) < 1e-9);
    }
  });
});

// ---- a chain ----------------------------------------------------------------------------------

test('a second layer after GELU: propagated and local error', () => {
  const T = 8, K = 32, O = 24, O2 = 10;
  const base = { weights: gaussian(O * K, 0.2, 61), weightShape: [O, K], activations: gaussian(T * K, 1, 62), activationShape: [T, K],
    weightScheme: { bits: 4 }, activationScheme: null };
  const r = qz.layer({ ...base, next: { weights: gaussian(O2 * O, 0.2, 63), weightShape: [O2, O], activation: 'gelu' } });
  assert.equal(r.next.activation, 'gelu');
  assert.deepEqual(r.next.layer.shape, { tokens: T, in: O, out: O2 });
  assert.ok(r.next.local.energy > 0 && r.next.propagated.energy > 0);
  assert.ok(r.next.total.sqnrDb < r.next.local.sqnrDb, 'both errors together are worse than layer 2\'s own');
  assert.equal(r.next.layer.weights.options.bits, 4, 'layer 2 takes layer 1\'s schemes unless given');
  const float2 = qz.layer({ ...base, next: { weights: gaussian(O2 * O, 0.2, 63), weightShape: [O2, O], activation: 'gelu', weightScheme: null } });
  assert.equal(float2.next.local.energy, 0);
  assert.equal(float2.next.local.sqnrDb, Infinity);
});

// ---- bad input ------------------------------------------------------------------------------------

const SEED = [-1.25, -0.92, -0.51, -0.1, 0, 0.14, 0.37, 0.79, 1.12, 1.46];

test('bad input: a clear message at its field, and the same instance still computes exactly', () => {
  const w = gaussian(12, 1, 71), x = gaussian(8, 1, 72);
  const ok = { weights: w, weightShape: [3, 4], activations: x, activationShape: [2, 4], weightScheme: { bits: 8 }, activationScheme: { bits: 8 } };
  const before1 = qz.layer(ok);
  const heap = qz.heapInUse();
  const cases = [
    [{ activationShape: [2, 3] }, 'activationShape', /holds 6 values, but there are 8/],
    [{ activations: gaussian(12, 1, 3), activationShape: [4, 3] }, 'activationShape', /inner dimensions differ/],
    [{ weightShape: [12] }, 'weightShape', /two dimensions/],
    [{ weightScheme: { granularity: 'token' } }, 'weightScheme.granularity', /activations/],
    [{ weightScheme: { granularity: 'group', groupSize: 3 } }, 'weightScheme.groupSize', /does not divide/],
    [{ activationScheme: { granularity: 'channel', axis: 5 } }, 'activationScheme.axis', /outside/],
    [{ activationScheme: { bits: 40 } }, 'activationScheme.bits', /between 2 and 16/],
    [{ weightScheme: { nope: 1 } }, 'weightScheme.nope', /Unknown option/],
    [{ weightScheme: { mode: 'asymmetric-unsigned', zeroPoint: 0 }, activationScheme: { mode: 'asymmetric-unsigned', zeroPoint: 0 }, accumulator: 'int16' },
      'accumulator', /cannot hold even one product/],
    [{ weightScheme: { bits: 16, mode: 'asymmetric-unsigned', zeroPoint: 0 }, activationScheme: { bits: 16, mode: 'asymmetric-unsigned', zeroPoint: 0 } },
      'accumulator', /int32 accumulator cannot hold even one product/],
    [{ activationScheme: null, accumulator: 'int32' }, 'accumulator', /activations stay float/],
    [{ accumulator: 'int64' }, 'accumulator', /Unknown accumulator/],
    [{ activationScheme: { granularity: 'token' }, output: 'auto' }, 'output', /one activation scale/],
    [{ output: { scale: 0.1, zeroPoint: 900 } }, 'output.zeroPoint', /\[-128, 127\]/],
    [{ output: { scale: -1 } }, 'output.scale', /positive/],
    [{ profile: 'tensorrt' }, 'profile', /Unknown profile/],
    [{ weights: [1, 2, 'x', 4, 5, 6, 7, 8, 9, 10, 11, 12] }, 'weights', /Value 3 is not a number/],
    [{ next: { weights: gaussian(10, 1, 5), weightShape: [2, 5], activation: 'relu' } }, 'next.weightShape', /do not chain/],
    [{ next: { weights: gaussian(6, 1, 5), weightShape: [2, 3], activation: 'tanh' } }, 'next.activation', /Unknown activation/],
    [{ unknown: 1 }, 'unknown', /Unknown option/],
  ];
  for (const [change, field, message] of cases) {
    assert.throws(() => qz.layer({ ...ok, ...change }), (e) => e instanceof QuantizerError && e.field === field && message.test(e.message),
      `${JSON.stringify(change).slice(0, 80)} → ${field}`);
  }
  const nan = Float32Array.from(x);
  nan[5] = NaN;
  assert.throws(() => qz.layer({ ...ok, activations: nan }), (e) => e.field === 'activations' && e.index === 5);
  assert.throws(() => qz.layer({ ...ok, activations: nan, activationScheme: null }), (e) => e.field === 'activations' && e.index === 5);
  // Nothing else lost: the same results, the heap as it was, and the seed example exactly.
  assert.deepEqual(qz.layer(ok), before1);
  assert.equal(qz.heapInUse(), heap);
  const s = qz.analyze(SEED, { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 } });
  assert.equal(s.scale, 1.5 / 127);
  assert.deepEqual(Array.from(s.codes), [-106, -78, -43, -8, 0, 12, 31, 67, 95, 124]);
  assert.ok(Math.abs(s.metrics.sqnrDb - 49.055) < 5e-4);
});

test('option names from Object.prototype are unknown options, at every level', () => {
  const ok = { weights: [1, 2], weightShape: [1, 2], activations: [3, 4], activationShape: [1, 2] };
  for (const key of ['constructor', 'toString', '__proto__']) {
    const bad = JSON.parse(`{"${key}": 1}`);
    assert.throws(() => qz.layer({ ...ok, ...bad }), { name: 'QuantizerError', field: key });
    assert.throws(() => qz.layer({ ...ok, output: bad }), { name: 'QuantizerError', field: `output.${key}` });
    assert.throws(() => qz.layer({ ...ok, weightScheme: bad }), { name: 'QuantizerError', field: `weightScheme.${key}` });
    assert.throws(() => qz.layer({ ...ok, next: { weights: [1], weightShape: [1, 1], ...bad } }), { name: 'QuantizerError', field: `next.${key}` });
  }
});

test('the layer vocabularies are the core\'s: each table lists exactly the values its message names', () => {
  const ok = { weights: [1, 2], weightShape: [1, 2], activations: [3, 4], activationShape: [1, 2], weightScheme: { bits: 8 }, activationScheme: { bits: 8 } };
  const names = (change, field) => {
    try {
      qz.layer({ ...ok, ...change });
    } catch (e) {
      assert.equal(e.field, field, e.message);
      return e.message.match(/\(use ([^)]+)\)/)[1].split(/, | or /).sort();
    }
    assert.fail(`${JSON.stringify(change)} was accepted`);
  };
  assert.deepEqual(values(LAYER_PROFILES).slice().sort(), names({ profile: 'nope' }, 'profile'));
  assert.deepEqual(values(ACCUMULATORS).slice().sort(), names({ accumulator: 'nope' }, 'accumulator'));
  assert.deepEqual(values(ACCUMULATOR_OVERFLOWS).slice().sort(), names({ overflow: 'nope' }, 'overflow'));
  assert.deepEqual(values(OUTPUT_DTYPES).slice().sort(), names({ output: { dtype: 'nope' } }, 'output.dtype'));
  assert.deepEqual(values(ACTIVATIONS).slice().sort(), names({ next: { weights: [1], weightShape: [1, 1], activation: 'nope' } }, 'next.activation'));
  assert.deepEqual(api.LAYER_PROFILES, values(LAYER_PROFILES));
  assert.deepEqual(api.ACCUMULATORS, values(ACCUMULATORS));
  assert.deepEqual(api.ACTIVATIONS, values(ACTIVATIONS));
});

test('the first module names the whole core for layers', async () => {
  const first = await createQuantizer({ module: 'first' });
  assert.throws(() => first.layer({}), (e) => e.field === 'options' && /whole core/.test(e.message));
});

test('the worker answers a \'layer\' request with the result, its typed arrays transferred, and an error at its field', async () => {
  const messages = [];
  globalThis.self = { postMessage: (message, transfer = []) => messages.push({ message, transfer }) };
  const { REQUESTS, REPLIES } = await import('../../web/src/shared/protocol.js');
  await import('../../web/src/worker/worker.js');
  const layer = { weights: gaussian(48, 1, 81), weightShape: [6, 8], activations: gaussian(24, 1, 82), activationShape: [3, 8],
    weightScheme: { bits: 8 }, activationScheme: { bits: 8, mode: 'asymmetric' }, output: 'auto', profile: 'tflite' };
  await self.onmessage({ data: { id: 7, type: REQUESTS.layer, layer } });
  const done = messages.find((m) => m.message.type === REPLIES.result);
  assert.ok(done, JSON.stringify(messages.map((m) => m.message.type)));
  const r = done.message.result;
  assert.equal(done.message.id, 7);
  assert.deepEqual(r.metrics, qz.layer(layer).metrics);
  assert.equal(r.options.weights, null, 'the input tensors stay with the page');
  assert.ok(done.transfer.includes(r.reference.buffer) && done.transfer.includes(r.codes.buffer));
  assert.equal(new Set(done.transfer).size, done.transfer.length);
  messages.length = 0;
  await self.onmessage({ data: { id: 8, type: REQUESTS.layer, layer: { ...layer, activationShape: [4, 8] } } });
  const error = messages.find((m) => m.message.type === REPLIES.error).message.error;
  assert.equal(error.field, 'activationShape');
  delete globalThis.self;
});

test('the scalar build and the SIMD build give the same layer, bit for bit', async () => {
  const scalar = await createQuantizer({ simd: false });
  assert.equal(scalar.simd, false);
  const T = 9, K = 70, O = 13;
  const base = { weights: gaussian(O * K, 0.3, 91), weightShape: [O, K], activations: gaussian(T * K, 1, 92), activationShape: [T, K] };
  for (const options of [
    { weightScheme: { bits: 8, granularity: 'channel' }, activationScheme: { bits: 8, mode: 'asymmetric' }, output: 'auto', profile: 'onnx' },
    { weightScheme: { bits: 4, granularity: 'group', groupSize: 10 }, activationScheme: { bits: 8, granularity: 'token' }, accumulator: 'int16', overflow: 'saturate' },
    { weightScheme: { format: 'fp8-e4m3', formatScale: 'amax' }, accumulator: 'float32' },
    { weightScheme: { bits: 6 }, next: { weights: gaussian(5 * O, 0.3, 93), weightShape: [5, O], activation: 'silu' } },
  ]) {
    const a = qz.layer({ ...base, ...options }), b = scalar.layer({ ...base, ...options });
    assert.deepEqual(b, a, JSON.stringify(options));
  }
});
