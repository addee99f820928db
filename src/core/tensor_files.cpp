#include "tensor_files.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include "formats.h"

namespace qe {

namespace {

Error bad(const std::string& message) { return Error{"file", -1, message}; }

uint64_t le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Elements of a shape, or nullopt past 2^53 (no real file holds more).
std::optional<uint64_t> element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > (uint64_t{1} << 53) / static_cast<uint64_t>(d)) return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Two tensors of one name, or two whose data share bytes (as far as the sizes are known: the
// tensors read; a skipped one's extent is not), are refused, as the formats' own readers refuse
// them (a name given twice once made two rows of one name).
std::optional<Error> names_and_overlaps(const std::vector<TensorInfo>& ts, const std::string& tensor, const std::string& tensors) {
  std::vector<const TensorInfo*> by(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) by[i] = &ts[i];
  std::sort(by.begin(), by.end(), [](auto* a, auto* c) { return a->name < c->name; });
  for (size_t i = 1; i < by.size(); ++i)
    if (by[i - 1]->name == by[i]->name) return Error{"file", -1, tensor + " \"" + by[i]->name + "\" appears twice in the header"};
  std::stable_sort(by.begin(), by.end(), [](auto* a, auto* c) { return a->offset < c->offset; });
  for (size_t i = 1; i < by.size(); ++i) {
    const TensorInfo *a = by[i - 1], *c = by[i];
    const uint64_t a_end = a->offset + (a->skipped.empty() ? tensor_bytes(*a) : 0);
    if (a->skipped.empty() && c->offset < a_end) return Error{"file", -1, tensors + " \"" + a->name + "\" and \"" + c->name + "\" overlap in the file"};
  }
  return std::nullopt;
}

// A readable tensor with no values is listed as such, not analysed (and not an error).
void mark_empty(TensorInfo& t) {
  if (t.count == 0 && t.skipped.empty()) t.skipped = "empty: shape " + shape_text(t.shape) + " holds no values";
}

// ---- the .npy header: a Python dict literal ------------------------------------------------

struct PyReader {
  const char* p;
  const char* end;
  void space() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool eat(char c) {
    space();
    if (p < end && *p == c) return ++p, true;
    return false;
  }
  std::optional<std::string> string() {
    space();
    if (p >= end || (*p != '\'' && *p != '"')) return std::nullopt;
    const char quote = *p++;
    std::string s;
    while (p < end && *p != quote) s += *p++;
    if (p >= end) return std::nullopt;
    ++p;
    return s;
  }
  std::optional<int64_t> integer() {
    space();
    int64_t v = 0;
    const char* start = p;
    while (p < end && *p >= '0' && *p <= '9') {
      if (v > (int64_t{1} << 53)) return std::nullopt;
      v = v * 10 + (*p++ - '0');
    }
    if (p < end && *p == 'L') ++p;  // Python 2 longs
    return p == start ? std::nullopt : std::optional<int64_t>(v);
  }
  bool word(const char* w) {
    space();
    const size_t n = std::strlen(w);
    if (static_cast<size_t>(end - p) >= n && std::memcmp(p, w, n) == 0) return p += n, true;
    return false;
  }
};

std::optional<std::pair<DType, bool>> npy_dtype(const std::string& d) {
  if (d.size() < 3) return std::nullopt;
  const char order = d[0];
  const bool big = order == '>';
  if (order != '<' && order != '>' && order != '|' && order != '=') return std::nullopt;
  const std::string kind = d.substr(1);
  static const std::map<std::string, DType> kinds = {{"f8", DType::F64}, {"f4", DType::F32}, {"f2", DType::F16},
                                                     {"i1", DType::I8},  {"u1", DType::U8},  {"i2", DType::I16},
                                                     {"i4", DType::I32}};
  const auto it = kinds.find(kind);
  if (it == kinds.end()) return std::make_pair(DType::Unsupported, big);
  return std::make_pair(it->second, big);
}

// ---- the safetensors header: JSON, read as it is parsed -------------------------------------
// One pass that keeps only what the tensors keep (each one's name, dtype, shape and offsets):
// __metadata__ and members the format does not define are checked as JSON and skipped, so the
// memory is proportional to the tensors listed (at most kMaxTensors, each of at most kMaxRank
// dimensions), never to the number of JSON values (a shape of 30 M zeros once took 6.9 GB).

class JsonReader {
 public:
  JsonReader(const char* p, const char* end) : p_(p), begin_(p), end_(end) {}
  const std::string& error() const { return error_; }
  // A syntax error, with its place; false, so that callers can `return fail(…)`.
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(p_ - begin_);
    return false;
  }
  void space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  // The next value's first character ('\0' at the end).
  char peek() {
    space();
    return p_ < end_ ? *p_ : '\0';
  }
  bool at_end() {
    space();
    return p_ == end_;
  }
  static bool starts_number(char c) { return c == '-' || (c >= '0' && c <= '9'); }

  // An object: member(key) for each member, with the reader at the member's value, which member()
  // reads; its false (an error it has recorded) stops the object.
  template <class F>
  bool object(F&& member) {
    if (peek() != '{') return fail("expected '{'");
    ++p_;
    if (peek() == '}') return ++p_, true;
    while (true) {
      auto key = string();
      if (!key) return false;
      if (peek() != ':') return fail("expected ':'");
      ++p_;
      if (!member(std::move(*key))) return false;
      const char c = peek();
      if (c == ',') {
        ++p_;
        continue;
      }
      if (c == '}') return ++p_, true;
      return fail("expected ',' or '}'");
    }
  }
  // An array: item() for each item, with the reader at it.
  template <class F>
  bool array(F&& item) {
    if (peek() != '[') return fail("expected '['");
    ++p_;
    if (peek() == ']') return ++p_, true;
    while (true) {
      if (!item()) return false;
      const char c = peek();
      if (c == ',') {
        ++p_;
        continue;
      }
      if (c == ']') return ++p_, true;
      return fail("expected ',' or ']'");
    }
  }
  // Any value, checked and not kept. Nesting is at most kMaxDepth deep (the recursion's bound).
  bool skip(int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    const char c = peek();
    if (c == '\0') return fail("the JSON ends early");
    if (c == '{') return object([&](std::string&&) { return skip(depth + 1); });
    if (c == '[') return array([&] { return skip(depth + 1); });
    if (c == '"') return scan_string(nullptr);
    if (literal("true") || literal("false") || literal("null")) return true;
    if (starts_number(c)) return number().has_value();
    return fail("unexpected character");
  }

  struct Number {
    bool integral = false;  // a whole number that fits in int64 (integer)
    int64_t integer = 0;
  };
  std::optional<Number> number() {
    space();
    Number n;
    const bool negative = p_ < end_ && *p_ == '-';
    if (negative) ++p_;
    uint64_t v = 0;
    bool overflow = false, digits = false;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      digits = true;
      if (v > (UINT64_MAX - 9) / 10) overflow = true;
      v = v * 10 + static_cast<uint64_t>(*p_++ - '0');
    }
    bool fraction = false;
    while (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E' || *p_ == '+' || *p_ == '-' || (*p_ >= '0' && *p_ <= '9'))) {
      fraction = true;
      ++p_;
    }
    if (!digits) return fail("a number without digits"), std::nullopt;
    if (!fraction && !overflow && v <= static_cast<uint64_t>(INT64_MAX)) {
      n.integral = true;
      n.integer = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    }
    return n;
  }
  std::optional<std::string> string() {
    std::string s;
    if (!scan_string(&s)) return std::nullopt;
    return s;
  }

