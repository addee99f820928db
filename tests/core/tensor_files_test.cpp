// .npy and .safetensors headers: every dtype and byte order, C and Fortran order, many tensors,
// and a malformed-file corpus (every truncation, lying lengths and offsets, random bytes) that
// must give errors, never a crash or a read out of bounds (this suite also runs under ASan).
#include "tensor_files.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace qe;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes npy(const std::string& descr, bool fortran, const std::string& shape, const Bytes& data, int version = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
  const size_t fixed = version == 1 ? 10 : 12;
  while ((fixed + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string s = "\x93NUMPY";
  s += static_cast<char>(version);
  s += '\0';
  const size_t n = dict.size();
  s += static_cast<char>(n & 0xff);
  s += static_cast<char>(n >> 8);
  if (version != 1) s += std::string(2, '\0');
  s += dict;
  s.append(data.begin(), data.end());
  return Bytes(s.begin(), s.end());
}

template <class T>
Bytes raw(const std::vector<T>& v, bool big = false) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  if (big)
    for (size_t i = 0; i < v.size(); ++i) std::reverse(b.begin() + static_cast<long>(i * sizeof(T)), b.begin() + static_cast<long>((i + 1) * sizeof(T)));
  return b;
}

Bytes safetensors(const std::string& header, const Bytes& data) {
  std::string s;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) s += static_cast<char>(n >> (8 * i));
  s += header;
  s.append(data.begin(), data.end());
  return Bytes(s.begin(), s.end());
}

std::vector<double> values_of(const Bytes& file, const TensorInfo& t) {
  std::vector<double> out(t.count);
  to_double(file.data() + t.offset, t.count, t, out.data());
  return out;
}

template <class T>
T ok(FileResult<T> r) {
  if (auto* e = std::get_if<Error>(&r)) FAIL(e->message);
  return std::get<T>(std::move(r));
}

std::string error_of(const FileResult<TensorInfo>& r) { return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : ""; }

}  // namespace

TEST_CASE(".npy: every dtype, both byte orders, versions 1 and 2") {
  const std::vector<float> f = {1.5f, -2.25f, 0.0f, 3e-8f, -1e30f, 7.0f};
  const std::vector<double> want(f.begin(), f.end());
  for (bool big : {false, true}) {
    for (int version : {1, 2}) {
      const Bytes file = npy(big ? ">f4" : "<f4", false, "(2, 3)", raw(f, big), version);
      const TensorInfo t = ok(read_npy(file.data(), file.size(), file.size()));
      CHECK(t.dtype == DType::F32);
      CHECK(t.big_endian == big);
      CHECK(t.shape == std::vector<int64_t>{2, 3});
      CHECK(values_of(file, t) == want);
    }
  }
  const std::vector<double> d = {0.1, -1e300, 5e-324};
  CHECK(values_of(npy("<f8", false, "(3,)", raw(d)), ok(read_npy(npy("<f8", false, "(3,)", raw(d)).data(), 200, 200 + 24))) .size() == 3);
  const Bytes f8 = npy("<f8", false, "(3,)", raw(d));
  CHECK(values_of(f8, ok(read_npy(f8.data(), f8.size(), f8.size()))) == d);
  const Bytes h = npy("<f2", false, "(3,)", raw(std::vector<uint16_t>{0x3C00, 0xC000, 0x7BFF}));
  CHECK(values_of(h, ok(read_npy(h.data(), h.size(), h.size()))) == std::vector<double>{1, -2, 65504});
  const Bytes i1 = npy("|i1", false, "(3,)", Bytes{0x80, 0x7F, 0xFF});
  CHECK(values_of(i1, ok(read_npy(i1.data(), i1.size(), i1.size()))) == std::vector<double>{-128, 127, -1});
  const Bytes u1 = npy("|u1", false, "(2,)", Bytes{0x80, 0xFF});
  CHECK(values_of(u1, ok(read_npy(u1.data(), u1.size(), u1.size()))) == std::vector<double>{128, 255});
  const Bytes i2 = npy(">i2", false, "(2,)", raw(std::vector<int16_t>{-300, 12345}, true));
  CHECK(values_of(i2, ok(read_npy(i2.data(), i2.size(), i2.size()))) == std::vector<double>{-300, 12345});
  const Bytes i4 = npy("<i4", false, "(2,)", raw(std::vector<int32_t>{-2147483647 - 1, 16777217}));
  CHECK(values_of(i4, ok(read_npy(i4.data(), i4.size(), i4.size()))) == std::vector<double>{-2147483648.0, 16777217});
  // A scalar (shape ()) and an empty tensor.
  const Bytes scalar = npy("<f4", false, "()", raw(std::vector<float>{2.5f}));
  const TensorInfo s = ok(read_npy(scalar.data(), scalar.size(), scalar.size()));
  CHECK(s.count == 1);
  CHECK(s.shape.empty());
  const Bytes empty = npy("<f4", false, "(0, 4)", {});
  CHECK(ok(read_npy(empty.data(), empty.size(), empty.size())).count == 0);
  CHECK(ok(read_npy(empty.data(), empty.size(), empty.size())).skipped == "empty: shape [0, 4] holds no values");
  // An unsupported dtype is listed with the reason, not refused.
  const Bytes c8 = npy("<c8", false, "(1,)", Bytes(8));
  CHECK(ok(read_npy(c8.data(), c8.size(), c8.size())).skipped.find("'<c8' is not read") != std::string::npos);
}

