// The worker's messages. In: { id, type, ...payload } with type one of REQUESTS; out: { id, type,
// ... } with type one of REPLIES. A request ends with one 'result' or one 'error'; an 'analyze'
// request with studies also gets one 'studies' message after its result.
export const REQUESTS = Object.freeze({
  setup: 'setup', // { setup: { simd, wasmUrls, module } }: createQuantizer's settings, before any work
  analyze: 'analyze', // { text, options, studies }: one calculation (+ the what-if studies unless studies: false)
  compare: 'compare', // { text, list }: one result per options object, or { options, error, field }
  describe: 'describe', // { options }: qz.describeFormat(options)
  index: 'index', // { file, source }: a file's tensors, [{ name, bytes, skipped }], in the file's order
  report: 'report', // { file, options, source, only, recipe, imatrix }: every tensor of a file (`only`: the indices to analyse;
  //   recipe: one of RECIPES, each tensor in llama-quantize's type for it; imatrix: a File, importance for ggml's types)
  compareFiles: 'compareFiles', // { original, quantized, imatrix }: qz.compareFiles, a row per tensor as it is compared
  tensor: 'tensor', // { file, name, source, limit, whole }: one tensor's values (or a sample of them)
  layer: 'layer', // { layer, inputs }: qz.layer(layer) with the tensors made or read from inputs' specs (worker.js); the result without them
});

export const REPLIES = Object.freeze({
  phase: 'phase', // { phase }: what the worker does now
  progress: 'progress', // { progress: { done, total, tensor, tensors, name, seconds } }
  partial: 'partial', // { rows }: the report so far (a file's tensors analysed until now)
  result: 'result', // { result }
  studies: 'studies', // { studies }
  error: 'error', // { error: { field, index, message } }
});

/** An error as it crosses to the page: { field, index, message }. */
export const errorReply = (e, field = null) => ({ field: e?.field ?? field, index: e?.index ?? null,
  message: e?.name === 'QuantizerError' || e?.field ? e.message : `The calculator failed: ${e?.message ?? e}` });

/** The Error a page-side caller gets from an error reply (field, index and message kept). */
export const toError = (error) => Object.assign(new Error(error.message), error);

export const cancelled = () => Object.assign(new Error('Cancelled'), { cancelled: true });
