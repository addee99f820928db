import { groupUnit, paramsOfSample } from './state.js';

// Drawing the results: metric cards, the verdict, the per-sample table (paged), the formulas
// with the user's numbers. Everything the user typed goes in through textContent.
export const fmt = (v) => {
  if (v === null || v === undefined) return 'undefined';
  if (v === Infinity) return '∞ (lossless)';
  if (Number.isInteger(v)) return v.toLocaleString('en').replace(/,/g, '\u2009');
  return String(Number(v.toPrecision(6)));
};

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
};

// [data-metric name, label, value of a result, shown text (optional)]
const CARDS = [
  ['scale', 'Scale', (r) => r.scale, (r) => (r.groups ? `per ${groupUnit(r)}: mean ${fmt(r.metrics.step)}` : fmt(r.scale))],
  ['zeroPoint', 'Zero point', (r) => r.zeroPoint, (r) => (r.groups ? `per ${groupUnit(r)} (${fmt(r.groups.length)})` : fmt(r.zeroPoint))],
  ['qRange', 'Code range', (r) => r.qmax - r.qmin + 1, (r) => `[${r.qmin}, ${r.qmax}]`],
  ['step', 'Step Δ', (r) => r.metrics.step],
  ['rangeUsed', 'Range used', (r) => r.rangeMax - r.rangeMin, (r) => `[${fmt(r.rangeMin)}, ${fmt(r.rangeMax)}]`],
  ['mse', 'MSE', (r) => r.metrics.mse],
  ['rmse', 'RMSE', (r) => r.metrics.rmse],
  ['mae', 'MAE', (r) => r.metrics.mae],
  ['maxAbsError', 'Max |error|', (r) => r.metrics.maxAbsError, (r) => `${fmt(r.metrics.maxAbsError)} (sample ${r.metrics.maxAbsErrorIndex + 1})`],
  ['meanError', 'Bias (mean error)', (r) => r.metrics.meanError],
  ['errorStd', 'Error std', (r) => r.metrics.errorStd],
  ['sqnrDb', 'SQNR (dB)', (r) => r.metrics.sqnrDb],
  ['psnrDb', 'Peak SQNR (dB)', (r) => r.metrics.psnrDb],
  ['clipCount', 'Clipped samples', (r) => r.metrics.clipCount],
  ['clipRate', 'Clip rate', (r) => r.metrics.clipRate, (r) => `${(100 * r.metrics.clipRate).toFixed(2)}%`],
  ['codesUsed', 'Codes used', (r) => r.metrics.codesUsed, (r) => `${fmt(r.metrics.codesUsed)} of ${fmt(r.qmax - r.qmin + 1)}`],
  ['mseRounding', 'MSE from rounding', (r) => r.metrics.mseRounding],
  ['mseClipping', 'MSE from clipping', (r) => r.metrics.mseClipping],
  ['uniformNoise', 'Δ²/12 (uniform noise)', (r) => r.metrics.uniformNoise],
  ['medianAbsError', 'Median |error|', (r) => r.metrics.medianAbsError],
  ['p95AbsError', '95th percentile |error|', (r) => r.metrics.p95AbsError],
  ['cosine', 'Cosine similarity', (r) => r.metrics.cosine],
  ['codeEntropyBits', 'Code entropy (bits)', (r) => r.metrics.codeEntropyBits],
  ['tieCount', 'Exact ties', (r) => r.metrics.tieCount],
];

// Float and block formats: their own parameters, then the metrics that apply to any format.
const FORMAT_CARDS = [
  ['format', 'Format', (r) => r.format.name, (r) => r.format.label],
  ['tensorScale', 'Tensor scale', (r) => r.format.tensorScale],
  ['blockScales', 'Block scales', (r) => r.blocks?.scale.length ?? 0,
    (r) => (r.blocks ? `${fmt(r.blocks.scale.length)} blocks of ${r.format.block}, ${fmt(Math.min(...r.blocks.scale))} … ${fmt(Math.max(...r.blocks.scale))}` : 'none')],
  ['overflowCount', 'Overflowed', (r) => r.format.overflowCount],
  ['underflowCount', 'Underflowed to 0', (r) => r.format.underflowCount],
  ['subnormalCount', 'Subnormal codes', (r) => r.format.subnormalCount],
];
const INTEGER_ONLY = new Set(['scale', 'zeroPoint', 'qRange', 'step', 'rangeUsed', 'uniformNoise', 'tieCount']);

