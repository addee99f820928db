// The one module worker that owns the wasm instance. Messages in: { id, text, options };
// out: { id, phase } while working, then { id, result } with typed arrays transferred, or
// { id, error: { field, index, message } }. The page cancels by terminating this worker.
import { explore } from './app/explore.js';
import { createQuantizer, QuantizerError } from './quantizer.js';

const ready = createQuantizer();
let latest = 0; // the newest calculation: older what-if studies stop when it changes

self.onmessage = async ({ data: { id, text, options } }) => {
  latest = id;
  try {
    const qz = await ready;
    self.postMessage({ id, phase: 'Reading the samples' });
    const values = qz.parseValues(text);
    self.postMessage({ id, phase: `Quantizing ${values.length.toLocaleString('en')} samples` });
    const samples = qz.load(values);
    let r;
    try {
      r = samples.analyze(options);
    } catch (e) {
      samples.delete();
      throw e;
    }
    const result = { ...r, values };
    const transfer = [values.buffer, r.codes.buffer, r.dequantized.buffer, r.errors.buffer, r.clipped.buffer];
    if (r.charts) {
      transfer.push(...Object.values(r.charts.buckets).map((a) => a.buffer), r.charts.valueHistogram.counts.buffer,
        r.charts.errorHistogram.counts.buffer);
    }
    // The result goes first; the what-if studies on the same samples follow in a second message.
    self.postMessage({ id, result }, transfer);
    let studies;
    try {
      studies = await explore(samples, options, () => latest !== id);
    } catch (e) {
      studies = { error: e?.message ?? String(e) };
    } finally {
      samples.delete();
    }
    if (studies) self.postMessage({ id, explore: studies });
  } catch (e) {
    const error = e instanceof QuantizerError
      ? { field: e.field, index: e.index, message: e.message }
      : { field: null, index: null, message: `The calculator failed: ${e?.message ?? e}` };
    self.postMessage({ id, error });
  }
};
