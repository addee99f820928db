// The layer's CSV download, by the page's CSV rule (csv.js: RFC 4180, CRLF, text cells that
// begin with = + - @ get an apostrophe, numbers as the shortest text that reads back the same).
// Layout, blocks separated by a blank line: "setting,value" rows; "metric,value" rows (layer 1,
// then layer 2 as layer2_…); the error's parts; the accumulator; one row per output channel
// (SQNR and, with output codes, the requantization multiplier); one row per token; and the
// outputs whose codes differ between the requantization paths. Indices count from 0.
import { csvText } from './csv.js';

const METRICS = ['sqnrDb', 'cosine', 'relativeFrobenius', 'mse', 'rmse', 'mae', 'maxAbsError', 'maxAbsErrorIndex', 'meanError', 'psnrDb'];

/** settings: [[name, value]] (what the page ran); r: qz.layer's result. */
export function buildLayerCsv(settings, r) {
  const rows = [['setting', 'value'], ...settings, [], ['metric', 'value']];
  const metrics = (prefix, x) => {
    for (const k of METRICS) rows.push([`${prefix}${k}`, x.metrics[k]]);
    rows.push([`${prefix}tokens`, x.shape.tokens], [`${prefix}in`, x.shape.in], [`${prefix}out`, x.shape.out]);
  };
  metrics('', r);
  if (r.next) {
    metrics('layer2_', r.next.layer);
    rows.push(['layer2_propagated_sqnr_db', r.next.propagated.sqnrDb], ['layer2_local_sqnr_db', r.next.local.sqnrDb],
      ['layer2_total_sqnr_db', r.next.total.sqnrDb]);
  }
  const p = r.parts;
  rows.push([], ['part', 'energy', 'sqnr_db', 'predicted_energy', 'predicted_sqnr_db']);
  for (const [name, v] of [['weights', p.weights], ['activations', p.activations], ['interaction', p.interaction], ['all', p.simulated]]) {
    rows.push([name, v.energy, v.sqnrDb, v.predicted, v.predictedSqnrDb]);
  }
  rows.push(['accumulator', p.accumulator.energy, null, null, null], ['signal', p.signal, null, null, null]);
  const a = r.accumulator;
  rows.push([], ['accumulator', 'value'], ['type', a.type]);
  if (a.bound !== null) {
    rows.push(['block', a.block], ['product_max', a.productMax], ['bound', a.bound], ['data_bound', a.dataBound], ['max_abs_sum', a.maxAbs],
      ['max_abs_sum_index', a.maxAbsIndex]);
    for (const type of ['int16', 'int32']) {
      const t = a[type];
      rows.push([`${type}_wrapped`, t.wrapped], [`${type}_saturated`, t.saturated], [`${type}_excursions`, t.excursions],
        [`${type}_wrap_sqnr_db`, t.wrapSqnrDb], [`${type}_saturate_sqnr_db`, t.saturateSqnrDb]);
    }
    if (a.avx2Pairs) rows.push(['avx2_pairs_saturated', a.avx2Pairs.saturated]);
  }
  const q = r.requantization;
  if (q) {
    rows.push(['output_profile', q.profile], ['output_scale', q.scale], ['output_zero_point', q.zeroPoint], ['output_qmin', q.qmin], ['output_qmax', q.qmax],
      ['output_derived', q.derived ? 'from the output range' : 'given'], ['output_clipped', q.clipped]);
    for (const path of ['formula', 'onnx', 'tflite', 'qdq']) rows.push([`${path}_differs`, q.differ[path]]);
    for (const [k, v] of Object.entries(q.reasons)) rows.push([`reason_${k}`, v]);
  }
  const perChannelM = q && q.multiplier.length === r.shape.out;
  rows.push([], ['channel', 'sqnr_db', ...(q ? ['real_multiplier', 'multiplier', 'shift', 'onnx_multiplier'] : [])]);
  for (let o = 0; o < r.shape.out; o++) {
    const k = perChannelM ? o : 0;
    rows.push([o, r.perChannel.sqnrDb[o], ...(q ? [q.realMultiplier[k], q.multiplier[k], q.shift[k], q.onnxMultiplier[k]] : [])]);
  }
  rows.push([], ['token', 'sqnr_db']);
  for (let t = 0; t < r.shape.tokens; t++) rows.push([t, r.perToken.sqnrDb[t]]);
  if (q) {
    rows.push([], ['token', 'channel', 'acc', 'acc_times_m', 'exact', 'formula', 'onnx', 'tflite', 'qdq', 'reasons']);
    for (const d of q.differences) rows.push([d.token, d.channel, d.acc, d.value, d.exact, d.formula, d.onnx, d.tflite, d.qdq, d.reasons.join(' ')]);
  }
  // csvText writes an empty row as an empty line.
  return csvText(rows.map((row) => (row.length ? row.map((v) => (Number.isNaN(v) ? null : v)) : [])));
}
