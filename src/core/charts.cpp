#include "charts.h"

#include <algorithm>
#include <cmath>

namespace qe {

namespace {

Histogram histogram_of(size_t bins, double lo, double hi) {
  Histogram h;
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  h.lo = lo;
  h.hi = hi;
  h.counts.assign(bins, 0);
  return h;
}

void add(Histogram& h, double v) {
  const double bins = static_cast<double>(h.counts.size());
  const double at = std::floor((v - h.lo) / (h.hi - h.lo) * bins);
  const size_t i = at < 0 ? 0 : at >= bins ? h.counts.size() - 1 : static_cast<size_t>(at);
  ++h.counts[i];
}

// chart_data, or with kSkip (NonFinite::Skip) over the finite samples alone: a bucket without one
// holds NaN, and the histograms count the others.
template <bool kSkip, class In>
ChartData chart_data_of(const In* x, size_t n, const Analysis& a, size_t buckets, size_t bins, bool uniform) {
  ChartData c;
  if (n == 0 || a.errors.size() != n) return c;
  const auto xhat = [&](size_t i) {
    return a.dequantized_f64.empty() ? static_cast<double>(a.dequantized_f32[i]) : a.dequantized_f64[i];
  };
  const auto kept = [&](size_t i) { return !kSkip || std::isfinite(static_cast<double>(x[i])); };
  const QuantParams& p = a.params;
  double lo = kSkip ? INFINITY : static_cast<double>(x[0]), hi = kSkip ? -INFINITY : lo;
  if (buckets > 0) {
    const size_t b_count = std::min(buckets, n);
    for (auto* v : {&c.x_min, &c.x_max, &c.xhat_min, &c.xhat_max, &c.err_min, &c.err_max}) v->resize(b_count);
    for (size_t b = 0; b < b_count; ++b) {
      size_t begin = b * n / b_count;
      const size_t end = (b + 1) * n / b_count;
      if constexpr (kSkip) {
        while (begin < end && !kept(begin)) ++begin;
        if (begin == end) {
          for (auto* v : {&c.x_min, &c.x_max, &c.xhat_min, &c.xhat_max, &c.err_min, &c.err_max}) (*v)[b] = NAN;
          continue;
        }
      }
      double x0 = static_cast<double>(x[begin]), x1 = x0, h0 = xhat(begin), h1 = h0, e0 = a.errors[begin], e1 = e0;
      for (size_t i = begin + 1; i < end; ++i) {
        if (!kept(i)) continue;
        const double xv = static_cast<double>(x[i]), hv = xhat(i), ev = a.errors[i];
        x0 = std::min(x0, xv), x1 = std::max(x1, xv);
        h0 = std::min(h0, hv), h1 = std::max(h1, hv);
        e0 = std::min(e0, ev), e1 = std::max(e1, ev);
      }
      c.x_min[b] = x0, c.x_max[b] = x1, c.xhat_min[b] = h0, c.xhat_max[b] = h1, c.err_min[b] = e0, c.err_max[b] = e1;
      lo = std::min(lo, x0), hi = std::max(hi, x1);
    }
  } else {
    for (size_t i = 0; i < n; ++i)
      if (kept(i)) lo = std::min(lo, static_cast<double>(x[i])), hi = std::max(hi, static_cast<double>(x[i]));
  }
  if (bins > 0) {
    if (uniform) {
      const double clip_lo = (static_cast<double>(p.qmin) - p.zero_point) * p.scale;
      const double clip_hi = (static_cast<double>(p.qmax) - p.zero_point) * p.scale;
      lo = std::min(lo, clip_lo), hi = std::max(hi, clip_hi);
    }
    c.values = histogram_of(bins, lo, hi);
    const double m = uniform ? std::max(a.metrics.max_abs_error, p.scale / 2) : a.metrics.max_abs_error;
    c.errors = histogram_of(bins, -m, m);
    for (size_t i = 0; i < n; ++i) {
      if (!kept(i)) continue;
      add(c.values, static_cast<double>(x[i]));
      add(c.errors, a.errors[i]);
    }
  }
  return c;
}

}  // namespace

template <class In>
ChartData chart_data(const In* x, size_t n, const Analysis& a, size_t buckets, size_t bins, bool uniform) {
  return chart_data_of<false>(x, n, a, buckets, bins, uniform);
}

template <class In>
ChartData chart_data_finite(const In* x, size_t n, const Analysis& a, size_t buckets, size_t bins, bool uniform) {
  return chart_data_of<true>(x, n, a, buckets, bins, uniform);
}

template ChartData chart_data<float>(const float*, size_t, const Analysis&, size_t, size_t, bool);
template ChartData chart_data<double>(const double*, size_t, const Analysis&, size_t, size_t, bool);
template ChartData chart_data_finite<float>(const float*, size_t, const Analysis&, size_t, size_t, bool);
template ChartData chart_data_finite<double>(const double*, size_t, const Analysis&, size_t, size_t, bool);

}  // namespace qe
