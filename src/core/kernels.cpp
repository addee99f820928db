#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "rounding.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace qe {

namespace {

constexpr int kLanes = 4;  // sums: sample i goes to lane i % 4, in both twins

// Per-lane accumulators shared by the SIMD body (after it stores its vectors) and the scalar
// code (twin and tail), so both add each sample to the same lane in the same order.
struct LaneSums {
  double err2[kLanes] = {};
  double abs[kLanes] = {};
  double err[kLanes] = {};
  double xhat2[kLanes] = {};
  double xxhat[kLanes] = {};
  double max_abs[kLanes] = {-1, -1, -1, -1};
  uint64_t max_index[kLanes] = {};
  uint64_t clip = 0;
  uint64_t tie = 0;

  ErrorSums finish(uint64_t count) const {
    ErrorSums s;
    s.count = count;
    auto add = [](const double* v) { return ((v[0] + v[1]) + v[2]) + v[3]; };
    s.sum_err2 = add(err2);
    s.sum_abs = add(abs);
    s.sum_err = add(err);
    s.sum_xhat2 = add(xhat2);
    s.sum_xxhat = add(xxhat);
    for (int l = 0; l < kLanes; ++l) {
      if (max_abs[l] > s.max_abs || (max_abs[l] == s.max_abs && max_index[l] < s.max_abs_index)) {
        s.max_abs = max_abs[l];
        s.max_abs_index = max_index[l];
      }
    }
    s.clip_count = clip;
    s.tie_count = tie;
    return s;
  }
};

// The quantizer's constants in the arithmetic's precision A.
template <class A> struct Consts {
  A scale, zp, qmin, qmax;
  explicit Consts(const KernelParams& p)
      : scale(static_cast<A>(p.scale)), zp(static_cast<A>(p.zero_point)), qmin(static_cast<A>(p.qmin)),
        qmax(static_cast<A>(p.qmax)) {}
};

template <Rounding R, class A> inline A round_rule(A s, uint32_t bits) {
  if constexpr (R == Rounding::HalfEven) return round_half_even(s);
  else if constexpr (R == Rounding::HalfAway) return round_half_away(s);
  else if constexpr (R == Rounding::HalfUp) return round_half_up(s);
  else if constexpr (R == Rounding::Floor) return round_floor(s);
  else if constexpr (R == Rounding::Ceil) return round_ceil(s);
  else if constexpr (R == Rounding::TowardZero) return round_toward_zero(s);
  else return round_stochastic(s, bits);
}

// One sample, scalar: the definition both twins implement.
//   scaled = x / scale + zero_point          (in A)
//   r = round(scaled); clipped = r ∉ [qmin, qmax]; q = clamp(r, qmin, qmax)
//   x_hat = (q - zero_point) * scale          (in A; q - zero_point is exact)
//   e = x - x_hat                             (in double, x as given)
template <Rounding R, class A, class In>
inline void step(In xin, size_t i, uint64_t gi, uint32_t key, const Consts<A>& c, const SampleOutputs& out,
                 LaneSums& L) {
  const A x = static_cast<A>(xin);
  const A scaled = x / c.scale + c.zp;
  const A r = round_rule<R>(scaled, fmix32(static_cast<uint32_t>(gi) ^ key));
  L.tie += is_tie(scaled);
  const bool clipped = r < c.qmin || r > c.qmax;
  L.clip += clipped;
  const A q = r < c.qmin ? c.qmin : (r > c.qmax ? c.qmax : r);
  const A xhat = (q - c.zp) * c.scale;
  const double e = static_cast<double>(xin) - static_cast<double>(xhat);
  const double ae = std::fabs(e);
  const int l = static_cast<int>(i % kLanes);
  L.err2[l] += e * e;
  L.abs[l] += ae;
  L.err[l] += e;
  L.xhat2[l] += static_cast<double>(xhat) * static_cast<double>(xhat);
  L.xxhat[l] += static_cast<double>(xin) * static_cast<double>(xhat);
  if (ae > L.max_abs[l]) {
    L.max_abs[l] = ae;
    L.max_index[l] = gi;
  }
  if (out.codes) out.codes[i] = static_cast<int32_t>(q);
  if (out.dequantized) static_cast<A*>(out.dequantized)[i] = xhat;
  if (out.errors) out.errors[i] = e;
  if (out.clipped) out.clipped[i] = clipped;
}

template <Rounding R, class A, class In>
void quantize_scalar_range(const In* x, size_t begin, size_t n, const KernelParams& p, uint32_t key,
                           const SampleOutputs& out, LaneSums& L) {
  const Consts<A> c(p);
  for (size_t i = begin; i < n; ++i) step<R, A>(x[i], i, p.index_base + i, key, c, out, L);
}

#ifdef __wasm_simd128__

bool use_simd(Kernel k) { return k != Kernel::Scalar; }

// ---- SIMD building blocks ------------------------------------------------------------------

// 32 stochastic bits for four consecutive global indices (lo 32 bits), as fmix32 does.
inline v128_t fmix32x4(v128_t h) {
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat(static_cast<int32_t>(0x85ebca6bu)));
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 13));
  h = wasm_i32x4_mul(h, wasm_i32x4_splat(static_cast<int32_t>(0xc2b2ae35u)));
  return wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
}

