#include "gguf_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace qe {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Error imatrix_error(const std::string& message) { return Error{"imatrix", -1, message}; }

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

int64_t read_le32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return static_cast<int32_t>(v);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A weight llama-quantize accepts: finite (it refuses non-finite imatrix values) and, being a mean
// of squares, not negative.
std::optional<Error> check_weights(const ImatrixEntry& e) {
  for (size_t i = 0; i < e.importance.size(); ++i) {
    const float w = e.importance[i];
    if (!(w >= 0) || std::isinf(w))
      return imatrix_error("imatrix entry \"" + e.name + "\": weight " + std::to_string(i + 1) + " is " +
                           (std::isnan(w) ? std::string("NaN") : std::isinf(w) ? std::string("infinite") : std::to_string(w)) +
                           " (a mean of squares is a finite number of at least 0)");
  }
  return std::nullopt;
}

FileResult<Imatrix> read_gguf_imatrix(const uint8_t* p, size_t n) {
  auto g = read_gguf(p, n, n);
  if (auto* e = std::get_if<Error>(&g)) return imatrix_error("The imatrix GGUF file: " + e->message);
  const GgufHeader& h = std::get<GgufHeader>(g);
  if (h.need) return imatrix_error("The imatrix GGUF file is truncated: its header runs past the end");
  Imatrix im;
  im.format = "gguf";
  for (const auto& [key, v] : h.integers)
    if (key == "imatrix.chunk_count") im.chunks = v;
  struct Pair {
    const TensorInfo *sums = nullptr, *counts = nullptr;
  };
  std::map<std::string, Pair> by;
  for (const TensorInfo& t : h.tensors) {
    if (ends_with(t.name, ".in_sum2")) by[t.name.substr(0, t.name.size() - 8)].sums = &t;
    else if (ends_with(t.name, ".counts")) by[t.name.substr(0, t.name.size() - 7)].counts = &t;
  }
  if (by.empty()) return imatrix_error("The GGUF file holds no <tensor>.in_sum2 and <tensor>.counts tensors: it is not an imatrix");
  for (const auto& [name, pair] : by) {
    if (!pair.sums || !pair.counts)
      return imatrix_error("imatrix entry \"" + name + "\" has " + (pair.sums ? "in_sum2 but no counts" : "counts but no in_sum2"));
    for (const TensorInfo* t : {pair.sums, pair.counts})
      if (t->dtype != DType::F32)
        return imatrix_error("imatrix tensor \"" + t->name + "\" is " + t->file_dtype + " (in_sum2 and counts are F32)");
    const uint64_t nval = pair.sums->count, ncounts = pair.counts->count;
    if (ncounts == 0 || nval == 0 || nval % ncounts != 0)
      return imatrix_error("imatrix entry \"" + name + "\": " + std::to_string(nval) + " sums do not split into " + std::to_string(ncounts) +
                           " matrices (counts)");
    ImatrixEntry e;
    e.name = name;
    e.matrices = static_cast<int64_t>(ncounts);
    std::vector<float> counts(ncounts);
    e.importance.resize(nval);
    to_float(p + pair.counts->offset, ncounts, *pair.counts, counts.data());
    to_float(p + pair.sums->offset, nval, *pair.sums, e.importance.data());
    const uint64_t ne0 = nval / ncounts;
    e.calls = INT64_MAX;
    for (uint64_t j = 0; j < ncounts; ++j) {
      if (!(counts[j] >= 0) || !(counts[j] < 9.2e18f))
        return imatrix_error("imatrix entry \"" + name + "\": count " + std::to_string(j + 1) + " is " + std::to_string(counts[j]) +
                             " (a number of activations is at least 0)");
      // llama.cpp reads the count as lround(count), then divides by it as a float32.
      const float c = static_cast<float>(std::lround(counts[j]));
      e.calls = std::min<int64_t>(e.calls, std::lround(counts[j]));
      for (uint64_t i = 0; i < ne0; ++i) {
        float& v = e.importance[j * ne0 + i];
        if (!(v >= 0) || std::isinf(v))
          return imatrix_error("imatrix entry \"" + name + "\": in_sum2 value " + std::to_string(j * ne0 + i + 1) + " is " +
                               (std::isnan(v) ? std::string("NaN") : std::to_string(v)) + " (a sum of squares is a finite number of at least 0)");
        v = c > 0 ? v / c : 1.0f;  // float32 division; a matrix that saw no activations weighs 1
      }
    }
    if (auto err = check_weights(e)) return *err;
    im.entries.push_back(std::move(e));
  }
  return im;
}

