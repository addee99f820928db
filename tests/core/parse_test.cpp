#include "parse.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace qe;

namespace {
std::vector<double> parsed(const std::string& text) {
  auto r = parse_values(text);
  if (auto* e = std::get_if<Error>(&r)) FAIL("unexpected error: " << e->message);
  return std::get<std::vector<double>>(r);
}
Error parse_error(const std::string& text) {
  auto r = parse_values(text);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}
}  // namespace

TEST_CASE("the seed example parses exactly as typed") {
  const auto v = parsed("-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46");
  REQUIRE(v.size() == 10);
  CHECK(v[1] == -0.92);
  CHECK(v[3] == -0.10);
  CHECK(v[9] == 1.46);
}

TEST_CASE("separators, signs, exponents and trailing separators") {
  CHECK(parsed("1 2\t3\n4;5,6\r\n") == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(parsed("  ,1,, 2;\n") == std::vector<double>{1, 2});
  CHECK(parsed("+1.5 -2e-3 3E2 .5 -.25 1e-400") == std::vector<double>{1.5, -0.002, 300, 0.5, -0.25, 0});
  CHECK(parsed("0.1")[0] == 0.1);
  CHECK(parsed("").empty());
  CHECK(parsed(" \n\t ").empty());
}

TEST_CASE("bad text names the sample and its text") {
  Error e = parse_error("1, 2, 3, 4, 5, 6, abc");
  CHECK(e.field == "values");
  CHECK(e.index == 6);
  CHECK(e.message == "Sample 7: \"abc\" is not a number");
  CHECK(parse_error("1.2.3").message == "Sample 1: \"1.2.3\" is not a number");
  CHECK(parse_error("1 NaN").message == "Sample 2: \"NaN\" is not a finite number");
  CHECK(parse_error("inf").message == "Sample 1: \"inf\" is not a finite number");
  CHECK(parse_error("-Infinity").message == "Sample 1: \"-Infinity\" is not a finite number");
  CHECK(parse_error("1e999").message == "Sample 1: \"1e999\" is outside the range of a double (about ±1.8e308)");
  CHECK(parse_error("-1e400").index == 0);
  CHECK(parse_error("++1").message == "Sample 1: \"++1\" is not a number");
  CHECK(parse_error("+").message == "Sample 1: \"+\" is not a number");
  CHECK(parse_error("1e").message == "Sample 1: \"1e\" is not a number");
  CHECK(parse_error("0x10").message == "Sample 1: \"0x10\" is not a number");
  CHECK(parse_error("5 [1,2]").index == 1);
  CHECK(parse_error("1 abcdefghijklmnopqrstuvwxyz0123456789").message ==
        "Sample 2: \"abcdefghijklmnopqrstuvwx…\" is not a number");
}

TEST_CASE("a long token is cut at a character boundary") {
  const std::string text = "1 " + std::string(23, 'a') + "éééé";
  const std::string msg = parse_error(text).message;
  CHECK(msg == "Sample 2: \"" + std::string(23, 'a') + "…\" is not a number");
}

namespace {
// The reference number_text replaces: the smallest N whose "%.Ng" reads back as v.
std::string printf_shortest(double v) {
  char b[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, v);
    if (std::strtod(b, nullptr) == v) return b;
  }
  return b;
}
}  // namespace

TEST_CASE("number_text writes what printf's shortest %g writes") {
  const std::vector<double> fixed = {1e101, -1e101, 0.1, 1.0 / 3, 2.5e-7, -2.5e-7, 3, 100, 1234567, 12345678901234567.0, 1e-4,
                                     9.9999e-5, 123456, 1e16, 1e21, 0.5, 255.0 / 3, 1.7976931348623157e308, 5e-324,
                                     2.2250738585072014e-308, 9.5, 99.5, 0.000123, 1e100, 3.4028234663852886e38, -0.92};
  for (double v : fixed) CHECK_MESSAGE(number_text(v) == printf_shortest(v), v);
  CHECK(number_text(0.0) == "0");
  CHECK(number_text(-0.0) == "-0");
  // Random bit patterns (every exponent) and random small decimals.
  uint64_t s = 0x9e3779b97f4a7c15u;
  const auto next = [&s] {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    double v;
    const uint64_t bits = next();
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    REQUIRE_MESSAGE(number_text(v) == printf_shortest(v), v);
    const double d = static_cast<double>(static_cast<int64_t>(next() % 2000001) - 1000000) / 1000;
    REQUIRE_MESSAGE(number_text(d) == printf_shortest(d), d);
  }
}
