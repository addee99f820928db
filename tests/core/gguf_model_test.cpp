// Whole GGUF models: a quantized file against its float original (ggml's two reference files),
// imatrix files in both layouts, and llama-quantize's recipes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "analyze.h"
#include "gguf_model.h"
#include "metrics.h"

using namespace qe;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool have_reference() {
  std::ifstream in(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
  if (!in) MESSAGE("../shared/ggml is not here: the reference-file checks are skipped");
  return static_cast<bool>(in);
}

GgufHeader header(const Bytes& file) {
  auto r = read_gguf(file.data(), file.size(), file.size());
  REQUIRE(std::holds_alternative<GgufHeader>(r));
  REQUIRE(std::get<GgufHeader>(r).need == 0);
  return std::get<GgufHeader>(r);
}

// Compares a pair chunk by chunk (`chunk` rows at a time), every pass.
TensorComparisonResult compare(const Bytes& fa, const TensorInfo& a, const Bytes& fb, const TensorInfo& b, ImportanceView w, uint64_t chunk) {
  TensorComparison c(a, b, w);
  REQUIRE_FALSE(c.check());
  while (!c.done()) {
    for (uint64_t r = 0; r < c.rows(); r += chunk) {
      const uint64_t n = std::min(chunk, c.rows() - r);
      REQUIRE_FALSE(c.add(fa.data() + a.offset + r * c.original_row_bytes(), fb.data() + b.offset + r * c.quantized_row_bytes(), n));
    }
    c.next();
    REQUIRE(c.passes() < 20);
  }
  return c.finish();
}

struct Writer {
  std::string s;
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>(v >> (8 * i));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) s += static_cast<char>(v >> (8 * i));
  }
  void str(const std::string& t) {
    u64(t.size());
    s += t;
  }
  void f32(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u32(u);
  }
};

// An imatrix GGUF: for each (name, sums, counts) the tensors name.in_sum2 (ne = [sums / counts, counts])
// and name.counts (ne = [1, counts]), F32 (type 0 unless `type` says), with imatrix.chunk_count.
struct Entry {
  std::string name;
  std::vector<float> sums, counts;
};
Bytes imatrix_gguf(const std::vector<Entry>& entries, uint32_t counts_type = 0) {
  Writer w;
  w.s = "GGUF";
  w.u32(3);
  w.u64(entries.size() * 2);
  w.u64(1);
  w.str("imatrix.chunk_count");
  w.u32(4);
  w.u32(7);
  uint64_t at = 0;
  std::vector<std::pair<const std::vector<float>*, uint64_t>> data;
  for (const Entry& e : entries) {
    for (int k = 0; k < 2; ++k) {
      const std::vector<float>& v = k ? e.counts : e.sums;
      w.str(e.name + (k ? ".counts" : ".in_sum2"));
      w.u32(2);
      w.u64(k ? 1 : e.sums.size() / e.counts.size());
      w.u64(e.counts.size());
      w.u32(k ? counts_type : 0);
      w.u64(at);
      data.emplace_back(&v, at);
      at += (v.size() * 4 + 31) / 32 * 32;
    }
  }
  while (w.s.size() % 32) w.s += '\0';
  const size_t start = w.s.size();
  for (auto& [v, off] : data) {
    w.s.resize(start + off, '\0');
    for (float f : *v) w.f32(f);
  }
  return Bytes(w.s.begin(), w.s.end());
}

// llama-imatrix's legacy .dat: entries of (name, ncall, values), then the chunk count and dataset.
Bytes imatrix_dat(const std::vector<std::pair<std::string, std::vector<float>>>& entries, int ncall, bool trailer = true) {
  Writer w;
  w.u32(static_cast<uint32_t>(entries.size()));
  for (const auto& [name, v] : entries) {
    w.u32(static_cast<uint32_t>(name.size()));
    w.s += name;
    w.u32(static_cast<uint32_t>(ncall));
    w.u32(static_cast<uint32_t>(v.size()));
    for (float f : v) w.f32(f);
  }
  if (trailer) {
    w.u32(12);
    w.u32(4);
    w.s += "wiki";
  }
  return Bytes(w.s.begin(), w.s.end());
}

