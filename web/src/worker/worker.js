// The module worker that owns a wasm instance. Requests come as { id, type, ... } and are answered
// with { id, type: 'phase' | 'progress' | 'partial' | 'result' | 'studies' | 'error', ... }
// (shared/protocol.js); typed arrays are transferred. The page cancels by terminating the worker.
import { REPLIES, REQUESTS } from '../shared/protocol.js';
import { createQuantizer, GGML_TYPES, needsFullModule, QuantizerError } from '../quantizer.js';
import { explore, exploreFormats } from './studies.js';
import { csvColumn, indexTensorFile, rawTensor, readTensor, readTensorRange } from './tensor-files.js';

// The quantizers, made on first use: a 'setup' request before any work passes createQuantizer's
// settings (a forced build, where the .wasm files are; module 'full': the whole core from the
// start). Integer calculations run in the small first module until something needs the whole core
// (a float format, a runtime profile, a format's definition, a tensor file); the whole core is
// loaded then and serves everything after (the first module is let go).
let setup = {};
let first = null;
let full = null;
const ready = (needsFull = false) => {
  if (needsFull || full || setup.module === 'full') {
    first = null;
    return (full ??= createQuantizer({ ...setup, module: 'full' }));
  }
  return (first ??= createQuantizer({ ...setup, module: 'first' }));
};
let latest = 0; // the newest calculation: older what-if studies stop when it changes

const reply = (id, type, body = {}, transfer = []) => self.postMessage({ id, type, ...body }, transfer);
const phase = (id, text) => reply(id, REPLIES.phase, { phase: text });

// A QuantizerError is the user's to fix (its field says where); anything else is the calculator's.
const errorOf = (e, field = null) => (e instanceof QuantizerError
  ? { field: e.field ?? field, index: e.index ?? null, message: e.message }
  : { field, index: null, message: `The calculator failed: ${e?.message ?? e}` });

const HANDLERS = {
  [REQUESTS.setup]: ({ setup: given }) => {
    setup = { ...setup, ...given };
  },
  [REQUESTS.describe]: async ({ id, options }) => {
    // A format's definition and values for the form; answered between calculations' steps.
    const qz = await ready(true);
    reply(id, REPLIES.result, { result: qz.describeFormat(options) });
  },
  [REQUESTS.analyze]: analyze,
  [REQUESTS.compare]: async ({ id, text, list }) => {
    latest = id;
    const needsFull = list.some(needsFullModule);
    if (needsFull && !full) phase(id, 'Loading the whole core (float formats, runtime profiles)');
    runCompare(await ready(needsFull), id, text, list);
  },
  [REQUESTS.index]: async ({ id, file, source }) => {
    const tensors = await tensorsOf(await ready(true), file, source);
    reply(id, REPLIES.result, { result: tensors.map((t) => ({ name: t.name, bytes: t.skipped ? 0 : t.bytes, skipped: Boolean(t.skipped) })) });
  },
  [REQUESTS.report]: ({ id, file, options, source, only, recipe, imatrix }) => runReport(id, file, options, source, only, recipe, imatrix),
  [REQUESTS.compareFiles]: runCompareFiles,
  [REQUESTS.tensor]: ({ id, file, name, source, limit, whole }) => sendTensor(id, file, name, source, limit, whole),
  [REQUESTS.layer]: runLayer,
};

// An instance that trapped (a RuntimeError: an abort, memory out of bounds) may hold broken state:
// it is let go, and the next request gets a fresh one.
function dropIfTrapped(e) {
  if (!(e instanceof WebAssembly.RuntimeError)) return false;
  first = null;
  full = null;
  return true;
}

self.onmessage = async ({ data }) => {
  const handler = HANDLERS[data.type];
  try {
    if (!handler) throw new Error(`unknown request type "${data.type}"`);
    await handler(data);
  } catch (e) {
    const restarted = dropIfTrapped(e) ? ' (the calculator was restarted)' : '';
    const fileJob = data.type === REQUESTS.report || data.type === REQUESTS.tensor || data.type === REQUESTS.index || data.type === REQUESTS.compareFiles;
    const error = fileJob ? { field: e?.field ?? 'file', index: null, message: e?.message ?? String(e) } : errorOf(e);
    reply(data.id, REPLIES.error, { error: { ...error, message: error.message + restarted } });
  }
};

