#include "format_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "simd.h"

namespace qe {

namespace {

using Sums = LaneSums;

// x / s and v · s in the scheme's arithmetic.
struct Arith {
  bool f32;
  double div(double x, double s) const {
    return f32 ? static_cast<double>(static_cast<float>(x) / static_cast<float>(s)) : x / s;
  }
  double mul(double v, double s) const {
    return f32 ? static_cast<double>(static_cast<float>(v) * static_cast<float>(s)) : v * s;
  }
  double scale(double s) const { return f32 ? static_cast<double>(static_cast<float>(s)) : s; }
};

// A NaN or ±Inf sample is passed over (NonFinite::Skip): no code, no part in the sums.
template <class In>
inline __attribute__((always_inline)) bool passed_over(const In* x, size_t i, const Arith& a, const SampleOutputs& out, FormatCounts& counts) {
  if (std::isfinite(static_cast<double>(x[i]))) return false;
  out.skip(i, a.f32);
  ++counts.skipped;
  return true;
}

// One sample's code and x_hat into the outputs, sums and counts (both twins).
template <class In>
void record(const In* x, size_t i, uint32_t code, double xhat, bool over, bool tie, const Minifloat& f, const Arith& a,
            const SampleOutputs& out, Sums& S, FormatCounts& counts) {
  const double xi = static_cast<double>(x[i]);
  S.add(i, i, xi, xhat, over, tie);
  counts.overflow += over;
  counts.underflow += xi != 0 && xhat == 0;
  counts.subnormal += f.is_subnormal(code);
  if (out.codes) out.codes[i] = static_cast<int32_t>(code);
  if (out.dequantized) {
    if (a.f32) static_cast<float*>(out.dequantized)[i] = static_cast<float>(xhat);
    else static_cast<double*>(out.dequantized)[i] = xhat;
  }
  if (out.errors) out.errors[i] = xi - xhat;
  if (out.clipped) out.clipped[i] = over;
}

// One sample through a minifloat with the scale s, scalar.
template <class In>
void element(const In* x, size_t i, double s, const Minifloat& f, Overflow overflow, const Arith& a, const SampleOutputs& out,
             Sums& S, FormatCounts& counts) {
  if (passed_over(x, i, a, out, counts)) return;
  const double xi = static_cast<double>(x[i]);
  bool over = false, tie = false;
  // s = 0 only for a block whose scale underflowed: its elements are zeros.
  const uint32_t code = f.encode(s == 0 ? std::copysign(0.0, xi) : a.div(xi, s), overflow, &over, &tie);
  record(x, i, code, a.mul(f.decode(code), s), over, tie, f, a, out, S, counts);
}

#ifdef QE_SIMD
// Minifloat::encode and decode on two lanes of f64x2, exactly: the binade from the exponent
// field, the quantum 2^(max(binade, emin) − M) as a double, nearest-even rounding of a / quantum
// (wasm's f64x2.nearest), then the code from the rounded value's fields. Scaled values whose
// magnitude is Inf count as overflow.
struct MinifloatF64x2 {
  const Minifloat& f;
  Overflow overflow;
  v128_t emin, max, min_normal, min_subnormal, inf;
  int32_t max_code, special;  // the code past the top under `overflow` (sign clear), or max_code
  double past;                // its value: Inf, NaN or max

  MinifloatF64x2(const Minifloat& fmt, Overflow o)
      : f(fmt),
        overflow(o),
        emin(wasm_i64x2_splat(1 - fmt.bias)),
        max(wasm_f64x2_splat(fmt.max_finite())),
        min_normal(wasm_f64x2_splat(fmt.min_normal())),
        min_subnormal(wasm_f64x2_splat(fmt.min_subnormal())),
        inf(wasm_f64x2_splat(INFINITY)),
        max_code(static_cast<int32_t>(fmt.max_code())) {
    const uint32_t beyond = fmt.encode(INFINITY, o);
    special = static_cast<int32_t>(beyond);
    past = fmt.decode(beyond);
  }

