// Through a layer (layer.h): the matmul twins bit for bit, the fixed-point requantization against
// its published definitions, and the layer's outputs, parts, accumulator and codes against
// brute-force sums written out here.
#include "layer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "matmul.h"
#include "requantize.h"

using namespace qe;

namespace {

std::vector<double> normal(size_t n, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0.0, sigma);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<int32_t> ints(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return v;
}

LayerTensor tensor(const std::vector<double>& v, int64_t rows, int64_t cols) {
  return LayerTensor{nullptr, v.data(), v.size(), {rows, cols}};
}

QuantScheme int8(Mode mode = Mode::Symmetric) {
  QuantScheme s;
  s.bits = 8;
  s.mode = mode;
  return s;
}

LayerResult run(const std::vector<double>& w, int64_t out, const std::vector<double>& x, int64_t tokens, const LayerOptions& o) {
  const int64_t in = static_cast<int64_t>(w.size()) / out;
  auto r = analyze_layer(tensor(w, out, in), tensor(x, tokens, in), o);
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->field << ": " << e->message);
  return std::get<LayerResult>(std::move(r));
}

Error fails(const std::vector<double>& w, std::vector<int64_t> ws, const std::vector<double>& x, std::vector<int64_t> xs,
            const LayerOptions& o) {
  auto r = analyze_layer(LayerTensor{nullptr, w.data(), w.size(), ws}, LayerTensor{nullptr, x.data(), x.size(), xs}, o);
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The per-sample x̂ of one side, from the calculator itself.
std::vector<double> dequantized(const std::vector<double>& v, QuantScheme s, int64_t rows, int64_t cols) {
  s.shape = {rows, cols};
  AnalyzeOptions o;
  o.scheme = s;
  auto r = analyze(v.data(), v.size(), o);
  REQUIRE(std::holds_alternative<Analysis>(r));
  const Analysis& a = std::get<Analysis>(r);
  return a.dequantized_f64.empty() ? std::vector<double>(a.dequantized_f32.begin(), a.dequantized_f32.end()) : a.dequantized_f64;
}

std::vector<int32_t> codes_of(const std::vector<double>& v, QuantScheme s, int64_t rows, int64_t cols, Analysis* out = nullptr) {
  s.shape = {rows, cols};
  AnalyzeOptions o;
  o.scheme = s;
  auto r = analyze(v.data(), v.size(), o);
  REQUIRE(std::holds_alternative<Analysis>(r));
  if (out) *out = std::get<Analysis>(r);
  return std::get<Analysis>(r).codes;
}

}  // namespace

