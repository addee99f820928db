// The PDF report, built in the browser with jsPDF (loaded only when asked): the verdict, the
// settings, the parameters and metrics (each once, as the page's cards show them), the formulas
// with the numbers, the charts as images with their legends, and the per-sample table (every row
// up to 1,000 samples, else the first 1,000). Text stays text, so it can be searched and
// extracted. The standard PDF fonts cover Latin-1 only: other characters are spelled out.
// Indices count from 0, as frameworks print them (the report says so at the top).
import { verdict } from '../shared/cards.js';
import { fmt } from '../shared/format.js';
import { layerCards, layerVerdict, partRows } from '../shared/layer-summary.js';
import { paramsOfSample } from '../shared/result.js';
import { CSV_COLUMNS } from './csv.js';

const SPELL = { '≈': '~', '−': '-', '—': '-', '–': '-', '×': '*', 'Δ': 'Delta', 'x̂': 'x_hat', '̂': '^', '…': '...', '√': 'sqrt', 'Σ': 'sum', '²': '^2', '∞': 'inf', '±': '+/-', '\u2009': ' ' };

export function pdfText(text) {
  // The page groups thousands with a thin space (2 000); the report's own text uses commas.
  let out = String(text).replace(/(\d)\u2009(?=\d{3})/g, '$1,');
  for (const [from, to] of Object.entries(SPELL)) out = out.split(from).join(to);
  return out.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
}

// The chart canvases are transparent: paint them on the page's own background, so a dark-theme
// chart keeps its contrast on white paper.
function opaque(canvas) {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}

// A CSS colour as [r, g, b] on white paper (its alpha blended with white), through a canvas's own
// colour parser; null for none.
function paperColour(css) {
  if (!css) return null;
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.fillStyle = '#000000';
  ctx.fillStyle = css;
  const v = ctx.fillStyle;
  if (v.startsWith('#')) return [1, 3, 5].map((i) => parseInt(v.slice(i, i + 2), 16));
  const [r, g, b, a = 1] = v.match(/[\d.]+/g).map(Number);
  return [r, g, b].map((c) => Math.round(a * c + (1 - a) * 255));
}

// What a chart's legend names (charts.js writes it on the figure as data-legend) and what it
// shows (its accessible description, after the title).
function chartNotes(title, canvas) {
  const fig = canvas.closest('figure');
  let legend = [];
  try {
    legend = JSON.parse(fig?.dataset.legend ?? '[]');
  } catch {
    legend = [];
  }
  const label = fig?.querySelector('[role=img]')?.getAttribute('aria-label') ?? '';
  return { legend, description: label.startsWith(`${title}. `) ? label.slice(title.length + 2) : '' };
}

const SEVERITY = { warn: ['Warning: ', [164, 36, 27]], note: ['', [31, 63, 115]], good: ['', [29, 90, 48]] };

