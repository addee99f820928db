#include "parse.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

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

// |v| in decimal, exactly: digits d1 d2 … (d1 ≠ 0) and the exponent e of v = d1.d2… × 10^e.
// v = m·2^k with m a 53-bit integer: for k ≥ 0 the integer m·2^k, for k < 0 m·5^−k·10^k; the
// integer is a little-endian array of 32-bit limbs, its digits read off by division by 10^9.
struct Decimal {
  std::string digits;
  int exponent = 0;
};

Decimal exact_decimal(double v) {
  int e2 = 0;
  const double frac = std::frexp(std::fabs(v), &e2);  // |v| = frac · 2^e2, frac in [0.5, 1)
  auto m = static_cast<uint64_t>(std::ldexp(frac, 53));
  int k = e2 - 53;
  while ((m & 1) == 0) m >>= 1, ++k;
  std::vector<uint32_t> n{static_cast<uint32_t>(m), static_cast<uint32_t>(m >> 32)};
  const auto times = [&n](uint32_t f) {
    uint64_t carry = 0;
    for (uint32_t& limb : n) {
      const uint64_t t = uint64_t{limb} * f + carry;
      limb = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry) n.push_back(static_cast<uint32_t>(carry));
  };
  for (int i = 0; i < k; ++i) times(2);
  for (int i = 0; i < -k; ++i) times(5);
  std::string backwards;  // least significant digit first
  while (n.size() > 1 || n[0] != 0) {
    uint64_t rem = 0;
    for (size_t i = n.size(); i-- > 0;) {
      const uint64_t cur = (rem << 32) | n[i];
      n[i] = static_cast<uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (n.size() > 1 && n.back() == 0) n.pop_back();
    const bool last = n.size() == 1 && n[0] == 0;
    for (int d = 0; d < 9 && (!last || rem != 0); ++d, rem /= 10) backwards.push_back(static_cast<char>('0' + rem % 10));
  }
  Decimal d;
  d.digits.assign(backwards.rbegin(), backwards.rend());
  d.exponent = static_cast<int>(d.digits.size()) - 1 + (k < 0 ? k : 0);
  return d;
}

// The exact digits rounded to p significant digits, half to even.
Decimal rounded(const Decimal& exact, size_t p) {
  Decimal r{exact.digits.substr(0, p), exact.exponent};
  if (exact.digits.size() <= p) return r;
  const char next = exact.digits[p];
  const bool rest_zero = exact.digits.find_first_not_of('0', p + 1) == std::string::npos;
  const bool up = next > '5' || (next == '5' && (!rest_zero || (r.digits.back() - '0') % 2 == 1));
  if (up) {
    size_t i = p;
    while (i > 0 && r.digits[i - 1] == '9') r.digits[--i] = '0';
    if (i == 0) {
      r.digits.insert(r.digits.begin(), '1');
      r.digits.pop_back();
      ++r.exponent;
    } else {
      ++r.digits[i - 1];
    }
  }
  return r;
}

// printf's %.Pg for P = digits.size(), trailing zeros dropped.
std::string g_style(const Decimal& d, bool negative) {
  std::string digits = d.digits;
  const int x = d.exponent, p = static_cast<int>(digits.size());
  std::string out = negative ? "-" : "";
  if (p > x && x >= -4) {
    if (x < 0) {
      out += "0." + std::string(static_cast<size_t>(-x - 1), '0') + digits;
    } else {
      digits.resize(std::max(digits.size(), static_cast<size_t>(x) + 1), '0');
      out += digits.substr(0, static_cast<size_t>(x) + 1);
      if (digits.size() > static_cast<size_t>(x) + 1) out += "." + digits.substr(static_cast<size_t>(x) + 1);
    }
    if (out.find('.') != std::string::npos) {
      while (out.back() == '0') out.pop_back();
      if (out.back() == '.') out.pop_back();
    }
    return out;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int a = x < 0 ? -x : x;
  out += std::string(x < 0 ? "e-" : "e+") + (a < 10 ? "0" : "") + std::to_string(a);
  return out;
}

}  // namespace

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  const Decimal exact = exact_decimal(v);
  for (size_t p = 1;; ++p) {
    const std::string text = g_style(rounded(exact, p), v < 0);
    double back = 0;
    fast_float::from_chars(text.data(), text.data() + text.size(), back);
    if (back == v || p >= 17) return text;
  }
}

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
