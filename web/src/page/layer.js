// "Through a layer": the view of the page's `layer` state (loaded on demand: main.js imports it
// when the section comes near the viewport or a link carries layer settings). W comes from the
// calculator's samples (with a shape), a tensor of the open file, or is generated; X is
// generated (shared/layer-inputs.js) or pasted. Each side has its own scheme, or stays float; the
// worker makes or reads the inputs and runs qz.layer() in its own worker, so Cancel stops it
// without touching a calculation. render(state) draws the form, the progress and the results.
import { renderLayerCharts } from '../charts/layer-charts.js';
import { buildLayerCsv } from '../export/layer-csv.js';
import { ACCUMULATOR_OVERFLOWS, ACCUMULATORS, ACTIVATIONS, CALIBRATIONS, FORMAT_GROUPS, FORMATS, LAYER_PROFILES, MODES, OUTPUT_DTYPES, shortOf }
  from '../shared/choices.js';
import { el, fmt } from '../shared/format.js';
import { ACTIVATION_KINDS } from '../shared/layer-inputs.js';
import { layerCards, layerVerdict, partRows, reasonWords, sideLabel } from '../shared/layer-summary.js';
import { REQUESTS } from '../shared/protocol.js';
import { WorkerClient } from '../shared/worker-client.js';
import { fieldOfLayerError, LAYER_PRESETS, layerApplies, layerSettings, sameLayer, toLayerRequest } from './layer-request.js';
import { LAYER_DEFAULTS, LAYER_FIELD_IDS, readLayerForm } from './layer-state.js';
import { $, save } from './ui.js';

const opt = (value, label) => ({ value, label });
// The selects' choices (the vocabularies' tables, shared/choices.js, plus the layer's own).
const SOURCES_W = [opt('generated', 'Generated (normal)'), opt('samples', 'The calculator\'s samples'), opt('file', 'A tensor of the open file')];
const SOURCES_X = [opt('generated', 'Generated'), opt('pasted', 'Pasted values')];
const SCHEMES = [opt('float', 'Float (not quantized)'), ...FORMATS.filter((f) => f.value !== 'custom')];
const GRANULARITY_W = [opt('tensor', 'Per tensor'), opt('channel', 'Per output channel'), opt('group', 'Per group (along in)')];
const GRANULARITY_X = [opt('tensor', 'Per tensor'), opt('token', 'Per token (dynamic)'), opt('group', 'Per group (along in)')];
const CALIBRATION_CHOICES = CALIBRATIONS.map((c) => opt(c.value, `${c.label} (from the data)`));
const OUTPUTS = [opt('none', 'None'), opt('auto', 'From Y\'s range'), opt('given', 'Given scale and zero point')];
const NEXTS = [opt('none', 'None'), ...ACTIVATIONS.map((a) => opt(a.value, `${a.label}, then a second layer`))];
const ACCUMULATOR_CHOICES = [opt('auto', 'Automatic (int32 for integer codes)'), ...ACCUMULATORS];
const SELECTS = { wSource: SOURCES_W, wFormat: SCHEMES, wMode: MODES, wGranularity: GRANULARITY_W, wCalibration: CALIBRATION_CHOICES,
  xSource: SOURCES_X, xKind: Object.entries(ACTIVATION_KINDS).map(([v, l]) => opt(v, l)), xFormat: SCHEMES, xMode: MODES,
  xGranularity: GRANULARITY_X, xCalibration: CALIBRATION_CHOICES, accumulator: ACCUMULATOR_CHOICES, overflow: ACCUMULATOR_OVERFLOWS,
  profile: LAYER_PROFILES, output: OUTPUTS, outDtype: OUTPUT_DTYPES, next: NEXTS };

const SHORT_REASONS = { tie: 'tie', multiplier: 'M0 ≠ M', doubleRounding: 'rounds twice', float32: 'float32', double: 'double' };

