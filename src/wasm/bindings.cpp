// All embind glue: options in as a value_object, results out as plain JS objects whose arrays are
// views into the last result, which JS copies and then lets go (release()); errors as data
// ({ ok: false, error: { field, index, message } }) that JS throws. Nothing here computes.
//
// Built twice: the whole core (quant.wasm), and with QE_CORE_MODULE the small first module the
// page loads (quant-core.wasm): the integer formula with every calibration, granularity and
// rounding, metrics, charts and the value parser; float formats, runtime profiles, streaming and
// tensor files are left out (web/src/quantizer.js sends those to the whole core).
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <variant>

#include "analyze.h"
#include "charts.h"
#include "gguf_model.h"
#include "layer.h"
#include "parse.h"
#include "profiles.h"
#include "requantize.h"
#include "stream.h"
#include "tensor_files.h"

using namespace emscripten;

namespace {

// Mirrors the JS defaults object in web/src/quantizer.js; every field is always present there.
struct JsOptions {
  int bits = 8;
  std::string mode = "symmetric";
  std::string rounding = "half-even";
  double seed = 0;
  bool hasRange = false;
  double rangeMin = 0, rangeMax = 0;
  bool hasQmin = false, hasQmax = false;
  int qmin = 0, qmax = 0;
  bool hasScale = false;
  double scale = 0;
  bool hasZeroPoint = false;
  int zeroPoint = 0;
  std::string arithmetic = "float64";
  bool perSample = true;
  std::string kernel = "auto";
  int chartBuckets = 0;
  int histogramBins = 0;
  std::string calibration = "minmax";
  double percentile = 99.99;
  std::string granularity = "tensor";
  std::string shape;  // "64,3,3,3" (JS checks and joins the array); "" for none
  int axis = 0;
  double groupSize = 0;
  std::string format = "int";
  std::string overflow = "saturate";
  std::string formatScale = "none";
  int customExponentBits = 4, customMantissaBits = 3, customBias = 7;
  std::string customSpecials = "finite-nan";
  std::string profile = "formula";
  std::string dtype = "int8";
  bool reduceRange = false;
#ifndef QE_CORE_MODULE
  double importancePtr = 0, importanceCount = -1;  // ggml's types: the weights in the heap; −1: none
  std::string nonFinite = "error";  // "error" or "skip" (the first module never skips)
  std::string mxScale = "floor";    // the OCP MX formats' scale rounding: floor, ceil, even or rceil
  std::string onnxOp = "quantize-linear";  // profile onnx: "quantize-linear" or "dynamic-quantize-linear"
  // Given per-channel or per-group parameters: float64 scales and int32 zero points in the heap; −1: none.
  double scalesPtr = 0, scalesCount = -1, zeroPointsPtr = 0, zeroPointsCount = -1;
#endif
};

#ifndef QE_CORE_MODULE
// A format's definition and, after an analysis, its counts.
struct JsFormat {
  std::string name, label, specials, source;
  double bits, exponentBits, mantissaBits, bias, max, minNormal, minSubnormal, nanCode, infCode, block;
  double tensorScale, overflowCount, underflowCount, subnormalCount;
  double saturatedBlocks = NAN;  // block formats (not NF4): blocks whose largest element saturated
};

const char* specials_name(qe::Specials s) {
  return s == qe::Specials::Ieee ? "ieee" : s == qe::Specials::FiniteNan ? "finite-nan" : "none";
}

JsFormat describe(qe::NumberFormat f, const qe::Minifloat& m) {
  const qe::FormatInfo& i = qe::format_info(f);
  JsFormat j{i.name, i.label, specials_name(m.specials), i.source, double(m.bits()), double(m.ebits), double(m.mbits),
             double(m.bias), m.max_finite(), m.min_normal(), m.min_subnormal(), NAN, NAN, double(i.block), 1, 0, 0, 0};
  if (auto c = m.nan_code()) j.nanCode = *c;
  if (auto c = m.inf_code()) j.infCode = *c;
  if (f == qe::NumberFormat::Nf4) {
    j.specials = "none";
    j.bits = 4;
    j.exponentBits = j.mantissaBits = j.bias = NAN;
    j.max = 1;
    j.minNormal = j.minSubnormal = NAN;
  } else if (f == qe::NumberFormat::Mxint8) {
    j.specials = "none";
    j.bits = 8;
    j.exponentBits = j.mantissaBits = j.bias = NAN;
    j.max = 127.0 / 64;
    j.minNormal = j.minSubnormal = 1.0 / 64;
  }
  return j;
}

#endif
// Plain JS objects, built field by field.
template <class T>
val view(const std::vector<T>& v) {
  return val(typed_memory_view(v.size(), v.data()));
}

val object(std::initializer_list<std::pair<const char*, double>> fields) {
  val o = val::object();
  for (const auto& [k, v] : fields) o.set(k, v);
  return o;
}

val error_object(const qe::Error& e) {
  val error = val::object();
  error.set("field", e.field);
  error.set("index", static_cast<double>(e.index));
  error.set("message", e.message);
  val o = val::object();
  o.set("ok", false);
  o.set("error", error);
  return o;
}

#ifndef QE_CORE_MODULE
// One of ggml's types as describeFormat gives it: the block, its bytes and bits per weight, the
// codes' range and what they stand for (formatValues), the equation and the layout.
val ggml_format_object(const qe::GgmlTypeInfo& t) {
  val o = object({{"bits", double(t.code_bits)}, {"exponentBits", NAN}, {"mantissaBits", NAN}, {"bias", NAN}, {"max", NAN},
                  {"minNormal", NAN}, {"minSubnormal", NAN}, {"nanCode", NAN}, {"infCode", NAN}, {"block", double(t.block)},
                  {"blockBytes", double(t.bytes)}, {"bitsPerWeight", qe::bits_per_weight(t)}, {"subBlock", double(t.sub_block)},
                  {"codeMin", double(t.code_min)}, {"codeMax", double(t.code_max)}, {"tensorScale", 1},
                  {"overflowCount", 0}, {"underflowCount", 0}, {"subnormalCount", 0}});
  o.set("name", std::string(t.name));
  o.set("label", std::string(t.ggml_name) + " (llama.cpp)");
  o.set("specials", std::string("none"));
  o.set("source", std::string("ggml-org/ggml ggml-quants.c, as llama-quantize calls it (ggml_quantize_chunk)"));
  o.set("equation", std::string(t.equation));
  o.set("layout", std::string(t.layout));
  o.set("fallback", t.fallback ? val(std::string(qe::ggml_type_by_name(t.fallback)->name)) : val::null());
  o.set("importance", t.importance);
  o.set("hasMin", t.has_min);
  return o;
}

val format_object(const JsFormat& f) {
  val o = object({{"bits", f.bits}, {"exponentBits", f.exponentBits}, {"mantissaBits", f.mantissaBits}, {"bias", f.bias},
                  {"max", f.max}, {"minNormal", f.minNormal}, {"minSubnormal", f.minSubnormal}, {"nanCode", f.nanCode},
                  {"infCode", f.infCode}, {"block", f.block}, {"tensorScale", f.tensorScale},
                  {"overflowCount", f.overflowCount}, {"underflowCount", f.underflowCount},
                  {"subnormalCount", f.subnormalCount}, {"saturatedBlocks", f.saturatedBlocks}});
  o.set("name", f.name);
  o.set("label", f.label);
  o.set("specials", f.specials);
  o.set("source", f.source);
  return o;
}
#endif

std::variant<qe::AnalyzeOptions, qe::Error> from_js(const JsOptions& o) {
  qe::AnalyzeOptions a;
  qe::QuantScheme& s = a.scheme;
  s.bits = o.bits;
  auto mode = qe::parse_mode(o.mode);
  if (!mode)
    return qe::Error{"mode", -1, "Unknown mode \"" + o.mode + "\" (use symmetric, asymmetric or asymmetric-unsigned)"};
  s.mode = *mode;
  auto rounding = qe::parse_rounding(o.rounding);
  if (!rounding)
    return qe::Error{"rounding", -1,
                     "Unknown rounding \"" + o.rounding +
                         "\" (use half-even, half-away, half-up, floor, ceil, toward-zero or stochastic)"};
  s.rounding = *rounding;
  auto arithmetic = qe::parse_arithmetic(o.arithmetic);
  if (!arithmetic)
    return qe::Error{"arithmetic", -1, "Unknown arithmetic \"" + o.arithmetic + "\" (use float64 or float32)"};
  s.arithmetic = *arithmetic;
  s.seed = static_cast<uint64_t>(o.seed);
  auto calibration = qe::parse_calibration(o.calibration);
  if (!calibration)
    return qe::Error{"calibration", -1, "Unknown calibration \"" + o.calibration + "\" (use minmax, percentile, mse or entropy)"};
  s.calibration = *calibration;
  s.percentile = o.percentile;
  auto granularity = qe::parse_granularity(o.granularity);
  if (!granularity)
    return qe::Error{"granularity", -1, "Unknown granularity \"" + o.granularity + "\" (use tensor, channel or group)"};
  s.granularity = *granularity;
  // "64,3,3,3": safe integers that JS has checked and joined.
  if (!o.shape.empty()) {
    int64_t dim = 0, sign = 1;
    for (size_t at = 0; at <= o.shape.size(); ++at) {
      const char c = at < o.shape.size() ? o.shape[at] : ',';
      if (c == ',') s.shape.push_back(sign * dim), dim = 0, sign = 1;
      else if (c == '-') sign = -1;
      else dim = dim * 10 + (c - '0');
    }
  }
  s.axis = o.axis;
  s.group_size = static_cast<int64_t>(o.groupSize);
  if (o.hasRange) s.range = qe::Range{o.rangeMin, o.rangeMax};
  if (o.hasQmin) s.qmin = o.qmin;
  if (o.hasQmax) s.qmax = o.qmax;
  if (o.hasScale) s.scale = o.scale;
  if (o.hasZeroPoint) s.zero_point = o.zeroPoint;
#ifdef QE_CORE_MODULE
  // The first module: integer formats with the formula's parameters (JS sends nothing else here).
  if (o.format != "int") return qe::Error{"format", -1, "Float and block formats are in the whole core, not the first module"};
#else
  auto profile = qe::parse_profile(o.profile);
  if (!profile) return qe::Error{"profile", -1, "Unknown profile \"" + o.profile + "\" (use formula, pytorch, onnx or ggml)"};
  s.profile = *profile;
  if (!qe::select_ggml_format(s, o.format)) {
    auto format = qe::parse_format(o.format);
    if (!format)
      return qe::Error{"format", -1, "Unknown format \"" + o.format + "\" (use int, fp16, bf16, fp8-e4m3, fp8-e5m2, fp6-e3m2, "
                                     "fp6-e2m3, fp4-e2m1, custom, mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, mxint8, nvfp4, "
                                     "nf4, or llama.cpp's q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, iq4_xs, "
                                     "tq1_0, tq2_0)"};
    s.format = *format;
  }
  if (o.importanceCount >= 0) {
    a.importance = reinterpret_cast<const float*>(static_cast<uintptr_t>(o.importancePtr));
    a.importance_count = static_cast<size_t>(o.importanceCount);
  }
  auto overflow = qe::parse_overflow(o.overflow);
  if (!overflow) return qe::Error{"overflow", -1, "Unknown overflow \"" + o.overflow + "\" (use saturate or inf-nan)"};
  s.overflow = *overflow;
  if (o.formatScale == "amax") s.format_scale = qe::QuantScheme::FormatScale::Amax;
  else if (o.formatScale != "none")
    return qe::Error{"formatScale", -1, "Unknown format scale \"" + o.formatScale + "\" (use none or amax)"};
  s.custom_format.ebits = o.customExponentBits;
  s.custom_format.mbits = o.customMantissaBits;
  s.custom_format.bias = o.customBias;
  if (o.customSpecials == "ieee") s.custom_format.specials = qe::Specials::Ieee;
  else if (o.customSpecials == "finite-nan") s.custom_format.specials = qe::Specials::FiniteNan;
  else if (o.customSpecials == "none") s.custom_format.specials = qe::Specials::None;
  else return qe::Error{"customFormat", -1, "Unknown specials \"" + o.customSpecials + "\" (use ieee, finite-nan or none)"};
  auto dtype = qe::parse_dtype(o.dtype);
  if (!dtype) return qe::Error{"dtype", -1, "Unknown dtype \"" + o.dtype + "\" (use int8, uint8, int4, uint4, int16 or uint16)"};
  s.dtype = *dtype;
  s.reduce_range = o.reduceRange;
  if (o.nonFinite == "skip")
    a.non_finite = qe::NonFinite::Skip;
  else if (o.nonFinite != "error")
    return qe::Error{"nonFinite", -1, "Unknown nonFinite \"" + o.nonFinite + "\" (use error or skip)"};
  auto mx_scale = qe::parse_mx_scale(o.mxScale);
  if (!mx_scale) return qe::Error{"mxScale", -1, "Unknown mxScale \"" + o.mxScale + "\" (use floor, ceil, even or rceil)"};
  s.mx_scale = *mx_scale;
  if (o.onnxOp == "dynamic-quantize-linear") s.onnx_dynamic = true;
  else if (o.onnxOp != "quantize-linear")
    return qe::Error{"onnxOp", -1, "Unknown onnxOp \"" + o.onnxOp + "\" (use quantize-linear or dynamic-quantize-linear)"};
  // The lists stay in the heap for the call (JS frees them after it); one call at a time.
  static qe::GivenParams given;
  given = qe::GivenParams{};
  if (o.scalesCount >= 0) {
    given.scales = reinterpret_cast<const double*>(static_cast<uintptr_t>(o.scalesPtr));
    given.scale_count = static_cast<size_t>(o.scalesCount);
  }
  if (o.zeroPointsCount >= 0) {
    given.zero_points = reinterpret_cast<const int32_t*>(static_cast<uintptr_t>(o.zeroPointsPtr));
    given.zero_point_count = static_cast<size_t>(o.zeroPointsCount);
  }
  if (o.scalesCount >= 0 || o.zeroPointsCount >= 0) s.given = &given;
#endif
  a.per_sample = o.perSample;
  a.group_copy_bytes = 8 * sizeof(double);  // analysis_object's columns
  if (o.kernel == "scalar")
    a.kernel = qe::Kernel::Scalar;
  else if (o.kernel == "simd")
    a.kernel = qe::Kernel::Simd;
  else if (o.kernel == "auto")
    a.kernel = qe::Kernel::Auto;
  else
    return qe::Error{"kernel", -1, "Unknown kernel \"" + o.kernel + "\" (use auto, scalar or simd)"};
  return a;
}

// The last result, kept until JS has copied its arrays and calls release().
struct Held {
  qe::Analysis analysis;
#ifndef QE_CORE_MODULE
  qe::GgmlBlocks ggml;
  std::vector<float> dequantized;
#endif
  qe::ChartData charts;
  std::vector<double> group_columns;
#ifndef QE_CORE_MODULE
  std::vector<double> group_counts;
#endif
  std::vector<double> values;
};
Held held;

void release();

// An analysis (held) as { ok, scale, zeroPoint, qmin, qmax, rangeMin, rangeMax, metrics,
// calibration, codes, dequantized, errors, clipped, groupCount, groupColumns, curveThreshold,
// curveValue, blockScales, blockCodes, charts, format }: the arrays are views into `held`.
val analysis_object(const qe::QuantScheme& s, bool charts, const qe::Analysis& a = held.analysis,
                    std::vector<double>& group_columns = held.group_columns) {
  const qe::QuantParams& p = a.params;
  val r = object({{"scale", p.scale}, {"zeroPoint", double(p.zero_point)}, {"qmin", double(p.qmin)}, {"qmax", double(p.qmax)},
                  {"rangeMin", p.range_min}, {"rangeMax", p.range_max}, {"groupCount", double(a.groups.size())}});
  r.set("ok", true);
  const qe::Metrics& m = a.metrics;
  r.set("metrics", object({{"count", double(m.count)}, {"mse", m.mse}, {"rmse", m.rmse}, {"mae", m.mae},
                           {"maxAbsError", m.max_abs_error}, {"maxAbsErrorIndex", double(m.max_abs_error_index)},
                           {"meanError", m.mean_error}, {"errorStd", m.error_std}, {"sqnrDb", m.sqnr_db}, {"psnrDb", m.psnr_db},
                           {"clipCount", double(m.clip_count)}, {"clipRate", m.clip_rate}, {"step", m.step},
                           {"uniformNoise", m.uniform_noise}, {"medianAbsError", m.median_abs_error},
                           {"p95AbsError", m.p95_abs_error}, {"cosine", m.cosine}, {"tieCount", double(m.tie_count)},
                           {"codesUsed", double(m.codes_used)}, {"codeEntropyBits", m.code_entropy_bits},
                           {"mseRounding", m.mse_rounding}, {"mseClipping", m.mse_clipping}}));
  const qe::CalibrationReport& c = a.calibration;
  val calibration = object({{"rangeMin", c.range_min}, {"rangeMax", c.range_max}, {"percentile", c.percentile},
                            {"threshold", c.threshold}, {"divergence", c.divergence},
                            {"exactCandidates", double(c.exact_candidates)}});
  calibration.set("method", c.method);
  r.set("calibration", calibration);
  r.set("curveThreshold", view(c.curve_threshold));
  r.set("curveValue", view(c.curve_value));
  r.set("codes", view(a.codes));
  r.set("dequantized", a.dequantized_f32.empty() ? view(a.dequantized_f64) : view(a.dequantized_f32));
  r.set("errors", view(a.errors));
  r.set("clipped", view(a.clipped));
  r.set("blockScales", view(a.block_scales));
  r.set("blockCodes", view(a.block_codes));
  // Per channel or group: scale, zero point, range min and max, Σe², Σx², clip count and max |e|,
  // each as `count` consecutive doubles in one buffer (100k groups cost one copy).
  const size_t n = a.groups.size();
  group_columns.resize(n * 8);
  for (size_t i = 0; i < n; ++i) {
    const qe::GroupResult& g = a.groups[i];
    const double fields[8] = {g.params.scale, double(g.params.zero_point), g.params.range_min, g.params.range_max,
                              g.sums.sum_err2, g.sums.sum_x2, double(g.sums.clip_count), g.sums.max_abs};
    for (size_t f = 0; f < 8; ++f) group_columns[f * n + i] = fields[f];
  }
  r.set("groupColumns", view(group_columns));
#ifndef QE_CORE_MODULE
  // Skipped NaN and ±Inf (NonFinite::Skip): the counts, and then each channel's or group's finite
  // values (without skipped samples, and in the first module, JS fills in the sample counts).
  const qe::NonFiniteCounts& skipped = a.non_finite;
  r.set(
      "nonFinite",
      object({{"nan", double(skipped.nan)}, {"posInf", double(skipped.pos_inf)}, {"negInf", double(skipped.neg_inf)}}));
  if (skipped.total()) {
    held.group_counts.resize(n);
    for (size_t i = 0; i < n; ++i) {
      held.group_counts[i] = double(a.groups[i].sums.count);
      if (a.groups[i].sums.count == 0) group_columns[7 * n + i] = NAN;  // no largest error
    }
    r.set("groupCounts", view(held.group_counts));
  }
#endif
  if (charts) {
    const qe::ChartData& h = held.charts;
    val ch = object({{"valueLo", h.values.lo}, {"valueHi", h.values.hi}, {"errorLo", h.errors.lo}, {"errorHi", h.errors.hi}});
    ch.set("xMin", view(h.x_min));
    ch.set("xMax", view(h.x_max));
    ch.set("xhatMin", view(h.xhat_min));
    ch.set("xhatMax", view(h.xhat_max));
    ch.set("errMin", view(h.err_min));
    ch.set("errMax", view(h.err_max));
    ch.set("valueCounts", view(h.values.counts));
    ch.set("errorCounts", view(h.errors.counts));
    r.set("charts", ch);
  }
#ifndef QE_CORE_MODULE
  if (s.format == qe::NumberFormat::Ggml) {  // the type, its blocks as ggml writes them, and their fields
    const qe::GgmlTypeInfo& t = *s.ggml;
    const qe::GgmlBlocks& g = held.ggml;
    val f = ggml_format_object(t);
    f.set("overflowCount", double(a.format_counts.overflow));
    f.set("underflowCount", double(a.format_counts.underflow));
    r.set("format", f);
    val b = object({{"bitsPerWeight", qe::bits_per_weight(t)}, {"blockSize", double(t.block)}, {"blockBytes", double(t.bytes)},
                    {"subBlockSize", double(t.sub_block)}, {"count", double(g.codes_used.size())},
                    {"weightedMse", g.weighted_mse}, {"weightedSqnrDb", g.weighted_sqnr_db}});
    b.set("type", std::string(t.name));
    b.set("bytes", view(g.bytes));
    b.set("min", view(g.min));
    b.set("codesUsed", view(g.codes_used));
    b.set("subScale", view(g.sub_scale));
    b.set("subScaleCode", view(g.sub_scale_code));
    b.set("subMin", view(g.sub_min));
    b.set("subMinCode", view(g.sub_min_code));
    r.set("ggml", b);
  } else if (s.format != qe::NumberFormat::Int) {  // the format's definition and counts
    JsFormat f = describe(s.format, qe::element_format(s));
    f.tensorScale = p.scale;
    f.overflowCount = double(a.format_counts.overflow);
    f.underflowCount = double(a.format_counts.underflow);
    f.subnormalCount = double(a.format_counts.subnormal);
    if (qe::is_block_format(s.format) && s.format != qe::NumberFormat::Nf4) f.saturatedBlocks = double(a.format_counts.saturated_blocks);
    r.set("format", format_object(f));
  }
  // ONNX Runtime's two ways to a uint8 tensor's parameters, side by side (profiles.h): the
  // Python tool's compute_scale_zp before QuantizeLinear, and the DynamicQuantizeLinear op.
  if (s.profile == qe::Profile::Onnx && s.granularity == qe::Granularity::Tensor && s.dtype == qe::QDtype::UInt8 &&
      s.mode != qe::Mode::Symmetric && !s.reduce_range && !s.range && !s.scale && !s.zero_point) {
    qe::QuantScheme q = s, d = s;
    q.onnx_dynamic = false, d.onnx_dynamic = true;
    const qe::QuantParams pq = qe::profile_params(q, p.range_min, p.range_max), pd = qe::profile_params(d, p.range_min, p.range_max);
    r.set("onnxParams", object({{"quantizeLinearScale", pq.scale}, {"quantizeLinearZeroPoint", double(pq.zero_point)},
                                {"dynamicScale", pd.scale}, {"dynamicZeroPoint", double(pd.zero_point)}}));
  }
#else
  (void)s;
#endif
  return r;
}

val analyze(uintptr_t ptr, double count, bool float32, const JsOptions& o) {
  release();
  auto opts = from_js(o);
  if (auto* e = std::get_if<qe::Error>(&opts)) return error_object(*e);
  const auto n = static_cast<size_t>(count);
  const auto& a = std::get<qe::AnalyzeOptions>(opts);
  const bool charts = a.per_sample && (o.chartBuckets > 0 || o.histogramBins > 0);
  const auto run = [&](const auto* x) {
#ifdef QE_CORE_MODULE
    auto r = qe::analyze_integer(x, n, a);
#else
    auto r = qe::analyze(x, n, a, &held.ggml);
#endif
    if (auto* e = std::get_if<qe::Error>(&r)) return error_object(*e);
    held.analysis = std::get<qe::Analysis>(std::move(r));
    if (charts) {
      const auto buckets = static_cast<size_t>(std::max(0, o.chartBuckets)),
                 bins = static_cast<size_t>(std::max(0, o.histogramBins));
      const bool uniform = a.scheme.format == qe::NumberFormat::Int;
#ifndef QE_CORE_MODULE
      if (held.analysis.non_finite.total())
        held.charts = qe::chart_data_finite(x, n, held.analysis, buckets, bins, uniform);
      else
#endif
        held.charts = qe::chart_data(x, n, held.analysis, buckets, bins, uniform);
    }
    return analysis_object(a.scheme, charts);
  };
  if (float32) return run(reinterpret_cast<const float*>(ptr));
  return run(reinterpret_cast<const double*>(ptr));
}

// Pasted text (its UTF-8 bytes at ptr, copied there by JS) → { ok, values, notes } (values: a view
// into the held values; notes: each note's code → its index, each code at most once) or
// { ok: false, error }.
val parse_values(uintptr_t ptr, double length) {
  release();
  auto r = qe::read_values(std::string_view(reinterpret_cast<const char*>(ptr), static_cast<size_t>(length)));
  if (auto* e = std::get_if<qe::Error>(&r)) return error_object(*e);
  auto& parsed = std::get<qe::ParsedValues>(r);
  held.values = std::move(parsed.values);
  val o = val::object(), notes = val::object();
  for (const qe::ParseNote& n : parsed.notes) notes.set(n.code, static_cast<double>(n.index));
  o.set("ok", true);
  o.set("values", view(held.values));
  o.set("notes", notes);
  return o;
}

#ifndef QE_CORE_MODULE
double read_floor(uintptr_t ptr, double count, bool float32) {
  const auto n = static_cast<size_t>(count);
  if (float32) return qe::read_floor(reinterpret_cast<const float*>(ptr), n, qe::Kernel::Auto);
  return qe::read_floor(reinterpret_cast<const double*>(ptr), n, qe::Kernel::Auto);
}
#endif

// Bytes the allocator holds for live objects: the leak check in the JS tests reads it. mallinfo's
// fields are int: read unsigned, for a heap above 2 GB (wasm32: at most 4 GB).
double heap_in_use() { return static_cast<double>(static_cast<uint32_t>(mallinfo().uordblks)); }

}  // namespace

