// The form's state: one object of field texts exactly as typed, mirrored in the URL so a link
// reproduces the calculation and a reload keeps it. A bad value stays as typed; nothing here
// ever clears another field. Which fields apply to a state (`applies`) is decided here too, so the
// calculator view's one render shows exactly those.
import { CALIBRATIONS, CUSTOM_SPECIALS, DTYPES, FORMAT_SCALES, formatGroup, FORMATS, GRANULARITIES, MODES, MX_SCALES, ONNX_OPS, OVERFLOWS, PROFILES,
  RANGE_SOURCES, ROUNDINGS } from '../shared/choices.js';
import { SEED_EXAMPLE } from '../shared/seed-example.js';

export { SEED_EXAMPLE };

export const DEFAULTS = Object.freeze({
  name: 'activations',
  format: 'int',
  overflow: 'saturate',
  formatScale: 'none',
  mxScale: 'floor',
  customExponentBits: '4',
  customMantissaBits: '3',
  customBias: '7',
  customSpecials: 'finite-nan',
  profile: 'formula',
  dtype: 'int8',
  reduceRange: 'false',
  onnxOp: 'quantize-linear',
  bits: '8',
  mode: 'symmetric',
  rounding: 'half-even',
  seed: '0',
  rangeSource: 'custom',
  calibration: 'minmax',
  percentile: '99.99',
  granularity: 'tensor',
  shape: '',
  axis: '0',
  groupSize: '128',
  min: '-1.50',
  max: '1.50',
  values: SEED_EXAMPLE,
  fileRange: 'false',
});

// Field key → element id. The URL uses the keys.
export const FIELD_IDS = Object.freeze({
  name: 'tensor-name',
  format: 'format',
  overflow: 'overflow',
  formatScale: 'format-scale',
  mxScale: 'mx-scale',
  customExponentBits: 'custom-ebits',
  customMantissaBits: 'custom-mbits',
  customBias: 'custom-bias',
  customSpecials: 'custom-specials',
  profile: 'profile',
  dtype: 'dtype',
  reduceRange: 'reduce-range',
  onnxOp: 'onnx-op',
  bits: 'bits',
  mode: 'mode',
  rounding: 'rounding',
  seed: 'seed',
  rangeSource: 'range-source',
  calibration: 'calibration',
  percentile: 'percentile',
  granularity: 'granularity',
  shape: 'shape',
  axis: 'axis',
  groupSize: 'group-size',
  min: 'range-min',
  max: 'range-max',
  values: 'values',
  fileRange: 'file-range',
});

// The fields whose value is one of a table's: a link with another value falls back to the default.
const CHOICE_FIELDS = { format: FORMATS, overflow: OVERFLOWS, formatScale: FORMAT_SCALES, mxScale: MX_SCALES, customSpecials: CUSTOM_SPECIALS, profile: PROFILES,
  dtype: DTYPES, reduceRange: [{ value: 'false' }, { value: 'true' }], onnxOp: ONNX_OPS, mode: MODES, rounding: ROUNDINGS, rangeSource: RANGE_SOURCES,
  calibration: CALIBRATIONS, granularity: GRANULARITIES, fileRange: [{ value: 'false' }, { value: 'true' }] };

/** The OCP MX formats (mxfp8-e4m3 … mxint8): the ones whose scale rounding is a choice. */
const isMx = (format) => formatGroup(format) === 'block' && format.startsWith('mx');

/** The mode as the form shows it: under a runtime profile the unsigned choice is the affine mode. */
export const shownMode = (f) => (f.format === 'int' && f.profile !== 'formula' && f.mode === 'asymmetric-unsigned' ? 'asymmetric' : f.mode);

/**
 * Which fields apply to a state: field key → true where it is shown. A field that does not apply
 * is hidden (so switching a setting and back restores exactly the fields there were).
 */
