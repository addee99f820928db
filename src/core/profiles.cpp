#include "profiles.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace qe {

namespace {

// The dtype's full range: what a kernel saturates to.
void dtype_range(QDtype d, int32_t& qmin, int32_t& qmax) {
  switch (d) {
    case QDtype::Int8: qmin = -128, qmax = 127; return;
    case QDtype::UInt8: qmin = 0, qmax = 255; return;
    case QDtype::Int4: qmin = -8, qmax = 7; return;
    case QDtype::UInt4: qmin = 0, qmax = 15; return;
    case QDtype::Int16: qmin = -32768, qmax = 32767; return;
    case QDtype::UInt16: qmin = 0, qmax = 65535; return;
  }
}

// PyTorch's observer range: the dtype's, or the custom one, then halved by reduce_range.
void torch_range(const QuantScheme& s, int32_t& qmin, int32_t& qmax) {
  if (s.qmin || s.qmax) {
    dtype_range(s.dtype, qmin, qmax);
    qmin = s.qmin.value_or(qmin);
    qmax = s.qmax.value_or(qmax);
    if (s.reduce_range) qmin = static_cast<int32_t>(std::floor(qmin / 2.0)), qmax = static_cast<int32_t>(std::floor(qmax / 2.0));
    return;
  }
  if (s.dtype == QDtype::Int8) s.reduce_range ? (qmin = -64, qmax = 63) : (qmin = -128, qmax = 127);
  else s.reduce_range ? (qmin = 0, qmax = 127) : (qmin = 0, qmax = 255);
}

// ONNX Runtime's calibration range (get_qmin_qmax_for_qType).
void onnx_calibration_range(const QuantScheme& s, int32_t& qmin, int32_t& qmax) {
  const bool symmetric = s.mode == Mode::Symmetric;
  switch (s.dtype) {
    case QDtype::UInt8: qmin = 0, qmax = s.reduce_range ? 127 : 255; return;
    case QDtype::Int8:
      if (s.reduce_range) qmin = -64, qmax = 64;
      else if (symmetric) qmin = -127, qmax = 127;
      else qmin = -128, qmax = 127;
      return;
    case QDtype::Int4: qmin = symmetric ? -7 : -8, qmax = 7; return;
    case QDtype::UInt4: qmin = 0, qmax = 15; return;
    case QDtype::Int16:
      if (s.reduce_range) qmin = -16384, qmax = 16384;
      else if (symmetric) qmin = -32767, qmax = 32767;
      else qmin = -32768, qmax = 32767;
      return;
    case QDtype::UInt16: qmin = 0, qmax = s.reduce_range ? 32767 : 65535; return;
  }
}

}  // namespace

void profile_code_range(const QuantScheme& s, int32_t& qmin, int32_t& qmax) {
  if (s.profile == Profile::PyTorch) torch_range(s, qmin, qmax);
  else dtype_range(s.dtype, qmin, qmax);
}

