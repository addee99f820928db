// ggml's block types (gguf_quants.h). Each quantizer is written from ggml's reference algorithm
// (ggml-quants.c at d99724f) and reproduces its float32 arithmetic operation by operation: a
// comment gives the equation and the rounding; the code keeps ggml's association, its strict and
// non-strict comparisons (which decide ties between equal candidates) and its integer wrap-arounds.
#include "gguf_quants.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "simd.h"

namespace qe {

namespace {

constexpr int kSuper = 256;               // QK_K: the K-quants' and IQ4_XS's super-block
constexpr float kGroupMaxEps = 1e-15f;    // below this amax a (sub-)block counts as all zero

// ---------------------------------------------------------------- float32 and byte helpers

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
void put_half(uint8_t* p, float f) { put16(p, fp32_to_fp16(f)); }
float get_half(const uint8_t* p) { return fp16_to_fp32(get16(p)); }

// ggml's nearest_int: adding 1.5·2^23 leaves round-half-even(v) in the low 23 bits of the sum's
// encoding (exact for |v| < 2^22; beyond that, and for NaN, the same bits ggml reads).
int nearest(float v) {
  const float t = v + 12582912.0f;
  return static_cast<int>(bits_of(t) & 0x007fffff) - 0x00400000;
}

// C's float → int conversion as x86-64 performs it (cvttss2si): toward zero, and INT32_MIN for NaN
// or a value outside int32 (where C leaves it undefined). Narrower targets take its low byte.
int32_t trunc_i32(float v) {
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(v);
}
int8_t trunc_i8(float v) { return static_cast<int8_t>(trunc_i32(v)); }
uint8_t trunc_u8(float v) { return static_cast<uint8_t>(trunc_i32(v)); }

// lroundf (half away from zero) as glibc computes it on x86-64: LONG_MIN for NaN and values
// beyond a 64-bit long.
int64_t lround_x86(float v) {
  if (!(v > -9.2233720368547758e18f && v < 9.2233720368547758e18f)) return INT64_MIN;
  return std::llround(v);
}

int clamp_int(int v, int lo, int hi) { return std::max(lo, std::min(hi, v)); }

// ggml's E8M0 scale halved (its FP4 levels are doubled): 2^(e − 128), the two smallest as subnormals.
float e8m0_half(uint8_t e) {
  return e < 2 ? float_of(0x00200000u << e) : float_of(static_cast<uint32_t>(e - 1) << 23);
}

// ggml's UE4M3 scale code → value · ½: exponent bits 6–3 (bias 7), mantissa bits 2–0; 0 and 0x7F
// are 0. Bit 7 is ignored, as ggml ignores it.
float ue4m3_half(uint8_t c) {
  if (c == 0 || c == 0x7F) return 0.0f;
  const int e = (c >> 3) & 0xF, m = c & 0x7;
  const float v =
      e == 0 ? std::ldexp(static_cast<float>(m), -9) : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
  return v * 0.5f;
}

// ggml's float32 → UE4M3: not positive → 0; above 448 → 448; the mantissa's top three bits
// rounded half up by the fourth (no ties to even); an exponent beyond UE4M3's (v ≥ 256, or a
// carry into it) → 0x7E = 448; below 2^−6, m = trunc(v·512 + ½) clamped to 7, 0 if it is 0.
uint8_t fp32_to_ue4m3(float x) {
  if (!(x > 0.0f)) return 0;
  if (x > 448.0f) x = 448.0f;
  const uint32_t b = bits_of(x);
  int e = static_cast<int>((b >> 23) & 0xFF) - 127 + 7;
  if (e <= 0) {
    int m = trunc_i32(x * 512.0f + 0.5f);
    if (m > 7) m = 7;
    return m < 1 ? 0 : static_cast<uint8_t>(m);
  }
  if (e >= 15) return 0x7E;
  int m = static_cast<int>((b >> 20) & 0x7) + static_cast<int>((b >> 19) & 1);
  if (m > 7) {
    m = 0;
    if (++e >= 15) return 0x7E;
  }
  return static_cast<uint8_t>(e << 3 | m);
}

// The FP4 E2M1 levels doubled, by code (sign in bit 3), as ggml tables them for MXFP4 and NVFP4.
constexpr int8_t kFp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// The FP4 code whose level·e is nearest to x (ggml's best_index_mxfp4): |level·e − x| is compared
// in code order and only a strictly smaller one wins, so a tie goes to the smaller magnitude and
// zero (code 0 before −0's code 8) wins for negative x too.
uint8_t fp4_code_scan(float x, float e) {
  int best = 0;
  float best_err = std::fabs(static_cast<float>(kFp4Doubled[0]) * e - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(static_cast<float>(kFp4Doubled[i]) * e - x);
    if (err < best_err) best = i, best_err = err;
  }
  return static_cast<uint8_t>(best);
}

// The same code from two candidates. The levels of x's opposite sign are never strictly nearer
// than zero (|m·e + |x|| ≥ |x|), and among the magnitudes k·e (k = 0, 1, 2, 3, 4, 6, 8, 12) the
// errors grow away from the two around |x| by at least e; when e exceeds |x|'s ulp, rounding cannot
// make a farther error equal, so the scan's answer is the nearer of those two, the lower on a tie.
// Otherwise (a saturated or zero scale, NaN) the scan decides.
uint8_t fp4_code(float x, float e) {
  const float a = std::fabs(x);
  if (!(e > a * 0x1p-22f) || !std::isfinite(a + e)) return fp4_code_scan(x, e);
  int k = 0;  // the largest k with level(k)·e ≤ |x|
  for (int m = 1; m < 8; ++m) k += static_cast<float>(kFp4Doubled[m]) * e <= a;
  if (k < 7) {
    const float below = std::fabs(static_cast<float>(kFp4Doubled[k]) * e - a);
    const float above = std::fabs(static_cast<float>(kFp4Doubled[k + 1]) * e - a);
    k += above < below;
  }
  return static_cast<uint8_t>(x < 0 && k > 0 ? 8 + k : k);
}

// IQ4_NL's and IQ4_XS's 16 non-uniform levels (kvalues_iq4nl).
constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// The index of the level nearest to v, as ggml's best_index_int8 finds it: outside the levels the
// end ones; between two, the nearer by (v − lower < upper − v), so exactly between them the upper.
// ggml bisects to the two levels around v; counting the levels not above v (clamped to 1 … 15)
// names the same upper one without a branch (NaN counts 16, where the bisection also ends at 15).
uint8_t iq4_level(float v) {
  int count = 0;
  for (int k = 0; k < 16; ++k) count += !(v < static_cast<float>(kIq4Levels[k]));
  const int hi = std::clamp(count, 1, 15);
  return static_cast<uint8_t>(v - static_cast<float>(kIq4Levels[hi - 1]) < static_cast<float>(kIq4Levels[hi]) - v ? hi - 1 : hi);
}

// ---------------------------------------------------------------- ggml's scale searches
//
// All sums are float32 and run in index order, as ggml's loops do; w·x·l means (w·x)·l.

// Symmetric codes l ∈ [−nmax, nmax − 1] under one scale (make_qx_quants with rmse_type 1): with
// iscale = −nmax / m (m: the value of largest magnitude, the first one on a tie), l = clamp(
// nearest(iscale·x)), and the least-squares scale Σwxl / Σwl²; then iscale = −(nmax + k/10) / m
// for k = ±1 … ±9, keeping the codes whose Σwxl² / Σwl² is strictly larger (the smallest weighted
// squared error). w: the weights, or nullptr for w = x². L gets l + nmax.
float fit_symmetric(int n, int nmax, const float* x, const float* w, uint8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) amax = ax, max = x[i];
  }
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, uint8_t{0});
    return 0.0f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<uint8_t>(l + nmax);
    const float wi = w ? w[i] : x[i] * x[i];
    const float fl = static_cast<float>(l);
    sumlx += wi * x[i] * fl;
    suml2 += wi * fl * fl;
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  uint8_t trial[kSuper];
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(fnmax + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest(iscale * x[i]), -nmax, nmax - 1);
      trial[i] = static_cast<uint8_t>(l + nmax);
      const float wi = w ? w[i] : x[i] * x[i];
      const float fl = static_cast<float>(l);
      sumlx += wi * x[i] * fl;
      suml2 += wi * fl * fl;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      std::copy(trial, trial + n, L);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q3_K's sub-block codes l ∈ [−nmax, nmax − 1] (make_q3_quants with its refinement): start from
