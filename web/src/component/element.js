// <quant-error-calculator>: the calculator as a custom element for documentation pages.
//
//   <script type="module" src="quant-error-calculator.js"></script>
//   <quant-error-calculator bits="4" range="-1.5,1.5" values="-1.25, -0.92, 0.37, 1.46"></quant-error-calculator>
//
// Attributes mirror the API's options: bits, mode, rounding, range ("min,max"; absent or "auto":
// from the samples by the calibration), values (sample text, as the page's field takes it),
// format, calibration; and view: "full" (a small form and the results), "results" (verdict and
// cards), "chart:<name>" with name values, errors, transfer, histogram or error-histogram, or
// "layer": through a linear layer (qz.layer), with its own attributes (LAYER_ATTRIBUTES below).
// Shadow DOM with constructed style sheets (nothing inline: a strict CSP host page needs no
// exception), themed through --qec-* custom properties. Every widget on a page shares one worker
// and one wasm instance, made when the first widget scrolls into view. A `result` event (bubbling,
// composed) carries { options, scale, zeroPoint, qmin, qmax, rangeMin, rangeMax, metrics } after
// each calculation; a bad attribute is shown in the widget, named, and the others keep working.
import uplotCss from 'uplot/dist/uPlot.min.css?inline';

import { renderCards, renderVerdict } from '../shared/cards.js';
import { fmt } from '../shared/format.js';
import { SEED_EXAMPLE } from '../shared/seed-example.js';
import { CHART_IDS, renderCharts } from '../charts/charts.js';
import pageCss from '../../styles.css?inline';
import ownCss from './element.css?inline';
import { CALIBRATIONS, FORMATS, formatGroup, labelOf, MODES, ROUNDINGS } from '../shared/choices.js';
import { REQUESTS } from '../shared/protocol.js';
import { WorkerClient } from '../shared/worker-client.js';

// One worker, and so one wasm instance, for every widget on a page: made when the first widget
// needs a calculation. The wasm files are named here so that a bundler that takes this module
// copies them (the worker file is opaque to it): the worker is told where they are.
let client = null;
const worker = () => (client ??= new WorkerClient({ wasmUrls: {
  simd: new URL('../wasm/quant.wasm', import.meta.url).href,
  scalar: new URL('../wasm/quant-scalar.wasm', import.meta.url).href,
  coreSimd: new URL('../wasm/quant-core.wasm', import.meta.url).href,
  coreScalar: new URL('../wasm/quant-core-scalar.wasm', import.meta.url).href,
} }));

const OPTIONS = ['bits', 'mode', 'rounding', 'range', 'values', 'format', 'calibration'];
// view="layer": W from `weights` (values, with `weight-shape` out,in) or generated (`out`, `in`,
// `seed`); X generated (`activations`: normal | heavy | outliers | relu | gelu, `tokens`, seed + 1)
// or pasted (`activations`: the values, `activation-shape` optional); `weight-bits` and
// `activation-bits` (2 to 16, or "float"), `weight-granularity` (tensor | channel | group of 128),
// `activation-granularity` (tensor | token), `accumulator` (int32 | int16 | float32), `profile`
// (formula | onnx | tflite: output codes from Y's range, when both sides are integers).
const LAYER_ATTRIBUTES = ['weights', 'weight-shape', 'out', 'in', 'seed', 'activations', 'activation-shape', 'tokens', 'weight-bits', 'activation-bits',
  'weight-granularity', 'activation-granularity', 'accumulator', 'profile'];
const LAYER_KINDS = ['normal', 'heavy', 'outliers', 'relu', 'gelu'];
const LAYER_CARDS = ['sqnrDb', 'cosine', 'relativeFrobenius', 'worstChannel', 'worstToken', 'accumulator', 'accBound', 'accMax', 'overflows', 'multiplier', 'codesDiffer'];
// The API's error fields → the layer view's attributes.
const LAYER_FIELD_OF = { weights: 'weights', weightShape: 'weight-shape', activations: 'activations', activationShape: 'activation-shape',
  weightScheme: 'weight-bits', activationScheme: 'activation-bits', accumulator: 'accumulator', profile: 'profile', output: 'profile' };