std::optional<Error> validate_profile(const QuantScheme& s) {
  const char* who = s.profile == Profile::PyTorch ? "PyTorch" : "ONNX";
  if (s.format != NumberFormat::Int) return Error{"profile", -1, std::string("The ") + who + " profile quantizes to integers: choose Format int"};
  if (s.profile == Profile::PyTorch && s.dtype != QDtype::Int8 && s.dtype != QDtype::UInt8)
    return Error{"dtype", -1, "PyTorch's observers take qint8 or quint8 (use q_min and q_max for a 4-bit range)"};
  if (s.profile == Profile::Onnx && (s.qmin || s.qmax))
    return Error{s.qmin ? "qmin" : "qmax", -1, "ONNX Runtime's ranges follow the dtype: choose int8, uint8, int4, uint4, int16 or uint16"};
  if (s.profile == Profile::Onnx && s.reduce_range && (s.dtype == QDtype::Int4 || s.dtype == QDtype::UInt4))
    return Error{"reduceRange", -1, "reduce_range applies to 8-bit and 16-bit types"};
  // ONNX's blocked QuantizeLinear (opset 21 block_size) along the last axis is its per-group case.
  if (s.granularity == Granularity::Group && s.profile != Profile::Onnx)
    return Error{"granularity", -1, std::string(who) + " quantizes per tensor or per channel here"};
  if (s.calibration != Calibration::MinMax)
    return Error{"calibration", -1, std::string("The ") + who + " profile follows the runtime's min-max calibration"};
  if (s.rounding != Rounding::HalfEven) return Error{"rounding", -1, std::string(who) + " rounds half to even"};
  if (s.onnx_dynamic) {
    const char* op = "DynamicQuantizeLinear";
    if (s.profile != Profile::Onnx) return Error{"onnxOp", -1, std::string(op) + " is ONNX Runtime's: choose profile onnx"};
    if (s.dtype != QDtype::UInt8) return Error{"dtype", -1, std::string(op) + " outputs uint8: choose dtype uint8"};
    if (s.mode == Mode::Symmetric) return Error{"mode", -1, std::string(op) + " is asymmetric: choose mode asymmetric"};
    if (s.granularity != Granularity::Tensor) return Error{"granularity", -1, std::string(op) + " has one scale and zero point per tensor"};
    if (s.reduce_range) return Error{"reduceRange", -1, std::string(op) + " uses the whole [0, 255]"};
    if (s.range) return Error{"range.min", -1, std::string(op) + " takes the tensor's own min and max: no range applies"};
    if (s.scale || s.given) return Error{"scale", -1, std::string(op) + " computes its scale: none can be given"};
    if (s.zero_point) return Error{"zeroPoint", -1, std::string(op) + " computes its zero point: none can be given"};
  }
  if (s.profile == Profile::PyTorch && s.qmin && s.qmax) {
    if (*s.qmin >= *s.qmax || *s.qmin > 0 || *s.qmax < 0)
      return Error{"qmin", -1, "PyTorch needs q_min ≤ 0 ≤ q_max with q_min below q_max"};
    const int64_t span = int64_t{*s.qmax} - *s.qmin + 1;
    if (span > 256) return Error{"qmax", -1, "PyTorch's quantization range must not exceed 256 codes"};
  }
  if (s.profile == Profile::PyTorch && (s.qmin.has_value() != s.qmax.has_value()))
    return Error{s.qmin ? "qmax" : "qmin", -1, "PyTorch takes a custom range as both q_min and q_max"};
  if (s.zero_point) {
    int32_t qmin, qmax;
    profile_code_range(s, qmin, qmax);
    if (*s.zero_point < qmin || *s.zero_point > qmax)
      return Error{"zeroPoint", -1, "Zero point must lie in [" + std::to_string(qmin) + ", " + std::to_string(qmax) + "]"};
  }
  return std::nullopt;
}

