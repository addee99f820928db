// A layer's result (qz.layer) in words and numbers: the verdict, the cards, the parts beside their
// first-order prediction, the accumulator and the requantization, shared by the page, the
// component, the CSV and the PDF.
import { FORMATS, shortOf } from './choices.js';
import { fmt } from './format.js';

const db = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v === Infinity ? '∞' : `${v.toFixed(1)} dB`);
const pct = (n, of) => `${(100 * n / of).toFixed(n / of < 0.01 ? 2 : 1)}%`;
const plural = (n, one, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

/** A scheme in a few words: "8-bit symmetric per channel", "MXFP4", "float". */
export function sideLabel(scheme, side) {
  if (!scheme) return 'float (not quantized)';
  if (scheme.format && scheme.format !== 'int') return shortOf(FORMATS, scheme.format);
  const g = scheme.granularity ?? 'tensor';
  const per = g === 'tensor' ? 'per tensor' : g === 'group' ? `per group of ${scheme.groupSize}`
    : side === 'activations' ? 'per token' : 'per output channel';
  return `${scheme.bits ?? 8}-bit ${scheme.mode ?? 'symmetric'} ${per}`;
}

// The smallest of a Float64Array's finite values, and where.
function worst(values) {
  let at = -1;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && (at < 0 || values[i] < values[at])) at = i;
  return at < 0 ? null : { index: at, value: values[at] };
}

function median(values) {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[v.length >> 1] : null;
}

/** Per channel and per token: the worst and the median SQNR. */
export function spreadOf(r) {
  return { channel: { worst: worst(r.perChannel.sqnrDb), median: median(r.perChannel.sqnrDb) },
    token: { worst: worst(r.perToken.sqnrDb), median: median(r.perToken.sqnrDb) } };
}

const REASON_WORDS = {
  tie: 'a tie (k + ½) rounded away from zero by the fixed-point path, to even by the exact one',
  multiplier: 'the fixed-point multiplier M0·2^(shift − 31) is not M exactly, which moves acc·M across a rounding boundary',
  doubleRounding: 'the fixed-point path rounds twice (the doubling high multiply, then the shift)',
  float32: 'float32 arithmetic (ONNX Runtime holds M, the sums and the products in float32)',
  double: 'acc·M rounded to double before the rounding to an integer',
};
export const reasonWords = (key) => REASON_WORDS[key] ?? key;

/**
 * The verdict: [kind, sentence, topic] with kind 'good' | 'note' | 'warn' (as the calculator's)
 * and topic one of LAYER_TOPICS, in the page's order.
 */
export const LAYER_TOPICS = ['sqnr', 'parts', 'prediction', 'token', 'channel', 'accumulator', 'int16', 'avx2', 'codes', 'clipped', 'next'];