FileResult<Imatrix> read_legacy_imatrix(const uint8_t* p, size_t n) {
  Imatrix im;
  im.format = "dat";
  size_t at = 0;
  const auto int32 = [&](int64_t& v) {
    if (n - at < 4) return false;
    v = read_le32(p + at);
    at += 4;
    return true;
  };
  int64_t entries = 0;
  if (!int32(entries)) return imatrix_error("The imatrix file is too short (" + std::to_string(n) + " bytes) for its entry count");
  // An entry takes at least 17 bytes (length, one name byte, ncall, nval, one float).
  if (entries < 1 || static_cast<uint64_t>(entries) > (n - 4) / 17)
    return imatrix_error("Not an imatrix file: it claims " + std::to_string(entries) + " entries in " + std::to_string(n) +
                         " bytes (neither a GGUF imatrix nor llama-imatrix's legacy .dat layout)");
  for (int64_t k = 0; k < entries; ++k) {
    const std::string which = "entry " + std::to_string(k + 1) + " of " + std::to_string(entries);
    int64_t len = 0, ncall = 0, nval = 0;
    if (!int32(len)) return imatrix_error("The imatrix file ends inside " + which + " (its name's length)");
    if (len < 1 || static_cast<uint64_t>(len) > n - at)
      return imatrix_error("The imatrix file's " + which + " claims a name of " + std::to_string(len) + " bytes, but " +
                           std::to_string(n - at) + " remain");
    ImatrixEntry e;
    e.name.assign(reinterpret_cast<const char*>(p + at), static_cast<size_t>(len));
    at += static_cast<size_t>(len);
    if (!int32(ncall) || !int32(nval)) return imatrix_error("The imatrix file ends inside " + which + " (\"" + e.name + "\")");
    if (ncall < 0) return imatrix_error("imatrix entry \"" + e.name + "\" claims " + std::to_string(ncall) + " calls");
    if (nval < 1 || static_cast<uint64_t>(nval) > (n - at) / 4)
      return imatrix_error("imatrix entry \"" + e.name + "\" claims " + std::to_string(nval) + " values, but " + std::to_string(n - at) +
                           " bytes remain");
    e.importance.resize(static_cast<size_t>(nval));
    std::memcpy(e.importance.data(), p + at, static_cast<size_t>(nval) * 4);  // little-endian float32 (the hosts are)
    at += static_cast<size_t>(nval) * 4;
    e.calls = ncall;
    // The stored values are Σa²·(ncall / count): llama-quantize divides them by ncall, in float32.
    const float c = static_cast<float>(ncall);
    if (ncall > 0)
      for (float& v : e.importance) v = v / c;
    if (auto err = check_weights(e)) return *err;
    im.entries.push_back(std::move(e));
  }
  // The optional trailer: the chunk count and the dataset's name.
  if (at < n) {
    int64_t chunks = 0, len = 0;
    if (!int32(chunks)) return imatrix_error("The imatrix file has " + std::to_string(n - at) + " stray bytes after its entries");
    im.chunks = chunks;
    if (at < n) {
      if (!int32(len) || len < 0 || static_cast<uint64_t>(len) != n - at)
        return imatrix_error("The imatrix file's trailer claims a dataset name of " + std::to_string(len) + " bytes, but " +
                             std::to_string(n - at) + " remain");
      im.dataset.assign(reinterpret_cast<const char*>(p + at), static_cast<size_t>(len));
    }
  }
  return im;
}

}  // namespace

