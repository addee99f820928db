// ggml's block types against ggml itself: every case of ../shared/ggml/quants.json (ggml's
// ggml_quantize_chunk and to_float on 2 rows of 512 values, with and without importance weights)
// must give ggml's bytes and ggml's float32 values bit for bit. Also the float16 conversion on every
// code and on the rounding boundaries, the row-length errors, and inputs at float32's extremes.
#include "gguf_quants.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "analyze.h"
#include "formats.h"
#include "tensor_files.h"

using json = nlohmann::json;
using namespace qe;

namespace {

std::vector<uint8_t> base64(const std::string& s) {
  std::vector<uint8_t> out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else continue;  // padding
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

std::vector<float> floats(const std::string& s) {
  const std::vector<uint8_t> b = base64(s);
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), f.size() * 4);  // little-endian on every target we build
  return f;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const std::string kQuants = std::string(QE_GGML_DATA_DIR) + "/quants.json";

// The cases of quants.json, decoded.
struct Case {
  std::string id;
  const GgmlTypeInfo* type;
  size_t n_per_row, rows;
  std::vector<float> x, importance, dequantized;
  std::vector<uint8_t> blocks;
};

std::vector<Case> load_cases() {
  std::ifstream in(kQuants);
  const json doc = json::parse(in);
  std::vector<Case> out;
  for (const json& c : doc["cases"]) {
    Case k;
    k.id = c["id"].get<std::string>();
    std::string name = c["type"].get<std::string>();
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    k.type = ggml_type_by_name(name);
    k.n_per_row = c["n_per_row"].get<size_t>();
    k.rows = c["nrows"].get<size_t>();
    k.x = floats(c["input_f32"].get<std::string>());
    if (!c["imatrix_f32"].is_null()) k.importance = floats(c["imatrix_f32"].get<std::string>());
    k.blocks = base64(c["blocks"].get<std::string>());
    k.dequantized = floats(c["dequantized_f32"].get<std::string>());
    out.push_back(std::move(k));
  }
  return out;
}

bool have_reference() {
  std::ifstream in(kQuants);
  if (in.good()) return true;
  MESSAGE("skipped: ggml's reference data " << kQuants << " is absent (it lives beside the repository)");
  return false;
}

}  // namespace

TEST_CASE("every case of ggml's quants.json: ggml's bytes and ggml's dequantization, bit for bit") {
  if (!have_reference()) return;
  std::ifstream in(kQuants);
  const json doc = json::parse(in);
  std::map<std::string, int> passed;
  int cases = 0;
  for (const json& c : doc["cases"]) {
    const std::string id = c["id"].get<std::string>();
    CAPTURE(id);
    std::string name = c["type"].get<std::string>();
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const GgmlTypeInfo* t = ggml_type_by_name(name);
    REQUIRE(t != nullptr);
    CHECK(static_cast<uint32_t>(t->type) == c["ggml_type"].get<uint32_t>());
    CHECK(t->block == c["block_elements"].get<int>());
    CHECK(t->bytes == c["block_bytes"].get<int>());
    const size_t n_per_row = c["n_per_row"].get<size_t>(), rows = c["nrows"].get<size_t>();
    const std::vector<float> x = floats(c["input_f32"].get<std::string>());
    REQUIRE(x.size() == n_per_row * rows);
    std::vector<float> importance;
    if (!c["imatrix_f32"].is_null()) importance = floats(c["imatrix_f32"].get<std::string>());
    const std::vector<uint8_t> want = base64(c["blocks"].get<std::string>());
    REQUIRE(want.size() == rows * ggml_row_bytes(*t, n_per_row));
    std::vector<uint8_t> got(want.size(), 0xAA);
    ggml_quantize(*t, x.data(), rows, n_per_row, importance.empty() ? nullptr : importance.data(), got.data());
    size_t first_byte = want.size();
    for (size_t i = 0; i < want.size() && first_byte == want.size(); ++i)
      if (got[i] != want[i]) first_byte = i;
    CAPTURE(first_byte);
    CHECK(first_byte == want.size());

    const std::vector<float> want_x = floats(c["dequantized_f32"].get<std::string>());
    std::vector<float> got_x(want_x.size());
    ggml_dequantize(*t, want.data(), want.size() / static_cast<size_t>(t->bytes), got_x.data());
    size_t first_value = want_x.size();
    for (size_t i = 0; i < want_x.size() && first_value == want_x.size(); ++i)
      if (bits(got_x[i]) != bits(want_x[i])) first_value = i;
    CAPTURE(first_value);
    CHECK(first_value == want_x.size());
    ++cases;
    if (first_byte == want.size() && first_value == want_x.size()) ++passed[t->name];
  }
  CHECK(cases == 320);
  std::string summary;
  for (const auto& [name, count] : passed) summary += " " + name + ":" + std::to_string(count);
  MESSAGE("byte-exact cases per type:" << summary);
  for (const GgmlTypeInfo& t : kGgmlTypes) CHECK(passed[t.name] == 20);
}

