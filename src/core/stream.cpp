#include "stream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "memory.h"
#include "profiles.h"

namespace qe {

namespace {

// The values a shape holds, or for groups without a shape one group's worth (enough to check
// the group size; the count is checked once the first pass has counted the values).
size_t nominal_count(const QuantScheme& s) {
  if (s.shape.empty()) return s.group_size > 0 ? static_cast<size_t>(s.group_size) : 1;
  double count = 1;
  for (int64_t d : s.shape) count *= static_cast<double>(std::max<int64_t>(d, 1));
  return count < 1e18 && count <= static_cast<double>(SIZE_MAX) ? static_cast<size_t>(count) : 0;
}

// The finite values' range, their runs' extremes compared strictly in order as one scan compares
// its parts ({+∞, −∞} when there is none); with `skip` false, the scan of x as it is.
template <class In>
SampleScan range_of(const In* x, size_t n, bool skip, Kernel k) {
  if (!skip) return scan_samples(x, n, k);
  SampleScan s{INFINITY, -INFINITY, true};
  finite_runs(
      x, n,
      [&](size_t begin, size_t length) {
        const SampleScan r = scan_samples(x + begin, length, k);
        if (r.min < s.min) s.min = r.min;
        if (r.max > s.max) s.max = r.max;
      },
      [](size_t, size_t) {});
  return s;
}

}  // namespace

std::optional<Error> StreamAnalysis::check() const {
  const QuantScheme& s = options_.scheme;
  if (s.format == NumberFormat::Ggml || s.profile == Profile::Ggml || options_.importance)
    return Error{s.format == NumberFormat::Ggml ? "format" : s.profile == Profile::Ggml ? "profile" : "importance", -1,
                 "ggml's types are analysed whole, not streamed: use analyze()"};
  if (auto e = validate_mx_scale(s)) return e;
  if (s.scales() || s.zero_points())
    return Error{s.scales() ? "scale" : "zeroPoint", -1, "Lists of scales or zero points per channel or group are analyze()'s, not a stream's"};
  if (is_profile()) {
    // The runtime's own rules for q_min, q_max and the zero point, as analyze() takes them.
    QuantScheme plain = s;
    plain.qmin.reset(), plain.qmax.reset(), plain.zero_point.reset();
    if (auto e = validate_scheme(plain)) return e;
    if (auto e = validate_profile(s)) return e;
  } else {
    if (auto e = validate_scheme(s)) return e;
    if (is_format())
      if (auto e = validate_format(s)) return e;
  }
  if (s.granularity != Granularity::Tensor) {
    auto g = group_geometry(s, nominal_count(s));
    if (auto* e = std::get_if<Error>(&g)) return *e;
    // With the shape given, every group's records are known before the first chunk.
    if (!s.shape.empty())
      if (auto e = group_memory(s, std::get<GroupGeometry>(g).count, bytes_per_group())) return e;
  }
  return std::nullopt;
}

// A group's range in the first pass, its record after it, the result's copy and the caller's.
double StreamAnalysis::bytes_per_group() const {
  return static_cast<double>(sizeof(SampleScan) + 2 * sizeof(GroupResult) + options_.group_copy_bytes);
}

const char* StreamAnalysis::pass() const {
  switch (pass_) {
    case Pass::Range: return "range";
    case Pass::Calibration: return "calibration";
    case Pass::Quantization: return "quantization";
    case Pass::Done: break;
  }
  return "done";
}

// Every pass after the first must bring the first pass's values again, no more and no fewer.
std::optional<Error> StreamAnalysis::pass_length(uint64_t values) const {
  const std::string which = "Pass " + std::to_string(passes_) + " (" + pass() + ")";
  const std::string rule = ": every pass takes the same chunks in the same order";
  if (values > count_) return Error{"values", -1, which + " has more values than the first pass's " + std::to_string(count_) + rule};
  return Error{"values", -1, which + " had " + std::to_string(values) + " values, the first pass " + std::to_string(count_) + rule};
}

template <class In>
std::optional<Error> StreamAnalysis::add(const In* x, size_t n) {
  const QuantScheme& s = options_.scheme;
  if (pass_ != Pass::Range && pass_ != Pass::Done && at_ + n > count_) return pass_length(at_ + n);
  switch (pass_) {
    case Pass::Range: {
      const double limit = s.arithmetic == Arithmetic::Float32 || is_profile() ? std::numeric_limits<float>::max() : kMaxMagnitude;
      const bool skip = options_.non_finite == NonFinite::Skip;
      SampleScan r = scan_samples(x, n, options_.kernel);
      NonFiniteCounts here;
      if (!r.finite || std::max(std::fabs(r.min), std::fabs(r.max)) > limit) {
        for (size_t i = 0; i < n; ++i) {
          const double v = static_cast<double>(x[i]);
          const int64_t at = static_cast<int64_t>(at_ + i);
          const std::string where = "Value " + std::to_string(at + 1);
          if (skip && !std::isfinite(v)) continue;
          if (std::isnan(v)) return Error{"values", at, where + " is NaN"};
          if (std::isinf(v)) return Error{"values", at, where + " is infinite"};
          if (std::fabs(v) > limit) return Error{"values", at, where + " is too large"};
        }
        if (skip) here.add(x, n);
      }
      if (here.total() > 0) r = range_of(x, n, true, options_.kernel);
      const uint64_t finite = n - here.total();
      skipped_.nan += here.nan, skipped_.pos_inf += here.pos_inf, skipped_.neg_inf += here.neg_inf;
      if (finite > 0) {
        // In chunk order, with the strict comparisons a single scan makes between its partial results.
        if (finite_ == 0) range_.min = r.min, range_.max = r.max;
        if (r.min < range_.min) range_.min = r.min;
        if (r.max > range_.max) range_.max = r.max;
      }
      finite_ += finite;
      if (s.granularity != Granularity::Tensor) {
        if (at_ == 0) {
          auto g = group_geometry(s, nominal_count(s));
          if (auto* e = std::get_if<Error>(&g)) return *e;
          geometry_ = std::get<GroupGeometry>(g);
        }
        // Each channel's or group's range, run by run.
        const bool channels = s.granularity == Granularity::Channel;
        for (size_t i = 0; i < n;) {
          const uint64_t k = (at_ + i) / geometry_.run;
          const size_t g = channels ? static_cast<size_t>(k % geometry_.count) : static_cast<size_t>(k);
          const size_t length = static_cast<size_t>(std::min<uint64_t>(n - i, (k + 1) * geometry_.run - (at_ + i)));
          if (g >= group_ranges_.size()) {
            // Without a shape the groups are counted as they come: each growth is asked for first.
            if (g >= group_ranges_.capacity()) {
              const size_t grown = std::max<size_t>({g + 1, 2 * group_ranges_.capacity(), 1024});
              if (auto e = group_memory(s, grown, bytes_per_group())) return e;
              group_ranges_.reserve(grown);
            }
            group_ranges_.resize(g + 1, SampleScan{INFINITY, -INFINITY, true});
          }
          const SampleScan part = range_of(x + i, length, here.total() > 0, options_.kernel);
          group_ranges_[g].min = std::min(group_ranges_[g].min, part.min);
          group_ranges_[g].max = std::max(group_ranges_[g].max, part.max);
          i += length;
        }
      }
      break;
    }
    case Pass::Calibration:
      if (skipped_.total() == 0)
        calibrator_->add(x, n, at_);
      else
        finite_runs(
            x, n, [&](size_t begin, size_t length) { calibrator_->add(x + begin, length, at_ + begin); },
            [](size_t, size_t) {});
      break;
    case Pass::Quantization:
      if (is_format()) {
        FormatResult r = quantize_format(x, n, s, std::max(std::fabs(range_.min), std::fabs(range_.max)), SampleOutputs{},
                                         options_.kernel);
        r.sums.max_abs_index += at_;  // the chunk's indices are its own
        sums_.merge(r.sums);
        counts_.overflow += r.counts.overflow;
        counts_.underflow += r.counts.underflow;
        counts_.subnormal += r.counts.subnormal;
        counts_.saturated_blocks += r.counts.saturated_blocks;
        tensor_scale_ = r.tensor_scale;
      } else if (!groups_.empty()) {
        quantize_groups(x, n);
      } else if (is_profile()) {
        sums_.merge(quantize_profile(x, n, s.profile, params_, at_, SampleOutputs{}));
      } else if (skipped_.total() == 0) {
        sums_.merge(quantize_samples(x, n, kernel_params(s, params_, at_), SampleOutputs{}, options_.kernel));
      } else {
        finite_runs(
            x, n,
            [&](size_t begin, size_t length) {
              sums_.merge(quantize_samples(x + begin, length, kernel_params(s, params_, at_ + begin), SampleOutputs{},
                                           options_.kernel));
            },
            [](size_t, size_t) {});
      }
      break;
    case Pass::Done: break;
  }
  at_ += n;
  return std::nullopt;
}

// Run by run, each with its channel's or group's parameters; each group's first largest error
// is its first in sample order, since the runs come in that order.
template <class In>
void StreamAnalysis::quantize_groups(const In* x, size_t n) {
  const QuantScheme& s = options_.scheme;
  const bool channels = s.granularity == Granularity::Channel;
  for (size_t i = 0; i < n;) {
    const uint64_t k = (at_ + i) / geometry_.run;
    GroupResult& group = groups_[channels ? static_cast<size_t>(k % geometry_.count) : static_cast<size_t>(k)];
    const size_t length = static_cast<size_t>(std::min<uint64_t>(n - i, (k + 1) * geometry_.run - (at_ + i)));
    if (is_profile()) {
      group.sums.merge(quantize_profile(x + i, length, s.profile, group.params, at_ + i, SampleOutputs{}));
    } else if (skipped_.total() == 0) {
      group.sums.merge(quantize_samples(x + i, length, kernel_params(s, group.params, at_ + i), SampleOutputs{}, options_.kernel));
    } else {
      finite_runs(
          x + i, length,
          [&](size_t begin, size_t run) {
            group.sums.merge(quantize_samples(x + i + begin, run, kernel_params(s, group.params, at_ + i + begin),
                                              SampleOutputs{}, options_.kernel));
          },
          [](size_t, size_t) {});
    }
    i += length;
  }
}

// The tensor's parameters from the range or the calibration (integer formulas).
std::optional<Error> StreamAnalysis::parameters() {
  const QuantScheme& s = options_.scheme;
  SampleScan used = range_;
  if (s.range) {
    report_.method = "custom";  // a given range wins over any calibration
    report_.range_min = s.range->min;
    report_.range_max = s.range->max;
  } else {
    report_ = calibrator_->report();
    used.min = report_.range_min;
    used.max = report_.range_max;
  }
  auto p = derive_params(s, used);
  if (auto* e = std::get_if<Error>(&p)) return *e;
  params_ = std::get<QuantParams>(p);
  return std::nullopt;
}

std::optional<Error> StreamAnalysis::next() {
  const QuantScheme& s = options_.scheme;
  if (pass_ != Pass::Range && pass_ != Pass::Done && at_ != count_) return pass_length(at_);
  switch (pass_) {
    case Pass::Range: {
      if (at_ == 0) return Error{"values", -1, "No samples: the tensor is empty"};
      if (finite_ == 0)
        return Error{"values", -1,
                     "Every value is NaN or infinite (" + non_finite_text(skipped_) + "): nothing finite to measure"};
      count_ = at_;
      pass_ = Pass::Quantization;
      if (s.granularity != Granularity::Tensor) {
        auto g = group_geometry(s, static_cast<size_t>(count_));
        if (auto* e = std::get_if<Error>(&g)) return *e;
        geometry_ = std::get<GroupGeometry>(g);
        if (auto e = group_memory(s, geometry_.count, bytes_per_group())) return e;
        groups_.resize(geometry_.count);
        for (size_t k = 0; k < geometry_.count; ++k) {
          if (group_ranges_[k].min > group_ranges_[k].max) group_ranges_[k] = SampleScan{};  // no finite value
          if (is_profile()) {
            groups_[k].params = profile_params(s, group_ranges_[k].min, group_ranges_[k].max);
            continue;
          }
          auto p = derive_params(s, group_ranges_[k]);
          if (auto* e = std::get_if<Error>(&p)) return *e;
          groups_[k].params = std::get<QuantParams>(p);
        }
        group_ranges_.clear();
        group_ranges_.shrink_to_fit();
      }
      if (is_format()) break;  // the format's own scales
      if (is_profile()) {
        params_ = profile_params(s, s.range ? s.range->min : range_.min, s.range ? s.range->max : range_.max);
        break;
      }
      if (!s.range) {
        calibrator_.emplace(s, range_, finite_, options_.kernel, gather_limit_);
        if (!calibrator_->done()) {
          pass_ = Pass::Calibration;
          break;
        }
      }
      if (auto e = parameters()) return e;
      break;
    }
    case Pass::Calibration:
      calibrator_->next();
      if (calibrator_->done()) {
        if (auto e = parameters()) return e;
        pass_ = Pass::Quantization;
      }
      break;
    case Pass::Quantization: pass_ = Pass::Done; break;
    case Pass::Done: return std::nullopt;
  }
  if (pass_ != Pass::Done) ++passes_;
  at_ = 0;
  return std::nullopt;
}

Analysis StreamAnalysis::finish() const {
  Analysis a;
  a.params = params_;
  a.non_finite = skipped_;
  const QuantScheme& s = options_.scheme;
  const double max_abs_x = std::max(std::fabs(range_.min), std::fabs(range_.max));
  if (is_format()) {
    a.params = QuantParams{tensor_scale_, 0, 0, 0, range_.min, range_.max};
    a.calibration.method = "minmax";
    a.calibration.range_min = range_.min;
    a.calibration.range_max = range_.max;
    a.metrics = metrics_from_sums(sums_, max_abs_x, tensor_scale_);
    a.metrics.data_min = range_.min, a.metrics.data_max = range_.max;
    a.metrics.step = a.metrics.uniform_noise = std::numeric_limits<double>::quiet_NaN();
    a.format_counts = counts_;
    return a;
  }
  if (is_profile()) {
    a.calibration.method = s.range ? "custom" : "minmax";
    a.calibration.range_min = params_.range_min;
    a.calibration.range_max = params_.range_max;
  } else {
    a.calibration = report_;
  }
  if (groups_.empty()) {
    a.metrics = metrics_from_sums(sums_, max_abs_x, params_.scale);
    a.metrics.data_min = range_.min, a.metrics.data_max = range_.max;
    return a;
  }
  // Per channel or group, as analyze() sums them: the count-weighted mean scale, Δ²/12 averaged.
  ErrorSums total;
  double scale_sum = 0, noise_sum = 0;
  for (const GroupResult& group : groups_) {
    total.merge(group.sums);
    const double count = static_cast<double>(group.sums.count);
    scale_sum += count * group.params.scale;
    noise_sum += count * group.params.scale * group.params.scale / 12;
  }
  a.groups = groups_;
  a.params.scale = scale_sum / static_cast<double>(finite_);
  if (is_profile()) a.params.range_min = range_.min, a.params.range_max = range_.max;
  a.metrics = metrics_from_sums(total, max_abs_x, a.params.scale);
  a.metrics.data_min = range_.min, a.metrics.data_max = range_.max;
  a.metrics.uniform_noise = noise_sum / static_cast<double>(finite_);
  return a;
}

template std::optional<Error> StreamAnalysis::add<float>(const float*, size_t);
template std::optional<Error> StreamAnalysis::add<double>(const double*, size_t);

}  // namespace qe
