// `npm run bench`: 2^24 float32 normal samples with 0.1% outliers at ±8σ, 8-bit asymmetric
// quantization with the range from the samples, the metrics that need no sort. One row per
// implementation: median of repeats, spread, Melem/s, ratio to the memory floor (one plain SIMD
// read of the samples), and whether rows of the same arithmetic computed the same metrics.
// Then qz.layer() on a 4096×4096 weight with 64 tokens. Writes the rows to build/bench.json. A
// program, not a test: it asserts nothing about time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { createQuantizer } from '../web/src/quantizer.js';

const N = Number(process.env.BENCH_N ?? 1 << 24);
const REPEATS = Math.max(5, Number(process.env.BENCH_REPEATS ?? 9));
const root = new URL('..', import.meta.url).pathname;

// Seeded samples: normal(0, 1) by Box–Muller from a 32-bit xorshift; 0.1% become ±8σ.
function makeSamples(n) {
  const x = new Float32Array(n);
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    const u = next() || 2 ** -32;
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    x[i] = next() < 0.001 ? (g < 0 ? -8 : 8) : g;
  }
  return x;
}

// The same computation in plain JS (float64 arithmetic, half-to-even), as a person would write it.
function jsAnalyze(x) {
  const n = x.length;
  let lo = Infinity, hi = -Infinity, sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    sumSq += v * v;
  }
  const qmin = -128, qmax = 127;
  const scale = (hi - lo) / (qmax - qmin);
  const zp = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale)));
  let e2 = 0, ea = 0, es = 0, maxAbs = -1, maxIndex = 0, clip = 0, tie = 0;
  for (let i = 0; i < n; i++) {
    const scaled = x[i] / scale + zp;
    const f = Math.floor(scaled);
    const d = scaled - f;
    const r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
    if (d === 0.5) tie++;
    let q = r;
    if (r < qmin) (q = qmin), clip++;
    else if (r > qmax) (q = qmax), clip++;
    const e = x[i] - (q - zp) * scale;
    const a = Math.abs(e);
    e2 += e * e;
    ea += a;
    es += e;
    if (a > maxAbs) (maxAbs = a), (maxIndex = i);
  }
  return { mse: e2 / n, mae: ea / n, maxAbsError: maxAbs, maxAbsErrorIndex: maxIndex, meanError: es / n,
    sqnrDb: 10 * Math.log10(sumSq / e2), clipCount: clip, tieCount: tie };
}

function roundHalfEven(v) {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Rows of one arithmetic must agree: counts, the max and its index exactly; sums to 1e-9
// relative in float64 (added in different orders), 1e-6 in float32 (the core sums float32
// terms in float32 lanes over blocks of 32 before adding them in double).
function sameMetrics(a, b, rel) {
  for (const k of ['maxAbsError', 'maxAbsErrorIndex', 'clipCount', 'tieCount']) if (a[k] !== b[k]) return `${k} ${a[k]} ≠ ${b[k]}`;
  for (const k of ['mse', 'mae', 'meanError', 'sqnrDb']) {
    if (Math.abs(a[k] - b[k]) > rel * Math.abs(b[k])) return `${k} ${a[k]} ≠ ${b[k]}`;
  }
  return null;
}

const pick = (m) => ({ mse: m.mse, mae: m.mae, maxAbsError: m.maxAbsError, maxAbsErrorIndex: m.maxAbsErrorIndex,
  meanError: m.meanError, sqnrDb: m.sqnrDb, clipCount: m.clipCount, tieCount: m.tieCount });

// One timed run of an external row set (the native build, numpy): each prints JSON lines.
function externalRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
      .trim().split('\n').map((line) => JSON.parse(line));
  } catch (e) {
    console.error(`(skipped ${cmd}: ${e.message.split('\n')[0]})`);
    return null;
  }
}

// BENCH_ONLY=ggml: only the rows of llama.cpp's types (below).
const onlyGgml = process.env.BENCH_ONLY === 'ggml';
const x = makeSamples(N);
mkdirSync(`${root}build`, { recursive: true });
const samplesFile = `${root}build/bench-samples.f32`;
writeFileSync(samplesFile, new Uint8Array(x.buffer));

const qz = await createQuantizer();
const samples = qz.load(x);