template <class T>
T ok(FileResult<T> r) {
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->message);
  return std::get<T>(std::move(r));
}

std::string error_of(FileResult<Imatrix> r) {
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).field == "imatrix");
  return std::get<Error>(r).message;
}

}  // namespace

TEST_CASE("compare: ggml's quantized file against its float original, every block identical to the reference quantizer") {
  if (!have_reference()) return;
  const Bytes ff = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
  const Bytes fq = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-q4_k_m.gguf");
  const GgufHeader hf = header(ff), hq = header(fq);
  const FileMatch m = match_tensors(hf.tensors, hq.tensors);
  REQUIRE(m.pairs.size() == 11);
  CHECK(m.only_original.empty());
  CHECK(m.only_quantized.empty());
  for (const TensorPair& p : m.pairs) {
    const TensorInfo &a = hf.tensors[p.original], &b = hq.tensors[p.quantized];
    CAPTURE(b.name);
    CHECK(p.error.empty());
    // In chunks of 3 rows, and whole: the same result.
    const TensorComparisonResult r = compare(ff, a, fq, b, {}, 3), whole = compare(ff, a, fq, b, {}, 1u << 20);
    CHECK(r.units_differing == 0);
    CHECK(r.first_differing == -1);
    CHECK(r.units == (b.dtype == DType::Ggml ? b.count / static_cast<uint64_t>(b.ggml->block) : b.count));
    CHECK(std::string(r.unit) == (b.dtype == DType::Ggml ? "blocks" : "values"));
    // The metrics, from the values directly: e = x − x̂, ggml's dequantization.
    std::vector<float> x(a.count), y(b.count);
    to_float(ff.data() + a.offset, x.size(), a, x.data());
    to_float(fq.data() + b.offset, y.size(), b, y.data());
    double e2 = 0, x2 = 0, sum = 0;
    std::vector<double> abs(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const double e = static_cast<double>(x[i]) - y[i];
      e2 += e * e, x2 += static_cast<double>(x[i]) * x[i], sum += e, abs[i] = std::fabs(e);
    }
    const double n = static_cast<double>(x.size());
    CHECK(r.metrics.count == x.size());
    CHECK(r.metrics.mse == doctest::Approx(e2 / n).epsilon(1e-12).scale(1e-300));
    CHECK(r.metrics.mean_error == doctest::Approx(sum / n).epsilon(1e-9).scale(1e-300));
    CHECK(r.sum_x2 == doctest::Approx(x2).epsilon(1e-12).scale(1e-300));
    if (e2 > 0) CHECK(r.metrics.sqnr_db == doctest::Approx(10 * std::log10(x2 / e2)).epsilon(1e-12).scale(1e-300));
    else CHECK(std::isinf(r.metrics.sqnr_db));
    std::vector<double> sorted = abs;
    CHECK(r.metrics.median_abs_error == percentile_linear(sorted.data(), sorted.size(), 0.5));
    sorted = abs;
    CHECK(r.metrics.p95_abs_error == percentile_linear(sorted.data(), sorted.size(), 0.95));
    CHECK(r.metrics.mse == whole.metrics.mse);
    CHECK(r.metrics.median_abs_error == whole.metrics.median_abs_error);
    CHECK(std::isnan(r.weighted_mse));
  }
}