TEST_CASE("float16 conversion: every half round-trips, and floats round to nearest even as binary16 does") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      CHECK((fp32_to_fp16(f) & 0x7FFF) == 0x7E00);  // ggml's one quiet NaN, with the sign
      continue;
    }
    CHECK(fp32_to_fp16(f) == h);
    // The exact value, against the format's definition.
    CHECK(static_cast<double>(f) == format_info(NumberFormat::Fp16).element.decode(h));
  }
  // Every float32 near each half's rounding boundaries, and random ones, against the minifloat
  // encoder of formats.h (which rounds the exact value to nearest even).
  const Minifloat& half = format_info(NumberFormat::Fp16).element;
  std::mt19937 rng(15);
  std::vector<float> probes;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float lo = fp16_to_fp32(static_cast<uint16_t>(h)), hi = fp16_to_fp32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);  // exact in float32
    probes.insert(probes.end(), {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)});
  }
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f)) probes.push_back(f);
  }
  for (float f : {0.0f, -0.0f, 65504.0f, 65519.996f, 65520.0f, 1e30f, INFINITY, -INFINITY, 0x1p-25f, 0x1.000002p-25f,
                  0x1p-24f, 0x1.8p-24f, 0x1p-14f, 0x1.ffcp-15f})
    probes.push_back(f);
  for (float f : probes) {
    CAPTURE(f);
    for (float v : {f, -f}) CHECK(fp32_to_fp16(v) == half.encode(static_cast<double>(v), Overflow::InfNan));
  }
}

TEST_CASE("a row that is not a multiple of the block: the message names llama-quantize's fallback") {
  const auto message = [](const char* type, int64_t n) {
    return row_length_error(*ggml_type_by_name(type), n).value_or("");
  };
  CHECK(message("q4_k", 512).empty());
  CHECK(message("q4_k", 4096 + 32).find("as Q5_0 instead") != std::string::npos);
  CHECK(message("q5_k", 96).find("as Q5_1 instead") != std::string::npos);
  CHECK(message("q6_k", 96).find("as Q8_0 instead") != std::string::npos);
  CHECK(message("q2_k", 96).find("as Q4_0 instead") != std::string::npos);
  CHECK(message("q3_k", 96).find("as Q4_0 instead") != std::string::npos);
  CHECK(message("iq4_xs", 96).find("as IQ4_NL instead") != std::string::npos);
  CHECK(message("q4_k", 100).find("store the tensor as F16") != std::string::npos);
  CHECK(message("q4_k", 100).find("holds 100") != std::string::npos);
  const std::string q8 = message("q8_0", 33);
  CHECK(q8.find("Q8_0 stores rows in blocks of 32") != std::string::npos);
  CHECK(q8.find("llama-quantize") == std::string::npos);  // it has no fallback
  CHECK(message("nvfp4", 32).find("blocks of 64") != std::string::npos);
  CHECK(!message("q8_0", 0).empty());
}

TEST_CASE("types without an imatrix path ignore importance; the others use it") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> weight(0.01f, 20);
  std::vector<float> x(512), w(256);
  for (float& v : x) v = normal(rng);
  for (float& v : w) v = weight(rng);
  for (const GgmlTypeInfo& t : kGgmlTypes) {
    CAPTURE(t.name);
    const size_t n = 256;  // one row of 256 (two rows of 256 for the 32- and 64-blocks too)
    std::vector<uint8_t> plain(2 * ggml_row_bytes(t, n)), weighted(plain.size());
    ggml_quantize(t, x.data(), 2, n, nullptr, plain.data());
    ggml_quantize(t, x.data(), 2, n, w.data(), weighted.data());
    CHECK((plain != weighted) == t.importance);
  }
}

