// The `pytorch` and `onnx` profiles against tests/data/profiles.json (make_profile_golden.py):
// PyTorch 1.13's observers and fake-quantize kernels, and ONNX Runtime's calibration with the
// QuantizeLinear/DequantizeLinear definitions. Scales, zero points, codes, x̂'s float32 bits and
// clip flags must be equal, bit for bit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { hasTorch } from './golden.js';
import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

const reference = JSON.parse(readFileSync(new URL('../data/profiles.json', import.meta.url), 'utf8'));

let qz;
before(async () => {
  qz = await createQuantizer();
});

describe('runtime profiles, bit for bit', () => {
  for (const c of reference.cases) {
    test(c.name, () => {
      const x = Float32Array.from(reference.data[c.data]);
      const r = qz.analyze(x, { profile: c.profile, ...c.options });
      const params = r.groups ?? [r];
      assert.deepEqual(params.map((g) => g.scale), c.scale, 'scale');
      assert.deepEqual(params.map((g) => g.zeroPoint), c.zero_point, 'zero point');
      assert.ok(r.dequantized instanceof Float32Array);
      for (let i = 0; i < x.length; i++) {
        assert.equal(r.codes[i], c.codes[i], `sample ${i}: code`);
        assert.ok(Object.is(r.dequantized[i], Math.fround(c.dequantized[i])) || r.dequantized[i] === c.dequantized[i], `sample ${i}: x̂ ${r.dequantized[i]} vs ${c.dequantized[i]}`);
        if (c.clipped) assert.equal(r.clipped[i], c.clipped[i], `sample ${i}: clipped`);
      }
      if (c.clipped) assert.equal(r.metrics.clipCount, c.clipped.reduce((a, b) => a + b, 0));
    });
  }

  test('the PyTorch profile is not the formula: on ties, x · (1/scale) and x / scale round apart', () => {
    const x = Float32Array.from(reference.data.ties);
    const torch = qz.analyze(x, { profile: 'pytorch', dtype: 'int8', mode: 'asymmetric' });
    const formula = qz.analyze(x, { mode: 'asymmetric', scale: torch.scale, zeroPoint: torch.zeroPoint, arithmetic: 'float32' });
    const differ = Array.from(x.keys()).filter((i) => torch.codes[i] !== formula.codes[i]);
    assert.ok(differ.length > 0, 'the tie data reaches the difference');
    for (const i of differ) {
      const s = x[i] / torch.scale;
      assert.ok(Math.abs(s - Math.floor(s) - 0.5) < 1e-4, `sample ${i} (x / scale = ${s}) is a tie`);
      assert.equal(Math.abs(torch.codes[i] - formula.codes[i]), 1);
    }
  });

  test('bad profile settings name their field', () => {
    const x = [0.5, -1, 2];
    for (const [options, field] of [
      [{ profile: 'tflite' }, 'profile'],
      [{ profile: 'pytorch', dtype: 'int4' }, 'dtype'],
      [{ profile: 'pytorch', dtype: 'int16' }, 'dtype'],
      [{ profile: 'pytorch', format: 'fp8-e4m3' }, 'profile'],
      [{ profile: 'pytorch', granularity: 'group', groupSize: 1 }, 'granularity'],
      [{ profile: 'onnx', qmin: -8, qmax: 7 }, 'qmin'],
      [{ profile: 'onnx', calibration: 'mse' }, 'calibration'],
      [{ profile: 'pytorch', reduceRange: 'yes' }, 'reduceRange'],
    ]) {
      assert.throws(() => qz.analyze(x, options), (e) => e instanceof QuantizerError && e.field === field, JSON.stringify(options));
    }
  });

  test('the file is what its generator computes', { skip: !hasTorch() && 'no python3-torch here' }, () => {
    const script = fileURLToPath(new URL('../data/make_profile_golden.py', import.meta.url));
    assert.match(execFileSync('/usr/bin/python3', [script, '--check'], { encoding: 'utf8' }), /is what/);
  });
});

