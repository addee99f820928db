// Metrics carry the samples' extremes and Σx² (data_min, data_max, sum_x2), as every path of
// analyze() and the stream measured them, so callers that sum SQNR over many tensors or report
// a tensor's range (the command line) need no pass of their own.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "analyze.h"
#include "formats.h"
#include "stream.h"

using namespace qe;

namespace {

std::vector<float> samples(size_t n) {
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  x[n / 3] = 9.5f;  // one outlier each way
  x[n / 2] = -7.25f;
  return x;
}

// Σx² in double, and the extremes of the finite values.
void expect_data(const Metrics& m, const std::vector<float>& x, double relative) {
  double lo = INFINITY, hi = -INFINITY, x2 = 0;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, double(v)), hi = std::max(hi, double(v)), x2 += double(v) * double(v);
  }
  CHECK(m.data_min == lo);
  CHECK(m.data_max == hi);
  CHECK(std::fabs(m.sum_x2 - x2) <= relative * x2);
}

}  // namespace

TEST_CASE(
    "every path reports the data's extremes and Σx²: integer, groups, channels, formats, profiles, ggml's types, the "
    "stream, skipped NaN") {
  const std::vector<float> x = samples(4096 * 4);
  std::vector<QuantScheme> schemes;
  QuantScheme s;
  schemes.push_back(s);  // per tensor, min-max
  s.calibration = Calibration::Percentile;
  schemes.push_back(s);
  s = {};
  s.granularity = Granularity::Group, s.group_size = 128, s.shape = {4, 4096};
  schemes.push_back(s);
  s = {};
  s.granularity = Granularity::Channel, s.shape = {4, 4096};
  schemes.push_back(s);
  s = {};
  s.format = *parse_format("fp8-e4m3");
  schemes.push_back(s);
  s = {};
  s.format = *parse_format("mxfp4");
  schemes.push_back(s);
  s = {};
  s.profile = Profile::Onnx, s.mode = Mode::Asymmetric, s.dtype = QDtype::UInt8;
  schemes.push_back(s);
  s = {};
  REQUIRE(select_ggml_format(s, "q4_k"));
  s.shape = {4, 4096};
  schemes.push_back(s);
  for (const QuantScheme& scheme : schemes) {
    for (Arithmetic arithmetic : {Arithmetic::Float64, Arithmetic::Float32}) {
      AnalyzeOptions o;
      o.scheme = scheme;
      o.scheme.arithmetic =
          scheme.format == NumberFormat::Int && scheme.profile == Profile::Formula ? arithmetic : scheme.arithmetic;
      o.per_sample = false;
      CAPTURE(to_string(o.scheme.format));
      CAPTURE(static_cast<int>(o.scheme.granularity));
      auto r = analyze(x.data(), x.size(), o);
      REQUIRE(std::holds_alternative<Analysis>(r));
      // float32 arithmetic sums in float32 blocks: about 1e-7 relative.
      expect_data(std::get<Analysis>(r).metrics, x, o.scheme.arithmetic == Arithmetic::Float32 ? 1e-6 : 1e-12);
    }
  }
  SUBCASE("the stream, and NaN and ±Inf skipped") {
    std::vector<float> holes = x;
    holes[5] = NAN, holes[700] = INFINITY, holes[9000] = -INFINITY;
    AnalyzeOptions o;
    o.per_sample = false;
    o.non_finite = NonFinite::Skip;
    auto r = analyze(holes.data(), holes.size(), o);
    REQUIRE(std::holds_alternative<Analysis>(r));
    expect_data(std::get<Analysis>(r).metrics, holes, 1e-12);
    StreamAnalysis st(o);
    REQUIRE_FALSE(st.check());
    while (!st.done()) {
      for (size_t at = 0; at < holes.size(); at += 1000)
        REQUIRE_FALSE(st.add(holes.data() + at, std::min<size_t>(1000, holes.size() - at)));
      REQUIRE_FALSE(st.next());
    }
    expect_data(st.finish().metrics, holes, 1e-12);
  }
}