// The selects' choices, from the vocabularies' one table each (shared/choices.js).
const CHOICES = { mode: MODES, rounding: ROUNDINGS, calibration: CALIBRATIONS, format: FORMATS.filter((f) => f.value !== 'custom') };
const LABELS = { values: 'Samples', bits: 'Bits', mode: 'Mode', rounding: 'Rounding', range: 'Range (min, max)', calibration: 'Calibration', format: 'Format' };
const CARD_KEYS = ['scale', 'zeroPoint', 'step', 'rangeUsed', 'mse', 'sqnrDb', 'maxAbsError', 'clipRate', 'formatScale', 'overflowCount'];
// view="chart:<name>" → the chart's id: values, errors, transfer, histogram, error-histogram.
const CHART_NAMES = Object.fromEntries(CHART_IDS.map((id) => [id.replace(/^chart-/, ''), id]));
// The API's error fields → the attribute (and form field) they belong to.
const FIELD_OF = { values: 'values', bits: 'bits', mode: 'mode', rounding: 'rounding', range: 'range', 'range.min': 'range', 'range.max': 'range',
  calibration: 'calibration', percentile: 'calibration', format: 'format', formatScale: 'format', overflow: 'format' };

let sheets = null;
function styleSheets() {
  if (!sheets) {
    sheets = [pageCss, uplotCss, ownCss].map((text) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      return sheet;
    });
  }
  return sheets;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// "min,max" (any separators the samples field takes) → { min, max }; absent, empty or "auto" → null.
function parseRange(text) {
  if (text === null || text.trim() === '' || text.trim() === 'auto') return { range: null };
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const [min, max] = parts.map(Number);
  if (parts.length !== 2 || !Number.isFinite(min) || !Number.isFinite(max)) {
    return { problem: `Range "${text}" is not two numbers: write it as min,max (such as -1.5,1.5), or leave it out to derive it from the samples` };
  }
  return { range: { min, max } };
}

let uid = 0;

export class QuantErrorCalculator extends HTMLElement {
  static observedAttributes = [...OPTIONS, ...LAYER_ATTRIBUTES, 'view'];