TEST_CASE("matmul: the SIMD bodies and the scalar twins agree bit for bit, and match their definitions") {
  for (size_t m : {1u, 3u, 4u, 5u, 9u})
    for (size_t n : {1u, 2u, 3u, 7u})
      for (size_t k : {1u, 2u, 3u, 4u, 5u, 8u, 31u, 64u, 67u}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(k);
        const auto a = normal(m * k, 1.0, 1 + static_cast<uint32_t>(m * 100 + n * 10 + k));
        const auto bd = normal(n * k, 3.0, 7 + static_cast<uint32_t>(k));
        std::vector<float> bf(bd.begin(), bd.end());
        std::vector<double> c1(m * n), c2(m * n), c3(m * n), c4(m * n);
        matmul_nt(a.data(), m, bd.data(), n, k, c1.data(), Kernel::Simd);
        matmul_nt(a.data(), m, bd.data(), n, k, c2.data(), Kernel::Scalar);
        matmul_nt(a.data(), m, bf.data(), n, k, c3.data(), Kernel::Simd);
        matmul_nt(a.data(), m, bf.data(), n, k, c4.data(), Kernel::Scalar);
        for (size_t i = 0; i < m; ++i)
          for (size_t j = 0; j < n; ++j) {
            double s0 = 0, s1 = 0;  // the definition: even k, odd k, then their sum
            for (size_t kk = 0; kk < k; ++kk) (kk % 2 ? s1 : s0) += a[i * k + kk] * bd[j * k + kk];
            CHECK(same_bits(c1[i * n + j], s0 + s1));
            CHECK(same_bits(c2[i * n + j], s0 + s1));
            CHECK(same_bits(c3[i * n + j], c4[i * n + j]));
          }
        std::vector<float> af(a.begin(), a.end()), f1(m * n), f2(m * n);
        matmul_nt_f32(af.data(), m, bf.data(), n, k, f1.data(), Kernel::Simd);
        matmul_nt_f32(af.data(), m, bf.data(), n, k, f2.data(), Kernel::Scalar);
        for (size_t i = 0; i < m * n; ++i) CHECK(std::memcmp(&f1[i], &f2[i], 4) == 0);
        for (size_t i = 0; i < m; ++i)
          for (size_t j = 0; j < n; ++j) {
            float s[4] = {};
            for (size_t kk = 0; kk < k; ++kk) s[kk % 4] += af[i * k + kk] * bf[j * k + kk];
            CHECK(f1[i * n + j] == (s[0] + s[1]) + (s[2] + s[3]));
          }
        for (size_t block : {size_t{1}, k}) {
          const auto ai = ints(m * k, -255, 255, 3), bi = ints(n * k, -128, 127, 4);
          const size_t nb = k / block;
          std::vector<int64_t> i1(m * n * nb), i2(m * n * nb), i3(m * n * nb);
          matmul_int_nt(ai.data(), m, bi.data(), n, k, block, true, i1.data(), Kernel::Simd);
          matmul_int_nt(ai.data(), m, bi.data(), n, k, block, true, i2.data(), Kernel::Scalar);
          matmul_int_nt(ai.data(), m, bi.data(), n, k, block, false, i3.data(), Kernel::Simd);
          for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < n; ++j)
              for (size_t b = 0; b < nb; ++b) {
                int64_t s = 0;
                for (size_t kk = b * block; kk < (b + 1) * block; ++kk) s += int64_t{ai[i * k + kk]} * bi[j * k + kk];
                const size_t at = (i * n + j) * nb + b;
                CHECK(i1[at] == s);
                CHECK(i2[at] == s);
                CHECK(i3[at] == s);
              }
        }
      }
}

TEST_CASE("requantize: QuantizeMultiplier, SaturatingRoundingDoublingHighMul and RoundingDivideByPOT by their definitions") {
  struct Case {
    double m;
    int32_t multiplier, shift;
  };
  // Worked by hand: M = q·2^shift with q ∈ [0.5, 1), M0 = round(q·2^31) ties away from zero.
  const Case cases[] = {
      {0.0, 0, 0},
      {0.5, 1 << 30, 0},                      // q = 0.5
      {1.0, 1 << 30, 1},                      // q = 0.5, shift 1
      {0.25, 1 << 30, -1},
      {966.0 / 65536, 966 << 21, -6},         // 966·2^-16 = (966/1024)·2^-6, M0 = 966·2^21
      {0.75, 1610612736, 0},                  // 0.75·2^31
      {1.0 - 0x1p-33, 1 << 30, 1},            // q·2^31 = 2^31 − 1/4 rounds to 2^31: the carry
      {0.5 + 0x1p-32, (1 << 30) + 1, 0},      // q·2^31 = 2^30 + ½: a tie, away from zero
      {0x1p-32, 1 << 30, -31},                // the smallest shift kept
      {0x1p-33, 0, 0},                        // shift −32 < −31: flushed
      {0.0003 / 0.02, 2061584302, -6},        // 0.015 = 0.96·2^-6; 0.96·2^31 = 2061584302.08
  };
  for (const Case& c : cases) {
    CAPTURE(c.m);
    const FixedPointMultiplier f = quantize_multiplier(c.m);
    CHECK(f.multiplier == c.multiplier);
    CHECK(f.shift == c.shift);
  }
  const int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  CHECK(saturating_rounding_doubling_high_mul(lo, lo) == hi);
  CHECK(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == 1 << 29);
  CHECK(saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);    // ½ → 1
  CHECK(saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);   // −½ → 0: ties toward +∞
  CHECK(saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);  // −1½ → −1
  CHECK(saturating_rounding_doubling_high_mul(lo, hi) == -hi);      // −2^31·(2^31 − 1)/2^31 = −2^31 + 1
  CHECK(rounding_divide_by_pot(5, 1) == 3);    // 2½ → 3
  CHECK(rounding_divide_by_pot(-5, 1) == -3);  // −2½ → −3: away from zero
  CHECK(rounding_divide_by_pot(-6, 2) == -2);  // −1½ → −2
  CHECK(rounding_divide_by_pot(-7, 2) == -2);  // −1¾ → −2
  CHECK(rounding_divide_by_pot(7, 0) == 7);
  CHECK(rounding_divide_by_pot(hi, 31) == 1);
  CHECK(rounding_divide_by_pot(lo, 31) == -1);
  // MultiplyByQuantizedMultiplier against the exact product on random sums: within one of acc · M.
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    const double m = std::ldexp(std::uniform_real_distribution<double>(0.5, 1.0)(rng), -static_cast<int>(rng() % 20));
    const int32_t acc = static_cast<int32_t>(rng() % 2000001) - 1000000;
    const FixedPointMultiplier f = quantize_multiplier(m);
    const double exact = acc * m;
    CHECK(std::fabs(multiply_by_quantized_multiplier(acc, f) - exact) <= 1.0);
  }
}

