#include "formats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qe {

uint32_t Minifloat::max_code() const {
  const uint32_t e_all = (1u << ebits) - 1, m_all = (1u << mbits) - 1;
  switch (specials) {
    case Specials::Ieee:
      return ((e_all - 1) << mbits) | m_all;
    case Specials::FiniteNan:
      return (e_all << mbits) | (m_all - 1);
    case Specials::None:
      break;
  }
  return (e_all << mbits) | m_all;
}

double Minifloat::max_finite() const { return decode(max_code()); }
double Minifloat::min_normal() const { return std::ldexp(1.0, 1 - bias); }
double Minifloat::min_subnormal() const { return std::ldexp(1.0, 1 - bias - mbits); }

std::optional<uint32_t> Minifloat::nan_code() const {
  const uint32_t e_all = (1u << ebits) - 1, m_all = (1u << mbits) - 1;
  switch (specials) {
    case Specials::Ieee:  // the quiet NaN: top mantissa bit set
      return (e_all << mbits) | (mbits > 0 ? 1u << (mbits - 1) : 0u);
    case Specials::FiniteNan:
      return (e_all << mbits) | m_all;
    case Specials::None:
      break;
  }
  return std::nullopt;
}

std::optional<uint32_t> Minifloat::inf_code() const {
  if (specials != Specials::Ieee) return std::nullopt;
  return ((1u << ebits) - 1) << mbits;
}

bool Minifloat::is_nan(uint32_t code) const {
  const uint32_t mag = code & ((1u << (ebits + mbits)) - 1);
  const uint32_t e_all = (1u << ebits) - 1, m_all = (1u << mbits) - 1;
  switch (specials) {
    case Specials::Ieee:
      return (mag >> mbits) == e_all && (mag & m_all) != 0;
    case Specials::FiniteNan:
      return mag == ((e_all << mbits) | m_all);
    case Specials::None:
      break;
  }
  return false;
}

bool Minifloat::is_inf(uint32_t code) const {
  return specials == Specials::Ieee && (code & ((1u << (ebits + mbits)) - 1)) == *inf_code();
}

bool Minifloat::is_subnormal(uint32_t code) const {
  const uint32_t mag = code & ((1u << (ebits + mbits)) - 1);
  return (mag >> mbits) == 0 && mag != 0;
}

double Minifloat::decode(uint32_t code) const {
  const bool negative = (code >> (ebits + mbits)) & 1;
  const uint32_t e = (code >> mbits) & ((1u << ebits) - 1), m = code & ((1u << mbits) - 1);
  double v;
  if (is_nan(code)) v = std::numeric_limits<double>::quiet_NaN();
  else if (is_inf(code)) v = std::numeric_limits<double>::infinity();
  else if (e == 0) v = std::ldexp(static_cast<double>(m), 1 - bias - mbits);
  else v = std::ldexp(static_cast<double>((1u << mbits) + m), static_cast<int>(e) - bias - mbits);
  return negative ? -v : v;
}

uint32_t Minifloat::encode(double v, Overflow overflow, bool* overflowed, bool* tie) const {
  const uint32_t sign = std::signbit(v) ? 1u << (ebits + mbits) : 0u;
  if (overflowed) *overflowed = false;
  if (tie) *tie = false;
  if (std::isnan(v)) return nan_code().value_or(0);
  const uint32_t max = max_code();
  const auto beyond = [&]() -> uint32_t {
    if (overflowed) *overflowed = true;
    if (overflow == Overflow::InfNan && specials == Specials::Ieee) return sign | *inf_code();
    if (overflow == Overflow::InfNan && specials == Specials::FiniteNan) return sign | *nan_code();
    return sign | max;
  };
  const double a = std::fabs(v);
  if (std::isinf(a)) return beyond();
  if (a == 0) return sign;
  // a = f·2^k with f in [0.5, 1): its binade is 2^(k−1). Below the smallest normal binade the
  // spacing stays 2^(1−B−M) (the subnormals).
  int k;
  std::frexp(a, &k);
  const int binade = k - 1, emin = 1 - bias;
  if (binade > static_cast<int>(max >> mbits) - bias) return beyond();  // past the top binade
  const int quantum = std::max(binade, emin) - mbits;
  // a / 2^quantum is exact (a power-of-two scaling of a double), and nearbyint rounds it to
  // nearest even: r counts quanta, at most 2^(M+1).
  const double quanta = std::ldexp(a, -quantum);
  const double r = std::nearbyint(quanta);
  if (tie) *tie = quanta - std::floor(quanta) == 0.5;
  uint32_t mag;
  if (binade < emin) {
    mag = static_cast<uint32_t>(r);  // r = 2^M is the smallest normal: e = 1, m = 0, the same code
  } else {
    uint32_t e = static_cast<uint32_t>(binade + bias), m;
    if (r == std::ldexp(1.0, mbits + 1)) {
      e += 1;  // rounded up into the next binade
      m = 0;
    } else {
      m = static_cast<uint32_t>(r) - (1u << mbits);
    }
    mag = (e << mbits) | m;
  }
  return mag > max ? beyond() : sign | mag;
}

