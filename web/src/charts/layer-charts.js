// "Through a layer"'s charts, drawn with uPlot as the calculator's are (charts.js): the histogram
// of the output's error, the SQNR of every output channel, and the accumulator's sums in bits
// against the int16 and int32 limits. Each is a <figure> with an accessible name and its numbers
// as a table; indices count from 0.
import uPlot from 'uplot';

import { fmt } from '../shared/format.js';
import { axes, figureMaker, theme, verticalLines } from './charts.js';

// Counts of v in `bins` equal bins over [lo, hi] (the last closed; an empty span widened by 0.5 each way).
function histogram(v, bins) {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) if (Number.isFinite(x)) lo = Math.min(lo, x), hi = Math.max(hi, x);
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  const counts = new Float64Array(bins);
  const w = (hi - lo) / bins;
  for (const x of v) if (Number.isFinite(x)) counts[Math.min(bins - 1, Math.floor((x - lo) / w))] += 1;
  return { lo, hi, w, counts, centers: Float64Array.from({ length: bins }, (_, i) => lo + (i + 0.5) * w) };
}

/** The layer's charts into `container`; returns a function that frees them. */
export function renderLayerCharts(container, r) {
  const t = theme(container);
  const width = Math.max(280, Math.min(container.clientWidth || 900, 1100));
  const figures = [];
  const plots = [];
  const figure = figureMaker(figures, plots, { width, height: 240, legend: { show: true }, cursor: { drag: { x: true, y: false } } });
  const bars = uPlot.paths.bars({ size: [1, Infinity], gap: 0 });

  // e = Y − Ŷ over every output.
  const e = new Float64Array(r.reference.length);
  for (let i = 0; i < e.length; i++) e[i] = r.reference[i] - r.quantized[i];
  const he = histogram(e, 80);
  figure('chart-layer-errors', 'Histogram of the output\'s error',
    `${fmt(e.length)} outputs (${fmt(r.shape.tokens)} tokens × ${fmt(r.shape.out)} channels) in ${he.counts.length} bins from ${fmt(he.lo)} to ${fmt(he.hi)}; the RMS error is ${fmt(r.metrics.rmse)}.`,
    {
      axes: axes(t, 'error Y − Ŷ', 'count', { wholeY: true }),
      scales: { x: { time: false } },
      series: [{ label: 'error' }, { label: 'count', stroke: t.err, fill: t.band, paths: bars, points: { show: false } }],
    },
    [he.centers, he.counts], ['from', 'to', 'count'], Array.from(he.counts, (k, i) => [he.lo + i * he.w, he.lo + (i + 1) * he.w, k]));

  // SQNR per output channel, in channel order (a layer's channels are not ranked).
  const sq = r.perChannel.sqnrDb;
  const ch = Float64Array.from(sq, (_, i) => i);
  const shown = Float64Array.from(sq, (v) => (Number.isFinite(v) ? v : null));
  const finite = Array.from(sq).filter(Number.isFinite);
  const lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 0;
  const step = Math.max(1, Math.ceil(sq.length / 200));
  figure('chart-layer-channels', 'SQNR per output channel',
    `${fmt(sq.length)} output channels, from ${fmt(lo)} dB to ${fmt(hi)} dB; the whole output ${fmt(r.metrics.sqnrDb)} dB (the dashed line).`,
    {
      axes: axes(t, 'output channel [o], from 0', 'SQNR (dB)', { wholeX: true }),
      scales: { x: { time: false } },
      series: [{ label: 'channel' }, { label: 'SQNR (dB)', stroke: t.x, width: sq.length > 256 ? 1 : 1.5, points: { show: sq.length <= 64 } },
        { label: 'whole output', stroke: t.muted, dash: [6, 4], width: 1, points: { show: false } }],
    },
    [ch, shown, new Float64Array(sq.length).fill(r.metrics.sqnrDb ?? NaN)],
    ['channel [o]', 'SQNR (dB)'], Array.from({ length: Math.ceil(sq.length / step) }, (_, k) => [k * step, sq[k * step]]));

  // The accumulator: each output's exact sum on a log2 axis, x = log2 |sum|, in bars one bit wide
  // (bar b covers 2^(b−1) ≤ |sum| < 2^b), against the types' limits 2^15 and 2^31 and the worst case.
  const a = r.accumulator;
  if (a.sums) {
    const top = Math.max(32, Math.ceil(Math.log2(Math.max(2, a.bound))) + 1);
    const counts = new Float64Array(top);
    let zeros = 0;
    for (const s of a.sums) {
      if (s === 0) zeros += 1;
      else counts[Math.min(top - 1, Math.floor(Math.log2(Math.abs(s))))] += 1;
    }
    const centers = Float64Array.from(counts, (_, i) => i + 0.5);
    const boundBits = Math.log2(Math.max(1, a.bound));
    const marks = [
      { at: 15, label: 'int16 limit 2^15', color: t.clip, dash: [5, 4], width: 2 },
      { at: 31, label: 'int32 limit 2^31', color: t.clip, dash: [], width: 2 },
      { at: boundBits, label: `worst case ${fmt(a.bound)} = 2^${boundBits.toFixed(1)}`, color: t.muted, dash: [6, 4], width: 1.5 },
    ];
    figure('chart-layer-accumulator', 'The accumulator\'s sums against int16 and int32',
      `${fmt(a.sums.length)} exact sums Σ(q_x − z_x)(q_w − z_w) on a log2 scale (${fmt(zeros)} are 0); the largest |sum| is ${fmt(a.maxAbs)} = 2^${Math.log2(Math.max(1, a.maxAbs)).toFixed(1)}, the worst case ${fmt(a.bound)}; ${fmt(a.int16.wrapped)} outputs leave int16 and ${fmt(a.int32.wrapped)} leave int32.`,
      {
        axes: axes(t, 'log2 |sum| (bits)', 'outputs', { wholeY: true }),
        scales: { x: { time: false, range: [0, top] } },
        series: [{ label: 'log2 |sum|' }, { label: 'outputs', stroke: t.x, fill: t.band, paths: uPlot.paths.bars({ size: [0.9, 40] }), points: { show: false } }],
        hooks: { draw: marks.map((m) => verticalLines([m.at], m.color, m.width, m.dash)) },
      },
      [centers, counts], ['from |sum|', 'to |sum|', 'outputs'], Array.from(counts, (k, i) => [2 ** i, 2 ** (i + 1), k]).filter(([, , k]) => k > 0),
      marks.map(({ label, color, dash, width: w }) => ({ label, color, dash, width: w })));
  }
  container.replaceChildren(...figures);
  const made = plots.map((make) => make());
  return () => made.forEach((p) => p.destroy());
}

