// Per-channel and per-group quantization: each channel or group must give exactly what a
// per-tensor analysis of its own samples gives, and bad layouts are errors naming their field.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "analyze.h"

using namespace qe;

namespace {

template <class T> T get(Result<T> r) {
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->field << ": " << e->message);
  return std::get<T>(std::move(r));
}

Error error_of(const std::vector<double>& x, const QuantScheme& s) {
  AnalyzeOptions o;
  o.scheme = s;
  auto r = analyze(x.data(), x.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

std::vector<double> data(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0, 1);
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = d(rng) * (1 + static_cast<double>(i % 7));
  return x;
}

}  // namespace

TEST_CASE("per-group: every group as its own per-tensor analysis") {
  const auto x = data(1024, 1);
  for (Mode mode : {Mode::Symmetric, Mode::Asymmetric}) {
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      AnalyzeOptions o;
      o.kernel = k;
      o.scheme.bits = 4;
      o.scheme.mode = mode;
      o.scheme.granularity = Granularity::Group;
      o.scheme.group_size = 32;
      o.scheme.shape = {8, 128};
      const Analysis a = get(analyze(x.data(), x.size(), o));
      REQUIRE(a.groups.size() == 32);
      double sum_err2 = 0;
      for (size_t g = 0; g < 32; ++g) {
        AnalyzeOptions one;
        one.kernel = k;
        one.scheme.bits = 4;
        one.scheme.mode = mode;
        const Analysis b = get(analyze(x.data() + g * 32, 32, one));
        CAPTURE(g);
        CHECK(a.groups[g].params.scale == b.params.scale);
        CHECK(a.groups[g].params.zero_point == b.params.zero_point);
        CHECK(a.groups[g].sums.sum_err2 == doctest::Approx(b.metrics.mse * 32).epsilon(1e-12));
        for (size_t i = 0; i < 32; ++i) CHECK(a.codes[g * 32 + i] == b.codes[i]);
        sum_err2 += a.groups[g].sums.sum_err2;
      }
      CHECK(a.metrics.mse == doctest::Approx(sum_err2 / 1024).epsilon(1e-12));
      size_t first_max = 0;
      for (size_t i = 0; i < a.errors.size(); ++i)
        if (std::fabs(a.errors[i]) > std::fabs(a.errors[first_max])) first_max = i;
      CHECK(a.metrics.max_abs_error_index == static_cast<int64_t>(first_max));
      CHECK(a.metrics.max_abs_error == std::fabs(a.errors[first_max]));
      // Finer groups never lose to one range for the whole tensor.
      AnalyzeOptions whole = o;
      whole.scheme.granularity = Granularity::Tensor;
      CHECK(a.metrics.mse <= get(analyze(x.data(), x.size(), whole)).metrics.mse);
    }
  }
}

TEST_CASE("per-channel along any axis: channel c holds the samples with index c on that axis") {
  const auto x = data(2 * 3 * 4, 2);
  for (int axis : {0, 1, 2, -1}) {
    AnalyzeOptions o;
    o.scheme.mode = Mode::Asymmetric;
    o.scheme.granularity = Granularity::Channel;
    o.scheme.shape = {2, 3, 4};
    o.scheme.axis = axis;
    const Analysis a = get(analyze(x.data(), x.size(), o));
    const int ax = axis < 0 ? axis + 3 : axis;
    const size_t channels = static_cast<size_t>(o.scheme.shape[static_cast<size_t>(ax)]);
    REQUIRE(a.groups.size() == channels);
    for (size_t c = 0; c < channels; ++c) {
      std::vector<double> mine;
      std::vector<size_t> where;
      for (size_t i = 0; i < 2; ++i)
        for (size_t j = 0; j < 3; ++j)
          for (size_t k = 0; k < 4; ++k) {
            const size_t idx[3] = {i, j, k};
            if (idx[ax] == c) mine.push_back(x[(i * 3 + j) * 4 + k]), where.push_back((i * 3 + j) * 4 + k);
          }
      AnalyzeOptions one;
      one.scheme.mode = Mode::Asymmetric;
      const Analysis b = get(analyze(mine.data(), mine.size(), one));
      CAPTURE(axis);
      CAPTURE(c);
      CHECK(a.groups[c].params.scale == b.params.scale);
      CHECK(a.groups[c].params.range_min == b.params.range_min);
      for (size_t m = 0; m < mine.size(); ++m) CHECK(a.codes[where[m]] == b.codes[m]);
    }
    size_t first_max = 0;
    for (size_t i = 0; i < a.errors.size(); ++i)
      if (std::fabs(a.errors[i]) > std::fabs(a.errors[first_max])) first_max = i;
    CHECK(a.metrics.max_abs_error_index == static_cast<int64_t>(first_max));
  }
}

TEST_CASE("bad layouts name their field") {
  const std::vector<double> x(100, 1.0);
  QuantScheme s;
  s.shape = {64, 3, 3, 3};
  Error e = error_of(x, s);
  CHECK(e.field == "shape");
  CHECK(e.message == "Shape 64×3×3×3 holds 1728 values, but there are 100 samples");
  s.shape = {10, 0};
  CHECK(error_of(x, s).field == "shape");
  s = QuantScheme{};
  s.granularity = Granularity::Channel;
  CHECK(error_of(x, s).message == "Per-channel quantization needs the tensor's shape, such as 64,3,3,3");
  s.shape = {10, 10};
  s.axis = 2;
  CHECK(error_of(x, s).field == "axis");
  s = QuantScheme{};
  s.granularity = Granularity::Group;
  s.group_size = 32;
  e = error_of(x, s);
  CHECK(e.field == "groupSize");
  CHECK(e.message == "Group size 32 does not divide the last dimension (100)");
  s.group_size = 0;
  CHECK(error_of(x, s).field == "groupSize");
  s.group_size = 10;
  s.calibration = Calibration::Entropy;
  CHECK(error_of(x, s).field == "calibration");
  s.calibration = Calibration::MinMax;
  s.range = Range{-1, 1};
  CHECK(error_of(x, s).field == "range.min");
}
