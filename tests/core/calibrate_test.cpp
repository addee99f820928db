// Calibration against numpy (tests/data/calibration.json, from make_calibration_golden.py), with
// both kernels, and the MSE search's guarantee. The JS suite reads the same file.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "analyze.h"

using json = nlohmann::json;
using namespace qe;

namespace {

template <class In>
Analysis run(const std::vector<In>& x, Mode mode, int bits, Calibration c, double p, Kernel k = Kernel::Auto) {
  AnalyzeOptions o;
  o.scheme.mode = mode;
  o.scheme.bits = bits;
  o.scheme.calibration = c;
  o.scheme.percentile = p;
  o.kernel = k;
  auto r = analyze(x.data(), x.size(), o);
  REQUIRE(std::holds_alternative<Analysis>(r));
  return std::get<Analysis>(std::move(r));
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-12 * std::fabs(b) + 1e-300; }

}  // namespace

TEST_CASE("calibration ranges equal numpy's") {
  std::ifstream in(std::string(QE_TEST_DATA_DIR) + "/calibration.json");
  REQUIRE(in.good());
  const json ref = json::parse(in);
  for (const auto& c : ref["cases"]) {
    const std::string name = c["data"].get<std::string>() + " " + c["mode"].get<std::string>() + " " +
                             std::to_string(c["bits"].get<int>()) + " " + c["calibration"].get<std::string>();
    CAPTURE(name);
    const json& d = ref["data"][c["data"].get<std::string>()];
    const auto values = d["values"].get<std::vector<double>>();
    const Mode mode = *parse_mode(c["mode"].get<std::string>());
    const Calibration cal = *parse_calibration(c["calibration"].get<std::string>());
    const double p = c.value("percentile", 99.99);
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      const Analysis a = d["float32"].get<bool>()
                             ? run(std::vector<float>(values.begin(), values.end()), mode, c["bits"].get<int>(), cal, p, k)
                             : run(values, mode, c["bits"].get<int>(), cal, p, k);
      CHECK(close(a.calibration.range_min, c["rangeMin"].get<double>()));
      CHECK(close(a.calibration.range_max, c["rangeMax"].get<double>()));
      if (c.contains("threshold")) CHECK(close(a.calibration.threshold, c["threshold"].get<double>()));
    }
  }
}

TEST_CASE("MSE-optimal is never worse than min-max or percentile on heavy-tailed data") {
  std::mt19937_64 rng(7);
  std::student_t_distribution<double> heavy(2.5);
  for (int trial = 0; trial < 8; ++trial) {
    std::vector<double> x(4000);
    for (double& v : x) v = heavy(rng) * (trial % 2 ? 1.0 : 0.01) + (trial % 4 == 3 ? 2.0 : 0.0);
    for (Mode mode : {Mode::Symmetric, Mode::Asymmetric}) {
      for (int bits : {2, 4, 8}) {
        const double best = run(x, mode, bits, Calibration::Mse, 99.99).metrics.mse;
        CAPTURE(trial);
        CAPTURE(bits);
        CHECK(best <= run(x, mode, bits, Calibration::MinMax, 99.99).metrics.mse);
        for (double p : {99.0, 99.9, 99.99}) CHECK(best <= run(x, mode, bits, Calibration::Percentile, p).metrics.mse);
      }
    }
  }
}

TEST_CASE("a bad percentile is an error naming its field") {
  AnalyzeOptions o;
  o.scheme.calibration = Calibration::Percentile;
  o.scheme.percentile = 40;
  const std::vector<double> x = {1, 2, 3};
  auto r = analyze(x.data(), x.size(), o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).field == "percentile");
}