export function applies(f) {
  const integer = f.format === 'int';
  const profile = integer && f.profile !== 'formula';
  const formula = integer && !profile;
  const custom = f.rangeSource === 'custom';
  const element = formatGroup(f.format) === 'float';
  const gguf = formatGroup(f.format) === 'gguf'; // llama.cpp's types: rows along the shape's last axis
  return {
    name: true, values: true, format: true,
    profile: integer, dtype: profile, reduceRange: profile, onnxOp: profile && f.profile === 'onnx',
    bits: formula, mode: integer, rounding: formula, seed: formula && f.rounding === 'stochastic',
    rangeSource: integer, min: integer && custom, max: integer && custom,
    calibration: formula && !custom, percentile: formula && !custom && f.calibration === 'percentile',
    granularity: integer, shape: (integer && f.granularity !== 'tensor') || gguf, axis: integer && f.granularity === 'channel',
    groupSize: integer && f.granularity === 'group' && (!profile || f.profile === 'onnx'),
    overflow: element, formatScale: element, mxScale: isMx(f.format),
    customExponentBits: f.format === 'custom', customMantissaBits: f.format === 'custom', customBias: f.format === 'custom',
    customSpecials: f.format === 'custom',
    fileRange: integer && custom,
  };
}

// The samples travel in the URL's fragment (#values=…), which browsers never send to a server:
// static hosts refuse long request lines (431 or 414 beyond 8–16 KB), fragments have no such
// limit. A long text is compressed (#z=…: deflate-raw, base64url), so links of 100,000 values
// work; beyond URL_VALUES_LIMIT characters even compressed (browsers take URLs of about 2 MB),
// this browser's storage keeps the samples instead, so a reload still finds them.
export const URL_VALUES_LIMIT = 1000000;
export const COMPRESS_ABOVE = 2000;
const STORED = 'quant-error-calculator:values';

export function readForm(doc) {
  const state = {};
  for (const [key, id] of Object.entries(FIELD_IDS)) {
    const node = doc.getElementById(id);
    state[key] = node.type === 'checkbox' ? String(node.checked) : node.value;
  }
  return state;
}

const toBase64url = (bytes) => {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const fromBase64url = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

/** Text → deflate-raw → base64url (the link's #z= form). */
export async function compressText(text) {
  return toBase64url(await pipe(new TextEncoder().encode(text), new CompressionStream('deflate-raw')));
}

/** The inverse of compressText; throws on a damaged fragment. */
export async function decompressText(text) {
  return new TextDecoder('utf-8', { fatal: true }).decode(await pipe(fromBase64url(text), new DecompressionStream('deflate-raw')));
}

/**
 * The query string (settings) and fragment (samples) for a state. A long sample text is
 * compressed; one too long even then is stored locally and marked '@local' (or left out when the
 * browser will not store it): { query, fragment, kept: 'link' | 'browser' | 'none' }.
 */
export async function toQuery(state, storage) {
  const params = new URLSearchParams();
  for (const key of Object.keys(FIELD_IDS)) if (key !== 'values') params.set(key, state[key]);
  const fragment = new URLSearchParams();
  let kept = 'link';
  if (state.values.length <= COMPRESS_ABOVE) {
    fragment.set('values', state.values);
  } else {
    const z = typeof CompressionStream === 'function' ? await compressText(state.values) : null;
    if (z !== null && z.length <= URL_VALUES_LIMIT) {
      fragment.set('z', z);
    } else {
      try {
        storage.setItem(STORED, state.values);
        fragment.set('values', '@local');
        kept = 'browser';
      } catch {
        kept = 'none'; // no storage, or over its quota
      }
    }
  }
  return { query: params.toString(), fragment: fragment.toString(), kept };
}

/**
 * The state a query string and fragment describe, defaults for what they lack, and the fields
 * whose values were not understood (each fell back to its default): { state, ignored: [{ key,
 * value }] }; null when the link has nothing. (Links from before the fragment carried `values` in
 * the query, and `range` for rangeSource; they still work.)
 */
export async function fromQuery(query, storage, fragment = '') {
  const params = new URLSearchParams(query);
  if (params.has('range') && !params.has('rangeSource')) params.set('rangeSource', params.get('range'));
  const hash = new URLSearchParams(fragment);
  if (hash.has('values')) params.set('values', hash.get('values'));
  const ignored = [];
  if (hash.has('z')) {
    try {
      params.set('values', await decompressText(hash.get('z')));
    } catch {
      ignored.push({ key: 'values', value: 'the link\'s compressed samples (damaged)' });
    }
  }
  if (![...params.keys()].some((k) => Object.hasOwn(FIELD_IDS, k)) && ignored.length === 0) return null;
  const state = { ...DEFAULTS };
  for (const key of Object.keys(FIELD_IDS)) {
    if (!params.has(key)) continue;
    const value = params.get(key);
    const table = CHOICE_FIELDS[key];
    if (table && !table.some((c) => c.value === value)) ignored.push({ key, value });
    else state[key] = value;
  }
  if (state.values === '@local') state.values = storage?.getItem(STORED) ?? '';
  return { state, ignored };
}

// Linear time on any text (no nested quantifier can backtrack): digits, then a dot only before more.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The API options for a state, or the first problem as { field, message } (field: a key of
 * FIELD_IDS). The samples themselves are parsed by the core, in the worker.
 */