std::optional<std::string> check_minifloat(const Minifloat& f) {
  if (f.ebits < 1 || f.ebits > 8) return "Exponent bits must be from 1 to 8 (got " + std::to_string(f.ebits) + ")";
  if (f.mbits < 0 || f.mbits > 10) return "Mantissa bits must be from 0 to 10 (got " + std::to_string(f.mbits) + ")";
  if (f.ebits + f.mbits > 15)
    return "Exponent and mantissa bits must add up to at most 15 (got " + std::to_string(f.ebits + f.mbits) + ")";
  if (f.bias < -200 || f.bias > 200) return "Bias must be from −200 to 200 (got " + std::to_string(f.bias) + ")";
  if (f.specials == Specials::Ieee && f.ebits < 2)
    return "Inf and NaN take the top exponent: IEEE-style specials need at least 2 exponent bits";
  if (f.specials == Specials::FiniteNan && f.ebits + f.mbits < 2)
    return "A NaN code needs at least 2 exponent and mantissa bits together";
  // Every finite value must be a double that the encoder can reach without overflow.
  if (1 - f.bias - f.mbits < -1000 || ((1 << f.ebits) - f.bias) > 1000) return "The bias puts the values outside a double's range";
  return std::nullopt;
}

double E8M0::decode(uint32_t code) {
  return code == 255 ? std::numeric_limits<double>::quiet_NaN() : std::ldexp(1.0, static_cast<int>(code) - 127);
}

uint32_t E8M0::of_exponent(int k) { return static_cast<uint32_t>(std::clamp(k, -127, 127) + 127); }

const std::array<float, 16> kNf4Levels = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

const std::array<double, 15> kNf4Midpoints = [] {
  std::array<double, 15> m{};
  for (size_t k = 0; k < 15; ++k) m[k] = (static_cast<double>(kNf4Levels[k]) + static_cast<double>(kNf4Levels[k + 1])) / 2;
  return m;
}();

uint32_t nf4_encode(double v) {
  // Levels ascend: the answer is the number of midpoints strictly below v.
  uint32_t i = 0;
  while (i < 15 && v > kNf4Midpoints[i]) ++i;
  return i;
}

namespace {

constexpr Minifloat kE5M10{5, 10, 15, Specials::Ieee};
constexpr Minifloat kE8M7{8, 7, 127, Specials::Ieee};
constexpr Minifloat kE4M3{4, 3, 7, Specials::FiniteNan};
constexpr Minifloat kE5M2{5, 2, 15, Specials::Ieee};
constexpr Minifloat kE3M2{3, 2, 3, Specials::None};
constexpr Minifloat kE2M3{2, 3, 1, Specials::None};
constexpr Minifloat kE2M1{2, 1, 1, Specials::None};

constexpr const char* kOcpMx = "OCP Microscaling Formats (MX) v1.0";
constexpr const char* kOcpFp8 = "OCP 8-bit Floating Point Specification (OFP8) rev 1.0";

// Limits (max finite, min normal, min subnormal) follow from the fields; the tests table them.
const FormatInfo kFormats[] = {
    {NumberFormat::Int, "int", "Integer (scale and zero point)", {}, 0, "seed 004: the integer formulas"},
    {NumberFormat::Fp16, "fp16", "FP16 (IEEE binary16)", kE5M10, 0, "IEEE 754-2008 binary16"},
    {NumberFormat::Bf16, "bf16", "BF16 (bfloat16)", kE8M7, 0, "bfloat16: the top 16 bits of binary32"},
    {NumberFormat::Fp8E4m3, "fp8-e4m3", "FP8 E4M3 (E4M3FN)", kE4M3, 0, kOcpFp8},
    {NumberFormat::Fp8E5m2, "fp8-e5m2", "FP8 E5M2", kE5M2, 0, kOcpFp8},
    {NumberFormat::Fp6E3m2, "fp6-e3m2", "FP6 E3M2", kE3M2, 0, kOcpMx},
    {NumberFormat::Fp6E2m3, "fp6-e2m3", "FP6 E2M3", kE2M3, 0, kOcpMx},
    {NumberFormat::Fp4E2m1, "fp4-e2m1", "FP4 E2M1", kE2M1, 0, kOcpMx},
    {NumberFormat::Custom, "custom", "Custom minifloat", kE4M3, 0, "exponent bits, mantissa bits, bias and specials as given"},
    {NumberFormat::Mxfp8E4m3, "mxfp8-e4m3", "MXFP8 E4M3", kE4M3, 32, kOcpMx},
    {NumberFormat::Mxfp8E5m2, "mxfp8-e5m2", "MXFP8 E5M2", kE5M2, 32, kOcpMx},
    {NumberFormat::Mxfp6E3m2, "mxfp6-e3m2", "MXFP6 E3M2", kE3M2, 32, kOcpMx},
    {NumberFormat::Mxfp6E2m3, "mxfp6-e2m3", "MXFP6 E2M3", kE2M3, 32, kOcpMx},
    {NumberFormat::Mxfp4, "mxfp4", "MXFP4 (E2M1)", kE2M1, 32, kOcpMx},
    {NumberFormat::Mxint8, "mxint8", "MXINT8", {}, 32, kOcpMx},
    {NumberFormat::Nvfp4, "nvfp4", "NVFP4", kE2M1, 16, "NVIDIA Blackwell NVFP4 (TensorRT-ModelOpt's two-level scaling)"},
    {NumberFormat::Nf4, "nf4", "NF4 (NormalFloat 4)", {}, 64, "QLoRA (Dettmers et al., 2023); bitsandbytes"},
    // Its types are tabled in gguf_quants.cpp (kGgmlTypes); parse_format leaves their names to
    // select_ggml_format (analyze.h).
    {NumberFormat::Ggml, "ggml", "llama.cpp (ggml) block type", {}, 0, "ggml-org/ggml: ggml-quants.c"},
};

}  // namespace

