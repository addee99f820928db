// The format explorer: every value of a small format (≤ 8 bits, or NF4) on a number line with how
// many samples landed on each, and the bit fields of a chosen code. Pure functions here; the
// chart is drawn by charts.js.
import { fmt, hex } from '../shared/format.js';

/** [{ code, value, count }] for every code of the format, with the samples' counts per code. */
export function codeTable(r) {
  const counts = new Map();
  for (const c of r.codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  return Array.from(r.codeValues, (value, code) => ({ code, value, count: counts.get(code) ?? 0 }));
}

/** A code's bit fields and how they make its value, in words and digits (`values` by code). */
export function bitFields(f, values, code) {
  if (f.name === 'nf4') return `Code ${code}: NormalFloat level ${code} of 16 = ${fmt(values[code])}, times the block's absmax.`;
  const e = f.exponentBits, m = f.mantissaBits;
  const bits = code.toString(2).padStart(f.bits, '0');
  const s = bits[0], ebits = bits.slice(1, 1 + e), mbits = bits.slice(1 + e);
  const ev = parseInt(ebits, 2), mv = m ? parseInt(mbits, 2) : 0;
  const sign = s === '1' ? '−' : '+';
  const head = `${hex(code, f.bits)} = ${s} | ${ebits} | ${mbits || '—'}  (sign | exponent | mantissa): `;
  const value = values[code];
  if (Number.isNaN(value)) return `${head}NaN.`;
  if (!Number.isFinite(value)) return `${head}${sign}Inf.`;
  if (ev === 0) return `${head}${mv === 0 ? `${sign}0` : `subnormal: ${sign}2^(1−${f.bias}) × ${mv}/${2 ** m} = ${fmt(value)}`}.`;
  return `${head}${sign}2^(${ev}−${f.bias}) × (1 + ${mv}/${2 ** m}) = ${fmt(value)}.`;
}
