#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "rounding.h"

#include "simd.h"

namespace qe {

namespace {

// Each kernel instance stays its own function: one giant inlined dispatcher compiles badly in
// the engines' register allocators. The kernel bodies are inlined into `runs` (below), one
// function per kernel instance that loops over runs of samples; the per-sample steps are inlined
// into their loops.
#define QE_NOINLINE __attribute__((noinline))
#define QE_INLINE inline __attribute__((always_inline))

constexpr int kLanes = LaneSums::kLanes;  // sums: sample i goes to lane i % 2, in both twins

// The quantizer's constants in the arithmetic's precision A.
template <class A>
struct Consts {
  A scale, zp, qmin, qmax;
  explicit Consts(const KernelParams& p)
      : scale(static_cast<A>(p.scale)),
        zp(static_cast<A>(p.zero_point)),
        qmin(static_cast<A>(p.qmin)),
        qmax(static_cast<A>(p.qmax)) {}
};

// The rule is a run-time value in every kernel: one loop per input type and arithmetic, not one
// per rule (a predictable branch per step costs less than seven copies of each loop in the wasm).
// The stochastic draw for global index gi is made only under that rule.
template <class A>
QE_INLINE A round_rule(Rounding rule, A s, uint64_t gi, uint32_t key) {
  if (rule == Rounding::HalfEven) return round_half_even(s);  // the default, without the switch
  if (rule == Rounding::Stochastic) return round_stochastic(s, fmix32(static_cast<uint32_t>(gi) ^ key));
  return round_with(rule, s);
}

// One sample, scalar: the definition both twins implement.
//   scaled = x / scale + zero_point          (in A)
//   r = round(scaled); q = clamp(r, qmin, qmax); clipped = (r != q)
//   x_hat = (q - zero_point) * scale          (in A; q - zero_point is exact)
//   e = x - x_hat                             (in double, x as given)
// The clamp is written as wasm's pmax/pmin are defined, so a -0 survives it in both twins.
template <class A>
struct OneSample {
  A scaled, q, xhat;
  double e;
  bool clipped;
};
template <class A, class In>
QE_INLINE OneSample<A> quantize_one(Rounding rule, In xin, uint64_t gi, uint32_t key, const Consts<A>& c) {
  const A x = static_cast<A>(xin);
  const A scaled = x / c.scale + c.zp;
  const A r = round_rule(rule, scaled, gi, key);
  A q = r < c.qmin ? c.qmin : r;
  q = c.qmax < q ? c.qmax : q;
  const A xhat = (q - c.zp) * c.scale;
  return {scaled, q, xhat, static_cast<double>(xin) - static_cast<double>(xhat), r != q};
}

template <class A, class In>
QE_INLINE void step(Rounding rule, In xin, size_t i, uint64_t gi, uint32_t key, const Consts<A>& c, const SampleOutputs& out,
                 LaneSums& L) {
  const OneSample<A> o = quantize_one(rule, xin, gi, key, c);
  L.tie += is_tie(o.scaled);
  L.clip += o.clipped;
  const double ae = std::fabs(o.e);
  const int l = static_cast<int>(i % kLanes);
  L.x2[l] += static_cast<double>(xin) * static_cast<double>(xin);
  L.err2[l] += o.e * o.e;
  L.clip2[l] += o.clipped ? o.e * o.e : 0.0;  // the SIMD twin adds e² masked to +0
  L.abs[l] += ae;
  L.err[l] += o.e;
  L.xhat2[l] += static_cast<double>(o.xhat) * static_cast<double>(o.xhat);
  L.xxhat[l] += static_cast<double>(xin) * static_cast<double>(o.xhat);
  if (ae > L.max_abs) {
    L.max_abs = ae;
    L.max_index = gi;
  }
  if (out.codes) out.codes[i] = static_cast<int32_t>(o.q);
  if (out.dequantized) static_cast<A*>(out.dequantized)[i] = o.xhat;
  if (out.errors) out.errors[i] = o.e;
  if (out.clipped) out.clipped[i] = o.clipped;
}

template <class A, class In>
QE_NOINLINE void quantize_scalar_range(const In* x, size_t begin, size_t n, const KernelParams& p, uint32_t key,
                                       const SampleOutputs& out, LaneSums& L) {
  const Consts<A> c(p);
  const Rounding rule = p.rounding;  // a local: the stores below cannot change it
  const uint64_t base = p.index_base;
  for (size_t i = begin; i < n; ++i) step<A>(rule, x[i], i, base + i, key, c, out, L);
}

// ---- float32 samples in float32 arithmetic ------------------------------------------------
// Here e = x − x_hat is a float32 operation too, as a float32 runtime computes it (it is exact
// unless the difference needs more than 24 significant bits, i.e. far outside the range). Its
// terms are summed in four float32 lanes (sample i → lane i % 4) over blocks of 64 samples; each
// block's lanes are then added to four double lanes. Relative error of a sum: about 1e-7.
constexpr size_t kFloatBlock = 64;
enum FloatSum { kX2, kErr2, kClip2, kAbs, kErr, kXhat2, kXXhat, kFloatSums };

struct FloatBlockSums {
  float part[kFloatSums][4] = {};
  double acc[kFloatSums][4] = {};
  float max_abs = -1;
  uint64_t max_index = 0;
  uint64_t clip = 0;
  uint64_t tie = 0;
  // The SIMD kernel's shortcut for runs of whole blocks: the finished sums, filled directly.
  bool fresh = true;
  bool has_direct = false;
  ErrorSums direct;