  static constexpr int kMaxDepth = 64;

 private:
  const char *p_, *begin_, *end_;
  std::string error_;

  bool literal(const char* w) {
    const size_t n = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) return p_ += n, true;
    return false;
  }
  // A string, decoded into *out (or only checked, without out).
  bool scan_string(std::string* out) {
    if (peek() != '"') return fail("expected a string");
    ++p_;
    const auto put = [&](char ch) {
      if (out) *out += ch;
    };
    while (p_ < end_ && *p_ != '"') {
      if (static_cast<unsigned char>(*p_) < 0x20) return fail("a control character in a string");
      if (*p_ != '\\') {
        put(*p_++);
        continue;
      }
      if (++p_ >= end_) break;
      const char e = *p_++;
      switch (e) {
        case '"': put('"'); break;
        case '\\': put('\\'); break;
        case '/': put('/'); break;
        case 'b': put('\b'); break;
        case 'f': put('\f'); break;
        case 'n': put('\n'); break;
        case 'r': put('\r'); break;
        case 't': put('\t'); break;
        case 'u': {
          if (end_ - p_ < 4) return fail("a short \\u escape");
          uint32_t cp = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = *p_++;
            cp = cp * 16 + static_cast<uint32_t>(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
            if (cp > 0xFFFF) return fail("a bad \\u escape");
          }
          // UTF-8 (a lone surrogate is kept as its three bytes: names only need to be shown).
          if (cp < 0x80) put(static_cast<char>(cp));
          else if (cp < 0x800) put(static_cast<char>(0xC0 | (cp >> 6))), put(static_cast<char>(0x80 | (cp & 0x3F)));
          else put(static_cast<char>(0xE0 | (cp >> 12))), put(static_cast<char>(0x80 | ((cp >> 6) & 0x3F))), put(static_cast<char>(0x80 | (cp & 0x3F)));
          break;
        }
        default: return fail("a bad escape");
      }
    }
    if (p_ >= end_) return fail("a string that does not end");
    ++p_;
    return true;
  }
};

