// Calibration: choosing the range [min, max] from the samples when none is given.
//
//   minmax      [min(x), max(x)].
//   percentile  symmetric mode: t = P_p(|x|), range [−t, t]; asymmetric modes: [P_(100−p)(x), P_p(x)].
//               P is numpy's default percentile: linear between the closest ranks.
//   mse         the range whose quantization MSE on these samples is smallest. A scan of 200
//               candidate ranges (α·min-max for α = 1/200 … 1, symmetric: [−α·max|x|, α·max|x|])
//               estimates each MSE from a 4096-bin histogram; the 5 best, the min-max range and
//               the percentile ranges (99, 99.9, 99.99, 99.999 and the option's p) are then
//               measured exactly, with the scheme's own kernel, and the smallest wins. So it is
//               never worse than min-max or those percentiles.
//   entropy     TensorRT's KL calibration: a 2048-bin histogram of |x|; for each i from 2^(b−1)
//               to 2048 bins, P = the first i bins with the rest added to the last, Q = P's bins
//               merged into 2^(b−1) levels and spread back over P's non-empty bins, both smoothed
//               (ε = 1e-4, as MXNet/TVM do); the i with the smallest KL(P‖Q) gives the threshold
//               t = (i + 0.5)·width. Symmetric: [−t, t]; asymmetric: the min-max range clipped to
//               [−t, t]. With 2^(b−1) ≥ 2048 (b ≥ 12) there is nothing to search: min-max.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "analyze.h"
#include "kernels.h"
#include "metrics.h"

namespace qe {

// Calibration as passes over the samples: all of them at once (calibrate()), or a streamed
// tensor's chunks fed again in each pass (StreamAnalysis), with the same result. min-max needs no
// pass; percentile counts, then gathers (QuantileStream); entropy one histogram pass; mse a
// histogram (with the percentiles' counting), then one pass measuring every finalist exactly.
class Calibrator {
 public:
  // A valid scheme without a given range; n samples whose range is `scan`.
  Calibrator(const QuantScheme& s, const SampleScan& scan, uint64_t n, Kernel k, size_t gather_limit = SIZE_MAX);
  bool done() const { return stage_ == Stage::Done; }
  // One chunk of the current pass; `index_base` is its first sample's index (stochastic draws).
  template <class In>
  void add(const In* x, size_t n, uint64_t index_base);
  // Ends a pass.
  void next();
  const CalibrationReport& report() const { return r_; }

 private:
  enum class Stage { Histogram, Quantiles, Measure, Done };
  struct Hist {
    double lo = 0, width = 0;
    bool absolute = false;
    std::vector<double> counts;
  };
  Range full_range() const;
  std::vector<Range> percentile_ranges() const;
  void settle();
  QuantScheme s_;
  SampleScan scan_;
  uint64_t n_;
  Kernel kernel_;
  Stage stage_ = Stage::Done;
  CalibrationReport r_;
  Hist hist_;
  std::optional<QuantileStream> quantiles_;
  std::vector<double> wanted_;                                        // the percentiles' probabilities
  std::vector<std::pair<double, Range>> scored_;                      // mse: (estimate, range), best first
  std::vector<std::pair<QuantParams, Range>> finalists_;              // mse: measured exactly
  std::vector<double> finalist_err2_;
};

template <class In>
Result<CalibrationReport> calibrate(const In* x, size_t n, const QuantScheme& s, const SampleScan& scan, Kernel k);

// The same over the `finite` finite samples of x alone, passing over NaN and ±Inf
// (NonFinite::Skip); `scan` is their range.
template <class In>
Result<CalibrationReport> calibrate_finite(const In* x, size_t n, uint64_t finite, const QuantScheme& s,
                                           const SampleScan& scan, Kernel k);

}  // namespace qe
