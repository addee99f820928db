// The number formats: each named format's limits tabled, every code exhaustively, ties between
// neighbours, overflow and underflow boundaries, NaN and Inf inputs, and the reference file
// (tests/data/formats.json: numpy float16, torch bfloat16, brute-force OCP encodings).
#include "formats.h"
#include "format_quant.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using json = nlohmann::json;
using namespace qe;

namespace {

const Minifloat& element(NumberFormat f) { return format_info(f).element; }

struct Limits {
  NumberFormat format;
  int bits;
  double max, min_normal, min_subnormal;
  int64_t nan, inf;  // -1: none
};

// From the specifications (IEEE 754 binary16, bfloat16, OCP OFP8 rev 1.0, OCP MX v1.0 §5.3).
const Limits kLimits[] = {
    {NumberFormat::Fp16, 16, 65504, 0x1p-14, 0x1p-24, 0x7E00, 0x7C00},
    {NumberFormat::Bf16, 16, 3.3895313892515355e38, 0x1p-126, 0x1p-133, 0x7FC0, 0x7F80},
    {NumberFormat::Fp8E4m3, 8, 448, 0x1p-6, 0x1p-9, 0x7F, -1},
    {NumberFormat::Fp8E5m2, 8, 57344, 0x1p-14, 0x1p-16, 0x7E, 0x7C},
    {NumberFormat::Fp6E3m2, 6, 28, 0.25, 0.0625, -1, -1},
    {NumberFormat::Fp6E2m3, 6, 7.5, 1, 0.125, -1, -1},
    {NumberFormat::Fp4E2m1, 4, 6, 1, 0.5, -1, -1},
};

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b)); }

}  // namespace

TEST_CASE("each format's limits, as its specification tables them") {
  for (const Limits& l : kLimits) {
    const Minifloat& f = element(l.format);
    const std::string name = to_string(l.format);
    CAPTURE(name);
    CHECK(f.bits() == l.bits);
    CHECK(f.max_finite() == l.max);
    CHECK(f.min_normal() == l.min_normal);
    CHECK(f.min_subnormal() == l.min_subnormal);
    CHECK(static_cast<int64_t>(f.nan_code().value_or(uint32_t(-1))) == (l.nan < 0 ? int64_t{0xFFFFFFFF} : l.nan));
    CHECK(static_cast<int64_t>(f.inf_code().value_or(uint32_t(-1))) == (l.inf < 0 ? int64_t{0xFFFFFFFF} : l.inf));
  }
  CHECK(E8M0::decode(0) == 0x1p-127);
  CHECK(E8M0::decode(127) == 1);
  CHECK(E8M0::decode(254) == 0x1p127);
  CHECK(std::isnan(E8M0::decode(255)));
  CHECK(kNf4Levels[7] == 0);
  CHECK(kNf4Levels[0] == -1);
  CHECK(kNf4Levels[15] == 1);
}

TEST_CASE("every code: decode then encode gives the code back (all but NaN)") {
  for (const Limits& l : kLimits) {
    const Minifloat& f = element(l.format);
    const std::string name = to_string(l.format);
    CAPTURE(name);
    size_t nans = 0;
    for (uint32_t c = 0; c < (1u << f.bits()); ++c) {
      const double v = f.decode(c);
      if (f.is_nan(c)) {
        ++nans;
        CHECK(std::isnan(v));
        continue;
      }
      CAPTURE(c);
      CHECK(f.encode(v, Overflow::InfNan) == c);
      // Inf saturates to the largest finite value of its sign.
      CHECK(f.encode(v, Overflow::Saturate) == (f.is_inf(c) ? (c & ~f.max_code() & ~*f.inf_code()) | f.max_code() : c));
      CHECK(f.is_subnormal(c) == (v != 0 && std::fabs(v) < f.min_normal()));
    }
    // NaN codes per format: IEEE 2·(2^M − 1), E4M3FN 2, the OCP FP6/FP4 none.
    const size_t want = f.specials == Specials::Ieee ? 2 * ((size_t{1} << f.mbits) - 1) : f.specials == Specials::FiniteNan ? 2 : 0;
    CHECK(nans == want);
  }
}

