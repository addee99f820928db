// What a caller or a file may send to break the instance, one row per case: each must end in a
// QuantizerError naming its field with the message below (or, for a row with `check`, in the
// stated result), within 2 s (a hang guard, not a timing), and the same instance must then give
// the seed example exactly as the golden file has it. Large inputs are made before the clock
// starts; large files are sparse (truncate), never committed.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';
import { checkCase, golden } from './golden.js';

const SEED_TEXT = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const SEED = golden.cases.find((c) => c.name === 'seed004-symmetric');
const HANG_GUARD_MS = 2000;

let qz;
before(async () => {
  qz = await createQuantizer();
});

function seedExact() {
  const r = qz.analyze(qz.parseValues(SEED_TEXT), { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 }, rounding: 'half-even' });
  assert.equal(r.scale, 1.5 / 127);
  checkCase(SEED, r);
}

// Memory the rows share: big blocks stay loaded across the rows of one scenario.
const held = {};
const MB = 1e6;

// { name, prepare?(qz): input made before the clock, run(qz, input), field + message (a string: the
// whole message; a RegExp: a match), or check(result) for a row that must succeed }.
const ROWS = [
  // 1. Unchecked allocations: pointers above 2 GB read negative, a failed allocation was not seen.
  {
    name: '1: two 1.2 GB loads, then a load above 2 GB works (its pointer read unsigned)',
    prepare: (q) => {
      held.x = new Float64Array(150e6);
      held.base = q.heapInUse();
      held.a = q.load(held.x);
      held.b = q.load(held.x);
    },
    run: (q) => {
      held.c = q.load(Float64Array.of(1, 2, 3)); // at 2.4 GB
      return held.c.analyze({ bits: 4 });
    },
    check: (r) => {
      assert.deepEqual(Array.from(r.codes), [2, 5, 7]);
      assert.ok(qz.heapInUse() > 2.4e9, `heapInUse ${qz.heapInUse()} (read unsigned above 2 GB)`);
    },
  },
  {
    name: '1: a third 1.2 GB load fits (3.6 GB), a fourth is not enough memory',
    prepare: (q) => {
      held.d = q.load(held.x);
    },
    run: (q) => q.load(held.x),
    field: 'values',
    message: 'Not enough memory for 150,000,000 samples (1,200 MB)',
  },
  {
    name: '1: a 1.3 GB header beside 3.6 GB of samples (less one): not enough memory, nothing written at address 0',
    prepare: () => {
      held.a.delete();
      return new Uint8Array(1.3e9).fill(0x41);
    },
    run: (q, bytes) => q.tensorHeader('gguf', bytes, bytes.length),
    field: 'file',
    message: "Not enough memory for the file's first 1,300,000,000 bytes (1,300 MB)",
  },
  {
    name: '1: everything deleted, the heap is back where it was (no leak of the failed loads)',
    run: (q) => {
      for (const k of ['b', 'c', 'd']) held[k].delete();
      delete held.x;
      return q.heapInUse();
    },
    check: (inUse) => assert.ok(Math.abs(inUse - held.base) < MB, `heap in use ${inUse}, before ${held.base}`),
  },

  // 3. Legal options whose per-group (or per-sample) records did not fit aborted the instance.
  {
    name: '3: 2^24 groups of one value (aborted the instance)',
    prepare: () => new Float32Array(2 ** 24),
    run: (q, x) => q.analyze(x, { granularity: 'group', groupSize: 1, perSample: false }),
    field: 'groupSize',
    message: /^Not enough memory for 16,777,216 groups \([\d,]+ MB\): choose a larger group size$/,
  },
  {
    name: '3: 2^24 channels of one value each',
    prepare: () => new Float32Array(2 ** 24),
    run: (q, x) => q.analyze(x, { granularity: 'channel', shape: [2 ** 24, 1], axis: 0, perSample: false }),
    field: 'axis',
    message: /^Not enough memory for 16,777,216 channels \([\d,]+ MB\)$/,
  },
  {
    name: '3: a stream of a shape of 2^25 in groups of one: refused before the first chunk',
    run: (q) => q.stream({ granularity: 'group', groupSize: 1, shape: [2 ** 25] }),
    field: 'groupSize',
    message: /^Not enough memory for 33,554,432 groups \([\d,]+ MB\): choose a larger group size$/,
  },
  {
    name: '3: a stream of 2^25 values in groups of one without a shape: refused as the groups grow, nothing kept after delete() (aborted, leaked 805 MB)',
    prepare: (q) => {
      held.base = q.heapInUse();
      return new Float32Array(2 ** 22);
    },
    run: (q, chunk) => {
      const st = q.stream({ granularity: 'group', groupSize: 1 });
      try {
        for (let k = 0; k < 8; k++) st.add(chunk);
      } finally {
        st.delete();
        assert.equal(q.heapInUse(), held.base);
      }
    },
    field: 'groupSize',
    message: /^Not enough memory for 8,388,608 groups \([\d,]+ MB\): choose a larger group size$/,
  },
  {
    name: '3: per-sample results of 2^27 samples (3.9 GB): the memory check is not optimised away',
    prepare: () => new Float32Array(2 ** 27),
    run: (q, x) => q.analyze(x),
    field: 'values',
    message: 'Not enough memory for the per-sample results of 134217728 samples (about 3.9 GB): use perSample: false for the metrics alone',
  },

  // 5. Integers are range-checked before they cross into the core (an int32 there).
  { name: '5: bits 2^32 + 4 (ran as 4 bits)', run: (q) => q.analyze([1, 2], { bits: 2 ** 32 + 4 }), field: 'bits',
    message: 'Bit depth must be a whole number between 2 and 16 (got 4294967300)' },
  { name: '5: bits -2^32 + 8 (ran as 8 bits)', run: (q) => q.analyze([1, 2], { bits: -(2 ** 32) + 8 }), field: 'bits',
    message: 'Bit depth must be a whole number between 2 and 16 (got -4294967288)' },
  { name: '5: a file size below the bytes given', run: (q) => q.tensorHeader('npy', new Uint8Array(16), 8), field: 'file',
    message: 'The file size must be a whole number of bytes, at least the 16 given (got 8)' },
  { name: '5: a file size of -1 (cast to 2^64 - 1 in the core)', run: (q) => q.tensorHeader('gguf', new Uint8Array(0), -1), field: 'file',
    message: 'The file size must be a whole number of bytes, at least the 0 given (got -1)' },
  { name: '5: header bytes that are not bytes', run: (q) => q.tensorHeader('gguf', [71, 71, 85, 70], 4), field: 'file',
    message: 'The header bytes must be a Uint8Array' },

  // 6. Float32 arithmetic summed its terms in float32 lanes, which overflow above √FLT_MAX.
  ...[[2e19, -2e19 / 3, 2e19 / 7, 1e19], [1e30, -3e29, 5e28, 1]].flatMap((v) => ['simd', 'scalar'].map((kernel) => ({
    name: `6: float32 arithmetic on [${v.map((x) => x.toExponential(0)).join(', ')}], the ${kernel} twin: finite sums (sqnrDb was Infinity, cosine null)`,
    run: (q) => q.analyze(Float32Array.from(v), { arithmetic: 'float32', kernel }),
    check: (r) => {
      const x = Float32Array.from(v);
      let x2 = 0, e2 = 0, xxh = 0, xh2 = 0;
      for (let i = 0; i < x.length; i++) {
        x2 += x[i] ** 2;
        e2 += r.errors[i] ** 2;
        xxh += x[i] * r.dequantized[i];
        xh2 += r.dequantized[i] ** 2;
      }
      const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${what}: ${a} vs ${b}`);
      near(r.metrics.mse, e2 / x.length, 'mse');
      near(r.metrics.sqnrDb, 10 * Math.log10(x2 / e2), 'sqnrDb');
      near(r.metrics.cosine, xxh / Math.sqrt(x2 * xh2), 'cosine');
    },
  }))),

  // 12. Errors that were not QuantizerErrors, and a stream that took passes of other lengths.
  {
    name: '12: samples whose buffer was transferred (a TypeError)',
    prepare: () => {
      const x = Float64Array.of(1, 2, 3);
      structuredClone(x.buffer, { transfer: [x.buffer] });
      return x;
    },
    run: (q, x) => q.analyze(x),
    field: 'values',
    message: "The samples' buffer was transferred or detached (sent to a worker?): pass a copy",
  },
  { name: '12: an array-like of length 2^32 (a RangeError)', run: (q) => q.analyze({ length: 2 ** 32 }), field: 'values',
    message: 'Not enough memory for 4,294,967,296 samples (34,360 MB)' },
  { name: '12: an array-like of length -1', run: (q) => q.analyze({ length: -1 }), field: 'values',
    message: 'Samples must be a Float64Array, a Float32Array or an array of numbers' },
  {
    name: '12: stream.delete() twice is fine, a deleted stream says so (an embind error)',
    run: (q) => {
      const st = q.stream({});
      st.delete();
      st.delete();
      st.add(Float64Array.of(1));
    },
    field: 'values',
    message: 'This stream was deleted',
  },
  {
    name: '12: a stream whose quantization pass has fewer values than its range pass (returned a result)',
    run: (q) => {
      const st = q.stream({});
      try {
        st.add(Float64Array.of(1, -2, 3));
        st.next();
        st.add(Float64Array.of(1, -2));
        st.next();
      } finally {
        st.delete();
      }
    },
    field: 'values',
    message: 'Pass 2 (quantization) had 2 values, the first pass 3: every pass takes the same chunks in the same order',
  },
  {
    name: '12: a stream whose quantization pass has more values',
    run: (q) => {
      const st = q.stream({ calibration: 'percentile' });
      try {
        st.add(Float64Array.of(1, -2, 3));
        st.next();
        st.add(Float64Array.of(1, -2, 3, 4));
      } finally {
        st.delete();
      }
    },
    field: 'values',
    message: "Pass 2 (calibration) has more values than the first pass's 3: every pass takes the same chunks in the same order",
  },
  {
    name: '12: an .npy header that says it runs past the file: the reader says so (the page said "the header could not be read")',
    run: (q) => q.tensorHeader('npy', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0xff, 0x7b, 0x7d), 12),
    field: 'file',
    message: 'The .npy header says it is 65545 bytes, but the file has 12',
  },

  // 4. More significant digits than the parser keeps (768): the sticky digit took the place of the
  // kept digits' trailing zeros.
  { name: '4: 0.1, 767 zeros, 1 (read 0.11)', run: (q) => q.parseValues(`0.1${'0'.repeat(767)}1`), check: (x) => assert.deepEqual(Array.from(x), [0.1]) },
  { name: '4: 1, 767 zeros, 1e-768 (read 1.1)', run: (q) => q.parseValues(`1${'0'.repeat(767)}1e-768`), check: (x) => assert.deepEqual(Array.from(x), [1]) },
];

describe('hostile input, one row per case', () => {
  for (const row of ROWS) {
    test(row.name, async () => {
      const input = row.prepare?.(qz);
      const started = performance.now();
      let result, error;
      try {
        result = await row.run(qz, input);
      } catch (e) {
        error = e;
      }
      const ms = performance.now() - started;
      if (row.check) {
        if (error) throw error;
        row.check(result);
      } else {
        assert.ok(error, `no error; returned ${result}`);
        assert.ok(error instanceof QuantizerError, `a ${error?.constructor?.name}, not a QuantizerError: ${error?.message}`);
        assert.equal(error.field, row.field);
        if (row.message instanceof RegExp) assert.match(error.message, row.message);
        else assert.equal(error.message, row.message);
      }
      assert.ok(ms < HANG_GUARD_MS, `${Math.round(ms)} ms`);
      seedExact();
    });
  }
});
