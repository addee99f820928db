// The command line's --tensor filter (src/cli/name_pattern.h) against std::regex_search on
// seeded random patterns and names (short ones, where std::regex is safe), then on the names
// that broke std::regex: a 100,000-byte name, and patterns that backtrack exponentially.
#include "name_pattern.h"

#include <doctest/doctest.h>

#include <random>
#include <regex>
#include <string>

using qe::cli::NamePattern;

namespace {

#ifdef __GLIBCXX__
constexpr bool kLibstdcxx = true;
#else
constexpr bool kLibstdcxx = false;
#endif

NamePattern compiled(const std::string& p) {
  auto r = NamePattern::compile(p);
  if (auto* e = std::get_if<std::string>(&r)) FAIL(p << ": " << *e);
  return std::get<NamePattern>(std::move(r));
}

std::string refusal(const std::string& p) {
  auto r = NamePattern::compile(p);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "";
}

// A random pattern of the syntax both accept alike.
std::string random_pattern(std::mt19937& rng, int depth) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string out;
  const int parts = 1 + pick(3);
  for (int i = 0; i < parts; ++i) {
    std::string atom;
    switch (depth > 0 ? pick(9) : pick(12)) {
      case 0: case 1: case 2: atom = std::string(1, "ab_1"[pick(4)]); break;
      case 3: atom = "."; break;
      case 4: atom = std::string("[") + (pick(2) ? "^" : "") + (pick(2) ? "a-b" : "a_") + "]"; break;
      case 5: atom = std::string("\\") + "dwsDWS"[pick(6)]; break;
      case 6: atom = pick(2) ? "\\." : "\\b"; break;
      case 7: atom = pick(2) ? "^" : "$"; break;
      case 8: atom = "\\B"; break;
      default: atom = std::string(pick(2) ? "(" : "(?:") + random_pattern(rng, depth + 1) + (pick(3) ? "" : "|" + random_pattern(rng, depth + 1)) + ")"; break;
    }
    const bool assertion = atom == "^" || atom == "$" || atom == "\\b" || atom == "\\B";
    if (!assertion) {
      switch (pick(8)) {
        case 0: atom += "*"; break;
        case 1: atom += "+"; break;
        case 2: atom += "?"; break;
        case 3: atom += "{" + std::to_string(pick(3)) + "," + std::to_string(2 + pick(2)) + "}"; break;
        case 4: atom += "{2}"; break;
        case 5: atom += pick(2) ? "*?" : "+?"; break;
        default: break;
      }
    }
    out += atom;
  }
  if (pick(6) == 0) out += "|" + random_pattern(rng, depth + 1);
  return out;
}

}  // namespace

// The reference is libstdc++'s std::regex, which the command line (a native GCC build) used
// before: libc++'s (the wasm build of this suite) misses empty matches at the end ("$" on "a").
TEST_CASE("--tensor patterns: the same answers as std::regex_search on 5,000 random patterns, 8 names each" *
          doctest::skip(!kLibstdcxx)) {
  std::mt19937 rng(11);
  int matches = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    const std::string p = random_pattern(rng, 0);
    const NamePattern mine = compiled(p);
    const std::regex theirs(p, std::regex::ECMAScript);
    for (int k = 0; k < 8; ++k) {
      std::string name;
      const size_t n = rng() % 9;
      for (size_t i = 0; i < n; ++i) name += "ab_1 .\n"[rng() % 7];
      const bool want = std::regex_search(name, theirs);
      matches += want;
      if (mine.search(name) != want) FAIL_CHECK("pattern " << p << " on \"" << name << "\": std::regex says " << want);
    }
  }
  CHECK(matches > 10000);  // both answers occur often
}

TEST_CASE("--tensor patterns: linear time on long names, and what has no linear-time form is refused") {
  const std::string long_name(100000, 'a');
  CHECK_FALSE(compiled("a.*b").search(long_name));
  CHECK(compiled("a.*a$").search(long_name));
  CHECK_FALSE(compiled("(a|a)*b").search(long_name));
  CHECK_FALSE(compiled("(a*)*b").search(long_name));
  std::string dotted;
  for (int i = 0; i < 50000; ++i) dotted += "a.";
  CHECK_FALSE(compiled("^(\\w+\\.)*weight$").search(dotted + "x"));
  CHECK(compiled("^(\\w+\\.)*weight$").search(dotted + "weight"));
  CHECK(compiled("blk\\.[0-9]+\\.attn").search("model.blk.12.attn_q.weight"));
  CHECK(compiled("\\x41\\u0062").search("xAb"));
  CHECK(compiled("(?<layer>blk)\\.").search("blk.0"));
  CHECK(refusal("(a)\\1") == "a backreference, which has no linear-time form, at character 5");
  CHECK(refusal("(?=a)") == "lookaround, which has no linear-time form, at character 2");
  CHECK(refusal("a**") == "nothing to repeat at character 3");
  CHECK(refusal("*a") == "nothing to repeat at character 1");
  CHECK(refusal("^*") == "nothing to repeat at character 2");
  CHECK(refusal("[b-a]") == "a range out of order in [...] at character 5");
  CHECK(refusal("(ab") == "a '(' that is not closed at character 4");
  CHECK(refusal("ab)") == "an unmatched ')' at character 3");
  CHECK(refusal("a{1001}") == "a repeat count above 1000 at character 6");
  CHECK(refusal("\\q") == "an unknown escape \\q at character 2");
  CHECK(refusal("(a{1000}){1000}").rfind("a pattern too large (more than 100000 states)", 0) == 0);
}