TEST_CASE("ties between neighbours go to the even mantissa; just beside them, to the nearer") {
  for (const Limits& l : kLimits) {
    const Minifloat& f = element(l.format);
    const std::string name = to_string(l.format);
    CAPTURE(name);
    for (uint32_t c = 0; c < f.max_code(); ++c) {
      const double lo = f.decode(c), hi = f.decode(c + 1);
      const double mid = lo + (hi - lo) / 2;  // exact: a few mantissa bits more than the format
      CAPTURE(c);
      CHECK(f.encode(mid, Overflow::Saturate) == ((c & 1) == 0 ? c : c + 1));
      CHECK(f.encode(std::nextafter(mid, 0.0), Overflow::Saturate) == c);
      CHECK(f.encode(std::nextafter(mid, INFINITY), Overflow::Saturate) == c + 1);
      const uint32_t sign = 1u << (f.ebits + f.mbits);
      CHECK(f.encode(-mid, Overflow::Saturate) == (sign | ((c & 1) == 0 ? c : c + 1)));
    }
  }
}

TEST_CASE("overflow, underflow, NaN and Inf") {
  for (const Limits& l : kLimits) {
    const Minifloat& f = element(l.format);
    const std::string name = to_string(l.format);
    CAPTURE(name);
    const uint32_t sign = 1u << (f.ebits + f.mbits), max = f.max_code();
    const double top = f.max_finite(), ulp = top - f.decode(max - 1);
    const uint32_t over = l.inf >= 0 ? static_cast<uint32_t>(l.inf) : l.nan >= 0 ? static_cast<uint32_t>(l.nan) : max;
    // Halfway to the next step up: to even, which is past the top when the top's mantissa is odd.
    const double half = top + ulp / 2;
    CHECK(f.encode(half, Overflow::Saturate) == max);
    CHECK(f.encode(half, Overflow::InfNan) == ((max & 1) ? over : max));
    CHECK(f.encode(std::nextafter(half, 0.0), Overflow::InfNan) == max);
    CHECK(f.encode(top * 4, Overflow::Saturate) == max);
    CHECK(f.encode(top * 4, Overflow::InfNan) == over);
    CHECK(f.encode(-top * 4, Overflow::Saturate) == (sign | max));
    CHECK(f.encode(-top * 4, Overflow::InfNan) == (sign | over));
    CHECK(f.encode(1e300, Overflow::Saturate) == max);
    CHECK(f.encode(INFINITY, Overflow::Saturate) == max);
    CHECK(f.encode(-INFINITY, Overflow::InfNan) == (sign | over));
    // Half the smallest subnormal is a tie between 0 and it: 0 (even). Beyond it, the subnormal.
    const double tiny = f.min_subnormal();
    CHECK(f.encode(tiny / 2, Overflow::Saturate) == 0);
    CHECK(f.encode(std::nextafter(tiny / 2, 1.0), Overflow::Saturate) == 1);
    CHECK(f.encode(-tiny / 4, Overflow::Saturate) == sign);  // −0
    CHECK(f.encode(1e-300, Overflow::Saturate) == 0);
    CHECK(f.encode(0.0, Overflow::Saturate) == 0);
    CHECK(f.encode(-0.0, Overflow::Saturate) == sign);
    CHECK(f.encode(std::numeric_limits<double>::quiet_NaN(), Overflow::Saturate) == f.nan_code().value_or(0));
  }
}

TEST_CASE("custom minifloats are the named ones when given the same fields, and bad fields are refused") {
  const Minifloat e4m3{4, 3, 7, Specials::FiniteNan};
  for (uint32_t c = 0; c < 256; ++c) CHECK(same(e4m3.decode(c), element(NumberFormat::Fp8E4m3).decode(c)));
  CHECK_FALSE(check_minifloat(Minifloat{5, 2, 15, Specials::Ieee}));
  CHECK_FALSE(check_minifloat(Minifloat{1, 0, 0, Specials::None}));
  CHECK(check_minifloat(Minifloat{0, 3, 1, Specials::None}));
  CHECK(check_minifloat(Minifloat{9, 3, 1, Specials::None}));
  CHECK(check_minifloat(Minifloat{8, 8, 127, Specials::Ieee}).value() ==
        "Exponent and mantissa bits must add up to at most 15 (got 16)");
  CHECK(check_minifloat(Minifloat{1, 3, 1, Specials::Ieee}));
  // A 1-bit exponent with no mantissa: the values 0 and 2^(1−B).
  const Minifloat tiny{1, 0, 0, Specials::None};
  CHECK(tiny.decode(1) == 2);
  CHECK(tiny.encode(1.0, Overflow::Saturate) == 0);  // the tie 0 | 2 goes to the even code 0
  CHECK(tiny.encode(1.01, Overflow::Saturate) == 1);
  CHECK(tiny.encode(5.0, Overflow::Saturate) == 1);
}

