// Malformed and hostile tensor files, each made here by a small generator (large ones sparse,
// with truncate: nothing big is committed), through the command line and the page's reader. A
// command-line row asserts the exit status, the message and, row by row, the tensors still
// reported, with the process's address space bounded (ulimit -v) so that a reader that holds far
// more than it keeps fails; a page row asserts the QuantizerError. No row may take 2 s (a hang
// guard), and the JS instance then gives the seed example exactly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
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

function cli(args) {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `ulimit -v ${MEMORY_KB}; exec "$0" "$@"`, CLI, ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

function seedExact() {
  checkCase(SEED, qz.analyze(qz.parseValues(SEED_TEXT), { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 }, rounding: 'half-even' }));
}

// { name, make(): the file's path, cli: { args?, status, stderr (RegExp), rows?(json rows) },
//   page: { message (RegExp) } or { tensors(list) } }
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
];

describe('hostile tensor files, the command line', () => {
  for (const row of ROWS.filter((r) => r.cli)) {
    test(row.name, () => {
      const path = row.make();
      const r = cli([path, ...(row.cli.args ?? []), '--output', 'json']);
      assert.equal(r.signal, null, `ended by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, row.cli.status, r.stderr);
      assert.match(r.stderr.replaceAll(`quant-error: ${dir}/`, ''), row.cli.stderr);
      row.cli.rows?.(JSON.parse(r.stdout));
      assert.ok(r.ms < HANG_GUARD_MS, `${Math.round(r.ms)} ms`);
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