TEST_CASE("compare: a changed block is found and counted; another shape or a missing tensor is named") {
  if (!have_reference()) return;
  const Bytes ff = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
  Bytes fq = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-q4_k_m.gguf");
  const GgufHeader hf = header(ff), hq = header(fq);
  const auto find = [](const GgufHeader& h, const std::string& name) {
    return *std::find_if(h.tensors.begin(), h.tensors.end(), [&](const TensorInfo& t) { return t.name == name; });
  };
  const TensorInfo a = find(hf, "blk.0.attn_q.weight"), b = find(hq, "blk.0.attn_q.weight");
  REQUIRE(b.dtype == DType::Ggml);
  // A code nibble of block 5 (q4_K: 144 bytes a block, the codes from byte 16).
  fq[b.offset + 5 * 144 + 40] ^= 0x11;
  const TensorComparisonResult r = compare(ff, a, fq, b, {}, 7);
  CHECK(r.units == 128 * 2);
  CHECK(r.units_differing == 1);
  CHECK(r.first_differing == 5);
  CHECK(r.metrics.mse > 0);
  // Another shape, a tensor missing on either side.
  std::vector<TensorInfo> left = hf.tensors, right = hq.tensors;
  left.erase(left.begin());                 // token_embd only in the quantized file
  right.back().name = "lm_head.weight";     // output.weight only in the original, lm_head only here
  right[2].shape = {64, 512};
  const FileMatch m = match_tensors(left, right);
  CHECK(m.only_quantized == std::vector<std::string>{"token_embd.weight", "lm_head.weight"});
  CHECK(m.only_original == std::vector<std::string>{"output.weight"});
  const auto bad = std::find_if(m.pairs.begin(), m.pairs.end(), [&](const TensorPair& p) { return !p.error.empty(); });
  REQUIRE(bad != m.pairs.end());
  CHECK(bad->error == "shape [64, 512] here, [128, 512] in the original");
  TensorInfo wrong = b;
  wrong.shape = {64, 1024};
  CHECK(TensorComparison(a, wrong, {}).check()->message == "Tensor \"blk.0.attn_q.weight\": shape [64, 1024] here, [128, 512] in the original");
}

TEST_CASE("imatrix files: GGUF (in_sum2 / counts) and the legacy .dat, as llama-quantize divides them") {
  // Two matrices of 4 columns for "e", one of 2 for "a".
  const Bytes g = imatrix_gguf({{"b.weight", {8, 4, 2, 0, 30, 60, 90, 120}, {4, 30}}, {"a.weight", {1, 3}, {0}}});
  const Imatrix im = ok(read_imatrix(g.data(), g.size()));
  CHECK(im.format == "gguf");
  CHECK(im.chunks == 7);
  REQUIRE(im.entries.size() == 2);
  const ImatrixEntry* b = im.find("b.weight");
  REQUIRE(b);
  CHECK(b->matrices == 2);
  CHECK(b->importance == std::vector<float>{2, 1, 0.5f, 0, 1, 2, 3, 4});
  CHECK(im.find("a.weight")->importance == std::vector<float>{1, 1});  // no activations: weight 1
  CHECK(im.find("c.weight") == nullptr);
  // Its use for a tensor: one weight per column of each matrix.
  auto v = importance_for(&im, "b.weight", {2, 3, 4});
  REQUIRE(std::holds_alternative<ImportanceView>(v));
  CHECK(std::get<ImportanceView>(v).matrices == 2);
  auto wrong = importance_for(&im, "b.weight", {3, 5});
  REQUIRE(std::holds_alternative<Error>(wrong));
  CHECK(std::get<Error>(wrong).message == "imatrix entry \"b.weight\" holds 8 weights; tensor [3, 5] needs 5 per column (is the imatrix from another model?)");
  CHECK(std::get<Error>(importance_for(&im, "b.weight", {3, 2, 4})).message ==
        "imatrix entry \"b.weight\" holds 8 weights; tensor [3, 2, 4] needs 4 per column × 3 matrices (is the imatrix from another model?)");
  CHECK(std::get<ImportanceView>(importance_for(&im, "c.weight", {3, 8})).weights == nullptr);

  const Bytes d = imatrix_dat({{"blk.0.attn_q.weight", {10, 20, 5}}, {"x", {1}}}, 5);
  const Imatrix legacy = ok(read_imatrix(d.data(), d.size()));
  CHECK(legacy.format == "dat");
  CHECK(legacy.chunks == 12);
  CHECK(legacy.dataset == "wiki");
  CHECK(legacy.find("blk.0.attn_q.weight")->importance == std::vector<float>{2, 4, 1});
  const Bytes d0 = imatrix_dat({{"x", {3, 6}}}, 0, false);
  CHECK(ok(read_imatrix(d0.data(), d0.size())).find("x")->importance == std::vector<float>{3, 6});
}

