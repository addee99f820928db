// The public API: createQuantizer() for the browser, workers, bundlers and node.
//
//   const qz = await createQuantizer();
//   const values = qz.parseValues('-1.25, -0.92, 0, 1.46');
//   const r = qz.analyze(values, { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 } });
//   r.scale, r.zeroPoint, r.codes, r.dequantized, r.errors, r.clipped, r.metrics.sqnrDb, …
//
// Bad input throws a QuantizerError whose `field` names the option ("bits", "range.min",
// "values", …) and whose `index` is the 0-based sample index where there is one.
import { ACCUMULATOR_OVERFLOWS, ACCUMULATORS as ACCUMULATOR_CHOICES, ACTIVATIONS as ACTIVATION_CHOICES, CALIBRATIONS as CALIBRATION_CHOICES,
  FORMATS as FORMAT_CHOICES, LAYER_PROFILES as LAYER_PROFILE_CHOICES, MODES as MODE_CHOICES, MX_SCALES as MX_SCALE_CHOICES, OUTPUT_DTYPES,
  PROFILES as PROFILE_CHOICES,
  ROUNDINGS as ROUNDING_CHOICES, values } from './shared/choices.js';


/** The options and their defaults: the same names in the API, the page, the URL and the CSV. */
export const DEFAULT_OPTIONS = Object.freeze({
  bits: 8,
  mode: 'symmetric', // 'symmetric' | 'asymmetric' | 'asymmetric-unsigned'
  rounding: 'half-even', // 'half-even' | 'half-away' | 'half-up' | 'floor' | 'ceil' | 'toward-zero' | 'stochastic'
  seed: 0, // stochastic rounding only
  range: null, // { min, max }; null: chosen from the samples by `calibration`
  calibration: 'minmax', // 'minmax' | 'percentile' | 'mse' | 'entropy' (see docs/formulas.md)
  percentile: 99.99, // p for 'percentile' (above 50, at most 100); also a candidate of 'mse'
  granularity: 'tensor', // 'tensor' | 'channel' (each index along `axis` of `shape`) | 'group' (`groupSize` along the last axis)
  shape: null, // the tensor's dimensions, e.g. [64, 3, 3, 3]; null: one axis
  axis: 0, // 'channel': the channel axis (negative counts from the end)
  groupSize: null, // 'group': values per group, e.g. 32, 64 or 128
  qmin: null, // override of the mode's code range
  qmax: null,
  scale: null, // a deployed model's parameters, used as given
  zeroPoint: null,
  arithmetic: 'float64', // 'float64' | 'float32' (x / scale, rounding and x̂ in float32)
  perSample: true, // false: sums-only metrics, no per-sample arrays, percentiles or code histogram
  kernel: 'auto', // 'auto' | 'simd' | 'scalar': which twin runs (for tests and the benchmark)
  chartBuckets: 0, // > 0: min/max of x, x̂ and error per bucket of consecutive samples (result.charts)
  histogramBins: 0, // > 0: histograms of the values and the errors (result.charts)
  format: 'int', // 'int' (the integer options above) or a float / block format of FORMATS
  overflow: 'saturate', // 'saturate' | 'inf-nan': element formats, past the largest finite value
  formatScale: 'none', // 'none' | 'amax': element formats divide by amax / (format max) first
  customFormat: null, // format 'custom': { exponentBits, mantissaBits, bias, specials: 'ieee' | 'finite-nan' | 'none' }
  profile: 'formula', // 'formula' (the textbook formulas) | 'pytorch' | 'onnx': a runtime's parameters and codes, bit for bit | 'ggml' (ggml's mxfp4, nvfp4)
  dtype: 'int8', // profiles: 'int8' | 'uint8' (PyTorch qint8 / quint8) | 'int4' | 'uint4' (ONNX)
  reduceRange: false, // profiles: the runtimes' reduce_range
  importance: null, // ggml's types: a Float32Array of one weight per column (an imatrix's in_sum2 / counts)
  nonFinite: 'error', // 'error' (NaN or ±Inf refuses the tensor) | 'skip' (measured over the finite values; the whole core)
  mxScale: 'floor', // the OCP MX formats' E8M0 scale rounding: 'floor' (OCP v1.0) | 'ceil' | 'even' | 'rceil' (see MX_SCALES)
  onnxOp: 'quantize-linear', // profile 'onnx': 'quantize-linear' (onnxruntime.quantization's MinMax parameters, float64) | 'dynamic-quantize-linear' (the DynamicQuantizeLinear op's, float32)
});

// The vocabularies, from the one table each (shared/choices.js) that the page and the component read too.
export const PROFILES = values(PROFILE_CHOICES);

/** The number formats: element formats (one value per code), then block formats (a shared scale per block), then llama.cpp's. */
export const FORMATS = values(FORMAT_CHOICES);

/**
 * llama.cpp's block types (ggml's names in lower case), bit for bit as ggml quantizes them; rows run
 * along the last axis of `shape`. With `profile: 'ggml'`, 'mxfp4' and 'nvfp4' are ggml's variants.
 */
export const GGML_TYPES = values(FORMAT_CHOICES.filter((f) => f.group === 'gguf'));

export const MODES = values(MODE_CHOICES);
/** llama-quantize's presets recipeTypes() follows (llama.cpp's llama_tensor_get_type). */
export const RECIPES = Object.freeze(['q4_k_m', 'q5_k_m', 'q6_k', 'q8_0', 'q4_0', 'iq4_xs']);
/** qz.layer(): the requantization profiles, the accumulators and the activation functions between layers. */
export const LAYER_PROFILES = values(LAYER_PROFILE_CHOICES);
export const ACCUMULATORS = values(ACCUMULATOR_CHOICES);
export const ACTIVATIONS = values(ACTIVATION_CHOICES);
export const CALIBRATIONS = values(CALIBRATION_CHOICES);
export const ROUNDING_RULES = values(ROUNDING_CHOICES);
/** The OCP MX formats' scale roundings (option `mxScale`). */
export const MX_SCALES = values(MX_SCALE_CHOICES);

export class QuantizerError extends Error {
  constructor(message, field, index = null) {
    super(message);
    this.name = 'QuantizerError';
    this.field = field;
    this.index = index;
  }
}

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';

