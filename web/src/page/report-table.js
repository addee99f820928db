// The per-tensor report of a tensor file: rows sortable and filterable, the worst highlighted,
// a whole-file summary (element-weighted MSE and SQNR), CSV and JSON. Names from the file reach
// the page through textContent only.
import { csvText } from '../export/csv.js';
import { fmt } from '../shared/format.js';

// [key, header, value of a row, shown text]
export const REPORT_COLUMNS = [
  ['name', 'tensor', (r) => r.name],
  ['shape', 'shape', (r) => r.shape.length, (r) => `[${r.shape.join(', ')}]`],
  ['dtype', 'dtype', (r) => r.dtype],
  ['bitsPerWeight', 'bits/weight', (r) => r.bitsPerWeight ?? null, (r) => (r.bitsPerWeight ? fmt(r.bitsPerWeight) : '')],
  ['count', 'values', (r) => r.count],
  ['range', 'data range', (r) => r.max - r.min, (r) => (r.min === undefined ? '' : `[${fmt(r.min)}, ${fmt(r.max)}]`)],
  ['rangeUsed', 'range used', (r) => r.rangeMax - r.rangeMin, (r) => (r.rangeMin === undefined || r.rangeMin === null ? '' : `[${fmt(r.rangeMin)}, ${fmt(r.rangeMax)}]`)],
  ['scale', 'scale', (r) => r.scale, (r) => (r.scale === null || r.scale === undefined ? (r.mse === undefined ? '' : `per ${r.granularity === 'channel' ? 'channel' : 'group'}`) : fmt(r.scale))],
  ['mse', 'MSE', (r) => r.mse],
  ['sqnrDb', 'SQNR (dB)', (r) => r.sqnrDb],
  ['maxAbsError', 'max |error|', (r) => r.maxAbsError],
  ['clipRate', 'clip rate', (r) => r.clipRate, (r) => (r.clipRate === undefined ? '' : `${(100 * r.clipRate).toFixed(2)}%`)],
  ['nonFinite', 'NaN / Inf', (r) => nonFiniteCount(r), (r) => (nonFiniteCount(r) ? nonFiniteText(r.nonFinite) : '')],
];

// A recipe's report adds the type llama-quantize gives each tensor, and the weighted metrics when an imatrix is given.
export const RECIPE_COLUMNS = [
  ['recipeType', 'recipe type', (r) => r.recipeType ?? null],
  ['note', 'note', (r) => r.note ?? null],
];
export const WEIGHTED_COLUMNS = [
  ['weightedMse', 'weighted MSE', (r) => r.weightedMse ?? null],
  ['weightedSqnrDb', 'weighted SQNR (dB)', (r) => r.weightedSqnrDb ?? null],
];

// A quantized file against its original: a row per tensor matched by name.
export const COMPARE_COLUMNS = [
  ['name', 'tensor', (r) => r.name],
  ['shape', 'shape', (r) => r.shape.length, (r) => `[${r.shape.join(', ')}]`],
  ['dtype', 'dtype', (r) => r.dtype, (r) => `${r.originalDtype} → ${r.dtype}`],
  ['bitsPerWeight', 'bits/weight', (r) => r.bitsPerWeight ?? null, (r) => (r.bitsPerWeight ? fmt(r.bitsPerWeight) : '')],
  ['count', 'values', (r) => r.count],
  ['range', 'MSE', (r) => r.mse, (r) => (r.mse === undefined ? '' : fmt(r.mse))],
  ['sqnrDb', 'SQNR (dB)', (r) => r.sqnrDb],
  ['maxAbsError', 'max |error|', (r) => r.maxAbsError],
  ['cosine', 'cosine', (r) => r.cosine],
  ['weightedSqnrDb', 'weighted SQNR (dB)', (r) => r.weightedSqnrDb ?? null],
  ['verdict', 're-quantized original', (r) => (r.requantized ? r.requantized.differing : null), (r) => r.verdict ?? ''],
];

/** The columns of a report: a file's, a recipe's, or a comparison's. */
export function columnsOf(report) {
  if (report.mode === 'compare') return COMPARE_COLUMNS;
  const weighted = report.rows.some((r) => r.weightedMse !== undefined) ? WEIGHTED_COLUMNS : [];
  return [...REPORT_COLUMNS.slice(0, 3), ...(report.mode === 'recipe' ? RECIPE_COLUMNS.slice(0, 1) : []), ...REPORT_COLUMNS.slice(3), ...weighted,
    ...(report.mode === 'recipe' ? RECIPE_COLUMNS.slice(1) : [])];
}

const nonFiniteCount = (r) => (r.nonFinite ? r.nonFinite.nan + r.nonFinite.posInf + r.nonFinite.negInf : 0);
const nonFiniteText = (n) => [[n.nan, 'NaN'], [n.posInf, '+Inf'], [n.negInf, '−Inf']].filter(([k]) => k).map(([k, what]) => `${fmt(k)} ${what}`).join(', ');