  void fold() {
    for (int k = 0; k < kFloatSums; ++k) {
      for (int l = 0; l < 4; ++l) {
        acc[k][l] += static_cast<double>(part[k][l]);
        part[k][l] = 0;
      }
    }
  }
  // Ready for the next run: a shortcut run left the accumulators untouched.
  void reset() {
    if (has_direct) fresh = true, has_direct = false;
    else *this = FloatBlockSums{};
  }
  ErrorSums finish(uint64_t count) {
    if (has_direct) {
      direct.count = count;
      return direct;
    }
    fold();
    ErrorSums s;
    s.count = count;
    double* dst[kFloatSums] = {&s.sum_x2, &s.sum_err2, &s.sum_err2_clipped, &s.sum_abs, &s.sum_err, &s.sum_xhat2, &s.sum_xxhat};
    for (int k = 0; k < kFloatSums; ++k) *dst[k] = (acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3]);
    s.max_abs = max_abs;
    s.max_abs_index = max_index;
    s.clip_count = clip;
    s.tie_count = tie;
    return s;
  }
};

QE_INLINE void step_float(Rounding rule, float x, size_t i, uint64_t gi, uint32_t key, const Consts<float>& c,
                       const SampleOutputs& out, FloatBlockSums& S) {
  const OneSample<float> o = quantize_one(rule, x, gi, key, c);
  const float e = x - o.xhat;
  const float ae = std::fabs(e);
  const int l = static_cast<int>(i % 4);
  S.part[kX2][l] += x * x;
  S.part[kErr2][l] += e * e;
  S.part[kClip2][l] += o.clipped ? e * e : 0.0f;
  S.part[kAbs][l] += ae;
  S.part[kErr][l] += e;
  S.part[kXhat2][l] += o.xhat * o.xhat;
  S.part[kXXhat][l] += x * o.xhat;
  if (ae > S.max_abs) {
    S.max_abs = ae;
    S.max_index = gi;
  }
  S.tie += is_tie(o.scaled);
  S.clip += o.clipped;
  if (out.codes) out.codes[i] = static_cast<int32_t>(o.q);
  if (out.dequantized) static_cast<float*>(out.dequantized)[i] = o.xhat;
  if (out.errors) out.errors[i] = e;
  if (out.clipped) out.clipped[i] = o.clipped;
  if (i % kFloatBlock == kFloatBlock - 1) S.fold();
}

QE_NOINLINE void quantize_scalar_float(const float* x, size_t begin, size_t n, const KernelParams& p, uint32_t key,
                                       const SampleOutputs& out, FloatBlockSums& S) {
  const Consts<float> c(p);
  const Rounding rule = p.rounding;  // a local: the stores below cannot change it
  const uint64_t base = p.index_base;
  for (size_t i = begin; i < n; ++i) step_float(rule, x[i], i, base + i, key, c, out, S);
}

// The float32 lanes overflow beyond √FLT_MAX ≈ 1.8e19 (x², e², x·x̂) or FLT_MAX (Σ|e|, Σe): then
// a run's sums are made again with every term in double (e itself as the float32 kernels compute
// it, x − x̂ in float32), in four double lanes (sample i to lane i % 4) finished (l0 + l1) + (l2 + l3).
// Both twins reach this with the same non-finite sums (theirs agree bit for bit) and share it.
bool finite_sums(const ErrorSums& s) {
  return std::isfinite(s.sum_x2) && std::isfinite(s.sum_err2) && std::isfinite(s.sum_err2_clipped) && std::isfinite(s.sum_abs) &&
         std::isfinite(s.sum_err) && std::isfinite(s.sum_xhat2) && std::isfinite(s.sum_xxhat);
}

QE_NOINLINE void float_sums_in_double(const float* x, size_t n, const KernelParams& p, uint32_t key, ErrorSums& s) {
  const Consts<float> c(p);
  double acc[kFloatSums][4] = {};
  for (size_t i = 0; i < n; ++i) {
    const OneSample<float> o = quantize_one(p.rounding, x[i], p.index_base + i, key, c);
    const float ef = x[i] - o.xhat;
    const double xd = x[i], xh = o.xhat, e = ef;
    const size_t l = i % 4;
    acc[kX2][l] += xd * xd;
    acc[kErr2][l] += e * e;
    acc[kClip2][l] += o.clipped ? e * e : 0.0;
    acc[kAbs][l] += std::fabs(e);
    acc[kErr][l] += e;
    acc[kXhat2][l] += xh * xh;
    acc[kXXhat][l] += xd * xh;
  }
  double* dst[kFloatSums] = {&s.sum_x2, &s.sum_err2, &s.sum_err2_clipped, &s.sum_abs, &s.sum_err, &s.sum_xhat2, &s.sum_xxhat};
  for (int k = 0; k < kFloatSums; ++k) *dst[k] = (acc[k][0] + acc[k][1]) + (acc[k][2] + acc[k][3]);
}

#ifdef QE_SIMD

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
inline v128_t round_f32x4(Rounding rule, v128_t s, v128_t bits) {
  const v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f);
  switch (rule) {
    case Rounding::HalfEven:
      return wasm_f32x4_nearest(s);
    case Rounding::Floor:
      return wasm_f32x4_floor(s);
    case Rounding::Ceil:
      return wasm_f32x4_ceil(s);
    case Rounding::TowardZero:
      return wasm_f32x4_trunc(s);
    case Rounding::HalfAway: {
      const v128_t t = wasm_f32x4_trunc(s);
      const v128_t up = wasm_f32x4_ge(wasm_f32x4_abs(wasm_f32x4_sub(s, t)), half);
      const v128_t signed_one = wasm_v128_bitselect(s, one, wasm_i32x4_splat(INT32_MIN));
      return wasm_v128_bitselect(wasm_f32x4_add(t, signed_one), t, up);  // keeps t's zero sign, as the twin
    }
    case Rounding::HalfUp: {
      const v128_t f = wasm_f32x4_floor(s);
      return wasm_v128_bitselect(wasm_f32x4_add(f, one), f, wasm_f32x4_ge(wasm_f32x4_sub(s, f), half));
    }
    case Rounding::Stochastic:
      break;
  }
  const v128_t f = wasm_f32x4_floor(s);
  const v128_t u = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(bits, 8)), wasm_f32x4_splat(0x1p-24f));
  return wasm_v128_bitselect(wasm_f32x4_add(f, one), f, wasm_f32x4_lt(u, wasm_f32x4_sub(s, f)));
}