// The rounding rules on f32x4, each the same exact construction as rounding.h.
template <Rounding R> inline v128_t round_f32x4(v128_t s, v128_t bits) {
  const v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f);
  if constexpr (R == Rounding::HalfEven) return wasm_f32x4_nearest(s);
  else if constexpr (R == Rounding::Floor) return wasm_f32x4_floor(s);
  else if constexpr (R == Rounding::Ceil) return wasm_f32x4_ceil(s);
  else if constexpr (R == Rounding::TowardZero) return wasm_f32x4_trunc(s);
  else if constexpr (R == Rounding::HalfAway) {
    const v128_t t = wasm_f32x4_trunc(s);
    const v128_t up = wasm_f32x4_ge(wasm_f32x4_abs(wasm_f32x4_sub(s, t)), half);
    const v128_t signed_one = wasm_v128_bitselect(s, one, wasm_i32x4_splat(INT32_MIN));
    return wasm_v128_bitselect(wasm_f32x4_add(t, signed_one), t, up);  // keeps t's zero sign, as the twin
  } else if constexpr (R == Rounding::HalfUp) {
    const v128_t f = wasm_f32x4_floor(s);
    return wasm_v128_bitselect(wasm_f32x4_add(f, one), f, wasm_f32x4_ge(wasm_f32x4_sub(s, f), half));
  } else {
    const v128_t f = wasm_f32x4_floor(s);
    const v128_t u = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(bits, 8)), wasm_f32x4_splat(0x1p-24f));
    return wasm_v128_bitselect(wasm_f32x4_add(f, one), f, wasm_f32x4_lt(u, wasm_f32x4_sub(s, f)));
  }
}

// The same on f64x2; `bits` holds the two draws in its low u32 lanes.
template <Rounding R> inline v128_t round_f64x2(v128_t s, v128_t bits) {
  const v128_t half = wasm_f64x2_splat(0.5), one = wasm_f64x2_splat(1.0);
  if constexpr (R == Rounding::HalfEven) return wasm_f64x2_nearest(s);
  else if constexpr (R == Rounding::Floor) return wasm_f64x2_floor(s);
  else if constexpr (R == Rounding::Ceil) return wasm_f64x2_ceil(s);
  else if constexpr (R == Rounding::TowardZero) return wasm_f64x2_trunc(s);
  else if constexpr (R == Rounding::HalfAway) {
    const v128_t t = wasm_f64x2_trunc(s);
    const v128_t up = wasm_f64x2_ge(wasm_f64x2_abs(wasm_f64x2_sub(s, t)), half);
    const v128_t signed_one = wasm_v128_bitselect(s, one, wasm_i64x2_splat(INT64_MIN));
    return wasm_v128_bitselect(wasm_f64x2_add(t, signed_one), t, up);  // keeps t's zero sign, as the twin
  } else if constexpr (R == Rounding::HalfUp) {
    const v128_t f = wasm_f64x2_floor(s);
    return wasm_v128_bitselect(wasm_f64x2_add(f, one), f, wasm_f64x2_ge(wasm_f64x2_sub(s, f), half));
  } else {
    const v128_t f = wasm_f64x2_floor(s);
    const v128_t u = wasm_f64x2_mul(wasm_f64x2_convert_low_u32x4(bits), wasm_f64x2_splat(0x1p-32));
    return wasm_v128_bitselect(wasm_f64x2_add(f, one), f, wasm_f64x2_lt(u, wasm_f64x2_sub(s, f)));
  }
}