const ImatrixEntry* Imatrix::find(const std::string& name) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), name, [](const ImatrixEntry& e, const std::string& k) { return e.name < k; });
  return it != entries.end() && it->name == name ? &*it : nullptr;
}

FileResult<Imatrix> read_imatrix(const uint8_t* p, size_t n) {
  auto r = n >= 4 && std::memcmp(p, "GGUF", 4) == 0 ? read_gguf_imatrix(p, n) : read_legacy_imatrix(p, n);
  if (auto* im = std::get_if<Imatrix>(&r)) {
    std::sort(im->entries.begin(), im->entries.end(), [](const ImatrixEntry& a, const ImatrixEntry& b) { return a.name < b.name; });
    for (size_t i = 1; i < im->entries.size(); ++i)
      if (im->entries[i].name == im->entries[i - 1].name) return imatrix_error("imatrix entry \"" + im->entries[i].name + "\" is given twice");
  }
  return r;
}

std::variant<ImportanceView, Error> importance_for(const Imatrix* im, const std::string& name, const std::vector<int64_t>& shape) {
  const ImatrixEntry* e = im ? im->find(name) : nullptr;
  if (!e) return ImportanceView{};
  const uint64_t per_row = shape.empty() ? 1 : static_cast<uint64_t>(shape.back());
  uint64_t matrices = 1;
  for (size_t d = 0; d + 2 < shape.size(); ++d) matrices *= static_cast<uint64_t>(shape[d]);
  if (per_row == 0 || e->importance.size() != per_row * matrices)
    return Error{"imatrix", -1,
                 "imatrix entry \"" + name + "\" holds " + std::to_string(e->importance.size()) + " weights; tensor " + shape_text(shape) +
                     " needs " + std::to_string(per_row) + " per column" + (matrices > 1 ? " × " + std::to_string(matrices) + " matrices" : "") +
                     " (is the imatrix from another model?)"};
  return ImportanceView{e->importance.data(), e->importance.size(), static_cast<size_t>(matrices)};
}

// ---- Compare ---------------------------------------------------------------------------------

FileMatch match_tensors(const std::vector<TensorInfo>& original, const std::vector<TensorInfo>& quantized) {
  FileMatch m;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < original.size(); ++i) index.emplace(original[i].name, i);
  std::vector<bool> used(original.size(), false);
  for (size_t q = 0; q < quantized.size(); ++q) {
    const TensorInfo& b = quantized[q];
    auto it = index.find(b.name);
    if (it == index.end()) {
      m.only_quantized.push_back(b.name);
      continue;
    }
    const TensorInfo& a = original[it->second];
    used[it->second] = true;
    TensorPair pair{it->second, q, ""};
    if (a.shape != b.shape) pair.error = "shape " + shape_text(b.shape) + " here, " + shape_text(a.shape) + " in the original";
    else if (!a.skipped.empty()) pair.error = "the original's tensor is not read: " + a.skipped;
    else if (!b.skipped.empty()) pair.error = "not read: " + b.skipped;
    m.pairs.push_back(std::move(pair));
  }
  for (size_t i = 0; i < original.size(); ++i)
    if (!used[i]) m.only_original.push_back(original[i].name);
  return m;
}

uint64_t row_bytes(const TensorInfo& t) {
  if (!t.skipped.empty() || t.count == 0) return 0;
  const uint64_t per_row = t.shape.empty() ? 1 : static_cast<uint64_t>(t.shape.back());
  return tensor_bytes(t) / (t.count / per_row);
}