// The same on f64x2; `bits` holds the two draws in its low u32 lanes.
inline v128_t round_f64x2(Rounding rule, v128_t s, v128_t bits) {
  const v128_t half = wasm_f64x2_splat(0.5), one = wasm_f64x2_splat(1.0);
  switch (rule) {
    case Rounding::HalfEven:
      return wasm_f64x2_nearest(s);
    case Rounding::Floor:
      return wasm_f64x2_floor(s);
    case Rounding::Ceil:
      return wasm_f64x2_ceil(s);
    case Rounding::TowardZero:
      return wasm_f64x2_trunc(s);
    case Rounding::HalfAway: {
      const v128_t t = wasm_f64x2_trunc(s);
      const v128_t up = wasm_f64x2_ge(wasm_f64x2_abs(wasm_f64x2_sub(s, t)), half);
      const v128_t signed_one = wasm_v128_bitselect(s, one, wasm_i64x2_splat(INT64_MIN));
      return wasm_v128_bitselect(wasm_f64x2_add(t, signed_one), t, up);  // keeps t's zero sign, as the twin
    }
    case Rounding::HalfUp: {
      const v128_t f = wasm_f64x2_floor(s);
      return wasm_v128_bitselect(wasm_f64x2_add(f, one), f, wasm_f64x2_ge(wasm_f64x2_sub(s, f), half));
    }
    case Rounding::Stochastic:
      break;
  }
  const v128_t f = wasm_f64x2_floor(s);
  const v128_t u = wasm_f64x2_mul(wasm_f64x2_convert_low_u32x4(bits), wasm_f64x2_splat(0x1p-32));
  return wasm_v128_bitselect(wasm_f64x2_add(f, one), f, wasm_f64x2_lt(u, wasm_f64x2_sub(s, f)));
}

// The SIMD body tracks only the largest |e| of each block of samples; the first index where
// the overall largest occurs is then found by recomputing that one block with the scalar
// definition, which gives the same e bit for bit. That keeps index vectors out of the loop.
constexpr size_t kMaxBlock = 4096;

template <class A, class In>
uint64_t first_index_of(const In* x, size_t begin, size_t end, double target, const KernelParams& p, uint32_t key) {
  const Consts<A> c(p);
  for (size_t i = begin; i < end; ++i) {
    if (std::fabs(quantize_one(p.rounding, x[i], p.index_base + i, key, c).e) == target) return p.index_base + i;
  }
  return p.index_base + begin;  // unreachable: the block's maximum is one of its samples
}

// Four samples' double-precision bookkeeping, x and x_hat as two f64x2 halves (samples 0,1 and
// 2,3) added one after the other, so lane l holds samples i % 2 == l in index order, exactly as
// LaneSums does.
struct DoubleLanes {
  v128_t x2 = wasm_f64x2_splat(0.0), err2 = x2, clip2 = x2, abs = x2, err = x2, xhat2 = x2, xxhat = x2;
  v128_t block_max = wasm_f64x2_splat(-1.0);
  // clipped: the two halves' clip masks as 64-bit lanes.
  inline void add(const v128_t x[2], const v128_t xhat[2], const v128_t clipped[2], double* errors_out) {
    for (int h = 0; h < 2; ++h) {
      const v128_t e = wasm_f64x2_sub(x[h], xhat[h]);
      const v128_t ae = wasm_f64x2_abs(e);
      const v128_t e2 = wasm_f64x2_mul(e, e);
      x2 = wasm_f64x2_add(x2, wasm_f64x2_mul(x[h], x[h]));
      err2 = wasm_f64x2_add(err2, e2);
      clip2 = wasm_f64x2_add(clip2, wasm_v128_and(e2, clipped[h]));
      abs = wasm_f64x2_add(abs, ae);
      err = wasm_f64x2_add(err, e);
      xhat2 = wasm_f64x2_add(xhat2, wasm_f64x2_mul(xhat[h], xhat[h]));
      xxhat = wasm_f64x2_add(xxhat, wasm_f64x2_mul(x[h], xhat[h]));
      block_max = wasm_f64x2_pmax(block_max, ae);
      if (errors_out) wasm_v128_store(errors_out + 2 * h, e);
    }
  }
  void store(LaneSums& L) const {
    const v128_t* src[] = {&x2, &err2, &clip2, &abs, &err, &xhat2, &xxhat};
    double* dst[] = {L.x2, L.err2, L.clip2, L.abs, L.err, L.xhat2, L.xxhat};
    for (int k = 0; k < 7; ++k) {
      dst[k][0] = wasm_f64x2_extract_lane(*src[k], 0);
      dst[k][1] = wasm_f64x2_extract_lane(*src[k], 1);
    }
  }
  // The block's largest |e|, and a fresh start for the next block.
  double take_block_max() {
    const double m = std::max(wasm_f64x2_extract_lane(block_max, 0), wasm_f64x2_extract_lane(block_max, 1));
    block_max = wasm_f64x2_splat(-1.0);
    return m;
  }
};

// Loads four samples as f32x4 and as two f64x2 halves (exact widenings; the f32x4 of double
// input is its round-to-nearest-even narrowing, as static_cast<float> does).
template <class In>
inline void load4(const In* p, v128_t& xf, v128_t xd[2]) {
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
  const v128_t b =
      wasm_v128_and(wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(mask32, mask32), mask32), wasm_i8x16_splat(1));
  wasm_v128_store32_lane(out, b, 0);
}

