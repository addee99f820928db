// llama.cpp's block quantization types, as ggml (its tensor library) writes them into GGUF files,
// bit for bit: the same bytes from the same float32 row, and the same float32 values back.
//
// Every type splits a row (a tensor's contiguous dimension, GGUF's ne[0]) into blocks of 32, 64 or
// 256 values and stores per block one or two float16 scales (or an E8M0 / UE4M3 one) and small
// integer codes:
//
//   q8_0, q4_0, q5_0     blocks of 32: x ≈ d·q                   (q signed: 8, 4, 5 bits)
//   q4_1, q5_1           blocks of 32: x ≈ d·q + m               (q unsigned: 4, 5 bits)
//   q2_k, q4_k, q5_k     256 = 16×16 or 8×32: x ≈ d·sc·q − dmin·m (sc, m: 4 or 6-bit codes per sub-block)
//   q3_k, q6_k           256 = 16×16: x ≈ d·sc·q                 (sc: 6-bit or int8 per sub-block)
//   iq4_nl, iq4_xs       32, or 256 = 8×32: x ≈ d·(sc)·v[q]      (v: 16 non-uniform levels; sc 6-bit)
//   tq1_0, tq2_0         256: x ≈ d·t, t ∈ {−1, 0, 1}             (base-3 packing, or 2 bits each)
//   mxfp4                32: x ≈ 2^e · fp4(q)                     (ggml's MXFP4: E8M0 scale)
//   nvfp4                64 = 4×16: x ≈ s·fp4(q)                  (ggml's NVFP4: a UE4M3 scale per 16)
//
// The quantizers follow ggml's reference code (ggml-quants.c, as `ggml_quantize_chunk` calls it):
// every float32 operation in ggml's order (this file is compiled without FMA contraction), its
// rounding helpers (nearest_int's 1.5·2^23 trick, roundf, x + ½ truncated, lroundf), its scale
// searches, its fp16 stores, and x86-64's results where C leaves a float→int conversion undefined
// (an out-of-range or NaN value converts to INT32_MIN). With importance weights (an imatrix's
// per-column in_sum2 / counts) the types that have an imatrix path take it, as llama-quantize does;
// q8_0, mxfp4, nvfp4, tq1_0 and tq2_0 have none and ignore them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace qe {

// The number is ggml's `ggml_type`, as GGUF files store a tensor's type.
enum class GgmlType : uint32_t {
  Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14,
  IQ4_NL = 20, IQ4_XS = 23, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40,
};

struct GgmlTypeInfo {
  GgmlType type;
  const char* name;       // the API's name, ggml's in lower case: "q4_k"
  const char* ggml_name;  // ggml's: "Q4_K"
  int block;              // values per block
  int bytes;              // bytes per block
  int sub_block;          // values per sub-block scale (= block when there is one scale)
  bool importance;        // the type has an imatrix path (importance weights change its blocks)
  bool has_min;           // the blocks store a min (x ≈ d·q + m, or − dmin·m)
  int code_min, code_max;  // the stored codes' range (inspect_block's codes)
  int code_bits;           // bits of storage per code (TQ1_0 packs five 3-valued codes in a byte)
  // The type llama-quantize falls back to for a row whose length is not a multiple of `block`
  // (llama.cpp's tensor_type_fallback), by the API's name, or nullptr when it has none.
  const char* fallback;
  const char* equation;  // how a value is reconstructed, for people
  const char* layout;    // the block's fields in byte order
};

// Every supported type, in the order the API lists them.
extern const GgmlTypeInfo kGgmlTypes[16];

const GgmlTypeInfo* ggml_type_info(GgmlType t);
// A type by its GGUF number; nullptr for a type this file does not implement.
const GgmlTypeInfo* ggml_type_info(uint32_t gguf_type);
// A type by the API's name ("q4_k"; "mxfp4" and "nvfp4" are ggml's variants of those formats).
const GgmlTypeInfo* ggml_type_by_name(const std::string& name);

inline double bits_per_weight(const GgmlTypeInfo& t) { return 8.0 * t.bytes / t.block; }
// Bytes of `n_per_row` values (a multiple of the block).
inline size_t ggml_row_bytes(const GgmlTypeInfo& t, size_t n_per_row) {
  return n_per_row / static_cast<size_t>(t.block) * static_cast<size_t>(t.bytes);
}

// Why a row of n_per_row values cannot be stored in type t (not a multiple of its block), naming
// the type llama-quantize would use instead; nullopt when it can.
std::optional<std::string> row_length_error(const GgmlTypeInfo& t, int64_t n_per_row);

// Quantizes `rows` rows of `n_per_row` values (a multiple of the block) into ggml's blocks, row
// after row: ggml_row_bytes(t, n_per_row) bytes per row at `out`. `importance`: nullptr, or
// n_per_row non-negative weights, one per column, the same for every row.
void ggml_quantize(const GgmlTypeInfo& t, const float* x, size_t rows, size_t n_per_row, const float* importance,
                   uint8_t* out);

// ggml's dequantization (the type's to_float) of `blocks` consecutive blocks into
// blocks · t.block values. NaN results (a float16 scale that overflowed to Inf times a zero code)
// are x86's default NaN, 0xFFC00000, as ggml's are on x86-64.
void ggml_dequantize(const GgmlTypeInfo& t, const uint8_t* in, size_t blocks, float* out);

// What one block holds, as stored. codes: every value's code, in value order (Q8_0: the int8; Q3_K:
// low bits | high bit << 2, the value being code − 4; Q6_K: code − 32; TQ: the trit + 1; IQ4 and
// FP4: the level's index). d: the block's scale (float16 d; MXFP4: 2^(e − 127), NVFP4: none, 0) and
// d_code its stored bits; min: dmin or m for the types with a min. Per sub-block (block / sub_block
// of them): the scale and min codes as stored (6-bit, 4-bit, int8, UE4M3) and the values they give
// as dequantization computes them (d·sc, dmin·m; Q3_K and IQ4_XS d·(sc − 32)); for a type with one
// scale per block, its d and min.
struct GgmlBlockView {
  float d = 0, min = 0;
  uint32_t d_code = 0;
  int32_t codes[256];
  float sub_scale[16], sub_min[16];
  int32_t sub_scale_code[16], sub_min_code[16];
};
void inspect_block(const GgmlTypeInfo& t, const uint8_t* block, GgmlBlockView& v);

// The number a code stands for before the (sub-)block's scale: q8_0 c; q4_0 c − 8; q4_1 c;
// q3_k c − 4; q6_k c − 32; tq c − 1; iq4 the level −127 … 113; fp4 its E2M1 value.
double ggml_code_value(const GgmlTypeInfo& t, int code);

// ggml's float16 conversions: round to nearest even, overflow to ±Inf, NaN to 0x7E00 with its sign.
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);

}  // namespace qe