// iscale = −nmax / m; then up to five sweeps in which each code, in turn, moves to
// nearest(x·Σ'wl² / Σ'wxl) (the sums without it) when that strictly raises (Σwxl)² / Σwl²;
// w = x². Returns Σwxl / Σwl²; L gets l + nmax.
float fit_q3(int n, int nmax, const float* x, uint8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) amax = ax, max = x[i];
  }
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, uint8_t{0});
    return 0.0f;
  }
  const float iscale = static_cast<float>(-nmax) / max;
  int l_of[kSuper];
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest(iscale * x[i]), -nmax, nmax - 1);
    l_of[i] = l;
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sumlx += w * x[i] * fl;
    suml2 += w * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const float li = static_cast<float>(l_of[i]);
      float slx = sumlx - w * x[i] * li;
      if (slx > 0) {
        float sl2 = suml2 - w * li * li;
        const int nl = clamp_int(nearest(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (nl != l_of[i]) {
          const float fl = static_cast<float>(nl);
          slx += w * x[i] * fl;
          sl2 += w * fl * fl;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            l_of[i] = nl;
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(l_of[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Unsigned codes l ∈ [0, nmax] with a scale and a min, x ≈ scale·l + min with min ≤ 0
// (make_qkx2_quants / make_qkx3_quants, which agree for given weights): min = min(x, 0), first
// iscale = nmax / (max − min), l = clamp(nearest(iscale·(x − min))); then for iscale =
// (rmin + rdelta·k + nmax) / (max − min), k = 0 … nstep, the weighted least-squares scale and min of
// those codes (min clamped to 0, the scale then refitted), kept when the weighted error (squared,
// or absolute with use_mad) is strictly smaller. Returns the scale; *neg_min = −min.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                    float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    *neg_min = -min;
    return 0.0f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = fnmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(clamp_int(nearest(iscale * (x[i] - min)), 0, nmax));
    float diff = scale * static_cast<float>(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += w[i] * diff;
  }
  uint8_t aux[kSuper];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + fnmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest(iscale * (x[i] - min)), 0, nmax);
      aux[i] = static_cast<uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * static_cast<float>(aux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        error += w[i] * diff;
      }
      if (error < best_error) {
        std::copy(aux, aux + n, L);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// Codes l ∈ [0, nmax] for non-negative values under one scale (make_qp_quants, which quantizes a
// super-block's sub-block scales or mins with the sub-blocks' weight sums): the best of
// iscale = (nmax + k/10) / max, k = −4 … 4, by weighted squared error (strictly smaller wins),
// then up to five sweeps moving single codes as in fit_q3. Codes are stored in uint8 (ggml's
// wrap-around for a negative one included). Returns Σwxl / Σwl².
float fit_positive(int n, int nmax, const float* x, uint8_t* L, const float* w) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
  if (max < kGroupMaxEps) {
    std::fill(L, L + n, uint8_t{0});
    return 0.0f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = fnmax / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(nearest(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * static_cast<float>(L[i]);
    best_mse += w[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * static_cast<float>(is) + fnmax) / max;
    const float scale_is = 1 / iscale_is;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, nearest(iscale_is * x[i]));
      const float diff = x[i] - scale_is * static_cast<float>(l);
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) best_mse = mse, iscale = iscale_is;
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, nearest(iscale * x[i]));
    L[i] = static_cast<uint8_t>(l);
    const float fl = static_cast<float>(l);
    sumlx += w[i] * x[i] * fl;
    suml2 += w[i] * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float li = static_cast<float>(L[i]);
      float slx = sumlx - w[i] * x[i] * li;
      float sl2 = suml2 - w[i] * li * li;
      if (slx > 0 && sl2 > 0) {
        const int nl = std::min(nmax, nearest(x[i] * sl2 / slx));
        if (nl != L[i]) {
          const float fl = static_cast<float>(nl);
          slx += w[i] * x[i] * fl;
          sl2 += w[i] * fl * fl;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(nl);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// One IQ4 sub-block of 32 (quantize_row_iq4_nl_impl's inner loop, ntry = 7): d = m / 127 (m: the
// value of largest magnitude) and each x to the nearest level of x / d, the least-squares scale
// Σwqx / Σwq² of those levels; then for 1/d = (k − 127) / m, k = −7 … 7, the levels' least-squares
// scale where it strictly raises (Σwqx)² / Σwq². Returns d (0 for an all-zero sub-block, whose codes
// are left to the caller); Lb gets the first levels.
float fit_iq4(const float* xb, const float* w, uint8_t* Lb) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) amax = ax, max = xb[j];
  }
  if (amax < kGroupMaxEps) return 0.0f;
  const float v0 = static_cast<float>(kIq4Levels[0]);
  float d = -max / v0;
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < 32; ++j) {
    const uint8_t l = iq4_level(id * xb[j]);
    Lb[j] = l;
    const float q = static_cast<float>(kIq4Levels[l]);
    sumqx += w[j] * q * xb[j];
    sumq2 += w[j] * q * q;
  }
  d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
  float best = d * sumqx;
  for (int itry = -7; itry <= 7; ++itry) {
    id = static_cast<float>(itry + kIq4Levels[0]) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const float q = static_cast<float>(kIq4Levels[iq4_level(id * xb[j])]);
      sumqx += w[j] * q * xb[j];
      sumq2 += w[j] * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

// IQ4's weights: with importance q, w = q·sqrt(σ² + x²), σ² = 2·Σx²/(super-block size) over the
// super-block; without, w = x².
void iq4_weights(const float* x, int size, const float* qw, float sigma2, float* w) {
  for (int j = 0; j < size; ++j) w[j] = qw ? qw[j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];
}

float iq4_sigma2(const float* x, int size) {
  float sigma2 = 0;
  for (int j = 0; j < size; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.0f / static_cast<float>(size);
  return sigma2;
}

// Packs 32 4-bit codes: byte j holds code j (low nibble) and code j + 16 (high).
void pack_nibbles32(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | L[j + 16] << 4);
}

// ---------------------------------------------------------------- four fits at once
//
// The searches above run on four independent sub-blocks (or blocks) at once where wasm SIMD is
// there: one per f32x4 lane, each lane doing its own sub-block's operations in the scalar order
// (its sums are its own), the scalar branches becoming per-lane selects. So each lane's codes and
// scale are the scalar function's, bit for bit; without SIMD the scalar function runs four times.

#ifdef QE_SIMD
namespace lanes {

using V = v128_t;
inline V splat(float v) { return wasm_f32x4_splat(v); }
// nearest(): the 1.5·2^23 trick on each lane.
inline V nearest(V v) {
  const V t = wasm_f32x4_add(v, splat(12582912.0f));
  return wasm_i32x4_sub(wasm_v128_and(t, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x00400000));
}
inline V clamp(V l, int lo, int hi) { return wasm_i32x4_max(wasm_i32x4_min(l, wasm_i32x4_splat(hi)), wasm_i32x4_splat(lo)); }
inline V tofloat(V l) { return wasm_f32x4_convert_i32x4(l); }
inline V select(V mask, V a, V b) { return wasm_v128_bitselect(a, b, mask); }
// Element i of the four rows, as one vector.
inline V gather(const float* const* r, int i) { return wasm_f32x4_make(r[0][i], r[1][i], r[2][i], r[3][i]); }
inline void scatter(V codes, uint8_t* const* L, int i) {
  L[0][i] = static_cast<uint8_t>(wasm_i32x4_extract_lane(codes, 0));
  L[1][i] = static_cast<uint8_t>(wasm_i32x4_extract_lane(codes, 1));
  L[2][i] = static_cast<uint8_t>(wasm_i32x4_extract_lane(codes, 2));
  L[3][i] = static_cast<uint8_t>(wasm_i32x4_extract_lane(codes, 3));
}
inline void store(V v, float* out) { wasm_v128_store(out, v); }

// The IQ4 level index of each lane (iq4_level): the count of levels not above v, clamped to
// [1, 15], names the upper of the two levels around v (for NaN, as the bisection ends, 15).
inline V iq4_level(V v, V& level) {
  V count = wasm_i32x4_splat(16);
  for (int k = 0; k < 16; ++k) count = wasm_i32x4_add(count, wasm_f32x4_lt(v, splat(kIq4Levels[k])));
  const V mu = clamp(count, 1, 15);
  // The two levels by a byte shuffle: each lane's index in its low byte, the others out of range.
  const V table = wasm_i8x16_make(kIq4Levels[0], kIq4Levels[1], kIq4Levels[2], kIq4Levels[3], kIq4Levels[4],
                                  kIq4Levels[5], kIq4Levels[6], kIq4Levels[7], kIq4Levels[8], kIq4Levels[9],
                                  kIq4Levels[10], kIq4Levels[11], kIq4Levels[12], kIq4Levels[13], kIq4Levels[14],
                                  kIq4Levels[15]);
  const auto value_of = [&](V index) {
    const V bytes = wasm_i8x16_swizzle(table, wasm_v128_or(index, wasm_i32x4_splat(static_cast<int32_t>(0x80808000))));
    return tofloat(wasm_i32x4_shr(wasm_i32x4_shl(bytes, 24), 24));
  };
  const V below = wasm_i32x4_sub(mu, wasm_i32x4_splat(1));
  const V lo = value_of(below), hi = value_of(mu);
  const V take_lo = wasm_f32x4_lt(wasm_f32x4_sub(v, lo), wasm_f32x4_sub(hi, v));
  level = select(take_lo, lo, hi);
  return select(take_lo, below, mu);
}

}  // namespace lanes
#endif

// fit_symmetric on x[k], w[k] (or x² when w is nullptr), k = 0 … 3.
void fit_symmetric4(int n, int nmax, const float* const* x, const float* const* w, uint8_t* const* L, float* scale) {
#ifdef QE_SIMD
  using namespace lanes;
  V xs[kSuper], ws[kSuper];
  V amax = splat(0), max = splat(0);
  for (int i = 0; i < n; ++i) {
    xs[i] = gather(x, i);
    ws[i] = w ? gather(w, i) : wasm_f32x4_mul(xs[i], xs[i]);
    const V ax = wasm_f32x4_abs(xs[i]);
    const V m = wasm_f32x4_gt(ax, amax);
    amax = select(m, ax, amax), max = select(m, xs[i], max);
  }
  const V zero = wasm_f32x4_lt(amax, splat(kGroupMaxEps));
  const float fnmax = static_cast<float>(nmax);
  V iscale = wasm_f32x4_div(splat(static_cast<float>(-nmax)), max);
  V codes[kSuper];
  V sumlx = splat(0), suml2 = splat(0);
  for (int i = 0; i < n; ++i) {
    const V l = clamp(nearest(wasm_f32x4_mul(iscale, xs[i])), -nmax, nmax - 1);
    codes[i] = wasm_i32x4_add(l, wasm_i32x4_splat(nmax));
    const V fl = tofloat(l);
    sumlx = wasm_f32x4_add(sumlx, wasm_f32x4_mul(wasm_f32x4_mul(ws[i], xs[i]), fl));
    suml2 = wasm_f32x4_add(suml2, wasm_f32x4_mul(wasm_f32x4_mul(ws[i], fl), fl));
  }
  V sc = select(wasm_f32x4_ne(suml2, splat(0)), wasm_f32x4_div(sumlx, suml2), splat(0));
  V best = wasm_f32x4_mul(sc, sumlx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = wasm_f32x4_div(splat(-(fnmax + 0.1f * static_cast<float>(is))), max);
    V trial[kSuper];
    sumlx = suml2 = splat(0);
    for (int i = 0; i < n; ++i) {
      const V l = clamp(nearest(wasm_f32x4_mul(iscale, xs[i])), -nmax, nmax - 1);
      trial[i] = wasm_i32x4_add(l, wasm_i32x4_splat(nmax));
      const V fl = tofloat(l);
      sumlx = wasm_f32x4_add(sumlx, wasm_f32x4_mul(wasm_f32x4_mul(ws[i], xs[i]), fl));
      suml2 = wasm_f32x4_add(suml2, wasm_f32x4_mul(wasm_f32x4_mul(ws[i], fl), fl));
    }
    const V better = wasm_v128_and(wasm_f32x4_gt(suml2, splat(0)),
                                   wasm_f32x4_gt(wasm_f32x4_mul(sumlx, sumlx), wasm_f32x4_mul(best, suml2)));
    if (!wasm_v128_any_true(better)) continue;
    for (int i = 0; i < n; ++i) codes[i] = select(better, trial[i], codes[i]);
    const V s_new = wasm_f32x4_div(sumlx, suml2);
    sc = select(better, s_new, sc);
    best = select(better, wasm_f32x4_mul(s_new, sumlx), best);
  }
  for (int i = 0; i < n; ++i) scatter(select(zero, wasm_i32x4_splat(0), codes[i]), L, i);
  store(select(zero, splat(0), sc), scale);
#else
  for (int k = 0; k < 4; ++k) scale[k] = fit_symmetric(n, nmax, x[k], w ? w[k] : nullptr, L[k]);
#endif
}

// fit_scale_min on x[k], w[k], k = 0 … 3.
void fit_scale_min4(int n, int nmax, const float* const* x, const float* const* w, uint8_t* const* L, float* neg_min,
                    float* scale, float rmin, float rdelta, int nstep, bool use_mad) {
#ifdef QE_SIMD
  using namespace lanes;
  V xs[kSuper], ws[kSuper];
  for (int i = 0; i < n; ++i) xs[i] = gather(x, i), ws[i] = gather(w, i);
  V min = xs[0], max = xs[0];
  V sum_w = ws[0];
  V sum_x = wasm_f32x4_mul(sum_w, xs[0]);
  for (int i = 1; i < n; ++i) {
    min = wasm_f32x4_pmin(min, xs[i]);  // x < min ? x : min
    max = wasm_f32x4_pmax(max, xs[i]);  // max < x ? x : max
    sum_w = wasm_f32x4_add(sum_w, ws[i]);
    sum_x = wasm_f32x4_add(sum_x, wasm_f32x4_mul(ws[i], xs[i]));
  }
  min = wasm_f32x4_pmin(min, splat(0));  // min > 0 ? 0 : min
  const V flat = wasm_f32x4_eq(max, min);
  const float fnmax = static_cast<float>(nmax);
  V iscale = wasm_f32x4_div(splat(fnmax), wasm_f32x4_sub(max, min));
  V sc = wasm_f32x4_div(splat(1), iscale);
  const auto error_of = [&](V diff) { return use_mad ? wasm_f32x4_abs(diff) : wasm_f32x4_mul(diff, diff); };
  V codes[kSuper];
  V best = splat(0);
  for (int i = 0; i < n; ++i) {
    codes[i] = clamp(nearest(wasm_f32x4_mul(iscale, wasm_f32x4_sub(xs[i], min))), 0, nmax);
    const V diff = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(sc, tofloat(codes[i])), min), xs[i]);
    best = wasm_f32x4_add(best, wasm_f32x4_mul(ws[i], error_of(diff)));
  }
  for (int is = 0; is <= nstep; ++is) {
    // (max − min) with the min found so far, as the scalar loop has it.
    iscale = wasm_f32x4_div(splat(rmin + rdelta * static_cast<float>(is) + fnmax), wasm_f32x4_sub(max, min));
    V aux[kSuper], fl[kSuper];
    V sum_l = splat(0), sum_l2 = splat(0), sum_xl = splat(0);
    for (int i = 0; i < n; ++i) {
      aux[i] = clamp(nearest(wasm_f32x4_mul(iscale, wasm_f32x4_sub(xs[i], min))), 0, nmax);
      fl[i] = tofloat(aux[i]);
      const V wl = wasm_f32x4_mul(ws[i], fl[i]);
      sum_l = wasm_f32x4_add(sum_l, wl);
      sum_l2 = wasm_f32x4_add(sum_l2, wasm_f32x4_mul(wl, fl[i]));
      sum_xl = wasm_f32x4_add(sum_xl, wasm_f32x4_mul(wl, xs[i]));
    }
    const V D = wasm_f32x4_sub(wasm_f32x4_mul(sum_w, sum_l2), wasm_f32x4_mul(sum_l, sum_l));
    const V usable = wasm_f32x4_gt(D, splat(0));
    if (!wasm_v128_any_true(usable)) continue;
    V this_scale = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_mul(sum_w, sum_xl), wasm_f32x4_mul(sum_x, sum_l)), D);
    V this_min = wasm_f32x4_div(wasm_f32x4_sub(wasm_f32x4_mul(sum_l2, sum_x), wasm_f32x4_mul(sum_l, sum_xl)), D);
    const V positive = wasm_f32x4_gt(this_min, splat(0));
    this_min = select(positive, splat(0), this_min);
    this_scale = select(positive, wasm_f32x4_div(sum_xl, sum_l2), this_scale);
    V error = splat(0);
    for (int i = 0; i < n; ++i) {
      const V diff = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(this_scale, fl[i]), this_min), xs[i]);
      error = wasm_f32x4_add(error, wasm_f32x4_mul(ws[i], error_of(diff)));
    }
    const V better = wasm_v128_and(usable, wasm_f32x4_lt(error, best));
    if (!wasm_v128_any_true(better)) continue;
    for (int i = 0; i < n; ++i) codes[i] = select(better, aux[i], codes[i]);
    best = select(better, error, best);
    sc = select(better, this_scale, sc);
    min = select(better, this_min, min);
  }
  for (int i = 0; i < n; ++i) scatter(select(flat, wasm_i32x4_splat(0), codes[i]), L, i);
  store(select(flat, splat(0), sc), scale);
  store(wasm_f32x4_neg(min), neg_min);
#else
  for (int k = 0; k < 4; ++k)
    scale[k] = fit_scale_min(n, nmax, x[k], w[k], L[k], &neg_min[k], rmin, rdelta, nstep, use_mad);
#endif
}

