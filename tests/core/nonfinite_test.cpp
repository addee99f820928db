// NonFinite::Skip: a tensor holding NaN and ±Inf is measured over its finite values, with the
// counts of the others. Each scheme against a reference that has no non-finite value at all:
// the finite values alone (per tensor), each channel's or group's finite values alone, or the
// tensor with zeros in their place where a zero adds nothing (formats and profiles: a zero is
// coded exactly and leaves every amax and observer range as it is). Then the stream, chunk by
// chunk, against the whole analysis; and what is still refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "analyze.h"
#include "charts.h"
#include "stream.h"

using namespace qe;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// 1000 values in [−2.3, 3.1] with NaN, +Inf and −Inf here and there: at the start, the end, side
// by side, and a run of 40 (positions 300..339) that fills groups 15 and 16 of 20.
template <class In>
std::vector<In> tensor_with_holes() {
  std::vector<In> x(1000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<In>(2.7 * std::sin(0.37 * i + 0.2) + 0.4 * std::cos(1.3 * i));
  for (size_t i : {0, 17, 499, 999}) x[i] = static_cast<In>(kNan);
  for (size_t i : {18, 640}) x[i] = static_cast<In>(INFINITY);
  for (size_t i : {19, 641, 998}) x[i] = static_cast<In>(-INFINITY);
  for (size_t i = 300; i < 340; ++i) x[i] = static_cast<In>(i % 2 ? kNan : INFINITY);
  return x;
}

template <class In>
bool finite(In v) {
  return std::isfinite(static_cast<double>(v));
}

template <class In>
Analysis analysis(const std::vector<In>& x, const AnalyzeOptions& o) {
  auto r = analyze(x.data(), x.size(), o);
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->message);
  return std::get<Analysis>(std::move(r));
}

double xhat(const Analysis& a, size_t i) {
  return a.dequantized_f64.empty() ? static_cast<double>(a.dequantized_f32[i]) : a.dequantized_f64[i];
}

// The counts, and the outputs at the skipped samples.
template <class In>
void check_skipped(const std::vector<In>& x, const Analysis& a) {
  NonFiniteCounts c;
  c.add(x.data(), x.size());
  CHECK(a.non_finite.nan == c.nan);
  CHECK(a.non_finite.pos_inf == c.pos_inf);
  CHECK(a.non_finite.neg_inf == c.neg_inf);
  CHECK(a.metrics.count == x.size() - c.total());
  if (a.codes.empty()) return;
  REQUIRE(a.codes.size() == x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (finite(x[i])) {
      CHECK(std::isfinite(a.errors[i]));
      continue;
    }
    CAPTURE(i);
    CHECK(a.codes[i] == 0);
    CHECK(std::isnan(xhat(a, i)));
    CHECK(std::isnan(a.errors[i]));
    CHECK(a.clipped[i] == 0);
  }
}

void check_metrics_close(const Metrics& a, const Metrics& b, double rel) {
  CHECK(a.count == b.count);
  CHECK(a.clip_count == b.clip_count);
  CHECK(a.tie_count == b.tie_count);
  CHECK(a.max_abs_error == b.max_abs_error);
  CHECK(a.mse == doctest::Approx(b.mse).epsilon(rel));
  CHECK(a.mae == doctest::Approx(b.mae).epsilon(rel));
  CHECK(a.mean_error == doctest::Approx(b.mean_error).epsilon(rel));
  CHECK(a.sqnr_db == doctest::Approx(b.sqnr_db).epsilon(rel));
  CHECK(a.cosine == doctest::Approx(b.cosine).epsilon(rel));
  CHECK(a.mse_clipping == doctest::Approx(b.mse_clipping).epsilon(rel));
  CHECK(a.median_abs_error == b.median_abs_error);
  CHECK(a.p95_abs_error == b.p95_abs_error);
  CHECK(a.codes_used == b.codes_used);
  CHECK(a.code_entropy_bits == doctest::Approx(b.code_entropy_bits).epsilon(rel));
}

AnalyzeOptions skipping(QuantScheme s) {
  AnalyzeOptions o;
  o.scheme = std::move(s);
  o.non_finite = NonFinite::Skip;
  return o;
}

