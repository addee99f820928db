#include "scheme.h"

namespace qe {

const char* to_string(Mode m) {
  switch (m) {
    case Mode::Symmetric:
      return "symmetric";
    case Mode::Asymmetric:
      return "asymmetric";
    case Mode::AsymmetricUnsigned:
      return "asymmetric-unsigned";
  }
  return "";
}
const char* to_string(Rounding r) {
  switch (r) {
    case Rounding::HalfEven:
      return "half-even";
    case Rounding::HalfAway:
      return "half-away";
    case Rounding::HalfUp:
      return "half-up";
    case Rounding::Floor:
      return "floor";
    case Rounding::Ceil:
      return "ceil";
    case Rounding::TowardZero:
      return "toward-zero";
    case Rounding::Stochastic:
      return "stochastic";
  }
  return "";
}
const char* to_string(Arithmetic a) { return a == Arithmetic::Float32 ? "float32" : "float64"; }

const char* to_string(Calibration c) {
  switch (c) {
    case Calibration::MinMax: return "minmax";
    case Calibration::Percentile: return "percentile";
    case Calibration::Mse: return "mse";
    case Calibration::Entropy: return "entropy";
  }
  return "";
}

std::optional<Calibration> parse_calibration(const std::string& s) {
  for (Calibration c : {Calibration::MinMax, Calibration::Percentile, Calibration::Mse, Calibration::Entropy})
    if (s == to_string(c)) return c;
  return std::nullopt;
}

const char* to_string(Granularity g) {
  switch (g) {
    case Granularity::Tensor: return "tensor";
    case Granularity::Channel: return "channel";
    case Granularity::Group: return "group";
  }
  return "";
}

std::optional<Granularity> parse_granularity(const std::string& s) {
  for (Granularity g : {Granularity::Tensor, Granularity::Channel, Granularity::Group})
    if (s == to_string(g)) return g;
  return std::nullopt;
}

std::optional<Mode> parse_mode(const std::string& s) {
  for (Mode m : {Mode::Symmetric, Mode::Asymmetric, Mode::AsymmetricUnsigned})
    if (s == to_string(m)) return m;
  return std::nullopt;
}
std::optional<Rounding> parse_rounding(const std::string& s) {
  for (Rounding r : {Rounding::HalfEven, Rounding::HalfAway, Rounding::HalfUp, Rounding::Floor, Rounding::Ceil,
                     Rounding::TowardZero, Rounding::Stochastic})
    if (s == to_string(r)) return r;
  return std::nullopt;
}
std::optional<Arithmetic> parse_arithmetic(const std::string& s) {
  if (s == "float64") return Arithmetic::Float64;
  if (s == "float32") return Arithmetic::Float32;
  return std::nullopt;
}

void mode_code_range(Mode mode, int bits, int32_t& qmin, int32_t& qmax) {
  const int32_t half = int32_t{1} << (bits - 1);
  switch (mode) {
    case Mode::Symmetric:
      qmin = -(half - 1), qmax = half - 1;
      break;
    case Mode::Asymmetric:
      qmin = -half, qmax = half - 1;
      break;
    case Mode::AsymmetricUnsigned:
      qmin = 0, qmax = 2 * half - 1;
      break;
  }
}

const char* to_string(Profile p) {
  return p == Profile::PyTorch ? "pytorch" : p == Profile::Onnx ? "onnx" : p == Profile::Ggml ? "ggml" : "formula";
}

const char* to_string(QDtype d) {
  switch (d) {
    case QDtype::Int8: return "int8";
    case QDtype::UInt8: return "uint8";
    case QDtype::Int4: return "int4";
    case QDtype::UInt4: return "uint4";
    case QDtype::Int16: return "int16";
    case QDtype::UInt16: return "uint16";
  }
  return "int8";
}

std::optional<Profile> parse_profile(const std::string& s) {
  for (Profile p : {Profile::Formula, Profile::PyTorch, Profile::Onnx, Profile::Ggml})
    if (s == to_string(p)) return p;
  return std::nullopt;
}

std::optional<QDtype> parse_dtype(const std::string& s) {
  for (QDtype d : {QDtype::Int8, QDtype::UInt8, QDtype::Int4, QDtype::UInt4, QDtype::Int16, QDtype::UInt16})
    if (s == to_string(d)) return d;
  return std::nullopt;
}

}  // namespace qe