// fit_iq4 on four sub-blocks of 32, k = 0 … 3 (a sub-block of zeros: 0 and its codes untouched).
void fit_iq4_4(const float* const* x, const float* const* w, uint8_t* const* L, float* d_out) {
#ifdef QE_SIMD
  using namespace lanes;
  V xs[32], ws[32];
  V amax = splat(0), max = splat(0);
  for (int j = 0; j < 32; ++j) {
    xs[j] = gather(x, j), ws[j] = gather(w, j);
    const V ax = wasm_f32x4_abs(xs[j]);
    const V m = wasm_f32x4_gt(ax, amax);
    amax = select(m, ax, amax), max = select(m, xs[j], max);
  }
  const V zero = wasm_f32x4_lt(amax, splat(kGroupMaxEps));
  const V v0 = splat(static_cast<float>(kIq4Levels[0]));
  V d = wasm_f32x4_div(wasm_f32x4_neg(max), v0);
  V id = wasm_f32x4_div(splat(1), d);
  V sumqx = splat(0), sumq2 = splat(0);
  V first[32];
  for (int j = 0; j < 32; ++j) {
    V q;
    first[j] = iq4_level(wasm_f32x4_mul(id, xs[j]), q);
    const V wq = wasm_f32x4_mul(ws[j], q);
    sumqx = wasm_f32x4_add(sumqx, wasm_f32x4_mul(wq, xs[j]));
    sumq2 = wasm_f32x4_add(sumq2, wasm_f32x4_mul(wq, q));
  }
  d = select(wasm_f32x4_gt(sumq2, splat(0)), wasm_f32x4_div(sumqx, sumq2), splat(0));
  V best = wasm_f32x4_mul(d, sumqx);
  for (int itry = -7; itry <= 7; ++itry) {
    id = wasm_f32x4_div(splat(static_cast<float>(itry + kIq4Levels[0])), max);
    sumqx = sumq2 = splat(0);
    for (int j = 0; j < 32; ++j) {
      V q;
      iq4_level(wasm_f32x4_mul(id, xs[j]), q);
      const V wq = wasm_f32x4_mul(ws[j], q);
      sumqx = wasm_f32x4_add(sumqx, wasm_f32x4_mul(wq, xs[j]));
      sumq2 = wasm_f32x4_add(sumq2, wasm_f32x4_mul(wq, q));
    }
    const V better = wasm_v128_and(wasm_f32x4_gt(sumq2, splat(0)),
                                   wasm_f32x4_gt(wasm_f32x4_mul(sumqx, sumqx), wasm_f32x4_mul(best, sumq2)));
    const V d_new = wasm_f32x4_div(sumqx, sumq2);
    d = select(better, d_new, d);
    best = select(better, wasm_f32x4_mul(d_new, sumqx), best);
  }
  store(select(zero, splat(0), d), d_out);
  // Codes for the sub-blocks that are not zeros (a zero sub-block's are the caller's).
  alignas(16) int32_t z[4];
  wasm_v128_store(z, zero);
  for (int j = 0; j < 32; ++j) {
    alignas(16) int32_t c[4];
    wasm_v128_store(c, first[j]);
    for (int k = 0; k < 4; ++k)
      if (!z[k]) L[k][j] = static_cast<uint8_t>(c[k]);
  }
#else
  for (int k = 0; k < 4; ++k) d_out[k] = fit_iq4(x[k], w[k], L[k]);
#endif
}

// Four sub-blocks' pointers: x, w and L at sub-block g + k.
struct Four {
  const float* x[4];
  const float* w[4];
  uint8_t* L[4];
  Four(const float* xs, const float* ws, int w_stride, uint8_t* Ls, int g, int size) {
    for (int k = 0; k < 4; ++k)
      x[k] = xs + size * (g + k), w[k] = ws ? ws + w_stride * (g + k) : nullptr, L[k] = Ls + size * (g + k);
  }
};

// ---------------------------------------------------------------- blocks of 32

// roundf: to nearest, half away from zero. From 2^23 up v is whole (and NaN and ±Inf stay); below,
// trunc(v) through int32 is exact, and so is v − trunc(v).
float round_away(float v) {
  if (!(std::fabs(v) < 8388608.0f)) return v;
  const float t = std::copysign(static_cast<float>(static_cast<int32_t>(v)), v);
  return t + std::copysign(static_cast<float>(std::fabs(v - t) >= 0.5f), v);  // branch-free: halves are data
}

// Q8_0: d = amax / 127 (float16), q = roundf(x / d) (half away from zero) as int8.
void q8_0_block(const float* x, uint8_t* y) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  put_half(y, d);
  for (int j = 0; j < 32; ++j) y[2 + j] = static_cast<uint8_t>(trunc_i8(round_away(x[j] * id)));
}

// Q4_0 / Q5_0 without importance: d = m / −2^(b−1) (m: the value of largest magnitude, so that
// it maps to code 0), q = min(2^b − 1, trunc(x/d + 2^(b−1) + ½)) (rounding half up).
void q4_0_block(const float* x, uint8_t* y) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) amax = std::fabs(x[j]), max = x[j];
  const float d = max / -8;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  put_half(y, d);
  for (int j = 0; j < 16; ++j) {
    const int q0 = std::min(15, static_cast<int>(trunc_i8(x[j] * id + 8.5f)));
    const int q1 = std::min(15, static_cast<int>(trunc_i8(x[16 + j] * id + 8.5f)));
    y[2 + j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | static_cast<uint8_t>(q1) << 4);
  }
}

// The 5-bit types' layout: the low nibbles as Q4, bit 4 of code j in bit j of a little-endian
// uint32.
void pack_5bit32(const uint8_t* L, uint8_t* qh, uint8_t* qs) {
  uint32_t h = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((L[j] & 0x0F) | (L[j + 16] & 0x0F) << 4);
    h |= ((L[j] & 0x10u) >> 4) << j;
    h |= ((L[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(h >> (8 * k));
}

void q5_0_block(const float* x, uint8_t* y) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) amax = std::fabs(x[j]), max = x[j];
  const float d = max / -16;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  put_half(y, d);
  uint8_t L[32];
  for (int j = 0; j < 32; ++j) L[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(trunc_i8(x[j] * id + 16.5f))));
  pack_5bit32(L, y + 2, y + 6);
}

// Q4_1 / Q5_1 without importance: d = (max − min) / (2^b − 1), m = min, q = trunc((x − min)/d + ½).
template <int Bits>
void qx_1_block(const float* x, uint8_t* y) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < 32; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - min) / ((1 << Bits) - 1);
  const float id = d != 0 ? 1.0f / d : 0.0f;
  put_half(y, d);
  put_half(y + 2, min);
  uint8_t L[32];
  for (int j = 0; j < 32; ++j) {
    const float v = (x[j] - min) * id + 0.5f;
    L[j] = Bits == 4 ? static_cast<uint8_t>(std::min(15, static_cast<int>(trunc_i8(v)))) : trunc_u8(v);
  }
  if constexpr (Bits == 4) pack_nibbles32(L, y + 4);
  else pack_5bit32(L, y + 4, y + 8);
}