/** The metric cards; `keys` (data-metric names) picks some, in the cards' own order. */
export function renderCards(container, r, keys = null) {
  const all = r.format ? [...FORMAT_CARDS, ...CARDS.filter(([key]) => !INTEGER_ONLY.has(key))] : CARDS;
  const cards = keys ? all.filter(([key]) => keys.includes(key)) : all;
  container.replaceChildren(
    ...cards.map(([key, label, value, shown]) => {
      const v = value(r);
      return el('div', { className: 'card' }, el('dt', { textContent: label }),
        el('dd', { textContent: shown ? shown(r) : fmt(v), dataset: { metric: key, value: String(v) } }));
    }),
  );
}

/** Plain-language reading of the numbers: [severity, sentence] pairs, most important first. */
export function verdict(r) {
  const m = r.metrics;
  const out = [];
  if (r.format) return formatVerdict(r, out);
  const levels = r.qmax - r.qmin + 1;
  if (m.clipRate > 0.01) {
    out.push(['warn', `${(100 * m.clipRate).toFixed(1)}% of the samples were clipped: the range is too narrow for this data. Widen it or derive it from the samples.`]);
  } else if (m.clipCount > 0) {
    out.push(['note', `${m.clipCount} sample${m.clipCount > 1 ? 's were' : ' was'} clipped (${(100 * m.clipRate).toFixed(2)}%): acceptable for outliers, but check them.`]);
  }
  if (m.mse > 0 && m.mseClipping > 0) {
    const share = m.mseClipping / m.mse;
    if (share >= 0.5) out.push(['warn', `Clipping causes ${(100 * share).toFixed(0)}% of the error: widen the range.`]);
    else out.push(['note', `Rounding causes ${(100 * (1 - share)).toFixed(0)}% of the error and clipping ${(100 * share).toFixed(0)}%.`]);
  }
  if (m.mseRounding > 0 && m.clipCount < m.count) {
    const perSample = (m.mseRounding * m.count) / (m.count - m.clipCount);
    const ratio = perSample / m.uniformNoise;
    if (ratio > 1.5 || ratio < 0.5) {
      out.push(['note', `The rounding error of the unclipped samples is ${ratio.toFixed(2)}× the uniform-noise model Δ²/12: the data is too coarse or too regular for that model.`]);
    }
  }
  if (m.codesUsed > 0 && m.count >= levels && m.codesUsed < levels / 4) {
    out.push(['warn', `Only ${m.codesUsed} of ${levels} codes are used: the range is much wider than the data, which wastes resolution. Narrow it.`]);
  }
  if (m.sqnrDb === Infinity) out.push(['good', 'Every sample is reconstructed exactly: no quantization error.']);
  else if (m.sqnrDb === null) out.push(['note', 'The samples are all zero, so SQNR is undefined.']);
  else if (m.sqnrDb >= 40) out.push(['good', `SQNR ${m.sqnrDb.toFixed(1)} dB: the signal is well preserved (about ${(m.sqnrDb / 6.02).toFixed(1)} effective bits).`]);
  else if (m.sqnrDb >= 20) out.push(['note', `SQNR ${m.sqnrDb.toFixed(1)} dB: noticeable error; sensitive layers may lose accuracy. Try more bits or a tighter range.`]);
  else out.push(['warn', `SQNR ${m.sqnrDb.toFixed(1)} dB: the error is large relative to the signal. Use more bits or a better range.`]);
  if (m.rmse > 0 && Math.abs(m.meanError) > 0.5 * m.rmse) {
    out.push(['note', `The error has a bias of ${fmt(m.meanError)} (more than half its RMS): the rounding or the range shifts values one way.`]);
  }
  return out;
}