// A page writer on an A4 jsPDF document: wrapped text lines, headings kept with what follows, a
// new page when the next block does not fit, and the charts with their legends. `w.y` is the
// current height from the top.
function writer(doc) {
  const W = doc.internal.pageSize.getWidth();
  const H = doc.internal.pageSize.getHeight();
  const M = 48;
  const w = { doc, W, H, M, textWidth: W - 2 * M, y: M };
  w.need = (h) => {
    if (w.y + h > H - M) {
      doc.addPage();
      w.y = M;
    }
  };
  w.font = ({ size = 10, face = 'helvetica', style = 'normal' } = {}) => {
    doc.setFont(face, style);
    doc.setFontSize(size);
  };
  // The lines `text` wraps to at a width, in a font.
  w.wrap = (text, style = {}, width = w.textWidth) => {
    w.font(style);
    return doc.splitTextToSize(pdfText(text), width);
  };
  w.line = (text, { size = 10, face = 'helvetica', style = 'normal', gap = 4, indent = 0 } = {}) => {
    for (const part of w.wrap(text, { size, face, style }, w.textWidth - indent)) {
      w.need(size + gap);
      w.font({ size, face, style });
      doc.text(part, M + indent, w.y + size);
      w.y += size + gap;
    }
  };
  const HEADING = 13 + 6 + 8;
  // A heading stays on the page of the first `keep` points that follow it.
  w.heading = (text, keep = 40) => {
    w.need(HEADING + keep);
    w.y += 8;
    w.line(text, { size: 13, style: 'bold', gap: 6 });
  };
  // The verdict, each sentence marked by its severity.
  w.verdict = (sentences) => {
    const size = 10, gap = 4;
    const first = sentences.length ? w.wrap((SEVERITY[sentences[0][0]] ?? SEVERITY.note)[0] + sentences[0][1], { size }, w.textWidth - 12).length : 0;
    w.heading('Verdict', first * (size + gap));
    for (const [kind, text] of sentences) {
      const [prefix, colour] = SEVERITY[kind] ?? SEVERITY.note;
      w.need(size + gap);
      doc.setFillColor(...colour);
      doc.rect(M, w.y + 3, 5, 5, 'F');
      w.line(prefix + text, { size, gap, indent: 12 });
    }
  };
  // Each chart: its title, what it shows, the image, and its legend (a swatch per series or mark).
  w.charts = (chartCanvases) => {
    const charts = chartCanvases.filter((c) => c.canvas).map(({ title, canvas }) => {
      const { legend, description } = chartNotes(title, canvas);
      const h = (canvas.height / canvas.width) * w.textWidth;
      const about = description ? w.wrap(description, { size: 8 }) : [];
      const keys = legendRows(doc, legend, w.textWidth);
      return { title, canvas, h, about, keys, height: 10 + 4 + about.length * 10 + 4 + h + 6 + keys.length * 12 + 12 };
    });
    if (!charts.length) return;
    w.heading('Charts', charts[0].height);
    for (const c of charts) {
      w.need(c.height);
      w.line(c.title, { style: 'bold' });
      for (const part of c.about) {
        w.font({ size: 8 });
        doc.setTextColor(79, 91, 109);
        doc.text(part, M, w.y + 8);
        w.y += 10;
      }
      doc.setTextColor(0, 0, 0);
      w.y += 4;
      doc.addImage(opaque(c.canvas), 'PNG', M, w.y, w.textWidth, c.h);
      w.y += c.h + 6;
      drawLegend(doc, c.keys, M, w.y);
      w.y += c.keys.length * 12 + 12;
    }
  };
  w.footer = (name) => {
    const pages = doc.getNumberOfPages();
    for (let p = 1; p <= pages; p++) {
      doc.setPage(p);
      w.font({ size: 8 });
      doc.text(pdfText(`${name}: page ${p} of ${pages}`), W - M, H - 24, { align: 'right' });
    }
  };
  return w;
}

export async function buildPdf({ name, options, result: r, metricRows, formulaLines, chartCanvases }) {
  const { jsPDF } = await import('jspdf');
  const doc = new jsPDF({ unit: 'pt', format: 'a4', compress: true });
  const w = writer(doc);
  const { H, M, textWidth, line, heading, font } = w;

  const n = r.values.length;
  line(`Quantization error report: ${name || 'tensor'}`, { size: 17, style: 'bold', gap: 8 });
  line(r.format ? `${n.toLocaleString('en')} samples, ${r.format.label}.`
    : `${n.toLocaleString('en')} samples, ${options.bits}-bit ${options.mode}, rounding ${options.rounding}.`);
  line('Indices count from 0, as frameworks print them: sample [0] is the first sample, and channel, group and block [0] the first of each.');

  w.verdict(verdict(r));

  heading('Settings');
  const settings = r.format ? formatSettings(r, options) : integerSettings(r, options);
  for (const [k, v] of settings) line(`${k}: ${v}`);

  heading('Parameters and metrics');
  for (const [label, value] of metricRows) line(`${label}: ${value}`);

  heading('Formulas with these numbers');
  for (const text of Object.values(formulaLines)) line(text, { face: 'courier', size: 9 });

  w.charts(chartCanvases);

  const rows = Math.min(n, 1000);
  const table = sampleTable(r, rows, M, textWidth);
  heading(rows < n ? `Per sample: [0] to [${rows - 1}] of ${n.toLocaleString('en')} (the CSV has every row)` : `Per sample: [0] to [${n - 1}]`,
    2 * table.rowHeight + 5 * table.rowHeight);
  const header = () => {
    font({ size: table.size, style: 'bold' });
    table.columns.forEach((c, k) => doc.text(c, table.right[k], w.y + table.size, { align: 'right' }));
    w.y += table.rowHeight;
    doc.setDrawColor(180, 186, 196);
    doc.setLineWidth(0.5);
    doc.line(M, w.y - 2, M + textWidth, w.y - 2);
  };
  header();
  for (let i = 0; i < rows; i++) {
    if (w.y + table.rowHeight > H - M) {
      doc.addPage();
      w.y = M;
      header();
    }
    if (i % 2 === 1) {
      doc.setFillColor(242, 244, 247);
      doc.rect(M, w.y - 1, textWidth, table.rowHeight, 'F');
    }
    font({ size: table.size });
    table.cells[i].forEach((text, k) => doc.text(text, table.right[k], w.y + table.size, { align: 'right' }));
    w.y += table.rowHeight;
  }

  w.footer(name || 'tensor');
  return doc.output('blob');
}