// The imatrix paths of the 32-blocks weigh each value by w = q·sqrt(σ² + x²), σ² = Σx²/n over the
// row.
float row_sigma2(const float* x, size_t n) {
  float sum = 0;
  for (size_t j = 0; j < n; ++j) sum += x[j] * x[j];
  return sum / static_cast<float>(n);
}

void weigh32(const float* xb, const float* qw, float sigma2, float* w) {
  for (int j = 0; j < 32; ++j) w[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// Q4_0 / Q5_0 with importance: fit_symmetric's codes and scale.
void q4_0_weighted(const float* xb, const float* w, uint8_t* y) {
  uint8_t L[32];
  put_half(y, fit_symmetric(32, 8, xb, w, L));
  pack_nibbles32(L, y + 2);
}
void q5_0_weighted(const float* xb, const float* w, uint8_t* y) {
  uint8_t L[32];
  put_half(y, fit_symmetric(32, 16, xb, w, L));
  pack_5bit32(L, y + 2, y + 6);
}
// Q4_1 / Q5_1 with importance: fit_scale_min's codes, scale and min (rmin −0.9, step 0.05, 36 steps).
template <int Bits>
void qx_1_weighted(const float* xb, const float* w, uint8_t* y) {
  uint8_t L[32];
  float neg_min;
  const float d = fit_scale_min(32, (1 << Bits) - 1, xb, w, L, &neg_min, -0.9f, 0.05f, 36, false);
  put_half(y, d);
  put_half(y + 2, -neg_min);
  if constexpr (Bits == 4) pack_nibbles32(L, y + 4);
  else pack_5bit32(L, y + 4, y + 8);
}

// IQ4_NL: one sub-block; d = fit_iq4's scale (float16), then every code again as the level
// nearest x / d.
void iq4_nl_block(const float* x, const float* qw, uint8_t* y) {
  float w[32];
  uint8_t L[32];
  iq4_weights(x, 32, qw, iq4_sigma2(x, 32), w);
  const float d = fit_iq4(x, w, L);
  put_half(y, d);
  const float id = d != 0 ? 1 / d : 0;
  for (int j = 0; j < 32; ++j) L[j] = iq4_level(id * x[j]);
  pack_nibbles32(L, y + 2);
}

// Four consecutive IQ4_NL blocks, their searches side by side (fit_iq4_4).
void iq4_nl_blocks4(const float* x, const float* qw, uint8_t* y) {
  float w[128], d[4];
  uint8_t L[128];
  for (int k = 0; k < 4; ++k) iq4_weights(x + 32 * k, 32, qw ? qw + 32 * k : nullptr, iq4_sigma2(x + 32 * k, 32), w + 32 * k);
  const Four f(x, w, 32, L, 0, 32);
  fit_iq4_4(f.x, f.w, f.L, d);
  for (int k = 0; k < 4; ++k) {
    put_half(y + 18 * k, d[k]);
    const float id = d[k] != 0 ? 1 / d[k] : 0;
    for (int j = 0; j < 32; ++j) L[32 * k + j] = iq4_level(id * x[32 * k + j]);
    pack_nibbles32(L + 32 * k, y + 18 * k + 2);
  }
}

// MXFP4: e = floor(log2(amax)) − 2 + 127 as ggml converts it (0 for an all-zero block); codes by
// fp4_code with ggml's halved scale.
void mxfp4_block(const float* x, uint8_t* y) {
  float amax = 0;
  for (int j = 0; j < 32; ++j)
    if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
  const uint8_t e = amax > 0.0f ? trunc_u8(std::floor(std::log2(amax)) - 2 + 127) : 0;
  const float d = e8m0_half(e);
  y[0] = e;
  for (int j = 0; j < 16; ++j) y[1 + j] = static_cast<uint8_t>(fp4_code(x[j], d) | fp4_code(x[16 + j], d) << 4);
}

// NVFP4 (ggml's): four sub-blocks of 16, each with the UE4M3 scale of amax / 6 (no tensor scale).
void nvfp4_block(const float* x, uint8_t* y) {
  for (int s = 0; s < 4; ++s) {
    const float* xb = x + 16 * s;
    float amax = 0;
    for (int j = 0; j < 16; ++j)
      if (amax < std::fabs(xb[j])) amax = std::fabs(xb[j]);
    const uint8_t ue = fp32_to_ue4m3(amax / 6.0f);
    y[s] = ue;
    const float d = ue4m3_half(ue);
    for (int j = 0; j < 8; ++j)
      y[4 + 8 * s + j] = static_cast<uint8_t>(fp4_code(xb[j], d) | fp4_code(xb[8 + j], d) << 4);
  }
}

// ---------------------------------------------------------------- super-blocks of 256

// Four 2-bit codes per byte: byte l of each 32-byte half holds codes l, l + 32, l + 64, l + 96 of
// its 128 values, from the low bits up.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kSuper; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
}

// Q4_K's and Q5_K's twelve bytes of eight 6-bit scales and mins: sub-blocks 0–3 in the low six
// bits of bytes 0–3 (scales) and 4–7 (mins); sub-blocks 4–7 with their low nibbles in bytes 8–11
// and their top two bits in the top bits of bytes 0–7.
void pack_k4_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | (lm[j] & 0xF) << 4);
      s[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      s[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

void k4_scale_min(int j, const uint8_t* s, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4);
    m = static_cast<uint8_t>((s[j + 4] >> 4) | (s[j] >> 6) << 4);
  }
}

// Q3_K's twelve bytes of sixteen 6-bit scales: low nibbles of 0–7 in bytes 0–7, of 8–15 in their
// high nibbles; the top two bits of scale j in bits 2·(j/4) of byte 8 + j%4.
void pack_q3_scales(const uint8_t* l6, uint8_t* s) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int l = l6[j];
    if (j < 8) s[j] = static_cast<uint8_t>(l & 0xF);
    else s[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
    s[j % 4 + 8] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
  }
}

int q3_scale(int j, const uint8_t* s) {
  const int low = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
  return static_cast<int8_t>((low | ((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32);
}

// The K-quants' last step: with the stored float16 d and dmin and each sub-block's stored codes,
// every value again as l = clamp(nearest((x + dmin·m) / (d·sc)), 0, nmax); a sub-block whose d·sc
// is 0 keeps the search's codes.
void requantize_with_min(const float* x, int sub, int nsub, float d, float dmin, const uint8_t* sc,
                         const uint8_t* m, int nmax, uint8_t* L) {
  for (int j = 0; j < nsub; ++j) {
    const float dj = d * static_cast<float>(sc[j]);
    if (dj == 0) continue;
    const float dm = dmin * static_cast<float>(m[j]);
    for (int ii = 0; ii < sub; ++ii)
      L[sub * j + ii] = static_cast<uint8_t>(clamp_int(nearest((x[sub * j + ii] + dm) / dj), 0, nmax));
  }
}

// Q2_K: sixteen sub-blocks of 16, x ≈ d·sc·q − dmin·m, sc and m 4-bit, q 2-bit.
// Bytes: scales (sc | m << 4) [16], qs [64], d, dmin.
void q2_k_finish(const float* x, uint8_t* y, const uint8_t* Ls, const uint8_t* Lm, float d_stored, float m_stored,
                 uint8_t* L) {
  for (int j = 0; j < 16; ++j) y[j] = static_cast<uint8_t>(Ls[j] | Lm[j] << 4);
  uint8_t sc[16], m[16];
  for (int j = 0; j < 16; ++j) sc[j] = y[j] & 0xF, m[j] = y[j] >> 4;
  requantize_with_min(x, 16, 16, d_stored, m_stored, sc, m, 3, L);
  pack_2bit(L, y + 16);
}

// Without importance: each sub-block by fit_scale_min (w = |x|, absolute error, rmin −0.5, step
// 0.1, 15 steps); d = max scale / 15, sc = nearest(15·scale / max scale); likewise the mins.
void q2_k_block(const float* x, uint8_t* y) {
  uint8_t L[kSuper];
  float w[kSuper], mins[16], scales[16];
  for (int j = 0; j < kSuper; ++j) w[j] = std::fabs(x[j]);
  for (int g = 0; g < 16; g += 4) {
    const Four f(x, w, 16, L, g, 16);
    fit_scale_min4(16, 3, f.x, f.w, f.L, mins + g, scales + g, -0.5f, 0.1f, 15, true);
  }
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 16; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  uint8_t Ls[16] = {}, Lm[16] = {};
  float d = 0, dmin = 0;
  if (max_scale > 0) {
    const float iscale = 15.f / max_scale;
    for (int j = 0; j < 16; ++j) Ls[j] = static_cast<uint8_t>(nearest(iscale * scales[j]));
    d = max_scale / 15.f;
  }
  if (max_min > 0) {
    const float iscale = 15.f / max_min;
    for (int j = 0; j < 16; ++j) Lm[j] = static_cast<uint8_t>(nearest(iscale * mins[j]));
    dmin = max_min / 15.f;
  }
  put_half(y + 80, d);
  put_half(y + 82, dmin);
  q2_k_finish(x, y, Ls, Lm, get_half(y + 80), get_half(y + 82), L);
}

// With importance: w = q·sqrt(σ² + x²), σ² = Σx²/256 over the super-block; each sub-block by
// fit_scale_min (squared error, rmin −0.9, step 0.05, 36 steps); the scales and mins by
// fit_positive with the sub-blocks' weight sums.
void q2_k_weighted(const float* x, const float* qw, uint8_t* y) {
  uint8_t L[kSuper];
  float w[kSuper], mins[16], scales[16], sw[16];
  float sumx2 = 0;
  for (int j = 0; j < kSuper; ++j) sumx2 += x[j] * x[j];
  const float sigma2 = sumx2 / kSuper;
  for (int j = 0; j < 16; ++j) {
    float* wb = w + 16 * j;
    for (int l = 0; l < 16; ++l) wb[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    sw[j] = 0;
    for (int l = 0; l < 16; ++l) sw[j] += wb[l];
  }
  for (int g = 0; g < 16; g += 4) {
    const Four f(x, w, 16, L, g, 16);
    fit_scale_min4(16, 3, f.x, f.w, f.L, mins + g, scales + g, -0.9f, 0.05f, 36, false);
  }
  uint8_t Ls[16], Lm[16];
  const float dm = fit_positive(16, 15, scales, Ls, sw);
  const float mm = fit_positive(16, 15, mins, Lm, sw);
  put_half(y + 80, dm);
  put_half(y + 82, mm);
  q2_k_finish(x, y, Ls, Lm, get_half(y + 80), get_half(y + 82), L);
}

// Q3_K: sixteen sub-blocks of 16, x ≈ d·(sc − 32)·(q − 4), sc 6-bit, q 3-bit (low two bits in qs,
// the third in hmask). Bytes: hmask [32], qs [64], scales [12], d.
void q3_k_finish(const float* x, uint8_t* y, uint8_t* L) {
  const float d = get_half(y + 108);
  for (int j = 0; j < 16; ++j) {
    const float dj = d * static_cast<float>(q3_scale(j, y + 96));
    if (dj == 0) continue;
    for (int ii = 0; ii < 16; ++ii)
      L[16 * j + ii] = static_cast<uint8_t>(clamp_int(nearest(x[16 * j + ii] / dj), -4, 3) + 4);
  }
  // Bit 2 of code j goes to bit j / 32 of hmask byte j % 32.
  uint8_t* hmask = y;
  std::memset(hmask, 0, 32);
  for (int j = 0; j < kSuper; ++j) {
    if (L[j] > 3) {
      hmask[j % 32] |= static_cast<uint8_t>(1 << (j / 32));
      L[j] = static_cast<uint8_t>(L[j] - 4);
    }
  }
  pack_2bit(L, y + 32);
}

// Without importance: each sub-block by fit_q3; the scale of largest magnitude s₀ (the first on a
// tie) gives iscale = −32 / s₀, sc = clamp(nearest(iscale·s), −32, 31) + 32, d = 1 / iscale.
void q3_k_block(const float* x, uint8_t* y) {
  uint8_t L[kSuper];
  float scales[16];
  float max_scale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
    const float a = std::fabs(scales[j]);
    if (a > amax) amax = a, max_scale = scales[j];
  }
  uint8_t l6[16] = {};
  float d = 0;
  if (max_scale != 0) {
    const float iscale = -32.f / max_scale;
    for (int j = 0; j < 16; ++j) {
      const int8_t l = static_cast<int8_t>(nearest(iscale * scales[j]));  // ggml keeps it in an int8
      l6[j] = static_cast<uint8_t>(clamp_int(l, -32, 31) + 32);
    }
    d = 1 / iscale;
  }
  pack_q3_scales(l6, y + 96);
  put_half(y + 108, d);
  q3_k_finish(x, y, L);
}

// With importance: w = q·sqrt(σ² + x²), σ² = 2·Σx²/256; each sub-block by fit_symmetric, then the
// sixteen scales by fit_symmetric (nmax 32) with the sub-blocks' weight sums.
void q3_k_weighted(const float* x, const float* qw, uint8_t* y) {
  uint8_t L[kSuper];
  float scales[16], w[kSuper], sw[16];
  float sumx2 = 0;
  for (int j = 0; j < kSuper; ++j) sumx2 += x[j] * x[j];
  const float sigma2 = 2 * sumx2 / kSuper;
  for (int j = 0; j < 16; ++j) {
    float* wb = w + 16 * j;
    for (int l = 0; l < 16; ++l) wb[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 16; ++l) sumw += wb[l];
    sw[j] = sumw;
  }
  for (int g = 0; g < 16; g += 4) {
    const Four f(x, w, 16, L, g, 16);
    fit_symmetric4(16, 4, f.x, f.w, f.L, scales + g);
  }
  uint8_t l6[16];
  const float d = fit_symmetric(16, 32, scales, sw, l6);
  pack_q3_scales(l6, y + 96);
  put_half(y + 108, d);
  q3_k_finish(x, y, L);
}

// Q4_K and Q5_K: eight sub-blocks of 32, x ≈ d·sc·q − dmin·m, sc and m 6-bit, q 4 or 5 bits.
// Bytes: d, dmin, scales [12], (Q5_K: qh [32]), qs [128].
template <int Bits>
void qk_finish(const float* x, uint8_t* y, uint8_t* L) {
  constexpr int nmax = (1 << Bits) - 1;
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) k4_scale_min(j, y + 4, sc[j], m[j]);
  requantize_with_min(x, 32, 8, get_half(y), get_half(y + 2), sc, m, nmax, L);
  if constexpr (Bits == 4) {
    // Byte l of each 32-byte quarter: code l (low nibble) and l + 32 (high) of its 64 values.
    for (int j = 0; j < kSuper; j += 64)
      for (int l = 0; l < 32; ++l) y[16 + j / 2 + l] = static_cast<uint8_t>(L[j + l] | L[j + l + 32] << 4);
  } else {
    // As Q4_K's nibbles; bit 4 of the codes of 64-value quarter k in bits 2k and 2k + 1 of qh.
    uint8_t* qh = y + 16;
    uint8_t* ql = y + 48;
    std::memset(qh, 0, 32);
    for (int n = 0, k = 0; n < kSuper; n += 64, ++k) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j], l2 = L[n + j + 32];
        if (l1 > 15) l1 -= 16, qh[j] |= static_cast<uint8_t>(1 << (2 * k));
        if (l2 > 15) l2 -= 16, qh[j] |= static_cast<uint8_t>(2 << (2 * k));
        ql[n / 2 + j] = static_cast<uint8_t>(l1 | l2 << 4);
      }
    }
  }
}

