// The calculator page: one state (store.js), one render per view (calculator, compare, file
// report), and the handlers that change the state and talk to the workers.
import { buildCsv, csvFileName, csvText } from '../export/csv.js';
import { CALIBRATIONS, CUSTOM_SPECIALS, DTYPES, FORMAT_GROUPS, FORMAT_SCALES, FORMATS, GRANULARITIES, MODES, MX_SCALES, ONNX_OPS, OVERFLOWS, PROFILES, RANGE_SOURCES,
  ROUNDINGS } from '../shared/choices.js';
import { formatSummary } from '../shared/cards.js';
import { fmt } from '../shared/format.js';
import { REQUESTS } from '../shared/protocol.js';
import { SEED_SETTINGS } from '../shared/seed-example.js';
import { WorkerClient } from '../shared/worker-client.js';
import { createCalculatorView } from './calculator.js';
import { createCompareView } from './compare.js';
import { compareCsvRows, DEFAULT_ROWS, describe, fieldId, rowFromForm, rowsFromParam, rowsToOptions, rowsToParam } from './compare-rows.js';
import { DEFAULTS, FIELD_IDS, fieldOfError, fromQuery, readForm, shownMode, toOptions, toQuery } from './form-state.js';
import { DISTRIBUTIONS, generateSamples } from './generate.js';
import { LAYER_DEFAULTS, LAYER_FIELD_IDS, layerFromLink, layerToLink } from './layer-state.js';
import { keepOffline } from './offline.js';
import { createReportView, MAX_OPEN, reportSettings, SAMPLE_OPEN } from './report.js';
import { compareCsv, partition, reportCsv, reportJson } from './report-table.js';
import { formulaLines } from './results.js';
import { createStore } from './store.js';
import { $, save } from './ui.js';

keepOffline((text, ready) => {
  $('offline-status').textContent = text;
  if (ready) $('offline-status').dataset.ready = 'true';
});

// ?wasm=scalar runs the build without SIMD, as a browser without wasm SIMD gets it.
const engine = new URLSearchParams(location.search).get('wasm') === 'scalar' ? { simd: false } : {};
const calculator = new WorkerClient(engine);
const comparer = new WorkerClient(engine); // its own worker: comparing never cancels a calculation
// Tensor files are read by a pool of workers, one per core (at most 4; ?workers=N sets it), each
// analysing whole tensors of a fixed partition of the file: the rows do not depend on the pool.
const POOL = (() => {
  const asked = Number(new URLSearchParams(location.search).get('workers'));
  return Number.isInteger(asked) && asked >= 1 && asked <= 16 ? asked : Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
})();
const reporters = Array.from({ length: POOL }, () => new WorkerClient(engine));
const reporter = reporters[0]; // also opens a tensor in the calculator
const cancelReports = () => reporters.forEach((r) => r.cancel());
const CHART_OPTIONS = { chartBuckets: 1200, histogramBins: 100 };

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: links still carry short inputs
  }
})();

const IDLE_REPORT = Object.freeze({ phase: 'idle', fileName: '', file: null, source: null, options: null, settings: null, progress: null, rows: [],
  tensors: null, error: null, view: { filter: '', sort: null, descending: false }, fieldErrors: {}, csv: false, columns: [],
  // llama.cpp's GGUF files: 'file' (the form's settings), 'recipe' (llama-quantize's preset) or 'compare' (against the original).
  mode: 'file', recipe: null, imatrix: null, original: null, originalName: null, compare: null });

const calculatorView = createCalculatorView({ engine });
const compareView = createCompareView({
  onChange(i, key, value) {
    const rows = store.state.compare.rows.map((r, k) => (k === i ? { ...r, [key]: value } : r));
    setCompare({ rows, problem: null });
    saveUrlSoon();
  },
  onDuplicate(i) {
    const rows = store.state.compare.rows;
    setCompare({ rows: [...rows.slice(0, i + 1), { ...rows[i] }, ...rows.slice(i + 1)], problem: null }, { now: true });
    saveUrlSoon();
    $(fieldId(i + 1, 'bits')).focus();
  },
  onRemove(i) {
    const rows = store.state.compare.rows.filter((_, k) => k !== i);
    setCompare({ rows, problem: null }, { now: true });
    saveUrlSoon();
    $(rows.length ? fieldId(Math.min(i, rows.length - 1), 'bits') : 'compare-add').focus();
  },
});
const reportView = createReportView({
  onSort(key) {
    const v = store.state.report.view;
    setReport({ view: { ...v, sort: key, descending: v.sort === key ? !v.descending : false } });
  },
  onOpenTensor: (row) => openTensor(row),
});

