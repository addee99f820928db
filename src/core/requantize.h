// Requantization: an integer accumulator back to output codes, the three ways runtimes do it.
//
//   acc = Σ_k (q_x − z_x)(q_w − z_w)            (the integer matmul, exact)
//   real multiplier  M = s_x · s_w / s_y
//   y_q = clamp(round(acc · M) + z_y, q_min, q_max)
//
// 'formula' (seed 004): acc · M in double, rounded half to even.
// 'tflite' (gemmlowp / TensorFlow Lite, reference kernels): M as a 31-bit fixed-point multiplier
//   M0 ∈ [2^30, 2^31) and a shift with M ≈ M0 · 2^(shift − 31) (QuantizeMultiplier), then
//   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc · 2^max(shift, 0), M0), max(−shift, 0)):
//   two roundings to nearest, the high multiply's with ties toward +∞, the shift's with ties away
//   from zero.
// 'onnx' (ONNX Runtime's QLinearMatMul: MlasRequantizeOutput): M_f = (s_x · s_w) / s_y in float32,
//   then float32(acc) · M_f in float32, rounded half to even (cvtps2dq / the magic-number trick).
#pragma once

#include <cstdint>

namespace qe {

// TensorFlow Lite's QuantizeMultiplier (tensorflow/lite/kernels/internal/quantization_util.cc),
// from its published definition: q = frexp(M, &shift) ∈ [0.5, 1); M0 = round(q · 2^31) with
// std::round (ties away from zero); when that reaches 2^31 (the carry), M0 = 2^30 and shift + 1;
// a shift below −31 flushes to (0, 0); one above 30 saturates to (2^31 − 1, 30), as TFLite's
// single-rounding build does (the double-rounding one leaves such shifts undefined; they need
// M ≥ 2^30). M = 0 gives (0, 0).
// M must be finite and ≥ 0.
struct FixedPointMultiplier {
  int32_t multiplier = 0;  // M0
  int32_t shift = 0;       // M ≈ M0 · 2^(shift − 31); positive: a left shift
};
FixedPointMultiplier quantize_multiplier(double real_multiplier);

// gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2·a·b, a·b / 2^31 rounded to
// nearest: (a·b + (a·b ≥ 0 ? 2^30 : 1 − 2^30)) / 2^31 with the division truncating toward zero,
// so ties go toward +∞ (½ → 1, −½ → 0); the one overflowing case a = b = −2^31 saturates to
// 2^31 − 1.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);

// gemmlowp's RoundingDivideByPOT: x / 2^exponent (exponent in [0, 31]) rounded to nearest, ties
// away from zero: (x >> e) + (remainder > (mask >> 1) + (x < 0 ? 1 : 0)), mask = 2^e − 1.
int32_t rounding_divide_by_pot(int32_t x, int exponent);

// TFLite's MultiplyByQuantizedMultiplier (the double-rounding reference): acc · 2^left wraps
// around as int32 arithmetic does on hardware when it overflows (M > 1 and a large acc).
int32_t multiply_by_quantized_multiplier(int32_t acc, const FixedPointMultiplier& m);

}  // namespace qe
