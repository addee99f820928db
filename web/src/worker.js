// The one module worker that owns the wasm instance. Messages in: { id, text, options };
// out: { id, phase } while working, then { id, result } with typed arrays transferred, or
// { id, error: { field, index, message } }. The page cancels by terminating this worker.
import { createQuantizer, QuantizerError } from './quantizer.js';

const ready = createQuantizer();

self.onmessage = async ({ data: { id, text, options } }) => {
  try {
    const qz = await ready;
    self.postMessage({ id, phase: 'Reading the samples' });
    const values = qz.parseValues(text);
    self.postMessage({ id, phase: `Quantizing ${values.length.toLocaleString('en')} samples` });
    const r = qz.analyze(values, options);
    const result = { ...r, values };
    const transfer = [values.buffer, r.codes.buffer, r.dequantized.buffer, r.errors.buffer, r.clipped.buffer];
    if (r.charts) {
      transfer.push(...Object.values(r.charts.buckets).map((a) => a.buffer), r.charts.valueHistogram.counts.buffer,
        r.charts.errorHistogram.counts.buffer);
    }
    self.postMessage({ id, result }, transfer);
  } catch (e) {
    const error = e instanceof QuantizerError
      ? { field: e.field, index: e.index, message: e.message }
      : { field: null, index: null, message: `The calculator failed: ${e?.message ?? e}` };
    self.postMessage({ id, error });
  }
};
