#include "calibrate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "metrics.h"
#include "rounding.h"

namespace qe {

namespace {

// The range a scheme would use for data spanning [lo, hi] (the degenerate rule included).
Result<QuantParams> params_for(const QuantScheme& s, double lo, double hi) {
  SampleScan scan;
  scan.min = lo;
  scan.max = hi;
  QuantScheme derived = s;
  derived.range.reset();
  return derive_params(derived, scan);
}

// MSE of a quantizer on the histogram's bin centres (the estimate the search ranks by).
template <class Hist>
double estimated_mse(const Hist& h, const QuantParams& p, Rounding rule, double n) {
  const Rounding r = rule == Rounding::Stochastic ? Rounding::HalfEven : rule;
  double sum = 0;
  for (size_t b = 0; b < h.counts.size(); ++b) {
    if (h.counts[b] == 0) continue;
    const double c = h.lo + (static_cast<double>(b) + 0.5) * h.width;
    const double q = std::clamp(round_with(r, c / p.scale + p.zero_point), static_cast<double>(p.qmin), static_cast<double>(p.qmax));
    const double e = c - (q - p.zero_point) * p.scale;
    sum += h.counts[b] * e * e;
  }
  return sum / n;
}

// MXNet/TVM's _smooth_distribution: move ε of mass onto the empty bins, taken evenly from the others.
void smooth(std::vector<double>& p) {
  constexpr double eps = 1e-4;
  const double zeros = static_cast<double>(std::count(p.begin(), p.end(), 0.0));
  const double nonzeros = static_cast<double>(p.size()) - zeros;
  const double eps1 = eps * zeros / nonzeros;
  for (double& v : p) v += v == 0 ? eps : -eps1;
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  const double sp = std::accumulate(p.begin(), p.end(), 0.0), sq = std::accumulate(q.begin(), q.end(), 0.0);
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq;
    if (pi > 0) kl += pi * std::log(pi / qi);
  }
  return kl;
}

constexpr size_t kEntropyBins = 2048;
constexpr size_t kMseBins = 4096;
constexpr int kMseCandidates = 200;

// The KL search over a histogram of |x| in [0, amax]: sets r.threshold, r.divergence and the curve.
template <class Hist>
void entropy_threshold(const Hist& h, size_t levels, CalibrationReport& r) {
  const size_t bins = h.counts.size();
  double best = INFINITY;
  size_t best_i = bins;
  std::vector<double> p, q;
  for (size_t i = levels; i <= bins; ++i) {
    p.assign(h.counts.begin(), h.counts.begin() + static_cast<long>(i));
    p[i - 1] += std::accumulate(h.counts.begin() + static_cast<long>(i), h.counts.end(), 0.0);
    // Q: the first i bins merged into `levels` groups (the remainder joins the last), each
    // group's count spread evenly over its bins that are non-empty in P.
    const size_t merged = i / levels;
    q.assign(i, 0.0);
    for (size_t j = 0; j < levels; ++j) {
      const size_t start = j * merged, stop = j == levels - 1 ? i : start + merged;
      double total = 0, nonzero = 0;
      for (size_t t = start; t < stop; ++t) total += h.counts[t], nonzero += p[t] != 0;
      if (nonzero > 0)
        for (size_t t = start; t < stop; ++t) q[t] = p[t] != 0 ? total / nonzero : 0;
    }
    if (std::all_of(q.begin(), q.end(), [](double v) { return v == 0; })) continue;
    smooth(p);
    smooth(q);
    const double kl = kl_divergence(p, q);
    r.curve_threshold.push_back((static_cast<double>(i) + 0.5) * h.width);
    r.curve_value.push_back(kl);
    if (kl < best) best = kl, best_i = i;
  }
  if (best_i < bins) {
    r.threshold = (static_cast<double>(best_i) + 0.5) * h.width;
    r.divergence = best;
  }
}

}  // namespace

