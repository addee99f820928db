// A result in words and numbers: the metric cards, the verdict and a format's definition, shared by
// the page, the component and the exports.
import { ROUNDINGS, shortOf } from './choices.js';
import { el, fmt, hex } from './format.js';
import { groupUnit } from './result.js';

// The range that sets the scale: symmetric modes use [−max|x|, max|x|] of the range chosen.
export function usedRange(r) {
  if (r.options?.mode !== 'symmetric' || r.groups) return [r.rangeMin, r.rangeMax];
  const a = Math.max(Math.abs(r.rangeMin), Math.abs(r.rangeMax));
  return [-a, a];
}

// ENOB: the bits an ideal uniform quantizer of a full-scale sine needs for this SQNR, (SQNR − 1.76) / 6.02.
const enob = (db) => (db - 1.76) / 6.02;

// [data-metric name, label, value of a result, shown text (optional)]
const CARDS = [
  ['scale', 'Scale', (r) => r.scale, (r) => (r.groups ? `per ${groupUnit(r)}: mean ${fmt(r.metrics.step)}` : fmt(r.scale))],
  ['zeroPoint', 'Zero point', (r) => r.zeroPoint, (r) => (r.groups ? `per ${groupUnit(r)} (${fmt(r.groups.length)})` : fmt(r.zeroPoint))],
  ['qRange', 'Code range', (r) => r.qmax - r.qmin + 1, (r) => `[${r.qmin}, ${r.qmax}]`],
  ['step', 'Step Δ', (r) => r.metrics.step],
  ['rangeUsed', 'Range used', (r) => usedRange(r)[1] - usedRange(r)[0], (r) => `[${fmt(usedRange(r)[0])}, ${fmt(usedRange(r)[1])}]`],
  ['mse', 'MSE', (r) => r.metrics.mse],
  ['rmse', 'RMSE', (r) => r.metrics.rmse],
  ['mae', 'MAE', (r) => r.metrics.mae],
  ['maxAbsError', 'Max |error|', (r) => r.metrics.maxAbsError, (r) => `${fmt(r.metrics.maxAbsError)} (sample [${r.metrics.maxAbsErrorIndex}])`],
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
  // The MX formats and NVFP4: blocks whose largest value saturated (shown only for them).
  ['saturatedBlocks', 'Saturated blocks', (r) => r.format.saturatedBlocks,
    (r) => `${fmt(r.format.saturatedBlocks)} of ${fmt(r.blocks.scale.length)}${r.format.name.startsWith('mx') && r.options?.mxScale ? ` (${r.options.mxScale} scale rounding)` : ''}`,
    (r) => typeof r.format.saturatedBlocks === 'number' && Boolean(r.blocks)],
  ['underflowCount', 'Underflowed to 0', (r) => r.format.underflowCount],
  ['subnormalCount', 'Subnormal codes', (r) => r.format.subnormalCount],
];

// llama.cpp's types: what their blocks store (d, and dmin or m where the type has one).
const range = (a) => `${fmt(Math.min(...a))} … ${fmt(Math.max(...a))}`;
const GGML_CARDS = [
  ['format', 'Format', (r) => r.format.name, (r) => r.format.label],
  ['bitsPerWeight', 'Bits per weight', (r) => r.blocks.bitsPerWeight],
  ['blockScales', 'Block scales d', (r) => r.blocks.count, (r) => (r.blocks.scale ? `${fmt(r.blocks.count)} blocks of ${r.blocks.blockSize}, ${range(r.blocks.scale)}`
    : `${fmt(r.blocks.count)} blocks of ${r.blocks.blockSize}`)],
  ['blockMins', 'Block mins', (r) => r.blocks.min?.length ?? 0, (r) => (r.blocks.min ? range(r.blocks.min) : 'none (symmetric type)')],
  ['subScales', 'Sub-block scales', (r) => r.blocks.subScale?.length ?? 0,
    (r) => (r.blocks.subScale ? `${fmt(r.blocks.subScale.length)} of ${r.blocks.subBlockSize}, ${range(r.blocks.subScale)}` : 'none')],
];
const isGgml = (r) => Boolean(r.blocks?.bytes);
const INTEGER_ONLY = new Set(['scale', 'zeroPoint', 'qRange', 'step', 'rangeUsed', 'uniformNoise', 'tieCount']);