// Shared by both arithmetics: blocks of whole vectors, then the block maximum's index, then the
// scalar tail. `body(i, D)` quantizes samples i..i+3 and returns nothing.
template <class A, class In, class Body>
void simd_blocks(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out, LaneSums& L,
                 DoubleLanes& D, Body body) {
  const size_t body_end = n - n % 4;
  double best = -1;
  size_t best_block = 0;
  for (size_t start = 0; start < body_end; start += kMaxBlock) {
    const size_t end = std::min(body_end, start + kMaxBlock);
    for (size_t i = start; i < end; i += 4) body(i, D);
    const double m = D.take_block_max();
    if (m > best) best = m, best_block = start;
  }
  D.store(L);
  if (best >= 0) {
    L.max_abs = best;
    L.max_index = p.max_index ? first_index_of<A>(x, best_block, std::min(body_end, best_block + kMaxBlock), best, p, key)
                              : p.index_base + best_block;
  }
  quantize_scalar_range<A>(x, body_end, n, p, key, out, L);  // the scalar tail
}

inline v128_t stochastic_bits(v128_t lo32, uint32_t key) {
  return fmix32x4(wasm_v128_xor(lo32, wasm_i32x4_splat(static_cast<int32_t>(key))));
}

// The quantizer on four float32 samples, shared by both float32-arithmetic kernels, with its
// clip and tie counts in i32x4 lanes.
struct QuantizeF32x4 {
  v128_t s, zp, qmin, qmax, half, lane_index;
  Rounding rule;
  uint32_t key;
  v128_t clip = wasm_i32x4_splat(0), tie = wasm_i32x4_splat(0);

  QuantizeF32x4(const KernelParams& p, uint32_t k)
      : s(wasm_f32x4_splat(static_cast<float>(p.scale))),
        zp(wasm_f32x4_splat(static_cast<float>(p.zero_point))),
        qmin(wasm_f32x4_splat(static_cast<float>(p.qmin))),
        qmax(wasm_f32x4_splat(static_cast<float>(p.qmax))),
        half(wasm_f32x4_splat(0.5f)),
        lane_index(wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(static_cast<int32_t>(p.index_base)))),
        rule(p.rounding),
        key(k) {}

  // Samples i..i+3 (chunk-relative i): their codes q, x_hat and clip mask.
  inline void operator()(v128_t xf, size_t i, v128_t& q, v128_t& xhat, v128_t& clipped) {
    const v128_t scaled = wasm_f32x4_add(wasm_f32x4_div(xf, s), zp);
    v128_t bits = wasm_i32x4_splat(0);
    if (rule == Rounding::Stochastic)
      bits = stochastic_bits(wasm_i32x4_add(lane_index, wasm_i32x4_splat(static_cast<int32_t>(i))), key);
    const v128_t r = rule == Rounding::HalfEven ? wasm_f32x4_nearest(scaled) : round_f32x4(rule, scaled, bits);
    tie = wasm_i32x4_sub(tie, wasm_f32x4_eq(wasm_f32x4_sub(scaled, wasm_f32x4_floor(scaled)), half));
    q = wasm_f32x4_pmin(wasm_f32x4_pmax(r, qmin), qmax);
    clipped = wasm_f32x4_ne(r, q);
    clip = wasm_i32x4_sub(clip, clipped);
    xhat = wasm_f32x4_mul(wasm_f32x4_sub(q, zp), s);
  }

  void add_counts(uint64_t& clip_count, uint64_t& tie_count) const {
    clip_count += lane_total(clip);
    tie_count += lane_total(tie);
  }
  static uint64_t lane_total(v128_t v) {
    return uint64_t{static_cast<uint32_t>(wasm_i32x4_extract_lane(v, 0))} +
           static_cast<uint32_t>(wasm_i32x4_extract_lane(v, 1)) + static_cast<uint32_t>(wasm_i32x4_extract_lane(v, 2)) +
           static_cast<uint32_t>(wasm_i32x4_extract_lane(v, 3));
  }
};

// float32 arithmetic: four samples per step in f32x4.
template <class In>
QE_INLINE void quantize_simd_f32(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                                   LaneSums& L) {
  QuantizeF32x4 quantize(p, key);
  const bool outputs = out.any();  // one test per step
  DoubleLanes D;
  simd_blocks<float>(x, n, p, key, out, L, D, [&](size_t i, DoubleLanes& d) {
    v128_t xf, xd[2], q, xhat, clipped;
    load4(x + i, xf, xd);
    quantize(xf, i, q, xhat, clipped);
    const v128_t xh[2] = {wasm_f64x2_promote_low_f32x4(xhat),
                          wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(xhat, xhat, 2, 3, 2, 3))};
    const v128_t clip64[2] = {wasm_i64x2_extend_low_i32x4(clipped), wasm_i64x2_extend_high_i32x4(clipped)};
    d.add(xd, xh, clip64, outputs && out.errors ? out.errors + i : nullptr);
    if (outputs) {
      if (out.codes) wasm_v128_store(out.codes + i, wasm_i32x4_trunc_sat_f32x4(q));
      if (out.dequantized) wasm_v128_store(static_cast<float*>(out.dequantized) + i, xhat);
      if (out.clipped) store_clipped4(out.clipped + i, clipped);
    }
  });
  quantize.add_counts(L.clip, L.tie);
}

