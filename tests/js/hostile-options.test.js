// Option names and field texts a caller or a link may send that once slipped through: names
// inherited from Object.prototype, and texts that made the form's number check backtrack.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { DEFAULTS, fromQuery, toOptions } from '../../web/src/page/form-state.js';
import { createQuantizer } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});
const SEED = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const seedExact = () => {
  const r = qz.analyze(qz.parseValues(SEED), { bits: 8, range: { min: -1.5, max: 1.5 } });
  assert.equal(r.scale, 1.5 / 127);
  assert.equal(r.metrics.maxAbsErrorIndex, 3);
};

test('option names from Object.prototype are unknown options, and the instance still computes the seed example', () => {
  for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    const options = JSON.parse(`{"${key}": 1}`);
    assert.throws(() => qz.analyze(Float64Array.of(1, 2), options), { name: 'QuantizerError', field: key, message: `Unknown option "${key}"` });
    seedExact();
  }
  assert.rejects(createQuantizer({ module: 'toString' }), { field: 'module' });
});

test('a link naming only Object.prototype keys is not a state', async () => {
  assert.equal(await fromQuery('?constructor=1&toString=2', null, ''), null);
});

test('the form\'s number check is linear: 50,000 digits and a letter checked without backtracking (it took 3 s)', () => {
  const long = `${'1'.repeat(50000)}x`;
  for (const field of ['min', 'max']) {
    const started = performance.now();
    const { problem } = toOptions({ ...DEFAULTS, [field]: long });
    assert.ok(performance.now() - started < 2000, `${field}: ${performance.now() - started} ms`);
    assert.equal(problem.field, field);
  }
  const started = performance.now();
  const { problem } = toOptions({ ...DEFAULTS, rangeSource: 'samples', calibration: 'percentile', percentile: `${'9'.repeat(50000)}x` });
  assert.ok(performance.now() - started < 2000); // a hang guard (the old check took 3 s), not a timing
  assert.equal(problem.field, 'percentile');
});