TEST_CASE("float32's extremes: finite blocks or ggml's Inf and NaN, never undefined behaviour") {
  // Subnormal and tiny rows (a scale's reciprocal overflows), the largest floats (float16 scales
  // overflow to Inf), and mixtures; run under UBSan in the sanitizer build.
  std::vector<std::vector<float>> rows;
  rows.push_back(std::vector<float>(256, 1e-45f));
  rows.push_back(std::vector<float>(256, -3e-39f));
  rows.push_back(std::vector<float>(256, 3.4e38f));
  std::vector<float> mixed(256);
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = (i % 3 == 0 ? -1 : 1) * (i % 2 ? 3.3e38f : 1e-44f);
  rows.push_back(mixed);
  std::vector<float> w(256, 1.0f);
  for (const GgmlTypeInfo& t : kGgmlTypes) {
    CAPTURE(t.name);
    for (const auto& x : rows) {
      std::vector<uint8_t> blocks(ggml_row_bytes(t, 256));
      for (const float* importance : {static_cast<const float*>(nullptr), static_cast<const float*>(w.data())}) {
        ggml_quantize(t, x.data(), 1, 256, importance, blocks.data());
        std::vector<float> back(256);
        ggml_dequantize(t, blocks.data(), blocks.size() / static_cast<size_t>(t.bytes), back.data());
        for (float v : back)
          if (std::isnan(v)) CHECK(bits(v) == 0xFFC00000u);
      }
    }
  }
}

TEST_CASE("inspect_block: the codes and (sub-)block scales it reports give ggml's dequantization") {
  if (!have_reference()) return;
  int checked = 0;
  for (const Case& c : load_cases()) {
    CAPTURE(c.id);
    const GgmlTypeInfo& t = *c.type;
    const size_t nsub = static_cast<size_t>(t.block / t.sub_block);
    for (size_t b = 0; b < c.blocks.size() / static_cast<size_t>(t.bytes); ++b) {
      GgmlBlockView v;
      inspect_block(t, c.blocks.data() + b * static_cast<size_t>(t.bytes), v);
      for (size_t j = 0; j < static_cast<size_t>(t.block); ++j) {
        const int code = v.codes[j];
        REQUIRE(code >= t.code_min);
        REQUIRE(code <= t.code_max);
        const size_t sub = j / static_cast<size_t>(t.sub_block);
        const float scale = v.sub_scale[sub], min = v.sub_min[sub];
        const float value = static_cast<float>(ggml_code_value(t, code));
        // x̂ as each type's dequantization forms it from these fields.
        float want;
        if (t.type == GgmlType::Q4_1 || t.type == GgmlType::Q5_1) want = value * scale + min;
        else if (t.has_min) want = scale * value - min;
        else if (t.type == GgmlType::IQ4_NL || t.type == GgmlType::IQ4_XS || nsub > 1) want = scale * value;
        else want = value * scale;
        const float got = c.dequantized[b * static_cast<size_t>(t.block) + j];
        if (std::isnan(got)) CHECK(std::isnan(want));
        else CHECK(bits(got) == bits(want));
      }
      if (nsub == 1 && t.type != GgmlType::NVFP4) CHECK(v.d == v.sub_scale[0]);
    }
    ++checked;
  }
  CHECK(checked == 320);
}

namespace {

AnalyzeOptions ggml_options(const char* name, std::vector<int64_t> shape, const std::vector<float>* importance = nullptr) {
  AnalyzeOptions o;
  o.scheme.profile = std::string(name) == "mxfp4" || std::string(name) == "nvfp4" ? Profile::Ggml : Profile::Formula;
  REQUIRE(select_ggml_format(o.scheme, name));
  o.scheme.shape = std::move(shape);
  if (importance && !importance->empty()) o.importance = importance->data(), o.importance_count = importance->size();
  return o;
}

Error error_of(const Result<Analysis>& r) {
  REQUIRE(std::holds_alternative<Error>(r));
  return std::get<Error>(r);
}

}  // namespace