QuantScheme scheme(Mode mode, Calibration c, Arithmetic arith = Arithmetic::Float64) {
  QuantScheme s;
  s.bits = 5;
  s.mode = mode;
  s.calibration = c;
  s.arithmetic = arith;
  return s;
}

}  // namespace

TEST_CASE_TEMPLATE("per tensor: the finite values' analysis, at their own positions", In, float, double) {
  const std::vector<In> x = tensor_with_holes<In>();
  std::vector<In> kept;
  std::vector<size_t> position;  // of each kept value in x
  for (size_t i = 0; i < x.size(); ++i)
    if (finite(x[i])) kept.push_back(x[i]), position.push_back(i);
  std::vector<QuantScheme> schemes;
  for (Mode m : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned})
    for (Calibration c : {Calibration::MinMax, Calibration::Percentile, Calibration::Mse, Calibration::Entropy})
      schemes.push_back(scheme(m, c));
  schemes.push_back(scheme(Mode::Asymmetric, Calibration::Percentile, Arithmetic::Float32));
  QuantScheme ranged = scheme(Mode::Symmetric, Calibration::MinMax);
  ranged.range = Range{-1.5, 1.5};
  ranged.rounding = Rounding::HalfAway;
  schemes.push_back(ranged);
  for (const QuantScheme& s : schemes) {
    const std::string mode = to_string(s.mode);
    CAPTURE(mode);
    CAPTURE(static_cast<int>(s.calibration));
    // float32 samples in float32 arithmetic: sums in float32 blocks, which the skipped samples
    // cut elsewhere (relative error about 1e-7).
    const double rel = std::is_same_v<In, float> && s.arithmetic == Arithmetic::Float32 ? 1e-6 : 1e-12;
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      AnalyzeOptions o = skipping(s);
      o.kernel = k;
      const Analysis a = analysis(x, o);
      AnalyzeOptions plain = o;
      plain.non_finite = NonFinite::Error;
      const Analysis ref = analysis(kept, plain);
      check_skipped(x, a);
      CHECK(a.params.scale == ref.params.scale);
      CHECK(a.params.zero_point == ref.params.zero_point);
      CHECK(a.calibration.range_min == ref.calibration.range_min);
      CHECK(a.calibration.range_max == ref.calibration.range_max);
      for (size_t j = 0; j < kept.size(); ++j) {
        CHECK(a.codes[position[j]] == ref.codes[j]);
        CHECK(a.errors[position[j]] == ref.errors[j]);
      }
      check_metrics_close(a.metrics, ref.metrics, rel);
      CHECK(a.metrics.max_abs_error_index ==
            static_cast<int64_t>(position[static_cast<size_t>(ref.metrics.max_abs_error_index)]));
      // The error mode refuses the same tensor, naming the first NaN.
      auto refused = analyze(x.data(), x.size(), plain);
      REQUIRE(std::holds_alternative<Error>(refused));
      CHECK(std::get<Error>(refused).message == "Sample 1 is NaN");
      CHECK(std::get<Error>(refused).index == 0);
    }
  }
}

TEST_CASE("stochastic draws follow each sample's own index") {
  const std::vector<double> x = tensor_with_holes<double>();
  std::vector<double> zeroed = x;
  for (double& v : zeroed)
    if (!std::isfinite(v)) v = 0;
  QuantScheme s = scheme(Mode::Asymmetric, Calibration::MinMax);
  s.rounding = Rounding::Stochastic;
  s.seed = 11;
  s.range = Range{-2.5, 3};
  const Analysis a = analysis(x, skipping(s));
  AnalyzeOptions plain;
  plain.scheme = s;
  const Analysis ref = analysis(zeroed, plain);
  check_skipped(x, a);
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i])) CHECK(a.codes[i] == ref.codes[i]);
}

