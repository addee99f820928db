// The file report view: every tensor of a file with the form's settings, drawn from the page's
// state by render(state). The settings it used head it; the table, the filter and the downloads
// show only when this file's report has rows (never the previous file's).
import { describeScheme, rangeRule } from '../shared/describe.js';
import { fmt } from '../shared/format.js';
import { arrange, columnsOf, summarize, worstNames } from './report-table.js';
import { $ } from './ui.js';

export const MAX_OPEN = 1000000; // values a tensor may have to open whole in the calculator view
export const SAMPLE_OPEN = 262144; // a larger one opens as a uniform random sample of this many

const mb = (b) => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;

/** The settings line of a report: the scheme and where each tensor's range comes from. */
export function reportSettings(options, fileRange) {
  const scheme = describeScheme(options);
  if ((options.format ?? 'int') !== 'int') return `Settings: ${scheme}.`;
  if (options.range) return `Settings: ${scheme} — the same range for every tensor, as asked.`;
  const rule = rangeRule(options);
  return `Settings: ${scheme} — each tensor's ${rule} from its own values${fileRange === false ? ' (the form\'s custom range applies to the calculator only)' : ''}.`;
}

export function createReportView({ onSort, onOpenTensor }) {
  const drawn = { rows: null, view: null };

  function summaryText(rep) {
    const s = summarize(rep);
    if (rep.mode === 'compare') return compareText(rep, s);
    if (s.analysed === 0) {
      return rep.phase === 'reading' ? '' : `${fmt(s.tensors)} tensor${s.tensors === 1 ? '' : 's'}, none analysed${s.skipped ? `: ${fmt(s.skipped)} skipped` : ''}${s.failed ? `${s.skipped ? ',' : ':'} ${fmt(s.failed)} with errors` : ''}.`;
    }
    const head = rep.phase === 'cancelled' ? `Cancelled: ${fmt(s.analysed)} of ${fmt(rep.tensors ?? s.tensors)} tensors read before Cancel (the report is partial)`
      : `${fmt(s.tensors)} tensor${s.tensors === 1 ? '' : 's'}, ${fmt(s.analysed)} analysed${s.skipped ? `, ${fmt(s.skipped)} skipped` : ''}${s.failed ? `, ${fmt(s.failed)} with errors` : ''}`;
    const nonFinite = rep.rows.filter((r) => r.nonFinite && r.nonFinite.nan + r.nonFinite.posInf + r.nonFinite.negInf > 0).length;
    return `${head}; over ${fmt(s.values)} values: MSE ${fmt(s.mse)}, SQNR ${fmt(s.sqnrDb)} dB (weighted by size).` +
      `${nonFinite ? ` ${fmt(nonFinite)} tensor${nonFinite === 1 ? ' holds' : 's hold'} NaN or Inf: their metrics are over the finite values.` : ''}` +
      `${rep.mode === 'recipe' ? recipeText(rep) : ''}` +
      ' Highlighted: the worst tenth below 40 dB.';
  }

  // As llama-quantize's recipe would write the file: its size and bits per weight.
  function recipeText(rep) {
    const sized = rep.rows.filter((r) => typeof r.bytes === 'number' && r.recipeType);
    const bytes = sized.reduce((a, r) => a + r.bytes, 0), values = sized.reduce((a, r) => a + r.count, 0);
    const kept = rep.rows.filter((r) => r.kept).length;
    return values ? ` As ${rep.recipe.toUpperCase()}: ${mb(bytes)}, ${fmt((8 * bytes) / values)} bits per weight${kept ? ` (${fmt(kept)} tensor${kept === 1 ? '' : 's'} kept as they are)` : ''}.` : '';
  }

  function compareText(rep, s) {
    const c = rep.compare ?? {};
    const done = rep.rows.filter((r) => r.requantized);
    const same = done.filter((r) => r.requantized.differing === 0).length;
    const bytes = done.reduce((a, r) => a + r.bytes, 0), values = done.reduce((a, r) => a + r.count, 0);
    const missing = [...(c.onlyOriginal ?? []).map((n) => `${n} (only in the original)`), ...(c.onlyQuantized ?? []).map((n) => `${n} (only in ${rep.fileName})`)];
    const head = rep.phase === 'cancelled' ? `Cancelled: ${fmt(done.length)} tensors compared before Cancel (the comparison is partial)` : `${fmt(s.tensors)} tensors matched by name, ${fmt(done.length)} compared${s.failed ? `, ${fmt(s.failed)} with errors` : ''}`;
    const blocks = done.some((r) => r.requantized.unit === 'blocks');
    const sqnr = s.sqnrDb === Infinity ? 'no error at all' : `SQNR ${fmt(s.sqnrDb)} dB`;
    return `${head}; over ${fmt(values)} values: MSE ${fmt(s.mse)}, ${sqnr} (weighted by size), ${values ? fmt((8 * bytes) / values) : '–'} bits per weight. `
      + `Re-quantizing the original with each tensor's type gives the file's bytes for ${fmt(same)} of ${fmt(done.length)} tensors${same === done.length && done.length && blocks ? ' (identical to llama.cpp\'s reference quantizer)' : ''}.`
      + (missing.length ? ` Not matched: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ` and ${fmt(missing.length - 8)} more` : ''}.` : '');
  }

  function drawTable(rep) {
    const head = document.createElement('tr');
    const columns = columnsOf(rep);
    for (const [key, label] of columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      if (key === 'name' || key === 'dtype' || key === 'shape') th.className = 'text';
      const button = document.createElement('button');
      button.type = 'button';
      const v = rep.view;
      button.textContent = `${label}${v.sort === key ? (v.descending ? ' ▼' : ' ▲') : ''}`;
      th.setAttribute('aria-sort', v.sort === key ? (v.descending ? 'descending' : 'ascending') : 'none');
      button.addEventListener('click', () => onSort(key));
      th.append(button);
      head.append(th);
    }
    $('report-table').tHead.replaceChildren(head);
    const worst = worstNames(rep.rows);
    $('report-table').tBodies[0].replaceChildren(...arrange(rep.rows, rep.view, columns).map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.tensor = r.name;
      if (worst.has(r.name)) tr.className = 'worst';
      for (const [key, , value, shown] of columns) {
        const td = document.createElement('td');
        if (key === 'name' || key === 'dtype' || key === 'shape') td.className = 'text';
        if (key === 'name' && r.mse !== undefined && rep.mode !== 'compare') {
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = r.name;
          b.title = r.count <= MAX_OPEN ? 'Open in the calculator' : `Open a sample of ${SAMPLE_OPEN.toLocaleString('en')} values in the calculator`;
          b.addEventListener('click', () => onOpenTensor(r));
          td.append(b);
        } else if (key === 'range' && (r.error || r.skipped || r.kept)) {
          td.textContent = r.error ? `error: ${r.error}` : r.skipped ? `skipped: ${r.skipped}` : `${r.kept} (${r.dtype}, ${fmt(r.bitsPerWeight)} bits/weight)`;
          td.colSpan = columns.length - columns.findIndex(([k]) => k === 'range');
          td.className = 'text';
          tr.append(td);
          break;
        } else {
          const v = value(r);
          td.textContent = shown ? shown(r) : typeof v === 'number' ? fmt(v) : v ?? '';
          if (typeof v === 'number') td.dataset.value = String(v);
        }
        td.dataset.column = key;
        tr.append(td);
      }
      return tr;
    }));
  }

  return {
    render({ report: rep }) {
      $('report').hidden = rep.phase === 'idle';
      if (rep.phase === 'idle') return;
      $('report-title').textContent = rep.phase === 'describe' ? `Read ${rep.fileName}`
        : rep.mode === 'compare' ? `${rep.fileName} against its original ${rep.originalName}` : `Tensors in ${rep.fileName}`;
      // llama.cpp's GGUF files: compare with the original, a recipe, an imatrix.
      const gguf = /\.gguf$/i.test(rep.fileName ?? '') && rep.phase !== 'describe';
      $('gguf-tools').hidden = !gguf;
      if ($('recipe').value !== (rep.recipe ?? '')) $('recipe').value = rep.recipe ?? '';
      $('imatrix-name').textContent = rep.imatrix ? `Importance from ${rep.imatrix.name}` : '';
      $('imatrix-error').textContent = rep.fieldErrors.imatrix ?? '';
      $('report-settings').hidden = !rep.settings;
      $('report-settings').textContent = rep.settings ?? '';
      // Describing a raw or text file.
      const describing = rep.phase === 'describe';
      $('file-options').hidden = !describing;
      if (describing) {
        $('csv-options').hidden = !rep.csv;
        $('raw-options').hidden = rep.csv;
        $('file-options-intro').textContent = rep.csv ? 'A text table: choose the column to analyse.'
          : 'Raw binary: say how the values are stored (a .npy or .safetensors file says it itself).';
        const select = $('csv-column');
        if (rep.csv && select.dataset.file !== rep.fileName) {
          select.dataset.file = rep.fileName;
          select.replaceChildren(...rep.columns.map((c, i) => new Option(c.label, String(i))));
        }
      }
      for (const [id, key] of [['csv-column', 'csvColumn'], ['raw-dtype', 'rawDtype'], ['raw-shape', 'rawShape']]) {
        const message = rep.fieldErrors[key] ?? '';
        $(`${id}-error`).textContent = message;
        if (message) $(id).setAttribute('aria-invalid', 'true');
        else $(id).removeAttribute('aria-invalid');
      }
      // Reading.
      const reading = rep.phase === 'reading';
      $('report-progress').hidden = !reading;
      const p = rep.progress;
      $('report-bar').value = p?.total ? p.done / p.total : 0;
      if (!reading) $('report-progress-text').textContent = '';
      else if (!p) $('report-progress-text').textContent = 'Reading the header…';
      else {
        const rate = p.seconds > 0 ? p.done / p.seconds : 0;
        const left = rate > 0 ? (p.total - p.done) / rate : null;
        $('report-progress-text').textContent = `Tensor ${p.tensor} of ${p.tensors} (${p.name}): ${mb(p.done)} of ${mb(p.total)}` +
          (rate > 0 ? `, ${mb(rate)}/s, about ${Math.ceil(left)} s left` : '');
      }
      $('report-error').textContent = rep.error ?? '';
      const hasRows = rep.rows.length > 0 && !describing;
      $('report-summary').textContent = hasRows ? summaryText(rep) : '';
      const analysed = rep.rows.some((r) => r.mse !== undefined);
      $('report-tools').hidden = !hasRows;
      $('report-csv').disabled = !analysed || reading;
      $('report-json').disabled = !analysed || reading;
      if ($('report-filter').value !== rep.view.filter) $('report-filter').value = rep.view.filter;
      if (!hasRows) {
        drawn.rows = null;
        $('report-table').tHead.replaceChildren();
        $('report-table').tBodies[0].replaceChildren();
      } else if (drawn.rows !== rep.rows || drawn.view !== rep.view) {
        drawn.rows = rep.rows;
        drawn.view = rep.view;
        drawTable(rep);
      }
    },
  };
}