// In-process rows: name, arithmetic, and one call returning the metrics.
const inProcess = [{ name: 'floor', arithmetic: null, call: () => { samples.readFloor(); return null; } }];
for (const arithmetic of ['float32', 'float64']) {
  for (const kernel of ['simd', 'scalar']) {
    const opts = { bits: 8, mode: 'asymmetric', arithmetic, kernel, perSample: false };
    inProcess.push({ name: `wasm ${kernel} ${arithmetic === 'float32' ? 'f32' : 'f64'}`, arithmetic, call: () => samples.analyze(opts).metrics });
  }
}
// Calibration adds its own passes: percentile (2 radix passes), mse (histogram, 200-candidate
// scan, ~11 exact quantize passes), entropy (histogram of |x|, 1,920 KL candidates).
for (const calibration of ['percentile', 'mse', 'entropy']) {
  inProcess.push({ name: `wasm simd f32, ${calibration} calibration`, arithmetic: null,
    call: () => { samples.analyze({ bits: 8, mode: 'asymmetric', arithmetic: 'float32', perSample: false, calibration, percentile: 99.99 }); return null; } });
}
// Per-group: 131,072 groups of 128, each with its own min-max range (issue target: ≤ 1.5× per-tensor).
inProcess.push({ name: 'wasm simd f32, groups of 128', arithmetic: null,
  call: () => { samples.analyze({ bits: 8, mode: 'asymmetric', arithmetic: 'float32', perSample: false, granularity: 'group', groupSize: 128 }); return null; } });
// Float and block formats (sums only): FP8 E4M3 per element, MXFP4 (blocks of 32), NF4 (blocks of 64).
for (const format of ['fp8-e4m3', 'mxfp4', 'nf4']) {
  inProcess.push({ name: `wasm simd, ${format}`, arithmetic: null,
    call: () => { samples.analyze({ format, arithmetic: 'float32', perSample: false }); return null; } });
}
inProcess.push({ name: 'wasm simd f32, all outputs', arithmetic: 'float32',
  call: () => samples.analyze({ bits: 8, mode: 'asymmetric', arithmetic: 'float32' }).metrics });
inProcess.push({ name: 'js', arithmetic: 'float64', call: () => jsAnalyze(x) });
const external = [];
const native = `${root}build/native/bench_native`;
if (existsSync(native)) external.push([native, [samplesFile, '1']]);
external.push(['/usr/bin/python3', [`${root}bench/bench_numpy.py`, samplesFile, '1']]);

// Rounds: every in-process row once per round, so all of them share the machine's slow and
// fast spells (shared cores drift by 1.5x over seconds). Engines start wasm in a baseline tier
// and swap in optimized code once a function is hot, so two warm-up calls per row come first.
// The external programs run afterwards, each with its own warm-up: their start-up and exit
// (freeing hundreds of MB) would otherwise disturb the rounds.
const byName = new Map();
const record = (name, arithmetic, ms, out) => {
  if (!byName.has(name)) byName.set(name, { name, arithmetic, ms: [], metrics: out && pick(out) });
  byName.get(name).ms.push(ms);
};
let rows = [];
if (!onlyGgml) {
  for (const row of inProcess) row.call(), row.call();
  for (let round = 0; round < REPEATS; round++) {
    for (const row of inProcess) {
      const t0 = performance.now();
      const out = row.call();
      record(row.name, row.arithmetic, performance.now() - t0, out);
    }
  }
  for (const [cmd, args] of external) {
    for (const r of externalRun(cmd, [...args.slice(0, -1), String(REPEATS)]) ?? []) {
      for (const ms of r.ms) record(r.name, r.name.endsWith('f32') ? 'float32' : 'float64', ms, r.metrics);
    }
  }
  samples.delete();
  rows = [...byName.values()];

  const floorMs = median(rows.find((r) => r.name === 'floor').ms);
  const reference = { float32: rows.find((r) => r.name === 'wasm scalar f32'), float64: rows.find((r) => r.name === 'wasm scalar f64') };
  const table = rows.map((r) => {
    const med = median(r.ms);
    let check = '';
    if (r.metrics) {
      const ref = reference[r.arithmetic];
      const diff = r === ref ? null : sameMetrics(r.metrics, ref.metrics, r.arithmetic === 'float32' ? 1e-6 : 1e-9);
      check = r === ref ? 'reference' : diff ? `DIFFERS: ${diff}` : `= ${ref.name}`;
    }
    return { row: r.name, 'median ms': med.toFixed(2), 'spread ms': `${Math.min(...r.ms).toFixed(1)}–${Math.max(...r.ms).toFixed(1)}`,
      'Melem/s': (N / med / 1000).toFixed(0), '× floor': (med / floorMs).toFixed(2), metrics: check };
  });

  console.log(`\n${N.toLocaleString('en')} float32 samples (normal, 0.1% at ±8σ), 8-bit asymmetric, range from the samples; ` +
    `median of ${REPEATS} rounds after 2 warm-up calls; wasm SIMD ${qz.simd ? 'on' : 'off'}; node ${process.version}\n`);
  console.table(table);
  const ratio = (a, b) => median(rows.find((r) => r.name === b)?.ms ?? [NaN]) / median(rows.find((r) => r.name === a).ms);
  console.log(`wasm simd f32: ${(median(rows.find((r) => r.name === 'wasm simd f32').ms) / (2 * floorMs)).toFixed(2)}× two floor passes, ` +
    `${ratio('wasm simd f32', 'numpy f32').toFixed(1)}× numpy f32, ${ratio('wasm simd f32', 'wasm scalar f32').toFixed(1)}× wasm scalar f32; ` +
    `wasm simd f64: ${ratio('wasm simd f64', 'numpy f64').toFixed(1)}× numpy f64; ` +
    `groups of 128: ${ratio('wasm simd f32', 'wasm simd f32, groups of 128').toFixed(2)}× per tensor`);
} else {
  samples.delete();
}