async function analyze({ id, text, options, studies: withStudies = true }) {
  latest = id;
  const needsFull = needsFullModule(options);
  if (needsFull && !full) phase(id, 'Loading the whole core (float formats, runtime profiles)');
  const qz = await ready(needsFull);
  phase(id, 'Reading the samples');
  const { values, notes } = qz.inspectValues(text);
  phase(id, `Quantizing ${values.length.toLocaleString('en')} samples`);
  const samples = qz.load(values);
  let r;
  try {
    r = samples.analyze(options);
  } catch (e) {
    samples.delete();
    throw e;
  }
  // A float or block format's values (unscaled, sorted, finite) for the charts' staircase.
  const grid = r.format ? gridOf(qz, options) : null;
  // Every code's value for the format explorer (formats of at most 8 bits, and NF4).
  const codeValues = r.format && r.format.bits <= 8 ? qz.describeFormat(options).values : null;
  const result = { ...r, values, notes, grid, codeValues, simd: qz.simd };
  const transfer = [values.buffer, r.codes.buffer, r.dequantized.buffer, r.errors.buffer, r.clipped.buffer];
  if (r.charts) {
    transfer.push(...Object.values(r.charts.buckets).map((a) => a.buffer), r.charts.valueHistogram.counts.buffer,
      r.charts.errorHistogram.counts.buffer);
  }
  // The result goes first; the what-if studies on the same samples follow in a second message.
  reply(id, REPLIES.result, { result }, transfer);
  if (!withStudies) {
    samples.delete();
    return;
  }
  let studies;
  let trapped = false;
  try {
    studies = r.format ? await exploreFormats(samples, options, () => latest !== id) : await explore(samples, options, () => latest !== id);
  } catch (e) {
    studies = { error: e?.message ?? String(e) };
    trapped = dropIfTrapped(e); // a trapped instance is not called again, not even to free
  }
  if (!trapped) samples.delete();
  if (studies) reply(id, REPLIES.studies, { studies });
}

// Through a layer: the inputs made or read here (`inputs`: a spec per tensor, so a 4096×4096
// weight is never copied through the page), then one call of the whole core (cancelled by
// terminating the worker). Progress counts the steps: each input, then the layer. The result's
// options come back without the tensors; every typed array of the result is transferred.
//   inputs.weights      { text } (the calculator's samples, shape in layer.weightShape) |
//                       { file, name, source } (a tensor of a file) | { generate: { out, in, seed } }
//   inputs.activations  { text } (pasted; shape in layer.activationShape, or tokens of W's in) |
//                       { generate: { kind, tokens, seed } } (ACTIVATION_KINDS, in = W's in)
//   inputs.next         { generate: { out, seed } }: the second layer's W [out, W's out]
async function runLayer({ id, layer, inputs = {} }) {
  latest = id;
  if (!full) phase(id, 'Loading the whole core (layers)');
  const qz = await ready(true);
  // The generators load with the first layer (they are not the first load's).
  const { generateActivations, generateWeights } = await import('../shared/layer-inputs.js');
  const o = { ...layer, next: layer.next && { ...layer.next } };
  const steps = 2 + (inputs.weights ? 1 : 0) + (inputs.activations ? 1 : 0) + (inputs.next ? 1 : 0);
  let step = 0;
  const started = performance.now();
  const advance = (text) => {
    phase(id, text);
    reply(id, REPLIES.progress, { progress: { done: step++, total: steps, name: text, seconds: (performance.now() - started) / 1000 } });
  };
  const w = inputs.weights;
  if (w?.generate) {
    advance(`Generating W (${w.generate.out}×${w.generate.in}, seed ${w.generate.seed})`);
    o.weights = generateWeights(w.generate.out, w.generate.in, w.generate.seed);
    o.weightShape = [w.generate.out, w.generate.in];
  } else if (w?.file) {
    advance(`Reading ${w.name} from ${w.file.name}`);
    const t = (await tensorsOf(qz, w.file, w.source ?? null)).find((k) => k.name === w.name);
    if (!t) throw new QuantizerError(`${w.file.name} has no tensor "${w.name}"`, 'weights');
    if (t.skipped) throw new QuantizerError(`Tensor "${w.name}" cannot be read: ${t.skipped}`, 'weights');
    if (t.shape.length !== 2) throw new QuantizerError(`Tensor "${w.name}" has shape [${t.shape.join(', ')}]: a layer's weights are [out, in]`, 'weightShape');
    o.weights = await valuesOf(qz, w.file, t);
    o.weightShape = t.shape.slice();
  } else if (w?.text !== undefined) {
    advance('Reading W from the samples');
    o.weights = underField('weights', () => qz.parseValues(w.text));
  }
  const inner = o.weightShape?.[1];
  const x = inputs.activations;
  if (x?.generate) {
    if (!Number.isSafeInteger(inner) || inner < 1) throw new QuantizerError('The weights\' shape must be [out, in] before activations can be made for it', 'weightShape');
    advance(`Generating X (${x.generate.tokens}×${inner}, ${x.generate.kind}, seed ${x.generate.seed})`);
    o.activations = generateActivations(x.generate.kind, x.generate.tokens, inner, x.generate.seed);
    o.activationShape = [x.generate.tokens, inner];
  } else if (x?.text !== undefined) {
    advance('Reading the pasted activations');
    o.activations = underField('activations', () => qz.parseValues(x.text));
    if (!o.activationShape) {
      const n = o.activations.length;
      if (!Number.isSafeInteger(inner) || inner < 1 || n % inner !== 0 || n === 0) {
        throw new QuantizerError(`The activations hold ${n.toLocaleString('en')} values: not a whole number of tokens of the weights' in = ${inner}` +
          ' (give their shape as tokens,in)', 'activationShape');
      }
      o.activationShape = [n / inner, inner];
    }
  }
  if (inputs.next?.generate && o.next) {
    const g = inputs.next.generate;
    const out1 = o.weightShape?.[0];
    advance(`Generating the second layer's W (${g.out}×${out1}, seed ${g.seed})`);
    o.next.weights = generateWeights(g.out, out1, g.seed);
    o.next.weightShape = [g.out, out1];
  }
  const [out, inDim] = o.weightShape ?? [];
  advance(`Quantizing and multiplying: ${o.activationShape?.[0]} tokens through a ${out}×${inDim} layer${o.next ? ' and a second one' : ''}`);
  const r = qz.layer(o);
  const strip = (v) => v && { ...v, weights: null, activations: null, next: strip(v.next) };
  const result = { ...r, options: strip(r.options), simd: qz.simd, seconds: (performance.now() - started) / 1000 };
  reply(id, REPLIES.result, { result }, buffersOf(result));
}

