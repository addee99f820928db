import { spawnWorker } from './spawn.js';

// Runs calculations in the worker. A new run cancels the one in flight by terminating its
// worker (the only way to stop wasm mid-loop) and starting a fresh one.
export class Calculator {
  #worker = null;
  #pending = null;
  #nextId = 1;
  #setup;

  /** simd: false runs the scalar build (otherwise the engine's support decides). */
  constructor({ simd } = {}) {
    this.#setup = simd === undefined ? null : { simd };
  }

  #describing = new Map();

  #spawn() {
    this.#worker = spawnWorker();
    if (this.#setup) this.#worker.postMessage({ setup: this.#setup });
    this.#worker.onmessage = ({ data }) => {
      if ('described' in data) {
        const d = this.#describing.get(data.id);
        this.#describing.delete(data.id);
        if (data.error) d?.reject(Object.assign(new Error(data.error.message), data.error));
        else d?.resolve(data.described);
        return;
      }
      const p = this.#pending;
      if (!p || data.id !== p.id) return;
      if (data.phase) return p.onPhase?.(data.phase);
      if (data.explore) {
        this.#pending = null;
        return p.onExplore?.(data.explore);
      }
      if (data.progress) return p.onPhase?.(data.progress);
      if (data.report || data.tensor) {
        this.#pending = null;
        return p.resolve(data.report ?? data.tensor);
      }
      if (data.compared) {
        this.#pending = null;
        return p.resolve(data.compared);
      }
      if (data.error) {
        this.#pending = null;
        p.reject(Object.assign(new Error(data.error.message), data.error));
      } else {
        p.resolved = true; // still pending: the what-if studies follow
        p.resolve(data.result);
      }
    };
    this.#worker.onerror = (event) => {
      const p = this.#pending;
      this.#pending = null;
      this.#worker = null;
      p?.reject(new Error(`The calculator could not start: ${event.message ?? 'worker error'}`));
    };
  }

  /**
   * Resolves with the worker's result; rejects with { field, index, message } on bad input.
   * `onExplore` later receives the what-if studies (bit sweep, clipping curve) of the same run.
   */
  run(text, options, onPhase, onExplore) {
    return this.#start({ text, options }, onPhase, onExplore);
  }

  /** Resolves with one entry per options object: a result without per-sample arrays, or { options, error, field }. */
  compare(text, list, onPhase) {
    return this.#start({ text, compare: list }, onPhase);
  }

  /**
   * The per-tensor report of a tensor file (a File); onProgress({ done, total, tensor, tensors,
   * name, seconds }); `source` describes a raw ({ raw: { dtype, bigEndian, shape } }) or CSV
   * ({ csv: { column } }) file.
   */
  report(file, options, onProgress, source = null) {
    return this.#start({ file, options, source }, onProgress);
  }

  /**
   * One tensor of a tensor file: { name, shape, values }; above `limit` values a uniform random
   * sample of `limit` in the tensor's order, with sampleOf (the tensor's count) and the whole
   * tensor's histograms ({ count, value, error }; `whole` as the worker's sendTensor takes it).
   */
  tensor(file, name, source = null, limit = Infinity, whole = null) {
    return this.#start({ file, open: name, source, limit, whole });
  }

  #start(message, onPhase, onExplore) {
    // A calculation still computing is stopped with its worker; a finished one whose studies are
    // still running needs no such thing: the worker drops them when the new message arrives.
    if (this.#pending?.resolved) this.#pending = null;
    else if (this.#pending) this.cancel();
    if (!this.#worker) this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending = { id, resolve, reject, onPhase, onExplore };
      this.#worker.postMessage({ id, ...message });
    });
  }

  /** A format's definition (qz.describeFormat) from the worker, without disturbing a calculation. */
  describe(options) {
    if (!this.#worker) this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#describing.set(id, { resolve, reject });
      this.#worker.postMessage({ id, describe: options });
    });
  }

  cancel() {
    if (!this.#pending) return;
    const p = this.#pending;
    this.#pending = null;
    this.#worker.terminate();
    this.#worker = null;
    for (const d of this.#describing.values()) d.reject(Object.assign(new Error('Cancelled'), { cancelled: true }));
    this.#describing.clear();
    p.reject(Object.assign(new Error('Cancelled'), { cancelled: true })); // ignored once resolved
  }
}