export function mountLayer({ store, engine, saveUrlSoon }) {
  const client = new WorkerClient(engine);
  const set = (change, opts) => store.update((s) => ({ layer: { ...s.layer, ...change } }), opts);
  for (const [key, rows] of Object.entries(SELECTS)) {
    const select = $(LAYER_FIELD_IDS[key]);
    if (key === 'wFormat' || key === 'xFormat') {
      select.replaceChildren(new Option('Float (not quantized)', 'float'), ...Object.entries(FORMAT_GROUPS).map(([group, label]) => {
        const g = document.createElement('optgroup');
        g.label = label;
        g.append(...rows.filter((r) => r.group === group).map((r) => new Option(r.label, r.value)));
        return g;
      }));
    } else select.replaceChildren(...rows.map((r) => new Option(r.label, r.value)));
  }
  // The text fields as typed before this code loaded; a link's value that is not a choice falls
  // back to the default, with a note.
  const form = { ...store.state.layer.form };
  for (const [key, id] of Object.entries(LAYER_FIELD_IDS)) if ($(id).tagName !== 'SELECT') form[key] = $(id).value;
  const notes = [];
  for (const [key, rows] of Object.entries(SELECTS)) {
    if (key === 'wTensor' || rows.some((r) => r.value === form[key])) continue;
    notes.push(`The link's layer ${key} "${String(form[key]).slice(0, 40)}" is not known: the default is used.`);
    form[key] = LAYER_DEFAULTS[key];
  }
  set({ form, notes }, { now: true });

  function changed() {
    const f = readLayerForm(document);
    // The tensor select lists only the open file's tensors: its choice is kept while none is open.
    if (f.wTensor === '' && store.state.layer.form.wTensor && $('layer-w-tensor').options.length === 0) f.wTensor = store.state.layer.form.wTensor;
    set({ form: f }, { now: true });
    saveUrlSoon();
  }

  let serial = 0;
  async function run() {
    changed();
    const s = store.state;
    const f = s.layer.form;
    const rows = s.report.rows.filter((r) => r.shape?.length === 2 && !r.skipped && !r.error);
    const request = toLayerRequest(f, { samples: s.form.values, file: s.report.file, source: s.report.source, tensors: rows });
    if (request.problem) return showProblem(request.problem.field, request.problem.message);
    const mine = ++serial;
    set({ problems: {}, error: null, status: 'running', phase: 'Starting', progress: null, started: performance.now() }, { now: true });
    const tick = setInterval(() => mine === serial && store.state.layer.status === 'running' && set({}), 250);
    try {
      const result = await client.job(REQUESTS.layer, { layer: request.layer, inputs: request.inputs }, {
        onPhase: (phase) => mine === serial && set({ phase }),
        onProgress: (progress) => mine === serial && set({ progress }),
      });
      if (mine !== serial) return;
      set({ status: 'done', run: { serial: mine, form: f, request: { layer: request.layer }, notes: request.notes, result, settings: layerSettings(f, request, result) } });
      $('layer').dataset.render = String(mine);
    } catch (e) {
      if (mine !== serial) return;
      if (e.cancelled) {
        set({ status: 'cancelled', error: null });
        return;
      }
      set({ status: 'done' });
      showProblem(fieldOfLayerError(e.field, f), e.message);
    } finally {
      clearInterval(tick);
    }
  }

  function showProblem(field, message) {
    set({ status: store.state.layer.status === 'running' ? 'done' : store.state.layer.status, problems: { [field]: message } }, { now: true });
    $(LAYER_FIELD_IDS[field]).focus();
  }

  function cancel() {
    serial += 1;
    client.cancel();
    set({ status: 'cancelled', phase: '', progress: null }, { now: true });
    $('layer-run').focus();
  }

  $('layer-form').addEventListener('input', changed);
  $('layer-form').addEventListener('change', changed);
  $('layer-cancel').addEventListener('click', cancel);
  // A preset sets both sides' schemes, then the select offers the presets again.
  $('layer-preset').append(...LAYER_PRESETS.map(([value, label]) => new Option(label, value)));
  $('layer-preset').addEventListener('change', (event) => {
    event.stopPropagation();
    const preset = LAYER_PRESETS.find(([value]) => value === $('layer-preset').value);
    $('layer-preset').value = '';
    if (!preset) return;
    set({ form: { ...store.state.layer.form, ...preset[2] }, problems: {} }, { now: true });
    saveUrlSoon();
  });
  const base = () => `layer-${store.state.layer.run.result.shape.out}x${store.state.layer.run.result.shape.in}`;
  $('layer-csv').addEventListener('click', () => {
    const r = store.state.layer.run;
    if (r) save(new Blob([buildLayerCsv(r.settings, r.result)], { type: 'text/csv;charset=utf-8' }), `${base()}.csv`);
  });
  $('layer-pdf').addEventListener('click', async () => {
    const r = store.state.layer.run;
    if (!r) return;
    const button = $('layer-pdf');
    button.disabled = true;
    button.textContent = 'Preparing PDF…';
    try {
      const { buildLayerPdf } = await import('../export/pdf.js');
      const charts = [...$('layer-charts').querySelectorAll('figure.chart')].map((fig) => ({ title: fig.querySelector('figcaption').textContent,
        canvas: fig.querySelector('canvas') }));
      save(await buildLayerPdf({ settings: r.settings, result: r.result, chartCanvases: charts }), `${base()}.pdf`);
    } finally {
      button.disabled = false;
      button.textContent = 'Download layer PDF';
    }
  });

  const drawn = { run: null, width: 0 };
  let freeCharts = () => {};

  function renderForm(L, state) {
    const f = L.form;
    const shown = layerApplies(f);
    // The open file's two-dimensional tensors.
    const tensors = state.report.rows.filter((r) => r.shape?.length === 2 && !r.skipped && !r.error);
    const select = $('layer-w-tensor');
    const names = tensors.map((t) => t.name).join('\n');
    if (select.dataset.names !== names) {
      select.dataset.names = names;
      select.replaceChildren(...tensors.map((t) => new Option(`${t.name} [${t.shape.join(', ')}]`, t.name)));
    }
    for (const [key, id] of Object.entries(LAYER_FIELD_IDS)) {
      const node = $(id);
      // The tensor select shows the state's tensor when the open file has it, else its first (which
      // the next change or run reads into the state).
      const keep = key === 'wTensor' && !tensors.some((t) => t.name === f.wTensor);
      if (node.value !== f[key] && !keep) node.value = f[key];
      $(`${id}-field`).hidden = !shown[key];
      node.disabled = !shown[key];
      const problem = L.problems[key];
      if (problem) node.setAttribute('aria-invalid', 'true');
      else node.removeAttribute('aria-invalid');
      const error = $(`${id}-error`);
      if (error.textContent !== (problem ?? '')) error.textContent = problem ?? '';
    }
    // A file's tensor needs an open file with one.
    if (f.wSource === 'file' && tensors.length === 0) $('layer-w-tensor-error').textContent ||= 'No two-dimensional tensor: open a tensor file in the calculator first.';
    $('layer-next-hint').hidden = !shown.nextOut;
    const running = L.status === 'running';
    $('layer-run').disabled = running;
    $('layer-cancel').hidden = !running;
    $('layer-progress').hidden = !running && L.status !== 'cancelled';
    const p = L.progress;
    $('layer-bar').hidden = !running;
    $('layer-bar').value = p ? p.done / p.total : 0;
    const seconds = ((performance.now() - (L.started ?? performance.now())) / 1000).toFixed(1);
    $('layer-progress-text').textContent = running ? `${L.phase || 'Starting'}… (${p ? `step ${p.done + 1} of ${p.total}, ` : ''}${seconds} s)`
      : L.status === 'cancelled' ? `Cancelled: the layer was not computed${L.run ? '; the results below are from the last run' : ''}.` : '';
    $('layer-error').textContent = [...L.notes, L.error ?? ''].filter(Boolean).join(' ');
  }

  function details(r) {
    // The caption shows above the scrolling box (a table wider than the screen scrolls inside it).
    const table = (caption, headers, rows, id) => el('div', {}, el('p', { className: 'hint', textContent: caption, attrs: { 'aria-hidden': 'true' } }),
      el('div', { className: 'table-wrap' }, el('table', { id },
      el('caption', { className: 'visually-hidden', textContent: caption }),
      el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', textContent: h })))),
      el('tbody', {}, ...rows.map((row) => el('tr', {}, ...row.map((c, k) => el(k === 0 ? 'th' : 'td', { textContent: typeof c === 'number' ? fmt(c) : c ?? '—',
        ...(k === 0 ? { scope: 'row' } : {}) }))))))));
    const parts = [el('h3', { textContent: 'The error\'s parts' }),
      el('p', { className: 'hint', textContent: 'ΔY ≈ X·ΔWᵀ + ΔX·Wᵀ + ΔX·ΔWᵀ, each measured as its own product, beside the first-order prediction from the two tensors\' own errors (errors uncorrelated along the sum).' }),
      table('Each part\'s energy Σ part² and the SQNR it alone would give, measured and predicted', ['part', 'energy', 'SQNR (dB)', 'predicted energy', 'predicted SQNR (dB)'],
        partRows(r), 'layer-parts')];
    const a = r.accumulator;
    if (a.bound !== null) {
      parts.push(el('h3', { textContent: 'The accumulator' }),
        el('p', { className: 'hint', textContent: `Sums of ${fmt(a.block)} products (q_x − z_x)(q_w − z_w), each at most ${fmt(a.productMax)} in magnitude: the worst case is ${fmt(a.bound)}; these data's largest codes allow ${fmt(a.dataBound)}, and their largest |sum| is ${fmt(a.maxAbs)} (output [${a.maxAbsIndex}]).` }),
        table('Each integer type against the layer\'s sums', ['type', 'range', 'outputs wrapped', 'outputs saturated', 'partial sums outside', 'SQNR wrapped (dB)', 'SQNR saturated (dB)'],
          ['int16', 'int32'].map((k) => [k, `[${fmt(a[k].min)}, ${fmt(a[k].max)}]`, a[k].wrapped, a[k].saturated, a[k].excursions, a[k].wrapSqnrDb, a[k].saturateSqnrDb]),
          'layer-accumulator'));
    }
    const q = r.requantization;
    if (q) {
      const k = 0;
      parts.push(el('h3', { textContent: 'Requantization' }),
        el('p', { className: 'hint', textContent: `Output codes y = clamp(round(acc·M) + z_y, ${q.qmin}, ${q.qmax}) with M = s_x·s_w/s_y; s_y = ${fmt(q.scale)}, z_y = ${q.zeroPoint}${q.derived ? ' (from the float output\'s range)' : ' (given)'}. TFLite holds M as M0·2^(shift − 31) with M0 in [2^30, 2^31): ${q.multiplier.length === 1 ? '' : `channel [${k}] of ${fmt(q.multiplier.length)}: `}M = ${fmt(q.realMultiplier[k])}, M0 = ${q.multiplier[k]}, shift = ${q.shift[k]}; ONNX Runtime's float32 M = ${fmt(q.onnxMultiplier[k])}.` }),
        table('How many output codes each path gives otherwise than round-half-even(acc·M) + z in exact arithmetic', ['path', 'codes that differ'],
          [['formula (double)', q.differ.formula], ['ONNX Runtime (QLinearMatMul)', q.differ.onnx], ['TFLite (fixed point)', q.differ.tflite], ['DequantizeLinear → MatMul → QuantizeLinear', q.differ.qdq]],
          'layer-paths'));
      if (q.differences.length) {
        const shownRows = q.differences.slice(0, 20);
        const listed = q.differences.length;
        parts.push(table(listed === shownRows.length ? `The ${fmt(listed)} output${listed === 1 ? '' : 's'} whose codes differ between the paths`
          : `Outputs whose codes differ between the paths: the first ${shownRows.length} of the ${fmt(listed)} the CSV lists`,
          ['token, channel', 'acc', 'acc·M', 'exact', 'formula', 'onnx', 'tflite', 'qdq', 'why'],
          shownRows.map((d) => [`[${d.token}, ${d.channel}]`, d.acc, d.value, d.exact, d.formula, d.onnx, d.tflite, d.qdq, d.reasons.map((k) => SHORT_REASONS[k] ?? k).join(', ')]),
          'layer-differences'));
        const seen = [...new Set(q.differences.flatMap((d) => d.reasons))];
        parts.push(el('ul', { className: 'hint reasons' }, ...seen.map((k) => el('li', { textContent: `${SHORT_REASONS[k] ?? k}: ${reasonWords(k)}.` }))));
      }
    }
    if (r.next) {
      const n = r.next;
      parts.push(el('h3', { textContent: `Through ${n.activation.toUpperCase()} and a second layer` }),
        table('The second layer\'s output against f(Y1)·W2ᵀ', ['error', 'energy', 'SQNR (dB)'],
          [['layer 1\'s error carried through', n.propagated.energy, n.propagated.sqnrDb], ['layer 2\'s own quantization', n.local.energy, n.local.sqnrDb],
            ['both (the whole quantized path)', n.total.energy, n.total.sqnrDb]], 'layer-chain'));
    }
    return parts;
  }

  function renderResults(L) {
    const run = L.run;
    $('layer-results').hidden = !run;
    if (!run) return;
    const stale = !sameLayer(L.form, run.form) || Object.keys(L.problems).length > 0;
    $('layer-results').classList.toggle('stale', stale);
    $('layer-stale').hidden = !stale;
    $('layer-stale').textContent = Object.keys(L.problems).length ? 'These results are from the last run: fix the marked field and run the layer again.'
      : 'Settings changed — press Run the layer';
    const width = window.innerWidth;
    if (drawn.run === run && Math.abs(drawn.width - width) <= 40) return;
    drawn.run = run;
    drawn.width = width;
    const r = run.result;
    $('layer-results-title').textContent = `The layer's output: ${fmt(r.shape.tokens)} tokens × ${fmt(r.shape.out)} channels`;
    $('layer-settings').textContent = `W ${r.shape.out}×${r.shape.in}: ${sideLabel(run.request.layer.weightScheme, 'weights')}; X ${r.shape.tokens}×${r.shape.in}: ` +
      `${sideLabel(run.request.layer.activationScheme, 'activations')}; accumulator ${r.accumulator.type}` +
      `${r.requantization ? `; output codes by ${shortOf(LAYER_PROFILES, r.requantization.profile)}` : ''}. ${r.simd ? 'SIMD' : 'Scalar'} core, ${r.seconds.toFixed(2)} s.${run.notes.length ? ` ${run.notes.join(' ')}` : ''}`;
    $('layer-verdict').replaceChildren(...layerVerdict(r).map(([kind, text]) => el('p', { className: `verdict ${kind}`, textContent: text })));
    $('layer-metrics').replaceChildren(...layerCards(r).map(([key, label, text]) => el('div', { className: 'card' },
      el('dt', { textContent: label }), el('dd', { textContent: text, dataset: { layerMetric: key } }))));
    $('layer-details').replaceChildren(...details(r));
    freeCharts();
    freeCharts = renderLayerCharts($('layer-charts'), r);
  }

  return {
    run,
    render(state) {
      renderForm(state.layer, state);
      renderResults(state.layer);
    },
    resized() {
      drawn.width = 0;
    },
  };
}
