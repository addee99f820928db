// The scalar build (for engines without wasm SIMD) gives the SIMD build's results bit for bit:
// codes, x̂, errors, every metric and parameter, for every kind of analysis. So does the small
// first module (both its builds) for everything it does, and it refuses the rest by name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';

import { createQuantizer, needsFullModule, QuantizerError, simdSupported } from '../../web/src/quantizer.js';
import { ggufBytes, safetensorsBytes } from './tensor-files.js';

let simd, scalar, core, coreScalar;
before(async () => {
  simd = await createQuantizer();
  scalar = await createQuantizer({ simd: false });
  core = await createQuantizer({ module: 'first' });
  coreScalar = await createQuantizer({ module: 'core', simd: false }); // the earlier name still loads it
  assert.equal(coreScalar.module, 'first');
});

// Heavy tails, exact ties at half steps, zeros and a few large values; float32 and float64.
const n = 40009;
const x64 = Float64Array.from({ length: n }, (_, i) => (i % 97 === 0 ? (i % 2 ? -1 : 1) * (i / 97) * 0.5 : Math.sin(i * 0.731) * Math.exp(Math.cos(i * 0.17)))
  + (i % 13 === 0 ? 0.5 / 127 : 0));
const x32 = Float32Array.from(x64);

// The result's own fields, typed arrays as plain arrays (assert compares NaN and -0 exactly).
function plain(r) {
  const out = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'options') continue;
    out[k] = ArrayBuffer.isView(v) ? Array.from(v) : v && typeof v === 'object' && !Array.isArray(v) ? plain(v) : v;
  }
  if (r.groupColumns) out.groups = r.groups.map(plain);
  return out;
}

test('the engine is asked, and each quantizer says which build runs', () => {
  assert.equal(typeof simdSupported(), 'boolean');
  assert.equal(simdSupported(), true); // node 18+ runs wasm SIMD
  assert.equal(simd.simd, true);
  assert.equal(scalar.simd, false);
});

test('one JS glue serves both builds of a module: the two link outputs differ only in the .wasm they name', () => {
  const glue = (name) => readFileSync(new URL(`../../web/src/wasm/${name}.js`, import.meta.url), 'utf8').replaceAll(`${name}.wasm`, 'X.wasm');
  assert.equal(glue('quant-scalar'), glue('quant'));
  assert.equal(glue('quant-core-scalar'), glue('quant-core'));
});

test('each quantizer says which module and build it runs', async () => {
  assert.deepEqual([simd, scalar, core, coreScalar].map((q) => [q.module, q.simd]), [['full', true], ['full', false], ['first', true], ['first', false]]);
  await assert.rejects(createQuantizer({ module: 'lite' }), { field: 'module', message: /Unknown module "lite"/ });
});

test('an engine that does not validate the SIMD probe gets the scalar build', async () => {
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false;
  try {
    assert.equal(simdSupported(), false);
    assert.equal((await createQuantizer()).simd, false);
  } finally {
    WebAssembly.validate = validate;
  }
});

function analysisCases() {
  const cases = [];
  for (const rounding of ['half-even', 'half-away', 'half-up', 'floor', 'ceil', 'toward-zero', 'stochastic']) {
    for (const arithmetic of ['float64', 'float32']) cases.push({ bits: 6, mode: 'asymmetric', rounding, arithmetic, seed: 9 });
  }
  cases.push({ bits: 8, range: { min: -1.5, max: 1.5 } }, { bits: 4, mode: 'asymmetric-unsigned' },
    { granularity: 'channel', shape: [7, 5715, 1], axis: 1, bits: 4 }, { granularity: 'group', groupSize: 13, shape: [3077, 13] },
    { calibration: 'percentile', percentile: 99.9 }, { calibration: 'mse', bits: 4 }, { calibration: 'entropy', bits: 6 },
    { format: 'fp8-e4m3' }, { format: 'fp8-e5m2', formatScale: 'amax' }, { format: 'bf16' }, { format: 'fp4-e2m1', formatScale: 'amax' },
    { format: 'mxfp4' }, { format: 'mxint8' }, { format: 'nvfp4' }, { format: 'nf4' },
    { profile: 'pytorch', mode: 'asymmetric', dtype: 'uint8' }, { profile: 'onnx', dtype: 'int8' });
  return cases;
}

