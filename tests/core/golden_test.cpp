// The golden file (tests/data/golden.json, from make_golden.py) through the C++ core, with
// both kernels: codes, clip flags and parameters exactly; reconstructions and errors bit for
// bit; sums-based metrics to 1e-12 relative (1e-6 for float32 samples in float32 arithmetic,
// whose terms are summed in float32 blocks). The JS suite reads the same file.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze.h"
#include "parse.h"

using json = nlohmann::json;
using namespace qe;

namespace {

json load_golden() {
  std::ifstream in(std::string(QE_TEST_DATA_DIR) + "/golden.json");
  REQUIRE(in.good());
  return json::parse(in);
}

double number(const json& v) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_string()) return v.get<std::string>() == "Infinity" ? INFINITY : -INFINITY;
  return v.get<double>();
}

QuantScheme scheme_of(const json& o) {
  QuantScheme s;
  if (o.contains("bits")) s.bits = o["bits"].get<int>();
  if (o.contains("mode")) s.mode = *parse_mode(o["mode"].get<std::string>());
  if (o.contains("rounding")) s.rounding = *parse_rounding(o["rounding"].get<std::string>());
  if (o.contains("arithmetic")) s.arithmetic = *parse_arithmetic(o["arithmetic"].get<std::string>());
  if (o.contains("range") && !o["range"].is_null())
    s.range = Range{o["range"]["min"].get<double>(), o["range"]["max"].get<double>()};
  if (o.contains("qmin")) s.qmin = o["qmin"].get<int32_t>();
  if (o.contains("qmax")) s.qmax = o["qmax"].get<int32_t>();
  if (o.contains("scale")) s.scale = o["scale"].get<double>();
  if (o.contains("zeroPoint")) s.zero_point = o["zeroPoint"].get<int32_t>();
  return s;
}

void check_close(double actual, const json& expected, double rel, const std::string& what) {
  const double e = number(expected);
  CAPTURE(what);
  if (std::isnan(e) || std::isinf(e)) {
    CHECK((std::isnan(e) ? std::isnan(actual) : actual == e));
    return;
  }
  CHECK(std::fabs(actual - e) <= rel * std::fabs(e) + std::numeric_limits<double>::min());
}

double metric(const Analysis& a, const std::string& key) {
  const Metrics& m = a.metrics;
  const std::pair<const char*, double> all[] = {{"count", double(m.count)},
                                                {"mse", m.mse},
                                                {"rmse", m.rmse},
                                                {"mae", m.mae},
                                                {"maxAbsError", m.max_abs_error},
                                                {"maxAbsErrorIndex", double(m.max_abs_error_index)},
                                                {"meanError", m.mean_error},
                                                {"errorStd", m.error_std},
                                                {"sqnrDb", m.sqnr_db},
                                                {"psnrDb", m.psnr_db},
                                                {"clipCount", double(m.clip_count)},
                                                {"clipRate", m.clip_rate},
                                                {"step", m.step},
                                                {"uniformNoise", m.uniform_noise},
                                                {"medianAbsError", m.median_abs_error},
                                                {"p95AbsError", m.p95_abs_error},
                                                {"cosine", m.cosine},
                                                {"tieCount", double(m.tie_count)},
                                                {"codesUsed", double(m.codes_used)},
                                                {"codeEntropyBits", m.code_entropy_bits},
                                                {"scale", a.params.scale}};
  for (const auto& [name, value] : all)
    if (key == name) return value;
  FAIL("unknown metric " << key);
  return 0;
}

template <class In>
void check_case(const json& c, Kernel kernel) {
  std::vector<In> x;
  for (const auto& v : c["values"]) x.push_back(static_cast<In>(v.get<double>()));
  AnalyzeOptions o;
  o.scheme = scheme_of(c["options"]);
  o.kernel = kernel;
  auto r = analyze(x.data(), x.size(), o);
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->message);
  const Analysis& a = std::get<Analysis>(r);
  const json& e = c["expected"];
  CHECK(a.params.zero_point == e["zeroPoint"].get<int32_t>());
  CHECK(a.params.qmin == e["qmin"].get<int32_t>());
  CHECK(a.params.qmax == e["qmax"].get<int32_t>());
  check_close(a.params.scale, e["scale"], 1e-15, "scale");
  check_close(a.params.range_min, e["rangeMin"], 1e-15, "rangeMin");
  check_close(a.params.range_max, e["rangeMax"], 1e-15, "rangeMax");
  CHECK(a.codes == e["codes"].get<std::vector<int32_t>>());
  std::vector<bool> clipped(a.clipped.begin(), a.clipped.end());
  CHECK(clipped == e["clipped"].get<std::vector<bool>>());
  std::vector<double> deq = a.dequantized_f64;
  if (deq.empty()) deq.assign(a.dequantized_f32.begin(), a.dequantized_f32.end());
  CHECK(deq == e["dequantized"].get<std::vector<double>>());
  CHECK(a.errors == e["errors"].get<std::vector<double>>());
  const bool float_sums = c.value("float32", false) && o.scheme.arithmetic == Arithmetic::Float32;
  for (const auto& item : e["metrics"].items())
    check_close(metric(a, item.key()), item.value(), float_sums ? 1e-6 : 1e-12, item.key());
  if (c.contains("seedSays")) {
    for (const auto& item : c["seedSays"].items()) {
      const std::string key = item.key();
      CAPTURE(key);
      CHECK(std::fabs(metric(a, key) - item.value()["value"].get<double>()) <= item.value()["tolerance"].get<double>());
    }
  }
}

}  // namespace

TEST_CASE("golden file") {
  const json golden = load_golden();
  REQUIRE(golden["cases"].size() >= 10);
  for (const auto& c : golden["cases"]) {
    const std::string name = c["name"].get<std::string>();
    CAPTURE(name);
    if (!c.value("float32", false)) {
      // The text form parses to exactly the listed values.
      auto parsed = parse_values(c["valuesText"].get<std::string>());
      REQUIRE(std::holds_alternative<std::vector<double>>(parsed));
      CHECK(std::get<std::vector<double>>(parsed) == c["values"].get<std::vector<double>>());
    }
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      if (c.value("float32", false))
        check_case<float>(c, k);
      else
        check_case<double>(c, k);
    }
  }
}