// float64 arithmetic: four samples per step as two f64x2 halves.
template <class In>
QE_INLINE void quantize_simd_f64(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                                   LaneSums& L) {
  const v128_t s = wasm_f64x2_splat(p.scale);
  const v128_t zp = wasm_f64x2_splat(static_cast<double>(p.zero_point));
  const v128_t qmin = wasm_f64x2_splat(static_cast<double>(p.qmin));
  const v128_t qmax = wasm_f64x2_splat(static_cast<double>(p.qmax));
  const v128_t half = wasm_f64x2_splat(0.5);
  const v128_t lane_index =
      wasm_i32x4_add(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(static_cast<int32_t>(p.index_base)));
  const Rounding rule = p.rounding;
  const bool outputs = out.any();  // one test per step
  v128_t clip = wasm_i64x2_splat(0), tie = wasm_i64x2_splat(0);
  DoubleLanes D;
  simd_blocks<double>(x, n, p, key, out, L, D, [&](size_t i, DoubleLanes& d) {
    v128_t xf, xd[2];
    load4(x + i, xf, xd);
    v128_t bits = wasm_i32x4_splat(0);
    if (rule == Rounding::Stochastic)
      bits = stochastic_bits(wasm_i32x4_add(lane_index, wasm_i32x4_splat(static_cast<int32_t>(i))), key);
    v128_t xh[2], q[2], clipped[2];
    for (int h = 0; h < 2; ++h) {
      const v128_t scaled = wasm_f64x2_add(wasm_f64x2_div(xd[h], s), zp);
      const v128_t r = rule == Rounding::HalfEven ? wasm_f64x2_nearest(scaled)
                                                  : round_f64x2(rule, scaled, h ? wasm_i32x4_shuffle(bits, bits, 2, 3, 2, 3) : bits);
      tie = wasm_i64x2_sub(tie, wasm_f64x2_eq(wasm_f64x2_sub(scaled, wasm_f64x2_floor(scaled)), half));
      q[h] = wasm_f64x2_pmin(wasm_f64x2_pmax(r, qmin), qmax);
      clipped[h] = wasm_f64x2_ne(r, q[h]);
      clip = wasm_i64x2_sub(clip, clipped[h]);
      xh[h] = wasm_f64x2_mul(wasm_f64x2_sub(q[h], zp), s);
    }
    d.add(xd, xh, clipped, outputs && out.errors ? out.errors + i : nullptr);
    if (outputs) {
      if (out.codes) {
        const v128_t c =
            wasm_i32x4_shuffle(wasm_i32x4_trunc_sat_f64x2_zero(q[0]), wasm_i32x4_trunc_sat_f64x2_zero(q[1]), 0, 1, 4, 5);
        wasm_v128_store(out.codes + i, c);
      }
      if (out.dequantized) {
        double* dq = static_cast<double*>(out.dequantized) + i;
        wasm_v128_store(dq, xh[0]);
        wasm_v128_store(dq + 2, xh[1]);
      }
      if (out.clipped) store_clipped4(out.clipped + i, wasm_i32x4_shuffle(clipped[0], clipped[1], 0, 2, 4, 6));
    }
  });
  L.clip += static_cast<uint64_t>(wasm_i64x2_extract_lane(clip, 0) + wasm_i64x2_extract_lane(clip, 1));
  L.tie += static_cast<uint64_t>(wasm_i64x2_extract_lane(tie, 0) + wasm_i64x2_extract_lane(tie, 1));
}

// e as step_float computes it: the block re-scan for the largest error's index.
inline float float_error(Rounding rule, float x, uint64_t gi, uint32_t key, const Consts<float>& c) {
  return x - quantize_one(rule, x, gi, key, c).xhat;
}

