// Quantization scheme (what the user chose) and quantization parameters (what follows from it).
//
// The real-value equation, as in seed 004:
//   scaled = x / scale + zero_point
//   q      = clamp(round(scaled), q_min, q_max)
//   x_hat  = (q - zero_point) * scale
//   error  = x - x_hat
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats.h"
#include "gguf_quants.h"

namespace qe {

enum class Mode {
  Symmetric,           // q in [-(2^(b-1)-1), 2^(b-1)-1], zero_point = 0 (restricted, zero-centred)
  Asymmetric,          // q in [-2^(b-1), 2^(b-1)-1]
  AsymmetricUnsigned,  // q in [0, 2^b-1]
};

// How the quantizer maps `scaled` to an integer; see rounding.h for each rule's definition.
enum class Rounding { HalfEven, HalfAway, HalfUp, Floor, Ceil, TowardZero, Stochastic };

// How the range is chosen when none is given; see calibrate.h.
enum class Calibration { MinMax, Percentile, Mse, Entropy };

// Whose conventions make the parameters and codes: the seed's formulas, or a runtime's, bit for
// bit (profiles.h); Ggml: llama.cpp's (gguf_quants.h), which also selects ggml's MXFP4 and NVFP4.
enum class Profile { Formula, PyTorch, Onnx, Ggml };

// A runtime's integer type (profiles): PyTorch qint8/quint8; ONNX int8/uint8/int4/uint4/int16/uint16.
enum class QDtype { Int8, UInt8, Int4, UInt4, Int16, UInt16 };

// One scale and zero point for the whole tensor, per channel (the index along `axis` of
// `shape`), or per group of `group_size` consecutive values along the last axis.
enum class Granularity { Tensor, Channel, Group };

// The precision of x / scale, the rounding and x_hat. Parameters are always derived in float64
// and sums are always accumulated in double, whichever is chosen.
enum class Arithmetic { Float64, Float32 };

struct Range {
  double min = 0;
  double max = 0;
};

struct QuantScheme {
  int bits = 8;
  Mode mode = Mode::Symmetric;
  Rounding rounding = Rounding::HalfEven;
  uint64_t seed = 0;            // stochastic rounding only
  std::optional<Range> range;   // absent: chosen by `calibration` from the samples
  Calibration calibration = Calibration::MinMax;
  double percentile = 99.99;  // Calibration::Percentile (and a candidate of Mse), in (50, 100]
  std::optional<int32_t> qmin;  // override of the mode's code range
  std::optional<int32_t> qmax;
  std::optional<double> scale;  // a deployed model's parameters, used as given
  std::optional<int32_t> zero_point;
  // A deployed model's parameters per channel or group (GivenParams), or null. The whole core's
  // analyze() takes them (not analyze_integer, nor the stream).
  const struct GivenParams* given = nullptr;
  const double* scales() const;
  const int32_t* zero_points() const;
  Arithmetic arithmetic = Arithmetic::Float64;
  Granularity granularity = Granularity::Tensor;
  std::vector<int64_t> shape;  // row-major; empty: one axis holding every sample
  int axis = 0;                // Granularity::Channel; negative counts from the end
  int64_t group_size = 0;      // Granularity::Group
  // Another number format than the integers above (formats.h): the value's code in that format,
  // x_hat its value. Element formats divide by `scale` first when one is given, or by
  // amax / (the format's largest value) with FormatScale::Amax; block formats scale each block.
  Profile profile = Profile::Formula;
  QDtype dtype = QDtype::Int8;  // profiles only
  bool reduce_range = false;    // profiles only
  MxScale mx_scale = MxScale::Floor;
  // Profile::Onnx: the parameters of ONNX Runtime's DynamicQuantizeLinear op (float32, uint8)
  // instead of onnxruntime.quantization's compute_scale_zp (float64) before QuantizeLinear.
  bool onnx_dynamic = false;  // the OCP MX formats: how each block's E8M0 scale is rounded (formats.h)
  NumberFormat format = NumberFormat::Int;
  Minifloat custom_format;  // NumberFormat::Custom
  Overflow overflow = Overflow::Saturate;
  enum class FormatScale { None, Amax } format_scale = FormatScale::None;
  const GgmlTypeInfo* ggml = nullptr;  // NumberFormat::Ggml: which of ggml's block types (select_ggml_format)
};

// Given per channel or group (Granularity::Channel or Group), used as given: `scale_count` scales
// and `zero_point_count` zero points, one per channel (in index order along `axis`) or per group
// (in sample order); either may be null. The caller keeps the arrays.
struct GivenParams {
  const double* scales = nullptr;
  size_t scale_count = 0;
  const int32_t* zero_points = nullptr;
  size_t zero_point_count = 0;
};
inline const double* QuantScheme::scales() const { return given ? given->scales : nullptr; }
inline const int32_t* QuantScheme::zero_points() const { return given ? given->zero_points : nullptr; }

// real = scale * (q - zero_point), for q in [qmin, qmax].
struct QuantParams {
  double scale = 1;
  int32_t zero_point = 0;
  int32_t qmin = 0;
  int32_t qmax = 0;
  double range_min = 0;  // the range the parameters were derived from (after the degenerate rule)
  double range_max = 0;
};

// An error that the boundary turns into a thrown JS Error. `field` uses the JS option names
// ("bits", "range.min", "values", ...); `index` is the 0-based sample index, or -1.
struct Error {
  std::string field;
  int64_t index = -1;
  std::string message;
};

const char* to_string(Mode m);
const char* to_string(Rounding r);
const char* to_string(Arithmetic a);
const char* to_string(Calibration c);
const char* to_string(Granularity g);
const char* to_string(Profile p);
const char* to_string(QDtype d);
std::optional<Profile> parse_profile(const std::string& s);
std::optional<QDtype> parse_dtype(const std::string& s);
std::optional<Mode> parse_mode(const std::string& s);
std::optional<Rounding> parse_rounding(const std::string& s);
std::optional<Arithmetic> parse_arithmetic(const std::string& s);
std::optional<Calibration> parse_calibration(const std::string& s);
std::optional<Granularity> parse_granularity(const std::string& s);

// The code range of a mode at a bit depth, before any qmin/qmax override.
void mode_code_range(Mode mode, int bits, int32_t& qmin, int32_t& qmax);

}  // namespace qe