// Without importance: each sub-block by fit_scale_min with w = sqrt(Σx²/32) + |x| (Q4_K: rmin −1,
// step 0.1, 20 steps; Q5_K: −0.5, 0.1, 15); d = max scale / 63, sc = min(63, nearest(63·scale /
// max scale)), likewise the mins.
template <int Bits>
void qk_block(const float* x, uint8_t* y) {
  constexpr int nmax = (1 << Bits) - 1;
  const float rmin = Bits == 4 ? -1.f : -0.5f;
  const int nstep = Bits == 4 ? 20 : 15;
  uint8_t L[kSuper];
  float w[kSuper], mins[8], scales[8];
  for (int j = 0; j < 8; ++j) {
    const float* xb = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xb[l] * xb[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) w[32 * j + l] = av_x + std::fabs(xb[l]);
  }
  for (int g = 0; g < 8; g += 4) {
    const Four f(x, w, 32, L, g, 32);
    fit_scale_min4(32, nmax, f.x, f.w, f.L, mins + g, scales + g, rmin, 0.1f, nstep, false);
  }
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest(inv_min * mins[j])));
  }
  pack_k4_scales(ls, lm, y + 4);
  put_half(y, max_scale / 63.f);
  put_half(y + 2, max_min / 63.f);
  qk_finish<Bits>(x, y, L);
}

// With importance: w = q·sqrt(σ² + x²), σ² = 2·Σx²/256; each sub-block by fit_scale_min (rmin −0.9,
// step 0.05, 36 steps); the scales and the mins by fit_positive (nmax 63) with the weight sums.
template <int Bits>
void qk_weighted(const float* x, const float* qw, uint8_t* y) {
  constexpr int nmax = (1 << Bits) - 1;
  uint8_t L[kSuper];
  float w[kSuper], mins[8], scales[8], sw[8];
  float sum_x2 = 0;
  for (int l = 0; l < kSuper; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / kSuper;
  for (int j = 0; j < 8; ++j) {
    const float* xb = x + 32 * j;
    float* wb = w + 32 * j;
    for (int l = 0; l < 32; ++l) wb[l] = qw[32 * j + l] * std::sqrt(sigma2 + xb[l] * xb[l]);
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += wb[l];
    sw[j] = sumw;
  }
  for (int g = 0; g < 8; g += 4) {
    const Four f(x, w, 32, L, g, 32);
    fit_scale_min4(32, nmax, f.x, f.w, f.L, mins + g, scales + g, -0.9f, 0.05f, 36, false);
  }
  uint8_t ls[8], lm[8];
  const float d = fit_positive(8, 63, scales, ls, sw);
  const float m = fit_positive(8, 63, mins, lm, sw);
  if constexpr (Bits == 5)  // ggml clamps here for Q5_K only (fit_positive's codes are at most 63 anyway)
    for (int j = 0; j < 8; ++j) ls[j] = std::min<uint8_t>(63, ls[j]), lm[j] = std::min<uint8_t>(63, lm[j]);
  pack_k4_scales(ls, lm, y + 4);
  put_half(y, d);
  put_half(y + 2, m);
  qk_finish<Bits>(x, y, L);
}

// Q6_K: sixteen sub-blocks of 16, x ≈ d·sc·(q − 32), sc int8, q 6-bit (low nibble in ql, top two
// bits in qh). Each sub-block by fit_symmetric (nmax 32; w = the importance, or x²); the scale of
// largest magnitude s₀ gives iscale = −128 / s₀, sc = min(127, nearest(iscale·s)), d = 1 / iscale;
// then every code again as clamp(nearest(x / (d·sc)), −32, 31) + 32.
// Bytes: ql [128], qh [64], scales [16], d.
void q6_k_block(const float* x, const float* qw, uint8_t* y) {
  uint8_t L[kSuper];
  float scales[16];
  float max_scale = 0, max_abs = 0;
  for (int g = 0; g < 16; g += 4) {
    const Four f(x, qw, 16, L, g, 16);
    fit_symmetric4(16, 32, f.x, qw ? f.w : nullptr, f.L, scales + g);
  }
  for (int ib = 0; ib < 16; ++ib) {
    const float a = std::fabs(scales[ib]);
    if (a > max_abs) max_abs = a, max_scale = scales[ib];
  }
  if (max_abs < kGroupMaxEps) {
    std::memset(y, 0, 210);
    return;
  }
  const float iscale = -128.f / max_scale;
  put_half(y + 208, 1 / iscale);
  int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
  for (int ib = 0; ib < 16; ++ib) sc[ib] = static_cast<int8_t>(std::min(127, nearest(iscale * scales[ib])));
  const float d = get_half(y + 208);
  for (int j = 0; j < 16; ++j) {
    const float dj = d * static_cast<float>(sc[j]);
    if (dj == 0) continue;
    for (int ii = 0; ii < 16; ++ii)
      L[16 * j + ii] = static_cast<uint8_t>(clamp_int(nearest(x[16 * j + ii] / dj), -32, 31) + 32);
  }
  // Per 128 values: ql byte l holds codes l and l + 64 (low nibbles), byte l + 32 codes l + 32 and
  // l + 96; qh byte l the top two bits of codes l, l + 32, l + 64, l + 96.
  uint8_t* ql = y;
  uint8_t* qh = y + 128;
  for (int j = 0; j < kSuper; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* c = L + j + l;
      ql[l] = static_cast<uint8_t>((c[0] & 0xF) | (c[64] & 0xF) << 4);
      ql[l + 32] = static_cast<uint8_t>((c[32] & 0xF) | (c[96] & 0xF) << 4);
      qh[l] = static_cast<uint8_t>(c[0] >> 4 | (c[32] >> 4) << 2 | (c[64] >> 4) << 4 | (c[96] >> 4) << 6);
    }
  }
}