// float32 samples in float32 arithmetic: the SIMD twin of quantize_scalar_float.
QE_INLINE void quantize_simd_float(const float* x, size_t n, const KernelParams& p, uint32_t key,
                                     const SampleOutputs& out, FloatBlockSums& S) {
  QuantizeF32x4 quantize(p, key);
  const bool outputs = out.any();  // one test per step
  v128_t part[kFloatSums], acc[kFloatSums][2];
  for (int k = 0; k < kFloatSums; ++k) part[k] = wasm_f32x4_splat(0.0f), acc[k][0] = acc[k][1] = wasm_f64x2_splat(0.0);
  v128_t block_max = wasm_f32x4_splat(-1.0f);
  float best = -1;
  size_t best_block = 0;
  const size_t body_end = n - n % 4;
  for (size_t start = 0; start < body_end; start += kMaxBlock) {
    const size_t end = std::min(body_end, start + kMaxBlock);
    for (size_t b = start; b < end; b += kFloatBlock) {
      const size_t block_end = std::min(end, b + kFloatBlock);
      for (size_t i = b; i < block_end; i += 4) {
        const v128_t xf = wasm_v128_load(x + i);
        v128_t q, xhat, clipped;
        quantize(xf, i, q, xhat, clipped);
        const v128_t e = wasm_f32x4_sub(xf, xhat);
        const v128_t ae = wasm_f32x4_abs(e);
        part[kX2] = wasm_f32x4_add(part[kX2], wasm_f32x4_mul(xf, xf));
        const v128_t e2 = wasm_f32x4_mul(e, e);
        part[kErr2] = wasm_f32x4_add(part[kErr2], e2);
        part[kClip2] = wasm_f32x4_add(part[kClip2], wasm_v128_and(e2, clipped));
        part[kAbs] = wasm_f32x4_add(part[kAbs], ae);
        part[kErr] = wasm_f32x4_add(part[kErr], e);
        part[kXhat2] = wasm_f32x4_add(part[kXhat2], wasm_f32x4_mul(xhat, xhat));
        part[kXXhat] = wasm_f32x4_add(part[kXXhat], wasm_f32x4_mul(xf, xhat));
        block_max = wasm_f32x4_pmax(block_max, ae);
        if (outputs) {
          if (out.codes) wasm_v128_store(out.codes + i, wasm_i32x4_trunc_sat_f32x4(q));
          if (out.dequantized) wasm_v128_store(static_cast<float*>(out.dequantized) + i, xhat);
          if (out.errors) {
            wasm_v128_store(out.errors + i, wasm_f64x2_promote_low_f32x4(e));
            wasm_v128_store(out.errors + i + 2, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 2, 3)));
          }
          if (out.clipped) store_clipped4(out.clipped + i, clipped);
        }
      }
      if (block_end - b == kFloatBlock) {  // a full block: fold it (a partial one is the last; the tail goes on)
        for (int k = 0; k < kFloatSums; ++k) {
          acc[k][0] = wasm_f64x2_add(acc[k][0], wasm_f64x2_promote_low_f32x4(part[k]));
          acc[k][1] =
              wasm_f64x2_add(acc[k][1], wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(part[k], part[k], 2, 3, 2, 3)));
          part[k] = wasm_f32x4_splat(0.0f);
        }
      }
    }
    block_max = wasm_f32x4_pmax(block_max, wasm_i32x4_shuffle(block_max, block_max, 2, 3, 0, 1));
    block_max = wasm_f32x4_pmax(block_max, wasm_i32x4_shuffle(block_max, block_max, 1, 0, 3, 2));
    const float m = wasm_f32x4_extract_lane(block_max, 0);
    block_max = wasm_f32x4_splat(-1.0f);
    if (m > best) best = m, best_block = start;
  }
  if (body_end == n && n % kFloatBlock == 0 && !p.max_index && S.fresh) {
    // Whole blocks only (a quantization group of 64 or 128): the sums straight from the double
    // lanes, in FloatBlockSums::finish's order ((l0 + l1) + (l2 + l3); the float lanes hold 0).
    double* dst[kFloatSums] = {&S.direct.sum_x2, &S.direct.sum_err2, &S.direct.sum_err2_clipped, &S.direct.sum_abs,
                               &S.direct.sum_err, &S.direct.sum_xhat2, &S.direct.sum_xxhat};
    for (int k = 0; k < kFloatSums; ++k) {
      *dst[k] = (wasm_f64x2_extract_lane(acc[k][0], 0) + wasm_f64x2_extract_lane(acc[k][0], 1)) +
                (wasm_f64x2_extract_lane(acc[k][1], 0) + wasm_f64x2_extract_lane(acc[k][1], 1));
    }
    S.direct.clip_count = S.direct.tie_count = 0;
    quantize.add_counts(S.direct.clip_count, S.direct.tie_count);
    S.direct.max_abs = best;  // no samples: -1, as finish() leaves it
    S.direct.max_abs_index = best >= 0 ? p.index_base + best_block : 0;
    S.fresh = false;
    S.has_direct = true;
    return;
  }
  // Hand the lanes to the scalar tail, which goes on adding to the unfinished block.
  for (int k = 0; k < kFloatSums; ++k) {
    S.acc[k][0] = wasm_f64x2_extract_lane(acc[k][0], 0);
    S.acc[k][1] = wasm_f64x2_extract_lane(acc[k][0], 1);
    S.acc[k][2] = wasm_f64x2_extract_lane(acc[k][1], 0);
    S.acc[k][3] = wasm_f64x2_extract_lane(acc[k][1], 1);
    S.part[k][0] = wasm_f32x4_extract_lane(part[k], 0);
    S.part[k][1] = wasm_f32x4_extract_lane(part[k], 1);
    S.part[k][2] = wasm_f32x4_extract_lane(part[k], 2);
    S.part[k][3] = wasm_f32x4_extract_lane(part[k], 3);
  }
  quantize.add_counts(S.clip, S.tie);
  const Consts<float> c(p);
  if (best >= 0) {
    S.max_abs = best;
    S.max_index = p.index_base + best_block;
    const size_t end = p.max_index ? std::min(body_end, best_block + kMaxBlock) : best_block;
    for (size_t i = best_block; i < end; ++i) {
      if (std::fabs(float_error(p.rounding, x[i], p.index_base + i, key, c)) == best) {
        S.max_index = p.index_base + i;
        break;
      }
    }
  }
  quantize_scalar_float(x, body_end, n, p, key, out, S);  // the scalar tail
}

// min/max with wasm's pmin/pmax (single instructions that do not propagate NaN); a NaN or ±Inf
// shows up in a running Σ x instead, which is then not finite. One cheap add per vector keeps
// this pass at the speed of memory.
template <class In>
SampleScan scan_simd(const In* x, size_t n) {
  SampleScan r;
  if (n == 0) return r;
  size_t i = 0;
  double sum = 0;
  if constexpr (std::is_same_v<In, float>) {
    v128_t mn = wasm_f32x4_splat(x[0]), mx = mn, acc = wasm_f32x4_splat(0.0f);
    for (; i + 4 <= n; i += 4) {
      const v128_t v = wasm_v128_load(x + i);
      mn = wasm_f32x4_pmin(mn, v);
      mx = wasm_f32x4_pmax(mx, v);
      acc = wasm_f32x4_add(acc, v);
    }
    mn = wasm_f32x4_pmin(mn, wasm_i32x4_shuffle(mn, mn, 2, 3, 0, 1));
    mn = wasm_f32x4_pmin(mn, wasm_i32x4_shuffle(mn, mn, 1, 0, 3, 2));
    mx = wasm_f32x4_pmax(mx, wasm_i32x4_shuffle(mx, mx, 2, 3, 0, 1));
    mx = wasm_f32x4_pmax(mx, wasm_i32x4_shuffle(mx, mx, 1, 0, 3, 2));
    r.min = wasm_f32x4_extract_lane(mn, 0);
    r.max = wasm_f32x4_extract_lane(mx, 0);
    sum = static_cast<double>(wasm_f32x4_extract_lane(acc, 0)) + static_cast<double>(wasm_f32x4_extract_lane(acc, 1)) +
          static_cast<double>(wasm_f32x4_extract_lane(acc, 2)) + static_cast<double>(wasm_f32x4_extract_lane(acc, 3));
  } else {
    v128_t mn = wasm_f64x2_splat(x[0]), mx = mn, acc = wasm_f64x2_splat(0.0);
    for (; i + 4 <= n; i += 4) {
      const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 2);
      mn = wasm_f64x2_pmin(mn, wasm_f64x2_pmin(a, b));
      mx = wasm_f64x2_pmax(mx, wasm_f64x2_pmax(a, b));
      acc = wasm_f64x2_add(acc, wasm_f64x2_add(a, b));
    }
    r.min = std::min(wasm_f64x2_extract_lane(mn, 0), wasm_f64x2_extract_lane(mn, 1));
    r.max = std::max(wasm_f64x2_extract_lane(mx, 0), wasm_f64x2_extract_lane(mx, 1));
    sum = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
  }
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    sum += v;
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
  r.finite = std::isfinite(sum) && std::isfinite(r.min) && std::isfinite(r.max);
  return r;
}