std::optional<DType> safetensors_dtype(const std::string& d) {
  static const std::map<std::string, DType> known = {{"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16},
                                                     {"BF16", DType::BF16}, {"I8", DType::I8},  {"U8", DType::U8},
                                                     {"I16", DType::I16}, {"I32", DType::I32}};
  const auto it = known.find(d);
  return it == known.end() ? std::nullopt : std::optional<DType>(it->second);
}

}  // namespace

const char* to_string(DType d) {
  switch (d) {
    case DType::F64: return "float64";
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::I8: return "int8";
    case DType::U8: return "uint8";
    case DType::I16: return "int16";
    case DType::I32: return "int32";
    case DType::Ggml: return "ggml";
    case DType::Unsupported: break;
  }
  return "unsupported";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: return 1;
    case DType::Ggml: case DType::Unsupported: break;
  }
  return 0;
}

FileResult<uint64_t> npy_header_bytes(const uint8_t* p, size_t available) {
  if (available < 10) return bad("Too short for a .npy file (" + std::to_string(available) + " bytes)");
  if (std::memcmp(p, "\x93NUMPY", 6) != 0) return bad("Not a .npy file: it does not start with \\x93NUMPY");
  const int major = p[6];
  if (major < 1 || major > 3) return bad("Unsupported .npy version " + std::to_string(major) + "." + std::to_string(p[7]));
  if (major == 1) return 10 + le(p + 8, 2);
  if (available < 12) return bad("Too short for a .npy version 2 header");
  const uint64_t n = le(p + 8, 4);
  if (n > kMaxNpyHeaderBytes) return bad("The .npy header says it is " + std::to_string(n) + " bytes long, beyond the 1 MB limit");
  return 12 + n;
}

FileResult<TensorInfo> read_npy(const uint8_t* p, size_t available, uint64_t file_size) {
  auto total = npy_header_bytes(p, available);
  if (auto* e = std::get_if<Error>(&total)) return *e;
  const uint64_t header_end = std::get<uint64_t>(total);
  if (header_end > file_size) return bad("The .npy header says it is " + std::to_string(header_end) + " bytes, but the file has " + std::to_string(file_size));
  if (header_end > available) return bad("The .npy header was not read whole");
  const size_t start = p[6] == 1 ? 10 : 12;
  PyReader r{reinterpret_cast<const char*>(p + start), reinterpret_cast<const char*>(p + header_end)};
  TensorInfo t;
  bool have_descr = false, have_order = false, have_shape = false;
  if (!r.eat('{')) return bad("The .npy header is not a dict");
  while (!r.eat('}')) {
    auto key = r.string();
    if (!key || !r.eat(':')) return bad("The .npy header is not a dict of 'descr', 'fortran_order' and 'shape'");
    if (*key == "descr") {
      auto d = r.string();
      if (!d) return bad("The .npy 'descr' is not a simple dtype (structured arrays are not read)");
      t.file_dtype = *d;
      auto dt = npy_dtype(*d);
      if (!dt) return bad("Unknown .npy dtype '" + *d + "'");
      t.dtype = dt->first;
      t.big_endian = dt->second;
      have_descr = true;
    } else if (*key == "fortran_order") {
      if (r.word("True")) t.fortran_order = true;
      else if (!r.word("False")) return bad("The .npy 'fortran_order' is neither True nor False");
      have_order = true;
    } else if (*key == "shape") {
      if (!r.eat('(')) return bad("The .npy 'shape' is not a tuple");
      while (!r.eat(')')) {
        auto d = r.integer();
        if (!d) return bad("The .npy 'shape' holds something other than whole numbers");
        if (t.shape.size() == kMaxRank) return bad("The .npy 'shape' has more than " + std::to_string(kMaxRank) + " dimensions");
        t.shape.push_back(*d);
        r.eat(',');
      }
      have_shape = true;
    } else {
      return bad("Unexpected key '" + *key + "' in the .npy header");
    }
    r.eat(',');
  }
  if (!have_descr || !have_order || !have_shape) return bad("The .npy header lacks 'descr', 'fortran_order' or 'shape'");
  const auto count = element_count(t.shape);
  if (!count) return bad("The .npy shape " + shape_text(t.shape) + " is too large");
  t.count = *count;
  t.offset = header_end;
  if (t.dtype == DType::Unsupported) {
    t.skipped = "dtype '" + t.file_dtype + "' is not read (float16/32/64, int8/16/32 and uint8 are)";
    return t;
  }
  const uint64_t need = t.count * dtype_size(t.dtype), have = file_size - header_end;
  if (have < need)
    return bad("Truncated .npy data: shape " + shape_text(t.shape) + " of " + to_string(t.dtype) + " needs " + std::to_string(need) +
               " bytes, the file has " + std::to_string(have));
  mark_empty(t);
  return t;
}

