// The OCP MX formats' scale roundings (formats.h: MxScale): E8M0 codes derived by hand at chosen
// amax values, then at, just below and just above every power of two, at the element's largest
// value times a power of two and at EVEN's rounding threshold; the blocks that saturate under
// each rule; float32 arithmetic (amax as float32); the SIMD twin against the scalar one.
#include "analyze.h"
#include "format_quant.h"
#include "formats.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

using namespace qe;

namespace {

constexpr MxScale kRules[] = {MxScale::Floor, MxScale::Ceil, MxScale::Even, MxScale::Rceil};

// The E8M0 code the core gives a block whose largest magnitude is amax (a block of one value).
template <class In>
uint32_t code_of(NumberFormat f, MxScale rule, In amax, Arithmetic arith = Arithmetic::Float64) {
  QuantScheme s;
  s.format = f;
  s.mx_scale = rule;
  s.arithmetic = arith;
  const In x[1] = {amax};
  const FormatResult r = quantize_format(x, 1, s, std::fabs(static_cast<double>(amax)), SampleOutputs{}, Kernel::Scalar);
  REQUIRE(r.block_codes.size() == 1);
  return r.block_codes[0];
}

// An MX format's element: its largest value, the largest power of two below it, mantissa bits.
struct Element {
  NumberFormat format;
  double max;
  int emax, mbits;
};
const Element kElements[] = {
    {NumberFormat::Mxfp8E4m3, 448, 8, 3},    {NumberFormat::Mxfp8E5m2, 57344, 15, 2}, {NumberFormat::Mxfp6E3m2, 28, 4, 2},
    {NumberFormat::Mxfp6E2m3, 7.5, 2, 3},    {NumberFormat::Mxfp4, 6, 2, 1},          {NumberFormat::Mxint8, 127.0 / 64, 0, 6},
};

uint32_t clamped(int k) { return static_cast<uint32_t>(std::clamp(k, -127, 127) + 127); }

}  // namespace

TEST_CASE("MX scale rounding: hand-derived E8M0 codes") {
  // { amax, floor, ceil, even, rceil }: code = 127 + k.
  struct Row {
    double amax;
    uint32_t code[4];
  };
  const double up = 2, down = 0;
  // MXFP4: elements E2M1, max 6 = 1.5·2^2, emax 2, M 1 (EVEN's threshold 2 − 2^−2 = 1.75).
  const Row fp4[] = {
      {1.0, {125, 125, 125, 125}},                          // 2^0: every rule k = 0 − 2 (rceil: 1 ≤ 6·2^−2 = 1.5)
      {std::nextafter(1.0, down), {124, 125, 125, 125}},    // one ulp below 2^0: floor drops a binade, even rounds back up
      {std::nextafter(1.0, up), {125, 126, 125, 125}},      // one ulp above: ceil goes up
      {1.5, {125, 126, 125, 125}},                          // 1.5 = 6·2^−2: rceil still 2^−2
      {std::nextafter(1.5, up), {125, 126, 125, 126}},      // past 6·2^−2: rceil 2^−1
      {1.75, {125, 126, 126, 126}},                         // EVEN's tie: 1.75 → 2 (1.1b has an odd mantissa)
      {std::nextafter(1.75, down), {125, 126, 125, 126}},   // below the tie: 1.5
      {6.0, {127, 128, 127, 127}},                          // the element's max at X = 1
      {std::nextafter(6.0, 7.0), {127, 128, 127, 128}},
      {7.0, {127, 128, 128, 128}},                          // 7 = 1.75·2^2
      {8.0, {128, 128, 128, 128}},                          // 8 ≤ 6·2: rceil 2^1
      {0x1p200, {254, 254, 254, 254}},                      // beyond E8M0: clamped to 2^127
      {0x1p-140, {0, 0, 0, 0}},                             // below it: 2^−127
      {0.0, {0, 0, 0, 0}},                                  // an all-zero block
  };
  // MXFP8 E4M3: max 448 = 1.75·2^8, emax 8, M 3 (threshold 1.9375).
  const Row e4m3[] = {
      {1.0, {119, 119, 119, 119}},
      {448.0, {127, 128, 127, 127}},
      {std::nextafter(448.0, up * 1000), {127, 128, 127, 128}},
      {480.0, {127, 128, 127, 128}},                        // 1.875·2^8: below EVEN's threshold
      {496.0, {127, 128, 128, 128}},                        // 1.9375·2^8: EVEN's tie, up
      {std::nextafter(496.0, down), {127, 128, 127, 128}},
      {512.0, {128, 128, 128, 128}},
  };
  // MXINT8: max 127/64 = 1.984375, emax 0, M 6 (threshold 2 − 2^−7 = 1.9921875).
  const Row int8[] = {
      {127.0 / 64, {127, 128, 127, 127}},
      {1.9921875, {127, 128, 128, 128}},
      {std::nextafter(1.9921875, down), {127, 128, 127, 128}},
      {2.0, {128, 128, 128, 128}},
  };
  struct Table {
    NumberFormat format;
    const Row* rows;
    size_t count;
  };
  for (const Table& t : {Table{NumberFormat::Mxfp4, fp4, std::size(fp4)}, Table{NumberFormat::Mxfp8E4m3, e4m3, std::size(e4m3)},
                         Table{NumberFormat::Mxint8, int8, std::size(int8)}}) {
    const NumberFormat format = t.format;
    const Row* rows = t.rows;
    for (size_t i = 0; i < t.count; ++i)
      for (int r = 0; r < 4; ++r) {
        CAPTURE(to_string(format));
        CAPTURE(rows[i].amax);
        CAPTURE(to_string(kRules[r]));
        CHECK(code_of(format, kRules[r], rows[i].amax) == rows[i].code[r]);
      }
  }
}

