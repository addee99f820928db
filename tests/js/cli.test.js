// The native command line (build/native/quant-error) against the JS API: files written by numpy
// (every .npy dtype, both byte orders, Fortran order) and by this test (.safetensors with several
// tensors and dtypes); each reported metric must equal the API's for the same values and options.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { csvCell } from '../../web/src/export/csv.js';
import { createQuantizer, QuantizerError } from '../../web/src/quantizer.js';
import { indexTensorFile, readTensor } from '../../web/src/worker/tensor-files.js';
import { ggufBytes, Q8_0_VALUES } from './tensor-files.js';

const CLI = fileURLToPath(new URL('../../build/native/quant-error', import.meta.url));
let qz, dir, values;

before(async () => {
  qz = await createQuantizer();
  dir = mkdtempSync(join(tmpdir(), 'quant-error-'));
  // numpy writes the files and, beside them, each tensor's values in C order as JSON.
  execFileSync('/usr/bin/python3', ['-c', `
import json, numpy as np
rng = np.random.default_rng(3)
out = {}
def save(name, a):
    np.save(${JSON.stringify(dir)} + '/' + name, a)
    out[name] = [float(v) for v in np.ascontiguousarray(a).reshape(-1)]
save('f32.npy', rng.normal(0, 1, (6, 10)).astype('<f4'))
save('f64-big.npy', rng.normal(0, 3, (50,)).astype('>f8'))
save('f16.npy', rng.normal(0, 1, (40,)).astype('<f2'))
save('fortran.npy', np.asfortranarray(rng.normal(0, 1, (5, 7)).astype('<f4')))
save('i8.npy', rng.integers(-128, 128, (33,)).astype('|i1'))
save('u8.npy', rng.integers(0, 256, (33,)).astype('|u1'))
save('i16-big.npy', rng.integers(-30000, 30000, (20,)).astype('>i2'))
save('i32.npy', rng.integers(-2**31, 2**31 - 1, (20,)).astype('<i4'))
save('scalar.npy', np.array(2.5, dtype='<f4'))
json.dump(out, open(${JSON.stringify(dir)} + '/values.json', 'w'))
`]);
  values = JSON.parse(readFileSync(join(dir, 'values.json'), 'utf8'));
  // A safetensors file: F32 [3, 4], BF16 [8] (float32 values that are exact in bfloat16), I16 [5].
  const f32 = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2);
  const bf = Float32Array.from({ length: 8 }, (_, i) => Math.fround((i - 4) * 0.375));
  const bfBits = new Uint16Array(Uint32Array.from(new Uint32Array(bf.buffer), (b) => b >>> 16));
  const i16 = Int16Array.from([-300, 7, 0, 12345, -1]);
  const header = JSON.stringify({ __metadata__: { by: 'test' }, weight: { dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] },
    'bias.bf16': { dtype: 'BF16', shape: [8], data_offsets: [48, 64] }, ids: { dtype: 'I16', shape: [5], data_offsets: [64, 74] } });
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(dir, 'tiny.gguf'), ggufBytes());
  values['blk.0.weight'] = [1.5, -2, 0.25, 3, -0.5, 4];
  values['blk.0.norm'] = [1, 2, -1];
  values['blk.0.q'] = Q8_0_VALUES;
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([head, Buffer.from(header), Buffer.from(f32.buffer), Buffer.from(bfBits.buffer), Buffer.from(i16.buffer)]));
  values.weight = Array.from(f32);
  values['bias.bf16'] = Array.from(bf);
  values.ids = Array.from(i16);
  // A header that promises 36 bytes of data the file does not have.
  const broken = '{"w": {"dtype": "F32", "shape": [9], "data_offsets": [0, 36]}}';
  const brokenHead = Buffer.alloc(8);
  brokenHead.writeBigUInt64LE(BigInt(broken.length));
  writeFileSync(join(dir, 'broken.safetensors'), Buffer.concat([brokenHead, Buffer.from(broken)]));
});


after(() => rmSync(dir, { recursive: true, force: true }));

