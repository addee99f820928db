// Whole GGUF models as llama.cpp makes them: a quantized file compared with its float original,
// importance-matrix files (llama-imatrix's output) read as per-column weights, and the recipes of
// llama-quantize (which type each tensor of a Q4_K_M, Q5_K_M, … file gets).
//
// Compare: the quantized file's tensor is dequantized as ggml does (gguf_quants.h) and its error
// against the original's values (e = x̂ − x, every metric of metrics.h, in double) is summed in
// chunks of whole rows; the original is also re-quantized with the file's type (and the importance
// given) and each block compared byte for byte with the file's: "identical" means the file is what
// llama.cpp's reference quantizer writes from that original.
//
// Imatrix: `<name>.in_sum2` (Σ a², float32, ne0 · matrices values) and `<name>.counts` (float32,
// one per matrix) in a GGUF file, or the legacy binary layout of llama-imatrix (.dat):
//   int32 n_entries; n_entries × { int32 len; char name[len]; int32 ncall; int32 nval; float v[nval] };
//   then optionally int32 chunks, int32 len, char dataset[len]
// (little-endian). The importance of column i of matrix j is llama-quantize's:
//   GGUF:   in_sum2[j·ne0 + i] / c_j   with c_j = lround(counts[j]) as float32, division in float32; 1 when c_j = 0
//   legacy: v[i] / ncall               in float32; v[i] when ncall = 0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gguf_quants.h"
#include "metrics.h"
#include "scheme.h"
#include "tensor_files.h"

namespace qe {

// ---- Importance matrices ----------------------------------------------------------------------

struct ImatrixEntry {
  std::string name;               // the model tensor's name ("blk.0.attn_q.weight")
  std::vector<float> importance;  // per column, matrix after matrix (in_sum2 / counts)
  int64_t matrices = 1;           // GGUF: the counts' length (experts); legacy: 1
  int64_t calls = 0;              // the smallest count (GGUF) or ncall (legacy): how many activations went in
};

struct Imatrix {
  std::string format;  // "gguf" or "dat"
  std::vector<ImatrixEntry> entries;
  int64_t chunks = -1;  // imatrix.chunk_count or the legacy trailer's; -1 when the file does not say
  std::string dataset;  // the legacy trailer's dataset name ("" when absent)
  const ImatrixEntry* find(const std::string& name) const;
};

// An imatrix file (GGUF or legacy) from all its bytes. A truncated file, a length or count that
// runs past the end, a name given twice, an in_sum2 without counts (or the reverse), a non-F32
// tensor, a negative count or a weight that is negative, NaN or infinite: an Error (field
// "imatrix") naming the entry and what is wrong.
FileResult<Imatrix> read_imatrix(const uint8_t* p, size_t n);

// The importance of one tensor: nullptr when the imatrix has no entry for it; an Error when the
// entry's length is not the tensor's row length (shape's last axis) times its matrices (the
// product of the axes before the last two: llama-quantize's ne[0] · ne[2]).
struct ImportanceView {
  const float* weights = nullptr;  // row length × matrices values, or nullptr
  size_t count = 0;
  size_t matrices = 1;
};
std::variant<ImportanceView, Error> importance_for(const Imatrix* im, const std::string& name, const std::vector<int64_t>& shape);

// ---- Compare a quantized file with its original ---------------------------------------------

// The tensors of two files matched by name, in the quantized file's order. A pair whose shapes
// differ, or where either side is skipped by its reader, carries the reason and is not compared.
struct TensorPair {
  size_t original = 0, quantized = 0;
  std::string error;
};
struct FileMatch {
  std::vector<TensorPair> pairs;
  std::vector<std::string> only_original, only_quantized;  // names found in one file only
};
FileMatch match_tensors(const std::vector<TensorInfo>& original, const std::vector<TensorInfo>& quantized);

struct TensorComparisonResult {
  Metrics metrics;                      // of x̂ (the file's dequantized values) against x (the original's)
  double weighted_mse = 0;              // Σw·e² / Σw (NaN without importance)
  double weighted_sqnr_db = 0;          // 10·log10(Σw·x² / Σw·e²)
  double max_abs_x = 0;
  double sum_x2 = 0;                    // Σx², for a file's size-weighted SQNR
  // Re-quantizing the original with the file's type: units (blocks of the type, or values for
  // F32/F16/BF16 tensors) compared, how many differ, and the first that differs (−1: none).
  uint64_t units = 0, units_differing = 0;
  int64_t first_differing = -1;
  const char* unit = "blocks";
  bool requantized_with_importance = false;
};

// One tensor pair, fed in chunks of whole rows, pass after pass (the percentiles of |e| take
// several passes over the values; the sums and the block check are made in the first). Both sides
// come as the files' raw bytes of the same rows: the original as its reader converts it to float32
// (F32, F16, BF16, or a ggml type's dequantization), the quantized as F32, F16, BF16 or one of
// gguf_quants.h's types.
class TensorComparison {
 public:
  TensorComparison(const TensorInfo& original, const TensorInfo& quantized, ImportanceView importance);
  // Whether the pair can be compared (shapes, types, the importance's length), or why not.
  std::optional<Error> check() const;
  uint64_t rows() const { return rows_; }
  uint64_t row_values() const { return per_row_; }
  uint64_t original_row_bytes() const { return orig_row_bytes_; }
  uint64_t quantized_row_bytes() const { return quant_row_bytes_; }
  // Rows [at, at + n) of this pass (the rows of a pass come in order).
  std::optional<Error> add(const uint8_t* original, const uint8_t* quantized, uint64_t n);
  void next();  // ends a pass
  bool done() const;
  int passes() const { return passes_; }
  TensorComparisonResult finish() const;