TEST_CASE(".npy: Fortran order is read back in C order") {
  // The 2×3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
  const Bytes file = npy("<f4", true, "(2, 3)", raw(std::vector<float>{1, 4, 2, 5, 3, 6}));
  const TensorInfo t = ok(read_npy(file.data(), file.size(), file.size()));
  CHECK(t.fortran_order);
  CHECK(c_order(values_of(file, t), t.shape) == std::vector<double>{1, 2, 3, 4, 5, 6});
  // Three axes: element (i, j, k) sits at i + 2j + 6k in Fortran order.
  std::vector<double> f(24), want(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) f[static_cast<size_t>(i + 2 * j + 6 * k)] = want[static_cast<size_t>((i * 3 + j) * 4 + k)] = i * 100 + j * 10 + k;
  CHECK(c_order(f, {2, 3, 4}) == want);
}

TEST_CASE(".npy: malformed files are errors that say what is wrong") {
  const Bytes good = npy("<f4", false, "(2, 3)", raw(std::vector<float>(6, 1.0f)));
  CHECK(error_of(read_npy(good.data(), good.size(), good.size() - 1)).rfind("Truncated .npy data: shape [2, 3] of float32 needs 24 bytes, the file has 23", 0) == 0);
  Bytes magic = good;
  magic[1] = 'X';
  CHECK(error_of(read_npy(magic.data(), magic.size(), magic.size())) == "Not a .npy file: it does not start with \\x93NUMPY");
  Bytes longer = good;
  longer[8] = 0xff, longer[9] = 0xff;  // header length 65535
  CHECK(error_of(read_npy(longer.data(), longer.size(), longer.size())).find("header says it is 65545 bytes") != std::string::npos);
  for (const char* dict : {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "{'descr': '<f4', 'shape': (2,), }",
                           "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",
                           "not a dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"}) {
    const std::string d(dict);
    const std::string text = std::string("\x93NUMPY\x01", 7) + '\0' + static_cast<char>(d.size()) + '\0' + d;
    const Bytes b(text.begin(), text.end());
    CAPTURE(dict);
    CHECK_FALSE(error_of(read_npy(b.data(), b.size(), b.size())).empty());
  }
  // Every truncation of a good file: an error or, at full length, the tensor.
  for (size_t n = 0; n <= good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    const auto r = read_npy(cut.data(), cut.size(), cut.size());
    CHECK(std::holds_alternative<TensorInfo>(r) == (n == good.size()));
  }
}