FileResult<uint64_t> safetensors_header_bytes(const uint8_t* p, size_t available, uint64_t file_size) {
  if (available < 8 || file_size < 8) return bad("Too short for a .safetensors file");
  const uint64_t n = le(p, 8);
  // A .safetensors file starts with its JSON header's length: one that cannot be means some
  // other file (random bytes give lengths of 10^18), and the message says that first.
  if (n > kMaxHeaderBytes || n > file_size - 8) {
    const std::string limit = n > kMaxHeaderBytes ? "beyond the 100 MB limit" : "which runs past the end of the file (" + std::to_string(file_size) + " bytes)";
    return bad("This is not a .safetensors file: its first 8 bytes give a header length of " + std::to_string(n) + ", " + limit);
  }
  return 8 + n;
}

FileResult<std::vector<TensorInfo>> read_safetensors(const uint8_t* p, size_t available, uint64_t file_size) {
  auto total = safetensors_header_bytes(p, available, file_size);
  if (auto* e = std::get_if<Error>(&total)) return *e;
  const uint64_t header_end = std::get<uint64_t>(total);
  if (header_end > available) return bad("The .safetensors header was not read whole");
  const uint64_t data_size = file_size - header_end;
  JsonReader json(reinterpret_cast<const char*>(p + 8), reinterpret_cast<const char*>(p + header_end));
  std::optional<Error> wrong;  // what is wrong with a tensor (the JSON itself may be fine)
  std::vector<TensorInfo> out;
  const auto tensor = [&](std::string&& name) -> bool {
    const auto refuse = [&](const std::string& why) {
      wrong = bad("Tensor \"" + name + "\": " + why);
      return false;
    };
    const std::string needs = "the header needs dtype, shape and data_offsets [begin, end]";
    // A value of the wrong kind: refused, once it is known to be JSON at all.
    const auto wrong_kind = [&](int depth) { return json.skip(depth) && refuse(needs); };
    if (out.size() == kMaxTensors) {
      wrong = bad("The .safetensors header lists more than " + std::to_string(kMaxTensors) + " tensors (the most read)");
      return false;
    }
    TensorInfo t;
    bool have_dtype = false, have_shape = false, have_offsets = false, whole_offsets = true;
    std::vector<int64_t> offsets;
    if (json.peek() != '{') return wrong_kind(1);
    const bool read = json.object([&](std::string&& key) -> bool {
      if (key == "dtype" || key == "shape" || key == "data_offsets") {
        bool& have = key == "dtype" ? have_dtype : key == "shape" ? have_shape : have_offsets;
        if (have) return refuse("the header gives \"" + key + "\" twice");
        have = true;
      }
      if (key == "dtype") {
        if (json.peek() != '"') return wrong_kind(2);
        auto d = json.string();
        if (!d) return false;
        t.file_dtype = std::move(*d);
        return true;
      }
      if (key == "shape") {
        if (json.peek() != '[') return wrong_kind(2);
        return json.array([&] {
          if (!JsonReader::starts_number(json.peek())) return json.skip(3) && refuse("its shape holds something other than whole numbers");
          auto d = json.number();
          if (!d) return false;
          if (!d->integral || d->integer < 0) return refuse("its shape holds something other than whole numbers");
          if (t.shape.size() == kMaxRank) return refuse("its shape has more than " + std::to_string(kMaxRank) + " dimensions");
          t.shape.push_back(d->integer);
          return true;
        });
      }
      if (key == "data_offsets") {
        if (json.peek() != '[') return wrong_kind(2);
        return json.array([&] {
          if (offsets.size() == 2) return refuse(needs);
          if (!JsonReader::starts_number(json.peek())) {
            whole_offsets = false;
            offsets.push_back(0);
            return json.skip(3);
          }
          auto n = json.number();
          if (!n) return false;
          whole_offsets = whole_offsets && n->integral;
          offsets.push_back(n->integer);
          return true;
        });
      }
      return json.skip(3);  // a member the format does not define
    });
    if (!read) return false;
    if (!have_dtype || !have_shape || !have_offsets || offsets.size() != 2) return refuse(needs);
    t.name = name;
    const int64_t b = offsets[0], e = offsets[1];
    if (!whole_offsets || b < 0 || e < b) return refuse("data_offsets must be [begin, end] with 0 ≤ begin ≤ end");
    if (static_cast<uint64_t>(e) > data_size)
      return refuse("its data (bytes " + std::to_string(b) + " to " + std::to_string(e) + ") runs past the end of the file (" +
                    std::to_string(data_size) + " bytes of data)");
    const auto count = element_count(t.shape);
    if (!count) return refuse("shape " + shape_text(t.shape) + " is too large");
    t.count = *count;
    t.offset = header_end + static_cast<uint64_t>(b);
    const auto dt = safetensors_dtype(t.file_dtype);
    const uint64_t bytes = static_cast<uint64_t>(e - b);
    if (!dt) {
      t.skipped = "dtype " + t.file_dtype + " is not read (F64, F32, F16, BF16, I8, U8, I16 and I32 are)";
    } else {
      t.dtype = *dt;
      if (bytes != t.count * dtype_size(t.dtype))
        return refuse("shape " + shape_text(t.shape) + " of " + t.file_dtype + " needs " + std::to_string(t.count * dtype_size(t.dtype)) +
                      " bytes, but data_offsets give " + std::to_string(bytes));
    }
    mark_empty(t);
    out.push_back(std::move(t));
    return true;
  };
  if (json.peek() != '{') {
    // Not an object: say whether it is JSON at all.
    if (!json.skip(0) || !json.at_end()) {
      if (json.error().empty() || json.at_end()) json.fail("unexpected text after the JSON value");
      return bad("The .safetensors header is not valid JSON: " + json.error());
    }
    return bad("The .safetensors header is not a JSON object");
  }
  const bool read = json.object([&](std::string&& key) { return key == "__metadata__" ? json.skip(1) : tensor(std::move(key)); });
  if (wrong) return *wrong;
  if (read && !json.at_end()) json.fail("unexpected text after the JSON value");
  if (!json.error().empty()) return bad("The .safetensors header is not valid JSON: " + json.error());
  if (auto e = names_and_overlaps(out, "Tensor", "Tensors")) return *e;
  return out;
}

