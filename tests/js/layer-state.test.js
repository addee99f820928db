// Through a layer's form state and link (web/src/page/layer-state.js) and its request
// (web/src/page/layer-request.js: toLayerRequest, fieldOfLayerError): what a link carries comes back the
// same, unknown keys are named, long pasted activations are deflated, each bad field is named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fieldOfLayerError, LAYER_PRESETS, layerApplies, toLayerRequest } from '../../web/src/page/layer-request.js';
import { LAYER_DEFAULTS, LAYER_FIELD_IDS, layerFromLink, layerToLink } from '../../web/src/page/layer-state.js';

describe('the layer form\'s link', () => {
  test('defaults make no parameter; changed fields come back as typed; long pasted activations are deflated', async () => {
    assert.deepEqual(await layerToLink(LAYER_DEFAULTS), { param: '', fragment: [] });
    assert.equal(await layerFromLink(null, ''), null);
    const state = { ...LAYER_DEFAULTS, wOut: '4096', wIn: '4096', xTokens: '64', xKind: 'relu', next: 'silu', outScale: '0.5 ' };
    const link = await layerToLink(state);
    assert.equal(link.param, 'wOut=4096&wIn=4096&xKind=relu&xTokens=64&outScale=0.5+&next=silu');
    assert.deepEqual((await layerFromLink(link.param, '')).state, state);
    const long = { ...LAYER_DEFAULTS, xSource: 'pasted', xValues: Array.from({ length: 3000 }, (_, i) => (i % 7) - 3).join(', ') };
    const deflated = await layerToLink(long);
    assert.equal(deflated.fragment[0][0], 'lxz');
    assert.ok(deflated.fragment[0][1].length < long.xValues.length / 4);
    const hash = new URLSearchParams(deflated.fragment).toString();
    assert.deepEqual((await layerFromLink(deflated.param, hash)).state, long);
    const short = await layerToLink({ ...LAYER_DEFAULTS, xValues: '1, 2, 3' });
    assert.deepEqual(short.fragment, [['lx', '1, 2, 3']]);
  });

  test('unknown keys and a damaged fragment are named, the rest is kept', async () => {
    const { state, ignored } = await layerFromLink('wBits=4&colour=red', 'lxz=@@@');
    assert.equal(state.wBits, '4');
    assert.deepEqual(ignored, [{ key: 'layer colour', value: 'red' }, { key: 'layer activations', value: 'the link\'s compressed activations (damaged)' }]);
  });

  test('every field has an element id of its own', () => {
    const ids = Object.values(LAYER_FIELD_IDS);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(LAYER_FIELD_IDS.outZeroPoint, 'layer-out-zero-point');
    assert.ok(Object.keys(LAYER_DEFAULTS).every((k) => k in layerApplies(LAYER_DEFAULTS)));
  });
});