  #root;
  #ids = `qec${++uid}`;
  #visible = false;
  #timer = 0;
  #runs = 0;
  #freeCharts = () => {};
  #result = null;
  #observer = null;
  #resize = null;
  #width = 0;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.adoptedStyleSheets = styleSheets();
  }

  /** The last calculation's result (null before the first, or after a bad attribute). */
  get result() {
    return this.#result;
  }

  connectedCallback() {
    this.#build();
    // Nothing loads until the widget is near the viewport.
    this.#observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.#observer.disconnect();
      this.#observer = null;
      this.#visible = true;
      this.#run();
    }, { rootMargin: '200px' });
    this.#observer.observe(this);
    this.#resize = new ResizeObserver(() => {
      const width = this.clientWidth;
      if (this.#result && Math.abs(width - this.#width) > 24) this.#draw();
    });
    this.#resize.observe(this);
  }

  disconnectedCallback() {
    this.#observer?.disconnect();
    this.#resize?.disconnect();
    this.#freeCharts();
    this.#freeCharts = () => {};
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.#root.firstChild) return;
    if (name === 'view') this.#build();
    else this.#syncForm();
    this.#schedule();
  }

  get #view() {
    return this.getAttribute('view') ?? 'full';
  }

  // The widget's frame for its view: a form (full view), a status line, and the results.
  #build() {
    const view = this.#view;
    const parts = [];
    if (view === 'full') parts.push(this.#form());
    parts.push(el('p', { className: 'qec-status', role: 'status', textContent: this.#visible ? 'Calculating…' : 'The calculator loads when it is in view.' }));
    parts.push(el('p', { className: 'qec-error', role: 'alert', hidden: true }));
    const results = el('div', { className: 'qec-results' });
    // Without the form, a line says what the widget shows.
    if (view !== 'full') results.append(el('p', { className: 'qec-caption' }));
    if (view === 'full' || view === 'results' || view === 'layer') results.append(el('div', { className: 'qec-verdict' }), el('dl', { className: 'cards' }));
    results.append(el('div', { className: 'charts' }));
    parts.push(results);
    this.#root.replaceChildren(el('div', { className: `qec view-${view.replace(':', '-')}`, part: 'frame' }, ...parts));
    this.#syncForm();
    if (this.#result) this.#draw();
  }

  #form() {
    const form = el('form', { className: 'qec-form', noValidate: true });
    const field = (key, control, wide = false) => {
      control.id = `${this.#ids}-${key}`;
      control.name = key;
      control.setAttribute('aria-describedby', `${this.#ids}-${key}-error`);
      return el('div', { className: `field field-${key}${wide ? ' wide' : ''}` }, el('label', { htmlFor: control.id, textContent: LABELS[key] }), control,
        el('p', { className: 'error', id: `${this.#ids}-${key}-error`, role: 'alert' }));
    };
    const select = (key) => el('select', {}, ...CHOICES[key].map(({ value, label }) => el('option', { value, textContent: label })));
    form.append(
      field('values', el('textarea', { rows: 2, spellcheck: false }), true),
      field('bits', el('input', { type: 'number', min: 2, max: 16, step: 1, inputMode: 'numeric' })),
      field('mode', select('mode')),
      field('rounding', select('rounding')),
      field('range', el('input', { type: 'text', placeholder: 'from the samples' })),
      field('calibration', select('calibration')),
      field('format', select('format')),
    );
    // The form writes the attributes; the attributes drive the calculation.
    form.addEventListener('input', (e) => {
      const key = e.target.name;
      if (OPTIONS.includes(key)) this.setAttribute(key, e.target.value);
    });
    form.addEventListener('submit', (e) => e.preventDefault());
    return form;
  }

  // The form shows the attributes (a host page may change them at any time).
  #syncForm() {
    const form = this.#root.querySelector('form');
    if (!form) return;
    const defaults = { values: SEED_EXAMPLE, bits: '8', mode: 'symmetric', rounding: 'half-even', range: '', calibration: 'minmax', format: 'int' };
    for (const key of OPTIONS) {
      const control = form.elements[key];
      const value = this.getAttribute(key) ?? defaults[key];
      if (control !== this.#root.activeElement && control.value !== value) control.value = value;
    }
    // The integer scheme's fields apply to integers only.
    const integer = !this.#isFormat();
    for (const key of ['bits', 'mode', 'rounding', 'range', 'calibration']) form.elements[key].disabled = !integer;
  }

  #isFormat() {
    const format = this.getAttribute('format')?.trim();
    return Boolean(format) && format !== 'int' && formatGroup(format) !== null;
  }

  #schedule() {
    clearTimeout(this.#timer);
    if (this.#visible) this.#timer = setTimeout(() => this.#run(), 150);
  }

  // The attributes as the API's options, or the first attribute that cannot be one.
  #options() {
    const get = (key) => this.getAttribute(key);
    const options = {};
    if (get('bits') !== null) {
      // The text as written, in the message (Number() of "<script>" said "got NaN").
      const text = get('bits').trim();
      if (!/^[+-]?\d{1,6}$/.test(text)) return { problem: { field: 'bits', message: `Bit depth must be a whole number between 2 and 16 (got "${text}")` } };
      options.bits = Number(text);
    }
    for (const key of ['mode', 'rounding', 'format', 'calibration']) if (get(key) !== null && get(key).trim() !== '') options[key] = get(key).trim();
    // A float or block format has fixed values: bit depth, mode, rounding, range and calibration
    // are the integer scheme's, so they are left out (and the form disables them).
    if (this.#isFormat()) return { options: { format: options.format } };
    const { range, problem } = parseRange(get('range'));
    if (problem) return { problem: { field: 'range', message: problem } };
    options.range = range;
    return { options };
  }

  // A view this widget has: full, results, or chart:<name> (the chart's name is checked when drawn).
  #viewProblem() {
    const view = this.#view;
    if (view === 'full' || view === 'results' || view === 'layer' || view.startsWith('chart:')) return null;
    return { field: 'view', message: `view: no view "${view}" (choose full, results, layer or chart:<name>)` };
  }

  // view="layer": the attributes as the worker's layer request (worker.js, runLayer), or the first
  // attribute that cannot be one.
  #layerRequest() {
    const get = (key) => this.getAttribute(key)?.trim() ?? null;
    const count = (key, fallback, lo, hi) => {
      const text = get(key) ?? String(fallback);
      const n = Number(text);
      return /^\d{1,9}$/.test(text) && n >= lo && n <= hi ? { value: n } : { problem: { field: key, message: `${key} must be a whole number from ${lo} to ${hi} (got "${text.slice(0, 40)}")` } };
    };
    const shape = (key) => {
      const text = get(key);
      if (text === null || text === '') return { value: null };
      return /^\d+\s*[,x×]\s*\d+$/.test(text) ? { value: text.split(/\s*[,x×]\s*/).map(Number) }
        : { problem: { field: key, message: `${key} must be two whole numbers such as 64,256 (got "${text.slice(0, 40)}")` } };
    };
    const seed = count('seed', 1, 0, 2 ** 31);
    if (seed.problem) return seed;
    const layer = {}, inputs = {};
    if (get('weights') !== null) {
      const s = shape('weight-shape');
      if (s.problem) return s;
      if (!s.value) return { problem: { field: 'weight-shape', message: 'weight-shape (out,in) is needed with weights' } };
      layer.weightShape = s.value;
      inputs.weights = { text: get('weights') };
    } else {
      const out = count('out', 64, 1, 8192), inner = count('in', 256, 1, 8192);
      if (out.problem || inner.problem) return out.problem ? out : inner;
      inputs.weights = { generate: { out: out.value, in: inner.value, seed: seed.value } };
    }
    const kind = get('activations') ?? 'outliers';
    if (LAYER_KINDS.includes(kind)) {
      const tokens = count('tokens', 16, 1, 4096);
      if (tokens.problem) return tokens;
      inputs.activations = { generate: { kind, tokens: tokens.value, seed: seed.value + 1 } };
    } else {
      const s = shape('activation-shape');
      if (s.problem) return s;
      if (s.value) layer.activationShape = s.value;
      inputs.activations = { text: kind };
    }
    const side = (key, granularity, choices) => {
      const text = get(key) ?? '8';
      if (text === 'float') return { value: null };
      if (!/^\d{1,2}$/.test(text)) return { problem: { field: key, message: `${key} must be a bit depth from 2 to 16, or float (got "${text.slice(0, 40)}")` } };
      const g = get(granularity) ?? choices[0];
      if (!choices.includes(g)) return { problem: { field: granularity, message: `${granularity} must be ${choices.join(', ')} (got "${g.slice(0, 40)}")` } };
      const scheme = { bits: Number(text), mode: key === 'weight-bits' ? 'symmetric' : 'asymmetric' };
      if (g === 'channel') Object.assign(scheme, { granularity: 'channel', axis: 0 });
      else if (g === 'token') scheme.granularity = 'token';
      else if (g === 'group') Object.assign(scheme, { granularity: 'group', groupSize: 128 });
      return { value: scheme };
    };
    const w = side('weight-bits', 'weight-granularity', ['channel', 'tensor', 'group']);
    if (w.problem) return w;
    const x = side('activation-bits', 'activation-granularity', ['tensor', 'token']);
    if (x.problem) return x;
    Object.assign(layer, { weightScheme: w.value, activationScheme: x.value, accumulator: get('accumulator') || null, profile: get('profile') || 'formula',
      output: w.value && x.value && x.value.granularity !== 'token' ? 'auto' : null });
    return { layer, inputs };
  }

  async #runLayer(run) {
    const status = this.#root.querySelector('.qec-status');
    const { layer, inputs, problem } = this.#layerRequest();
    if (problem) return this.#fail(problem);
    status.textContent = 'Computing the layer…';
    try {
      const [result, summary] = await Promise.all([worker().request(REQUESTS.layer, { layer, inputs }), import('../shared/layer-summary.js')]);
      if (run !== this.#runs) return;
      this.#result = result;
      status.textContent = '';
      this.#drawLayer(summary);
      const { shape, metrics, parts, accumulator: a, requantization: q } = result;
      this.dispatchEvent(new CustomEvent('result', { bubbles: true, composed: true, detail: { view: 'layer', shape, metrics,
        parts: { weights: parts.weights.sqnrDb, activations: parts.activations.sqnrDb, interaction: parts.interaction.sqnrDb },
        accumulator: { type: a.type, bound: a.bound, maxAbs: a.maxAbs, int16Overflows: a.int16?.wrapped ?? null, int32Overflows: a.int32?.wrapped ?? null },
        requantization: q && { multiplier: q.multiplier[0], shift: q.shift[0], realMultiplier: q.realMultiplier[0], scale: q.scale, zeroPoint: q.zeroPoint } } }));
    } catch (e) {
      if (run !== this.#runs) return;
      const root = e.field?.split('.')[0];
      this.#fail({ field: LAYER_FIELD_OF[root] ?? e.field ?? 'weights', message: e.message });
    }
  }

  #drawLayer({ layerCards, layerVerdict, sideLabel }) {
    const r = this.#result;
    this.#width = this.clientWidth;
    // The widget's verdict: the output, which side, the accumulator, the codes, the second layer,
    // and any warning.
    const shown = layerVerdict(r).filter(([kind, , topic]) => kind === 'warn' || ['sqnr', 'parts', 'accumulator', 'codes', 'next'].includes(topic));
    this.#root.querySelector('.qec-verdict').replaceChildren(...shown.map(([kind, text]) => el('p', { className: `verdict ${kind}`, textContent: text })));
    this.#root.querySelector('.cards').replaceChildren(...layerCards(r).filter(([key]) => LAYER_CARDS.includes(key)).map(([key, label, text]) =>
      el('div', { className: 'card' }, el('dt', { textContent: label }), el('dd', { textContent: text, dataset: { layerMetric: key } }))));
    const o = r.options;
    this.#root.querySelector('.qec-caption').replaceChildren(el('strong', { textContent: `W ${r.shape.out}×${r.shape.in} ${sideLabel(o.weightScheme, 'weights')}` }),
      ` · X ${r.shape.tokens}×${r.shape.in} ${sideLabel(o.activationScheme, 'activations')} · accumulator ${r.accumulator.type}`);
  }

  async #run() {
    const run = ++this.#runs;
    this.#showError(null);
    if (this.#view === 'layer') return this.#runLayer(run);
    const { options, problem } = this.#options();
    if (problem) return this.#fail(problem);
    const viewProblem = this.#viewProblem();
    if (viewProblem) return this.#fail(viewProblem);
    const view = this.#view;
    const status = this.#root.querySelector('.qec-status');
    status.textContent = 'Calculating…';
    try {
      const result = await worker().request(REQUESTS.analyze, { text: this.getAttribute('values') ?? SEED_EXAMPLE, studies: false,
        options: { ...options, perSample: true, chartBuckets: view.startsWith('chart:') || view === 'full' ? 600 : 0, histogramBins: 60 } });
      if (run !== this.#runs) return; // overtaken by a newer calculation
      this.#result = result;
      status.textContent = '';
      this.#draw();
      const { scale, zeroPoint, qmin, qmax, rangeMin, rangeMax, metrics } = result;
      this.dispatchEvent(new CustomEvent('result', { bubbles: true, composed: true,
        detail: { options: { ...options, values: this.getAttribute('values') ?? SEED_EXAMPLE }, scale, zeroPoint, qmin, qmax, rangeMin, rangeMax, metrics } }));
    } catch (e) {
      if (run !== this.#runs) return;
      this.#fail({ field: FIELD_OF[e.field] ?? (e.field ? e.field : 'values'), message: e.message });
    }
  }

  #fail(problem) {
    this.#result = null;
    this.#freeCharts();
    this.#freeCharts = () => {};
    for (const node of this.#root.querySelectorAll('.qec-results > *')) node.replaceChildren();
    this.#root.querySelector('.qec-status').textContent = '';
    this.#showError(problem);
  }

  // A problem at its form field (full view), or named by its attribute.
  #showError(problem) {
    for (const node of this.#root.querySelectorAll('.error')) node.textContent = '';
    for (const node of this.#root.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
    const box = this.#root.querySelector('.qec-error');
    box.hidden = true;
    box.textContent = '';
    if (!problem) return;
    const at = this.#root.getElementById(`${this.#ids}-${problem.field}-error`);
    if (at) {
      at.textContent = problem.message;
      this.#root.getElementById(`${this.#ids}-${problem.field}`).setAttribute('aria-invalid', 'true');
    } else {
      box.hidden = false;
      const named = (OPTIONS.includes(problem.field) || LAYER_ATTRIBUTES.includes(problem.field)) && !problem.message.startsWith(problem.field);
      box.textContent = named ? `${problem.field}: ${problem.message}` : problem.message;
    }
  }

  #draw() {
    const r = this.#result;
    const view = this.#view;
    if (view === 'layer') {
      if (r.shape) import('../shared/layer-summary.js').then((summary) => this.#result === r && this.#drawLayer(summary));
      return;
    }
    this.#width = this.clientWidth;
    const verdict = this.#root.querySelector('.qec-verdict');
    if (verdict) renderVerdict(verdict, r);
    const cards = this.#root.querySelector('.cards');
    if (cards) renderCards(cards, r, CARD_KEYS);
    const charts = this.#root.querySelector('.charts');
    this.#freeCharts();
    this.#freeCharts = () => {};
    const only = view === 'full' ? ['chart-values', 'chart-errors'] : view.startsWith('chart:') ? [CHART_NAMES[view.slice(6)]].filter(Boolean) : [];
    if (view.startsWith('chart:') && only.length === 0) {
      this.#showError({ field: 'view', message: `view: no chart "${view.slice(6)}" (choose ${Object.keys(CHART_NAMES).join(', ')})` });
    }
    const width = Math.max(160, Math.min(1100, this.#root.querySelector('.qec-results').clientWidth));
    if (only.length && r.charts) this.#freeCharts = renderCharts(charts, r, { only, width });
    else charts.replaceChildren();
    // Without the form, the widget says what it shows: the scheme (and for a chart alone the two
    // figures that sum it up).
    const caption = this.#root.querySelector('.qec-caption');
    if (caption) {
      caption.replaceChildren(el('strong', { textContent: this.#scheme(r) }));
      if (view.startsWith('chart:')) caption.append(` · SQNR ${fmt(r.metrics.sqnrDb)} dB, MSE ${fmt(r.metrics.mse)}`);
    }
  }

  // "4 bits, symmetric", with the range's origin when an attribute chose it; or the format's name.
  #scheme(r) {
    if (r.format) return r.format.label;
    const label = (key, value) => {
      const text = labelOf(CHOICES[key], value);
      return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text; // "MSE-optimal" stays
    };
    const parts = [`${r.options.bits} bits`, label('mode', r.options.mode)];
    if (this.getAttribute('range')?.trim() && this.getAttribute('range').trim() !== 'auto') parts.push(`range [${fmt(r.rangeMin)}, ${fmt(r.rangeMax)}]`);
    else if (this.hasAttribute('calibration')) parts.push(`${label('calibration', r.options.calibration)} range`);
    return parts.join(', ');
  }
}

if (!customElements.get('quant-error-calculator')) customElements.define('quant-error-calculator', QuantErrorCalculator);