TEST_CASE_TEMPLATE("per channel and per group: each one's finite values; one with none gets scale 1", In, float,
                   double) {
  const std::vector<In> x = tensor_with_holes<In>();
  struct Case {
    Granularity g;
    std::vector<int64_t> shape;
    int axis;
    int64_t group;
  };
  for (const Case& c : {Case{Granularity::Group, {}, 0, 20}, Case{Granularity::Channel, {50, 20}, 0, 0},
                        Case{Granularity::Channel, {50, 20}, 1, 0}, Case{Granularity::Channel, {10, 5, 20}, 1, 0}}) {
    for (Mode m : {Mode::Symmetric, Mode::Asymmetric}) {
      QuantScheme s = scheme(m, Calibration::MinMax);
      s.granularity = c.g;
      s.shape = c.shape;
      s.axis = c.axis;
      s.group_size = c.group;
      CAPTURE(c.axis);
      const Analysis a = analysis(x, skipping(s));
      check_skipped(x, a);
      // Each channel's or group's samples, as group_geometry lays them out.
      const GroupGeometry geo = std::get<GroupGeometry>(group_geometry(s, x.size()));
      REQUIRE(a.groups.size() == geo.count);
      std::vector<std::vector<In>> members(geo.count);
      for (size_t i = 0; i < x.size(); ++i)
        if (finite(x[i])) members[(i / geo.run) % geo.count].push_back(x[i]);
      uint64_t empty = 0;
      for (size_t g = 0; g < geo.count; ++g) {
        CAPTURE(g);
        const GroupResult& got = a.groups[g];
        CHECK(got.sums.count == members[g].size());
        if (members[g].empty()) {
          ++empty;
          CHECK(got.params.scale == 1);
          continue;
        }
        QuantScheme alone = scheme(m, Calibration::MinMax);
        AnalyzeOptions o;
        o.scheme = alone;
        const Analysis ref = analysis(members[g], o);
        CHECK(got.params.scale == ref.params.scale);
        CHECK(got.params.zero_point == ref.params.zero_point);
        CHECK(got.sums.clip_count == ref.metrics.clip_count);
        CHECK(got.sums.max_abs == ref.metrics.max_abs_error);
        CHECK(got.sums.sum_err2 ==
              doctest::Approx(ref.metrics.mse * static_cast<double>(ref.metrics.count)).epsilon(1e-12));
      }
      if (c.g == Granularity::Group) CHECK(empty == 2);  // 300..339
      CHECK(std::isfinite(a.params.scale));
    }
  }
}

TEST_CASE_TEMPLATE("formats and profiles: as the tensor with zeros in place of the skipped values", In, float, double) {
  const std::vector<In> x = tensor_with_holes<In>();
  std::vector<In> zeroed = x;
  for (In& v : zeroed)
    if (!finite(v)) v = 0;
  std::vector<QuantScheme> schemes;
  for (NumberFormat f : {NumberFormat::Fp8E4m3, NumberFormat::Fp4E2m1, NumberFormat::Mxfp4, NumberFormat::Mxint8,
                         NumberFormat::Nvfp4, NumberFormat::Nf4}) {
    QuantScheme s;
    s.format = f;
    if (f == NumberFormat::Fp8E4m3) s.format_scale = QuantScheme::FormatScale::Amax;
    schemes.push_back(s);
  }
  QuantScheme torch;
  torch.profile = Profile::PyTorch;
  torch.mode = Mode::Asymmetric;
  torch.dtype = QDtype::UInt8;
  schemes.push_back(torch);
  QuantScheme onnx;
  onnx.profile = Profile::Onnx;
  onnx.granularity = Granularity::Channel;
  onnx.shape = {50, 20};
  onnx.axis = 1;
  schemes.push_back(onnx);
  for (const QuantScheme& s : schemes) {
    const std::string format = to_string(s.format);
    CAPTURE(format);
    CAPTURE(static_cast<int>(s.profile));
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      AnalyzeOptions o = skipping(s);
      o.kernel = k;
      const Analysis a = analysis(x, o);
      AnalyzeOptions plain = o;
      plain.non_finite = NonFinite::Error;
      const Analysis ref = analysis(zeroed, plain);
      check_skipped(x, a);
      // (per channel: the mean scale weights each channel by its finite values, see the groups)
      if (a.groups.empty()) CHECK(a.params.scale == ref.params.scale);
      CHECK(a.block_scales == ref.block_scales);
      CHECK(a.format_counts.overflow == ref.format_counts.overflow);
      CHECK(a.format_counts.underflow == ref.format_counts.underflow);
      for (size_t i = 0; i < x.size(); ++i) {
        if (!finite(x[i])) continue;
        CHECK(a.codes[i] == ref.codes[i]);
        CHECK(a.errors[i] == ref.errors[i]);
      }
      // A zero adds nothing to a sum: the same sums over fewer samples.
      const auto sum = [](const Metrics& m, double v) { return v * static_cast<double>(m.count); };
      CHECK(sum(a.metrics, a.metrics.mse) == doctest::Approx(sum(ref.metrics, ref.metrics.mse)).epsilon(1e-14));
      CHECK(sum(a.metrics, a.metrics.mean_error) ==
            doctest::Approx(sum(ref.metrics, ref.metrics.mean_error)).epsilon(1e-14));
      CHECK(a.metrics.sqnr_db == doctest::Approx(ref.metrics.sqnr_db).epsilon(1e-14));
      CHECK(a.metrics.max_abs_error == ref.metrics.max_abs_error);
      CHECK(a.metrics.clip_count == ref.metrics.clip_count);
      for (size_t g = 0; g < a.groups.size(); ++g) CHECK(a.groups[g].params.scale == ref.groups[g].params.scale);
    }
  }
}

