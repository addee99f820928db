// Runtime profiles: the parameters and codes a runtime gives, bit for bit, rather than the
// formulas of seed 004. Every convention below was read in the runtime's source and checked by
// experiment (tests/data/make_profile_golden.py).
//
// PyTorch 1.13, torch.ao.quantization (MinMaxObserver / PerChannelMinMaxObserver, then
// fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine), all in float32:
//   code range  qint8 [−128, 127], quint8 [0, 255]; reduce_range halves them ([−64, 63], [0, 127]);
//               a custom [q_min, q_max] replaces them (and reduce_range halves that)
//   range       [min(x_min, 0), max(x_max, 0)]: it always includes 0
//   affine      scale = max((max − min) / (q_max − q_min), 2^−23)
//               zero_point = clamp(q_min − round(min / scale), q_min, q_max)
//   symmetric   scale = max(max(−min, max) / ((q_max − q_min) / 2), 2^−23)   (qint8: / 127.5)
//               zero_point = 0 (qint8), 128 (quint8), or (q_min + q_max) // 2 for a custom range
//   quantize    q = clamp(zero_point + round(x · (1 / scale)), q_min, q_max)
//               (the reciprocal and the product in float32; the zero point added after rounding)
//   dequantize  x_hat = (q − zero_point) · scale
//
// ONNX QuantizeLinear / DequantizeLinear (opset 19 and earlier; ONNX Runtime's kernels) with
// ONNX Runtime's MinMax calibration (onnxruntime.quantization.quant_utils.compute_scale_zp):
//   code range  uint8 [0, 255], int8 [−128, 127] (symmetric: [−127, 127]), uint4 [0, 15], int4
//               [−8, 7] (symmetric: [−7, 7]), uint16 [0, 65535], int16 [−32768, 32767] (symmetric:
//               [−32767, 32767]); reduce_range: uint8 [0, 127], int8 [−64, 64], uint16 [0, 32767],
//               int16 [−16384, 16384]
//   range       [min(x_min, 0), max(x_max, 0)]; symmetric: [−amax, amax]
//   scale       (max − min) / (q_max − q_min) in float32 (1 when that is 0)
//   zero_point  round(q_min − min / scale), symmetric int: 0, symmetric uint: (q_min + q_max + 1) / 2
//   quantize    q = clamp(round(x / scale) + zero_point, q_min, q_max), x / scale in float32
//   dequantize  x_hat = (q − zero_point) · scale in float32
//   per axis    (granularity channel) scale[c], zero_point[c] for the index c along `axis`; blocked
//               (opset 21 block_size = groupSize, along the last axis: granularity group) scale[g],
//               zero_point[g] per group; either derived per channel or group, or given as arrays
// DynamicQuantizeLinear (QuantScheme::onnx_dynamic; ONNX Runtime's GetQuantizationParameter),
// uint8 per tensor, every step in float32:
//   range       [min(x_min, 0), max(x_max, 0)]
//   scale       (max − min) / 255 in float32 (1 when max = min)
//   zero_point  round_half_even(clamp(0 − min / scale, 0, 255)), the division in float32
// compute_scale_zp divides −min by the float64 scale before it is narrowed: on near-ties of
// −min / scale the two zero points differ by one.
// Rounding is half to even throughout (std::nearbyint, torch.round, numpy.rint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "kernels.h"
#include "scheme.h"

namespace qe {

// The parameters a profile derives from a range [lo, hi] (the observer's min and max) for the
// scheme's dtype, reduce_range, mode and q_min/q_max; scale is a float32 value.
QuantParams profile_params(const QuantScheme& s, double lo, double hi);

// The profile's code range before any parameters (q_min, q_max).
void profile_code_range(const QuantScheme& s, int32_t& qmin, int32_t& qmax);

// What the profile allows (dtype for the runtime, granularity, calibration, …); nullopt if usable.
std::optional<Error> validate_profile(const QuantScheme& s);

// Quantizes x with one parameter set as the runtime's kernel does, into `out` (x_hat as float).
// Sums in two double lanes as the integer kernels keep them; clip_count = codes clamped. NaN and
// ±Inf samples are passed over (SampleOutputs::skip; count is the others), which analyze() lets
// through only under NonFinite::Skip.
template <class In>
ErrorSums quantize_profile(const In* x, size_t n, Profile profile, const QuantParams& p, uint64_t index_base,
                           const SampleOutputs& out);

}  // namespace qe