TensorComparison::TensorComparison(const TensorInfo& original, const TensorInfo& quantized, ImportanceView importance)
    : original_(original), quantized_(quantized), importance_(importance) {
  per_row_ = original.shape.empty() ? 1 : static_cast<uint64_t>(std::max<int64_t>(0, original.shape.back()));
  rows_ = per_row_ ? original.count / per_row_ : 0;
  rows_per_matrix_ = original.shape.size() >= 2 ? static_cast<uint64_t>(std::max<int64_t>(1, original.shape[original.shape.size() - 2])) : 1;
  orig_row_bytes_ = row_bytes(original);
  quant_row_bytes_ = row_bytes(quantized);
  check_.unit = quantized.dtype == DType::Ggml ? "blocks" : "values";
  check_.requantized_with_importance = importance.weights && quantized.dtype == DType::Ggml && quantized.ggml->importance;
}

std::optional<Error> TensorComparison::check() const {
  const std::string who = "Tensor \"" + quantized_.name + "\": ";
  if (original_.shape != quantized_.shape)
    return Error{"file", -1, who + "shape " + shape_text(quantized_.shape) + " here, " + shape_text(original_.shape) + " in the original"};
  if (!original_.skipped.empty()) return Error{"file", -1, who + "the original's tensor is not read: " + original_.skipped};
  if (!quantized_.skipped.empty()) return Error{"file", -1, who + "not read: " + quantized_.skipped};
  if (!float_exact(original_.dtype) || original_.fortran_order)
    return Error{"file", -1, who + "the original is " + original_.file_dtype + (original_.fortran_order ? " in Fortran order" : "") +
                                 " (compared: float32, float16, bfloat16 or a ggml type, in C order)"};
  const DType q = quantized_.dtype;
  if (q != DType::F32 && q != DType::F16 && q != DType::BF16 && q != DType::Ggml)
    return Error{"file", -1, who + "the quantized tensor is " + quantized_.file_dtype + " (compared: F32, F16, BF16 and llama.cpp's block types)"};
  if (rows_ == 0) return Error{"file", -1, who + "holds no values"};
  if (importance_.weights && importance_.count != per_row_ * (original_.count / per_row_ / rows_per_matrix_))
    return Error{"imatrix", -1, who + "the importance holds " + std::to_string(importance_.count) + " weights, not one per column of each matrix"};
  return std::nullopt;
}

namespace {
// ggml's float32 → bfloat16 (ggml_compute_fp32_to_bf16): a NaN keeps its top half with the quiet
// bit set; anything else is rounded to nearest, ties to even, on the bits (overflow gives ±Inf).
uint16_t fp32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}
}  // namespace

