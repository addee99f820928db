// One worker, and so one wasm instance, for every <quant-error-calculator> on a page: made when
// the first widget needs a calculation (the wasm loads then, not with the page). Requests are
// answered in turn; a widget ignores an answer that a newer request of its own has overtaken.
let worker = null;
let nextId = 1;
const waiting = new Map();

// The wasm files, named here so that a bundler that takes this module copies them (the worker
// file is opaque to it): the worker is told where they are.
const WASM_URLS = {
  simd: new URL('../wasm/quant.wasm', import.meta.url).href,
  scalar: new URL('../wasm/quant-scalar.wasm', import.meta.url).href,
  coreSimd: new URL('../wasm/quant-core.wasm', import.meta.url).href,
  coreScalar: new URL('../wasm/quant-core-scalar.wasm', import.meta.url).href,
};

function spawn() {
  worker = new Worker(new URL('../worker.js', import.meta.url), { type: 'module' });
  worker.postMessage({ setup: { wasmUrls: WASM_URLS } });
  worker.onmessage = ({ data }) => {
    const w = waiting.get(data.id);
    if (!w || data.phase) return;
    waiting.delete(data.id);
    if (data.error) w.reject(Object.assign(new Error(data.error.message), data.error));
    else w.resolve(data.result);
  };
  worker.onerror = (event) => {
    for (const w of waiting.values()) w.reject(new Error(`The calculator could not start: ${event.message ?? 'worker error'}`));
    waiting.clear();
    worker = null;
  };
}

/** The worker's result for sample text and options (no what-if studies); rejects with { field, index, message }. */
export function calculate(text, options) {
  if (!worker) spawn();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, text, options, studies: false });
  });
}