#ifndef QE_CORE_MODULE
// Every code's value of an element format (at most 2^16 codes), for the format explorer: a view
// valid until the next call; JS copies it. Empty for formats that are not minifloats or are
// refused (the error says why).
std::vector<double> format_values_;
val describe_format(const JsOptions& o) {
  auto opts = from_js(o);
  if (auto* e = std::get_if<qe::Error>(&opts)) return error_object(*e);
  const qe::QuantScheme& s = std::get<qe::AnalyzeOptions>(opts).scheme;
  if (s.format == qe::NumberFormat::Custom)
    if (auto m = qe::check_minifloat(s.custom_format)) return error_object(qe::Error{"customFormat", -1, *m});
  if (s.profile == qe::Profile::Ggml || s.format == qe::NumberFormat::Ggml)
    if (auto e = qe::validate_format(s)) return error_object(*e);
  val out = val::object();
  out.set("ok", true);
  out.set("format", s.format == qe::NumberFormat::Ggml ? ggml_format_object(*s.ggml)
                                                       : format_object(describe(s.format, qe::element_format(s))));
  return out;
}
val format_values(const JsOptions& o) {
  format_values_.clear();
  auto opts = from_js(o);
  if (std::holds_alternative<qe::AnalyzeOptions>(opts)) {
    const qe::QuantScheme& s = std::get<qe::AnalyzeOptions>(opts).scheme;
    const qe::Minifloat& m = qe::element_format(s);
    if (s.format == qe::NumberFormat::Ggml) {  // what each code stands for, from code_min up
      for (int c = s.ggml->code_min; c <= s.ggml->code_max; ++c) format_values_.push_back(qe::ggml_code_value(*s.ggml, c));
    } else if (s.format == qe::NumberFormat::Nf4) {
      for (float v : qe::kNf4Levels) format_values_.push_back(v);
    } else if (s.format != qe::NumberFormat::Int && s.format != qe::NumberFormat::Mxint8 && !qe::check_minifloat(m)) {
      for (uint32_t c = 0; c < (1u << m.bits()); ++c) format_values_.push_back(m.decode(c));
    }
  }
  return val(typed_memory_view(format_values_.size(), format_values_.data()));
}

