#include "analyze.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>

#include "simd.h"

#include "calibrate.h"
#include "memory.h"
#include "parse.h"
#include "profiles.h"
#include "rounding.h"

namespace qe {

namespace {

Error err(std::string field, std::string message, int64_t index = -1) {
  return Error{std::move(field), index, std::move(message)};
}

}  // namespace

std::optional<Error> validate_scheme(const QuantScheme& s) {
  if (s.bits < 2 || s.bits > 16)
    return err("bits", "Bit depth must be between 2 and 16 (got " + std::to_string(s.bits) + ")");
  int32_t qmin, qmax;
  mode_code_range(s.mode, s.bits, qmin, qmax);
  const int32_t lowest = -(int32_t{1} << (s.bits - 1)), highest = (int32_t{1} << s.bits) - 1;
  const std::string span = "[" + std::to_string(lowest) + ", " + std::to_string(highest) + "]";
  if (s.qmin && (*s.qmin < lowest || *s.qmin > highest))
    return err("qmin", "q_min must lie in " + span + " for " + std::to_string(s.bits) + " bits (got " +
                           std::to_string(*s.qmin) + ")");
  if (s.qmax && (*s.qmax < lowest || *s.qmax > highest))
    return err("qmax", "q_max must lie in " + span + " for " + std::to_string(s.bits) + " bits (got " +
                           std::to_string(*s.qmax) + ")");
  qmin = s.qmin.value_or(qmin);
  qmax = s.qmax.value_or(qmax);
  if (qmin >= qmax)
    return err(s.qmin ? "qmin" : "qmax",
               "q_min must be below q_max (got " + std::to_string(qmin) + " and " + std::to_string(qmax) + ")");
  if (s.mode == Mode::Symmetric && qmax <= 0) return err("qmax", "Symmetric mode needs q_max above 0");
  if (s.range) {
    for (auto [v, field, name] :
         {std::tuple{s.range->min, "range.min", "Range min"}, std::tuple{s.range->max, "range.max", "Range max"}}) {
      if (!std::isfinite(v)) return err(field, std::string(name) + " must be a finite number");
      if (std::fabs(v) > kMaxMagnitude) return err(field, std::string(name) + " must be within ±1e100");
    }
    if (!(s.range->min < s.range->max)) return err("range.min", "Range min must be below Range max");
  }
  if (s.scale) {
    if (!std::isfinite(*s.scale) || !(*s.scale > 0)) return err("scale", "Scale must be a positive finite number");
    if (s.arithmetic == Arithmetic::Float32) {
      const float f = static_cast<float>(*s.scale);
      if (f == 0 || std::isinf(f))
        return err("scale", "Scale " + number_text(*s.scale) + " is outside float32's range, needed by float32 arithmetic");
    }
  }
  if (!(s.percentile > 50 && s.percentile <= 100))
    return err("percentile", "Percentile must be above 50 and at most 100 (got " + number_text(s.percentile) + ")");
  if (s.zero_point && (*s.zero_point < qmin || *s.zero_point > qmax))
    return err("zeroPoint",
               "Zero point must lie in [q_min, q_max] = [" + std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  if (s.zero_point && s.mode == Mode::Symmetric && *s.zero_point != 0)
    return err("zeroPoint", "Symmetric mode fixes the zero point at 0: use an asymmetric mode for another zero point");
  return std::nullopt;
}

Result<QuantParams> derive_params(const QuantScheme& s, const SampleScan& scan) {
  QuantParams p;
  mode_code_range(s.mode, s.bits, p.qmin, p.qmax);
  p.qmin = s.qmin.value_or(p.qmin);
  p.qmax = s.qmax.value_or(p.qmax);
  if (s.range) {
    p.range_min = s.range->min;
    p.range_max = s.range->max;
  } else {
    p.range_min = scan.min;
    p.range_max = scan.max;
    // A zero-width range (all samples equal) has no scale: widen it to include zero, as
    // PyTorch's observers always do. All-zero samples keep [0, 0] and get scale 1.
    if (p.range_min == p.range_max) {
      p.range_min = std::min(p.range_min, 0.0);
      p.range_max = std::max(p.range_max, 0.0);
    }
  }
  const bool zero_range = p.range_min == 0 && p.range_max == 0;
  if (s.scale) {
    p.scale = *s.scale;
  } else if (zero_range) {
    p.scale = 1;
  } else if (s.mode == Mode::Symmetric) {
    p.scale = std::max(std::fabs(p.range_min), std::fabs(p.range_max)) / p.qmax;
  } else {
    p.scale = (p.range_max - p.range_min) / (static_cast<double>(p.qmax) - p.qmin);
  }
  const char* range_field = s.range ? "range.min" : "values";
  if (!(p.scale > 0) || !std::isfinite(p.scale))
    return err(range_field, "The range [" + number_text(p.range_min) + ", " + number_text(p.range_max) +
                                "] is too narrow: its scale underflows to 0");
  if (s.zero_point) {
    p.zero_point = *s.zero_point;
  } else if (s.mode == Mode::Symmetric) {
    p.zero_point = 0;
  } else {
    // zero_point = round(q_min − real_min / scale), ties to even whatever the sample rounding,
    // clamped to [q_min, q_max] (a range that excludes 0 then clips on one side).
    const double z = round_half_even(static_cast<double>(p.qmin) - p.range_min / p.scale);
    p.zero_point = static_cast<int32_t>(std::clamp(z, static_cast<double>(p.qmin), static_cast<double>(p.qmax)));
  }
  if (s.arithmetic == Arithmetic::Float32) {
    // Runtimes keep the scale as float32; the reported scale is the one used. The zero point
    // above came from the float64 scale, as the formula is written.
    const float f = static_cast<float>(p.scale);
    if (f == 0 || std::isinf(f))
      return err(s.scale ? "scale" : range_field,
                 "The scale " + number_text(p.scale) + " is outside float32's range, needed by float32 arithmetic");
    p.scale = f;
  }
  return p;
}

namespace {

// derive_params for a channel's or group's own min-max range [lo, hi] when no scale or zero point
// is given: the same arithmetic without the checks' strings, for 100k groups. False when the scale
// is unusable (derive_params then says why).
bool min_max_params(const QuantScheme& s, int32_t qmin, int32_t qmax, double lo, double hi, QuantParams& p) {
  p.qmin = qmin;
  p.qmax = qmax;
  if (lo == hi) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  p.range_min = lo;
  p.range_max = hi;
  if (lo == 0 && hi == 0) p.scale = 1;
  else if (s.mode == Mode::Symmetric) p.scale = std::max(std::fabs(lo), std::fabs(hi)) / qmax;
  else p.scale = (hi - lo) / (static_cast<double>(qmax) - qmin);
  if (!(p.scale > 0) || !std::isfinite(p.scale)) return false;
  if (s.mode == Mode::Symmetric) {
    p.zero_point = 0;
  } else {
    const double z = round_half_even(static_cast<double>(qmin) - lo / p.scale);
    p.zero_point = static_cast<int32_t>(std::clamp(z, static_cast<double>(qmin), static_cast<double>(qmax)));
  }
  if (s.arithmetic == Arithmetic::Float32) {
    const float f = static_cast<float>(p.scale);
    if (f == 0 || std::isinf(f)) return false;
    p.scale = f;
  }
  return true;
}

// The samples, float or double. The integer path's logic exists once; each read of the samples
// goes to the kernel of their type.
struct Samples {
  static constexpr bool kSkips = false;
  const float* f32 = nullptr;
  const double* f64 = nullptr;
  size_t n = 0;
  Samples(const float* x, size_t count) : f32(x), n(count) {}
  Samples(const double* x, size_t count) : f64(x), n(count) {}
  double at(size_t i) const { return f32 ? static_cast<double>(f32[i]) : f64[i]; }
  uint64_t count() const { return n; }  // the samples measured
  SampleScan scan(size_t offset, size_t length, Kernel k) const {
    return f32 ? scan_samples(f32 + offset, length, k) : scan_samples(f64 + offset, length, k);
  }
  ErrorSums quantize(size_t offset, size_t length, const KernelParams& p, const SampleOutputs& out, Kernel k) const {
    return f32 ? quantize_samples(f32 + offset, length, p, out, k) : quantize_samples(f64 + offset, length, p, out, k);
  }
  Result<CalibrationReport> calibrate(const QuantScheme& s, const SampleScan& scan, Kernel k) const {
    return f32 ? qe::calibrate(f32, n, s, scan, k) : qe::calibrate(f64, n, s, scan, k);
  }
};

// Samples with NaN or ±Inf among them, under NonFinite::Skip: every read goes over the runs of
// finite samples between them, so the kernels see finite samples only (each run with its own
// first index: stochastic draws and the largest error's index stay the samples' own), and the
// outputs of the others are marked skipped (SampleOutputs::skip).
struct FiniteSamples : Samples {
  static constexpr bool kSkips = true;
  uint64_t finite = 0;
  template <class In>
  FiniteSamples(const In* x, size_t count, uint64_t finite_count) : Samples(x, count), finite(finite_count) {}
  uint64_t count() const { return finite; }
  bool is_finite(size_t i) const { return std::isfinite(at(i)); }
  // finite_runs over [offset, offset + length), the positions the samples' own.
  template <class Run, class Gap>
  void runs(size_t offset, size_t length, Run run, Gap gap) const {
    const auto shifted = [offset](auto f) {
      return [=](size_t begin, size_t count) mutable { f(offset + begin, count); };
    };
    if (f32)
      finite_runs(f32 + offset, length, shifted(run), shifted(gap));
    else
      finite_runs(f64 + offset, length, shifted(run), shifted(gap));
  }
  // The finite samples' range, their runs' extremes compared strictly in order as one scan
  // compares its parts; {+∞, −∞} when there is none.
  SampleScan scan(size_t offset, size_t length, Kernel k) const {
    SampleScan s{INFINITY, -INFINITY, true};
    runs(
        offset, length,
        [&](size_t begin, size_t run) {
          const SampleScan r = Samples::scan(begin, run, k);
          if (r.min < s.min) s.min = r.min;
          if (r.max > s.max) s.max = r.max;
        },
        [](size_t, size_t) {});
    return s;
  }
  ErrorSums quantize(size_t offset, size_t length, const KernelParams& p, const SampleOutputs& out, Kernel k) const {
    const bool float32 = p.arithmetic == Arithmetic::Float32;
    ErrorSums total;
    runs(
        offset, length,
        [&](size_t begin, size_t run) {
          KernelParams q = p;
          q.index_base = p.index_base + (begin - offset);
          total.merge(Samples::quantize(begin, run, q, out.at(begin - offset, float32), k));
        },
        [&](size_t begin, size_t gap) {
          for (size_t i = begin - offset; i < begin - offset + gap; ++i) out.skip(i, float32);
        });
    return total;
  }
  Result<CalibrationReport> calibrate(const QuantScheme& s, const SampleScan& scan, Kernel k) const {
    return f32 ? calibrate_finite(f32, n, finite, s, scan, k) : calibrate_finite(f64, n, finite, s, scan, k);
  }
};

// The runs of consecutive samples that make up each channel or group. Equal consecutive blocks
// (groups, or channels on the first axis) are `block` samples each; otherwise runs[g] lists them.
struct Layout {
  size_t count = 0;  // channels or groups; 0 for the whole tensor
  size_t block = 0;
  std::vector<std::vector<std::pair<size_t, size_t>>> runs;
  template <class F> void for_runs(size_t g, F f) const {
    if (block) f(g * block, block);
    else
      for (const auto& [offset, length] : runs[g]) f(offset, length);
  }
  // Channel or group g's range over its runs (min and max as each run's scan finds them).
  SampleScan scan(size_t g, const Samples& x, Kernel k) const {
    SampleScan s;
    bool first = true;
    for_runs(g, [&](size_t offset, size_t length) {
      const SampleScan r = x.scan(offset, length, k);
      s.min = first ? r.min : std::min(s.min, r.min);
      s.max = first ? r.max : std::max(s.max, r.max);
      first = false;
    });
    return s;
  }
  // With skipped samples, over the finite ones ([0, 0] when there is none).
  SampleScan scan(size_t g, const FiniteSamples& x, Kernel k) const {
    SampleScan s{INFINITY, -INFINITY, true};
    for_runs(g, [&](size_t offset, size_t length) {
      const SampleScan r = x.scan(offset, length, k);
      s.min = std::min(s.min, r.min);
      s.max = std::max(s.max, r.max);
    });
    return s.min > s.max ? SampleScan{} : s;
  }
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string t;
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? "×" : "") + std::to_string(shape[i]);
  return t;
}

}  // namespace

KernelParams kernel_params(const QuantScheme& s, const QuantParams& p, uint64_t index_base) {
  KernelParams k;
  k.scale = p.scale;
  k.zero_point = p.zero_point;
  k.qmin = p.qmin;
  k.qmax = p.qmax;
  k.rounding = s.rounding;
  k.arithmetic = s.arithmetic;
  k.seed = s.seed;
  k.index_base = index_base;
  return k;
}

Result<GroupGeometry> group_geometry(const QuantScheme& s, size_t n) {
  GroupGeometry g;
  if (!s.shape.empty()) {
    double count = 1;
    for (int64_t d : s.shape) {
      if (d < 1) return err("shape", "Every dimension of the shape must be at least 1 (got " + shape_text(s.shape) + ")");
      count *= static_cast<double>(d);
    }
    if (count != static_cast<double>(n))
      return err("shape", "Shape " + shape_text(s.shape) + " holds " + number_text(count) + " values, but there are " +
                              std::to_string(n) + " samples");
  }
  if (s.granularity == Granularity::Tensor) return g;
  if (s.range)
    return err("range.min", std::string("A custom range applies to the whole tensor: derive the ranges from the samples for ") +
                                (s.granularity == Granularity::Channel ? "per-channel" : "per-group") + " quantization");
  if (s.calibration != Calibration::MinMax)
    return err("calibration", "Each channel or group takes the min-max range of its own samples: choose Min-max calibration");
  if (s.granularity == Granularity::Channel) {
    if (s.shape.empty()) return err("shape", "Per-channel quantization needs the tensor's shape, such as 64,3,3,3");
    const int rank = static_cast<int>(s.shape.size());
    const int axis = s.axis < 0 ? s.axis + rank : s.axis;
    if (axis < 0 || axis >= rank)
      return err("axis", "Axis " + std::to_string(s.axis) + " is outside a shape of " + std::to_string(rank) + " dimensions");
    g.run = 1;
    for (int i = axis + 1; i < rank; ++i) g.run *= static_cast<size_t>(s.shape[static_cast<size_t>(i)]);
    g.count = static_cast<size_t>(s.shape[static_cast<size_t>(axis)]);
    return g;
  }
  const int64_t last = s.shape.empty() ? static_cast<int64_t>(n) : s.shape.back();
  if (s.group_size < 1) return err("groupSize", "Group size must be a whole number of at least 1");
  if (last % s.group_size != 0)
    return err("groupSize", "Group size " + std::to_string(s.group_size) + " does not divide the last dimension (" +
                                std::to_string(last) + ")");
  g.run = static_cast<size_t>(s.group_size);
  g.count = n / g.run;
  return g;
}

std::optional<Error> group_memory(const QuantScheme& s, size_t count, double bytes_each) {
  const double bytes = static_cast<double>(count) * bytes_each;
  if (can_allocate(bytes)) return std::nullopt;
  if (s.granularity == Granularity::Group)
    return err("groupSize", "Not enough memory for " + grouped_digits(count) + " groups (" + megabytes_text(bytes) +
                                "): choose a larger group size");
  return err("axis", "Not enough memory for " + grouped_digits(count) + " channels (" + megabytes_text(bytes) + ")");
}

namespace {

// Given per-channel or per-group parameters (QuantScheme::given) against the
// layout's `count` channels or groups and the code range [qmin, qmax]: one of each per channel or
// group, scales positive and finite (float32 numbers where the arithmetic is float32), zero
// points in the code range (0 in the formula's symmetric mode). An error's index is the position
// in the list.
std::optional<Error> validate_given(const QuantScheme& s, size_t count, int32_t qmin, int32_t qmax, bool float32) {
  const bool channel = s.granularity == Granularity::Channel;
  if (s.scales() && s.scale) return err("scale", "Give one scale for the tensor or a list, not both");
  if (s.zero_points() && s.zero_point) return err("zeroPoint", "Give one zero point for the tensor or a list, not both");
  const char* field = s.scales() ? "scale" : "zeroPoint";
  if (count == 0)
    return err(field, std::string(s.scales() ? "A list of scales" : "A list of zero points") +
                          " has one per channel or group: choose granularity 'channel' or 'group' (or give one number)");
  const auto length = [&](const char* f, const char* name, size_t n) -> std::optional<Error> {
    if (n == count) return std::nullopt;
    return err(f, std::string(name) + " lists " + std::to_string(n) + " value" + (n == 1 ? "" : "s") + ", but there " +
                      (count == 1 ? "is 1 " : "are " + std::to_string(count) + " ") + (channel ? "channel" : "group") +
                      (count == 1 ? "" : "s") + (channel ? " (the shape's size along the axis)" : " (the samples / groupSize)"));
  };
  if (s.scales()) {
    if (auto e = length("scale", "Scale", s.given->scale_count)) return e;
    for (size_t i = 0; i < count; ++i) {
      const double v = s.scales()[i];
      const std::string which = "Scale " + std::to_string(i + 1) + " of " + std::to_string(count) + " (" + number_text(v) + ")";
      if (!std::isfinite(v) || !(v > 0)) return err("scale", which + " must be a positive finite number", static_cast<int64_t>(i));
      const float f = static_cast<float>(v);
      if (float32 && (f == 0 || std::isinf(f)))
        return err("scale", which + " is outside float32's range, needed by float32 arithmetic", static_cast<int64_t>(i));
    }
  }
  if (s.zero_points()) {
    if (auto e = length("zeroPoint", "Zero point", s.given->zero_point_count)) return e;
    for (size_t i = 0; i < count; ++i) {
      const int32_t z = s.zero_points()[i];
      const std::string which = "Zero point " + std::to_string(i + 1) + " of " + std::to_string(count) + " (" + std::to_string(z) + ")";
      if (z < qmin || z > qmax)
        return err("zeroPoint", which + " must lie in [" + std::to_string(qmin) + ", " + std::to_string(qmax) + "]", static_cast<int64_t>(i));
      if (z != 0 && s.profile == Profile::Formula && s.mode == Mode::Symmetric)
        return err("zeroPoint", which + ": symmetric mode fixes the zero point at 0 (use an asymmetric mode)", static_cast<int64_t>(i));
    }
  }
  return std::nullopt;
}

Result<Layout> layout_of(const QuantScheme& s, size_t n) {
  auto geometry = group_geometry(s, n);
  if (auto* e = std::get_if<Error>(&geometry)) return *e;
  const GroupGeometry& g = std::get<GroupGeometry>(geometry);
  Layout l;
  l.count = g.count;
  if (g.count == 0 || g.run * g.count == n) {  // equal consecutive blocks
    l.block = g.run;
    return l;
  }
  // A list of runs per channel: n / run of them in all.
  const double per_channel = sizeof(l.runs[0]) + static_cast<double>(n / g.run) / static_cast<double>(g.count) * sizeof(std::pair<size_t, size_t>);
  if (auto e = group_memory(s, g.count, per_channel)) return *e;
  l.runs.resize(g.count);
  for (size_t at = 0, k = 0; at < n; at += g.run, ++k) l.runs[k % g.count].emplace_back(at, g.run);
  return l;
}

// The first sample that is NaN, infinite (unless `skip`) or beyond `limit`, as an error; nullopt
// when there is none (a scan's "maybe not finite" can come from an overflowing running sum).
template <bool kSkip = false>
std::optional<Error> bad_sample(const Samples& x, double limit) {
  for (size_t i = 0; i < x.n; ++i) {
    const double v = x.at(i);
    if (kSkip && !std::isfinite(v)) continue;
    const std::string where = "Sample " + std::to_string(i + 1);
    if (std::isnan(v)) return err("values", where + " is NaN", static_cast<int64_t>(i));
    if (std::isinf(v)) return err("values", where + " is infinite", static_cast<int64_t>(i));
    if (std::fabs(v) > kMaxMagnitude)
      return err("values", where + " (" + number_text(v) + ") is too large: magnitudes up to 1e100 are supported",
                 static_cast<int64_t>(i));
    if (std::fabs(v) > limit)
      return err("values", where + " (" + number_text(v) + ") is outside float32's range, needed by float32 arithmetic",
                 static_cast<int64_t>(i));
  }
  return std::nullopt;
}

// Per-sample outputs sized for n samples, or an error when memory is short. Allocation failure
// would abort the module (no exceptions in the web build): ask first.
std::optional<Error> allocate_outputs(Analysis& a, size_t n, Arithmetic arithmetic, SampleOutputs& out,
                                     const SampleOutputs* into) {
  if (into) {  // the caller's arrays
    out = *into;
    return std::nullopt;
  }
  // Codes, x_hat, errors, clip flags, and up to one double per sample for the percentiles.
  const size_t deq = arithmetic == Arithmetic::Float32 ? sizeof(float) : sizeof(double);
  const double need = static_cast<double>(n) * static_cast<double>(sizeof(int32_t) + deq + 2 * sizeof(double) + 1);
  if (!can_allocate(need)) {
    return err("values", "Not enough memory for the per-sample results of " + std::to_string(n) + " samples (about " +
                             number_text(std::round(need / 1e8) / 10) + " GB): use perSample: false for the metrics alone");
  }
  a.codes.resize(n);
  a.errors.resize(n);
  a.clipped.resize(n);
  out.codes = a.codes.data();
  out.errors = a.errors.data();
  out.clipped = a.clipped.data();
  if (arithmetic == Arithmetic::Float32) {
    a.dequantized_f32.resize(n);
    out.dequantized = a.dequantized_f32.data();
  } else {
    a.dequantized_f64.resize(n);
    out.dequantized = a.dequantized_f64.data();
  }
  return std::nullopt;
}

// Per-group min-max quantization of equal consecutive blocks in one read (quantize_groups): what
// each block's scan tells becomes its parameters here, and the blocks' extremes the tensor's.
struct GroupPass {
  const QuantScheme* scheme;
  int32_t qmin, qmax;
  double limit;
  std::vector<GroupResult>* groups;
  SampleScan all;             // the samples' min and max, block by block
  bool bad_samples = false;   // a block may hold NaN, ±Inf or too large a value
  size_t refused = SIZE_MAX;  // the block whose range gives no usable scale
  static bool make(void* ctx, size_t g, const SampleScan& range, KernelParams& p) {
    auto& pass = *static_cast<GroupPass*>(ctx);
    if (!range.finite || std::max(std::fabs(range.min), std::fabs(range.max)) > pass.limit) {
      pass.bad_samples = true;
      return false;
    }
    if (g == 0 || range.min < pass.all.min) pass.all.min = range.min;
    if (g == 0 || range.max > pass.all.max) pass.all.max = range.max;
    // Built in order as the pass reaches each group (in cache, with its sums right after).
    QuantParams& q = pass.groups->emplace_back().params;
    if (!min_max_params(*pass.scheme, pass.qmin, pass.qmax, range.min, range.max, q)) {
      pass.refused = g;
      return false;
    }
    p.scale = q.scale;
    p.zero_point = q.zero_point;
    return true;
  }
};

}  // namespace

namespace {

// The metrics that need every sample: codes used, their entropy, and percentiles of |e|.
void percentile_metrics(Analysis& a, size_t n) {
  code_utilisation(a.codes.data(), n, a.params.qmin, a.params.qmax, a.metrics.codes_used, a.metrics.code_entropy_bits);
  const double ps[2] = {0.5, 0.95};
  double pct[2];
  quantiles(a.errors.data(), n, true, ps, pct, 2);
  a.metrics.median_abs_error = pct[0];
  a.metrics.p95_abs_error = pct[1];
}
void percentile_metrics(Analysis& a, const Samples& x) { percentile_metrics(a, x.n); }

// With skipped samples, of the finite ones: their codes and errors, gathered, stand in for the
// analysis' own while it is measured.
void percentile_metrics(Analysis& a, const FiniteSamples& x) {
  std::vector<int32_t> codes;
  std::vector<double> errors;
  codes.reserve(x.count());
  errors.reserve(x.count());
  for (size_t i = 0; i < x.n; ++i)
    if (x.is_finite(i)) codes.push_back(a.codes[i]), errors.push_back(a.errors[i]);
  a.codes.swap(codes), a.errors.swap(errors);
  percentile_metrics(a, a.codes.size());
  a.codes.swap(codes), a.errors.swap(errors);
}

template <class In>
Result<Analysis> analyze_format(const In* x, size_t n, const AnalyzeOptions& opt, const SampleScan& scan) {
  const QuantScheme& s = opt.scheme;
  Analysis a;
  SampleOutputs out;
  if (opt.per_sample)
    if (auto e = allocate_outputs(a, n, s.arithmetic, out, opt.into)) return *e;
  const double max_abs_x = std::max(std::fabs(scan.min), std::fabs(scan.max));
  FormatResult r = quantize_format(x, n, s, max_abs_x, out, opt.kernel);
  const Minifloat& f = element_format(s);
  a.params.scale = r.tensor_scale;
  a.params.zero_point = 0;
  a.params.qmin = 0;  // codes are bit patterns (NF4: level indices)
  a.params.qmax = s.format == NumberFormat::Nf4 ? 15 : s.format == NumberFormat::Mxint8 ? 255 : (1 << f.bits()) - 1;
  a.params.range_min = scan.min;
  a.params.range_max = scan.max;
  a.calibration.method = "minmax";
  a.calibration.range_min = scan.min;
  a.calibration.range_max = scan.max;
  a.metrics = metrics_from_sums(r.sums, max_abs_x, r.tensor_scale);
  a.metrics.step = a.metrics.uniform_noise = std::numeric_limits<double>::quiet_NaN();  // no one step
  a.format_counts = r.counts;
  a.block_scales = std::move(r.block_scales);
  a.block_codes = std::move(r.block_codes);
  return a;
}

// What ggml_blocks_pass fills and reads: the blocks' fields, the per-sample outputs, the
// importance weights of a row.
struct GgmlTarget {
  const GgmlTypeInfo* t;
  GgmlBlocks& g;
  double* block_scales;    // nullptr for NVFP4
  uint32_t* block_codes;
  size_t per_row;
  const float* w;
  SampleOutputs out;
  size_t rows_per_matrix = 0;  // with per-matrix weights (3-D expert tensors): rows of one matrix; 0: one weight vector
};
struct GgmlPass {
  LaneSums sums;
  double wsum = 0, wx2 = 0, we2 = 0;  // Σw, Σw·x², Σw·e²
  uint64_t overflow = 0, underflow = 0;
};

// The sums of one block of samples x against x̂ = y, as LaneSums::add keeps them (sample i to lane
// i % 2; a block starts on an even sample), in locals (the outputs could alias them): nothing
// clips, there are no ties. Out of line, as ggml_blocks_pass is: inside analyze()'s one big
// function V8 compiles these loops several times slower.
template <class In>
[[gnu::noinline]] void ggml_block_sums(const In* x, const float* y, size_t at, size_t block, const float* w, GgmlPass& p) {
  LaneSums& S = p.sums;
  double x2[2] = {S.x2[0], S.x2[1]}, err2[2] = {S.err2[0], S.err2[1]}, abs[2] = {S.abs[0], S.abs[1]};
  double err1[2] = {S.err[0], S.err[1]}, xhat2[2] = {S.xhat2[0], S.xhat2[1]}, xxhat[2] = {S.xxhat[0], S.xxhat[1]};
  double max_abs = S.max_abs;
  uint64_t max_index = S.max_index, over = 0, under = 0;
  size_t j = 0;
#ifdef QE_SIMD
  // The two lanes are an f64x2: each lane does the same operations as the scalar loop below, so
  // the sums are the same bit for bit. The largest error is looked at element by element only
  // where one of the two could be it.
  {
    v128_t vx2 = wasm_f64x2_make(x2[0], x2[1]), verr2 = wasm_f64x2_make(err2[0], err2[1]);
    v128_t vabs = wasm_f64x2_make(abs[0], abs[1]), verr = wasm_f64x2_make(err1[0], err1[1]);
    v128_t vxhat2 = wasm_f64x2_make(xhat2[0], xhat2[1]), vxxhat = wasm_f64x2_make(xxhat[0], xxhat[1]);
    v128_t vover = wasm_i64x2_splat(0), vunder = wasm_i64x2_splat(0);
    const v128_t top = wasm_f64x2_splat(std::numeric_limits<float>::max()), zero = wasm_f64x2_splat(0);
    for (; j + 2 <= block; j += 2) {
      v128_t xi;
      if constexpr (std::is_same_v<In, float>) xi = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(x + j));
      else xi = wasm_v128_load(x + j);
      const v128_t xh = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(y + j));
      const v128_t e = wasm_f64x2_sub(xi, xh), ae = wasm_f64x2_abs(e);
      vx2 = wasm_f64x2_add(vx2, wasm_f64x2_mul(xi, xi));
      verr2 = wasm_f64x2_add(verr2, wasm_f64x2_mul(e, e));
      vabs = wasm_f64x2_add(vabs, ae);
      verr = wasm_f64x2_add(verr, e);
      vxhat2 = wasm_f64x2_add(vxhat2, wasm_f64x2_mul(xh, xh));
      vxxhat = wasm_f64x2_add(vxxhat, wasm_f64x2_mul(xi, xh));
      vover = wasm_i64x2_sub(vover, wasm_v128_not(wasm_f64x2_le(wasm_f64x2_abs(xh), top)));
      vunder = wasm_i64x2_sub(vunder, wasm_v128_and(wasm_f64x2_ne(xi, zero), wasm_f64x2_eq(xh, zero)));
      if (!wasm_i64x2_all_true(wasm_f64x2_le(ae, wasm_f64x2_splat(max_abs)))) {
        for (int l = 0; l < 2; ++l) {
          const double a = l ? wasm_f64x2_extract_lane(ae, 1) : wasm_f64x2_extract_lane(ae, 0);
          if (a > max_abs || (a != a && max_abs == max_abs)) max_abs = a, max_index = at + j + static_cast<size_t>(l);
        }
      }
    }
    const auto lanes = [](v128_t v, double* out) { out[0] = wasm_f64x2_extract_lane(v, 0), out[1] = wasm_f64x2_extract_lane(v, 1); };
    lanes(vx2, x2), lanes(verr2, err2), lanes(vabs, abs), lanes(verr, err1), lanes(vxhat2, xhat2), lanes(vxxhat, xxhat);
    over += static_cast<uint64_t>(wasm_i64x2_extract_lane(vover, 0) + wasm_i64x2_extract_lane(vover, 1));
    under += static_cast<uint64_t>(wasm_i64x2_extract_lane(vunder, 0) + wasm_i64x2_extract_lane(vunder, 1));
  }
#endif
  for (; j < block; j += 2) {
    for (size_t l = 0; l < 2; ++l) {
      const double xi = static_cast<double>(x[j + l]), xh = static_cast<double>(y[j + l]), e = xi - xh;
      const double ae = e < 0 ? -e : e;
      x2[l] += xi * xi;
      err2[l] += e * e;
      abs[l] += ae;
      err1[l] += e;
      xhat2[l] += xh * xh;
      xxhat[l] += xi * xh;
      if (ae > max_abs || (ae != ae && max_abs == max_abs)) max_abs = ae, max_index = at + j + l;
      over += !(std::fabs(y[j + l]) <= std::numeric_limits<float>::max());
      under += xi != 0 && xh == 0;
    }
  }
  for (size_t l = 0; l < 2; ++l) {
    S.x2[l] = x2[l], S.err2[l] = err2[l], S.abs[l] = abs[l], S.err[l] = err1[l], S.xhat2[l] = xhat2[l];
    S.xxhat[l] = xxhat[l];
  }
  S.max_abs = max_abs, S.max_index = max_index;
  p.overflow += over, p.underflow += under;
  if (w) {
    for (size_t i = 0; i < block; ++i) {
      const double wc = w[i], xi = static_cast<double>(x[i]), e = xi - static_cast<double>(y[i]);
      p.wsum += wc, p.wx2 += wc * xi * xi, p.we2 += wc * e * e;
    }
  }
}