TEST_CASE("layer: the reference, the quantized output and its parts against brute force") {
  const int64_t T = 5, K = 12, O = 7;
  const auto w = normal(O * K, 0.5, 11), x = normal(T * K, 2.0, 12);
  struct Config {
    const char* name;
    std::optional<QuantScheme> ws, xs;
  };
  QuantScheme per_channel = int8();
  per_channel.granularity = Granularity::Channel;
  QuantScheme per_token = int8(Mode::AsymmetricUnsigned);
  per_token.granularity = Granularity::Channel;
  QuantScheme grouped = int8(Mode::Asymmetric);
  grouped.bits = 4;
  grouped.granularity = Granularity::Group;
  grouped.group_size = 4;
  QuantScheme fp8;
  fp8.format = NumberFormat::Fp8E4m3;
  fp8.format_scale = QuantScheme::FormatScale::Amax;
  const Config configs[] = {
      {"W8A8 per tensor", int8(), int8(Mode::Asymmetric)},
      {"W8 per channel, A8 per token", per_channel, per_token},
      {"W4 per group, A8", grouped, int8()},
      {"W-only", per_channel, std::nullopt},
      {"A-only", std::nullopt, int8(Mode::Asymmetric)},
      {"W8A8-FP8 activations", int8(), fp8},
  };
  for (const Config& c : configs) {
    CAPTURE(c.name);
    LayerOptions o;
    o.weight_scheme = c.ws;
    o.activation_scheme = c.xs;
    const LayerResult r = run(w, O, x, T, o);
    const auto wh = c.ws ? dequantized(w, *c.ws, O, K) : w;
    const auto xh = c.xs ? dequantized(x, *c.xs, T, K) : x;
    double pw2 = 0, px2 = 0, pi2 = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t oc = 0; oc < O; ++oc) {
        double y = 0, yq = 0, pw = 0, px = 0, pi = 0;
        for (int64_t k = 0; k < K; ++k) {
          const double a = x[t * K + k], b = w[oc * K + k], da = xh[t * K + k] - a, db = wh[oc * K + k] - b;
          y += a * b, yq += xh[t * K + k] * wh[oc * K + k], pw += a * db, px += da * b, pi += da * db;
        }
        const size_t i = static_cast<size_t>(t * O + oc);
        CHECK(r.reference[i] == doctest::Approx(y).epsilon(1e-13));
        CHECK(r.quantized[i] == doctest::Approx(yq).epsilon(1e-12));
        pw2 += pw * pw, px2 += px * px, pi2 += pi * pi;
      }
    CHECK(r.parts.weights == doctest::Approx(pw2).epsilon(1e-9));
    CHECK(r.parts.activations == doctest::Approx(px2).epsilon(1e-9));
    CHECK(r.parts.interaction == doctest::Approx(pi2).epsilon(1e-9));
    CHECK(r.weights.quantized == c.ws.has_value());
    CHECK(r.activations.quantized == c.xs.has_value());
    CHECK(r.accumulator_report.has_value() == (r.weights.integer && r.activations.integer));
    CHECK(r.channel_sqnr_db.size() == static_cast<size_t>(O));
    CHECK(r.token_sqnr_db.size() == static_cast<size_t>(T));
    // Scalar and SIMD: the same numbers, bit for bit.
    o.kernel = Kernel::Scalar;
    const LayerResult s = run(w, O, x, T, o);
    o.kernel = Kernel::Simd;
    const LayerResult v = run(w, O, x, T, o);
    for (size_t i = 0; i < r.quantized.size(); ++i) {
      CHECK(same_bits(s.quantized[i], v.quantized[i]));
      CHECK(same_bits(s.reference[i], v.reference[i]));
    }
    CHECK(same_bits(s.metrics.sqnr_db, v.metrics.sqnr_db));
  }
}

