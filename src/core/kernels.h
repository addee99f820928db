// The hot loops: one read of the samples for their range, one for quantize + dequantize +
// metric sums. Each takes pointer + count and exists twice: a wasm_simd128 body with a scalar
// tail, and its scalar twin. The two give bit-identical codes, reconstructions and sums: sums
// go to two double lanes (sample i to lane i % 2; float32 arithmetic first sums blocks of 64 in
// four float32 lanes, sample i to lane i % 4) and the lanes are added in one fixed order, in both.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "scheme.h"

namespace qe {

enum class Kernel { Auto, Scalar, Simd };

// True when this build has the wasm_simd128 bodies (otherwise Simd runs the scalar twin).
bool simd_available();
// Whether to run the SIMD twin: always, unless asked for the scalar one or built without SIMD.
bool use_simd(Kernel k);

// What one read of the samples tells: their range, and whether they may hold a NaN or ±Inf.
// `finite` false means "look closer": it is certain to be false when one is there, and may also
// be false when a running sum overflowed (then every sample is finite after all).
struct SampleScan {
  double min = 0;
  double max = 0;
  bool finite = true;
};

template <class In>
SampleScan scan_samples(const In* x, size_t n, Kernel k);

// The quantizer as the kernels see it: parameters already derived and validated.
struct KernelParams {
  double scale = 1;
  int32_t zero_point = 0;
  int32_t qmin = 0;
  int32_t qmax = 0;
  Rounding rounding = Rounding::HalfEven;
  Arithmetic arithmetic = Arithmetic::Float64;
  uint64_t seed = 0;
  uint64_t index_base = 0;  // global index of x[0]: stochastic draws and max-error index use it
  // false: skip finding where the largest error occurs (the SIMD twin's block re-scan); the
  // reported index is then only somewhere at or before it. For callers that look it up later.
  bool max_index = true;
};

// Per-sample outputs; each pointer may be null to skip it. `dequantized` is float* in float32
// arithmetic and double* in float64 arithmetic: x_hat as the arithmetic produced it.
struct SampleOutputs {
  int32_t* codes = nullptr;
  void* dequantized = nullptr;
  double* errors = nullptr;  // x - x_hat in double, x exactly as given
  uint8_t* clipped = nullptr;

  bool any() const { return codes || dequantized || errors || clipped; }
  // The outputs from sample `offset` on (x_hat float in float32 arithmetic, else double).
  SampleOutputs at(size_t offset, bool float32) const {
    SampleOutputs o = *this;
    if (o.codes) o.codes += offset;
    if (o.dequantized) {
      o.dequantized = float32 ? static_cast<void*>(static_cast<float*>(o.dequantized) + offset)
                              : static_cast<void*>(static_cast<double*>(o.dequantized) + offset);
    }
    if (o.errors) o.errors += offset;
    if (o.clipped) o.clipped += offset;
    return o;
  }
  // Sample i passed over (NonFinite::Skip): no code (0), no x_hat or error (NaN), not clipped.
  void skip(size_t i, bool float32) const {
    if (codes) codes[i] = 0;
    if (dequantized) {
      if (float32) static_cast<float*>(dequantized)[i] = NAN;
      else static_cast<double*>(dequantized)[i] = NAN;
    }
    if (errors) errors[i] = NAN;
    if (clipped) clipped[i] = 0;
  }
};

// NonFinite::Skip (analyze.h): run(begin, length) for each longest run of finite samples of
// x[0, n), and gap(begin, length) for each run of NaN or ±Inf between them, in order.
template <class In, class Run, class Gap>
void finite_runs(const In* x, size_t n, Run run, Gap gap) {
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && std::isfinite(static_cast<double>(x[j]))) ++j;
    if (j > i) run(i, j - i);
    size_t k = j;
    while (k < n && !std::isfinite(static_cast<double>(x[k]))) ++k;
    if (k > j) gap(j, k - j);
    i = k;
  }
}

