#include "parse.h"

#include <doctest/doctest.h>
#include <fast_float/fast_float.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
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

namespace {
// read_double against fast_float (the reference): the same verdict on the whole string, and the
// same double, bit for bit.
void same_as_fast_float(const std::string& s) {
  double want = 0, got = 0;
  const auto r = fast_float::from_chars(s.data(), s.data() + s.size(), want);
  const bool ok = r.ec == std::errc() && r.ptr == s.data() + s.size();
  const bool read = read_double(s, got);
  REQUIRE_MESSAGE(read == ok, s);
  if (!ok) return;
  uint64_t a, b;
  std::memcpy(&a, &want, 8), std::memcpy(&b, &got, 8);
  if (std::isnan(want)) REQUIRE_MESSAGE(std::isnan(got), s);
  else REQUIRE_MESSAGE(a == b, s << ": " << number_text(got) << " instead of " << number_text(want));
}
}  // namespace

TEST_CASE("read_double gives fast_float's double for every kind of decimal") {
  for (const char* s : {"0", "-0", "0.0e5", "00012.5000", "1e-400", "1e400", "-1e400", "2.4703282292062327e-324",
                        "2.4703282292062328e-324", "4.9406564584124654e-324", "1.7976931348623157e308",
                        "1.7976931348623158e308", "1.7976931348623159e308", "1.797693134862315807e308",
                        "2.2250738585072011e-308", "2.2250738585072014e-308", "9007199254740993", "9007199254740992.5",
                        "18446744073709551615", "18446744073709551616", "1e22", "1e23", "8.98846567431158e307", "inf",
                        "-Infinity", "INF", "infinit", "nan", "NaN(123_x)", "nan(", "nan()", "nan(a-b)", ".5", "5.", ".", "-",
                        "", "1e", "1e+", "1e-", "e5", "1.2.3", "--1", "+1", "-.e1", "0x10", "1e+0005", "1e99999999",
                        "1e-99999999", "0.000000000000000000000000000000000001234", "123456789012345678901234567890e-50"})
    same_as_fast_float(s);
  uint64_t state = 0x2545F4914F6CDD1Du;
  const auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  char buf[64];
  for (int i = 0; i < 100000; ++i) {
    // Doubles of every exponent, written as printf writes them at several precisions.
    double v;
    const uint64_t bits = next();
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) {
      for (int precision : {17, 16, 9, 3}) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        same_as_fast_float(buf);
      }
    }
    // Digit strings of 1 to 40 digits with a point somewhere and exponents across the range.
    std::string s;
    const int n = 1 + static_cast<int>(next() % 40), point = static_cast<int>(next() % (n + 1));
    for (int k = 0; k < n; ++k) {
      if (k == point) s += '.';
      s += static_cast<char>('0' + next() % 10);
    }
    if (next() % 2) s += "e" + std::to_string(static_cast<int>(next() % 700) - 360);
    same_as_fast_float(s);
  }
  // 800 digits: beyond the digits kept, a nonzero digit still decides a tie.
  same_as_fast_float("9007199254740993" + std::string(784, '0'));
  same_as_fast_float("9007199254740993" + std::string(783, '0') + "1");
  same_as_fast_float("0." + std::string(320, '0') + "24703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-2");
}

#if defined(__x86_64__) && !defined(__EMSCRIPTEN__)
TEST_CASE("read_double rounds exact midpoints between doubles to even, and just past them away") {
  // x86-64's long double holds the midpoint of two doubles exactly; glibc prints it exactly.
  uint64_t state = 0x9E3779B97F4A7C15u;
  char buf[1200];
  for (int i = 0; i < 3000; ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    double c;
    const uint64_t bits = state & 0x7fffffffffffffffu;
    std::memcpy(&c, &bits, sizeof c);
    if (!std::isfinite(c) || c == std::numeric_limits<double>::max()) continue;
    const long double mid = (static_cast<long double>(c) + std::nextafter(c, INFINITY)) / 2;
    std::snprintf(buf, sizeof buf, "%.1100Le", mid);
    std::string s = buf;
    const size_t e = s.find('e');
    std::string digits = s.substr(0, e), exponent = s.substr(e);
    while (digits.back() == '0') digits.pop_back();
    same_as_fast_float(digits + exponent);
    same_as_fast_float(digits + "1" + exponent);
  }
}
#endif