TEST_CASE("imatrix files that are truncated or lie: an error naming what is wrong") {
  const Bytes d = imatrix_dat({{"blk.0.attn_q.weight", {10, 20, 5}}}, 5);
  for (size_t cut = 0; cut < d.size(); ++cut) {
    CAPTURE(cut);
    if (cut == 47 || cut == 51) continue;  // the trailer (chunks, then the dataset) is optional
    CHECK_FALSE(error_of(read_imatrix(d.data(), cut)).empty());
  }
  Bytes lying = d;
  lying[4] = 200;  // the name's length
  CHECK(error_of(read_imatrix(lying.data(), lying.size())) == "The imatrix file's entry 1 of 1 claims a name of 200 bytes, but 51 remain");
  Bytes many = d;
  many[0] = 0xff, many[1] = 0xff;
  CHECK(error_of(read_imatrix(many.data(), many.size())).find("claims 65535 entries") != std::string::npos);
  Bytes extra = d;
  extra.push_back(1);
  CHECK(error_of(read_imatrix(extra.data(), extra.size())).find("trailer") != std::string::npos);
  const Bytes nan = imatrix_dat({{"x", {1, NAN}}}, 1);
  CHECK(error_of(read_imatrix(nan.data(), nan.size())) == "imatrix entry \"x\": weight 2 is NaN (a mean of squares is a finite number of at least 0)");
  const Bytes twice = imatrix_dat({{"x", {1}}, {"x", {2}}}, 1);
  CHECK(error_of(read_imatrix(twice.data(), twice.size())) == "imatrix entry \"x\" is given twice");

  const Bytes g = imatrix_gguf({{"w", {1, 2, 3, 4}, {2}}});
  for (size_t cut : {size_t{3}, size_t{40}, g.size() - 1}) CHECK_FALSE(error_of(read_imatrix(g.data(), cut)).empty());
  const Bytes f16 = imatrix_gguf({{"w", {1, 2, 3, 4}, {2}}}, 1);
  CHECK(error_of(read_imatrix(f16.data(), f16.size())) == "imatrix tensor \"w.counts\" is F16 (in_sum2 and counts are F32)");
  const Bytes negative = imatrix_gguf({{"w", {1, -2, 3, 4}, {2}}});
  CHECK(error_of(read_imatrix(negative.data(), negative.size())).find("in_sum2 value 2 is") != std::string::npos);
  const Bytes bad_count = imatrix_gguf({{"w", {1, 2, 3, 4}, {-1}}});
  CHECK(error_of(read_imatrix(bad_count.data(), bad_count.size())).find("count 1 is") != std::string::npos);
}

TEST_CASE("compare with importance: weighted metrics, and the re-quantization takes the imatrix path") {
  if (!have_reference()) return;
  const Bytes ff = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
  const Bytes fq = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-q4_k_m.gguf");
  const GgufHeader hf = header(ff), hq = header(fq);
  const TensorInfo a = hf.tensors[2], b = hq.tensors[2];  // attn_q: q4_K
  REQUIRE(b.name == "blk.0.attn_q.weight");
  std::vector<float> w(512);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(1 + (i * 7) % 13);
  const TensorComparisonResult r = compare(ff, a, fq, b, ImportanceView{w.data(), w.size(), 1}, 5);
  CHECK(r.requantized_with_importance);
  CHECK(r.units_differing > 0);  // the file was made without an imatrix
  std::vector<float> x(a.count), y(b.count);
  to_float(ff.data() + a.offset, x.size(), a, x.data());
  to_float(fq.data() + b.offset, y.size(), b, y.data());
  double we2 = 0, wx2 = 0, ws = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(x[i]) - y[i], k = w[i % 512];
    we2 += k * e * e, wx2 += k * static_cast<double>(x[i]) * x[i], ws += k;
  }
  CHECK(r.weighted_mse == doctest::Approx(we2 / ws).epsilon(1e-12).scale(1e-300));
  CHECK(r.weighted_sqnr_db == doctest::Approx(10 * std::log10(wx2 / we2)).epsilon(1e-12).scale(1e-300));
  // With its imatrix, the quantized file would be what llama-quantize writes: the blocks agree.
  std::vector<uint8_t> blocks(tensor_bytes(b));
  ggml_quantize(*b.ggml, x.data(), 128, 512, w.data(), blocks.data());
  Bytes made = fq;
  std::copy(blocks.begin(), blocks.end(), made.begin() + static_cast<std::ptrdiff_t>(b.offset));
  CHECK(compare(ff, a, made, b, ImportanceView{w.data(), w.size(), 1}, 128).units_differing == 0);
  CHECK(TensorComparison(a, b, ImportanceView{w.data(), 100, 1}).check()->field == "imatrix");
}

