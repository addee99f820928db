// Chunked analysis of a tensor read in passes equals one analysis of the whole tensor:
// parameters, calibration, counts and the largest error's index exactly, the sums to 1e-12
// (chunks add their lanes in another order), for chunk sizes that do and do not line up with the
// kernels' blocks, channels or groups.
#include "stream.h"

#include "memory.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace qe;

namespace {

// x fed to a StreamAnalysis pass after pass, `chunk` values at a time.
template <class In>
Analysis streamed(const AnalyzeOptions& o, const std::vector<In>& x, size_t chunk, size_t gather_limit = size_t{1} << 22) {
  StreamAnalysis s(o, gather_limit);
  REQUIRE_FALSE(s.check());
  while (!s.done()) {
    REQUIRE(s.passes() <= 8);
    for (size_t at = 0; at < x.size(); at += chunk) REQUIRE_FALSE(s.add(x.data() + at, std::min(chunk, x.size() - at)));
    REQUIRE_FALSE(s.next());
  }
  return s.finish();
}

// What a streamed analysis must share with the whole tensor's.
void check_same(const Analysis& a, const Analysis& whole, double tol = 1e-12) {
  CHECK(a.params.scale == doctest::Approx(whole.params.scale).epsilon(1e-15));
  CHECK(a.params.zero_point == whole.params.zero_point);
  CHECK(a.calibration.method == whole.calibration.method);
  CHECK(a.calibration.range_min == whole.calibration.range_min);
  CHECK(a.calibration.range_max == whole.calibration.range_max);
  CHECK(a.calibration.threshold == whole.calibration.threshold);
  CHECK(a.metrics.clip_count == whole.metrics.clip_count);
  CHECK(a.metrics.tie_count == whole.metrics.tie_count);
  CHECK(a.metrics.max_abs_error == whole.metrics.max_abs_error);
  CHECK(a.metrics.max_abs_error_index == whole.metrics.max_abs_error_index);
  CHECK(a.metrics.mse == doctest::Approx(whole.metrics.mse).epsilon(tol));
  CHECK(a.metrics.sqnr_db == doctest::Approx(whole.metrics.sqnr_db).epsilon(tol));
  CHECK(a.metrics.uniform_noise == doctest::Approx(whole.metrics.uniform_noise).epsilon(1e-15));
  REQUIRE(a.groups.size() == whole.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    CAPTURE(g);
    CHECK(a.groups[g].params.scale == whole.groups[g].params.scale);
    CHECK(a.groups[g].params.zero_point == whole.groups[g].params.zero_point);
    CHECK(a.groups[g].sums.clip_count == whole.groups[g].sums.clip_count);
    CHECK(a.groups[g].sums.max_abs == whole.groups[g].sums.max_abs);
    CHECK(a.groups[g].sums.sum_err2 == doctest::Approx(whole.groups[g].sums.sum_err2).epsilon(tol));
  }
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

TEST_CASE("streaming: bad options, bad values named by their place in the whole tensor, a shape that does not fit") {
  AnalyzeOptions o;
  o.scheme.granularity = Granularity::Group;
  o.scheme.group_size = 0;
  CHECK(StreamAnalysis(o).check()->field == "groupSize");
  o.scheme.group_size = 4;
  o.scheme.calibration = Calibration::Percentile;
  CHECK(StreamAnalysis(o).check()->field == "calibration");
  o.scheme.calibration = Calibration::MinMax;
  CHECK_FALSE(StreamAnalysis(o).check());
  o.scheme.granularity = Granularity::Channel;
  CHECK(StreamAnalysis(o).check()->field == "shape");
  o.scheme.shape = {3, 2};
  o.scheme.axis = 2;
  CHECK(StreamAnalysis(o).check()->field == "axis");
  o.scheme.axis = 1;
  {
    StreamAnalysis s(o);
    REQUIRE_FALSE(s.check());
    const std::vector<double> seven = {1, 2, 3, 4, 5, 6, 7};
    CHECK_FALSE(s.add(seven.data(), 7));
    CHECK(s.next()->message == "Shape 3×2 holds 6 values, but there are 7 samples");
  }
  o.scheme.granularity = Granularity::Tensor;
  o.scheme.shape.clear();
  StreamAnalysis s(o);
  CHECK(std::string(s.pass()) == "range");
  const std::vector<double> a = {1, 2, 3}, b = {4, NAN, 6};
  CHECK_FALSE(s.add(a.data(), 3));
  const auto e = s.add(b.data(), 3);
  REQUIRE(e);
  CHECK(e->index == 4);
  CHECK(e->message == "Value 5 is NaN");
  StreamAnalysis empty(o);
  CHECK(empty.next()->message == "No samples: the tensor is empty");
}

TEST_CASE_TEMPLATE("streamed calibrations equal one analysis of the whole tensor", In, float, double) {
  // A heavy-tailed tensor with repeated values: the percentiles' buckets are crowded.
  std::mt19937 rng(9);
  std::student_t_distribution<double> d(3);
  std::vector<In> x(60013);
  for (auto& v : x) v = static_cast<In>(rng() % 5 == 0 ? std::round(d(rng) * 8) / 8 : d(rng) + 0.2);
  for (Calibration c : {Calibration::Percentile, Calibration::Mse, Calibration::Entropy}) {
    for (Mode mode : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned}) {
      for (Rounding rule : {Rounding::HalfEven, Rounding::Stochastic}) {
        AnalyzeOptions o;
        o.per_sample = false;
        o.scheme.bits = 4;
        o.scheme.mode = mode;
        o.scheme.calibration = c;
        o.scheme.rounding = rule;
        o.scheme.percentile = 99.9;
        o.scheme.seed = 5;
        const Analysis whole = std::get<Analysis>(analyze(x.data(), x.size(), o));
        // A small gathering limit makes the percentiles refine their buckets over more passes.
        for (size_t limit : {size_t{64}, size_t{1} << 22}) {
          const Analysis a = streamed(o, x, 7919, limit);
          const std::string name = to_string(c);
          CAPTURE(name);
          CAPTURE(static_cast<int>(mode));
          CAPTURE(limit);
          check_same(a, whole);
          CHECK(a.calibration.percentile == whole.calibration.percentile);
          CHECK(a.calibration.divergence == whole.calibration.divergence);
          CHECK(a.calibration.exact_candidates == whole.calibration.exact_candidates);
          CHECK(a.calibration.curve_value == whole.calibration.curve_value);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("streamed channels and groups equal one analysis of the whole tensor", In, float, double) {
  std::mt19937 rng(12);
  std::normal_distribution<double> d(0, 1);
  std::vector<In> x(6 * 10 * 64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<In>(d(rng) * (1 + static_cast<double>(i % 7)));
  struct Case {
    Granularity granularity;
    int axis;
    int64_t group_size;
    Profile profile;
  };
  const Case cases[] = {{Granularity::Channel, 0, 0, Profile::Formula},  {Granularity::Channel, 1, 0, Profile::Formula},
                        {Granularity::Channel, -1, 0, Profile::Formula}, {Granularity::Group, 0, 32, Profile::Formula},
                        {Granularity::Group, 0, 64, Profile::Formula},   {Granularity::Channel, 0, 0, Profile::PyTorch},
                        {Granularity::Channel, 2, 0, Profile::Onnx}};
  for (const Case& k : cases) {
    for (Rounding rule : {Rounding::HalfEven, Rounding::Stochastic}) {
      if (k.profile != Profile::Formula && rule != Rounding::HalfEven) continue;
      AnalyzeOptions o;
      o.per_sample = false;
      o.scheme.bits = 5;
      o.scheme.mode = Mode::Asymmetric;
      o.scheme.rounding = rule;
      o.scheme.granularity = k.granularity;
      o.scheme.axis = k.axis;
      o.scheme.group_size = k.group_size;
      o.scheme.profile = k.profile;
      o.scheme.shape = {6, 10, 64};
      const Analysis whole = std::get<Analysis>(analyze(x.data(), x.size(), o));
      for (size_t chunk : {size_t{1}, size_t{333}, size_t{4096}, x.size()}) {
        CAPTURE(static_cast<int>(k.granularity));
        CAPTURE(k.axis);
        CAPTURE(k.group_size);
        CAPTURE(static_cast<int>(k.profile));
        CAPTURE(chunk);
        check_same(streamed(o, x, chunk), whole);
      }
    }
  }
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

TEST_CASE("more channels or groups than memory holds: an error naming the option, before any value is read") {
  // 2^38 groups of one value (2^30 on 32-bit targets): their records need far more than the
  // largest block. With the shape, check() says so before the first chunk; analyze() says so
  // before it reads a sample.
  const int k = sizeof(size_t) == 8 ? 38 : 30;
  const size_t count = size_t{1} << k;
  AnalyzeOptions o;
  o.scheme.granularity = Granularity::Group;
  o.scheme.group_size = 1;
  o.scheme.shape = {static_cast<int64_t>(count)};
  const std::string mb = megabytes_text(std::ldexp(static_cast<double>(sizeof(SampleScan) + 2 * sizeof(GroupResult)), k));
  const auto e = StreamAnalysis(o).check();
  REQUIRE(e);
  CHECK(e->field == "groupSize");
  CHECK(e->message == "Not enough memory for " + grouped_digits(count) + " groups (" + mb + "): choose a larger group size");
  o.scheme.granularity = Granularity::Channel;
  o.scheme.shape = {static_cast<int64_t>(count), 1};
  const auto c = StreamAnalysis(o).check();
  REQUIRE(c);
  CHECK(c->field == "axis");
  CHECK(c->message == "Not enough memory for " + grouped_digits(count) + " channels (" + mb + ")");
  // The analysis of the whole tensor: the same check comes before any sample is read (x is never touched).
  o.scheme.granularity = Granularity::Group;
  o.scheme.shape.clear();
  const float* never = reinterpret_cast<const float*>(alignof(float));
  const auto r = analyze(never, count, o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).field == "groupSize");
}

TEST_CASE("every pass brings the first pass's values: more or fewer is an error, not a result") {
  AnalyzeOptions o;
  const std::vector<double> x = {1, -2, 3, 0.5, -0.25, 4};
  StreamAnalysis fewer(o);
  REQUIRE_FALSE(fewer.add(x.data(), 6));
  REQUIRE_FALSE(fewer.next());
  REQUIRE_FALSE(fewer.add(x.data(), 5));
  const auto e = fewer.next();
  REQUIRE(e);
  CHECK(e->message == "Pass 2 (quantization) had 5 values, the first pass 6: every pass takes the same chunks in the same order");
  StreamAnalysis more(o);
  REQUIRE_FALSE(more.add(x.data(), 5));
  REQUIRE_FALSE(more.next());
  REQUIRE_FALSE(more.add(x.data(), 3));
  const auto m = more.add(x.data() + 3, 3);
  REQUIRE(m);
  CHECK(m->message == "Pass 2 (quantization) has more values than the first pass's 5: every pass takes the same chunks in the same order");
}
