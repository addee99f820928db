// Error metrics of one quantization, from the kernels' sums (double) and, where the metric needs
// the whole distribution (percentiles, code histogram), from the per-sample outputs.
//
// A metric that is undefined for the data (SQNR of an all-zero signal, the cosine of a zero
// vector, percentiles without per-sample outputs) is NaN here; the JS API turns NaN into null.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels.h"
#include "scheme.h"

namespace qe {

struct Metrics {
  uint64_t count = 0;
  double mse = 0;                    // Σ e² / n
  double rmse = 0;                   // √MSE
  double mae = 0;                    // Σ |e| / n
  double max_abs_error = 0;          // max |e|
  int64_t max_abs_error_index = -1;  // 0-based, first occurrence
  double mean_error = 0;             // Σ e / n: the bias
  double error_std = 0;              // population standard deviation: √(MSE − bias²)
  double sqnr_db = 0;                // 10·log10(Σ x² / Σ e²): +∞ when every e = 0, NaN when Σ x² = 0
  double psnr_db = 0;                // 10·log10(max|x|² / MSE): +∞ when MSE = 0, NaN when max|x| = 0
  uint64_t clip_count = 0;           // samples whose unclamped code fell outside [q_min, q_max]
  double clip_rate = 0;              // clip_count / n
  double step = 0;                   // Δ = scale
  double uniform_noise = 0;          // Δ² / 12: the MSE of uniform rounding noise
  double median_abs_error = 0;       // percentiles of |e|, linear between closest ranks (numpy's default)
  double p95_abs_error = 0;
  double cosine = 0;             // Σ x·x̂ / (‖x‖·‖x̂‖): NaN when either is the zero vector
  double mse_rounding = 0;       // MSE − mse_clipping: the rounding part of the MSE (unclipped samples)
  double mse_clipping = 0;       // Σ e² over clipped samples / n: the clipping part (the two add up to MSE)
  uint64_t tie_count = 0;        // samples whose `scaled` was exactly k + 1/2
  uint64_t codes_used = 0;       // distinct codes among the samples
  double code_entropy_bits = 0;  // −Σ p·log2 p over the codes: the effective bits
  double sum_x2 = 0;             // Σ x² (in the arithmetic's sums: float32 blocks for float32), for SQNRs over many tensors
  double data_min = std::numeric_limits<double>::quiet_NaN();  // the samples' extremes (the finite ones', when
  double data_max = std::numeric_limits<double>::quiet_NaN();  // NaN and ±Inf were skipped)
};

// The metrics that follow from the sums alone; `max_abs_x` is the samples' largest magnitude.
Metrics metrics_from_sums(const ErrorSums& s, double max_abs_x, double scale);

// Percentile p in [0, 1] of v[0..n) with numpy's 'linear' rule (linear between the closest
// ranks). Reorders v.
double percentile_linear(double* v, size_t n, double p);

// The same percentiles of x (or of |x| when `absolute`) for each p in ps[0..count), without
// copying or reordering x (a QuantileStream over x as one chunk: two passes).
template <class In>
void quantiles(const In* x, size_t n, bool absolute, const double* ps, double* out, size_t count);

// Exact percentiles (numpy's 'linear' rule) of n values read in passes: the whole array, or a
// streamed tensor's chunks fed again in each pass. Each value has an order-preserving 64-bit key
// (|v| as it is; a signed v with its sign bit flipped, or all bits when negative). A pass counts
// the next 16 bits of the keys inside the bucket that holds each wanted rank; once a bucket holds
// few enough values (`gather_limit` in all) the next pass gathers them and selection runs inside,
// and a bucket of whole keys is one value. So memory stays bounded for any n, and the result is
// the same order statistic a sort gives.
class QuantileStream {
 public:
  QuantileStream(uint64_t n, bool absolute, std::vector<double> ps, size_t gather_limit = SIZE_MAX);
  bool done() const { return pending_ == 0; }
  // One chunk of the current pass (the chunks of a pass are the n values, in any order).
  template <class In>
  void add(const In* x, size_t n);
  // Ends a pass.
  void next();
  // The percentiles, in the order of ps; NaN for n = 0.
  std::vector<double> values() const;

 private:
  enum class State { Count, Gather, Known };
  struct Target {
    uint64_t rank;
    uint64_t prefix = 0;  // the key's first 16·level bits
    int level = 0;
    uint64_t below = 0;   // values whose key is below the prefix's bucket
    uint64_t size = 0;    // values in the bucket
    State state = State::Count;
    double value = 0;
  };
  struct Bucket {  // a prefix being counted or gathered
    int level;
    uint64_t prefix;
    std::vector<uint64_t> counts;
    std::vector<double> members;
  };
  void plan();
  uint64_t n_;
  bool absolute_;
  std::vector<double> ps_;
  size_t gather_limit_;
  std::vector<Target> targets_;
  std::vector<Bucket> counting_, gathering_;
  size_t pending_ = 0;
};

// Codes used and their entropy in bits, for codes in [qmin, qmax].
void code_utilisation(const int32_t* codes, size_t n, int32_t qmin, int32_t qmax, uint64_t& used, double& entropy_bits);

}  // namespace qe
