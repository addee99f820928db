// The calculator page: form state (mirrored in the URL) → worker → result → render.
import { buildCsv, csvFileName, csvText } from './export/csv.js';
import { bitsForTarget } from './app/explore.js';
import { renderCharts, renderCompareChart, renderExplore, renderExplorer, renderGroupChart } from './charts/charts.js';
import { bitFields, codeTable } from './app/explorer.js';
import { Calculator } from './app/client.js';
import { snippet } from './app/snippet.js';
import { arrange, REPORT_COLUMNS, reportCsv, reportJson, summarize, worstNames } from './app/report.js';
import { compareCsvRows, DEFAULT_ROWS, describe, fieldId, MAX_ROWS, renderResults, renderRows, ROW_FIELDS, rowFromForm, rowsFromParam, rowsToOptions,
  rowsToParam } from './app/compare.js';
import { DISTRIBUTIONS, generateSamples } from './app/generate.js';
import { fmt, formatSummary, formulaLines, hex, PAGE_ROWS, renderCards, renderGroups, renderStochastic, renderTablePage, renderVerdict } from './app/render.js';
import { DEFAULTS, FIELD_IDS, fieldOfError, fromQuery, readForm, toOptions, toQuery, writeForm } from './app/state.js';

const $ = (id) => document.getElementById(id);
// Served over http(s), the page keeps itself for offline use (sw.js caches every file of the
// build) and says so once it has; a single-file copy opened from disk needs none of this.
async function keepOffline() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  try {
    const registration = await navigator.serviceWorker.register('./sw.js');
    registration.addEventListener('updatefound', () => {
      // A new version while an older one is active: say so once it takes over.
      const next = registration.installing;
      const hadCopy = Boolean(registration.active);
      next?.addEventListener('statechange', () => {
        if (next.state === 'activated' && hadCopy) $('offline-status').textContent = 'Works offline. Offline copy updated to this version.';
      });
    });
    await navigator.serviceWorker.ready;
    $('offline-status').textContent = 'Works offline: this page and its files are saved in your browser, so it opens without a network next time.';
    $('offline-status').dataset.ready = 'true';
  } catch (e) {
    $('offline-status').textContent = `This page could not be saved for offline use (${e.message}).`;
  }
}
keepOffline();

// ?wasm=scalar runs the build without SIMD, as a browser without wasm SIMD gets it.
const engine = new URLSearchParams(location.search).get('wasm') === 'scalar' ? { simd: false } : {};
const calculator = new Calculator(engine);
const comparer = new Calculator(engine); // its own worker: comparing never cancels a calculation
const reporter = new Calculator(engine); // and one for tensor files
let report = null; // { file, rows, … } of the open tensor file, with its File and options
const reportView = { filter: '', sort: null, descending: false };
const MAX_OPEN = 1000000; // values a tensor may have to open whole in the calculator view
const SAMPLE_OPEN = 262144; // a larger one opens as a uniform random sample of this many
let compareRows = DEFAULT_ROWS.map((r) => ({ ...r }));
let compared = null; // { name, results } of the last comparison
let freeCompare = () => {};
let compares = 0;
let current = null; // { name, options, result } of the last calculation shown
let page = 0;
let runs = 0;
let renders = 0;
let freeCharts = () => {};
let freeExplore = () => {};
let freeGroups = () => {};
let freeExplorer = () => {};
let study = null; // the what-if studies of the current result
const CHART_OPTIONS = { chartBuckets: 1200, histogramBins: 100 };

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: links still carry short inputs
  }
})();

const INTEGER_FIELDS = ['bits', 'mode', 'rounding', 'seed', 'range', 'calibration', 'percentile', 'granularity', 'shape', 'axis', 'group-size',
  'range-min', 'range-max'];
let describing = 0;

// The format's definition under the Format field, from the worker's core (the limits live there).
async function describeFormat() {
  const state = readForm(document);
  const run = ++describing;
  const info = $('format-info');
  if (state.format === 'int') return;
  const { options, problem } = toOptions(state);
  if (problem) {
    info.textContent = '';
    return;
  }
  try {
    const f = await calculator.describe(options);
    if (run === describing) info.textContent = formatSummary(f);
  } catch (e) {
    if (!e.cancelled && run === describing) info.textContent = e.message;
  }
}

