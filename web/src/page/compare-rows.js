// The compare view: configurations as rows (field texts exactly as typed, like the form), kept
// in the URL as `compare=8,symmetric,half-even,minmax,99.99,tensor,128;4,…`. Each row borrows
// the form's samples, shape, axis, seed and custom range; all run in the worker on one copy of
// the samples. Everything a user typed reaches the page through textContent.
import { CALIBRATIONS, FORMATS, GRANULARITIES, MODES, ROUNDINGS } from '../shared/choices.js';
import { describeScheme } from '../shared/describe.js';
import { el, fmt } from '../shared/format.js';
import { toOptions } from './form-state.js';

export const ROW_FIELDS = ['bits', 'mode', 'rounding', 'calibration', 'percentile', 'granularity', 'groupSize', 'format'];
const INTEGER_ROW_FIELDS = new Set(['bits', 'mode', 'rounding', 'calibration', 'percentile', 'granularity', 'groupSize']);
export const MAX_ROWS = 12;

// A row's selects, from the vocabularies' tables (short labels: a row is narrow).
const pairs = (rows) => rows.map((r) => [r.value, r.short]);
const CHOICES = {
  mode: pairs(MODES),
  rounding: pairs(ROUNDINGS),
  calibration: [...pairs(CALIBRATIONS), ['custom', 'Custom range (form)']],
  granularity: pairs(GRANULARITIES),
  format: FORMATS.map((f) => [f.value, f.value === 'custom' ? 'Custom (form)' : f.short]),
};
const LABELS = { bits: 'Bits', mode: 'Mode', rounding: 'Rounding', calibration: 'Range', percentile: 'Percentile', granularity: 'Granularity',
  groupSize: 'Group size', format: 'Format' };

export const DEFAULT_ROWS = Object.freeze([
  { bits: '8', mode: 'symmetric', rounding: 'half-even', calibration: 'minmax', percentile: '99.99', granularity: 'tensor', groupSize: '128', format: 'int' },
  { bits: '4', mode: 'symmetric', rounding: 'half-even', calibration: 'minmax', percentile: '99.99', granularity: 'tensor', groupSize: '128', format: 'int' },
  { bits: '4', mode: 'symmetric', rounding: 'half-even', calibration: 'mse', percentile: '99.99', granularity: 'tensor', groupSize: '128', format: 'int' },
]);

/** The form's current settings as a compare row. */
export function rowFromForm(state) {
  return { bits: state.bits, mode: state.mode, rounding: state.rounding, calibration: state.rangeSource === 'custom' ? 'custom' : state.calibration,
    percentile: state.percentile, granularity: state.granularity, groupSize: state.groupSize, format: state.format ?? 'int' };
}

export function rowsToParam(rows) {
  return rows.map((r) => ROW_FIELDS.map((k) => r[k].replace(/[,;]/g, ' ')).join(',')).join(';');
}

/** Rows from the URL parameter; null when absent or unreadable (choices must be known ones). */
export function rowsFromParam(text) {
  if (typeof text !== 'string' || text === '') return null;
  const rows = [];
  for (const part of text.split(';').slice(0, MAX_ROWS)) {
    const cells = part.split(',');
    if (cells.length === ROW_FIELDS.length - 1) cells.push('int'); // links from before the Format column
    if (cells.length !== ROW_FIELDS.length) return null;
    const row = Object.fromEntries(ROW_FIELDS.map((k, i) => [k, cells[i]]));
    for (const [k, choices] of Object.entries(CHOICES)) if (!choices.some(([v]) => v === row[k])) return null;
    rows.push(row);
  }
  return rows;
}

/**
 * API options for each row with the form's shared fields, or the first problem as
 * { row, field, message }: `row` null when the problem is in the form's own field.
 */
export function rowsToOptions(rows, state) {
  const list = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const merged = { ...state, bits: r.bits, mode: r.mode, rounding: r.rounding, rangeSource: r.calibration === 'custom' ? 'custom' : 'samples',
      calibration: r.calibration === 'custom' ? state.calibration : r.calibration, percentile: r.percentile, granularity: r.granularity,
      groupSize: r.groupSize, format: r.format };
    const { options, problem } = toOptions(merged);
    if (problem) {
      const own = ROW_FIELDS.includes(problem.field);
      return { problem: { row: own ? i : null, field: problem.field, message: own ? `Configuration ${i + 1}: ${problem.message}` : problem.message } };
    }
    list.push(options);
  }
  return { list };
}

/** A short description of a configuration, such as "4-bit asymmetric, MSE-optimal range, per group of 32". */
export const describe = (options) => describeScheme(options, { short: true });

export const fieldId = (row, key) => `cmp-${row + 1}-${key}`;

/**
 * The editable rows: one table row of fields per configuration with Duplicate and Remove.
 * `on` has change(row, key, value), duplicate(row), remove(row).
 */
