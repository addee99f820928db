#include "layer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>

#include "matmul.h"
#include "parse.h"
#include "profiles.h"
#include "requantize.h"
#include "rounding.h"

namespace qe {

const char* to_string(LayerProfile p) {
  return p == LayerProfile::Onnx ? "onnx" : p == LayerProfile::Tflite ? "tflite" : "formula";
}
const char* to_string(Accumulator a) {
  switch (a) {
    case Accumulator::Int32: return "int32";
    case Accumulator::Int16: return "int16";
    case Accumulator::Float32: return "float32";
    case Accumulator::Double: break;
  }
  return "double";
}
const char* to_string(Activation a) { return a == Activation::Gelu ? "gelu" : a == Activation::Silu ? "silu" : "relu"; }

std::optional<LayerProfile> parse_layer_profile(const std::string& s) {
  for (LayerProfile p : {LayerProfile::Formula, LayerProfile::Onnx, LayerProfile::Tflite})
    if (s == to_string(p)) return p;
  return std::nullopt;
}
std::optional<Accumulator> parse_accumulator(const std::string& s) {
  for (Accumulator a : {Accumulator::Int32, Accumulator::Int16, Accumulator::Float32, Accumulator::Double})
    if (s == to_string(a)) return a;
  return std::nullopt;
}
std::optional<Activation> parse_activation(const std::string& s) {
  for (Activation a : {Activation::Relu, Activation::Gelu, Activation::Silu})
    if (s == to_string(a)) return a;
  return std::nullopt;
}

double activate(Activation a, double x) {
  switch (a) {
    case Activation::Relu: return x > 0 ? x : 0.0;
    case Activation::Gelu: return 0.5 * x * (1.0 + std::erf(x * 0.70710678118654752440));
    case Activation::Silu: return x / (1.0 + std::exp(-x));
  }
  return x;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Error err(std::string field, std::string message, int64_t index = -1) {
  return Error{std::move(field), index, std::move(message)};
}

std::string dims_text(const std::vector<int64_t>& shape) {
  std::string t = "[";
  for (size_t i = 0; i < shape.size(); ++i) t += (i ? ", " : "") + std::to_string(shape[i]);
  return t + "]";
}

// A vector of n elements, or an error when memory is short (the web build aborts on a failed
// allocation, so ask the allocator first, as analyze() does).
template <class T>
std::optional<Error> sized(std::vector<T>& v, size_t n, const char* field) {
  const double bytes = static_cast<double>(n) * sizeof(T);
  void* probe = bytes < static_cast<double>(SIZE_MAX) / 2 ? std::malloc(std::max<size_t>(1, n * sizeof(T))) : nullptr;
  if (!probe)
    return err(field, "Not enough memory for this layer (" + number_text(std::round(bytes / 1e6)) + " MB more are needed)");
  std::free(probe);
  v.assign(n, T{});
  return std::nullopt;
}

std::optional<Error> check_shape(const LayerTensor& t, const char* field, const char* what, const char* dims) {
  if (t.shape.size() != 2)
    return err(field, std::string(what) + " need a shape of two dimensions, " + dims + " (got " + dims_text(t.shape) + ")");
  if (t.shape[0] < 1 || t.shape[1] < 1)
    return err(field, std::string("Every dimension of the shape must be at least 1 (got ") + dims_text(t.shape) + ")");
  const double count = static_cast<double>(t.shape[0]) * static_cast<double>(t.shape[1]);
  if (count != static_cast<double>(t.count))
    return err(field, std::string(what) + "' shape " + dims_text(t.shape) + " holds " + number_text(count) + " values, but there are " +
                          std::to_string(t.count));
  return std::nullopt;
}

// Values of a side that stays float: finite and within analyze()'s limit, like a quantized one's.
std::optional<Error> check_values(const LayerTensor& t, const char* field) {
  for (size_t i = 0; i < t.count; ++i) {
    const double v = t.at(i);
    const std::string where = "Value " + std::to_string(i + 1);
    if (std::isnan(v)) return err(field, where + " is NaN", static_cast<int64_t>(i));
    if (std::isinf(v)) return err(field, where + " is infinite", static_cast<int64_t>(i));
    if (std::fabs(v) > kMaxMagnitude)
      return err(field, where + " (" + number_text(v) + ") is too large: magnitudes up to 1e100 are supported", static_cast<int64_t>(i));
  }
  return std::nullopt;
}

// Where a side's parameters change: element (r, k) of a [rows, cols] side uses group
// (per_row ? r · per_row_groups : 0) + k / col_block (analyze()'s channel or group index).
struct Geometry {
  bool per_row = false;
  size_t col_block = 0;       // consecutive k sharing parameters
  size_t per_row_groups = 1;  // cols / col_block
  size_t group(size_t r, size_t k) const { return (per_row ? r * per_row_groups : 0) + k / col_block; }
};

Geometry geometry_of(const QuantScheme& s, size_t cols) {
  Geometry g;
  g.col_block = cols;
  if (s.granularity == Granularity::Channel) {
    const int axis = s.axis < 0 ? s.axis + 2 : s.axis;
    if (axis == 0) g.per_row = true;
    else g.col_block = 1, g.per_row_groups = cols;
  } else if (s.granularity == Granularity::Group) {
    g.per_row = true;
    g.col_block = static_cast<size_t>(s.group_size);
    g.per_row_groups = cols / g.col_block;
  }
  return g;
}

const QuantParams& params_of(const Analysis& a, size_t group) {
  return a.groups.empty() ? a.params : a.groups[group].params;
}

// The long loops over a side's values run row by row in small functions of their own: engines
// optimize a WebAssembly function only after it has run a while, and a call that is running
// stays in the quick first code (see matmul.cpp).
#define QE_NOINLINE __attribute__((noinline))

QE_NOINLINE void negate(double* v, size_t n) {
  for (size_t i = 0; i < n; ++i) v[i] = -v[i];
}

// Row r's codes less their zero points; returns the largest |q − z|.
QE_NOINLINE int64_t center_row(int32_t* c, size_t cols, size_t r, const Analysis& a, const Geometry& g) {
  int64_t m = 0;
  for (size_t k = 0; k < cols; ++k) {
    c[k] -= params_of(a, g.group(r, k)).zero_point;
    m = std::max<int64_t>(m, std::abs(int64_t{c[k]}));
  }
  return m;
}

template <class T>
QE_NOINLINE void add_squares(double* col, const T* row, size_t n) {
  for (size_t k = 0; k < n; ++k) col[k] += static_cast<double>(row[k]) * static_cast<double>(row[k]);
}

QE_NOINLINE void add_rows_f32(float* out, const LayerTensor& t, size_t offset, const double* delta, size_t n) {
  for (size_t k = 0; k < n; ++k) out[k] = static_cast<float>(t.at(offset + k) + (delta ? delta[k] : 0.0));
}

// One side through analyze(): its analysis, Δ = x̂ − x per value (double; empty for a float
// side) and, for integer codes, q − z per value. Errors name the side's option.
struct SideData {
  LayerSide side;
  Geometry geometry;
  std::vector<double> delta;
  std::vector<int32_t> centered;
  int64_t code_max = 0;  // max |q − z| over the code ranges of every group
  int64_t data_max = 0;  // max |q − z| over the values
};

Result<SideData> quantize_side(const LayerTensor& t, size_t rows, size_t cols, const std::optional<QuantScheme>& scheme,
                               const std::string& scheme_field, const char* values_field, const char* name, Kernel kernel) {
  SideData d;
  if (!scheme) {
    if (auto e = check_values(t, values_field)) return *e;
    return d;
  }
  QuantScheme s = *scheme;
  const std::vector<int64_t> shape{static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
  if (!s.shape.empty() && s.shape != shape)
    return err(scheme_field + ".shape", std::string("The ") + name + "' scheme takes its shape " + dims_text(shape) +
                                            " from the layer (got " + dims_text(s.shape) + ")");
  s.shape = shape;
  d.side.quantized = true;
  d.side.integer = s.format == NumberFormat::Int;
  if (auto e = sized(d.delta, t.count, values_field)) return *e;
  if (d.side.integer)
    if (auto e = sized(d.centered, t.count, values_field)) return *e;
  SampleOutputs into;
  into.errors = d.delta.data();
  into.codes = d.side.integer ? d.centered.data() : nullptr;
  AnalyzeOptions opt;
  opt.scheme = s;
  opt.per_sample = true;
  opt.kernel = kernel;
  opt.into = &into;
  auto result = t.f32 ? analyze(t.f32, t.count, opt) : analyze(t.f64, t.count, opt);
  if (auto* e = std::get_if<Error>(&result)) {
    Error out = *e;
    out.field = e->field == "values" ? values_field : scheme_field + "." + e->field;
    out.message = std::string("The ") + name + ": " + e->message;
    return out;
  }
  d.side.analysis = std::get<Analysis>(std::move(result));
  for (size_t r = 0; r < rows; ++r) negate(d.delta.data() + r * cols, cols);  // analyze()'s e = x − x̂; Δ = x̂ − x
  d.geometry = geometry_of(s, cols);
  if (d.side.integer) {
    const Analysis& a = d.side.analysis;
    const size_t groups = a.groups.empty() ? 1 : a.groups.size();
    for (size_t g = 0; g < groups; ++g) {
      const QuantParams& p = params_of(a, g);
      d.code_max = std::max({d.code_max, std::abs(int64_t{p.qmin} - p.zero_point), std::abs(int64_t{p.qmax} - p.zero_point)});
    }
    for (size_t r = 0; r < rows; ++r)
      d.data_max = std::max(d.data_max, center_row(d.centered.data() + r * cols, cols, r, a, d.geometry));
  }
  return d;
}

// Output sums of Y against Ŷ (e = Y − Ŷ), as analyze()'s kernels keep them (LaneSums).
void output_metrics(LayerResult& r) {
  const size_t n = r.reference.size();
  LaneSums S;
  double max_abs = 0;
  for (size_t i = 0; i < n; ++i) {
    S.add(i, i, r.reference[i], r.quantized[i], false, false);
    max_abs = std::max(max_abs, std::fabs(r.reference[i]));
  }
  const ErrorSums sums = S.finish(n);
  r.metrics = metrics_from_sums(sums, max_abs, kNaN);
  r.metrics.uniform_noise = kNaN;
  r.relative_frobenius = sums.sum_x2 == 0 ? kNaN : std::sqrt(sums.sum_err2 / sums.sum_x2);
  std::vector<double> cy(r.out), ce(r.out), ty(r.tokens), te(r.tokens);
  for (size_t t = 0; t < r.tokens; ++t) {
    for (size_t o = 0; o < r.out; ++o) {
      const double y = r.reference[t * r.out + o], e = y - r.quantized[t * r.out + o];
      cy[o] += y * y, ce[o] += e * e, ty[t] += y * y, te[t] += e * e;
    }
  }
  const auto db = [](double s, double e) { return s == 0 ? kNaN : e == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(s / e); };
  r.channel_sqnr_db.resize(r.out);
  r.token_sqnr_db.resize(r.tokens);
  for (size_t o = 0; o < r.out; ++o) r.channel_sqnr_db[o] = db(cy[o], ce[o]);
  for (size_t t = 0; t < r.tokens; ++t) r.token_sqnr_db[t] = db(ty[t], te[t]);
}

// ---- exact rounding of acc · M ------------------------------------------------------------------

// 128-bit integers (GCC and Clang, natively and in wasm): exact products of a sum and a multiplier.
__extension__ typedef __int128 Int128;

// v = p · 2^−sh for an integer p (|p| < 2^126) and sh in [0, 126]: floor(v) and where the
// fraction lies against ½.
struct Exact {
  int64_t floor = 0;   // clamped to ±2^62 (codes clamp long before)
  int half = -1;       // −1 below ½ (or exact), 0 exactly ½, +1 above
  bool negative = false;
};

Exact exact_shift(Int128 p, int sh) {
  Exact e;
  e.negative = p < 0;
  const Int128 limit = static_cast<Int128>(1) << 62;
  if (sh <= 0) {
    const Int128 v = sh <= -64 ? (p == 0 ? 0 : (p < 0 ? -limit : limit)) : p * (static_cast<Int128>(1) << -sh);
    e.floor = static_cast<int64_t>(std::clamp(v, -limit, limit));
    return e;
  }
  if (sh >= 126) {  // |v| < 2^−0: floor is 0 or −1, the fraction far from ½ unless p = 0
    e.floor = p < 0 ? -1 : 0;
    e.half = p < 0 ? 1 : -1;
    return e;
  }
  const Int128 fl = p >> sh;  // arithmetic shift: floor
  const Int128 rem = p - fl * (static_cast<Int128>(1) << sh);
  const Int128 half = static_cast<Int128>(1) << (sh - 1);
  e.floor = static_cast<int64_t>(std::clamp(fl, -limit, limit));
  e.half = rem < half ? -1 : rem == half ? 0 : 1;
  return e;
}

// acc · M exactly, for a finite M ≥ 0: M = mant · 2^(exp − 53) with an integer mant < 2^53.
Exact exact_product(int64_t acc, double m) {
  if (m == 0 || acc == 0) return Exact{};
  int exp = 0;
  const double f = std::frexp(m, &exp);
  const auto mant = static_cast<int64_t>(std::ldexp(f, 53));
  return exact_shift(static_cast<Int128>(acc) * mant, 53 - exp);
}

int64_t round_even(const Exact& e) { return e.floor + (e.half > 0 || (e.half == 0 && (e.floor & 1)) ? 1 : 0); }
int64_t round_away(const Exact& e) { return e.floor + (e.half > 0 || (e.half == 0 && !e.negative) ? 1 : 0); }

int32_t clamp_code(int64_t v, int32_t qmin, int32_t qmax) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, qmin, qmax));
}
int32_t clamp_code(double v, int32_t qmin, int32_t qmax) {
  return static_cast<int32_t>(std::clamp(v, static_cast<double>(qmin), static_cast<double>(qmax)));
}