// IQ4_XS: eight sub-blocks of 32 by fit_iq4; the scale of largest magnitude s₀ gives the float16
// d = −s₀ / 32, each sub-block's 6-bit code l = clamp(nearest(s / d), −32, 31) + 32, and its codes
// again as the levels nearest x / (d·(l − 32)) (with d before its float16 rounding).
// Bytes: d, scales_h (2 bits per sub-block, little-endian uint16), scales_l [4] (nibbles), qs [128].
void iq4_xs_block(const float* x, const float* qw, uint8_t* y) {
  float w[kSuper], scales[8];
  uint8_t L[kSuper];
  const float sigma2 = iq4_sigma2(x, kSuper);
  for (int ib = 0; ib < 8; ++ib) iq4_weights(x + 32 * ib, 32, qw ? qw + 32 * ib : nullptr, sigma2, w + 32 * ib);
  for (int g = 0; g < 8; g += 4) {
    const Four f(x, w, 32, L, g, 32);
    fit_iq4_4(f.x, f.w, f.L, scales + g);
  }
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const float a = std::fabs(scales[ib]);
    if (a > amax_scale) amax_scale = a, max_scale = scales[ib];
  }
  const float d = -max_scale / 32;
  put_half(y, d);
  const float id = d != 0 ? 1 / d : 0.f;
  uint16_t scales_h = 0;
  uint8_t* scales_l = y + 4;
  std::memset(scales_l, 0, 4);
  for (int ib = 0; ib < 8; ++ib) {
    int l = clamp_int(nearest(id * scales[ib]), -32, 31);
    const float dl = d * static_cast<float>(l);
    const float idl = dl != 0 ? 1 / dl : 0.f;
    for (int j = 0; j < 32; ++j) L[32 * ib + j] = iq4_level(idl * x[32 * ib + j]);
    l += 32;
    scales_l[ib / 2] |= static_cast<uint8_t>((l & 0xF) << (4 * (ib % 2)));
    scales_h = static_cast<uint16_t>(scales_h | (l >> 4) << (2 * ib));
  }
  put16(y + 2, scales_h);
  for (int i = 0; i < 8; ++i) pack_nibbles32(L + 32 * i, y + 8 + 16 * i);
}

// TQ1_0 and TQ2_0: d = amax (float16), t = lroundf(x / d) + 1 ∈ {0, 1, 2} (half away from zero).
int ternary(float v) { return static_cast<int32_t>(static_cast<uint64_t>(lround_x86(v)) + 1); }

float ternary_scale(const float* x, uint8_t* d_at) {
  float amax = 0;
  for (int j = 0; j < kSuper; ++j) amax = std::max(amax, std::fabs(x[j]));
  put_half(d_at, amax);
  return amax != 0 ? 1.0f / amax : 0.0f;
}

// TQ1_0: five trits per byte as the base-3 number t₀t₁t₂t₃t₄ scaled to a byte, q = ⌈n·256 / 243⌉:
// bytes 0–31 take values m + 32k (k = 0 … 4) of the first 160, bytes 32–47 values m + 16k of the
// next 80; the four qh bytes four trits each (values j + 4k of the last 16) and a zero fifth.
// Bytes: qs [48], qh [4], d.
void tq1_0_block(const float* x, uint8_t* y) {
  const float id = ternary_scale(x, y + 52);
  const auto byte_of = [](uint8_t n) { return static_cast<uint8_t>((static_cast<uint16_t>(n) * 256 + 242) / 243); };
  for (int m = 0; m < 32; ++m) {
    uint8_t n = 0;
    for (int k = 0; k < 5; ++k) n = static_cast<uint8_t>(n * 3 + ternary(x[m + 32 * k] * id));
    y[m] = byte_of(n);
  }
  for (int m = 0; m < 16; ++m) {
    uint8_t n = 0;
    for (int k = 0; k < 5; ++k) n = static_cast<uint8_t>(n * 3 + ternary(x[160 + m + 16 * k] * id));
    y[32 + m] = byte_of(n);
  }
  for (int j = 0; j < 4; ++j) {
    uint8_t n = 0;
    for (int k = 0; k < 4; ++k) n = static_cast<uint8_t>(n * 3 + ternary(x[240 + j + 4 * k] * id));
    y[48 + j] = byte_of(static_cast<uint8_t>(n * 3));
  }
}

// TQ2_0: four 2-bit trits per byte, byte m of each 32 holding values m + 32k, k = 0 … 3.
// Bytes: qs [64], d.
void tq2_0_block(const float* x, uint8_t* y) {
  const float id = ternary_scale(x, y + 64);
  for (int j = 0; j < 2; ++j) {
    for (int m = 0; m < 32; ++m) {
      int q = 0;
      for (int k = 0; k < 4; ++k) q += (ternary(x[128 * j + m + 32 * k] * id) & 3) << (2 * k);
      y[32 * j + m] = static_cast<uint8_t>(q);
    }
  }
}

// ---------------------------------------------------------------- dequantization

// x86's default NaN (what 0·Inf and Inf − Inf give there) in place of any NaN of a block whose
// scale is not finite: wasm leaves a NaN's sign to the engine.
void x86_nans(float* y, int n) {
  const float nan = float_of(0xFFC00000u);
  for (int i = 0; i < n; ++i)
    if (std::isnan(y[i])) y[i] = nan;
}

void dequantize_block(GgmlType t, const uint8_t* b, float* y) {
  bool finite = true;
  switch (t) {
    case GgmlType::Q8_0: {
      const float d = get_half(b);
      finite = std::isfinite(d);
      for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
      break;
    }
    case GgmlType::Q4_0: {
      const float d = get_half(b);
      finite = std::isfinite(d);
      for (int j = 0; j < 16; ++j) {
        y[j] = static_cast<float>((b[2 + j] & 0x0F) - 8) * d;
        y[j + 16] = static_cast<float>((b[2 + j] >> 4) - 8) * d;
      }
      break;
    }
    case GgmlType::Q4_1: {
      const float d = get_half(b), m = get_half(b + 2);
      finite = std::isfinite(d) && std::isfinite(m);
      for (int j = 0; j < 16; ++j) {
        y[j] = static_cast<float>(b[4 + j] & 0x0F) * d + m;
        y[j + 16] = static_cast<float>(b[4 + j] >> 4) * d + m;
      }
      break;
    }
    case GgmlType::Q5_0:
    case GgmlType::Q5_1: {
      const bool with_min = t == GgmlType::Q5_1;
      const float d = get_half(b), m = with_min ? get_half(b + 2) : 0.0f;
      finite = std::isfinite(d) && std::isfinite(m);
      const uint8_t* qh = b + (with_min ? 4 : 2);
      const uint8_t* qs = qh + 4;
      const uint32_t h = static_cast<uint32_t>(qh[0] | qh[1] << 8 | qh[2] << 16) | static_cast<uint32_t>(qh[3]) << 24;
      for (int j = 0; j < 16; ++j) {
        const int q0 = static_cast<int>((qs[j] & 0x0F) | ((h >> j) << 4 & 0x10));
        const int q1 = static_cast<int>((qs[j] >> 4) | ((h >> (j + 12)) & 0x10));
        if (with_min) {
          y[j] = static_cast<float>(q0) * d + m;
          y[j + 16] = static_cast<float>(q1) * d + m;
        } else {
          y[j] = static_cast<float>(q0 - 16) * d;
          y[j + 16] = static_cast<float>(q1 - 16) * d;
        }
      }
      break;
    }
    case GgmlType::Q2_K: {
      const float d = get_half(b + 80), dmin = get_half(b + 82);
      finite = std::isfinite(d) && std::isfinite(dmin);
      const uint8_t* q = b + 16;
      float* o = y;
      for (int half = 0, is = 0; half < 2; ++half, q += 32) {
        for (int shift = 0; shift < 8; shift += 2) {
          for (int part = 0; part < 2; ++part, ++is) {
            const float dl = d * static_cast<float>(b[is] & 0xF), ml = dmin * static_cast<float>(b[is] >> 4);
            for (int l = 0; l < 16; ++l) *o++ = dl * static_cast<float>((q[16 * part + l] >> shift) & 3) - ml;
          }
        }
      }
      break;
    }
    case GgmlType::Q3_K: {
      const float d = get_half(b + 108);
      finite = std::isfinite(d);
      const uint8_t* hm = b;
      const uint8_t* q = b + 32;
      // Per 128-half h and 2-bit shift s: values 32·(4h + s) + l, l < 32, from byte l of the
      // half's 32 and bit 4h + s of hmask byte l; sub-block j / 16.
      for (int h = 0; h < 2; ++h) {
        for (int s = 0; s < 4; ++s) {
          const int base = 128 * h + 32 * s;
          const float dl0 = d * static_cast<float>(q3_scale(base / 16, b + 96));
          const float dl1 = d * static_cast<float>(q3_scale(base / 16 + 1, b + 96));
          for (int l = 0; l < 32; ++l) {
            const int code = ((q[32 * h + l] >> (2 * s)) & 3) - ((hm[l] >> (4 * h + s)) & 1 ? 0 : 4);
            y[base + l] = (l < 16 ? dl0 : dl1) * static_cast<float>(code);
          }
        }
      }
      break;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
      const bool five = t == GgmlType::Q5_K;
      const float d = get_half(b), dmin = get_half(b + 2);
      finite = std::isfinite(d) && std::isfinite(dmin);
      const uint8_t* qh = b + 16;
      const uint8_t* ql = b + (five ? 48 : 16);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        k4_scale_min(j, b + 4, sc, m);
        const float dj = d * static_cast<float>(sc), mj = dmin * static_cast<float>(m);
        const uint8_t* qb = ql + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int l = 0; l < 32; ++l) {
          int code = (qb[l] >> shift) & 0xF;
          if (five && (qh[l] >> j & 1)) code += 16;
          y[32 * j + l] = dj * static_cast<float>(code) - mj;
        }
      }
      break;
    }
    case GgmlType::Q6_K: {
      const float d = get_half(b + 208);
      finite = std::isfinite(d);
      const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
      // Per 128-half h and quarter k: values 128h + 32k + l from the low (k < 2) or high nibble of
      // ql byte 64h + 32·(k % 2) + l and bits 2k, 2k + 1 of qh byte 32h + l; d·sc, then ·(q − 32).
      for (int h = 0; h < 2; ++h) {
        for (int k = 0; k < 4; ++k) {
          const int base = 128 * h + 32 * k;
          const float d0 = d * static_cast<float>(sc[base / 16]), d1 = d * static_cast<float>(sc[base / 16 + 1]);
          const uint8_t* ql = b + 64 * h + 32 * (k & 1);
          const uint8_t* qh = b + 128 + 32 * h;
          for (int l = 0; l < 32; ++l) {
            const int code = ((ql[l] >> (4 * (k >> 1))) & 0xF) + ((qh[l] >> (2 * k)) & 3) * 16 - 32;
            y[base + l] = (l < 16 ? d0 : d1) * static_cast<float>(code);
          }
        }
      }
      break;
    }
    case GgmlType::IQ4_NL: {
      const float d = get_half(b);
      finite = std::isfinite(d);
      for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>(kIq4Levels[b[2 + j] & 0xF]);
        y[j + 16] = d * static_cast<float>(kIq4Levels[b[2 + j] >> 4]);
      }
      break;
    }
    case GgmlType::IQ4_XS: {
      const float d = get_half(b);
      finite = std::isfinite(d);
      const uint16_t scales_h = get16(b + 2);
      for (int ib = 0; ib < 8; ++ib) {
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | ((scales_h >> (2 * ib)) & 3) << 4;
        const float dl = d * static_cast<float>(ls - 32);
        const uint8_t* qs = b + 8 + 16 * ib;
        for (int j = 0; j < 16; ++j) {
          y[32 * ib + j] = dl * static_cast<float>(kIq4Levels[qs[j] & 0xF]);
          y[32 * ib + j + 16] = dl * static_cast<float>(kIq4Levels[qs[j] >> 4]);
        }
      }
      break;
    }
    case GgmlType::TQ1_0:
    case GgmlType::TQ2_0: {
      const bool one = t == GgmlType::TQ1_0;
      const float d = get_half(b + (one ? 52 : 64));
      finite = std::isfinite(d);
      // A trit from a base-3 byte: the top trit of n·3^k (mod 256) is ⌊(that byte)·3 / 256⌋.
      const auto trit = [](uint8_t byte, int k) {
        static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
        const uint8_t q = static_cast<uint8_t>(byte * kPow3[k]);
        return (static_cast<uint16_t>(q) * 3) >> 8;
      };
      float* o = y;
      if (one) {
        for (int k = 0; k < 5; ++k)
          for (int m = 0; m < 32; ++m) *o++ = static_cast<float>(trit(b[m], k) - 1) * d;
        for (int k = 0; k < 5; ++k)
          for (int m = 0; m < 16; ++m) *o++ = static_cast<float>(trit(b[32 + m], k) - 1) * d;
        for (int k = 0; k < 4; ++k)
          for (int j = 0; j < 4; ++j) *o++ = static_cast<float>(trit(b[48 + j], k) - 1) * d;
      } else {
        for (int j = 0; j < 2; ++j)
          for (int k = 0; k < 4; ++k)
            for (int m = 0; m < 32; ++m) *o++ = static_cast<float>(((b[32 * j + m] >> (2 * k)) & 3) - 1) * d;
      }
      break;
    }
    case GgmlType::MXFP4: {
      const float d = e8m0_half(b[0]);
      for (int j = 0; j < 16; ++j) {
        y[j] = static_cast<float>(kFp4Doubled[b[1 + j] & 0x0F]) * d;
        y[j + 16] = static_cast<float>(kFp4Doubled[b[1 + j] >> 4]) * d;
      }
      break;
    }
    case GgmlType::NVFP4: {
      for (int s = 0; s < 4; ++s) {
        const float d = ue4m3_half(b[s]);
        for (int j = 0; j < 8; ++j) {
          const uint8_t q = b[4 + 8 * s + j];
          y[16 * s + j] = static_cast<float>(kFp4Doubled[q & 0x0F]) * d;
          y[16 * s + 8 + j] = static_cast<float>(kFp4Doubled[q >> 4]) * d;
        }
      }
      break;
    }
  }
  if (!finite) x86_nans(y, ggml_type_info(t)->block);
}

}  // namespace