function sqnrSentence(m, out, advice) {
  if (m.sqnrDb === Infinity) out.push(['good', 'Every sample is reconstructed exactly: no quantization error.']);
  else if (m.sqnrDb === null) out.push(['note', 'SQNR is undefined: the samples are all zero, or a value overflowed to NaN.']);
  else if (m.sqnrDb >= 40) out.push(['good', `SQNR ${m.sqnrDb.toFixed(1)} dB: the signal is well preserved (about ${(m.sqnrDb / 6.02).toFixed(1)} effective bits).`]);
  else if (m.sqnrDb >= 20) out.push(['note', `SQNR ${m.sqnrDb.toFixed(1)} dB: noticeable error; sensitive layers may lose accuracy. ${advice}`]);
  else out.push(['warn', `SQNR ${m.sqnrDb.toFixed(1)} dB: the error is large relative to the signal. ${advice}`]);
}

function formatVerdict(r, out) {
  const m = r.metrics;
  const f = r.format;
  const share = (k) => `${(100 * k / m.count).toFixed(k / m.count < 0.01 ? 2 : 1)}%`;
  if (f.overflowCount > 0) {
    const where = r.blocks ? 'the block scale leaves no headroom for them' : `they lie beyond ±${fmt(f.max * f.tensorScale)}`;
    const fix = r.blocks ? 'this is how the format behaves' : f.tensorScale === 1 ? 'use Tensor scale: amax, or a format with more range' : 'use a format with more range';
    out.push([f.overflowCount / m.count > 0.01 ? 'warn' : 'note',
      `${fmt(f.overflowCount)} value${f.overflowCount > 1 ? 's' : ''} (${share(f.overflowCount)}) overflowed: ${where}; ${fix}.`]);
  }
  if (f.underflowCount > 0) {
    out.push([f.underflowCount / m.count > 0.01 ? 'warn' : 'note',
      `${fmt(f.underflowCount)} nonzero value${f.underflowCount > 1 ? 's' : ''} (${share(f.underflowCount)}) became 0: they are below half the smallest subnormal. A tensor scale or a format with a wider exponent keeps them.`]);
  }
  if (f.subnormalCount > 0) out.push(['note', `${fmt(f.subnormalCount)} value${f.subnormalCount > 1 ? 's are' : ' is'} subnormal (${share(f.subnormalCount)}), with fewer significant bits than the rest.`]);
  sqnrSentence(m, out, 'Try a format with more mantissa bits, or smaller blocks.');
  return out;
}

export function renderVerdict(container, r) {
  container.replaceChildren(...verdict(r).map(([kind, text]) => el('p', { className: `verdict ${kind}`, textContent: text })));
}

export const PAGE_ROWS = 100;