// ---- the integer accumulator --------------------------------------------------------------------

struct PartialScan {
  int64_t saturated = 0;
  bool excursion = false;
};

// Σ a[k]·b[k] in increasing k, each partial sum saturated to [lo, hi]; whether the exact partial
// sums ever leave it.
QE_NOINLINE PartialScan scan_partial(const int32_t* a, const int32_t* b, size_t n, int64_t lo, int64_t hi) {
  PartialScan r;
  int64_t s = 0;
  for (size_t k = 0; k < n; ++k) {
    const int64_t p = int64_t{a[k]} * b[k];
    s += p;
    r.excursion |= s < lo || s > hi;
    r.saturated = std::clamp(r.saturated + p, lo, hi);
  }
  return r;
}

// Σ_j sat16(a[2j]·b[2j] + a[2j+1]·b[2j+1]) of raw codes (a = c_x + z_x), and Σ a: the AVX2 kernel's pairs.
QE_NOINLINE int64_t pair_sums(const int32_t* cx, int64_t zx, const int32_t* wr, size_t n, int64_t& sum_x) {
  int64_t raw = 0;
  sum_x = 0;
  for (size_t k = 0; k < n; k += 2) {
    const int64_t x0 = cx[k] + zx, x1 = k + 1 < n ? cx[k + 1] + zx : 0;
    const int64_t w1 = k + 1 < n ? wr[k + 1] : 0;
    raw += std::clamp<int64_t>(x0 * wr[k] + x1 * w1, -32768, 32767);
    sum_x += x0 + x1;
  }
  return raw;
}

