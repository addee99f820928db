// The CSV download. Layout: a header block of "setting,value" and "metric,value" rows, a blank
// line, then one row per sample with a header row. RFC 4180: fields with a comma, quote or line
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

export const CSV_COLUMNS = ['index', 'x', 'scaled', 'q', 'x_hat', 'error', 'abs_error', 'clipped'];

export function buildCsv({ name, options, result }) {
  const r = result;
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
    row(['scale', r.scale]),
    row(['zero_point', r.zeroPoint]),
    row(['q_min', r.qmin]),
    row(['q_max', r.qmax]),
    row(['metric', 'value']),
    ...Object.entries(r.metrics).map(([k, v]) => row([k, v])),
    '',
    row(CSV_COLUMNS),
  ];
  const n = r.values.length;
  for (let i = 0; i < n; i++) {
    const x = r.values[i];
    lines.push(row([i + 1, x, x / r.scale + r.zeroPoint, r.codes[i], r.dequantized[i], r.errors[i], Math.abs(r.errors[i]), r.clipped[i]]));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A file name from the tensor name: letters, digits, dot, dash and underscore only (the PDF swaps the extension). */
export function csvFileName(name) {
  const base = String(name).trim().replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 80);
  return `${base || 'tensor'}-quantization.csv`;
}