export function renderTablePage(tbody, status, r, page) {
  const n = r.values.length;
  const first = page * PAGE_ROWS;
  const last = Math.min(n, first + PAGE_ROWS);
  const rows = [];
  const at = paramsOfSample(r);
  for (let i = first; i < last; i++) {
    const x = r.values[i];
    const p = at(i);
    const code = r.format && r.format.name !== 'nf4' ? hex(r.codes[i], r.format.bits ?? 8) : r.codes[i];
    const cells = [i + 1, x, x / p.scale + p.zeroPoint, code, r.dequantized[i], r.errors[i], Math.abs(r.errors[i])];
    const tr = el('tr', { className: r.clipped[i] ? 'clipped' : '' }, ...cells.map((c) => el('td', { textContent: typeof c === 'string' ? c : fmt(c) })),
      el('td', { textContent: r.clipped[i] ? 'yes' : 'no' }));
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
  status.textContent = `Samples ${fmt(first + 1)}–${fmt(last)} of ${fmt(n)}`;
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
  const where = result.groups ? ` (${groupUnit(result)} ${p.index + 1} of ${result.groups.length})` : '';
  const c = r.calibration;
  const how = c.method === 'custom' ? '' : c.method === 'minmax' ? ' (range: min-max of the samples)'
    : c.method === 'percentile' ? ` (range: ${c.percentile}th percentile${options.mode === 'symmetric' ? ' of |x|' : 's'})`
      : c.method === 'mse' ? ` (range: MSE-optimal, ${fmt(c.rangeFactor)} × min-max)` : ` (range: entropy threshold ${fmt(c.threshold)})`;
  if (options.mode === 'symmetric') {
    lines.scale = `scale = max(|${fmt(r.rangeMin)}|, |${fmt(r.rangeMax)}|) / ${r.qmax} = ${fmt(r.scale)}${how}${where}`;
    lines.zeroPoint = 'zero_point = 0 (symmetric)';
  } else {
    lines.scale = `scale = (${fmt(r.rangeMax)} − ${fmt(r.rangeMin)}) / (${r.qmax} − ${r.qmin}) = ${fmt(r.scale)}${how}${where}`;
    lines.zeroPoint = `zero_point = round(${r.qmin} − ${fmt(r.rangeMin)} / ${fmt(r.scale)}) = ${r.zeroPoint}`;
  }
  const x = r.values[i];
  lines.quantize = `sample ${i + 1}: scaled = ${fmt(x)} / ${fmt(r.scale)} + ${r.zeroPoint} = ${fmt(x / r.scale + r.zeroPoint)}; q = clamp(round(…), ${r.qmin}, ${r.qmax}) = ${r.codes[i]}`;
  lines.dequantize = `x̂ = (${r.codes[i]} − ${r.zeroPoint}) × ${fmt(r.scale)} = ${fmt(r.dequantized[i])}`;
  lines.metrics = `error = ${fmt(x)} − ${fmt(r.dequantized[i])} = ${fmt(r.errors[i])}; MSE = ${fmt(m.mse)}; RMSE = ${fmt(m.rmse)}; MAE = ${fmt(m.mae)}; SQNR = ${fmt(m.sqnrDb)} dB`;
  return lines;
}

/** Per channel or group: a summary sentence and the table of the worst (lowest SQNR) first. */
export function renderGroups(summary, tbody, r, limit = 50) {
  const unit = groupUnit(r);
  const order = r.groups.map((g) => g).sort((a, b) => (a.metrics.sqnrDb ?? Infinity) - (b.metrics.sqnrDb ?? Infinity));
  const worst = order[0];
  const clipped = r.groups.filter((g) => g.metrics.clipCount > 0).length;
  summary.textContent = `${fmt(r.groups.length)} ${unit}s, each with its own scale and zero point. Lowest SQNR: ${unit} ${worst.index + 1} ` +
    `(${fmt(worst.metrics.sqnrDb)} dB)${clipped ? `; ${fmt(clipped)} ${unit}s clip` : ''}. The ${Math.min(limit, order.length)} worst are listed; the CSV has them all.`;
  tbody.replaceChildren(...order.slice(0, limit).map((g) => el('tr', {},
    ...[g.index + 1, g.scale, g.zeroPoint, `[${fmt(g.rangeMin)}, ${fmt(g.rangeMax)}]`, g.metrics.sqnrDb, `${(100 * g.metrics.clipRate).toFixed(2)}%`,
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
  const pm = (s) => (s.mean === null ? 'undefined' : `${fmt(s.mean)} ± ${fmt(s.std)}`);
  summary.textContent = `Over ${n} seeds, stochastic rounding's bias is ${pm(st.meanError)} (round half to even: ${fmt(st.nearest.meanError)}): ` +
    'it is unbiased on average, since each value rounds up with probability equal to its distance from the code below' +
    (ratio === null ? '.' : `; the price is ${fmt(ratio)}× the MSE of rounding to nearest.`);
  tbody.replaceChildren(
    el('tr', {}, el('th', { scope: 'row', textContent: 'Round half to even' }),
      ...[st.nearest.meanError, st.nearest.mse, st.nearest.sqnrDb].map((v) => el('td', { textContent: fmt(v) }))),
    el('tr', {}, el('th', { scope: 'row', textContent: `Stochastic, ${n} seeds (mean ± std)` }),
      ...[st.meanError, st.mse, st.sqnrDb].map((s) => el('td', { textContent: pm(s) }))),
  );
}

export const hex = (code, bits) => `0x${code.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), '0')}`;

const BLOCK_RULES = {
  mx: (b) => `Each block of ${b} values shares a power-of-two scale (E8M0) 2^(floor(log2 amax) − emax); elements saturate.`,
  nvfp4: () => 'Each block of 16 values shares an FP8 E4M3 scale (amax / 6, under a float32 tensor scale amax / (448·6)); elements saturate.',
  nf4: () => 'Each block of 64 values is scaled by its absmax (float32) to [−1, 1] and rounded to the nearest of 16 NormalFloat levels.',
};

/** One paragraph of a format's definition and limits, from qz.describeFormat. */
export function formatSummary(f) {
  if (f.name === 'nf4') return `${f.label}: 4-bit codes. ${BLOCK_RULES.nf4()} Source: ${f.source}.`;
  if (f.name === 'mxint8') {
    return `${f.label}: 8-bit two's-complement elements times 2^−6 (−1.984375 … 1.984375, saturating at ±127). ${BLOCK_RULES.mx(f.block)} Source: ${f.source}.`;
  }
  const nan = f.nanCode === null ? 'no NaN' : `NaN ${hex(f.nanCode, f.bits)}${f.specials === 'ieee' ? ' (and the other codes with an all-ones exponent)' : ''}`;
  const inf = f.infCode === null ? 'no Inf' : `Inf ${hex(f.infCode, f.bits)}`;
  const block = f.block === null ? '' : ` ${f.name === 'nvfp4' ? BLOCK_RULES.nvfp4() : BLOCK_RULES.mx(f.block)}`;
  return `${f.label}: ${f.bits} bits — 1 sign, ${f.exponentBits} exponent, ${f.mantissaBits} mantissa, bias ${f.bias}. ` +
    `Largest ${fmt(f.max)}; smallest normal ${fmt(f.minNormal)}; smallest subnormal ${fmt(f.minSubnormal)}; ${nan}; ${inf}. ` +
    `Rounding to nearest, ties to even.${block} Source: ${f.source}.`;
}

const EMAX = { 'mxfp8-e4m3': 8, 'mxfp8-e5m2': 15, 'mxfp6-e3m2': 4, 'mxfp6-e2m3': 2, mxfp4: 2, mxint8: 0 };

// The formula lines for a float or block format, with the numbers of the sample holding the
// largest error (and its block).
function formatFormulaLines(r) {
  const f = r.format;
  const m = r.metrics;
  const i = m.maxAbsErrorIndex;
  const p = paramsOfSample(r)(i);
  const x = r.values[i];
  const code = f.name === 'nf4' ? String(r.codes[i]) : hex(r.codes[i], f.bits ?? 8);
  const lines = {};
  const b = f.block ? Math.floor(i / f.block) : null;
  if (f.name.startsWith('mx')) {
    lines.scale = `X = 2^(floor(log2 amax) − ${EMAX[f.name]}) = ${fmt(p.scale)} for block ${b + 1} (samples ${b * f.block + 1}–${Math.min(r.values.length, (b + 1) * f.block)}), E8M0 code ${r.blocks.code[b]}`;
  } else if (f.name === 'nvfp4') {
    lines.scale = `s₂ = amax / (448 × 6) = ${fmt(f.tensorScale)}; block ${b + 1}: d = E4M3(amax_block / (6 s₂)) × s₂ = ${fmt(p.scale)}`;
  } else if (f.name === 'nf4') {
    lines.scale = `a = absmax of block ${b + 1} (samples ${b * f.block + 1}–${Math.min(r.values.length, (b + 1) * f.block)}) = ${fmt(p.scale)}`;
  } else {
    lines.scale = f.tensorScale === 1 ? 's = 1 (no tensor scale)' : `s = ${r.options.scale !== null ? 'the given scale' : `amax / ${fmt(f.max)}`} = ${fmt(f.tensorScale)}`;
  }
  lines.zeroPoint = 'zero_point: none (the format is symmetric about 0)';
  lines.quantize = f.name === 'nf4'
    ? `sample ${i + 1}: x / a = ${fmt(x / p.scale)}; code = the nearest NF4 level = ${code}`
    : `sample ${i + 1}: x / s = ${fmt(x / p.scale)}; code = ${f.label}(…) rounded to nearest even${f.overflowCount ? ', saturating' : ''} = ${code}`;
  lines.dequantize = `x̂ = value(${code}) × ${fmt(p.scale)} = ${fmt(r.dequantized[i])}`;
  lines.metrics = `error = ${fmt(x)} − ${fmt(r.dequantized[i])} = ${fmt(r.errors[i])}; MSE = ${fmt(m.mse)}; RMSE = ${fmt(m.rmse)}; MAE = ${fmt(m.mae)}; SQNR = ${fmt(m.sqnrDb)} dB`;
  return lines;
}