// A module that uses a wasm SIMD instruction (i8x16.splat, i8x16.popcnt): whether the engine
// validates it says whether it runs SIMD, as meshoptimizer and wasm-feature-detect ask.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this engine runs WebAssembly SIMD (detected, not assumed). */
export function simdSupported() {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

// The modules (CMakeLists.txt): the whole core, and the small first module the page starts with
// (the integer formula with every calibration, granularity, rounding and arithmetic, metrics,
// charts and the value parser). Each in a SIMD and a scalar build that share one JS glue; the
// glue is imported only when its module is asked for, so a bundle fetches what it uses.
// `files`: each build's .wasm name; `urls`: its key in wasmUrls.
const MODULES = {
  full: { glue: () => import('./wasm/quant.js'), files: { simd: 'quant', scalar: 'quant-scalar' }, urls: { simd: 'simd', scalar: 'scalar' } },
  first: { glue: () => import('./wasm/quant-core.js'), files: { simd: 'quant-core', scalar: 'quant-core-scalar' },
    urls: { simd: 'coreSimd', scalar: 'coreScalar' } },
};

/**
 * The quantizer: the SIMD build where the engine has wasm SIMD, else the scalar build (the same
 * results; `qz.simd` says which runs). `simd: false` forces the scalar build. `module: 'first'`
 * (also accepted as 'core', its earlier name) loads the small first module instead of the whole core (`qz.module` says which): the integer
 * formula alone, where float formats, runtime profiles, tensor headers and streams throw a
 * QuantizerError that says so. `wasmBinary` supplies the chosen build's bytes, `wasmUrls:
 * { simd, scalar, coreSimd, coreScalar }` where to fetch them (default: beside this module; in
 * node the .wasm is read from disk there).
 */
export async function createQuantizer({ wasmBinary, simd = simdSupported(), wasmUrls, module = 'full' } = {}) {
  if (module === 'core') module = 'first';
  if (!Object.hasOwn(MODULES, module)) fail(`Unknown module "${module}" (use full or first)`, 'module');
  const build = simd ? 'simd' : 'scalar';
  const file = `${MODULES[module].files[build]}.wasm`;
  const moduleArgs = {};
  if (wasmBinary) {
    moduleArgs.wasmBinary = wasmBinary;
  } else if (isNode) {
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    // (Through a variable: bundlers would otherwise turn this node-only path into assets.)
    const here = import.meta.url;
    moduleArgs.wasmBinary = await readFile(new URL(`./wasm/${file}`, here));
  } else {
    // Only the build chosen is fetched.
    const url = wasmUrls?.[MODULES[module].urls[build]] ?? wasmUrl(file);
    moduleArgs.locateFile = () => url;
  }
  const { default: createQuantModule } = await MODULES[module].glue();
  return new Quantizer(await createQuantModule(moduleArgs), module);
}

// Written out so that bundlers see each file (and copy it).
function wasmUrl(file) {
  switch (file) {
    case 'quant.wasm': return new URL('./wasm/quant.wasm', import.meta.url).href;
    case 'quant-scalar.wasm': return new URL('./wasm/quant-scalar.wasm', import.meta.url).href;
    case 'quant-core.wasm': return new URL('./wasm/quant-core.wasm', import.meta.url).href;
    default: return new URL('./wasm/quant-core-scalar.wasm', import.meta.url).href;
  }
}

function fail(message, field, index = null) {
  throw new QuantizerError(message, field, index);
}

// Blocks in the wasm heap. The heap is 32-bit and grows to 4 GB: _malloc's pointer is read
// unsigned (addresses above 2 GB read negative as an int), 0 means the heap could not grow, and one
// block is at most 2^31 − 1 bytes (a larger one, which the allocator can hand out of a heap already
// grown that far, breaks memory accesses; the core's checks have the same bound). Every block the
// API copies into the heap comes from here.
const MAX_BLOCK = 2 ** 31 - 1;
const megabytes = (bytes) => Math.ceil(bytes / 1e6).toLocaleString('en');

function allocate(mod, bytes, what, field) {
  const ptr = bytes <= MAX_BLOCK ? mod._malloc(Math.max(1, bytes)) >>> 0 : 0;
  if (ptr === 0) fail(`Not enough memory for ${what} (${megabytes(bytes)} MB)`, field);
  return ptr;
}

function fromCoreError(e) {
  return new QuantizerError(e.message, e.field, e.index >= 0 ? e.index : null);
}

const isInt = (v) => Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1;
// A list of per-channel or per-group parameters: an array, or a typed array other than a DataView.
const isList = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

// Checks types and fills defaults; the core checks the values (bit range, min < max, …).
function normalizeOptions(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') fail('Options must be an object', 'options');
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(DEFAULT_OPTIONS, key)) fail(`Unknown option "${key}"`, key); // own keys: not constructor, toString
  }
  const o = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) o[key] = value;
  // Integers cross into the core as int32 (embind wraps a larger one: 2^32 + 4 bits ran as 4).
  if (!isInt(o.bits)) fail(`Bit depth must be a whole number between 2 and 16 (got ${String(o.bits)})`, 'bits');
  for (const key of ['mode', 'rounding', 'arithmetic', 'kernel', 'calibration', 'granularity', 'format', 'overflow', 'formatScale', 'profile',
    'dtype', 'mxScale', 'onnxOp']) {
    if (typeof o[key] !== 'string') fail(`${key} must be a string`, key);
  }
  if (o.nonFinite !== 'error' && o.nonFinite !== 'skip') fail(`Unknown nonFinite "${String(o.nonFinite)}" (use error or skip)`, 'nonFinite');
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) fail('Seed must be a whole number from 0 to 2^53 − 1', 'seed');
  if (o.range !== null) {
    if (typeof o.range !== 'object') fail('Range must be { min, max } or null (from the samples)', 'range');
    for (const end of ['min', 'max']) {
      const v = o.range[end];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`Range ${end} must be a finite number`, `range.${end}`);
    }
  }
  for (const key of ['qmin', 'qmax', 'zeroPoint']) {
    if (o[key] !== null && !isInt(o[key]) && !(key === 'zeroPoint' && isList(o[key]))) fail(`${key} must be a whole number`, key);
  }
  // One scale and zero point for the tensor, or one per channel or group (an array or typed array).
  if (isList(o.scale)) {
    const i = Array.from(o.scale).findIndex((v) => typeof v !== 'number' || Number.isNaN(v));
    if (i >= 0) fail(`Scale ${i + 1} of the list is not a number`, 'scale', i);
    o.scale = Float64Array.from(o.scale);
  } else if (o.scale !== null && (typeof o.scale !== 'number' || Number.isNaN(o.scale))) {
    fail('Scale must be a number, or a list of numbers (one per channel or group)', 'scale');
  }
  if (isList(o.zeroPoint)) {
    const i = Array.from(o.zeroPoint).findIndex((v) => !isInt(v));
    if (i >= 0) fail(`Zero point ${i + 1} of the list is not a whole number`, 'zeroPoint', i);
    o.zeroPoint = Int32Array.from(o.zeroPoint);
  }
  if (typeof o.percentile !== 'number' || Number.isNaN(o.percentile)) fail('Percentile must be a number', 'percentile');
  if (o.shape !== null && (!Array.isArray(o.shape) || o.shape.length === 0 || !o.shape.every((d) => Number.isSafeInteger(d)))) {
    fail('Shape must be an array of whole numbers, such as [64, 3, 3, 3]', 'shape');
  }
  if (!isInt(o.axis)) fail('Axis must be a whole number', 'axis');
  if (o.groupSize !== null && !Number.isSafeInteger(o.groupSize)) fail('Group size must be a whole number', 'groupSize');
  if (o.customFormat !== null) {
    const c = o.customFormat;
    if (typeof c !== 'object') fail('customFormat must be { exponentBits, mantissaBits, bias, specials }', 'customFormat');
    for (const key of ['exponentBits', 'mantissaBits', 'bias']) {
      if (!isInt(c[key])) fail(`customFormat.${key} must be a whole number`, 'customFormat');
    }
    if (typeof c.specials !== 'string') fail('customFormat.specials must be "ieee", "finite-nan" or "none"', 'customFormat');
  } else if (o.format === 'custom') {
    fail('Format custom needs customFormat: { exponentBits, mantissaBits, bias, specials }', 'customFormat');
  }
  if (o.importance !== null) {
    const w = o.importance;
    if (!(w instanceof Float32Array || w instanceof Float64Array || Array.isArray(w))) {
      fail('Importance must be a Float32Array (one weight per column) or null', 'importance');
    }
    if (!(w instanceof Float32Array)) {
      const i = Array.from(w).findIndex((v) => typeof v !== 'number');
      if (i >= 0) fail(`Importance weight ${i + 1} is not a number`, 'importance', i);
      o.importance = Float32Array.from(w);
    }
  }
  if (typeof o.perSample !== 'boolean') fail('perSample must be true or false', 'perSample');
  if (typeof o.reduceRange !== 'boolean') fail('reduceRange must be true or false', 'reduceRange');
  for (const key of ['chartBuckets', 'histogramBins']) {
    if (!Number.isInteger(o[key]) || o[key] < 0 || o[key] > 100000) fail(`${key} must be a whole number from 0 to 100000`, key);
  }
  return o;
}

function toCoreOptions(o) {
  return {
    bits: o.bits,
    mode: o.mode,
    rounding: o.rounding,
    seed: o.seed,
    hasRange: o.range !== null,
    rangeMin: o.range?.min ?? 0,
    rangeMax: o.range?.max ?? 0,
    hasQmin: o.qmin !== null,
    qmin: o.qmin ?? 0,
    hasQmax: o.qmax !== null,
    qmax: o.qmax ?? 0,
    hasScale: typeof o.scale === 'number',
    scale: typeof o.scale === 'number' ? o.scale : 0,
    hasZeroPoint: typeof o.zeroPoint === 'number',
    zeroPoint: typeof o.zeroPoint === 'number' ? o.zeroPoint : 0,
    arithmetic: o.arithmetic,
    perSample: o.perSample,
    kernel: o.kernel,
    chartBuckets: o.chartBuckets,
    histogramBins: o.histogramBins,
    calibration: o.calibration,
    percentile: o.percentile,
    granularity: o.granularity,
    shape: o.shape === null ? '' : o.shape.join(','),
    axis: o.axis,
    groupSize: o.groupSize ?? 0,
    format: o.format,
    overflow: o.overflow,
    formatScale: o.formatScale,
    customExponentBits: o.customFormat?.exponentBits ?? 4,
    customMantissaBits: o.customFormat?.mantissaBits ?? 3,
    customBias: o.customFormat?.bias ?? 7,
    customSpecials: o.customFormat?.specials ?? 'finite-nan',
    profile: o.profile,
    dtype: o.dtype,
    reduceRange: o.reduceRange,
    importancePtr: 0, // set where the weights are copied into the heap
    importanceCount: -1,
    nonFinite: o.nonFinite,
    mxScale: o.mxScale,
    onnxOp: o.onnxOp,
    scalesPtr: 0, // set where the lists are copied into the heap
    scalesCount: -1,
    zeroPointsPtr: 0,
    zeroPointsCount: -1,
  };
}

