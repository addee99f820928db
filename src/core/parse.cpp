#include "parse.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace qe {

namespace {

bool is_separator(char c) { return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Unsigned integers of any size: little-endian 32-bit limbs, exact, for the slow paths of reading
// and writing decimals (they run only where double arithmetic alone cannot be exact).
using Big = std::vector<uint32_t>;

void times(Big& n, uint32_t f, uint32_t add = 0) {
  uint64_t carry = add;
  for (uint32_t& limb : n) {
    const uint64_t t = uint64_t{limb} * f + carry;
    limb = static_cast<uint32_t>(t);
    carry = t >> 32;
  }
  if (carry) n.push_back(static_cast<uint32_t>(carry));
}

void times_pow5(Big& n, int k) {
  for (; k >= 13; k -= 13) times(n, 1220703125u);  // 5^13
  uint32_t f = 1;
  while (k-- > 0) f *= 5;
  times(n, f);
}

void shift_left(Big& n, int bits) {
  const size_t limbs = static_cast<size_t>(bits / 32), size = n.size();
  const int b = bits % 32;
  n.resize(size + limbs + 1, 0u);
  for (size_t i = size + limbs + 1; i-- > limbs;) {
    const size_t from = i - limbs;  // the limb that lands here, and the one below it
    const uint32_t high = from < size ? n[from] << b : 0;
    const uint32_t low = b && from >= 1 ? n[from - 1] >> (32 - b) : 0;
    n[i] = high | low;
  }
  for (size_t i = 0; i < limbs; ++i) n[i] = 0;
}

int compare(Big a, Big b) {
  while (a.size() > 1 && a.back() == 0) a.pop_back();
  while (b.size() > 1 && b.back() == 0) b.pop_back();
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = a.size(); i-- > 0;)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

Big big(uint64_t v) { return Big{static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)}; }

// |v| in decimal, exactly: digits d1 d2 … (d1 ≠ 0) and the exponent e of v = d1.d2… × 10^e.
// v = m·2^k with m a 53-bit integer: for k ≥ 0 the integer m·2^k, for k < 0 m·5^−k·10^k; its
// digits are read off by division by 10^9.
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
  Big n = big(m);
  if (k > 0) shift_left(n, k);
  if (k < 0) times_pow5(n, -k);
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

// ---- Reading a decimal: the double nearest to it, ties to even -----------------------------
//
// value = D·10^E, D the significant digits as an integer (at most 768 kept; any nonzero digit
// beyond adds a sticky 1, which decides the same way the lost digits would). Three ways, each
// exact: D < 2^53 and |E| ≤ 22, one IEEE multiplication or division of exact doubles; D < 2^64
// and |E| ≤ 27, 128-bit integer arithmetic rounded once; otherwise a close double stepped up or
// down while exact comparisons with the midpoints to its neighbours say it is not the nearest.

__extension__ typedef unsigned __int128 U128;  // GCC and Clang (wasm32 too): 64×64-bit products, 128/64 division

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int bit_length(U128 v) {
  int n = 0;
  while (v) v >>= 1, ++n;
  return n;
}

// q·2^e2 rounded to 53 bits, half to even; `sticky`: something nonzero lies below q's last bit.
double round_scaled(U128 q, int e2, bool sticky) {
  const int shift = bit_length(q) - 53;
  if (shift <= 0) return std::ldexp(static_cast<double>(static_cast<uint64_t>(q)), e2);  // exact
  const U128 one = 1, rest = q & ((one << shift) - 1), half = one << (shift - 1);
  auto m = static_cast<uint64_t>(q >> shift);
  if (rest > half || (rest == half && (sticky || (m & 1)))) ++m;  // 2^53 after the carry is still exact
  return std::ldexp(static_cast<double>(m), e2 + shift);
}

// (hi·2^64 + lo) / d for hi < d: the 64-bit quotient and the remainder, by Knuth's algorithm D
// on 32-bit digits (Hacker's Delight, divlu) in the 64-bit arithmetic wasm has natively.
uint64_t divide(uint64_t hi, uint64_t lo, uint64_t d, uint64_t& rem) {
  constexpr uint64_t b = uint64_t{1} << 32;
  const int s = __builtin_clzll(d);
  d <<= s;
  const uint64_t vn1 = d >> 32, vn0 = d & 0xffffffff;
  const uint64_t un32 = (hi << s) | (s ? lo >> (64 - s) : 0), un10 = lo << s;
  const uint64_t un1 = un10 >> 32, un0 = un10 & 0xffffffff;
  uint64_t q1 = un32 / vn1, rhat = un32 - q1 * vn1;
  while (q1 >= b || q1 * vn0 > b * rhat + un1) {
    --q1, rhat += vn1;
    if (rhat >= b) break;
  }
  const uint64_t un21 = un32 * b + un1 - q1 * d;
  uint64_t q0 = un21 / vn1;
  rhat = un21 - q0 * vn1;
  while (q0 >= b || q0 * vn0 > b * rhat + un0) {
    --q0, rhat += vn1;
    if (rhat >= b) break;
  }
  rem = (un21 * b + un0 - q0 * d) >> s;
  return q1 * b + q0;
}

// The midpoint between c (finite, ≥ 0) and the next double up, as M·2^F; `odd`: c's last bit.
void upper_midpoint(double c, uint64_t& m, int& f, bool& odd) {
  if (c == 0) {
    m = 1, f = -1075, odd = false;
    return;
  }
  int e = 0;
  const double frac = std::frexp(c, &e);
  auto mc = static_cast<uint64_t>(std::ldexp(frac, 53));
  int ec = e - 53;
  if (ec < -1074) mc >>= (-1074 - ec), ec = -1074;  // subnormal: a multiple of 2^-1074
  m = 2 * mc + 1, f = ec - 1, odd = (mc & 1) != 0;
}

// Sign of D·10^E − M·2^F, exactly.
int compare_with(const Big& d, int e10, uint64_t m, int f) {
  Big a = d, b = big(m);
  if (e10 >= 0) times_pow5(a, e10);
  else times_pow5(b, -e10);
  if (e10 > f) shift_left(a, e10 - f);
  else shift_left(b, f - e10);
  return compare(std::move(a), std::move(b));
}

double nearest_slow(std::string_view digits, int e10) {
  // A start within a few units in the last place: the first 19 digits, scaled by exact powers.
  const size_t n19 = std::min<size_t>(digits.size(), 19);
  uint64_t d19 = 0;
  for (size_t i = 0; i < n19; ++i) d19 = d19 * 10 + static_cast<uint64_t>(digits[i] - '0');
  int e = e10 + static_cast<int>(digits.size() - n19);
  double c = static_cast<double>(d19);
  for (; e > 22; e -= 22) c *= 1e22;
  for (; e < -22; e += 22) c /= 1e22;
  c = e >= 0 ? c * kPow10[e] : c / kPow10[-e];
  if (std::isinf(c)) c = std::numeric_limits<double>::max();
  Big d;
  d.push_back(0);
  for (char ch : digits) times(d, 10, static_cast<uint32_t>(ch - '0'));
  for (int step = 0; step < 4096; ++step) {
    uint64_t m = 0;
    int f = 0;
    bool odd = false;
    upper_midpoint(c, m, f, odd);
    const int up = compare_with(d, e10, m, f);
    if (up > 0 || (up == 0 && odd)) {
      c = std::nextafter(c, std::numeric_limits<double>::infinity());
      if (std::isinf(c)) return c;
      continue;
    }
    if (c > 0) {
      const double below = std::nextafter(c, 0.0);
      upper_midpoint(below, m, f, odd);
      const int down = compare_with(d, e10, m, f);
      if (down < 0 || (down == 0 && !odd)) {
        c = below;
        continue;
      }
    }
    break;
  }
  return c;
}

bool equals_lower(std::string_view s, const char* word) {
  size_t i = 0;
  for (; word[i]; ++i)
    if (i >= s.size() || (s[i] | 0x20) != word[i]) return false;
  return i == s.size();
}

}  // namespace

