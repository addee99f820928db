// A scheme in words, from its API options: the line that heads a result, a compare row's name, a
// file report's settings. Negative numbers get a true minus sign.
import { CALIBRATIONS, DTYPES, FORMATS, labelOf, MODES, PROFILES, ROUNDINGS, shortOf } from './choices.js';
import { fmt } from './format.js';

const minus = (v) => (v < 0 ? `−${fmt(-v)}` : fmt(v));

/** The range rule in words: "custom range −1.5 … 1.5", "min-max range", "99.9th percentile range". */
export function rangeRule(options) {
  if (options.range) return `custom range ${minus(options.range.min)} … ${minus(options.range.max)}`;
  const c = options.calibration ?? 'minmax';
  return c === 'percentile' ? `${options.percentile ?? 99.99}th percentile range` : `${labelOf(CALIBRATIONS, c).replace(/^Min-max/, 'min-max')} range`;
}

function granularityText(options) {
  if (options.granularity === 'channel') return `per channel (axis ${options.axis ?? 0})`;
  if (options.granularity === 'group') return `per group of ${options.groupSize}`;
  return 'per tensor';
}

/**
 * "8-bit symmetric signed, custom range −1.5 … 1.5, half to even" (and the granularity when it is
 * not per tensor); `short` leaves out what is the default (half to even, per tensor).
 */
export function describeScheme(options, { short = false } = {}) {
  const format = options.format ?? 'int';
  if (format !== 'int') {
    const c = options.customFormat;
    const name = c ? `Custom minifloat E${c.exponentBits}M${c.mantissaBits} bias ${c.bias}` : short ? shortOf(FORMATS, format) : labelOf(FORMATS, format);
    return `${name}${options.formatScale === 'amax' ? ', amax tensor scale' : ''}${options.overflow === 'inf-nan' ? ', overflow to Inf/NaN' : ''}`;
  }
  const where = granularityText(options);
  if (options.profile && options.profile !== 'formula') {
    return [`${shortOf(PROFILES, options.profile)} ${labelOf(DTYPES, options.dtype ?? 'int8')}`, options.mode === 'symmetric' ? 'symmetric' : 'affine',
      options.range ? rangeRule(options) : 'min-max observer', ...(options.reduceRange ? ['reduced range'] : []),
      ...(short && where === 'per tensor' ? [] : [where])].join(', ');
  }
  const mode = short ? shortOf(MODES, options.mode) : labelOf(MODES, options.mode).toLowerCase();
  const rounding = options.rounding ?? 'half-even';
  const parts = [`${options.bits}-bit ${mode}`, rangeRule(options)];
  if (!short || rounding !== 'half-even') parts.push(`${shortOf(ROUNDINGS, rounding)}${rounding === 'stochastic' ? ` (seed ${options.seed ?? 0})` : ''}`);
  if (!short || where !== 'per tensor') parts.push(where);
  return parts.join(', ');
}