/**
 * The layer's report (qz.layer's result): the verdict, the settings, the cards, the error's parts
 * beside their prediction, the accumulator, the requantization and the codes that differ (the
 * first 100; the CSV has every one), the second layer, and the charts.
 */
export async function buildLayerPdf({ settings, result: r, chartCanvases }) {
  const { jsPDF } = await import('jspdf');
  const doc = new jsPDF({ unit: 'pt', format: 'a4', compress: true });
  const w = writer(doc);
  const { line, heading } = w;
  const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? '-' : typeof v === 'number' ? fmt(v) : String(v));
  line(`Through a layer: Y = X*W^T, ${r.shape.tokens} tokens x ${r.shape.out} channels`, { size: 17, style: 'bold', gap: 8 });
  line(`W [${r.shape.out}, ${r.shape.in}], X [${r.shape.tokens}, ${r.shape.in}]. Indices count from 0: token [0] and channel [0] are the first.`);
  w.verdict(layerVerdict(r));
  heading('Settings');
  for (const [k, v] of settings) line(`${k.replace(/_/g, ' ')}: ${v}`);
  heading('The output');
  for (const [, label, text] of layerCards(r)) line(`${label}: ${text}`);
  heading('The error\'s parts, measured and predicted');
  for (const [part, energy, db, predicted, pdb] of partRows(r)) {
    line(`${part}: energy ${num(energy)} (SQNR ${num(db)} dB); predicted ${num(predicted)} (${num(pdb)} dB)`);
  }
  const a = r.accumulator;
  if (a.bound !== null) {
    heading('The accumulator');
    line(`Sums of ${num(a.block)} products, each at most ${num(a.productMax)}: worst case ${num(a.bound)}, these data's largest codes ${num(a.dataBound)}, largest |sum| ${num(a.maxAbs)}.`);
    for (const k of ['int16', 'int32']) {
      const t = a[k];
      line(`${k} [${num(t.min)}, ${num(t.max)}]: ${num(t.wrapped)} outputs wrapped, ${num(t.saturated)} saturated, SQNR wrapped ${num(t.wrapSqnrDb)} dB, saturated ${num(t.saturateSqnrDb)} dB.`);
    }
  }
  const q = r.requantization;
  if (q) {
    heading('Requantization');
    line(`Output scale ${num(q.scale)}, zero point ${q.zeroPoint}${q.derived ? ' (from the output range)' : ' (given)'}, codes [${q.qmin}, ${q.qmax}], profile ${q.profile}.`);
    line(`M = s_x*s_w/s_y = ${num(q.realMultiplier[0])}: TFLite M0 = ${q.multiplier[0]}, shift = ${q.shift[0]}; ONNX Runtime float32 M = ${num(q.onnxMultiplier[0])}` +
      `${q.multiplier.length > 1 ? ` (channel [0] of ${q.multiplier.length})` : ''}.`);
    line(`Codes that differ from the exact rounding: formula ${q.differ.formula}, onnx ${q.differ.onnx}, tflite ${q.differ.tflite}, qdq ${q.differ.qdq}.`);
    const shown = q.differences.slice(0, 100);
    if (shown.length) {
      heading(`Outputs whose codes differ (the first ${shown.length})`);
      line('[token, channel]  acc  acc*M  exact formula onnx tflite qdq  why', { face: 'courier', size: 8, style: 'bold' });
      for (const d of shown) {
        line(`[${d.token}, ${d.channel}]  ${d.acc}  ${num(d.value)}  ${d.exact} ${d.formula} ${d.onnx} ${d.tflite} ${d.qdq}  ${d.reasons.join(', ')}`, { face: 'courier', size: 8, gap: 2 });
      }
    }
  }
  if (r.next) {
    const n = r.next;
    heading(`Through ${n.activation} and a second layer`);
    line(`Layer 1's error carried through: ${num(n.propagated.sqnrDb)} dB; layer 2's own quantization: ${num(n.local.sqnrDb)} dB; both: ${num(n.total.sqnrDb)} dB.`);
  }
  w.charts(chartCanvases);
  w.footer('layer');
  return doc.output('blob');
}

const CALIBRATIONS = { minmax: 'min-max', mse: 'MSE-optimal', entropy: 'entropy (KL)' };

