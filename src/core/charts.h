// What the charts draw, reduced in the core so a million samples become a few thousand numbers:
// min/max of x, x_hat and e per bucket of consecutive samples (one bucket ≈ one pixel column),
// and histograms of the values and of the errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "analyze.h"

namespace qe {

struct Histogram {
  double lo = 0, hi = 0;  // bin i covers [lo + i·w, lo + (i+1)·w), w = (hi − lo) / bins; hi is in the last
  std::vector<uint32_t> counts;
};

struct ChartData {
  std::vector<double> x_min, x_max, xhat_min, xhat_max, err_min, err_max;  // per bucket
  // An integer grid's histograms (uniform): the values over the samples' range joined with the
  // quantizer's [(qmin−zp)·s, (qmax−zp)·s], the errors over [−m, m], m = max(max |e|, scale / 2).
  // A float or block format has no such range or step (its params hold codes, not levels): the
  // samples' range and [−max |e|, max |e|].
  Histogram values;
  Histogram errors;
};

// Needs the analysis' per-sample outputs. Bucket b holds samples [⌊b·n/B⌋, ⌊(b+1)·n/B⌋), B =
// min(buckets, n).
template <class In>
ChartData chart_data(const In* x, size_t n, const Analysis& a, size_t buckets, size_t bins, bool uniform = true);

// The same for an analysis that skipped NaN and ±Inf (NonFinite::Skip): those samples are left
// out, and a bucket with no other holds NaN.
template <class In>
ChartData chart_data_finite(const In* x, size_t n, const Analysis& a, size_t buckets, size_t bins, bool uniform = true);

}  // namespace qe