TEST_CASE(".safetensors: every tensor, every dtype, metadata skipped, unknown dtypes listed") {
  const Bytes data = [] {
    Bytes d = raw(std::vector<float>{1, 2, 3, 4});
    const Bytes b = raw(std::vector<uint16_t>{0x3F80, 0xC040});  // BF16 1, -3
    d.insert(d.end(), b.begin(), b.end());
    d.insert(d.end(), {0xFE, 0x05});  // I8 -2, 5
    d.insert(d.end(), 8, 0);          // F8_E4M3 ×8: listed, not read
    return d;
  }();
  const std::string header = R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b\u00e9": {"dtype": "BF16", "shape": [2], "data_offsets": [16, 20]}, "q": {"dtype": "I8", "shape": [2], "data_offsets": [20, 22]},
    "f8": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [22, 30]}}   )";
  const Bytes file = safetensors(header, data);
  const auto tensors = ok(read_safetensors(file.data(), file.size(), file.size()));
  REQUIRE(tensors.size() == 4);
  CHECK(tensors[0].name == "w");
  CHECK(values_of(file, tensors[0]) == std::vector<double>{1, 2, 3, 4});
  CHECK(tensors[1].name == "b\xC3\xA9");
  CHECK(values_of(file, tensors[1]) == std::vector<double>{1, -3});
  CHECK(values_of(file, tensors[2]) == std::vector<double>{-2, 5});
  CHECK(tensors[3].skipped == "dtype F8_E4M3 is not read (F64, F32, F16, BF16, I8, U8, I16 and I32 are)");
}

TEST_CASE(".safetensors: lying headers and random bytes are errors, never crashes") {
  const Bytes data = raw(std::vector<float>{1, 2, 3, 4});
  const auto error = [](const Bytes& f) {
    const auto r = read_safetensors(f.data(), f.size(), f.size());
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string();
  };
  CHECK(error(safetensors(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 32]}})", data)) ==
        "Tensor \"w\": its data (bytes 0 to 32) runs past the end of the file (16 bytes of data)");
  CHECK(error(safetensors(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})", data)) ==
        "Tensor \"w\": shape [3] of F32 needs 12 bytes, but data_offsets give 16");
  CHECK(error(safetensors(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", data)) ==
        "Tensors \"a\" and \"b\" overlap in the file");
  CHECK(error(safetensors(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 16]}})", data)).find("whole numbers") != std::string::npos);
  CHECK(error(safetensors(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 4]}})", data)).find("0 ≤ begin ≤ end") != std::string::npos);
  CHECK(error(safetensors(R"({"w": {"dtype": "F32", "shape": [4]}})", data)).find("needs dtype, shape and data_offsets") != std::string::npos);
  CHECK(error(safetensors(R"({"w": )", data)).rfind("The .safetensors header is not valid JSON", 0) == 0);
  CHECK(error(safetensors(R"([1, 2])", data)) == "The .safetensors header is not a JSON object");
  Bytes huge = safetensors("{}", data);
  huge[5] = 0x10;  // header length ~1.7e13
  CHECK(error(huge).find("beyond the 100 MB limit") != std::string::npos);
  Bytes past = safetensors("{}", data);
  past[0] = 200;
  CHECK(error(past).find("runs past the end of the file") != std::string::npos);
  std::string deep(200, '[');
  CHECK(error(safetensors(deep, data)).find("nesting too deep") != std::string::npos);
  // Every truncation of a good file, and seeded random bytes.
  const Bytes good = safetensors(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})", data);
  for (size_t n = 0; n <= good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    const auto r = read_safetensors(cut.data(), cut.size(), cut.size());
    CHECK(std::holds_alternative<std::vector<TensorInfo>>(r) == (n == good.size()));
  }
  std::mt19937 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes junk = good;
    for (int k = 0; k < 1 + trial % 6; ++k) junk[rng() % junk.size()] = static_cast<uint8_t>(rng());
    const auto r = read_safetensors(junk.data(), junk.size(), junk.size());
    if (auto* ts = std::get_if<std::vector<TensorInfo>>(&r)) {
      for (const TensorInfo& t : *ts) {
        if (!t.skipped.empty()) continue;
        CHECK(t.offset + t.count * dtype_size(t.dtype) <= junk.size());  // whatever is accepted lies inside the file
      }
    }
    Bytes npy_junk = npy("<f4", false, "(2, 2)", data);
    for (int k = 0; k < 1 + trial % 6; ++k) npy_junk[rng() % npy_junk.size()] = static_cast<uint8_t>(rng());
    const auto n = read_npy(npy_junk.data(), npy_junk.size(), npy_junk.size());
    if (auto* t = std::get_if<TensorInfo>(&n); t && t->skipped.empty()) CHECK(t->offset + t->count * dtype_size(t->dtype) <= npy_junk.size());
  }
}

