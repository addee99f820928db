// The vocabularies' one table each (web/src/shared/choices.js) against the core's own names: every
// value the table offers is one the core takes, and every value the core lists in its messages
// is in the table. The API's lists are the tables' values.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { CALIBRATIONS, CUSTOM_SPECIALS, DTYPES, FORMAT_SCALES, FORMATS, GRANULARITIES, MODES, OVERFLOWS, PROFILES, ROUNDINGS, values }
  from '../../web/src/shared/choices.js';
import * as api from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await api.createQuantizer();
});

const x = Float64Array.from([-1.25, -0.92, -0.51, -0.1, 0, 0.14, 0.37, 0.79, 1.12, 1.46, 0.3, -0.7]);

// The values the core names in its message for an unknown one: "(use a, b, c or d)".
function coreNames(options, field) {
  try {
    qz.analyze(x, options);
  } catch (e) {
    assert.equal(e.field, field, e.message);
    const list = e.message.match(/\(use ([^)]+)\)/)?.[1];
    assert.ok(list, `the message lists the values: ${e.message}`);
    return list.replace(/,? or llama\.cpp's /, ', ').split(/, | or /).sort(); // "…, nf4, or llama.cpp's q8_0, …"
  }
  assert.fail(`${JSON.stringify(options)} was accepted`);
}

test('each table lists exactly the values the core takes', () => {
  for (const [table, field, base] of [
    [MODES, 'mode', {}], [ROUNDINGS, 'rounding', {}], [CALIBRATIONS, 'calibration', {}], [GRANULARITIES, 'granularity', {}],
    [FORMATS, 'format', {}], [OVERFLOWS, 'overflow', { format: 'fp8-e4m3' }], [FORMAT_SCALES, 'formatScale', { format: 'fp8-e4m3' }],
    [PROFILES, 'profile', {}], [DTYPES, 'dtype', { profile: 'onnx' }],
  ]) {
    assert.deepEqual(values(table).slice().sort(), coreNames({ ...base, [field]: 'no-such-value' }, field), field);
  }
  const specials = coreNames({ format: 'custom', customFormat: { exponentBits: 4, mantissaBits: 3, bias: 7, specials: 'no-such-value' } }, 'customFormat');
  assert.deepEqual(values(CUSTOM_SPECIALS).slice().sort(), specials);
});

test('every format of the table is the core\'s: describeFormat names it, and its block is the table\'s', () => {
  for (const f of FORMATS) {
    if (f.value === 'int') continue;
    const options = f.value === 'custom' ? { format: 'custom', customFormat: { exponentBits: 4, mantissaBits: 3, bias: 7, specials: 'ieee' } } : { format: f.value };
    const d = qz.describeFormat(options);
    assert.equal(d.name, f.value);
    assert.equal(d.block ?? null, f.block ?? null, `${f.value}: block`);
    if (f.bits) assert.equal(d.bits, f.bits, `${f.value}: bits`);
    assert.equal(f.group === 'block' || f.group === 'gguf', d.block !== null && d.block !== undefined, `${f.value}: group`);
  }
});

test('the API\'s lists are the tables\' values, and every label is written once per value', () => {
  assert.deepEqual(api.FORMATS, values(FORMATS));
  assert.deepEqual(api.MODES, values(MODES));
  assert.deepEqual(api.CALIBRATIONS, values(CALIBRATIONS));
  assert.deepEqual(api.ROUNDING_RULES, values(ROUNDINGS));
  assert.deepEqual(api.PROFILES, values(PROFILES));
  for (const table of [FORMATS, MODES, ROUNDINGS, CALIBRATIONS, GRANULARITIES, PROFILES, DTYPES]) {
    assert.equal(new Set(table.map((r) => r.value)).size, table.length);
    for (const r of table) assert.ok(r.label && r.short, r.value);
  }
  // The labels that had drifted apart: one text now.
  assert.equal(ROUNDINGS.find((r) => r.value === 'half-up').label, 'Half up (toward +∞)');
  assert.equal(PROFILES.find((r) => r.value === 'formula').label, 'Textbook formulas');
});