template <class In>
double read_floor_simd(const In* x, size_t n) {
  constexpr size_t kPerVector = 16 / sizeof(In);
  v128_t acc[4];
  for (v128_t& a : acc) a = wasm_i32x4_splat(0);
  size_t i = 0;
  for (; i + 4 * kPerVector <= n; i += 4 * kPerVector) {
    for (size_t j = 0; j < 4; ++j) {
      const v128_t v = wasm_v128_load(x + i + j * kPerVector);
      if constexpr (std::is_same_v<In, float>)
        acc[j] = wasm_f32x4_add(acc[j], v);
      else
        acc[j] = wasm_f64x2_add(acc[j], v);
    }
  }
  double sum = 0;
  for (const v128_t& a : acc) {
    if constexpr (std::is_same_v<In, float>) {
      sum += static_cast<double>(wasm_f32x4_extract_lane(a, 0)) + static_cast<double>(wasm_f32x4_extract_lane(a, 1)) +
             static_cast<double>(wasm_f32x4_extract_lane(a, 2)) + static_cast<double>(wasm_f32x4_extract_lane(a, 3));
    } else {
      sum += wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
    }
  }
  for (; i < n; ++i) sum += static_cast<double>(x[i]);
  return sum;
}

#endif  // QE_SIMD

template <class In>
SampleScan scan_scalar(const In* x, size_t n) {
  SampleScan r;
  if (n == 0) return r;
  r.min = r.max = static_cast<double>(x[0]);
  for (size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    r.finite = r.finite && std::isfinite(v);
    if (v < r.min) r.min = v;
    if (v > r.max) r.max = v;
  }
  return r;
}

// The scalar twins over a whole run, in the kernels' signature.
template <class A, class In>
QE_INLINE void scalar_run(const In* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out, LaneSums& L) {
  quantize_scalar_range<A>(x, 0, n, p, key, out, L);
}
QE_INLINE void scalar_float_run(const float* x, size_t n, const KernelParams& p, uint32_t key, const SampleOutputs& out,
                                FloatBlockSums& S) {
  quantize_scalar_float(x, 0, n, p, key, out, S);
}

SampleOutputs outputs_at(const SampleOutputs& out, size_t offset, Arithmetic arithmetic) {
  SampleOutputs o = out;
  if (o.codes) o.codes += offset;
  if (o.dequantized) {
    o.dequantized = arithmetic == Arithmetic::Float32 ? static_cast<void*>(static_cast<float*>(o.dequantized) + offset)
                                                      : static_cast<void*>(static_cast<double*>(o.dequantized) + offset);
  }
  if (o.errors) o.errors += offset;
  if (o.clipped) o.clipped += offset;
  return o;
}

SampleScan scan_run(const float* x, size_t n, bool simd);
SampleScan scan_run(const double* x, size_t n, bool simd);

// `count` runs of `block` consecutive samples. Run g's parameters are params[g], or, when `make`
// is set, whatever make() derives from the run's own scan (per-group min-max: the scan and the
// quantization then read the run while it is in cache).
template <class In>
struct RunSet {
  const In* x;
  size_t count, block;
  const KernelParams* params;  // fixed parameters per run, or null with `make`
  KernelParams base;           // with `make`: the fields every run shares
  GroupParamsFn make;
  void* ctx;
  bool simd_scan;
  uint32_t key;
  SampleOutputs out;
  ErrorSums* sums;  // run g's sums at sums + g·stride bytes (inside the caller's per-group records)
  size_t stride;
};

// One kernel body inlined into one loop over the runs, so a run of 128 samples (a quantization
// group) costs no dispatch. A single run is count 1. False when make() refused a run.
template <class Sums, class In, auto kKernel>
QE_NOINLINE bool runs(const RunSet<In>& r) {
  Sums S;
  KernelParams p = r.base;
  for (size_t g = 0; g < r.count; ++g) {
    const In* x = r.x + g * r.block;
    if (r.make) {
      if (!r.make(r.ctx, g, scan_run(x, r.block, r.simd_scan), p)) return false;
      p.index_base = r.base.index_base + g * r.block;
    } else {
      p = r.params[g];
    }
    kKernel(x, r.block, p, r.key, outputs_at(r.out, g * r.block, p.arithmetic), S);
    ErrorSums sums = S.finish(r.block);
    if constexpr (std::is_same_v<Sums, FloatBlockSums>)
      if (!finite_sums(sums)) float_sums_in_double(x, r.block, p, r.key, sums);
    *reinterpret_cast<ErrorSums*>(reinterpret_cast<char*>(r.sums) + g * r.stride) = sums;
    S.reset();
  }
  return true;
}

