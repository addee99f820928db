// The offline single-file build's worker: its code inlined in the page and started from a Blob
// URL (a file:// page can fetch no script file), as a classic worker; the two wasm builds are
// inlined here, once, as data: URLs the worker is told to load (not again inside its own code).
// Everything is on the disk already, so the worker starts with the whole core (the small first
// module, for downloads, is left out of this file).
import InlineWorker from '../worker/worker.js?worker&inline';
import { scalar, simd } from 'virtual:offline-wasm';

export function spawnWorker() {
  const worker = new InlineWorker();
  worker.postMessage({ id: 0, type: 'setup', setup: { wasmUrls: { simd, scalar }, module: 'full' } });
  return worker;
}