// A parse error of one input, at that input's field.
function underField(field, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QuantizerError) e.field = field;
    throw e;
  }
}

// The distinct ArrayBuffers of every typed array in a result (a typed array shared by two fields,
// or subarrays of one buffer, are transferred once).
function buffersOf(value, seen = new Set()) {
  if (ArrayBuffer.isView(value)) seen.add(value.buffer);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) buffersOf(v, seen);
  return [...seen];
}

// Each configuration on one copy of the samples; a bad one reports its own message and the others
// still run. Groups are summarised (a comparison shows the tensor's metrics).
function runCompare(qz, id, text, list) {
  phase(id, 'Reading the samples');
  const values = qz.parseValues(text);
  const samples = qz.load(values);
  try {
    const compared = list.map((options, i) => {
      phase(id, `Configuration ${i + 1} of ${list.length}`);
      try {
        const { groups, ...r } = samples.compare([options])[0];
        return { ...r, groupCount: groups?.length ?? null };
      } catch (e) {
        if (!(e instanceof QuantizerError)) throw e;
        return { options, error: e.message.replace(/^Configuration \d+: /, ''), field: e.field };
      }
    });
    reply(id, REPLIES.result, { result: compared });
  } finally {
    samples.delete();
  }
}

function gridOf(qz, options) {
  const values = qz.describeFormat(options).values ?? Float64Array.from({ length: 255 }, (_, k) => (k - 127) * 2 ** -6); // MXINT8
  return Float64Array.from(new Set(Array.from(values).filter(Number.isFinite).map((v) => (v === 0 ? 0 : v)))).sort();
}

// A tensor file's report: every tensor read (one at a time, slice by slice from the File) and
// analysed with the options; progress after each. Errors of one tensor stay in its row.
// The tensors of a file: from its header, or as the user described a raw or CSV file (`source`).
async function tensorsOf(qz, file, source) {
  if (source?.raw) return [rawTensor(file, file.name, source.raw)];
  if (source?.csv) {
    const c = csvColumn(qz, await file.text(), source.csv.column);
    return [{ name: `${file.name}: ${c.name}`, dtype: 'float64', fileDtype: 'text', shape: [c.values.length], count: c.values.length,
      bytes: file.size, skipped: '', values: c.values }];
  }
  return indexTensorFile(qz, file, file.name);
}