TEST_CASE("recipes: llama-quantize's Q4_K_M on ggml's float file, and the layer rules on a 32-layer model") {
  if (have_reference()) {
    const Bytes ff = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
    const GgufHeader h = header(ff);
    const ModelFacts f = model_facts(h);
    CHECK(f.architecture == "llama");
    CHECK(f.layers == 1);
    CHECK(f.gqa == 2);  // attn_q's 128 rows over attn_k's 64
    const auto types = recipe_types(Recipe::Q4_K_M, h.tensors, f, false);
    std::map<std::string, std::string> got;
    for (size_t i = 0; i < types.size(); ++i) got[h.tensors[i].name] = types[i].type ? types[i].type->name : "kept";
    CHECK(got == std::map<std::string, std::string>{{"token_embd.weight", "q4_k"}, {"blk.0.attn_norm.weight", "kept"},
                                                    {"blk.0.attn_q.weight", "q4_k"}, {"blk.0.attn_k.weight", "q4_k"},
                                                    {"blk.0.attn_v.weight", "q6_k"}, {"blk.0.ffn_down.weight", "q6_k"},
                                                    {"blk.0.ffn_up.weight", "q4_k"}, {"blk.0.ffn_gate.weight", "q4_k"},
                                                    {"blk.0.ffn_gate_inp.weight", "kept"}, {"output_norm.weight", "kept"},
                                                    {"output.weight", "q6_k"}});
    CHECK(types[1].kept == "1-D: kept");
    CHECK(types[8].kept == "the expert router: kept");
  }
  // 32 layers, a row of 4544 (not whole blocks of 256) in attn_output, tied embeddings.
  std::vector<TensorInfo> ts;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    TensorInfo t;
    t.name = name, t.shape = std::move(shape), t.dtype = DType::F16, t.file_dtype = "F16", t.count = 1;
    for (int64_t d : t.shape) t.count *= static_cast<uint64_t>(d);
    ts.push_back(t);
  };
  add("token_embd.weight", {1000, 4096});
  for (int l = 31; l >= 0; --l) {  // the file's order does not matter: llama.cpp walks by layer
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_v.weight", {1024, 4096});
    add(p + "ffn_down.weight", {4096, 11008});
    add(p + "attn_output.weight", {4544, 4544});
    add(p + "attn_norm.weight", {4096});
  }
  GgufHeader h;
  h.tensors = ts;
  h.architecture = "llama";
  h.integers = {{"llama.block_count", 32}};
  const ModelFacts f = model_facts(h);
  CHECK(f.layers == 32);
  const auto q4km = recipe_types(Recipe::Q4_K_M, ts, f, false);
  std::string v, down;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].name.find("attn_output") != std::string::npos) {
      CHECK(std::string(q4km[i].type->name) == "q5_0");
      CHECK(q4km[i].note == "rows of 4544 are not whole blocks of 256: q4_k → q5_0");
    }
  }
  for (int l = 0; l < 32; ++l) {
    const auto at = [&](const std::string& n) {
      return std::find_if(ts.begin(), ts.end(), [&](const TensorInfo& t) { return t.name == "blk." + std::to_string(l) + "." + n; }) - ts.begin();
    };
    v += q4km[static_cast<size_t>(at("attn_v.weight"))].type->name[1];
    down += q4km[static_cast<size_t>(at("ffn_down.weight"))].type->name[1];
  }
  // use_more_bits: layers 0–3 and 28–31, and every third from 4 on (i − 4) % 3 == 2.
  CHECK(v == "66664464464464464464464464466666");
  CHECK(down == v);
  // Tied embeddings take the output's type: Q6_K (Q8_0 in a Q8_0 file).
  CHECK(std::string(q4km[0].type->name) == "q6_k");
  CHECK(std::string(recipe_types(Recipe::Q8_0, ts, f, false)[0].type->name) == "q8_0");
  CHECK(std::string(recipe_types(Recipe::Q4_0, ts, f, false)[0].type->name) == "q6_k");
  // IQ4_XS: the first eighth of ffn_down in Q5_K without an imatrix, IQ4_XS with one.
  const auto iq = recipe_types(Recipe::IQ4_XS, ts, f, false), iqw = recipe_types(Recipe::IQ4_XS, ts, f, true);
  const size_t down0 = static_cast<size_t>(std::find_if(ts.begin(), ts.end(), [](const TensorInfo& t) { return t.name == "blk.0.ffn_down.weight"; }) - ts.begin());
  CHECK(std::string(iq[down0].type->name) == "q5_k");
  CHECK(std::string(iqw[down0].type->name) == "iq4_xs");
  CHECK(std::string(recipe_types(Recipe::Q4_0, ts, f, true)[down0].type->name) == "q4_1");
  // Q8_0 on a row of 33: no fallback, llama-quantize stops.
  std::vector<TensorInfo> odd = {ts[1]};
  odd[0].shape = {8, 33};
  CHECK(recipe_types(Recipe::Q8_0, odd, f, false)[0].error == "llama-quantize stops here: rows of 33 are not whole blocks of 32 and q8_0 has no fallback");
  CHECK(parse_recipe("Q4_K_M") == Recipe::Q4_K_M);
  CHECK_FALSE(parse_recipe("q4_k_s"));
}