test('every kind of analysis: the same numbers from both builds', () => {
  for (const options of analysisCases()) {
    for (const x of [x32, x64]) {
      const values = options.shape ? x.subarray(0, options.shape.reduce((a, b) => a * b, 1)) : x;
      const what = `${JSON.stringify(options)} on ${x.constructor.name}`;
      assert.deepEqual(plain(scalar.analyze(values, options)), plain(simd.analyze(values, options)), what);
    }
  }
});

test('compare, bit sweeps, streams and file headers: the same from both builds', () => {
  const list = [{ bits: 8 }, { bits: 4, calibration: 'mse' }, { format: 'nf4' }];
  assert.deepEqual(scalar.compare(x32, list).map(plain), simd.compare(x32, list).map(plain));
  assert.deepEqual(scalar.sweepBits(x64, { mode: 'asymmetric' }).map(plain), simd.sweepBits(x64, { mode: 'asymmetric' }).map(plain));
  const streamed = (qz) => {
    const st = qz.stream({ bits: 4, calibration: 'percentile' });
    try {
      while (!st.done) {
        for (let a = 0; a < n; a += 4096) st.add(x32.subarray(a, a + 4096));
        st.next();
      }
      return plain(st.finish());
    } finally {
      st.delete();
    }
  };
  assert.deepEqual(streamed(scalar), streamed(simd));
  const st = safetensorsBytes({ a: x32.subarray(0, 6), b: x32.subarray(6, 10) }, { c: { dtype: 'F16', shape: [2], bytes: 4 } });
  assert.deepEqual(scalar.tensorHeader('safetensors', st, st.length), simd.tensorHeader('safetensors', st, st.length));
  const gguf = ggufBytes();
  assert.deepEqual(scalar.tensorHeader('gguf', gguf, gguf.length), simd.tensorHeader('gguf', gguf, gguf.length));
});

test('the first module gives the whole core\'s numbers bit for bit, in both builds, for every integer analysis', () => {
  const integer = analysisCases().filter((o) => !needsFullModule(o));
  assert.ok(integer.length >= 20);
  for (const options of integer) {
    for (const x of [x32, x64]) {
      const values = options.shape ? x.subarray(0, options.shape.reduce((a, b) => a * b, 1)) : x;
      const what = `${JSON.stringify(options)} on ${x.constructor.name}`;
      const want = plain(simd.analyze(values, { ...options, chartBuckets: 64, histogramBins: 33 }));
      assert.deepEqual(plain(core.analyze(values, { ...options, chartBuckets: 64, histogramBins: 33 })), want, what);
      assert.deepEqual(plain(coreScalar.analyze(values, { ...options, chartBuckets: 64, histogramBins: 33 })), want, what);
    }
  }
  const list = [{ bits: 8 }, { bits: 4, calibration: 'mse' }, { granularity: 'group', groupSize: 7, shape: [5715, 7] }];
  assert.deepEqual(core.compare(x64.subarray(0, 40005), list).map(plain), simd.compare(x64.subarray(0, 40005), list).map(plain));
  assert.deepEqual(core.sweepBits(x32).map(plain), simd.sweepBits(x32).map(plain));
  assert.deepEqual(core.stochasticTrials(x32, { bits: 4 }, { trials: 5 }), simd.stochasticTrials(x32, { bits: 4 }, { trials: 5 }));
  assert.deepEqual(core.parseValues('-1.25, 8, 1e-310, 0.1'), simd.parseValues('-1.25, 8, 1e-310, 0.1'));
});

test('the first module refuses what only the whole core does, naming the option', () => {
  const refused = (fn, field) => assert.throws(fn, (e) => e instanceof QuantizerError && e.field === field && /whole core/.test(e.message));
  refused(() => core.analyze(x32, { format: 'fp8-e4m3' }), 'format');
  refused(() => core.analyze(x32, { profile: 'pytorch' }), 'profile');
  refused(() => core.compare(x32, [{ bits: 8 }, { format: 'nf4' }]), 'format');
  refused(() => core.describeFormat({ format: 'fp8-e4m3' }), 'format');
  refused(() => core.tensorHeader('npy', new Uint8Array(16), 16), 'file');
  refused(() => core.stream({ bits: 8 }), 'values');
  const loaded = core.load(x32);
  refused(() => loaded.readFloor(), 'values');
  loaded.delete();
  assert.equal(needsFullModule({ bits: 4, calibration: 'mse' }), false);
  assert.equal(needsFullModule({ format: 'bf16' }), true);
  assert.equal(needsFullModule({ profile: 'onnx' }), true);
  assert.equal(needsFullModule(undefined), false);
});