 private:
  TensorInfo original_, quantized_;
  ImportanceView importance_;
  uint64_t rows_ = 0, per_row_ = 0, orig_row_bytes_ = 0, quant_row_bytes_ = 0, rows_per_matrix_ = 1;
  uint64_t at_ = 0;  // the next row of this pass
  int passes_ = 1;
  ErrorSums sums_;
  double max_abs_x_ = 0, w_sum_ = 0, w_x2_ = 0, w_e2_ = 0;
  TensorComparisonResult check_;  // units, differing
  std::optional<QuantileStream> quantiles_;
  std::vector<float> x_, y_;
  std::vector<double> e_;  // e = x − x̂, exact in double
  std::vector<uint8_t> requantized_;
};

// Raw bytes of one row of a tensor (the whole tensor's bytes / rows), or 0 for a skipped one.
uint64_t row_bytes(const TensorInfo& t);

// ---- llama-quantize's recipes ---------------------------------------------------------------

// The presets (llama_ftype): the default type and the mixture rules of llama_tensor_get_type
// (llama.cpp's src/llama-quant.cpp) for these six.
enum class Recipe { Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0, IQ4_XS };
std::optional<Recipe> parse_recipe(const std::string& name);  // "q4_k_m", case-insensitive
const char* recipe_name(Recipe r);                            // "Q4_K_M"
extern const char* const kRecipeNames[6];                      // lower case, in the enum's order

// What llama-quantize reads of the model: the architecture, the layer count (<arch>.block_count,
// else 1 + the largest N of the tensors' "blk.N." names), the experts (<arch>.expert_count, else
// 0), and the heads per KV head (head_count / head_count_kv, else attn_q's rows / attn_k's rows).
struct ModelFacts {
  std::string architecture;
  int64_t layers = 0, experts = 0, gqa = 1;
};
ModelFacts model_facts(const GgufHeader& h);

// Each tensor's type in the recipe, in the file's order. type: the ggml type it is quantized to,
// or nullptr when it stays as it is (`kept` says why: 1-D, a norm, not a weight, ffn_gate_inp, …)
// or falls back to float16 (`float16`); `note` tells a fallback ("rows of 4544 are not whole blocks
// of 256: q4_k → q5_0"); `error`: where llama-quantize itself stops (a type without a fallback,
// an expert tensor without a layer in its name).
struct RecipeChoice {
  const GgmlTypeInfo* type = nullptr;
  bool float16 = false;
  std::string kept, note, error;
};
std::vector<RecipeChoice> recipe_types(Recipe r, const std::vector<TensorInfo>& tensors, const ModelFacts& facts, bool has_imatrix);

}  // namespace qe