// Every block of g.bytes: dequantized (into the outputs, or a block's buffer), inspected (its
// fields, codes and codes used), and its sums against the samples x as given.
template <class In>
[[gnu::noinline]] void ggml_blocks_pass(const In* x, size_t blocks, const GgmlTarget& k, GgmlPass& p) {
  const GgmlTypeInfo& t = *k.t;
  GgmlBlocks& g = k.g;
  const size_t block = static_cast<size_t>(t.block), nsub = static_cast<size_t>(t.block / t.sub_block);
  float y[256];
  GgmlBlockView v;
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* bytes = g.bytes.data() + b * static_cast<size_t>(t.bytes);
    const size_t at = b * block;
    float* yb = k.out.dequantized ? static_cast<float*>(k.out.dequantized) + at : y;
    ggml_dequantize(t, bytes, 1, yb);
    inspect_block(t, bytes, v);
    if (k.block_scales) k.block_scales[b] = v.d, k.block_codes[b] = v.d_code;
    if (t.has_min) g.min[b] = v.min;
    for (size_t j = 0; j < nsub && nsub > 1; ++j) {
      g.sub_scale[b * nsub + j] = v.sub_scale[j], g.sub_scale_code[b * nsub + j] = v.sub_scale_code[j];
      if (t.has_min) g.sub_min[b * nsub + j] = v.sub_min[j], g.sub_min_code[b * nsub + j] = v.sub_min_code[j];
    }
    uint64_t seen[4] = {};  // codes − code_min: at most 256
    for (size_t j = 0; j < block; ++j) {
      const auto c = static_cast<uint32_t>(v.codes[j] - t.code_min) & 255;
      seen[c / 64] |= uint64_t{1} << (c % 64);
    }
    int used = 0;
    for (uint64_t m : seen)
      for (; m; m &= m - 1) ++used;
    g.codes_used[b] = static_cast<uint16_t>(used);
    // A block lies in one row; its matrix's weights when each matrix has its own.
    const size_t matrix = k.rows_per_matrix ? at / k.per_row / k.rows_per_matrix : 0;
    ggml_block_sums(x + at, yb, at, block, k.w ? k.w + matrix * k.per_row + at % k.per_row : nullptr, p);
    if (k.out.errors)
      for (size_t j = 0; j < block; ++j) k.out.errors[at + j] = static_cast<double>(x[at + j]) - static_cast<double>(yb[j]);
    if (k.out.codes) {
      std::copy(v.codes, v.codes + block, k.out.codes + at);
      std::fill(k.out.clipped + at, k.out.clipped + at + block, uint8_t{0});
    }
  }
}

