// analyze(): parameters, metrics and the properties the theory promises, plus every bad option.
#include "analyze.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "rounding.h"

using namespace qe;

namespace {

template <class In>
Analysis ok(const std::vector<In>& x, const QuantScheme& s, Kernel k = Kernel::Auto) {
  AnalyzeOptions o;
  o.scheme = s;
  o.kernel = k;
  auto r = analyze(x.data(), x.size(), o);
  if (auto* e = std::get_if<Error>(&r)) FAIL("unexpected error: " << e->field << ": " << e->message);
  return std::get<Analysis>(std::move(r));
}

template <class In>
Error fails(const std::vector<In>& x, const QuantScheme& s) {
  AnalyzeOptions o;
  o.scheme = s;
  auto r = analyze(x.data(), x.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

std::vector<double> uniform(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> x(n);
  for (double& v : x) v = d(rng);
  return x;
}

}  // namespace

TEST_CASE("code ranges of the three modes") {
  int32_t lo, hi;
  mode_code_range(Mode::Symmetric, 8, lo, hi);
  CHECK((lo == -127 && hi == 127));
  mode_code_range(Mode::Asymmetric, 8, lo, hi);
  CHECK((lo == -128 && hi == 127));
  mode_code_range(Mode::AsymmetricUnsigned, 8, lo, hi);
  CHECK((lo == 0 && hi == 255));
  mode_code_range(Mode::Symmetric, 2, lo, hi);
  CHECK((lo == -1 && hi == 1));
  mode_code_range(Mode::AsymmetricUnsigned, 16, lo, hi);
  CHECK((lo == 0 && hi == 65535));
}

TEST_CASE("|error| <= step/2 for every unclipped sample under the nearest rules") {
  const auto x = uniform(20000, -3, 5, 1);
  for (Mode mode : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned}) {
    for (Rounding rule : {Rounding::HalfEven, Rounding::HalfAway, Rounding::HalfUp}) {
      for (Arithmetic arith : {Arithmetic::Float64, Arithmetic::Float32}) {
        for (int bits : {2, 4, 8, 16}) {
          QuantScheme s;
          s.bits = bits;
          s.mode = mode;
          s.rounding = rule;
          s.arithmetic = arith;
          s.range = Range{-2, 4};  // narrower than the data: some samples clip
          const Analysis a = ok(x, s);
          // float32 arithmetic rounds x/scale and x_hat: allow those few ulps.
          const double slack = arith == Arithmetic::Float32 ? 8 * 6.0 * std::ldexp(1.0, -24) : 1e-12;
          size_t unclipped = 0;
          for (size_t i = 0; i < x.size(); ++i) {
            if (a.clipped[i]) continue;
            ++unclipped;
            if (std::fabs(a.errors[i]) > a.params.scale / 2 + slack) {
              CAPTURE(i);
              CAPTURE(x[i]);
              FAIL_CHECK("error above half a step: " << a.errors[i]);
              break;
            }
          }
          CHECK(unclipped > 0);
          CHECK(a.metrics.clip_count == x.size() - unclipped);
        }
      }
    }
  }
}

TEST_CASE("SQNR of uniform full-range data grows about 6.02 dB per bit") {
  const auto x = uniform(200000, -1, 1, 2);
  double previous = 0;
  for (int bits = 4; bits <= 16; ++bits) {
    QuantScheme s;
    s.bits = bits;
    s.mode = Mode::Asymmetric;
    const double sqnr = ok(x, s).metrics.sqnr_db;
    if (bits > 6) CHECK(sqnr - previous == doctest::Approx(6.02).epsilon(0.03));
    // Theory for a full-scale uniform signal on [-1, 1]: signal power 1/3, noise Δ²/12 with
    // Δ = 2/(2^b − 1), so SQNR = 20·log10(2^b − 1) ≈ 6.02·b dB.
    CHECK(sqnr == doctest::Approx(20 * std::log10(std::ldexp(1.0, bits) - 1)).epsilon(0.005));
    previous = sqnr;
  }
}

TEST_CASE("stochastic rounding is unbiased over many trials") {
  const std::vector<double> x(4000, 0.3);  // each sample: 0 or 1 with P(1) = 0.3
  double mean_code = 0;
  const int trials = 50;
  for (int t = 0; t < trials; ++t) {
    QuantScheme s;
    s.rounding = Rounding::Stochastic;
    s.seed = static_cast<uint64_t>(t) * 7919;
    s.scale = 1;
    const Analysis a = ok(x, s);
    for (int32_t c : a.codes) mean_code += c;
  }
  mean_code /= trials * static_cast<double>(x.size());
  // 200,000 Bernoulli(0.3) draws: standard error 0.001.
  CHECK(mean_code == doctest::Approx(0.3).epsilon(0.02));
  QuantScheme s;
  s.rounding = Rounding::Stochastic;
  s.scale = 1;
  s.seed = 5;
  CHECK(ok(x, s).codes == ok(x, s).codes);  // reproducible for a seed
  CHECK(ok(x, s, Kernel::Scalar).codes == ok(x, s, Kernel::Simd).codes);
}

TEST_CASE("the deterministic rules on ties and off them") {
  const std::vector<double> x = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.25, 1.75};
  const std::vector<std::pair<Rounding, std::vector<int32_t>>> expected = {
      {Rounding::HalfEven, {-2, -2, 0, 0, 2, 2, -1, 2}}, {Rounding::HalfAway, {-3, -2, -1, 1, 2, 3, -1, 2}},
      {Rounding::HalfUp, {-2, -1, 0, 1, 2, 3, -1, 2}},   {Rounding::Floor, {-3, -2, -1, 0, 1, 2, -2, 1}},
      {Rounding::Ceil, {-2, -1, 0, 1, 2, 3, -1, 2}},     {Rounding::TowardZero, {-2, -1, 0, 0, 1, 2, -1, 1}}};
  for (const auto& entry : expected) {
    const Rounding rule = entry.first;
    const std::vector<int32_t>& codes = entry.second;
    for (Arithmetic arith : {Arithmetic::Float64, Arithmetic::Float32}) {
      QuantScheme s;
      s.rounding = rule;
      s.arithmetic = arith;
      s.scale = 1;
      const Analysis a = ok(x, s);
      const std::string rule_name = to_string(rule);
      CAPTURE(rule_name);
      CHECK(a.codes == codes);
      CHECK(a.metrics.tie_count == 6);
      CHECK(round_with(rule, 2.5) == codes[5]);
    }
  }
}