TEST_CASE("layer: an identity on one side reproduces the other side's per-tensor analysis") {
  const int64_t K = 16, T = 6;
  const auto x = normal(T * K, 1.0, 21);
  std::vector<double> eye(K * K, 0.0);
  for (int64_t i = 0; i < K; ++i) eye[i * K + i] = 1;
  for (Mode mode : {Mode::Symmetric, Mode::Asymmetric}) {
    QuantScheme s = int8(mode);
    s.bits = 4;
    AnalyzeOptions ao;
    ao.scheme = s;
    const Analysis a = std::get<Analysis>(analyze(x.data(), x.size(), ao));
    LayerOptions o;
    o.activation_scheme = s;  // A-only through W = I: Y = X, Ŷ = X̂
    const LayerResult r = run(eye, K, x, T, o);
    CHECK(r.metrics.sqnr_db == doctest::Approx(a.metrics.sqnr_db).epsilon(1e-12));
    CHECK(r.metrics.mse == doctest::Approx(a.metrics.mse).epsilon(1e-12));
    CHECK(r.metrics.max_abs_error == doctest::Approx(a.metrics.max_abs_error).epsilon(1e-12));
    CHECK(r.metrics.max_abs_error_index == a.metrics.max_abs_error_index);
    // W-only through X = I: Y = Wᵀ, so the same energies.
    LayerOptions ow;
    ow.weight_scheme = s;
    const LayerResult rw = run(x, T, eye, K, ow);
    CHECK(rw.metrics.sqnr_db == doctest::Approx(a.metrics.sqnr_db).epsilon(1e-12));
    CHECK(rw.metrics.mse == doctest::Approx(a.metrics.mse).epsilon(1e-12));
  }
}

TEST_CASE("layer: the first-order prediction on Gaussian data") {
  const int64_t T = 32, K = 256, O = 64;
  const auto w = normal(O * K, 0.05, 31), x = normal(T * K, 1.0, 32);
  LayerOptions o;
  o.weight_scheme = int8();
  o.weight_scheme->bits = 4;
  o.activation_scheme = int8(Mode::Asymmetric);
  o.activation_scheme->bits = 6;
  const LayerResult r = run(w, O, x, T, o);
  // Errors uncorrelated along k: each part within 10% of its prediction, the total within 0.5 dB.
  CHECK(r.parts.weights == doctest::Approx(r.parts.predicted_weights).epsilon(0.1));
  CHECK(r.parts.activations == doctest::Approx(r.parts.predicted_activations).epsilon(0.1));
  CHECK(r.parts.interaction == doctest::Approx(r.parts.predicted_interaction).epsilon(0.1));
  const double predicted = r.parts.predicted_weights + r.parts.predicted_activations + r.parts.predicted_interaction;
  CHECK(std::fabs(10 * std::log10(r.parts.signal / predicted) - r.metrics.sqnr_db) < 0.5);
}