Calibrator::Calibrator(const QuantScheme& s, const SampleScan& scan, uint64_t n, Kernel k, size_t gather_limit)
    : s_(s), scan_(scan), n_(n), kernel_(k) {
  r_.method = to_string(s.calibration);
  r_.range_min = scan.min;
  r_.range_max = scan.max;
  const bool symmetric = s.mode == Mode::Symmetric;
  const double amax = std::max(std::fabs(scan.min), std::fabs(scan.max));
  // The probabilities of the percentile ranges of p (symmetric: of |x|).
  const auto probabilities = [&](std::initializer_list<double> ps) {
    for (double p : ps) {
      if (symmetric) wanted_.push_back(p / 100);
      else wanted_.push_back((100 - p) / 100), wanted_.push_back(p / 100);
    }
    quantiles_.emplace(n, symmetric, wanted_, gather_limit);
  };
  switch (s.calibration) {
    case Calibration::MinMax: break;
    case Calibration::Percentile:
      r_.percentile = s.percentile;
      probabilities({s.percentile});
      stage_ = Stage::Quantiles;
      if (quantiles_->done()) settle();
      break;
    case Calibration::Entropy: {
      r_.threshold = amax;
      if ((size_t{1} << (s.bits - 1)) >= kEntropyBins || amax == 0) {
        settle();  // nothing to search: the min-max range
        break;
      }
      hist_ = Hist{0.0, amax / static_cast<double>(kEntropyBins), true, std::vector<double>(kEntropyBins, 0.0)};
      stage_ = Stage::Histogram;
      break;
    }
    case Calibration::Mse: {
      const Range full = full_range();
      hist_ = Hist{full.min, (full.max - full.min) / static_cast<double>(kMseBins), false, std::vector<double>(kMseBins, 0.0)};
      r_.percentile = s.percentile;
      probabilities({99, 99.9, 99.99, 99.999, s.percentile});
      stage_ = Stage::Histogram;
      break;
    }
  }
}

template <class In>
void Calibrator::add(const In* x, size_t n, uint64_t index_base) {
  switch (stage_) {
    case Stage::Histogram: {
      const size_t bins = hist_.counts.size();
      for (size_t i = 0; i < n; ++i) {
        const double v = hist_.absolute ? std::fabs(static_cast<double>(x[i])) : static_cast<double>(x[i]);
        const double at = hist_.width > 0 ? std::floor((v - hist_.lo) / hist_.width) : 0;
        hist_.counts[at < 0 ? 0 : at >= static_cast<double>(bins) ? bins - 1 : static_cast<size_t>(at)] += 1;
      }
      if (quantiles_ && !quantiles_->done()) quantiles_->add(x, n);
      break;
    }
    case Stage::Quantiles: quantiles_->add(x, n); break;
    case Stage::Measure:
      for (size_t f = 0; f < finalists_.size(); ++f)
        finalist_err2_[f] += quantize_samples(x, n, kernel_params(s_, finalists_[f].first, index_base), SampleOutputs{}, kernel_).sum_err2;
      break;
    case Stage::Done: break;
  }
}