// Four samples' double-precision bookkeeping: x and x_hat as two f64x2 halves (samples 0,1 and
// 2,3), so lane l of the accumulators is sample i % 4 exactly as in LaneSums.
struct DoubleLanes {
  v128_t err2[2], abs[2], err[2], xhat2[2], xxhat[2], max_abs[2], max_index[2];
  DoubleLanes() {
    for (int h = 0; h < 2; ++h) {
      err2[h] = abs[h] = err[h] = xhat2[h] = xxhat[h] = wasm_f64x2_splat(0.0);
      max_abs[h] = wasm_f64x2_splat(-1.0);
      max_index[h] = wasm_i64x2_splat(0);
    }
  }
  // idx: global indices of samples (2h, 2h+1) for each half.
  inline void add(const v128_t x[2], const v128_t xhat[2], const v128_t idx[2], double* errors_out) {
    for (int h = 0; h < 2; ++h) {
      const v128_t e = wasm_f64x2_sub(x[h], xhat[h]);
      const v128_t ae = wasm_f64x2_abs(e);
      err2[h] = wasm_f64x2_add(err2[h], wasm_f64x2_mul(e, e));
      abs[h] = wasm_f64x2_add(abs[h], ae);
      err[h] = wasm_f64x2_add(err[h], e);
      xhat2[h] = wasm_f64x2_add(xhat2[h], wasm_f64x2_mul(xhat[h], xhat[h]));
      xxhat[h] = wasm_f64x2_add(xxhat[h], wasm_f64x2_mul(x[h], xhat[h]));
      const v128_t gt = wasm_f64x2_gt(ae, max_abs[h]);
      max_abs[h] = wasm_v128_bitselect(ae, max_abs[h], gt);
      max_index[h] = wasm_v128_bitselect(idx[h], max_index[h], gt);
      if (errors_out) wasm_v128_store(errors_out + 2 * h, e);
    }
  }
  void store(LaneSums& L) const {
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 2; ++j) {
        const int l = 2 * h + j;
        L.err2[l] = j ? wasm_f64x2_extract_lane(err2[h], 1) : wasm_f64x2_extract_lane(err2[h], 0);
        L.abs[l] = j ? wasm_f64x2_extract_lane(abs[h], 1) : wasm_f64x2_extract_lane(abs[h], 0);
        L.err[l] = j ? wasm_f64x2_extract_lane(err[h], 1) : wasm_f64x2_extract_lane(err[h], 0);
        L.xhat2[l] = j ? wasm_f64x2_extract_lane(xhat2[h], 1) : wasm_f64x2_extract_lane(xhat2[h], 0);
        L.xxhat[l] = j ? wasm_f64x2_extract_lane(xxhat[h], 1) : wasm_f64x2_extract_lane(xxhat[h], 0);
        L.max_abs[l] = j ? wasm_f64x2_extract_lane(max_abs[h], 1) : wasm_f64x2_extract_lane(max_abs[h], 0);
        L.max_index[l] = static_cast<uint64_t>(j ? wasm_i64x2_extract_lane(max_index[h], 1)
                                                 : wasm_i64x2_extract_lane(max_index[h], 0));
      }
    }
  }
};