// Whether a typed array's buffer was transferred (to a worker) or otherwise detached: its views
// then read as empty, and copying from them throws a TypeError.
function detached(x) {
  if (x.length !== 0 || x.buffer.byteLength !== 0) return false;
  if (typeof x.buffer.detached === 'boolean') return x.buffer.detached;
  try {
    x.buffer.slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

// Float32Array and Float64Array go in as they are; arrays of numbers become Float64Array.
function toSamples(values, field = 'values') {
  if (ArrayBuffer.isView(values) && !(values instanceof DataView) && detached(values)) {
    fail(`The ${field === 'values' ? 'samples' : field}' buffer was transferred or detached (sent to a worker?): pass a copy`, field);
  }
  if (values instanceof Float64Array || values instanceof Float32Array) return values;
  if (values === null || typeof values !== 'object' || !Number.isSafeInteger(values.length) || values.length < 0) {
    fail(`${field === 'values' ? 'Samples' : `${field[0].toUpperCase()}${field.slice(1)}`} must be a Float64Array, a Float32Array or an array of numbers`, field);
  }
  // Converted to float64 in one block of the wasm heap (and first in JS, which may refuse too).
  const bytes = values.length * 8;
  if (bytes > MAX_BLOCK) fail(`Not enough memory for ${values.length.toLocaleString('en')} ${field === 'values' ? 'samples' : 'values'} (${megabytes(bytes)} MB)`, field);
  let out;
  try {
    out = new Float64Array(values.length);
  } catch {
    fail(`Not enough memory for ${values.length.toLocaleString('en')} ${field === 'values' ? 'samples' : 'values'} (${megabytes(bytes)} MB)`, field);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') fail(`${field === 'values' ? 'Sample' : 'Value'} ${i + 1} is not a number`, field, i);
    out[i] = v;
  }
  return out;
}

/**
 * What inspectValues notes about sample text, by code: the message for the note's index (0-based)
 * and the values read (src/core/parse.h).
 *   elided         a print's "..." left values out: the values are only part of the tensor (index:
 *                  the values before it)
 *   decimal-comma  "1,5 2,5": a comma between two whole numbers while other values are apart by
 *                  spaces, tabs, newlines or semicolons; the commas may be decimal commas, read as
 *                  separators (index: the sample before the first such comma)
 */
const VALUE_NOTES = {
  elided: (index) => `"..." ${index ? `after sample ${index}` : 'at the start'} stands for values that were not printed: `
    + 'these are only part of the tensor (print it whole after np.set_printoptions(threshold=sys.maxsize) or torch.set_printoptions(profile="full"))',
  // The two whole numbers either side of the comma, as read.
  'decimal-comma': (index, values) => {
    const [whole, fraction] = [values[index], values[index + 1]];
    return `"${whole},${fraction}" is read as two values, ${whole} and ${fraction}: if commas are decimal commas here, write ${whole}.${fraction}`;
  },
};
/** qz.layer()'s options and their defaults (docs/api.md, "Through a layer"). */
export const DEFAULT_LAYER_OPTIONS = Object.freeze({
  weights: null, // W [out, in]: Float32Array, Float64Array or numbers, row-major
  weightShape: null, // [out, in]
  activations: null, // X [tokens, in]
  activationShape: null, // [tokens, in]
  weightScheme: null, // analyze()'s options for W (granularity 'channel': per output channel); null: W stays float
  activationScheme: null, // analyze()'s options for X (granularity 'token': per token); null: X stays float
  accumulator: null, // 'int32' | 'int16' | 'float32'; null: int32 for integer codes on both sides, else double
  overflow: 'wrap', // 'wrap' | 'saturate': an integer accumulator past its range
  output: null, // requantized output codes: 'auto' (from the output's range) or { scale, zeroPoint, dtype }; null: none
  profile: 'formula', // 'formula' | 'onnx' | 'tflite': whose requantization gives the codes
  kernel: 'auto', // 'auto' | 'simd' | 'scalar'
  maxDifferences: 1000, // requantization differences listed one by one (all are counted)
  next: null, // a second layer: { weights, weightShape, activation, and optionally its own schemes and the fields above }
});

const NEXT_KEYS = ['weights', 'weightShape', 'activation', 'weightScheme', 'activationScheme', 'accumulator', 'overflow', 'output', 'profile'];

// A QuantizerError from fn gets its field under `at` ("weightScheme.bits").
function under(at, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QuantizerError) {
      e.field = `${at}.${e.field}`;
    }
    throw e;
  }
}

function checkShape(v, field) {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d))) fail(`${field} must be an array of whole numbers, such as [4096, 4096]`, field);
  return v.slice();
}

// One side's scheme: analyze()'s options (own keys, types, defaults), or null for a float side.
function layerScheme(scheme, field, activations) {
  if (scheme === null || scheme === undefined) return null;
  if (typeof scheme !== 'object' || Array.isArray(scheme)) fail(`${field} must be analyze()'s options, or null for a float side`, field);
  let s = scheme;
  if (s.granularity === 'token') {
    if (!activations) fail('Per-token scales are for activations: the weights take \'channel\' (one scale per output channel)', `${field}.granularity`);
    if (s.axis !== undefined && s.axis !== 0) fail('Per token is per channel on axis 0 of [tokens, in]: leave the axis out', `${field}.axis`);
    s = { ...s, granularity: 'channel', axis: 0 };
  }
  const o = under(field, () => normalizeOptions(s));
  for (const key of ['scale', 'zeroPoint']) {
    if (isList(o[key])) fail(`qz.layer() takes one ${key === 'scale' ? 'scale' : 'zero point'} per side here, or derives them per channel or token`, `${field}.${key}`);
  }
  return o;
}

function layerOutput(v, at) {
  if (v === null || v === undefined) return null;
  if (v === 'auto') return { scale: null, zeroPoint: null, dtype: 'int8' };
  if (typeof v !== 'object' || Array.isArray(v)) fail('Output must be \'auto\', { scale, zeroPoint, dtype } or null', at);
  for (const key of Object.keys(v)) if (!['scale', 'zeroPoint', 'dtype'].includes(key)) fail(`Unknown output option "${key}"`, `${at}.${key}`);
  const scale = v.scale ?? null, zeroPoint = v.zeroPoint ?? null, dtype = v.dtype ?? 'int8';
  if (scale !== null && (typeof scale !== 'number' || Number.isNaN(scale))) fail('The output scale must be a number', `${at}.scale`);
  if (zeroPoint !== null && !isInt(zeroPoint)) fail('The output zero point must be a whole number', `${at}.zeroPoint`);
  if (!values(OUTPUT_DTYPES).includes(dtype)) fail(`Unknown output dtype "${dtype}" (use int8 or uint8)`, `${at}.dtype`);
  return { scale, zeroPoint, dtype };
}

// The per-layer fields (schemes, accumulator, overflow, output, profile) with `inherit`'s where
// not given (undefined; null is a choice: a float side, no output codes).
function layerFields(o, at, inherit) {
  const given = (key) => o[key] !== undefined;
  const pick = (key) => (given(key) ? o[key] : inherit ? inherit[key] : DEFAULT_LAYER_OPTIONS[key]);
  const f = {
    weightScheme: given('weightScheme') || !inherit ? layerScheme(pick('weightScheme'), `${at}weightScheme`, false) : inherit.weightScheme,
    activationScheme: given('activationScheme') || !inherit ? layerScheme(pick('activationScheme'), `${at}activationScheme`, true)
      : inherit.activationScheme,
    accumulator: pick('accumulator') ?? null,
    overflow: pick('overflow'),
    output: given('output') || !inherit ? layerOutput(pick('output'), `${at}output`) : null,
    profile: pick('profile'),
  };
  if (f.accumulator !== null && typeof f.accumulator !== 'string') fail('accumulator must be a string or null', `${at}accumulator`);
  for (const key of ['overflow', 'profile']) if (typeof f[key] !== 'string') fail(`${key} must be a string`, `${at}${key}`);
  return f;
}

function normalizeLayerOptions(options) {
  if (options === null || typeof options !== 'object') fail('qz.layer() takes an options object', 'options');
  for (const key of Object.keys(options)) if (!Object.hasOwn(DEFAULT_LAYER_OPTIONS, key)) fail(`Unknown option "${key}"`, key);
  const o = {
    weights: toSamples(options.weights, 'weights'),
    weightShape: checkShape(options.weightShape, 'weightShape'),
    activations: toSamples(options.activations, 'activations'),
    activationShape: checkShape(options.activationShape, 'activationShape'),
    ...layerFields(options, '', null),
    kernel: options.kernel ?? 'auto',
    maxDifferences: options.maxDifferences ?? 1000,
    next: null,
  };
  if (typeof o.kernel !== 'string') fail('kernel must be a string', 'kernel');
  if (!Number.isSafeInteger(o.maxDifferences) || o.maxDifferences < 0) fail('maxDifferences must be a whole number of at least 0', 'maxDifferences');
  const n = options.next;
  if (n !== null && n !== undefined) {
    if (typeof n !== 'object' || Array.isArray(n)) fail('next must be { weights, weightShape, activation, … } or null', 'next');
    for (const key of Object.keys(n)) if (!NEXT_KEYS.includes(key)) fail(`Unknown option "next.${key}"`, `next.${key}`);
    o.next = {
      weights: toSamples(n.weights, 'next.weights'),
      weightShape: checkShape(n.weightShape, 'next.weightShape'),
      activation: n.activation ?? 'relu',
      ...layerFields(n, 'next.', o),
    };
    if (typeof o.next.activation !== 'string') fail('activation must be a string', 'next.activation');
  }
  return o;
}

// The per-layer fields as the bindings read them.
function toCoreLayer(f) {
  return {
    weightScheme: f.weightScheme && toCoreOptions(f.weightScheme),
    activationScheme: f.activationScheme && toCoreOptions(f.activationScheme),
    accumulator: f.accumulator,
    overflow: f.overflow,
    output: f.output,
    profile: f.profile,
  };
}

const REASONS = { tie: 'tie', multiplier: 'multiplier', 'double-rounding': 'doubleRounding', float32: 'float32', double: 'double' };