const store = createStore({
  form: { ...DEFAULTS },
  problems: {},
  urlNotes: [],
  valuesNotes: [],
  formatInfo: null,
  calc: { status: 'idle', phase: '', slow: false, run: null, studies: null, studiesFor: null },
  samplePage: 0,
  sampleOrder: 'index',
  target: '40',
  sampled: null, // a big tensor's sample: { values, histograms, note }
  linkKept: 'link',
  compare: { rows: DEFAULT_ROWS.map((r) => ({ ...r })), status: 'idle', phase: '', slow: false, results: null, name: '', problem: null, error: null },
  report: IDLE_REPORT,
  layer: { form: { ...LAYER_DEFAULTS }, problems: {}, status: 'idle', phase: '', progress: null, started: null, run: null, error: null, notes: [] },
}, (state) => {
  calculatorView.render(state);
  compareView.render(state);
  reportView.render(state);
  layerView?.render(state);
  // Tests and the page benchmark wait for this to change: it changes when new results are drawn.
  const serial = String(state.calc.run?.serial ?? 0);
  if ($('results').dataset.render !== serial) $('results').dataset.render = serial;
});

// "Through a layer" loads its code when the section comes near the viewport, is used, or a link
// carries its settings (layer.js: the form's choices, the run, the results).
let layerView = null;
let layerLoading = null;
function loadLayer() {
  layerLoading ??= import('./layer.js').then(({ mountLayer }) => {
    layerView = mountLayer({ store, engine, saveUrlSoon });
    store.update({}, { now: true });
    return layerView;
  });
  return layerLoading;
}

const setCalc = (change, opts) => store.update((s) => ({ calc: { ...s.calc, ...change } }), opts);
const setCompare = (change, opts) => store.update((s) => ({ compare: { ...s.compare, ...change } }), opts);
const setReport = (change, opts) => store.update((s) => ({ report: { ...s.report, ...change } }), opts);

// The form's selects, from the vocabularies' tables.
function fillSelects() {
  const tables = { FORMATS, MODES, ROUNDINGS, CALIBRATIONS, RANGE_SOURCES, GRANULARITIES, PROFILES, DTYPES, OVERFLOWS, FORMAT_SCALES, MX_SCALES,
    ONNX_OPS, CUSTOM_SPECIALS };
  for (const select of document.querySelectorAll('select[data-choices]')) {
    const rows = tables[select.dataset.choices];
    if (select.dataset.choices === 'FORMATS') {
      select.replaceChildren(...Object.entries(FORMAT_GROUPS).map(([group, label]) => {
        const optgroup = document.createElement('optgroup');
        optgroup.label = label;
        optgroup.append(...rows.filter((r) => r.group === group).map((r) => new Option(r.label, r.value)));
        return optgroup;
      }));
    } else {
      select.replaceChildren(...rows.map((r) => new Option(r.label, r.value)));
    }
  }
  for (const [value, label] of Object.entries(DISTRIBUTIONS)) $('gen-kind').append(new Option(label, value));
}

// The URL mirrors the form (and the compare rows), a moment after the last change.
let urlTimer = 0;
let urlWrites = 0;
function saveUrlSoon() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(saveUrl, 300);
}
async function saveUrl() {
  clearTimeout(urlTimer);
  const write = ++urlWrites;
  const { query, fragment, kept } = await toQuery(store.state.form, storage);
  const layer = await layerToLink(store.state.layer.form);
  if (write !== urlWrites) return; // a newer state is on its way
  const hash = new URLSearchParams(fragment);
  for (const [k, v] of layer.fragment) hash.set(k, v);
  history.replaceState(null, '', `?${query}&compare=${encodeURIComponent(rowsToParam(store.state.compare.rows))}` +
    `${layer.param ? `&layer=${encodeURIComponent(layer.param)}` : ''}${engine.simd === false ? '&wasm=scalar' : ''}#${hash}`);
  if (kept !== store.state.linkKept) store.update({ linkKept: kept });
}

