// Per-channel (and per-tensor) quantization against PyTorch (tests/data/torch_per_channel.json,
// written by make_torch_golden.py with Debian's python3-torch): the observers' scales and zero
// points, and the codes and x̂ of quantize_per_channel / fake_quantize_per_channel_affine, where
// the formulas and PyTorch's conventions agree (see the generator's notes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { hasTorch } from './golden.js';
import { createQuantizer } from '../../web/src/quantizer.js';

const reference = JSON.parse(readFileSync(new URL('../data/torch_per_channel.json', import.meta.url), 'utf8'));

let qz;
before(async () => {
  qz = await createQuantizer();
});

const ULP32 = 2 ** -23;
const clamp = (q) => Math.max(-128, Math.min(127, q));
const roundHalfEven = (v) => {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};

// The channel of flat sample i for a case's shape and axis.
function channelOf(c) {
  const axis = c.axis < 0 ? c.axis + c.shape.length : c.axis;
  const inner = c.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / inner) % c.shape[axis];
}

describe('per-channel against PyTorch', () => {
  for (const c of reference.cases) {
    test(c.name, () => {
      const x = Float32Array.from(c.values);
      const perTensor = c.axis === null;
      const r = qz.analyze(x, perTensor ? { bits: 8, mode: 'asymmetric', arithmetic: 'float32' }
        : { bits: 8, mode: 'asymmetric', granularity: 'channel', shape: c.shape, axis: c.axis, arithmetic: 'float32' });
      const groups = perTensor ? [r] : r.groups;
      assert.equal(groups.length, c.scale.length);
      groups.forEach((g, i) => {
        if (c.exact) assert.equal(g.scale, c.scale[i], `channel ${i} scale`);
        else assert.ok(Math.abs(g.scale - c.scale[i]) <= ULP32 * c.scale[i], `channel ${i} scale ${g.scale} vs ${c.scale[i]}`);
        assert.equal(g.zeroPoint, c.zero_point[i], `channel ${i} zero point`);
      });
      const skip = new Set(c.near_ties);
      const channel = perTensor ? () => 0 : channelOf(c);
      let compared = 0, orderTies = 0;
      for (let i = 0; i < x.length; i++) {
        if (skip.has(i)) continue;
        const g = groups[channel(i)];
        const s = x[i] / g.scale;
        if (c.exact && s - Math.floor(s) === 0.5 && g.zeroPoint % 2 !== 0) {
          // The one place the conventions part: PyTorch rounds x / scale and then adds the zero
          // point; the formulas round x / scale + zero_point. On an exact tie with an odd zero
          // point, half-to-even lands on different neighbours.
          assert.equal(c.codes[i], clamp(g.zeroPoint + roundHalfEven(s)), `sample ${i}: PyTorch rounds before adding`);
          assert.equal(r.codes[i], clamp(roundHalfEven(s + g.zeroPoint)), `sample ${i}: the formula rounds after adding`);
          orderTies++;
          continue;
        }
        assert.equal(r.codes[i], c.codes[i], `sample ${i}: code`);
        if (c.exact) assert.equal(r.dequantized[i], c.dequantized[i], `sample ${i}: x̂`);
        compared++;
      }
      if (c.exact) assert.ok(orderTies > 0, 'the data reaches the rounding-order difference');
      assert.ok(compared >= 0.6 * x.length, `${compared} of ${x.length} samples compared`);
    });
  }

  test('the exact cases hold exact ties, and PyTorch rounds them half to even as the calculator does', () => {
    const c = reference.cases.find((k) => k.exact);
    const r = qz.analyze(Float32Array.from(c.values), { bits: 8, mode: 'asymmetric', granularity: 'channel', shape: c.shape, axis: c.axis,
      arithmetic: 'float32' });
    assert.ok(r.metrics.tieCount > c.values.length / 5, `${r.metrics.tieCount} ties`);
  });

  test('the file is what its generator computes', { skip: !hasTorch() && 'no python3-torch here' }, () => {
    const script = fileURLToPath(new URL('../data/make_torch_golden.py', import.meta.url));
    assert.match(execFileSync('/usr/bin/python3', [script, '--check'], { encoding: 'utf8' }), /is what/);
  });
});