const valuesOf = (qz, file, t) => (t.values ? Promise.resolve(t.values) : readTensor(qz, file, t));

// The tensor's shape where the options need it: per channel or group, and llama.cpp's types
// (rows along the last axis, GGUF's ne[0]).
const needsShape = (o) => (o.granularity && o.granularity !== 'tensor') || GGML_TYPES.includes(o.format) || o.profile === 'ggml';

// Each finished row is also sent at once ('partial'), so a cancelled report keeps what was read.
// `only` (the indices of the file's tensors to analyse, for a pool of workers sharing a file) or
// every tensor; each row carries its tensor's index in the file.
async function runReport(id, file, options, source, only = null, recipe = null, imatrixFile = null) {
  let qz = await ready(true);
  const all = await tensorsOf(qz, file, source);
  const imatrix = await imatrixOf(qz, imatrixFile);
  // llama-quantize's recipe: every tensor's type, from the whole file (its counters run over the layers).
  const choices = recipe ? qz.recipeTypes(recipe, { tensors: all, metadata: all.metadata ?? null }, { imatrix }).tensors : null;
  const picked = only ? new Set(only) : null;
  const total = all.reduce((a, t, k) => a + (t.skipped || (picked && !picked.has(k)) ? 0 : t.bytes), 0);
  const started = performance.now();
  let done = 0;
  const rows = [];
  for (const [k, t] of all.entries()) {
    if (picked && !picked.has(k)) continue;
    const row = { index: k, name: t.name, dtype: t.skipped ? t.fileDtype : t.dtype, shape: t.shape, count: t.count, bitsPerWeight: t.bitsPerWeight ?? null,
      skipped: t.skipped || null, error: null, granularity: options.granularity ?? 'tensor' };
    rows.push(row);
    const choice = choices?.[k];
    let tensorOptions = options;
    if (choice && !t.skipped) {
      // The recipe's type: its bits per weight and size; a kept tensor is listed as it is.
      Object.assign(row, { recipeType: choice.type ?? 'kept', bitsPerWeight: choice.bitsPerWeight, bytes: choice.bytes, note: choice.note ?? choice.kept ?? null });
      if (choice.error || !choice.type) {
        if (choice.error) row.error = choice.error;
        else row.kept = choice.kept;
        reply(id, REPLIES.partial, { rows: [row] });
        continue;
      }
      tensorOptions = choice.type === 'float16' ? { format: 'fp16', overflow: 'inf-nan' } : { format: choice.type };
    }
    if (t.skipped) {
      reply(id, REPLIES.partial, { rows: [row] });
      continue;
    }
    reply(id, REPLIES.progress, { progress: { done, total, tensor: k + 1, tensors: all.length, name: t.name, seconds: (performance.now() - started) / 1000 } });
    try {
      if (!t.values && t.count > STREAM_VALUES && !choice) {
        // Too large to hold: two passes over chunks of the file.
        Object.assign(row, await streamTensor(qz, file, t, options, (part) => reply(id, REPLIES.progress, { progress: {
          done: done + part, total, tensor: k + 1, tensors: all.length, name: t.name, seconds: (performance.now() - started) / 1000 } })));
        done += t.bytes;
        reply(id, REPLIES.partial, { rows: [row] });
        continue;
      }
      const x = await valuesOf(qz, file, t);
      const withShape = needsShape(tensorOptions) ? { shape: t.shape.length ? t.shape : [x.length] } : {};
      // An imatrix weighs ggml's types (the tensor's entry, checked against its shape).
      const importance = imatrix && GGML_TYPES.includes(tensorOptions.format) ? qz.importanceFor(imatrix, t) : null;
      // NaN and ±Inf in a checkpoint are a finding, not a reason to refuse the tensor: the core
      // counts them and measures the finite values, each in its place (channels and groups too).
      const r = qz.analyze(x, { ...tensorOptions, ...withShape, ...(importance ? { importance } : {}), nonFinite: 'skip', perSample: false, chartBuckets: 0,
        histogramBins: 0 });
      if (skippedCount(r.nonFinite)) row.nonFinite = r.nonFinite;
      const { min, max, x2 } = stats(x);
      Object.assign(row, { min, max, rangeMin: r.calibration.rangeMin, rangeMax: r.calibration.rangeMax, scale: r.scale, zeroPoint: r.zeroPoint, mse: r.metrics.mse, sqnrDb: r.metrics.sqnrDb,
        maxAbsError: r.metrics.maxAbsError, clipRate: r.metrics.clipRate, sumSquares: x2,
        ...(importance ? { weightedMse: r.metrics.weightedMse, weightedSqnrDb: r.metrics.weightedSqnrDb } : {}) });
    } catch (e) {
      row.error = e.message;
      if (dropIfTrapped(e)) {
        row.error += ' (the calculator was restarted for the next tensors)';
        qz = await ready(true);
      }
    }
    done += t.bytes;
    reply(id, REPLIES.partial, { rows: [row] });
  }
  reply(id, REPLIES.result, { result: { file: file.name, size: file.size, rows, seconds: (performance.now() - started) / 1000 } });
}

