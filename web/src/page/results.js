// The calculator's result sections drawn from a result: the per-sample table (paged), the formulas
// with the user's numbers, the per-channel table, the stochastic table.
import { choice, FORMATS } from '../shared/choices.js';
import { el, fmt, hex, minus, num, signed } from '../shared/format.js';
import { groupUnit, paramsOfSample } from '../shared/result.js';

export const PAGE_ROWS = 100;

/** The sample indices in the table's order: 'index', or 'error' (largest |error| first, ties by index). */
export function sampleOrder(r, order) {
  if (order !== 'error') return null;
  const idx = Array.from({ length: r.values.length }, (_, i) => i);
  return idx.sort((a, b) => Math.abs(r.errors[b]) - Math.abs(r.errors[a]) || a - b);
}

/** One page of the per-sample table; `sorted` lists the indices in order (null: by index). Indices are 0-based, as frameworks print them. */
export function renderTablePage(tbody, status, r, page, sorted = null) {
  const n = r.values.length;
  const first = page * PAGE_ROWS;
  const last = Math.min(n, first + PAGE_ROWS);
  const rows = [];
  const at = paramsOfSample(r);
  for (let k = first; k < last; k++) {
    const i = sorted ? sorted[k] : k;
    const x = r.values[i];
    const p = at(i);
    const code = r.format && r.format.name !== 'nf4' ? hex(r.codes[i], r.format.bits ?? 8) : r.codes[i];
    const cells = [`[${i}]`, x, x / p.scale + p.zeroPoint, code, r.dequantized[i], r.errors[i], Math.abs(r.errors[i])];
    const tr = el('tr', { className: r.clipped[i] ? 'clipped' : '' }, ...cells.map((c) => el('td', { textContent: typeof c === 'string' ? c : fmt(c) })),
      el('td', { textContent: r.clipped[i] ? 'yes' : 'no' }));
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
  status.textContent = sorted ? `Rows ${fmt(first + 1)}–${fmt(last)} of ${fmt(n)}, largest |error| first`
    : `Samples [${fmt(first)}]–[${fmt(last - 1)}] of ${fmt(n)}`;
}

/** The formula lines with the result's own numbers substituted. */
export function formulaLines(result, options) {
  if (result.format) return formatFormulaLines(result);
  const m = result.metrics;
  const lines = {};
  // Per channel or group, the numbers are those of the one holding the largest error.
  const i = m.maxAbsErrorIndex;
  const p = paramsOfSample(result)(i);
  const r = { ...result, scale: p.scale, zeroPoint: p.zeroPoint, rangeMin: p.rangeMin, rangeMax: p.rangeMax };
  const where = result.groups ? ` (${groupUnit(result)} [${p.index}] of ${result.groups.length})` : '';
  const c = r.calibration;
  const how = c.method === 'custom' ? '' : c.method === 'minmax' ? ' (range: min-max of the samples)'
    : c.method === 'percentile' ? ` (range: ${c.percentile}th percentile${options.mode === 'symmetric' ? ' of |x|' : 's'})`
      : c.method === 'mse' ? ` (range: MSE-optimal, ${fmt(c.rangeFactor)} × min-max)` : ` (range: entropy threshold ${fmt(c.threshold)})`;
  if (options.mode === 'symmetric') {
    lines.scale = `scale = max(|${num(r.rangeMin)}|, |${num(r.rangeMax)}|) / ${r.qmax} = ${fmt(r.scale)}${how}${where}`;
    lines.zeroPoint = 'zero_point = 0 (symmetric)';
  } else {
    lines.scale = `scale = (${num(r.rangeMax)} − ${num(r.rangeMin)}) / (${num(r.qmax)} − ${num(r.qmin)}) = ${fmt(r.scale)}${how}${where}`;
    lines.zeroPoint = `zero_point = round(${num(r.qmin)} − ${num(r.rangeMin)} / ${fmt(r.scale)}) = ${minus(r.zeroPoint)}`;
  }
  const x = r.values[i];
  lines.quantize = `sample [${i}]: scaled = ${num(x)} / ${fmt(r.scale)} ${signed(r.zeroPoint)} = ${minus(x / r.scale + r.zeroPoint)}; q = clamp(round(…), ${num(r.qmin)}, ${num(r.qmax)}) = ${minus(r.codes[i])}`;
  lines.dequantize = `x̂ = (${num(r.codes[i])} − ${num(r.zeroPoint)}) × ${fmt(r.scale)} = ${minus(r.dequantized[i])}`;
  lines.metrics = `error = ${num(x)} − ${num(r.dequantized[i])} = ${minus(r.errors[i])}; MSE = ${fmt(m.mse)}; RMSE = ${fmt(m.rmse)}; MAE = ${fmt(m.mae)}; SQNR = ${fmt(m.sqnrDb)} dB`;
  return lines;
}

/** Per channel or group: a summary sentence and the table of the worst (lowest SQNR) first. */
export function renderGroups(summary, tbody, r, limit = 50) {
  const unit = groupUnit(r);
  const order = r.groups.map((g) => g).sort((a, b) => (a.metrics.sqnrDb ?? Infinity) - (b.metrics.sqnrDb ?? Infinity));
  const worst = order[0];
  const clipped = r.groups.filter((g) => g.metrics.clipCount > 0).length;
  summary.textContent = `${fmt(r.groups.length)} ${unit}s, each with its own scale and zero point. Lowest SQNR: ${unit} [${worst.index}] ` +
    `(${fmt(worst.metrics.sqnrDb)} dB)${clipped ? `; ${fmt(clipped)} ${unit}s clip` : ''}. ${order.length <= limit ? `All ${fmt(order.length)} are listed, lowest SQNR first.` : `The ${limit} worst are listed; the CSV has them all.`}`;
  tbody.replaceChildren(...order.slice(0, limit).map((g) => el('tr', {},
    ...[`[${g.index}]`, g.scale, g.zeroPoint, `[${fmt(g.rangeMin)}, ${fmt(g.rangeMax)}]`, g.metrics.sqnrDb, `${(100 * g.metrics.clipRate).toFixed(2)}%`,
      g.metrics.maxAbsError].map((c) => el('td', { textContent: typeof c === 'number' || c === null ? fmt(c) : c })))));
  return order;
}

/**
 * Stochastic rounding over seeded trials beside round-half-to-even on the same range: a sentence
 * and a table of bias, MSE and SQNR (mean ± standard deviation across the seeds).
 */
export function renderStochastic(summary, tbody, st) {
  const n = st.trials.length;
  const ratio = st.nearest.mse > 0 && st.mse.mean !== null ? st.mse.mean / st.nearest.mse : null;
  // Four significant digits: the spread across seeds makes more meaningless.
  const f4 = (v) => (v === null || !Number.isFinite(v) ? fmt(v) : String(Number(v.toPrecision(4))));
  const pm = (s) => (s.mean === null ? 'undefined' : `${f4(s.mean)} ± ${f4(s.std)}`);
  summary.textContent = `Over ${n} seeds, stochastic rounding's bias is ${pm(st.meanError)} (round half to even: ${f4(st.nearest.meanError)}): ` +
    'it is unbiased on average, since each value rounds up with probability equal to its distance from the code below' +
    (ratio === null ? '.' : `; the price is ${f4(ratio)}× the MSE of rounding to nearest.`);
  tbody.replaceChildren(
    el('tr', {}, el('th', { scope: 'row', textContent: 'Round half to even' }),
      ...[st.nearest.meanError, st.nearest.mse, st.nearest.sqnrDb].map((v) => el('td', { textContent: f4(v) }))),
    el('tr', {}, el('th', { scope: 'row', textContent: `Stochastic, ${n} seeds (mean ± std)` }),
      ...[st.meanError, st.mse, st.sqnrDb].map((s) => el('td', { textContent: pm(s) }))),
  );
}

const EMAX = { 'mxfp8-e4m3': 8, 'mxfp8-e5m2': 15, 'mxfp6-e3m2': 4, 'mxfp6-e2m3': 2, mxfp4: 2, mxint8: 0 };

// The formula lines for a float or block format, with the numbers of the sample holding the
// largest error (and its block).
function formatFormulaLines(r) {
  if (r.blocks?.bytes) return ggmlFormulaLines(r);
  const f = r.format;
  const m = r.metrics;
  const i = m.maxAbsErrorIndex;
  const p = paramsOfSample(r)(i);
  const x = r.values[i];
  const code = f.name === 'nf4' ? String(r.codes[i]) : hex(r.codes[i], f.bits ?? 8);
  const lines = {};
  const b = f.block ? Math.floor(i / f.block) : null;
  if (f.name.startsWith('mx')) {
    lines.scale = `X = 2^(floor(log2 amax) − ${EMAX[f.name]}) = ${fmt(p.scale)} for block [${b}] (samples [${b * f.block}]–[${Math.min(r.values.length, (b + 1) * f.block) - 1}]), E8M0 code ${r.blocks.code[b]}`;
  } else if (f.name === 'nvfp4') {
    lines.scale = `s₂ = amax / (448 × 6) = ${fmt(f.tensorScale)}; block [${b}]: d = E4M3(amax_block / (6 s₂)) × s₂ = ${fmt(p.scale)}`;
  } else if (f.name === 'nf4') {
    lines.scale = `a = absmax of block [${b}] (samples [${b * f.block}]–[${Math.min(r.values.length, (b + 1) * f.block) - 1}]) = ${fmt(p.scale)}`;
  } else {
    lines.scale = f.tensorScale === 1 ? 's = 1 (no tensor scale)' : `s = ${r.options.scale !== null ? 'the given scale' : `amax / ${fmt(f.max)}`} = ${fmt(f.tensorScale)}`;
  }
  lines.zeroPoint = 'zero_point: none (the format is symmetric about 0)';
  lines.quantize = f.name === 'nf4'
    ? `sample [${i}]: x / a = ${minus(x / p.scale)}; code = the nearest NF4 level = ${code}`
    : `sample [${i}]: x / s = ${minus(x / p.scale)}; code = ${f.label}(…) rounded to nearest even${f.overflowCount ? ', saturating' : ''} = ${code}`;
  lines.dequantize = `x̂ = value(${code}) × ${fmt(p.scale)} = ${minus(r.dequantized[i])}`;
  lines.metrics = `error = ${num(x)} − ${num(r.dequantized[i])} = ${minus(r.errors[i])}; MSE = ${fmt(m.mse)}; RMSE = ${fmt(m.rmse)}; MAE = ${fmt(m.mae)}; SQNR = ${fmt(m.sqnrDb)} dB`;
  return lines;
}

// llama.cpp's types: the type's equation, and the block holding the largest error as stored.
function ggmlFormulaLines(r) {
  const b = r.blocks;
  const m = r.metrics;
  const i = m.maxAbsErrorIndex;
  const k = Math.floor(i / b.blockSize);
  const x = r.values[i];
  const equation = choice(FORMATS, r.options.format)?.equation ?? 'its block scale × its code';
  const stored = [b.scale ? `d = ${fmt(b.scale[k])}` : null, b.min ? `dmin = ${fmt(b.min[k])}` : null].filter(Boolean).join(', ');
  const j = b.subScale ? Math.floor(i / b.subBlockSize) : null;
  const sub = j === null ? '' : `; sub-block [${j}]: sc·d = ${fmt(b.subScale[j])}${b.subMin ? `, m·dmin = ${fmt(b.subMin[j])}` : ''}`;
  return {
    scale: `${r.format.label}: x̂ = ${equation}; block [${k}] (samples [${k * b.blockSize}]–[${Math.min(r.values.length, (k + 1) * b.blockSize) - 1}]): ${stored || 'its scales'}${sub}`,
    zeroPoint: 'zero point: none (the type stores a scale per block, and a min where the equation has one)',
    quantize: `sample [${i}]: x = ${minus(x)}; code q = ${r.codes[i]} (ggml's search for the block, in float32 as llama.cpp runs it)`,
    dequantize: `x̂ = ${equation.replace(/, t ∈.*$/, '')} = ${minus(r.dequantized[i])}`,
    metrics: `error = ${num(x)} − ${num(r.dequantized[i])} = ${minus(r.errors[i])}; MSE = ${fmt(m.mse)}; RMSE = ${fmt(m.rmse)}; MAE = ${fmt(m.mae)}; SQNR = ${fmt(m.sqnrDb)} dB`,
  };
}
