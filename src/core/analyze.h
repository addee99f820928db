// scheme + samples → parameters, per-sample outputs, metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "kernels.h"
#include "metrics.h"
#include "scheme.h"

namespace qe {

// Largest sample or range magnitude accepted: keeps Σ x² finite in double for any count.
constexpr double kMaxMagnitude = 1e100;

struct AnalyzeOptions {
  QuantScheme scheme;
  bool per_sample = true;  // false: sums-only metrics (no percentiles, no code histogram)
  Kernel kernel = Kernel::Auto;
};

struct Analysis {
  QuantParams params;
  Metrics metrics;
  // Per-sample outputs (empty when per_sample is false). x_hat is float in float32 arithmetic.
  std::vector<int32_t> codes;
  std::vector<float> dequantized_f32;
  std::vector<double> dequantized_f64;
  std::vector<double> errors;
  std::vector<uint8_t> clipped;
};

template <class T>
using Result = std::variant<T, Error>;

// Checks the scheme on its own (bits, qmin/qmax, range, scale, zero point).
std::optional<Error> validate_scheme(const QuantScheme& s);

// The parameters for a valid scheme and the samples' scan (range used when none is given).
Result<QuantParams> derive_params(const QuantScheme& s, const SampleScan& scan);

template <class In>
Result<Analysis> analyze(const In* x, size_t n, const AnalyzeOptions& opt);

}  // namespace qe