std::optional<Error> TensorComparison::add(const uint8_t* original, const uint8_t* quantized, uint64_t n) {
  if (n > rows_ - at_) return Error{"file", -1, "Tensor \"" + quantized_.name + "\": more rows than the tensor has in one pass"};
  const size_t values = static_cast<size_t>(n * per_row_);
  x_.resize(values), y_.resize(values), e_.resize(values);
  to_float(original, values, original_, x_.data());
  to_float(quantized, values, quantized_, y_.data());
  // e = x − x̂ in double (exact: both are float32), as analyze() defines the error.
  for (size_t i = 0; i < values; ++i) e_[i] = static_cast<double>(x_[i]) - static_cast<double>(y_[i]);
  if (passes_ == 1) {
    const uint64_t base = at_ * per_row_;
    for (size_t i = 0; i < values; ++i) {
      const double x = x_[i], y = y_[i], e = e_[i], a = std::fabs(e);
      sums_.sum_x2 += x * x;
      sums_.sum_err2 += e * e;
      sums_.sum_abs += a;
      sums_.sum_err += e;
      sums_.sum_xhat2 += y * y;
      sums_.sum_xxhat += x * y;
      if (a > sums_.max_abs) sums_.max_abs = a, sums_.max_abs_index = base + i;  // the first occurrence
      max_abs_x_ = std::max(max_abs_x_, std::fabs(x));
    }
    sums_.count += values;
    if (importance_.weights) {
      // Σw·e², Σw·x², Σw with w the column's weight in the row's matrix.
      for (uint64_t r = 0; r < n; ++r) {
        const float* w = importance_.weights + ((at_ + r) / rows_per_matrix_) * per_row_;
        for (uint64_t c = 0; c < per_row_; ++c) {
          const size_t i = static_cast<size_t>(r * per_row_ + c);
          w_sum_ += w[c], w_x2_ += w[c] * static_cast<double>(x_[i]) * x_[i], w_e2_ += w[c] * e_[i] * e_[i];
        }
      }
    }
    // Re-quantize the rows with the file's type and compare unit by unit.
    if (quantized_.dtype == DType::Ggml) {
      const GgmlTypeInfo& t = *quantized_.ggml;
      const size_t rb = static_cast<size_t>(quant_row_bytes_), bb = static_cast<size_t>(t.bytes);
      requantized_.resize(static_cast<size_t>(n) * rb);
      const bool weighted = check_.requantized_with_importance;
      for (uint64_t r = 0; r < n;) {
        // Rows of one matrix share their importance: quantize them in one call.
        const uint64_t matrix = (at_ + r) / rows_per_matrix_;
        const uint64_t run = std::min<uint64_t>(n - r, (matrix + 1) * rows_per_matrix_ - (at_ + r));
        ggml_quantize(t, x_.data() + r * per_row_, static_cast<size_t>(run), static_cast<size_t>(per_row_),
                      weighted ? importance_.weights + matrix * per_row_ : nullptr, requantized_.data() + r * rb);
        r += run;
      }
      const uint64_t blocks = n * (per_row_ / static_cast<uint64_t>(t.block));
      for (uint64_t b = 0; b < blocks; ++b) {
        if (std::memcmp(requantized_.data() + b * bb, quantized + b * bb, bb) != 0) {
          if (check_.first_differing < 0) check_.first_differing = static_cast<int64_t>(check_.units + b);
          ++check_.units_differing;
        }
      }
      check_.units += blocks;
    } else {
      for (size_t i = 0; i < values; ++i) {
        bool same;
        if (quantized_.dtype == DType::F16) same = fp32_to_fp16(x_[i]) == static_cast<uint16_t>(quantized[2 * i] | quantized[2 * i + 1] << 8);
        else if (quantized_.dtype == DType::BF16) same = fp32_to_bf16(x_[i]) == static_cast<uint16_t>(quantized[2 * i] | quantized[2 * i + 1] << 8);
        else same = std::memcmp(&x_[i], quantized + 4 * i, 4) == 0;
        if (!same) {
          if (check_.first_differing < 0) check_.first_differing = static_cast<int64_t>(check_.units + i);
          ++check_.units_differing;
        }
      }
      check_.units += values;
    }
  }
  if (!quantiles_) quantiles_.emplace(original_.count, true, std::vector<double>{0.5, 0.95}, size_t{1} << 22);
  quantiles_->add(e_.data(), values);
  at_ += n;
  return std::nullopt;
}

void TensorComparison::next() {
  if (quantiles_) quantiles_->next();
  ++passes_;
  at_ = 0;
}

bool TensorComparison::done() const { return quantiles_ && quantiles_->done(); }

TensorComparisonResult TensorComparison::finish() const {
  TensorComparisonResult r = check_;
  r.metrics = metrics_from_sums(sums_, max_abs_x_, kNaN);
  if (quantiles_ && quantiles_->done()) {
    const std::vector<double> q = quantiles_->values();
    r.metrics.median_abs_error = q[0];
    r.metrics.p95_abs_error = q[1];
  }
  r.max_abs_x = max_abs_x_;
  r.sum_x2 = sums_.sum_x2;
  r.weighted_mse = importance_.weights && w_sum_ > 0 ? w_e2_ / w_sum_ : kNaN;
  r.weighted_sqnr_db = !importance_.weights || w_x2_ == 0 ? kNaN : w_e2_ == 0 ? INFINITY : 10 * std::log10(w_x2_ / w_e2_);
  return r;
}

