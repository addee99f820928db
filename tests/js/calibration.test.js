// Calibration through the JS API: the numpy reference file, the MSE search's guarantee, errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';

import { CALIBRATIONS, createQuantizer, QuantizerError } from '../../web/src/quantizer.js';

const reference = JSON.parse(readFileSync(new URL('../data/calibration.json', import.meta.url), 'utf8'));
let qz;
before(async () => {
  qz = await createQuantizer();
});

const samples = (name) => {
  const d = reference.data[name];
  return d.float32 ? Float32Array.from(d.values) : Float64Array.from(d.values);
};
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b) + 1e-300, `${what}: ${a} vs ${b}`);

describe('calibration against numpy (tests/data/calibration.json)', () => {
  for (const c of reference.cases) {
    test(`${c.data}, ${c.mode}, ${c.bits} bits, ${c.calibration}${c.percentile ? ` ${c.percentile}` : ''}`, () => {
      const r = qz.analyze(samples(c.data), { bits: c.bits, mode: c.mode, calibration: c.calibration, percentile: c.percentile ?? 99.99 });
      assert.equal(r.calibration.method, c.calibration);
      close(r.calibration.rangeMin, c.rangeMin, 'range min');
      close(r.calibration.rangeMax, c.rangeMax, 'range max');
      if (c.threshold !== undefined) close(r.calibration.threshold, c.threshold, 'threshold');
    });
  }
  test('the file is what its generator computes', { skip: !existsSync('/usr/bin/python3') && 'no python3' }, () => {
    const script = fileURLToPath(new URL('../data/make_calibration_golden.py', import.meta.url));
    assert.match(execFileSync('/usr/bin/python3', [script, '--check'], { encoding: 'utf8' }), /matches/);
  });
});

describe('calibration behaviour', () => {
  test('a custom range wins over any calibration', () => {
    const r = qz.analyze(samples('laplace'), { calibration: 'entropy', range: { min: -1, max: 1 } });
    assert.equal(r.calibration.method, 'custom');
    assert.deepEqual([r.rangeMin, r.rangeMax], [-1, 1]);
  });

  test('MSE-optimal is never worse than min-max or the percentiles, on heavy-tailed data', () => {
    let s = 99;
    const u = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return ((s >>> 0) + 0.5) / 2 ** 32;
    };
    for (let trial = 0; trial < 12; trial++) {
      const x = new Float64Array(3000).map(() => {
        const v = u() - 0.5;
        const laplace = -Math.sign(v) * Math.log(1 - 2 * Math.abs(v));
        return trial % 3 === 0 ? laplace ** 3 / 4 : trial % 3 === 1 ? laplace + (u() < 0.01 ? 30 : 0) : Math.abs(laplace);
      });
      for (const mode of ['symmetric', 'asymmetric', 'asymmetric-unsigned']) {
        for (const bits of [3, 4, 8]) {
          const mse = (o) => qz.analyze(x, { bits, mode, ...o }).metrics.mse;
          const best = mse({ calibration: 'mse' });
          for (const other of [{ calibration: 'minmax' }, ...[99, 99.9, 99.99].map((p) => ({ calibration: 'percentile', percentile: p }))]) {
            assert.ok(best <= mse(other), `trial ${trial} ${mode} ${bits} bits: mse ${best} > ${JSON.stringify(other)} ${mse(other)}`);
          }
        }
      }
    }
  });

  test('diagnostics: the MSE scan curve and the KL curve', () => {
    const x = samples('laplace');
    const m = qz.analyze(x, { calibration: 'mse' }).calibration;
    assert.equal(m.curve.rangeFactor.length, 200);
    assert.ok(m.exactCandidates >= 6);
    assert.ok(m.rangeFactor > 0 && m.rangeFactor <= 1);
    const e = qz.analyze(x, { calibration: 'entropy' }).calibration;
    assert.equal(e.curve.threshold.length, e.curve.divergence.length);
    assert.equal(Math.min(...e.curve.divergence), e.divergence);
  });

  test('the MSE splits into its rounding and clipping parts', () => {
    for (const calibration of CALIBRATIONS) {
      const m = qz.analyze(samples('normal-outliers-float32'), { bits: 4, calibration, percentile: 99 }).metrics;
      assert.ok(Math.abs(m.mseRounding + m.mseClipping - m.mse) <= 1e-12 * m.mse, calibration);
      if (calibration === 'minmax') assert.equal(m.mseClipping, 0);
    }
  });

  test('bad calibration options name their field', () => {
    for (const [options, field] of [[{ calibration: 'kl' }, 'calibration'], [{ calibration: 'percentile', percentile: 120 }, 'percentile'],
      [{ percentile: 50 }, 'percentile'], [{ percentile: '99' }, 'percentile']]) {
      assert.throws(() => qz.analyze([1, 2, 3], options), (e) => e instanceof QuantizerError && e.field === field);
    }
  });
});