TEST_CASE("MX scale rounding: at, below and above every power of two, the element's max and EVEN's threshold") {
  for (const Element& el : kElements) {
    CAPTURE(to_string(el.format));
    const double m = el.max / std::ldexp(1.0, el.emax);  // the max's significand, in (1, 2)
    const double t = 2 - std::ldexp(1.0, -(el.mbits + 1));  // EVEN rounds up from here
    for (int k = -160; k <= 160; ++k) {
      CAPTURE(k);
      const double p = std::ldexp(1.0, k), below = std::nextafter(p, 0.0), above = std::nextafter(p, INFINITY);
      // 2^k: every rule gives 2^(k − emax) (rceil too: 2^emax ≤ max < 2^(emax+1)).
      for (MxScale r : kRules) CHECK(code_of(el.format, r, p) == clamped(k - el.emax));
      // One ulp below 2^k: floor falls a binade; ceil, even (all-ones mantissa) and rceil do not.
      CHECK(code_of(el.format, MxScale::Floor, below) == clamped(k - 1 - el.emax));
      CHECK(code_of(el.format, MxScale::Ceil, below) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Even, below) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Rceil, below) == clamped(k - el.emax));
      // One ulp above: only ceil rises.
      CHECK(code_of(el.format, MxScale::Floor, above) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Ceil, above) == clamped(k + 1 - el.emax));
      CHECK(code_of(el.format, MxScale::Even, above) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Rceil, above) == clamped(k - el.emax));
      // The element's max times 2^j (j = k − emax), and one ulp above it: rceil rises past it.
      const int j = k - el.emax;
      const double top = m * p, past = std::nextafter(top, INFINITY);
      CHECK(code_of(el.format, MxScale::Floor, top) == clamped(j));
      CHECK(code_of(el.format, MxScale::Ceil, top) == clamped(j + 1));
      CHECK(code_of(el.format, MxScale::Even, top) == clamped(j));
      CHECK(code_of(el.format, MxScale::Rceil, top) == clamped(j));
      CHECK(code_of(el.format, MxScale::Rceil, past) == clamped(j + 1));
      CHECK(code_of(el.format, MxScale::Even, past) == clamped(j));
      // EVEN's threshold (2 − 2^−(M+1))·2^k and one ulp below it.
      CHECK(code_of(el.format, MxScale::Even, t * p) == clamped(j + 1));
      CHECK(code_of(el.format, MxScale::Even, std::nextafter(t * p, 0.0)) == clamped(j));
      CHECK(code_of(el.format, MxScale::Floor, t * p) == clamped(j));
    }
  }
}

TEST_CASE("MX scale rounding in float32 arithmetic: amax as float32") {
  for (const Element& el : kElements) {
    CAPTURE(to_string(el.format));
    for (int k = -126; k <= 127; ++k) {
      CAPTURE(k);
      const float p = std::ldexp(1.0f, k), below = std::nextafter(p, 0.0f);
      CHECK(code_of(el.format, MxScale::Floor, below, Arithmetic::Float32) == clamped(k - 1 - el.emax));
      CHECK(code_of(el.format, MxScale::Ceil, below, Arithmetic::Float32) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Even, below, Arithmetic::Float32) == clamped(k - el.emax));
      CHECK(code_of(el.format, MxScale::Rceil, below, Arithmetic::Float32) == clamped(k - el.emax));
      // A double one ulp below 2^k is 2^k in float32: every rule sees the power of two.
      const double d = std::nextafter(std::ldexp(1.0, k), 0.0);
      for (MxScale r : kRules) CHECK(code_of(el.format, r, d, Arithmetic::Float32) == clamped(k - el.emax));
    }
  }
}

