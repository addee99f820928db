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

#include "formats.h"

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
