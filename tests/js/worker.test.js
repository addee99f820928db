// The page's worker (web/src/worker/worker.js) in node, in this thread: `self` is a stand-in
// that collects the replies, and requests go to its onmessage as the page sends them. An
// instance that traps (a RuntimeError) is let go and the next request gets a fresh one. The trap
// is injected here: every instance the worker makes has its exports wrapped, and the first call
// that `trapWhen` picks (by its arguments) throws the RuntimeError an abort would.
import assert from 'node:assert/strict';
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