// A tensor analysed from chunks (stream.h): JS feeds the chunks twice, in order.
class StreamHandle {
 public:
  explicit StreamHandle(const JsOptions& o) {
    auto opts = from_js(o);
    if (auto* e = std::get_if<qe::Error>(&opts)) {
      error_ = *e;
      return;
    }
    scheme_ = std::get<qe::AnalyzeOptions>(opts).scheme;
    stream_.emplace(std::get<qe::AnalyzeOptions>(opts));
    if (auto e = stream_->check()) error_ = *e;
  }
  bool ok() const { return !error_; }
  val error() const { return error_ ? error_object(*error_)["error"] : val::undefined(); }
  bool add(uintptr_t ptr, double n, bool float32) {
    if (error_) return false;
    auto e = float32 ? stream_->add(reinterpret_cast<const float*>(ptr), static_cast<size_t>(n))
                     : stream_->add(reinterpret_cast<const double*>(ptr), static_cast<size_t>(n));
    if (e) error_ = *e;
    return !error_;
  }
  bool next() {
    if (error_) return false;
    if (auto e = stream_->next()) error_ = *e;
    return !error_;
  }
  bool done() const { return stream_ && stream_->done(); }
  std::string pass() const { return stream_ ? stream_->pass() : "done"; }
  int passes() const { return stream_ ? stream_->passes() : 0; }
  // The result as analyze() gives it (params, metrics, calibration; no per-sample arrays), held
  // until release().
  val finish() const {
    release();
    held.analysis = stream_->finish();
    return analysis_object(scheme_, false);
  }