namespace {

// A bounded reader over the header bytes: every read checks what is left first. A read past the
// bytes at hand, but inside the file and the header limit, is a short read (the caller reads
// more of the file and starts again); one past the file's end or the limit means the header
// claims what the file cannot hold, and `lie` says what: nothing more is read for it.
struct Cursor {
  const uint8_t* p;
  size_t size;         // bytes at p
  uint64_t file_size;
  size_t at = 0;
  bool short_read = false;
  std::string lie;
  uint64_t header_end() const { return std::min<uint64_t>(file_size, kMaxHeaderBytes); }
  // Whether n more bytes are at hand; `what` names them for the message when they cannot be.
  bool take(uint64_t n, const char* what) { return claim(n, what, " needs "); }
  bool take(uint64_t n, const std::string& what) { return claim(n, what.c_str(), " needs "); }
  // Whether `count` items of at least `least` bytes each can fit before the header's end.
  bool fits(uint64_t count, uint64_t least, const std::string& what) { return fits(count, least, what.c_str()); }
  bool fits(uint64_t count, uint64_t least, const char* what) {
    const uint64_t bytes = count > UINT64_MAX / least ? UINT64_MAX : count * least;
    if (failed()) return false;
    if (claim(bytes, what, " need at least ")) return true;
    short_read = false;  // inside the file, past the bytes at hand: the items are read one by one
    return lie.empty();
  }
  bool claim(uint64_t n, const char* what, const char* verb) {
    if (!lie.empty() || short_read) return false;
    if (n > header_end() - at) {
      lie = std::string(what) + verb + std::to_string(n) + " bytes from byte " + std::to_string(at) +
            (n > file_size - at ? ", past the end of the file (" + std::to_string(file_size) + " bytes)"
                                : ", past the 100 MB limit of a GGUF header");
      return false;
    }
    if (n > size - at) return short_read = true, false;
    return true;
  }
  bool failed() const { return short_read || !lie.empty(); }
  uint64_t u(int bytes, const char* what = "a number") {
    if (!take(static_cast<uint64_t>(bytes), what)) return 0;
    const uint64_t v = le(p + at, bytes);
    at += static_cast<size_t>(bytes);
    return v;
  }
  std::optional<std::string> str(const char* what = "a string") {
    const uint64_t n = u(8, what);
    if (!take(n, what)) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(p + at), static_cast<size_t>(n));
    at += static_cast<size_t>(n);
    return s;
  }
};

const char* ggml_type_name(uint32_t t) {
  static const char* names[] = {"F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0",    "Q5_1",   "Q8_0",  "Q8_1",
                                "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
                                "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8",  "I16",  "I32",     "I64",    "F64",   "IQ1_M",
                                "BF16"};
  return t < sizeof names / sizeof *names ? names[t] : "unknown";
}