  // codes: i32 lanes 0 and 1; value: the signed decoded value; over, tie: i64 masks.
  void encode(v128_t scaled, v128_t& codes, v128_t& value, v128_t& over, v128_t& tie) const {
    const v128_t sign = wasm_v128_and(scaled, wasm_i64x2_splat(INT64_MIN));
    const v128_t a = wasm_f64x2_abs(scaled);
    const v128_t e = wasm_i64x2_sub(wasm_u64x2_shr(a, 52), wasm_i64x2_splat(1023));
    const v128_t binade = wasm_v128_bitselect(e, emin, wasm_i64x2_gt(e, emin));
    const v128_t quantum = wasm_i64x2_shl(wasm_i64x2_add(wasm_i64x2_sub(binade, wasm_i64x2_splat(f.mbits)), wasm_i64x2_splat(1023)), 52);
    const v128_t quanta = wasm_f64x2_div(a, quantum);
    const v128_t r = wasm_f64x2_nearest(quanta);
    tie = wasm_f64x2_eq(wasm_f64x2_sub(quanta, wasm_f64x2_floor(quanta)), wasm_f64x2_splat(0.5));
    v128_t v = wasm_f64x2_mul(r, quantum);
    over = wasm_v128_or(wasm_f64x2_gt(v, max), wasm_f64x2_eq(a, inf));
    v = wasm_v128_bitselect(max, v, over);  // the largest finite value; the special code below
    // Normal values: e and the top M mantissa bits, from the high 32 bits of each double.
    const v128_t hi = wasm_i32x4_shuffle(v, v, 1, 3, 1, 3);
    const v128_t ev = wasm_i32x4_sub(wasm_u32x4_shr(hi, 20), wasm_i32x4_splat(1023 - f.bias));
    const v128_t m = wasm_v128_and(wasm_u32x4_shr(hi, 20 - f.mbits), wasm_i32x4_splat((1 << f.mbits) - 1));
    const v128_t normal = wasm_v128_or(wasm_i32x4_shl(ev, f.mbits), m);
    const v128_t sub = wasm_i32x4_trunc_sat_f64x2_zero(wasm_f64x2_div(v, min_subnormal));
    const v128_t is_sub = wasm_f64x2_lt(v, min_normal);
    v128_t code = wasm_v128_bitselect(sub, normal, wasm_i32x4_shuffle(is_sub, is_sub, 0, 2, 0, 2));
    const v128_t over32 = wasm_i32x4_shuffle(over, over, 0, 2, 0, 2);
    code = wasm_v128_bitselect(wasm_i32x4_splat(special), code, over32);
    const v128_t sign32 = wasm_i32x4_shuffle(sign, sign, 1, 3, 1, 3);
    codes = wasm_v128_or(code, wasm_u32x4_shr(sign32, 31 - f.ebits - f.mbits));
    value = wasm_v128_bitselect(wasm_f64x2_splat(past), v, over);
    value = wasm_v128_or(value, sign);
  }
};
#endif

// Samples [begin, end) with the scale s: the SIMD twin encodes two at a time, then both twins
// do the same per-sample bookkeeping in index order.
template <class In>
void element_run(const In* x, size_t begin, size_t end, double s, const Minifloat& f, Overflow overflow, const Arith& a,
                 const SampleOutputs& out, Sums& S, FormatCounts& counts, [[maybe_unused]] bool simd) {
  size_t i = begin;
#ifdef QE_SIMD
  if (simd && s != 0) {
    const MinifloatF64x2 enc(f, overflow);
    const v128_t sd = wasm_f64x2_splat(s), sf = wasm_f32x4_splat(static_cast<float>(s));
    for (; i + 2 <= end; i += 2) {
      v128_t xd;
      if constexpr (std::is_same_v<In, float>) xd = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(x + i));
      else xd = wasm_v128_load(x + i);
      const v128_t scaled = a.f32 ? wasm_f64x2_promote_low_f32x4(wasm_f32x4_div(wasm_f32x4_demote_f64x2_zero(xd), sf))
                                  : wasm_f64x2_div(xd, sd);
      v128_t codes, value, over, tie;
      enc.encode(scaled, codes, value, over, tie);
      const v128_t xhat = a.f32 ? wasm_f64x2_promote_low_f32x4(wasm_f32x4_mul(wasm_f32x4_demote_f64x2_zero(value), sf))
                                : wasm_f64x2_mul(value, sd);
      const uint32_t code[2] = {static_cast<uint32_t>(wasm_i32x4_extract_lane(codes, 0)),
                                static_cast<uint32_t>(wasm_i32x4_extract_lane(codes, 1))};
      const double xh[2] = {wasm_f64x2_extract_lane(xhat, 0), wasm_f64x2_extract_lane(xhat, 1)};
      const bool ov[2] = {wasm_i64x2_extract_lane(over, 0) != 0, wasm_i64x2_extract_lane(over, 1) != 0};
      const bool ti[2] = {wasm_i64x2_extract_lane(tie, 0) != 0, wasm_i64x2_extract_lane(tie, 1) != 0};
      for (int l = 0; l < 2; ++l)
        if (!passed_over(x, i + static_cast<size_t>(l), a, out, counts))
          record(x, i + static_cast<size_t>(l), code[l], xh[l], ov[l], ti[l], f, a, out, S, counts);
    }
  }
#endif
  for (; i < end; ++i) element(x, i, s, f, overflow, a, out, S, counts);
}

// The block's largest finite magnitude (a NaN or ±Inf is passed over).
template <class In>
double block_amax(const In* x, size_t begin, size_t end) {
  double m = 0;
  for (size_t i = begin; i < end; ++i) {
    const double v = std::fabs(static_cast<double>(x[i]));
    m = std::max(m, v == INFINITY ? 0.0 : v);  // std::max(m, NaN) is m
  }
  return m;
}

}  // namespace

