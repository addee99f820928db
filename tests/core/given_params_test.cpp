// Given parameters per channel or group (QuantScheme::given): each channel's codes are the
// per-tensor codes of that channel alone with its scale and zero point, under the formula and
// the ONNX profile; lists of the wrong length or with bad values are refused at their field and
// position; the stream and analyze_integer's callers do not take them; int16/uint16 ranges.
#include "analyze.h"
#include "profiles.h"
#include "stream.h"

#include <doctest/doctest.h>

#include <cmath>
#include <variant>
#include <vector>

using namespace qe;

namespace {

Analysis ok(const Result<Analysis>& r) {
  if (const auto* e = std::get_if<Error>(&r)) FAIL_CHECK(e->field << ": " << e->message);
  REQUIRE(std::holds_alternative<Analysis>(r));
  return std::get<Analysis>(r);
}

Error refused(const Result<Analysis>& r) {
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

}  // namespace

TEST_CASE("given per-channel parameters: each channel as its own per-tensor analysis") {
  std::vector<double> x(3 * 8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<double>(i) * 0.9) * 3;
  const double scales[3] = {0.01, 0.05, 0.2};
  const int32_t zps[3] = {-5, 0, 12};
  for (Profile profile : {Profile::Formula, Profile::Onnx}) {
    AnalyzeOptions o;
    o.scheme.profile = profile;
    o.scheme.mode = Mode::Asymmetric;
    o.scheme.granularity = Granularity::Channel;
    o.scheme.shape = {3, 8};
    GivenParams g{scales, 3, zps, 3};
    o.scheme.given = &g;
    const Analysis all = ok(analyze(x.data(), x.size(), o));
    REQUIRE(all.groups.size() == 3);
    for (size_t c = 0; c < 3; ++c) {
      AnalyzeOptions one;
      one.scheme.profile = profile;
      one.scheme.mode = Mode::Asymmetric;
      one.scheme.scale = scales[c];
      one.scheme.zero_point = zps[c];
      const Analysis a = ok(analyze(x.data() + 8 * c, 8, one));
      for (size_t i = 0; i < 8; ++i) CHECK(all.codes[8 * c + i] == a.codes[i]);
      CHECK(all.groups[c].params.zero_point == zps[c]);
      CHECK(all.groups[c].params.scale == (profile == Profile::Onnx ? static_cast<float>(scales[c]) : scales[c]));
    }
  }
}

TEST_CASE("given lists: bad lengths and values at their field and position") {
  std::vector<double> x(12, 0.5);
  AnalyzeOptions o;
  o.scheme.mode = Mode::Asymmetric;
  o.scheme.granularity = Granularity::Group;
  o.scheme.group_size = 4;
  const double short_list[2] = {1, 1};
  GivenParams g{short_list, 2, nullptr, 0};
  o.scheme.given = &g;
  Error e = refused(analyze(x.data(), x.size(), o));
  CHECK(e.field == "scale");
  CHECK(e.message.find("lists 2 values, but there are 3 groups") != std::string::npos);
  const double bad[3] = {1, -1, 1};
  g = GivenParams{bad, 3, nullptr, 0};
  e = refused(analyze(x.data(), x.size(), o));
  CHECK(e.field == "scale");
  CHECK(e.index == 1);
  const double nan[3] = {1, 1, NAN};
  g = GivenParams{nan, 3, nullptr, 0};
  CHECK(refused(analyze(x.data(), x.size(), o)).index == 2);
  const int32_t zps[3] = {0, 0, 128};
  g = GivenParams{nullptr, 0, zps, 3};
  e = refused(analyze(x.data(), x.size(), o));
  CHECK(e.field == "zeroPoint");
  CHECK(e.index == 2);
  o.scheme.granularity = Granularity::Tensor;
  CHECK(refused(analyze(x.data(), x.size(), o)).field == "zeroPoint");
  o.scheme.format = NumberFormat::Fp8E4m3;  // per tensor: a float format has no zero point
  CHECK(refused(analyze(x.data(), x.size(), o)).field == "zeroPoint");
  o.scheme.format = NumberFormat::Int;
  o.scheme.granularity = Granularity::Group;
  const StreamAnalysis st(o);
  const auto se = st.check();
  REQUIRE(se);
  CHECK(se->field == "zeroPoint");
}

TEST_CASE("ONNX int16 and uint16: the dtype's range, calibration ranges and reduce_range") {
  QuantScheme s;
  s.profile = Profile::Onnx;
  int32_t lo, hi;
  s.dtype = QDtype::Int16;
  profile_code_range(s, lo, hi);
  CHECK(lo == -32768);
  CHECK(hi == 32767);
  s.mode = Mode::Symmetric;
  QuantParams p = profile_params(s, -2, 1);
  CHECK(p.scale == static_cast<float>(4.0 / 65534));
  CHECK(p.zero_point == 0);
  s.reduce_range = true;
  CHECK(profile_params(s, -2, 1).scale == static_cast<float>(4.0 / 32768));
  s.dtype = QDtype::UInt16;
  s.reduce_range = false;
  s.mode = Mode::Asymmetric;
  p = profile_params(s, -1, 3);
  CHECK(p.scale == static_cast<float>(4.0 / 65535));
  CHECK(p.zero_point == static_cast<int32_t>(std::nearbyint(0 - (-1) / (4.0 / 65535))));
  s.profile = Profile::PyTorch;
  CHECK(validate_profile(s)->field == "dtype");
  CHECK(parse_dtype("uint16") == QDtype::UInt16);
}