// The metadata integers GgufHeader keeps.
bool kept_integer(const std::string& key) {
  if (key == "general.file_type" || key == "imatrix.chunk_count") return true;
  for (const char* suffix : {".block_count", ".expert_count", ".attention.head_count", ".attention.head_count_kv"}) {
    const size_t n = std::strlen(suffix);
    if (key.size() > n && key.compare(key.size() - n, n, suffix) == 0) return true;
  }
  return false;
}

}  // namespace

FileResult<GgufHeader> read_gguf(const uint8_t* p, size_t available, uint64_t file_size) {
  GgufHeader h;
  Cursor c{p, available, file_size, 0, false, {}};
  // A read that failed: the header's claim refused, or a request for more of the file.
  const auto stop = [&](const std::string& where) {
    if (!c.lie.empty()) return FileResult<GgufHeader>(bad("The GGUF header does not fit the file: " + where + c.lie));
    // The header runs past what was read: ask for twice as much (at most the file, or the limit).
    h.need = std::min<uint64_t>(c.header_end(), std::max<uint64_t>(available * 2, 1 << 16));
    if (h.need <= available) return FileResult<GgufHeader>(bad("The GGUF header runs past the end of the file"));
    return FileResult<GgufHeader>(h);
  };
  if (available < 4) return available < file_size ? stop("") : FileResult<GgufHeader>(bad("Too short for a GGUF file"));
  if (std::memcmp(p, "GGUF", 4) != 0) return bad("Not a GGUF file: it does not start with GGUF");
  c.at = 4;
  const uint64_t version = c.u(4);
  const uint64_t tensors = c.u(8), kvs = c.u(8);
  if (c.failed()) return stop("");
  if (version < 2 || version > 3) return bad("Unsupported GGUF version " + std::to_string(version) + " (2 and 3 are read)");
  if (tensors > kMaxTensors || kvs > 10'000'000) return bad("The GGUF header claims " + std::to_string(tensors) + " tensors and " + std::to_string(kvs) + " metadata entries");
  // Each metadata entry takes at least 13 bytes (key length, type, one byte of value), each tensor 24.
  if (!c.fits(kvs, 13, "the metadata entries") || !c.fits(tensors, 24, "the tensors")) return stop("");
  uint64_t alignment = 32;
  bool alignment_seen = false;
  static const char* const type_names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"};
  // Metadata: skipped value by value (typed), except general.alignment; every length checked
  // against the file before anything is read for it.
  const std::function<bool(uint64_t, int)> skip = [&](uint64_t type, int depth) -> bool {
    static const int width[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) return c.str().has_value();
    if (type == 9) {
      if (depth > 4) return false;
      const uint64_t inner = c.u(4), n = c.u(8);
      if (c.failed() || inner > 12) return false;
      const std::string what = "an array of " + std::to_string(n) + " " + type_names[inner] + " values";
      if (inner != 8 && inner != 9) {
        if (!c.fits(n, static_cast<uint64_t>(width[inner]), what) || !c.take(n * static_cast<uint64_t>(width[inner]), what)) return false;
        c.at += static_cast<size_t>(n * static_cast<uint64_t>(width[inner]));
        return true;
      }
      if (!c.fits(n, inner == 8 ? 8 : 12, what)) return false;
      for (uint64_t i = 0; i < n; ++i)
        if (!skip(inner, depth + 1)) return false;
      return true;
    }
    if (type > 12) return false;
    if (!c.take(static_cast<uint64_t>(width[type]), type_names[type])) return false;
    c.at += static_cast<size_t>(width[type]);
    return true;
  };
  for (uint64_t k = 0; k < kvs; ++k) {
    const auto key = c.str("a metadata key");
    const uint64_t type = c.u(4);
    if (c.failed()) return stop("");
    if (type > 12) return bad("Unknown GGUF metadata type " + std::to_string(type) + " for \"" + *key + "\"");
    if (*key == "general.alignment") {
      // A uint32, as llama.cpp's and gguf-py's readers require (a uint64 one was ignored here).
      if (type != 4) return bad(std::string("GGUF general.alignment must be a uint32 (got ") + type_names[type] + ")");
      if (alignment_seen) return bad("GGUF general.alignment is given twice");
      alignment_seen = true;
      alignment = c.u(4);
      if (c.failed()) return stop("");
      if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 4096)
        return bad("GGUF general.alignment must be a power of two up to 4096 (got " + std::to_string(alignment) + ")");
      continue;
    }
    if (*key == "general.architecture" && type == 8) {
      const auto arch = c.str("general.architecture");
      if (c.failed()) return stop("metadata \"" + *key + "\": ");
      h.architecture = *arch;
      continue;
    }
    // The scalar integers a recipe reads (uint8 … int64: types 0–5, 10, 11).
    if ((type <= 5 || type == 10 || type == 11) && kept_integer(*key)) {
      static const int bytes[] = {1, 1, 2, 2, 4, 4, 0, 0, 0, 0, 8, 8};
      const int w = bytes[type];
      const uint64_t raw = c.u(w);
      if (c.failed()) return stop("metadata \"" + *key + "\": ");
      const bool is_signed = type == 1 || type == 3 || type == 5 || type == 11;
      int64_t v = static_cast<int64_t>(raw);
      if (is_signed && w < 8 && (raw >> (8 * w - 1)) != 0) v = static_cast<int64_t>(raw | (~uint64_t{0} << (8 * w)));  // sign-extend
      if (!is_signed && w == 8 && raw > static_cast<uint64_t>(INT64_MAX)) v = INT64_MAX;
      h.integers.emplace_back(*key, v);
      continue;
    }
    if (!skip(type, 0)) return c.failed() ? stop("metadata \"" + *key + "\": ") : FileResult<GgufHeader>(bad("Malformed GGUF metadata \"" + *key + "\""));
  }
  struct Raw {
    TensorInfo t;
    uint64_t rel;
    uint32_t type;
  };
  std::vector<Raw> raw;
  for (uint64_t k = 0; k < tensors; ++k) {
    Raw r;
    const auto name = c.str("a tensor name");
    const uint64_t dims = c.u(4);
    if (c.failed()) return stop("");
    if (dims > 8) return bad("GGUF tensor \"" + *name + "\" has " + std::to_string(dims) + " dimensions");
    std::vector<int64_t> ne;
    for (uint64_t d = 0; d < dims; ++d) {
      const uint64_t v = c.u(8);
      if (v > (uint64_t{1} << 53)) return bad("GGUF tensor \"" + *name + "\" has a dimension of " + std::to_string(v));
      ne.push_back(static_cast<int64_t>(v));
    }
    r.type = static_cast<uint32_t>(c.u(4));
    r.rel = c.u(8);
    if (c.failed()) return stop("");
    r.t.name = *name;
    r.t.shape.assign(ne.rbegin(), ne.rend());  // innermost first in the file
    r.t.file_dtype = ggml_type_name(r.type);
    raw.push_back(std::move(r));
  }
  const uint64_t data_start = (c.at + alignment - 1) / alignment * alignment;
  for (Raw& r : raw) {
    TensorInfo& t = r.t;
    const auto count = element_count(t.shape);
    if (!count) return bad("GGUF tensor \"" + t.name + "\": shape " + shape_text(t.shape) + " is too large");
    t.count = *count;
    if (r.rel > file_size || data_start > file_size - r.rel)
      return bad("GGUF tensor \"" + t.name + "\": its data offset " + std::to_string(r.rel) + " is past the end of the file");
    if (r.rel % alignment != 0)
      return bad("GGUF tensor \"" + t.name + "\": its data offset " + std::to_string(r.rel) + " is not a multiple of the alignment (" +
                 std::to_string(alignment) + ")");
    t.offset = data_start + r.rel;
    if (r.type == 0) t.dtype = DType::F32;
    else if (r.type == 1) t.dtype = DType::F16;
    else if (r.type == 30) t.dtype = DType::BF16;
    else if ((t.ggml = ggml_type_info(r.type))) t.dtype = DType::Ggml;
    if (t.dtype == DType::Unsupported) {
      t.skipped = std::string("type ") + t.file_dtype + ": " +
                  (r.type >= 16 && r.type <= 29 ? "a grid or integer type that is not read here" : "not a float or block type read here");
      h.tensors.push_back(std::move(t));
      continue;
    }
    if (t.ggml && (t.shape.empty() || t.shape.back() % t.ggml->block != 0)) {
      // ggml writes whole blocks along ne[0]; a file that says otherwise cannot be dequantized.
      t.skipped = std::string("type ") + t.file_dtype + ": rows of " + std::to_string(t.shape.empty() ? 0 : t.shape.back()) +
                  " values are not whole blocks of " + std::to_string(t.ggml->block);
      t.ggml = nullptr;
      t.dtype = DType::Unsupported;
      h.tensors.push_back(std::move(t));
      continue;
    }
    const uint64_t need = tensor_bytes(t);
    if (need > file_size - t.offset)
      return bad("GGUF tensor \"" + t.name + "\": " + std::to_string(t.count) + " values of " + t.file_dtype + " need " + std::to_string(need) +
                 " bytes, the file has " + std::to_string(file_size - t.offset) + " after its offset");
    mark_empty(t);
    h.tensors.push_back(std::move(t));
  }
  if (auto e = names_and_overlaps(h.tensors, "GGUF tensor", "GGUF tensors")) return *e;
  return h;
}

