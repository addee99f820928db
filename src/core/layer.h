// Through a layer: what quantizing the weights W [out, in] and the activations X [tokens, in]
// does to the output Y = X·Wᵀ [tokens, out].
//
//   reference   Y[t][o] = Σ_k X[t][k]·W[o][k]                 (double, X and W as given)
//   quantized   X̂ and Ŵ by each side's own scheme (analyze(): every integer, float and block
//               format, per tensor, channel or group; per token is per channel on axis 0 of X),
//               or a side left float (X̂ = X)
//   error split ΔW = Ŵ − W, ΔX = X̂ − X:
//               Ŷ − Y = X·ΔWᵀ (the weights' part) + ΔX·Wᵀ (the activations') + ΔX·ΔWᵀ (their
//               interaction), each its own double product; Ŷ_sim = Y + ((X·ΔWᵀ + ΔX·Wᵀ) + ΔX·ΔWᵀ)
//   prediction  errors uncorrelated along k: E‖X·ΔWᵀ‖² ≈ Σ_k (Σ_t X[t][k]²)(Σ_o ΔW[o][k]²), and
//               likewise for the other two parts, from the two tensors' own errors alone
//   accumulator for integer codes on both sides: acc = Σ_k (q_x − z_x)(q_w − z_w) exactly, over
//               blocks of k inside which both sides' scales are constant (all of k unless a side
//               is per group or per input channel); Ŷ = Σ_blocks s_x·s_w·acc in double, with acc
//               as the requested accumulator holds it (int32 or int16, wrapping or saturating)
//   float32     Σ_k float32(X̂)·float32(Ŵ) in float32 (matmul.h): the float GEMM after dequantizing
//   requantization (requantize.h) of int32 sums to output codes, by the three paths and the
//               DequantizeLinear → MatMul → QuantizeLinear graph, with the reason any differs
//
// Metrics compare Ŷ with Y as analyze() compares x̂ with x (e = Y − Ŷ): SQNR, cosine, MSE, max |e|.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analyze.h"