 private:
  qe::QuantScheme scheme_;
  std::optional<qe::StreamAnalysis> stream_;
  std::optional<qe::Error> error_;
};

// Tensor files: the header bytes in, the tensors out ({ ok, error, tensors: [...] }, as JS
// objects). `kind` is "npy" or "safetensors"; `available` bytes at `ptr` are the file's first.
val read_tensor_header(std::string kind, uintptr_t ptr, double available, double file_size) {
  const auto* p = reinterpret_cast<const uint8_t*>(ptr);
  const auto n = static_cast<size_t>(available);
  const auto size = static_cast<uint64_t>(file_size);
  val out = val::object();
  std::vector<qe::TensorInfo> tensors;
  std::optional<qe::Error> error;
  double need = 0;
  if (kind == "npy") {
    auto r = qe::read_npy(p, n, size);
    if (auto* e = std::get_if<qe::Error>(&r)) error = *e;
    else tensors.push_back(std::get<qe::TensorInfo>(r));
  } else if (kind == "gguf") {
    auto r = qe::read_gguf(p, n, size);
    if (auto* e = std::get_if<qe::Error>(&r)) error = *e;
    else need = static_cast<double>(std::get<qe::GgufHeader>(r).need), tensors = std::get<qe::GgufHeader>(r).tensors;
  } else {
    auto r = qe::read_safetensors(p, n, size);
    if (auto* e = std::get_if<qe::Error>(&r)) error = *e;
    else tensors = std::get<std::vector<qe::TensorInfo>>(r);
  }
  out.set("ok", !error);
  out.set("need", need);
  out.set("error", error ? error->message : std::string());
  val list = val::array();
  for (const auto& t : tensors) {
    val o = val::object();
    o.set("name", t.name);
    o.set("dtype", std::string(qe::dtype_name(t)));
    o.set("fileDtype", t.file_dtype);
    o.set("bigEndian", t.big_endian);
    o.set("fortranOrder", t.fortran_order);
    val shape = val::array();
    for (int64_t d : t.shape) shape.call<void>("push", static_cast<double>(d));
    o.set("shape", shape);
    o.set("offset", static_cast<double>(t.offset));
    o.set("count", static_cast<double>(t.count));
    o.set("bytes", static_cast<double>(qe::tensor_bytes(t)));
    o.set("bitsPerWeight", t.count ? 8.0 * static_cast<double>(qe::tensor_bytes(t)) / static_cast<double>(t.count) : 0.0);
    o.set("skipped", t.skipped);
    list.call<void>("push", o);
  }
  out.set("tensors", list);
  if (kind == "gguf" && !error && need == 0) {
    // What a recipe reads: the architecture and the integers kept (tensor_files.h).
    auto r = qe::read_gguf(p, n, size);
    const qe::GgufHeader& h = std::get<qe::GgufHeader>(r);
    val meta = val::object();
    meta.set("architecture", h.architecture);
    val integers = val::object();
    for (const auto& [k, v] : h.integers) integers.set(k, static_cast<double>(v));
    meta.set("integers", integers);
    out.set("metadata", meta);
  }
  return out;
}