int64_t wrap(int64_t v, int bits) {
  const uint64_t m = (uint64_t{1} << bits) - 1, sign = uint64_t{1} << (bits - 1);
  const uint64_t u = static_cast<uint64_t>(v) & m;
  return static_cast<int64_t>(u ^ sign) - static_cast<int64_t>(sign);
}

}  // namespace

Result<LayerResult> analyze_layer(const LayerTensor& W, const LayerTensor& X, const LayerOptions& opt) {
  if (auto e = check_shape(W, "weightShape", "The weights", "[out, in]")) return *e;
  if (auto e = check_shape(X, "activationShape", "The activations", "[tokens, in]")) return *e;
  if (W.shape[1] != X.shape[1])
    return err("activationShape", "The inner dimensions differ: the activations are " + dims_text(X.shape) +
                                      " = [tokens, in] and the weights " + dims_text(W.shape) + " = [out, in], so in must agree (" +
                                      std::to_string(X.shape[1]) + " ≠ " + std::to_string(W.shape[1]) + ")");
  LayerResult r;
  const size_t T = static_cast<size_t>(X.shape[0]), K = static_cast<size_t>(X.shape[1]), O = static_cast<size_t>(W.shape[0]);
  r.tokens = T, r.in = K, r.out = O;
  const double outputs = static_cast<double>(T) * static_cast<double>(O);
  if (outputs > 0x1p25)
    return err("activationShape", "The output [" + std::to_string(T) + ", " + std::to_string(O) + "] is too large: at most 2^25 values");
  {
    // The peak: each side's Δ and codes, [X; ΔX], and about 128 bytes per output (the products,
    // Y, Ŷ, the sums, the flags, the codes of every path). Asked once, before any work.
    const double need = 12.0 * static_cast<double>(W.count) + 28.0 * static_cast<double>(X.count) + 128.0 * outputs;
    void* probe = need < static_cast<double>(SIZE_MAX) / 2 ? std::malloc(static_cast<size_t>(need)) : nullptr;
    if (!probe)
      return err("weights", "Not enough memory for this layer: about " + number_text(std::round(need / 1e6)) + " MB are needed");
    std::free(probe);
  }

  auto ws = quantize_side(W, O, K, opt.weight_scheme, "weightScheme", "weights", "weights", opt.kernel);
  if (auto* e = std::get_if<Error>(&ws)) return *e;
  SideData w = std::get<SideData>(std::move(ws));
  auto xs = quantize_side(X, T, K, opt.activation_scheme, "activationScheme", "activations", "activations", opt.kernel);
  if (auto* e = std::get_if<Error>(&xs)) return *e;
  SideData x = std::get<SideData>(std::move(xs));
  r.weights = w.side;
  r.activations = x.side;

  // Integer sums need integer codes on both sides and scales that hold for more than one k: per
  // input channel (a scale at every k) no integer sum spans two products.
  const size_t block = std::gcd(w.geometry.col_block, x.geometry.col_block);
  const bool integer = w.side.integer && x.side.integer && (block > 1 || K == 1);
  r.accumulator = opt.accumulator.value_or(integer ? Accumulator::Int32 : Accumulator::Double);
  const bool int_acc = r.accumulator == Accumulator::Int32 || r.accumulator == Accumulator::Int16;
  if (int_acc && !integer) {
    const char* why = !w.side.quantized   ? "the weights stay float"
                      : !x.side.quantized ? "the activations stay float"
                      : !w.side.integer   ? "the weights are in a float format"
                      : !x.side.integer   ? "the activations are in a float format"
                                          : "a side's scales change at every k (per input channel), so no integer sum spans two products";
    return err("accumulator", std::string("An ") + to_string(r.accumulator) +
                                  " accumulator sums integer codes, but " + why + ": use float32 (or leave the accumulator unset)");
  }
  const int64_t product_max = w.code_max * x.code_max;
  if (int_acc) {
    const int64_t limit = r.accumulator == Accumulator::Int16 ? 32767 : 2147483647;
    if (product_max > limit)
      return err("accumulator", std::string("An ") + to_string(r.accumulator) + " accumulator cannot hold even one product: |q_w − z_w| reaches " +
                                    std::to_string(w.code_max) + " and |q_x − z_x| reaches " + std::to_string(x.code_max) +
                                    ", so one product reaches " + number_text(static_cast<double>(product_max)) +
                                    " > " + number_text(static_cast<double>(limit)));
  }
  // Requantization's conditions, checked before the products.
  const OutputQuantization& oq = opt.output;
  if (oq.enabled) {
    if (!integer) return err("output", "Requantization turns integer sums into output codes: quantize both sides to integer codes");
    if (!int_acc) return err("output", "Requantization takes an integer accumulator (int32 or int16), not float32");
    if (x.geometry.per_row || x.geometry.col_block != K)
      return err("output", "Requantization needs one activation scale: per-token or per-group activations are dequantized to float, not requantized");
    if (w.geometry.col_block != K)
      return err("output", "Requantization needs one scale per output channel: per-group or per-input-channel weights are dequantized to float");
    if (oq.dtype != QDtype::Int8 && oq.dtype != QDtype::UInt8) return err("output.dtype", "Output codes are int8 or uint8");
    if (oq.scale && !(std::isfinite(*oq.scale) && *oq.scale > 0)) return err("output.scale", "The output scale must be a positive finite number");
    const int32_t lo = oq.dtype == QDtype::Int8 ? -128 : 0, hi = oq.dtype == QDtype::Int8 ? 127 : 255;
    if (oq.zero_point && (*oq.zero_point < lo || *oq.zero_point > hi))
      return err("output.zeroPoint", "The output zero point must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] for " +
                                         to_string(oq.dtype));
    if (oq.zero_point && !oq.scale) return err("output.scale", "A given output zero point needs its scale too");
  }

  // ---- the float products -----------------------------------------------------------------------
  const size_t m = x.side.quantized ? 2 * T : T;  // [X; ΔX]
  std::vector<double> a;
  if (auto e = sized(a, m * K, "activations")) return *e;
  for (size_t i = 0; i < T * K; ++i) a[i] = X.at(i);
  if (x.side.quantized) std::copy(x.delta.begin(), x.delta.end(), a.begin() + static_cast<std::ptrdiff_t>(T * K));
  std::vector<double> c1, c2;
  if (auto e = sized(c1, m * O, "weights")) return *e;
  if (W.f32) matmul_nt(a.data(), m, W.f32, O, K, c1.data(), opt.kernel);
  else matmul_nt(a.data(), m, W.f64, O, K, c1.data(), opt.kernel);
  if (w.side.quantized) {
    if (auto e = sized(c2, m * O, "weights")) return *e;
    matmul_nt(a.data(), m, w.delta.data(), O, K, c2.data(), opt.kernel);
  }
  const size_t n = T * O;
  r.reference.assign(c1.begin(), c1.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<double> sim;
  if (auto e = sized(sim, n, "weights")) return *e;
  LayerParts& parts = r.parts;
  for (size_t i = 0; i < n; ++i) {
    const double y = c1[i];
    const double pw = w.side.quantized ? c2[i] : 0.0;
    const double px = x.side.quantized ? c1[n + i] : 0.0;
    const double pi = w.side.quantized && x.side.quantized ? c2[n + i] : 0.0;
    const double d = (pw + px) + pi;
    sim[i] = y + d;
    parts.signal += y * y;
    parts.weights += pw * pw;
    parts.activations += px * px;
    parts.interaction += pi * pi;
    parts.simulated += d * d;
  }
  c1 = {}, c2 = {};
  // First-order predictions from column energies (errors uncorrelated along k).
  {
    std::vector<double> xcol(K), dxcol(K), wcol(K), dwcol(K);
    for (size_t t = 0; t < T; ++t) {
      add_squares(xcol.data(), a.data() + t * K, K);
      if (x.side.quantized) add_squares(dxcol.data(), x.delta.data() + t * K, K);
    }
    for (size_t o = 0; o < O; ++o) {
      if (W.f32) add_squares(wcol.data(), W.f32 + o * K, K);
      else add_squares(wcol.data(), W.f64 + o * K, K);
      if (w.side.quantized) add_squares(dwcol.data(), w.delta.data() + o * K, K);
    }
    for (size_t k = 0; k < K; ++k) {
      parts.predicted_weights += xcol[k] * dwcol[k];
      parts.predicted_activations += dxcol[k] * wcol[k];
      parts.predicted_interaction += dxcol[k] * dwcol[k];
    }
  }
  a = {};

  // ---- the accumulator -----------------------------------------------------------------------------
  std::vector<double> quantized;
  std::vector<int64_t> used;  // the accumulator's sums as it holds them (block = in)
  if (integer) {
    AccumulatorReport rep;
    const size_t nb = K / block;
    rep.block = block;
    rep.product_max = product_max;
    rep.bound = static_cast<double>(block) * static_cast<double>(product_max);
    rep.data_bound = static_cast<double>(block) * static_cast<double>(w.data_max) * static_cast<double>(x.data_max);
    rep.int16.min = -32768, rep.int16.max = 32767;
    rep.int32.min = -2147483648LL, rep.int32.max = 2147483647LL;
    rep.int32.measured = true;
    rep.int16.measured = r.accumulator == Accumulator::Int16;
    // Per (row, block): Σ|c| and max|c|, bounding every partial sum (no scan where it cannot leave).
    const auto block_stats = [&](const std::vector<int32_t>& c, size_t rows, std::vector<int64_t>& sum_abs, std::vector<int64_t>& max_abs) {
      sum_abs.assign(rows * nb, 0), max_abs.assign(rows * nb, 0);
      for (size_t i = 0; i < rows; ++i)
        for (size_t k = 0; k < K; ++k) {
          const int64_t v = std::abs(int64_t{c[i * K + k]});
          sum_abs[i * nb + k / block] += v;
          max_abs[i * nb + k / block] = std::max(max_abs[i * nb + k / block], v);
        }
    };
    std::vector<int64_t> w_sum, w_max, x_sum, x_max;
    block_stats(w.centered, O, w_sum, w_max);
    block_stats(x.centered, T, x_sum, x_max);
    if (auto e = sized(quantized, n, "weights")) return *e;
    if (nb == 1) {
      if (auto e = sized(rep.sums, n, "weights")) return *e;
      if (auto e = sized(used, n, "weights")) return *e;
    }
    const bool narrow = rep.data_bound < 2147483648.0;
    const size_t chunk = std::max<size_t>(2, (size_t{1} << 16) / std::max<size_t>(1, T * nb)) & ~size_t{1};
    std::vector<int64_t> sums;
    if (auto e = sized(sums, T * std::min(chunk, O) * nb, "weights")) return *e;
    std::vector<uint8_t> wrapped16(n), wrapped32(n), sat16(n), sat32(n), ex16(n), ex32(n);
    bool first = true;
    // Ŷ under int16 and int32, wrapping and saturating: what each would do to the output.
    double variant[4] = {}, variant_err[4] = {};
    for (size_t o0 = 0; o0 < O; o0 += chunk) {
      const size_t rows = std::min(chunk, O - o0);
      matmul_int_nt(x.centered.data(), T, w.centered.data() + o0 * K, rows, K, block, narrow, sums.data(), opt.kernel);
      for (size_t t = 0; t < T; ++t) {
        for (size_t j = 0; j < rows; ++j) {
          const size_t o = o0 + j, i = t * O + o;
          double yq = 0;
          for (size_t b = 0; b < nb; ++b) {
            const int64_t s = sums[(t * rows + j) * nb + b];
            const int64_t as = std::abs(s), at = static_cast<int64_t>(i);
            if (first || as > rep.max_abs || (as == rep.max_abs && at < rep.max_abs_index)) {
              rep.max_abs = as, rep.max_abs_index = at;
              first = false;
            }
            wrapped16[i] |= s < -32768 || s > 32767;
            wrapped32[i] |= s < -2147483648LL || s > 2147483647LL;
            // Partial sums bounded by min(max|x|·Σ|w|, max|w|·Σ|x|) over the block.
            const double reach = std::min(static_cast<double>(x_max[t * nb + b]) * static_cast<double>(w_sum[o * nb + b]),
                                          static_cast<double>(w_max[o * nb + b]) * static_cast<double>(x_sum[t * nb + b]));
            const int32_t* xa = x.centered.data() + t * K + b * block;
            const int32_t* wa = w.centered.data() + o * K + b * block;
            int64_t s32 = s, s16 = s;
            if (reach > 2147483647.0) {
              const PartialScan p = scan_partial(xa, wa, block, -2147483648LL, 2147483647LL);
              ex32[i] |= p.excursion;
              sat32[i] |= p.saturated != s;
              s32 = p.saturated;
            }
            if (rep.int16.measured && reach > 32767.0) {
              const PartialScan p = scan_partial(xa, wa, block, -32768, 32767);
              ex16[i] |= p.excursion;
              sat16[i] |= p.saturated != s;
              s16 = p.saturated;
            }
            int64_t v = s;  // as the requested accumulator holds it
            if (r.accumulator == Accumulator::Int32) v = opt.overflow == AccumulatorOverflow::Wrap ? wrap(s, 32) : s32;
            else if (r.accumulator == Accumulator::Int16) v = opt.overflow == AccumulatorOverflow::Wrap ? wrap(s, 16) : s16;
            const double sx = params_of(x.side.analysis, x.geometry.group(t, b * block)).scale;
            const double sw = params_of(w.side.analysis, w.geometry.group(o, b * block)).scale;
            const double ss = sx * sw;
            yq += ss * static_cast<double>(v);
            variant[0] += ss * static_cast<double>(wrap(s, 16)), variant[1] += ss * static_cast<double>(s16);
            variant[2] += ss * static_cast<double>(wrap(s, 32)), variant[3] += ss * static_cast<double>(s32);
            if (nb == 1) rep.sums[i] = static_cast<double>(s), used[i] = v;
          }
          quantized[i] = yq;
          for (int k = 0; k < 4; ++k) {
            const double e = r.reference[i] - variant[k];
            variant_err[k] += e * e;
            variant[k] = 0;
          }
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      rep.int16.wrapped += wrapped16[i], rep.int32.wrapped += wrapped32[i];
      rep.int16.excursions += ex16[i], rep.int32.excursions += ex32[i];
    }
    const auto db = [&](double e) { return parts.signal == 0 ? kNaN : e == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(parts.signal / e); };
    rep.int16.wrap_sqnr_db = db(variant_err[0]), rep.int32.wrap_sqnr_db = db(variant_err[2]);
    rep.int32.saturate_sqnr_db = db(variant_err[3]);
    if (rep.int16.measured) rep.int16.saturate_sqnr_db = db(variant_err[1]);
    rep.int32.saturated = static_cast<uint64_t>(std::count(sat32.begin(), sat32.end(), 1));
    if (rep.int16.measured) rep.int16.saturated = static_cast<uint64_t>(std::count(sat16.begin(), sat16.end(), 1));
    // ONNX Runtime's x86 AVX2 (non-VNNI) uint8 × int8 kernel: raw-code pairs saturated to int16.
    const QuantParams& xp = x.side.analysis.params;
    const QuantParams& wp = w.side.analysis.params;
    int32_t wq_lo = wp.qmin, wq_hi = wp.qmax;
    for (const GroupResult& g : w.side.analysis.groups) wq_lo = std::min(wq_lo, g.params.qmin), wq_hi = std::max(wq_hi, g.params.qmax);
    rep.pairs_apply = opt.profile == LayerProfile::Onnx && nb == 1 && !x.geometry.per_row && xp.qmin >= 0 && xp.qmax <= 255 &&
                      wq_lo < 0 && wq_lo >= -128 && wq_hi <= 127;
    if (rep.pairs_apply) {
      if (auto e = sized(rep.pair_sums, n, "weights")) return *e;
      const int64_t zx = xp.zero_point;
      std::vector<int32_t> xr(K), wr(K);
      for (size_t o = 0; o < O; ++o) {
        const int64_t zw = params_of(w.side.analysis, w.geometry.group(o, 0)).zero_point;
        int64_t sum_w = 0;
        for (size_t k = 0; k < K; ++k) wr[k] = static_cast<int32_t>(w.centered[o * K + k] + zw), sum_w += wr[k];
        for (size_t t = 0; t < T; ++t) {
          int64_t sum_x = 0;
          const int64_t raw = pair_sums(x.centered.data() + t * K, zx, wr.data(), K, sum_x);
          // Σ(a − z_a)(b − z_b) = Σab − z_a·Σb − z_b·Σa + K·z_a·z_b, in int32 as the kernel keeps it.
          const int64_t v = wrap(raw - zx * sum_w - zw * sum_x + static_cast<int64_t>(K) * zx * zw, 32);
          rep.pair_sums[t * O + o] = static_cast<double>(v);
          rep.pair_saturated += v != static_cast<int64_t>(rep.sums[t * O + o]);
        }
      }
    }
    r.accumulator_report = std::move(rep);
  }
  if (r.accumulator == Accumulator::Float32) {
    // Dequantized to float32, then a float32 GEMM.
    std::vector<float> xh, wh, y32;
    if (auto e = sized(xh, T * K, "activations")) return *e;
    if (auto e = sized(wh, O * K, "weights")) return *e;
    if (auto e = sized(y32, n, "weights")) return *e;
    for (size_t t = 0; t < T; ++t) add_rows_f32(xh.data() + t * K, X, t * K, x.side.quantized ? x.delta.data() + t * K : nullptr, K);
    for (size_t o = 0; o < O; ++o) add_rows_f32(wh.data() + o * K, W, o * K, w.side.quantized ? w.delta.data() + o * K : nullptr, K);
    matmul_nt_f32(xh.data(), T, wh.data(), O, K, y32.data(), opt.kernel);
    quantized.assign(y32.begin(), y32.end());
  }
  if (quantized.empty()) quantized = sim;
  for (size_t i = 0; i < n; ++i) {
    const double d = quantized[i] - sim[i];
    parts.accumulator += d * d;
  }
  r.quantized = std::move(quantized);
  output_metrics(r);

  // ---- requantization ------------------------------------------------------------------------------
  if (oq.enabled) {
    Requantization q;
    q.profile = opt.profile;
    q.qmin = oq.dtype == QDtype::Int8 ? -128 : 0;
    q.qmax = oq.dtype == QDtype::Int8 ? 127 : 255;
    const bool runtime = opt.profile != LayerProfile::Formula;  // runtimes hold scales as float32
    if (oq.scale) {
      q.scale = runtime ? static_cast<float>(*oq.scale) : *oq.scale;
      q.zero_point = oq.zero_point.value_or(0);
    } else {
      q.derived = true;
      double lo = 0, hi = 0;
      for (double y : r.reference) lo = std::min(lo, y), hi = std::max(hi, y);
      if (opt.profile == LayerProfile::Onnx) {
        QuantScheme os;
        os.profile = Profile::Onnx;
        os.dtype = oq.dtype;
        os.mode = Mode::Asymmetric;
        const QuantParams p = profile_params(os, lo, hi);
        q.scale = p.scale, q.zero_point = p.zero_point;
      } else {
        QuantScheme fs;
        fs.bits = 8;
        fs.mode = oq.dtype == QDtype::Int8 ? Mode::Asymmetric : Mode::AsymmetricUnsigned;
        fs.range = Range{lo, hi};
        auto p = derive_params(fs, SampleScan{lo, hi, true});
        if (auto* e = std::get_if<Error>(&p)) return err("output", "The output's range: " + e->message);
        q.scale = runtime ? static_cast<float>(std::get<QuantParams>(p).scale) : std::get<QuantParams>(p).scale;
        q.zero_point = std::get<QuantParams>(p).zero_point;
      }
    }
    if (!(q.scale > 0) || !std::isfinite(q.scale)) return err("output.scale", "The output scale " + number_text(q.scale) + " is unusable");
    const size_t channels = w.geometry.per_row ? O : 1;
    const double sx = runtime ? static_cast<float>(x.side.analysis.params.scale) : x.side.analysis.params.scale;
    q.real_multiplier.resize(channels), q.multiplier.resize(channels), q.shift.resize(channels), q.onnx_multiplier.resize(channels);
    std::vector<FixedPointMultiplier> fixed(channels);
    for (size_t c = 0; c < channels; ++c) {
      const double swd = params_of(w.side.analysis, c).scale;
      const double sw = runtime ? static_cast<float>(swd) : swd;
      q.real_multiplier[c] = sx * sw / q.scale;
      fixed[c] = quantize_multiplier(q.real_multiplier[c]);
      q.multiplier[c] = fixed[c].multiplier, q.shift[c] = fixed[c].shift;
      // ONNX Runtime: a_scale * b_scale / y_scale, float32 operations left to right.
      q.onnx_multiplier[c] = static_cast<float>(sx) * static_cast<float>(sw) / static_cast<float>(q.scale);
    }
    for (auto* v : {&q.exact, &q.formula, &q.onnx, &q.tflite, &q.qdq})
      if (auto e = sized(*v, n, "output")) return *e;
    const float syf = static_cast<float>(q.scale);
    const float zf = static_cast<float>(q.zero_point);
    const float flo = static_cast<float>(q.qmin - q.zero_point), fhi = static_cast<float>(q.qmax - q.zero_point);
    for (size_t t = 0; t < T; ++t) {
      for (size_t o = 0; o < O; ++o) {
        const size_t i = t * O + o, c = channels == 1 ? 0 : o;
        const int64_t acc = used[i];
        const double M = q.real_multiplier[c];
        // exact: round_half_even(acc · M) + z_y, acc · M exactly.
        const Exact ex = exact_product(acc, M);
        const int64_t unclamped = round_even(ex) + q.zero_point;
        q.exact[i] = clamp_code(unclamped, q.qmin, q.qmax);
        q.clipped += unclamped != q.exact[i];
        // formula: acc · M rounded to double, then half to even.
        const double v = static_cast<double>(acc) * M;
        q.formula[i] = clamp_code(round_half_even(v) + q.zero_point, q.qmin, q.qmax);
        // onnx: float32(acc) · M_f in float32, clamped to [q_min − z, q_max − z], half to even, + z.
        const float vf = std::clamp(static_cast<float>(acc) * q.onnx_multiplier[c], flo, fhi);
        q.onnx[i] = static_cast<int32_t>(std::nearbyint(vf) + zf);
        // tflite: the fixed-point multiplier, two roundings half away from zero.
        const int32_t raw = multiply_by_quantized_multiplier(static_cast<int32_t>(acc), fixed[c]);
        q.tflite[i] = clamp_code(int64_t{raw} + q.zero_point, q.qmin, q.qmax);
        // DequantizeLinear → MatMul (float32 output) → QuantizeLinear (x / s_y in float32).
        const float yf = static_cast<float>(sim[i]);
        q.qdq[i] = static_cast<int32_t>(std::nearbyint(std::clamp(yf / syf, flo, fhi)) + zf);
        uint8_t reasons = 0;
        if (q.formula[i] != q.exact[i]) reasons |= kReasonDouble, ++q.formula_differs;
        if (q.onnx[i] != q.exact[i]) reasons |= kReasonFloat32, ++q.onnx_differs;
        if (q.qdq[i] != q.exact[i]) reasons |= kReasonFloat32, ++q.qdq_differs;
        if (q.tflite[i] != q.exact[i]) {
          ++q.tflite_differs;
          const int sh = 31 - fixed[c].shift;
          const Exact fx = exact_shift(static_cast<Int128>(acc) * fixed[c].multiplier, sh);
          const int64_t single = round_away(fx);
          if (single != raw && fixed[c].shift > 0) reasons |= kReasonTie, ++q.ties;  // the high multiply's tie, toward +∞
          else if (single != raw) reasons |= kReasonDoubleRounding, ++q.double_roundings;
          else if (single != round_away(ex)) reasons |= kReasonMultiplier, ++q.multiplier_reasons;
          else reasons |= kReasonTie, ++q.ties;
        }
        if (reasons & kReasonFloat32) ++q.float32_reasons;
        if (reasons & kReasonDouble) ++q.double_reasons;
        if (reasons && q.differences.size() < opt.max_differences)
          q.differences.push_back(RequantDifference{t, o, acc, v, q.exact[i], q.formula[i], q.onnx[i], q.tflite[i], q.qdq[i], reasons});
      }
    }
    const std::vector<int32_t>& codes = opt.profile == LayerProfile::Onnx ? q.onnx : opt.profile == LayerProfile::Tflite ? q.tflite : q.formula;
    LaneSums S;
    double max_abs = 0;
    for (size_t i = 0; i < n; ++i) {
      const double yhat = static_cast<double>(codes[i] - q.zero_point) * q.scale;
      S.add(i, i, r.reference[i], yhat, false, false);
      max_abs = std::max(max_abs, std::fabs(r.reference[i]));
    }
    const ErrorSums sums = S.finish(n);
    q.metrics = metrics_from_sums(sums, max_abs, q.scale);
    r.requantization = std::move(q);
  }
  return r;
}

namespace {

Error in_next(Error e) {
  e.field = "next." + e.field;
  e.message = "Layer 2: " + e.message;
  return e;
}

double energy_between(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

}  // namespace

Result<ChainResult> analyze_chain(const LayerTensor& W1, const LayerTensor& X, const LayerOptions& opt1, const LayerTensor& W2,
                                  Activation f, const LayerOptions& opt2) {
  auto first = analyze_layer(W1, X, opt1);
  if (auto* e = std::get_if<Error>(&first)) return *e;
  ChainResult c;
  c.first = std::get<LayerResult>(std::move(first));
  c.activation = f;
  const LayerResult& l1 = c.first;
  if (auto e = check_shape(W2, "weightShape", "The weights", "[out, in]")) return in_next(*e);
  if (static_cast<size_t>(W2.shape[1]) != l1.out)
    return err("next.weightShape", "The shapes do not chain: layer 1 gives [tokens, out] = [" + std::to_string(l1.tokens) + ", " +
                                       std::to_string(l1.out) + "], so layer 2's weights must be [out2, " + std::to_string(l1.out) +
                                       "] (got " + dims_text(W2.shape) + ")");
  const size_t n = l1.reference.size();
  std::vector<double> fy(n), fq(n);
  for (size_t i = 0; i < n; ++i) {
    fy[i] = activate(f, l1.reference[i]);
    double q = l1.quantized[i];
    if (l1.requantization) {
      const Requantization& rq = *l1.requantization;
      const std::vector<int32_t>& codes = rq.profile == LayerProfile::Onnx ? rq.onnx : rq.profile == LayerProfile::Tflite ? rq.tflite : rq.formula;
      q = static_cast<double>(codes[i] - rq.zero_point) * rq.scale;
    }
    fq[i] = activate(f, q);
  }
  const std::vector<int64_t> shape{static_cast<int64_t>(l1.tokens), static_cast<int64_t>(l1.out)};
  auto local = analyze_layer(W2, LayerTensor{nullptr, fy.data(), n, shape}, opt2);
  if (auto* e = std::get_if<Error>(&local)) return in_next(*e);
  auto full = analyze_layer(W2, LayerTensor{nullptr, fq.data(), n, shape}, opt2);
  if (auto* e = std::get_if<Error>(&full)) return in_next(*e);
  LayerResult& L = std::get<LayerResult>(local);
  c.second = std::get<LayerResult>(std::move(full));
  const std::vector<double> propagated = std::move(c.second.reference);
  c.second.reference = L.reference;  // Y2 = f(Y1)·W2ᵀ
  output_metrics(c.second);
  c.propagated_energy = energy_between(propagated, L.reference);
  c.local_energy = energy_between(L.quantized, L.reference);
  c.total_energy = energy_between(c.second.quantized, L.reference);
  double signal = 0;
  for (double y : L.reference) signal += y * y;
  const auto db = [&](double e) { return signal == 0 ? kNaN : e == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / e); };
  c.propagated_sqnr_db = db(c.propagated_energy);
  c.local_sqnr_db = db(c.local_energy);
  return c;
}

}  // namespace qe