export function layerVerdict(r) {
  const said = [];
  const out = { push: ([kind, text], topic) => said.push([kind, text, topic]) };
  const m = r.metrics;
  const s = m.sqnrDb;
  if (s === null) out.push(['note', 'The output is all zero, so its SQNR is undefined.'], 'sqnr');
  else if (s === Infinity) out.push(['good', 'The quantized layer gives the float output exactly.'], 'sqnr');
  else if (s >= 40) out.push(['good', `Output SQNR ${s.toFixed(1)} dB: the layer's output is well preserved (relative error ${fmt(m.relativeFrobenius)}).`], 'sqnr');
  else if (s >= 20) out.push(['note', `Output SQNR ${s.toFixed(1)} dB: noticeable error in the layer's output (relative error ${fmt(m.relativeFrobenius)}).`], 'sqnr');
  else out.push(['warn', `Output SQNR ${s.toFixed(1)} dB: the layer's output error is large (relative error ${fmt(m.relativeFrobenius)}).`], 'sqnr');
  const p = r.parts;
  const quantized = [['weights', 'the weights', r.weights], ['activations', 'the activations', r.activations]].filter(([, , side]) => side);
  if (quantized.length === 2) {
    const [a, b] = [p.weights.energy, p.activations.energy];
    const lead = a >= b ? ['weights', 'W', a, b] : ['activations', 'X', b, a];
    const ratio = lead[3] > 0 ? lead[2] / lead[3] : Infinity;
    out.push(['note', ratio > 2
      ? `Most of the error comes from ${lead[0] === 'weights' ? 'the weights' : 'the activations'} (${db(p[lead[0]].sqnrDb)} alone, against ${db(p[lead[0] === 'weights' ? 'activations' : 'weights'].sqnrDb)} for the other side): improve ${lead[1]}'s scheme first.`
      : `The weights (${db(p.weights.sqnrDb)} alone) and the activations (${db(p.activations.sqnrDb)}) add comparable error.`], 'parts');
  }
  if (quantized.length && p.simulated.predicted > 0 && p.simulated.energy > 0) {
    const f = p.simulated.energy / p.simulated.predicted;
    out.push([f > 2 || f < 0.5 ? 'note' : 'good', f > 2 || f < 0.5
      ? `The measured error is ${f.toFixed(2)}× the first-order prediction from the two tensors' own errors: the errors are correlated along the sum (outlier channels, or one sign), so a tensor's SQNR alone misjudges this layer.`
      : `The first-order prediction from the two tensors' own errors (${db(p.simulated.predictedSqnrDb)}) matches the measured error within ${Math.max(f, 1 / f).toFixed(2)}×.`], 'prediction');
  }
  const spread = spreadOf(r);
  if (spread.token.worst && spread.token.median !== null && spread.token.median - spread.token.worst.value > 6) {
    out.push(['note', `Token [${spread.token.worst.index}] has the lowest SQNR (${db(spread.token.worst.value)}, the median token ${db(spread.token.median)}): a per-token activation scale would help it.`], 'token');
  }
  if (spread.channel.worst && spread.channel.median !== null && spread.channel.median - spread.channel.worst.value > 6) {
    out.push(['note', `Output channel [${spread.channel.worst.index}] has the lowest SQNR (${db(spread.channel.worst.value)}, the median channel ${db(spread.channel.median)}).`], 'channel');
  }
  const a = r.accumulator;
  if (a.bound !== null) {
    const type = a.type === 'int16' ? a.int16 : a.int32;
    const n = m.count;
    if (type.wrapped > 0 || (type.saturated ?? 0) > 0) {
      out.push(['warn', `The ${a.type} accumulator overflows: ${plural(type.wrapped, 'output')} (${pct(type.wrapped, n)}) have a sum beyond [${fmt(type.min)}, ${fmt(type.max)}] (the largest |sum| is ${fmt(a.maxAbs)}); wrapped around, the output's SQNR is ${db(type.wrapSqnrDb)}${type.saturateSqnrDb !== null ? `, saturated ${db(type.saturateSqnrDb)}` : ''}.`], 'accumulator');
    } else if (a.bound > type.max) {
      out.push(['note', `No sum of these data leaves ${a.type} (the largest |sum| is ${fmt(a.maxAbs)}), but the worst case ${fmt(a.block)} × ${fmt(a.productMax)} = ${fmt(a.bound)} could: other inputs may overflow.`], 'accumulator');
    } else {
      out.push(['good', `The ${a.type} accumulator cannot overflow: the worst case ${fmt(a.block)} × ${fmt(a.productMax)} = ${fmt(a.bound)} fits.`], 'accumulator');
    }
    if (a.type !== 'int16' && a.int16.wrapped > 0) out.push(['note', `An int16 accumulator would overflow on ${plural(a.int16.wrapped, 'output')} (${pct(a.int16.wrapped, n)}).`], 'int16');
    if (a.avx2Pairs && a.avx2Pairs.saturated > 0) {
      out.push(['warn', `ONNX Runtime's x86-64 AVX2 kernel without VNNI saturates pairs of products to int16: ${plural(a.avx2Pairs.saturated, 'output')} would differ there (uint8 × int8 codes).`], 'avx2');
    }
  }
  const q = r.requantization;
  if (q) {
    const d = q.differ[q.profile];
    const reasons = Object.entries(q.reasons).filter(([, k]) => k > 0).map(([k]) => k);
    if (d > 0) {
      // The listed outputs: how far the profile's codes are from the exact ones.
      const far = Math.max(0, ...q.differences.map((x) => Math.abs(x[q.profile] - x.exact)));
      const listed = q.differences.length < d ? ' (of those listed)' : '';
      out.push(['note', `${plural(d, 'output code')} of the ${q.profile} path differ from round-half-even(acc·M) + z${far === 1 ? ` by one${listed}` : far > 1 ? ` by up to ${far}${listed}` : ''}: ${reasons.map(reasonWords).join('; ')}.`], 'codes');
    } else {
      out.push(['good', `Every output code of the ${q.profile} path equals round-half-even(acc·M) + z.`], 'codes');
    }
    if (q.clipped > 0) out.push(['note', `${plural(q.clipped, 'output')} (${pct(q.clipped, m.count)}) saturate at the output type's limits [${q.qmin}, ${q.qmax}].`], 'clipped');
  }
  const n = r.next;
  if (n) {
    const from = n.total.energy > 0 ? n.propagated.energy / n.total.energy : 0;
    out.push([n.total.sqnrDb !== null && n.total.sqnrDb < 20 ? 'warn' : 'note',
      `After ${n.activation.toUpperCase()} and the second layer the SQNR is ${db(n.total.sqnrDb)} (layer 1: ${db(s)}): ${(100 * Math.min(1, from)).toFixed(0)}% of the error energy came from the first layer (${db(n.propagated.sqnrDb)} carried through, ${db(n.local.sqnrDb)} from the second layer's own quantization).`], 'next');
  }
  return said;
}