TEST_CASE("analyze() with ggml's types: ggml's bytes and x_hat on every case, and the metrics of those") {
  if (!have_reference()) return;
  for (const Case& c : load_cases()) {
    CAPTURE(c.id);
    const AnalyzeOptions o = ggml_options(c.type->name, {static_cast<int64_t>(c.rows), static_cast<int64_t>(c.n_per_row)},
                                          &c.importance);
    GgmlBlocks g;
    auto r = analyze(c.x.data(), c.x.size(), o, &g);
    REQUIRE(std::holds_alternative<Analysis>(r));
    const Analysis& a = std::get<Analysis>(r);
    CHECK(g.bytes == c.blocks);
    REQUIRE(a.dequantized_f32.size() == c.dequantized.size());
    bool same_x = true;
    double sum_err2 = 0;
    for (size_t i = 0; i < c.dequantized.size(); ++i) {
      same_x = same_x && bits(a.dequantized_f32[i]) == bits(c.dequantized[i]);
      const double e = static_cast<double>(c.x[i]) - c.dequantized[i];
      sum_err2 += e * e;
      same_x = same_x && (a.errors[i] == e || (std::isnan(e) && std::isnan(a.errors[i])));
    }
    CHECK(same_x);
    if (std::isfinite(sum_err2)) CHECK(a.metrics.mse == doctest::Approx(sum_err2 / static_cast<double>(c.x.size())));
    const size_t blocks = c.blocks.size() / static_cast<size_t>(c.type->bytes);
    CHECK(g.codes_used.size() == blocks);
    CHECK(a.block_scales.size() == (c.type->type == GgmlType::NVFP4 ? 0 : blocks));
    CHECK(a.params.qmin == c.type->code_min);
    CHECK(std::isnan(a.metrics.step));
    CHECK(std::isnan(g.weighted_mse) == c.importance.empty());
    // The same values as float64 samples (exactly representable): the same blocks.
    const std::vector<double> x64(c.x.begin(), c.x.end());
    GgmlBlocks g64;
    REQUIRE(std::holds_alternative<Analysis>(analyze(x64.data(), x64.size(), o, &g64)));
    CHECK(g64.bytes == c.blocks);
  }
}

TEST_CASE("importance-weighted metrics weigh each column's squared error") {
  std::vector<float> x(512), w(256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i)) * (1 + static_cast<float>(i % 7));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 5);
  GgmlBlocks g;
  auto r = analyze(x.data(), x.size(), ggml_options("q4_k", {2, 256}, &w), &g);
  REQUIRE(std::holds_alternative<Analysis>(r));
  const Analysis& a = std::get<Analysis>(r);
  double sw = 0, swe = 0, swx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = a.errors[i], wi = w[i % 256];
    sw += wi, swe += wi * e * e, swx += wi * static_cast<double>(x[i]) * x[i];
  }
  CHECK(g.weighted_mse == doctest::Approx(swe / sw));
  CHECK(g.weighted_sqnr_db == doctest::Approx(10 * std::log10(swx / swe)));
}

TEST_CASE("analyze() with ggml's types: bad options and bad importance weights name their field") {
  std::vector<float> x(512, 0.5f);
  x[3] = -2;
  const auto run = [&](AnalyzeOptions o) { return analyze(x.data(), x.size(), o); };
  {
    const Error e = error_of(run(ggml_options("q4_k", {4, 128})));
    CHECK(e.field == "shape");
    CHECK(e.message.find("as Q5_0 instead") != std::string::npos);
  }
  CHECK(error_of(run(ggml_options("q4_k", {3, 256}))).field == "shape");  // 768 ≠ 512
  CHECK(std::holds_alternative<Analysis>(run(ggml_options("q4_k", {}))));  // one row of 512
  std::vector<float> short_w(100, 1.0f), negative(256, 1.0f), nan_w(256, 1.0f), inf_w(256, 1.0f);
  negative[7] = -1;
  nan_w[9] = NAN;
  inf_w[2] = INFINITY;
  {
    const Error e = error_of(run(ggml_options("q4_k", {2, 256}, &short_w)));
    CHECK(e.field == "importance");
    CHECK(e.message.find("256") != std::string::npos);
  }
  for (const auto& [weights, index] : {std::pair{&negative, 7}, std::pair{&nan_w, 9}, std::pair{&inf_w, 2}}) {
    const Error e = error_of(run(ggml_options("q6_k", {2, 256}, weights)));
    CHECK(e.field == "importance");
    CHECK(e.index == index);
  }
  {
    AnalyzeOptions o;
    std::vector<float> w(512, 1.0f);
    o.importance = w.data(), o.importance_count = w.size();
    CHECK(error_of(run(o)).field == "importance");  // integers take no importance
  }
  {
    AnalyzeOptions o = ggml_options("q8_0", {});
    o.scheme.granularity = Granularity::Group, o.scheme.group_size = 32;
    CHECK(error_of(run(o)).field == "granularity");
  }
  {
    AnalyzeOptions o = ggml_options("q8_0", {});
    o.scheme.range = Range{-1, 1};
    CHECK(error_of(run(o)).field == "range.min");
  }
  {
    AnalyzeOptions o = ggml_options("q8_0", {});
    o.scheme.profile = Profile::PyTorch;
    CHECK(error_of(run(o)).field == "profile");
  }
  {
    AnalyzeOptions o;
    o.scheme.profile = Profile::Ggml;
    o.scheme.format = NumberFormat::Fp16;
    CHECK(error_of(run(o)).field == "profile");
  }
  {
    std::vector<double> big(512, 1.0);
    big[5] = 1e39;  // beyond float32
    const Error e = error_of(analyze(big.data(), big.size(), ggml_options("q8_0", {})));
    CHECK(e.field == "values");
    CHECK(e.index == 5);
  }
  // mxfp4 and nvfp4 are ggml's only under profile 'ggml'.
  QuantScheme s;
  CHECK(!select_ggml_format(s, "mxfp4"));
  CHECK(!select_ggml_format(s, "fp16"));
  s.profile = Profile::Ggml;
  CHECK(select_ggml_format(s, "nvfp4"));
  CHECK(s.ggml->type == GgmlType::NVFP4);
}

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<TensorInfo> gguf_tensors(const std::vector<uint8_t>& file) {
  auto r = read_gguf(file.data(), file.size(), file.size());
  REQUIRE(std::holds_alternative<GgufHeader>(r));
  REQUIRE(std::get<GgufHeader>(r).need == 0);
  return std::get<GgufHeader>(r).tensors;
}

}  // namespace

