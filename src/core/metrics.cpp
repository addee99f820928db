#include "metrics.h"

#include <algorithm>
#include <cmath>
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
  m.code_entropy_bits = kUndefined;
  return m;
}

double percentile_linear(double* v, size_t n, double p, size_t* placed) {
  if (n == 0) return kUndefined;
  // numpy: virtual index p·(n−1), then _lerp(a, b, t) = a + (b−a)·t, computed from b when t ≥ 1/2.
  const double pos = p * static_cast<double>(n - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const double t = pos - static_cast<double>(lo);
  // Ranks below an earlier call's are all in front of it: select among the rest only.
  const size_t from = placed && *placed <= lo ? *placed : 0;
  std::nth_element(v + from, v + lo, v + n);
  if (placed) *placed = lo;
  const double a = v[lo];
  if (lo + 1 >= n) return a;
  const double b = *std::min_element(v + lo + 1, v + n);
  const double d = b - a;
  return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

void code_utilisation(const int32_t* codes, size_t n, int32_t qmin, int32_t qmax, uint64_t& used, double& entropy_bits) {
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