// Loads four samples as f32x4 and as two f64x2 halves (exact widenings; the f32x4 of double
// input is its round-to-nearest-even narrowing, as static_cast<float> does).
template <class In> inline void load4(const In* p, v128_t& xf, v128_t xd[2]) {
  if constexpr (std::is_same_v<In, float>) {
    xf = wasm_v128_load(p);
    xd[0] = wasm_f64x2_promote_low_f32x4(xf);
    xd[1] = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(xf, xf, 2, 3, 2, 3));
  } else {
    xd[0] = wasm_v128_load(p);
    xd[1] = wasm_v128_load(p + 2);
    xf = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(xd[0]), wasm_f32x4_demote_f64x2_zero(xd[1]), 0, 1, 4, 5);
  }
}

inline void store_clipped4(uint8_t* out, v128_t mask32) {
  const v128_t b = wasm_v128_and(wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(mask32, mask32), mask32),
                                 wasm_i8x16_splat(1));
  wasm_v128_store32_lane(out, b, 0);
}

// float32 arithmetic: four samples per step in f32x4.
template <Rounding R, class In>
void quantize_simd_f32(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                       LaneSums& L) {
  const v128_t s = wasm_f32x4_splat(static_cast<float>(p.scale));
  const v128_t zp = wasm_f32x4_splat(static_cast<float>(p.zero_point));
  const v128_t qmin = wasm_f32x4_splat(static_cast<float>(p.qmin));
  const v128_t qmax = wasm_f32x4_splat(static_cast<float>(p.qmax));
  const v128_t half = wasm_f32x4_splat(0.5f);
  v128_t clip = wasm_i32x4_splat(0), tie = wasm_i32x4_splat(0);
  v128_t lo32 = wasm_i32x4_make(0, 1, 2, 3);  // low 32 bits of the global index
  lo32 = wasm_i32x4_add(lo32, wasm_i32x4_splat(static_cast<int32_t>(p.index_base)));
  v128_t idx[2] = {wasm_i64x2_make(0, 1), wasm_i64x2_make(2, 3)};
  for (v128_t& v : idx) v = wasm_i64x2_add(v, wasm_i64x2_splat(static_cast<int64_t>(p.index_base)));
  const v128_t four32 = wasm_i32x4_splat(4), four64 = wasm_i64x2_splat(4);
  DoubleLanes D;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xf, xd[2];
    load4(x + i, xf, xd);
    const v128_t scaled = wasm_f32x4_add(wasm_f32x4_div(xf, s), zp);
    v128_t bits = wasm_i32x4_splat(0);
    if constexpr (R == Rounding::Stochastic) bits = fmix32x4(wasm_v128_xor(lo32, wasm_i32x4_splat(static_cast<int32_t>(key))));
    const v128_t r = round_f32x4<R>(scaled, bits);
    tie = wasm_i32x4_sub(tie, wasm_f32x4_eq(wasm_f32x4_sub(scaled, wasm_f32x4_floor(scaled)), half));
    const v128_t clipped = wasm_v128_or(wasm_f32x4_lt(r, qmin), wasm_f32x4_gt(r, qmax));
    clip = wasm_i32x4_sub(clip, clipped);
    const v128_t q = wasm_f32x4_min(wasm_f32x4_max(r, qmin), qmax);
    const v128_t xhat = wasm_f32x4_mul(wasm_f32x4_sub(q, zp), s);
    const v128_t xh[2] = {wasm_f64x2_promote_low_f32x4(xhat),
                          wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(xhat, xhat, 2, 3, 2, 3))};
    D.add(xd, xh, idx, out.errors ? out.errors + i : nullptr);
    if (out.codes) wasm_v128_store(out.codes + i, wasm_i32x4_trunc_sat_f32x4(q));
    if (out.dequantized) wasm_v128_store(static_cast<float*>(out.dequantized) + i, xhat);
    if (out.clipped) store_clipped4(out.clipped + i, clipped);
    lo32 = wasm_i32x4_add(lo32, four32);
    idx[0] = wasm_i64x2_add(idx[0], four64);
    idx[1] = wasm_i64x2_add(idx[1], four64);
  }
  D.store(L);
  for (int l = 0; l < 4; ++l) {
    L.clip += static_cast<uint32_t>(wasm_i32x4_extract_lane(clip, 0));
    clip = wasm_i32x4_shuffle(clip, clip, 1, 2, 3, 0);
    L.tie += static_cast<uint32_t>(wasm_i32x4_extract_lane(tie, 0));
    tie = wasm_i32x4_shuffle(tie, tie, 1, 2, 3, 0);
  }
  quantize_scalar_range<R, float>(x, i, n, p, key, out, L);
}

