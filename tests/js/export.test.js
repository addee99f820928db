// The CSV download (web/src/export/csv.js) from the API's results: the index convention (from 0,
// as frameworks print them) in every table it writes, the names of its per-channel and per-group
// rows, and its neutralised cells.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { buildCsv } from '../../web/src/export/csv.js';
import { parseCsv } from '../e2e/harness.js';
import { createQuantizer } from '../../web/src/quantizer.js';

let qz;
before(async () => {
  qz = await createQuantizer();
});

// The rows of the table whose header row starts with `first`, up to the blank row after it.
function tableAfter(rows, first) {
  const at = rows.findIndex((r) => r[0] === first);
  assert.ok(at >= 0, `a table headed ${first}`);
  const end = rows.findIndex((r, i) => i > at && r.length === 1 && r[0] === '');
  return { header: rows[at], body: rows.slice(at + 1, end < 0 ? rows.length : end) };
}

const setting = (rows, key) => rows.find((r) => r[0] === key)?.[1];

// A result as the page holds it: the API's, with the samples beside it (as the worker sends it).
const analyze = (values, options) => ({ ...qz.analyze(values, options), values });

const x = Float64Array.from({ length: 32 }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 8) / 4));
const page = (o) => ({ bits: 8, mode: 'symmetric', rounding: 'half-even', range: null, granularity: 'tensor', ...o });

describe('CSV: indices from 0', () => {
  test('the per-sample rows: index [0] is the first sample, and maxAbsErrorIndex names the row of the largest error', () => {
    const result = analyze(x, { bits: 4 });
    const rows = parseCsv(buildCsv({ name: 'w', options: page({ bits: 4 }), result }));
    assert.equal(setting(rows, 'index_base'), '0');
    const { header, body } = tableAfter(rows, 'index');
    assert.deepEqual(header, ['index', 'x', 'scaled', 'q', 'x_hat', 'error', 'abs_error', 'clipped']);
    assert.deepEqual(body.map((r) => Number(r[0])), Array.from(x, (_, i) => i));
    assert.deepEqual(body.map((r) => Number(r[1])), Array.from(x));
    const worst = Number(setting(rows, 'maxAbsErrorIndex'));
    assert.equal(worst, result.metrics.maxAbsErrorIndex);
    assert.equal(Number(body[worst][6]), result.metrics.maxAbsError, 'row [maxAbsErrorIndex] holds the largest |error|');
  });

  test('per group: group [0] is the first group, with its own scale', () => {
    const opts = { bits: 4, mode: 'asymmetric', granularity: 'group', groupSize: 8, shape: [4, 8] };
    const result = analyze(x, opts);
    const rows = parseCsv(buildCsv({ name: 'w', options: page(opts), result }));
    const { body } = tableAfter(rows, 'group');
    assert.deepEqual(body.map((r) => Number(r[0])), [0, 1, 2, 3]);
    for (const r of body) assert.equal(Number(r[1]), result.groups[Number(r[0])].scale);
    // Group [g] holds samples [8g] to [8g + 7]: its scale is theirs alone.
    assert.equal(Number(body[2][1]), qz.analyze(x.subarray(16, 24), { bits: 4, mode: 'asymmetric' }).scale);
  });

  test('a block format: block [0] holds samples [0] to [block − 1]', () => {
    const y = Float64Array.from({ length: 64 }, (_, i) => (i < 32 ? 0.01 : 10) * Math.cos(i));
    const result = analyze(y, { format: 'mxfp4' });
    const rows = parseCsv(buildCsv({ name: 'w', options: { format: 'mxfp4' }, result }));
    assert.equal(setting(rows, 'index_base'), '0');
    const { body } = tableAfter(rows, 'block');
    assert.deepEqual(body.map((r) => Number(r[0])), [0, 1]);
    assert.deepEqual(body.map((r) => Number(r[1])), Array.from(result.blocks.scale));
    assert.ok(Number(body[0][1]) < Number(body[1][1]), 'block [0] is the small first half');
    assert.deepEqual(tableAfter(rows, 'index').body.map((r) => Number(r[0])), Array.from(y, (_, i) => i));
  });
});

describe('CSV: per-channel and per-group rows say which', () => {
  test('per channel: "scale,per channel", "zero_point,per channel" and a channel table, channel [c] from 0', () => {
    const opts = { bits: 8, mode: 'asymmetric', granularity: 'channel', shape: [4, 8], axis: 0 };
    const result = analyze(x, opts);
    const text = buildCsv({ name: 'w', options: page(opts), result });
    assert.doesNotMatch(text, /per group|^group,/m);
    const rows = parseCsv(text);
    assert.equal(setting(rows, 'granularity'), 'channel');
    assert.equal(setting(rows, 'scale'), 'per channel');
    assert.equal(setting(rows, 'zero_point'), 'per channel');
    const { header, body } = tableAfter(rows, 'channel');
    assert.deepEqual(header, ['channel', 'scale', 'zero_point', 'range_min', 'range_max', 'count', 'mse', 'sqnr_db', 'clip_rate', 'max_abs_error']);
    assert.deepEqual(body.map((r) => Number(r[0])), [0, 1, 2, 3]);
    for (const r of body) {
      const g = result.groups[Number(r[0])];
      assert.deepEqual(r.slice(1, 6).map(Number), [g.scale, g.zeroPoint, g.rangeMin, g.rangeMax, 8]);
    }
  });

  test('per group: "scale,per group" and a group table', () => {
    const opts = { bits: 8, mode: 'asymmetric', granularity: 'group', groupSize: 16, shape: [2, 16] };
    const rows = parseCsv(buildCsv({ name: 'w', options: page(opts), result: analyze(x, opts) }));
    assert.equal(setting(rows, 'scale'), 'per group');
    assert.equal(setting(rows, 'zero_point'), 'per group');
    assert.deepEqual(tableAfter(rows, 'group').body.map((r) => Number(r[0])), [0, 1]);
  });

  test('cells a spreadsheet would run as formulas stay neutralised', () => {
    const text = buildCsv({ name: '=HYPERLINK("x"), +1', options: page({}), result: analyze(x, { bits: 8 }) });
    assert.equal(text.split('\r\n')[1], 'tensor,"\'=HYPERLINK(""x""), +1"');
    assert.equal(parseCsv(text)[1][1], '\'=HYPERLINK("x"), +1');
  });
});

test('the PDF spells out what its fonts lack: ≈ in the verdict, dashes and minus signs', async () => {
  const { pdfText } = await import('../../web/src/export/pdf.js');
  assert.equal(pdfText('ENOB ≈ 7.9 bits — (−1.25) … 1.5'), 'ENOB ~ 7.9 bits - (-1.25) ... 1.5');
});