// ---- Whole GGUF models (gguf_model.h) --------------------------------------------------------

val metrics_object(const qe::Metrics& m);

// A tensor as tensorHeader lists it ({ name, dtype, fileDtype, shape, count, skipped, … }) back
// to the core's TensorInfo (offsets do not matter here: the bytes come from JS).
qe::TensorInfo tensor_from_js(const val& o) {
  qe::TensorInfo t;
  t.name = o["name"].as<std::string>();
  const std::string dtype = o["dtype"].as<std::string>();
  t.file_dtype = o["fileDtype"].isUndefined() ? dtype : o["fileDtype"].as<std::string>();
  t.skipped = o["skipped"].isUndefined() || o["skipped"].isNull() ? "" : o["skipped"].as<std::string>();
  t.big_endian = !o["bigEndian"].isUndefined() && o["bigEndian"].as<bool>();
  t.fortran_order = !o["fortranOrder"].isUndefined() && o["fortranOrder"].as<bool>();
  const val shape = o["shape"];
  const unsigned rank = shape["length"].as<unsigned>();
  for (unsigned k = 0; k < rank; ++k) t.shape.push_back(static_cast<int64_t>(shape[k].as<double>()));
  t.count = static_cast<uint64_t>(o["count"].as<double>());
  static const std::pair<const char*, qe::DType> names[] = {{"float64", qe::DType::F64}, {"float32", qe::DType::F32}, {"float16", qe::DType::F16},
                                                            {"bfloat16", qe::DType::BF16}, {"int8", qe::DType::I8}, {"uint8", qe::DType::U8},
                                                            {"int16", qe::DType::I16}, {"int32", qe::DType::I32}};
  for (const auto& [name, d] : names)
    if (dtype == name) t.dtype = d;
  if (t.dtype == qe::DType::Unsupported && (t.ggml = qe::ggml_type_by_name(dtype))) t.dtype = qe::DType::Ggml;
  if (t.dtype == qe::DType::Unsupported && t.skipped.empty()) t.skipped = "dtype " + dtype + " is not read";
  return t;
}

std::vector<qe::TensorInfo> tensors_from_js(const val& list) {
  std::vector<qe::TensorInfo> out;
  const unsigned n = list["length"].as<unsigned>();
  for (unsigned i = 0; i < n; ++i) out.push_back(tensor_from_js(list[i]));
  return out;
}

qe::Imatrix held_imatrix;

// An imatrix file's bytes: { ok, format, chunks, dataset, entries: [{ name, matrices, calls,
// importance }] } (views into the held imatrix, copied by JS) or { ok: false, error }.
val read_imatrix(uintptr_t ptr, double bytes) {
  auto r = qe::read_imatrix(reinterpret_cast<const uint8_t*>(ptr), static_cast<size_t>(bytes));
  if (auto* e = std::get_if<qe::Error>(&r)) return error_object(*e);
  held_imatrix = std::get<qe::Imatrix>(std::move(r));
  val o = val::object();
  o.set("ok", true);
  o.set("format", held_imatrix.format);
  o.set("chunks", static_cast<double>(held_imatrix.chunks));
  o.set("dataset", held_imatrix.dataset);
  val entries = val::array();
  for (const qe::ImatrixEntry& e : held_imatrix.entries) {
    val x = val::object();
    x.set("name", e.name);
    x.set("matrices", static_cast<double>(e.matrices));
    x.set("calls", static_cast<double>(e.calls));
    x.set("importance", view(e.importance));
    entries.call<void>("push", x);
  }
  o.set("entries", entries);
  return o;
}

void release_imatrix() { held_imatrix = qe::Imatrix{}; }

// Two files' tensors matched by name: { pairs: [{ original, quantized, error }], onlyOriginal, onlyQuantized }.
val match_tensors(const val& a, const val& b) {
  const qe::FileMatch m = qe::match_tensors(tensors_from_js(a), tensors_from_js(b));
  val o = val::object();
  val pairs = val::array();
  for (const qe::TensorPair& p : m.pairs) {
    val x = val::object();
    x.set("original", static_cast<double>(p.original));
    x.set("quantized", static_cast<double>(p.quantized));
    x.set("error", p.error.empty() ? val::null() : val(p.error));
    pairs.call<void>("push", x);
  }
  o.set("pairs", pairs);
  val oa = val::array(), ob = val::array();
  for (const auto& n : m.only_original) oa.call<void>("push", n);
  for (const auto& n : m.only_quantized) ob.call<void>("push", n);
  o.set("onlyOriginal", oa);
  o.set("onlyQuantized", ob);
  return o;
}

// One pair compared in chunks of rows (TensorComparison): the importance is copied in.
class ComparisonHandle {
 public:
  ComparisonHandle(const val& original, const val& quantized, uintptr_t importance, double count)
      : original_(tensor_from_js(original)), quantized_(tensor_from_js(quantized)) {
    if (count >= 0) {
      const auto* w = reinterpret_cast<const float*>(importance);
      weights_.assign(w, w + static_cast<size_t>(count));
    }
    size_t matrices = 1;
    for (size_t d = 0; d + 2 < original_.shape.size(); ++d) matrices *= static_cast<size_t>(original_.shape[d]);
    const qe::ImportanceView view{count >= 0 ? weights_.data() : nullptr, weights_.size(), matrices};
    c_.emplace(original_, quantized_, view);
    if (auto e = c_->check()) error_ = *e;
  }
  bool ok() const { return !error_; }
  val error() const { return error_ ? error_object(*error_)["error"] : val::undefined(); }
  double rows() const { return static_cast<double>(c_->rows()); }
  double row_values() const { return static_cast<double>(c_->row_values()); }
  double original_row_bytes() const { return static_cast<double>(c_->original_row_bytes()); }
  double quantized_row_bytes() const { return static_cast<double>(c_->quantized_row_bytes()); }
  bool add(uintptr_t a, uintptr_t b, double n) {
    if (error_) return false;
    if (auto e = c_->add(reinterpret_cast<const uint8_t*>(a), reinterpret_cast<const uint8_t*>(b), static_cast<uint64_t>(n))) error_ = *e;
    return !error_;
  }
  void next() { c_->next(); }
  bool done() const { return c_->done(); }
  int passes() const { return c_->passes(); }
  val finish() const {
    const qe::TensorComparisonResult r = c_->finish();
    val o = val::object();
    val m = metrics_object(r.metrics);
    m.set("medianAbsError", r.metrics.median_abs_error);
    m.set("p95AbsError", r.metrics.p95_abs_error);
    m.set("weightedMse", r.weighted_mse);
    m.set("weightedSqnrDb", r.weighted_sqnr_db);
    o.set("metrics", m);
    o.set("sumSquares", r.sum_x2);
    o.set("maxAbsValue", r.max_abs_x);
    val q = val::object();
    q.set("unit", std::string(r.unit));
    q.set("compared", static_cast<double>(r.units));
    q.set("differing", static_cast<double>(r.units_differing));
    q.set("firstDiffering", static_cast<double>(r.first_differing));
    q.set("withImportance", r.requantized_with_importance);
    o.set("requantized", q);
    return o;
  }

