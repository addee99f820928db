// Malformed and hostile tensor files, each made here by a small generator (large ones sparse,
// with truncate: nothing big is committed), through the command line and the page's reader. A
// command-line row asserts the exit status, the message and, row by row, the tensors still
// reported, with the process's address space bounded (ulimit -v) so that a reader that holds far
// more than it keeps fails; a page row asserts the QuantizerError. No row may take 2 s (a hang
// guard), and the JS instance then gives the seed example exactly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';
import { indexTensorFile } from '../../web/src/worker/tensor-files.js';
import { checkCase, golden } from './golden.js';

const CLI = fileURLToPath(new URL('../../build/native/quant-error', import.meta.url));
const SEED_TEXT = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const SEED = golden.cases.find((c) => c.name === 'seed004-symmetric');
const HANG_GUARD_MS = 2000;
// The command line's address space in KB: the readers hold what they keep, so a few hundred MB do.
const MEMORY_KB = 400_000;

let qz, dir;
before(async () => {
  qz = await createQuantizer();
  dir = mkdtempSync(join(tmpdir(), 'quant-error-hostile-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
const gstr = (t) => Buffer.concat([u64(Buffer.byteLength(t)), Buffer.from(t)]);

function safetensors(header, data = Buffer.alloc(0)) {
  const text = Buffer.from(header);
  return Buffer.concat([u64(text.length), text, data]);
}

// Writes a file into the test's folder (bytes, then an optional sparse size) and returns its path.
function file(name, bytes, size = null) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  if (size !== null) truncateSync(path, size);
  return path;
}

function cli(args, memoryKb = MEMORY_KB) {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `ulimit -v ${memoryKb}; exec "$0" "$@"`, CLI, ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

function seedExact() {
  checkCase(SEED, qz.analyze(qz.parseValues(SEED_TEXT), { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 }, rounding: 'half-even' }));
}

// { name, make(): the file's path (or paths), cli: { args?, status, stderr (RegExp), rows?(json
//   rows) }, memoryKb?, guardMs?, page: { message (RegExp) } or { tensors(list) } }
const ROWS = [
  {
    name: '2: a 60 MB .safetensors header whose shape is 30 M zeros (took 36 s and 6.9 GB)',
    make: () => file('shape.safetensors', safetensors(`{"w":{"dtype":"F32","shape":[${'0,'.repeat(30e6 - 1)}0],"data_offsets":[0,0]}}`)),
    cli: { status: 1, stderr: /shape\.safetensors: Tensor "w": its shape has more than 64 dimensions\n$/ },
    page: { message: /^shape\.safetensors: Tensor "w": its shape has more than 64 dimensions$/ },
  },
  {
    name: '2: __metadata__ of 20 M empty arrays beside one tensor: skipped, not kept (took 11 s and 4.6 GB)',
    make: () => file('meta.safetensors', safetensors(`{"__metadata__":{"a":[${'[],'.repeat(20e6 - 1)}[]]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
      Buffer.from(Float32Array.of(1.5, -2).buffer))),
    cli: { status: 0, stderr: /^$/, rows: (rows) => assert.deepEqual(rows.map((r) => [r.tensor, r.count, r.max]), [['w', 2, 1.5]]) },
    page: { tensors: (list) => assert.deepEqual(list.map((t) => [t.name, t.count]), [['w', 2]]) },
  },
  {
    name: '2: a 60-byte GGUF header claiming a 2^40-byte metadata array, in a sparse 2 GB file (both readers read the whole file)',
    make: () => file('lying.gguf', Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), gstr('general.junk'), u32(9), u32(0), u64(2 ** 40)]), 2 ** 31),
    cli: { status: 1, stderr: /lying\.gguf: The GGUF header does not fit the file: metadata "general\.junk": an array of 1099511627776 uint8 values need at least 1099511627776 bytes from byte 60, past the end of the file \(2147483648 bytes\)\n$/ },
    page: { message: /^lying\.gguf: The GGUF header does not fit the file: metadata "general\.junk": an array of 1099511627776 uint8 values need at least 1099511627776 bytes from byte 60, past the end of the file \(2147483648 bytes\)$/ },
  },

  // 7. The command line: std::regex's recursion on long names, a failed allocation that ended
  // every row, and tensors read whole.
  {
    name: '7: a 50,000-byte tensor name with --tensor \'a.*b|^w$\' (SIGSEGV in std::regex)',
    make: () => file('long-name.safetensors', safetensors(JSON.stringify({ ['a'.repeat(50000)]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), Buffer.from(Float32Array.of(1, 2).buffer))),
    cli: { args: ['--tensor', 'a.*b|^w$'], status: 0, stderr: /^$/, rows: (rows) => assert.deepEqual(rows.map((r) => r.tensor), ['w']) },
  },
  {
    name: '7: the same name matched by --tensor \'^a+$\' and a pattern of nested repeats that backtracks exponentially',
    make: () => file('long-name.safetensors', safetensors(JSON.stringify({ ['a'.repeat(50000)]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), Buffer.from(Float32Array.of(1, 2).buffer))),
    cli: { args: ['--tensor', '^a+$|^(a|a)*b$'], status: 0, stderr: /^$/, rows: (rows) => assert.deepEqual(rows.map((r) => r.count), [1]) },
  },
  {
    name: '7: a 2 GiB tensor among good files, the address space bounded to 1 GB: streamed in chunks (bad_alloc, SIGABRT, no row at all)',
    make: () => {
      const n = 2 ** 29;
      const header = Buffer.from(JSON.stringify({ big: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }));
      const path = file('big.safetensors', Buffer.concat([u64(header.length), header, Buffer.from(Float32Array.of(1.5, -2).buffer)]), 8 + header.length + 4 * n);
      return [file('small.safetensors', safetensors(JSON.stringify({ s: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }),
        Buffer.from(Float32Array.of(0.5, -1, 3).buffer))), path];
    },
    memoryKb: 1_000_000,
    guardMs: 120_000, // 2^30 values read and quantized (two passes), not a hostile case's time
    cli: { status: 0, stderr: /^$/, rows: (rows) => assert.deepEqual(rows.map((r) => [r.tensor, r.count, r.min, r.max, r.error]),
      [['s', 3, -1, 3, null], ['big', 2 ** 29, -2, 1.5, null]]) },
  },
  {
    name: '7: a Fortran-ordered tensor that does not fit the bounded address space (read whole): its own row\'s error, the others reported',
    make: () => {
      const n = 2 ** 26;
      let dict = `{'descr': '<f4', 'fortran_order': True, 'shape': (${n / 64}, 64), }`;
      while ((10 + dict.length + 1) % 64) dict += ' ';
      dict += '\n';
      const head = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(dict.length).buffer), Buffer.from(dict)]);
      const path = file('fortran.npy', head, head.length + 4 * n);
      return [path, file('small.safetensors', safetensors(JSON.stringify({ s: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }),
        Buffer.from(Float32Array.of(0.5, -1, 3).buffer)))];
    },
    cli: { status: 1, stderr: /^fortran\.npy: tensor "fortran\.npy": not enough memory for this tensor \(537 MB to read it whole\)\n$/,
      rows: (rows) => assert.deepEqual(rows.map((r) => [r.tensor, r.error === null]), [['fortran.npy', false], ['s', true]]) },
  },

  // 11. An empty tensor is a row with count 0 (its conversion passed a null pointer to memcpy).
  {
    name: '11: an empty tensor beside a full one: listed with count 0, not an error (it was "No samples")',
    make: () => file('empty.safetensors', safetensors(JSON.stringify({ e: { dtype: 'F32', shape: [0, 8], data_offsets: [0, 0] },
      w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), Buffer.from(Float32Array.of(1, -1).buffer))),
    cli: { status: 0, stderr: /^$/, rows: (rows) => assert.deepEqual(rows.map((r) => [r.tensor, r.count, r.skipped, r.error]),
      [['e', 0, 'empty: shape [0, 8] holds no values', null], ['w', 2, null, null]]) },
    page: { tensors: (list) => assert.deepEqual(list.map((t) => [t.name, t.count, t.skipped]), [['e', 0, 'empty: shape [0, 8] holds no values'], ['w', 2, '']]) },
  },

  // 12. The page's message for an .npy header longer than the file (the command line's was right).
  {
    name: '12: an .npy whose header length runs past the file',
    make: () => file('long-header.npy', Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0xff, 0x7b, 0x7d])),
    cli: { status: 1, stderr: /^long-header\.npy: The \.npy header says it is 65545 bytes, but the file has 12\n$/ },
    page: { message: /^long-header\.npy: The \.npy header says it is 65545 bytes, but the file has 12$/ },
  },

  // 14. What the formats' own readers refuse (two rows of one name, before).
  {
    name: '14: a .safetensors name given twice',
    make: () => file('twice.safetensors', safetensors('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      Buffer.from(Float32Array.of(1, 2).buffer))),
    cli: { status: 1, stderr: /^twice\.safetensors: Tensor "w" appears twice in the header\n$/ },
    page: { message: /^twice\.safetensors: Tensor "w" appears twice in the header$/ },
  },
  {
    name: '14: GGUF tensors whose data overlap, at misaligned offsets, or with a uint64 general.alignment',
    make: () => {
      const tensor = (name, offset) => Buffer.concat([gstr(name), u32(1), u64(4), u32(0), u64(offset)]);
      const gguf = (kv, tensors) => {
        const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors.length), u64(kv.length), ...kv, ...tensors]);
        return Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32), Buffer.alloc(64)]);
      };
      return [file('overlap.gguf', gguf([], [tensor('a', 0), tensor('b', 0)])), file('misaligned.gguf', gguf([], [tensor('a', 0), tensor('b', 16)])),
        file('align64.gguf', gguf([Buffer.concat([gstr('general.alignment'), u32(10), u64(16)])], [tensor('a', 0)]))];
    },
    cli: { status: 1, stderr: /^overlap\.gguf: GGUF tensors "a" and "b" overlap in the file\nmisaligned\.gguf: GGUF tensor "b": its data offset 16 is not a multiple of the alignment \(32\)\nalign64\.gguf: GGUF general\.alignment must be a uint32 \(got uint64\)\n$/ },
  },
];

describe('hostile tensor files, the command line', () => {
  for (const row of ROWS.filter((r) => r.cli)) {
    test(row.name, () => {
      const paths = [row.make()].flat();
      const r = cli([...paths, ...(row.cli.args ?? []), '--output', 'json'], row.memoryKb);
      assert.equal(r.signal, null, `ended by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, row.cli.status, r.stderr);
      assert.match(r.stderr.replaceAll(`quant-error: ${dir}/`, ''), row.cli.stderr);
      row.cli.rows?.(JSON.parse(r.stdout));
      assert.ok(r.ms < (row.guardMs ?? HANG_GUARD_MS), `${Math.round(r.ms)} ms`);
    });
  }
});

describe('hostile tensor files, the page\'s reader', () => {
  for (const row of ROWS.filter((r) => r.page)) {
    test(row.name, async () => {
      const path = row.make();
      const blob = await openAsBlob(path);
      const name = path.slice(dir.length + 1);
      const started = performance.now();
      let list, error;
      try {
        list = await indexTensorFile(qz, blob, name);
      } catch (e) {
        error = e;
      }
      const ms = performance.now() - started;
      if (row.page.message) {
        assert.ok(error instanceof QuantizerError, `expected a QuantizerError, got ${error ?? JSON.stringify(list)}`);
        assert.equal(error.field, 'file');
        assert.match(error.message, row.page.message);
      } else {
        if (error) throw error;
        row.page.tensors(list);
      }
      assert.ok(ms < HANG_GUARD_MS, `${Math.round(ms)} ms`);
      seedExact();
    });
  }
});