// One of ggml's types (gguf_quants.h): rows along the last axis of the shape (GGUF's ne[0]),
// quantized and dequantized as ggml does, in float32 (double samples are rounded to float32
// first: llama.cpp quantizes float32 tensors); e = x − x_hat in double against the samples as
// given. Codes are the stored codes (GgmlBlockView); nothing clips, and overflow counts the x_hat
// that are not finite (a float16 scale that overflowed).
template <class In>
Result<Analysis> analyze_ggml(const In* x, size_t n, const AnalyzeOptions& opt, const SampleScan& scan, GgmlBlocks* blocks_out) {
  const QuantScheme& s = opt.scheme;
  const GgmlTypeInfo& t = *s.ggml;
  auto geometry = group_geometry(s, n);  // the shape against the sample count
  if (auto* e = std::get_if<Error>(&geometry)) return *e;
  const size_t per_row = s.shape.empty() ? n : static_cast<size_t>(s.shape.back());
  if (auto m = row_length_error(t, static_cast<int64_t>(per_row)))
    return err("shape", *m + (s.shape.empty() ? " (without a shape the samples are one row)" : ""));
  const float* w = opt.importance;
  // One weight per column, or (a 3-D expert tensor, as llama-quantize takes an imatrix's experts)
  // one vector per matrix: the axes before the last two count the matrices.
  const size_t rows_per_matrix = s.shape.size() >= 2 ? static_cast<size_t>(s.shape[s.shape.size() - 2]) : 0;
  const size_t matrices = rows_per_matrix && per_row ? n / per_row / rows_per_matrix : 1;
  const bool per_matrix = w && matrices > 1 && opt.importance_count == per_row * matrices;
  if (w) {
    if (opt.importance_count != per_row && !per_matrix)
      return err("importance", "Importance needs one weight per column, " + std::to_string(per_row) +
                                   " (the row length: the last axis of shape)" +
                                   (matrices > 1 ? ", or one per column of each of the " + std::to_string(matrices) + " matrices" : std::string()) +
                                   ", but has " + std::to_string(opt.importance_count));
    for (size_t i = 0; i < opt.importance_count; ++i)
      if (!(w[i] >= 0) || std::isinf(w[i]))
        return err("importance", "Importance weight " + std::to_string(i + 1) + " (" + number_text(w[i]) +
                                     ") must be a finite number of at least 0", static_cast<int64_t>(i));
  }
  const size_t rows = n / per_row, block = static_cast<size_t>(t.block), blocks = n / block;
  const size_t nsub = static_cast<size_t>(t.block / t.sub_block);
  Analysis a;
  SampleOutputs out;
  if (opt.per_sample)
    if (auto e = allocate_outputs(a, n, Arithmetic::Float32, out, opt.into)) return *e;
  // The blocks, a float32 copy of double samples and the per-block fields: ask for the memory first.
  const double need = static_cast<double>(rows * ggml_row_bytes(t, per_row)) +
                      static_cast<double>(n) * (std::is_same_v<In, float> ? 0 : 4) +
                      static_cast<double>(blocks) * (8 + 8 * static_cast<double>(nsub) * (nsub > 1 ? 2 : 0));
  void* probe = need < static_cast<double>(SIZE_MAX) ? std::malloc(static_cast<size_t>(need) + 1) : nullptr;
  if (!probe)
    return err("values", "Not enough memory for " + std::string(t.ggml_name) + "'s blocks of " + std::to_string(n) + " samples");
  std::free(probe);
  std::vector<float> x32;
  const float* xf;
  if constexpr (std::is_same_v<In, float>) {
    xf = x;
  } else {
    x32.resize(n);
    for (size_t i = 0; i < n; ++i) x32[i] = static_cast<float>(x[i]);  // to nearest, ties to even
    xf = x32.data();
  }
  GgmlBlocks local;
  GgmlBlocks& g = blocks_out ? *blocks_out : local;
  g = GgmlBlocks{};
  g.bytes.resize(rows * ggml_row_bytes(t, per_row));
  if (per_matrix) {
    const size_t row_bytes = ggml_row_bytes(t, per_row);
    for (size_t m = 0; m < matrices; ++m)
      ggml_quantize(t, xf + m * rows_per_matrix * per_row, rows_per_matrix, per_row, w + m * per_row,
                    g.bytes.data() + m * rows_per_matrix * row_bytes);
  } else {
    ggml_quantize(t, xf, rows, per_row, w, g.bytes.data());
  }

  const bool one_scale = t.type == GgmlType::NVFP4;  // no super-block scale: the sub-blocks' UE4M3 scales
  if (!one_scale) a.block_scales.resize(blocks), a.block_codes.resize(blocks);
  if (t.has_min) g.min.resize(blocks);
  if (nsub > 1) {
    g.sub_scale.resize(blocks * nsub), g.sub_scale_code.resize(blocks * nsub);
    if (t.has_min) g.sub_min.resize(blocks * nsub), g.sub_min_code.resize(blocks * nsub);
  }
  g.codes_used.resize(blocks);
  GgmlPass pass;
  const GgmlTarget target{&t, g, one_scale ? nullptr : a.block_scales.data(), a.block_codes.data(), per_row, w, out, per_matrix ? rows_per_matrix : 0};
  ggml_blocks_pass(x, blocks, target, pass);
  const LaneSums& S = pass.sums;
  const double wsum = pass.wsum, wx2 = pass.wx2, we2 = pass.we2;
  a.format_counts.overflow = pass.overflow;
  a.format_counts.underflow = pass.underflow;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  g.weighted_mse = w && wsum > 0 ? we2 / wsum : nan;
  g.weighted_sqnr_db = !w || wx2 == 0 ? nan : we2 == 0 ? INFINITY : 10 * std::log10(wx2 / we2);
  const double max_abs_x = std::max(std::fabs(scan.min), std::fabs(scan.max));
  a.params.scale = 1;  // no tensor scale: each block has its own
  a.params.zero_point = 0;
  a.params.qmin = t.code_min;
  a.params.qmax = t.code_max;
  a.params.range_min = scan.min;
  a.params.range_max = scan.max;
  a.calibration.method = "minmax";
  a.calibration.range_min = scan.min;
  a.calibration.range_max = scan.max;
  a.metrics = metrics_from_sums(S.finish(n), max_abs_x, 1);
  a.metrics.step = a.metrics.uniform_noise = nan;  // no one step
  return a;
}