// float64 arithmetic: four samples per step as two f64x2 halves.
template <Rounding R, class In>
void quantize_simd_f64(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                       LaneSums& L) {
  const v128_t s = wasm_f64x2_splat(p.scale);
  const v128_t zp = wasm_f64x2_splat(static_cast<double>(p.zero_point));
  const v128_t qmin = wasm_f64x2_splat(static_cast<double>(p.qmin));
  const v128_t qmax = wasm_f64x2_splat(static_cast<double>(p.qmax));
  const v128_t half = wasm_f64x2_splat(0.5);
  v128_t clip = wasm_i64x2_splat(0), tie = wasm_i64x2_splat(0);
  v128_t lo32 = wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(static_cast<int32_t>(p.index_base)));
  v128_t idx[2] = {wasm_i64x2_make(0, 1), wasm_i64x2_make(2, 3)};
  for (v128_t& v : idx) v = wasm_i64x2_add(v, wasm_i64x2_splat(static_cast<int64_t>(p.index_base)));
  const v128_t four32 = wasm_i32x4_splat(4), four64 = wasm_i64x2_splat(4);
  DoubleLanes D;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xf, xd[2];
    load4(x + i, xf, xd);
    v128_t bits = wasm_i32x4_splat(0);
    if constexpr (R == Rounding::Stochastic) bits = fmix32x4(wasm_v128_xor(lo32, wasm_i32x4_splat(static_cast<int32_t>(key))));
    v128_t xh[2], q[2], clipped[2];
    for (int h = 0; h < 2; ++h) {
      const v128_t scaled = wasm_f64x2_add(wasm_f64x2_div(xd[h], s), zp);
      const v128_t r = round_f64x2<R>(scaled, h ? wasm_i32x4_shuffle(bits, bits, 2, 3, 2, 3) : bits);
      tie = wasm_i64x2_sub(tie, wasm_f64x2_eq(wasm_f64x2_sub(scaled, wasm_f64x2_floor(scaled)), half));
      clipped[h] = wasm_v128_or(wasm_f64x2_lt(r, qmin), wasm_f64x2_gt(r, qmax));
      clip = wasm_i64x2_sub(clip, clipped[h]);
      q[h] = wasm_f64x2_min(wasm_f64x2_max(r, qmin), qmax);
      xh[h] = wasm_f64x2_mul(wasm_f64x2_sub(q[h], zp), s);
    }
    D.add(xd, xh, idx, out.errors ? out.errors + i : nullptr);
    if (out.codes) {
      const v128_t c = wasm_i32x4_shuffle(wasm_i32x4_trunc_sat_f64x2_zero(q[0]), wasm_i32x4_trunc_sat_f64x2_zero(q[1]),
                                          0, 1, 4, 5);
      wasm_v128_store(out.codes + i, c);
    }
    if (out.dequantized) {
      double* d = static_cast<double*>(out.dequantized) + i;
      wasm_v128_store(d, xh[0]);
      wasm_v128_store(d + 2, xh[1]);
    }
    if (out.clipped) store_clipped4(out.clipped + i, wasm_i32x4_shuffle(clipped[0], clipped[1], 0, 2, 4, 6));
    lo32 = wasm_i32x4_add(lo32, four32);
    idx[0] = wasm_i64x2_add(idx[0], four64);
    idx[1] = wasm_i64x2_add(idx[1], four64);
  }
  D.store(L);
  L.clip += static_cast<uint64_t>(wasm_i64x2_extract_lane(clip, 0) + wasm_i64x2_extract_lane(clip, 1));
  L.tie += static_cast<uint64_t>(wasm_i64x2_extract_lane(tie, 0) + wasm_i64x2_extract_lane(tie, 1));
  quantize_scalar_range<R, double>(x, i, n, p, key, out, L);
}

