// A tensor too large to hold at once, analysed from chunks read in passes: the first pass scans
// them for the range (and each channel's or group's), calibrations other than min-max take their
// own passes (Calibrator: histograms, exact percentiles, the MSE search's finalists), and the last
// quantizes each chunk with the parameters and merges the sums. Each chunk knows its place:
// stochastic draws and the largest error's index are as one call over the whole tensor makes
// them. Every scheme analyze() takes: integer formulas with any calibration, range or scale, per
// tensor, channel or group; the runtime profiles; the float and block formats (chunks of whole
// blocks). NaN and ±Inf are refused, or skipped as analyze() skips them (NonFinite::Skip).
// Parameters, counts and the largest error with its index equal a whole-tensor analysis's; the
// sums agree to about 1e-15 relative (chunks add their lanes in another order).
//
//   StreamAnalysis s(options);
//   if (auto e = s.check()) …;
//   while (!s.done()) {
//     for (each chunk, in order) if (auto e = s.add(chunk, n)) …;
//     if (auto e = s.next()) …;
//   }
//   Analysis a = s.finish();
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "analyze.h"
#include "calibrate.h"

namespace qe {

class StreamAnalysis {
 public:
  // gather_limit: the most values a percentile pass may hold (QuantileStream).
  explicit StreamAnalysis(const AnalyzeOptions& options, size_t gather_limit = size_t{1} << 22)
      : options_(options), gather_limit_(gather_limit) {}

  // Whether these options are valid; the message says why not.
  std::optional<Error> check() const;
  // One chunk of the current pass. In the first, too large a value is an error naming its index
  // in the whole tensor, and so is a NaN or an infinity unless options.non_finite is Skip (then
  // they are counted, and every pass passes over them as analyze() does); in the others, more
  // values than the first pass brought is an error (and next() says so of fewer).
  template <class In>
  std::optional<Error> add(const In* x, size_t n);
  // Ends a pass: an error when the range gives no parameters or the shape does not fit.
  std::optional<Error> next();
  bool done() const { return pass_ == Pass::Done; }
  // What the current pass is for: "range", "calibration" or "quantization".
  const char* pass() const;
  // Passes so far, the current one included.
  int passes() const { return passes_; }
  // The result: parameters, the range's report, each group's, and the metrics (sums-based).
  Analysis finish() const;

 private:
  enum class Pass { Range, Calibration, Quantization, Done };
  bool is_format() const { return options_.scheme.format != NumberFormat::Int; }
  bool is_profile() const { return options_.scheme.profile != Profile::Formula; }
  template <class In>
  void quantize_groups(const In* x, size_t n);
  std::optional<Error> parameters();
  double bytes_per_group() const;
  std::optional<Error> pass_length(uint64_t values) const;

  AnalyzeOptions options_;
  size_t gather_limit_;
  Pass pass_ = Pass::Range;
  int passes_ = 1;
  uint64_t at_ = 0;  // values of the current pass so far
  uint64_t count_ = 0;
  uint64_t finite_ = 0;  // of them, finite (all but the skipped)
  NonFiniteCounts skipped_;
  SampleScan range_{0, 0, true};
  GroupGeometry geometry_;
  std::vector<SampleScan> group_ranges_;
  std::vector<GroupResult> groups_;
  std::optional<Calibrator> calibrator_;
  CalibrationReport report_;
  QuantParams params_;
  ErrorSums sums_;
  FormatCounts counts_;
  double tensor_scale_ = 1;
};

}  // namespace qe