TEST_CASE("exact rounding where x + 0.5 would go wrong") {
  CHECK(round_half_up(0.49999999999999994) == 0.0);
  CHECK(round_half_away(-0.49999999999999994) == 0.0);
  CHECK(round_half_away(4503599627370497.0) == 4503599627370497.0);
  CHECK(round_half_up(-2.5f) == -2.0f);
}

TEST_CASE("degenerate ranges have a defined result") {
  SUBCASE("all samples equal: the range widens to include zero") {
    for (Mode mode : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned}) {
      QuantScheme s;
      s.mode = mode;
      const Analysis a = ok(std::vector<double>{0.7, 0.7, 0.7}, s);
      CHECK(a.params.range_min == 0);
      CHECK(a.params.range_max == 0.7);
      CHECK(a.metrics.max_abs_error <= a.params.scale / 2);
      CHECK_FALSE(std::isnan(a.metrics.sqnr_db));
    }
    QuantScheme s;
    s.mode = Mode::Asymmetric;
    const Analysis neg = ok(std::vector<double>{-2, -2}, s);
    CHECK(neg.params.range_min == -2);
    CHECK(neg.params.range_max == 0);
    CHECK(neg.metrics.mse == 0);
    CHECK(neg.metrics.sqnr_db == std::numeric_limits<double>::infinity());
  }
  SUBCASE("all zero: scale 1, exact, SQNR undefined") {
    for (Mode mode : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned}) {
      QuantScheme s;
      s.mode = mode;
      const Analysis a = ok(std::vector<double>{0, 0, 0, 0, 0}, s);
      CHECK(a.params.scale == 1);
      CHECK(a.metrics.mse == 0);
      CHECK(std::isnan(a.metrics.sqnr_db));
      CHECK(std::isnan(a.metrics.psnr_db));
      CHECK(std::isnan(a.metrics.cosine));
      CHECK(a.metrics.codes_used == 1);
      CHECK(a.metrics.code_entropy_bits == 0);
      for (double xh : a.dequantized_f64) CHECK(xh == 0);
    }
  }
}

TEST_CASE("lossless data gives SQNR +inf and cosine 1") {
  QuantScheme s;
  s.scale = 0.25;
  const Analysis a = ok(std::vector<float>{-1, -0.5f, 0.25f, 2}, s);
  CHECK(a.metrics.sqnr_db == std::numeric_limits<double>::infinity());
  CHECK(a.metrics.psnr_db == std::numeric_limits<double>::infinity());
  CHECK(a.metrics.cosine == doctest::Approx(1.0));
  CHECK(a.metrics.codes_used == 4);
  CHECK(a.metrics.code_entropy_bits == doctest::Approx(2.0));
}