// A format's definition under the Format field, from the worker's core (the limits live there).
let describing = 0;
async function describeFormat() {
  const form = store.state.form;
  const run = ++describing;
  if (form.format === 'int') return;
  const { options, problem } = toOptions(form);
  if (problem) return store.update({ formatInfo: '' });
  try {
    const f = await calculator.request(REQUESTS.describe, { options });
    if (run === describing) store.update({ formatInfo: formatSummary(f) });
  } catch (e) {
    if (!e.cancelled && run === describing) store.update({ formatInfo: e.message });
  }
}

function formChanged() {
  const before = store.state.form;
  const form = readForm(document);
  // Under a runtime profile the mode select shows "asymmetric" for the unsigned choice (the integer
  // type decides the sign): while it shows what it showed, the user's own choice stands.
  if (form.mode === shownMode(before)) form.mode = before.mode;
  const sampleKept = form.values === before.values && form.min === before.min && form.max === before.max && form.rangeSource === before.rangeSource;
  // Drawn at once: the next event reads the form as this state shows it.
  store.update({ form, ...(sampleKept ? {} : { sampled: null }), ...(form.values === before.values ? {} : { valuesNotes: [] }) }, { now: true });
  const describeKeys = ['format', 'customExponentBits', 'customMantissaBits', 'customBias', 'customSpecials', 'overflow', 'formatScale'];
  if (describeKeys.some((k) => form[k] !== before[k])) {
    clearTimeout(describeTimer);
    // The definition follows typing after a pause.
    describeTimer = setTimeout(describeFormat, form.format !== before.format ? 0 : 400);
  }
  saveUrlSoon();
}
let describeTimer = 0;

function showProblem(key, message) {
  store.update({ problems: { [key]: message } }, { now: true });
  $(FIELD_IDS[key] ?? FIELD_IDS.values).focus();
}

let runs = 0;
async function calculate() {
  formChanged(); // the form as it is now, typed or pasted a moment ago
  const state = store.state;
  saveUrl();
  const { options, problem } = toOptions(state.form);
  if (problem) return showProblem(problem.field, problem.message);
  const run = ++runs;
  const form = state.form;
  store.update({ problems: {}, calc: { ...state.calc, status: 'running', phase: 'Calculating', slow: false } });
  const timer = setTimeout(() => run === runs && setCalc({ slow: true }), 100);
  try {
    const result = await calculator.job(REQUESTS.analyze, { text: form.values, options: { ...options, ...CHART_OPTIONS } }, {
      onPhase: (phase) => run === runs && setCalc({ phase }),
      onStudies: (studies) => run === runs && setCalc({ studies, studiesFor: store.state.calc.run }),
    });
    if (run !== runs) return;
    // A big tensor's sample: its charts take the whole tensor's histograms.
    const sampled = store.state.sampled;
    if (sampled?.values === form.values) result.tensorHistograms = sampled.histograms;
    const shown = { serial: run, name: form.name.trim(), options, form, result };
    store.update((s) => ({ samplePage: 0, valuesNotes: result.notes?.map((n) => n.message) ?? [],
      calc: { ...s.calc, status: 'done', run: shown, studies: s.calc.studiesFor === shown ? s.calc.studies : null, studiesFor: null } }));
  } catch (e) {
    if (e.cancelled || run !== runs) return;
    setCalc({ status: 'done' });
    showProblem(e.field ? fieldOfError(e.field) : 'values', e.message);
  } finally {
    clearTimeout(timer);
  }
}

async function runCompare() {
  formChanged();
  saveUrl();
  const state = store.state;
  const { list, problem } = rowsToOptions(state.compare.rows, state.form);
  if (problem) {
    if (problem.row === null) {
      setCompare({ problem: null, error: null });
      return showProblem(problem.field, problem.message);
    }
    setCompare({ problem, error: null }, { now: true });
    return $(fieldId(problem.row, problem.field)).focus();
  }
  const run = (state.compare.serial ?? 0) + 1;
  setCompare({ serial: run, status: 'running', phase: '', slow: false, problem: null, error: null });
  const timer = setTimeout(() => store.state.compare.serial === run && setCompare({ slow: true }), 100);
  try {
    const results = await comparer.job(REQUESTS.compare, { text: state.form.values, list }, {
      onPhase: (phase) => setCompare({ phase }),
    });
    if (store.state.compare.serial !== run) return;
    setCompare({ status: 'done', name: state.form.name.trim(),
      results: results.map((r, i) => ({ ...r, options: r.options ?? list[i], description: describe(list[i]) })) });
    store.update({ problems: {} });
    $('compare').dataset.render = String(run);
  } catch (e) {
    if (e.cancelled) return;
    setCompare({ status: 'done', error: e.message });
    showProblem(e.field ? fieldOfError(e.field) : 'values', e.message);
  } finally {
    clearTimeout(timer);
  }
}