TEST_CASE("analyze() with an expert tensor's imatrix: one weight vector per matrix, as llama-quantize takes them") {
  // Shape [2, 4, 256]: two matrices of 4 rows; each matrix quantized with its own weights.
  std::vector<float> x(2 * 4 * 256), w(2 * 256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 0.05);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i < 256 ? 1 + i % 7 : 20 - (i % 11));
  AnalyzeOptions o;
  REQUIRE(select_ggml_format(o.scheme, "q4_k"));
  o.scheme.shape = {2, 4, 256};
  o.importance = w.data(), o.importance_count = w.size();
  GgmlBlocks g;
  auto r = analyze(x.data(), x.size(), o, &g);
  REQUIRE(std::holds_alternative<Analysis>(r));
  std::vector<uint8_t> want(2 * 4 * 144);
  ggml_quantize(*ggml_type_by_name("q4_k"), x.data(), 4, 256, w.data(), want.data());
  ggml_quantize(*ggml_type_by_name("q4_k"), x.data() + 1024, 4, 256, w.data() + 256, want.data() + 4 * 144);
  CHECK(g.bytes == want);
  // The weighted MSE weighs each matrix's columns by its own vector.
  std::vector<float> y(x.size());
  ggml_dequantize(*ggml_type_by_name("q4_k"), want.data(), 8, y.data());
  double we2 = 0, ws = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double k = w[(i / 1024) * 256 + i % 256], e = static_cast<double>(x[i]) - y[i];
    we2 += k * e * e, ws += k;
  }
  CHECK(g.weighted_mse == doctest::Approx(we2 / ws).epsilon(1e-12).scale(1e-300));
  // A vector of another length names both counts it takes.
  o.importance_count = 300;
  auto bad = analyze(x.data(), x.size(), o);
  REQUIRE(std::holds_alternative<Error>(bad));
  CHECK(std::get<Error>(bad).message ==
        "Importance needs one weight per column, 256 (the row length: the last axis of shape), or one per column of each of the 2 matrices, but has 300");
}