TEST_CASE_TEMPLATE("the stream skips them as the whole analysis does, whatever the chunks", In, float, double) {
  const std::vector<In> x = tensor_with_holes<In>();
  std::vector<QuantScheme> schemes;
  for (Calibration c : {Calibration::MinMax, Calibration::Percentile, Calibration::Mse, Calibration::Entropy})
    schemes.push_back(scheme(Mode::Asymmetric, c));
  QuantScheme stochastic = scheme(Mode::Symmetric, Calibration::MinMax, Arithmetic::Float32);
  stochastic.rounding = Rounding::Stochastic;
  schemes.push_back(stochastic);
  QuantScheme group = scheme(Mode::Asymmetric, Calibration::MinMax);
  group.granularity = Granularity::Group;
  group.group_size = 20;
  schemes.push_back(group);
  QuantScheme channel = group;
  channel.granularity = Granularity::Channel;
  channel.shape = {50, 20};
  channel.axis = 1;
  schemes.push_back(channel);
  QuantScheme mx;
  mx.format = NumberFormat::Mxfp4;
  schemes.push_back(mx);
  QuantScheme torch;
  torch.profile = Profile::PyTorch;
  schemes.push_back(torch);
  for (size_t which = 0; which < schemes.size(); ++which) {
    const QuantScheme& s = schemes[which];
    CAPTURE(which);
    AnalyzeOptions o = skipping(s);
    o.per_sample = false;
    const Analysis whole = analysis(x, o);
    const double rel =
        std::is_same_v<In, float> && s.arithmetic == Arithmetic::Float32 ? 1e-6 : 1e-12;  // float32 blocks
    for (size_t chunk : {size_t{1}, size_t{20}, size_t{64}, size_t{333}, x.size()}) {
      if (s.format == NumberFormat::Mxfp4 && chunk % 32) continue;  // block formats: chunks of whole blocks
      CAPTURE(chunk);
      CAPTURE(static_cast<int>(s.calibration));
      StreamAnalysis st(o);
      REQUIRE_FALSE(st.check());
      while (!st.done()) {
        for (size_t at = 0; at < x.size(); at += chunk)
          REQUIRE_FALSE(st.add(x.data() + at, std::min(chunk, x.size() - at)));
        REQUIRE_FALSE(st.next());
      }
      const Analysis a = st.finish();
      CHECK(a.non_finite.nan == whole.non_finite.nan);
      CHECK(a.non_finite.pos_inf == whole.non_finite.pos_inf);
      CHECK(a.non_finite.neg_inf == whole.non_finite.neg_inf);
      CHECK(a.metrics.count == whole.metrics.count);
      CHECK(a.params.scale == doctest::Approx(whole.params.scale).epsilon(1e-15));
      CHECK(a.params.zero_point == whole.params.zero_point);
      CHECK(a.calibration.range_min == whole.calibration.range_min);
      CHECK(a.calibration.range_max == whole.calibration.range_max);
      CHECK(a.metrics.clip_count == whole.metrics.clip_count);
      CHECK(a.metrics.tie_count == whole.metrics.tie_count);
      CHECK(a.metrics.max_abs_error == whole.metrics.max_abs_error);
      CHECK(a.metrics.max_abs_error_index == whole.metrics.max_abs_error_index);
      CHECK(a.metrics.mse == doctest::Approx(whole.metrics.mse).epsilon(rel));
      CHECK(a.metrics.sqnr_db == doctest::Approx(whole.metrics.sqnr_db).epsilon(rel));
      if (std::isnan(whole.metrics.uniform_noise))
        CHECK(std::isnan(a.metrics.uniform_noise));  // formats: no one step
      else
        CHECK(a.metrics.uniform_noise == doctest::Approx(whole.metrics.uniform_noise).epsilon(1e-15));
      REQUIRE(a.groups.size() == whole.groups.size());
      for (size_t g = 0; g < a.groups.size(); ++g) {
        CHECK(a.groups[g].params.scale == whole.groups[g].params.scale);
        CHECK(a.groups[g].sums.count == whole.groups[g].sums.count);
        CHECK(a.groups[g].sums.sum_err2 == doctest::Approx(whole.groups[g].sums.sum_err2).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("what skipping still refuses, and what it leaves alone") {
  AnalyzeOptions o = skipping(scheme(Mode::Symmetric, Calibration::MinMax));
  const std::vector<double> none = {kNan, INFINITY, kNan, -INFINITY, kNan};
  auto r = analyze(none.data(), none.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).field == "values");
  CHECK(std::get<Error>(r).message ==
        "Every sample is NaN or infinite (3 NaN, 1 +Inf, 1 -Inf): nothing finite to measure");
  StreamAnalysis st(o);
  REQUIRE_FALSE(st.add(none.data(), none.size()));
  auto e = st.next();
  REQUIRE(e);
  CHECK(e->message == "Every value is NaN or infinite (3 NaN, 1 +Inf, 1 -Inf): nothing finite to measure");
  // Too large a value is refused whether or not NaN is skipped.
  const std::vector<double> huge = {1, kNan, 1e200};
  r = analyze(huge.data(), huge.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).index == 2);
  StreamAnalysis big(o);
  CHECK(big.add(huge.data(), huge.size())->index == 2);
  // All finite: exactly the analysis without skipping, and no counts.
  const std::vector<double> fine = {-1.25, -0.92, 0.37, 1.46};
  AnalyzeOptions plain = o;
  plain.non_finite = NonFinite::Error;
  const Analysis a = std::get<Analysis>(analyze(fine.data(), fine.size(), o));
  const Analysis b = std::get<Analysis>(analyze(fine.data(), fine.size(), plain));
  CHECK(a.non_finite.total() == 0);
  CHECK(a.codes == b.codes);
  CHECK(a.metrics.mse == b.metrics.mse);
  // analyze_integer (the web's first module) leaves skipping to analyze().
  const std::vector<double> holed = {1, kNan, 2};
  r = analyze_integer(holed.data(), holed.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).message == "Sample 2 is NaN");
  CHECK(non_finite_text(NonFiniteCounts{}) == "none");
}

TEST_CASE("charts leave the skipped samples out") {
  const std::vector<double> x = tensor_with_holes<double>();
  const Analysis a = analysis(x, skipping(scheme(Mode::Asymmetric, Calibration::MinMax)));
  const ChartData c = chart_data_finite(x.data(), x.size(), a, 100, 32);
  uint64_t values = 0, errors = 0;
  for (uint32_t k : c.values.counts) values += k;
  for (uint32_t k : c.errors.counts) errors += k;
  CHECK(values == a.metrics.count);
  CHECK(errors == a.metrics.count);
  CHECK(std::isfinite(c.values.lo));
  CHECK(std::isfinite(c.values.hi));
  // Bucket b holds samples 10b .. 10b + 9: 300..339 are all skipped.
  for (size_t b = 0; b < 100; ++b) {
    CAPTURE(b);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 10 * b; i < 10 * b + 10; ++i)
      if (std::isfinite(x[i])) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
    if (lo > hi) {
      CHECK(std::isnan(c.x_min[b]));
      CHECK(std::isnan(c.err_max[b]));
    } else {
      CHECK(c.x_min[b] == lo);
      CHECK(c.x_max[b] == hi);
      CHECK(std::isfinite(c.err_min[b]));
    }
  }
}
