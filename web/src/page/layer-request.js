// Through a layer's request: which of its form's fields apply, the worker's request for a form
// state (or the first problem, at its field), where the API's errors belong, and the settings a
// run used. Plain functions of the state (layer.js draws and runs; tests/js/layer-state.test.js).
import { fmt } from '../shared/format.js';
import { sideLabel } from '../shared/layer-summary.js';
import { LAYER_DEFAULTS } from './layer-state.js';

// Sizes the page takes (the worker holds W, X and five [tokens, out] outputs in wasm memory).
const MAX_WEIGHTS = 2 ** 26; // 64 M values: a 8192×8192 weight
const MAX_ACTIVATIONS = 2 ** 24;
const MAX_OUTPUTS = 2 ** 22; // Y [tokens, out]: 4 M outputs

/** Which fields apply to a layer state: key → shown. */
export function layerApplies(f) {
  const w = f.wFormat === 'int', x = f.xFormat === 'int';
  return {
    wSource: true, wShape: f.wSource === 'samples', wTensor: f.wSource === 'file', wOut: f.wSource === 'generated', wIn: f.wSource === 'generated',
    wSeed: f.wSource === 'generated', wFormat: true, wBits: w, wMode: w, wGranularity: w, wGroupSize: w && f.wGranularity === 'group', wCalibration: w,
    xSource: true, xKind: f.xSource === 'generated', xTokens: f.xSource === 'generated', xSeed: f.xSource === 'generated',
    xValues: f.xSource === 'pasted', xShape: f.xSource === 'pasted', xFormat: true, xBits: x, xMode: x, xGranularity: x,
    xGroupSize: x && f.xGranularity === 'group', xCalibration: x,
    accumulator: true, overflow: f.accumulator === 'int32' || f.accumulator === 'int16' || (f.accumulator === 'auto' && w && x),
    profile: f.output !== 'none', output: true, outScale: f.output === 'given', outZeroPoint: f.output === 'given', outDtype: f.output !== 'none',
    next: true, nextOut: f.next !== 'none', nextSeed: f.next !== 'none',
  };
}

/** Common pairs of schemes: [value, label, the fields they set]. */
export const LAYER_PRESETS = [
  ['w8a8', 'W8A8: int8 per output channel × int8 per tensor', { wFormat: 'int', wBits: '8', wMode: 'symmetric', wGranularity: 'channel',
    xFormat: 'int', xBits: '8', xMode: 'asymmetric', xGranularity: 'tensor' }],
  ['w8a8-token', 'W8A8, dynamic per-token activations', { wFormat: 'int', wBits: '8', wMode: 'symmetric', wGranularity: 'channel',
    xFormat: 'int', xBits: '8', xMode: 'asymmetric', xGranularity: 'token' }],
  ['w4a16', 'W4A16: int4 in groups of 128, float activations', { wFormat: 'int', wBits: '4', wMode: 'symmetric', wGranularity: 'group', wGroupSize: '128',
    xFormat: 'float' }],
  ['w4a8', 'W4A8: int4 per output channel × int8 per tensor', { wFormat: 'int', wBits: '4', wMode: 'symmetric', wGranularity: 'channel',
    xFormat: 'int', xBits: '8', xMode: 'asymmetric', xGranularity: 'tensor' }],
  ['w8a8-fp8', 'W8A8-FP8: FP8 E4M3 on both sides', { wFormat: 'fp8-e4m3', xFormat: 'fp8-e4m3' }],
  ['w-only', 'Weights only: int8 per output channel, float activations', { wFormat: 'int', wBits: '8', wMode: 'symmetric', wGranularity: 'channel',
    xFormat: 'float' }],
  ['a-only', 'Activations only: float weights, int8 per tensor', { wFormat: 'float', xFormat: 'int', xBits: '8', xMode: 'asymmetric', xGranularity: 'tensor' }],
];

const WHOLE = /^\d+$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function whole(f, key, label, lo, hi) {
  const text = f[key].trim();
  const n = Number(text);
  if (!WHOLE.test(text) || n < lo || n > hi) return { problem: { field: key, message: `${label} must be a whole number from ${fmt(lo)} to ${fmt(hi)} (got "${text}")` } };
  return { value: n };
}

function shapeOf(f, key, label, example) {
  const text = f[key].trim();
  if (!/^\d+\s*[,×x]\s*\d+$/.test(text)) return { problem: { field: key, message: `${label} must be two whole numbers, ${example} (got "${text}")` } };
  return { value: text.split(/\s*[,×x]\s*/).map(Number) };
}

