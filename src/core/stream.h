// A tensor too large to hold at once, analysed from chunks read twice: the first pass scans
// them for the range, the second quantizes each with the tensor's parameters and merges the sums
// (each chunk knows its place: stochastic draws and the largest error's index are as one call over
// the whole tensor makes them). Per tensor, integer formulas with min-max or a given range or
// scale, the runtime profiles, and the float and block formats (chunks of whole blocks): the
// cases one scan decides. The sums equal a whole-tensor analysis's to about
// 1e-15 relative (chunks add their lanes in another order); everything else is equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "analyze.h"

namespace qe {

class StreamAnalysis {
 public:
  explicit StreamAnalysis(const AnalyzeOptions& options) : options_(options) {}

  // Whether these options can be streamed; the message says why not.
  std::optional<Error> check() const;
  // Pass 1: the chunks in order. A NaN, an infinity or too large a value is an error naming its
  // index in the whole tensor.
  template <class In>
  std::optional<Error> scan(const In* x, size_t n);
  // Between the passes: the parameters from the range.
  std::optional<Error> start();
  // Pass 2: the same chunks in the same order (block formats: each a whole number of blocks but
  // the last).
  template <class In>
  void quantize(const In* x, size_t n);
  // The result: parameters, the range's report and the metrics (sums-based; no per-sample ones).
  Analysis finish() const;

 private:
  AnalyzeOptions options_;
  SampleScan range_{0, 0, true};
  uint64_t scanned_ = 0, quantized_ = 0;
  QuantParams params_;
  ErrorSums sums_;
  FormatCounts counts_;
  double tensor_scale_ = 1;
};

}  // namespace qe
