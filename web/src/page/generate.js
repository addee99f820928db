// Seeded samples for exploring without data of one's own. xorshift32 drives every draw, so a
// (distribution, count, seed) triple always gives the same text.
export const DISTRIBUTIONS = Object.freeze({
  normal: 'Normal (0, 1)',
  laplace: 'Laplace (0, 1)',
  uniform: 'Uniform (−1, 1)',
  bimodal: 'Bimodal (±2, σ 0.5)',
  outliers: 'Normal with 1% outliers at ±8σ',
});

function rng(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32; // (0, 1)
  };
}

export function generateSamples(kind, count, seed) {
  const u = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const draw = {
    normal,
    laplace: () => {
      const v = u() - 0.5;
      return -Math.sign(v) * Math.log(1 - 2 * Math.abs(v));
    },
    uniform: () => 2 * u() - 1,
    bimodal: () => (u() < 0.5 ? -2 : 2) + 0.5 * normal(),
    outliers: () => (u() < 0.01 ? (u() < 0.5 ? -8 : 8) : normal()),
  }[kind];
  if (!draw) throw new Error(`Unknown distribution "${kind}"`);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(draw().toPrecision(6));
  return out;
}
