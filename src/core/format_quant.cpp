#include "format_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qe {

namespace {

// Sums in two double lanes (sample i to lane i % 2), as the integer kernels keep them.
struct Sums {
  double x2[2] = {}, err2[2] = {}, clip2[2] = {}, abs[2] = {}, err[2] = {}, xhat2[2] = {}, xxhat[2] = {};
  double max_abs = -1;
  uint64_t max_index = 0, clip = 0, tie = 0;

  void add(size_t i, double x, double xhat, bool clipped, bool tie_) {
    const double e = x - xhat, ae = std::fabs(e);
    const int l = static_cast<int>(i % 2);
    x2[l] += x * x;
    err2[l] += e * e;
    clip2[l] += clipped ? e * e : 0.0;
    abs[l] += ae;
    err[l] += e;
    xhat2[l] += xhat * xhat;
    xxhat[l] += x * xhat;
    if (ae > max_abs || (std::isnan(ae) && !std::isnan(max_abs))) max_abs = ae, max_index = i;
    clip += clipped;
    tie += tie_;
  }
  ErrorSums finish(uint64_t n) const {
    ErrorSums s;
    s.count = n;
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
};

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

// One sample through a minifloat with the scale s: its outputs, sums and counts.
template <class In>
void element(const In* x, size_t i, double s, const Minifloat& f, Overflow overflow, const Arith& a, const SampleOutputs& out,
             Sums& S, FormatCounts& counts) {
  const double xi = static_cast<double>(x[i]);
  bool over = false, tie = false;
  // s = 0 only for a block whose scale underflowed: its elements are zeros.
  const uint32_t code = f.encode(s == 0 ? std::copysign(0.0, xi) : a.div(xi, s), overflow, &over, &tie);
  const double xhat = a.mul(f.decode(code), s);
  S.add(i, xi, xhat, over, tie);
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

template <class In>
double block_amax(const In* x, size_t begin, size_t end) {
  double m = 0;
  for (size_t i = begin; i < end; ++i) m = std::max(m, std::fabs(static_cast<double>(x[i])));
  return m;
}

// floor(log2(v)) for v > 0, exactly.
int floor_log2(double v) {
  int k;
  std::frexp(v, &k);
  return k - 1;
}

}  // namespace

const Minifloat& element_format(const QuantScheme& s) {
  return s.format == NumberFormat::Custom ? s.custom_format : format_info(s.format).element;
}

template <class In>
FormatResult quantize_format(const In* x, size_t n, const QuantScheme& s, double max_abs_x, const SampleOutputs& out) {
  FormatResult r;
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
    for (size_t i = 0; i < n; ++i) element(x, i, scale, f, s.overflow, a, out, S, r.counts);
    r.sums = S.finish(n);
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
        for (size_t i = begin; i < end; ++i) element(x, i, d, f, Overflow::Saturate, a, out, S, r.counts);
        break;
      }
      case NumberFormat::Nf4: {
        const float absmax = static_cast<float>(amax);
        uint32_t bits;
        std::memcpy(&bits, &absmax, sizeof bits);
        r.block_codes[b] = bits;
        r.block_scales[b] = absmax;
        for (size_t i = begin; i < end; ++i) {
          const double xi = static_cast<double>(x[i]);
          const uint32_t code = absmax == 0 ? 7 : nf4_encode(a.div(xi, absmax));
          const double xhat = a.mul(kNf4Levels[code], absmax);
          S.add(i, xi, xhat, false, false);
          r.counts.underflow += xi != 0 && xhat == 0;
          if (out.codes) out.codes[i] = static_cast<int32_t>(code);
          if (out.dequantized) {
            if (a.f32) static_cast<float*>(out.dequantized)[i] = static_cast<float>(xhat);
            else static_cast<double*>(out.dequantized)[i] = xhat;
          }
          if (out.errors) out.errors[i] = xi - xhat;
          if (out.clipped) out.clipped[i] = 0;
        }
        break;
      }
      default: {  // OCP MX
        const bool mxint = s.format == NumberFormat::Mxint8;
        const int emax = mxint ? 0 : floor_log2(f.max_finite());
        const uint32_t code = amax == 0 ? 0 : E8M0::of_exponent(floor_log2(amax) - emax);
        const double X = E8M0::decode(code);
        r.block_codes[b] = code;
        r.block_scales[b] = X;
        for (size_t i = begin; i < end; ++i) {
          if (!mxint) {
            element(x, i, X, f, Overflow::Saturate, a, out, S, r.counts);
            continue;
          }
          // int8 elements with the implied scale 2^−6: round half to even, saturate at ±127.
          const double xi = static_cast<double>(x[i]);
          const double q = a.div(a.div(xi, X), 0x1p-6);
          const double rq = std::nearbyint(q);
          const bool over = std::fabs(rq) > 127;
          const double c = std::clamp(rq, -127.0, 127.0);
          const double xhat = a.mul(a.mul(c, 0x1p-6), X);
          S.add(i, xi, xhat, over, q - std::floor(q) == 0.5);
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
        break;
      }
    }
  }
  r.sums = S.finish(n);
  return r;
}

template FormatResult quantize_format<float>(const float*, size_t, const QuantScheme&, double, const SampleOutputs&);
template FormatResult quantize_format<double>(const double*, size_t, const QuantScheme&, double, const SampleOutputs&);

}  // namespace qe
