// The verdict's sentences and the cards on real results from the API: each names the cause the
// scheme has (NF4 has no subnormals, directed rounding biases by its rule, formats without blocks
// get no advice about blocks), ENOB is (SQNR − 1.76) / 6.02, and symmetric modes show the range
// that sets the scale.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { usedRange, verdict } from '../../web/src/shared/cards.js';
import { fmt } from '../../web/src/shared/format.js';
import { createQuantizer } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

const text = (r) => verdict(r).map(([, sentence]) => sentence).join('\n');
const seed = Float64Array.from([-1.25, -0.92, -0.51, -0.1, 0, 0.14, 0.37, 0.79, 1.12, 1.46]);

test('NF4 values that round to 0 are explained by its levels, not by subnormals or an exponent', () => {
  const x = Float64Array.from({ length: 64 }, (_, i) => (i === 0 ? 10 : 0.01 * Math.sin(i + 1)));
  const r = qz.analyze(x, { format: 'nf4' });
  assert.ok(r.format.underflowCount > 0);
  const t = text(r);
  assert.match(t, /closer to 0 than to NF4's nearest nonzero levels \(−0\.0911 and 0\.0796 of the block's absmax\)/);
  assert.doesNotMatch(t, /subnormal|exponent/);
});

test('element formats get no advice about blocks; block formats do', () => {
  const x = Float64Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.37) * (i % 7 === 0 ? 30 : 1));
  const fp4 = text(qz.analyze(x, { format: 'fp4-e2m1', formatScale: 'amax' }));
  assert.doesNotMatch(fp4, /blocks/);
  const mx = text(qz.analyze(x, { format: 'mxfp4' }));
  assert.match(mx, /smaller blocks/);
});

test('directed rounding: its bias and its Δ²/3 noise are the rule\'s, not the data\'s', () => {
  const x = Float64Array.from({ length: 2000 }, (_, i) => Math.sin(i * 1.7) * 1.4);
  const r = qz.analyze(x, { bits: 4, rounding: 'floor', range: { min: -1.5, max: 1.5 } });
  const t = text(r);
  assert.match(t, /floor rounding always rounds the same way, so its error has one sign/);
  assert.doesNotMatch(t, /too coarse or too regular/, 'smooth data under floor matches the Δ²/3 model');
  const even = text(qz.analyze(x, { bits: 4, range: { min: -1.5, max: 1.5 } }));
  assert.doesNotMatch(even, /always rounds the same way/);
});

test('ENOB is (SQNR − 1.76) / 6.02 and says so', () => {
  const r = qz.analyze(seed, { bits: 8, range: { min: -1.5, max: 1.5 } });
  const enob = (r.metrics.sqnrDb - 1.76) / 6.02;
  assert.match(text(r), new RegExp(`ENOB ≈ ${enob.toFixed(1).replace('.', '\\.')} bits, by \\(SQNR − 1\\.76\\) / 6\\.02`));
});

test('Range used for symmetric min-max is [−max|x|, max|x|], the range that sets the scale', () => {
  const r = qz.analyze(seed, { bits: 8, mode: 'symmetric' });
  assert.deepEqual(usedRange(r), [-1.46, 1.46]);
  assert.equal(r.scale, 1.46 / 127);
  const a = qz.analyze(seed, { bits: 8, mode: 'asymmetric' });
  assert.deepEqual(usedRange(a), [a.rangeMin, a.rangeMax]);
});

test('numbers beyond 10^15 are written with an exponent (BF16\'s largest value is not 39 digits)', () => {
  assert.equal(fmt(qz.describeFormat({ format: 'bf16' }).max), '3.38953e+38');
  assert.equal(fmt(65504), '65\u2009504');
});