// A layer's result (r: the core's, whose arrays are views the caller releases after this).
function layerResultOf(r, f, weightCount, activationCount) {
  const metrics = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, nullIfNaN(v)]));
  const p = r.parts;
  const part = (energy, predicted) => ({ energy, sqnrDb: sqnrOf(p.signal, energy), predicted, predictedSqnrDb: sqnrOf(p.signal, predicted) });
  const predicted = p.predictedWeights + p.predictedActivations + p.predictedInteraction;
  const a = r.accumulator;
  const q = r.requantization;
  const requantization = q && {
    profile: q.profile, scale: q.scale, zeroPoint: q.zeroPoint, qmin: q.qmin, qmax: q.qmax, derived: q.derived,
    realMultiplier: q.realMultiplier.slice(), multiplier: q.multiplier.slice(), shift: q.shift.slice(), onnxMultiplier: q.onnxMultiplier.slice(),
    codes: (q.profile === 'onnx' ? q.onnx : q.profile === 'tflite' ? q.tflite : q.formula).slice(),
    paths: { exact: q.exact.slice(), formula: q.formula.slice(), onnx: q.onnx.slice(), tflite: q.tflite.slice(), qdq: q.qdq.slice() },
    metrics: metrics(q.metrics),
    clipped: q.clipped,
    differ: { formula: q.formulaDiffers, onnx: q.onnxDiffers, tflite: q.tfliteDiffers, qdq: q.qdqDiffers },
    reasons: { tie: q.ties, multiplier: q.multiplierReasons, doubleRounding: q.doubleRoundings, float32: q.float32Reasons, double: q.doubleReasons },
    differences: q.differences.map((d) => ({ ...d, reasons: d.reasons.map((x) => REASONS[x]) })),
  };
  return {
    shape: { tokens: r.tokens, in: r.in, out: r.out },
    weights: r.weights && resultOf(r.weights, f.weightScheme, weightCount, false),
    activations: r.activations && resultOf(r.activations, f.activationScheme, activationCount, false),
    reference: r.reference.slice(),
    quantized: r.quantized.slice(),
    metrics: { ...metrics(r.metrics), relativeFrobenius: nullIfNaN(r.relativeFrobenius) },
    perChannel: { sqnrDb: r.channelSqnr.slice() },
    perToken: { sqnrDb: r.tokenSqnr.slice() },
    parts: {
      signal: p.signal,
      weights: part(p.weights, p.predictedWeights),
      activations: part(p.activations, p.predictedActivations),
      interaction: part(p.interaction, p.predictedInteraction),
      simulated: { energy: p.simulated, sqnrDb: sqnrOf(p.signal, p.simulated), predicted, predictedSqnrDb: sqnrOf(p.signal, predicted) },
      accumulator: { energy: p.accumulator },
    },
    accumulator: {
      type: r.accumulatorType,
      block: a?.block ?? null,
      productMax: a?.productMax ?? null,
      bound: a?.bound ?? null,
      dataBound: a?.dataBound ?? null,
      maxAbs: a?.maxAbs ?? null,
      maxAbsIndex: a?.maxAbsIndex ?? null,
      int16: a ? metrics(a.int16) : null,
      int32: a ? metrics(a.int32) : null,
      sums: a && a.sums.length ? a.sums.slice() : null,
      avx2Pairs: a?.pairsApply ? { saturated: a.pairSaturated, sums: a.pairSums.slice() } : null,
    },
    requantization,
    codes: requantization ? requantization.codes : null,
    differences: requantization ? requantization.differences : null,
  };
}

const nullIfNaN = (v) => (Number.isNaN(v) ? null : v);

const MAX_COMPARE = 64;

// Runs fn; a QuantizerError from it gains `config` (the configuration's position) and says which.
function inConfig(i, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QuantizerError) {
      e.message = `Configuration ${i + 1}: ${e.message}`;
      e.config = i;
    }
    throw e;
  }
}

// Mean and population standard deviation, accumulated in double; null when any value is null.
function meanAndStd(v) {
  if (v.some((x) => x === null || !Number.isFinite(x))) return { mean: null, std: null };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std };
}

// How the range was chosen: { method, rangeMin, rangeMax, … the method's diagnostics }.
function calibrationOf(r) {
  const c = r.calibration;
  const out = { method: c.method, rangeMin: c.rangeMin, rangeMax: c.rangeMax };
  if (c.method === 'percentile' || c.method === 'mse') out.percentile = c.percentile;
  if (c.method === 'mse') {
    out.rangeFactor = c.threshold; // the chosen range as a fraction of the min-max range
    out.exactCandidates = c.exactCandidates;
    out.curve = { rangeFactor: r.curveThreshold.slice(), estimatedMse: r.curveValue.slice() };
  }
  if (c.method === 'entropy') {
    out.threshold = c.threshold;
    out.divergence = c.divergence;
    out.curve = { threshold: r.curveThreshold.slice(), divergence: r.curveValue.slice() };
  }
  return out;
}

// { name, label, bits, exponentBits, mantissaBits, bias, specials, max, minNormal, minSubnormal,
// nanCode, infCode, block, source } (null where the format has no such thing), plus after an
// analysis tensorScale, overflowCount, underflowCount and subnormalCount.
function formatOf(f) {
  const out = {};
  for (const [k, v] of Object.entries(f)) out[k] = nullIfNaN(v);
  if (out.block === 0) out.block = null;
  return out;
}

function blocksOf(r) {
  if (r.ggml) return ggmlBlocksOf(r);
  const scale = r.blockScales.slice();
  if (scale.length === 0) return null;
  return { scale, code: r.blockCodes.slice() };
}

// ggml's types: the bytes as ggml writes them and each block's fields (null where the type has none).
function ggmlBlocksOf(r) {
  const g = r.ggml;
  const some = (a) => (a.length ? a.slice() : null);
  return {
    type: g.type,
    bytes: g.bytes.slice(),
    bitsPerWeight: g.bitsPerWeight,
    blockSize: g.blockSize,
    blockBytes: g.blockBytes,
    count: g.count,
    subBlockSize: g.subBlockSize,
    scale: some(r.blockScales), // each block's d as stored (NVFP4: null, its scales are per sub-block)
    code: some(r.blockCodes), // d's stored bits (float16, or MXFP4's E8M0 byte)
    min: some(g.min), // dmin (K-quants) or m (q4_1, q5_1)
    subScale: some(g.subScale), // per sub-block: d·sc (q3_k, iq4_xs: d·(sc − 32); nvfp4: its UE4M3 scale)
    subScaleCode: some(g.subScaleCode), // sc as stored: 4-bit (q2_k), 6-bit, int8 (q6_k), UE4M3 (nvfp4)
    subMin: some(g.subMin), // dmin·m
    subMinCode: some(g.subMinCode),
    codesUsed: g.codesUsed.slice(), // distinct codes in each block
  };
}

const GROUP_FIELDS = ['scale', 'zeroPoint', 'rangeMin', 'rangeMax', 'sumSquaredError', 'sumSquaredSignal', 'clipCount', 'maxAbsError'];

// { scale, zeroPoint, rangeMin, rangeMax, sumSquaredError, sumSquaredSignal, clipCount, maxAbsError }:
// Float64Arrays over one copied buffer, in the core's order; `count`, the samples in each channel
// or group (all hold the same number); `finiteCount`, the values measured in each (count less the
// NaN and ±Inf skipped: the whole core reports them, the first module never skips).
function groupColumnsOf(r, samples) {
  const n = r.groupCount;
  const all = r.groupColumns.slice();
  const columns = { count: samples / n, finiteCount: r.groupCounts ? r.groupCounts.slice() : new Float64Array(n).fill(samples / n) };
  GROUP_FIELDS.forEach((k, f) => {
    columns[k] = all.subarray(f * n, (f + 1) * n);
  });
  return columns;
}

// SQNR in dB from the sums, as the core computes it for the tensor (null for a zero signal).
const sqnrOf = (x2, e2) => (x2 === 0 ? null : e2 === 0 ? Infinity : 10 * Math.log10(x2 / e2));

// [{ index, scale, zeroPoint, rangeMin, rangeMax, metrics: { count, mse, sqnrDb, clipCount, clipRate, maxAbsError } }],
// the metrics over each one's finite values (null where it has none).
function groupsFromColumns(f) {
  return Array.from({ length: f.scale.length }, (_, i) => {
    const count = f.finiteCount[i];
    return {
      index: i,
      scale: f.scale[i],
      zeroPoint: f.zeroPoint[i],
      rangeMin: f.rangeMin[i],
      rangeMax: f.rangeMax[i],
      metrics: { count, mse: nullIfNaN(f.sumSquaredError[i] / count), sqnrDb: count ? sqnrOf(f.sumSquaredSignal[i], f.sumSquaredError[i]) : null,
        clipCount: f.clipCount[i], clipRate: nullIfNaN(f.clipCount[i] / count), maxAbsError: nullIfNaN(f.maxAbsError[i]) },
    };
  });
}

const NO_NON_FINITE = Object.freeze({ nan: 0, posInf: 0, negInf: 0 });

function chartsOf(r) {
  const h = r.charts;
  return {
    buckets: { xMin: h.xMin.slice(), xMax: h.xMax.slice(), xhatMin: h.xhatMin.slice(), xhatMax: h.xhatMax.slice(),
      errMin: h.errMin.slice(), errMax: h.errMax.slice() },
    valueHistogram: { lo: h.valueLo, hi: h.valueHi, counts: h.valueCounts.slice() },
    errorHistogram: { lo: h.errorLo, hi: h.errorHi, counts: h.errorCounts.slice() },
  };
}

// An analysis's result (r: the core's, whose arrays are views into the wasm heap that the caller
// releases after this) for `samples` values; keep: copy the per-sample arrays and charts out too.
function resultOf(r, o, samples, keep) {
  const m = r.metrics;
  for (const key of Object.keys(m)) m[key] = nullIfNaN(m[key]);
  if (r.ggml) {
    // Importance-weighted (null without importance weights): Σw·e² / Σw and 10·log10(Σw·x² / Σw·e²).
    m.weightedMse = nullIfNaN(r.ggml.weightedMse);
    m.weightedSqnrDb = nullIfNaN(r.ggml.weightedSqnrDb);
  }
  const params = { scale: r.scale, zeroPoint: r.zeroPoint, qmin: r.qmin, qmax: r.qmax, rangeMin: r.rangeMin, rangeMax: r.rangeMax };
  const grouped = o.granularity !== 'tensor';
  const columns = grouped ? groupColumnsOf(r, samples) : null;
  let groups = null;
  return {
    ...params,
    // Per channel or group there is no one scale or zero point: see `groups`.
    scale: grouped ? null : params.scale,
    zeroPoint: grouped ? null : params.zeroPoint,
    // The same numbers as typed arrays, one entry per channel or group (cheap for 100k groups).
    groupColumns: columns,
    // As objects, built on first read (a copy of the result built by spreading reads it too).
    get groups() {
      if (columns && !groups) groups = groupsFromColumns(columns);
      return groups;
    },
    options: o,
    codes: keep ? r.codes.slice() : null,
    dequantized: keep ? r.dequantized.slice() : null,
    errors: keep ? r.errors.slice() : null,
    clipped: keep ? r.clipped.slice() : null,
    metrics: m,
    // nonFinite: 'skip': the NaN, +Inf and −Inf samples passed over (metrics.count is the others).
    nonFinite: r.nonFinite ?? { ...NO_NON_FINITE },
    calibration: calibrationOf(r),
    // Profile 'onnx', a uint8 tensor: the parameters of ONNX Runtime's two paths (null otherwise).
    onnx: r.onnxParams ? {
      quantizeLinear: { scale: r.onnxParams.quantizeLinearScale, zeroPoint: r.onnxParams.quantizeLinearZeroPoint },
      dynamicQuantizeLinear: { scale: r.onnxParams.dynamicScale, zeroPoint: r.onnxParams.dynamicZeroPoint },
    } : null,
    // Float and block formats: the format's definition and counts; each block's scale.
    format: o.format === 'int' ? null : formatOf(r.format),
    blocks: o.format === 'int' ? null : blocksOf(r),
    charts: keep && (o.chartBuckets > 0 || o.histogramBins > 0) ? chartsOf(r) : null,
  };
}