// A runtime profile (profiles.h): the runtime's parameters per tensor or per channel, and its
// kernel's codes; outputs are float32, as the runtime's are.
template <class In>
Result<Analysis> analyze_profile(const In* x, size_t n, const FiniteSamples& src, const AnalyzeOptions& opt,
                                 const Layout& layout, const SampleScan& scan) {
  const QuantScheme& s = opt.scheme;
  Analysis a;
  SampleOutputs out;
  if (opt.per_sample)
    if (auto e = allocate_outputs(a, n, Arithmetic::Float32, out, opt.into)) return *e;
  const double max_abs_x = std::max(std::fabs(scan.min), std::fabs(scan.max));
  const double lo = s.range ? s.range->min : scan.min, hi = s.range ? s.range->max : scan.max;
  a.params = profile_params(s, lo, hi);
  a.calibration.method = s.range ? "custom" : "minmax";
  a.calibration.range_min = a.params.range_min;
  a.calibration.range_max = a.params.range_max;
  if (layout.count == 0) {
    a.metrics = metrics_from_sums(quantize_profile(x, n, s.profile, a.params, 0, out), max_abs_x, a.params.scale);
    return a;
  }
  ErrorSums total;
  double scale_sum = 0, noise_sum = 0;
  a.groups.reserve(layout.count);  // checked by analyze()
  for (size_t c = 0; c < layout.count; ++c) {
    const SampleScan g = src.finite < n ? layout.scan(c, src, opt.kernel) : layout.scan(c, Samples(x, n), opt.kernel);
    GroupResult group;
    group.params = profile_params(s, g.min, g.max);
    // A deployed model's own parameters for this channel or group (validate_given checked them).
    if (s.scales()) group.params.scale = static_cast<float>(s.scales()[c]);
    if (s.zero_points()) group.params.zero_point = s.zero_points()[c];
    layout.for_runs(c, [&](size_t offset, size_t length) {
      SampleOutputs o = out;
      if (o.codes) o.codes += offset;
      if (o.errors) o.errors += offset;
      if (o.clipped) o.clipped += offset;
      if (o.dequantized) o.dequantized = static_cast<float*>(o.dequantized) + offset;
      group.sums.merge(quantize_profile(x + offset, length, s.profile, group.params, offset, o));
    });
    total.merge(group.sums);
    scale_sum += static_cast<double>(group.sums.count) * group.params.scale;
    noise_sum += static_cast<double>(group.sums.count) * group.params.scale * group.params.scale / 12;
    a.groups.push_back(group);
  }
  a.params.scale = scale_sum / static_cast<double>(src.count());
  a.params.range_min = scan.min;
  a.params.range_max = scan.max;
  a.metrics = metrics_from_sums(total, max_abs_x, a.params.scale);
  a.metrics.uniform_noise = noise_sum / static_cast<double>(src.count());
  return a;
}

}  // namespace