// ---------------------------------------------------------------- the table and the entry points

const GgmlTypeInfo kGgmlTypes[16] = {
    {GgmlType::Q8_0, "q8_0", "Q8_0", 32, 34, 32, false, false, -128, 127, 8, nullptr,
     "x ≈ d·q, q an int8 (d: float16 per 32)",
     "d: fp16; qs: 32 × int8"},
    {GgmlType::Q4_0, "q4_0", "Q4_0", 32, 18, 32, true, false, 0, 15, 4, nullptr,
     "x ≈ d·(q − 8), q 4-bit (d: float16 per 32)",
     "d: fp16; qs: 16 bytes, value j in the low nibble of byte j, value j + 16 in its high nibble"},
    {GgmlType::Q4_1, "q4_1", "Q4_1", 32, 20, 32, true, true, 0, 15, 4, nullptr,
     "x ≈ d·q + m, q 4-bit (d, m: float16 per 32)",
     "d: fp16; m: fp16; qs: 16 bytes as Q4_0"},
    {GgmlType::Q5_0, "q5_0", "Q5_0", 32, 22, 32, true, false, 0, 31, 5, nullptr,
     "x ≈ d·(q − 16), q 5-bit (d: float16 per 32)",
     "d: fp16; qh: bit 4 of value j in bit j of a little-endian uint32; qs: the low nibbles as Q4_0"},
    {GgmlType::Q5_1, "q5_1", "Q5_1", 32, 24, 32, true, true, 0, 31, 5, nullptr,
     "x ≈ d·q + m, q 5-bit (d, m: float16 per 32)",
     "d: fp16; m: fp16; qh and qs as Q5_0"},
    {GgmlType::Q2_K, "q2_k", "Q2_K", 256, 84, 16, true, true, 0, 3, 2, "q4_0",
     "x ≈ d·sc·q − dmin·m, q 2-bit; sc, m 4-bit per 16 values; d, dmin float16 per 256",
     "scales: 16 bytes (sc | m << 4); qs: 64 bytes of 2-bit codes; d: fp16; dmin: fp16"},
    {GgmlType::Q3_K, "q3_k", "Q3_K", 256, 110, 16, true, false, 0, 7, 3, "q4_0",
     "x ≈ d·(sc − 32)·(q − 4), q 3-bit; sc 6-bit per 16 values; d float16 per 256",
     "hmask: 32 bytes (bit 2 of each code); qs: 64 bytes of the low 2 bits; scales: 12 bytes of 6-bit scales; d: fp16"},
    {GgmlType::Q4_K, "q4_k", "Q4_K", 256, 144, 32, true, true, 0, 15, 4, "q5_0",
     "x ≈ d·sc·q − dmin·m, q 4-bit; sc, m 6-bit per 32 values; d, dmin float16 per 256",
     "d: fp16; dmin: fp16; scales: 12 bytes of 6-bit scales and mins; qs: 128 bytes of nibbles"},
    {GgmlType::Q5_K, "q5_k", "Q5_K", 256, 176, 32, true, true, 0, 31, 5, "q5_1",
     "x ≈ d·sc·q − dmin·m, q 5-bit; sc, m 6-bit per 32 values; d, dmin float16 per 256",
     "d: fp16; dmin: fp16; scales: 12 bytes as Q4_K; qh: 32 bytes (bit 4 of each code); qs: 128 bytes of nibbles"},
    {GgmlType::Q6_K, "q6_k", "Q6_K", 256, 210, 16, true, false, 0, 63, 6, "q8_0",
     "x ≈ d·sc·(q − 32), q 6-bit; sc int8 per 16 values; d float16 per 256",
     "ql: 128 bytes (low nibbles); qh: 64 bytes (top 2 bits); scales: 16 × int8; d: fp16"},
    {GgmlType::IQ4_NL, "iq4_nl", "IQ4_NL", 32, 18, 32, true, false, 0, 15, 4, nullptr,
     "x ≈ d·v[q], v the 16 non-uniform levels −127 … 113 (d: float16 per 32)", "d: fp16; qs: 16 bytes as Q4_0"},
    {GgmlType::IQ4_XS, "iq4_xs", "IQ4_XS", 256, 136, 32, true, false, 0, 15, 4, "iq4_nl",
     "x ≈ d·(sc − 32)·v[q], v the IQ4_NL levels; sc 6-bit per 32 values; d float16 per 256",
     "d: fp16; scales_h: uint16 (top 2 bits of each sc); scales_l: 4 bytes (low nibbles); "
     "qs: 128 bytes as Q4_0 per 32"},
    {GgmlType::TQ1_0, "tq1_0", "TQ1_0", 256, 54, 256, false, false, 0, 2, 2, "q4_0",
     "x ≈ d·t, t ∈ {−1, 0, 1} (d = amax, float16 per 256)",
     "qs: 48 bytes of five trits each; qh: 4 bytes of four trits; d: fp16"},
    {GgmlType::TQ2_0, "tq2_0", "TQ2_0", 256, 66, 256, false, false, 0, 2, 2, "q4_0",
     "x ≈ d·t, t ∈ {−1, 0, 1} (d = amax, float16 per 256)", "qs: 64 bytes of four 2-bit trits; d: fp16"},
    {GgmlType::MXFP4, "mxfp4", "MXFP4", 32, 17, 32, false, false, 0, 15, 4, nullptr,
     "x ≈ 2^(e − 127)·fp4(q), e = ⌊log2 amax⌋ − 2 + 127; FP4 E2M1 codes, ties to the smaller magnitude",
     "e: E8M0; qs: 16 bytes as Q4_0"},
    {GgmlType::NVFP4, "nvfp4", "NVFP4", 64, 36, 16, false, false, 0, 15, 4, nullptr,
     "x ≈ s·fp4(q), s = UE4M3(amax / 6) per 16 values (rounded half up, at most 448); no tensor scale",
     "d: 4 × UE4M3; qs: 32 bytes, per 16 values as Q4_0 per 8"},
};

const GgmlTypeInfo* ggml_type_info(GgmlType t) { return ggml_type_info(static_cast<uint32_t>(t)); }

const GgmlTypeInfo* ggml_type_info(uint32_t gguf_type) {
  for (const GgmlTypeInfo& i : kGgmlTypes)
    if (static_cast<uint32_t>(i.type) == gguf_type) return &i;
  return nullptr;
}

const GgmlTypeInfo* ggml_type_by_name(const std::string& name) {
  for (const GgmlTypeInfo& i : kGgmlTypes)
    if (name == i.name) return &i;
  return nullptr;
}

std::optional<std::string> row_length_error(const GgmlTypeInfo& t, int64_t n_per_row) {
  if (n_per_row > 0 && n_per_row % t.block == 0) return std::nullopt;
  std::string m = std::string(t.ggml_name) + " stores rows in blocks of " + std::to_string(t.block) +
                  " values, and a row (the last axis of shape) holds " + std::to_string(n_per_row);
  if (!t.fallback) return m;
  const GgmlTypeInfo& f = *ggml_type_by_name(t.fallback);
  if (n_per_row > 0 && n_per_row % f.block == 0)
    return m + ": llama-quantize would store this tensor as " + f.ggml_name + " instead";
  return m + ": llama-quantize would fall back to " + f.ggml_name + ", and as that needs a multiple of " +
         std::to_string(f.block) + " too, store the tensor as F16";
}