/** The metric cards; `keys` (data-metric names) picks some, in the cards' own order. */
export function renderCards(container, r, keys = null) {
  const all = r.format ? [...(isGgml(r) ? GGML_CARDS : FORMAT_CARDS), ...CARDS.filter(([key]) => !INTEGER_ONLY.has(key))] : CARDS;
  const cards = (keys ? all.filter(([key]) => keys.includes(key)) : all).filter(([, , , , when]) => !when || when(r));
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
  // Directed rounding (floor, ceiling, toward zero) errs one way by up to a whole step: its model
  // is Δ²/3, four times round-to-nearest's Δ²/12, and its bias is the rule's, not the data's.
  const directed = ROUNDINGS.find((x) => x.value === r.options?.rounding)?.directed ?? false;
  if (m.mseRounding > 0 && m.clipCount < m.count) {
    const perSample = (m.mseRounding * m.count) / (m.count - m.clipCount);
    const model = directed ? 4 * m.uniformNoise : m.uniformNoise;
    const ratio = perSample / model;
    if (ratio > 1.5 || ratio < 0.5) {
      out.push(['note', `The rounding error of the unclipped samples is ${ratio.toFixed(2)}× the uniform-noise model ${directed ? 'Δ²/3 of directed rounding' : 'Δ²/12'}: the data is too coarse or too regular for that model.`]);
    }
  }
  if (m.codesUsed > 0 && m.count >= levels && m.codesUsed < levels / 4) {
    out.push(['warn', `Only ${m.codesUsed} of ${levels} codes are used: the range is much wider than the data, which wastes resolution. Narrow it.`]);
  }
  if (m.sqnrDb === Infinity) out.push(['good', 'Every sample is reconstructed exactly: no quantization error.']);
  else if (m.sqnrDb === null) out.push(['note', 'The samples are all zero, so SQNR is undefined.']);
  else if (m.sqnrDb >= 40) out.push(['good', `SQNR ${m.sqnrDb.toFixed(1)} dB: the signal is well preserved (ENOB ≈ ${enob(m.sqnrDb).toFixed(1)} bits, by (SQNR − 1.76) / 6.02).`]);
  else if (m.sqnrDb >= 20) out.push(['note', `SQNR ${m.sqnrDb.toFixed(1)} dB: noticeable error; sensitive layers may lose accuracy. Try more bits or a tighter range.`]);
  else out.push(['warn', `SQNR ${m.sqnrDb.toFixed(1)} dB: the error is large relative to the signal. Use more bits or a better range.`]);
  if (m.rmse > 0 && Math.abs(m.meanError) > 0.5 * m.rmse) {
    out.push(['note', directed
      ? `The error has a bias of ${fmt(m.meanError)} (more than half its RMS): ${shortOf(ROUNDINGS, r.options.rounding)} rounding always rounds the same way, so its error has one sign. Round to nearest (half to even) removes the bias.`
      : `The error has a bias of ${fmt(m.meanError)} (more than half its RMS): the range or the data's own values shift the codes one way.`]);
  }
  return out;
}

function sqnrSentence(m, out, advice) {
  if (m.sqnrDb === Infinity) out.push(['good', 'Every sample is reconstructed exactly: no quantization error.']);
  else if (m.sqnrDb === null) out.push(['note', 'SQNR is undefined: the samples are all zero, or a value overflowed to NaN.']);
  else if (m.sqnrDb >= 40) out.push(['good', `SQNR ${m.sqnrDb.toFixed(1)} dB: the signal is well preserved (ENOB ≈ ${enob(m.sqnrDb).toFixed(1)} bits, by (SQNR − 1.76) / 6.02).`]);
  else if (m.sqnrDb >= 20) out.push(['note', `SQNR ${m.sqnrDb.toFixed(1)} dB: noticeable error; sensitive layers may lose accuracy. ${advice}`]);
  else out.push(['warn', `SQNR ${m.sqnrDb.toFixed(1)} dB: the error is large relative to the signal. ${advice}`]);
}

function formatVerdict(r, out) {
  const m = r.metrics;
  const f = r.format;
  const share = (k) => `${(100 * k / m.count).toFixed(k / m.count < 0.01 ? 2 : 1)}%`;
  if (f.overflowCount > 0) {
    const where = r.blocks ? 'the block scale leaves no headroom for them' : `they lie beyond ±${fmt(f.max * f.tensorScale)}`;
    const mx = f.name.startsWith('mx') ? r.options?.mxScale : null;
    const fix = r.blocks && mx && mx !== 'rceil' && mx !== 'ceil' && f.saturatedBlocks > 0
      ? `${fmt(f.saturatedBlocks)} block${f.saturatedBlocks > 1 ? 's' : ''} saturated ${f.saturatedBlocks > 1 ? 'their' : 'its'} largest value under ${mx} scale rounding; Scale rounding: RCEIL never does`
      : r.blocks ? 'this is how the format behaves' : f.tensorScale === 1 ? 'use Tensor scale: amax, or a format with more range' : 'use a format with more range';
    out.push([f.overflowCount / m.count > 0.01 ? 'warn' : 'note',
      `${fmt(f.overflowCount)} value${f.overflowCount > 1 ? 's' : ''} (${share(f.overflowCount)}) overflowed: ${where}; ${fix}.`]);
  }
  if (f.underflowCount > 0) {
    const why = f.name === 'nf4'
      ? 'they are closer to 0 than to NF4\'s nearest nonzero levels (−0.0911 and 0.0796 of the block\'s absmax). A block with a smaller absmax (smaller blocks) keeps them.'
      : r.blocks
        ? 'they are below half the smallest subnormal at their block\'s scale, which the block\'s largest value sets. Smaller blocks or a format with a wider exponent keep them.'
        : 'they are below half the smallest subnormal. A tensor scale or a format with a wider exponent keeps them.';
    out.push([f.underflowCount / m.count > 0.01 ? 'warn' : 'note',
      `${fmt(f.underflowCount)} nonzero value${f.underflowCount > 1 ? 's' : ''} (${share(f.underflowCount)}) became 0: ${why}`]);
  }
  if (f.subnormalCount > 0) out.push(['note', `${fmt(f.subnormalCount)} value${f.subnormalCount > 1 ? 's are' : ' is'} subnormal (${share(f.subnormalCount)}), with fewer significant bits than the rest.`]);
  sqnrSentence(m, out, isGgml(r) ? 'Try a type with more bits per weight (Q5_K, Q6_K, Q8_0), or an importance matrix.'
    : r.blocks ? 'Try a format with more mantissa bits, or smaller blocks.'
    : f.tensorScale === 1 && f.name !== 'fp16' && f.name !== 'bf16' ? 'Try a format with more mantissa bits, or Tensor scale: amax.' : 'Try a format with more mantissa bits.');
  return out;
}

export function renderVerdict(container, r) {
  container.replaceChildren(...verdict(r).map(([kind, text]) => el('p', { className: `verdict ${kind}`, textContent: text })));
}

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