// llama.cpp's types (sums only; rows of 4096 along the last axis): ggml's quantizers bit for bit,
// the dequantization and the metrics, against ggml's own reference quantizers measured natively on
// this machine class (one thread, 16M float32 weights, gcc, x86-64; the figures, MB/s of
// float32 input). The slower types take seconds per call, so these rows run after the table
// above, in their own rounds (BENCH_GGML_REPEATS, default 3, after one warm-up; BENCH_GGML=0 skips).
const GGML_NATIVE = { q8_0: 892, q4_0: 3780, mxfp4: 260, q6_k: 112, q5_k: 74, q4_k: 62, iq4_xs: 21 };
const ggmlRows = [];
if (process.env.BENCH_GGML !== '0') {
  const repeats = Math.max(1, Number(process.env.BENCH_GGML_REPEATS ?? 3));
  const ggml = qz.load(x);
  const types = ['q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl', 'iq4_xs', 'tq1_0', 'tq2_0', 'mxfp4', 'nvfp4'];
  const optionsOf = (format) => ({ format, profile: format === 'mxfp4' || format === 'nvfp4' ? 'ggml' : 'formula', shape: [N / 4096, 4096], perSample: false });
  // Wall time, and the process's CPU time (which a shared machine's other load inflates less).
  const ms = new Map(types.map((t) => [t, []])), cpu = new Map(types.map((t) => [t, []]));
  for (const t of types) ggml.analyze(optionsOf(t));
  for (let round = 0; round < repeats; round++) {
    for (const t of types) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      ggml.analyze(optionsOf(t));
      const c = process.cpuUsage(c0);
      ms.get(t).push(performance.now() - t0);
      cpu.get(t).push((c.user + c.system) / 1000);
    }
  }
  // Dequantizing a GGUF tensor's blocks (Q4_K and Q6_K of the same samples), through the API.
  const deq = {};
  for (const t of ['q4_k', 'q6_k']) {
    const bytes = ggml.analyze(optionsOf(t)).blocks.bytes;
    qz.dequantizeGgml(t, bytes);
    deq[t] = [];
    for (let round = 0; round < repeats; round++) {
      const t0 = performance.now();
      qz.dequantizeGgml(t, bytes);
      deq[t].push(performance.now() - t0);
    }
  }
  ggml.delete();
  const mbps = (m) => (N * 4) / 1e6 / (m / 1000);
  for (const t of types) {
    const med = median(ms.get(t));
    const cpuMed = median(cpu.get(t));
    ggmlRows.push({ type: t, 'median ms': med.toFixed(1), 'spread ms': `${Math.min(...ms.get(t)).toFixed(0)}–${Math.max(...ms.get(t)).toFixed(0)}`,
      'cpu ms': cpuMed.toFixed(0), 'MB/s (f32 in)': mbps(med).toFixed(0), 'MB/s by cpu': mbps(cpuMed).toFixed(0),
      'ggml native MB/s': GGML_NATIVE[t] ?? '', '× ggml': GGML_NATIVE[t] ? (mbps(med) / GGML_NATIVE[t]).toFixed(2) : '' });
  }
  for (const [t, m] of Object.entries(deq)) {
    ggmlRows.push({ type: `dequantize ${t}`, 'median ms': median(m).toFixed(1), 'spread ms': `${Math.min(...m).toFixed(0)}–${Math.max(...m).toFixed(0)}`,
      'cpu ms': '', 'MB/s (f32 in)': `${mbps(median(m)).toFixed(0)} (f32 out)`, 'MB/s by cpu': '', 'ggml native MB/s': '', '× ggml': '' });
  }
  console.log(`\nllama.cpp's types: ${N.toLocaleString('en')} float32 samples, rows of 4096, sums only (quantize, dequantize, metrics); ` +
    `median of ${repeats} rounds after a warm-up\n`);
  console.table(ggmlRows);
}
writeFileSync(`${root}build/bench.json`, JSON.stringify([...rows.map((r) => ({ name: r.name, n: N, median_ms: median(r.ms) })),
  ...ggmlRows.map((r) => ({ name: `ggml ${r.type}`, n: N, median_ms: Number(r['median ms']) }))], null, 1));