const Minifloat& element_format(const QuantScheme& s) {
  return s.format == NumberFormat::Custom ? s.custom_format : format_info(s.format).element;
}

template <class In>
FormatResult quantize_format(const In* x, size_t n, const QuantScheme& s, double max_abs_x, const SampleOutputs& out,
                             Kernel k) {
  FormatResult r;
  const bool simd = use_simd(k);
  Sums S;
  const Arith a{s.arithmetic == Arithmetic::Float32};
  const FormatInfo& info = format_info(s.format);
  const Minifloat& f = element_format(s);
  const size_t block = static_cast<size_t>(info.block);

  if (!is_block_format(s.format)) {
    double scale = 1;
    if (s.scale) scale = *s.scale;
    else if (s.format_scale == QuantScheme::FormatScale::Amax && max_abs_x > 0) scale = max_abs_x / f.max_finite();
    scale = a.scale(scale);
    r.tensor_scale = scale;
    element_run(x, 0, n, scale, f, s.overflow, a, out, S, r.counts, simd);
    r.sums = S.finish(n - r.counts.skipped);
    return r;
  }

  const size_t blocks = (n + block - 1) / block;
  r.block_scales.resize(blocks);
  r.block_codes.resize(blocks);
  double s2 = 1;
  if (s.format == NumberFormat::Nvfp4) {
    // The tensor scale maps the tensor's amax to the product of the two formats' maxima.
    s2 = a.scale(max_abs_x > 0 ? max_abs_x / (448.0 * 6.0) : 1.0);
    r.tensor_scale = s2;
  }
  const Minifloat& e4m3 = format_info(NumberFormat::Fp8E4m3).element;
  for (size_t b = 0; b < blocks; ++b) {
    const size_t begin = b * block, end = std::min(n, begin + block);
    const double amax = block_amax(x, begin, end);
    switch (s.format) {
      case NumberFormat::Nvfp4: {
        const uint32_t code = e4m3.encode(a.div(amax, a.mul(6.0, s2)), Overflow::Saturate);
        const double d = a.mul(e4m3.decode(code), s2);
        r.block_codes[b] = code;
        r.block_scales[b] = d;
        // A block scale of 0 (an all-zero block, or one below E4M3's range) makes every element 0.
        const uint64_t over_before = r.counts.overflow;
        element_run(x, begin, end, d, f, Overflow::Saturate, a, out, S, r.counts, simd);
        r.counts.saturated_blocks += r.counts.overflow > over_before;
        break;
      }
      case NumberFormat::Nf4: {
        const float absmax = static_cast<float>(amax);
        uint32_t bits;
        std::memcpy(&bits, &absmax, sizeof bits);
        r.block_codes[b] = bits;
        r.block_scales[b] = absmax;
        const auto put = [&](size_t i, uint32_t code) {
          if (passed_over(x, i, a, out, r.counts)) return;
          const double xi = static_cast<double>(x[i]);
          const double xhat = a.mul(kNf4Levels[code], absmax);
          S.add(i, i, xi, xhat, false, false);
          r.counts.underflow += xi != 0 && xhat == 0;
          if (out.codes) out.codes[i] = static_cast<int32_t>(code);
          if (out.dequantized) {
            if (a.f32) static_cast<float*>(out.dequantized)[i] = static_cast<float>(xhat);
            else static_cast<double*>(out.dequantized)[i] = xhat;
          }
          if (out.errors) out.errors[i] = xi - xhat;
          if (out.clipped) out.clipped[i] = 0;
        };
        size_t i = begin;
#ifdef QE_SIMD
        // The SIMD twin finds two levels at a time: a level's index is the number of midpoints
        // below x / a (15 compares), as nf4_encode counts them.
        if (simd && absmax != 0) {
          for (; i + 2 <= end; i += 2) {
            v128_t xd;
            if constexpr (std::is_same_v<In, float>) xd = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(x + i));
            else xd = wasm_v128_load(x + i);
            const v128_t v = a.f32 ? wasm_f64x2_promote_low_f32x4(wasm_f32x4_div(wasm_f32x4_demote_f64x2_zero(xd), wasm_f32x4_splat(absmax)))
                                   : wasm_f64x2_div(xd, wasm_f64x2_splat(absmax));
            v128_t count = wasm_i64x2_splat(0);
            for (size_t m = 0; m < 15; ++m) count = wasm_i64x2_sub(count, wasm_f64x2_gt(v, wasm_f64x2_splat(kNf4Midpoints[m])));
            put(i, static_cast<uint32_t>(wasm_i64x2_extract_lane(count, 0)));
            put(i + 1, static_cast<uint32_t>(wasm_i64x2_extract_lane(count, 1)));
          }
        }
#endif
        for (; i < end; ++i) put(i, absmax == 0 ? 7 : nf4_encode(a.div(static_cast<double>(x[i]), absmax)));
        break;
      }
      default: {  // OCP MX
        const bool mxint = s.format == NumberFormat::Mxint8;
        // X = 2^k by the scheme's rule (formats.h: MxScale) from the block's amax, in float32
        // arithmetic amax as float32 (as a runtime's float32 tensor holds it).
        const double max_elem = mxint ? 127.0 / 64 : f.max_finite();
        const int mbits = mxint ? 6 : f.mbits;
        const double amax_s = a.scale(amax);
        const uint32_t code = amax_s == 0 ? 0 : E8M0::of_exponent(mx_scale_exponent(amax_s, s.mx_scale, max_elem, mbits));
        const double X = E8M0::decode(code);
        r.block_codes[b] = code;
        r.block_scales[b] = X;
        const uint64_t over_before = r.counts.overflow;
        if (!mxint) {
          element_run(x, begin, end, X, f, Overflow::Saturate, a, out, S, r.counts, simd);
          r.counts.saturated_blocks += r.counts.overflow > over_before;
          break;
        }
        for (size_t i = begin; i < end; ++i) {
          // int8 elements with the implied scale 2^−6: round half to even, saturate at ±127.
          if (passed_over(x, i, a, out, r.counts)) continue;
          const double xi = static_cast<double>(x[i]);
          const double q = a.div(a.div(xi, X), 0x1p-6);
          const double rq = std::nearbyint(q);
          const bool over = std::fabs(rq) > 127;
          const double c = std::clamp(rq, -127.0, 127.0) + 0.0;  // int8 has no −0: code 0 is +0
          const double xhat = a.mul(a.mul(c, 0x1p-6), X);
          S.add(i, i, xi, xhat, over, q - std::floor(q) == 0.5);
          r.counts.overflow += over;
          r.counts.underflow += xi != 0 && xhat == 0;
          if (out.codes) out.codes[i] = static_cast<int32_t>(static_cast<uint8_t>(static_cast<int8_t>(c)));
          if (out.dequantized) {
            if (a.f32) static_cast<float*>(out.dequantized)[i] = static_cast<float>(xhat);
            else static_cast<double*>(out.dequantized)[i] = xhat;
          }
          if (out.errors) out.errors[i] = xi - xhat;
          if (out.clipped) out.clipped[i] = over;
        }
        r.counts.saturated_blocks += r.counts.overflow > over_before;
        break;
      }
    }
  }
  r.sums = S.finish(n - r.counts.skipped);
  return r;
}

template FormatResult quantize_format<float>(const float*, size_t, const QuantScheme&, double, const SampleOutputs&, Kernel);
template FormatResult quantize_format<double>(const double*, size_t, const QuantScheme&, double, const SampleOutputs&, Kernel);

}  // namespace qe