TEST_CASE("MX scale rounding: saturated blocks, and rceil never saturates") {
  // 480 = 1.875·2^8 in MXFP8 E4M3: floor and even keep X = 1, so 480 saturates to 448; ceil and
  // rceil take X = 2 (240 is exact).
  const double x[4] = {480, 1, -2, 0.5};
  for (MxScale r : kRules) {
    QuantScheme s;
    s.format = NumberFormat::Mxfp8E4m3;
    s.mx_scale = r;
    std::vector<double> xhat(4);
    SampleOutputs out;
    out.dequantized = xhat.data();
    const FormatResult f = quantize_format(x, 4, s, 480, out, Kernel::Scalar);
    const bool saturates = r == MxScale::Floor || r == MxScale::Even;
    CHECK(f.counts.saturated_blocks == (saturates ? 1u : 0u));
    CHECK(f.counts.overflow == (saturates ? 1u : 0u));
    CHECK(xhat[0] == (saturates ? 448 : 480));
  }
  // Random blocks in every MX format: rceil's largest element always fits; floor saturates some.
  std::vector<double> v(32 * 400);
  uint64_t state = 7;
  for (double& e : v) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(state >> 11) / 0x1p53;
    e = std::ldexp(u * 2 - 1, static_cast<int>(state % 23) - 11);
  }
  for (const Element& el : kElements) {
    CAPTURE(to_string(el.format));
    uint64_t sat[4];
    for (int r = 0; r < 4; ++r) {
      QuantScheme s;
      s.format = el.format;
      s.mx_scale = kRules[r];
      sat[r] = quantize_format(v.data(), v.size(), s, 1024, SampleOutputs{}, Kernel::Scalar).counts.saturated_blocks;
    }
    CHECK(sat[3] == 0);  // rceil
    CHECK(sat[1] == 0);  // ceil: amax ≤ 2^ceil(log2 amax) ≤ 2^emax·X ≤ max·X
    if (el.format != NumberFormat::Mxfp4) CHECK(sat[0] > 0);  // E2M1's max 6 = 1.5·4: floor saturates above 6·X only
  }
}

TEST_CASE("MX scale rounding: the SIMD twin gives the scalar one's codes and sums") {
  std::vector<float> v(32 * 64 + 7);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * std::ldexp(1.0, static_cast<int>(i % 13) - 6));
  for (const Element& el : kElements)
    for (MxScale r : kRules)
      for (Arithmetic a : {Arithmetic::Float64, Arithmetic::Float32}) {
        QuantScheme s;
        s.format = el.format;
        s.mx_scale = r;
        s.arithmetic = a;
        std::vector<int32_t> c[2] = {std::vector<int32_t>(v.size()), std::vector<int32_t>(v.size())};
        FormatResult f[2];
        for (int t = 0; t < 2; ++t) {
          SampleOutputs out;
          out.codes = c[t].data();
          f[t] = quantize_format(v.data(), v.size(), s, 64, out, t ? Kernel::Simd : Kernel::Scalar);
        }
        CHECK(c[0] == c[1]);
        CHECK(f[0].block_codes == f[1].block_codes);
        CHECK(f[0].sums.sum_err2 == f[1].sums.sum_err2);
        CHECK(f[0].counts.saturated_blocks == f[1].counts.saturated_blocks);
      }
}

TEST_CASE("MX scale rounding other than floor is for the MX formats") {
  QuantScheme s;
  s.mx_scale = MxScale::Rceil;
  for (NumberFormat f : {NumberFormat::Int, NumberFormat::Fp8E4m3, NumberFormat::Nvfp4, NumberFormat::Nf4}) {
    s.format = f;
    auto e = validate_mx_scale(s);
    REQUIRE(e);
    CHECK(e->field == "mxScale");
  }
  s.format = NumberFormat::Mxfp4;
  CHECK(!validate_mx_scale(s));
  s.profile = Profile::Ggml;
  CHECK(validate_mx_scale(s));
  CHECK(parse_mx_scale("rceil") == MxScale::Rceil);
  CHECK(!parse_mx_scale("round"));
  const double x[3] = {1, 2, 3};
  AnalyzeOptions o;
  o.scheme.mx_scale = MxScale::Ceil;  // with the integer format
  auto r = analyze(x, 3, o);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).field == "mxScale");
}