bool select_ggml_format(QuantScheme& s, const std::string& name) {
  const GgmlTypeInfo* t = ggml_type_by_name(name);
  // mxfp4 and nvfp4 are the OCP definitions (format_quant.h) but under profile 'ggml'.
  if (t && (t->type == GgmlType::MXFP4 || t->type == GgmlType::NVFP4) && s.profile != Profile::Ggml) t = nullptr;
  if (!t) return false;
  s.format = NumberFormat::Ggml;
  s.ggml = t;
  return true;
}

namespace {

// What ggml's types allow: their own scales per block, so none of the integer options.
std::optional<Error> validate_ggml(const QuantScheme& s) {
  if (s.format != NumberFormat::Ggml || !s.ggml)
    return err("profile", "The ggml profile takes ggml's types: q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, "
                          "q6_k, iq4_nl, iq4_xs, tq1_0, tq2_0, mxfp4 or nvfp4");
  const std::string name = s.ggml->name;
  if (s.profile != Profile::Formula && s.profile != Profile::Ggml)
    return err("profile", "The " + std::string(to_string(s.profile)) + " profile quantizes to integers: " + name +
                              " is llama.cpp's type (profile formula or ggml)");
  if (s.granularity != Granularity::Tensor)
    return err("granularity", name + " scales its own blocks of " + std::to_string(s.ggml->block) +
                                  " values along each row: per-channel and per-group scales are for integer formats");
  if (s.range) return err("range.min", name + " finds its own scales: no range applies");
  if (s.calibration != Calibration::MinMax)
    return err("calibration", name + " searches its scales as llama.cpp does: no calibration applies");
  if (s.rounding != Rounding::HalfEven) return err("rounding", name + " rounds as ggml does, each step with its own rule");
  if (s.qmin || s.qmax) return err(s.qmin ? "qmin" : "qmax", "q_min and q_max are for integer formats");
  if (s.zero_point || s.zero_points()) return err("zeroPoint", name + " has no zero point");
  if (s.scale || s.scales()) return err("scale", name + " scales its own blocks: a tensor scale cannot be given");
  if (s.format_scale != QuantScheme::FormatScale::None) return err("formatScale", name + " scales its own blocks");
  return std::nullopt;
}

}  // namespace