/** Whether options need the whole core: a float or block format (llama.cpp's types too), a runtime profile, importance weights, nonFinite: 'skip' or an MX scale rounding other than 'floor'. */
export function needsFullModule(options) {
  return (
    (options?.format ?? 'int') !== 'int' ||
    (options?.profile ?? 'formula') !== 'formula' ||
    (options?.importance ?? null) !== null ||
    options?.nonFinite === 'skip' ||
    (options?.mxScale ?? 'floor') !== 'floor' ||
    isList(options?.scale) || isList(options?.zeroPoint)
  );
}

// In the first module: the error that says `what` needs the whole core.
function notInFirst(module, what, field) {
  if (module === 'first') fail(`${what} are in the whole core, not the first module: createQuantizer({ module: 'full' })`, field);
}

function checkModule(module, o) {
  if (o.format !== 'int') notInFirst(module, 'Float and block formats', 'format');
  if (o.profile !== 'formula') notInFirst(module, 'Runtime profiles', 'profile');
  if (o.importance !== null) notInFirst(module, 'Importance weights', 'importance');
  if (o.nonFinite === 'skip') notInFirst(module, 'Analyses that skip NaN and infinite values (nonFinite: \'skip\')', 'nonFinite');
  if (o.mxScale !== 'floor') notInFirst(module, 'The MX formats\' scale roundings', 'mxScale');
  if (isList(o.scale)) notInFirst(module, 'Lists of scales per channel or group', 'scale');
  if (isList(o.zeroPoint)) notInFirst(module, 'Lists of zero points per channel or group', 'zeroPoint');
}

class Quantizer {
  #mod;

  constructor(mod, module) {
    this.#mod = mod;
    /** Whether this build runs the wasm_simd128 kernels. */
    this.simd = mod.simdAvailable();
    /** 'full' (the whole core) or 'first' (the small first module). */
    this.module = module;
  }

  /** Pasted text → Float64Array, exactly as typed. Throws a QuantizerError naming the sample. */
  parseValues(text) {
    return this.inspectValues(text).values;
  }

  /**
   * Pasted text → { values, notes }: the values as parseValues reads them, and what to tell about
   * them: [{ code, index, message }] (see VALUE_NOTES), each code at most once.
   */
  inspectValues(text) {
    if (typeof text !== 'string') fail('Sample text must be a string', 'values');
    // The text's UTF-8 bytes go into a checked block (embind's own string copy does not check).
    const bytes = new TextEncoder().encode(text);
    const ptr = allocate(this.#mod, bytes.length, `the sample text (${bytes.length.toLocaleString('en')} bytes)`, 'values');
    let r;
    try {
      this.#mod.HEAPU8.set(bytes, ptr);
      r = this.#mod.parseValues(ptr, bytes.length);
    } finally {
      this.#mod._free(ptr);
    }
    try {
      if (!r.ok) throw fromCoreError(r.error);
      const values = r.values.slice();
      const notes = Object.entries(r.notes).map(([code, index]) => ({ code, index, message: VALUE_NOTES[code](index, values) }));
      return { values, notes };
    } finally {
      this.#mod.release();
    }
  }

  /** Quantizes the samples and measures the error; see DEFAULT_OPTIONS for the options. */
  analyze(values, options) {
    const samples = this.load(values);
    try {
      return samples.analyze(options);
    } finally {
      samples.delete();
    }
  }

  /**
   * Each configuration on the same samples: one result per entry of `list` (options as for
   * `analyze`), with every metric but without per-sample arrays or charts. A bad configuration
   * throws a QuantizerError whose `config` is its 0-based position in `list`.
   */
  compare(values, list) {
    return this.#withSamples(values, (s) => s.compare(list));
  }

  /**
   * SQNR, MSE and every other metric at each bit depth from `from` to `to` (default 2..16), the
   * other options as given: [{ bits, metrics }].
   */
  sweepBits(values, options, range) {
    return this.#withSamples(values, (s) => s.sweepBits(options, range));
  }

  /**
   * Stochastic rounding over `trials` seeds (options.seed, options.seed + 1, …) beside
   * round-half-to-even with the same range: the bias (mean error) of each trial and its spread.
   */
  stochasticTrials(values, options, settings) {
    return this.#withSamples(values, (s) => s.stochasticTrials(options, settings));
  }

  #withSamples(values, fn) {
    const samples = this.load(values);
    try {
      return fn(samples);
    } finally {
      samples.delete();
    }
  }

