#include "stream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "profiles.h"

namespace qe {

std::optional<Error> StreamAnalysis::check() const {
  const QuantScheme& s = options_.scheme;
  if (s.profile != Profile::Formula) {
    // The runtime's own rules for q_min, q_max and the zero point, as analyze() takes them.
    QuantScheme plain = s;
    plain.qmin.reset(), plain.qmax.reset(), plain.zero_point.reset();
    if (auto e = validate_scheme(plain)) return e;
    if (auto e = validate_profile(s)) return e;
    if (s.granularity != Granularity::Tensor)
      return Error{"values", -1, "This tensor is read in chunks, which does not support per-channel and per-group ranges yet"};
    return std::nullopt;
  }
  if (auto e = validate_scheme(s)) return e;
  if (s.format != NumberFormat::Int) {
    if (auto e = validate_format(s)) return e;
    if (s.profile != Profile::Formula) return Error{"profile", -1, "Runtime profiles quantize to integers"};
    return std::nullopt;
  }
  const char* why = s.granularity != Granularity::Tensor   ? "per-channel and per-group ranges"
                    : !s.range && !s.scale && s.calibration != Calibration::MinMax ? "calibrations other than min-max"
                                                                                    : nullptr;
  if (why) return Error{"values", -1, std::string("This tensor is read in chunks, which does not support ") + why + " yet"};
  return std::nullopt;
}

template <class In>
std::optional<Error> StreamAnalysis::scan(const In* x, size_t n) {
  const double limit = options_.scheme.arithmetic == Arithmetic::Float32 ? std::numeric_limits<float>::max() : kMaxMagnitude;
  const SampleScan r = scan_samples(x, n, options_.kernel);
  if (!r.finite || std::max(std::fabs(r.min), std::fabs(r.max)) > limit) {
    for (size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[i]);
      const int64_t at = static_cast<int64_t>(scanned_ + i);
      const std::string where = "Value " + std::to_string(at + 1);
      if (std::isnan(v)) return Error{"values", at, where + " is NaN"};
      if (std::isinf(v)) return Error{"values", at, where + " is infinite"};
      if (std::fabs(v) > limit) return Error{"values", at, where + " is too large"};
    }
  }
  if (n > 0) {
    // In chunk order, with the strict comparisons a single scan makes between its partial results.
    if (scanned_ == 0) range_.min = r.min, range_.max = r.max;
    if (r.min < range_.min) range_.min = r.min;
    if (r.max > range_.max) range_.max = r.max;
  }
  scanned_ += n;
  return std::nullopt;
}

std::optional<Error> StreamAnalysis::start() {
  if (scanned_ == 0) return Error{"values", -1, "No samples: the tensor is empty"};
  if (options_.scheme.format != NumberFormat::Int) return std::nullopt;  // the format's own scales
  if (options_.scheme.profile != Profile::Formula) {
    const QuantScheme& s = options_.scheme;
    params_ = profile_params(s, s.range ? s.range->min : range_.min, s.range ? s.range->max : range_.max);
    return std::nullopt;
  }
  auto p = derive_params(options_.scheme, range_);
  if (auto* e = std::get_if<Error>(&p)) return *e;
  params_ = std::get<QuantParams>(p);
  return std::nullopt;
}

template <class In>
void StreamAnalysis::quantize(const In* x, size_t n) {
  if (options_.scheme.format != NumberFormat::Int) {
    FormatResult r = quantize_format(x, n, options_.scheme, std::max(std::fabs(range_.min), std::fabs(range_.max)), SampleOutputs{},
                                     options_.kernel);
    r.sums.max_abs_index += quantized_;  // the chunk's indices are its own
    sums_.merge(r.sums);
    counts_.overflow += r.counts.overflow;
    counts_.underflow += r.counts.underflow;
    counts_.subnormal += r.counts.subnormal;
    tensor_scale_ = r.tensor_scale;
    quantized_ += n;
    return;
  }
  if (options_.scheme.profile != Profile::Formula) {
    sums_.merge(quantize_profile(x, n, options_.scheme.profile, params_, quantized_, SampleOutputs{}));
    quantized_ += n;
    return;
  }
  KernelParams k;
  k.scale = params_.scale;
  k.zero_point = params_.zero_point;
  k.qmin = params_.qmin;
  k.qmax = params_.qmax;
  const QuantScheme& s = options_.scheme;
  k.rounding = s.rounding;
  k.arithmetic = s.arithmetic;
  k.seed = s.seed;
  k.index_base = quantized_;
  sums_.merge(quantize_samples(x, n, k, SampleOutputs{}, options_.kernel));
  quantized_ += n;
}

Analysis StreamAnalysis::finish() const {
  Analysis a;
  a.params = params_;
  const QuantScheme& s = options_.scheme;
  if (s.format != NumberFormat::Int) {
    const double max_abs_x = std::max(std::fabs(range_.min), std::fabs(range_.max));
    a.params = QuantParams{tensor_scale_, 0, 0, 0, range_.min, range_.max};
    a.calibration.method = "minmax";
    a.calibration.range_min = range_.min;
    a.calibration.range_max = range_.max;
    a.metrics = metrics_from_sums(sums_, max_abs_x, tensor_scale_);
    a.metrics.step = a.metrics.uniform_noise = std::numeric_limits<double>::quiet_NaN();
    a.format_counts = counts_;
    return a;
  }
  a.calibration.method = s.range ? "custom" : "minmax";
  a.calibration.range_min = s.range ? s.range->min : range_.min;
  a.calibration.range_max = s.range ? s.range->max : range_.max;
  a.metrics = metrics_from_sums(sums_, std::max(std::fabs(range_.min), std::fabs(range_.max)), params_.scale);
  return a;
}

template std::optional<Error> StreamAnalysis::scan<float>(const float*, size_t);
template std::optional<Error> StreamAnalysis::scan<double>(const double*, size_t);
template void StreamAnalysis::quantize<float>(const float*, size_t);
template void StreamAnalysis::quantize<double>(const double*, size_t);

}  // namespace qe
