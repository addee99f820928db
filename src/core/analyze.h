// scheme + samples → parameters, per-sample outputs, metrics.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "format_quant.h"
#include "kernels.h"
#include "metrics.h"
#include "scheme.h"

namespace qe {

// Largest sample or range magnitude accepted: keeps Σ x² finite in double for any count.
constexpr double kMaxMagnitude = 1e100;

// What analyze() and StreamAnalysis do with samples that are NaN or ±Inf (a finding in a
// checkpoint): refuse the tensor, naming the first; or skip them and measure the finite values.
// Skipped samples take no part in the range, the calibration, the scales (a block's amax, a
// channel's min and max) or any metric: `metrics.count` is the finite values, the sums and
// percentiles are theirs, the largest error's index is still the sample's own (as are stochastic
// draws); the per-sample arrays keep their length, and at a skipped sample hold code 0, x̂ NaN,
// error NaN and clipped 0. A channel or group with no finite value gets scale 1 and count 0.
// Values beyond the supported magnitude are refused either way.
enum class NonFinite { Error, Skip };

struct AnalyzeOptions {
  QuantScheme scheme;
  bool per_sample = true;  // false: sums-only metrics (no percentiles, no code histogram)
  Kernel kernel = Kernel::Auto;
  // ggml's types: one importance weight per column (an imatrix's in_sum2 / counts), or nullptr.
  const float* importance = nullptr;
  size_t importance_count = 0;
  // Bytes per channel or group that the caller will copy out of the result (the web bindings lay
  // the groups out as columns): counted in the memory check made before any work.
  size_t group_copy_bytes = 0;
  // Per-sample outputs into the caller's arrays (each pointer may be null; `dequantized` is float*
  // for float32 arithmetic and runtime profiles, else double*) instead of the Analysis's own, with
  // per_sample true: what a caller that keeps only codes or errors of a large tensor asks for. The
  // metrics that need the Analysis's arrays (percentiles, the code histogram) are then left undefined.
  const SampleOutputs* into = nullptr;
  NonFinite non_finite = NonFinite::Error;  // analyze() and StreamAnalysis; analyze_integer() refuses them
};

// The samples skipped under NonFinite::Skip.
struct NonFiniteCounts {
  uint64_t nan = 0, pos_inf = 0, neg_inf = 0;
  uint64_t total() const { return nan + pos_inf + neg_inf; }
  template <class In>
  void add(const In* x, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[i]);
      nan += v != v;
      pos_inf += v == INFINITY;
      neg_inf += v == -INFINITY;
    }
  }
};

// How the range was chosen, and what the method saw.
struct CalibrationReport {
  std::string method = "minmax";  // "custom" (a range was given), "minmax", "percentile", "mse", "entropy"
  double range_min = 0, range_max = 0;
  double percentile = 0;   // percentile: p
  double threshold = 0;    // mse, entropy: the clipping threshold (|x| for symmetric modes, or the factor of the
                           // min-max range for asymmetric ones under mse)
  double divergence = 0;   // entropy: the KL divergence at the threshold
  // mse: the estimated MSE at each candidate; entropy: the KL divergence at each candidate threshold.
  std::vector<double> curve_threshold, curve_value;
  size_t exact_candidates = 0;  // mse: candidates whose MSE was measured exactly on the samples
};

// One channel's or group's parameters and error sums (Granularity::Channel or Group).
struct GroupResult {
  QuantParams params;
  ErrorSums sums;
};

// ggml's types (NumberFormat::Ggml): the blocks as ggml writes them and what they hold
// (GgmlBlockView), from analyze() when asked for. Per block: min (dmin, or m; types with a min) and
// the distinct codes used; per sub-block (types with several scales per block): the scale and min
// as stored and their values. The block scales d and their bits are Analysis::block_scales and
// block_codes. (Not a member of Analysis: the other formats' analyses, and the web's first
// module, stay as they were.)
struct GgmlBlocks {
  std::vector<uint8_t> bytes;  // row after row, ggml_row_bytes each
  std::vector<float> min;
  std::vector<uint16_t> codes_used;
  std::vector<float> sub_scale, sub_min;
  std::vector<int32_t> sub_scale_code, sub_min_code;
  // With importance weights w (per column): Σw·e² / Σw and 10·log10(Σw·x² / Σw·e²), NaN without.
  double weighted_mse = 0, weighted_sqnr_db = 0;
};