// Tensor files: every tensor reported with the form's settings, in the reporter's worker. Each
// tensor's range comes from its own values (by the calibration) unless the user asks for the
// form's custom range on every tensor.
function reportOptions(form) {
  const own = form.rangeSource === 'custom' && form.fileRange !== 'true' && form.format === 'int';
  return { ...toOptions(own ? { ...form, rangeSource: 'samples' } : form), own };
}

// A text table's header: its columns, to pick from.
async function csvColumns(file) {
  const head = await file.slice(0, 65536).text();
  const line = head.split(/\r?\n/)[0] ?? '';
  const sep = line.includes('\t') ? '\t' : ',';
  const cells = line.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const named = cells.some((c) => c !== '' && !Number.isFinite(Number(c)));
  return cells.map((c, i) => ({ label: named ? `${c || `column ${i}`} (column ${i})` : `column ${i}`, value: named && c ? c : i }));
}

async function openFile(file, source = null, { recipe = null, imatrix = null } = {}) {
  if (!file) return;
  cancelReports();
  if (!source && !/\.(npy|safetensors|gguf)$/i.test(file.name)) {
    // Not self-describing: ask how to read it.
    const csv = /\.(csv|tsv|txt)$/i.test(file.name);
    setReport({ ...IDLE_REPORT, phase: 'describe', fileName: file.name, file, csv, columns: csv ? await csvColumns(file) : [] }, { now: true });
    $(csv ? 'csv-column' : 'raw-dtype').focus();
    $('report').scrollIntoView({ block: 'start' });
    return;
  }
  formChanged();
  const { options, problem, own } = reportOptions(store.state.form);
  if (problem) return showProblem(problem.field, problem.message);
  store.update({ problems: {} });
  const serial = (store.state.report.serial ?? 0) + 1;
  const settings = recipe ? `Settings: llama-quantize's ${recipe.toUpperCase()} recipe — each tensor in the type llama.cpp's llama_tensor_get_type gives it`
    + `${imatrix ? `, quantized with the importance of ${imatrix.name}` : ''}; no file is written.` : reportSettings(options, own ? false : null)
    + (imatrix ? ` Importance from ${imatrix.name} for ggml's types.` : '');
  setReport({ ...IDLE_REPORT, serial, phase: 'reading', fileName: file.name, file, source, options, settings, mode: recipe ? 'recipe' : 'file', recipe, imatrix },
    { now: true });
  $('report').scrollIntoView({ block: 'start' });
  const current = () => store.state.report.serial === serial;
  try {
    const rows = await readReport(file, options, source, current, { recipe, imatrix });
    if (!current()) return;
    setReport({ phase: 'done', rows });
    $('report').dataset.render = String(Number($('report').dataset.render ?? 0) + 1);
  } catch (e) {
    if (!current()) return;
    if (source && ['csvColumn', 'rawDtype', 'rawShape'].includes(e.field)) {
      // The description does not fit the file: say so at the field and let the user fix it.
      setReport({ phase: 'describe', csv: Boolean(source.csv), fieldErrors: { [e.field]: e.message } }, { now: true });
      $({ csvColumn: 'csv-column', rawDtype: 'raw-dtype', rawShape: 'raw-shape' }[e.field]).focus();
    } else if (e.field === 'imatrix') {
      setReport({ phase: 'failed', error: e.message, fieldErrors: { imatrix: e.message } });
    } else if (e.cancelled) {
      const kept = store.state.report.rows.filter((r) => !r.skipped).length;
      setReport({ phase: 'cancelled', error: `Cancelled: the file was not read to the end${kept ? `; the ${kept} tensor${kept === 1 ? '' : 's'} read before Cancel ${kept === 1 ? 'is' : 'are'} kept below (a partial report)` : ''}.` });
    } else {
      setReport({ phase: 'failed', error: e.message, rows: [] });
    }
  }
}

