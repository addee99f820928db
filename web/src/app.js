// The starting page: the form, one analyze() call, the metrics and the per-sample table.
// User text reaches the page only through textContent.
import { createQuantizer, QuantizerError } from './quantizer.js';

const $ = (id) => document.getElementById(id);
const form = $('form');
const MAX_ROWS = 1000;

// Error fields of the API → the input that shows the message.
const FIELD_INPUT = { values: 'values', bits: 'bits', 'range.min': 'range-min', 'range.max': 'range-max', range: 'range-min' };

const METRICS = [
  ['scale', 'Scale (step Δ)'], ['zeroPoint', 'Zero point'], ['qRange', 'Code range'], ['rangeUsed', 'Range used'],
  ['mse', 'MSE'], ['rmse', 'RMSE'], ['mae', 'MAE'], ['maxAbsError', 'Max |error|'], ['meanError', 'Mean error (bias)'],
  ['errorStd', 'Error std'], ['sqnrDb', 'SQNR (dB)'], ['psnrDb', 'Peak SQNR (dB)'], ['clipRate', 'Clipped'],
  ['uniformNoise', 'Δ²/12 (uniform noise)'], ['medianAbsError', 'Median |error|'], ['p95AbsError', '95th pct |error|'],
  ['cosine', 'Cosine similarity'], ['codesUsed', 'Codes used'], ['codeEntropyBits', 'Code entropy (bits)'], ['tieCount', 'Ties'],
];

const fmt = (v) => (v === null ? 'undefined' : v === Infinity ? '∞ (lossless)' : String(Number(v.toPrecision(6))));

function showError(field, message) {
  const id = FIELD_INPUT[field] ?? 'values';
  $(id).setAttribute('aria-invalid', 'true');
  $(`${id}-error`).textContent = message;
  $(id).focus();
}

function clearErrors() {
  for (const id of new Set(Object.values(FIELD_INPUT))) {
    $(id).removeAttribute('aria-invalid');
    $(`${id}-error`).textContent = '';
  }
}

// One number from a text field, with the same rules as the samples; '' → null.
function readNumber(qz, id, label) {
  const text = $(id).value.trim();
  if (text === '') return null;
  let v;
  try {
    v = qz.parseValues(text);
  } catch {
    throw new QuantizerError(`${label} must be a number (got "${text}")`, id === 'range-min' ? 'range.min' : 'range.max');
  }
  if (v.length !== 1) throw new QuantizerError(`${label} must be one number`, id === 'range-min' ? 'range.min' : 'range.max');
  return v[0];
}

function readOptions(qz) {
  const bits = Number($('bits').value);
  const min = readNumber(qz, 'range-min', 'Range min');
  const max = readNumber(qz, 'range-max', 'Range max');
  if ((min === null) !== (max === null)) {
    throw new QuantizerError('Enter both Range min and Range max, or neither to use the samples', min === null ? 'range.min' : 'range.max');
  }
  return { bits, mode: $('mode').value, rounding: $('rounding').value, range: min === null ? null : { min, max } };
}

function render(r, x) {
  const m = r.metrics;
  const values = { ...m, scale: r.scale, zeroPoint: r.zeroPoint, qRange: `[${r.qmin}, ${r.qmax}]`,
    rangeUsed: `[${fmt(r.rangeMin)}, ${fmt(r.rangeMax)}]`,
    clipRate: `${m.clipCount} of ${m.count} (${(100 * m.clipRate).toFixed(2)}%)`,
    codesUsed: `${m.codesUsed} of ${r.qmax - r.qmin + 1}`,
    maxAbsError: `${fmt(m.maxAbsError)} (sample ${m.maxAbsErrorIndex + 1})` };
  const dl = $('metrics');
  dl.replaceChildren(...METRICS.map(([key, label]) => {
    const div = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = label;
    dd.textContent = typeof values[key] === 'string' ? values[key] : fmt(values[key]);
    dd.dataset.metric = key;
    if (typeof values[key] === 'number' || values[key] === null) dd.dataset.value = String(values[key]);
    div.append(dt, dd);
    return div;
  }));
  const rows = [];
  for (let i = 0; i < Math.min(x.length, MAX_ROWS); i++) {
    const tr = document.createElement('tr');
    if (r.clipped[i]) tr.className = 'clipped';
    for (const cell of [i + 1, x[i], x[i] / r.scale + r.zeroPoint, r.codes[i], r.dequantized[i], r.errors[i], r.clipped[i] ? 'yes' : '']) {
      const td = document.createElement('td');
      td.textContent = typeof cell === 'number' ? fmt(cell) : cell;
      tr.append(td);
    }
    rows.push(tr);
  }
  if (x.length > MAX_ROWS) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 7;
    td.textContent = `… and ${x.length - MAX_ROWS} more samples`;
    tr.append(td);
    rows.push(tr);
  }
  $('samples').tBodies[0].replaceChildren(...rows);
  $('results').hidden = false;
}

const quantizer = createQuantizer();
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const qz = await quantizer;
  try {
    const x = qz.parseValues($('values').value);
    const r = qz.analyze(x, readOptions(qz));
    render(r, x);
  } catch (e) {
    if (!(e instanceof QuantizerError)) throw e;
    showError(e.field, e.message);
  }
});
quantizer.then(
  () => form.requestSubmit(),
  (e) => {
    $('values-error').textContent = `The calculator could not start in this browser (it needs WebAssembly with SIMD): ${e.message ?? e}`;
  },
);