// ---- Recipes ---------------------------------------------------------------------------------

const char* const kRecipeNames[6] = {"q4_k_m", "q5_k_m", "q6_k", "q8_0", "q4_0", "iq4_xs"};

std::optional<Recipe> parse_recipe(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 6; ++i)
    if (lower == kRecipeNames[i]) return static_cast<Recipe>(i);
  return std::nullopt;
}

const char* recipe_name(Recipe r) {
  static const char* const names[6] = {"Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "IQ4_XS"};
  return names[static_cast<int>(r)];
}

namespace {

// The layer of a "blk.N." name, or −1 (llama.cpp: sscanf(name, "blk.%d.")).
int64_t layer_of(const std::string& name) {
  if (name.compare(0, 4, "blk.") != 0) return -1;
  size_t i = 4;
  bool negative = false;
  if (i < name.size() && (name[i] == '-' || name[i] == '+')) negative = name[i] == '-', ++i;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  int64_t v = 0;
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && v < (int64_t{1} << 40); ++i) v = v * 10 + (name[i] - '0');
  return negative ? -v : v;
}

enum class Category { TokenEmbd, AttnQ, AttnV, AttnK, AttnQkv, AttnKvB, AttnOutput, FfnUp, FfnGate, FfnDown, Output, Other };

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// llama.cpp's tensor_get_category: the first rule that matches, in this order.
Category category_of(const std::string& name) {
  if (name == "output.weight") return Category::Output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Category::TokenEmbd;
  if (has(name, "attn_qkv.weight")) return Category::AttnQkv;
  if (has(name, "attn_kv_b.weight")) return Category::AttnKvB;
  if (has(name, "attn_v.weight")) return Category::AttnV;
  if (has(name, "attn_k.weight")) return Category::AttnK;
  if (has(name, "attn_q.weight")) return Category::AttnQ;
  if (has(name, "attn_output.weight")) return Category::AttnOutput;
  if (has(name, "ffn_up")) return Category::FfnUp;
  if (has(name, "ffn_gate")) return Category::FfnGate;
  if (has(name, "ffn_down")) return Category::FfnDown;
  return Category::Other;
}

bool attn_v_like(Category c) { return c == Category::AttnV || c == Category::AttnQkv || c == Category::AttnKvB; }

// ggml_n_dims: the dimensions up to the last one above 1 (at least 1).
int n_dims(const std::vector<int64_t>& shape) {
  int n = 1;
  for (size_t k = 0; k < shape.size(); ++k)  // shape is row-major: ne[i] is shape[size − 1 − i]
    if (shape[shape.size() - 1 - k] > 1) n = static_cast<int>(k) + 1;
  return n;
}

// Why llama-quantize keeps a tensor as it is (tensor_allows_quantization), or "" when it quantizes it.
std::string kept_reason(const TensorInfo& t) {
  const std::string& name = t.name;
  if (n_dims(t.shape) < 2) return "1-D: kept";
  if (!(name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0)) return "not a weight: kept";
  if (has(name, "_norm.weight")) return "a norm: kept";
  if (has(name, "ffn_gate_inp.weight")) return "the expert router: kept";
  if (has(name, "ffn_gate_tid2eid.weight")) return "the expert routing table: kept";
  if (name == "position_embd.weight" || name == "token_types.weight") return "positional or token-type embeddings: kept";
  static const char* const small[] = {"altup", "laurel", "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
                                      "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight",
                                      "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight",
                                      "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
                                      "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
                                      "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.",
                                      "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd"};
  for (const char* part : small)
    if (has(name, part)) return std::string("llama-quantize keeps ") + part + " tensors";
  return "";
}

const GgmlTypeInfo* T(GgmlType t) { return ggml_type_info(t); }

}  // namespace

