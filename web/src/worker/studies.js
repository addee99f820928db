// What-if studies run in the worker right after a calculation, on the same samples: SQNR and MSE
// for every bit depth, and the MSE (split into rounding and clipping) against the clipping
// threshold, with the range each calibration method would pick marked on it; and stochastic
// rounding over seeded trials beside round-half-to-even.
export const SWEEP_BITS = Array.from({ length: 15 }, (_, i) => i + 2);
export const STOCHASTIC_TRIALS = 32;
export const CLIP_FACTORS = Array.from({ length: 31 }, (_, i) => 0.25 + i * 0.025);

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * `samples` is a loaded Samples handle; `options` the calculation's options (range from samples
 * or custom). Yields between analyses and gives up (returns null) once `stale()` says a newer
 * calculation has arrived, so a new Calculate never waits for an old study.
 */
export async function explore(samples, options, stale = () => false) {
  const base = { ...options, perSample: false, chartBuckets: 0, histogramBins: 0 };
  const step = async (fn) => {
    await pause();
    return stale() ? null : fn();
  };
  const bits = [];
  for (const b of SWEEP_BITS) {
    const s = await step(() => samples.sweepBits(base, { from: b, to: b })[0]);
    if (!s) return null;
    bits.push({ bits: b, sqnrDb: s.metrics.sqnrDb, mse: s.metrics.mse });
  }
  // Thresholds as fractions of the min-max range (symmetric modes: of max|x|), for the tensor as a
  // whole (calibration methods pick one range per tensor).
  const tensor = { ...base, granularity: 'tensor', shape: null };
  const full = samples.analyze({ ...tensor, range: null, calibration: 'minmax' });
  const lo = full.rangeMin, hi = full.rangeMax;
  const amax = Math.max(Math.abs(lo), Math.abs(hi));
  const rangeAt = (f) => (options.mode === 'symmetric' ? { min: -f * amax, max: f * amax } : { min: f * lo, max: f * hi });
  const curve = [];
  for (const f of CLIP_FACTORS) {
    const r = rangeAt(f);
    if (!(r.min < r.max)) continue;
    const m = await step(() => samples.analyze({ ...tensor, range: r }).metrics);
    if (!m) return null;
    curve.push({ factor: f, mse: m.mse, rounding: m.mseRounding, clipping: m.mseClipping });
  }
  const markers = [];
  for (const calibration of ['minmax', 'percentile', 'mse', 'entropy']) {
    const r = await step(() => samples.analyze({ ...tensor, range: null, calibration, percentile: options.percentile ?? 99.99 }));
    if (!r) return null;
    const span = options.mode === 'symmetric' ? Math.max(Math.abs(r.calibration.rangeMin), Math.abs(r.calibration.rangeMax)) / amax
      : (r.calibration.rangeMax - r.calibration.rangeMin) / (hi - lo);
    markers.push({ calibration, factor: span, mse: r.metrics.mse });
  }
  const stochastic = await step(() => samples.stochasticTrials(base, { trials: STOCHASTIC_TRIALS }));
  if (!stochastic) return null;
  return { bits, curve, markers, stochastic };
}

// Float formats against integers of the same width: the integer sweep (symmetric, min-max, per
// tensor) and each element format's SQNR at its width, with the tensor scale chosen on the form.
export const LADDER = ['fp4-e2m1', 'fp6-e2m3', 'fp6-e3m2', 'fp8-e4m3', 'fp8-e5m2', 'bf16', 'fp16'];
const WIDTH = { 'fp4-e2m1': 4, 'fp6-e2m3': 6, 'fp6-e3m2': 6, 'fp8-e4m3': 8, 'fp8-e5m2': 8, bf16: 16, fp16: 16 };

export async function exploreFormats(samples, options, stale = () => false) {
  const base = { perSample: false, chartBuckets: 0, histogramBins: 0 };
  const bits = [];
  for (const b of SWEEP_BITS) {
    await pause();
    if (stale()) return null;
    const m = samples.analyze({ ...base, bits: b, mode: 'symmetric' }).metrics;
    bits.push({ bits: b, sqnrDb: m.sqnrDb, mse: m.mse });
  }
  const formats = [];
  for (const format of LADDER) {
    await pause();
    if (stale()) return null;
    const m = samples.analyze({ ...base, format, formatScale: options.formatScale ?? 'none', overflow: options.overflow ?? 'saturate' }).metrics;
    formats.push({ format, bits: WIDTH[format], sqnrDb: m.sqnrDb, mse: m.mse });
  }
  return { bits, formats, formatScale: options.formatScale ?? 'none' };
}