// Every tensor of a file, read by the pool: rows in the file's order as they finish, progress
// summed over the workers. A raw or text file is one tensor, for one worker.
async function readReport(file, options, source, current, { recipe = null, imatrix = null } = {}) {
  const tensors = source ? [{ bytes: file.size }] : await reporter.job(REQUESTS.index, { file, source });
  if (!current()) return [];
  const groups = partition(tensors, source ? 1 : Math.min(POOL, tensors.filter((t) => !t.skipped).length || 1));
  setReport({ tensors: tensors.length });
  const started = performance.now();
  const done = groups.map(() => 0);
  const slots = new Array(tensors.length).fill(null);
  const place = (rows) => {
    for (const row of rows) slots[row.index ?? 0] = row;
    return slots.filter(Boolean);
  };
  const total = tensors.reduce((a, t) => a + t.bytes, 0);
  const jobs = groups.map((only, w) => reporters[w].job(REQUESTS.report, { file, options, source, only: source ? null : only, recipe, imatrix }, {
    onProgress: (p) => {
      if (!current()) return;
      done[w] = p.done;
      const read = done.reduce((a, b) => a + b, 0);
      setReport({ progress: { ...p, done: read, total, tensor: slots.filter(Boolean).length + 1, seconds: (performance.now() - started) / 1000 } });
    },
    onPartial: (rows) => current() && setReport({ rows: place(rows) }),
  }));
  try {
    const results = await Promise.all(jobs);
    return place(results.flatMap((r) => r.rows));
  } catch (e) {
    if (!e.cancelled) cancelReports(); // one worker's failure ends the report
    throw e;
  }
}

// A quantized file against its original, in the reporter's worker: a row per tensor matched by
// name as it is compared, with progress and Cancel like a file's report.
async function compareWith(original, quantized, imatrix = store.state.report.imatrix) {
  if (!original || !quantized) return;
  cancelReports();
  const serial = (store.state.report.serial ?? 0) + 1;
  setReport({ ...IDLE_REPORT, serial, mode: 'compare', phase: 'reading', fileName: quantized.name, file: quantized, original, originalName: original.name, imatrix,
    settings: `Compared with ${original.name}: tensors matched by name, each dequantized as ggml does and measured against the original's values`
      + `${imatrix ? `, weighted by ${imatrix.name}` : ''}; the original re-quantized with each tensor's type and compared block by block.` }, { now: true });
  $('report').scrollIntoView({ block: 'start' });
  const current = () => store.state.report.serial === serial;
  const slots = [];
  try {
    const r = await reporter.job(REQUESTS.compareFiles, { original, quantized, imatrix }, {
      onProgress: (p) => current() && setReport({ progress: p }),
      onPartial: (rows) => {
        for (const row of rows) slots[row.index] = row;
        if (current()) setReport({ rows: slots.filter(Boolean) });
      },
    });
    if (!current()) return;
    setReport({ phase: 'done', rows: r.rows, compare: { onlyOriginal: r.onlyOriginal, onlyQuantized: r.onlyQuantized, summary: r.summary } });
    $('report').dataset.render = String(Number($('report').dataset.render ?? 0) + 1);
  } catch (e) {
    if (!current()) return;
    if (e.cancelled) setReport({ phase: 'cancelled', error: `Cancelled: ${slots.filter(Boolean).length} tensors were compared before Cancel (kept below).` });
    else setReport({ phase: 'failed', error: e.message, rows: [], fieldErrors: e.field === 'imatrix' ? { imatrix: e.message } : {} });
  }
}

// A second file dropped on a report: the comparison's other side. The report's file is the
// quantized one, unless it holds no quantized tensor (then the dropped file is).
function compareDropped(file) {
  const rep = store.state.report;
  if (!rep.file || rep.phase === 'describe') return openFile(file);
  const quantizedHere = rep.mode === 'compare' || rep.rows.some((r) => !r.skipped && /^(q\d|iq\d|tq\d|mxfp4|nvfp4)/.test(r.dtype)); // llama.cpp's block types
  return quantizedHere ? compareWith(file, rep.file) : compareWith(rep.file, file);
}