ModelFacts model_facts(const GgufHeader& h) {
  ModelFacts f;
  f.architecture = h.architecture;
  int64_t heads = 0, heads_kv = 0;
  bool layers_given = false;
  for (const auto& [key, v] : h.integers) {
    const std::string prefix = h.architecture + ".";
    if (h.architecture.empty() || key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string k = key.substr(prefix.size());
    if (k == "block_count") f.layers = v, layers_given = true;
    else if (k == "expert_count") f.experts = v;
    else if (k == "attention.head_count") heads = v;
    else if (k == "attention.head_count_kv") heads_kv = v;
  }
  int64_t q_rows = 0, k_rows = 0, top = -1;
  for (const TensorInfo& t : h.tensors) {
    top = std::max(top, layer_of(t.name));
    if (t.shape.size() == 2 && ends_with(t.name, "attn_q.weight") && !q_rows) q_rows = t.shape[0];
    if (t.shape.size() == 2 && ends_with(t.name, "attn_k.weight") && !k_rows) k_rows = t.shape[0];
  }
  if (!layers_given) f.layers = top + 1;
  if (heads > 0 && heads_kv > 0) f.gqa = heads / heads_kv;
  else if (q_rows > 0 && k_rows > 0) f.gqa = q_rows / k_rows;
  return f;
}

std::vector<RecipeChoice> recipe_types(Recipe recipe, const std::vector<TensorInfo>& tensors, const ModelFacts& f, bool has_imatrix) {
  const GgmlTypeInfo* base = recipe == Recipe::Q4_K_M ? T(GgmlType::Q4_K)
                             : recipe == Recipe::Q5_K_M ? T(GgmlType::Q5_K)
                             : recipe == Recipe::Q6_K   ? T(GgmlType::Q6_K)
                             : recipe == Recipe::Q8_0   ? T(GgmlType::Q8_0)
                             : recipe == Recipe::Q4_0   ? T(GgmlType::Q4_0)
                                                        : T(GgmlType::IQ4_XS);
  const bool falcon = f.architecture == "falcon";
  const bool is_70b = f.architecture == "llama" && f.layers == 80 && f.gqa > 1;  // llama.cpp's LLM_TYPE_70B
  const int64_t n_expert = std::max<int64_t>(1, f.experts);
  // llama.cpp walks the tensors by layer (−1 for the others, first), then by name; its counters
  // (the i-th attn_v, the i-th ffn_down) follow that order.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t la = layer_of(tensors[a].name), lb = layer_of(tensors[b].name);
    return la != lb ? la < lb : tensors[a].name < tensors[b].name;
  });
  int64_t n_attn_v = 0;
  bool tied = true;  // the token embeddings are also the output unless output.weight exists
  for (const TensorInfo& t : tensors) {
    const Category c = category_of(t.name);
    if (attn_v_like(c)) ++n_attn_v;
    if (c == Category::Output) tied = false;
  }
  const int64_t n_layer = f.layers;
  int64_t i_attn_v = 0, i_ffn_down = 0, i_ffn_gate = 0, i_ffn_up = 0;
  // llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between.
  const auto more_bits = [](int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; };
  std::vector<RecipeChoice> out(tensors.size());
  for (size_t idx : order) {
    const TensorInfo& t = tensors[idx];
    RecipeChoice& choice = out[idx];
    if (!t.skipped.empty()) {
      choice.kept = "not read: " + t.skipped;
      continue;
    }
    if (std::string why = kept_reason(t); !why.empty()) {
      choice.kept = why;
      continue;
    }
    const Category c = category_of(t.name);
    const int64_t nx = t.shape.back();
    // The layer for the ffn counters: the counter itself, or with experts the name's blk.N.
    const auto layer = [&](int64_t counter) -> std::optional<int64_t> {
      if (n_expert <= 1) return counter;
      const int64_t l = layer_of(t.name);
      if (l < 0 || l >= n_layer) return std::nullopt;
      return l;
    };
    const GgmlTypeInfo* type = base;
    if (c == Category::Output || (tied && c == Category::TokenEmbd)) {
      if (falcon || nx % base->block != 0) type = T(GgmlType::Q8_0);
      else if (base->type != GgmlType::Q8_0) type = T(GgmlType::Q6_K);
    } else if (c == Category::TokenEmbd) {
      // the recipes here keep the default type for untied embeddings
    } else if (attn_v_like(c)) {
      if (recipe == Recipe::IQ4_XS && f.gqa >= 4) type = T(GgmlType::Q5_K);
      else if ((recipe == Recipe::Q4_K_M || recipe == Recipe::Q5_K_M) && more_bits(i_attn_v, n_attn_v)) type = T(GgmlType::Q6_K);
      if (is_70b && (type->type == GgmlType::Q3_K || type->type == GgmlType::Q4_K)) type = T(GgmlType::Q5_K);
      if (f.experts == 8) type = T(GgmlType::Q8_0);
      ++i_attn_v;
    } else if (c == Category::AttnK) {
      if (f.experts == 8) type = T(GgmlType::Q8_0);
    } else if (c == Category::FfnDown) {
      const auto l = layer(i_ffn_down);
      if (!l) {
        choice.error = "llama-quantize stops here: the layer of an expert tensor must come from a blk.N. name below " + std::to_string(n_layer);
        continue;
      }
      const int64_t i = *l;
      if (recipe == Recipe::Q4_K_M) {
        if (falcon) type = i < n_layer / 16 ? T(GgmlType::Q6_K) : more_bits(i, n_layer) ? T(GgmlType::Q5_K) : T(GgmlType::Q4_K);
        else if (more_bits(i, n_layer)) type = T(GgmlType::Q6_K);
      } else if (i < n_layer / 8 && recipe == Recipe::IQ4_XS && !has_imatrix) {
        type = T(GgmlType::Q5_K);
      } else if (recipe == Recipe::Q5_K_M && more_bits(i, n_layer)) {
        type = T(GgmlType::Q6_K);
      } else if (recipe == Recipe::Q4_0 && has_imatrix && i < n_layer / 8) {
        type = T(GgmlType::Q4_1);
      }
      ++i_ffn_down;
    } else if (c == Category::AttnOutput) {
      if (!falcon && f.experts == 8 && (recipe == Recipe::Q4_K_M || recipe == Recipe::IQ4_XS)) type = T(GgmlType::Q5_K);
    } else if (c == Category::FfnGate || c == Category::FfnUp) {
      int64_t& counter = c == Category::FfnGate ? i_ffn_gate : i_ffn_up;
      if (!layer(counter)) {
        choice.error = "llama-quantize stops here: the layer of an expert tensor must come from a blk.N. name below " + std::to_string(n_layer);
        continue;
      }
      ++counter;  // their rules are for other recipes (IQ3_XS)
    }
    // A row that is not whole blocks of the type: llama-quantize's fallback, then float16.
    if (nx % type->block != 0) {
      const std::string rows = "rows of " + std::to_string(nx) + " are not whole blocks of " + std::to_string(type->block);
      const GgmlTypeInfo* fb = type->fallback ? ggml_type_by_name(type->fallback) : nullptr;
      if (!fb) {
        choice.error = std::string("llama-quantize stops here: ") + rows + " and " + type->name + " has no fallback";
        continue;
      }
      if (nx % fb->block != 0) {
        choice.float16 = true;
        choice.note = rows + ", nor of " + std::to_string(fb->block) + " (" + fb->name + "): " + type->name + " → float16";
        continue;
      }
      choice.note = rows + ": " + type->name + " → " + fb->name;
      type = fb;
    }
    choice.type = type;
  }
  return out;
}

}  // namespace qe