namespace {

struct Gguf {
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
};

// A GGUF v3 file: metadata (a string, an array of strings, the alignment), an F32 tensor with
// ne = [4, 2] (shape [2, 4]), an F16 one, and a Q4_0 one (one block: d = 0.25, q = j % 16).
Bytes gguf_file(uint32_t alignment = 32) {
  Gguf g;
  g.s = "GGUF";
  g.u32(3);
  g.u64(3);  // tensors
  g.u64(3);  // metadata entries
  g.str("general.name");
  g.u32(8);
  g.str("tiny");
  g.str("tokenizer.tokens");
  g.u32(9);
  g.u32(8);
  g.u64(2);
  g.str("a");
  g.str("bb");
  g.str("general.alignment");
  g.u32(4);
  g.u32(alignment);
  g.str("w");
  g.u32(2);
  g.u64(4), g.u64(2);
  g.u32(0);   // F32
  g.u64(0);
  g.str("h");
  g.u32(1);
  g.u64(3);
  g.u32(1);   // F16
  g.u64(32);
  g.str("q");
  g.u32(1);
  g.u64(32);
  g.u32(2);   // Q4_0
  g.u64(64);
  while (g.s.size() % alignment) g.s += '\0';
  const std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8};
  g.s.append(reinterpret_cast<const char*>(w.data()), 32);
  const std::vector<uint16_t> h = {0x3C00, 0x4000, 0xBC00};
  g.s.append(reinterpret_cast<const char*>(h.data()), 6);
  g.s += std::string(26, '\0');  // to offset 64
  g.s += std::string("\x00\x34", 2);  // float16 0.25
  for (int j = 0; j < 16; ++j) g.s += static_cast<char>(j | j << 4);
  return Bytes(g.s.begin(), g.s.end());
}

}  // namespace

TEST_CASE("GGUF: F32, F16, BF16 and ggml's block types read; shapes row-major; the header grown on demand") {
  const Bytes file = gguf_file();
  const GgufHeader h = ok(read_gguf(file.data(), file.size(), file.size()));
  REQUIRE(h.need == 0);
  REQUIRE(h.tensors.size() == 3);
  CHECK(h.tensors[0].name == "w");
  CHECK(h.tensors[0].shape == std::vector<int64_t>{2, 4});
  CHECK(values_of(file, h.tensors[0]) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(values_of(file, h.tensors[1]) == std::vector<double>{1, 2, -1});
  CHECK(h.tensors[2].skipped.empty());
  CHECK(h.tensors[2].dtype == DType::Ggml);
  CHECK(std::string(dtype_name(h.tensors[2])) == "q4_0");
  CHECK(tensor_bytes(h.tensors[2]) == 18);
  std::vector<double> q4(32);
  for (int j = 0; j < 16; ++j) q4[static_cast<size_t>(j)] = q4[static_cast<size_t>(j) + 16] = 0.25 * (j - 8);  // d·(q − 8)
  CHECK(values_of(file, h.tensors[2]) == q4);
  // Read from the first 40 bytes only, it asks for more.
  const GgufHeader partial = ok(read_gguf(file.data(), 40, file.size()));
  CHECK(partial.need == file.size());
  // Every truncation: an error, or a request for more of a file that has no more.
  for (size_t n = 0; n < file.size(); ++n) {
    const Bytes cut(file.begin(), file.begin() + static_cast<long>(n));
    const auto r = read_gguf(cut.data(), cut.size(), cut.size());
    if (auto* g = std::get_if<GgufHeader>(&r)) CHECK(g->need == 0);  // accepted only if it fits
  }
  Bytes bad_magic = file;
  bad_magic[0] = 'X';
  CHECK(std::get<Error>(read_gguf(bad_magic.data(), bad_magic.size(), bad_magic.size())).message == "Not a GGUF file: it does not start with GGUF");
  const Bytes odd = gguf_file(24);
  CHECK(std::get<Error>(read_gguf(odd.data(), odd.size(), odd.size())).message == "GGUF general.alignment must be a power of two up to 4096 (got 24)");
  std::mt19937 rng(9);
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes junk = file;
    for (int k = 0; k < 1 + trial % 5; ++k) junk[rng() % junk.size()] = static_cast<uint8_t>(rng());
    const auto r = read_gguf(junk.data(), junk.size(), junk.size());
    if (auto* g = std::get_if<GgufHeader>(&r))
      for (const TensorInfo& t : g->tensors)
        if (t.skipped.empty()) CHECK(t.offset + tensor_bytes(t) <= junk.size());
  }
}