TEST_CASE("float32 arithmetic keeps float32 reconstructions and measures against x as given") {
  const std::vector<double> x = {0.1, -0.3, 0.7};
  QuantScheme s;
  s.arithmetic = Arithmetic::Float32;
  s.range = Range{-1, 1};
  const Analysis a = ok(x, s);
  CHECK(a.dequantized_f64.empty());
  REQUIRE(a.dequantized_f32.size() == 3);
  CHECK(a.params.scale == static_cast<double>(static_cast<float>(1.0 / 127)));
  for (size_t i = 0; i < x.size(); ++i) CHECK(a.errors[i] == x[i] - static_cast<double>(a.dequantized_f32[i]));
}

TEST_CASE("median and 95th percentile of |error| interpolate linearly") {
  std::vector<double> v = {4, 1, 3, 2};  // sorted 1 2 3 4: median 2.5, p95 at 2.85 → 3.85
  CHECK(percentile_linear(v.data(), v.size(), 0.5) == doctest::Approx(2.5));
  CHECK(percentile_linear(v.data(), v.size(), 0.95) == doctest::Approx(3.85));
  // The radix form over |e| agrees with plain selection, on spread values, on many equal ones
  // and on values that share one bucket.
  for (int kind = 0; kind < 3; ++kind) {
    std::vector<double> e(10001);
    for (size_t i = 0; i < e.size(); ++i) {
      const double u = static_cast<double>((i * 7919) % 10001) / 10001;
      e[i] = (i % 2 ? -1 : 1) * (kind == 0 ? u * u * 3 : kind == 1 ? std::round(u * 4) : 1 + u / 1024);
    }
    std::vector<double> a(e.size());
    for (size_t i = 0; i < e.size(); ++i) a[i] = std::fabs(e[i]);
    const double ps[] = {0, 0.5, 0.95, 0.999, 1};
    double out[5];
    quantiles(e.data(), e.size(), true, ps, out, 5);
    double signed_out[5];
    quantiles(e.data(), e.size(), false, ps, signed_out, 5);
    for (int k = 0; k < 5; ++k) {
      std::vector<double> copy = a, raw = e;
      CAPTURE(kind);
      CAPTURE(k);
      CHECK(out[k] == percentile_linear(copy.data(), copy.size(), ps[k]));
      CHECK(signed_out[k] == percentile_linear(raw.data(), raw.size(), ps[k]));
    }
  }
  std::vector<double> one = {7};
  CHECK(percentile_linear(one.data(), 1, 0.95) == 7);
}

TEST_CASE("QuantileStream: bounded gathering and chunked passes give the order statistics a sort gives") {
  // Spread values, many equal ones, values within one 16-bit bucket, ±0 and subnormals.
  for (int kind = 0; kind < 4; ++kind) {
    std::vector<double> e(20011);
    for (size_t i = 0; i < e.size(); ++i) {
      const double u = static_cast<double>((i * 7919) % 20011) / 20011;
      const double sign = i % 3 ? -1 : 1;
      e[i] = sign * (kind == 0 ? u * u * 3 : kind == 1 ? std::round(u * 4) : kind == 2 ? 1 + u / (1 << 20) : (i % 5 ? 0.0 : u * 1e-310));
    }
    const std::vector<double> ps = {0, 0.0001, 0.25, 0.5, 0.5, 0.95, 0.9999, 1};
    for (bool absolute : {false, true}) {
      std::vector<double> want;
      for (double p : ps) {
        std::vector<double> v = e;
        if (absolute)
          for (double& x : v) x = std::fabs(x);
        want.push_back(percentile_linear(v.data(), v.size(), p));
      }
      for (size_t limit : {size_t{0}, size_t{1}, size_t{100}, SIZE_MAX}) {
        for (size_t chunk : {size_t{997}, e.size()}) {
          QuantileStream q(e.size(), absolute, ps, limit);
          int passes = 0;
          while (!q.done()) {
            for (size_t at = 0; at < e.size(); at += chunk) q.add(e.data() + at, std::min(chunk, e.size() - at));
            q.next();
            REQUIRE(++passes <= 5);  // four 16-bit digits, then one gathering
          }
          const std::vector<double> got = q.values();
          CAPTURE(kind);
          CAPTURE(absolute);
          CAPTURE(limit);
          for (size_t k = 0; k < ps.size(); ++k) {
            CAPTURE(k);
            CHECK(std::signbit(got[k]) == std::signbit(want[k]));
            CHECK(got[k] == want[k]);
          }
          if (limit == SIZE_MAX) CHECK(passes == 2);
        }
      }
    }
  }
  QuantileStream none(0, false, {0.5});
  CHECK(none.done());
  CHECK(std::isnan(none.values()[0]));
}

