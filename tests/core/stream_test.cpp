// Chunked analysis of a tensor read twice equals one analysis of the whole tensor: parameters,
// counts and the largest error's index exactly, the sums to 1e-12 (chunks add their lanes in
// another order), for chunk sizes that do and do not line up with the kernels' blocks.
#include "stream.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace qe;

namespace {

// x fed to a StreamAnalysis twice, `chunk` values at a time.
template <class In>
Analysis streamed(const AnalyzeOptions& o, const std::vector<In>& x, size_t chunk) {
  StreamAnalysis s(o);
  REQUIRE_FALSE(s.check());
  for (size_t at = 0; at < x.size(); at += chunk) REQUIRE_FALSE(s.scan(x.data() + at, std::min(chunk, x.size() - at)));
  REQUIRE_FALSE(s.start());
  for (size_t at = 0; at < x.size(); at += chunk) s.quantize(x.data() + at, std::min(chunk, x.size() - at));
  return s.finish();
}

}  // namespace

TEST_CASE_TEMPLATE("streamed chunks equal one analysis of the whole tensor", In, float, double) {
  std::mt19937 rng(4);
  std::normal_distribution<double> d(0.3, 2);
  std::vector<In> x(100003);
  for (auto& v : x) v = static_cast<In>(d(rng));
  for (Rounding rule : {Rounding::HalfEven, Rounding::Stochastic, Rounding::Floor}) {
    for (Arithmetic arith : {Arithmetic::Float64, Arithmetic::Float32}) {
      for (int variant = 0; variant < 3; ++variant) {
        AnalyzeOptions o;
        o.per_sample = false;
        o.scheme.bits = 6;
        o.scheme.mode = variant == 1 ? Mode::Symmetric : Mode::Asymmetric;
        o.scheme.rounding = rule;
        o.scheme.arithmetic = arith;
        o.scheme.seed = 77;
        if (variant == 2) o.scheme.range = Range{-3, 2.5};
        const Analysis whole = std::get<Analysis>(analyze(x.data(), x.size(), o));
        for (size_t chunk : {size_t{1000}, size_t{4096}, size_t{65536}, x.size()}) {
          const Analysis a = streamed(o, x, chunk);
          CAPTURE(chunk);
          CAPTURE(variant);
          CHECK(a.params.scale == whole.params.scale);
          CHECK(a.params.zero_point == whole.params.zero_point);
          CHECK(a.metrics.clip_count == whole.metrics.clip_count);
          CHECK(a.metrics.tie_count == whole.metrics.tie_count);
          CHECK(a.metrics.max_abs_error == whole.metrics.max_abs_error);
          CHECK(a.metrics.max_abs_error_index == whole.metrics.max_abs_error_index);
          const double tol = arith == Arithmetic::Float32 && std::is_same_v<In, float> ? 1e-6 : 1e-12;
          CHECK(a.metrics.mse == doctest::Approx(whole.metrics.mse).epsilon(tol));
          CHECK(a.metrics.sqnr_db == doctest::Approx(whole.metrics.sqnr_db).epsilon(tol));
          CHECK(a.metrics.mean_error == doctest::Approx(whole.metrics.mean_error).epsilon(1e-9));
        }
      }
    }
  }
}

TEST_CASE("streaming: what it refuses, and bad values named by their place in the whole tensor") {
  AnalyzeOptions o;
  o.scheme.calibration = Calibration::Percentile;
  CHECK(StreamAnalysis(o).check()->message == "This tensor is read in chunks, which does not support calibrations other than min-max yet");
  o.scheme.calibration = Calibration::MinMax;
  o.scheme.format = NumberFormat::Nf4;
  CHECK_FALSE(StreamAnalysis(o).check());
  o.scheme.granularity = Granularity::Group;
  CHECK(StreamAnalysis(o).check()->field == "granularity");
  o.scheme.granularity = Granularity::Tensor;
  o.scheme.format = NumberFormat::Int;
  StreamAnalysis s(o);
  const std::vector<double> a = {1, 2, 3}, b = {4, NAN, 6};
  CHECK_FALSE(s.scan(a.data(), 3));
  const auto e = s.scan(b.data(), 3);
  REQUIRE(e);
  CHECK(e->index == 4);
  CHECK(e->message == "Value 5 is NaN");
  StreamAnalysis empty(o);
  CHECK(empty.start()->message == "No samples: the tensor is empty");
}

TEST_CASE_TEMPLATE("streamed float and block formats equal one analysis of the whole tensor", In, float, double) {
  std::mt19937 rng(6);
  std::normal_distribution<double> d(0, 3);
  std::vector<In> x(70001);
  for (auto& v : x) v = static_cast<In>(d(rng) * (rng() % 97 == 0 ? 300 : 1));
  for (NumberFormat f : {NumberFormat::Fp8E4m3, NumberFormat::Fp16, NumberFormat::Mxfp4, NumberFormat::Nvfp4, NumberFormat::Nf4}) {
    for (bool amax : {false, true}) {
      AnalyzeOptions o;
      o.per_sample = false;
      o.scheme.format = f;
      o.scheme.format_scale = amax && !is_block_format(f) ? QuantScheme::FormatScale::Amax : QuantScheme::FormatScale::None;
      const Analysis whole = std::get<Analysis>(analyze(x.data(), x.size(), o));
      for (size_t chunk : {size_t{4096}, size_t{65536}}) {
        const Analysis a = streamed(o, x, chunk);
        const std::string name = to_string(f);
        CAPTURE(name);
        CAPTURE(chunk);
        CHECK(a.params.scale == whole.params.scale);
        CHECK(a.format_counts.overflow == whole.format_counts.overflow);
        CHECK(a.format_counts.subnormal == whole.format_counts.subnormal);
        CHECK(a.metrics.max_abs_error == whole.metrics.max_abs_error);
        CHECK(a.metrics.max_abs_error_index == whole.metrics.max_abs_error_index);
        CHECK(a.metrics.mse == doctest::Approx(whole.metrics.mse).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("streamed runtime profiles equal one analysis of the whole tensor") {
  std::vector<float> x(50001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * 2 + 0.4);
  for (Profile p : {Profile::PyTorch, Profile::Onnx}) {
    for (Mode mode : {Mode::Symmetric, Mode::Asymmetric}) {
      AnalyzeOptions o;
      o.per_sample = false;
      o.scheme.profile = p;
      o.scheme.mode = mode;
      o.scheme.dtype = QDtype::UInt8;
      const Analysis whole = std::get<Analysis>(analyze(x.data(), x.size(), o));
      const Analysis a = streamed(o, x, size_t{8192});
      CHECK(a.params.scale == whole.params.scale);
      CHECK(a.params.zero_point == whole.params.zero_point);
      CHECK(a.metrics.clip_count == whole.metrics.clip_count);
      CHECK(a.metrics.max_abs_error_index == whole.metrics.max_abs_error_index);
      CHECK(a.metrics.mse == doctest::Approx(whole.metrics.mse).epsilon(1e-12));
    }
  }
}
