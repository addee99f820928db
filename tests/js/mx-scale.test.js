// The OCP MX formats' scale roundings (mxScale) against tests/data/mx_scales.json
// (make_mx_scale_golden.py: torchao's bit recipes in numpy, brute-force element encodings): every
// block's E8M0 code, every element's code and x̂, and the blocks that saturate; then the stream,
// the first module, bad values and the default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';

import { createQuantizer, DEFAULT_OPTIONS, MX_SCALES, needsFullModule, QuantizerError } from '../../web/src/quantizer.js';
import { MX_SCALES as MX_SCALE_CHOICES, values } from '../../web/src/shared/choices.js';

const golden = JSON.parse(readFileSync(new URL('../data/mx_scales.json', import.meta.url), 'utf8'));
let qz;
before(async () => {
  qz = await createQuantizer();
});

test('every format and rule: the golden file\'s scale codes, element codes, x̂ and saturated blocks', () => {
  let blocksChecked = 0;
  for (const [format, entry] of Object.entries(golden.formats)) {
    const x = Float32Array.from(entry.values);
    for (const [mxScale, want] of Object.entries(entry.rules)) {
      for (const arithmetic of ['float64', 'float32']) {
        for (const kernel of ['simd', 'scalar']) {
          const at = `${format} ${mxScale} ${arithmetic} ${kernel}`;
          const r = qz.analyze(x, { format, mxScale, arithmetic, kernel });
          assert.deepEqual(Array.from(r.blocks.code), want.scaleCodes, `${at}: scale codes`);
          assert.deepEqual(Array.from(r.codes), want.codes, `${at}: element codes`);
          assert.deepEqual(Array.from(r.dequantized), want.xhat, `${at}: x̂`);
          assert.equal(r.format.saturatedBlocks, want.saturatedBlocks, `${at}: saturated blocks`);
          blocksChecked += want.scaleCodes.length;
        }
      }
    }
  }
  assert.equal(blocksChecked, 6 * 4 * 4 * 50);
});

test('the rules differ where the file says so: floor saturates, ceil and rceil never do', () => {
  const e4m3 = golden.formats['mxfp8-e4m3'].rules;
  assert.ok(e4m3.floor.saturatedBlocks > 0 && e4m3.even.saturatedBlocks > 0);
  for (const entry of Object.values(golden.formats)) {
    assert.equal(entry.rules.rceil.saturatedBlocks, 0);
    assert.equal(entry.rules.ceil.saturatedBlocks, 0);
  }
  // The same block, four rules: 480 = 1.875·2^8 in MXFP8 E4M3.
  const x = new Float32Array(32).fill(0.25);
  x[5] = 480;
  const got = Object.fromEntries(MX_SCALES.map((m) => {
    const r = qz.analyze(x, { format: 'mxfp8-e4m3', mxScale: m });
    return [m, [r.blocks.code[0], r.dequantized[5], r.format.saturatedBlocks, r.metrics.clipCount]];
  }));
  assert.deepEqual(got, { floor: [127, 448, 1, 1], ceil: [128, 480, 0, 0], even: [127, 448, 1, 1], rceil: [128, 480, 0, 0] });
});

test('floor is the default, and gives the numbers of before', () => {
  assert.equal(DEFAULT_OPTIONS.mxScale, 'floor');
  const x = Float32Array.from(golden.formats.mxfp4.values);
  const a = qz.analyze(x, { format: 'mxfp4' });
  const b = qz.analyze(x, { format: 'mxfp4', mxScale: 'floor' });
  assert.deepEqual(a.codes, b.codes);
  assert.deepEqual(Array.from(a.blocks.code), golden.formats.mxfp4.rules.floor.scaleCodes);
  assert.equal(a.metrics.mse, b.metrics.mse);
  // Element formats, NF4 and the integers report no saturated blocks.
  assert.equal(qz.analyze(x, { format: 'fp8-e4m3' }).format.saturatedBlocks, null);
  assert.equal(qz.analyze(x, { format: 'nf4' }).format.saturatedBlocks, null);
  assert.equal(typeof qz.analyze(x, { format: 'nvfp4' }).format.saturatedBlocks, 'number');
});

test('the stream gives analyze()\'s sums and saturated blocks under every rule', () => {
  const x = Float32Array.from(golden.formats['mxfp8-e4m3'].values);
  for (const mxScale of MX_SCALES) {
    const whole = qz.analyze(x, { format: 'mxfp8-e4m3', mxScale, perSample: false });
    const st = qz.stream({ format: 'mxfp8-e4m3', mxScale });
    while (!st.done) {
      for (let at = 0; at < x.length; at += 320) st.add(x.subarray(at, at + 320));
      st.next();
    }
    const r = st.finish();
    st.delete();
    assert.equal(r.format.saturatedBlocks, whole.format.saturatedBlocks, mxScale);
    assert.equal(r.metrics.clipCount, whole.metrics.clipCount, mxScale);
    assert.ok(Math.abs(r.metrics.mse - whole.metrics.mse) <= 1e-13 * whole.metrics.mse, `${mxScale}: ${r.metrics.mse} ${whole.metrics.mse}`);
  }
});

test('bad values and misplaced rules are refused at mxScale; the first module says where it is', async () => {
  const x = Float32Array.from(golden.formats.mxfp4.values.slice(0, 64));
  for (const options of [{ format: 'mxfp4', mxScale: 'round' }, { format: 'mxfp4', mxScale: 3 }, { format: 'fp8-e4m3', mxScale: 'ceil' },
    { format: 'nvfp4', mxScale: 'rceil' }, { format: 'int', mxScale: 'even' }, { profile: 'onnx', mxScale: 'ceil' },
    { profile: 'ggml', format: 'mxfp4', mxScale: 'rceil' }]) {
    assert.throws(() => qz.analyze(x, options), (e) => e instanceof QuantizerError && e.field === 'mxScale', JSON.stringify(options));
  }
  assert.throws(() => qz.stream({ format: 'int', mxScale: 'ceil' }), (e) => e.field === 'mxScale');
  assert.equal(needsFullModule({ mxScale: 'rceil' }), true);
  assert.equal(needsFullModule({ mxScale: 'floor' }), false);
  const first = await createQuantizer({ module: 'first' });
  assert.throws(() => first.analyze(x, { mxScale: 'ceil' }), (e) => e.field === 'mxScale' && /whole core/.test(e.message));
  assert.deepEqual(MX_SCALES, values(MX_SCALE_CHOICES));
  try {
    qz.analyze(x, { format: 'mxfp4', mxScale: 'round' });
  } catch (e) {
    assert.deepEqual(e.message.match(/\(use ([^)]+)\)/)[1].split(/, | or /).sort(), [...MX_SCALES].sort());
  }
});