namespace qe {

// A tensor as given: float or double values and a shape (rank 2 here).
struct LayerTensor {
  const float* f32 = nullptr;
  const double* f64 = nullptr;
  size_t count = 0;
  std::vector<int64_t> shape;
  double at(size_t i) const { return f32 ? static_cast<double>(f32[i]) : f64[i]; }
};

enum class LayerProfile { Formula, Onnx, Tflite };
// Double: no accumulator of its own (float sums in double, the reference's precision).
enum class Accumulator { Double, Int32, Int16, Float32 };
enum class AccumulatorOverflow { Wrap, Saturate };
enum class Activation { Relu, Gelu, Silu };

const char* to_string(LayerProfile p);
const char* to_string(Accumulator a);
const char* to_string(Activation a);
std::optional<LayerProfile> parse_layer_profile(const std::string& s);
std::optional<Accumulator> parse_accumulator(const std::string& s);
std::optional<Activation> parse_activation(const std::string& s);

// Output codes: given parameters, or parameters from the float output's range [min(Y), max(Y)]
// widened to include 0, by the profile's rule (formula and tflite: seed 004's asymmetric formula;
// onnx: ONNX Runtime's calibration, profiles.h).
struct OutputQuantization {
  bool enabled = false;
  std::optional<double> scale;
  std::optional<int32_t> zero_point;
  QDtype dtype = QDtype::Int8;  // int8 [−128, 127] or uint8 [0, 255]
};

struct LayerOptions {
  std::optional<QuantScheme> weight_scheme;      // absent: W stays float
  std::optional<QuantScheme> activation_scheme;  // absent: X stays float
  std::optional<Accumulator> accumulator;        // absent: int32 for integer codes on both sides, else double
  AccumulatorOverflow overflow = AccumulatorOverflow::Wrap;
  OutputQuantization output;
  LayerProfile profile = LayerProfile::Formula;
  Kernel kernel = Kernel::Auto;
  size_t max_differences = 1000;  // requantization differences listed one by one (all are counted)
};

// One side's quantization as the per-tensor calculator reports it (no per-sample arrays).
struct LayerSide {
  bool quantized = false;
  bool integer = false;  // integer codes with zero points: the accumulator applies
  Analysis analysis;
};

// Energies Σ e² of the error's parts over every output, and their first-order predictions.
struct LayerParts {
  double signal = 0;  // Σ Y²
  double weights = 0, activations = 0, interaction = 0;
  double predicted_weights = 0, predicted_activations = 0, predicted_interaction = 0;
  double simulated = 0;    // Σ (Ŷ_sim − Y)²: the three parts together, with their cross terms
  double accumulator = 0;  // Σ (Ŷ − Ŷ_sim)²: what the accumulator adds (overflow, float32 sums)
};

// One integer type's limits against the layer's sums.
struct AccumulatorLimit {
  int64_t min = 0, max = 0;
  uint64_t wrapped = 0;               // outputs with a block sum outside [min, max]: wrapping changes them
  std::optional<uint64_t> saturated;  // outputs changed by saturating each partial sum in increasing k (when measured)
  uint64_t excursions = 0;            // outputs with some partial sum outside [min, max] (when measured)
  bool measured = false;              // saturation measured (always for int32; for int16 when it is the accumulator)
  // The output's SQNR against Y with this type's sums wrapped, and saturated (NaN unless measured).
  double wrap_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double saturate_sqnr_db = std::numeric_limits<double>::quiet_NaN();
};

struct AccumulatorReport {
  size_t block = 0;          // the k in one integer sum: in, or the group where scales change along k
  int64_t product_max = 0;   // max|q_w − z_w| · max|q_x − z_x| over the code ranges: the largest one product
  double bound = 0;          // block · product_max: the worst case for any input
  double data_bound = 0;     // block · (the largest |q_w − z_w| of the data) · (the largest |q_x − z_x|)
  int64_t max_abs = 0;       // the largest |sum| of the data, exactly
  int64_t max_abs_index = 0; // its output t·out + o, first occurrence
  AccumulatorLimit int16, int32;
  std::vector<double> sums;  // every output's exact sum (when block = in), for histograms
  // ONNX Runtime's MLAS on x86-64 with AVX2 but without VNNI multiplies uint8 activations by int8
  // weights with vpmaddubsw: the raw codes' products of k = 2j and 2j + 1 are added with int16
  // saturation before the int32 sum (then the zero points are taken off). Measured for uint8 × int8
  // codes (pairs_apply).
  bool pairs_apply = false;
  uint64_t pair_saturated = 0;         // outputs whose sum that changes
  std::vector<double> pair_sums;       // every output's sum that way (when pairs_apply)
};

// Why a requantization path's code differs from round_half_even(acc · M) + z_y (exact).
enum DifferenceReason : uint8_t {
  kReasonNone = 0,
  kReasonTie = 1,             // tflite: a tie k + ½ rounded away from zero (or, by the high multiply, up) instead of to even
  kReasonMultiplier = 2,      // tflite: M0 · 2^(shift − 31) ≠ M moves acc · M across a rounding boundary
  kReasonDoubleRounding = 4,  // tflite: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT, round twice
  kReasonFloat32 = 8,         // onnx / qdq: float32 M, float32(acc), float32 products and division
  kReasonDouble = 16,         // formula: acc · M rounded to double first
};

struct RequantDifference {
  size_t token = 0, channel = 0;
  int64_t acc = 0;
  double value = 0;  // acc · M in double (before the zero point)
  int32_t exact = 0, formula = 0, onnx = 0, tflite = 0, qdq = 0;
  uint8_t reasons = 0;  // DifferenceReason bits
};

struct Requantization {
  LayerProfile profile = LayerProfile::Formula;
  double scale = 1;  // s_y
  int32_t zero_point = 0, qmin = 0, qmax = 0;
  bool derived = false;  // parameters from the output's range (else given)
  // Per output channel (one entry when the weights have one scale): M = s_x·s_w/s_y in double,
  // tflite's (M0, shift), onnx's float32 M.
  std::vector<double> real_multiplier;
  std::vector<int32_t> multiplier, shift;
  std::vector<float> onnx_multiplier;
  // Output codes [tokens, out] by each path; `codes` is the profile's.
  std::vector<int32_t> exact, formula, onnx, tflite, qdq;
  Metrics metrics;  // (code − z_y)·s_y of the profile's codes against Y
  uint64_t clipped = 0;  // outputs whose exact code falls outside [q_min, q_max]: saturated
  // Outputs where each path differs from `exact`, and the count of each reason.
  uint64_t formula_differs = 0, onnx_differs = 0, tflite_differs = 0, qdq_differs = 0;
  uint64_t ties = 0, multiplier_reasons = 0, double_roundings = 0, float32_reasons = 0, double_reasons = 0;
  std::vector<RequantDifference> differences;  // the first max_differences outputs where some path differs
};

struct LayerResult {
  size_t tokens = 0, in = 0, out = 0;
  LayerSide weights, activations;
  Accumulator accumulator = Accumulator::Double;
  std::vector<double> reference, quantized;  // Y and Ŷ [tokens, out]
  Metrics metrics;
  double relative_frobenius = 0;  // ‖Y − Ŷ‖ / ‖Y‖
  std::vector<double> channel_sqnr_db, token_sqnr_db;
  LayerParts parts;
  std::optional<AccumulatorReport> accumulator_report;
  std::optional<Requantization> requantization;
};

Result<LayerResult> analyze_layer(const LayerTensor& weights, const LayerTensor& activations, const LayerOptions& opt);

// A second layer after an activation function: layer 1 as analyze_layer gives it; its float
// output f(Y1) is layer 2's reference input, and the quantized path's f(Ŷ1) (the requantized
// output's (code − z)·s when layer 1 requantizes) is its quantized input.
//   reference     Y2 = f(Y1)·W2ᵀ
//   quantized     Ŷ2: f(Ŷ1) quantized by layer 2's activation scheme, times Ŵ2
//   propagated    f(Ŷ1)·W2ᵀ: layer 1's error alone, carried through f and W2
//   local         Ŷ2 from f(Y1): layer 2's own quantization alone
struct ChainResult {
  LayerResult first;
  LayerResult second;  // its reference is Y2, its quantized output Ŷ2 (full path)
  Activation activation = Activation::Relu;
  double propagated_energy = 0;  // Σ (f(Ŷ1)·W2ᵀ − Y2)²
  double local_energy = 0;       // Σ (Ŷ2 from f(Y1) − Y2)²
  double total_energy = 0;       // Σ (Ŷ2 − Y2)²
  double propagated_sqnr_db = 0, local_sqnr_db = 0;
};

Result<ChainResult> analyze_chain(const LayerTensor& weights, const LayerTensor& activations, const LayerOptions& opt,
                                  const LayerTensor& next_weights, Activation activation, const LayerOptions& next_opt);

// f(x) in double: ReLU max(x, 0); GELU x·Φ(x) = x/2·(1 + erf(x/√2)); SiLU x/(1 + e^−x).
double activate(Activation a, double x);

}  // namespace qe