describe('the layer\'s request', () => {
  const ctx = { samples: '1, 2, 3, 4, 5, 6', file: null, tensors: [] };
  test('the defaults: generated W and X, W8 per channel, A8 per tensor, int8 codes from Y\'s range', () => {
    const r = toLayerRequest(LAYER_DEFAULTS, ctx);
    assert.deepEqual(r.inputs, { weights: { generate: { out: 256, in: 1024, seed: 1 } }, activations: { generate: { kind: 'outliers', tokens: 32, seed: 2 } } });
    assert.deepEqual(r.layer, { weightScheme: { bits: 8, mode: 'symmetric', calibration: 'minmax', granularity: 'channel', axis: 0 },
      activationScheme: { bits: 8, mode: 'asymmetric', calibration: 'minmax' }, accumulator: null, overflow: 'wrap', profile: 'formula',
      output: { dtype: 'int8' } });
    assert.deepEqual(r.notes, []);
  });

  test('a float side, per-token activations and block formats: no output codes, and a note says why', () => {
    for (const change of [{ xFormat: 'float' }, { xGranularity: 'token' }, { wFormat: 'mxfp4' }, { wGranularity: 'group' }]) {
      const r = toLayerRequest({ ...LAYER_DEFAULTS, ...change }, ctx);
      assert.equal(r.layer.output, null, JSON.stringify(change));
      assert.match(r.notes[0], /No output codes/);
    }
    assert.equal(toLayerRequest({ ...LAYER_DEFAULTS, xFormat: 'float' }, ctx).layer.activationScheme, null);
    assert.deepEqual(toLayerRequest({ ...LAYER_DEFAULTS, wFormat: 'mxfp4' }, ctx).layer.weightScheme, { format: 'mxfp4' });
    assert.deepEqual(toLayerRequest({ ...LAYER_DEFAULTS, xGranularity: 'token' }, ctx).layer.activationScheme.granularity, 'token');
  });

  test('W from the samples with a shape, pasted X, given output codes, a second layer', () => {
    const r = toLayerRequest({ ...LAYER_DEFAULTS, wSource: 'samples', wShape: '2×3', xSource: 'pasted', xValues: '1 2 3', xShape: '1,3',
      output: 'given', outScale: '0.05', outZeroPoint: '-3', outDtype: 'int8', next: 'gelu', nextOut: '5', nextSeed: '9' }, ctx);
    assert.deepEqual(r.inputs, { weights: { text: '1, 2, 3, 4, 5, 6' }, activations: { text: '1 2 3' }, next: { generate: { out: 5, seed: 9 } } });
    assert.deepEqual(r.layer.weightShape, [2, 3]);
    assert.deepEqual(r.layer.activationShape, [1, 3]);
    assert.deepEqual(r.layer.output, { scale: 0.05, zeroPoint: -3, dtype: 'int8' });
    assert.deepEqual(r.layer.next, { activation: 'gelu' });
    // Its out defaults to the first layer's in.
    assert.deepEqual(toLayerRequest({ ...LAYER_DEFAULTS, next: 'relu' }, ctx).inputs.next, { generate: { out: 1024, seed: 3 } });
  });

  test('every preset is a valid request, its fields the form\'s own', () => {
    for (const [value, , fields] of LAYER_PRESETS) {
      assert.ok(Object.keys(fields).every((k) => k in LAYER_DEFAULTS), value);
      const r = toLayerRequest({ ...LAYER_DEFAULTS, ...fields }, ctx);
      assert.equal(r.problem, undefined, value);
    }
    const fp8 = toLayerRequest({ ...LAYER_DEFAULTS, ...LAYER_PRESETS.find(([v]) => v === 'w8a8-fp8')[2] }, ctx).layer;
    assert.deepEqual([fp8.weightScheme, fp8.activationScheme], [{ format: 'fp8-e4m3' }, { format: 'fp8-e4m3' }]);
  });

  test('each bad field is named, with the text as typed', () => {
    const cases = [
      [{ wOut: '0' }, 'wOut', 'out must be a whole number from 1 to 65\u2009536 (got "0")'],
      [{ wIn: '8192', wOut: '16384' }, 'wIn', 'out × in is 134\u2009217\u2009728 values: at most 67\u2009108\u2009864 here'],
      [{ wSource: 'samples', wShape: '6' }, 'wShape', 'Shape of the samples must be two whole numbers, out,in such as 2,5 (got "6")'],
      [{ wSource: 'file' }, 'wTensor', 'Open a tensor file first (Open a tensor file… in the calculator)'],
      [{ xTokens: '2.5' }, 'xTokens', 'Tokens must be a whole number from 1 to 65\u2009536 (got "2.5")'],
      [{ xTokens: '65536' }, 'xTokens', 'tokens × in is 67\u2009108\u2009864 values: at most 16\u2009777\u2009216 here'],
      [{ xSource: 'pasted' }, 'xValues', 'Paste the activations: tokens × in numbers, row-major'],
      [{ wBits: '17' }, 'wBits', 'Bits must be a whole number from 2 to 16 (got "17")'],
      [{ xGranularity: 'group', xGroupSize: 'x' }, 'xGroupSize', 'Group size must be a whole number from 1 to 16\u2009777\u2009216 (got "x")'],
      [{ output: 'given', outScale: '-1' }, 'outScale', 'Output scale must be a number above 0 (got "-1")'],
      [{ output: 'given', outScale: '1', outZeroPoint: '1.5' }, 'outZeroPoint', 'Output zero point must be a whole number (got "1.5")'],
      [{ next: 'relu', nextOut: 'ten' }, 'nextOut', 'Its out must be a whole number from 1 to 65\u2009536 (got "ten")'],
    ];
    for (const [change, field, message] of cases) assert.deepEqual(toLayerRequest({ ...LAYER_DEFAULTS, ...change }, ctx).problem, { field, message }, JSON.stringify(change));
  });

  test('the API\'s error fields land at the form\'s fields', () => {
    const f = { ...LAYER_DEFAULTS };
    assert.equal(fieldOfLayerError('weightShape', { ...f, wSource: 'samples' }), 'wShape');
    assert.equal(fieldOfLayerError('weightShape', f), 'wIn');
    assert.equal(fieldOfLayerError('activationShape', { ...f, xSource: 'pasted', xShape: '2,5' }), 'xShape');
    assert.equal(fieldOfLayerError('activationShape', { ...f, xSource: 'pasted' }), 'xValues');
    assert.equal(fieldOfLayerError('activationShape', f), 'xTokens');
    assert.equal(fieldOfLayerError('weightScheme.groupSize', f), 'wGroupSize');
    assert.equal(fieldOfLayerError('activationScheme.bits', f), 'xBits');
    assert.equal(fieldOfLayerError('activationScheme.dtype', f), 'xFormat');
    assert.equal(fieldOfLayerError('accumulator', f), 'accumulator');
    assert.equal(fieldOfLayerError('output.scale', f), 'outScale');
    assert.equal(fieldOfLayerError('next.weightShape', f), 'nextOut');
    assert.equal(fieldOfLayerError('weights', { ...f, wSource: 'file' }), 'wTensor');
  });
});
