// Seeded inputs for "Through a layer": weights W [out, in] and activations X [tokens, in] for
// exploring without a model of one's own. One xorshift32 stream per tensor drives every draw, so
// (kind, shape, seed) always gives the same float32 values. The command line's --activations
// (src/cli/layer_cli.cpp) draws by the same steps.
//
//   uniform  u = (s + 0.5) / 2^32 in (0, 1), s the next xorshift32 state (13, 17, 5)
//   normal   Box–Muller: r = √(−2·ln u1), z1 = r·cos(2π·u2), z2 = r·sin(2π·u2), both used
export const ACTIVATION_KINDS = Object.freeze({
  normal: 'Normal (0, 1)',
  heavy: 'Heavy-tailed (Student t, 3 degrees of freedom, unit variance)',
  outliers: 'LLM-like: normal, a few channels 20–100× the rest',
  relu: 'ReLU outputs (max(0, z) of a normal z)',
  gelu: 'GELU outputs (tanh form, of a normal z)',
});

function uniforms(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
}

function normals(seed) {
  const u = uniforms(seed);
  let spare = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(u()));
    const a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** The outlier channels of 'outliers' for `inner` channels: max(1, round(in / 256)) of them, each with its factor in [20, 100]. */
export function outlierChannels(inner, seed) {
  const u = uniforms((seed ^ 0x5bd1e995) >>> 0);
  const count = Math.max(1, Math.round(inner / 256));
  const chosen = new Map();
  while (chosen.size < Math.min(count, inner)) {
    const c = Math.min(inner - 1, Math.floor(u() * inner));
    if (!chosen.has(c)) chosen.set(c, 20 + 80 * u());
  }
  return chosen;
}

/** X [tokens, in] of a kind (ACTIVATION_KINDS), float32, row-major. */
export function generateActivations(kind, tokens, inner, seed) {
  if (!Object.hasOwn(ACTIVATION_KINDS, kind)) throw new Error(`Unknown activation kind "${kind}"`);
  const z = normals(seed);
  const out = new Float32Array(tokens * inner);
  const c = Math.sqrt(2 / Math.PI);
  if (kind === 'outliers') {
    const factor = new Float64Array(inner).fill(1);
    for (const [k, f] of outlierChannels(inner, seed)) factor[k] = f;
    for (let i = 0; i < out.length; i++) out[i] = z() * factor[i % inner];
    return out;
  }
  for (let i = 0; i < out.length; i++) {
    if (kind === 'normal') out[i] = z();
    else if (kind === 'relu') out[i] = Math.max(0, z());
    else if (kind === 'gelu') {
      // GELU, tanh form: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const x = z();
      out[i] = 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x)));
    } else {
      // Student t with ν = 3: z / √(χ²₃ / 3), divided by √3 (its standard deviation) for unit variance.
      const x = z();
      const chi = z() ** 2 + z() ** 2 + z() ** 2;
      out[i] = x / Math.sqrt(chi / 3) / Math.sqrt(3);
    }
  }
  return out;
}

/** W [out, in] with normal entries of standard deviation 1/√in (a trained layer's typical scale), float32. */
export function generateWeights(out, inner, seed) {
  const z = normals(seed);
  const w = new Float32Array(out * inner);
  const s = 1 / Math.sqrt(inner);
  for (let i = 0; i < w.length; i++) w[i] = z() * s;
  return w;
}
