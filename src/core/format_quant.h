// Quantization to a floating-point or block format (formats.h) instead of integers:
//
//   element formats   s = 1, a given scale, or amax / (format max) (FormatScale::Amax)
//                     code = encode(x / s);  x_hat = decode(code) · s
//   OCP MX            per block of 32: X = 2^(floor(log2(amax_block)) − emax_element), an E8M0
//                     code; code = encode(x / X), saturating; x_hat = decode(code) · X.
//                     MXINT8: elements are int8 times 2^−6, saturating at ±127.
//   NVFP4             s2 = amax_tensor / (448 · 6) (float32); per block of 16:
//                     b = E4M3(amax_block / (6 · s2)), d = b · s2; code = FP4(x / d); x_hat = FP4 · d
//   NF4               per block of 64: a = float32(amax_block); code = nearest NF4 level to x / a;
//                     x_hat = level · a
//
// In float32 arithmetic the divisions and products are float32 operations (scales rounded to
// float32 first), as a runtime does them; in float64 arithmetic they are double. Rounding is to
// nearest even everywhere a format defines it; x − x_hat and the sums are double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.h"
#include "scheme.h"

namespace qe {

struct FormatCounts {
  uint64_t overflow = 0;   // rounded past the format's largest value (saturated, or Inf/NaN)
  uint64_t underflow = 0;  // x ≠ 0 but x_hat = 0
  uint64_t subnormal = 0;  // the code is a subnormal
  uint64_t skipped = 0;    // NaN or ±Inf, passed over (NonFinite::Skip): no code, x_hat NaN
  uint64_t saturated_blocks = 0;  // OCP MX and NVFP4: blocks whose largest element rounded past the element's largest value
};

struct FormatResult {
  ErrorSums sums;  // clip_count = overflow count; tie_count = exact ties of the format's rounding
  FormatCounts counts;
  double tensor_scale = 1;           // element formats' s; NVFP4's s2; 1 otherwise
  std::vector<double> block_scales;  // block formats: each block's decoded scale
  std::vector<uint32_t> block_codes; // block formats: each block's scale code (E8M0, E4M3 or the float32 bits of NF4's absmax)
};

// The element format of a scheme (the custom one, or the named format's).
const Minifloat& element_format(const QuantScheme& s);

// `max_abs_x` is max |x| over the finite samples (from the scan). NaN and ±Inf samples are
// passed over (counts.skipped; no part in a block's amax or the sums; sums.count is the others);
// analyze() lets them through only under NonFinite::Skip. The SIMD twin encodes element formats
// two values at a time (exactly: the same codes, x_hat and sums).
template <class In>
FormatResult quantize_format(const In* x, size_t n, const QuantScheme& s, double max_abs_x, const SampleOutputs& out,
                             Kernel k);

}  // namespace qe
