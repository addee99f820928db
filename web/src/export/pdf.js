// The PDF report, built in the browser with jsPDF (loaded only when asked): settings, every
// metric, the formulas with the numbers, the charts as images and the per-sample table (every
// row up to 1,000 samples, else the first 1,000). Text stays text, so it can be searched and
// extracted. The standard PDF fonts cover Latin-1 only: other characters are spelled out.
// Indices count from 0, as frameworks print them (the report says so at the top).
import { paramsOfSample } from '../app/state.js';
import { CSV_COLUMNS } from './csv.js';

const SPELL = { '−': '-', '–': '-', '×': '*', 'Δ': 'Delta', 'x̂': 'x_hat', '̂': '^', '…': '...', '√': 'sqrt', 'Σ': 'sum', '²': '^2', '∞': 'inf', '±': '+/-', '\u2009': ' ' };

export function pdfText(text) {
  let out = String(text);
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

export async function buildPdf({ name, options, result: r, metricRows, formulaLines, chartCanvases }) {
  const { jsPDF } = await import('jspdf');
  const doc = new jsPDF({ unit: 'pt', format: 'a4', compress: true });
  const W = doc.internal.pageSize.getWidth();
  const H = doc.internal.pageSize.getHeight();
  const M = 48;
  let y = M;
  const need = (h) => {
    if (y + h > H - M) {
      doc.addPage();
      y = M;
    }
  };
  const line = (text, { size = 10, font = 'helvetica', style = 'normal', gap = 4 } = {}) => {
    doc.setFont(font, style);
    doc.setFontSize(size);
    for (const part of doc.splitTextToSize(pdfText(text), W - 2 * M)) {
      need(size + gap);
      doc.text(part, M, y + size);
      y += size + gap;
    }
  };
  const heading = (text) => {
    need(80); // never a heading alone at the foot of a page
    y += 8;
    line(text, { size: 13, style: 'bold', gap: 6 });
  };

  line(`Quantization error report: ${name || 'tensor'}`, { size: 17, style: 'bold', gap: 8 });
  line(`${r.values.length.toLocaleString('en')} samples, ${options.bits}-bit ${options.mode}, rounding ${options.rounding}.`);
  line('Indices count from 0, as frameworks print them: sample [0] is the first sample, and channel, group and block [0] the first of each.');

  heading('Settings and parameters');
  const settings = [
    ['Bit depth', options.bits], ['Mode', options.mode], ['Rounding', options.rounding],
    ['Range', options.range ? `custom [${options.range.min}, ${options.range.max}]` : 'from the samples'],
    ['Range used', `[${r.rangeMin}, ${r.rangeMax}]`], ['Scale', r.groups ? `per ${options.granularity} (mean ${r.metrics.step})` : r.scale],
    ['Zero point', r.groups ? `per ${options.granularity}` : r.zeroPoint], ['Code range', `[${r.qmin}, ${r.qmax}]`],
  ];
  for (const [k, v] of settings) line(`${k}: ${v}`);

  heading('Metrics');
  for (const [label, value] of metricRows) line(`${label}: ${value}`, { font: 'helvetica' });

  heading('Formulas with these numbers');
  for (const text of Object.values(formulaLines)) line(text, { font: 'courier', size: 9 });

  heading('Charts');
  for (const { title, canvas } of chartCanvases) {
    const w = W - 2 * M;
    const h = (canvas.height / canvas.width) * w;
    need(h + 24);
    line(title, { style: 'bold' });
    doc.addImage(opaque(canvas), 'PNG', M, y, w, h);
    y += h + 10;
  }

  const n = r.values.length;
  const rows = Math.min(n, 1000);
  heading(rows < n ? `Per sample: [0] to [${rows - 1}] of ${n.toLocaleString('en')} (the CSV has every row)` : `Per sample: [0] to [${n - 1}]`);
  const cols = CSV_COLUMNS;
  const cell = (v) => (typeof v === 'number' ? String(Number(v.toPrecision(8))) : String(v));
  const fit = (s) => (s.length > 11 ? s.slice(0, 11) : s).padStart(11);
  line(cols.map((c) => fit(c)).join(' '), { font: 'courier', size: 7.5, style: 'bold', gap: 2 });
  const at = paramsOfSample(r);
  for (let i = 0; i < rows; i++) {
    const x = r.values[i];
    const p = at(i);
    const values = [i, x, x / p.scale + p.zeroPoint, r.codes[i], r.dequantized[i], r.errors[i], Math.abs(r.errors[i]), r.clipped[i] ? 'yes' : 'no'];
    line(values.map((v) => fit(cell(v))).join(' '), { font: 'courier', size: 7.5, gap: 2 });
  }
  const pages = doc.getNumberOfPages();
  for (let p = 1; p <= pages; p++) {
    doc.setPage(p);
    doc.setFont('helvetica', 'normal');
    doc.setFontSize(8);
    doc.text(pdfText(`${name || 'tensor'}: page ${p} of ${pages}`), W - M, H - 24, { align: 'right' });
  }
  return doc.output('blob');
}
