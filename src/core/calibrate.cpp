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

template <class In>
double exact_mse(const In* x, size_t n, const QuantScheme& s, const QuantParams& p, Kernel k) {
  KernelParams kp;
  kp.scale = p.scale;
  kp.zero_point = p.zero_point;
  kp.qmin = p.qmin;
  kp.qmax = p.qmax;
  kp.rounding = s.rounding;
  kp.arithmetic = s.arithmetic;
  kp.seed = s.seed;
  return quantize_samples(x, n, kp, SampleOutputs{}, k).sum_err2 / static_cast<double>(n);
}

struct Hist {
  double lo, width;
  std::vector<double> counts;
};

template <class In>
Hist histogram(const In* x, size_t n, double lo, double hi, size_t bins, bool absolute) {
  Hist h{lo, (hi - lo) / static_cast<double>(bins), std::vector<double>(bins, 0.0)};
  for (size_t i = 0; i < n; ++i) {
    const double v = absolute ? std::fabs(static_cast<double>(x[i])) : static_cast<double>(x[i]);
    const double at = h.width > 0 ? std::floor((v - lo) / h.width) : 0;
    h.counts[at < 0 ? 0 : at >= static_cast<double>(bins) ? bins - 1 : static_cast<size_t>(at)] += 1;
  }
  return h;
}

// MSE of a quantizer on the histogram's bin centres (the estimate the search ranks by).
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

template <class In>
void entropy_threshold(const In* x, size_t n, int bits, double amax, CalibrationReport& r) {
  constexpr size_t kBins = 2048;
  const size_t levels = size_t{1} << (bits - 1);
  r.threshold = amax;
  if (levels >= kBins || amax == 0) return;
  const Hist h = histogram(x, n, 0.0, amax, kBins, true);
  double best = INFINITY;
  size_t best_i = kBins;
  std::vector<double> p, q;
  for (size_t i = levels; i <= kBins; ++i) {
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
  if (best_i < kBins) {
    r.threshold = (static_cast<double>(best_i) + 0.5) * h.width;
    r.divergence = best;
  }
}

}  // namespace

template <class In>
Result<CalibrationReport> calibrate(const In* x, size_t n, const QuantScheme& s, const SampleScan& scan, Kernel k) {
  CalibrationReport r;
  r.method = to_string(s.calibration);
  r.range_min = scan.min;
  r.range_max = scan.max;
  const bool symmetric = s.mode == Mode::Symmetric;
  const double amax = std::max(std::fabs(scan.min), std::fabs(scan.max));
  // The percentile ranges of p (symmetric: of |x|).
  const auto percentile_ranges = [&](const std::vector<double>& ps) {
    std::vector<double> wanted;
    for (double p : ps) {
      if (symmetric) wanted.push_back(p / 100);
      else wanted.push_back((100 - p) / 100), wanted.push_back(p / 100);
    }
    std::vector<double> got(wanted.size());
    quantiles(x, n, symmetric, wanted.data(), got.data(), wanted.size());
    std::vector<Range> ranges;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (symmetric) ranges.push_back(Range{-got[i], got[i]});
      else ranges.push_back(Range{got[2 * i], got[2 * i + 1]});
    }
    return ranges;
  };
  switch (s.calibration) {
    case Calibration::MinMax: break;
    case Calibration::Percentile: {
      const Range range = percentile_ranges({s.percentile})[0];
      r.percentile = s.percentile;
      r.range_min = range.min;
      r.range_max = range.max;
      break;
    }
    case Calibration::Entropy: {
      entropy_threshold(x, n, s.bits, amax, r);
      r.range_min = symmetric ? -r.threshold : std::max(scan.min, -r.threshold);
      r.range_max = symmetric ? r.threshold : std::min(scan.max, r.threshold);
      break;
    }
    case Calibration::Mse: {
      constexpr int kCandidates = 200;
      const double lo = symmetric ? -amax : scan.min, hi = symmetric ? amax : scan.max;
      const Hist h = histogram(x, n, lo, hi, 4096, false);
      std::vector<std::pair<double, Range>> scored;  // (estimate, range)
      for (int c = 1; c <= kCandidates; ++c) {
        const double alpha = static_cast<double>(c) / kCandidates;
        const Range range{alpha * lo, alpha * hi};
        auto p = params_for(s, range.min, range.max);
        if (std::holds_alternative<Error>(p)) continue;  // too narrow to have a scale
        const double est = estimated_mse(h, std::get<QuantParams>(p), s.rounding, static_cast<double>(n));
        r.curve_threshold.push_back(alpha);
        r.curve_value.push_back(est);
        scored.emplace_back(est, range);
      }
      std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      std::vector<Range> finalists;
      for (size_t i = 0; i < std::min<size_t>(5, scored.size()); ++i) finalists.push_back(scored[i].second);
      finalists.push_back(Range{lo, hi});
      for (const Range& range : percentile_ranges({99, 99.9, 99.99, 99.999, s.percentile})) finalists.push_back(range);
      double best = INFINITY;
      for (const Range& range : finalists) {
        auto p = params_for(s, range.min, range.max);
        if (std::holds_alternative<Error>(p)) continue;
        ++r.exact_candidates;
        const double mse = exact_mse(x, n, s, std::get<QuantParams>(p), k);
        // Ties go to the wider range: it clips less for the same error.
        if (mse < best || (mse == best && range.max - range.min > r.range_max - r.range_min)) {
          best = mse;
          r.range_min = range.min;
          r.range_max = range.max;
        }
      }
      r.threshold = hi != lo ? (r.range_max - r.range_min) / (hi - lo) : 1;
      r.percentile = s.percentile;
      break;
    }
  }
  return r;
}

template Result<CalibrationReport> calibrate<float>(const float*, size_t, const QuantScheme&, const SampleScan&, Kernel);
template Result<CalibrationReport> calibrate<double>(const double*, size_t, const QuantScheme&, const SampleScan&, Kernel);

}  // namespace qe