// The GGUF tools' choices redo the report: the recipe, or the imatrix for the current mode.
function rerun({ recipe = store.state.report.recipe, imatrix = store.state.report.imatrix } = {}) {
  const rep = store.state.report;
  if (!rep.file) return;
  if (rep.mode === 'compare') return compareWith(rep.original, rep.file, imatrix);
  return openFile(rep.file, rep.source, { recipe: recipe || null, imatrix });
}

function readPendingFile() {
  const rep = store.state.report;
  if (rep.phase !== 'describe') return;
  setReport({ fieldErrors: {} });
  if (rep.csv) {
    const c = rep.columns[Number($('csv-column').value)];
    return openFile(rep.file, { csv: { column: c ? c.value : 0 } });
  }
  const shapeText = $('raw-shape').value.trim();
  if (shapeText && !/^\d+(\s*[,×x]\s*\d+)*$/.test(shapeText)) {
    setReport({ fieldErrors: { rawShape: `Shape must be whole numbers separated by commas (got "${shapeText}")` } }, { now: true });
    return $('raw-shape').focus();
  }
  const shape = shapeText ? shapeText.split(/\s*[,×x]\s*/).map(Number) : null;
  return openFile(rep.file, { raw: { dtype: $('raw-dtype').value, bigEndian: $('raw-order').value === 'big', shape } });
}

async function openTensor(row) {
  const rep = store.state.report;
  const form = { ...store.state.form };
  // A sample has no shape: per tensor, with the whole tensor's range where that fixes the
  // parameters (integer codes), so the sample is quantized exactly as the tensor is.
  const perTensorInt = form.format === 'int' && (rep.options.granularity ?? 'tensor') === 'tensor';
  const sampling = row.count > MAX_OPEN;
  const range = { min: row.rangeMin, max: row.rangeMax };
  const whole = sampling ? { bins: CHART_OPTIONS.histogramBins, min: row.min, max: row.max,
    ...(perTensorInt ? { options: rep.options, range, maxAbsError: row.maxAbsError } : {}) } : null;
  let t;
  try {
    t = await reporter.job(REQUESTS.tensor, { file: rep.file, name: row.name, source: rep.source, limit: sampling ? SAMPLE_OPEN : Infinity, whole });
  } catch (e) {
    if (!e.cancelled) setReport({ error: e.message });
    return;
  }
  Object.assign(form, { name: t.name, values: Array.from(t.values, String).join(', '), shape: t.shape.join(',') });
  // The report's settings come along: a tensor opened from it is computed as the report computed it.
  if (!rep.options.range && form.format === 'int') form.rangeSource = 'samples';
  let sampled = null;
  if (t.sampleOf) {
    Object.assign(form, { shape: '', granularity: 'tensor' }, perTensorInt ? { rangeSource: 'custom', min: String(range.min), max: String(range.max) } : {});
    sampled = { values: form.values, histograms: t.histograms,
      note: `${t.name} has ${t.sampleOf.toLocaleString('en')} values: this is a uniform random sample of ` +
        `${t.values.length.toLocaleString('en')} of them, in the tensor's order` +
        (perTensorInt ? `, quantized with the whole tensor's range [${fmt(range.min)}, ${fmt(range.max)}]` : ', quantized per tensor') +
        `. The histograms count all its values${perTensorInt ? ' and errors' : ''}; the other charts and the per-sample table show the sample, ` +
        'and the report\'s row has the whole tensor\'s metrics.' };
  }
  store.update({ form, sampled }, { now: true });
  await calculate();
  $('results').scrollIntoView({ block: 'start' });
}

function downloadCsv() {
  const run = store.state.calc.run;
  if (run) save(new Blob([buildCsv(run)], { type: 'text/csv;charset=utf-8' }), csvFileName(run.name));
}

async function downloadPdf() {
  const run = store.state.calc.run;
  if (!run) return;
  const button = $('download-pdf');
  button.disabled = true;
  button.textContent = 'Preparing PDF…';
  try {
    const { buildPdf } = await import('../export/pdf.js');
    const blob = await buildPdf({ ...run, ...calculatorView.exportParts(), formulaLines: formulaLines(run.result, run.options) });
    save(blob, csvFileName(run.name).replace(/\.csv$/, '.pdf'));
  } finally {
    button.disabled = false;
    button.textContent = 'Download PDF';
  }
}

