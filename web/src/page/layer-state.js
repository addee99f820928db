// "Through a layer": its form's state, one object of field texts as typed (like form-state.js
// for the calculator), and how a link carries it: every setting that differs from the defaults in
// the query's `layer` parameter (itself key=value pairs), pasted activations in the fragment
// (#lx=…, or #lxz=… deflated as the samples are when long). The view's code (layer.js, loaded on
// demand) reads and draws this state; the page loads only this small part at first.
import { compressText, COMPRESS_ABOVE, decompressText } from './form-state.js';

export const LAYER_DEFAULTS = Object.freeze({
  wSource: 'generated', // 'generated' | 'samples' (the calculator's) | 'file' (a tensor of the open file)
  wShape: '',
  wTensor: '',
  wOut: '256',
  wIn: '1024',
  wSeed: '1',
  wFormat: 'int', // 'float' (not quantized), 'int', or a float or block format
  wBits: '8',
  wMode: 'symmetric',
  wGranularity: 'channel', // 'tensor' | 'channel' (per output channel) | 'group' (along in)
  wGroupSize: '128',
  wCalibration: 'minmax',
  xSource: 'generated', // 'generated' | 'pasted'
  xKind: 'outliers',
  xTokens: '32',
  xSeed: '2',
  xValues: '',
  xShape: '',
  xFormat: 'int',
  xBits: '8',
  xMode: 'asymmetric',
  xGranularity: 'tensor', // 'tensor' | 'token' (dynamic, per token) | 'group' (along in)
  xGroupSize: '128',
  xCalibration: 'minmax',
  accumulator: 'auto', // 'auto' | 'int32' | 'int16' | 'float32'
  overflow: 'wrap',
  profile: 'formula',
  output: 'auto', // 'none' | 'auto' | 'given'
  outScale: '',
  outZeroPoint: '',
  outDtype: 'int8',
  next: 'none', // 'none' | 'relu' | 'gelu' | 'silu'
  nextOut: '',
  nextSeed: '3',
});

// Field key → element id (the link uses the keys).
export const LAYER_FIELD_IDS = Object.freeze(Object.fromEntries(Object.keys(LAYER_DEFAULTS).map((k) => [k,
  `layer-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`])));

/** The layer's form as the page shows it now. */
export function readLayerForm(doc) {
  return Object.fromEntries(Object.entries(LAYER_FIELD_IDS).map(([k, id]) => [k, doc.getElementById(id)?.value ?? LAYER_DEFAULTS[k]]));
}

/** The link's parts for a layer state: { param (the query's `layer`, '' when all default), fragment: [[key, value]] }. */
export async function layerToLink(state) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (k !== 'xValues' && v !== LAYER_DEFAULTS[k]) params.set(k, v);
  const fragment = [];
  if (state.xValues) {
    const z = state.xValues.length > COMPRESS_ABOVE && typeof CompressionStream === 'function' ? await compressText(state.xValues) : null;
    fragment.push(z === null ? ['lx', state.xValues] : ['lxz', z]);
  }
  return { param: params.toString(), fragment };
}

/**
 * The layer state a link describes (defaults for the rest), and the keys it names that are not
 * fields: { state, ignored: [{ key, value }] }, or null when the link has no layer settings. A
 * value is kept as typed: a bad one is the form's to report when the layer runs.
 */
export async function layerFromLink(param, hash) {
  const h = new URLSearchParams(hash);
  if (param === null && !h.has('lx') && !h.has('lxz')) return null;
  const state = { ...LAYER_DEFAULTS };
  const ignored = [];
  for (const [k, v] of new URLSearchParams(param ?? '')) {
    if (Object.hasOwn(LAYER_DEFAULTS, k) && k !== 'xValues') state[k] = v;
    else ignored.push({ key: `layer ${k}`, value: v });
  }
  if (h.has('lx')) state.xValues = h.get('lx');
  else if (h.has('lxz')) {
    try {
      state.xValues = await decompressText(h.get('lxz'));
    } catch {
      ignored.push({ key: 'layer activations', value: 'the link\'s compressed activations (damaged)' });
    }
  }
  return { state, ignored };
}