export function toOptions(state) {
  if (state.format && state.format !== 'int') return formatOptions(state);
  if (state.profile && state.profile !== 'formula') return profileOptions(state);
  const bitsText = state.bits.trim();
  if (!/^\d+$/.test(bitsText)) {
    return { problem: { field: 'bits', message: `Bit depth must be a whole number from 2 to 16 (got "${bitsText}")` } };
  }
  const options = { bits: Number(bitsText), mode: state.mode, rounding: state.rounding };
  if (state.rounding === 'stochastic') {
    const seedText = state.seed.trim();
    if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(Number(seedText))) {
      return { problem: { field: 'seed', message: `Seed must be a whole number from 0 to 2^53 − 1 (got "${seedText}")` } };
    }
    options.seed = Number(seedText);
  }
  if (state.rangeSource === 'custom') {
    const ends = {};
    for (const [key, label] of [['min', 'Range min'], ['max', 'Range max']]) {
      const text = state[key].trim();
      if (text === '') return { problem: { field: key, message: `Enter ${label}, or choose Derive from samples` } };
      if (!NUMBER.test(text) || !Number.isFinite(Number(text))) {
        return { problem: { field: key, message: `${label} must be a number (got "${text}")` } };
      }
      ends[key] = Number(text);
    }
    options.range = ends;
  } else {
    options.calibration = state.calibration;
    if (state.calibration === 'percentile') {
      const text = state.percentile.trim();
      const p = Number(text);
      if (!NUMBER.test(text) || !(p > 50 && p <= 100)) {
        return { problem: { field: 'percentile', message: `Percentile must be a number above 50 and at most 100 (got "${text}")` } };
      }
      options.percentile = p;
    }
  }
  if (state.granularity !== 'tensor') {
    options.granularity = state.granularity;
    const shapeText = state.shape.trim();
    if (shapeText !== '') {
      if (!/^\d+(\s*[,×x]\s*\d+)*$/.test(shapeText)) {
        return { problem: { field: 'shape', message: `Shape must be whole numbers separated by commas, such as 64,3,3,3 (got "${shapeText}")` } };
      }
      options.shape = shapeText.split(/\s*[,×x]\s*/).map(Number);
    }
    if (state.granularity === 'channel') {
      if (!/^-?\d+$/.test(state.axis.trim())) return { problem: { field: 'axis', message: `Axis must be a whole number (got "${state.axis.trim()}")` } };
      options.axis = Number(state.axis.trim());
    } else {
      if (!/^\d+$/.test(state.groupSize.trim())) {
        return { problem: { field: 'groupSize', message: `Group size must be a whole number such as 32, 64 or 128 (got "${state.groupSize.trim()}")` } };
      }
      options.groupSize = Number(state.groupSize.trim());
    }
  }
  return { options };
}