void ggml_quantize(const GgmlTypeInfo& t, const float* x, size_t rows, size_t n_per_row, const float* importance,
                   uint8_t* out) {
  const size_t per_row = n_per_row / static_cast<size_t>(t.block);
  const size_t bytes = static_cast<size_t>(t.bytes), block = static_cast<size_t>(t.block);
  const float* qw = t.importance ? importance : nullptr;
  std::vector<float> w32;
  for (size_t r = 0; r < rows; ++r, x += n_per_row) {
    // The 32-blocks' imatrix paths weigh by the row's σ².
    const float sigma2 = qw && block == 32 && t.type != GgmlType::IQ4_NL ? row_sigma2(x, n_per_row) : 0.0f;
    for (size_t b = 0; b < per_row; ++b, out += bytes) {
      const float* xb = x + b * block;
      const float* wb = qw ? qw + b * block : nullptr;
      if (t.type == GgmlType::IQ4_NL && b + 4 <= per_row) {  // four blocks at once
        iq4_nl_blocks4(xb, wb, out);
        b += 3, out += 3 * bytes;
        continue;
      }
      float w[32];
      if (wb && block == 32 && t.type != GgmlType::IQ4_NL) weigh32(xb, wb, sigma2, w);
      switch (t.type) {
        case GgmlType::Q8_0: q8_0_block(xb, out); break;
        case GgmlType::Q4_0: wb ? q4_0_weighted(xb, w, out) : q4_0_block(xb, out); break;
        case GgmlType::Q4_1: wb ? qx_1_weighted<4>(xb, w, out) : qx_1_block<4>(xb, out); break;
        case GgmlType::Q5_0: wb ? q5_0_weighted(xb, w, out) : q5_0_block(xb, out); break;
        case GgmlType::Q5_1: wb ? qx_1_weighted<5>(xb, w, out) : qx_1_block<5>(xb, out); break;
        case GgmlType::Q2_K: wb ? q2_k_weighted(xb, wb, out) : q2_k_block(xb, out); break;
        case GgmlType::Q3_K: wb ? q3_k_weighted(xb, wb, out) : q3_k_block(xb, out); break;
        case GgmlType::Q4_K: wb ? qk_weighted<4>(xb, wb, out) : qk_block<4>(xb, out); break;
        case GgmlType::Q5_K: wb ? qk_weighted<5>(xb, wb, out) : qk_block<5>(xb, out); break;
        case GgmlType::Q6_K: q6_k_block(xb, wb, out); break;
        case GgmlType::IQ4_NL: iq4_nl_block(xb, wb, out); break;
        case GgmlType::IQ4_XS: iq4_xs_block(xb, wb, out); break;
        case GgmlType::TQ1_0: tq1_0_block(xb, out); break;
        case GgmlType::TQ2_0: tq2_0_block(xb, out); break;
        case GgmlType::MXFP4: mxfp4_block(xb, out); break;
        case GgmlType::NVFP4: nvfp4_block(xb, out); break;
      }
    }
  }
}

void ggml_dequantize(const GgmlTypeInfo& t, const uint8_t* in, size_t blocks, float* out) {
  const size_t bytes = static_cast<size_t>(t.bytes), block = static_cast<size_t>(t.block);
  for (size_t b = 0; b < blocks; ++b) dequantize_block(t.type, in + b * bytes, out + b * block);
}

void inspect_block(const GgmlTypeInfo& t, const uint8_t* b, GgmlBlockView& v) {
  const int nsub = t.block / t.sub_block;
  const auto one_scale = [&](float d, uint16_t bits, float min) {
    v.d = d, v.d_code = bits, v.min = min;
    v.sub_scale[0] = d, v.sub_min[0] = min;
    v.sub_scale_code[0] = static_cast<int32_t>(bits), v.sub_min_code[0] = 0;
  };
  const auto nibbles = [&](const uint8_t* qs) {
    for (int j = 0; j < 16; ++j) v.codes[j] = qs[j] & 0xF, v.codes[j + 16] = qs[j] >> 4;
  };
  switch (t.type) {
    case GgmlType::Q8_0:
      one_scale(get_half(b), get16(b), 0);
      for (int j = 0; j < 32; ++j) v.codes[j] = static_cast<int8_t>(b[2 + j]);
      return;
    case GgmlType::Q4_0:
    case GgmlType::IQ4_NL:
      one_scale(get_half(b), get16(b), 0);
      nibbles(b + 2);
      return;
    case GgmlType::Q4_1:
      one_scale(get_half(b), get16(b), get_half(b + 2));
      nibbles(b + 4);
      return;
    case GgmlType::Q5_0:
    case GgmlType::Q5_1: {
      const bool with_min = t.type == GgmlType::Q5_1;
      one_scale(get_half(b), get16(b), with_min ? get_half(b + 2) : 0);
      const uint8_t* qh = b + (with_min ? 4 : 2);
      nibbles(qh + 4);
      for (int j = 0; j < 32; ++j) v.codes[j] |= (qh[j / 8] >> (j % 8) & 1) << 4;
      return;
    }
    case GgmlType::Q2_K: {
      v.d = get_half(b + 80), v.d_code = get16(b + 80), v.min = get_half(b + 82);
      for (int j = 0; j < 16; ++j) {
        v.sub_scale_code[j] = b[j] & 0xF, v.sub_min_code[j] = b[j] >> 4;
        v.sub_scale[j] = v.d * static_cast<float>(v.sub_scale_code[j]);
        v.sub_min[j] = v.min * static_cast<float>(v.sub_min_code[j]);
      }
      // Value j: 128-half h, shift 2·s, byte j % 32 of the half's 32.
      for (int j = 0; j < kSuper; ++j) v.codes[j] = (b[16 + 32 * (j / 128) + j % 32] >> (2 * ((j % 128) / 32))) & 3;
      return;
    }
    case GgmlType::Q3_K: {
      v.d = get_half(b + 108), v.d_code = get16(b + 108), v.min = 0;
      for (int j = 0; j < 16; ++j) {
        const int sc = q3_scale(j, b + 96);
        v.sub_scale_code[j] = sc + 32, v.sub_min_code[j] = 0;
        v.sub_scale[j] = v.d * static_cast<float>(sc), v.sub_min[j] = 0;
      }
      for (int j = 0; j < kSuper; ++j) {
        const int h = j / 128, s = (j % 128) / 32, l = j % 32;
        v.codes[j] = ((b[32 + 32 * h + l] >> (2 * s)) & 3) | ((b[l] >> (4 * h + s)) & 1) << 2;
      }
      return;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
      const bool five = t.type == GgmlType::Q5_K;
      v.d = get_half(b), v.d_code = get16(b), v.min = get_half(b + 2);
      const uint8_t* ql = b + (five ? 48 : 16);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        k4_scale_min(j, b + 4, sc, m);
        v.sub_scale_code[j] = sc, v.sub_min_code[j] = m;
        v.sub_scale[j] = v.d * static_cast<float>(sc), v.sub_min[j] = v.min * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) {
          int code = (ql[32 * (j / 2) + l] >> (4 * (j % 2))) & 0xF;
          if (five) code |= ((b[16 + l] >> j) & 1) << 4;
          v.codes[32 * j + l] = code;
        }
      }
      return;
    }
    case GgmlType::Q6_K: {
      v.d = get_half(b + 208), v.d_code = get16(b + 208), v.min = 0;
      for (int j = 0; j < 16; ++j) {
        v.sub_scale_code[j] = static_cast<int8_t>(b[192 + j]), v.sub_min_code[j] = 0;
        v.sub_scale[j] = v.d * static_cast<float>(v.sub_scale_code[j]), v.sub_min[j] = 0;
      }
      for (int j = 0; j < kSuper; ++j) {
        const int h = j / 128, k = (j % 128) / 32, l = j % 32;
        const int lo = b[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1)) & 0xF;
        v.codes[j] = lo | ((b[128 + 32 * h + l] >> (2 * k)) & 3) << 4;
      }
      return;
    }
    case GgmlType::IQ4_XS: {
      v.d = get_half(b), v.d_code = get16(b), v.min = 0;
      const uint16_t scales_h = get16(b + 2);
      for (int ib = 0; ib < 8; ++ib) {
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | ((scales_h >> (2 * ib)) & 3) << 4;
        v.sub_scale_code[ib] = ls, v.sub_min_code[ib] = 0;
        v.sub_scale[ib] = v.d * static_cast<float>(ls - 32), v.sub_min[ib] = 0;
        const uint8_t* qs = b + 8 + 16 * ib;
        for (int j = 0; j < 16; ++j) v.codes[32 * ib + j] = qs[j] & 0xF, v.codes[32 * ib + j + 16] = qs[j] >> 4;
      }
      return;
    }
    case GgmlType::TQ1_0:
    case GgmlType::TQ2_0: {
      // The codes in the order dequantize_block writes the values: decode d = 1 and read back.
      const bool one = t.type == GgmlType::TQ1_0;
      uint8_t unit[66];
      std::memcpy(unit, b, static_cast<size_t>(t.bytes));
      put16(unit + (one ? 52 : 64), 0x3C00);  // 1.0
      float y[kSuper];
      dequantize_block(t.type, unit, y);
      for (int j = 0; j < kSuper; ++j) v.codes[j] = static_cast<int32_t>(y[j]) + 1;
      one_scale(get_half(b + (one ? 52 : 64)), get16(b + (one ? 52 : 64)), 0);
      return;
    }
    case GgmlType::MXFP4:
      // The E8M0 scale itself: twice ggml's halved one (its FP4 levels are doubled).
      v.d = 2 * e8m0_half(b[0]), v.d_code = b[0], v.min = 0;
      v.sub_scale[0] = v.d, v.sub_min[0] = 0, v.sub_scale_code[0] = b[0], v.sub_min_code[0] = 0;
      nibbles(b + 1);
      return;
    case GgmlType::NVFP4:
      v.d = 0, v.d_code = 0, v.min = 0;
      for (int s = 0; s < nsub; ++s) {
        v.sub_scale_code[s] = b[s], v.sub_min_code[s] = 0;
        v.sub_scale[s] = 2 * ue4m3_half(b[s]), v.sub_min[s] = 0;
        for (int j = 0; j < 8; ++j) {
          v.codes[16 * s + j] = b[4 + 8 * s + j] & 0xF;
          v.codes[16 * s + 8 + j] = b[4 + 8 * s + j] >> 4;
        }
      }
      return;
  }
}

double ggml_code_value(const GgmlTypeInfo& t, int code) {
  switch (t.type) {
    case GgmlType::Q4_0: return code - 8;
    case GgmlType::Q5_0: return code - 16;
    case GgmlType::Q3_K: return code - 4;
    case GgmlType::Q6_K: return code - 32;
    case GgmlType::TQ1_0:
    case GgmlType::TQ2_0: return code - 1;
    case GgmlType::IQ4_NL:
    case GgmlType::IQ4_XS: return kIq4Levels[code & 0xF];
    case GgmlType::MXFP4:
    case GgmlType::NVFP4: return kFp4Doubled[code & 0xF] / 2.0;
    default: return code;  // Q8_0, and the types with a min (x ≈ d·q − m)
  }
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t w = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((w >> 16) & 0x8000);
  const uint32_t a = w & 0x7FFFFFFF;
  if (a > 0x7F800000) return sign | 0x7E00;   // NaN
  if (a >= 0x47800000) return sign | 0x7C00;  // 2^16 and above, Inf: Inf
  if (a >= 0x38800000) {
    // A normal half (2^−14 and up): rebias the exponent (127 → 15) and drop 13 mantissa bits,
    // rounding to nearest even; a carry may reach the exponent, and from 65520 on, Inf.
    uint32_t h = (a - 0x38000000) >> 13;
    const uint32_t rest = a & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (a < 0x33000000) return sign;  // below 2^−25: ±0 (2^−25 itself, a tie, also goes to 0 below)
  // A subnormal half: m = |f|·2^24 rounded to nearest even (m = 1024 is the smallest normal).
  const uint32_t shift = 126 - (a >> 23);  // 14 … 24
  const uint32_t mant = (a & 0x7FFFFF) | 0x800000;
  uint32_t m = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (m & 1))) ++m;
  return static_cast<uint16_t>(sign | m);
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
  if (e == 0x1F) return float_of(sign | 0x7F800000 | m << 13);
  if (e != 0) return float_of(sign | (e + 112) << 23 | m << 13);
  const float v = static_cast<float>(m) * 0x1p-24f;  // zero and subnormals, exact
  return sign ? -v : v;
}

}  // namespace qe