 private:
  qe::TensorInfo original_, quantized_;
  std::vector<float> weights_;
  std::optional<qe::TensorComparison> c_;
  std::optional<qe::Error> error_;
};

// llama-quantize's types for a file's tensors: [{ type, float16, kept, note, error }].
val recipe_types(const std::string& name, const val& tensors, const val& metadata, bool has_imatrix) {
  const auto recipe = qe::parse_recipe(name);
  if (!recipe) return error_object(qe::Error{"recipe", -1, "Unknown recipe \"" + name + "\": q4_k_m, q5_k_m, q6_k, q8_0, q4_0 or iq4_xs"});
  qe::GgufHeader h;
  h.tensors = tensors_from_js(tensors);
  if (!metadata.isUndefined() && !metadata.isNull()) {
    if (!metadata["architecture"].isUndefined()) h.architecture = metadata["architecture"].as<std::string>();
    const val integers = metadata["integers"];
    if (!integers.isUndefined() && !integers.isNull()) {
      const val keys = val::global("Object").call<val>("keys", integers);
      const unsigned n = keys["length"].as<unsigned>();
      for (unsigned i = 0; i < n; ++i) {
        const std::string k = keys[i].as<std::string>();
        h.integers.emplace_back(k, static_cast<int64_t>(integers[k].as<double>()));
      }
    }
  }
  const qe::ModelFacts f = qe::model_facts(h);
  const auto choices = qe::recipe_types(*recipe, h.tensors, f, has_imatrix);
  val out = val::object();
  out.set("ok", true);
  out.set("recipe", std::string(qe::recipe_name(*recipe)));
  val facts = val::object();
  facts.set("architecture", f.architecture);
  facts.set("layers", static_cast<double>(f.layers));
  facts.set("experts", static_cast<double>(f.experts));
  facts.set("gqa", static_cast<double>(f.gqa));
  out.set("facts", facts);
  val list = val::array();
  for (const qe::RecipeChoice& c : choices) {
    val x = val::object();
    x.set("type", c.type ? val(std::string(c.type->name)) : c.float16 ? val(std::string("float16")) : val::null());
    x.set("kept", c.kept.empty() ? val::null() : val(c.kept));
    x.set("note", c.note.empty() ? val::null() : val(c.note));
    x.set("error", c.error.empty() ? val::null() : val(c.error));
    list.call<void>("push", x);
  }
  out.set("tensors", list);
  return out;
}

// ggml's dequantization of whole blocks of one of its types (a GGUF tensor's data, or a chunk of
// it): { ok, values } (a view into the held floats) or { ok: false, error }.
val dequantize_ggml(const std::string& type, uintptr_t ptr, double bytes) {
  release();
  const qe::GgmlTypeInfo* t = qe::ggml_type_by_name(type);
  if (!t) return error_object(qe::Error{"type", -1, "Unknown ggml type \"" + type + "\""});
  const auto n = static_cast<size_t>(bytes), size = static_cast<size_t>(t->bytes);
  if (n % size != 0)
    return error_object(qe::Error{"bytes", -1, std::to_string(n) + " bytes are not whole " + t->ggml_name + " blocks of " +
                                                   std::to_string(size) + " bytes"});
  held.dequantized.resize(n / size * static_cast<size_t>(t->block));
  qe::ggml_dequantize(*t, reinterpret_cast<const uint8_t*>(ptr), n / size, held.dequantized.data());
  val o = val::object();
  o.set("ok", true);
  o.set("values", view(held.dequantized));
  return o;
}

// How many leading bytes the header needs, once the first `available` are in (0: an error).
double tensor_header_bytes(std::string kind, uintptr_t ptr, double available, double file_size) {
  const auto* p = reinterpret_cast<const uint8_t*>(ptr);
  if (kind == "gguf") return available;  // read_tensor_header says when it needs more
  if (kind == "npy") {
    auto r = qe::npy_header_bytes(p, static_cast<size_t>(available));
    return std::holds_alternative<uint64_t>(r) ? static_cast<double>(std::get<uint64_t>(r)) : 0;
  }
  auto r = qe::safetensors_header_bytes(p, static_cast<size_t>(available), static_cast<uint64_t>(file_size));
  return std::holds_alternative<uint64_t>(r) ? static_cast<double>(std::get<uint64_t>(r)) : 0;
}


// ---- Through a layer ------------------------------------------------------------------------------
// The options as qz.layer() normalized them (web/src/quantizer.js): { weightShape, activationShape
// (arrays), weightScheme, activationScheme (Options objects, or null for a float side),
// accumulator (null or a name), overflow, output (null, or { scale, zeroPoint, dtype } with null
// for what is derived), profile, kernel, maxDifferences, next (null, or { weightShape, activation,
// and the same per-layer fields }) }.

std::vector<int64_t> shape_of(const val& v) {
  std::vector<int64_t> shape;
  const auto n = v["length"].as<unsigned>();
  for (unsigned i = 0; i < n; ++i) shape.push_back(static_cast<int64_t>(v[i].as<double>()));
  return shape;
}

bool present(const val& v) { return !v.isNull() && !v.isUndefined(); }

std::variant<qe::LayerOptions, qe::Error> layer_options(const val& o, const std::string& at) {
  qe::LayerOptions l;
  for (const char* side : {"weightScheme", "activationScheme"}) {
    const val v = o[side];
    if (!present(v)) continue;
    auto a = from_js(v.as<JsOptions>());
    if (auto* e = std::get_if<qe::Error>(&a)) return qe::Error{at + side + "." + e->field, e->index, e->message};
    (std::string(side) == "weightScheme" ? l.weight_scheme : l.activation_scheme) = std::get<qe::AnalyzeOptions>(a).scheme;
  }
  if (present(o["accumulator"])) {
    const auto name = o["accumulator"].as<std::string>();
    auto acc = qe::parse_accumulator(name);
    if (!acc || *acc == qe::Accumulator::Double)
      return qe::Error{at + "accumulator", -1, "Unknown accumulator \"" + name + "\" (use int32, int16 or float32)"};
    l.accumulator = acc;
  }
  const auto overflow = o["overflow"].as<std::string>();
  if (overflow == "saturate") l.overflow = qe::AccumulatorOverflow::Saturate;
  else if (overflow != "wrap") return qe::Error{at + "overflow", -1, "Unknown overflow \"" + overflow + "\" (use wrap or saturate)"};
  const val out = o["output"];
  if (present(out)) {
    l.output.enabled = true;
    if (present(out["scale"])) l.output.scale = out["scale"].as<double>();
    if (present(out["zeroPoint"])) l.output.zero_point = out["zeroPoint"].as<int>();
    const auto dtype = out["dtype"].as<std::string>();
    if (dtype == "uint8") l.output.dtype = qe::QDtype::UInt8;
    else if (dtype != "int8") return qe::Error{at + "output.dtype", -1, "Unknown output dtype \"" + dtype + "\" (use int8 or uint8)"};
  }
  const auto profile = o["profile"].as<std::string>();
  auto p = qe::parse_layer_profile(profile);
  if (!p) return qe::Error{at + "profile", -1, "Unknown profile \"" + profile + "\" (use formula, onnx or tflite)"};
  l.profile = *p;
  const auto kernel = o["kernel"].as<std::string>();
  if (kernel == "scalar") l.kernel = qe::Kernel::Scalar;
  else if (kernel == "simd") l.kernel = qe::Kernel::Simd;
  else if (kernel != "auto") return qe::Error{at + "kernel", -1, "Unknown kernel \"" + kernel + "\" (use auto, scalar or simd)"};
  l.max_differences = static_cast<size_t>(o["maxDifferences"].as<double>());
  return l;
}

