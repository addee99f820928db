// read_double() against the C library's strtod (correctly rounded, in glibc and in musl) on long
// digit strings: more significant digits than read_double keeps (768), where a nonzero digit past
// them becomes a sticky 1. The kept digits' trailing zeros once went first, so the sticky 1 took
// their place: "0.1" + 767 zeros + "1" read 0.11. Seeded random strings around and far past the
// boundary, runs of zeros before the last digit, a point anywhere, exponents that bring the value
// near 1, near the subnormals and near the largest double.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "parse.h"

namespace {

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

double c_strtod(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

}  // namespace

TEST_CASE("read_double equals strtod on digit strings longer than the 768 digits it keeps") {
  double got = 0;
  // The two the audit found.
  const std::string a = "0.1" + std::string(767, '0') + "1";
  REQUIRE(qe::read_double(a, got));
  CHECK(same(got, c_strtod(a)));
  CHECK(got == 0.1);
  const std::string b = "1" + std::string(767, '0') + "1e-768";
  REQUIRE(qe::read_double(b, got));
  CHECK(got == 1.0);
  // A tie that only the sticky digit breaks: 2^53 + 1 (halfway between two doubles), then zeros
  // past the 768th digit, then a 1 that rounds it up.
  const std::string tie = "9007199254740993" + std::string(800, '0') + "1e-801";
  REQUIRE(qe::read_double(tie, got));
  CHECK(got == 9007199254740994.0);
  CHECK(same(got, c_strtod(tie)));

  std::mt19937_64 rng(768);
  const auto pick = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
  int mismatches = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t digits = 700 + pick(trial % 4 == 0 ? 2000 : 140);
    std::string d;
    d += static_cast<char>('1' + pick(9));
    // Mostly zeros after a short head (the sticky case), or random digits throughout.
    const bool sparse = trial % 2 == 0;
    const size_t head = 1 + pick(20);
    for (size_t k = 1; k < digits; ++k) d += static_cast<char>('0' + (sparse && k >= head ? 0 : pick(10)));
    if (sparse && pick(3)) d.back() = static_cast<char>('1' + pick(9));
    const size_t point = pick(digits + 1);
    std::string s = pick(2) ? "-" : "";
    if (point == 0) s += "0." + d;
    else if (point == digits) s += d;
    else s += d.substr(0, point) + "." + d.substr(point);
    // Exponents: the value near 1, anywhere, near the subnormals, near the largest double.
    const int magnitude = static_cast<int>(point);
    const int target = trial % 5 == 0 ? -300 - static_cast<int>(pick(30)) : trial % 5 == 1 ? 300 + static_cast<int>(pick(9)) : static_cast<int>(pick(40)) - 20;
    s += "e" + std::to_string(target - magnitude);
    REQUIRE(qe::read_double(s, got));
    const double want = c_strtod(s);
    if (!same(got, want)) {
      if (++mismatches <= 5) FAIL_CHECK(s.substr(0, 40) << "… (" << s.size() << " characters): read " << got << ", strtod " << want);
    }
  }
  CHECK(mismatches == 0);
}
