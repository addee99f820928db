#include "requantize.h"

#include <cmath>
#include <limits>

namespace qe {

FixedPointMultiplier quantize_multiplier(double real_multiplier) {
  FixedPointMultiplier m;
  if (!(real_multiplier > 0) || !std::isfinite(real_multiplier)) return m;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);  // real = q · 2^shift, q ∈ [0.5, 1)
  // q · 2^31 is exact (a power-of-two scaling); std::round takes ties away from zero.
  auto q_fixed = static_cast<int64_t>(std::round(q * 2147483648.0));
  if (q_fixed == (int64_t{1} << 31)) {  // q rounded up to 1: the carry
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return FixedPointMultiplier{};  // below 2^-32: flushed to zero, as TFLite does
  if (shift > 30) return FixedPointMultiplier{std::numeric_limits<int32_t>::max(), 30};
  m.multiplier = static_cast<int32_t>(q_fixed);
  m.shift = shift;
  return m;
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t{a} * int64_t{b};
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // C++ division truncates toward zero
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);  // >> of a negative int: arithmetic (C++20)
}

int32_t multiply_by_quantized_multiplier(int32_t acc, const FixedPointMultiplier& m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  // acc · 2^left in wrapping int32 arithmetic (unsigned, so the wrap is defined).
  const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(acc) << left);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right);
}

}  // namespace qe
