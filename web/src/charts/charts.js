// The five charts, drawn with uPlot (small, fast canvas charts) from the core's reductions: a
// million samples arrive as ~1,200 min/max buckets and two 100-bin histograms. Each chart is a
// <figure> whose canvas has an accessible name, followed by its numbers as a table. Indices count
// from 0 as frameworks print them: sample [0] is the first sample, channel [0] the first channel.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { fmt } from '../shared/format.js';
import { groupUnit, paramsOfSample } from '../shared/result.js';

// The chart colours: the custom properties as `el` sees them (the page's root, or a component's
// shadow root where the host page may theme them).
export function theme(el = document.documentElement) {
  const style = getComputedStyle(el);
  const css = (name) => style.getPropertyValue(name).trim();
  return { bg: css('--bg') || '#ffffff', fg: css('--fg'), muted: css('--muted'), line: css('--line'), x: css('--chart-x'), xhat: css('--chart-xhat'),
    err: css('--chart-err'), clip: css('--bad'), band: css('--chart-band'), clipBand: css('--chart-clip-band') || css('--chart-band'), current: css('--chart-current') || css('--fg') };
}

/** The ids of the charts renderCharts draws, for `only`. */
export const CHART_IDS = ['chart-values', 'chart-errors', 'chart-transfer', 'chart-histogram', 'chart-error-histogram'];

// Whole-number ticks for counts and sample indices.
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7];

export const axes = (t, xLabel, yLabel, { wholeX = false, wholeY = false } = {}) => [
  { stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: xLabel, ...(wholeX ? { incrs: WHOLE } : {}) },
  { stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: yLabel, size: 64, ...(wholeY ? { incrs: WHOLE } : {}) },
];

// A log axis labelled and gridded at the powers of ten only: uPlot's splits between them would
// crowd the grid, and its default labels print values below 0.001 as 0.
const isDecade = (v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
const decades = (u, splits) => splits.map((v) => (isDecade(v) ? v : null));
const logAxis = (axis) => ({
  ...axis,
  filter: decades,
  grid: { ...axis.grid, filter: decades },
  ticks: { ...axis.ticks, filter: decades },
  values: (u, splits) => splits.map((v) => (v === null ? '' : v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(1))) : `1e${Math.round(Math.log10(v))}`)),
});

// Vertical marks (clip limits, quantization levels) drawn over the plot area.
export function verticalLines(positions, color, width, dash = []) {
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = width * devicePixelRatio;
    ctx.setLineDash(dash.map((d) => d * devicePixelRatio));
    for (const v of positions) {
      const x = Math.round(u.valToPos(v, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  };
}

function table(headers, rows) {
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of r) tr.insertCell().textContent = typeof c === 'number' ? fmt(c) : c;
  }
  return t;
}

// At most `limit` evenly spread rows for a table fallback.
function spread(count, limit) {
  const step = Math.max(1, Math.ceil(count / limit));
  const out = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}

function histogramSeries(h) {
  const bins = h.counts.length;
  const w = (h.hi - h.lo) / bins;
  return { centers: Float64Array.from({ length: bins }, (_, i) => h.lo + (i + 0.5) * w), counts: Float64Array.from(h.counts), w };
}