TEST_CASE("Header claims are checked against the file before anything is read for them; parsing keeps only the tensors") {
  const Bytes data = raw(std::vector<float>{1, 2, 3, 4});
  const auto st_error = [](const Bytes& f) {
    const auto r = read_safetensors(f.data(), f.size(), f.size());
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string();
  };
  // A shape of more dimensions than any tensor has, and a member given twice.
  std::string shape = "[";
  for (size_t i = 0; i <= kMaxRank; ++i) shape += i ? ",1" : "1";
  CHECK(st_error(safetensors(R"({"w": {"dtype": "F32", "shape": )" + shape + R"(], "data_offsets": [0, 4]}})", data)) ==
        "Tensor \"w\": its shape has more than 64 dimensions");
  CHECK(st_error(safetensors(R"({"w": {"dtype": "F32", "dtype": "F16", "shape": [4], "data_offsets": [0, 16]}})", data)) ==
        "Tensor \"w\": the header gives \"dtype\" twice");
  // Metadata and members the format does not define are checked as JSON and not kept: 200,000
  // nested empty arrays and objects beside one tensor.
  std::string junk = "[";
  for (int i = 0; i < 200000; ++i) junk += i ? ",[[],{}]" : "[[],{}]";
  junk += "]";
  const Bytes meta = safetensors(R"({"__metadata__": {"a": )" + junk + R"(}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16], "x": )" + junk + "}}", data);
  const auto tensors = ok(read_safetensors(meta.data(), meta.size(), meta.size()));
  REQUIRE(tensors.size() == 1);
  CHECK(tensors[0].count == 4);
  CHECK(st_error(safetensors(R"({"__metadata__": {"a": [1, 2,]}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", data))
            == "The .safetensors header is not valid JSON: unexpected character at byte 29");

  // .npy: a version 2 header length past the limit, and too many dimensions.
  Bytes v2 = npy("<f4", false, "(4,)", data, 2);
  v2[8] = 0, v2[9] = 0, v2[10] = 0x20, v2[11] = 0;  // 2 MB
  CHECK(std::get<Error>(npy_header_bytes(v2.data(), v2.size())).message == "The .npy header says it is 2097152 bytes long, beyond the 1 MB limit");
  std::string dims = "(";
  for (size_t i = 0; i <= kMaxRank; ++i) dims += "1, ";
  const Bytes deep = npy("<f4", false, dims + ")", Bytes(4));
  CHECK(error_of(read_npy(deep.data(), deep.size(), deep.size())) == "The .npy 'shape' has more than 64 dimensions");

  // GGUF: 96 bytes that claim a metadata array of 2^40 bytes, in a file of 2 GB: refused at once
  // (it used to ask for more, up to the whole file), and no request for more bytes.
  Gguf g;
  g.s = "GGUF";
  g.u32(3);
  g.u64(0);
  g.u64(1);
  g.str("general.junk");
  g.u32(9);  // array
  g.u32(0);  // of uint8
  g.u64(uint64_t{1} << 40);
  const Bytes lying(g.s.begin(), g.s.end());
  const auto r = read_gguf(lying.data(), lying.size(), uint64_t{2} << 30);
  REQUIRE(std::holds_alternative<Error>(r));
  CHECK(std::get<Error>(r).message ==
        "The GGUF header does not fit the file: metadata \"general.junk\": an array of 1099511627776 uint8 values need at least 1099511627776 bytes "
        "from byte 60, past the end of the file (2147483648 bytes)");
  // A string of 200 MB inside a 1 GB file: past the header limit, refused without reading it.
  Gguf s;
  s.s = "GGUF";
  s.u32(3);
  s.u64(0);
  s.u64(1);
  s.u64(200'000'000);
  const Bytes long_key(s.s.begin(), s.s.end());
  const auto k = read_gguf(long_key.data(), long_key.size(), uint64_t{1} << 30);
  REQUIRE(std::holds_alternative<Error>(k));
  CHECK(std::get<Error>(k).message == "The GGUF header does not fit the file: a metadata key needs 200000000 bytes from byte 32, past the 100 MB limit of a GGUF header");
  // More tensors than the file could list, and an array of strings longer than the file.
  Gguf t;
  t.s = "GGUF";
  t.u32(3);
  t.u64(900'000);
  t.u64(0);
  const Bytes many(t.s.begin(), t.s.end());
  CHECK(std::get<Error>(read_gguf(many.data(), many.size(), 1'000'000)).message ==
        "The GGUF header does not fit the file: the tensors need at least 21600000 bytes from byte 24, past the end of the file (1000000 bytes)");
  Gguf a;
  a.s = "GGUF";
  a.u32(3);
  a.u64(0);
  a.u64(1);
  a.str("tokenizer.tokens");
  a.u32(9);
  a.u32(8);  // of strings
  a.u64(1'000'000);
  const Bytes strings(a.s.begin(), a.s.end());
  CHECK(std::get<Error>(read_gguf(strings.data(), strings.size(), 4'000'000)).message ==
        "The GGUF header does not fit the file: metadata \"tokenizer.tokens\": an array of 1000000 string values need at least 8000000 bytes from byte 64, "
        "past the end of the file (4000000 bytes)");
  // Inside the file and the limit, a header past the bytes at hand still asks for more.
  const auto want = read_gguf(strings.data(), strings.size(), 9'000'000);
  REQUIRE(std::holds_alternative<GgufHeader>(want));
  CHECK(std::get<GgufHeader>(want).need == 65536);
}

TEST_CASE("Empty tensors: listed with count 0 and the reason, in every format; their conversion touches nothing") {
  // UBSan stopped the fuzzer on memcpy(nullptr, p, 0): an empty tensor converted into an empty vector.
  const Bytes st = safetensors(R"({"e": {"dtype": "F32", "shape": [3, 0], "data_offsets": [0, 0]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                               raw(std::vector<float>{2}));
  const auto tensors = ok(read_safetensors(st.data(), st.size(), st.size()));
  REQUIRE(tensors.size() == 2);
  CHECK(tensors[0].count == 0);
  CHECK(tensors[0].skipped == "empty: shape [3, 0] holds no values");
  CHECK(tensors[1].skipped.empty());
  Gguf g;
  g.s = "GGUF";
  g.u32(3);
  g.u64(1);
  g.u64(0);
  g.str("e");
  g.u32(2);
  g.u64(0), g.u64(4);
  g.u32(0);  // F32
  g.u64(0);
  while (g.s.size() % 32) g.s += '\0';
  const Bytes gg(g.s.begin(), g.s.end());
  const GgufHeader h = ok(read_gguf(gg.data(), gg.size(), gg.size()));
  REQUIRE(h.tensors.size() == 1);
  CHECK(h.tensors[0].skipped == "empty: shape [4, 0] holds no values");
  std::vector<double> none;
  std::vector<float> nonef;
  for (const TensorInfo& t : tensors) {
    to_double(st.data() + t.offset, 0, t, none.data());
    to_float(st.data() + t.offset, 0, t, nonef.data());
  }
}

TEST_CASE("GGUF messages name the tensor or the key") {
  // Once seven of them printed `" + t.name + "` instead of the name.
  const auto one = [](const std::string& key_type, uint32_t dims, std::vector<uint64_t> ne, uint64_t offset, uint64_t pad = 0) {
    Gguf g;
    g.s = "GGUF";
    g.u32(3);
    g.u64(key_type.empty() ? 1 : 0);
    g.u64(key_type.empty() ? 0 : 1);
    if (!key_type.empty()) {
      g.str("my.key");
      if (key_type == "unknown") {
        g.u32(13);
      } else {  // arrays of arrays, six deep
        g.u32(9);
        for (int i = 0; i < 6; ++i) g.u32(9), g.u64(1);
      }
    } else {
      g.str("blk.0.w");
      g.u32(dims);
      for (uint64_t d : ne) g.u64(d);
      g.u32(0);
      g.u64(offset);
    }
    while (g.s.size() % 32) g.s += '\0';
    g.s += std::string(pad, '\0');
    const Bytes b(g.s.begin(), g.s.end());
    const auto r = read_gguf(b.data(), b.size(), b.size());
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string();
  };
  CHECK(one("unknown", 0, {}, 0) == "Unknown GGUF metadata type 13 for \"my.key\"");
  CHECK(one("nested", 0, {}, 0) == "Malformed GGUF metadata \"my.key\"");
  CHECK(one("", 9, {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0) == "GGUF tensor \"blk.0.w\" has 9 dimensions");
  CHECK(one("", 1, {uint64_t{1} << 60}, 0) == "GGUF tensor \"blk.0.w\" has a dimension of 1152921504606846976");
  CHECK(one("", 2, {uint64_t{1} << 30, uint64_t{1} << 30}, 0) == "GGUF tensor \"blk.0.w\": shape [1073741824, 1073741824] is too large");
  CHECK(one("", 1, {4}, 1000) == "GGUF tensor \"blk.0.w\": its data offset 1000 is past the end of the file");
  CHECK(one("", 1, {4}, 0, 8) == "GGUF tensor \"blk.0.w\": 4 values of F32 need 16 bytes, the file has 8 after its offset");
}

TEST_CASE("What the formats' own readers refuse is refused: names given twice, overlapping or misaligned data, an alignment of another type") {
  const Bytes data = raw(std::vector<float>{1, 2, 3, 4});
  const auto st_error = [](const Bytes& f) {
    const auto r = read_safetensors(f.data(), f.size(), f.size());
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string();
  };
  // Two rows of one name, before.
  CHECK(st_error(safetensors(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", data)) ==
        "Tensor \"w\" appears twice in the header");
  // GGUF: one F32 tensor of 4 values at `first`, another of 4 at `second`, the alignment as given.
  const auto gguf = [](uint64_t first, uint64_t second, const std::string& second_name, uint32_t alignment_type) {
    Gguf g;
    g.s = "GGUF";
    g.u32(3);
    g.u64(2);
    g.u64(1);
    g.str("general.alignment");
    g.u32(alignment_type);
    if (alignment_type == 10) g.u64(16);  // uint64
    else g.u32(16);
    for (const auto& [name, offset] : {std::pair<std::string, uint64_t>{"a", first}, {second_name, second}}) {
      g.str(name);
      g.u32(1);
      g.u64(4);
      g.u32(0);
      g.u64(offset);
    }
    while (g.s.size() % 16) g.s += '\0';
    g.s += std::string(64, '\0');
    const Bytes b(g.s.begin(), g.s.end());
    const auto r = read_gguf(b.data(), b.size(), b.size());
    return std::holds_alternative<Error>(r) ? std::get<Error>(r).message : std::string();
  };
  CHECK(gguf(0, 16, "b", 4).empty());
  CHECK(gguf(0, 0, "b", 4) == "GGUF tensors \"a\" and \"b\" overlap in the file");
  CHECK(gguf(0, 8, "b", 4) == "GGUF tensor \"b\": its data offset 8 is not a multiple of the alignment (16)");
  CHECK(gguf(0, 16, "a", 4) == "GGUF tensor \"a\" appears twice in the header");
  CHECK(gguf(0, 16, "b", 10) == "GGUF general.alignment must be a uint32 (got uint64)");  // it was ignored (32 used)
  CHECK(gguf(0, 16, "b", 5) == "GGUF general.alignment must be a uint32 (got int32)");
}
