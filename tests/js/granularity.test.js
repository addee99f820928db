// Per-channel and per-group quantization through the JS API.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

const x = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 64) / 8));

test('per-group: one scale and zero point per group, each as its own per-tensor analysis', () => {
  const r = qz.analyze(x, { bits: 4, mode: 'asymmetric', granularity: 'group', groupSize: 128, shape: [32, 128] });
  assert.equal(r.scale, null);
  assert.equal(r.zeroPoint, null);
  assert.equal(r.groups.length, 32);
  for (const g of [r.groups[0], r.groups[17], r.groups[31]]) {
    const alone = qz.analyze(x.subarray(g.index * 128, (g.index + 1) * 128), { bits: 4, mode: 'asymmetric' });
    assert.equal(g.scale, alone.scale);
    assert.equal(g.zeroPoint, alone.zeroPoint);
    assert.deepEqual([g.rangeMin, g.rangeMax], [alone.rangeMin, alone.rangeMax]);
    assert.ok(Math.abs(g.metrics.mse - alone.metrics.mse) <= 1e-12 * alone.metrics.mse);
    assert.equal(g.metrics.count, 128);
    assert.deepEqual(r.codes.subarray(g.index * 128, (g.index + 1) * 128), alone.codes);
  }
  // The same numbers as typed-array columns.
  const c = r.groupColumns;
  assert.equal(c.count, 128);
  for (const g of [r.groups[0], r.groups[31]]) {
    assert.equal(c.scale[g.index], g.scale);
    assert.equal(c.zeroPoint[g.index], g.zeroPoint);
    assert.equal(c.sumSquaredError[g.index] / 128, g.metrics.mse);
    assert.equal(10 * Math.log10(c.sumSquaredSignal[g.index] / c.sumSquaredError[g.index]), g.metrics.sqnrDb);
    assert.equal(c.maxAbsError[g.index], g.metrics.maxAbsError);
  }
  assert.equal(qz.analyze(x, { bits: 4 }).groupColumns, null);
  const tensor = qz.analyze(x, { bits: 4, mode: 'asymmetric' });
  assert.ok(r.metrics.mse < tensor.metrics.mse, 'groups fit the data better than one range');
});

test('per-channel along an axis', () => {
  const r = qz.analyze(x, { granularity: 'channel', shape: [16, 4, 64], axis: 1 });
  assert.equal(r.groups.length, 4);
  assert.equal(r.groups.reduce((s, g) => s + g.metrics.count, 0), x.length);
  const channel1 = [];
  for (let o = 0; o < 16; o++) channel1.push(...x.subarray((o * 4 + 1) * 64, (o * 4 + 2) * 64));
  assert.equal(r.groups[1].scale, qz.analyze(Float32Array.from(channel1)).scale);
});

test('bad layouts name their field', () => {
  const cases = [
    [{ shape: [64, 3, 3, 3] }, 'shape', /^Shape 64×3×3×3 holds 1728 values, but there are 4096 samples$/],
    [{ shape: 'x' }, 'shape'],
    [{ granularity: 'channel' }, 'shape'],
    [{ granularity: 'channel', shape: [64, 64], axis: 2 }, 'axis'],
    [{ granularity: 'group', groupSize: 100 }, 'groupSize', /^Group size 100 does not divide the last dimension \(4096\)$/],
    [{ granularity: 'group', groupSize: 1.5 }, 'groupSize'],
    [{ granularity: 'group', groupSize: 64, calibration: 'mse' }, 'calibration'],
    [{ granularity: 'group', groupSize: 64, range: { min: -1, max: 1 } }, 'range.min'],
    [{ granularity: 'block' }, 'granularity'],
  ];
  for (const [options, field, message] of cases) {
    assert.throws(() => qz.analyze(x, options), (e) => e instanceof QuantizerError && e.field === field && (!message || message.test(e.message)),
      JSON.stringify(options));
  }
});
