// The rounding rules, one named function each, for float and double.
//
// Every rule is built from exact operations: floor/trunc of a float is exact, and so is
// x - floor(x) (Sterbenz), so no rule ever rounds twice. `x + 0.5` is never used: it rounds
// 0.49999999999999994 up and breaks ties above 2^52.
#pragma once

#include <cmath>
#include <cstdint>

#include "scheme.h"

namespace qe {

// Ties to the even neighbour (IEEE 754 roundTiesToEven; numpy.round, torch.round, nearbyint).
template <class T>
inline T round_half_even(T x) {
  return std::nearbyint(x);
}

// Ties away from zero (C round(), Python's decimal ROUND_HALF_UP).
template <class T>
inline T round_half_away(T x) {
  const T t = std::trunc(x);
  return std::fabs(x - t) >= T(0.5) ? t + std::copysign(T(1), x) : t;
}

// Ties toward +infinity (floor(x + 1/2) computed exactly).
template <class T>
inline T round_half_up(T x) {
  const T f = std::floor(x);
  return x - f >= T(0.5) ? f + T(1) : f;
}

template <class T>
inline T round_floor(T x) {
  return std::floor(x);
}
template <class T>
inline T round_ceil(T x) {
  return std::ceil(x);
}
template <class T>
inline T round_toward_zero(T x) {
  return std::trunc(x);
}

// Stochastic rounding: up with probability equal to the distance from floor(x), from a
// counter-based generator so the result depends only on (seed, sample index), never on the
// kernel, the chunking or the order of evaluation.
//
// u = fmix32(index_lo ^ key(seed, index_hi)) gives 32 random bits; float uses the top 24 as
// u in [0,1) with 2^-24 resolution, double all 32 (2^-32). Rounds up when u < x - floor(x),
// so E[result] = x to within that resolution.
inline uint32_t fmix32(uint32_t h) {  // MurmurHash3 finalizer: a bijection with full avalanche
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}
inline uint32_t stochastic_key(uint64_t seed, uint32_t index_hi) {
  return fmix32(static_cast<uint32_t>(seed) ^ fmix32(static_cast<uint32_t>(seed >> 32) + 0x9e3779b9u * (index_hi + 1)));
}
inline float stochastic_uniform_f32(uint32_t bits) { return static_cast<float>(bits >> 8) * 0x1p-24f; }
inline double stochastic_uniform_f64(uint32_t bits) { return static_cast<double>(bits) * 0x1p-32; }
inline float round_stochastic(float x, uint32_t bits) {
  const float f = std::floor(x);
  return stochastic_uniform_f32(bits) < x - f ? f + 1.0f : f;
}
inline double round_stochastic(double x, uint32_t bits) {
  const double f = std::floor(x);
  return stochastic_uniform_f64(bits) < x - f ? f + 1.0 : f;
}

// Whether `scaled` sits exactly halfway between two integers (where the nearest rules differ).
template <class T>
inline bool is_tie(T x) {
  return x - std::floor(x) == T(0.5);
}

// The deterministic rules by enum, for code paths that are not hot.
template <class T>
inline T round_with(Rounding r, T x) {
  switch (r) {
    case Rounding::HalfEven:
      return round_half_even(x);
    case Rounding::HalfAway:
      return round_half_away(x);
    case Rounding::HalfUp:
      return round_half_up(x);
    case Rounding::Floor:
      return round_floor(x);
    case Rounding::Ceil:
      return round_ceil(x);
    case Rounding::TowardZero:
      return round_toward_zero(x);
    case Rounding::Stochastic:
      break;  // needs the sample index: see round_stochastic
  }
  return round_half_even(x);
}

}  // namespace qe