// The last layer result, kept until JS has copied its arrays and calls release().
struct LayerHeld {
  qe::LayerResult layer;
  qe::ChainResult chain;
  std::vector<double> columns[4];
};
LayerHeld layer_held;

val metrics_object(const qe::Metrics& m) {
  return object({{"count", double(m.count)}, {"mse", m.mse}, {"rmse", m.rmse}, {"mae", m.mae}, {"maxAbsError", m.max_abs_error},
                 {"maxAbsErrorIndex", double(m.max_abs_error_index)}, {"meanError", m.mean_error}, {"errorStd", m.error_std},
                 {"sqnrDb", m.sqnr_db}, {"psnrDb", m.psnr_db}, {"cosine", m.cosine}, {"clipCount", double(m.clip_count)},
                 {"clipRate", m.clip_rate}});
}

val limit_object(const qe::AccumulatorLimit& l) {
  return object({{"min", double(l.min)}, {"max", double(l.max)}, {"wrapped", double(l.wrapped)},
                 {"saturated", l.saturated ? double(*l.saturated) : NAN}, {"excursions", l.measured ? double(l.excursions) : NAN},
                 {"wrapSqnrDb", l.wrap_sqnr_db}, {"saturateSqnrDb", l.saturate_sqnr_db}});
}

val reasons_array(uint8_t bits) {
  val a = val::array();
  const std::pair<uint8_t, const char*> names[] = {{qe::kReasonTie, "tie"}, {qe::kReasonMultiplier, "multiplier"},
                                                   {qe::kReasonDoubleRounding, "double-rounding"}, {qe::kReasonFloat32, "float32"},
                                                   {qe::kReasonDouble, "double"}};
  for (const auto& [bit, name] : names)
    if (bits & bit) a.call<void>("push", std::string(name));
  return a;
}

val layer_object(const qe::LayerResult& r, const qe::LayerOptions& o, std::vector<double>* columns) {
  val out = object({{"tokens", double(r.tokens)}, {"in", double(r.in)}, {"out", double(r.out)}, {"relativeFrobenius", r.relative_frobenius}});
  out.set("weights", r.weights.quantized ? analysis_object(*o.weight_scheme, false, r.weights.analysis, columns[0]) : val::null());
  out.set("activations",
          r.activations.quantized ? analysis_object(*o.activation_scheme, false, r.activations.analysis, columns[1]) : val::null());
  out.set("accumulatorType", std::string(qe::to_string(r.accumulator)));
  out.set("reference", view(r.reference));
  out.set("quantized", view(r.quantized));
  out.set("metrics", metrics_object(r.metrics));
  out.set("channelSqnr", view(r.channel_sqnr_db));
  out.set("tokenSqnr", view(r.token_sqnr_db));
  const qe::LayerParts& p = r.parts;
  out.set("parts", object({{"signal", p.signal}, {"weights", p.weights}, {"activations", p.activations}, {"interaction", p.interaction},
                           {"predictedWeights", p.predicted_weights}, {"predictedActivations", p.predicted_activations},
                           {"predictedInteraction", p.predicted_interaction}, {"simulated", p.simulated}, {"accumulator", p.accumulator}}));
  if (r.accumulator_report) {
    const qe::AccumulatorReport& a = *r.accumulator_report;
    val acc = object({{"block", double(a.block)}, {"productMax", double(a.product_max)}, {"bound", a.bound}, {"dataBound", a.data_bound},
                      {"maxAbs", double(a.max_abs)}, {"maxAbsIndex", double(a.max_abs_index)}, {"pairSaturated", double(a.pair_saturated)}});
    acc.set("int16", limit_object(a.int16));
    acc.set("int32", limit_object(a.int32));
    acc.set("sums", view(a.sums));
    acc.set("pairsApply", a.pairs_apply);
    acc.set("pairSums", view(a.pair_sums));
    out.set("accumulator", acc);
  } else {
    out.set("accumulator", val::null());
  }
  if (r.requantization) {
    const qe::Requantization& q = *r.requantization;
    val rq = object({{"scale", q.scale}, {"zeroPoint", double(q.zero_point)}, {"qmin", double(q.qmin)}, {"qmax", double(q.qmax)},
                     {"clipped", double(q.clipped)}, {"formulaDiffers", double(q.formula_differs)}, {"onnxDiffers", double(q.onnx_differs)},
                     {"tfliteDiffers", double(q.tflite_differs)}, {"qdqDiffers", double(q.qdq_differs)}, {"ties", double(q.ties)},
                     {"multiplierReasons", double(q.multiplier_reasons)}, {"doubleRoundings", double(q.double_roundings)},
                     {"float32Reasons", double(q.float32_reasons)}, {"doubleReasons", double(q.double_reasons)}});
    rq.set("profile", std::string(qe::to_string(q.profile)));
    rq.set("derived", q.derived);
    rq.set("realMultiplier", view(q.real_multiplier));
    rq.set("multiplier", view(q.multiplier));
    rq.set("shift", view(q.shift));
    rq.set("onnxMultiplier", view(q.onnx_multiplier));
    rq.set("exact", view(q.exact));
    rq.set("formula", view(q.formula));
    rq.set("onnx", view(q.onnx));
    rq.set("tflite", view(q.tflite));
    rq.set("qdq", view(q.qdq));
    rq.set("metrics", metrics_object(q.metrics));
    val list = val::array();
    for (const qe::RequantDifference& d : q.differences) {
      val e = object({{"token", double(d.token)}, {"channel", double(d.channel)}, {"acc", double(d.acc)}, {"value", d.value},
                      {"exact", double(d.exact)}, {"formula", double(d.formula)}, {"onnx", double(d.onnx)}, {"tflite", double(d.tflite)},
                      {"qdq", double(d.qdq)}});
      e.set("reasons", reasons_array(d.reasons));
      list.call<void>("push", e);
    }
    rq.set("differences", list);
    out.set("requantization", rq);
  } else {
    out.set("requantization", val::null());
  }
  return out;
}

qe::LayerTensor tensor_at(uintptr_t ptr, double count, bool float32, std::vector<int64_t> shape) {
  qe::LayerTensor t;
  if (float32) t.f32 = reinterpret_cast<const float*>(ptr);
  else t.f64 = reinterpret_cast<const double*>(ptr);
  t.count = static_cast<size_t>(count);
  t.shape = std::move(shape);
  return t;
}

