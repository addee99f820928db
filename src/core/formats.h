// Low-precision number formats: one parameterised minifloat (FP16, BF16, the OCP FP8/FP6/FP4
// element formats and any custom one), the E8M0 power-of-two scale of the OCP MX formats, and the
// NF4 levels of QLoRA. Each named format's limits are written once, in kFormats.
//
// A minifloat with E exponent bits, M mantissa bits and bias B:
//   code  = s·2^(E+M) + e·2^M + m
//   value = (−1)^s · 2^(1−B) · m / 2^M          when e = 0 (zero and the subnormals)
//   value = (−1)^s · 2^(e−B) · (1 + m / 2^M)    when e > 0
// Special codes, by the format's `specials`:
//   Ieee       e all ones: ±Inf (m = 0) or NaN (m ≠ 0)                 FP16, BF16, FP8 E5M2
//   FiniteNan  no Inf; only e and m all ones is NaN (one per sign)     FP8 E4M3 (OCP E4M3FN)
//   None       every code is a number                                  OCP FP6 E3M2/E2M3, FP4 E2M1
//
// Rounding is to nearest, ties to even: of the two neighbours the one whose m is even, which
// across a binade boundary is the larger (m = 0 of the next binade). Subnormals are kept.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace qe {

enum class Specials { Ieee, FiniteNan, None };

// What a value beyond the largest finite one becomes: the largest finite value of its sign, or
// what the format has for it (Inf for Ieee formats, NaN for FiniteNan ones; None formats can
// only saturate).
enum class Overflow { Saturate, InfNan };

struct Minifloat {
  int ebits = 5;
  int mbits = 10;
  int bias = 15;
  Specials specials = Specials::Ieee;

  int bits() const { return 1 + ebits + mbits; }
  // Largest finite magnitude's code (sign bit clear), and the limits as values.
  uint32_t max_code() const;
  double max_finite() const;
  double min_normal() const;     // 2^(1−B)
  double min_subnormal() const;  // 2^(1−B−M)
  // The canonical NaN (sign clear) and +Inf codes; nullopt when the format has none.
  std::optional<uint32_t> nan_code() const;
  std::optional<uint32_t> inf_code() const;

  bool is_nan(uint32_t code) const;
  bool is_inf(uint32_t code) const;
  bool is_subnormal(uint32_t code) const;  // e = 0 and m ≠ 0
  double decode(uint32_t code) const;
  // The code of v, rounded to nearest even. NaN gives the NaN code (None formats: +0's code);
  // ±Inf and values beyond the largest finite follow `overflow` (None formats saturate).
  // `overflowed`: v rounded past the largest finite value; `tie`: v lay exactly halfway between
  // two neighbours.
  uint32_t encode(double v, Overflow overflow, bool* overflowed = nullptr, bool* tie = nullptr) const;
};

// Checks a custom minifloat: 1 ≤ E ≤ 8, 0 ≤ M ≤ 10 with E + M ≤ 15, |B| ≤ 200, and formats with
// Inf/NaN need the exponent bits to spare. Returns a message, or nullopt when it is usable.
std::optional<std::string> check_minifloat(const Minifloat& f);

// The OCP MX shared scale: 2^(e − 127) for e in 0 … 254; 255 is NaN.
struct E8M0 {
  static double decode(uint32_t code);
  // The code of 2^k, k clamped to [−127, 127].
  static uint32_t of_exponent(int k);
};

// How an OCP MX block's E8M0 scale X = 2^k is chosen from the block's largest magnitude amax > 0,
// for an element format whose largest value is `max` = 2^emax·(1 + f) (emax = floor(log2 max))
// and whose mantissa is M bits wide (MXINT8: max 127/64, emax 0, M 6). k is then clamped to
// E8M0's [−127, 127].
//   Floor  k = floor(log2 amax) − emax                 OCP MX v1.0 (the exponent bits of amax)
//   Ceil   k = ceil(log2 amax) − emax                  one more unless amax is a power of two
//   Even   k = floor(log2 rne_M(amax)) − emax          amax rounded to M mantissa bits first: one
//                                                      more when amax ≥ 2^e·(2 − 2^−(M+1)), e = floor(log2 amax)
//   Rceil  k = ceil(log2(amax / max))                  the least k with amax ≤ max·2^k, exactly
//                                                      (NVIDIA's cvt.rp.satfinite.ue8m0x2 of amax / max):
//                                                      the largest element never saturates
// (torchao's ScaleCalculationMode FLOOR, CEIL, EVEN, RCEIL.)
enum class MxScale : uint8_t { Floor, Ceil, Even, Rceil };  // one byte: QuantScheme keeps its size
const char* to_string(MxScale m);
std::optional<MxScale> parse_mx_scale(const std::string& s);
// The unclamped k of the rule for amax > 0 (finite).
int mx_scale_exponent(double amax, MxScale rule, double max, int mbits);

// The 16 NormalFloat levels of QLoRA (Dettmers et al., 2023), as bitsandbytes stores them
// (float32), from −1 to 1; level 7 is 0.
extern const std::array<float, 16> kNf4Levels;
// The midpoints between neighbouring levels, in double: (level[k] + level[k + 1]) / 2.
extern const std::array<double, 15> kNf4Midpoints;
// The index of the level nearest to v (v in [−1, 1] after the absmax scale); a value exactly
// halfway between two levels takes the lower one, as bitsandbytes' thresholds do.
uint32_t nf4_encode(double v);

// The named formats. Element formats are minifloats used on their own (optionally with one
// per-tensor scale); block formats share a scale per block of consecutive values.
enum class NumberFormat {
  Int,  // the integer schemes of scheme.h
  Fp16, Bf16, Fp8E4m3, Fp8E5m2, Fp6E3m2, Fp6E2m3, Fp4E2m1,
  Custom,  // a Minifloat given field by field
  Mxfp8E4m3, Mxfp8E5m2, Mxfp6E3m2, Mxfp6E2m3, Mxfp4, Mxint8,  // OCP Microscaling v1.0: blocks of 32, E8M0 scale
  Nvfp4,  // blocks of 16 FP4 E2M1 values, an FP8 E4M3 block scale and a float32 tensor scale
  Nf4,    // blocks of 64 NF4 levels times the block's absmax (float32)
  Ggml,   // one of llama.cpp's block types (QuantScheme::ggml; gguf_quants.h)
};

struct FormatInfo {
  NumberFormat format;
  const char* name;      // the API's and the page's name
  const char* label;     // for people
  Minifloat element;     // the element format (for Mxint8 and Nf4: unused)
  int block;             // values per shared scale; 0 for element formats
  const char* source;    // where the definition comes from
};

const FormatInfo& format_info(NumberFormat f);
std::optional<NumberFormat> parse_format(const std::string& s);
const char* to_string(NumberFormat f);
const char* to_string(Overflow o);
std::optional<Overflow> parse_overflow(const std::string& s);
inline bool is_block_format(NumberFormat f) { return f >= NumberFormat::Mxfp8E4m3; }
inline bool is_mx_format(NumberFormat f) { return f >= NumberFormat::Mxfp8E4m3 && f <= NumberFormat::Mxint8; }

}  // namespace qe