// The value of sorted `grid` nearest to x.
function nearest(grid, x) {
  let lo = 0, hi = grid.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (grid[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(x - grid[lo]) <= Math.abs(grid[hi] - x) ? grid[lo] : grid[hi];
}

// The smallest spacing of sorted `grid` inside [lo, hi] (Infinity when fewer than two values).
function minGap(grid, lo, hi) {
  let gap = Infinity;
  for (let k = 1; k < grid.length; k++) if (grid[k] >= lo && grid[k - 1] <= hi) gap = Math.min(gap, grid[k] - grid[k - 1]);
  return gap;
}

// A <figure> with its caption and the box the chart draws into, named for screen readers.
function figureShell(id, title, description) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  fig.id = id;
  const caption = document.createElement('figcaption');
  caption.textContent = title;
  const box = document.createElement('div');
  box.setAttribute('role', 'img');
  box.setAttribute('aria-label', `${title}. ${description}`);
  fig.append(caption, box);
  return { fig, box };
}

// The marks a chart draws outside its series (clip limits, calibration picks): a list under the
// chart, each with a swatch in the mark's colour and dash. keys: [{ label, color, dash, width }].
function keyList(keys) {
  const list = document.createElement('ul');
  list.className = 'chart-keys';
  for (const k of keys) {
    const item = document.createElement('li');
    if (k.current) item.className = 'current';
    const swatch = document.createElement('span');
    swatch.className = 'chart-key-swatch';
    swatch.setAttribute('aria-hidden', 'true');
    swatch.style.borderTopColor = k.color;
    swatch.style.borderTopStyle = k.dash?.length ? 'dashed' : 'solid';
    swatch.style.borderTopWidth = `${k.width ?? 1.5}px`;
    item.append(swatch, k.label);
    list.append(item);
  }
  return list;
}

// What a chart's legend and keys name, for a report that has only the canvas (the PDF reads it
// from the figure's data-legend): each series but the x one, then the extra marks, as
// [{ label, color, fill, dash, kind: 'line' | 'bar' | 'point' }] with CSS colours.
function legendOf(series, keys) {
  const kind = (s) => (s.fill && s.paths ? 'bar' : s.width === 0 ? 'point' : 'line');
  return [
    ...series.slice(1).map((s) => ({ label: s.label, color: s.stroke, fill: kind(s) === 'point' ? s.points?.fill ?? s.stroke : s.fill ?? null,
      dash: s.dash ?? [], kind: kind(s) })),
    ...keys.map((k) => ({ label: k.label, color: k.color, fill: null, dash: k.dash ?? [], kind: 'line' })),
  ];
}

// A chart as a <figure>: caption, a canvas box with an accessible name, the list of its extra
// marks (keys, optional) and its numbers as a table; the uPlot itself is made later (once the
// figure is in the page) with `base` options.
export function figureMaker(figures, plots, base) {
  return (id, title, description, opts, data, headers, rows, keys = []) => {
    const { fig, box } = figureShell(id, title, description);
    fig.dataset.legend = JSON.stringify(legendOf(opts.series, keys));
    if (keys.length) fig.append(keyList(keys));
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'Data table';
    details.append(summary, table(headers, rows));
    fig.append(details);
    figures.push(fig);
    plots.push(() => new uPlot({ ...base, ...opts }, data, box));
  };
}

/**
 * Draws the charts into `container` (figures are replaced): all, or those whose ids are in `only`
 * (CHART_IDS), `width` px wide (default: the container's, 280 to 1100); colours from the
 * container's custom properties. Returns a function that frees them.
 */
export function renderCharts(container, result, { only = null, width: given = null } = {}) {
  const t = theme(container);
  // Per channel or group, the staircase and the clip limits are those of the one holding the
  // largest error (named in the chart's description).
  const own = paramsOfSample(result)(result.metrics.maxAbsErrorIndex);
  const r = { ...result, scale: own.scale, zeroPoint: own.zeroPoint };
  const whose = result.groups ? ` (${groupUnit(result)} [${own.index}], which holds the largest error)`
    : result.blocks ? ` (block [${own.index}], which holds the largest error)` : '';
  const c = r.charts;
  const n = r.values.length;
  const width = given ?? Math.max(280, Math.min(container.clientWidth || 900, 1100));
  const height = 260;
  const plots = [];
  const figures = [];
  const b = c.buckets;
  const nb = b.xMin.length;
  // Each bucket's first sample, from 0.
  const index = Float64Array.from({ length: nb }, (_, i) => Math.floor((i * n) / nb));
  // A float or block format: its values (times the scale of that sample's block) instead of a
  // uniform staircase.
  const grid = r.format ? Float64Array.from(r.grid, (v) => v * own.scale) : null;
  const clipLo = grid ? grid[0] : (r.qmin - r.zeroPoint) * r.scale;
  const clipHi = grid ? grid[grid.length - 1] : (r.qmax - r.zeroPoint) * r.scale;
  const bars = uPlot.paths.bars({ size: [1, Infinity], gap: 0 });
  const stepped = uPlot.paths.stepped({ align: 1 });

  const figure = figureMaker(figures, plots, { width, height, legend: { show: true }, cursor: { drag: { x: true, y: false } } });

  const many = n > nb;
  const rows = spread(nb, 200);
  figure('chart-values', 'Original and reconstructed values by sample',
    many ? `Minimum and maximum per group of ${fmt(Math.round(n / nb))} samples, for ${fmt(n)} samples.` : `${fmt(n)} samples.`,
    {
      axes: axes(t, 'sample index [i], from 0', 'value', { wholeX: true }),
      scales: { x: { time: false } },
      series: [{ label: 'sample' },
        { label: many ? 'x (max)' : 'x', stroke: t.x, width: 1.5, points: { show: !many } },
        ...(many ? [{ label: 'x (min)', stroke: t.x, width: 1.5 }] : []),
        { label: many ? 'x̂ (max)' : 'x̂', stroke: t.xhat, width: 1.5, dash: [4, 3], points: { show: !many } },
        ...(many ? [{ label: 'x̂ (min)', stroke: t.xhat, width: 1.5, dash: [4, 3] }] : [])],
    },
    many ? [index, b.xMax, b.xMin, b.xhatMax, b.xhatMin] : [index, b.xMax, b.xhatMax],
    ['first sample [i]', 'x min', 'x max', 'x̂ min', 'x̂ max'], rows.map((i) => [index[i], b.xMin[i], b.xMax[i], b.xhatMin[i], b.xhatMax[i]]));

  // Float formats have no one step: their spacing grows with the magnitude, so no band.
  const half = grid ? NaN : r.scale / 2;
  figure('chart-errors', grid ? 'Error by sample' : 'Error by sample, with the ±Δ/2 band',
    `Errors between ${fmt(r.metrics.maxAbsError === 0 ? 0 : Math.min(...b.errMin))} and ${fmt(Math.max(...b.errMax))}` +
      (grid ? '; the spacing of a float format grows with the magnitude, and so does the error.' : `; unclipped errors stay within ±${fmt(half)}.`),
    {
      axes: axes(t, 'sample index [i], from 0', 'error', { wholeX: true }),
      scales: { x: { time: false } },
      series: [{ label: 'sample' },
        { label: many ? 'error (max)' : 'error', stroke: t.err, width: 1.5, points: { show: !many } },
        ...(many ? [{ label: 'error (min)', stroke: t.err, width: 1.5 }] : []),
        ...(grid ? [] : [{ label: '+Δ/2', stroke: t.muted, dash: [6, 4], width: 1, points: { show: false } },
          { label: '−Δ/2', stroke: t.muted, dash: [6, 4], width: 1, points: { show: false } }])],
    },
    [index, b.errMax, ...(many ? [b.errMin] : []), ...(grid ? [] : [new Float64Array(nb).fill(half), new Float64Array(nb).fill(-half)])],
    ['first sample [i]', 'error min', 'error max'], rows.map((i) => [index[i], b.errMin[i], b.errMax[i]]));

  // The staircase x̂(x) across the range, the samples on it, and the clip limits. A big tensor's
  // sample brings the whole tensor's histograms (tensorHistograms: { count, value, error }).
  const whole = r.tensorHistograms;
  const vh = whole?.value ?? c.valueHistogram;
  const levels = grid ? grid.length : r.qmax - r.qmin + 1;
  const stairs = [];
  const span = vh.hi - vh.lo;
  const xs = Float64Array.from({ length: 801 }, (_, i) => vh.lo + (span * i) / 800);
  for (const x of xs) {
    if (grid) {
      stairs.push(nearest(grid, x));
      continue;
    }
    const q = Math.min(r.qmax, Math.max(r.qmin, Math.round(x / r.scale + r.zeroPoint)));
    stairs.push((q - r.zeroPoint) * r.scale);
  }
  // Block formats: the staircase is one block's, so are the samples on it.
  const marked = r.blocks ? Array.from({ length: Math.min(n, (own.index + 1) * r.format.block) - own.index * r.format.block }, (_, k) => own.index * r.format.block + k)
    : spread(n, 400);
  const picks = marked.map((i) => [r.values[i], r.dequantized[i]]).sort((p, q) => p[0] - q[0]);
  const sx = Float64Array.from(picks, (p) => p[0]);
  const sy = Float64Array.from(picks, (p) => p[1]);
  const joined = uPlot.join([[xs, Float64Array.from(stairs)], [sx, sy]]);
  figure('chart-transfer', 'Quantizer transfer function',
    `x̂ against x from ${fmt(vh.lo)} to ${fmt(vh.hi)}: ${grid ? `${fmt(levels)} values of ${r.format.label}` : `${fmt(levels)} levels of step ${fmt(r.scale)}`}, clipping below ${fmt(clipLo)} and above ${fmt(clipHi)}${whose}; ${fmt(picks.length)} samples marked.`,
    {
      axes: axes(t, 'x', 'x̂'),
      scales: { x: { time: false } },
      series: [{ label: 'x' },
        { label: 'x̂(x)', stroke: t.xhat, width: 1.5, paths: stepped, spanGaps: true, points: { show: false } },
        { label: 'samples', stroke: t.x, width: 0, paths: () => null, points: { show: true, size: 5, fill: t.x } }],
      hooks: { draw: [verticalLines([clipLo, clipHi], t.clip, 1.5, [5, 4])] },
    },
    joined,
    ['x', 'x̂'], picks.filter((_, i) => i % Math.max(1, Math.ceil(picks.length / 50)) === 0),
    [{ label: `clip limits ${fmt(clipLo)} and ${fmt(clipHi)}`, color: t.clip, dash: [5, 4], width: 1.5 }]);

  const hv = histogramSeries(vh);
  // Level marks only where they stay apart (at least 4 px each); otherwise they would be a grey wall.
  const pxPerLevel = (width - 80) / ((vh.hi - vh.lo) / (grid ? minGap(grid, vh.lo, vh.hi) : r.scale));
  const levelMarks = levels > 256 || pxPerLevel < 4 ? []
    : grid ? Array.from(grid) : Array.from({ length: levels }, (_, k) => (r.qmin + k - r.zeroPoint) * r.scale);
  figure('chart-histogram', 'Histogram of the values',
    `${whole ? `All ${fmt(whole.count)} values of the tensor` : `${fmt(n)} samples`} in ${vh.counts.length} bins from ${fmt(vh.lo)} to ${fmt(vh.hi)}; clip limits at ${fmt(clipLo)} and ${fmt(clipHi)}${levelMarks.length ? `; the ${levels} quantization levels marked` : ''}.`,
    {
      axes: axes(t, 'value', 'count', { wholeY: true }),
      scales: { x: { time: false } },
      series: [{ label: 'value' }, { label: 'count', stroke: t.x, fill: t.band, paths: bars, points: { show: false } }],
      hooks: { draw: [verticalLines(levelMarks, t.line, 1), verticalLines([clipLo, clipHi], t.clip, 2, [5, 4])] },
    },
    [hv.centers, hv.counts],
    ['from', 'to', 'count'], Array.from(vh.counts, (k, i) => [vh.lo + i * hv.w, vh.lo + (i + 1) * hv.w, k]),
    [{ label: `clip limits ${fmt(clipLo)} and ${fmt(clipHi)}`, color: t.clip, dash: [5, 4], width: 2 },
      ...(levelMarks.length ? [{ label: `the ${levels} quantization levels`, color: t.line, width: 1 }] : [])]);

  const eh = whole?.error ?? c.errorHistogram;
  const he = histogramSeries(eh);
  figure('chart-error-histogram', 'Histogram of the errors',
    `${whole?.error ? `All ${fmt(whole.count)} errors of the tensor` : `${fmt(n)} errors`} in ${eh.counts.length} bins from ${fmt(eh.lo)} to ${fmt(eh.hi)}${grid ? '' : `; half a step is ${fmt(half)}`}.`,
    {
      axes: axes(t, 'error', 'count', { wholeY: true }),
      scales: { x: { time: false } },
      series: [{ label: 'error' }, { label: 'count', stroke: t.err, fill: t.band, paths: bars, points: { show: false } }],
      hooks: { draw: [verticalLines(grid ? [] : [-half, half], t.muted, 1, [6, 4])] },
    },
    [he.centers, he.counts],
    ['from', 'to', 'count'], Array.from(eh.counts, (k, i) => [eh.lo + i * he.w, eh.lo + (i + 1) * he.w, k]),
    grid ? [] : [{ label: `±Δ/2 = ±${fmt(half)}`, color: t.muted, dash: [6, 4], width: 1 }]);

  const wanted = figures.map((f) => !only || only.includes(f.id));
  container.replaceChildren(...figures.filter((_, i) => wanted[i]));
  const made = plots.filter((_, i) => wanted[i]).map((make) => make());
  return () => made.forEach((p) => p.destroy());
}

/**
 * The what-if charts: SQNR against bit depth beside the 6.02 dB-per-bit rule, and the MSE
 * against the clipping threshold split into rounding and clipping, with each calibration's pick.
 */
export function renderExplore(container, study, r, options) {
  const t = theme();
  const width = Math.max(280, Math.min(container.clientWidth || 900, 1100));
  const height = 240;
  const figures = [];
  const plots = [];
  const figure = figureMaker(figures, plots, { width, height });

  if (study.formats) {
    formatLadder(figure, study, t);
  } else {
    const sweep = study.bits.filter((s) => s.sqnrDb !== null && Number.isFinite(s.sqnrDb));
    const here = study.bits.find((s) => s.bits === options.bits);
    const anchor = here && Number.isFinite(here.sqnrDb) ? here : sweep[0];
    const bits = Float64Array.from(sweep, (s) => s.bits);
    const rule = Float64Array.from(sweep, (s) => (anchor ? anchor.sqnrDb + 6.02 * (s.bits - anchor.bits) : NaN));
    figure('chart-bits', 'SQNR by bit depth',
      `SQNR for 2 to 16 bits with these settings, beside the 6.02 dB per bit rule of thumb through the ${anchor?.bits ?? '?'}-bit value.`,
      {
        axes: axes(t, 'bits', 'SQNR (dB)', { wholeX: true }),
        scales: { x: { time: false } },
        series: [{ label: 'bits' }, { label: 'SQNR (dB)', stroke: t.x, width: 2, points: { show: true, size: 6 } },
          { label: '6.02 dB/bit', stroke: t.muted, dash: [6, 4], width: 1, points: { show: false } }],
      },
      [bits, Float64Array.from(sweep, (s) => s.sqnrDb), rule],
      ['bits', 'SQNR (dB)', 'MSE'], study.bits.map((s) => [s.bits, s.sqnrDb === null ? 'undefined' : s.sqnrDb, s.mse]));

    clippingCurve(figure, study, r, options, t);
  }
  container.replaceChildren(...figures);
  const made = plots.map((make) => make());
  return () => made.forEach((p) => p.destroy());
}

const CALIBRATION_NAMES = { minmax: 'min-max', mse: 'MSE-optimal', entropy: 'entropy (KL)' };

// The range a result used as a threshold factor on the clipping curve's axis: max(|lo|, |hi|) over
// max|x| in symmetric mode, (hi − lo) over the samples' min-max width otherwise (as the study
// measures its calibration picks). null per channel or group (each has its own range), for float
// formats, or without the samples.
function currentFactor(r, mode) {
  if (r.groups || r.format || !r.values?.length) return null;
  let lo = Infinity, hi = -Infinity;
  for (const v of r.values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const f = mode === 'symmetric' ? Math.max(Math.abs(r.rangeMin), Math.abs(r.rangeMax)) / Math.max(Math.abs(lo), Math.abs(hi))
    : (r.rangeMax - r.rangeMin) / (hi - lo);
  return Number.isFinite(f) && f > 0 ? f : null;
}

// Vertical marks with their names written beside them at the top of the plot, each name on the
// first row where it overlaps no other. marks: [{ x, text, color, width, dash, current }].
function labelledLines(marks, t) {
  return (u) => {
    const { ctx } = u;
    const dpr = devicePixelRatio;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.font = `${Math.round(11 * dpr)}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    const rows = [];
    const lineHeight = 15 * dpr;
    const pad = 3 * dpr;
    for (const m of marks) {
      const x = Math.round(u.valToPos(m.x, 'x', true));
      if (x < left - 1 || x > left + width + 1) continue;
      ctx.strokeStyle = m.color;
      ctx.lineWidth = m.width * dpr;
      ctx.setLineDash(m.dash.map((d) => d * dpr));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      // Right of the line, or left of it where the name would leave the plot.
      const w = ctx.measureText(m.text).width;
      const from = x + pad + w <= left + width ? x + pad : x - pad - w;
      let row = rows.findIndex((spans) => spans.every(([a, b]) => from + w + pad < a || from > b + pad));
      if (row < 0) row = rows.push([]) - 1;
      rows[row].push([from, from + w]);
      const y = top + pad + row * lineHeight;
      ctx.setLineDash([]);
      ctx.globalAlpha = 0.85;
      ctx.fillStyle = t.bg;
      ctx.fillRect(from - 2 * dpr, y - dpr, w + 4 * dpr, lineHeight - 2 * dpr);
      ctx.globalAlpha = 1;
      ctx.fillStyle = m.current ? m.color : t.fg;
      ctx.fillText(m.text, from, y);
    }
    ctx.restore();
  };
}

// The MSE against the clipping threshold (the study's curve from 0.25 to 1), each calibration's
// pick as a named dashed line, and the range the result used as a solid line with its own MSE as
// a point, the x axis stretched to hold it (a custom range wider than the data lies beyond 1).
function clippingCurve(figure, study, r, options, t) {
  const c = study.curve;
  const what = options.mode === 'symmetric' ? 'max|x|' : 'the min-max range';
  const name = (cal) => (cal === 'percentile' ? `percentile ${options.percentile ?? 99.99}` : CALIBRATION_NAMES[cal] ?? cal);
  const picks = study.markers.map((m) => ({ x: m.factor, id: m.calibration, label: name(m.calibration), mse: m.mse, color: t.xhat, width: 1.5, dash: [3, 3] }));
  const at = currentFactor(r, options.mode);
  const method = r.calibration?.method;
  const how = method === 'custom' || !method ? 'custom range' : name(method);
  const current = at === null ? null : {
    x: at, label: `current (${how})`, mse: r.metrics.mse,
    color: t.current, width: 2.5, dash: [], current: true,
  };
  const marks = [...picks, ...(current ? [current] : [])].sort((a, b) => a.x - b.x)
    .map((m) => ({ ...m, text: `${m.label} ${Number(m.x.toPrecision(3))}` }));
  // The curve's thresholds, with the current one in order among them: the curves span that gap
  // (spanGaps; their other gaps are the zeros a log scale cannot show, which come only at the
  // ends: clipping vanishes above some threshold).
  const xs = c.map((p) => p.factor);
  const k = current ? xs.findIndex((v) => v >= current.x) : -1;
  const insert = current && xs[k] !== current.x ? (k < 0 ? xs.length : k) : -1;
  const column = (values, fill) => (insert < 0 ? values : [...values.slice(0, insert), fill, ...values.slice(insert)]);
  const f = Float64Array.from(column(xs, current?.x));
  // A log scale shows both parts across their orders of magnitude; zeros have no place on it.
  const parts = ['mse', 'rounding', 'clipping'].map((key) => column(c.map((p) => (p[key] > 0 ? p[key] : null)), null));
  const own = Array.from(f, (x) => (current && x === current.x && current.mse > 0 ? current.mse : null));
  const lo = Math.min(xs[0] ?? 0.25, ...marks.map((m) => m.x));
  const hi = Math.max(xs.at(-1) ?? 1, ...marks.map((m) => m.x));
  const padX = 0.03 * (hi - lo || 1);
  // The description names the picks by the API's calibration names.
  const words = (m) => `${m.id} at ${fmt(m.x)} (MSE ${fmt(m.mse)})`;
  const beyond = current && current.x > (xs.at(-1) ?? 1) ? ` The curve is computed up to ${fmt(xs.at(-1) ?? 1)}; beyond it only the current range's MSE is shown.` : '';
  const keys = marks.map((m) => ({ ...m, label: `${m.current ? m.label.replace(/^current/, 'Current range') : m.label}: ${fmt(m.x)} × ${what}, MSE ${fmt(m.mse)}` }));
  figure('chart-clipping', 'MSE against the clipping threshold',
    `Threshold from 0.25 to 1 times ${what}: a low threshold clips more, a high one rounds more coarsely. Calibration picks: ${picks.map(words).join('; ')}.` +
      (current ? ` Current range, ${how}, at ${fmt(current.x)} (MSE ${fmt(current.mse)}).` : r.groups ? ' Each channel or group has its own range, so the current one is not on this per-tensor curve.' : '') + beyond,
    {
      axes: axes(t, `threshold (× ${what})`, 'MSE (log scale)').map((a, i) => (i === 1 ? logAxis(a) : a)),
      scales: { x: { time: false, range: [lo - padX, hi + padX] }, y: { distr: 3 } },
      series: [{ label: 'threshold', value: (u, v) => (v === null || v === undefined ? '--' : fmt(v)) },
        { label: 'MSE', stroke: t.fg, width: 2, spanGaps: true, points: { show: false } },
        { label: 'rounding', stroke: t.x, width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'clipping', stroke: t.clip, width: 1.5, spanGaps: true, points: { show: false } },
        ...(current ? [{ label: 'current range', stroke: t.current, width: 0, paths: () => null, points: { show: true, size: 9, fill: t.current },
          value: (u, v) => (v === null || v === undefined ? '--' : fmt(v)) }] : [])],
      hooks: { draw: [labelledLines(marks, t)] },
    },
    [f, ...parts, ...(current ? [own] : [])],
    ['threshold factor', 'MSE', 'rounding', 'clipping'], c.map((p) => [p.factor, p.mse, p.rounding, p.clipping]), keys);
}

/**
 * Per channel or group: SQNR (bars) and clip rate (points, right axis), the worst first. The x
 * axis is the rank (1 = lowest SQNR), not an index: the legend names each bar's channel or group
 * by its index, [c] from 0.
 */
export function renderGroupChart(container, r, order) {
  const shown = order.slice(0, 400);
  const unit = groupUnit(r);
  const caption = `SQNR and clip rate per ${unit}, worst first`;
  const sqnr = shown.map((g) => g.metrics.sqnrDb);
  return barsWithRate(container, {
    id: 'chart-groups', caption, xLabel: `rank: ${unit}s by SQNR, lowest first`, sqnr, clip: shown.map((g) => g.metrics.clipRate), rate: 'points',
    category: { label: unit, names: shown.map((g, k) => `[${g.index}] (rank ${k + 1})`) },
    description: `${shown.length} of ${r.groups.length} ${unit}s by SQNR, lowest first: ${unit} [${shown[0].index}] at ${fmt(sqnr[0])} dB` +
      `${shown.length > 1 ? ` up to ${unit} [${shown.at(-1).index}] at ${fmt(sqnr.at(-1))} dB` : ''}; the table below lists them.`,
  });
}

/** The compare view: SQNR and clip rate as a pair of bars for each configuration, in row order. */
export function renderCompareChart(container, results) {
  const ok = results.map((r) => (r.error ? null : r));
  const best = ok.filter(Boolean).reduce((a, r) => ((r.metrics.sqnrDb ?? -Infinity) > (a?.metrics.sqnrDb ?? -Infinity) ? r : a), null);
  return barsWithRate(container, {
    id: 'chart-compare', caption: 'SQNR and clip rate per configuration', xLabel: 'configuration',
    sqnr: ok.map((r) => r?.metrics.sqnrDb ?? null), clip: ok.map((r) => r?.metrics.clipRate ?? null), rate: 'bars',
    description: best ? `${results.length} configurations; the highest SQNR is configuration ${results.indexOf(best) + 1} (${fmt(best.metrics.sqnrDb)} dB). The table above lists every metric.`
      : `${results.length} configurations, none with a result.`,
  });
}

// Categories at x = 1, 2, …: SQNR (dB) as bars, the clip rate (fractions, shown in %) on a right
// axis. The categories are not a sequence, so no line joins them: the clip rate is a second bar
// beside each SQNR bar (rate: 'bars'), or a point over it when there are too many for pairs
// (rate: 'points').
// category: { label, names } names each x in the legend (default: the x label and the number).
function barsWithRate(container, { id, caption, description, xLabel, sqnr, clip, rate, category = null }) {
  const t = theme();
  const width = Math.max(280, Math.min(container.clientWidth || 900, 1100));
  const x = Float64Array.from(sqnr, (_, i) => i + 1);
  const dB = sqnr.map((v) => (v === null || !Number.isFinite(v) ? null : v));
  const pct = clip.map((v) => (v === null ? null : 100 * v));
  const { fig, box } = figureShell(id, caption, description);
  container.replaceChildren(fig);
  const paired = rate === 'bars';
  const percent = (u, v) => (v === null || v === undefined ? '--' : `${fmt(v)}%`);
  const plot = new uPlot({
    width,
    height: 240,
    axes: [
      { stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: xLabel, incrs: WHOLE },
      { stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: 'SQNR (dB)', size: 64 },
      { scale: 'pct', side: 1, stroke: t.clip, grid: { show: false }, label: 'clip rate (%)', size: 56 },
    ],
    // Bars stand on 0 dB (or below it, when an SQNR is negative) and on 0%.
    scales: { x: { time: false, range: [0.4, x.length + 0.6] }, y: { range: (u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] },
      pct: { range: [0, Math.max(1, ...pct.filter((v) => v !== null))] } },
    series: [category ? { label: category.label, value: (u, v) => (v === null || v === undefined ? '--' : category.names[v - 1] ?? '--') } : { label: xLabel },
      { label: 'SQNR (dB)', stroke: t.x, fill: t.band, paths: uPlot.paths.bars({ size: paired ? [0.4, 32] : [0.8, 40], align: paired ? -1 : 0 }), points: { show: false } },
      paired
        ? { label: 'clip rate (%)', scale: 'pct', stroke: t.clip, fill: t.clipBand, paths: uPlot.paths.bars({ size: [0.4, 32], align: 1 }), points: { show: false }, value: percent }
        : { label: 'clip rate (%)', scale: 'pct', stroke: t.clip, width: 0, paths: () => null, points: { show: true, size: 5, fill: t.clip }, value: percent }],
  }, [x, dB, pct], box);
  return () => plot.destroy();
}

/**
 * The format explorer's number line: every finite value of the format (an asinh axis, so both
 * the values near 0 and the largest show) with the count of samples on each as a bar. Clicking
 * picks the nearest value: onPick(code).
 */
export function renderExplorer(container, rows, label, onPick) {
  const t = theme();
  const width = Math.max(280, Math.min(container.clientWidth || 900, 1100));
  const shown = rows.filter((r) => Number.isFinite(r.value) && !Object.is(r.value, -0)).sort((a, b) => a.value - b.value);
  const used = shown.filter((r) => r.count > 0).length;
  const { fig, box } = figureShell('chart-explorer', `Every value of ${label}, and the samples on each`,
    `${shown.length} distinct values from ${fmt(shown[0].value)} to ${fmt(shown.at(-1).value)} (after the scale); ${used} of them hold samples. Choose a code below for its bit fields.`);
  container.replaceChildren(fig);
  const bars = uPlot.paths.bars({ size: [0.6, 12], align: 0 });
  const plot = new uPlot({
    width,
    height: 220,
    axes: [{ stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: 'value (x / scale)' },
      { stroke: t.muted, grid: { stroke: t.line, width: 1 }, ticks: { stroke: t.line }, label: 'samples', size: 64, incrs: WHOLE }],
    // asinh: linear within the smallest positive value, logarithmic beyond it.
    scales: { x: { time: false, distr: 4, asinh: shown.find((r) => r.value > 0)?.value ?? 1 }, y: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
    series: [{ label: 'value' }, { label: 'samples', stroke: t.x, fill: t.band, paths: bars, points: { show: false } },
      { label: 'format value', stroke: t.muted, width: 0, paths: () => null, points: { show: true, size: 4, fill: t.muted } }],
    hooks: {
      ready: [(u) => u.over.addEventListener('click', () => {
        const i = u.cursor.idx;
        if (i !== null && i !== undefined) onPick(shown[i].code);
      })],
    },
  }, [Float64Array.from(shown, (r) => r.value), Float64Array.from(shown, (r) => r.count), new Float64Array(shown.length)], box);
  return () => plot.destroy();
}

// Float formats beside integers of the same width: SQNR of the integer sweep as a line, each
// element format as a point at its width.
function formatLadder(figure, study, t) {
  const sweep = study.bits.filter((s) => s.sqnrDb !== null && Number.isFinite(s.sqnrDb));
  const fmts = study.formats.filter((f) => f.sqnrDb !== null && Number.isFinite(f.sqnrDb));
  const xs = Array.from(new Set([...sweep.map((s) => s.bits), ...fmts.map((f) => f.bits)])).sort((a, b) => a - b);
  const intAt = new Map(sweep.map((s) => [s.bits, s.sqnrDb]));
  // Two formats share a width (FP6, FP8, 16-bit): the better one is the point, both are in the table.
  const best = new Map();
  for (const f of fmts) if (!best.has(f.bits) || f.sqnrDb > best.get(f.bits).sqnrDb) best.set(f.bits, f);
  const words = study.formats.map((f) => `${f.format} ${fmt(f.sqnrDb)} dB`).join(', ');
  figure('chart-bits', 'SQNR by bit width: integers and float formats',
    `Integers (symmetric, min-max) for 2 to 16 bits as a line; float formats${study.formatScale === 'amax' ? ' with the amax tensor scale' : ''} as points at their widths: ${words}.`,
    {
      axes: axes(t, 'bits', 'SQNR (dB)', { wholeX: true }),
      scales: { x: { time: false } },
      series: [{ label: 'bits' }, { label: 'integer', stroke: t.x, width: 2, points: { show: true, size: 5 } },
        { label: 'best float format', stroke: t.xhat, width: 0, paths: () => null, points: { show: true, size: 9, fill: t.xhat } }],
    },
    [Float64Array.from(xs), xs.map((b) => intAt.get(b) ?? null), xs.map((b) => best.get(b)?.sqnrDb ?? null)],
    ['format', 'bits', 'SQNR (dB)', 'MSE'],
    [...study.formats.map((f) => [f.format, f.bits, f.sqnrDb === null ? 'undefined' : f.sqnrDb, f.mse]),
      ...study.bits.map((s) => [`int${s.bits}`, s.bits, s.sqnrDb === null ? 'undefined' : s.sqnrDb, s.mse])]);
}