TEST_CASE("NF4: the nearest level, a midpoint to the lower one") {
  for (uint32_t i = 0; i < 16; ++i) CHECK(nf4_encode(kNf4Levels[i]) == i);
  for (uint32_t i = 0; i < 15; ++i) {
    const double mid = (static_cast<double>(kNf4Levels[i]) + static_cast<double>(kNf4Levels[i + 1])) / 2;
    CHECK(nf4_encode(mid) == i);
    CHECK(nf4_encode(std::nextafter(mid, 2.0)) == i + 1);
  }
  CHECK(nf4_encode(-5) == 0);
  CHECK(nf4_encode(5) == 15);
}

TEST_CASE("the reference file: numpy float16, torch bfloat16, brute-force OCP encodings") {
  std::ifstream in(std::string(QE_TEST_DATA_DIR) + "/formats.json");
  REQUIRE(in.good());
  const json ref = json::parse(in);
  const Minifloat& f16 = element(NumberFormat::Fp16);
  for (const auto& c : ref["fp16"]) {
    const double x = c[0].get<double>();
    CAPTURE(x);
    CHECK(f16.encode(x, Overflow::InfNan) == c[1].get<uint32_t>());
  }
  const Minifloat& bf16 = element(NumberFormat::Bf16);
  for (const auto& c : ref["bf16"]) {
    const double x = c[0].get<double>();
    CAPTURE(x);
    CHECK(bf16.encode(x, Overflow::InfNan) == c[1].get<uint32_t>());
  }
  size_t checked = 0;
  for (const auto& item : ref["minifloats"].items()) {
    const std::string name = item.key();
    const auto& data = item.value();
    const auto format = parse_format(name);
    REQUIRE(format);
    const Minifloat& f = element(*format);
    CAPTURE(name);
    CHECK(f.ebits == data["ebits"].get<int>());
    CHECK(f.mbits == data["mbits"].get<int>());
    CHECK(f.bias == data["bias"].get<int>());
    const auto& values = data["values"];
    REQUIRE(values.size() == (size_t{1} << f.bits()));
    for (uint32_t code = 0; code < values.size(); ++code) {
      const auto& v = values[code];
      const double want = v.is_string() ? (v == "nan" ? NAN : v == "inf" ? INFINITY : -INFINITY) : v.get<double>();
      CAPTURE(code);
      CHECK(same(f.decode(code), want));
    }
    for (const auto& c : data["cases"]) {
      const double x = c[0].get<double>();
      CAPTURE(x);
      CHECK(f.encode(x, Overflow::Saturate) == c[1].get<uint32_t>());
      CHECK(f.encode(x, Overflow::InfNan) == c[2].get<uint32_t>());
      ++checked;
    }
  }
  CHECK(checked > 1000);
  for (const auto& c : ref["e8m0"]) {
    const uint32_t code = c[0].get<uint32_t>();
    if (c[1].is_string()) CHECK(std::isnan(E8M0::decode(code)));
    else CHECK(E8M0::decode(code) == c[1].get<double>());
  }
  for (size_t i = 0; i < 16; ++i) CHECK(kNf4Levels[i] == static_cast<float>(ref["nf4"][i].get<double>()));
}