// One side's scheme as analyze()'s options (null: float), from its fields with prefix p ('w' or 'x').
function schemeOf(f, p) {
  const format = f[`${p}Format`];
  if (format === 'float') return { value: null };
  if (format !== 'int') return { value: { format } };
  const bits = whole(f, `${p}Bits`, 'Bits', 2, 16);
  if (bits.problem) return bits;
  const s = { bits: bits.value, mode: f[`${p}Mode`], calibration: f[`${p}Calibration`] };
  if (s.calibration === 'percentile') s.percentile = 99.99;
  const g = f[`${p}Granularity`];
  if (g === 'channel') Object.assign(s, { granularity: 'channel', axis: 0 });
  else if (g === 'token') s.granularity = 'token';
  else if (g === 'group') {
    const size = whole(f, `${p}GroupSize`, 'Group size', 1, 2 ** 24);
    if (size.problem) return size;
    Object.assign(s, { granularity: 'group', groupSize: size.value });
  }
  return { value: s };
}

/**
 * The worker's request for a layer state: { layer, inputs } (worker.js, runLayer), or the first
 * problem as { field, message } (field: a key of LAYER_FIELD_IDS). ctx: { samples (the
 * calculator's text), file, source, tensors (the open file's report rows) }.
 */
export function toLayerRequest(f, ctx) {
  const layer = {};
  const inputs = {};
  let inner = null, out = null;
  if (f.wSource === 'generated') {
    const o = whole(f, 'wOut', 'out', 1, 65536);
    if (o.problem) return o;
    const i = whole(f, 'wIn', 'in', 1, 65536);
    if (i.problem) return i;
    if (o.value * i.value > MAX_WEIGHTS) return { problem: { field: 'wIn', message: `out × in is ${fmt(o.value * i.value)} values: at most ${fmt(MAX_WEIGHTS)} here` } };
    const seed = whole(f, 'wSeed', 'Seed', 0, 2 ** 32 - 1);
    if (seed.problem) return seed;
    inputs.weights = { generate: { out: o.value, in: i.value, seed: seed.value } };
    [out, inner] = [o.value, i.value];
  } else if (f.wSource === 'samples') {
    const shape = shapeOf(f, 'wShape', 'Shape of the samples', 'out,in such as 2,5');
    if (shape.problem) return shape;
    layer.weightShape = shape.value;
    inputs.weights = { text: ctx.samples };
    [out, inner] = shape.value;
  } else {
    const t = (ctx.tensors ?? []).find((r) => r.name === f.wTensor);
    if (!ctx.file || !t) {
      return { problem: { field: 'wTensor', message: ctx.file ? 'Choose one of the file\'s two-dimensional tensors' : 'Open a tensor file first (Open a tensor file… in the calculator)' } };
    }
    inputs.weights = { file: ctx.file, source: ctx.source ?? null, name: t.name };
    [out, inner] = t.shape;
  }
  if (f.xSource === 'generated') {
    const tokens = whole(f, 'xTokens', 'Tokens', 1, 65536);
    if (tokens.problem) return tokens;
    const seed = whole(f, 'xSeed', 'Seed', 0, 2 ** 32 - 1);
    if (seed.problem) return seed;
    if (inner !== null && tokens.value * inner > MAX_ACTIVATIONS) {
      return { problem: { field: 'xTokens', message: `tokens × in is ${fmt(tokens.value * inner)} values: at most ${fmt(MAX_ACTIVATIONS)} here` } };
    }
    if (out !== null && tokens.value * out > MAX_OUTPUTS) {
      return { problem: { field: 'xTokens', message: `tokens × out is ${fmt(tokens.value * out)} outputs: at most ${fmt(MAX_OUTPUTS)} here` } };
    }
    inputs.activations = { generate: { kind: f.xKind, tokens: tokens.value, seed: seed.value } };
  } else {
    if (f.xValues.trim() === '') return { problem: { field: 'xValues', message: 'Paste the activations: tokens × in numbers, row-major' } };
    if (f.xShape.trim() !== '') {
      const shape = shapeOf(f, 'xShape', 'Shape of X', 'tokens,in such as 4,5');
      if (shape.problem) return shape;
      layer.activationShape = shape.value;
    }
    inputs.activations = { text: f.xValues };
  }
  for (const [p, key] of [['w', 'weightScheme'], ['x', 'activationScheme']]) {
    const s = schemeOf(f, p);
    if (s.problem) return s;
    layer[key] = s.value;
  }
  layer.accumulator = f.accumulator === 'auto' ? null : f.accumulator;
  layer.overflow = f.overflow;
  layer.profile = f.profile;
  // Output codes from Y's range apply where the requantization has one multiplier per output
  // channel: integer codes on both sides, one activation scale, one weight scale per channel.
  const integer = (s) => s !== null && !s.format;
  const codesApply = integer(layer.weightScheme) && integer(layer.activationScheme) && !layer.activationScheme.granularity && layer.weightScheme.granularity !== 'group';
  const notes = [];
  if (f.output === 'none') layer.output = null;
  else if (f.output === 'auto' && !codesApply) {
    layer.output = null;
    notes.push('No output codes: requantization needs integer codes on both sides, one activation scale and one weight scale per output channel.');
  } else if (f.output === 'auto') layer.output = { dtype: f.outDtype };
  else {
    const text = f.outScale.trim();
    if (!NUMBER.test(text) || !(Number(text) > 0) || !Number.isFinite(Number(text))) {
      return { problem: { field: 'outScale', message: `Output scale must be a number above 0 (got "${text}")` } };
    }
    const zp = f.outZeroPoint.trim();
    if (zp !== '' && !/^[+-]?\d+$/.test(zp)) return { problem: { field: 'outZeroPoint', message: `Output zero point must be a whole number (got "${zp}")` } };
    layer.output = { scale: Number(text), zeroPoint: zp === '' ? 0 : Number(zp), dtype: f.outDtype };
  }
  if (f.next !== 'none') {
    let nextOut = null;
    if (f.nextOut.trim() !== '') {
      const n = whole(f, 'nextOut', 'Its out', 1, 65536);
      if (n.problem) return n;
      nextOut = n.value;
    }
    const seed = whole(f, 'nextSeed', 'Its seed', 0, 2 ** 32 - 1);
    if (seed.problem) return seed;
    const o2 = nextOut ?? inner;
    if (o2 !== null && out !== null && o2 * out > MAX_WEIGHTS) return { problem: { field: 'nextOut', message: `Its out × out is ${fmt(o2 * out)} values: at most ${fmt(MAX_WEIGHTS)} here` } };
    layer.next = { activation: f.next };
    inputs.next = { generate: { out: o2, seed: seed.value } };
  }
  return { layer, inputs, notes, shape: { out, in: inner } };
}

