#include "parse.h"

#include <fast_float/fast_float.h>

#include <cmath>
#include <string>
#include <system_error>

namespace qe {

namespace {

bool is_separator(char c) { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The token as a message shows it: quoted, and cut short when long.
std::string shown(std::string_view token) {
  constexpr size_t kMax = 24;
  if (token.size() <= kMax) return "\"" + std::string(token) + "\"";
  size_t cut = kMax;  // never inside a UTF-8 sequence
  while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
  return "\"" + std::string(token.substr(0, cut)) + "…\"";
}

}  // namespace

Result<std::vector<double>> parse_values(std::string_view text) {
  std::vector<double> values;
  const char* p = text.data();
  const char* end = p + text.size();
  while (true) {
    while (p < end && is_separator(*p)) ++p;
    if (p == end) break;
    const char* start = p;
    while (p < end && !is_separator(*p)) ++p;
    const std::string_view token(start, static_cast<size_t>(p - start));
    const auto index = static_cast<int64_t>(values.size());
    const std::string where = "Sample " + std::to_string(index + 1) + ": ";
    // fast_float takes no leading '+'; a sign is only valid right before a digit or a point.
    const char* first = start;
    if (*first == '+' && first + 1 < p && *(first + 1) != '-' && *(first + 1) != '+') ++first;
    double v = 0;
    const auto r = fast_float::from_chars(first, p, v);
    const bool spelled_special = token.find_first_of("iInN") != std::string_view::npos;
    if (r.ptr == p &&
        (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && std::isinf(v) && !spelled_special)))
      return Error{"values", index, where + shown(token) + " is outside the range of a double (about ±1.8e308)"};
    if (r.ec != std::errc() || r.ptr != p) return Error{"values", index, where + shown(token) + " is not a number"};
    if (!std::isfinite(v)) return Error{"values", index, where + shown(token) + " is not a finite number"};
    values.push_back(v);
  }
  return values;
}

}  // namespace qe