// One loop per input type and arithmetic (the rounding rule and the outputs are run-time).
template <class In>
bool quantize_dispatch(const RunSet<In>& r, Kernel k) {
  [[maybe_unused]] const bool simd = use_simd(k);
  const Arithmetic arithmetic = r.base.arithmetic;
  if constexpr (std::is_same_v<In, float>) {
    if (arithmetic == Arithmetic::Float32) {
#ifdef QE_SIMD
      if (simd) return runs<FloatBlockSums, float, quantize_simd_float>(r);
#endif
      return runs<FloatBlockSums, float, scalar_float_run>(r);
    }
  }
#ifdef QE_SIMD
  if (simd) {
    if (arithmetic == Arithmetic::Float32) return runs<LaneSums, In, quantize_simd_f32<In>>(r);
    return runs<LaneSums, In, quantize_simd_f64<In>>(r);
  }
#endif
  if (arithmetic == Arithmetic::Float32) return runs<LaneSums, In, scalar_run<float, In>>(r);
  return runs<LaneSums, In, scalar_run<double, In>>(r);
}

SampleScan scan_run(const float* x, size_t n, [[maybe_unused]] bool simd) {
#ifdef QE_SIMD
  if (simd) return scan_simd(x, n);
#endif
  return scan_scalar(x, n);
}
SampleScan scan_run(const double* x, size_t n, [[maybe_unused]] bool simd) {
#ifdef QE_SIMD
  if (simd) return scan_simd(x, n);
#endif
  return scan_scalar(x, n);
}

}  // namespace

bool use_simd(Kernel k) {
#ifdef QE_SIMD
  return k != Kernel::Scalar;
#else
  (void)k;
  return false;
#endif
}

ErrorSums LaneSums::finish(uint64_t count) const {
  ErrorSums s;
  s.count = count;
  s.sum_x2 = x2[0] + x2[1];
  s.sum_err2 = err2[0] + err2[1];
  s.sum_err2_clipped = clip2[0] + clip2[1];
  s.sum_abs = abs[0] + abs[1];
  s.sum_err = err[0] + err[1];
  s.sum_xhat2 = xhat2[0] + xhat2[1];
  s.sum_xxhat = xxhat[0] + xxhat[1];
  s.max_abs = max_abs;
  s.max_abs_index = max_index;
  s.clip_count = clip;
  s.tie_count = tie;
  return s;
}

bool simd_available() {
#ifdef QE_SIMD
  return true;
#else
  return false;
#endif
}

void ErrorSums::merge(const ErrorSums& o) {
  count += o.count;
  sum_x2 += o.sum_x2;
  sum_err2 += o.sum_err2;
  sum_err2_clipped += o.sum_err2_clipped;
  sum_abs += o.sum_abs;
  sum_err += o.sum_err;
  sum_xhat2 += o.sum_xhat2;
  sum_xxhat += o.sum_xxhat;
  if (o.max_abs > max_abs || (o.max_abs == max_abs && o.max_abs_index < max_abs_index)) {  // first occurrence
    max_abs = o.max_abs;
    max_abs_index = o.max_abs_index;
  }
  clip_count += o.clip_count;
  tie_count += o.tie_count;
}

template <class In>
SampleScan scan_samples(const In* x, size_t n, [[maybe_unused]] Kernel k) {
#ifdef QE_SIMD
  if (use_simd(k)) return scan_simd(x, n);
#endif
  return scan_scalar(x, n);
}

template <class In>
double read_floor(const In* x, size_t n, [[maybe_unused]] Kernel k) {
#ifdef QE_SIMD
  if (use_simd(k)) return read_floor_simd(x, n);
#endif
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]);
  return sum;
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
    ErrorSums piece;
    const RunSet<In> r{x + done, 1, len, &p, p, nullptr, nullptr, false,
                       stochastic_key(p.seed, static_cast<uint32_t>(p.index_base >> 32)), outputs_at(out, done, p.arithmetic),
                       &piece, sizeof piece};
    quantize_dispatch(r, k);
    total.merge(piece);
    done += len;
    if (n == 0) break;
  }
  return total;
}

template <class In>
bool quantize_groups(const In* x, size_t count, size_t block, const KernelParams& base, GroupParamsFn make, void* ctx,
                     const SampleOutputs& out, Kernel k, ErrorSums* sums, size_t stride) {
  if (count == 0) return true;
  const uint64_t first = base.index_base, last = first + count * block - 1;
  if (first >> 32 == last >> 32) {
    // One stochastic key for every run (quantize_samples splits where the key changes).
    const RunSet<In> r{x, count, block, nullptr, base, make, ctx, use_simd(k),
                       stochastic_key(base.seed, static_cast<uint32_t>(first >> 32)), out, sums, stride};
    return quantize_dispatch(r, k);
  }
  KernelParams p = base;
  for (size_t g = 0; g < count; ++g) {
    if (!make(ctx, g, scan_samples(x + g * block, block, k), p)) return false;
    p.index_base = base.index_base + g * block;
    *reinterpret_cast<ErrorSums*>(reinterpret_cast<char*>(sums) + g * stride) =
        quantize_samples(x + g * block, block, p, outputs_at(out, g * block, p.arithmetic), k);
  }
  return true;
}

template SampleScan scan_samples<float>(const float*, size_t, Kernel);
template SampleScan scan_samples<double>(const double*, size_t, Kernel);
template double read_floor<float>(const float*, size_t, Kernel);
template double read_floor<double>(const double*, size_t, Kernel);
template ErrorSums quantize_samples<float>(const float*, size_t, const KernelParams&, const SampleOutputs&, Kernel);
template ErrorSums quantize_samples<double>(const double*, size_t, const KernelParams&, const SampleOutputs&, Kernel);
template bool quantize_groups<float>(const float*, size_t, size_t, const KernelParams&, GroupParamsFn, void*,
                                     const SampleOutputs&, Kernel, ErrorSums*, size_t);
template bool quantize_groups<double>(const double*, size_t, size_t, const KernelParams&, GroupParamsFn, void*,
                                      const SampleOutputs&, Kernel, ErrorSums*, size_t);
}  // namespace qe