const SCHEME_FIELDS = { bits: 'Bits', mode: 'Mode', granularity: 'Granularity', axis: 'Granularity', groupSize: 'GroupSize', calibration: 'Calibration',
  percentile: 'Calibration', format: 'Format' };

/** The API's (or the worker's) error field → the layer form's field key. */
export function fieldOfLayerError(field, f) {
  if (!field) return 'wSource';
  const w = { samples: 'wShape', file: 'wTensor', generated: 'wIn' }[f.wSource];
  if (field === 'weights') return f.wSource === 'file' ? 'wTensor' : 'wSource';
  if (field === 'weightShape') return w;
  if (field === 'activations') return f.xSource === 'pasted' ? 'xValues' : 'xKind';
  if (field === 'activationShape') return f.xSource === 'pasted' ? (f.xShape.trim() ? 'xShape' : 'xValues') : 'xTokens';
  const scheme = field.match(/^(weightScheme|activationScheme)(?:\.(\w+))?/);
  if (scheme) return `${scheme[1] === 'weightScheme' ? 'w' : 'x'}${SCHEME_FIELDS[scheme[2]] ?? 'Format'}`;
  if (field.startsWith('next.weightShape') || field === 'next.weights') return 'nextOut';
  if (field.startsWith('next')) return 'next';
  if (field === 'output.scale') return 'outScale';
  if (field === 'output.zeroPoint') return 'outZeroPoint';
  if (field === 'output.dtype') return 'outDtype';
  if (field.startsWith('output')) return 'output';
  if (['accumulator', 'overflow', 'profile'].includes(field)) return field;
  return 'wSource';
}

/** The settings a run used, as [name, value] rows (the CSV's and the PDF's). */
export function layerSettings(f, request, r) {
  const w = { generated: `generated, seed ${f.wSeed}`, samples: 'the calculator\'s samples', file: `tensor ${f.wTensor}` }[f.wSource];
  const x = f.xSource === 'generated' ? `generated ${f.xKind}, seed ${f.xSeed}` : 'pasted';
  const rows = [['weights', w], ['weight_shape', `${r.shape.out}x${r.shape.in}`], ['weight_scheme', sideLabel(request.layer.weightScheme, 'weights')],
    ['activations', x], ['activation_shape', `${r.shape.tokens}x${r.shape.in}`], ['activation_scheme', sideLabel(request.layer.activationScheme, 'activations')],
    ['accumulator', r.accumulator.type], ['accumulator_overflow', request.layer.overflow], ['requantization', request.layer.profile],
    ['output_codes', !request.layer.output ? 'none' : f.output === 'auto' ? `${f.outDtype}, from the output range` : `${f.outDtype}, scale ${f.outScale}, zero point ${f.outZeroPoint || 0}`]];
  if (r.next) rows.push(['second_layer', `${r.next.activation}, then ${r.next.layer.shape.out}x${r.next.layer.shape.in} (seed ${f.nextSeed})`]);
  return rows;
}


/** Whether two layer states are the same settings (the results are stale when they differ). */
export const sameLayer = (a, b) => Object.keys(LAYER_DEFAULTS).every((k) => a[k] === b[k]);
