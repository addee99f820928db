#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
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
  m.sum_x2 = s.sum_x2;
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

namespace {

uint64_t order_key(double v) {
  const uint64_t u = bits_of(v);
  return u >> 63 ? ~u : u | (uint64_t{1} << 63);
}

double from_order_key(uint64_t k) {
  const uint64_t u = k >> 63 ? k & ~(uint64_t{1} << 63) : ~k;
  double v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

constexpr int kDigitBits = 16;
constexpr int kLevels = 64 / kDigitBits;

// Whether key k lies in the bucket of `prefix` (its first 16·level bits).
bool in_bucket(uint64_t k, int level, uint64_t prefix) {
  return level == 0 || k >> (64 - kDigitBits * level) == prefix;
}

}  // namespace

QuantileStream::QuantileStream(uint64_t n, bool absolute, std::vector<double> ps, size_t gather_limit)
    : n_(n), absolute_(absolute), ps_(std::move(ps)), gather_limit_(gather_limit) {
  if (n_ == 0) return;
  for (double p : ps_) {
    lerp_percentile(n_, p, [&](size_t rank) {
      if (std::none_of(targets_.begin(), targets_.end(), [&](const Target& t) { return t.rank == rank; }))
        targets_.push_back(Target{rank});
      return 0.0;
    });
  }
  pending_ = targets_.size();
  plan();
}

// The buckets the next pass counts or gathers, one per distinct prefix.
void QuantileStream::plan() {
  counting_.clear();
  gathering_.clear();
  for (const Target& t : targets_) {
    if (t.state == State::Known) continue;
    auto& list = t.state == State::Count ? counting_ : gathering_;
    if (std::any_of(list.begin(), list.end(), [&](const Bucket& b) { return b.level == t.level && b.prefix == t.prefix; }))
      continue;
    Bucket b{t.level, t.prefix, {}, {}};
    if (t.state == State::Count) b.counts.assign(size_t{1} << kDigitBits, 0);
    else b.members.reserve(t.size);
    list.push_back(std::move(b));
  }
}

template <class In>
void QuantileStream::add(const In* x, size_t n) {
  const auto value = [&](size_t i) {
    const double v = static_cast<double>(x[i]);
    return absolute_ ? std::fabs(v) : v;
  };
  if (counting_.size() == 1 && counting_[0].level == 0 && gathering_.empty()) {  // the first pass: every value counts
    uint64_t* counts = counting_[0].counts.data();
    for (size_t i = 0; i < n; ++i) ++counts[order_key(value(i)) >> (64 - kDigitBits)];
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const double v = value(i);
    const uint64_t k = order_key(v);
    for (Bucket& b : counting_)
      if (in_bucket(k, b.level, b.prefix)) ++b.counts[(k >> (64 - kDigitBits * (b.level + 1))) & 0xffff];
    for (Bucket& b : gathering_)
      if (in_bucket(k, b.level, b.prefix)) b.members.push_back(v);
  }
}

void QuantileStream::next() {
  // Gathered buckets: select each rank inside its own.
  for (Target& t : targets_) {
    if (t.state != State::Gather) continue;
    for (Bucket& b : gathering_) {
      if (b.level != t.level || b.prefix != t.prefix) continue;
      const auto r = static_cast<std::ptrdiff_t>(t.rank - t.below);
      std::nth_element(b.members.begin(), b.members.begin() + r, b.members.end());
      t.value = b.members[static_cast<size_t>(r)];
      t.state = State::Known;
      --pending_;
    }
  }
  // Counted buckets: each rank's next digit, then whether its new bucket is one value, small
  // enough to gather, or counted again.
  size_t gathered = 0;
  for (Target& t : targets_) {
    if (t.state != State::Count) continue;
    for (const Bucket& b : counting_) {
      if (b.level != t.level || b.prefix != t.prefix) continue;
      uint64_t below = t.below;
      size_t digit = 0;
      while (below + b.counts[digit] <= t.rank) below += b.counts[digit++];
      t.prefix = (t.prefix << kDigitBits) | digit;
      t.level += 1;
      t.below = below;
      t.size = b.counts[digit];
      break;
    }
    if (t.level == kLevels) {
      t.value = from_order_key(t.prefix);
      t.state = State::Known;
      --pending_;
    } else if (t.size <= gather_limit_ - std::min(gather_limit_, gathered)) {
      // Targets in one bucket share its gathering.
      const bool shared = std::any_of(targets_.begin(), targets_.end(), [&](const Target& o) {
        return &o != &t && o.state == State::Gather && o.level == t.level && o.prefix == t.prefix;
      });
      if (!shared) gathered += t.size;
      t.state = State::Gather;
    }
  }
  plan();
}

std::vector<double> QuantileStream::values() const {
  std::vector<double> out;
  for (double p : ps_) {
    if (n_ == 0) {
      out.push_back(kUndefined);
      continue;
    }
    out.push_back(lerp_percentile(n_, p, [&](size_t rank) {
      for (const Target& t : targets_)
        if (t.rank == rank) return t.value;
      return kUndefined;
    }));
  }
  return out;
}

template <class In>
void quantiles(const In* x, size_t n, bool absolute, const double* ps, double* out, size_t count) {
  QuantileStream q(n, absolute, std::vector<double>(ps, ps + count));
  while (!q.done()) {
    q.add(x, n);
    q.next();
  }
  const std::vector<double> v = q.values();
  std::copy(v.begin(), v.end(), out);
}

template void QuantileStream::add<float>(const float*, size_t);
template void QuantileStream::add<double>(const double*, size_t);
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