TEST_CASE("layer: the accumulator's sums, overflow counts and pair saturation against brute force") {
  const int64_t T = 4, K = 300, O = 6;
  const auto w = normal(O * K, 1.0, 41), x = normal(T * K, 1.0, 42);
  for (AccumulatorOverflow policy : {AccumulatorOverflow::Wrap, AccumulatorOverflow::Saturate}) {
    LayerOptions o;
    o.weight_scheme = int8();
    o.activation_scheme = int8(Mode::AsymmetricUnsigned);
    o.accumulator = Accumulator::Int16;
    o.overflow = policy;
    o.profile = LayerProfile::Onnx;
    const LayerResult r = run(w, O, x, T, o);
    Analysis wa, xa;
    const auto qw = codes_of(w, *o.weight_scheme, O, K, &wa), qx = codes_of(x, *o.activation_scheme, T, K, &xa);
    const AccumulatorReport& rep = *r.accumulator_report;
    CHECK(rep.block == static_cast<size_t>(K));
    const int64_t zx = xa.params.zero_point;
    CHECK(rep.product_max == 127 * std::max(zx, 255 - zx));
    CHECK(rep.pairs_apply);
    uint64_t wrapped = 0, saturated = 0, pair_changed = 0;
    int64_t max_abs = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t oc = 0; oc < O; ++oc) {
        int64_t s = 0, sat = 0, raw_pairs = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t p = int64_t{qx[t * K + k] - xa.params.zero_point} * qw[oc * K + k];
          s += p;
          sat = std::clamp<int64_t>(sat + p, -32768, 32767);
        }
        for (int64_t k = 0; k < K; k += 2)
          raw_pairs += std::clamp<int64_t>(int64_t{qx[t * K + k]} * qw[oc * K + k] + int64_t{qx[t * K + k + 1]} * qw[oc * K + k + 1],
                                           -32768, 32767);
        int64_t sum_w = 0;
        for (int64_t k = 0; k < K; ++k) sum_w += qw[oc * K + k];
        const int64_t pair = raw_pairs - int64_t{xa.params.zero_point} * sum_w;
        const size_t i = static_cast<size_t>(t * O + oc);
        CHECK(rep.sums[i] == static_cast<double>(s));
        CHECK(rep.pair_sums[i] == static_cast<double>(pair));
        max_abs = std::max(max_abs, std::abs(s));
        wrapped += s < -32768 || s > 32767;
        saturated += sat != s;
        pair_changed += pair != s;
        const int64_t held = policy == AccumulatorOverflow::Wrap ? static_cast<int16_t>(static_cast<uint16_t>(s & 0xffff)) : sat;
        CHECK(r.quantized[i] == doctest::Approx(xa.params.scale * wa.params.scale * static_cast<double>(held)).epsilon(1e-14));
      }
    CHECK(rep.max_abs == max_abs);
    CHECK(rep.int16.wrapped == wrapped);
    CHECK(rep.int16.saturated == saturated);
    CHECK(rep.pair_saturated == pair_changed);
    CHECK(rep.int32.wrapped == 0);
    CHECK(rep.int32.saturated == 0u);
    CHECK(wrapped > 0);  // K = 300 of int8 × uint8 codes: int16 overflows
    // The output under each type and policy; the requested one is the result's own.
    const double own = policy == AccumulatorOverflow::Wrap ? rep.int16.wrap_sqnr_db : rep.int16.saturate_sqnr_db;
    CHECK(own == doctest::Approx(r.metrics.sqnr_db).epsilon(1e-9));
    CHECK(rep.int32.wrap_sqnr_db == doctest::Approx(rep.int32.saturate_sqnr_db).epsilon(1e-12));
    CHECK(rep.int32.wrap_sqnr_db > rep.int16.saturate_sqnr_db + 10);
  }
}