function run(args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', cwd: dir });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('quant-error, the command line', () => {
  const files = ['f32.npy', 'f64-big.npy', 'f16.npy', 'fortran.npy', 'i8.npy', 'u8.npy', 'i16-big.npy', 'i32.npy', 'scalar.npy', 'model.safetensors',
    'tiny.gguf'];
  for (const [flags, options] of [
    [['--bits', '4', '--mode', 'asymmetric'], { bits: 4, mode: 'asymmetric' }],
    [['--calibration', 'percentile', '--percentile', '99'], { calibration: 'percentile', percentile: 99 }],
    [['--format', 'fp8-e4m3', '--format-scale', 'amax'], { format: 'fp8-e4m3', formatScale: 'amax' }],
    [['--profile', 'pytorch', '--dtype', 'uint8', '--mode', 'asymmetric'], { profile: 'pytorch', dtype: 'uint8', mode: 'asymmetric' }],
  ]) {
    test(`every tensor's metrics equal the API's: ${flags.join(' ')}`, () => {
      const r = run([...files, ...flags, '--output', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const rows = JSON.parse(r.stdout);
      assert.equal(rows.length, 15);
      assert.equal(rows.find((row) => row.tensor === 'blk.0.q').dtype, 'q8_0'); // dequantized as ggml does
      for (const row of rows.filter((x) => !x.skipped)) {
        const x = Float64Array.from(values[row.tensor]);
        const api = qz.analyze(x, { ...options, perSample: false });
        assert.equal(row.count, x.length, row.tensor);
        assert.equal(row.mse, api.metrics.mse, `${row.tensor}: MSE`);
        // SQNR is 10·log10(Σx²/Σe²) of equal sums; the native C library's log10 may differ from
        // the wasm one's in the last bit.
        if (api.metrics.sqnrDb === Infinity) assert.equal(row.sqnrDb, 'Infinity', row.tensor);
        else assert.ok(Math.abs(row.sqnrDb - api.metrics.sqnrDb) <= 4e-16 * Math.abs(api.metrics.sqnrDb), `${row.tensor}: SQNR ${row.sqnrDb} vs ${api.metrics.sqnrDb}`);
        assert.equal(row.maxAbsError, api.metrics.maxAbsError, `${row.tensor}: max |error|`);
        if (!options.format) assert.equal(row.scale, api.scale, `${row.tensor}: scale`);
      }
    });
  }

  test('large tensors, where the SIMD bodies run (natively through SIMDe): every scheme\'s numbers equal the wasm build\'s exactly', () => {
    // Two tensors of 2^16 + 3 and 64 × 512 float32 values (heavy tails, ties at half steps), so the
    // kernels' SIMD loops, their tails and the block paths all run.
    const a = Float32Array.from({ length: 65539 }, (_, i) => Math.fround(Math.sin(i * 0.37) * (1 + (i % 101 === 0 ? 20 : 0)) + ((i % 7) - 3) / 256));
    const b = Float32Array.from({ length: 64 * 512 }, (_, i) => Math.fround(Math.cos(i * 0.011) * 0.05 * (1 + (i % 512 < 4 ? 40 : 0))));
    const header = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [65539], data_offsets: [0, 4 * a.length] },
      b: { dtype: 'F32', shape: [64, 512], data_offsets: [4 * a.length, 4 * (a.length + b.length)] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(dir, 'large.safetensors'), Buffer.concat([length, header, Buffer.from(a.buffer), Buffer.from(b.buffer)]));
    for (const [flags, options, tensors] of [
      [[], {}, ['a', 'b']],
      [['--arithmetic', 'float32', '--mode', 'asymmetric-unsigned'], { arithmetic: 'float32', mode: 'asymmetric-unsigned' }, ['a', 'b']],
      [['--bits', '4', '--rounding', 'half-away', '--calibration', 'mse'], { bits: 4, rounding: 'half-away', calibration: 'mse' }, ['a', 'b']],
      [['--bits', '4', '--granularity', 'group', '--group-size', '128'], { bits: 4, granularity: 'group', groupSize: 128 }, ['b']],
      [['--granularity', 'channel', '--arithmetic', 'float32'], { granularity: 'channel', arithmetic: 'float32' }, ['b']],
      [['--format', 'fp8-e4m3', '--format-scale', 'amax'], { format: 'fp8-e4m3', formatScale: 'amax' }, ['a', 'b']],
      [['--format', 'mxfp4'], { format: 'mxfp4' }, ['b']],
      [['--format', 'nf4'], { format: 'nf4' }, ['b']],
      [['--format', 'q4_k'], { format: 'q4_k' }, ['b']],
      [['--profile', 'onnx', '--dtype', 'uint8', '--mode', 'asymmetric'], { profile: 'onnx', dtype: 'uint8', mode: 'asymmetric' }, ['a', 'b']],
    ]) {
      const r = run(['large.safetensors', ...flags, ...(tensors.length === 1 ? ['--tensor', `^${tensors[0]}$`] : []), '--output', 'json']);
      assert.equal(r.status, 0, `${flags.join(' ')}: ${r.stderr}`);
      const rows = JSON.parse(r.stdout);
      for (const name of tensors) {
        const row = rows.find((x) => x.tensor === name);
        const x = name === 'a' ? a : b;
        const shaped = options.granularity || options.format === 'q4_k' ? { shape: name === 'a' ? [a.length] : [64, 512] } : {};
        const api = qz.analyze(x, { ...options, ...shaped, perSample: false });
        const what = `${name}, ${flags.join(' ') || 'defaults'}`;
        assert.equal(row.error ?? null, null, what);
        assert.equal(row.mse, api.metrics.mse, `${what}: MSE`);
        assert.equal(row.maxAbsError, api.metrics.maxAbsError, `${what}: max |error|`);
        assert.equal(row.clipRate, api.metrics.clipRate, `${what}: clip rate`);
        if (!options.format && !options.granularity) assert.equal(row.scale, api.scale, `${what}: scale`);
      }
    }
  });

  test('per channel with each tensor\'s own shape, the table, CSV, and the tensor filter', () => {
    const r = run(['f32.npy', 'fortran.npy', '--granularity', 'channel', '--axis', '1', '--output', 'json']);
    assert.equal(r.status, 0, r.stderr);
    for (const row of JSON.parse(r.stdout)) {
      const api = qz.analyze(Float64Array.from(values[row.tensor]), { granularity: 'channel', axis: 1, shape: JSON.parse(row.shape ? JSON.stringify(row.shape) : '[]'), perSample: false });
      assert.equal(row.mse, api.metrics.mse, row.tensor);
      assert.equal(row.scale, null);
    }
    const table = run(['model.safetensors', '--bits', '6']);
    assert.equal(table.status, 0);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0], /^file\s+tensor\s+dtype\s+shape\s+count\s+range\s+scale\s+MSE\s+SQNR dB\s+max\|e\|\s+clip %$/);
    assert.equal(lines.filter((l) => l.startsWith('model.safetensors ')).length, 3);
    assert.match(lines.at(-1), /^model\.safetensors: 25 values, MSE [\d.e-]+, SQNR [\d.]+ dB$/);
    const csv = run(['model.safetensors', '--tensor', '^(weight|ids)$', '--output', 'csv']).stdout.split('\r\n');
    assert.equal(csv[0], 'file,tensor,dtype,shape,count,min,max,scale,zero_point,mse,sqnr_db,max_abs_error,clip_rate,nan,pos_inf,neg_inf,note');
    assert.deepEqual(csv.slice(1, -1).map((l) => l.split(',')[1]), ['weight', 'ids']);
  });

  test('the page\'s reader (web/src/worker/tensor-files.js): the same tensors and values, and the command line\'s metrics', async () => {
    const cli = JSON.parse(run([...files, '--bits', '5', '--output', 'json']).stdout);
    for (const file of files) {
      const blob = new Blob([readFileSync(join(dir, file))]);
      for (const t of (await indexTensorFile(qz, blob, file)).filter((k) => !k.skipped)) {
        const x = await readTensor(qz, blob, t);
        assert.deepEqual(Array.from(x), values[t.name], t.name);
        const r = qz.analyze(x, { bits: 5, perSample: false });
        assert.equal(r.metrics.mse, cli.find((row) => row.tensor === t.name).mse, t.name);
      }
    }
    await assert.rejects(indexTensorFile(qz, new Blob([readFileSync(join(dir, 'broken.safetensors'))]), 'broken.safetensors'),
      (e) => e instanceof QuantizerError && e.field === 'file' && /^broken\.safetensors: Tensor "w": its data/.test(e.message));
    await assert.rejects(indexTensorFile(qz, new Blob(['a,b']), 'table.csv'), /table\.csv: not a \.npy, \.safetensors or \.gguf file/);
  });

  test('a tensor above 2^25 values is read in chunks, pass after pass: the parameters, counts and largest error of one analysis, the MSE to 1e-12', () => {
    const n = 2 ** 25 + 7;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 0.001) * (1 + (i % 97) / 50));
    const header = Buffer.from(JSON.stringify({ big: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(dir, 'big.safetensors'), Buffer.concat([length, header, Buffer.from(x.buffer)]));
    for (const [flags, options] of [[['--bits', '6'], { bits: 6 }], [['--calibration', 'percentile', '--percentile', '99.9'], { calibration: 'percentile', percentile: 99.9 }]]) {
      const r = run(['big.safetensors', ...flags, '--output', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const [row] = JSON.parse(r.stdout);
      const api = qz.analyze(x, { ...options, perSample: false });
      assert.equal(row.count, n);
      assert.equal(row.scale, api.scale, flags.join(' '));
      assert.equal(row.maxAbsError, api.metrics.maxAbsError);
      assert.equal(row.clipRate, api.metrics.clipRate);
      assert.ok(Math.abs(row.mse - api.metrics.mse) <= 1e-12 * api.metrics.mse, `${row.mse} vs ${api.metrics.mse}`);
    }
  });

  test('one CSV rule for both writers: every text cell of the command line is the page\'s csvCell of the same text', () => {
    // Names that spreadsheets run as formulas, and names that need quoting. The command line once
    // left -1+2, +1, +5e3 and -2+3+cmd|' /C calc'!A0 alone (its rule skipped text that began like a number).
    const names = ['-1+2', '+1', '+5e3', "-2+3+cmd|' /C calc'!A0", '=SUM(A1:A9)', '@x', '\tindented', 'cr\rinside', '-0', '0', 'a,b', 'say "hi"',
      'plain.weight'];
    const header = {};
    names.forEach((name, i) => {
      header[name] = { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] };
    });
    const text = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    writeFileSync(join(dir, '=names.safetensors'), Buffer.concat([length, text, Buffer.from(Float32Array.from(names, (_, i) => i).buffer)]));
    const r = run(['=names.safetensors', '--output', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    for (const name of names) {
      const line = `${csvCell('=names.safetensors')},${csvCell(name)},${csvCell('float32')},${csvCell('[1]')},1,`;
      assert.ok(r.stdout.includes(`\r\n${line}`), `${JSON.stringify(name)}: expected a row starting ${JSON.stringify(line)} in\n${r.stdout}`);
    }
  });

  test('NaN and ±Inf: counted and skipped by default (the metrics the finite values\', as the API\'s), refused with --non-finite error', () => {
    // numpy writes a float32 tensor with NaN, +Inf and −Inf; the same values here.
    execFileSync('/usr/bin/python3', ['-c', `
import numpy as np
x = (np.arange(48) * 0.37 % 3 - 1.5).astype('<f4').reshape(6, 8)
x.flat[[0, 9, 30]] = np.nan
x.flat[[10, 47]] = np.inf
x.flat[[11]] = -np.inf
np.save(${JSON.stringify(dir)} + '/holes.npy', x)
`]);
    const x = Float32Array.from({ length: 48 }, (_, i) => (i * 0.37) % 3 - 1.5);
    for (const i of [0, 9, 30]) x[i] = NaN;
    for (const i of [10, 47]) x[i] = Infinity;
    x[11] = -Infinity;
    const finite = x.filter(Number.isFinite);
    for (const [flags, options] of [[[], {}], [['--granularity', 'channel'], { granularity: 'channel', shape: [6, 8] }], [['--format', 'mxfp4'], { format: 'mxfp4' }]]) {
      const r = run(['holes.npy', ...flags, '--output', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const [row] = JSON.parse(r.stdout);
      const api = qz.analyze(x, { ...options, nonFinite: 'skip', perSample: false });
      assert.deepEqual(row.nonFinite, { nan: 3, posInf: 2, negInf: 1 });
      assert.deepEqual(api.nonFinite, row.nonFinite);
      assert.equal(row.count, 48);
      assert.deepEqual([row.min, row.max], [Math.min(...finite), Math.max(...finite)]);
      assert.equal(row.mse, api.metrics.mse, flags.join(' '));
      assert.equal(row.maxAbsError, api.metrics.maxAbsError);
    }
    const csv = run(['holes.npy', 'f32.npy', '--output', 'csv']).stdout.split('\r\n');
    assert.match(csv[1], /,3,2,1,$/);
    assert.match(csv[2], /,0,0,0,$/);
    const table = run(['holes.npy', 'f32.npy']).stdout.trim().split('\n');
    assert.match(table[0], /clip %\s+NaN, Inf$/);
    assert.match(table[1], /^holes\.npy .* 3 NaN, 2 \+Inf, 1 -Inf$/);
    assert.match(table[2], /^f32\.npy .* -$/);
    assert.match(table.find((l) => l.startsWith('holes.npy:')), /^holes\.npy: 42 values \(6 NaN or infinite skipped\), MSE /);
    const refused = run(['holes.npy', '--non-finite', 'error']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /holes\.npy: tensor "holes\.npy": Sample 1 is NaN/);
    assert.equal(run(['holes.npy', '--non-finite', 'maybe']).status, 2);
  });

  test('bad files and options: messages on stderr, the other files still reported, exit 1 or 2', () => {
    const r = run(['broken.safetensors', 'f32.npy', 'missing.npy', 'values.json', '--output', 'json']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broken\.safetensors: Tensor "w": its data \(bytes 0 to 36\) runs past the end of the file \(0 bytes of data\)/);
    assert.match(r.stderr, /missing\.npy: cannot open the file/);
    assert.match(r.stderr, /values\.json: not a \.npy, \.safetensors or \.gguf file/);
    const rows = JSON.parse(r.stdout);
    assert.equal(rows.find((row) => row.tensor === 'f32.npy').error, null);
    assert.equal(run(['f32.npy', '--bits', '40']).status, 2);
    assert.equal(run(['f32.npy', '--tensor', '(']).status, 2);
    assert.equal(run([]).status, 2);
    assert.match(run(['--help']).stdout, /^quant-error: quantization error of the tensors in \.npy, \.safetensors and \.gguf files/);
  });
});