bool float_exact(DType d) { return d != DType::F64 && d != DType::I32 && d != DType::Unsupported; }

uint64_t tensor_bytes(const TensorInfo& t) {
  if (t.dtype == DType::Ggml) return t.count / static_cast<uint64_t>(t.ggml->block) * static_cast<uint64_t>(t.ggml->bytes);
  return t.count * dtype_size(t.dtype);
}

const char* dtype_name(const TensorInfo& t) { return t.dtype == DType::Ggml ? t.ggml->name : to_string(t.dtype); }

namespace {
bool little_endian_host() {
  const uint16_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}
}  // namespace

void to_float(const uint8_t* p, size_t n, const TensorInfo& t, float* out) {
  if (n == 0) return;  // out may be null then (an empty vector's data()), and memcpy wants pointers
  if (t.dtype == DType::Ggml) {
    ggml_dequantize(*t.ggml, p, n / static_cast<size_t>(t.ggml->block), out);
    return;
  }
  if (t.dtype == DType::F32 && !t.big_endian && little_endian_host()) {
    std::memcpy(out, p, n * 4);  // the common case: the bytes are the floats
    return;
  }
  // Chunks through the exact double conversion (every value here is a float).
  double buf[1024];
  for (size_t at = 0; at < n; at += 1024) {
    const size_t k = std::min<size_t>(1024, n - at);
    to_double(p + at * dtype_size(t.dtype), k, t, buf);
    for (size_t i = 0; i < k; ++i) out[at + i] = static_cast<float>(buf[i]);
  }
}

