// The page's worker (web/src/worker/worker.js) in node, in this thread: `self` is a stand-in
// that collects the replies, and requests go to its onmessage as the page sends them. An
// instance that traps (a RuntimeError) is let go and the next request gets a fresh one. The trap
// is injected here: every instance the worker makes has its exports wrapped, and the first call
// that `trapWhen` picks (by its arguments) throws the RuntimeError an abort would.
import assert from 'node:assert/strict';
import { mkdtempSync, openAsBlob, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { REPLIES, REQUESTS } from '../../web/src/shared/protocol.js';
import { checkCase, golden } from './golden.js';

const SEED_TEXT = '-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46';
const SEED = golden.cases.find((c) => c.name === 'seed004-symmetric');
const SEED_OPTIONS = { bits: 8, mode: 'symmetric', range: { min: -1.5, max: 1.5 }, rounding: 'half-even' };

let trapWhen = null;
let instances = 0;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...args) => {
  const { instance, module } = await instantiate(...args);
  instances += 1;
  const exports = {};
  for (const [name, value] of Object.entries(instance.exports)) {
    exports[name] = typeof value !== 'function' ? value : (...a) => {
      if (trapWhen?.(a)) {
        trapWhen = null;
        throw new WebAssembly.RuntimeError('Aborted() (injected by the test)');
      }
      return value(...a);
    };
  }
  return { instance: { exports }, module };
};

const replies = [];
globalThis.self = { postMessage: (message) => replies.push(message) };
let nextId = 1;

// One request through the worker's onmessage: its final reply ('result' or 'error').
async function request(type, body) {
  const id = nextId++;
  await self.onmessage({ data: { id, type, ...body } });
  const last = replies.filter((r) => r.id === id && (r.type === REPLIES.result || r.type === REPLIES.error)).at(-1);
  assert.ok(last, `no reply to ${type}`);
  return last;
}

before(async () => {
  await import('../../web/src/worker/worker.js');
  await self.onmessage({ data: { id: 0, type: REQUESTS.setup, setup: { module: 'full' } } }); // no reply
});

const seedExact = async () => {
  const reply = await request(REQUESTS.analyze, { text: SEED_TEXT, options: SEED_OPTIONS, studies: false });
  assert.equal(reply.type, REPLIES.result, reply.error?.message);
  checkCase(SEED, reply.result);
};

test('an instance that traps is replaced: the error says so, the next request works on a fresh one', async () => {
  await seedExact();
  const made = instances;
  trapWhen = () => true;
  const failed = await request(REQUESTS.analyze, { text: SEED_TEXT, options: SEED_OPTIONS, studies: false });
  assert.equal(failed.type, REPLIES.error);
  assert.match(failed.error.message, /^The calculator failed: Aborted\(\) \(injected by the test\) \(the calculator was restarted\)$/);
  await seedExact();
  assert.equal(instances, made + 1, 'a new instance');
});

test('a tensor whose analysis traps keeps its error in its row; the next tensors run on a fresh instance', async () => {
  const { safetensorsBytes } = await import('./tensor-files.js');
  // Tensor a's 777 float32 values are the only block of 3,108 bytes: its load traps.
  const a = Float32Array.from({ length: 777 }, (_, i) => i / 777);
  const file = new File([safetensorsBytes({ a, b: Float32Array.of(-1, 0.5, 4) })], 'two.safetensors');
  const made = instances;
  trapWhen = (args) => args.length === 1 && args[0] === a.byteLength;
  const reply = await request(REQUESTS.report, { file, options: { bits: 8 } });
  assert.equal(reply.type, REPLIES.result);
  const [rowA, rowB] = reply.result.rows;
  assert.match(rowA.error, /^Aborted\(\) \(injected by the test\) \(the calculator was restarted for the next tensors\)$/);
  assert.equal(rowB.error, null);
  assert.equal(rowB.count, 3);
  assert.equal(rowB.scale, 4 / 127);
  assert.equal(instances, made + 1, 'a new instance');
  await seedExact();
});

test('a 60 MB malformed header, then a 2 GB GGUF that lies: each its own error, and the next file is read on the same instance', async (t) => {
  // The page's worker was left failing every later file ("null function or function signature mismatch").
  const dir = mkdtempSync(join(tmpdir(), 'quant-error-worker-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const header = Buffer.from(`{"w":{"dtype":"F32","shape":[${'0,'.repeat(30e6 - 1)}0],"data_offsets":[0,0]}}`);
  writeFileSync(join(dir, 'shape.safetensors'), Buffer.concat([u64(header.length), header]));
  const key = Buffer.from('general.junk');
  writeFileSync(join(dir, 'lying.gguf'), Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(1), u64(key.length), key, u32(9), u32(0), u64(2 ** 40)]));
  truncateSync(join(dir, 'lying.gguf'), 2 ** 31);
  const made = instances;
  for (const [name, message] of [['shape.safetensors', /^shape\.safetensors: Tensor "w": its shape has more than 64 dimensions$/],
    ['lying.gguf', /^lying\.gguf: The GGUF header does not fit the file: metadata "general\.junk": an array of 1099511627776 uint8 values/]]) {
    const file = new File([await openAsBlob(join(dir, name))], name);
    const reply = await request(REQUESTS.report, { file, options: { bits: 8 } });
    assert.equal(reply.type, REPLIES.error, name);
    assert.match(reply.error.message, message);
  }
  const { safetensorsBytes } = await import('./tensor-files.js');
  const good = await request(REQUESTS.report, { file: new File([safetensorsBytes({ w: Float32Array.of(0.5, -1, 2) })], 'good.safetensors'), options: { bits: 8 } });
  assert.equal(good.type, REPLIES.result);
  assert.equal(good.result.rows[0].scale, 2 / 127);
  assert.equal(instances, made, 'no instance was replaced: none trapped');
  await seedExact();
});