/** The cards: [key, label, shown text]. */
export function layerCards(r) {
  const m = r.metrics;
  const a = r.accumulator;
  const q = r.requantization;
  const spread = spreadOf(r);
  const cards = [
    ['sqnrDb', 'Output SQNR (dB)', fmt(m.sqnrDb)],
    ['cosine', 'Cosine similarity', fmt(m.cosine)],
    ['relativeFrobenius', 'Relative error ‖ΔY‖/‖Y‖', fmt(m.relativeFrobenius)],
    ['maxAbsError', 'Max |error|', `${fmt(m.maxAbsError)} (token [${Math.floor(m.maxAbsErrorIndex / r.shape.out)}], channel [${m.maxAbsErrorIndex % r.shape.out}])`],
    ['mse', 'MSE', fmt(m.mse)],
    ['worstChannel', 'Worst channel SQNR', spread.channel.worst ? `${fmt(spread.channel.worst.value)} dB ([${spread.channel.worst.index}])` : '—'],
    ['worstToken', 'Worst token SQNR', spread.token.worst ? `${fmt(spread.token.worst.value)} dB ([${spread.token.worst.index}])` : '—'],
    ['accumulator', 'Accumulator', a.type],
  ];
  if (a.bound !== null) {
    cards.push(['accBound', 'Worst-case |sum|', `${fmt(a.bound)} (${fmt(a.block)} × ${fmt(a.productMax)})`],
      ['accMax', 'Largest |sum| (data)', fmt(a.maxAbs)],
      ['overflows', 'Overflows int16 / int32', `${fmt(a.int16.wrapped)} / ${fmt(a.int32.wrapped)}`]);
  }
  if (q) {
    // M0 as TFLite prints it (no grouping: it is a 31-bit constant to copy).
    cards.push(['multiplier', q.multiplier.length === 1 ? 'Requantization M0, shift' : `M0, shift of channel [0] (of ${fmt(q.multiplier.length)})`,
      `${q.multiplier[0]}, ${q.shift[0]}`],
      ['outputScale', 'Output scale, zero point', `${fmt(q.scale)}, ${q.zeroPoint}${q.derived ? ' (from Y\'s range)' : ''}`],
      ['codesDiffer', `Codes ≠ exact (${q.profile})`, fmt(q.differ[q.profile])]);
  }
  if (r.next) cards.push(['nextSqnrDb', 'After layer 2 (dB)', fmt(r.next.total.sqnrDb)]);
  return cards;
}

/** The parts' rows: [part, measured energy, measured SQNR, predicted energy, predicted SQNR]. */
export function partRows(r) {
  const p = r.parts;
  return [
    ['W: X·ΔWᵀ', p.weights],
    ['X: ΔX·Wᵀ', p.activations],
    ['interaction: ΔX·ΔWᵀ', p.interaction],
    ['all three', p.simulated],
  ].map(([label, v]) => [label, v.energy, v.sqnrDb, v.predicted, v.predictedSqnrDb]);
}