  /**
   * Copies the samples into the wasm heap once, for many analyses of the same tensor (compare,
   * sweeps). Call `.delete()` when done.
   */
  load(values) {
    return new Samples(this.#mod, toSamples(values), this.module);
  }

  /**
   * A format's definition ({ name, label, bits, exponentBits, mantissaBits, bias, specials, max,
   * minNormal, minSubnormal, nanCode, infCode, block, source }) and, for formats with at most
   * 2^16 codes, `values`: every code's value (a Float64Array indexed by code; NaN for NaN codes).
   */
  describeFormat(options) {
    notInFirst(this.module, 'Format definitions', 'format');
    const o = normalizeOptions(options);
    const d = this.#mod.describeFormat(toCoreOptions(o));
    if (!d.ok) throw fromCoreError(d.error);
    const values = this.#mod.formatValues(toCoreOptions(o)).slice();
    return { ...formatOf(d.format), values: values.length ? values : null };
  }

  /**
   * A tensor file's header: `kind` 'npy', 'safetensors' or 'gguf', `bytes` its first bytes (a Uint8Array),
   * `fileSize` the whole file's. Returns { need } when more leading bytes are needed, else
   * { tensors: [{ name, dtype, fileDtype, bigEndian, fortranOrder, shape, offset, count, bytes,
   * skipped }] }; a malformed header throws a QuantizerError (field 'file').
   */
  tensorHeader(kind, bytes, fileSize) {
    if (kind !== 'npy' && kind !== 'safetensors' && kind !== 'gguf') fail(`Unknown tensor file kind "${kind}"`, 'file');
    notInFirst(this.module, 'Tensor file readers', 'file');
    if (!(bytes instanceof Uint8Array)) fail('The header bytes must be a Uint8Array', 'file');
    if (!Number.isSafeInteger(fileSize) || fileSize < bytes.length) {
      fail(`The file size must be a whole number of bytes, at least the ${bytes.length} given (got ${String(fileSize)})`, 'file');
    }
    const ptr = allocate(this.#mod, bytes.length, `the file's first ${bytes.length.toLocaleString('en')} bytes`, 'file');
    try {
      this.#mod.HEAPU8.set(bytes, ptr);
      // More bytes are asked for only when the file has them: a header that says it runs past
      // the file's end is the reader's error to tell.
      const need = this.#mod.tensorHeaderBytes(kind, ptr, bytes.length, fileSize);
      if (need > bytes.length && bytes.length < fileSize) return { need };
      const r = this.#mod.readTensorHeader(kind, ptr, bytes.length, fileSize);
      if (!r.ok) fail(r.error, 'file');
      if (r.need > bytes.length) return { need: r.need };
      return r.metadata ? { tensors: r.tensors, metadata: r.metadata } : { tensors: r.tensors };
    } finally {
      this.#mod._free(ptr);
    }
  }

  /**
   * A tensor too large to hold at once, analysed from chunks read in passes (every option analyze()
   * takes: calibrations add passes of their own):
   *   const st = qz.stream(options);
   *   while (!st.done) {                   // st.pass: 'range', 'calibration' or 'quantization'
   *     for (const c of chunks) st.add(c); // every pass: the same chunks in the same order
   *     st.next();
   *   }
   *   const r = st.finish(); st.delete(); // { scale, zeroPoint, …, metrics, calibration, groups }
   * Chunks are Float32Array or Float64Array (block formats: whole blocks but the last). The result
   * equals analyze() of the whole tensor with perSample: false (sums to about 1e-15 relative).
   */
  stream(options) {
    notInFirst(this.module, 'Streamed analyses', 'values');
    return new TensorStream(this.#mod, normalizeOptions(options));
  }

  /**
   * ggml's dequantization (the type's to_float, bit for bit) of whole blocks of one of llama.cpp's
   * types: `type` a GGML_TYPES name, or 'mxfp4' / 'nvfp4' for ggml's variants (GGUF types 39 and
   * 40); `bytes` a Uint8Array of blocks as a GGUF file stores them. Returns a Float32Array.
   */
  dequantizeGgml(type, bytes) {
    notInFirst(this.module, 'ggml\'s types', 'type');
    if (typeof type !== 'string') fail('The type must be a string, such as "q4_k"', 'type');
    if (!(bytes instanceof Uint8Array)) fail('The blocks must be a Uint8Array', 'bytes');
    const ptr = allocate(this.#mod, bytes.length, `these blocks (${bytes.length.toLocaleString('en')} bytes)`, 'bytes');
    try {
      this.#mod.HEAPU8.set(bytes, ptr);
      const r = this.#mod.dequantizeGgml(type, ptr, bytes.length);
      try {
        if (!r.ok) throw fromCoreError(r.error);
        return r.values.slice();
      } finally {
        this.#mod.release();
      }
    } finally {
      this.#mod._free(ptr);
    }
  }

  /**
   * An importance-matrix file (llama-imatrix's imatrix.gguf, or its legacy .dat) from all its
   * bytes: { format: 'gguf' | 'dat', chunks (null when the file does not say), dataset,
   * entries: [{ name, matrices, calls, importance: Float32Array }] }, importance per column (and
   * per matrix, experts one after another) as llama-quantize computes it: in_sum2 / counts (legacy:
   * the values / ncall), in float32. A truncated or lying file throws (field 'imatrix').
   */
  readImatrix(bytes) {
    notInFirst(this.module, 'imatrix files', 'imatrix');
    if (!(bytes instanceof Uint8Array)) fail('The imatrix file must be a Uint8Array of its bytes', 'imatrix');
    const ptr = allocate(this.#mod, bytes.length, `the imatrix file (${bytes.length.toLocaleString('en')} bytes)`, 'imatrix');
    try {
      this.#mod.HEAPU8.set(bytes, ptr);
      const r = this.#mod.readImatrix(ptr, bytes.length);
      try {
        if (!r.ok) throw fromCoreError(r.error);
        return { format: r.format, chunks: r.chunks < 0 ? null : r.chunks, dataset: r.dataset,
          entries: r.entries.map((e) => ({ name: e.name, matrices: e.matrices, calls: e.calls, importance: e.importance.slice() })) };
      } finally {
        this.#mod.releaseImatrix();
      }
    } finally {
      this.#mod._free(ptr);
    }
  }

  /**
   * The importance of one tensor ({ name, shape }, as tensorHeader lists it) from readImatrix's
   * result: a Float32Array (one weight per column, times the matrices of a 3-D expert tensor), or
   * null when the imatrix has no entry of that name; an entry of another length throws (field 'imatrix').
   */
  importanceFor(imatrix, tensor) {
    if (!imatrix) return null;
    if (!Array.isArray(imatrix.entries)) fail('The imatrix must be what readImatrix() returns', 'imatrix');
    const e = imatrix.entries.find((k) => k.name === tensor.name);
    if (!e) return null;
    const shape = tensor.shape ?? [];
    const perRow = shape.length ? shape[shape.length - 1] : 1;
    const matrices = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    if (e.importance.length !== perRow * matrices) {
      fail(`imatrix entry "${tensor.name}" holds ${e.importance.length} weights; tensor [${shape.join(', ')}] needs ${perRow} per column`
        + `${matrices > 1 ? ` × ${matrices} matrices` : ''} (is the imatrix from another model?)`, 'imatrix');
    }
    return e.importance;
  }

  /**
   * Two files' tensors (tensorHeader's lists) matched by name, in the quantized file's order:
   * { pairs: [{ original, quantized, error }] (indices; error: other shapes, or a side not read),
   * onlyOriginal, onlyQuantized } (names).
   */
  matchTensors(original, quantized) {
    notInFirst(this.module, 'Comparing files', 'file');
    if (!Array.isArray(original) || !Array.isArray(quantized)) fail('matchTensors takes two lists of tensors (tensorHeader\'s)', 'file');
    return this.#mod.matchTensors(original, quantized);
  }

  /**
   * One tensor of a quantized file against the same tensor of its original, fed as the files' raw
   * bytes in chunks of whole rows, pass after pass (the percentiles of |e| take several):
   *   const c = qz.tensorComparison(originalTensor, quantizedTensor, { importance });
   *   while (!c.done) {
   *     for (const [a, b, rows] of chunks) c.add(a, b, rows); // c.originalRowBytes, c.quantizedRowBytes per row
   *     c.next();
   *   }
   *   const r = c.finish(); c.delete();
   * The tensors are tensorHeader's entries (the original F32, F16, BF16 or a ggml type; the
   * quantized one F32, F16, BF16 or a ggml type). r: { metrics (every metric of x̂ against x, e =
   * x − x̂; weightedMse and weightedSqnrDb with importance), sumSquares, requantized: { unit
   * ('blocks' or 'values'), compared, differing, firstDiffering, withImportance }, verdict }:
   * whether re-quantizing the original with the file's type (and importance) gives its bytes.
   */
  tensorComparison(original, quantized, { importance = null } = {}) {
    notInFirst(this.module, 'Comparing files', 'file');
    return new TensorComparisonStream(this.#mod, original, quantized, importance);
  }

  /** tensorComparison over a whole tensor's bytes at once: the same result. */
  compareTensor(original, quantized, originalBytes, quantizedBytes, options = {}) {
    const c = this.tensorComparison(original, quantized, options);
    try {
      while (!c.done) {
        c.add(originalBytes, quantizedBytes, c.rows);
        c.next();
      }
      return c.finish();
    } finally {
      c.delete();
    }
  }

  /**
   * A quantized file against its float original: `original` and `quantized` are Blobs (Files) or
   * Uint8Arrays of .gguf, .safetensors or .npy files; each is read tensor by tensor, in chunks of
   * rows (a file is never read whole). Options: imatrix (readImatrix's result), onTensor(row, k,
   * total) after each tensor, chunkValues (values per chunk, 2^22). Returns { tensors: [{ name,
   * dtype, originalDtype, shape, count, bytes, bitsPerWeight, metrics, requantized, verdict, error }],
   * onlyOriginal, onlyQuantized, summary: { tensors, compared, identical, values, bytes,
   * bitsPerWeight, mse, sqnrDb } } (the summary weighted by size). A tensor that cannot be
   * compared keeps its error in its row.
   */
  async compareFiles(original, quantized, { imatrix = null, onTensor = null, chunkValues = 1 << 22 } = {}) {
    notInFirst(this.module, 'Comparing files', 'file');
    const a = await fileHeader(this, original, 'original'), b = await fileHeader(this, quantized, 'quantized');
    const m = this.matchTensors(a.tensors, b.tensors);
    const rows = [];
    for (const [k, p] of m.pairs.entries()) {
      const ta = a.tensors[p.original], tb = b.tensors[p.quantized];
      const row = { name: tb.name, dtype: tb.skipped ? tb.fileDtype : tb.dtype, originalDtype: ta.skipped ? ta.fileDtype : ta.dtype, shape: tb.shape,
        count: tb.count, bytes: tb.skipped ? 0 : tb.bytes, bitsPerWeight: tb.skipped || !tb.count ? null : (8 * tb.bytes) / tb.count, error: p.error };
      if (!row.error) {
        try {
          Object.assign(row, await compareChunks(this, original, ta, quantized, tb, this.importanceFor(imatrix, ta), chunkValues));
        } catch (e) {
          if (!(e instanceof QuantizerError)) throw e;
          row.error = e.message;
        }
      }
      rows.push(row);
      if (onTensor) onTensor(row, k, m.pairs.length);
    }
    return { tensors: rows, onlyOriginal: m.onlyOriginal, onlyQuantized: m.onlyQuantized, summary: compareSummary(rows) };
  }

  /**
   * llama-quantize's types for a file's tensors under one of RECIPES: `header` is tensorHeader's
   * result for a GGUF file ({ tensors, metadata }: the architecture, block_count, expert_count and
   * head counts it reads; without metadata the layers come from the blk.N names). Returns
   * { recipe, facts: { architecture, layers, experts, gqa }, tensors: [{ name, type (a GGML_TYPES
   * name, 'float16' for llama-quantize's last fallback, or null: kept as it is), kept (why),
   * note (a fallback), error (where llama-quantize itself stops), bytes, bitsPerWeight }],
   * bytes, bitsPerWeight } (the file as the recipe writes it).
   */
  recipeTypes(recipe, header, { imatrix = null } = {}) {
    notInFirst(this.module, 'Recipes', 'recipe');
    if (!RECIPES.includes(String(recipe).toLowerCase())) fail(`Unknown recipe "${recipe}": ${RECIPES.join(', ')}`, 'recipe');
    if (!header || !Array.isArray(header.tensors)) fail('recipeTypes takes tensorHeader\'s result ({ tensors, metadata })', 'file');
    const r = this.#mod.recipeTypes(String(recipe).toLowerCase(), header.tensors, header.metadata ?? null, Boolean(imatrix));
    if (!r.ok) throw fromCoreError(r.error);
    let bytes = 0, values = 0;
    const tensors = r.tensors.map((c, i) => {
      const t = header.tensors[i];
      const type = c.type && c.type !== 'float16' ? this.describeFormat({ format: c.type }) : null;
      const size = c.error || t.skipped ? null : c.type === 'float16' ? 2 * t.count : type ? (t.count / type.block) * type.blockBytes : t.bytes;
      if (size !== null) bytes += size, values += t.count;
      return { name: t.name, type: c.type, kept: c.kept, note: c.note, error: c.error, bytes: size, bitsPerWeight: size !== null && t.count ? (8 * size) / t.count : null };
    });
    return { recipe: r.recipe, facts: r.facts, tensors, bytes, bitsPerWeight: values ? (8 * bytes) / values : null };
  }

  /**
   * Through a layer: Y = X·Wᵀ with each side quantized by its own scheme (or left float), the
   * output's error and its parts, the integer accumulator, the requantized output codes by each
   * runtime's path and why they differ, and optionally a second layer after an activation
   * function. See DEFAULT_LAYER_OPTIONS and docs/api.md ("Through a layer").
   */
  layer(options) {
    notInFirst(this.module, 'Layer analyses', 'options');
    const o = normalizeLayerOptions(options);
    const tensors = [o.weights, o.activations, o.next ? o.next.weights : new Float64Array(0)];
    const ptrs = [];
    try {
      for (const t of tensors) {
        const ptr = allocate(this.#mod, t.byteLength, `${t.length.toLocaleString('en')} values`, 'weights');
        ptrs.push(ptr);
        (t instanceof Float32Array ? this.#mod.HEAPF32 : this.#mod.HEAPF64).set(t, ptr / t.BYTES_PER_ELEMENT);
      }
      const core = {
        weightShape: o.weightShape, activationShape: o.activationShape, ...toCoreLayer(o), kernel: o.kernel, maxDifferences: o.maxDifferences,
        next: o.next && { weightShape: o.next.weightShape, activation: o.next.activation, ...toCoreLayer(o.next), kernel: o.kernel,
          maxDifferences: o.maxDifferences },
      };
      const args = tensors.flatMap((t, i) => [ptrs[i], t.length, t instanceof Float32Array]);
      const r = this.#mod.layer(...args, core);
      if (!r.ok) throw fromCoreError(r.error);
      const out = layerResultOf(r, o, o.weights.length, o.activations.length);
      out.options = o;
      out.next = null;
      if (r.next) {
        const n = r.next;
        const second = layerResultOf(n.layer, o.next, o.next.weights.length, o.activations.length / o.activationShape[1] * o.weightShape[0]);
        out.next = {
          activation: n.activation,
          layer: second,
          propagated: { energy: n.propagatedEnergy, sqnrDb: nullIfNaN(n.propagatedSqnrDb) },
          local: { energy: n.localEnergy, sqnrDb: nullIfNaN(n.localSqnrDb) },
          total: { energy: n.totalEnergy, sqnrDb: second.metrics.sqnrDb },
        };
      }
      return out;
    } finally {
      for (const ptr of ptrs) this.#mod._free(ptr);
      this.#mod.release();
    }
  }

  /**
   * TensorFlow Lite's QuantizeMultiplier of a real multiplier M = s_x·s_w/s_y: { multiplier, shift }
   * with M ≈ multiplier · 2^(shift − 31) and multiplier in [2^30, 2^31) (or 0).
   */
  quantizeMultiplier(real) {
    notInFirst(this.module, 'Fixed-point multipliers', 'multiplier');
    if (typeof real !== 'number' || !Number.isFinite(real) || real < 0) fail('The real multiplier must be a finite number ≥ 0', 'multiplier');
    return this.#mod.quantizeMultiplier(real);
  }

  /** TensorFlow Lite's MultiplyByQuantizedMultiplier of one int32 sum (two roundings, bit for bit). */
  multiplyByQuantizedMultiplier(acc, { multiplier, shift }) {
    notInFirst(this.module, 'Fixed-point multipliers', 'multiplier');
    if (!Number.isInteger(acc) || acc < -(2 ** 31) || acc >= 2 ** 31) fail('The sum must be an int32', 'acc');
    if (!Number.isInteger(multiplier) || multiplier < 0 || multiplier >= 2 ** 31) fail('The multiplier must be in [0, 2^31)', 'multiplier');
    if (!Number.isInteger(shift) || shift < -31 || shift > 30) fail('The shift must be a whole number from −31 to 30', 'shift');
    return this.#mod.multiplyByQuantizedMultiplier(acc, multiplier, shift);
  }

  /** Bytes the wasm allocator holds for live objects (a leak shows as growth). */
  heapInUse() {
    return this.#mod.heapInUse();
  }
}

// ---- Comparing files --------------------------------------------------------------------------

const bytesOf = async (src, start, end) => (src instanceof Uint8Array ? src.subarray(start, end)
  : new Uint8Array(await src.slice(start, end).arrayBuffer()));

// A file's header, grown until it fits: the kind from the name or the first bytes.
async function fileHeader(qz, src, field) {
  if (!(src instanceof Uint8Array) && !(src && typeof src.slice === 'function' && typeof src.size === 'number')) {
    fail(`The ${field} file must be a Blob, a File or a Uint8Array`, 'file');
  }
  const size = src instanceof Uint8Array ? src.length : src.size;
  const head = await bytesOf(src, 0, Math.min(size, 8));
  const magic = String.fromCharCode(...head.subarray(0, 4));
  const name = src.name ?? '';
  const kind = magic === 'GGUF' || /\.gguf$/i.test(name) ? 'gguf' : head[0] === 0x93 && magic.slice(1) === 'NUM' ? 'npy' : 'safetensors';
  let have = Math.min(size, kind === 'npy' ? 12 : kind === 'safetensors' ? 8 : 1 << 20);
  for (let tries = 0; tries < 16; tries++) {
    let r;
    try {
      r = qz.tensorHeader(kind, await bytesOf(src, 0, have), size);
    } catch (e) {
      if (!(e instanceof QuantizerError)) throw e;
      throw new QuantizerError(`The ${field} file${name ? ` (${name})` : ''}: ${e.message}`, 'file');
    }
    if (r.tensors) return { ...r, tensors: r.tensors.map((t) => ({ ...t, name: t.name || name || field })) };
    have = Math.min(size, r.need);
  }
  fail(`The ${field} file's header could not be read`, 'file');
}

async function compareChunks(qz, fa, ta, fb, tb, importance, chunkValues) {
  const c = qz.tensorComparison(ta, tb, { importance });
  try {
    const rows = Math.max(1, Math.floor(chunkValues / Math.max(1, c.rowValues)));
    while (!c.done) {
      for (let r = 0; r < c.rows; r += rows) {
        const n = Math.min(rows, c.rows - r);
        const a = await bytesOf(fa, ta.offset + r * c.originalRowBytes, ta.offset + (r + n) * c.originalRowBytes);
        const b = await bytesOf(fb, tb.offset + r * c.quantizedRowBytes, tb.offset + (r + n) * c.quantizedRowBytes);
        if (a.length !== n * c.originalRowBytes || b.length !== n * c.quantizedRowBytes) fail(`Tensor "${tb.name}": the file ends before its data`, 'file');
        c.add(a, b, n);
      }
      c.next();
    }
    return c.finish();
  } finally {
    c.delete();
  }
}

// What a comparison says of the re-quantization.
function verdictOf(q, dtype) {
  const with_ = q.withImportance ? ' (re-quantized with the imatrix)' : '';
  if (q.differing === 0) return q.unit === 'blocks' ? `identical to llama.cpp's reference quantizer${with_}` : `identical values (${dtype} of the original)`;
  return `${q.differing.toLocaleString('en')} of ${q.compared.toLocaleString('en')} ${q.unit} differ${with_}`;
}

/** The size-weighted summary of compared rows ({ count, bytes, metrics, sumSquares, requantized }). */
export function compareSummary(rows) {
  const ok = rows.filter((r) => r.metrics);
  const n = ok.reduce((a, r) => a + r.count, 0), bytes = ok.reduce((a, r) => a + r.bytes, 0);
  const e2 = ok.reduce((a, r) => a + r.metrics.mse * r.count, 0), x2 = ok.reduce((a, r) => a + r.sumSquares, 0);
  return { tensors: rows.length, compared: ok.length, identical: ok.filter((r) => r.requantized.differing === 0).length, values: n, bytes,
    bitsPerWeight: n ? (8 * bytes) / n : null, mse: n ? e2 / n : null, sqnrDb: x2 === 0 ? null : e2 === 0 ? Infinity : 10 * Math.log10(x2 / e2) };
}

class TensorComparisonStream {
  #mod;
  #c;
  #quantized;

  constructor(mod, original, quantized, importance) {
    for (const [t, what] of [[original, 'original'], [quantized, 'quantized']]) {
      if (!t || typeof t !== 'object' || !Array.isArray(t.shape) || typeof t.dtype !== 'string') fail(`The ${what} tensor must be one of tensorHeader's entries`, 'file');
    }
    if (importance !== null && !(importance instanceof Float32Array)) fail('Importance must be a Float32Array (one weight per column) or null', 'importance');
    this.#mod = mod;
    this.#quantized = quantized;
    const ptr = importance ? allocate(mod, importance.byteLength, 'the importance weights', 'importance') : 0;
    try {
      if (importance) mod.HEAPU8.set(new Uint8Array(importance.buffer, importance.byteOffset, importance.byteLength), ptr);
      this.#c = new mod.TensorComparison(original, quantized, ptr, importance ? importance.length : -1);
    } finally {
      if (ptr) mod._free(ptr);
    }
    if (!this.#c.ok()) {
      const e = this.#c.error();
      this.#c.delete();
      throw fromCoreError(e);
    }
    this.rows = this.#c.rows();
    this.rowValues = this.#c.rowValues();
    this.originalRowBytes = this.#c.originalRowBytes();
    this.quantizedRowBytes = this.#c.quantizedRowBytes();
  }

  get done() {
    return this.#c.done();
  }

  get passes() {
    return this.#c.passes();
  }

  /** `rows` whole rows: the original's and the quantized file's bytes of them (Uint8Arrays). */
  add(original, quantized, rows) {
    if (!(original instanceof Uint8Array) || !(quantized instanceof Uint8Array)) fail('A chunk is two Uint8Arrays: the original\'s bytes and the quantized file\'s', 'file');
    if (!Number.isSafeInteger(rows) || rows < 1) fail(`A chunk holds a whole number of rows, at least 1 (got ${String(rows)})`, 'file');
    if (original.length !== rows * this.originalRowBytes || quantized.length !== rows * this.quantizedRowBytes) {
      fail(`${rows} rows take ${rows * this.originalRowBytes} bytes of the original and ${rows * this.quantizedRowBytes} of the quantized file `
        + `(got ${original.length} and ${quantized.length})`, 'file');
    }
    const pa = allocate(this.#mod, original.length, 'a chunk of the original', 'file');
    let pb = 0;
    try {
      pb = allocate(this.#mod, quantized.length, 'a chunk of the quantized file', 'file');
      this.#mod.HEAPU8.set(original, pa);
      this.#mod.HEAPU8.set(quantized, pb);
      if (!this.#c.add(pa, pb, rows)) throw fromCoreError(this.#c.error());
    } finally {
      this.#mod._free(pa);
      if (pb) this.#mod._free(pb);
    }
  }

  next() {
    this.#c.next();
  }

  finish() {
    const r = this.#c.finish();
    const metrics = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, nullIfNaN(v)]));
    delete metrics.clipCount;
    delete metrics.clipRate;
    const requantized = { ...r.requantized, firstDiffering: r.requantized.firstDiffering < 0 ? null : r.requantized.firstDiffering };
    return { metrics, sumSquares: r.sumSquares, requantized, verdict: verdictOf(requantized, this.#quantized.dtype) };
  }

  delete() {
    if (this.#c) this.#c.delete();
    this.#c = null;
  }
}

class TensorStream {
  #mod;
  #h;
  #o;
  #count = 0; // values in the current pass

  // The core's stream, or the QuantizerError of a deleted one.
  get #handle() {
    if (!this.#h) fail('This stream was deleted', 'values');
    return this.#h;
  }

  constructor(mod, o) {
    this.#mod = mod;
    this.#o = { ...o, perSample: false };
    if (o.importance !== null) fail("Importance weights are for ggml's types, which are analysed whole, not streamed: use analyze()", 'importance');
    for (const key of ['scale', 'zeroPoint']) {
      if (isList(o[key])) fail(`A list of ${key === 'scale' ? 'scales' : 'zero points'} per channel or group is analyze()'s, not a stream's`, key);
    }
    this.#h = new mod.Stream(toCoreOptions(this.#o));
    if (!this.#h.ok()) {
      const e = fromCoreError(this.#h.error());
      this.#h.delete();
      throw e;
    }
  }

  // The chunk copied into the heap for one call.
  #with(chunk, call) {
    const x = toSamples(chunk);
    const f32 = x instanceof Float32Array;
    const ptr = allocate(this.#mod, x.byteLength, `a chunk of ${x.length.toLocaleString('en')} values`, 'values');
    try {
      (f32 ? this.#mod.HEAPF32 : this.#mod.HEAPF64).set(x, ptr / x.BYTES_PER_ELEMENT);
      return call(ptr, x.length, f32);
    } finally {
      this.#mod._free(ptr);
    }
  }

  /** One chunk of the current pass. */
  add(chunk) {
    const h = this.#handle;
    const x = toSamples(chunk);
    if (!this.#with(x, (p, n, f32) => h.add(p, n, f32))) throw fromCoreError(h.error());
    this.#count += x.length;
  }

  /** Ends the pass. */
  next() {
    const h = this.#handle;
    if (!h.next()) throw fromCoreError(h.error());
    if (!h.done()) this.#count = 0;
  }

  /** Whether every pass is done (then finish()). */
  get done() {
    return this.#handle.done();
  }

  /** What the current pass is for: 'range', 'calibration' or 'quantization' ('done' after the last). */
  get pass() {
    return this.#handle.pass();
  }

  /** Passes so far, the current one included. */
  get passes() {
    return this.#handle.passes();
  }

  /** The result, as analyze() gives it with perSample: false. */
  finish() {
    const h = this.#handle;
    if (!h.done()) fail(`The stream is in its ${h.pass()} pass: finish() comes after the last`, 'values');
    const r = h.finish();
    try {
      return resultOf(r, this.#o, this.#count, false);
    } finally {
      this.#mod.release();
    }
  }

  /** Lets go of the stream's memory (a second call does nothing). */
  delete() {
    this.#h?.delete();
    this.#h = null;
  }
}

class Samples {
  #mod;
  #ptr;
  #module;

  constructor(mod, x, module) {
    this.#mod = mod;
    this.#module = module;
    this.length = x.length;
    this.float32 = x instanceof Float32Array;
    this.#ptr = allocate(mod, x.byteLength, `${x.length.toLocaleString('en')} samples`, 'values');
    // Heap views are re-read after every call that may grow memory (malloc may).
    (this.float32 ? mod.HEAPF32 : mod.HEAPF64).set(x, this.#ptr / x.BYTES_PER_ELEMENT);
  }

  analyze(options) {
    return this.#run(normalizeOptions(options), true);
  }

  /** See Quantizer.compare. */
  compare(list) {
    if (!Array.isArray(list) || list.length === 0) fail('Compare needs a non-empty array of options', 'options');
    if (list.length > MAX_COMPARE) fail(`Compare takes at most ${MAX_COMPARE} configurations (got ${list.length})`, 'options');
    const normalized = list.map((options, i) => inConfig(i, () => normalizeOptions(options)));
    return normalized.map((o, i) => inConfig(i, () => this.#run(o, false)));
  }

  /** See Quantizer.sweepBits. */
  sweepBits(options, { from = 2, to = 16 } = {}) {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 2 || to > 16 || from > to) {
      fail(`The bit sweep runs over whole numbers from 2 to 16, from ≤ to (got ${from}..${to})`, 'bits');
    }
    const o = normalizeOptions(options);
    if (o.format !== 'int') fail(`The bit sweep varies the integer bit depth: ${o.format} has a fixed width (compare formats with qz.compare)`, 'format');
    const out = [];
    for (let bits = from; bits <= to; bits++) out.push({ bits, metrics: this.#run({ ...o, bits }, false).metrics });
    return out;
  }

  /** See Quantizer.stochasticTrials. */
  stochasticTrials(options, { trials = 32 } = {}) {
    if (!Number.isInteger(trials) || trials < 1 || trials > 10000) fail(`Trials must be a whole number from 1 to 10000 (got ${trials})`, 'trials');
    const o = normalizeOptions(options);
    const first = this.#run({ ...o, perSample: false, rounding: 'half-even' }, false);
    const nearest = first.metrics;
    if (o.granularity === 'tensor' && o.scale === null && o.range === null) {
      // The range the calibration chose for round-half-to-even serves every trial: the trials
      // differ in rounding only (and calibration may be costly).
      o.range = { min: first.calibration.rangeMin, max: first.calibration.rangeMax };
    }
    const runs = [];
    for (let i = 0; i < trials; i++) {
      const seed = o.seed + i;
      const m = this.#run({ ...o, perSample: false, rounding: 'stochastic', seed }, false).metrics;
      runs.push({ seed, meanError: m.meanError, mse: m.mse, sqnrDb: m.sqnrDb, maxAbsError: m.maxAbsError });
    }
    const spread = (key) => meanAndStd(runs.map((t) => t[key]));
    return {
      trials: runs,
      meanError: spread('meanError'),
      mse: spread('mse'),
      sqnrDb: spread('sqnrDb'),
      nearest: { meanError: nearest.meanError, mse: nearest.mse, sqnrDb: nearest.sqnrDb, maxAbsError: nearest.maxAbsError },
    };
  }

  // arrays: whether the per-sample arrays and charts are copied out (the metrics are the same).
  #run(o, arrays) {
    if (this.#ptr === 0) fail('These samples were deleted', 'values');
    checkModule(this.#module, o);
    const core = toCoreOptions(o);
    // Importance weights and lists of scales or zero points: copied into the heap for this call.
    const w = o.importance;
    const wptr = w === null ? 0 : allocate(this.#mod, w.byteLength, 'the importance weights', 'importance');
    if (w !== null) {
      this.#mod.HEAPF32.set(w, wptr / 4);
      core.importancePtr = wptr;
      core.importanceCount = w.length;
    }
    const lists = [];
    try {
      if (isList(o.scale)) {
        const ptr = allocate(this.#mod, o.scale.byteLength, 'the list of scales', 'scale');
        lists.push(ptr);
        this.#mod.HEAPF64.set(o.scale, ptr / 8);
        core.scalesPtr = ptr;
        core.scalesCount = o.scale.length;
      }
      if (isList(o.zeroPoint)) {
        const ptr = allocate(this.#mod, o.zeroPoint.byteLength, 'the list of zero points', 'zeroPoint');
        lists.push(ptr);
        this.#mod.HEAP32.set(o.zeroPoint, ptr / 4);
        core.zeroPointsPtr = ptr;
        core.zeroPointsCount = o.zeroPoint.length;
      }
      const r = this.#mod.analyze(this.#ptr, this.length, this.float32, core);
      try {
        if (!r.ok) throw fromCoreError(r.error);
        return resultOf(r, o, this.length, arrays && o.perSample);
      } finally {
        this.#mod.release();
      }
    } finally {
      if (wptr !== 0) this.#mod._free(wptr);
      for (const ptr of lists) this.#mod._free(ptr);
    }
  }

  /** One plain SIMD read of the samples (Σ x): the memory floor the benchmark compares with. */
  readFloor() {
    notInFirst(this.#module, 'The benchmark\'s memory floor', 'values');
    return this.#mod.readFloor(this.#ptr, this.length, this.float32);
  }

  delete() {
    if (this.#ptr !== 0) this.#mod._free(this.#ptr);
    this.#ptr = 0;
  }
}
