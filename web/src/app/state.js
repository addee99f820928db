// The form's state: one object of field texts exactly as typed, mirrored in the URL so a link
// reproduces the calculation and a reload keeps it. A bad value stays as typed; nothing here
// ever clears another field.
export const SEED_EXAMPLE = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';

export const DEFAULTS = Object.freeze({
  name: 'activations',
  format: 'int',
  overflow: 'saturate',
  formatScale: 'none',
  customExponentBits: '4',
  customMantissaBits: '3',
  customBias: '7',
  customSpecials: 'finite-nan',
  profile: 'formula',
  dtype: 'int8',
  reduceRange: 'false',
  bits: '8',
  mode: 'symmetric',
  rounding: 'half-even',
  seed: '0',
  range: 'custom',
  calibration: 'minmax',
  percentile: '99.99',
  granularity: 'tensor',
  shape: '',
  axis: '0',
  groupSize: '128',
  min: '-1.50',
  max: '1.50',
  values: SEED_EXAMPLE,
});

// Field key → element id. The URL uses the keys.
export const FIELD_IDS = Object.freeze({
  name: 'tensor-name',
  format: 'format',
  overflow: 'overflow',
  formatScale: 'format-scale',
  customExponentBits: 'custom-ebits',
  customMantissaBits: 'custom-mbits',
  customBias: 'custom-bias',
  customSpecials: 'custom-specials',
  profile: 'profile',
  dtype: 'dtype',
  reduceRange: 'reduce-range',
  bits: 'bits',
  mode: 'mode',
  rounding: 'rounding',
  seed: 'seed',
  range: 'range',
  calibration: 'calibration',
  percentile: 'percentile',
  granularity: 'granularity',
  shape: 'shape',
  axis: 'axis',
  groupSize: 'group-size',
  min: 'range-min',
  max: 'range-max',
  values: 'values',
});

// The samples travel in the URL's fragment (#values=…), which browsers never send to a server:
// static hosts refuse long request lines (431 or 414 beyond 8–16 KB), fragments have no such
// limit. Texts longer than this stay out of the link; this browser's storage keeps them instead,
// so a reload still finds them.
export const URL_VALUES_LIMIT = 60000;
const STORED = 'quant-error-calculator:values';

export function readForm(doc) {
  const state = {};
  for (const [key, id] of Object.entries(FIELD_IDS)) state[key] = doc.getElementById(id).value;
  return state;
}

export function writeForm(doc, state) {
  for (const [key, id] of Object.entries(FIELD_IDS)) doc.getElementById(id).value = state[key] ?? DEFAULTS[key];
}

/**
 * The query string (settings) and fragment (samples) for a state. A long sample text is stored
 * locally and marked '@local' (or left out when the browser will not store it):
 * { query, fragment, kept: 'link' | 'browser' | 'none' }.
 */
export function toQuery(state, storage) {
  const params = new URLSearchParams();
  const fragment = new URLSearchParams();
  let kept = 'link';
  for (const key of Object.keys(FIELD_IDS)) {
    if (key !== 'values') {
      params.set(key, state[key]);
    } else if (state.values.length <= URL_VALUES_LIMIT) {
      fragment.set('values', state.values);
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
 * The state a query string and fragment describe, defaults for what they lack; null when they
 * have nothing. (Links from before the fragment carried `values` in the query; they still work.)
 */
export function fromQuery(query, storage, fragment = '') {
  const params = new URLSearchParams(query);
  for (const [key, value] of new URLSearchParams(fragment)) if (key === 'values') params.set(key, value);
  if (![...params.keys()].some((k) => k in FIELD_IDS)) return null;
  const state = { ...DEFAULTS };
  for (const key of Object.keys(FIELD_IDS)) if (params.has(key)) state[key] = params.get(key);
  if (state.values === '@local') state.values = storage?.getItem(STORED) ?? '';
  return state;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

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
  if (state.range === 'custom') {
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
    mode: state.mode === 'symmetric' ? 'symmetric' : 'asymmetric' };
  const { options: base, problem } = toOptions({ ...state, profile: 'formula', bits: '8', rounding: 'half-even', calibration: 'minmax' });
  if (problem) return { problem };
  if (base.range) options.range = base.range;
  for (const key of ['granularity', 'shape', 'axis']) if (key in base) options[key] = base[key];
  if (options.granularity === 'group') return { problem: { field: 'granularity', message: 'Runtime profiles quantize per tensor or per channel' } };
  return { options };
}

// A float or block format: the integer fields do not apply.
function formatOptions(state) {
  const options = { format: state.format };
  if (!state.format.startsWith('mx') && state.format !== 'nvfp4' && state.format !== 'nf4') {
    options.overflow = state.overflow;
    options.formatScale = state.formatScale;
  }
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
    groupSize: 'groupSize', format: 'format', overflow: 'overflow', formatScale: 'formatScale', customFormat: 'customExponentBits', profile: 'profile', dtype: 'dtype', reduceRange: 'reduceRange', qmin: 'dtype', qmax: 'dtype',
    zeroPoint: 'values', scale: 'values' }[field] ?? 'values';
}

/** The channel or group of sample i for a result's options (null per tensor). */
export function groupIndexer(options) {
  if (!options.granularity || options.granularity === 'tensor') return null;
  if (options.granularity === 'group') return (i) => Math.floor(i / options.groupSize);
  const shape = options.shape;
  const axis = options.axis < 0 ? options.axis + shape.length : options.axis;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = shape[axis];
  return (i) => Math.floor(i / inner) % channels;
}

/** The scale and zero point that quantized sample i (its channel's, group's or block's, or the tensor's). */
export function paramsOfSample(r) {
  if (r.format) {
    if (!r.blocks) return () => ({ scale: r.format.tensorScale, zeroPoint: 0, index: 0 });
    const b = r.format.block;
    return (i) => ({ scale: r.blocks.scale[Math.floor(i / b)], zeroPoint: 0, index: Math.floor(i / b) });
  }
  const g = r.groups ? groupIndexer(r.options) : null;
  return g ? (i) => r.groups[g(i)] : () => r;
}

/** "channel" or "group" for grouped results, else null. */
export const groupUnit = (r) => (r.groups ? (r.options.granularity === 'channel' ? 'channel' : 'group') : null);
