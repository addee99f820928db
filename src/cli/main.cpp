// quant-error: the calculator's core on tensor files from the command line. Every tensor of
// every .npy, .safetensors and .gguf file given is quantized with the options (the JS API's, as
// flags) and reported as an aligned table, CSV or JSON. Tensors are analysed on all cores.
#include <algorithm>
#include <bit>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "analyze.h"
#include "layer_cli.h"
#include "gguf_model.h"
#include "memory.h"
#include "name_pattern.h"
#include "text.h"
#include "stream.h"
#include "tensor_files.h"

namespace {

constexpr const char* kHelp = R"(quant-error: quantization error of the tensors in .npy, .safetensors and .gguf files

Usage: quant-error FILE... [options]

Quantization (the names and defaults of the calculator's JS API):
  --bits N                 2 to 16 (default 8)
  --mode MODE              symmetric | asymmetric | asymmetric-unsigned (default symmetric)
  --rounding RULE          half-even | half-away | half-up | floor | ceil | toward-zero | stochastic
  --seed N                 stochastic rounding's seed (default 0)
  --calibration METHOD     minmax | percentile | mse | entropy (default minmax)
  --percentile P           for --calibration percentile (default 99.99)
  --granularity G          tensor | channel | group (default tensor)
  --axis N                 the channel axis for --granularity channel (default 0)
  --group-size N           values per group along the last axis, for --granularity group
  --arithmetic A           float64 | float32 (default float64)
  --format F               int | fp16 | bf16 | fp8-e4m3 | fp8-e5m2 | fp6-e3m2 | fp6-e2m3 | fp4-e2m1 |
                           mxfp8-e4m3 | mxfp8-e5m2 | mxfp6-e3m2 | mxfp6-e2m3 | mxfp4 | mxint8 | nvfp4 | nf4 |
                           llama.cpp's q8_0 | q4_0 | q4_1 | q5_0 | q5_1 | q2_k | q3_k | q4_k | q5_k | q6_k |
                           iq4_nl | iq4_xs | tq1_0 | tq2_0 (rows along the tensor's last axis)
  --overflow O             saturate | inf-nan (element formats)
  --format-scale S         none | amax (element formats)
  --mx-scale R             floor | ceil | even | rceil: the OCP MX formats' E8M0 scale rounding (default floor)
  --profile P              formula | pytorch | onnx | ggml (default formula; ggml: ggml's mxfp4, nvfp4)
  --dtype D                int8 | uint8 | int4 | uint4 (profiles)
  --reduce-range           the runtimes' reduce_range (profiles)
  --non-finite MODE        skip | error: NaN and ±Inf values are counted and passed over, the
                           metrics over the finite values (default skip), or the tensor is refused

Through a layer: quant-error --layer WEIGHTS_FILE --tensor NAME --activations X.npy | KIND …
  (a linear layer Y = X·Wᵀ with quantized weights and activations; --layer --help lists its options)

llama.cpp's GGUF files:
  --compare ORIGINAL QUANTIZED
                           the quantized file's error against its float original, tensor by
                           tensor (matched by name), and whether re-quantizing the original with
                           each tensor's type gives the file's blocks (llama.cpp's reference
                           quantizer) or how many differ
  --imatrix FILE           importance weights (llama-imatrix's imatrix.gguf or legacy .dat) for
                           the matching tensors: ggml's types quantize with them, and weighted
                           MSE and SQNR are reported
  --recipe R               quantize each file as llama-quantize's preset would, tensor by tensor:
                           q4_k_m | q5_k_m | q6_k | q8_0 | q4_0 | iq4_xs (no file is written)

Selection and output:
  --tensor REGEX           only tensors whose name contains a match (ECMAScript regex, in linear
                           time: no backreferences or lookaround)
  --output O               table | csv | json (default table)
  --threads N              tensors analysed at once (default: the machine's cores)
  --help                   this text

Tensors of more than 2^25 values are read in chunks, pass after pass, as the page reads them.
Exit status: 0 when every tensor was analysed, 1 when a file or tensor could not be (the others
are still reported; messages go to stderr), 2 for bad options.
)";

// Tensors above this many values are streamed: read in chunks of kChunkValues, never whole (the
// page's thresholds, web/src/worker/worker.js). Fortran-ordered ones are read whole.
constexpr uint64_t kStreamValues = uint64_t{1} << 25;
constexpr uint64_t kChunkValues = uint64_t{1} << 22;

struct Row {
  std::string file, tensor, dtype, shape, error, skipped;
  uint64_t count = 0, finite = 0;  // values, and of them finite (the others skipped)
  qe::NonFiniteCounts non_finite;
  double min = NAN, max = NAN, scale = NAN, mse = NAN, sqnr = NAN, max_abs = NAN, clip_rate = NAN, sum_x2 = 0, sum_e2 = 0;
  int32_t zero_point = 0;
  bool grouped = false;
  // --recipe: the type chosen ("kept" when the tensor stays as it is), its size and the reason.
  std::string recipe, note;
  double bits_per_weight = NAN, weighted_mse = NAN, weighted_sqnr = NAN;
  uint64_t bytes = 0;
};

struct Job {
  std::string file, name;
  qe::TensorInfo info;
  size_t row;
  // --recipe and --imatrix: this tensor's own format and importance (the options' otherwise).
  std::optional<qe::AnalyzeOptions> options;
};

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Reads [offset, offset + n) of a file; false on a short read.
bool read_at(std::ifstream& in, uint64_t offset, size_t n, std::vector<uint8_t>& out) {
  out.resize(n);
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
  return static_cast<size_t>(in.gcount()) == n;
}

bool read_at(const std::string& path, uint64_t offset, size_t n, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  return in && read_at(in, offset, n, out);
}

// The tensors of one file, or an error message.
std::variant<std::vector<qe::TensorInfo>, std::string> index_file(const std::string& path, qe::GgufHeader* meta = nullptr) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::string("cannot open the file");
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  std::vector<uint8_t> head;
  const auto header = [&](uint64_t need) { return read_at(path, 0, static_cast<size_t>(std::min<uint64_t>(need, size)), head); };
  if (ends_with(path, ".npy")) {
    header(qe::kNpyPrefix);
    auto n = qe::npy_header_bytes(head.data(), head.size());
    if (auto* e = std::get_if<qe::Error>(&n)) return e->message;
    header(std::get<uint64_t>(n));
    auto t = qe::read_npy(head.data(), head.size(), size);
    if (auto* e = std::get_if<qe::Error>(&t)) return e->message;
    return std::vector<qe::TensorInfo>{std::get<qe::TensorInfo>(t)};
  }
  if (ends_with(path, ".safetensors")) {
    header(8);
    auto n = qe::safetensors_header_bytes(head.data(), head.size(), size);
    if (auto* e = std::get_if<qe::Error>(&n)) return e->message;
    header(std::get<uint64_t>(n));
    auto t = qe::read_safetensors(head.data(), head.size(), size);
    if (auto* e = std::get_if<qe::Error>(&t)) return e->message;
    return std::get<std::vector<qe::TensorInfo>>(t);
  }
  if (ends_with(path, ".gguf")) {
    uint64_t want = 1 << 20;  // the header grows with the vocabulary: read more until it fits
    while (true) {
      header(want);
      auto g = qe::read_gguf(head.data(), head.size(), size);
      if (auto* e = std::get_if<qe::Error>(&g)) return e->message;
      const qe::GgufHeader& h = std::get<qe::GgufHeader>(g);
      if (h.need == 0) {
        if (meta) meta->architecture = h.architecture, meta->integers = h.integers;
        return h.tensors;
      }
      want = h.need;
    }
  }
  return std::string("not a .npy, .safetensors or .gguf file");
}

// The row from an analysis: its metrics, and the (finite) values' extremes and Σx² (for the
// file's SQNR) as the analysis measured them.
void fill(Row& row, const qe::Analysis& a) {
  row.non_finite = a.non_finite;
  row.finite = a.metrics.count;
  row.min = a.metrics.data_min;
  row.max = a.metrics.data_max;
  row.grouped = !a.groups.empty() || !a.block_scales.empty();
  row.scale = a.params.scale;
  row.zero_point = a.params.zero_point;
  row.mse = a.metrics.mse;
  row.sqnr = a.metrics.sqnr_db;
  row.max_abs = a.metrics.max_abs_error;
  row.clip_rate = a.metrics.clip_rate;
  row.sum_e2 = a.metrics.mse * static_cast<double>(row.finite);
  row.sum_x2 = a.metrics.sum_x2;
}

qe::AnalyzeOptions tensor_options(const qe::AnalyzeOptions& base, const qe::TensorInfo& t) {
  qe::AnalyzeOptions o = base;
  o.per_sample = false;
  // Per channel or group, and for ggml's types (rows along the last axis), the tensor's shape.
  if (o.scheme.granularity != qe::Granularity::Tensor || o.scheme.format == qe::NumberFormat::Ggml) o.scheme.shape = t.shape;
  return o;
}

template <class In>
void finish(const std::vector<In>& x, const qe::AnalyzeOptions& base, const qe::TensorInfo& t, Row& row) {
  qe::GgmlBlocks blocks;
  auto r = qe::analyze(x.data(), x.size(), tensor_options(base, t), base.scheme.format == qe::NumberFormat::Ggml ? &blocks : nullptr);
  if (base.importance) row.weighted_mse = blocks.weighted_mse, row.weighted_sqnr = blocks.weighted_sqnr_db;
  if (auto* e = std::get_if<qe::Error>(&r)) {
    row.error = e->message;
    return;
  }
  fill(row, std::get<qe::Analysis>(r));
}

// A tensor too large to hold: chunk by chunk from the file, pass after pass (stream.h).
template <class In>
void stream(const Job& job, const qe::AnalyzeOptions& base, Row& row) {
  const qe::TensorInfo& t = job.info;
  qe::StreamAnalysis st(tensor_options(base, t));
  if (auto e = st.check()) {
    row.error = e->message;
    return;
  }
  std::ifstream in(job.file, std::ios::binary);
  const size_t width = qe::dtype_size(t.dtype);
  std::vector<uint8_t> bytes;
  std::vector<In> x;
  while (!st.done()) {
    for (uint64_t at = 0; at < t.count; at += kChunkValues) {
      const size_t n = static_cast<size_t>(std::min(kChunkValues, t.count - at));
      if (!in || !read_at(in, t.offset + at * width, n * width, bytes)) {
        row.error = "the file ends before this tensor's data";
        return;
      }
      x.resize(n);
      if constexpr (std::is_same_v<In, float>) qe::to_float(bytes.data(), n, t, x.data());
      else qe::to_double(bytes.data(), n, t, x.data());
      if (auto e = st.add(x.data(), n)) {
        row.error = e->message;
        return;
      }
    }
    if (auto e = st.next()) {
      row.error = e->message;
      return;
    }
  }
  fill(row, st.finish());
}

// Whether a tensor is read in chunks: above kStreamValues, in C order, as floats or doubles (ggml's
// blocks are read whole, and a ggml format is a whole analysis only).
bool streamed(const qe::TensorInfo& t, const qe::AnalyzeOptions& base) {
  return t.count > kStreamValues && !t.fortran_order && t.dtype != qe::DType::Ggml && base.scheme.format != qe::NumberFormat::Ggml;
}

void analyse_tensor(const Job& job, const qe::AnalyzeOptions& base, Row& row) {
  const qe::TensorInfo& t = job.info;
  if (streamed(t, base)) {
    if (qe::float_exact(t.dtype)) stream<float>(job, base, row);
    else stream<double>(job, base, row);
    return;
  }
  // Each thread keeps its buffers from tensor to tensor (fresh ones cost the kernel's page faults
  // and zeroing, a fifth of the time on a model of equal tensors); they hold what the largest
  // tensor so far needed, as a fresh pair would at that tensor.
  thread_local std::vector<uint8_t> bytes;
  thread_local std::vector<float> xf;
  thread_local std::vector<double> xd;
  const auto ends = [&row] { row.error = "the file ends before this tensor's data"; };
  const size_t size = static_cast<size_t>(qe::tensor_bytes(t));
  // float32 in the machine's byte order, in C order: the file's bytes are the values.
  if (t.dtype == qe::DType::F32 && !t.big_endian && !t.fortran_order && std::endian::native == std::endian::little) {
    xf.resize(t.count);
    std::ifstream in(job.file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(t.offset));
    in.read(reinterpret_cast<char*>(xf.data()), static_cast<std::streamsize>(size));
    if (!in || static_cast<size_t>(in.gcount()) != size) return ends();
    return finish(xf, base, t, row);
  }
  if (!read_at(job.file, t.offset, size, bytes)) return ends();
  // float where float holds the values exactly (as the page reads them), double otherwise.
  if (qe::float_exact(t.dtype)) {
    xf.resize(t.count);
    qe::to_float(bytes.data(), xf.size(), t, xf.data());
    if (t.fortran_order) return finish(qe::c_order(xf, t.shape), base, t, row);
    finish(xf, base, t, row);
  } else {
    xd.resize(t.count);
    qe::to_double(bytes.data(), xd.size(), t, xd.data());
    if (t.fortran_order) return finish(qe::c_order(xd, t.shape), base, t, row);
    finish(xd, base, t, row);
  }
}

// One tensor's row, whatever happens: a failed allocation is that tensor's error, not the end of
// the others.
void analyse(const Job& job, const qe::AnalyzeOptions& options, Row& row) {
  const qe::AnalyzeOptions& base = job.options ? *job.options : options;
  try {
    analyse_tensor(job, base, row);
  } catch (const std::bad_alloc&) {
    const qe::TensorInfo& t = job.info;
    const bool whole = !streamed(t, base);
    const double values = static_cast<double>(whole ? t.count : kChunkValues);
    // The peak: the file's bytes beside the values (Fortran order: the values beside their copy in C order).
    const size_t value = qe::float_exact(t.dtype) ? 4 : 8;
    const double width = t.count ? static_cast<double>(qe::tensor_bytes(t)) / static_cast<double>(t.count) : 0;
    const double bytes = values * std::max(width + value, t.fortran_order ? 2.0 * value : 0.0);
    Row fresh;
    fresh.file = row.file, fresh.tensor = row.tensor, fresh.dtype = row.dtype, fresh.shape = row.shape, fresh.skipped = row.skipped;
    fresh.count = row.count, fresh.recipe = row.recipe, fresh.note = row.note, fresh.bytes = row.bytes, fresh.bits_per_weight = row.bits_per_weight;
    row = std::move(fresh);
    row.error = "not enough memory for this tensor (" + qe::megabytes_text(bytes) + (whole ? " to read it whole)" : " for a chunk)");
  }
}

using qe::cli::csv_cell;
using qe::cli::json_num;
using qe::cli::json_string;
using qe::cli::num;
using qe::cli::short_num;

// "2 NaN, 1 +Inf" for the table, "-" when there is none.
std::string non_finite_cell(const qe::NonFiniteCounts& c) { return c.total() ? qe::non_finite_text(c) : "-"; }

// A file's tensors, without the GGUF metadata (the layer mode's reader).
std::variant<std::vector<qe::TensorInfo>, std::string> tensors_of(const std::string& path) { return index_file(path); }

// One tensor's values whole, in C order, as doubles (the layer mode's weights and activations).
std::variant<std::vector<double>, std::string> tensor_values(const std::string& path, const qe::TensorInfo& t) {
  try {
    std::vector<uint8_t> bytes;
    if (!read_at(path, t.offset, static_cast<size_t>(qe::tensor_bytes(t)), bytes)) return std::string("the file ends before this tensor's data");
    std::vector<double> x(t.count);
    qe::to_double(bytes.data(), x.size(), t, x.data());
    if (t.fortran_order) x = qe::c_order(x, t.shape);
    return x;
  } catch (const std::bad_alloc&) {
    return std::string("not enough memory to read this tensor (") + qe::megabytes_text(static_cast<double>(t.count) * 16) + ")";
  }
}

// ---- --compare ---------------------------------------------------------------------------------

struct CompareRow {
  std::string tensor, dtype, original_dtype, shape, error;
  uint64_t count = 0, bytes = 0;
  qe::TensorComparisonResult r;
  bool done = false;
};

// The verdict on the re-quantization: "identical to llama.cpp's reference quantizer" or "N of M
// blocks differ".
std::string verdict(const CompareRow& c) {
  const qe::TensorComparisonResult& r = c.r;
  const std::string with = r.requantized_with_importance ? " (re-quantized with the imatrix)" : "";
  if (r.units_differing == 0)
    return std::string(r.unit) == std::string("blocks") ? "identical to llama.cpp's reference quantizer" + with
                                                        : std::string("identical values (") + c.dtype + " of the original)";
  return std::to_string(r.units_differing) + " of " + std::to_string(r.units) + " " + r.unit + " differ" + with;
}

// One pair, chunk by chunk from both files, pass after pass.
void compare_pair(const std::string& fa, const qe::TensorInfo& a, const std::string& fb, const qe::TensorInfo& b, qe::ImportanceView w,
                  CompareRow& row) {
  qe::TensorComparison c(a, b, w);
  if (auto e = c.check()) {
    row.error = e->message;
    return;
  }
  std::ifstream ia(fa, std::ios::binary), ib(fb, std::ios::binary);
  const uint64_t chunk = std::max<uint64_t>(1, kChunkValues / std::max<uint64_t>(1, c.row_values()));
  std::vector<uint8_t> xa, xb;
  while (!c.done()) {
    for (uint64_t r = 0; r < c.rows(); r += chunk) {
      const uint64_t n = std::min(chunk, c.rows() - r);
      if (!read_at(ia, a.offset + r * c.original_row_bytes(), static_cast<size_t>(n * c.original_row_bytes()), xa) ||
          !read_at(ib, b.offset + r * c.quantized_row_bytes(), static_cast<size_t>(n * c.quantized_row_bytes()), xb)) {
        row.error = "the file ends before this tensor's data";
        return;
      }
      if (auto e = c.add(xa.data(), xb.data(), n)) {
        row.error = e->message;
        return;
      }
    }
    c.next();
  }
  row.r = c.finish();
  row.done = true;
}

int run_compare(const std::string& original, const std::string& quantized, const qe::Imatrix* im, const std::string& output,
                const std::optional<qe::cli::NamePattern>& select, unsigned threads) {
  std::variant<std::vector<qe::TensorInfo>, std::string> ia, ib;
  try {
    ia = index_file(original);
    ib = index_file(quantized);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "quant-error: not enough memory to read the files' headers\n");
    return 1;
  }
  for (const auto& [path, index] : {std::pair{original, &ia}, std::pair{quantized, &ib}}) {
    if (auto* m = std::get_if<std::string>(index)) {
      std::fprintf(stderr, "quant-error: %s: %s\n", path.c_str(), m->c_str());
      return 1;
    }
  }
  const auto& ta = std::get<std::vector<qe::TensorInfo>>(ia);
  const auto& tb = std::get<std::vector<qe::TensorInfo>>(ib);
  const qe::FileMatch m = qe::match_tensors(ta, tb);
  std::vector<CompareRow> rows;
  std::vector<std::pair<size_t, qe::ImportanceView>> jobs;  // pair index, importance
  std::vector<const qe::TensorPair*> pairs;
  for (const qe::TensorPair& p : m.pairs) {
    const qe::TensorInfo &a = ta[p.original], &b = tb[p.quantized];
    if (select && !select->search(b.name)) continue;
    CompareRow r;
    r.tensor = b.name, r.dtype = b.skipped.empty() ? qe::dtype_name(b) : b.file_dtype;
    r.original_dtype = a.skipped.empty() ? qe::dtype_name(a) : a.file_dtype;
    r.shape = shape_text(b.shape), r.count = b.count, r.bytes = b.skipped.empty() ? qe::tensor_bytes(b) : 0;
    r.error = p.error;
    qe::ImportanceView w;
    if (r.error.empty()) {
      auto v = qe::importance_for(im, a.name, a.shape);
      if (auto* e = std::get_if<qe::Error>(&v)) r.error = e->message;
      else w = std::get<qe::ImportanceView>(v);
    }
    rows.push_back(r);
    pairs.push_back(&p);
    if (rows.back().error.empty()) jobs.emplace_back(rows.size() - 1, w);
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (unsigned k = 0; k < std::min<size_t>(threads, jobs.size()); ++k) {
    pool.emplace_back([&] {
      for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
        const auto& [at, w] = jobs[j];
        try {
          compare_pair(original, ta[pairs[at]->original], quantized, tb[pairs[at]->quantized], w, rows[at]);
        } catch (const std::bad_alloc&) {
          rows[at].error = "not enough memory to compare this tensor";
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  bool failed = false;
  for (const CompareRow& r : rows) {
    if (!r.error.empty()) {
      std::fprintf(stderr, "quant-error: tensor \"%s\": %s\n", r.tensor.c_str(), r.error.c_str());
      failed = true;
    }
  }
  for (const std::string& n : m.only_original) std::fprintf(stderr, "quant-error: tensor \"%s\" is only in %s\n", n.c_str(), original.c_str());
  for (const std::string& n : m.only_quantized) std::fprintf(stderr, "quant-error: tensor \"%s\" is only in %s\n", n.c_str(), quantized.c_str());
  if (!m.only_original.empty() || !m.only_quantized.empty()) failed = true;
  // The size-weighted summary: Σe² / Σn, Σx² / Σe², the compared tensors' bits per weight.
  uint64_t n = 0, bytes = 0, identical = 0, compared = 0;
  double e2 = 0, x2 = 0;
  for (const CompareRow& r : rows) {
    if (!r.done) continue;
    ++compared;
    n += r.count, bytes += r.bytes;
    e2 += r.r.metrics.mse * static_cast<double>(r.count), x2 += r.r.sum_x2;
    identical += r.r.units_differing == 0;
  }
  const double mse = n ? e2 / static_cast<double>(n) : NAN;
  const double sqnr = x2 == 0 ? NAN : e2 == 0 ? INFINITY : 10 * std::log10(x2 / e2);
  const double bpw = n ? 8.0 * static_cast<double>(bytes) / static_cast<double>(n) : NAN;
  const auto names = [](const std::vector<std::string>& v) {
    std::string t = "[";
    for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + json_string(v[i]);
    return t + "]";
  };
  if (output == "json") {
    std::printf("{\"original\": %s, \"quantized\": %s, \"imatrix\": %s, \"tensors\": [", json_string(original).c_str(), json_string(quantized).c_str(),
                im ? "true" : "false");
    for (size_t i = 0; i < rows.size(); ++i) {
      const CompareRow& r = rows[i];
      const qe::Metrics& k = r.r.metrics;
      std::printf("%s\n  {\"tensor\": %s, \"dtype\": %s, \"originalDtype\": %s, \"shape\": %s, \"count\": %llu, \"bitsPerWeight\": %s", i ? "," : "",
                  json_string(r.tensor).c_str(), json_string(r.dtype).c_str(), json_string(r.original_dtype).c_str(), r.shape.c_str(),
                  static_cast<unsigned long long>(r.count), r.count ? json_num(8.0 * static_cast<double>(r.bytes) / static_cast<double>(r.count)).c_str() : "null");
      if (r.done) {
        std::printf(", \"mse\": %s, \"rmse\": %s, \"mae\": %s, \"sqnrDb\": %s, \"psnrDb\": %s, \"maxAbsError\": %s, \"maxAbsErrorIndex\": %lld, "
                    "\"meanError\": %s, \"errorStd\": %s, \"cosine\": %s, \"medianAbsError\": %s, \"p95AbsError\": %s, \"weightedMse\": %s, "
                    "\"weightedSqnrDb\": %s, \"requantized\": {\"unit\": \"%s\", \"compared\": %llu, \"differing\": %llu, \"firstDiffering\": %s, "
                    "\"withImportance\": %s}, \"verdict\": %s",
                    json_num(k.mse).c_str(), json_num(k.rmse).c_str(), json_num(k.mae).c_str(),
                    k.sqnr_db == INFINITY ? "\"Infinity\"" : json_num(k.sqnr_db).c_str(), k.psnr_db == INFINITY ? "\"Infinity\"" : json_num(k.psnr_db).c_str(),
                    json_num(k.max_abs_error).c_str(), static_cast<long long>(k.max_abs_error_index), json_num(k.mean_error).c_str(),
                    json_num(k.error_std).c_str(), json_num(k.cosine).c_str(), json_num(k.median_abs_error).c_str(), json_num(k.p95_abs_error).c_str(),
                    json_num(r.r.weighted_mse).c_str(), r.r.weighted_sqnr_db == INFINITY ? "\"Infinity\"" : json_num(r.r.weighted_sqnr_db).c_str(), r.r.unit,
                    static_cast<unsigned long long>(r.r.units), static_cast<unsigned long long>(r.r.units_differing),
                    r.r.first_differing < 0 ? "null" : std::to_string(r.r.first_differing).c_str(), r.r.requantized_with_importance ? "true" : "false",
                    json_string(verdict(r)).c_str());
      }
      std::printf(", \"error\": %s}", r.error.empty() ? "null" : json_string(r.error).c_str());
    }
    std::printf("\n], \"onlyOriginal\": %s, \"onlyQuantized\": %s, \"summary\": {\"tensors\": %llu, \"compared\": %llu, \"identical\": %llu, "
                "\"values\": %llu, \"bytes\": %llu, \"bitsPerWeight\": %s, \"mse\": %s, \"sqnrDb\": %s}}\n",
                names(m.only_original).c_str(), names(m.only_quantized).c_str(), static_cast<unsigned long long>(rows.size()),
                static_cast<unsigned long long>(compared), static_cast<unsigned long long>(identical), static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(bytes), json_num(bpw).c_str(), json_num(mse).c_str(), sqnr == INFINITY ? "\"Infinity\"" : json_num(sqnr).c_str());
  } else if (output == "csv") {
    std::printf("tensor,dtype,original_dtype,shape,count,bits_per_weight,mse,rmse,mae,sqnr_db,psnr_db,max_abs_error,mean_error,error_std,cosine,"
                "median_abs_error,p95_abs_error,weighted_mse,weighted_sqnr_db,unit,compared,differing,first_differing,verdict,note\r\n");
    for (const CompareRow& r : rows) {
      const qe::Metrics& k = r.r.metrics;
      const bool d = r.done;
      std::printf("%s,%s,%s,%s,%llu,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\r\n", csv_cell(r.tensor).c_str(), csv_cell(r.dtype).c_str(),
                  csv_cell(r.original_dtype).c_str(), csv_cell(r.shape).c_str(), static_cast<unsigned long long>(r.count),
                  r.count ? num(8.0 * static_cast<double>(r.bytes) / static_cast<double>(r.count)).c_str() : "", d ? num(k.mse).c_str() : "",
                  d ? num(k.rmse).c_str() : "", d ? num(k.mae).c_str() : "", d ? num(k.sqnr_db).c_str() : "", d ? num(k.psnr_db).c_str() : "",
                  d ? num(k.max_abs_error).c_str() : "", d ? num(k.mean_error).c_str() : "", d ? num(k.error_std).c_str() : "",
                  d ? num(k.cosine).c_str() : "", d ? num(k.median_abs_error).c_str() : "", d ? num(k.p95_abs_error).c_str() : "",
                  d ? num(r.r.weighted_mse).c_str() : "", d ? num(r.r.weighted_sqnr_db).c_str() : "", d ? r.r.unit : "",
                  d ? std::to_string(r.r.units).c_str() : "", d ? std::to_string(r.r.units_differing).c_str() : "",
                  d && r.r.first_differing >= 0 ? std::to_string(r.r.first_differing).c_str() : "", d ? csv_cell(verdict(r)).c_str() : "",
                  csv_cell(r.error).c_str());
    }
    for (const std::string& t : m.only_original) std::printf("%s,,,,,,,,,,,,,,,,,,,,,,,,%s\r\n", csv_cell(t).c_str(), csv_cell("only in the original").c_str());
    for (const std::string& t : m.only_quantized) std::printf("%s,,,,,,,,,,,,,,,,,,,,,,,,%s\r\n", csv_cell(t).c_str(), csv_cell("only in the quantized file").c_str());
  } else {
    std::vector<std::string> head = {"tensor", "dtype", "shape", "count", "bits/w", "MSE", "SQNR dB", "max|e|"};
    if (im) head.insert(head.end(), {"wMSE", "wSQNR dB"});
    head.push_back("re-quantized original");
    std::vector<std::vector<std::string>> cells;
    for (const CompareRow& r : rows) {
      std::vector<std::string> line = {r.tensor, r.original_dtype + " → " + r.dtype, r.shape, std::to_string(r.count),
                                       r.count ? short_num(8.0 * static_cast<double>(r.bytes) / static_cast<double>(r.count)) : "-"};
      if (!r.done) {
        line.push_back("error: " + r.error);
      } else {
        line.insert(line.end(), {short_num(r.r.metrics.mse), short_num(r.r.metrics.sqnr_db), short_num(r.r.metrics.max_abs_error)});
        if (im) line.insert(line.end(), {short_num(r.r.weighted_mse), short_num(r.r.weighted_sqnr_db)});
        line.push_back(verdict(r));
      }
      cells.push_back(line);
    }
    for (const std::string& t : m.only_original) cells.push_back({t, "-", "-", "-", "-", "only in " + base_name(original)});
    for (const std::string& t : m.only_quantized) cells.push_back({t, "-", "-", "-", "-", "only in " + base_name(quantized)});
    std::vector<size_t> w(head.size());
    for (size_t c = 0; c < head.size(); ++c) w[c] = head[c].size();
    const size_t last = head.size() - 1;
    for (const auto& line : cells)
      for (size_t c = 0; c < line.size() && c < last; ++c)
        if (line.size() == head.size() || c < 5) w[c] = std::max(w[c], line[c].size());
    const auto print = [&](const std::vector<std::string>& line) {
      std::string out;
      for (size_t c = 0; c < line.size(); ++c) {
        const bool right = c >= 3 && c < last && line.size() == head.size();
        const size_t width = c < last && (line.size() == head.size() || c < 5) ? w[c] : 0;
        const size_t pad = width - std::min(width, line[c].size());
        out += (c ? "  " : "") + (right ? std::string(pad, ' ') + line[c] : line[c] + (c + 1 < line.size() ? std::string(pad, ' ') : ""));
      }
      std::printf("%s\n", out.c_str());
    };
    print(head);
    for (const auto& line : cells) print(line);
    std::printf("%s against %s: %llu of %llu tensors compared, %llu values, %s bits per weight; MSE %s, SQNR %s dB (weighted by size); "
                "%llu of %llu reproduced exactly by re-quantizing the original\n",
                base_name(quantized).c_str(), base_name(original).c_str(), static_cast<unsigned long long>(compared),
                static_cast<unsigned long long>(rows.size()), static_cast<unsigned long long>(n), short_num(bpw).c_str(), short_num(mse).c_str(),
                short_num(sqnr).c_str(), static_cast<unsigned long long>(identical), static_cast<unsigned long long>(compared));
  }
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--layer") == 0) return qe::cli::run_layer(argc, argv, {tensors_of, tensor_values});
  qe::AnalyzeOptions options;
  options.non_finite = qe::NonFinite::Skip;  // a checkpoint's NaN is a finding, not a reason to stop
  qe::QuantScheme& s = options.scheme;
  std::vector<std::string> files;
  std::string output = "table", pattern, format = "int", imatrix_path, recipe_name;
  std::vector<std::string> compare;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  const auto usage = [](const std::string& message) {
    std::fprintf(stderr, "quant-error: %s (see --help)\n", message.c_str());
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (arg.rfind("--", 0) != 0) {
      files.push_back(arg);
      continue;
    }
    if (arg == "--reduce-range") {
      s.reduce_range = true;
      continue;
    }
    if (arg == "--compare") {
      if (i + 2 >= argc) return usage("--compare needs two files: the original and the quantized one");
      compare = {argv[i + 1], argv[i + 2]};
      i += 2;
      continue;
    }
    if (i + 1 >= argc) return usage(arg + " needs a value");
    const std::string v = argv[++i];
    const auto integer = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < lo || n > hi) return std::nullopt;
      return n;
    };
    const auto bad = [&]() { return usage("bad value \"" + v + "\" for " + arg); };
    if (arg == "--bits") {
      auto n = integer(2, 16);
      if (!n) return bad();
      s.bits = static_cast<int>(*n);
    } else if (arg == "--mode") {
      auto m = qe::parse_mode(v);
      if (!m) return bad();
      s.mode = *m;
    } else if (arg == "--rounding") {
      auto r = qe::parse_rounding(v);
      if (!r) return bad();
      s.rounding = *r;
    } else if (arg == "--seed") {
      auto n = integer(0, (int64_t{1} << 53) - 1);
      if (!n) return bad();
      s.seed = static_cast<uint64_t>(*n);
    } else if (arg == "--calibration") {
      auto c = qe::parse_calibration(v);
      if (!c) return bad();
      s.calibration = *c;
    } else if (arg == "--percentile") {
      char* end = nullptr;
      s.percentile = std::strtod(v.c_str(), &end);
      if (*end != '\0') return bad();
    } else if (arg == "--granularity") {
      auto g = qe::parse_granularity(v);
      if (!g) return bad();
      s.granularity = *g;
    } else if (arg == "--axis") {
      auto n = integer(-64, 64);
      if (!n) return bad();
      s.axis = static_cast<int>(*n);
    } else if (arg == "--group-size") {
      auto n = integer(1, int64_t{1} << 40);
      if (!n) return bad();
      s.group_size = *n;
    } else if (arg == "--arithmetic") {
      auto a = qe::parse_arithmetic(v);
      if (!a) return bad();
      s.arithmetic = *a;
    } else if (arg == "--format") {
      auto f = qe::parse_format(v);
      if ((!f || *f == qe::NumberFormat::Custom) && !qe::ggml_type_by_name(v)) return bad();
      format = v;  // chosen after the loop: --profile ggml changes what mxfp4 and nvfp4 mean
    } else if (arg == "--overflow") {
      auto o = qe::parse_overflow(v);
      if (!o) return bad();
      s.overflow = *o;
    } else if (arg == "--format-scale") {
      if (v != "none" && v != "amax") return bad();
      s.format_scale = v == "amax" ? qe::QuantScheme::FormatScale::Amax : qe::QuantScheme::FormatScale::None;
    } else if (arg == "--mx-scale") {
      auto m = qe::parse_mx_scale(v);
      if (!m) return bad();
      s.mx_scale = *m;
    } else if (arg == "--profile") {
      auto p = qe::parse_profile(v);
      if (!p) return bad();
      s.profile = *p;
    } else if (arg == "--dtype") {
      auto d = qe::parse_dtype(v);
      if (!d) return bad();
      s.dtype = *d;
    } else if (arg == "--non-finite") {
      if (v != "skip" && v != "error") return bad();
      options.non_finite = v == "skip" ? qe::NonFinite::Skip : qe::NonFinite::Error;
    } else if (arg == "--tensor") {
      pattern = v;
    } else if (arg == "--imatrix") {
      imatrix_path = v;
    } else if (arg == "--recipe") {
      if (!qe::parse_recipe(v)) return usage("bad value \"" + v + "\" for --recipe (q4_k_m, q5_k_m, q6_k, q8_0, q4_0 or iq4_xs)");
      recipe_name = v;
    } else if (arg == "--output") {
      if (v != "table" && v != "csv" && v != "json") return bad();
      output = v;
    } else if (arg == "--threads") {
      auto n = integer(1, 256);
      if (!n) return bad();
      threads = static_cast<unsigned>(*n);
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (!qe::select_ggml_format(s, format)) {
    if (!qe::parse_format(format)) return usage("bad value \"" + format + "\" for --format");  // ggml's mxfp4 without its profile
    s.format = *qe::parse_format(format);
  }
  if (files.empty() && compare.empty()) return usage("no files given");
  if (!compare.empty() && !files.empty()) return usage("--compare takes its two files, and no others");
  if (!compare.empty() && !recipe_name.empty()) return usage("--compare and --recipe are separate reports");
  std::optional<qe::cli::NamePattern> select;
  if (!pattern.empty()) {
    auto compiled = qe::cli::NamePattern::compile(pattern);
    if (auto* why = std::get_if<std::string>(&compiled)) return usage("--tensor \"" + pattern + "\" is not a pattern this reads: " + *why);
    select.emplace(std::get<qe::cli::NamePattern>(std::move(compiled)));
  }
  std::optional<qe::Imatrix> imatrix;
  if (!imatrix_path.empty()) {
    std::ifstream in(imatrix_path, std::ios::binary | std::ios::ate);
    if (!in) {
      std::fprintf(stderr, "quant-error: %s: cannot open the imatrix file\n", imatrix_path.c_str());
      return 1;
    }
    std::vector<uint8_t> bytes;
    if (!read_at(in, 0, static_cast<size_t>(in.tellg()), bytes)) {
      std::fprintf(stderr, "quant-error: %s: cannot read the imatrix file\n", imatrix_path.c_str());
      return 1;
    }
    auto im = qe::read_imatrix(bytes.data(), bytes.size());
    if (auto* e = std::get_if<qe::Error>(&im)) {
      std::fprintf(stderr, "quant-error: %s: %s\n", imatrix_path.c_str(), e->message.c_str());
      return 1;
    }
    imatrix = std::get<qe::Imatrix>(std::move(im));
  }
  const qe::Imatrix* im = imatrix ? &*imatrix : nullptr;
  if (!compare.empty()) return run_compare(compare[0], compare[1], im, output, select, threads);
  const std::optional<qe::Recipe> recipe = recipe_name.empty() ? std::nullopt : qe::parse_recipe(recipe_name);
  const qe::Recipe chosen = recipe_name.empty() ? qe::Recipe::Q4_K_M : qe::parse_recipe(recipe_name).value_or(qe::Recipe::Q4_K_M);
  const std::string recipe_label = recipe ? qe::recipe_name(chosen) : "";

  std::vector<Row> rows;
  std::vector<Job> jobs;
  bool failed = false;
  for (const std::string& path : files) {
    std::variant<std::vector<qe::TensorInfo>, std::string> index;
    qe::GgufHeader meta;
    try {
      index = index_file(path, &meta);
    } catch (const std::bad_alloc&) {
      index = std::string("not enough memory to read the file's header");
    }
    if (auto* message = std::get_if<std::string>(&index)) {
      std::fprintf(stderr, "quant-error: %s: %s\n", path.c_str(), message->c_str());
      Row r;
      r.file = path;
      r.error = *message;
      rows.push_back(r);
      failed = true;
      continue;
    }
    const std::vector<qe::TensorInfo>& tensors = std::get<std::vector<qe::TensorInfo>>(index);
    std::vector<qe::RecipeChoice> choices;
    if (recipe) {
      meta.tensors = tensors;
      choices = qe::recipe_types(chosen, tensors, qe::model_facts(meta), im != nullptr);
    }
    for (size_t k = 0; k < tensors.size(); ++k) {
      const qe::TensorInfo& t = tensors[k];
      const std::string name = t.name.empty() ? base_name(path) : t.name;
      if (select && !select->search(name)) continue;
      Row r;
      r.file = path;
      r.tensor = name;
      r.dtype = t.skipped.empty() ? qe::dtype_name(t) : t.file_dtype;
      r.shape = shape_text(t.shape);
      r.count = t.count;
      r.skipped = t.skipped;
      Job job{path, name, t, rows.size(), std::nullopt};
      qe::AnalyzeOptions o = options;
      bool own = false;
      if (recipe && t.skipped.empty()) {
        const qe::RecipeChoice& c = choices[k];
        r.note = c.note;
        if (!c.error.empty()) {
          r.error = c.error;
        } else if (c.type) {
          r.recipe = c.type->name;
          r.bytes = static_cast<uint64_t>(qe::ggml_row_bytes(*c.type, static_cast<size_t>(t.shape.back()))) * (t.count / static_cast<uint64_t>(t.shape.back()));
          o.scheme = qe::QuantScheme{};
          qe::select_ggml_format(o.scheme, c.type->name);
          own = true;
        } else if (c.float16) {
          r.recipe = "float16";
          r.bytes = t.count * 2;
          o.scheme = qe::QuantScheme{};
          o.scheme.format = qe::NumberFormat::Fp16;
          o.scheme.overflow = qe::Overflow::InfNan;  // ggml's float16 conversion overflows to ±Inf
          own = true;
        } else {
          r.recipe = "kept";
          r.note = c.kept;
          r.bytes = qe::tensor_bytes(t);
        }
        if (t.count) r.bits_per_weight = 8.0 * static_cast<double>(r.bytes) / static_cast<double>(t.count);
      }
      // The imatrix for ggml's types: the tensor's entry, checked against its shape.
      if (im && t.skipped.empty() && o.scheme.format == qe::NumberFormat::Ggml && r.error.empty()) {
        auto v = qe::importance_for(im, name, t.shape);
        if (auto* e = std::get_if<qe::Error>(&v)) r.error = e->message;
        else if (const qe::ImportanceView w = std::get<qe::ImportanceView>(v); w.weights) {
          o.importance = w.weights, o.importance_count = w.count, own = true;  // per matrix for a 3-D expert tensor
        }
      }
      if (own) job.options = o;
      rows.push_back(r);
      if (t.skipped.empty() && r.error.empty() && r.recipe != "kept") jobs.push_back(job);
    }
  }
  // Tensors are independent: each thread takes the next one.
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (unsigned k = 0; k < std::min<size_t>(threads, jobs.size()); ++k) {
    pool.emplace_back([&] {
      for (size_t j; (j = next.fetch_add(1)) < jobs.size();) analyse(jobs[j], options, rows[jobs[j].row]);
    });
  }
  for (auto& th : pool) th.join();
  for (const Row& r : rows) {
    if (!r.error.empty() && !r.tensor.empty()) {
      std::fprintf(stderr, "quant-error: %s: tensor \"%s\": %s\n", r.file.c_str(), r.tensor.c_str(), r.error.c_str());
      failed = true;
    }
  }

  if (output == "json") {
    std::printf("[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      // --imatrix and --recipe add their fields.
      std::string extra;
      if (recipe || im)
        extra = ", \"weightedMse\": " + json_num(r.weighted_mse) + ", \"weightedSqnrDb\": " +
                (r.weighted_sqnr == INFINITY ? std::string("\"Infinity\"") : json_num(r.weighted_sqnr));
      if (recipe)
        extra += ", \"recipe\": " + json_string(recipe_label) + ", \"type\": " + (r.recipe.empty() ? std::string("null") : json_string(r.recipe)) +
                 ", \"bytes\": " + std::to_string(r.bytes) + ", \"bitsPerWeight\": " + json_num(r.bits_per_weight) +
                 ", \"note\": " + (r.note.empty() ? std::string("null") : json_string(r.note));
      std::printf("%s\n  {\"file\": %s, \"tensor\": %s, \"dtype\": %s, \"shape\": %s, \"count\": %llu, \"min\": %s, \"max\": %s, "
                  "\"scale\": %s, \"zeroPoint\": %s, \"mse\": %s, \"sqnrDb\": %s, \"maxAbsError\": %s, \"clipRate\": %s, "
                  "\"nonFinite\": {\"nan\": %llu, \"posInf\": %llu, \"negInf\": %llu}, \"skipped\": %s, \"error\": %s%s}",
                  i ? "," : "", json_string(r.file).c_str(), json_string(r.tensor).c_str(), json_string(r.dtype).c_str(),
                  r.shape.empty() ? "null" : r.shape.c_str(), static_cast<unsigned long long>(r.count), json_num(r.min).c_str(),
                  json_num(r.max).c_str(), r.grouped ? "null" : json_num(r.scale).c_str(), r.grouped || std::isnan(r.scale) ? "null" : std::to_string(r.zero_point).c_str(),
                  json_num(r.mse).c_str(), r.sqnr == INFINITY ? "\"Infinity\"" : json_num(r.sqnr).c_str(), json_num(r.max_abs).c_str(),
                  json_num(r.clip_rate).c_str(), static_cast<unsigned long long>(r.non_finite.nan), static_cast<unsigned long long>(r.non_finite.pos_inf),
                  static_cast<unsigned long long>(r.non_finite.neg_inf), r.skipped.empty() ? "null" : json_string(r.skipped).c_str(),
                  r.error.empty() ? "null" : json_string(r.error).c_str(), extra.c_str());
    }
    std::printf("\n]\n");
  } else if (output == "csv") {
    // --imatrix and --recipe add their columns before the NaN and ±Inf counts and the note.
    const bool more = recipe || im;
    std::printf("file,tensor,dtype,shape,count,min,max,scale,zero_point,mse,sqnr_db,max_abs_error,clip_rate,%snan,pos_inf,neg_inf,note\r\n",
                !more ? "" : recipe ? "weighted_mse,weighted_sqnr_db,recipe_type,bytes,bits_per_weight," : "weighted_mse,weighted_sqnr_db,");
    for (const Row& r : rows) {
      const std::string note = !r.error.empty() ? r.error : !r.skipped.empty() ? r.skipped : r.note;
      std::string extra;
      if (more) extra = num(r.weighted_mse) + "," + num(r.weighted_sqnr) + ",";
      if (recipe) extra += csv_cell(r.recipe) + "," + (r.recipe.empty() ? std::string() : std::to_string(r.bytes)) + "," + num(r.bits_per_weight) + ",";
      std::printf("%s,%s,%s,%s,%llu,%s,%s,%s,%s,%s,%s,%s,%s,%s%llu,%llu,%llu,%s\r\n", csv_cell(r.file).c_str(), csv_cell(r.tensor).c_str(),
                  csv_cell(r.dtype).c_str(), csv_cell(r.shape).c_str(), static_cast<unsigned long long>(r.count), num(r.min).c_str(), num(r.max).c_str(),
                  r.grouped ? "" : num(r.scale).c_str(), r.grouped || std::isnan(r.scale) ? "" : std::to_string(r.zero_point).c_str(),
                  num(r.mse).c_str(), num(r.sqnr).c_str(), num(r.max_abs).c_str(), num(r.clip_rate).c_str(), extra.c_str(),
                  static_cast<unsigned long long>(r.non_finite.nan), static_cast<unsigned long long>(r.non_finite.pos_inf),
                  static_cast<unsigned long long>(r.non_finite.neg_inf), csv_cell(note).c_str());
    }
  } else {
    std::vector<std::string> head = {"file", "tensor", "dtype", "shape", "count", "range", "scale", "MSE", "SQNR dB", "max|e|", "clip %"};
    if (im) head.insert(head.end(), {"wMSE", "wSQNR dB"});
    if (recipe) head.insert(head.end(), {"bits/w", "note"});
    // A column for the NaN and ±Inf skipped, when a tensor holds any (the range and metrics are
    // then the finite values').
    const bool any_non_finite = std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.non_finite.total() > 0; });
    if (any_non_finite) head.push_back("NaN, Inf");
    std::vector<std::vector<std::string>> cells;
    for (const Row& r : rows) {
      // --recipe: the original's dtype and the type the recipe gives it.
      const std::string dtype = r.recipe.empty() || r.recipe == "kept" ? r.dtype : r.dtype + " → " + r.recipe;
      if (!r.error.empty() || !r.skipped.empty() || r.recipe == "kept") {
        cells.push_back({base_name(r.file), r.tensor, dtype, r.shape, std::to_string(r.count),
                         !r.error.empty() ? "error: " + r.error : !r.skipped.empty() ? "skipped: " + r.skipped : r.note + " (" + r.dtype + ", " + short_num(r.bits_per_weight) + " bits/w)"});
        continue;
      }
      char clip[32];
      std::snprintf(clip, sizeof clip, "%.2f", 100 * r.clip_rate);
      std::vector<std::string> line = {base_name(r.file), r.tensor, dtype, r.shape, std::to_string(r.count), "[" + short_num(r.min) + ", " + short_num(r.max) + "]",
                                       r.grouped ? "per group" : short_num(r.scale), short_num(r.mse), short_num(r.sqnr), short_num(r.max_abs), clip};
      if (im) line.insert(line.end(), {short_num(r.weighted_mse), short_num(r.weighted_sqnr)});
      if (recipe) line.insert(line.end(), {short_num(r.bits_per_weight), r.note.empty() ? "-" : r.note});
      if (any_non_finite) line.push_back(non_finite_cell(r.non_finite));
      cells.push_back(line);
    }
    std::vector<size_t> w(head.size(), 0);
    for (size_t c = 0; c < head.size(); ++c) w[c] = head[c].size();
    // Error and skipped rows share the first five columns' widths; their message runs on.
    for (const auto& line : cells)
      for (size_t c = 0; c < line.size() && c < head.size(); ++c)
        if (line.size() == head.size() || c < 5) w[c] = std::max(w[c], line[c].size());
    const auto print = [&](const std::vector<std::string>& line) {
      std::string out;
      for (size_t c = 0; c < line.size(); ++c) {
        const bool right = c >= 4;
        const size_t pad = c < w.size() && (line.size() == head.size() || c < 5) ? w[c] - std::min(w[c], line[c].size()) : 0;
        out += (c ? "  " : "") + (right ? std::string(pad, ' ') + line[c] : line[c] + (c + 1 < line.size() ? std::string(pad, ' ') : ""));
      }
      std::printf("%s\n", out.c_str());
    };
    print(head);
    for (const auto& line : cells) print(line);
    // Whole-file summaries: element-weighted MSE and SQNR over the analysed tensors' finite values.
    struct FileSums {
      uint64_t finite = 0, skipped = 0;
      double e2 = 0, x2 = 0;
    };
    std::map<std::string, FileSums> per_file;
    for (const Row& r : rows) {
      if (!r.error.empty() || !r.skipped.empty() || r.tensor.empty() || r.recipe == "kept") continue;
      FileSums& f = per_file[r.file];
      f.finite += r.finite;
      f.skipped += r.non_finite.total();
      f.e2 += r.sum_e2;
      f.x2 += r.sum_x2;
    }
    // --recipe: the file's size and bits per weight as the recipe would write it (every tensor read).
    std::map<std::string, std::pair<uint64_t, uint64_t>> sizes;
    for (const Row& r : rows)
      if (!r.recipe.empty()) sizes[r.file].first += r.bytes, sizes[r.file].second += r.count;
    for (const auto& [file, f] : per_file) {
      const double mse = f.e2 / static_cast<double>(f.finite);
      const std::string skipped = f.skipped ? " (" + std::to_string(f.skipped) + " NaN or infinite skipped)" : "";
      std::string size;
      if (auto it = sizes.find(file); it != sizes.end() && it->second.second)
        size = " as " + recipe_label + ": " + short_num(static_cast<double>(it->second.first) / 1e6) + " MB, " +
               short_num(8.0 * static_cast<double>(it->second.first) / static_cast<double>(it->second.second)) + " bits per weight;";
      std::printf("%s:%s %llu values%s, MSE %s, SQNR %s dB\n", base_name(file).c_str(), size.c_str(), static_cast<unsigned long long>(f.finite),
                  skipped.c_str(), short_num(mse).c_str(), short_num(10 * std::log10(f.x2 / f.e2)).c_str());
    }
  }
  return failed ? 1 : 0;
}