// What a format other than the integers allows (formats.h, format_quant.h).
std::optional<Error> validate_mx_scale(const QuantScheme& s) {
  if (s.mx_scale == MxScale::Floor || (is_mx_format(s.format) && s.profile == Profile::Formula)) return std::nullopt;
  return err("mxScale", std::string("The scale rounding '") + to_string(s.mx_scale) +
                            "' is for the OCP MX formats (mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8)" +
                            (s.profile == Profile::Ggml ? ": ggml's mxfp4 takes floor(log2 amax) − 2, as ggml does" : ""));
}

std::optional<Error> validate_format(const QuantScheme& s) {
  if (auto e = validate_mx_scale(s)) return e;
  if (s.format == NumberFormat::Ggml || s.profile == Profile::Ggml) return validate_ggml(s);
  const bool block = is_block_format(s.format);
  if (s.format == NumberFormat::Custom)
    if (auto m = check_minifloat(s.custom_format)) return err("customFormat", *m);
  if (s.granularity != Granularity::Tensor)
    return err("granularity", std::string("Per-channel and per-group scales are for integer formats") +
                                  (block ? ": " + std::string(to_string(s.format)) + " scales its own blocks" : ""));
  if (s.range) return err("range.min", "A float format has no range to choose: its values are fixed (use Scale for a per-tensor scale)");
  if (s.calibration != Calibration::MinMax)
    return err("calibration", "Calibration chooses integer ranges: float formats take min-max (amax) scales");
  if (s.rounding != Rounding::HalfEven)
    return err("rounding", "Float formats round to nearest, ties to even");
  if (s.qmin || s.qmax) return err(s.qmin ? "qmin" : "qmax", "q_min and q_max are for integer formats");
  if (s.zero_point || s.zero_points()) return err("zeroPoint", "Float formats have no zero point");
  if (s.scales()) return err("scale", "A list of scales is for integer formats, per channel or group");
  if (s.scale && block) return err("scale", std::string(to_string(s.format)) + " scales its own blocks: a tensor scale cannot be given");
  if (s.scale && s.format_scale == QuantScheme::FormatScale::Amax)
    return err("scale", "Give a scale or choose the amax scale, not both");
  return std::nullopt;
}