// Sums over the samples, in double. Combine chunks with `merge` (in index order).
struct ErrorSums {
  uint64_t count = 0;
  double sum_x2 = 0;           // Σ x²: the signal energy
  double sum_err2 = 0;         // Σ e²
  double sum_err2_clipped = 0; // Σ e² over the clipped samples: the clipping part of the error
  double sum_abs = 0;          // Σ |e|
  double sum_err = 0;          // Σ e
  double sum_xhat2 = 0;        // Σ x_hat²
  double sum_xxhat = 0;        // Σ x·x_hat
  double max_abs = -1;         // max |e|, -1 before any sample
  uint64_t max_abs_index = 0;  // first index where it occurs
  uint64_t clip_count = 0;     // round(scaled) outside [qmin, qmax], before the clamp
  uint64_t tie_count = 0;      // scaled exactly halfway between two integers

  void merge(const ErrorSums& o);
};

// Sums in two double lanes, sample i to lane i % 2, finished in one fixed order: what the SIMD
// bodies store their vectors into and the scalar twins, tails, format and profile kernels add to,
// so every kernel sums alike.
struct LaneSums {
  static constexpr int kLanes = 2;
  double x2[kLanes] = {};
  double err2[kLanes] = {};
  double clip2[kLanes] = {};
  double abs[kLanes] = {};
  double err[kLanes] = {};
  double xhat2[kLanes] = {};
  double xxhat[kLanes] = {};
  double max_abs = -1;
  uint64_t max_index = 0;  // first index where max_abs occurs
  uint64_t clip = 0;
  uint64_t tie = 0;

  // Sample i (lane i % 2; `index` is its global index) with reconstruction xhat; a NaN error
  // (x_hat NaN) becomes the maximum.
  void add(size_t i, uint64_t index, double x, double xhat, bool clipped, bool is_tie) {
    const double e = x - xhat, ae = e < 0 ? -e : e;
    const size_t l = i % kLanes;
    x2[l] += x * x;
    err2[l] += e * e;
    clip2[l] += clipped ? e * e : 0.0;
    abs[l] += ae;
    err[l] += e;
    xhat2[l] += xhat * xhat;
    xxhat[l] += x * xhat;
    if (ae > max_abs || (ae != ae && max_abs == max_abs)) max_abs = ae, max_index = index;
    clip += clipped;
    tie += is_tie;
  }
  void reset() { *this = LaneSums{}; }
  ErrorSums finish(uint64_t count) const;
};

// Σ x in four float lanes: one plain read of the samples, the memory floor the benchmark
// measures the other kernels against. Not a metric.
template <class In>
double read_floor(const In* x, size_t n, Kernel k);

// Samples must be finite (analyze() checks them with scan_samples first): the twins agree on
// every finite input, but a NaN has no code.
template <class In>
ErrorSums quantize_samples(const In* x, size_t n, const KernelParams& p, const SampleOutputs& out, Kernel k);

// Derives run g's parameters from its range (SampleScan of the run: min, max, maybe-finite) into
// p.scale and p.zero_point; false stops the pass (a bad range, or samples that are not finite).
using GroupParamsFn = bool (*)(void* ctx, size_t g, const SampleScan& range, KernelParams& p);

// Per-group quantization in one pass: for each of `count` runs of `block` consecutive samples,
// its range as scan_samples finds it, then make(ctx, g, range, p), then the run quantized as
// quantize_samples would with p (index_base = base.index_base + g·block; the other fields as
// `base`). Run g's sums go to the ErrorSums at `sums` + g·stride bytes (inside the caller's
// per-group records); `out` points at the first run's outputs. Scanning each run just before
// quantizing it reads the samples from memory once. False when make() stopped the pass.
template <class In>
bool quantize_groups(const In* x, size_t count, size_t block, const KernelParams& base, GroupParamsFn make, void* ctx,
                     const SampleOutputs& out, Kernel k, ErrorSums* sums, size_t stride);

}  // namespace qe