// A runtime profile: the runtime's integer type decides the code range, it rounds half to even
// and calibrates min-max; the range (as the observer's min and max) and per-channel still apply.
function profileOptions(state) {
  const options = { profile: state.profile, dtype: state.dtype, reduceRange: state.reduceRange === 'true',
    mode: state.mode === 'symmetric' ? 'symmetric' : 'asymmetric', ...(state.profile === 'onnx' ? { onnxOp: state.onnxOp } : {}) };
  // ONNX Runtime's blocked QuantizeLinear (block_size on the last axis) is its per-group case; PyTorch has none.
  const groups = state.granularity === 'group' && state.profile === 'onnx';
  const { options: base, problem } = toOptions({ ...state, profile: 'formula', bits: '8', rounding: 'half-even', calibration: 'minmax',
    granularity: state.granularity === 'group' && !groups ? 'tensor' : state.granularity });
  if (problem) return { problem };
  if (base.range) options.range = base.range;
  for (const key of ['granularity', 'shape', 'axis', 'groupSize']) if (key in base) options[key] = base[key];
  if (state.granularity === 'group' && !groups) return { problem: { field: 'granularity', message: 'PyTorch quantizes per tensor or per channel' } };
  return { options };
}

// A float or block format: the integer fields do not apply.
function formatOptions(state) {
  const options = { format: state.format };
  if (formatGroup(state.format) === 'gguf') {
    // Rows of the type's blocks along the last axis: the shape says how long a row is.
    const shapeText = state.shape.trim();
    if (shapeText !== '') {
      if (!/^\d+(\s*[,×x]\s*\d+)*$/.test(shapeText)) {
        return { problem: { field: 'shape', message: `Shape must be whole numbers separated by commas, such as 4096,4096 (got "${shapeText}")` } };
      }
      options.shape = shapeText.split(/\s*[,×x]\s*/).map(Number);
    }
    return { options };
  }
  if (!state.format.startsWith('mx') && state.format !== 'nvfp4' && state.format !== 'nf4') {
    options.overflow = state.overflow;
    options.formatScale = state.formatScale;
  }
  if (isMx(state.format)) options.mxScale = state.mxScale;
  if (state.format === 'custom') {
    const c = {};
    for (const [key, field, label] of [['exponentBits', 'customExponentBits', 'Exponent bits'], ['mantissaBits', 'customMantissaBits', 'Mantissa bits'],
      ['bias', 'customBias', 'Exponent bias']]) {
      const text = state[field].trim();
      if (!/^-?\d+$/.test(text)) return { problem: { field, message: `${label} must be a whole number (got "${text}")` } };
      c[key] = Number(text);
    }
    c.specials = state.customSpecials;
    options.customFormat = c;
  }
  return { options };
}

/** The API's error field → the form's field key. */
export function fieldOfError(field) {
  return { values: 'values', bits: 'bits', mode: 'mode', rounding: 'rounding', 'range.min': 'min', 'range.max': 'max', range: 'min',
    calibration: 'calibration', percentile: 'percentile', seed: 'seed', granularity: 'granularity', shape: 'shape', axis: 'axis',
    groupSize: 'groupSize', format: 'format', overflow: 'overflow', formatScale: 'formatScale', mxScale: 'mxScale', customFormat: 'customExponentBits', profile: 'profile', dtype: 'dtype', reduceRange: 'reduceRange', onnxOp: 'onnxOp', qmin: 'dtype', qmax: 'dtype',
    zeroPoint: 'values', scale: 'values' }[field] ?? 'values';
}