function syncRangeFields() {
  const format = $('format').value;
  const profile = $('profile').value;
  // A runtime profile quantizes to integers with the runtime's own rules.
  $('profile').disabled = format !== 'int';
  for (const id of ['dtype', 'reduce-range']) $(id).disabled = profile === 'formula' || format !== 'int';
  $('profile-fields').hidden = profile === 'formula' || format !== 'int';
  for (const option of $('dtype').options) option.disabled = profile === 'pytorch' && option.value.endsWith('4');
  const integer = format === 'int';
  const block = /^(mx|nvfp4|nf4)/.test(format);
  $('format-details').hidden = integer;
  for (const node of document.querySelectorAll('.custom-only')) node.hidden = format !== 'custom';
  $('overflow').disabled = block;
  $('format-scale').disabled = block;
  syncIntegerFields();
  if (!integer) for (const id of INTEGER_FIELDS) $(id).disabled = true;
  if (integer && profile !== 'formula') {
    for (const id of ['bits', 'rounding', 'seed', 'calibration', 'percentile']) $(id).disabled = true;
    $('format').disabled = true;
  } else {
    $('format').disabled = false;
  }
  describeFormat();
}

function syncIntegerFields() {
  const custom = $('range').value === 'custom';
  for (const id of ['range-min', 'range-max']) $(id).disabled = !custom;
  $('calibration').disabled = custom;
  $('percentile').disabled = custom || $('calibration').value !== 'percentile';
  $('seed').disabled = $('rounding').value !== 'stochastic';
  const granularity = $('granularity').value;
  $('shape').disabled = granularity === 'tensor';
  $('axis').disabled = granularity !== 'channel';
  $('group-size').disabled = granularity !== 'group';
}

const LINK_NOTES = {
  browser: 'These samples are too long for a shareable link: the link keeps the settings, and this browser keeps the samples.',
  none: 'These samples are too long for a shareable link or this browser\'s storage: the link keeps the settings only.',
};

function saveToUrl() {
  const { query, fragment, kept } = toQuery(readForm(document), storage);
  history.replaceState(null, '', `?${query}&compare=${encodeURIComponent(rowsToParam(compareRows))}${engine.simd === false ? '&wasm=scalar' : ''}#${fragment}`);
  $('link-note').hidden = kept === 'link';
  $('link-note').textContent = LINK_NOTES[kept] ?? '';
}