TEST_CASE("layer: requantization's paths against their definitions, with ties") {
  // Power-of-two scales: acc · M is exact in every path, and ties occur.
  const int64_t T = 8, K = 10, O = 9;
  const auto qw = ints(O * K, -7, 7, 51), qx = ints(T * K, -7, 7, 52);
  std::vector<double> w(qw.begin(), qw.end()), x(qx.begin(), qx.end());
  for (double& v : w) v *= 0x1p-7;
  for (double& v : x) v *= 0x1p-5;
  LayerOptions o;
  o.weight_scheme = int8();
  o.weight_scheme->scale = 0x1p-7;
  o.activation_scheme = int8();
  o.activation_scheme->scale = 0x1p-5;
  o.output.enabled = true;
  o.output.scale = 0x1p-10;  // M = 2^-2: ties at acc ≡ 2 (mod 4), double rounding at acc ≡ 1
  o.output.zero_point = 3;
  o.profile = LayerProfile::Tflite;
  const LayerResult r = run(w, O, x, T, o);
  const Requantization& q = *r.requantization;
  CHECK(q.real_multiplier[0] == 0x1p-2);
  CHECK(q.multiplier[0] == 1 << 30);
  CHECK(q.shift[0] == -1);
  uint64_t ties = 0, doubles = 0, clipped = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t oc = 0; oc < O; ++oc) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int64_t{qx[t * K + k]} * qw[oc * K + k];
      const double v = static_cast<double>(acc) / 4;  // exact
      const double even = std::nearbyint(v), away = std::round(v);
      // The fixed-point path by hand: M0 = 2^30, so the high multiply is acc / 2 with ties up,
      // floor((acc + 1) / 2); then / 2 with ties away from zero.
      const double half = std::floor((static_cast<double>(acc) + 1) / 2), two_step = std::round(half / 2);
      const auto code = [](double c) { return std::clamp<int64_t>(static_cast<int64_t>(c) + 3, -128, 127); };
      const size_t i = static_cast<size_t>(t * O + oc);
      CHECK(q.exact[i] == code(even));
      CHECK(q.formula[i] == q.exact[i]);
      CHECK(q.onnx[i] == q.exact[i]);
      CHECK(q.qdq[i] == q.exact[i]);
      CHECK(q.tflite[i] == code(two_step));
      if (code(two_step) != code(even)) (code(two_step) == code(away) ? ties : doubles) += 1;
      clipped += even + 3 < -128 || even + 3 > 127;
    }
  CHECK(q.clipped == clipped);
  CHECK(ties > 0);
  CHECK(doubles > 0);
  CHECK(q.tflite_differs == ties + doubles);
  CHECK(q.ties == ties);
  CHECK(q.double_roundings == doubles);
  CHECK(q.multiplier_reasons == 0);  // M = 2^-2 is exact in fixed point
  CHECK(q.differences.size() == ties + doubles);
  for (const RequantDifference& d : q.differences) CHECK((d.reasons == kReasonTie || d.reasons == kReasonDoubleRounding));
}

TEST_CASE("layer: requantization with real scales: the fixed-point and float32 paths, and why they differ") {
  const int64_t T = 16, K = 64, O = 32;
  const auto w = normal(O * K, 0.1, 61), x = normal(T * K, 1.0, 62);
  LayerOptions o;
  o.weight_scheme = int8();
  o.weight_scheme->granularity = Granularity::Channel;
  o.weight_scheme->arithmetic = Arithmetic::Float32;
  o.activation_scheme = int8(Mode::Asymmetric);
  o.activation_scheme->arithmetic = Arithmetic::Float32;
  o.output.enabled = true;  // from the output's range
  o.profile = LayerProfile::Onnx;
  const LayerResult r = run(w, O, x, T, o);
  const Requantization& q = *r.requantization;
  CHECK(q.derived);
  CHECK(q.real_multiplier.size() == static_cast<size_t>(O));
  const float sx = static_cast<float>(r.activations.analysis.params.scale), sy = static_cast<float>(q.scale);
  for (int64_t c = 0; c < O; ++c) {
    const float sw = static_cast<float>(r.weights.analysis.groups[static_cast<size_t>(c)].params.scale);
    CHECK(q.onnx_multiplier[static_cast<size_t>(c)] == sx * sw / sy);
    const FixedPointMultiplier f = quantize_multiplier(q.real_multiplier[static_cast<size_t>(c)]);
    CHECK(q.multiplier[static_cast<size_t>(c)] == f.multiplier);
    CHECK(q.shift[static_cast<size_t>(c)] == f.shift);
    CHECK(f.multiplier >= 1 << 30);
  }
  const auto& sums = r.accumulator_report->sums;
  for (size_t i = 0; i < sums.size(); ++i) {
    const size_t c = i % static_cast<size_t>(O);
    const float v = static_cast<float>(sums[i]) * q.onnx_multiplier[c];
    CHECK(q.onnx[i] == std::clamp<int32_t>(static_cast<int32_t>(std::nearbyint(v)) + q.zero_point, -128, 127));
    const FixedPointMultiplier f{q.multiplier[c], q.shift[c]};
    CHECK(q.tflite[i] == std::clamp<int32_t>(multiply_by_quantized_multiplier(static_cast<int32_t>(sums[i]), f) + q.zero_point, -128, 127));
    CHECK(std::abs(q.tflite[i] - q.exact[i]) <= 1);
    CHECK(std::abs(q.onnx[i] - q.exact[i]) <= 1);
  }
  CHECK(q.metrics.sqnr_db > 20);
  // A scale 64 times too small: most outputs saturate, and the count says so.
  o.output.scale = q.scale / 64;
  o.output.zero_point = 0;
  const LayerResult sat = run(w, O, x, T, o);
  uint64_t clipped = 0;
  for (size_t i = 0; i < sums.size(); ++i) {
    const double v = std::nearbyint(sums[i] * sat.requantization->real_multiplier[i % static_cast<size_t>(O)]);
    clipped += v < -128 || v > 127;
  }
  CHECK(sat.requantization->clipped == clipped);
  CHECK(clipped > sums.size() / 2);
  CHECK(q.metrics.sqnr_db < r.metrics.sqnr_db);  // the output's own rounding adds to the error
}

