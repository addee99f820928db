// The public API: createQuantizer() for the browser, workers, bundlers and node.
//
//   const qz = await createQuantizer();
//   const values = qz.parseValues('-1.25, -0.92, 0, 1.46');
//   const r = qz.analyze(values, { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 } });
//   r.scale, r.zeroPoint, r.codes, r.dequantized, r.errors, r.clipped, r.metrics.sqnrDb, …
//
// Bad input throws a QuantizerError whose `field` names the option ("bits", "range.min",
// "values", …) and whose `index` is the 0-based sample index where there is one.
import { CALIBRATIONS as CALIBRATION_CHOICES, FORMATS as FORMAT_CHOICES, MODES as MODE_CHOICES, PROFILES as PROFILE_CHOICES,
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
  profile: 'formula', // 'formula' (the textbook formulas) | 'pytorch' | 'onnx': a runtime's parameters and codes, bit for bit
  dtype: 'int8', // profiles: 'int8' | 'uint8' (PyTorch qint8 / quint8) | 'int4' | 'uint4' (ONNX)
  reduceRange: false, // profiles: the runtimes' reduce_range
});

// The vocabularies, from the one table each (shared/choices.js) that the page and the component read too.
export const PROFILES = values(PROFILE_CHOICES);

/** The number formats: element formats (one value per code), then block formats (a shared scale per block). */
export const FORMATS = values(FORMAT_CHOICES);

export const MODES = values(MODE_CHOICES);
export const CALIBRATIONS = values(CALIBRATION_CHOICES);
export const ROUNDING_RULES = values(ROUNDING_CHOICES);

export class QuantizerError extends Error {
  constructor(message, field, index = null) {
    super(message);
    this.name = 'QuantizerError';
    this.field = field;
    this.index = index;
  }
}

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';

/**
 * Loads the WebAssembly core. In node the .wasm is read from disk beside this module; pass
 * `wasmBinary` (bytes) to supply it yourself.
 */
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
 * { simd, scalar, coreSimd, coreScalar }` where to fetch them (default: beside this module).
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
    'dtype']) {
    if (typeof o[key] !== 'string') fail(`${key} must be a string`, key);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) fail('Seed must be a whole number from 0 to 2^53 − 1', 'seed');
  if (o.range !== null) {
    if (typeof o.range !== 'object') fail('Range must be { min, max } or null (from the samples)', 'range');
    for (const end of ['min', 'max']) {
      const v = o.range[end];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`Range ${end} must be a finite number`, `range.${end}`);
    }
  }
  for (const key of ['qmin', 'qmax', 'zeroPoint']) {
    if (o[key] !== null && !isInt(o[key])) fail(`${key} must be a whole number`, key);
  }
  if (o.scale !== null && (typeof o.scale !== 'number' || Number.isNaN(o.scale))) fail('Scale must be a number', 'scale');
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
    hasScale: o.scale !== null,
    scale: o.scale ?? 0,
    hasZeroPoint: o.zeroPoint !== null,
    zeroPoint: o.zeroPoint ?? 0,
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
function toSamples(values) {
  if (ArrayBuffer.isView(values) && !(values instanceof DataView) && detached(values)) {
    fail('The samples\' buffer was transferred or detached (sent to a worker?): pass a copy', 'values');
  }
  if (values instanceof Float64Array || values instanceof Float32Array) return values;
  if (values === null || typeof values !== 'object' || !Number.isSafeInteger(values.length) || values.length < 0) {
    fail('Samples must be a Float64Array, a Float32Array or an array of numbers', 'values');
  }
  // Converted to float64 in one block of the wasm heap (and first in JS, which may refuse too).
  const bytes = values.length * 8;
  if (bytes > MAX_BLOCK) fail(`Not enough memory for ${values.length.toLocaleString('en')} samples (${megabytes(bytes)} MB)`, 'values');
  let out;
  try {
    out = new Float64Array(values.length);
  } catch {
    fail(`Not enough memory for ${values.length.toLocaleString('en')} samples (${megabytes(bytes)} MB)`, 'values');
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') fail(`Sample ${i + 1} is not a number`, 'values', i);
    out[i] = v;
  }
  return out;
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
  const scale = r.blockScales.slice();
  if (scale.length === 0) return null;
  return { scale, code: r.blockCodes.slice() };
}

const GROUP_FIELDS = ['scale', 'zeroPoint', 'rangeMin', 'rangeMax', 'sumSquaredError', 'sumSquaredSignal', 'clipCount', 'maxAbsError'];

// { scale, zeroPoint, rangeMin, rangeMax, sumSquaredError, sumSquaredSignal, clipCount, maxAbsError }:
// Float64Arrays over one copied buffer, in the core's order, and `count`, the samples in each
// channel or group (all hold the same number).
function groupColumnsOf(r, samples) {
  const n = r.groupCount;
  const all = r.groupColumns.slice();
  const columns = { count: samples / n };
  GROUP_FIELDS.forEach((k, f) => {
    columns[k] = all.subarray(f * n, (f + 1) * n);
  });
  return columns;
}

// SQNR in dB from the sums, as the core computes it for the tensor (null for a zero signal).
const sqnrOf = (x2, e2) => (x2 === 0 ? null : e2 === 0 ? Infinity : 10 * Math.log10(x2 / e2));

// [{ index, scale, zeroPoint, rangeMin, rangeMax, metrics: { count, mse, sqnrDb, clipCount, clipRate, maxAbsError } }]
function groupsFromColumns(f) {
  return Array.from({ length: f.scale.length }, (_, i) => ({
    index: i,
    scale: f.scale[i],
    zeroPoint: f.zeroPoint[i],
    rangeMin: f.rangeMin[i],
    rangeMax: f.rangeMax[i],
    metrics: { count: f.count, mse: f.sumSquaredError[i] / f.count, sqnrDb: sqnrOf(f.sumSquaredSignal[i], f.sumSquaredError[i]),
      clipCount: f.clipCount[i], clipRate: f.clipCount[i] / f.count, maxAbsError: f.maxAbsError[i] },
  }));
}

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
    calibration: calibrationOf(r),
    // Float and block formats: the format's definition and counts; each block's scale.
    format: o.format === 'int' ? null : formatOf(r.format),
    blocks: o.format === 'int' ? null : blocksOf(r),
    charts: keep && (o.chartBuckets > 0 || o.histogramBins > 0) ? chartsOf(r) : null,
  };
}

/** Whether options need the whole core: a float or block format, or a runtime profile. */
export function needsFullModule(options) {
  return (options?.format ?? 'int') !== 'int' || (options?.profile ?? 'formula') !== 'formula';
}

// In the first module: the error that says `what` needs the whole core.
function notInFirst(module, what, field) {
  if (module === 'first') fail(`${what} are in the whole core, not the first module: createQuantizer({ module: 'full' })`, field);
}

function checkModule(module, o) {
  if (o.format !== 'int') notInFirst(module, 'Float and block formats', 'format');
  if (o.profile !== 'formula') notInFirst(module, 'Runtime profiles', 'profile');
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
      return r.values.slice();
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
      return { tensors: r.tensors };
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

  /** Bytes the wasm allocator holds for live objects (a leak shows as growth). */
  heapInUse() {
    return this.#mod.heapInUse();
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
    const r = this.#mod.analyze(this.#ptr, this.length, this.float32, core);
    try {
      if (!r.ok) throw fromCoreError(r.error);
      return resultOf(r, o, this.length, arrays && o.perSample);
    } finally {
      this.#mod.release();
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
