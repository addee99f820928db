// The command line's --layer (build/native/quant-error) against qz.layer(): weights from a
// .safetensors or .npy tensor, activations from an .npy file or generated (the page's seeded
// draws), each side's scheme as flags; the table, CSV and JSON; bad input named by its option.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createQuantizer } from '../../web/src/quantizer.js';
import { generateActivations, generateWeights } from '../../web/src/shared/layer-inputs.js';

const CLI = fileURLToPath(new URL('../../build/native/quant-error', import.meta.url));
let qz, dir;
const W = generateWeights(40, 96, 7); // [out, in]
const W2 = Float32Array.from({ length: 24 * 96 }, (_, i) => Math.sin(i * 0.37) * 0.1);
const XEVEN = Float32Array.from({ length: 12 * 96 }, (_, i) => Math.sign(Math.sin(i * 0.7)) * (0.6 + 0.4 * Math.abs(Math.cos(i))));
const X = Float32Array.from({ length: 12 * 96 }, (_, i) => Math.cos(i * 0.11) * (i % 96 === 5 ? 30 : 1));

// An .npy file of float32 values (format 1.0, little-endian, C order).
function npy(values, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

function safetensors(tensors) {
  let at = 0;
  const meta = {};
  for (const [name, values, shape] of tensors) {
    meta[name] = { dtype: 'F32', shape, data_offsets: [at, at + values.byteLength] };
    at += values.byteLength;
  }
  const header = JSON.stringify(meta);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([head, Buffer.from(header), ...tensors.map(([, v]) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))]);
}