template <class In> SampleScan scan_simd(const In* x, size_t n) {
  v128_t sq[2] = {wasm_f64x2_splat(0.0), wasm_f64x2_splat(0.0)};
  size_t i = 0;
  SampleScan r;
  if (n == 0) return r;
  if constexpr (std::is_same_v<In, float>) {
    v128_t mn = wasm_f32x4_splat(x[0]), mx = mn;
    for (; i + 4 <= n; i += 4) {
      const v128_t v = wasm_v128_load(x + i);
      mn = wasm_f32x4_min(mn, v);
      mx = wasm_f32x4_max(mx, v);
      const v128_t lo = wasm_f64x2_promote_low_f32x4(v);
      const v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3));
      sq[0] = wasm_f64x2_add(sq[0], wasm_f64x2_mul(lo, lo));
      sq[1] = wasm_f64x2_add(sq[1], wasm_f64x2_mul(hi, hi));
    }
    mn = wasm_f32x4_min(mn, wasm_i32x4_shuffle(mn, mn, 2, 3, 0, 1));
    mn = wasm_f32x4_min(mn, wasm_i32x4_shuffle(mn, mn, 1, 0, 3, 2));
    mx = wasm_f32x4_max(mx, wasm_i32x4_shuffle(mx, mx, 2, 3, 0, 1));
    mx = wasm_f32x4_max(mx, wasm_i32x4_shuffle(mx, mx, 1, 0, 3, 2));
    r.min = wasm_f32x4_extract_lane(mn, 0);
    r.max = wasm_f32x4_extract_lane(mx, 0);
  } else {
    v128_t mn = wasm_f64x2_splat(x[0]), mx = mn;
    for (; i + 4 <= n; i += 4) {
      const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 2);
      mn = wasm_f64x2_min(mn, wasm_f64x2_min(a, b));
      mx = wasm_f64x2_max(mx, wasm_f64x2_max(a, b));
      sq[0] = wasm_f64x2_add(sq[0], wasm_f64x2_mul(a, a));
      sq[1] = wasm_f64x2_add(sq[1], wasm_f64x2_mul(b, b));
    }
    // wasm's min/max keep a NaN; so does this (then `finite` below is false).
    const double m0 = wasm_f64x2_extract_lane(mn, 0), m1 = wasm_f64x2_extract_lane(mn, 1);
    const double M0 = wasm_f64x2_extract_lane(mx, 0), M1 = wasm_f64x2_extract_lane(mx, 1);
    r.min = std::isnan(m0) || std::isnan(m1) ? NAN : (m1 < m0 ? m1 : m0);
    r.max = std::isnan(M0) || std::isnan(M1) ? NAN : (M1 > M0 ? M1 : M0);
  }
  double lanes[4] = {wasm_f64x2_extract_lane(sq[0], 0), wasm_f64x2_extract_lane(sq[0], 1),
                     wasm_f64x2_extract_lane(sq[1], 0), wasm_f64x2_extract_lane(sq[1], 1)};
  bool tail_finite = true;
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    lanes[i % 4] += v * v;
    tail_finite = tail_finite && std::isfinite(v);
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
  r.sum_sq = ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3];
  r.finite = tail_finite && std::isfinite(r.min) && std::isfinite(r.max);
  return r;
}

#endif  // __wasm_simd128__

template <class In> SampleScan scan_scalar(const In* x, size_t n) {
  SampleScan r;
  if (n == 0) return r;
  double lanes[4] = {};
  r.min = r.max = static_cast<double>(x[0]);
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    lanes[i % 4] += v * v;
    r.finite = r.finite && std::isfinite(v);
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
  r.sum_sq = ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3];
  return r;
}