TEST_CASE("ggml's GGUF files: every quantized tensor is read, and re-quantizing the float file reproduces its blocks") {
  if (!have_reference()) return;
  const std::vector<uint8_t> fq = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-q4_k_m.gguf");
  const std::vector<uint8_t> ff = file_bytes(std::string(QE_GGML_DATA_DIR) + "/tiny-float.gguf");
  const std::vector<TensorInfo> quantized = gguf_tensors(fq), floats = gguf_tensors(ff);
  REQUIRE(quantized.size() == 11);
  std::map<std::string, int> types;
  for (const TensorInfo& q : quantized) {
    CAPTURE(q.name);
    REQUIRE(q.skipped.empty());
    const auto f = std::find_if(floats.begin(), floats.end(), [&](const TensorInfo& t) { return t.name == q.name; });
    REQUIRE(f != floats.end());
    CHECK(f->shape == q.shape);
    std::vector<float> x(f->count);
    to_float(ff.data() + f->offset, x.size(), *f, x.data());
    std::vector<float> got(q.count);
    to_float(fq.data() + q.offset, got.size(), q, got.data());
    ++types[dtype_name(q)];
    if (q.dtype != DType::Ggml) {  // the norms, kept as they were
      CHECK(got == x);
      continue;
    }
    // ggml_quantize_chunk on the float file's values, rows along ne[0]: the file's bytes.
    const size_t per_row = static_cast<size_t>(q.shape.back()), rows = q.count / per_row;
    std::vector<uint8_t> mine(tensor_bytes(q));
    ggml_quantize(*q.ggml, x.data(), rows, per_row, nullptr, mine.data());
    CHECK(std::equal(mine.begin(), mine.end(), fq.begin() + static_cast<std::ptrdiff_t>(q.offset)));
    // The same through analyze(): the tensor's error against its original is llama.cpp's.
    AnalyzeOptions o;
    REQUIRE(select_ggml_format(o.scheme, q.ggml->name));
    o.scheme.shape = q.shape;
    GgmlBlocks g;
    auto r = analyze(x.data(), x.size(), o, &g);
    REQUIRE(std::holds_alternative<Analysis>(r));
    CHECK(g.bytes == mine);
    double e2 = 0;
    for (size_t i = 0; i < x.size(); ++i) e2 += (static_cast<double>(x[i]) - got[i]) * (static_cast<double>(x[i]) - got[i]);
    CHECK(std::get<Analysis>(r).metrics.mse == doctest::Approx(e2 / static_cast<double>(x.size())).epsilon(1e-12));
  }
  CHECK(types == std::map<std::string, int>{{"float32", 2}, {"q4_k", 4}, {"q5_k", 1}, {"q6_k", 3}, {"q8_0", 1}});
}
