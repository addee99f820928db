// The SIMD kernels against their scalar twins: bit-identical codes, reconstructions, errors,
// clip flags and sums, on awkward sizes and on ties, subnormals and values far outside the range.
// Natively there is no SIMD body and both calls run the twin; the wasm build compares for real.
#include "kernels.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace qe;

namespace {

template <class In>
std::vector<In> awkward_samples(size_t n, double scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 40 * scale);
  std::vector<In> x(n);
  for (size_t i = 0; i < n; ++i) {
    switch (i % 8) {
      case 0:
        x[i] = static_cast<In>(std::round(normal(rng) / scale) * scale + 0.5 * scale);
        break;  // exact ties (scale 2^-k)
      case 1:
        x[i] = std::numeric_limits<In>::denorm_min() * static_cast<In>(i % 5);
        break;  // subnormals
      case 2:
        x[i] = static_cast<In>(normal(rng) * 1e6);
        break;  // far outside
      case 3:
        x[i] = static_cast<In>(-0.0);
        break;
      default:
        x[i] = static_cast<In>(normal(rng));
        break;
    }
  }
  return x;
}

struct Run {
  std::vector<int32_t> codes;
  std::vector<float> deq32;
  std::vector<double> deq64, errors;
  std::vector<uint8_t> clipped;
  ErrorSums sums;
};

