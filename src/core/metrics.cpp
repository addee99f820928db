#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace qe {

namespace {
constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double ratio_db(double signal, double noise) {
  if (signal == 0) return kUndefined;
  if (noise == 0) return kInf;
  return 10.0 * std::log10(signal / noise);
}
}  // namespace

Metrics metrics_from_sums(const ErrorSums& s, double max_abs_x, double scale) {
  Metrics m;
  m.count = s.count;
  const double n = static_cast<double>(s.count);
  m.step = scale;
  m.uniform_noise = scale * scale / 12.0;
  if (s.count == 0) return m;
  m.mse = s.sum_err2 / n;
  m.rmse = std::sqrt(m.mse);
  m.mae = s.sum_abs / n;
  m.max_abs_error = s.max_abs;
  m.max_abs_error_index = static_cast<int64_t>(s.max_abs_index);
  m.mean_error = s.sum_err / n;
  m.error_std = std::sqrt(std::max(0.0, m.mse - m.mean_error * m.mean_error));
  m.sqnr_db = ratio_db(s.sum_x2, s.sum_err2);
  m.psnr_db = ratio_db(max_abs_x * max_abs_x, m.mse);
  m.clip_count = s.clip_count;
  m.clip_rate = static_cast<double>(s.clip_count) / n;
  const double norms = std::sqrt(s.sum_x2) * std::sqrt(s.sum_xhat2);  // two roots: no overflow
  m.cosine = norms == 0 ? kUndefined : s.sum_xxhat / norms;
  m.tie_count = s.tie_count;
  m.median_abs_error = m.p95_abs_error = kUndefined;
  m.mse_clipping = s.sum_err2_clipped / n;
  m.mse_rounding = std::max(0.0, m.mse - m.mse_clipping);
  m.code_entropy_bits = kUndefined;
  return m;
}

namespace {

// numpy's 'linear' rule: virtual index p·(n−1), then _lerp(a, b, t) = a + (b−a)·t, computed
// from b when t ≥ 1/2. `at(rank)` gives the rank-th smallest value.
template <class At>
double lerp_percentile(size_t n, double p, At at) {
  const double pos = p * static_cast<double>(n - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const double t = pos - static_cast<double>(lo);
  const double a = at(lo);
  if (lo + 1 >= n) return a;
  const double b = at(lo + 1);
  const double d = b - a;
  return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

uint64_t bits_of(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

}  // namespace

double percentile_linear(double* v, size_t n, double p) {
  if (n == 0) return kUndefined;
  return lerp_percentile(n, p, [&](size_t rank) {
    std::nth_element(v, v + rank, v + n);
    return v[rank];
  });
}

template <class In>
void quantiles(const In* x, size_t n, bool absolute, const double* ps, double* out, size_t count) {
  if (n == 0) {
    for (size_t k = 0; k < count; ++k) out[k] = kUndefined;
    return;
  }
  // Pass 1: histogram of the top 16 bits of an order-preserving key (|v| as it is; a signed v
  // with its sign bit flipped, or all bits when negative), so each rank falls in a known bucket.
  const auto value = [&](size_t i) {
    const double v = static_cast<double>(x[i]);
    return absolute ? std::fabs(v) : v;
  };
  const auto key = [](double v) {
    const uint64_t u = bits_of(v);
    return (u >> 63 ? ~u : u | (uint64_t{1} << 63)) >> 48;
  };
  std::vector<uint64_t> hist(1 << 16, 0);
  for (size_t i = 0; i < n; ++i) ++hist[key(value(i))];
  std::vector<uint64_t> below(hist.size() + 1, 0);  // values in buckets before b
  for (size_t b = 0; b < hist.size(); ++b) below[b + 1] = below[b] + hist[b];
  auto bucket_of = [&](size_t rank) {
    return static_cast<size_t>(std::upper_bound(below.begin(), below.end(), rank) - below.begin() - 1);
  };
  // Pass 2: gather the buckets that hold the wanted ranks, and select inside them only.
  std::vector<size_t> wanted;
  for (size_t k = 0; k < count; ++k) {
    lerp_percentile(n, ps[k], [&](size_t rank) {
      wanted.push_back(bucket_of(rank));
      return 0.0;
    });
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<std::vector<double>> members(wanted.size());
  for (size_t w = 0; w < wanted.size(); ++w) members[w].reserve(hist[wanted[w]]);
  for (size_t i = 0; i < n; ++i) {
    const double v = value(i);
    const size_t b = key(v);
    const auto it = std::lower_bound(wanted.begin(), wanted.end(), b);
    if (it != wanted.end() && *it == b) members[static_cast<size_t>(it - wanted.begin())].push_back(v);
  }
  for (size_t k = 0; k < count; ++k) {
    out[k] = lerp_percentile(n, ps[k], [&](size_t rank) {
      const size_t b = bucket_of(rank);
      auto& m = members[static_cast<size_t>(std::lower_bound(wanted.begin(), wanted.end(), b) - wanted.begin())];
      const size_t r = rank - below[b];
      std::nth_element(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(r), m.end());
      return m[r];
    });
  }
}

template void quantiles<float>(const float*, size_t, bool, const double*, double*, size_t);
template void quantiles<double>(const double*, size_t, bool, const double*, double*, size_t);

void code_utilisation(const int32_t* codes, size_t n, int32_t qmin, int32_t qmax, uint64_t& used,
                      double& entropy_bits) {
  std::vector<uint64_t> hist(static_cast<size_t>(static_cast<int64_t>(qmax) - qmin + 1), 0);
  for (size_t i = 0; i < n; ++i) ++hist[static_cast<size_t>(codes[i] - qmin)];
  used = 0;
  entropy_bits = 0;
  const double total = static_cast<double>(n);
  for (uint64_t c : hist) {
    if (c == 0) continue;
    ++used;
    const double p = static_cast<double>(c) / total;
    entropy_bits -= p * std::log2(p);
  }
  if (n == 0) entropy_bits = kUndefined;
}

}  // namespace qe