bool read_double(std::string_view s, double& out) {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  const double sign = negative ? -1.0 : 1.0;
  // inf, infinity, nan and nan(letters, digits, _), in any case.
  if (equals_lower(s, "inf") || equals_lower(s, "infinity")) return out = sign * std::numeric_limits<double>::infinity(), true;
  if (s.size() >= 3 && equals_lower(s.substr(0, 3), "nan")) {
    std::string_view rest = s.substr(3);
    if (!rest.empty()) {
      if (rest.front() != '(' || rest.back() != ')' || rest.size() < 2) return false;
      for (char ch : rest.substr(1, rest.size() - 2))
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
    }
    return out = std::numeric_limits<double>::quiet_NaN(), true;
  }
  constexpr size_t kMaxDigits = 768;
  char digits[kMaxDigits + 1];  // the significant digits, without leading zeros
  size_t n = 0;
  int e10 = 0;
  bool any_digit = false, lost_nonzero = false;
  size_t i = 0;
  const auto is_digit = [&](size_t at) { return at < s.size() && s[at] >= '0' && s[at] <= '9'; };
  for (; is_digit(i); ++i) {
    any_digit = true;
    if (n == 0 && s[i] == '0') continue;
    if (n < kMaxDigits) digits[n++] = s[i];
    else ++e10, lost_nonzero |= s[i] != '0';
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; is_digit(i); ++i) {
      any_digit = true;
      if (n == 0 && s[i] == '0') {
        --e10;
        continue;
      }
      if (n < kMaxDigits) digits[n++] = s[i], --e10;
      else lost_nonzero |= s[i] != '0';
    }
  }
  if (!any_digit) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    const bool minus = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!is_digit(i)) return false;
    int x = 0;
    for (; is_digit(i); ++i) x = std::min(x * 10 + (s[i] - '0'), 100000);  // far past any double
    e10 += minus ? -x : x;
  }
  if (i != s.size()) return false;
  // A nonzero digit past the kept ones: a sticky 1 right after them, so D·10 + 1 lies strictly
  // between D and D + 1 as the lost digits do. The kept digits' trailing zeros stay then
  // (stripped first, the 1 took their place: 0.1 + 767 zeros + 1 read 0.11).
  if (lost_nonzero) digits[n++] = '1', --e10;
  else
    while (n > 0 && digits[n - 1] == '0') --n, ++e10;
  if (n == 0) return out = sign * 0.0, true;
  const int magnitude = e10 + static_cast<int>(n);  // value in [10^(magnitude-1), 10^magnitude)
  if (magnitude > 310) return out = sign * std::numeric_limits<double>::infinity(), true;
  if (magnitude < -330) return out = sign * 0.0, true;
  if (n <= 19) {
    uint64_t d = 0;
    for (size_t k = 0; k < n; ++k) d = d * 10 + static_cast<uint64_t>(digits[k] - '0');
    if (d < (uint64_t{1} << 53) && e10 >= -22 && e10 <= 22) {
      const double x = static_cast<double>(d);
      return out = sign * (e10 >= 0 ? x * kPow10[e10] : x / kPow10[-e10]), true;
    }
    if (e10 >= -27 && e10 <= 27) {
      uint64_t p5 = 1;  // 5^27 < 2^63
      for (int k = 0; k < (e10 < 0 ? -e10 : e10); ++k) p5 *= 5;
      if (e10 >= 0) return out = sign * round_scaled(static_cast<U128>(d) * p5, e10, false), true;  // D·5^E·2^E
      // D·2^s / 5^k · 2^(−s−k), s chosen so that the quotient has 63 or 64 bits (below 2^64).
      const int shift = 63 + bit_length(p5) - bit_length(d);
      const uint64_t hi = shift >= 64 ? d << (shift - 64) : d >> (64 - shift), lo = shift >= 64 ? 0 : d << shift;
      uint64_t rem = 0;
      const uint64_t q = divide(hi, lo, p5, rem);
      return out = sign * round_scaled(q, e10 - shift, rem != 0), true;
    }
  }
  return out = sign * nearest_slow(std::string_view(digits, n), e10), true;
}

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  const Decimal exact = exact_decimal(v);
  for (size_t p = 1;; ++p) {
    const std::string text = g_style(rounded(exact, p), v < 0);
    double back = 0;
    read_double(text, back);
    if (back == v || p >= 17) return text;
  }
}