namespace {

// kGiven: the scheme gives its parameters per channel or group (QuantScheme::given); only
// analyze() instantiates it, so the first module's analyze_integer stays as it was.
template <class Src, bool kGiven = false>
Result<Analysis> integer_analysis(const Src& x, const AnalyzeOptions& opt);

// Float and block formats and runtime profiles, on the samples or, with fewer finite ones than
// samples (NonFinite::Skip), on those.
template <class In>
Result<Analysis> analyze_other(const In* x, size_t n, const FiniteSamples& finite, const AnalyzeOptions& opt,
                               GgmlBlocks* ggml_blocks) {
  const QuantScheme& s = opt.scheme;
  const bool ggml = s.format == NumberFormat::Ggml || s.profile == Profile::Ggml;
  const bool skip = finite.finite < n;
  const Samples all(x, n);
  const auto scan_of = [&] { return skip ? finite.scan(0, n, opt.kernel) : all.scan(0, n, opt.kernel); };
  const auto bad = [&](double limit) { return skip ? bad_sample<true>(all, limit) : bad_sample(all, limit); };
  const auto percentiles = [&](Analysis& a) { skip ? percentile_metrics(a, finite) : percentile_metrics(a, all); };
  if (s.profile != Profile::Formula && !ggml) {
    // The runtime's own rules for q_min, q_max and the zero point (profiles.h); the rest as usual.
    QuantScheme plain = s;
    plain.qmin.reset(), plain.qmax.reset(), plain.zero_point.reset();
    if (auto e = validate_scheme(plain)) return *e;
    if (auto e = validate_profile(s)) return *e;
    if (n == 0) return err("values", "No samples: enter at least one value");
    auto layout_result = layout_of(s, n);
    if (auto* e = std::get_if<Error>(&layout_result)) return *e;
    if (const size_t count = std::get<Layout>(layout_result).count)
      if (auto e = group_memory(s, count, static_cast<double>(sizeof(GroupResult) + opt.group_copy_bytes))) return *e;
    if (s.scales() || s.zero_points()) {
      int32_t qmin, qmax;
      profile_code_range(s, qmin, qmax);
      if (auto e = validate_given(s, std::get<Layout>(layout_result).count, qmin, qmax, true)) return *e;
    }
    const SampleScan scan = scan_of();
    const double limit = std::numeric_limits<float>::max();  // the runtimes hold float32 tensors
    if (!scan.finite || std::max(std::fabs(scan.min), std::fabs(scan.max)) > limit)
      if (auto e = bad(limit)) return *e;
    auto r = analyze_profile(x, n, finite, opt, std::get<Layout>(layout_result), scan);
    if (auto* e = std::get_if<Error>(&r)) return *e;
    Analysis a = std::get<Analysis>(std::move(r));
    a.metrics.data_min = scan.min, a.metrics.data_max = scan.max;
    if (opt.per_sample && !opt.into) percentiles(a);
    return a;
  }
  // A float or block format (ggml's types among them: float32 tensors).
  if (auto e = validate_scheme(s)) return *e;
  if (auto e = validate_format(s)) return *e;
  if (n == 0) return err("values", "No samples: enter at least one value");
  const double limit = s.arithmetic == Arithmetic::Float32 || ggml ? std::numeric_limits<float>::max() : kMaxMagnitude;
  if (ggml && skip)  // a row's blocks are quantized together, as llama.cpp does: no sample can be left out of one
    return err("values", std::string(s.ggml ? s.ggml->name : "ggml's types") + " quantizes whole rows of blocks: a tensor with NaN or ±Inf (" +
                             std::to_string(n - finite.finite) + " of " + std::to_string(n) + " samples) cannot be skipped in them");
  const SampleScan scan = scan_of();
  if (!scan.finite || std::max(std::fabs(scan.min), std::fabs(scan.max)) > limit) {
    if (auto e = bad(ggml ? kMaxMagnitude : limit)) return *e;
    for (size_t i = 0; i < n && ggml; ++i)  // llama.cpp's tensors are float32
      if (std::fabs(static_cast<double>(x[i])) > limit)
        return err("values", "Sample " + std::to_string(i + 1) + " (" + number_text(static_cast<double>(x[i])) +
                                 ") is outside float32's range, needed by ggml's types", static_cast<int64_t>(i));
  }
  auto r = ggml ? analyze_ggml(x, n, opt, scan, ggml_blocks) : analyze_format(x, n, opt, scan);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  Analysis a = std::get<Analysis>(std::move(r));
  a.metrics.data_min = scan.min, a.metrics.data_max = scan.max;
  if (opt.per_sample && !opt.into) percentiles(a);
  return a;
}

}  // namespace

template <class In>
Result<Analysis> analyze(const In* x, size_t n, const AnalyzeOptions& opt, GgmlBlocks* ggml_blocks) {
  const QuantScheme& s = opt.scheme;
  if (opt.importance && s.format != NumberFormat::Ggml && s.profile != Profile::Ggml)
    return err("importance", "Importance weights are for ggml's types (q4_k, iq4_xs, …): choose one as the format");
  if (auto e = validate_mx_scale(s)) return *e;
  NonFiniteCounts skipped;
  if (opt.non_finite == NonFinite::Skip && n > 0 && !scan_samples(x, n, opt.kernel).finite) skipped.add(x, n);
  const bool integer = opt.scheme.profile == Profile::Formula && opt.scheme.format == NumberFormat::Int;
  const bool given = s.scales() || s.zero_points();
  if (skipped.total() == 0) {
    if (!integer) return analyze_other(x, n, FiniteSamples(x, n, n), opt, ggml_blocks);
    return given ? integer_analysis<Samples, true>(Samples(x, n), opt) : integer_analysis(Samples(x, n), opt);
  }
  if (skipped.total() == n)
    return err("values",
               "Every sample is NaN or infinite (" + non_finite_text(skipped) + "): nothing finite to measure");
  const FiniteSamples finite(x, n, n - skipped.total());
  auto r = !integer ? analyze_other(x, n, finite, opt, ggml_blocks)
           : given  ? integer_analysis<FiniteSamples, true>(finite, opt)
                    : integer_analysis(finite, opt);
  if (auto* a = std::get_if<Analysis>(&r)) a->non_finite = skipped;
  return r;
}

std::string non_finite_text(const NonFiniteCounts& c) {
  std::string t;
  for (auto [count, what] : {std::pair{c.nan, " NaN"}, std::pair{c.pos_inf, " +Inf"}, std::pair{c.neg_inf, " -Inf"}})
    if (count) t += (t.empty() ? "" : ", ") + std::to_string(count) + what;
  return t.empty() ? "none" : t;
}

