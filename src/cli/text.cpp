#include "text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace qe::cli {

std::string num(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char b[32];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

std::string short_num(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string json_num(double v) { return std::isfinite(v) ? num(v) : "null"; }

std::string json_num_or_infinity(double v) { return v == INFINITY ? "\"Infinity\"" : json_num(v); }

std::string json_string(const std::string& s) {
  std::string q = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      q += '\\', q += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      q += b;
    } else {
      q += static_cast<char>(c);
    }
  }
  return q + "\"";
}

std::string csv_cell(const std::string& s) {
  std::string t = s;
  if (!t.empty() && std::string_view("=+-@\t\r").find(t[0]) != std::string_view::npos) t = "'" + t;
  if (t.find_first_of(",\"\r\n") == std::string::npos) return t;
  std::string q = "\"";
  for (char c : t) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace qe::cli