function downloadCompareCsv() {
  const c = store.state.compare;
  if (!c.results) return;
  save(new Blob([csvText(compareCsvRows(c.results))], { type: 'text/csv;charset=utf-8' }),
    csvFileName(c.name).replace(/-quantization\.csv$/, '-comparison.csv'));
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
  store.update((s) => ({ form: { ...s.form, values: generateSamples($('gen-kind').value, count, seed).join(', ') } }), { now: true });
  calculate();
}

function reset() {
  calculator.cancel();
  runs += 1;
  store.update({ form: { ...DEFAULTS }, problems: {}, valuesNotes: [], urlNotes: [], sampled: null, samplePage: 0, sampleOrder: 'index',
    calc: { status: 'idle', phase: '', slow: false, run: null, studies: null, studiesFor: null } }, { now: true });
  saveUrl();
}

function loadExample() {
  store.update((s) => ({ form: { ...s.form, ...SEED_SETTINGS, values: DEFAULTS.values }, sampled: null }), { now: true });
  calculate();
}

const FIELD_LABELS = { format: 'Format', overflow: 'Overflow', formatScale: 'Tensor scale', mxScale: 'Scale rounding', onnxOp: 'ONNX parameters', customSpecials: 'Inf and NaN', profile: 'Profile',
  dtype: 'Integer type', reduceRange: 'Reduce range', mode: 'Mode', rounding: 'Rounding', rangeSource: 'Range', calibration: 'Calibration',
  granularity: 'Granularity', fileRange: 'file range', values: 'Sample values' };