namespace {

template <class Src, bool kGiven>
[[gnu::noinline]] Result<Analysis> integer_analysis(const Src& x, const AnalyzeOptions& opt) {
  const QuantScheme& s = opt.scheme;
  const size_t n = x.n;
  if (s.profile != Profile::Formula) return err("profile", "Runtime profiles are not in this build: analyze() takes them");
  if (s.format != NumberFormat::Int) return err("format", "Float and block formats are not in this build: analyze() takes them");
  if (auto e = validate_scheme(s)) return *e;
  if (n == 0) return err("values", "No samples: enter at least one value");
  auto layout_result = layout_of(s, n);
  if (auto* e = std::get_if<Error>(&layout_result)) return *e;
  const Layout& layout = std::get<Layout>(layout_result);
  if (layout.count)
    if (auto e = group_memory(s, layout.count, static_cast<double>(sizeof(GroupResult) + opt.group_copy_bytes))) return *e;
  if constexpr (kGiven) {
    int32_t qmin, qmax;
    mode_code_range(s.mode, s.bits, qmin, qmax);
    if (auto e = validate_given(s, layout.count, s.qmin.value_or(qmin), s.qmax.value_or(qmax), s.arithmetic == Arithmetic::Float32))
      return *e;
  }
  // float32 arithmetic holds the samples as float32, as a runtime's tensor does.
  const double limit = s.arithmetic == Arithmetic::Float32 ? std::numeric_limits<float>::max() : kMaxMagnitude;
  Analysis a;
  KernelParams kp;
  kp.rounding = s.rounding;
  kp.arithmetic = s.arithmetic;
  kp.seed = s.seed;
  SampleOutputs out;

  // Equal consecutive blocks (groups, or channels on the first axis) with their own min-max
  // ranges: each block is scanned and quantized while it is in cache, and the tensor's range
  // follows from the blocks'. Anything unusual goes the general way below.
  bool blocks_done = false;
  SampleScan scan;
  if (layout.block && !s.scale && !s.zero_point && !Src::kSkips && !kGiven) {
    if (opt.per_sample)
      if (auto e = allocate_outputs(a, n, s.arithmetic, out, opt.into)) return *e;
    GroupPass pass{&s, 0, 0, limit, &a.groups, {}};
    mode_code_range(s.mode, s.bits, pass.qmin, pass.qmax);
    pass.qmin = s.qmin.value_or(pass.qmin);
    pass.qmax = s.qmax.value_or(pass.qmax);
    a.groups.reserve(layout.count);  // no reallocation: the kernel writes each group's sums in place
    KernelParams gk = kp;
    gk.qmin = pass.qmin;
    gk.qmax = pass.qmax;
    gk.max_index = false;  // found once below, for the group that holds the largest error
    // Group g's sums land in a.groups[g], which make() has just added.
    ErrorSums* sums = reinterpret_cast<ErrorSums*>(reinterpret_cast<char*>(a.groups.data()) + offsetof(GroupResult, sums));
    blocks_done = x.f32 ? quantize_groups(x.f32, layout.count, layout.block, gk, &GroupPass::make, &pass, out, opt.kernel,
                                          sums, sizeof(GroupResult))
                        : quantize_groups(x.f64, layout.count, layout.block, gk, &GroupPass::make, &pass, out, opt.kernel,
                                          sums, sizeof(GroupResult));
    if (blocks_done) {
      scan = pass.all;
    } else {
      if (pass.bad_samples) {
        if (auto e = bad_sample<Src::kSkips>(x, limit)) return *e;
      } else {
        const SampleScan r = x.scan(pass.refused * layout.block, layout.block, opt.kernel);
        auto d = derive_params(s, r);
        if (auto* e = std::get_if<Error>(&d)) return *e;
      }
      a.groups.clear();  // a false alarm: the general way
    }
  }
  a.groups.reserve(layout.count);  // checked above
  if (!blocks_done) {
    scan = x.scan(0, n, opt.kernel);
    if (!scan.finite || std::max(std::fabs(scan.min), std::fabs(scan.max)) > limit)
      if (auto e = bad_sample<Src::kSkips>(x, limit)) return *e;
  }
  CalibrationReport report;
  SampleScan used = scan;
  if (s.range) {
    report.method = "custom";  // a given range wins over any calibration
    report.range_min = s.range->min;
    report.range_max = s.range->max;
  } else {
    auto calibrated = x.calibrate(s, scan, opt.kernel);
    if (auto* e = std::get_if<Error>(&calibrated)) return *e;
    report = std::get<CalibrationReport>(std::move(calibrated));
    used.min = report.range_min;
    used.max = report.range_max;
  }
  auto derived = derive_params(s, used);
  if (auto* e = std::get_if<Error>(&derived)) return *e;
  if (opt.per_sample && !out.codes)
    if (auto e = allocate_outputs(a, n, s.arithmetic, out, opt.into)) return *e;
  a.params = std::get<QuantParams>(derived);
  a.calibration = std::move(report);
  kp = kernel_params(s, a.params);
  const double max_abs_x = std::max(std::fabs(scan.min), std::fabs(scan.max));
  if (layout.count == 0) {
    const ErrorSums sums = x.quantize(0, n, kp, out, opt.kernel);
    a.metrics = metrics_from_sums(sums, max_abs_x, a.params.scale);
  } else {
    // Each channel or group: its own min-max range and parameters, quantized run by run (a run
    // is consecutive samples, so stochastic draws still follow the global sample index).
    ErrorSums total;
    double scale_sum = 0, noise_sum = 0;
    KernelParams gk = kp;
    gk.max_index = false;  // found once below, for the group that holds the largest error
    const auto outputs_at = [&](size_t offset) {
      SampleOutputs o = out;
      if (o.codes) o.codes += offset;
      if (o.errors) o.errors += offset;
      if (o.clipped) o.clipped += offset;
      if (o.dequantized) {
        o.dequantized = s.arithmetic == Arithmetic::Float32 ? static_cast<void*>(static_cast<float*>(o.dequantized) + offset)
                                                            : static_cast<void*>(static_cast<double*>(o.dequantized) + offset);
      }
      return o;
    };
    for (size_t gi = 0; gi < layout.count && !blocks_done; ++gi) {
      // Given: this channel's or group's own scale and zero point in a copy of the scheme.
      std::conditional_t<kGiven, QuantScheme, const QuantScheme&> gs = s;
      if constexpr (kGiven) {
        if (s.scales()) gs.scale = s.scales()[gi];
        if (s.zero_points()) gs.zero_point = s.zero_points()[gi];
      }
      auto gp = derive_params(gs, layout.scan(gi, x, opt.kernel));
      if (auto* e = std::get_if<Error>(&gp)) return *e;
      GroupResult group;
      group.params = std::get<QuantParams>(gp);
      gk.scale = group.params.scale;
      gk.zero_point = group.params.zero_point;
      layout.for_runs(gi, [&](size_t offset, size_t length) {
        gk.index_base = offset;
        group.sums.merge(x.quantize(offset, length, gk, outputs_at(offset), opt.kernel));
      });
      a.groups.push_back(std::move(group));
    }
    for (const GroupResult& group : a.groups) {
      total.merge(group.sums);
      const double count = static_cast<double>(group.sums.count);
      scale_sum += count * group.params.scale;
      noise_sum += count * group.params.scale * group.params.scale / 12;
    }
    // Where the largest error first occurs: the groups holding it, measured again exactly (for
    // interleaved channels the first in sample order need not be in the first such group).
    bool found = false;
    for (GroupResult& group : a.groups) {
      if (group.sums.max_abs != total.max_abs) continue;
      gk.scale = group.params.scale;
      gk.zero_point = group.params.zero_point;
      gk.max_index = true;
      ErrorSums exact;
      layout.for_runs(static_cast<size_t>(&group - a.groups.data()), [&](size_t offset, size_t length) {
        gk.index_base = offset;
        exact.merge(x.quantize(offset, length, gk, SampleOutputs{}, opt.kernel));
      });
      group.sums.max_abs_index = exact.max_abs_index;
      if (!found || exact.max_abs_index < total.max_abs_index) total.max_abs_index = exact.max_abs_index;
      found = true;
    }
    // The tensor's step is the count-weighted mean scale; the uniform-noise reference averages Δ²/12.
    a.params.scale = scale_sum / static_cast<double>(x.count());
    a.metrics = metrics_from_sums(total, max_abs_x, a.params.scale);
    a.metrics.uniform_noise = noise_sum / static_cast<double>(x.count());
  }
  a.metrics.data_min = scan.min, a.metrics.data_max = scan.max;
  if (opt.per_sample && !opt.into) percentile_metrics(a, x);
  return a;
}

}  // namespace

template <class In>
Result<Analysis> analyze_integer(const In* x, size_t n, const AnalyzeOptions& opt) {
  return integer_analysis(Samples(x, n), opt);
}

template Result<Analysis> analyze<float>(const float*, size_t, const AnalyzeOptions&, GgmlBlocks*);
template Result<Analysis> analyze<double>(const double*, size_t, const AnalyzeOptions&, GgmlBlocks*);
template Result<Analysis> analyze_integer<float>(const float*, size_t, const AnalyzeOptions&);
template Result<Analysis> analyze_integer<double>(const double*, size_t, const AnalyzeOptions&);

}  // namespace qe