export function renderRows(tbody, rows, on) {
  tbody.replaceChildren(...rows.map((r, i) => {
    const cells = ROW_FIELDS.map((key) => {
      const id = fieldId(i, key);
      const label = `${LABELS[key]}, configuration ${i + 1}`;
      const input = CHOICES[key]
        ? el('select', { id, attrs: { 'aria-label': label, 'aria-describedby': `${id}-error` } },
          ...CHOICES[key].map(([value, text]) => new Option(text, value)))
        : el('input', { id, type: 'text', autocomplete: 'off', inputMode: key === 'percentile' ? 'decimal' : 'numeric',
          attrs: { 'aria-label': label, 'aria-describedby': `${id}-error` } });
      input.value = r[key];
      input.disabled = (key === 'percentile' && r.calibration !== 'percentile') || (key === 'groupSize' && r.granularity !== 'group')
        || (r.format !== 'int' && INTEGER_ROW_FIELDS.has(key));
      input.addEventListener('change', () => on.change(i, key, input.value));
      return el('td', { dataset: { label: LABELS[key] } }, input, el('p', { className: 'error', id: `${id}-error`, attrs: { role: 'alert' } }));
    });
    const actions = el('td', { className: 'row-actions' },
      el('button', { type: 'button', textContent: 'Duplicate', attrs: { 'aria-label': `Duplicate configuration ${i + 1}` },
        disabled: rows.length >= MAX_ROWS, onclick: () => on.duplicate(i) }),
      el('button', { type: 'button', textContent: 'Remove', attrs: { 'aria-label': `Remove configuration ${i + 1}` }, onclick: () => on.remove(i) }));
    const head = el('th', { scope: 'row' }, el('span', { className: 'visually-hidden', textContent: 'Configuration ' }), String(i + 1));
    return el('tr', {}, head, ...cells, actions);
  }));
}

// [data-metric, header, value of a result, which end is best: 'min' | 'max' | 'zero' | null]
export const COMPARE_COLUMNS = [
  ['sqnrDb', 'SQNR (dB)', (r) => r.metrics.sqnrDb, 'max'],
  ['mse', 'MSE', (r) => r.metrics.mse, 'min'],
  ['rmse', 'RMSE', (r) => r.metrics.rmse, 'min'],
  ['mae', 'MAE', (r) => r.metrics.mae, 'min'],
  ['maxAbsError', 'Max |error|', (r) => r.metrics.maxAbsError, 'min'],
  ['meanError', 'Bias', (r) => r.metrics.meanError, 'zero'],
  ['p95AbsError', '95th pct |error|', (r) => r.metrics.p95AbsError, 'min'],
  ['clipRate', 'Clip rate', (r) => r.metrics.clipRate, 'min'],
  ['mseClipping', 'MSE from clipping', (r) => r.metrics.mseClipping, 'min'],
  ['cosine', 'Cosine', (r) => r.metrics.cosine, 'max'],
  ['codesUsed', 'Codes used', (r) => r.metrics.codesUsed, null],
  ['step', 'Step Δ', (r) => r.metrics.step, null],
];

/** For each column, the best value among the results (null where no column is ranked or none is finite). */
export function bestValues(results) {
  return COMPARE_COLUMNS.map(([, , value, best]) => {
    if (!best) return null;
    const vs = results.filter((r) => !r.error).map(value).filter((v) => v !== null && !Number.isNaN(v));
    if (vs.length < 2) return null;
    if (best === 'zero') return vs.reduce((a, b) => (Math.abs(b) < Math.abs(a) ? b : a));
    return best === 'min' ? Math.min(...vs) : Math.max(...vs);
  });
}

/** The results table; best values get class "best" and a hidden "(best)" for screen readers. */
export function renderResults(thead, tbody, results) {
  thead.replaceChildren(el('tr', {}, el('th', { scope: 'col', textContent: '#' }), el('th', { scope: 'col', textContent: 'configuration' }),
    ...COMPARE_COLUMNS.map(([, header]) => el('th', { scope: 'col', textContent: header }))));
  const best = bestValues(results);
  tbody.replaceChildren(...results.map((r, i) => {
    const head = [el('th', { scope: 'row', textContent: String(i + 1) }), el('td', { className: 'text', textContent: r.description })];
    if (r.error) {
      return el('tr', { dataset: { config: String(i + 1) } }, ...head,
        el('td', { className: 'text error-cell', colSpan: COMPARE_COLUMNS.length, textContent: r.error }));
    }
    return el('tr', { dataset: { config: String(i + 1) } }, ...head, ...COMPARE_COLUMNS.map(([key, , value], c) => {
      const v = value(r);
      const isBest = best[c] !== null && v === best[c];
      const shown = key === 'clipRate' ? `${(100 * v).toFixed(2)}%` : fmt(v);
      const td = el('td', { className: isBest ? 'best' : '', textContent: shown, dataset: { metric: key, value: String(v) } });
      if (isBest) td.append(el('span', { className: 'visually-hidden', textContent: ' (best)' }));
      return td;
    }));
  }));
}

// The comparison as CSV: settings and every metric per configuration, one row each.
export const COMPARE_CSV_COLUMNS = ['configuration', 'description', 'format', 'bits', 'mode', 'rounding', 'calibration', 'percentile',
  'granularity', 'group_size', 'range_min', 'range_max', 'scale', 'zero_point', 'error'];

export function compareCsvRows(results) {
  const metricKeys = Object.keys(results.find((r) => !r.error)?.metrics ?? {});
  const header = [...COMPARE_CSV_COLUMNS, ...metricKeys];
  const rows = results.map((r, i) => {
    const o = r.options;
    const integer = !o.format || o.format === 'int';
    const settings = integer
      ? [i + 1, r.description, 'int', o.bits, o.mode, o.rounding, o.range ? 'custom' : o.calibration,
        o.calibration === 'percentile' && !o.range ? o.percentile : null, o.granularity ?? 'tensor', o.granularity === 'group' ? o.groupSize : null]
      : [i + 1, r.description, o.format, null, null, 'half-even', null, null, 'tensor', null];
    if (r.error) return [...settings, null, null, null, null, r.error];
    return [...settings, r.calibration.rangeMin, r.calibration.rangeMax, r.scale, r.zeroPoint, null, ...metricKeys.map((k) => r.metrics[k])];
  });
  return [header, ...rows];
}