async function init() {
  fillSelects();
  const link = await fromQuery(location.search, storage, location.hash.slice(1));
  const rows = rowsFromParam(new URLSearchParams(location.search).get('compare'));
  const urlNotes = link?.ignored.length
    ? [`The link's ${link.ignored.map(({ key, value }) => `${FIELD_LABELS[key] ?? key} "${String(value).slice(0, 40)}"`).join(', ')} ${link.ignored.length === 1 ? 'is' : 'are'} not known: the default${link.ignored.length === 1 ? ' is' : 's are'} used instead.`]
    : [];
  if (new URLSearchParams(location.search).has('compare') && !rows) urlNotes.push('The link\'s compare rows could not be read: the default rows are shown.');
  const layerLink = await layerFromLink(new URLSearchParams(location.search).get('layer'), location.hash.slice(1));
  if (layerLink?.ignored.length) urlNotes.push(`The link's ${layerLink.ignored.map(({ key }) => key).join(', ')} ${layerLink.ignored.length === 1 ? 'is' : 'are'} not known: ignored.`);
  store.update((s) => ({ form: link?.state ?? { ...DEFAULTS }, urlNotes, compare: { ...s.compare, rows: rows ?? s.compare.rows },
    layer: { ...s.layer, form: layerLink?.state ?? s.layer.form } }), { now: true });
  describeFormat();
  // The layer's text fields show its state before its code loads (its selects are filled then).
  for (const [key, id] of Object.entries(LAYER_FIELD_IDS)) if ($(id).tagName !== 'SELECT') $(id).value = store.state.layer.form[key];
  $('layer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    (await loadLayer()).run();
  });
  $('layer-form').addEventListener('focusin', loadLayer, { once: true });
  if (layerLink) loadLayer();
  else {
    const near = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      near.disconnect();
      loadLayer();
    }, { rootMargin: '600px' });
    near.observe($('layer'));
  }

  const form = $('form');
  form.addEventListener('input', formChanged);
  form.addEventListener('change', formChanged);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    calculate();
  });
  // Ctrl+Enter (⌘+Enter) in the samples calculates, as in a notebook.
  $('values').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      calculate();
    }
  });
  form.addEventListener('dragover', (event) => {
    if (![...event.dataTransfer.types].includes('Files')) return;
    event.preventDefault();
    form.classList.add('dropping');
  });
  form.addEventListener('dragleave', () => form.classList.remove('dropping'));
  form.addEventListener('drop', (event) => {
    form.classList.remove('dropping');
    if (!event.dataTransfer.files.length) return;
    event.preventDefault();
    openFile(event.dataTransfer.files[0]);
  });
  $('open-file').addEventListener('click', () => $('file-input').click());
  $('file-input').addEventListener('change', () => {
    openFile($('file-input').files[0]);
    $('file-input').value = '';
  });
  $('load-example').addEventListener('click', loadExample);
  $('load-example-table').addEventListener('click', loadExample);
  $('reset').addEventListener('click', reset);
  $('generate').addEventListener('click', generate);
  $('download-csv').addEventListener('click', downloadCsv);
  $('download-pdf').addEventListener('click', downloadPdf);
  $('target-sqnr').addEventListener('input', () => store.update({ target: $('target-sqnr').value }));
  $('page-prev').addEventListener('click', () => store.update((s) => ({ samplePage: Math.max(0, s.samplePage - 1) })));
  $('page-next').addEventListener('click', () => store.update((s) => ({ samplePage: s.samplePage + 1 })));
  $('sample-order').addEventListener('change', () => store.update({ sampleOrder: $('sample-order').value, samplePage: 0 }));
  $('jump-worst').addEventListener('click', () => {
    store.update({ sampleOrder: 'error', samplePage: 0 }, { now: true });
    $('samples-title').scrollIntoView({ block: 'start' });
  });
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
  $('compare-run').addEventListener('click', runCompare);
  $('compare-add').addEventListener('click', () => {
    formChanged();
    const rows = [...store.state.compare.rows, rowFromForm(store.state.form)];
    setCompare({ rows, problem: null }, { now: true });
    saveUrlSoon();
    $(fieldId(rows.length - 1, 'bits')).focus();
  });
  $('compare-csv').addEventListener('click', downloadCompareCsv);
  $('report-cancel').addEventListener('click', cancelReports);
  $('compare-open').addEventListener('click', () => $('compare-input').click());
  $('compare-input').addEventListener('change', () => {
    const f = $('compare-input').files[0];
    $('compare-input').value = '';
    if (!f) return;
    compareWith(f, store.state.report.file);
  });
  $('recipe').addEventListener('change', () => rerun({ recipe: $('recipe').value || null }));
  $('imatrix-input').addEventListener('change', () => {
    const f = $('imatrix-input').files[0] ?? null;
    $('imatrix-input').value = '';
    rerun({ imatrix: f });
  });
  $('imatrix-clear').addEventListener('click', () => rerun({ imatrix: null }));
  const reportSection = $('report');
  reportSection.addEventListener('dragover', (event) => {
    if (![...event.dataTransfer.types].includes('Files') || !store.state.report.file) return;
    event.preventDefault();
    reportSection.classList.add('dropping');
  });
  reportSection.addEventListener('dragleave', () => reportSection.classList.remove('dropping'));
  reportSection.addEventListener('drop', (event) => {
    reportSection.classList.remove('dropping');
    if (!event.dataTransfer.files.length || !store.state.report.file) return;
    event.preventDefault();
    compareDropped(event.dataTransfer.files[0]);
  });
  $('file-read').addEventListener('click', readPendingFile);
  $('report-filter').addEventListener('input', () => setReport({ view: { ...store.state.report.view, filter: $('report-filter').value } }));
  const base = () => (store.state.report.fileName || 'tensors').replace(/\.(npy|safetensors|gguf)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  $('report-csv').addEventListener('click', () => {
    const rep = store.state.report;
    if (rep.rows.length) save(new Blob([rep.mode === 'compare' ? compareCsv(rep) : reportCsv(rep)], { type: 'text/csv;charset=utf-8' }), `${base()}-${rep.mode === 'compare' ? 'compare' : 'report'}.csv`);
  });
  $('report-json').addEventListener('click', () => {
    const rep = store.state.report;
    if (!rep.rows.length) return;
    const json = rep.mode === 'compare'
      ? `${JSON.stringify({ quantized: rep.fileName, original: rep.originalName, imatrix: rep.imatrix?.name ?? null, ...rep.compare, tensors: rep.rows }, (k, v) => (v === Infinity ? 'Infinity' : v), 1)}\n`
      : reportJson({ ...rep, file: rep.fileName }, rep.recipe ? { recipe: rep.recipe, imatrix: rep.imatrix?.name ?? null } : rep.options);
    save(new Blob([json], { type: 'application/json' }), `${base()}-${rep.mode === 'compare' ? 'compare' : 'report'}.json`);
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      calculatorView.resized();
      compareView.resized();
      layerView?.resized();
      store.update({});
    }, 200);
  });
  calculate();
}

init();
