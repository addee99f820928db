import { groupUnit, paramsOfSample } from '../shared/result.js';

// The CSV download. Layout: a header block of "setting,value" and "metric,value" rows, a blank
// line, then one row per sample with a header row. Indices count from 0, as frameworks print
// them (the index_base row says so): sample [0] is the first sample, and channel, group and block
// [0] the first of each. RFC 4180: fields with a comma, quote or line
// break are quoted, quotes doubled, CRLF line ends. Text cells (never numbers) that begin with
// = + - @ (or tab/CR) get a leading apostrophe so spreadsheets do not run them as formulas.
// Numbers are written with String(), the shortest text that reads back to the same double.
export function csvCell(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : '';
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const row = (cells) => cells.map(csvCell).join(',');

/** Rows of cells → CSV text with CRLF line ends. */
export const csvText = (rows) => `${rows.map(row).join('\r\n')}\r\n`;

export const CSV_COLUMNS = ['index', 'x', 'scaled', 'q', 'x_hat', 'error', 'abs_error', 'clipped'];
// Per channel or per group: the first column is named for the unit (channel or group).
export const GROUP_COLUMNS = ['group', 'scale', 'zero_point', 'range_min', 'range_max', 'count', 'mse', 'sqnr_db', 'clip_rate', 'max_abs_error'];

export const BLOCK_COLUMNS = ['block', 'scale', 'scale_code'];

export function buildCsv({ name, options, result }) {
  const r = result;
  if (r.format) return formatCsv(name, options, r);
  const unit = groupUnit(r);
  const lines = [
    row(['setting', 'value']),
    row(['tensor', name]),
    row(['bits', options.bits]),
    row(['mode', options.mode]),
    row(['rounding', options.rounding]),
    row(['range', options.range ? 'custom' : 'from samples']),
    row(['calibration', r.calibration.method]),
    ...(r.calibration.method === 'percentile' ? [row(['percentile', r.calibration.percentile])] : []),
    row(['range_min', r.rangeMin]),
    row(['range_max', r.rangeMax]),
    row(['granularity', r.groups ? options.granularity : 'tensor']),
    row(['scale', r.groups ? `per ${unit}` : r.scale]),
    row(['zero_point', r.groups ? `per ${unit}` : r.zeroPoint]),
    row(['q_min', r.qmin]),
    row(['q_max', r.qmax]),
    row(['index_base', 0]),
    row(['metric', 'value']),
    ...Object.entries(r.metrics).map(([k, v]) => row([k, v])),
    '',
  ];
  if (r.groups) {
    lines.push(row([unit, ...GROUP_COLUMNS.slice(1)]));
    for (const g of r.groups) {
      lines.push(row([g.index, g.scale, g.zeroPoint, g.rangeMin, g.rangeMax, g.metrics.count, g.metrics.mse, g.metrics.sqnrDb,
        g.metrics.clipRate, g.metrics.maxAbsError]));
    }
    lines.push('');
  }
  sampleRows(lines, r);
  return `${lines.join('\r\n')}\r\n`;
}

// A float or block format: its settings and counts, the metrics, each block's scale, the samples.
function formatCsv(name, options, r) {
  const f = r.format;
  const lines = [
    row(['setting', 'value']),
    row(['tensor', name]),
    row(['format', f.name]),
    ...(f.block ? [row(['block_size', f.block]), ...(typeof f.saturatedBlocks === 'number' ? [row(['saturated_blocks', f.saturatedBlocks])] : []),
      ...(f.name.startsWith('mx') && typeof f.saturatedBlocks === 'number' ? [row(['mx_scale', options.mxScale ?? 'floor'])] : [])] : [row(['overflow', options.overflow ?? 'saturate']), row(['tensor_scale_rule', options.formatScale ?? 'none'])]),
    row(['tensor_scale', f.tensorScale]),
    row(['arithmetic', options.arithmetic ?? 'float64']),
    row(['format_max', f.max]),
    row(['overflow_count', f.overflowCount]),
    row(['underflow_count', f.underflowCount]),
    row(['subnormal_count', f.subnormalCount]),
    row(['index_base', 0]),
    row(['metric', 'value']),
    ...Object.entries(r.metrics).map(([k, v]) => row([k, v])),
    '',
  ];
  if (r.blocks) {
    lines.push(row(BLOCK_COLUMNS));
    for (let b = 0; b < r.blocks.scale.length; b++) lines.push(row([b, r.blocks.scale[b], r.blocks.code[b]]));
    lines.push('');
  }
  sampleRows(lines, r);
  return `${lines.join('\r\n')}\r\n`;
}

function sampleRows(lines, r) {
  lines.push(row(CSV_COLUMNS));
  const n = r.values.length;
  const at = paramsOfSample(r);
  for (let i = 0; i < n; i++) {
    const x = r.values[i];
    const p = at(i);
    lines.push(row([i, x, x / p.scale + p.zeroPoint, r.codes[i], r.dequantized[i], r.errors[i], Math.abs(r.errors[i]), r.clipped[i]]));
  }
}

/** A file name from the tensor name: letters, digits, dot, dash and underscore only (the PDF swaps the extension). */
export function csvFileName(name) {
  const base = String(name).trim().replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 80);
  return `${base || 'tensor'}-quantization.csv`;
}