// W, X (and layer 2's W) in the heap → { ok, ...the layer, next } or { ok: false, error }.
val layer(uintptr_t w, double wn, bool w32, uintptr_t x, double xn, bool x32, uintptr_t w2, double w2n, bool w232, const val& o) {
  release();
  auto first = layer_options(o, "");
  if (auto* e = std::get_if<qe::Error>(&first)) return error_object(*e);
  const qe::LayerOptions& l1 = std::get<qe::LayerOptions>(first);
  const qe::LayerTensor W = tensor_at(w, wn, w32, shape_of(o["weightShape"]));
  const qe::LayerTensor X = tensor_at(x, xn, x32, shape_of(o["activationShape"]));
  const val next = o["next"];
  if (!present(next)) {
    auto r = qe::analyze_layer(W, X, l1);
    if (auto* e = std::get_if<qe::Error>(&r)) return error_object(*e);
    layer_held.layer = std::get<qe::LayerResult>(std::move(r));
    val out = layer_object(layer_held.layer, l1, layer_held.columns);
    out.set("ok", true);
    out.set("next", val::null());
    return out;
  }
  auto second = layer_options(next, "next.");
  if (auto* e = std::get_if<qe::Error>(&second)) return error_object(*e);
  const qe::LayerOptions& l2 = std::get<qe::LayerOptions>(second);
  const auto f = qe::parse_activation(next["activation"].as<std::string>());
  if (!f) return error_object(qe::Error{"next.activation", -1, "Unknown activation \"" + next["activation"].as<std::string>() + "\" (use relu, gelu or silu)"});
  auto r = qe::analyze_chain(W, X, l1, tensor_at(w2, w2n, w232, shape_of(next["weightShape"])), *f, l2);
  if (auto* e = std::get_if<qe::Error>(&r)) return error_object(*e);
  layer_held.chain = std::get<qe::ChainResult>(std::move(r));
  const qe::ChainResult& c = layer_held.chain;
  val out = layer_object(c.first, l1, layer_held.columns);
  out.set("ok", true);
  val n = object({{"propagatedEnergy", c.propagated_energy}, {"localEnergy", c.local_energy}, {"totalEnergy", c.total_energy},
                  {"propagatedSqnrDb", c.propagated_sqnr_db}, {"localSqnrDb", c.local_sqnr_db}});
  n.set("activation", std::string(qe::to_string(c.activation)));
  n.set("layer", layer_object(c.second, l2, layer_held.columns + 2));
  out.set("next", n);
  return out;
}

// TFLite's QuantizeMultiplier of one real multiplier: { multiplier, shift }.
val js_quantize_multiplier(double m) {
  const qe::FixedPointMultiplier f = qe::quantize_multiplier(m);
  return object({{"multiplier", double(f.multiplier)}, {"shift", double(f.shift)}});
}

// TFLite's MultiplyByQuantizedMultiplier of one int32 sum.
double js_multiply_by_quantized_multiplier(double acc, double multiplier, double shift) {
  return qe::multiply_by_quantized_multiplier(static_cast<int32_t>(acc), qe::FixedPointMultiplier{static_cast<int32_t>(multiplier), static_cast<int>(shift)});
}

#endif
namespace {
void release() {
  held = Held{};
#ifndef QE_CORE_MODULE
  layer_held = LayerHeld{};
#endif
}
}  // namespace

EMSCRIPTEN_BINDINGS(quant_core) {
  value_object<JsOptions>("Options")
      .field("bits", &JsOptions::bits)
      .field("mode", &JsOptions::mode)
      .field("rounding", &JsOptions::rounding)
      .field("seed", &JsOptions::seed)
      .field("hasRange", &JsOptions::hasRange)
      .field("rangeMin", &JsOptions::rangeMin)
      .field("rangeMax", &JsOptions::rangeMax)
      .field("hasQmin", &JsOptions::hasQmin)
      .field("qmin", &JsOptions::qmin)
      .field("hasQmax", &JsOptions::hasQmax)
      .field("qmax", &JsOptions::qmax)
      .field("hasScale", &JsOptions::hasScale)
      .field("scale", &JsOptions::scale)
      .field("hasZeroPoint", &JsOptions::hasZeroPoint)
      .field("zeroPoint", &JsOptions::zeroPoint)
      .field("arithmetic", &JsOptions::arithmetic)
      .field("perSample", &JsOptions::perSample)
      .field("kernel", &JsOptions::kernel)
      .field("calibration", &JsOptions::calibration)
      .field("percentile", &JsOptions::percentile)
      .field("granularity", &JsOptions::granularity)
      .field("shape", &JsOptions::shape)
      .field("axis", &JsOptions::axis)
      .field("groupSize", &JsOptions::groupSize)
      .field("format", &JsOptions::format)
#ifndef QE_CORE_MODULE
      .field("overflow", &JsOptions::overflow)
      .field("formatScale", &JsOptions::formatScale)
      .field("customExponentBits", &JsOptions::customExponentBits)
      .field("customMantissaBits", &JsOptions::customMantissaBits)
      .field("customBias", &JsOptions::customBias)
      .field("customSpecials", &JsOptions::customSpecials)
      .field("profile", &JsOptions::profile)
      .field("dtype", &JsOptions::dtype)
      .field("reduceRange", &JsOptions::reduceRange)
      .field("importancePtr", &JsOptions::importancePtr)
      .field("importanceCount", &JsOptions::importanceCount)
      .field("nonFinite", &JsOptions::nonFinite)
      .field("mxScale", &JsOptions::mxScale)
      .field("onnxOp", &JsOptions::onnxOp)
      .field("scalesPtr", &JsOptions::scalesPtr)
      .field("scalesCount", &JsOptions::scalesCount)
      .field("zeroPointsPtr", &JsOptions::zeroPointsPtr)
      .field("zeroPointsCount", &JsOptions::zeroPointsCount)
#endif
      .field("chartBuckets", &JsOptions::chartBuckets)
      .field("histogramBins", &JsOptions::histogramBins);
#ifndef QE_CORE_MODULE
  class_<StreamHandle>("Stream")
      .constructor<const JsOptions&>()
      .function("ok", &StreamHandle::ok)
      .function("error", &StreamHandle::error)
      .function("add", &StreamHandle::add)
      .function("next", &StreamHandle::next)
      .function("done", &StreamHandle::done)
      .function("pass", &StreamHandle::pass)
      .function("passes", &StreamHandle::passes)
      .function("finish", &StreamHandle::finish);
  function("describeFormat", &describe_format);
  function("readTensorHeader", &read_tensor_header);
  function("tensorHeaderBytes", &tensor_header_bytes);
  function("dequantizeGgml", &dequantize_ggml);
  function("readImatrix", &read_imatrix);
  function("releaseImatrix", &release_imatrix);
  function("matchTensors", &match_tensors);
  function("recipeTypes", &recipe_types);
  class_<ComparisonHandle>("TensorComparison")
      .constructor<const val&, const val&, uintptr_t, double>()
      .function("ok", &ComparisonHandle::ok)
      .function("error", &ComparisonHandle::error)
      .function("rows", &ComparisonHandle::rows)
      .function("rowValues", &ComparisonHandle::row_values)
      .function("originalRowBytes", &ComparisonHandle::original_row_bytes)
      .function("quantizedRowBytes", &ComparisonHandle::quantized_row_bytes)
      .function("add", &ComparisonHandle::add)
      .function("next", &ComparisonHandle::next)
      .function("done", &ComparisonHandle::done)
      .function("passes", &ComparisonHandle::passes)
      .function("finish", &ComparisonHandle::finish);
  function("formatValues", &format_values);
  function("layer", &layer);
  function("quantizeMultiplier", &js_quantize_multiplier);
  function("multiplyByQuantizedMultiplier", &js_multiply_by_quantized_multiplier);
#endif
  function("analyze", &analyze);
  function("parseValues", &parse_values);
  function("release", &release);
  function("heapInUse", &heap_in_use);
#ifndef QE_CORE_MODULE
  function("readFloor", &read_floor);  // the benchmark's memory floor
#endif
  function("simdAvailable", &qe::simd_available);
}