QuantParams profile_params(const QuantScheme& s, double lo, double hi) {
  QuantParams p;
  profile_code_range(s, p.qmin, p.qmax);
  const bool symmetric = s.mode == Mode::Symmetric;
  // Observers work on float32 min and max, always including 0.
  const float fmin = std::min(static_cast<float>(lo), 0.0f), fmax = std::max(static_cast<float>(hi), 0.0f);
  p.range_min = fmin;
  p.range_max = fmax;
  if (s.profile == Profile::PyTorch) {
    const float eps = 0x1p-23f;
    float scale;
    int32_t zp = 0;
    if (symmetric) {
      scale = std::max(-fmin, fmax) / (static_cast<float>(p.qmax - p.qmin) / 2.0f);
      scale = std::max(scale, eps);
      if (s.dtype == QDtype::UInt8) zp = (s.qmin || s.qmax) ? static_cast<int32_t>(std::floor((p.qmin + p.qmax) / 2.0)) : 128;
    } else {
      scale = (fmax - fmin) / static_cast<float>(p.qmax - p.qmin);
      scale = std::max(scale, eps);
      const float r = std::nearbyint(fmin / scale);
      zp = std::clamp(p.qmin - static_cast<int32_t>(r), p.qmin, p.qmax);
    }
    p.scale = scale;
    p.zero_point = zp;
  } else if (s.onnx_dynamic) {
    // DynamicQuantizeLinear: scale = (max − min) / 255 and zp = round_half_even(clamp(0 − min / scale,
    // 0, 255)), each operation in float32 as ONNX Runtime's kernel does them.
    const float scale = fmax == fmin ? 1.0f : (fmax - fmin) / 255.0f;
    const float z = std::clamp(0.0f - fmin / scale, 0.0f, 255.0f);
    p.scale = scale;
    p.zero_point = static_cast<int32_t>(std::nearbyint(z));
  } else {
    int32_t cmin = 0, cmax = 0;
    onnx_calibration_range(s, cmin, cmax);
    double rmin = fmin, rmax = fmax;
    if (symmetric) {
      const double amax = std::max(std::fabs(rmin), std::fabs(rmax));
      rmin = -amax, rmax = amax;
    }
    // numpy: (rmax − rmin) in float32 widened to float64, divided in float64; the zero point
    // from that float64 scale; then the scale narrowed to float32.
    const double dr = static_cast<double>(static_cast<float>(rmax - rmin));
    const double scale = dr / (static_cast<double>(cmax) - cmin);
    if (scale < 0x1p-126) {  // numpy.finfo(float32).tiny
      p.scale = 1;
      p.zero_point = 0;
    } else {
      p.zero_point = static_cast<int32_t>(symmetric ? std::nearbyint((cmin + cmax) / 2.0) : std::nearbyint(cmin - rmin / scale));
      p.scale = static_cast<float>(scale);
    }
  }
  if (s.scale) p.scale = static_cast<float>(*s.scale);
  if (s.zero_point) p.zero_point = *s.zero_point;
  return p;
}

template <class In>
ErrorSums quantize_profile(const In* x, size_t n, Profile profile, const QuantParams& p, uint64_t index_base,
                           const SampleOutputs& out) {
  LaneSums S;
  const float scale = static_cast<float>(p.scale), inv = 1.0f / scale;
  const float zp = static_cast<float>(p.zero_point), lo = static_cast<float>(p.qmin), hi = static_cast<float>(p.qmax);
  uint64_t skipped = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(static_cast<double>(x[i]))) {  // NonFinite::Skip
      out.skip(i, true);
      ++skipped;
      continue;
    }
    const float xf = static_cast<float>(x[i]);
    float scaled, q;
    if (profile == Profile::PyTorch) {
      scaled = xf * inv;                       // the float32 reciprocal, as the fake-quantize kernel
      q = zp + std::nearbyint(scaled);         // rounded first, the zero point added after
    } else {
      scaled = xf / scale;                     // QuantizeLinear divides
      q = std::nearbyint(scaled) + zp;
    }
    const float c = std::clamp(q, lo, hi);
    const bool clipped = c != q;
    const float xhat = static_cast<float>(static_cast<int32_t>(c) - p.zero_point) * scale;
    S.add(i, index_base + i, static_cast<double>(x[i]), xhat, clipped, scaled - std::floor(scaled) == 0.5f);
    if (out.codes) out.codes[i] = static_cast<int32_t>(c);
    if (out.dequantized) static_cast<float*>(out.dequantized)[i] = xhat;
    if (out.errors) out.errors[i] = static_cast<double>(x[i]) - static_cast<double>(xhat);
    if (out.clipped) out.clipped[i] = clipped;
  }
  return S.finish(n - skipped);
}

template ErrorSums quantize_profile<float>(const float*, size_t, Profile, const QuantParams&, uint64_t, const SampleOutputs&);
template ErrorSums quantize_profile<double>(const double*, size_t, Profile, const QuantParams&, uint64_t, const SampleOutputs&);

}  // namespace qe
