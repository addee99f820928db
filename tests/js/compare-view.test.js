// The compare view's rows: URL round trip, unreadable URLs, options with the form's shared fields,
// and which values count as best.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bestValues, COMPARE_COLUMNS, DEFAULT_ROWS, describe, rowsFromParam, rowsToOptions, rowsToParam } from '../../web/src/page/compare-rows.js';
import { DEFAULTS } from '../../web/src/page/form-state.js';

test('rows survive the URL; unreadable parameters give null (the defaults), not a broken row', () => {
  const rows = [...DEFAULTS_ROWS(), { bits: '3', mode: 'asymmetric-unsigned', rounding: 'stochastic', calibration: 'custom', percentile: '99.5',
    granularity: 'group', groupSize: '32', format: 'int' }, { ...DEFAULT_ROWS[0], format: 'mxfp4' }];
  assert.deepEqual(rowsFromParam(rowsToParam(rows)), rows);
  // Links from before the Format column read as integer rows.
  assert.deepEqual(rowsFromParam('4,asymmetric,half-even,mse,99.99,tensor,128'), [{ bits: '4', mode: 'asymmetric', rounding: 'half-even',
    calibration: 'mse', percentile: '99.99', granularity: 'tensor', groupSize: '128', format: 'int' }]);
  assert.equal(rowsFromParam('8,symmetric,half-even,minmax,99.99,tensor,128,fp9'), null);
  // Typed text keeps its characters except the separators.
  assert.deepEqual(rowsFromParam(rowsToParam([{ ...rows[0], bits: '8,5;x' }]))[0].bits, '8 5 x');
  for (const bad of [null, '', '8,symmetric', '8,sym,half-even,minmax,99.99,tensor,128', '8,symmetric,half-even,kl,99.99,tensor,128',
    '8,symmetric,half-even,minmax,99.99,block,128']) {
    assert.equal(rowsFromParam(bad), null, String(bad));
  }
  assert.equal(rowsFromParam(Array(20).fill(rowsToParam(DEFAULT_ROWS.slice(0, 1))).join(';')).length, 12, 'at most 12 rows');
});

const DEFAULTS_ROWS = () => DEFAULT_ROWS.map((r) => ({ ...r }));

test('rows become API options with the form\'s shape, axis, seed and custom range', () => {
  const state = { ...DEFAULTS, shape: '4,8', axis: '1', seed: '9', min: '-2', max: '3' };
  const rows = [
    { ...DEFAULT_ROWS[0], calibration: 'custom' },
    { ...DEFAULT_ROWS[1], rounding: 'stochastic', granularity: 'channel' },
    { ...DEFAULT_ROWS[2], calibration: 'percentile', percentile: '99.9', granularity: 'group', groupSize: '4' },
  ];
  const { list, problem } = rowsToOptions(rows, state);
  assert.equal(problem, undefined);
  assert.deepEqual(list[0], { bits: 8, mode: 'symmetric', rounding: 'half-even', range: { min: -2, max: 3 } });
  assert.deepEqual(list[1], { bits: 4, mode: 'symmetric', rounding: 'stochastic', seed: 9, calibration: 'minmax', granularity: 'channel', shape: [4, 8], axis: 1 });
  assert.deepEqual(list[2], { bits: 4, mode: 'symmetric', rounding: 'half-even', calibration: 'percentile', percentile: 99.9, granularity: 'group',
    shape: [4, 8], groupSize: 4 });
  assert.equal(describe(list[0]), '8-bit symmetric, custom range −2 … 3');
  assert.equal(describe(list[1]), '4-bit symmetric, min-max range, stochastic (seed 9), per channel (axis 1)');
  assert.equal(describe(list[2]), '4-bit symmetric, 99.9th percentile range, per group of 4');

  const formats = rowsToOptions([{ ...rows[0], format: 'fp8-e4m3', bits: 'ignored' }, { ...rows[0], format: 'nf4' }],
    { ...state, formatScale: 'amax', overflow: 'saturate' });
  assert.deepEqual(formats.list, [{ format: 'fp8-e4m3', overflow: 'saturate', formatScale: 'amax' }, { format: 'nf4' }]);
  assert.equal(describe(formats.list[0]), 'FP8 E4M3, amax tensor scale');
  assert.equal(describe(formats.list[1]), 'NF4');
  assert.deepEqual(rowsToOptions([rows[0], { ...rows[1], bits: '99x' }], state).problem,
    { row: 1, field: 'bits', message: 'Configuration 2: Bit depth must be a whole number from 2 to 16 (got "99x")' });
  assert.deepEqual(rowsToOptions(rows, { ...state, max: 'big' }).problem, { row: null, field: 'max', message: 'Range max must be a number (got "big")' });
});

test('best values: highest SQNR and cosine, bias nearest zero, lowest of the rest; errors and nulls ignored', () => {
  const r = (sqnrDb, mse, meanError, cosine) => ({ metrics: { sqnrDb, mse, rmse: Math.sqrt(mse), mae: mse, maxAbsError: mse, meanError,
    p95AbsError: null, clipRate: 0, mseClipping: 0, cosine, codesUsed: 3, step: 1 } });
  const results = [r(20, 0.5, -0.1, 0.9), { error: 'bad' }, r(30, 0.2, 0.05, 0.99), r(null, 0.3, -0.02, null)];
  const best = Object.fromEntries(COMPARE_COLUMNS.map(([key], i) => [key, bestValues(results)[i]]));
  assert.deepEqual(best, { sqnrDb: 30, mse: 0.2, rmse: Math.sqrt(0.2), mae: 0.2, maxAbsError: 0.2, meanError: -0.02, p95AbsError: null,
    clipRate: 0, mseClipping: 0, cosine: 0.99, codesUsed: null, step: null });
  assert.ok(bestValues([r(20, 0.5, 0, 1)]).every((v) => v === null), 'one result has nothing to beat');
});

test('a file is cut into runs of about equal bytes for the pool, every tensor in exactly one, in order', async () => {
  const { partition } = await import('../../web/src/page/report-table.js');
  const sizes = [400, 0, 100, 100, 100, 100, 50, 50, 0, 100];
  const tensors = sizes.map((bytes) => ({ bytes }));
  for (const parts of [1, 2, 3, 4, 16]) {
    const groups = partition(tensors, parts);
    assert.deepEqual(groups.flat(), sizes.map((_, k) => k), `${parts} parts`);
    assert.ok(groups.length <= parts);
  }
  assert.deepEqual(partition(tensors, 2), [[0, 1, 2], [3, 4, 5, 6, 7, 8, 9]]);
  assert.deepEqual(partition([], 3), []);
});