TEST_CASE("layer: a float32 accumulator is the float32 GEMM of the dequantized sides") {
  const int64_t T = 3, K = 37, O = 5;
  const auto w = normal(O * K, 1.0, 71), x = normal(T * K, 1.0, 72);
  LayerOptions o;
  o.weight_scheme = int8();
  o.weight_scheme->bits = 4;
  o.accumulator = Accumulator::Float32;
  const LayerResult r = run(w, O, x, T, o);
  const auto wh = dequantized(w, *o.weight_scheme, O, K);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t oc = 0; oc < O; ++oc) {
      float s[4] = {};
      for (int64_t k = 0; k < K; ++k) s[k % 4] += static_cast<float>(x[t * K + k]) * static_cast<float>(wh[oc * K + k]);
      CHECK(r.quantized[static_cast<size_t>(t * O + oc)] == static_cast<double>((s[0] + s[1]) + (s[2] + s[3])));
    }
  CHECK(r.parts.accumulator > 0);
  CHECK(!r.accumulator_report);
}

TEST_CASE("layer: bad input names its field") {
  const auto w = normal(12, 1.0, 81), x = normal(8, 1.0, 82);
  LayerOptions o;
  o.weight_scheme = int8();
  o.activation_scheme = int8();
  CHECK(fails(w, {3, 4}, x, {2, 3}, o).field == "activationShape");    // 8 values are not [2, 3]
  CHECK(fails(w, {3, 4}, x, {4, 2}, o).field == "activationShape");    // in = 2 ≠ 4
  CHECK(fails(w, {12}, x, {2, 4}, o).field == "weightShape");          // rank 1
  CHECK(fails(w, {5, 4}, x, {2, 4}, o).field == "weightShape");        // 12 values are not [5, 4]
  LayerOptions g = o;
  g.weight_scheme->granularity = Granularity::Group;
  g.weight_scheme->group_size = 3;  // does not divide in = 4
  CHECK(fails(w, {3, 4}, x, {2, 4}, g).field == "weightScheme.groupSize");
  LayerOptions a = o;
  a.activation_scheme->granularity = Granularity::Channel;
  a.activation_scheme->axis = 2;
  CHECK(fails(w, {3, 4}, x, {2, 4}, a).field == "activationScheme.axis");
  LayerOptions s = o;
  s.weight_scheme->shape = {4, 3};
  CHECK(fails(w, {3, 4}, x, {2, 4}, s).field == "weightScheme.shape");
  LayerOptions u = o;
  u.weight_scheme->mode = Mode::AsymmetricUnsigned;
  u.activation_scheme->mode = Mode::AsymmetricUnsigned;
  u.activation_scheme->zero_point = 0;
  u.weight_scheme->zero_point = 0;
  u.accumulator = Accumulator::Int16;  // 255 · 255 > 32767
  const Error e = fails(w, {3, 4}, x, {2, 4}, u);
  CHECK(e.field == "accumulator");
  CHECK(e.message.find("one product") != std::string::npos);
  LayerOptions f = o;
  f.activation_scheme.reset();
  f.accumulator = Accumulator::Int32;
  CHECK(fails(w, {3, 4}, x, {2, 4}, f).field == "accumulator");
  LayerOptions ic = o;
  ic.weight_scheme->granularity = Granularity::Channel;
  ic.weight_scheme->axis = 1;  // per input channel: a scale at every k
  ic.accumulator = Accumulator::Int32;
  const Error per_k = fails(w, {3, 4}, x, {2, 4}, ic);
  CHECK(per_k.field == "accumulator");
  CHECK(per_k.message.find("per input channel") != std::string::npos);
  ic.accumulator.reset();  // then the float sums, without an accumulator report
  auto float_sums = analyze_layer(LayerTensor{nullptr, w.data(), w.size(), {3, 4}}, LayerTensor{nullptr, x.data(), x.size(), {2, 4}}, ic);
  REQUIRE(std::holds_alternative<LayerResult>(float_sums));
  CHECK(std::get<LayerResult>(float_sums).accumulator == Accumulator::Double);
  CHECK(!std::get<LayerResult>(float_sums).accumulator_report);
  LayerOptions t = o;
  t.activation_scheme->granularity = Granularity::Channel;  // per token
  t.output.enabled = true;
  CHECK(fails(w, {3, 4}, x, {2, 4}, t).field == "output");
  LayerOptions z = o;
  z.output.enabled = true;
  z.output.scale = 0.1;
  z.output.zero_point = 300;
  CHECK(fails(w, {3, 4}, x, {2, 4}, z).field == "output.zeroPoint");
  std::vector<double> bad = x;
  bad[5] = std::nan("");
  const Error nan = fails(w, {3, 4}, bad, {2, 4}, o);
  CHECK(nan.field == "activations");
  CHECK(nan.index == 5);
  LayerOptions fl;
  const Error nanf = fails(w, {3, 4}, bad, {2, 4}, fl);  // a float side is checked too
  CHECK(nanf.field == "activations");
  CHECK(nanf.index == 5);
}