// Through a layer: a 4096×4096 float32 weight and 64 tokens (a real LLM projection), the whole
// analysis (both sides quantized, four double products of 2^30 multiply-adds each, the integer
// sums, the metrics). Rows of their own: one call is a second, not milliseconds.
const LAYER = { out: Number(process.env.BENCH_LAYER_OUT ?? 4096), in: Number(process.env.BENCH_LAYER_IN ?? 4096), tokens: 64 };
const layerRepeats = Math.max(3, Number(process.env.BENCH_LAYER_REPEATS ?? 5));
const lw = makeSamples(LAYER.out * LAYER.in).map((v) => v * 0.02), lx = makeSamples(LAYER.tokens * LAYER.in);
const layerRows = [
  ['W8 per channel × A8, int32 sums', { weightScheme: { bits: 8, granularity: 'channel' }, activationScheme: { bits: 8, mode: 'asymmetric' } }],
  ['… and int8 output codes (tflite)', { weightScheme: { bits: 8, granularity: 'channel' }, activationScheme: { bits: 8, mode: 'asymmetric' },
    output: 'auto', profile: 'tflite' }],
  ['W4 groups of 128, A16 (float)', { weightScheme: { bits: 4, granularity: 'group', groupSize: 128 } }],
  ['W8 × A8, scalar twins', { weightScheme: { bits: 8, granularity: 'channel' }, activationScheme: { bits: 8, mode: 'asymmetric' }, kernel: 'scalar' }],
];
// The multiply-adds one call runs: [X; ΔX] (ΔX when X is quantized) times W and, when W is
// quantized, ΔW, in double; the integer sums when both sides are integer codes.
const macs = (o) => {
  const one = LAYER.out * LAYER.in * LAYER.tokens;
  return one * (o.activationScheme ? 2 : 1) * (o.weightScheme ? 2 : 1) + (o.activationScheme && o.weightScheme ? one : 0);
};
const layerTable = [];
for (const [name, options] of layerRows) {
  const run = () => qz.layer({ weights: lw, weightShape: [LAYER.out, LAYER.in], activations: lx, activationShape: [LAYER.tokens, LAYER.in], ...options });
  const t0 = performance.now();
  const first = run();
  const firstMs = performance.now() - t0;
  const ms = [];
  for (let i = 0; i < layerRepeats; i++) {
    const t = performance.now();
    const r = run();
    ms.push(performance.now() - t);
    if (r.metrics.sqnrDb !== first.metrics.sqnrDb) throw new Error(`${name}: the SQNR changed between runs`);
  }
  const med = median(ms);
  layerTable.push({ row: name, 'first call ms': firstMs.toFixed(0), 'median ms': med.toFixed(0),
    'spread ms': `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}`,
    'GMAC/s': (macs(options) / med / 1e6).toFixed(2), 'SQNR dB': first.metrics.sqnrDb.toFixed(3) });
  rows.push({ name: `layer ${LAYER.out}×${LAYER.in}×${LAYER.tokens}: ${name}`, ms });
}
console.log(`\nThrough a layer: W ${LAYER.out}×${LAYER.in} float32, X ${LAYER.tokens}×${LAYER.in}; the first call, then the median of ${layerRepeats}; ` +
  'GMAC/s: the double products (Y and the error parts) and the integer sums that call runs\n');
console.table(layerTable);
writeFileSync(`${root}build/bench.json`, JSON.stringify(rows.map((r) => ({ name: r.name, n: r.name.startsWith('layer') ? LAYER.out * LAYER.in : N,
  median_ms: median(r.ms) })), null, 1));
console.log('rows written to build/bench.json');