// The settings that produced the result (the parameters they led to are the cards' rows).
function integerSettings(r, options) {
  const o = r.options ?? {};
  const c = r.calibration ?? {};
  const out = [];
  if (o.profile && o.profile !== 'formula') out.push(['Runtime profile', `${o.profile}${o.dtype ? `, ${o.dtype}` : ''}`]);
  out.push(['Bit depth', options.bits ?? o.bits], ['Mode', options.mode ?? o.mode],
    ['Rounding', `${options.rounding ?? o.rounding}${(options.rounding ?? o.rounding) === 'stochastic' ? `, seed ${options.seed ?? o.seed}` : ''}`]);
  out.push(['Range', c.method === 'custom' || options.range ? 'custom (the range used is below)'
    : `from the samples, ${c.method === 'percentile' ? `percentile ${c.percentile}` : CALIBRATIONS[c.method] ?? c.method} calibration`]);
  const g = options.granularity ?? 'tensor';
  const shape = options.shape ? ` of shape ${options.shape.join('x')}` : '';
  out.push(['Granularity', g === 'channel' ? `per channel, axis ${options.axis ?? 0}${shape}` : g === 'group' ? `per group of ${options.groupSize}${shape}` : 'per tensor']);
  return out;
}

// A float or block format (its name is the first of the cards' rows).
function formatSettings(r, options) {
  const f = r.format;
  return [
    ...(f.block ? [['Block size', f.block], ...(f.name.startsWith('mx') && typeof f.saturatedBlocks === 'number' ? [['Scale rounding', options.mxScale ?? 'floor']] : []),
      ...(typeof f.saturatedBlocks === 'number' ? [['Saturated blocks', f.saturatedBlocks]] : [])] : [['Overflow', options.overflow ?? 'saturate'], ['Tensor scale rule', options.formatScale ?? 'none']]),
    ['Arithmetic', options.arithmetic ?? 'float64']];
}

// The legend as rows of [{ entry, x }] that fit the text width: a 16 pt swatch, its label, a gap.
function legendRows(doc, legend, width) {
  doc.setFont('helvetica', 'normal');
  doc.setFontSize(8);
  const rows = [];
  let row = [], x = 0;
  for (const entry of legend) {
    const label = pdfText(entry.label);
    const w = 16 + 4 + doc.getTextWidth(label) + 14;
    if (x + w > width && row.length) {
      rows.push(row);
      row = [];
      x = 0;
    }
    row.push({ ...entry, label, x });
    x += w;
  }
  if (row.length) rows.push(row);
  return rows;
}

function drawLegend(doc, rows, left, top) {
  rows.forEach((row, k) => {
    const mid = top + k * 12 + 5;
    for (const e of row) {
      const x = left + e.x;
      const stroke = paperColour(e.color) ?? [0, 0, 0];
      const fill = paperColour(e.fill);
      doc.setDrawColor(...stroke);
      doc.setLineWidth(1.2);
      if (e.kind === 'bar') {
        doc.setFillColor(...(fill ?? stroke));
        doc.rect(x + 3, mid - 4, 10, 8, 'FD');
      } else if (e.kind === 'point') {
        doc.setFillColor(...(fill ?? stroke));
        doc.circle(x + 8, mid, 2.5, 'F');
      } else {
        doc.setLineDashPattern(e.dash?.length ? e.dash.map((d) => d * 0.75) : [], 0);
        doc.line(x, mid, x + 16, mid);
        doc.setLineDashPattern([], 0);
      }
      doc.setFont('helvetica', 'normal');
      doc.setFontSize(8);
      doc.setTextColor(0, 0, 0);
      doc.text(e.label, x + 20, mid + 3);
    }
  });
}

// The per-sample table: each cell with 7 significant digits, each column as wide as its widest
// cell (right-aligned at `right`), the font as large as fits the width (at most 8 pt), the width
// left over shared between the columns.
function sampleTable(r, rows, left, width) {
  const cell = (v) => (typeof v === 'number' ? String(Number(v.toPrecision(7))) : String(v));
  const at = paramsOfSample(r);
  const cells = [];
  for (let i = 0; i < rows; i++) {
    const x = r.values[i];
    const p = at(i);
    cells.push([i, x, x / p.scale + p.zeroPoint, r.codes[i], r.dequantized[i], r.errors[i], Math.abs(r.errors[i]), r.clipped[i] ? 'yes' : 'no'].map(cell));
  }
  const columns = CSV_COLUMNS;
  // Helvetica's digits are 0.556 em wide; a column's width is its widest cell's characters.
  const chars = columns.map((c, k) => Math.max(c.length, ...cells.map((row) => row[k].length)));
  const gap = 2;
  const size = Math.min(8, width / ((chars.reduce((a, b) => a + b, 0) + gap * columns.length) * 0.556));
  // The width left over goes evenly between the columns.
  const spare = Math.max(0, width - (chars.reduce((a, b) => a + b, 0) + gap * columns.length) * 0.556 * size) / columns.length;
  const right = [];
  let x = left;
  for (const c of chars) {
    x += (c + gap) * 0.556 * size + spare;
    right.push(x);
  }
  return { columns, cells, right, size, rowHeight: size + 3.5 };
}