/** Element-weighted MSE and SQNR over the analysed tensors. */
export function summarize(report) {
  const ok = report.rows.filter((r) => r.mse !== undefined && r.mse !== null);
  // Over the finite values: a tensor's NaN and ±Inf are counted apart, its MSE is over the rest.
  const finite = (r) => r.count - nonFiniteCount(r);
  const n = ok.reduce((a, r) => a + finite(r), 0);
  const e2 = ok.reduce((a, r) => a + r.mse * finite(r), 0);
  const x2 = ok.reduce((a, r) => a + r.sumSquares, 0);
  return { tensors: report.rows.length, analysed: ok.length, skipped: report.rows.filter((r) => r.skipped).length,
    failed: report.rows.filter((r) => r.error).length, values: n, mse: n ? e2 / n : null, sqnrDb: e2 > 0 ? 10 * Math.log10(x2 / e2) : x2 > 0 ? Infinity : null };
}

/** Rows matching the filter (a case-insensitive part of the name), sorted by a column. */
export function arrange(rows, { filter = '', sort = null, descending = false } = {}, columns = REPORT_COLUMNS) {
  const f = filter.trim().toLowerCase();
  const out = rows.filter((r) => !f || r.name.toLowerCase().includes(f));
  const column = sort && columns.find(([key]) => key === sort);
  if (column) {
    const value = column[2];
    const rank = (v) => (v === null || v === undefined || Number.isNaN(v) ? null : v);
    out.sort((a, b) => {
      const x = rank(value(a)), y = rank(value(b));
      if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1; // missing values last
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return descending ? -c : c;
    });
  }
  return out;
}

/** The tensors to flag: the lowest SQNR tenth (at least one) among those below 40 dB. */
export function worstNames(rows) {
  const ok = rows.filter((r) => typeof r.sqnrDb === 'number' && Number.isFinite(r.sqnrDb)).sort((a, b) => a.sqnrDb - b.sqnrDb);
  return new Set(ok.slice(0, Math.max(1, Math.ceil(ok.length / 10))).filter((r) => r.sqnrDb < 40).map((r) => r.name));
}

export function reportCsv(report) {
  const rows = [['tensor', 'dtype', 'shape', 'count', 'min', 'max', 'range_min', 'range_max', 'scale', 'zero_point', 'mse', 'sqnr_db', 'max_abs_error',
    'clip_rate', 'nan', 'pos_inf', 'neg_inf', 'note']];
  for (const r of report.rows) {
    rows.push([r.name, r.dtype, r.shape.join('x'), r.count, r.min ?? null, r.max ?? null, r.rangeMin ?? null, r.rangeMax ?? null, r.scale ?? null,
      r.zeroPoint ?? null, r.mse ?? null, r.sqnrDb ?? null, r.maxAbsError ?? null, r.clipRate ?? null, r.nonFinite?.nan ?? null, r.nonFinite?.posInf ?? null,
      r.nonFinite?.negInf ?? null, r.error ?? r.skipped ?? (r.partial ? 'not read: the report was cancelled' : null)]);
  }
  return csvText(rows);
}

/** A comparison's rows as CSV: every metric, the re-quantization's counts and the unmatched names. */
export function compareCsv(report) {
  const rows = [['tensor', 'dtype', 'original_dtype', 'shape', 'count', 'bits_per_weight', 'mse', 'rmse', 'mae', 'sqnr_db', 'psnr_db', 'max_abs_error',
    'mean_error', 'error_std', 'cosine', 'median_abs_error', 'p95_abs_error', 'weighted_mse', 'weighted_sqnr_db', 'unit', 'compared', 'differing',
    'verdict', 'note']];
  for (const r of report.rows) {
    const q = r.requantized;
    rows.push([r.name, r.dtype, r.originalDtype, r.shape.join('x'), r.count, r.bitsPerWeight ?? null, r.mse ?? null, r.rmse ?? null, r.mae ?? null,
      r.sqnrDb ?? null, r.psnrDb ?? null, r.maxAbsError ?? null, r.meanError ?? null, r.errorStd ?? null, r.cosine ?? null, r.medianAbsError ?? null,
      r.p95AbsError ?? null, r.weightedMse ?? null, r.weightedSqnrDb ?? null, q?.unit ?? null, q?.compared ?? null, q?.differing ?? null, r.verdict ?? null,
      r.error ?? null]);
  }
  for (const n of report.compare?.onlyOriginal ?? []) rows.push([n, ...new Array(22).fill(null), 'only in the original']);
  for (const n of report.compare?.onlyQuantized ?? []) rows.push([n, ...new Array(22).fill(null), 'only in the quantized file']);
  return csvText(rows);
}

export function reportJson(report, options) {
  return `${JSON.stringify({ file: report.file, options, summary: summarize(report), tensors: report.rows.map(({ sumSquares, ...r }) => r) }, (k, v) =>
    (v === Infinity ? 'Infinity' : v), 1)}\n`;
}

/**
 * A file's tensors ({ bytes }) in order, cut into at most `parts` runs of about equal bytes: the
 * indices each worker of a pool analyses. Each tensor is analysed whole by one worker, so the rows
 * are the same whatever the number of parts.
 */
export function partition(tensors, parts) {
  const total = tensors.reduce((a, t) => a + t.bytes, 0);
  const groups = Array.from({ length: parts }, () => []);
  let at = 0;
  tensors.forEach((t, k) => {
    const g = Math.min(parts - 1, Math.floor((at * parts) / Math.max(1, total)));
    groups[g].push(k);
    at += t.bytes;
  });
  return groups.filter((g) => g.length > 0);
}
