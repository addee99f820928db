// The one client of the calculator's worker, for the page and the component. Requests carry an id
// and a type (shared/protocol.js); each resolves with its 'result' or rejects with its 'error'.
//
// A job (`job()`) is exclusive: a new job cancels the one in flight by terminating the worker (the
// only way to stop wasm mid-loop) and starting a fresh one; a job that has its result but still
// waits for its studies is not cancelled (the worker drops stale studies itself). A request
// (`request()`) shares the worker and is answered in turn.
import { cancelled, REPLIES, REQUESTS, toError } from './protocol.js';
import { spawnWorker } from './spawn.js';

export class WorkerClient {
  #worker = null;
  #pending = new Map(); // id → { resolve, reject, onPhase, onProgress, onPartial, onStudies, resolved }
  #job = null; // the id of the exclusive job in flight
  #nextId = 1;
  #setup;

  /** setup: createQuantizer's settings for the worker ({ simd, wasmUrls, module }), or null. */
  constructor(setup = null) {
    this.#setup = setup && Object.keys(setup).length ? setup : null;
  }

  #spawn() {
    const worker = spawnWorker();
    this.#worker = worker;
    if (this.#setup) worker.postMessage({ id: 0, type: REQUESTS.setup, setup: this.#setup });
    worker.onmessage = ({ data }) => this.#receive(data);
    worker.onerror = (event) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#rejectAll(new Error(`The calculator could not start: ${event.message ?? 'worker error'}`));
    };
  }

  #receive(data) {
    const p = this.#pending.get(data.id);
    if (!p) return;
    switch (data.type) {
      case REPLIES.phase:
        return p.onPhase?.(data.phase);
      case REPLIES.progress:
        return p.onProgress?.(data.progress);
      case REPLIES.partial:
        return p.onPartial?.(data.rows);
      case REPLIES.studies:
        this.#pending.delete(data.id);
        return p.onStudies?.(data.studies);
      case REPLIES.error:
        this.#done(data.id);
        return p.reject(toError(data.error));
      case REPLIES.result:
        if (p.onStudies) p.resolved = true; // still pending: the studies follow
        else this.#done(data.id);
        return p.resolve(data.result);
      default:
    }
  }

  #done(id) {
    this.#pending.delete(id);
    if (this.#job === id) this.#job = null;
  }

  #rejectAll(error) {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#job = null;
    for (const p of all) if (!p.resolved) p.reject(error);
  }

  #send(type, payload, handlers, transfer) {
    if (!this.#worker) this.#spawn();
    const id = this.#nextId++;
    return {
      id,
      promise: new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject, ...handlers });
        this.#worker.postMessage({ id, type, ...payload }, transfer ?? []);
      }),
    };
  }

  /**
   * An exclusive job: cancels the job in flight (unless it only waits for its studies).
   * handlers: onPhase(text), onProgress(p), onPartial(rows), onStudies(studies).
   */
  job(type, payload, handlers = {}) {
    const previous = this.#job !== null ? this.#pending.get(this.#job) : null;
    if (previous && !previous.resolved) this.cancel();
    else if (previous) this.#pending.delete(this.#job);
    const { id, promise } = this.#send(type, payload, handlers);
    this.#job = id;
    return promise;
  }

  /** A request answered in turn, beside any job. */
  request(type, payload, handlers = {}) {
    return this.#send(type, payload, handlers).promise;
  }

  /** Stops everything in flight: its callers' promises reject with { cancelled: true }. */
  cancel() {
    if (!this.#worker) return;
    this.#worker.terminate();
    this.#worker = null;
    this.#rejectAll(cancelled());
  }

  /** Whether an exclusive job is computing (not only waiting for its studies). */
  get busy() {
    const p = this.#job !== null ? this.#pending.get(this.#job) : null;
    return Boolean(p && !p.resolved);
  }
}