function clearProblems() {
  for (const node of document.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  for (const node of document.querySelectorAll('#form .error, #compare-configs .error')) node.textContent = '';
}

function showProblem(key, message) {
  const id = FIELD_IDS[key] ?? FIELD_IDS.values;
  $(id).setAttribute('aria-invalid', 'true');
  $(`${id}-error`).textContent = message;
  $(id).focus();
}

function render() {
  const { result: r, options } = current;
  $('results').hidden = false;
  $('engine').textContent = r.simd ? 'Computed by the WebAssembly SIMD core.'
    : `Computed by the scalar WebAssembly core (${engine.simd === false ? 'chosen with ?wasm=scalar' : 'this browser has no WebAssembly SIMD'}): the same numbers, more slowly.`;
  renderVerdict($('verdict'), r);
  renderCards($('metrics'), r);
  renderPage();
  freeCharts();
  freeCharts = renderCharts($('charts'), r);
  freeGroups();
  freeGroups = () => {};
  $('groups-section').hidden = !r.groups;
  if (r.groups) {
    const order = renderGroups($('groups-summary'), $('groups-table').tBodies[0], r);
    freeGroups = renderGroupChart($('groups-chart'), r, order);
  }
  renderFormatExplorer(r);
  const code = snippet(r, options);
  $('snippet-section').hidden = !code;
  if (code) {
    $('snippet').textContent = code.text;
    $('snippet-hint').textContent = code.note;
    $('copy-status').textContent = '';
  }
  const lines = formulaLines(r, options);
  for (const [key, text] of Object.entries(lines)) $(`formula-${key}`).textContent = text;
  $('formula-numbers').hidden = false;
  $('results-title').textContent = `Results for ${current.name || 'the tensor'}`;
  $('results').dataset.render = String(++renders); // last: tests and the page benchmark wait for it
}

// Formats of at most 8 bits (and NF4): every value, the samples on each, and a code's bit fields.
function renderFormatExplorer(r) {
  freeExplorer();
  freeExplorer = () => {};
  $('explorer-section').hidden = !r.codeValues;
  if (!r.codeValues) return;
  const rows = codeTable(r);
  const f = r.format;
  const select = $('explorer-code');
  const label = (row) => `${f.name === 'nf4' ? row.code : hex(row.code, f.bits)} → ${Number.isNaN(row.value) ? 'NaN' : fmt(row.value)}${row.count ? ` (${fmt(row.count)} sample${row.count > 1 ? 's' : ''})` : ''}`;
  select.replaceChildren(...rows.map((row) => new Option(label(row), String(row.code))));
  const pick = (code) => {
    select.value = String(code);
    $('explorer-bits').textContent = bitFields(f, r.codeValues, code);
  };
  select.onchange = () => pick(Number(select.value));
  const busiest = rows.reduce((a, b) => (b.count > a.count ? b : a));
  pick(busiest.code);
  const finite = rows.filter((row) => Number.isFinite(row.value));
  $('explorer-summary').textContent = `${f.label} has ${rows.length} codes, ${finite.length} of them finite numbers; the samples (divided by ${r.blocks ? 'their block\'s scale' : 'the tensor scale'}) use ${rows.filter((row) => row.count > 0).length}. Click the chart or choose a code for its bit fields.`;
  freeExplorer = renderExplorer($('explorer-chart'), rows, f.label, pick);
}

function renderStudy() {
  freeExplore();
  freeExplore = () => {};
  $('stochastic-section').hidden = true;
  if (!current || !study) return;
  $('target-field').hidden = Boolean(study.skipped || study.formats);
  if (study.error || study.skipped) {
    $('explore').textContent = study.skipped ?? `The sweeps could not run: ${study.error}`;
    $('target-answer').textContent = '';
    return;
  }
  freeExplore = renderExplore($('explore'), study, current.result, current.options);
  if (study.stochastic) {
    renderStochastic($('stochastic-summary'), $('stochastic-table').tBodies[0], study.stochastic);
    $('stochastic-section').hidden = false;
  }
  if (study.formats) $('target-answer').textContent = '';
  else renderTarget();
}

function renderTarget() {
  const field = $('target-sqnr');
  const text = field.value.trim();
  const target = Number(text);
  field.removeAttribute('aria-invalid');
  $('target-sqnr-error').textContent = '';
  if (!study?.bits) return;
  if (text === '' || !Number.isFinite(target)) {
    field.setAttribute('aria-invalid', 'true');
    $('target-sqnr-error').textContent = `Target SQNR must be a number of dB (got "${text}")`;
    $('target-answer').textContent = '';
    return;
  }
  const hit = bitsForTarget(study.bits, target);
  $('target-answer').textContent = hit
    ? `The smallest bit depth that reaches ${target} dB with these settings is ${hit.bits} bits (${hit.sqnrDb === Infinity ? 'lossless' : `${hit.sqnrDb.toFixed(1)} dB`}).`
    : `No bit depth up to 16 reaches ${target} dB with these settings: change the range or the mode.`;
}

function renderPage() {
  const n = current.result.values.length;
  const pages = Math.ceil(n / PAGE_ROWS);
  page = Math.max(0, Math.min(page, pages - 1));
  renderTablePage($('samples-body'), $('page-status'), current.result, page);
  $('page-prev').disabled = page === 0;
  $('page-next').disabled = page >= pages - 1;
}

async function calculate() {
  clearProblems();
  saveToUrl();
  const state = readForm(document);
  const { options, problem } = toOptions(state);
  if (problem) return showProblem(problem.field, problem.message);
  const run = ++runs;
  const progress = $('progress');
  const timer = setTimeout(() => {
    if (run === runs) progress.hidden = false;
  }, 100);
  try {
    study = null;
    const result = await calculator.run(
      state.values,
      { ...options, ...CHART_OPTIONS },
      (phase) => {
        $('progress-text').textContent = `${phase}…`;
      },
      (explored) => {
        if (run !== runs) return;
        study = explored;
        renderStudy();
      },
    );
    // A big tensor's sample: its charts take the whole tensor's histograms.
    if (sampled?.values === state.values) result.tensorHistograms = sampled.histograms;
    current = { name: state.name.trim(), options, result };
    page = 0;
    render();
    if (study) renderStudy();
  } catch (e) {
    if (e.cancelled) return;
    showProblem(e.field ? fieldOfError(e.field) : 'values', e.message);
  } finally {
    clearTimeout(timer);
    if (run === runs) progress.hidden = true;
  }
}

// The compare view: rows edited in place (kept in the URL), all run in the comparer's worker.
function drawCompareRows() {
  renderRows($('compare-configs').tBodies[0], compareRows, {
    change(i, key, value) {
      compareRows[i][key] = value;
      if (key === 'calibration' || key === 'granularity' || key === 'format') drawCompareRows();
      saveToUrl();
    },
    duplicate(i) {
      compareRows.splice(i + 1, 0, { ...compareRows[i] });
      drawCompareRows();
      saveToUrl();
      $(fieldId(i + 1, 'bits')).focus();
    },
    remove(i) {
      compareRows.splice(i, 1);
      drawCompareRows();
      saveToUrl();
      $(compareRows.length ? fieldId(Math.min(i, compareRows.length - 1), 'bits') : 'compare-add').focus();
    },
  });
  $('compare-add').disabled = compareRows.length >= MAX_ROWS;
  $('compare-run').disabled = compareRows.length === 0;
  $('compare-error').textContent = compareRows.length ? '' : 'Add a configuration to compare.';
}

async function runCompare() {
  clearProblems();
  $('compare-error').textContent = '';
  saveToUrl();
  const state = readForm(document);
  const { list, problem } = rowsToOptions(compareRows, state);
  if (problem) {
    if (problem.row === null) return showProblem(problem.field, problem.message);
    const id = fieldId(problem.row, problem.field);
    $(id).setAttribute('aria-invalid', 'true');
    $(`${id}-error`).textContent = problem.message;
    $('compare-error').textContent = problem.message;
    return $(id).focus();
  }
  const run = ++compares;
  const timer = setTimeout(() => {
    if (run === compares) $('compare-progress').hidden = false;
  }, 100);
  try {
    const results = await comparer.compare(state.values, list, (phase) => {
      $('compare-progress-text').textContent = `${phase}…`;
    });
    if (run !== compares) return;
    compared = { name: state.name.trim(), results: results.map((r, i) => ({ ...r, options: r.options ?? list[i], description: describe(list[i]) })) };
    $('compare-results').hidden = false;
    renderResults($('compare-table').tHead, $('compare-table').tBodies[0], compared.results);
    freeCompare();
    freeCompare = renderCompareChart($('compare-chart'), compared.results);
    // A configuration the core refused also marks the row's field the message is about.
    compared.results.forEach((r, i) => {
      if (!r.error || !ROW_FIELDS.includes(fieldOfError(r.field))) return;
      const id = fieldId(i, fieldOfError(r.field));
      $(id).setAttribute('aria-invalid', 'true');
      $(`${id}-error`).textContent = r.error;
    });
    $('compare-csv').disabled = false;
    $('compare').dataset.render = String(run);
  } catch (e) {
    if (e.cancelled) return;
    showProblem(e.field ? fieldOfError(e.field) : 'values', e.message);
    $('compare-error').textContent = `The comparison could not run: ${e.message}`;
  } finally {
    clearTimeout(timer);
    if (run === compares) $('compare-progress').hidden = true;
  }
}

function downloadCompareCsv() {
  if (!compared) return;
  save(new Blob([csvText(compareCsvRows(compared.results))], { type: 'text/csv;charset=utf-8' }),
    csvFileName(compared.name).replace(/-quantization\.csv$/, '-comparison.csv'));
}

// Tensor files: every tensor reported with the form's settings, in the reporter's worker.
let pendingFile = null; // a raw or CSV file waiting for the user's description

async function openFile(file, source = null) {
  if (!file) return;
  const name = file.name;
  if (!source && !/\.(npy|safetensors|gguf)$/i.test(name)) {
    // Not self-describing: ask how to read it.
    pendingFile = file;
    const csv = /\.(csv|tsv|txt)$/i.test(name);
    $('report').hidden = false;
    $('report-title').textContent = `Read ${name}`;
    $('file-options').hidden = false;
    $('csv-options').hidden = !csv;
    $('raw-options').hidden = csv;
    $('file-options-intro').textContent = csv ? 'A text table: choose the column to analyse.'
      : 'Raw binary: say how the values are stored (a .npy or .safetensors file says it itself).';
    for (const id of ['csv-column', 'raw-dtype', 'raw-shape']) $(`${id}-error`).textContent = '';
    $('report-table').tHead.replaceChildren();
    $('report-table').tBodies[0].replaceChildren();
    $('report-summary').textContent = '';
    $('report-error').textContent = '';
    $(csv ? 'csv-column' : 'raw-dtype').focus();
    return;
  }
  $('file-options').hidden = true;
  clearProblems();
  const { options, problem } = toOptions(readForm(document));
  if (problem) return showProblem(problem.field, problem.message);
  $('report').hidden = false;
  $('report-title').textContent = `Tensors in ${file.name}`;
  // A new file starts unsorted and unfiltered.
  Object.assign(reportView, { filter: '', sort: null, descending: false });
  $('report-filter').value = '';
  $('report-error').textContent = '';
  $('report-summary').textContent = '';
  $('report-table').tHead.replaceChildren();
  $('report-table').tBodies[0].replaceChildren();
  $('report-progress').hidden = false;
  $('report-bar').value = 0;
  $('report-progress-text').textContent = 'Reading the header…';
  $('report').scrollIntoView({ block: 'start' });
  const mb = (b) => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;
  try {
    const result = await reporter.report(file, options, (p) => {
      $('report-bar').value = p.total ? p.done / p.total : 0;
      const rate = p.seconds > 0 ? p.done / p.seconds : 0;
      const left = rate > 0 ? (p.total - p.done) / rate : null;
      $('report-progress-text').textContent = `Tensor ${p.tensor} of ${p.tensors} (${p.name}): ${mb(p.done)} of ${mb(p.total)}` +
        (rate > 0 ? `, ${mb(rate)}/s, about ${Math.ceil(left)} s left` : '');
    }, source);
    report = { ...result, blob: file, options, source };
    renderReport();
    $('report').dataset.render = String(Number($('report').dataset.render ?? 0) + 1);
  } catch (e) {
    if (source && ['csvColumn', 'rawDtype', 'rawShape'].includes(e.field)) {
      // The description does not fit the file: say so at the field and let the user fix it.
      const id = { csvColumn: 'csv-column', rawDtype: 'raw-dtype', rawShape: 'raw-shape' }[e.field];
      $('file-options').hidden = false;
      pendingFile = file;
      $(`${id}-error`).textContent = e.message;
      $(id).focus();
    } else {
      $('report-error').textContent = e.cancelled ? 'Cancelled: the file was not read to the end.' : e.message;
    }
  } finally {
    $('report-progress').hidden = true;
  }
}

function readPendingFile() {
  if (!pendingFile) return;
  for (const id of ['csv-column', 'raw-shape']) $(`${id}-error`).textContent = '';
  if (!$('csv-options').hidden) {
    const text = $('csv-column').value.trim();
    return openFile(pendingFile, { csv: { column: /^\d+$/.test(text) ? Number(text) : text } });
  }
  const shapeText = $('raw-shape').value.trim();
  if (shapeText && !/^\d+(\s*[,×x]\s*\d+)*$/.test(shapeText)) {
    $('raw-shape-error').textContent = `Shape must be whole numbers separated by commas (got "${shapeText}")`;
    return $('raw-shape').focus();
  }
  const shape = shapeText ? shapeText.split(/\s*[,×x]\s*/).map(Number) : null;
  return openFile(pendingFile, { raw: { dtype: $('raw-dtype').value, bigEndian: $('raw-order').value === 'big', shape } });
}

function renderReport() {
  if (!report) return;
  const s = summarize(report);
  $('report-summary').textContent = `${fmt(s.tensors)} tensor${s.tensors === 1 ? '' : 's'}, ${fmt(s.analysed)} analysed` +
    `${s.skipped ? `, ${fmt(s.skipped)} skipped` : ''}${s.failed ? `, ${fmt(s.failed)} with errors` : ''}; ` +
    `over ${fmt(s.values)} values: MSE ${fmt(s.mse)}, SQNR ${fmt(s.sqnrDb)} dB (weighted by size). Highlighted: the worst tenth below 40 dB.`;
  const head = document.createElement('tr');
  for (const [key, label] of REPORT_COLUMNS) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (key === 'name' || key === 'dtype' || key === 'shape') th.className = 'text';
    const button = document.createElement('button');
    button.type = 'button';
    const arrow = reportView.sort === key ? (reportView.descending ? ' ▼' : ' ▲') : '';
    button.textContent = `${label}${arrow}`;
    th.setAttribute('aria-sort', reportView.sort === key ? (reportView.descending ? 'descending' : 'ascending') : 'none');
    button.addEventListener('click', () => {
      reportView.descending = reportView.sort === key ? !reportView.descending : false;
      reportView.sort = key;
      renderReport();
    });
    th.append(button);
    head.append(th);
  }
  $('report-table').tHead.replaceChildren(head);
  const worst = worstNames(report.rows);
  $('report-table').tBodies[0].replaceChildren(...arrange(report.rows, reportView).map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.tensor = r.name;
    if (worst.has(r.name)) tr.className = 'worst';
    for (const [key, , value, shown] of REPORT_COLUMNS) {
      const td = document.createElement('td');
      if (key === 'name' || key === 'dtype' || key === 'shape') td.className = 'text';
      if (key === 'name' && r.mse !== undefined) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = r.name;
        b.title = r.count <= MAX_OPEN ? 'Open in the calculator' : `Open a sample of ${SAMPLE_OPEN.toLocaleString('en')} values in the calculator`;
        b.addEventListener('click', () => openTensor(r));
        td.append(b);
      } else if (key === 'range' && (r.error || r.skipped)) {
        td.textContent = r.error ? `error: ${r.error}` : `skipped: ${r.skipped}`;
        td.colSpan = REPORT_COLUMNS.length - 4;
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

// A big tensor opened as a sample: its values text and the whole tensor's histograms, which the
// charts show while the form holds that sample.
let sampled = null;

async function openTensor(row) {
  const fields = { ...readForm(document) };
  // A sample has no shape: per tensor, with the whole tensor's range where that fixes the
  // parameters (integer codes), so the sample is quantized exactly as the tensor is.
  const perTensorInt = fields.format === 'int' && (report.options.granularity ?? 'tensor') === 'tensor';
  const sampling = row.count > MAX_OPEN;
  const range = { min: row.rangeMin, max: row.rangeMax };
  const whole = sampling ? { bins: CHART_OPTIONS.histogramBins, min: row.min, max: row.max,
    ...(perTensorInt ? { options: report.options, range, maxAbsError: row.maxAbsError } : {}) } : null;
  const t = await reporter.tensor(report.blob, row.name, report.source, sampling ? SAMPLE_OPEN : Infinity, whole);
  Object.assign(fields, { name: t.name, values: Array.from(t.values, String).join(', '), shape: t.shape.join(',') });
  const note = $('sample-note');
  note.hidden = !t.sampleOf;
  sampled = t.sampleOf ? { values: fields.values, histograms: t.histograms } : null;
  if (t.sampleOf) {
    Object.assign(fields, { shape: '', granularity: 'tensor' }, perTensorInt ? { range: 'custom', min: String(range.min), max: String(range.max) } : {});
    note.textContent = `${t.name} has ${t.sampleOf.toLocaleString('en')} values: this is a uniform random sample of ` +
      `${t.values.length.toLocaleString('en')} of them, in the tensor's order` +
      (perTensorInt ? `, quantized with the whole tensor's range [${fmt(range.min)}, ${fmt(range.max)}]` : ', quantized per tensor') +
      `. The histograms count all its values${perTensorInt ? ' and errors' : ''}; the other charts and the per-sample table show the sample, ` +
      'and the report\'s row has the whole tensor\'s metrics.';
  }
  writeForm(document, fields);
  syncRangeFields();
  $('form').scrollIntoView({ block: 'start' });
  calculate();
}

function loadExample() {
  writeForm(document, { ...readForm(document), bits: '8', mode: 'symmetric', rounding: 'half-even', range: 'custom', min: '-1.50', max: '1.50', values: DEFAULTS.values });
  syncRangeFields();
  calculate();
}

function save(blob, fileName) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function downloadCsv() {
  if (current) save(new Blob([buildCsv(current)], { type: 'text/csv;charset=utf-8' }), csvFileName(current.name));
}

async function downloadPdf() {
  if (!current) return;
  const button = $('download-pdf');
  button.disabled = true;
  button.textContent = 'Preparing PDF…';
  try {
    const { buildPdf } = await import('./export/pdf.js');
    const metricRows = [...document.querySelectorAll('#metrics .card')].map((c) => [c.querySelector('dt').textContent, c.querySelector('dd').textContent]);
    const chartCanvases = [...document.querySelectorAll('#charts figure')].map((f) => ({ title: f.querySelector('figcaption').textContent, canvas: f.querySelector('canvas') }));
    const blob = await buildPdf({ ...current, metricRows, formulaLines: formulaLines(current.result, current.options), chartCanvases });
    save(blob, csvFileName(current.name).replace(/\.csv$/, '.pdf'));
  } finally {
    button.disabled = false;
    button.textContent = 'Download PDF';
  }
}

function generate() {
  const count = Number($('gen-count').value);
  const seed = Number($('gen-seed').value);
  const problems = [];
  if (!Number.isInteger(count) || count < 1 || count > 1000000) problems.push(['gen-count', 'Count must be a whole number from 1 to 1,000,000']);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) problems.push(['gen-seed', 'Random seed must be a whole number from 0 to 4294967295']);
  for (const id of ['gen-count', 'gen-seed']) {
    $(id).removeAttribute('aria-invalid');
    $(`${id}-error`).textContent = '';
  }
  for (const [id, message] of problems) {
    $(id).setAttribute('aria-invalid', 'true');
    $(`${id}-error`).textContent = message;
  }
  if (problems.length) return $(problems[0][0]).focus();
  $('values').value = generateSamples($('gen-kind').value, count, seed).join(', ');
  calculate();
}

function init() {
  for (const [value, label] of Object.entries(DISTRIBUTIONS)) $('gen-kind').append(new Option(label, value));
  const fromUrl = fromQuery(location.search, storage, location.hash.slice(1));
  compareRows = rowsFromParam(new URLSearchParams(location.search).get('compare')) ?? compareRows;
  drawCompareRows();
  $('compare-run').addEventListener('click', runCompare);
  $('compare-add').addEventListener('click', () => {
    compareRows.push(rowFromForm(readForm(document)));
    drawCompareRows();
    saveToUrl();
    $(fieldId(compareRows.length - 1, 'bits')).focus();
  });
  $('compare-csv').addEventListener('click', downloadCompareCsv);
  $('open-file').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', () => {
    openFile($('file-input').files[0]);
    $('file-input').value = '';
  });
  $('form').addEventListener('dragover', (event) => {
    if (![...event.dataTransfer.types].includes('Files')) return;
    event.preventDefault();
    $('form').classList.add('dropping');
  });
  $('form').addEventListener('dragleave', () => $('form').classList.remove('dropping'));
  $('form').addEventListener('drop', (event) => {
    $('form').classList.remove('dropping');
    if (!event.dataTransfer.files.length) return;
    event.preventDefault();
    openFile(event.dataTransfer.files[0]);
  });
  $('report-cancel').addEventListener('click', () => reporter.cancel());
  $('file-read').addEventListener('click', readPendingFile);
  $('report-filter').addEventListener('input', () => {
    reportView.filter = $('report-filter').value;
    renderReport();
  });
  const base = () => (report?.file ?? 'tensors').replace(/\.(npy|safetensors)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  $('report-csv').addEventListener('click', () => report && save(new Blob([reportCsv(report)], { type: 'text/csv;charset=utf-8' }), `${base()}-report.csv`));
  $('report-json').addEventListener('click', () => report && save(new Blob([reportJson(report, report.options)], { type: 'application/json' }), `${base()}-report.json`));
  writeForm(document, fromUrl ?? DEFAULTS);
  syncRangeFields();
  $('form').addEventListener('submit', (event) => {
    event.preventDefault();
    calculate();
  });
  $('form').addEventListener('change', saveToUrl);
  $('range').addEventListener('change', syncRangeFields);
  // A tensor's sample note holds while its values and range do.
  for (const id of ['values', 'range', 'range-min', 'range-max']) {
    $(id).addEventListener('input', () => {
      $('sample-note').hidden = true;
      sampled = null;
    });
  }
  $('calibration').addEventListener('change', syncRangeFields);
  $('granularity').addEventListener('change', syncRangeFields);
  $('format').addEventListener('change', syncRangeFields);
  $('profile').addEventListener('change', syncRangeFields);
  $('copy-snippet').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('snippet').textContent);
      $('copy-status').textContent = 'Copied.';
    } catch {
      // No clipboard permission (an embedded or insecure page): select the text for the user.
      getSelection().selectAllChildren($('snippet'));
      $('copy-status').textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  });
  // The definition follows typing after a pause; on `change` (blur) its new height would move the
  // Calculate button under a click that is already on its way.
  let describeTimer = 0;
  for (const id of ['custom-ebits', 'custom-mbits', 'custom-bias', 'custom-specials']) {
    $(id).addEventListener('input', () => {
      clearTimeout(describeTimer);
      describeTimer = setTimeout(describeFormat, 400);
    });
  }
  $('rounding').addEventListener('change', syncRangeFields);
  $('load-example').addEventListener('click', loadExample);
  $('load-example-table').addEventListener('click', loadExample);
  $('reset').addEventListener('click', () => {
    calculator.cancel();
    writeForm(document, DEFAULTS);
    syncRangeFields();
    clearProblems();
    current = null;
    study = null;
    freeCharts();
    freeExplore();
    freeGroups();
    freeExplorer();
    $('groups-section').hidden = true;
    $('explorer-section').hidden = true;
    $('results').hidden = true;
    $('formula-numbers').hidden = true;
    saveToUrl();
  });
  $('generate').addEventListener('click', generate);
  $('download-csv').addEventListener('click', downloadCsv);
  $('download-pdf').addEventListener('click', downloadPdf);
  $('target-sqnr').addEventListener('input', renderTarget);
  $('page-prev').addEventListener('click', () => {
    page -= 1;
    renderPage();
  });
  $('page-next').addEventListener('click', () => {
    page += 1;
    renderPage();
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (current) {
        freeCharts();
        freeCharts = renderCharts($('charts'), current.result);
        if (study) renderStudy();
      }
      if (compared) {
        freeCompare();
        freeCompare = renderCompareChart($('compare-chart'), compared.results);
      }
    }, 200);
  });
  calculate();
}

init();
