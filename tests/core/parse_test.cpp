#include "parse.h"

#include <doctest/doctest.h>

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