template <class In>
Run run(const std::vector<In>& x, const KernelParams& p, Kernel k) {
  Run r;
  const size_t n = x.size();
  r.codes.assign(n, 0x7eadbeef);
  r.deq32.assign(n, -1.f);
  r.deq64.assign(n, -1.0);
  r.errors.assign(n, -1.0);
  r.clipped.assign(n, 7);
  SampleOutputs out{r.codes.data(), nullptr, r.errors.data(), r.clipped.data()};
  out.dequantized =
      p.arithmetic == Arithmetic::Float32 ? static_cast<void*>(r.deq32.data()) : static_cast<void*>(r.deq64.data());
  r.sums = quantize_samples(x.data(), n, p, out, k);
  return r;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

template <class T>
bool same_bits_vec(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

void check_same(const Run& a, const Run& b) {
  CHECK(a.codes == b.codes);
  CHECK(same_bits_vec(a.deq32, b.deq32));
  CHECK(same_bits_vec(a.deq64, b.deq64));
  CHECK(same_bits_vec(a.errors, b.errors));
  CHECK(a.clipped == b.clipped);
  CHECK(a.sums.count == b.sums.count);
  CHECK(same_bits(a.sums.sum_x2, b.sums.sum_x2));
  CHECK(same_bits(a.sums.sum_err2, b.sums.sum_err2));
  CHECK(same_bits(a.sums.sum_err2_clipped, b.sums.sum_err2_clipped));
  CHECK(same_bits(a.sums.sum_abs, b.sums.sum_abs));
  CHECK(same_bits(a.sums.sum_err, b.sums.sum_err));
  CHECK(same_bits(a.sums.sum_xhat2, b.sums.sum_xhat2));
  CHECK(same_bits(a.sums.sum_xxhat, b.sums.sum_xxhat));
  CHECK(same_bits(a.sums.max_abs, b.sums.max_abs));
  CHECK(a.sums.max_abs_index == b.sums.max_abs_index);
  CHECK(a.sums.clip_count == b.sums.clip_count);
  CHECK(a.sums.tie_count == b.sums.tie_count);
}

const Rounding kAllRules[] = {Rounding::HalfEven, Rounding::HalfAway,   Rounding::HalfUp,    Rounding::Floor,
                              Rounding::Ceil,     Rounding::TowardZero, Rounding::Stochastic};

}  // namespace

TEST_CASE_TEMPLATE("SIMD quantize equals its scalar twin bit for bit", In, float, double) {
  const double scale = 1.0 / 64;  // a power of two, so k + 1/2 steps are exact ties
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{1023}, size_t{1} << 20}) {
    const auto x = awkward_samples<In>(n, scale, static_cast<uint32_t>(n) + 11);
    for (Arithmetic arith : {Arithmetic::Float32, Arithmetic::Float64}) {
      for (Rounding rule : kAllRules) {
        if (n == (size_t{1} << 20) && rule != Rounding::HalfEven && rule != Rounding::Stochastic) continue;
        for (int asym = 0; asym < 2; ++asym) {
          KernelParams p;
          p.scale = scale;
          p.zero_point = asym ? -3 : 0;
          p.qmin = asym ? -128 : -127;
          p.qmax = 127;
          p.rounding = rule;
          p.arithmetic = arith;
          p.seed = 0x1234567890abcdefull;
          p.index_base = asym ? 5 : 0;
          CAPTURE(n);
          const std::string rule_name = to_string(rule);
          CAPTURE(rule_name);
          const std::string arith_name = to_string(arith);
          CAPTURE(arith_name);
          check_same(run(x, p, Kernel::Simd), run(x, p, Kernel::Scalar));
          // The sums-only loops (no per-sample outputs) are separate code: same sums.
          const ErrorSums a = quantize_samples(x.data(), n, p, SampleOutputs{}, Kernel::Simd);
          const ErrorSums b = quantize_samples(x.data(), n, p, SampleOutputs{}, Kernel::Scalar);
          CHECK(same_bits(a.sum_err2, b.sum_err2));
          CHECK(same_bits(a.sum_err2_clipped, b.sum_err2_clipped));
          CHECK(same_bits(a.sum_xxhat, b.sum_xxhat));
          CHECK(same_bits(a.sum_x2, b.sum_x2));
          CHECK(same_bits(a.max_abs, b.max_abs));
          CHECK(a.max_abs_index == b.max_abs_index);
          CHECK(a.clip_count == b.clip_count);
          CHECK(a.tie_count == b.tie_count);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("SIMD scan equals its scalar twin", In, float, double) {
  for (size_t n : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{1023}, size_t{1} << 20}) {
    const auto x = awkward_samples<In>(n, 1.0 / 64, 3);
    const SampleScan a = scan_samples(x.data(), n, Kernel::Simd), b = scan_samples(x.data(), n, Kernel::Scalar);
    CAPTURE(n);
    CHECK(a.min == b.min);
    CHECK(a.max == b.max);
    CHECK(a.finite);
    CHECK(b.finite);
  }
}

TEST_CASE_TEMPLATE("scan reports NaN and infinities wherever they sit", In, float, double) {
  for (size_t n : {size_t{1}, size_t{4}, size_t{7}, size_t{33}}) {
    for (size_t at = 0; at < n; ++at) {
      for (In bad : {std::numeric_limits<In>::quiet_NaN(), std::numeric_limits<In>::infinity(),
                     -std::numeric_limits<In>::infinity()}) {
        std::vector<In> x(n, In(1));
        x[at] = bad;
        CAPTURE(n);
        CAPTURE(at);
        CHECK_FALSE(scan_samples(x.data(), n, Kernel::Simd).finite);
        CHECK_FALSE(scan_samples(x.data(), n, Kernel::Scalar).finite);
      }
    }
  }
}

TEST_CASE("the scan's range") {
  const std::vector<double> x = {-1.25, -0.92, -0.51, -0.10, 0, 0.14, 0.37, 0.79, 1.12, 1.46};
  for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
    const SampleScan s = scan_samples(x.data(), x.size(), k);
    CHECK(s.min == -1.25);
    CHECK(s.max == 1.46);
    CHECK(s.finite);
  }
}

TEST_CASE("stochastic draws depend on the sample index only, not on where a chunk starts") {
  std::vector<double> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.37 + static_cast<double>(i % 7);
  KernelParams p;
  p.scale = 1;
  p.qmin = -128;
  p.qmax = 127;
  p.rounding = Rounding::Stochastic;
  p.seed = 42;
  std::vector<int32_t> whole(1000), parts(1000);
  quantize_samples(x.data(), 1000, p, SampleOutputs{whole.data(), nullptr, nullptr, nullptr}, Kernel::Auto);
  for (size_t begin : {size_t{0}, size_t{333}, size_t{334}, size_t{999}}) {
    const size_t end = begin == 0 ? 333 : (begin == 333 ? 334 : (begin == 334 ? 999 : 1000));
    KernelParams q = p;
    q.index_base = begin;
    quantize_samples(x.data() + begin, end - begin, q, SampleOutputs{parts.data() + begin, nullptr, nullptr, nullptr},
                     Kernel::Auto);
  }
  CHECK(whole == parts);
  p.seed = 43;
  std::vector<int32_t> other(1000);
  quantize_samples(x.data(), 1000, p, SampleOutputs{other.data(), nullptr, nullptr, nullptr}, Kernel::Auto);
  CHECK(whole != other);
}

namespace {

// The parameters of run g for quantize_groups: a min-max asymmetric scale from the run's range.
struct FromRange {
  std::vector<SampleScan> seen;
  static bool make(void* ctx, size_t g, const SampleScan& r, KernelParams& p) {
    auto& self = *static_cast<FromRange*>(ctx);
    if (self.seen.size() != g) return false;  // runs come in order
    self.seen.push_back(r);
    const double lo = std::min(r.min, 0.0), hi = std::max(r.max, 0.0);
    p.scale = hi > lo ? (hi - lo) / 15 : 1;
    p.zero_point = static_cast<int32_t>(std::nearbyint(-8 - lo / p.scale));
    p.zero_point = std::max(-8, std::min(7, p.zero_point));
    return true;
  }
};

}  // namespace

TEST_CASE_TEMPLATE("quantize_groups: each run scanned and quantized as scan_samples and quantize_samples do", In, float,
                   double) {
  for (size_t block : {size_t{1}, size_t{3}, size_t{4}, size_t{32}, size_t{64}, size_t{128}, size_t{130}}) {
    const size_t count = 37, n = count * block;
    const auto x = awkward_samples<In>(n, 1.0 / 64, static_cast<uint32_t>(block));
    for (Kernel k : {Kernel::Scalar, Kernel::Simd}) {
      for (Arithmetic arith : {Arithmetic::Float32, Arithmetic::Float64}) {
        for (Rounding rule : {Rounding::HalfEven, Rounding::Stochastic}) {
          for (bool outputs : {false, true}) {
            KernelParams base;
            base.qmin = -8;
            base.qmax = 7;
            base.rounding = rule;
            base.arithmetic = arith;
            base.seed = 99;
            base.index_base = 10;
            base.max_index = false;
            std::vector<int32_t> codes(n, -99), want_codes(n, -99);
            std::vector<double> errors(n), want_errors(n), deq64(n), want_deq64(n);
            std::vector<float> deq32(n), want_deq32(n);
            const auto outs = [&](std::vector<int32_t>& c, std::vector<double>& e, std::vector<float>& d32,
                                  std::vector<double>& d64) {
              if (!outputs) return SampleOutputs{};
              return SampleOutputs{c.data(),
                                   arith == Arithmetic::Float32 ? static_cast<void*>(d32.data()) : static_cast<void*>(d64.data()),
                                   e.data(), nullptr};
            };
            FromRange from;
            std::vector<ErrorSums> sums(count);
            REQUIRE(quantize_groups(x.data(), count, block, base, &FromRange::make, &from,
                                    outs(codes, errors, deq32, deq64), k, sums.data(), sizeof(ErrorSums)));
            REQUIRE(from.seen.size() == count);
            const SampleOutputs want_out = outs(want_codes, want_errors, want_deq32, want_deq64);
            for (size_t g = 0; g < count; ++g) {
              CAPTURE(block);
              CAPTURE(g);
              const SampleScan r = scan_samples(x.data() + g * block, block, k);
              CHECK(same_bits(from.seen[g].min, r.min));
              CHECK(same_bits(from.seen[g].max, r.max));
              KernelParams p = base;
              FromRange one;
              one.seen.resize(0);
              FromRange::make(&one, 0, r, p);
              p.index_base = base.index_base + g * block;
              SampleOutputs o = want_out;
              if (outputs) {
                o.codes += g * block;
                o.errors += g * block;
                o.dequantized = arith == Arithmetic::Float32 ? static_cast<void*>(want_deq32.data() + g * block)
                                                             : static_cast<void*>(want_deq64.data() + g * block);
              }
              const ErrorSums want = quantize_samples(x.data() + g * block, block, p, o, k);
              const ErrorSums& got = sums[g];
              CHECK(got.count == want.count);
              CHECK(same_bits(got.sum_x2, want.sum_x2));
              CHECK(same_bits(got.sum_err2, want.sum_err2));
              CHECK(same_bits(got.sum_err2_clipped, want.sum_err2_clipped));
              CHECK(same_bits(got.sum_abs, want.sum_abs));
              CHECK(same_bits(got.sum_err, want.sum_err));
              CHECK(same_bits(got.sum_xhat2, want.sum_xhat2));
              CHECK(same_bits(got.sum_xxhat, want.sum_xxhat));
              CHECK(same_bits(got.max_abs, want.max_abs));
              CHECK(got.max_abs_index == want.max_abs_index);
              CHECK(got.clip_count == want.clip_count);
              CHECK(got.tie_count == want.tie_count);
            }
            CHECK(codes == want_codes);
            CHECK(same_bits_vec(errors, want_errors));
            CHECK(same_bits_vec(deq32, want_deq32));
            CHECK(same_bits_vec(deq64, want_deq64));
          }
        }
      }
    }
  }
}

TEST_CASE("quantize_groups stops where make() refuses a run") {
  const std::vector<double> x(64, 1.0);
  struct Refuse {
    static bool make(void* ctx, size_t g, const SampleScan&, KernelParams& p) {
      *static_cast<size_t*>(ctx) = g;
      p.scale = 1;
      return g < 2;
    }
  };
  size_t last = 0;
  std::vector<ErrorSums> sums(8);
  KernelParams base;
  base.qmin = -8;
  base.qmax = 7;
  CHECK_FALSE(quantize_groups(x.data(), 8, 8, base, &Refuse::make, &last, SampleOutputs{}, Kernel::Auto, sums.data(),
                              sizeof(ErrorSums)));
  CHECK(last == 2);
  CHECK(sums[1].count == 8);
  CHECK(sums[2].count == 0);
}

TEST_CASE("float32 arithmetic on float32 samples: the sums stay finite for every finite input, in both twins") {
  // Beyond √FLT_MAX ≈ 1.8e19 the float32 lanes' squares overflow (sqnrDb came out Infinity and
  // the cosine NaN); the run's sums are then made in double. Sizes around the 64-sample blocks,
  // the huge values anywhere in them, a range that clips them and one that holds them.
  for (const float big : {2e19f, 1e30f, 3.4e38f}) {
    for (const size_t n : {size_t{4}, size_t{63}, size_t{64}, size_t{65}, size_t{200}}) {
      std::vector<float> x(n);
      for (size_t i = 0; i < n; ++i) x[i] = i % 7 == 3 ? big / static_cast<float>(1 + i % 5) * (i % 2 ? -1.0f : 1.0f) : static_cast<float>(i % 13) - 6;
      for (const double scale : {0.05, static_cast<double>(big) / 127}) {
        KernelParams p;
        p.arithmetic = Arithmetic::Float32;
        p.scale = static_cast<float>(scale);
        p.qmin = -127;
        p.qmax = 127;
        CAPTURE(big);
        CAPTURE(n);
        CAPTURE(scale);
        const Run simd = run(x, p, Kernel::Simd), scalar = run(x, p, Kernel::Scalar);
        check_same(simd, scalar);
        // The reference: every term in double from the per-sample outputs (e as float32 made it).
        // (Σ of float32 squares above FLT_MAX: the finite checks below fail on the old lanes.)
        double x2 = 0, e2 = 0, xh2 = 0, xxh = 0, ae = 0;
        for (size_t i = 0; i < n; ++i) {
          const double xd = x[i], xh = simd.deq32[i], e = simd.errors[i];
          x2 += xd * xd, e2 += e * e, xh2 += xh * xh, xxh += xd * xh, ae += std::fabs(e);
        }
        const ErrorSums& s = simd.sums;
        CHECK(std::isfinite(s.sum_x2));
        CHECK(std::isfinite(s.sum_err2));
        CHECK(std::isfinite(s.sum_xhat2));
        CHECK(std::isfinite(s.sum_xxhat));
        CHECK(std::isfinite(s.sum_abs));
        CHECK(std::isfinite(s.sum_err));
        // The float32 lanes' relative error, about 1e-7 (the double terms' is far below it).
        CHECK(std::fabs(s.sum_x2 - x2) <= 1e-6 * x2);
        CHECK(std::fabs(s.sum_err2 - e2) <= 1e-6 * e2);
        CHECK(std::fabs(s.sum_xhat2 - xh2) <= 1e-6 * xh2);
        CHECK(std::fabs(s.sum_xxhat - xxh) <= 1e-6 * std::sqrt(x2 * xh2));
        CHECK(std::fabs(s.sum_abs - ae) <= 1e-6 * ae);
      }
    }
  }
}