void Calibrator::next() {
  switch (stage_) {
    case Stage::Histogram:
      if (s_.calibration == Calibration::Entropy) {
        entropy_threshold(hist_, size_t{1} << (s_.bits - 1), r_);
        settle();
        return;
      }
      // mse: rank the candidate ranges by the histogram's estimate.
      for (int c = 1; c <= kMseCandidates; ++c) {
        const double alpha = static_cast<double>(c) / kMseCandidates;
        const Range full = full_range();
        const Range range{alpha * full.min, alpha * full.max};
        auto p = params_for(s_, range.min, range.max);
        if (std::holds_alternative<Error>(p)) continue;  // too narrow to have a scale
        const double est = estimated_mse(hist_, std::get<QuantParams>(p), s_.rounding, static_cast<double>(n_));
        r_.curve_threshold.push_back(alpha);
        r_.curve_value.push_back(est);
        scored_.emplace_back(est, range);
      }
      std::stable_sort(scored_.begin(), scored_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      quantiles_->next();
      stage_ = Stage::Quantiles;
      if (quantiles_->done()) settle();
      return;
    case Stage::Quantiles:
      quantiles_->next();
      if (quantiles_->done()) settle();
      return;
    case Stage::Measure: {
      const Range full = full_range();
      double best = INFINITY;
      for (size_t f = 0; f < finalists_.size(); ++f) {
        const Range& range = finalists_[f].second;
        const double mse = finalist_err2_[f] / static_cast<double>(n_);
        // Ties go to the wider range: it clips less for the same error.
        if (mse < best || (mse == best && range.max - range.min > r_.range_max - r_.range_min)) {
          best = mse;
          r_.range_min = range.min;
          r_.range_max = range.max;
        }
      }
      r_.threshold = full.max != full.min ? (r_.range_max - r_.range_min) / (full.max - full.min) : 1;
      stage_ = Stage::Done;
      return;
    }
    case Stage::Done: return;
  }
}

// The min-max range, symmetric about 0 in symmetric mode: what mse scales down.
Range Calibrator::full_range() const {
  const double amax = std::max(std::fabs(scan_.min), std::fabs(scan_.max));
  return s_.mode == Mode::Symmetric ? Range{-amax, amax} : Range{scan_.min, scan_.max};
}

std::vector<Range> Calibrator::percentile_ranges() const {
  const std::vector<double> got = quantiles_->values();
  std::vector<Range> ranges;
  if (s_.mode == Mode::Symmetric)
    for (double v : got) ranges.push_back(Range{-v, v});
  else
    for (size_t i = 0; i + 1 < got.size(); i += 2) ranges.push_back(Range{got[i], got[i + 1]});
  return ranges;
}

// The range once the passes have told what they were for (entropy: from its threshold).
void Calibrator::settle() {
  const bool symmetric = s_.mode == Mode::Symmetric;
  stage_ = Stage::Done;
  switch (s_.calibration) {
    case Calibration::MinMax: return;
    case Calibration::Percentile: {
      const Range range = percentile_ranges()[0];
      r_.range_min = range.min;
      r_.range_max = range.max;
      return;
    }
    case Calibration::Entropy:
      r_.range_min = symmetric ? -r_.threshold : std::max(scan_.min, -r_.threshold);
      r_.range_max = symmetric ? r_.threshold : std::min(scan_.max, r_.threshold);
      return;
    case Calibration::Mse: {
      // The 5 best estimates, the min-max range and the percentile ranges, each measured exactly.
      std::vector<Range> candidates;
      for (size_t i = 0; i < std::min<size_t>(5, scored_.size()); ++i) candidates.push_back(scored_[i].second);
      candidates.push_back(full_range());
      for (const Range& range : percentile_ranges()) candidates.push_back(range);
      for (const Range& range : candidates) {
        auto p = params_for(s_, range.min, range.max);
        if (std::holds_alternative<Error>(p)) continue;
        ++r_.exact_candidates;
        finalists_.emplace_back(std::get<QuantParams>(p), range);
      }
      finalist_err2_.assign(finalists_.size(), 0.0);
      stage_ = Stage::Measure;
      return;
    }
  }
}

template <class In>
Result<CalibrationReport> calibrate(const In* x, size_t n, const QuantScheme& s, const SampleScan& scan, Kernel k) {
  Calibrator c(s, scan, n, k);
  while (!c.done()) {
    c.add(x, n, 0);
    c.next();
  }
  return c.report();
}

template <class In>
Result<CalibrationReport> calibrate_finite(const In* x, size_t n, uint64_t finite, const QuantScheme& s,
                                           const SampleScan& scan, Kernel k) {
  Calibrator c(s, scan, finite, k);
  while (!c.done()) {
    finite_runs(
        x, n, [&](size_t begin, size_t length) { c.add(x + begin, length, begin); }, [](size_t, size_t) {});
    c.next();
  }
  return c.report();
}

template void Calibrator::add<float>(const float*, size_t, uint64_t);
template void Calibrator::add<double>(const double*, size_t, uint64_t);
template Result<CalibrationReport> calibrate<float>(const float*, size_t, const QuantScheme&, const SampleScan&, Kernel);
template Result<CalibrationReport> calibrate<double>(const double*, size_t, const QuantScheme&, const SampleScan&, Kernel);
template Result<CalibrationReport> calibrate_finite<float>(const float*, size_t, uint64_t, const QuantScheme&,
                                                           const SampleScan&, Kernel);
template Result<CalibrationReport> calibrate_finite<double>(const double*, size_t, uint64_t, const QuantScheme&,
                                                            const SampleScan&, Kernel);

}  // namespace qe
