// Chart reductions against a direct reading of the per-sample outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "charts.h"

using namespace qe;

TEST_CASE("per-bucket min/max and histograms cover every sample") {
  std::vector<double> x(1003);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<double>(i) * 0.05) * 3 + (i == 500 ? 9 : 0);
  AnalyzeOptions o;
  o.scheme.bits = 4;
  o.scheme.mode = Mode::Asymmetric;
  o.scheme.range = Range{-2, 2};
  const Analysis a = std::get<Analysis>(analyze(x.data(), x.size(), o));
  const ChartData c = chart_data(x.data(), x.size(), a, 100, 32);
  REQUIRE(c.x_min.size() == 100);
  for (size_t b = 0; b < 100; ++b) {
    const size_t begin = b * x.size() / 100, end = (b + 1) * x.size() / 100;
    CHECK(c.x_min[b] == *std::min_element(x.begin() + long(begin), x.begin() + long(end)));
    CHECK(c.x_max[b] == *std::max_element(x.begin() + long(begin), x.begin() + long(end)));
    CHECK(c.err_max[b] == *std::max_element(a.errors.begin() + long(begin), a.errors.begin() + long(end)));
    CHECK(c.xhat_min[b] == *std::min_element(a.dequantized_f64.begin() + long(begin), a.dequantized_f64.begin() + long(end)));
  }
  CHECK(std::accumulate(c.values.counts.begin(), c.values.counts.end(), size_t{0}) == x.size());
  CHECK(std::accumulate(c.errors.counts.begin(), c.errors.counts.end(), size_t{0}) == x.size());
  CHECK(c.values.lo == *std::min_element(x.begin(), x.end()));  // the data's minimum (the clip limits lie inside)
  CHECK(c.values.hi == *std::max_element(x.begin(), x.end()));
  CHECK(c.errors.hi == a.metrics.max_abs_error);
  CHECK(c.errors.lo == -c.errors.hi);
  // More buckets than samples: one per sample.
  const Analysis a7 = std::get<Analysis>(analyze(x.data(), 7, o));
  const ChartData small = chart_data(x.data(), 7, a7, 100, 0);
  CHECK(small.x_min.size() == 7);
  CHECK(small.values.counts.empty());
}

TEST_CASE("a float format's histograms span the samples and the errors, not its codes") {
  // Its params hold codes (0 … 255 for FP8), which are no range of values.
  const std::vector<double> x = {-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46};
  AnalyzeOptions o;
  o.scheme.format = NumberFormat::Fp8E4m3;
  const Analysis a = std::get<Analysis>(analyze(x.data(), x.size(), o));
  const ChartData c = chart_data(x.data(), x.size(), a, 100, 16, false);
  CHECK(c.values.lo == -1.25);
  CHECK(c.values.hi == 1.46);
  CHECK(a.metrics.max_abs_error > 0);
  CHECK(c.errors.hi == a.metrics.max_abs_error);
  CHECK(c.errors.lo == -a.metrics.max_abs_error);
  CHECK(std::accumulate(c.values.counts.begin(), c.values.counts.end(), size_t{0}) == x.size());
  CHECK(std::accumulate(c.errors.counts.begin(), c.errors.counts.end(), size_t{0}) == x.size());
}