TEST_CASE_TEMPLATE("format quantization: the SIMD twin equals the scalar one bit for bit", In, float, double) {
  // Ties of every format's grid, subnormals, values past the top, zeros of both signs.
  std::vector<In> x;
  for (int i = 0; i < 2001; ++i) {
    const double t = std::sin(i * 0.61) * std::pow(2.0, (i % 40) - 20);
    x.push_back(static_cast<In>(i % 11 == 0 ? std::ldexp(std::round(t * 64) + 0.5, -6) : i % 17 == 0 ? -0.0 : t));
  }
  x.push_back(static_cast<In>(1e30));
  x.push_back(static_cast<In>(-3e-30));
  const NumberFormat all[] = {NumberFormat::Fp16,      NumberFormat::Bf16,      NumberFormat::Fp8E4m3,   NumberFormat::Fp8E5m2,
                              NumberFormat::Fp6E3m2,   NumberFormat::Fp6E2m3,   NumberFormat::Fp4E2m1,   NumberFormat::Custom,
                              NumberFormat::Mxfp8E4m3, NumberFormat::Mxfp8E5m2, NumberFormat::Mxfp6E3m2, NumberFormat::Mxfp6E2m3,
                              NumberFormat::Mxfp4,     NumberFormat::Mxint8,    NumberFormat::Nvfp4,     NumberFormat::Nf4};
  for (NumberFormat format : all) {
    for (Arithmetic arith : {Arithmetic::Float64, Arithmetic::Float32}) {
      for (Overflow overflow : {Overflow::Saturate, Overflow::InfNan}) {
        for (bool amax : {false, true}) {
          QuantScheme s;
          s.format = format;
          s.custom_format = Minifloat{3, 4, 5, Specials::Ieee};
          s.arithmetic = arith;
          s.overflow = overflow;
          s.format_scale = amax ? QuantScheme::FormatScale::Amax : QuantScheme::FormatScale::None;
          const size_t n = x.size();
          double max_abs = 0;
          for (In v : x) max_abs = std::max(max_abs, std::fabs(static_cast<double>(v)));
          struct Out {
            std::vector<int32_t> codes;
            std::vector<float> d32;
            std::vector<double> d64, errors;
            std::vector<uint8_t> clipped;
          } o[2];
          FormatResult r[2];
          for (int t = 0; t < 2; ++t) {
            o[t].codes.assign(n, -1);
            o[t].d32.assign(n, -1);
            o[t].d64.assign(n, -1);
            o[t].errors.assign(n, -1);
            o[t].clipped.assign(n, 9);
            SampleOutputs out{o[t].codes.data(), nullptr, o[t].errors.data(), o[t].clipped.data()};
            out.dequantized = arith == Arithmetic::Float32 ? static_cast<void*>(o[t].d32.data()) : static_cast<void*>(o[t].d64.data());
            r[t] = quantize_format(x.data(), n, s, max_abs, out, t ? Kernel::Simd : Kernel::Scalar);
          }
          const std::string name = to_string(format);
          CAPTURE(name);
          CAPTURE(static_cast<int>(arith));
          CAPTURE(static_cast<int>(overflow));
          CAPTURE(amax);
          CHECK(o[0].codes == o[1].codes);
          CHECK(std::memcmp(o[0].d32.data(), o[1].d32.data(), n * sizeof(float)) == 0);
          CHECK(std::memcmp(o[0].d64.data(), o[1].d64.data(), n * sizeof(double)) == 0);
          CHECK(std::memcmp(o[0].errors.data(), o[1].errors.data(), n * sizeof(double)) == 0);
          CHECK(o[0].clipped == o[1].clipped);
          CHECK(same(r[0].sums.sum_err2, r[1].sums.sum_err2));
          CHECK(same(r[0].sums.sum_xxhat, r[1].sums.sum_xxhat));
          CHECK(same(r[0].sums.max_abs, r[1].sums.max_abs));
          CHECK(r[0].sums.max_abs_index == r[1].sums.max_abs_index);
          CHECK(r[0].sums.tie_count == r[1].sums.tie_count);
          CHECK(r[0].counts.overflow == r[1].counts.overflow);
          CHECK(r[0].counts.underflow == r[1].counts.underflow);
          CHECK(r[0].counts.subnormal == r[1].counts.subnormal);
          CHECK(r[0].block_scales == r[1].block_scales);
        }
      }
    }
  }
}