const FormatInfo& format_info(NumberFormat f) {
  for (const FormatInfo& i : kFormats)
    if (i.format == f) return i;
  return kFormats[0];
}

std::optional<NumberFormat> parse_format(const std::string& s) {
  for (const FormatInfo& i : kFormats)
    if (s == i.name && i.format != NumberFormat::Ggml) return i.format;
  return std::nullopt;
}

const char* to_string(NumberFormat f) { return format_info(f).name; }

const char* to_string(Overflow o) { return o == Overflow::Saturate ? "saturate" : "inf-nan"; }

std::optional<Overflow> parse_overflow(const std::string& s) {
  if (s == "saturate") return Overflow::Saturate;
  if (s == "inf-nan") return Overflow::InfNan;
  return std::nullopt;
}

const char* to_string(MxScale m) {
  switch (m) {
    case MxScale::Floor: return "floor";
    case MxScale::Ceil: return "ceil";
    case MxScale::Even: return "even";
    case MxScale::Rceil: return "rceil";
  }
  return "floor";
}

std::optional<MxScale> parse_mx_scale(const std::string& s) {
  for (MxScale m : {MxScale::Floor, MxScale::Ceil, MxScale::Even, MxScale::Rceil})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

int mx_scale_exponent(double amax, MxScale rule, double max, int mbits) {
  int e;  // amax = f·2^e with f in [0.5, 1): floor(log2 amax) = e − 1, exactly (subnormals too)
  const double f = std::frexp(amax, &e);
  const int floor_log2 = e - 1;
  int emax;
  std::frexp(max, &emax);
  emax -= 1;
  switch (rule) {
    case MxScale::Floor: return floor_log2 - emax;
    case MxScale::Ceil: return floor_log2 + (f != 0.5) - emax;  // f = 0.5: amax is a power of two
    case MxScale::Even:
      // 2f in [1, 2) rounded to M fraction bits reaches 2 exactly when 2f ≥ 2 − 2^−(M+1) (at the
      // tie the neighbour below has an odd, all-ones mantissa, so nearest-even goes up too).
      return floor_log2 + (2 * f >= 2 - std::ldexp(1.0, -(mbits + 1))) - emax;
    case MxScale::Rceil: {
      // Beyond E8M0's range the clamp decides; within it every ldexp below is exact.
      if (amax <= std::ldexp(max, -127)) return -127;
      if (amax > std::ldexp(max, 127)) return 128;
      int k = floor_log2 - emax;  // amax / max lies in (2^(k−1), 2^(k+1)): k or k + 1
      while (std::ldexp(max, k) < amax) ++k;
      while (std::ldexp(max, k - 1) >= amax) --k;
      return k;
    }
  }
  return floor_log2 - emax;
}

}  // namespace qe