void to_double(const uint8_t* p, size_t n, const TensorInfo& t, double* out) {
  if (n == 0) return;
  if (t.dtype == DType::F64 && !t.big_endian && little_endian_host()) {
    std::memcpy(out, p, n * 8);
    return;
  }
  if (t.dtype == DType::Ggml) {  // a block at a time through float32, exactly
    const size_t block = static_cast<size_t>(t.ggml->block), bytes = static_cast<size_t>(t.ggml->bytes);
    float buf[256];
    for (size_t b = 0; b < n / block; ++b) {
      ggml_dequantize(*t.ggml, p + b * bytes, 1, buf);
      for (size_t i = 0; i < block; ++i) out[b * block + i] = buf[i];
    }
    return;
  }
  const size_t w = dtype_size(t.dtype);
  const Minifloat& f16 = format_info(NumberFormat::Fp16).element;
  const Minifloat& bf16 = format_info(NumberFormat::Bf16).element;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* q = p + i * w;
    uint64_t bits = 0;
    if (t.big_endian) {
      for (size_t k = 0; k < w; ++k) bits = (bits << 8) | q[k];
    } else {
      bits = le(q, static_cast<int>(w));
    }
    switch (t.dtype) {
      case DType::F64: {
        double d;
        std::memcpy(&d, &bits, 8);
        out[i] = d;
        break;
      }
      case DType::F32: {
        const uint32_t b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, 4);
        out[i] = f;
        break;
      }
      case DType::F16: out[i] = f16.decode(static_cast<uint32_t>(bits)); break;
      case DType::BF16: out[i] = bf16.decode(static_cast<uint32_t>(bits)); break;
      case DType::I8: out[i] = static_cast<int8_t>(bits); break;
      case DType::U8: out[i] = static_cast<uint8_t>(bits); break;
      case DType::I16: out[i] = static_cast<int16_t>(bits); break;
      case DType::I32: out[i] = static_cast<int32_t>(bits); break;
      case DType::Ggml:
      case DType::Unsupported: out[i] = 0; break;
    }
  }
}

template <class T>
std::vector<T> c_order(const std::vector<T>& fortran, const std::vector<int64_t>& shape) {
  std::vector<T> out(fortran.size());
  const size_t rank = shape.size();
  std::vector<size_t> index(rank, 0);
  for (size_t c = 0; c < out.size(); ++c) {
    // c walks C order; its Fortran position has the first axis fastest.
    size_t f = 0, stride = 1;
    for (size_t k = 0; k < rank; ++k) f += index[k] * stride, stride *= static_cast<size_t>(shape[k]);
    out[c] = fortran[f];
    for (size_t k = rank; k-- > 0;) {
      if (++index[k] < static_cast<size_t>(shape[k])) break;
      index[k] = 0;
    }
  }
  return out;
}

template std::vector<float> c_order(const std::vector<float>&, const std::vector<int64_t>&);
template std::vector<double> c_order(const std::vector<double>&, const std::vector<int64_t>&);

}  // namespace qe