TEST_CASE("chain: layer 2 after an activation, its error split into propagated and local") {
  const int64_t T = 6, K = 16, O = 12, O2 = 5;
  const auto w1 = normal(O * K, 0.3, 91), x = normal(T * K, 1.0, 92), w2 = normal(O2 * O, 0.3, 93);
  LayerOptions o1;
  o1.weight_scheme = int8();
  o1.weight_scheme->bits = 4;
  for (Activation f : {Activation::Relu, Activation::Gelu, Activation::Silu}) {
    LayerOptions o2;  // layer 2 float: all of its error comes from layer 1
    auto r = analyze_chain(tensor(w1, O, K), tensor(x, T, K), o1, tensor(w2, O2, O), f, o2);
    REQUIRE(std::holds_alternative<ChainResult>(r));
    const ChainResult& c = std::get<ChainResult>(r);
    CHECK(c.local_energy == 0);
    CHECK(c.total_energy == doctest::Approx(c.propagated_energy).epsilon(1e-12));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < O2; ++j) {
        double y2 = 0;
        for (int64_t k = 0; k < O; ++k) y2 += activate(f, c.first.reference[static_cast<size_t>(t * O + k)]) * w2[j * O + k];
        CHECK(c.second.reference[static_cast<size_t>(t * O2 + j)] == doctest::Approx(y2).epsilon(1e-12));
      }
    o2.weight_scheme = int8();
    o2.weight_scheme->bits = 4;
    auto r2 = analyze_chain(tensor(w1, O, K), tensor(x, T, K), o1, tensor(w2, O2, O), f, o2);
    const ChainResult& c2 = std::get<ChainResult>(r2);
    CHECK(c2.local_energy > 0);
    CHECK(c2.propagated_energy == doctest::Approx(c.propagated_energy).epsilon(1e-12));
    double signal = 0;
    for (double y : c2.second.reference) signal += y * y;
    CHECK(c2.second.metrics.sqnr_db == doctest::Approx(10 * std::log10(signal / c2.total_energy)).epsilon(1e-9));
    CHECK(c2.total_energy > c2.local_energy);
  }
  CHECK(activate(Activation::Gelu, 1.0) == doctest::Approx(0.8413447460685429).epsilon(1e-15));
  CHECK(activate(Activation::Silu, 1.0) == doctest::Approx(0.7310585786300049).epsilon(1e-15));
  LayerOptions o2;
  auto bad = analyze_chain(tensor(w1, O, K), tensor(x, T, K), o1, tensor(w2, O, O2), Activation::Relu, o2);
  REQUIRE(std::holds_alternative<Error>(bad));
  CHECK(std::get<Error>(bad).field == "next.weightShape");
}