// An imatrix File, read whole (imatrix files hold one vector per tensor: small beside a model), or null.
async function imatrixOf(qz, file) {
  if (!file) return null;
  try {
    return qz.readImatrix(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    if (!(e instanceof QuantizerError)) throw e;
    throw new QuantizerError(`${file.name}: ${e.message}`, 'imatrix');
  }
}

// A quantized file against its original: qz.compareFiles, each row sent as it is compared.
async function runCompareFiles({ id, original, quantized, imatrix: imatrixFile }) {
  const qz = await ready(true);
  const imatrix = await imatrixOf(qz, imatrixFile);
  const started = performance.now();
  let done = 0;
  const flat = (row, k) => ({ index: k, name: row.name, dtype: row.dtype, originalDtype: row.originalDtype, shape: row.shape, count: row.count,
    bitsPerWeight: row.bitsPerWeight, bytes: row.bytes, error: row.error, ...(row.metrics ? { ...row.metrics, sumSquares: row.sumSquares,
      requantized: row.requantized, verdict: row.verdict } : {}) });
  const r = await qz.compareFiles(original, quantized, { imatrix, onTensor: (row, k, n) => {
    done += row.bytes;
    reply(id, REPLIES.partial, { rows: [flat(row, k)] });
    reply(id, REPLIES.progress, { progress: { done, total: quantized.size, tensor: k + 2, tensors: n, name: row.name, seconds: (performance.now() - started) / 1000 } });
  } });
  reply(id, REPLIES.result, { result: { rows: r.tensors.map(flat), onlyOriginal: r.onlyOriginal, onlyQuantized: r.onlyQuantized, summary: r.summary,
    seconds: (performance.now() - started) / 1000 } });
}

// One tensor's values, to open it in the calculator: all of them, or for a tensor of more than
// `limit` values a uniform random sample of `limit` (reservoir sampling over chunks, seeded, so
// the same tensor gives the same sample), in the tensor's order, with the whole tensor's
// histograms: `whole` is { bins, min, max } from the report, and for a per-tensor integer scheme
// also { options, range, maxAbsError } to quantize every chunk with the tensor's range.
async function sendTensor(id, file, name, source, limit = Infinity, whole = null) {
  const qz = await ready(true);
  const t = (await tensorsOf(qz, file, source)).find((k) => k.name === name);
  if (!t) throw new QuantizerError(`${file.name} has no tensor "${name}"`, 'file');
  if (t.count <= limit || t.values) {
    const values = (await valuesOf(qz, file, t)).slice();
    reply(id, REPLIES.result, { result: { name, shape: t.shape, values } }, [values.buffer]);
    return;
  }
  const { values, histograms } = await reservoir(qz, file, t, limit, whole);
  reply(id, REPLIES.result, { result: { name, shape: t.shape, values, sampleOf: t.count, histograms } },
    [values.buffer, histograms.value.counts.buffer, ...(histograms.error ? [histograms.error.counts.buffer] : [])]);
}

// Counts of x in `bins` equal bins over [lo, hi] (the last closed), as the core's chart histograms
// (an empty span widened by 0.5 each way, as there: a constant tensor, or no error at all).
function histogram(lo, hi, bins) {
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  const counts = new Float64Array(bins);
  const w = (hi - lo) / bins;
  return {
    lo, hi, counts,
    add(x) {
      for (let i = 0; i < x.length; i++) {
        if (Number.isFinite(x[i])) counts[w > 0 ? Math.min(bins - 1, Math.max(0, Math.floor((x[i] - lo) / w))) : 0] += 1; // NaN, ±Inf: skipped
      }
    },
  };
}

// Algorithm R over the tensor's chunks: k values chosen uniformly without replacement; and the
// whole tensor's histograms of the values and (given the scheme) of the errors.
async function reservoir(qz, file, t, k, whole) {
  const index = new Float64Array(k), value = new Float64Array(k);
  let state = 0x9e3779b9; // mulberry32, seed fixed
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const values = histogram(whole.min, whole.max, whole.bins);
  const errors = whole.options ? histogram(-whole.maxAbsError, whole.maxAbsError, whole.bins) : null;
  let Kind = Float64Array; // as the file's values are read: float32 stays float32
  for (let at = 0; at < t.count; at += CHUNK_VALUES) {
    const x = await readTensorRange(qz, file, t, at, Math.min(CHUNK_VALUES, t.count - at));
    Kind = x.constructor;
    values.add(x);
    // The chunk quantized with the tensor's range (stochastic draws follow the chunk's own indices).
    if (errors) errors.add(qz.analyze(x, { ...whole.options, range: whole.range, nonFinite: 'skip', chartBuckets: 0, histogramBins: 0 }).errors);
    for (let i = 0; i < x.length; i++) {
      const seen = at + i;
      const slot = seen < k ? seen : Math.floor(random() * (seen + 1));
      if (slot < k) {
        index[slot] = seen;
        value[slot] = x[i];
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => index[a] - index[b]);
  const sample = new Kind(k);
  order.forEach((from, to) => {
    sample[to] = value[from];
  });
  const plain = (h) => h && { lo: h.lo, hi: h.hi, counts: h.counts };
  return { values: sample, histograms: { count: t.count, value: plain(values), error: plain(errors) } };
}

// Tensors above this many values are streamed: read in chunks pass after pass, never whole.
const STREAM_VALUES = 1 << 25;
const CHUNK_VALUES = 1 << 22;

// The passes a streamed analysis usually takes (progress is shown against these; exact
// percentiles of a crowded tensor may take another).
function expectedPasses(o) {
  const calibrated = (o.format ?? 'int') === 'int' && (o.profile ?? 'formula') === 'formula' && !o.range;
  return 2 + (calibrated ? { percentile: 2, mse: 3, entropy: 1 }[o.calibration] ?? 0 : 0);
}

async function streamTensor(qz, file, t, options, progress) {
  const withShape = needsShape(options) ? { shape: t.shape.length ? t.shape : [t.count] } : {};
  const st = qz.stream({ ...options, ...withShape, nonFinite: 'skip', perSample: false, chartBuckets: 0, histogramBins: 0 });
  let min = Infinity, max = -Infinity, x2 = 0;
  try {
    const expected = expectedPasses(options);
    while (!st.done) {
      const pass = st.passes - 1;
      const share = t.bytes / Math.max(expected, st.passes);
      for (let at = 0; at < t.count; at += CHUNK_VALUES) {
        const x = await readTensorRange(qz, file, t, at, Math.min(CHUNK_VALUES, t.count - at));
        if (pass === 0) {
          const e = stats(x);
          min = Math.min(min, e.min);
          max = Math.max(max, e.max);
          x2 += e.x2;
        }
        st.add(x);
        progress(Math.min(t.bytes, share * (pass + (at + x.length) / t.count)));
      }
      st.next();
    }
    const r = st.finish();
    return { min, max, rangeMin: r.calibration.rangeMin, rangeMax: r.calibration.rangeMax, scale: r.scale, zeroPoint: r.zeroPoint, mse: r.metrics.mse,
      sqnrDb: r.metrics.sqnrDb, maxAbsError: r.metrics.maxAbsError,
      clipRate: r.metrics.clipRate, sumSquares: x2, streamed: true, ...(skippedCount(r.nonFinite) ? { nonFinite: r.nonFinite } : {}) };
  } finally {
    st.delete();
  }
}

// The NaN, +Inf and −Inf an analysis skipped.
const skippedCount = (n) => n.nan + n.posInf + n.negInf;

// The extremes and Σx² (for the file's SQNR, which weights tensors by their signal) of the finite
// values (NaN and ±Inf are skipped, as the report's analyses skip them).
function stats(x) {
  let min = Infinity, max = -Infinity, x2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    x2 += v * v;
  }
  return { min, max, x2 };
}