TEST_CASE("bad options and samples come back as errors naming the field") {
  const std::vector<double> x = {1, 2, 3};
  QuantScheme s;
  s.bits = 1;
  CHECK(fails(x, s).field == "bits");
  s.bits = 17;
  CHECK(fails(x, s).message == "Bit depth must be between 2 and 16 (got 17)");
  s = QuantScheme{};
  s.range = Range{1, 1};
  Error e = fails(x, s);
  CHECK(e.field == "range.min");
  CHECK(e.message == "Range min must be below Range max");
  s.range = Range{2, 1};
  CHECK(fails(x, s).field == "range.min");
  s.range = Range{0, std::numeric_limits<double>::infinity()};
  CHECK(fails(x, s).field == "range.max");
  s = QuantScheme{};
  s.qmin = 5;
  s.qmax = 5;
  CHECK(fails(x, s).field == "qmin");
  s.qmin = std::nullopt;
  s.qmax = 300;
  CHECK(fails(x, s).field == "qmax");
  s = QuantScheme{};
  s.scale = 0;
  CHECK(fails(x, s).field == "scale");
  s.scale = -1;
  CHECK(fails(x, s).field == "scale");
  s.scale = 1e-60;
  s.arithmetic = Arithmetic::Float32;
  CHECK(fails(x, s).field == "scale");
  s = QuantScheme{};
  s.mode = Mode::Asymmetric;
  s.zero_point = 200;
  CHECK(fails(x, s).field == "zeroPoint");
  s = QuantScheme{};
  s.zero_point = 3;
  CHECK(fails(x, s).field == "zeroPoint");
  e = fails(std::vector<double>{}, QuantScheme{});
  CHECK(e.field == "values");
  CHECK(e.message == "No samples: enter at least one value");
  e = fails(std::vector<float>{1, 2, NAN, 4}, QuantScheme{});
  CHECK(e.field == "values");
  CHECK(e.index == 2);
  CHECK(e.message == "Sample 3 is NaN");
  e = fails(std::vector<double>{1, -INFINITY}, QuantScheme{});
  CHECK(e.index == 1);
  CHECK(e.message == "Sample 2 is infinite");
  e = fails(std::vector<double>{1, 2, 3, 4, 5, 1e200}, QuantScheme{});
  CHECK(e.index == 5);
  CHECK(e.message == "Sample 6 (1e+200) is too large: magnitudes up to 1e100 are supported");
  s = QuantScheme{};
  s.arithmetic = Arithmetic::Float32;
  e = fails(std::vector<double>{0, 1e-50}, s);
  CHECK(e.field == "values");
  e = fails(std::vector<double>{0, 1e39, 2}, s);
  CHECK(e.index == 1);
  CHECK(e.message == "Sample 2 (1e+39) is outside float32's range, needed by float32 arithmetic");
}

TEST_CASE("explicit scale and zero point are used as given") {
  QuantScheme s;
  s.mode = Mode::AsymmetricUnsigned;
  s.scale = 0.5;
  s.zero_point = 10;
  const Analysis a = ok(std::vector<double>{-5, 0, 1.2, 200}, s);
  CHECK(a.params.scale == 0.5);
  CHECK(a.params.zero_point == 10);
  CHECK(a.codes == std::vector<int32_t>{0, 10, 12, 255});
  CHECK(a.clipped == std::vector<uint8_t>{0, 0, 0, 1});
  CHECK(a.metrics.clip_count == 1);
  CHECK(a.metrics.clip_rate == 0.25);
}

TEST_CASE("qmin/qmax override the mode's code range") {
  QuantScheme s;
  s.mode = Mode::AsymmetricUnsigned;
  s.qmin = 0;
  s.qmax = 127;
  s.range = Range{0, 1.27};
  const Analysis a = ok(std::vector<double>{0, 0.5, 1.27, 2}, s);
  CHECK(a.params.qmax == 127);
  CHECK(a.params.scale == doctest::Approx(0.01));
  CHECK(a.codes.back() == 127);
  CHECK(a.metrics.clip_count == 1);
}

TEST_CASE("a range that excludes zero clamps the zero point and clips on one side") {
  QuantScheme s;
  s.mode = Mode::Asymmetric;
  s.range = Range{1, 2};
  const Analysis a = ok(std::vector<double>{1, 1.5, 2}, s);
  CHECK(a.params.zero_point == -128);
  CHECK(a.metrics.clip_count >= 1);
}