template <Rounding R, class In>
void quantize_dispatch_arith(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                             LaneSums& L, Kernel k) {
#ifdef __wasm_simd128__
  if (use_simd(k)) {
    if (p.arithmetic == Arithmetic::Float32) quantize_simd_f32<R>(x, n, p, key, out, L);
    else quantize_simd_f64<R>(x, n, p, key, out, L);
    return;
  }
#else
  (void)k;
#endif
  if (p.arithmetic == Arithmetic::Float32) quantize_scalar_range<R, float>(x, 0, n, p, key, out, L);
  else quantize_scalar_range<R, double>(x, 0, n, p, key, out, L);
}

template <class In>
void quantize_dispatch(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                       LaneSums& L, Kernel k) {
  switch (p.rounding) {
    case Rounding::HalfEven: return quantize_dispatch_arith<Rounding::HalfEven>(x, n, p, key, out, L, k);
    case Rounding::HalfAway: return quantize_dispatch_arith<Rounding::HalfAway>(x, n, p, key, out, L, k);
    case Rounding::HalfUp: return quantize_dispatch_arith<Rounding::HalfUp>(x, n, p, key, out, L, k);
    case Rounding::Floor: return quantize_dispatch_arith<Rounding::Floor>(x, n, p, key, out, L, k);
    case Rounding::Ceil: return quantize_dispatch_arith<Rounding::Ceil>(x, n, p, key, out, L, k);
    case Rounding::TowardZero: return quantize_dispatch_arith<Rounding::TowardZero>(x, n, p, key, out, L, k);
    case Rounding::Stochastic: return quantize_dispatch_arith<Rounding::Stochastic>(x, n, p, key, out, L, k);
  }
}

}  // namespace

bool simd_available() {
#ifdef __wasm_simd128__
  return true;
#else
  return false;
#endif
}

void ErrorSums::merge(const ErrorSums& o) {
  count += o.count;
  sum_err2 += o.sum_err2;
  sum_abs += o.sum_abs;
  sum_err += o.sum_err;
  sum_xhat2 += o.sum_xhat2;
  sum_xxhat += o.sum_xxhat;
  if (o.max_abs > max_abs) {
    max_abs = o.max_abs;
    max_abs_index = o.max_abs_index;
  }
  clip_count += o.clip_count;
  tie_count += o.tie_count;
}

template <class In> SampleScan scan_samples(const In* x, size_t n, Kernel k) {
#ifdef __wasm_simd128__
  if (use_simd(k)) return scan_simd(x, n);
#else
  (void)k;
#endif
  return scan_scalar(x, n);
}

template <class In>
ErrorSums quantize_samples(const In* x, size_t n, const KernelParams& params, const SampleOutputs& out, Kernel k) {
  // The stochastic key changes with the high 32 bits of the global index: split there, so each
  // piece has one key (pieces restart the lane pattern, identically in both twins).
  ErrorSums total;
  size_t done = 0;
  while (done < n || (n == 0 && done == 0)) {
    KernelParams p = params;
    p.index_base = params.index_base + done;
    const uint64_t to_boundary = (uint64_t{1} << 32) - (p.index_base & 0xffffffffu);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(n - done, to_boundary));
    SampleOutputs o = out;
    if (o.codes) o.codes += done;
    if (o.dequantized) {
      o.dequantized = p.arithmetic == Arithmetic::Float32
                          ? static_cast<void*>(static_cast<float*>(o.dequantized) + done)
                          : static_cast<void*>(static_cast<double*>(o.dequantized) + done);
    }
    if (o.errors) o.errors += done;
    if (o.clipped) o.clipped += done;
    LaneSums L;
    quantize_dispatch(x + done, len, p, stochastic_key(p.seed, static_cast<uint32_t>(p.index_base >> 32)), o, L, k);
    total.merge(L.finish(len));
    done += len;
    if (n == 0) break;
  }
  return total;
}

template SampleScan scan_samples<float>(const float*, size_t, Kernel);
template SampleScan scan_samples<double>(const double*, size_t, Kernel);
template ErrorSums quantize_samples<float>(const float*, size_t, const KernelParams&, const SampleOutputs&, Kernel);
template ErrorSums quantize_samples<double>(const double*, size_t, const KernelParams&, const SampleOutputs&, Kernel);

}  // namespace qe