struct Analysis {
  QuantParams params;  // per-channel/group: the shared code range, the data's range and the mean scale
  CalibrationReport calibration;
  std::vector<GroupResult> groups;  // empty for Granularity::Tensor
  Metrics metrics;
  // Per-sample outputs (empty when per_sample is false). x_hat is float in float32 arithmetic.
  std::vector<int32_t> codes;
  std::vector<float> dequantized_f32;
  std::vector<double> dequantized_f64;
  std::vector<double> errors;
  std::vector<uint8_t> clipped;
  // Another format than the integers (scheme.format): its counts, and for block formats each
  // block's decoded scale and the scale's code.
  FormatCounts format_counts;
  std::vector<double> block_scales;
  std::vector<uint32_t> block_codes;
  NonFiniteCounts non_finite;  // NonFinite::Skip: what was skipped
};

template <class T>
using Result = std::variant<T, Error>;

// "2 NaN, 1 +Inf" (the kinds that occur), or "none".
std::string non_finite_text(const NonFiniteCounts& c);

// Checks the scheme on its own (bits, qmin/qmax, range, scale, zero point).
std::optional<Error> validate_scheme(const QuantScheme& s);

// The MX scale rounding (QuantScheme::mx_scale) other than Floor is for the OCP MX formats only.
std::optional<Error> validate_mx_scale(const QuantScheme& s);

// What a float or block format allows of the other options (granularity, range, calibration, …).
std::optional<Error> validate_format(const QuantScheme& s);

// Whether `name` is one of ggml's types (q8_0 … tq2_0, as GgmlTypeInfo names them), or with
// profile 'ggml' also mxfp4 or nvfp4 (ggml's variants of them); if so, s.format = Ggml and s.ggml
// is set. The names of the other formats are parse_format's (formats.h).
bool select_ggml_format(QuantScheme& s, const std::string& name);

// The parameters for a valid scheme and the samples' scan (range used when none is given).
Result<QuantParams> derive_params(const QuantScheme& s, const SampleScan& scan);

// The kernel's parameters for a scheme's rounding and arithmetic and a tensor's (or a channel's)
// scale, zero point and code range; index_base: the first sample's index (stochastic draws).
KernelParams kernel_params(const QuantScheme& s, const QuantParams& p, uint64_t index_base = 0);

// Channels and groups as runs of `run` consecutive samples: sample i belongs to group
// (i / run) % count (a group: its own run; a channel: one run per index of the axes before it).
// count is 0 for Granularity::Tensor. Checks the shape against n, the axis and the group size.
struct GroupGeometry {
  size_t count = 0, run = 0;
};
Result<GroupGeometry> group_geometry(const QuantScheme& s, size_t n);

// Whether `count` channels or groups of `bytes_each` bytes fit in memory now; if not, an Error
// naming the option that sets how many there are (groupSize, or the channel axis).
std::optional<Error> group_memory(const QuantScheme& s, size_t count, double bytes_each);

// Every scheme: the integer formula (seed 004), float and block formats, runtime profiles,
// ggml's types (whose blocks and fields go to *ggml when it is given).
template <class In>
Result<Analysis> analyze(const In* x, size_t n, const AnalyzeOptions& opt, GgmlBlocks* ggml = nullptr);

// The integer formula alone (every calibration, granularity, rounding and arithmetic), as
// analyze() computes it; a float format or a runtime profile is refused, and NaN or ±Inf too
// (NonFinite::Skip is analyze()'s). What the web's small first module links: the format,
// profile and skipping code stays out of it.
template <class In>
Result<Analysis> analyze_integer(const In* x, size_t n, const AnalyzeOptions& opt);

}  // namespace qe