namespace {

// Where a number or a name ends: a separator, a bracket, or '=' (a keyword argument).
bool ends_token(char c) { return is_separator(c) || c == '[' || c == ']' || c == '(' || c == ')' || c == '='; }

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

// Whether `word` is one of the words of `list` (apart by single spaces).
[[gnu::noinline]] bool one_of(std::string_view word, std::string_view list) {
  for (size_t at = 0; at <= list.size();) {
    const size_t end = std::min(list.find(' ', at), list.size());
    if (list.substr(at, end - at) == word) return true;
    at = end + 1;
  }
  return false;
}

// The calls whose arguments are printed values: tensor(…) and array(…) as PyTorch, NumPy and JAX
// print tensors (after np., numpy., torch. or jnp. too), and NumPy's scalars such as
// np.float32(0.5).
[[gnu::noinline]] bool is_call(std::string_view s) {
  const size_t dot = s.find('.');
  const std::string_view prefix = dot == std::string_view::npos ? std::string_view() : s.substr(0, dot);
  const std::string_view name = dot == std::string_view::npos ? s : s.substr(dot + 1);
  if (one_of(name, "tensor array Array")) return prefix.empty() || one_of(prefix, "np numpy torch jnp");
  return one_of(prefix, "np numpy") && one_of(name, "float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64");
}

// The end of a keyword argument's value at p — dtype=torch.float16, device='cuda:0',
// requires_grad=True, grad_fn=<AddBackward0>, size=(2, 3), scale=0.1 — or null when there is none
// or something other than a separator or ')' follows it. The value is never a sample.
const char* value_end(const char* p, const char* end) {
  const char* q = p;
  if (q < end && (*q == '\'' || *q == '"' || *q == '<' || *q == '(')) {
    q = std::find(q + 1, end, *q == '<' ? '>' : *q == '(' ? ')' : *q);
    if (q++ == end) return nullptr;
  } else {
    while (q < end && (std::isalnum(static_cast<unsigned char>(*q)) || *q == '_' || *q == '.' || *q == '+' ||
                       *q == '-' || *q == ':'))
      ++q;
    if (q == p) return nullptr;
  }
  return q == end || is_separator(*q) || *q == ')' ? q : nullptr;
}

// Always false, for `return refuse(…)`: "Sample 3: "abc" is not a number", the sample where
// reading stopped, the text (quoted, cut short when long, never inside a UTF-8 sequence) and the
// reason.
[[gnu::noinline]] bool refuse(Error& error, size_t index, std::string_view token, const char* what) {
  constexpr size_t kMax = 24;
  size_t cut = std::min(token.size(), kMax);
  while (cut < token.size() && cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
  std::string m = "Sample ";
  m += std::to_string(index + 1);
  m += ": \"";
  m.append(token.data(), cut);
  m += cut < token.size() ? "…\"" : "\"";
  m += what;
  error = Error{"values", static_cast<int64_t>(index), std::move(m)};
  return false;
}

// read_values into `out`; false with `error` set where the text is refused.
[[gnu::noinline]] bool read_into(std::string_view text, ParsedValues& out, Error& error) {
  std::vector<double>& values = out.values;
  // The brackets open, innermost last: '[', '(', or 'c' for a call's '(' (no deeper than the text
  // is long).
  const std::unique_ptr<char[]> open(new char[text.size()]);
  size_t depth = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  std::string_view elided;  // the first "..."
  size_t elided_at = 0;
  // "1,5 2,5": a comma between two whole numbers (the first such pair: `pair`, from sample
  // pair_at) beside separators with a space, tab, newline or semicolon: maybe decimal commas.
  const char* last_end = nullptr;  // where the previous number ended
  const char* whole = nullptr;     // where it began, if digits alone
  std::string_view pair;
  size_t pair_at = 0;
  bool spaced = false;
  while (true) {
    while (p < end && is_separator(*p)) ++p;
    if (p == end) break;
    const size_t index = values.size();
    const char c = *p;
    if (c == '[' || c == '(') {
      open[depth++] = c;
      ++p;
      continue;
    }
    if (c == ']' || c == ')') {
      const char want = !depth ? 0 : open[depth - 1] == '[' ? ']' : ')';
      if (c != want)
        return refuse(error, index, std::string_view(p, 1),
                      !want         ? " has no opening bracket"
                      : want == ']' ? " where \"]\" was expected"
                                    : " where \")\" was expected");
      --depth;
      ++p;
      continue;
    }
    const char* start = p;
    while (p < end && !ends_token(*p)) ++p;
    const std::string_view token(start, static_cast<size_t>(p - start));
    const char next = p < end ? *p : 0;
    if (next == '(') {  // tensor(, array(, np.float32(
      if (!is_call(token)) return refuse(error, index, std::string_view(start, token.size() + 1), " is not a number");
      open[depth++] = 'c';
      ++p;
      continue;
    }
    if (next == '=') {  // dtype=float32, inside tensor(…) or array(…)
      const bool in_call = depth && open[depth - 1] == 'c';
      const char* v = token.empty() || !in_call ? nullptr : value_end(p + 1, end);
      if (!v) {
        while (p < end && !is_separator(*p) && *p != ')') ++p;
        return refuse(error, index, std::string_view(start, static_cast<size_t>(p - start)),
                      in_call ? " is not a keyword argument such as dtype=float32" : " is not a number");
      }
      p = v;
      continue;
    }
    if (one_of(token, "... \xE2\x80\xA6")) {  // how numpy and PyTorch elide a large tensor
      if (elided.empty()) elided = token, elided_at = index;
      continue;
    }
    // U+2212 MINUS SIGN reads as '-'; a leading '+' as no sign (a sign only right before a digit
    // or a point).
    char minus[40];
    std::string_view number = token;
    size_t u = 0;
    while (u < token.size() && token[u] != '\xE2') ++u;
    if (u < token.size() && token.size() < sizeof minus) {
      size_t n = 0;
      for (size_t i = 0; i < token.size(); ++i) {
        const bool sign = token.substr(i, 3) == "\xE2\x88\x92";
        minus[n++] = sign ? '-' : token[i];
        i += sign ? 2 : 0;
      }
      number = std::string_view(minus, n);
    }
    if (number.size() > 1 && number[0] == '+' && number[1] != '-' && number[1] != '+') number.remove_prefix(1);
    double v = 0;
    if (!read_double(number, v)) return refuse(error, index, token, " is not a number");
    if (!std::isfinite(v)) {
      const bool spelled_special = token.find_first_of("iInN") != std::string_view::npos;
      return refuse(error, index, token,
                    std::isinf(v) && !spelled_special ? " is outside the range of a double (about ±1.8e308)"
                                                      : " is not a finite number");
    }
    const bool digits = all_digits(token);
    if (last_end) {
      const std::string_view run(last_end, static_cast<size_t>(start - last_end));
      for (char ch : run) spaced |= is_separator(ch) && ch != ',';
      if (pair.empty() && whole && digits && run == ",")
        pair = std::string_view(whole, static_cast<size_t>(p - whole)), pair_at = index - 1;
    }
    last_end = p;
    whole = digits ? start : nullptr;
    values.push_back(v);
  }
  if (depth)
    return refuse(error, values.size(), open[depth - 1] == '[' ? "]" : ")", " is missing at the end of the text");
  if (!elided.empty()) out.notes.push_back(ParseNote{"elided", static_cast<int64_t>(elided_at), elided});
  if (spaced && !pair.empty()) out.notes.push_back(ParseNote{"decimal-comma", static_cast<int64_t>(pair_at), pair});
  return true;
}

}  // namespace

Result<ParsedValues> read_values(std::string_view text) {
  ParsedValues out;
  Error error;
  if (!read_into(text, out, error)) return error;
  return out;
}

Result<std::vector<double>> parse_values(std::string_view text) {
  auto r = read_values(text);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  return std::move(std::get<ParsedValues>(r).values);
}

}  // namespace qe