const run = (args) => spawnSync(CLI, ['--layer', ...args], { encoding: 'utf8' });
const json = (args) => {
  const r = run([...args, '--output', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
};

before(async () => {
  qz = await createQuantizer({ module: 'full' });
  dir = mkdtempSync(join(tmpdir(), 'quant-error-layer-'));
  writeFileSync(join(dir, 'model.safetensors'), safetensors([['proj.weight', W, [40, 96]], ['down.weight', W2, [24, 96]], ['bias', new Float32Array(40), [40]]]));
  writeFileSync(join(dir, 'x.npy'), npy(X, [12, 96]));
  writeFileSync(join(dir, 'x-flat.npy'), npy(X, [12 * 96]));
  writeFileSync(join(dir, 'x-even.npy'), npy(XEVEN, [12, 96]));
  writeFileSync(join(dir, 'x-odd.npy'), npy(X.subarray(0, 100), [100]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const api = (o) => qz.layer({ weights: W, weightShape: [40, 96], activations: X, activationShape: [12, 96],
  weightScheme: { bits: 8, mode: 'symmetric', granularity: 'channel', axis: 0 }, activationScheme: { bits: 8, mode: 'asymmetric' }, ...o });

describe('quant-error --layer', () => {
  test('W8 per channel × A8 with TFLite requantization: every figure is qz.layer()\'s, in JSON and CSV', () => {
    const file = join(dir, 'model.safetensors');
    const args = [file, '--tensor', '^proj', '--activations', join(dir, 'x.npy'), '--requantize', 'tflite'];
    const r = api({ output: 'auto', profile: 'tflite' });
    const j = json(args);
    assert.equal(j.weight_shape, '[40, 96]');
    assert.equal(j.sqnr_db, r.metrics.sqnrDb);
    assert.equal(j.cosine, r.metrics.cosine);
    assert.equal(j.relative_frobenius, r.metrics.relativeFrobenius);
    assert.equal(j.weights_part_sqnr_db, r.parts.weights.sqnrDb);
    assert.equal(j.activations_part_predicted_sqnr_db, r.parts.activations.predictedSqnrDb);
    assert.equal(j.accumulator_max_abs, r.accumulator.maxAbs);
    assert.equal(j.accumulator_bound, r.accumulator.bound);
    assert.equal(j.int16_overflows, r.accumulator.int16.wrapped);
    assert.equal(j.multiplier, r.requantization.multiplier[0]);
    assert.equal(j.shift, r.requantization.shift[0]);
    assert.equal(j.output_scale, r.requantization.scale);
    assert.equal(j.tflite_differs, r.requantization.differ.tflite);
    assert.equal(j.reason_double_rounding, r.requantization.reasons.doubleRounding);
    // Per channel and token: the same sums, 10·log10 by glibc here and by the wasm's libm there
    // (they may differ in the last bit).
    const close = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= 1e-13 * Math.abs(b[i]));
    assert.ok(close(j.perChannelSqnrDb, Array.from(r.perChannel.sqnrDb)), 'per channel');
    assert.ok(close(j.perTokenSqnrDb, Array.from(r.perToken.sqnrDb)), 'per token');
    // The same numbers in the CSV: quantity,value rows, then a row per channel and per token.
    const csv = run([...args, '--output', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.split('\r\n');
    assert.equal(lines[0], 'quantity,value');
    assert.equal(lines.find((l) => l.startsWith('sqnr_db,')), `sqnr_db,${r.metrics.sqnrDb}`);
    const channels = lines.indexOf('channel,sqnr_db');
    assert.match(lines[channels + 40], /^39,\d+\.\d+$/);
    assert.ok(Math.abs(Number(lines[channels + 40].split(',')[1]) - r.perChannel.sqnrDb[39]) <= 1e-13 * r.perChannel.sqnrDb[39]);
    if (r.requantization.differences.length) assert.ok(lines.includes('token,channel,acc,acc_times_m,exact,formula,onnx,tflite,qdq'));
    // And the table names the parts, the accumulator and the multiplier.
    const table = run(args);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^weights +.*model\.safetensors: proj\.weight \[40, 96\], 8-bit symmetric per output channel$/m);
    assert.match(table.stdout, new RegExp(`^accumulator +int32: worst case ${r.accumulator.bound} `, 'm'));
    assert.match(table.stdout, new RegExp(`M [\\d.e-]+ = ${r.requantization.multiplier[0]} x 2\\^\\(${r.requantization.shift[0]} - 31\\)`));
  });

  test('generated activations are the page\'s draws: the same result as qz.layer() on generateActivations()', () => {
    const file = join(dir, 'model.safetensors');
    for (const kind of ['normal', 'heavy', 'outliers', 'relu', 'gelu']) {
      const x = generateActivations(kind, 16, 96, 5);
      const r = qz.layer({ weights: W, weightShape: [40, 96], activations: x, activationShape: [16, 96],
        weightScheme: { bits: 4, mode: 'symmetric', granularity: 'group', groupSize: 32 }, activationScheme: { bits: 8, mode: 'asymmetric', granularity: 'token' } });
      const j = json([file, '--tensor', 'proj', '--activations', kind, '--tokens', '16', '--activation-seed', '5', '--weight-bits', '4',
        '--weight-granularity', 'group', '--weight-group-size', '32', '--activation-granularity', 'token']);
      assert.equal(j.activation_shape, '[16, 96]', kind);
      assert.equal(j.sqnr_db, r.metrics.sqnrDb, kind);
      assert.equal(j.requantization, 'none', 'per-token activations have no one output multiplier');
    }
  });

  test('a float side, an int16 accumulator, a second layer, and an activation file of one axis', () => {
    const file = join(dir, 'model.safetensors');
    // W4A16: the activations stay float, so there is no integer accumulator.
    const wOnly = json([file, '--tensor', 'proj', '--activations', join(dir, 'x-flat.npy'), '--weight-bits', '4', '--activation-bits', 'float']);
    const r = api({ weightScheme: { bits: 4, mode: 'symmetric', granularity: 'channel', axis: 0 }, activationScheme: null });
    assert.equal(wOnly.activation_shape, '[12, 96]', 'one axis of tokens × in values');
    assert.equal(wOnly.sqnr_db, r.metrics.sqnrDb);
    assert.equal(wOnly.accumulator, 'double');
    assert.equal(wOnly.activations_part_sqnr_db, 'Infinity');
    // int16 sums of 8-bit codes overflow where X uses its whole code range on every channel.
    const acc = api({ activations: XEVEN, accumulator: 'int16' });
    const j16 = json([file, '--tensor', 'proj', '--activations', join(dir, 'x-even.npy'), '--accumulator', 'int16', '--out-codes', 'none']);
    assert.equal(j16.accumulator, 'int16');
    assert.equal(j16.int16_overflows, acc.accumulator.int16.wrapped);
    assert.ok(j16.int16_overflows > 0);
    assert.equal(j16.sqnr_db, acc.metrics.sqnrDb);
    // A second layer after GELU, its weights generated as the page's.
    const chain = api({ next: { weights: generateWeights(32, 40, 3), weightShape: [32, 40], activation: 'gelu' } });
    const jc = json([file, '--tensor', 'proj', '--activations', join(dir, 'x.npy'), '--out-codes', 'none', '--next', 'gelu', '--next-out', '32']);
    assert.equal(jc.layer2_sqnr_db, chain.next.total.sqnrDb);
    assert.equal(jc.layer2_propagated_sqnr_db, chain.next.propagated.sqnrDb);
    assert.equal(jc.layer2_local_sqnr_db, chain.next.local.sqnrDb);
  });

  test('bad input: named by its option, exit 1 for inputs the core refuses and 2 for bad flags', () => {
    const file = join(dir, 'model.safetensors');
    const cases = [
      [[file], 1, /2 two-dimensional tensors \(proj\.weight, down\.weight\): choose one with --tensor/],
      [[file, '--tensor', 'nothing'], 1, /no two-dimensional tensor whose name matches --tensor/],
      [[file, '--tensor', 'proj', '--activations', join(dir, 'x-odd.npy')], 1, /x-odd\.npy: shape \[100\]: the activations are \[tokens, in\] with in = 96/],
      [[file, '--tensor', 'proj', '--weight-bits', '16', '--accumulator', 'int16'], 1, /^quant-error --layer: --accumulator: An int16 accumulator cannot hold even one product/],
      [[file, '--tensor', 'proj', '--weight-granularity', 'group', '--weight-group-size', '50'], 1, /^quant-error --layer: --weight-group-size: /],
      [[file, '--tensor', 'proj', '--weight-bits', '3x'], 2, /bad value "3x" for --weight-bits/],
      [[file, '--tensor', 'proj', '--activations', 'uniformish'], 2, /bad value "uniformish" for --activations/],
      [[file, '--tensor', 'proj', '--weight-granularity', 'token'], 2, /--weight-granularity \(tensor, channel or group\)/],
      [[file, '--bits', '4'], 2, /unknown option --bits for a layer/],
      [[], 2, /no weights file given/],
    ];
    for (const [args, status, message] of cases) {
      const r = run(args);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', 'nothing half-printed');
    }
    assert.match(execFileSync(CLI, ['--layer', '--help'], { encoding: 'utf8' }), /^quant-error --layer: a linear layer/);
  });
});
