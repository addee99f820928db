// Tensor files: the headers of NumPy .npy, safetensors and GGUF files, read from bytes the caller has
// (the data is read separately, in chunks, by whoever owns the file). Every length, offset and
// size is checked against the file's size before it is used: a malformed or lying header is an
// Error saying what is wrong, never a crash or an out-of-bounds read.
//
//   .npy          "\x93NUMPY", version, header length (2 bytes LE in v1, 4 in v2/v3), then a
//                 Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}
//   .safetensors  8-byte LE header length N, N bytes of JSON {"name": {"dtype": "F32", "shape":
//                 [3, 4], "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data;
//                 offsets count from the first byte after the header
//   .gguf         "GGUF", version (2 or 3), tensor count and metadata count (uint64 LE), the
//                 metadata (key, type, value; strings and arrays length-prefixed), then per tensor
//                 name, dimensions (fastest first), ggml type and offset; the data starts at the
//                 next multiple of general.alignment (32 unless given) and offsets count from there
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "scheme.h"

namespace qe {

// Ggml: one of llama.cpp's block types in a GGUF file (TensorInfo::ggml says which), read as
// ggml dequantizes it.
enum class DType { F64, F32, F16, BF16, I8, U8, I16, I32, Ggml, Unsupported };

const char* to_string(DType d);
size_t dtype_size(DType d);  // bytes per element (0 for Ggml, whose blocks hold several, and Unsupported)

struct TensorInfo {
  std::string name;          // safetensors: the key; .npy: empty
  DType dtype = DType::Unsupported;
  std::string file_dtype;    // as the file writes it ("<f4", "BF16", …)
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  uint64_t offset = 0;       // byte offset of the data in the file
  uint64_t count = 0;        // elements
  std::string skipped;       // non-empty: listed, not analysed, and why
  const GgmlTypeInfo* ggml = nullptr;  // DType::Ggml: the block type
};

// The bytes of a tensor's data in its file (for DType::Ggml, whole blocks); a tensor's name for
// its dtype ("float32", or the ggml type's name, "q4_k").
uint64_t tensor_bytes(const TensorInfo& t);
const char* dtype_name(const TensorInfo& t);

template <class T>
using FileResult = std::variant<T, Error>;

// The readers' limits: a header past one is refused, with a message that says so. Header parsing
// holds memory in proportion to what it keeps (the tensors' names, dtypes and shapes), never to
// the number of JSON values or metadata entries in the header.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // a .safetensors JSON header; a GGUF's metadata and tensor list
constexpr uint64_t kMaxNpyHeaderBytes = 1 << 20;   // a .npy header (numpy writes about 128 bytes)
constexpr size_t kMaxTensors = 1'000'000;          // tensors listed in one file
constexpr size_t kMaxRank = 64;                    // dimensions of one tensor (numpy's own limit)

// The smallest number of leading bytes read_npy needs: 10 for the fixed part; then, once those
// are in, npy_header_bytes() says how many the whole header takes.
constexpr size_t kNpyPrefix = 12;
FileResult<uint64_t> npy_header_bytes(const uint8_t* p, size_t available);
// The tensor of an .npy file from its first `available` bytes (at least npy_header_bytes).
FileResult<TensorInfo> read_npy(const uint8_t* p, size_t available, uint64_t file_size);

// safetensors: the first 8 bytes give the header's length (checked here against the file size
// and a 100 MB limit); then read_safetensors parses the header and checks every tensor.
FileResult<uint64_t> safetensors_header_bytes(const uint8_t* p, size_t available, uint64_t file_size);
FileResult<std::vector<TensorInfo>> read_safetensors(const uint8_t* p, size_t available, uint64_t file_size);

// GGUF (llama.cpp; versions 2 and 3): metadata, then tensor infos (dims innermost first, so the
// shape is reversed here to row-major), then data aligned to general.alignment (default 32).
// F32, F16 and BF16 tensors are read, and llama.cpp's block types of gguf_quants.h (Q4_0, Q8_0,
// Q4_K, IQ4_XS, …; their rows, ne[0], whole blocks) as ggml dequantizes them; other types (the
// IQ2/IQ3/IQ1 grid types, integers) are listed and skipped with the reason. `need` > 0 asks for
// that many leading bytes (the header did not fit).
struct GgufHeader {
  uint64_t need = 0;
  std::vector<TensorInfo> tensors;
  // What llama-quantize's recipes read of the metadata (gguf_model.h): general.architecture, and
  // the scalar integers among general.file_type, imatrix.chunk_count and <arch>.block_count,
  // .expert_count, .attention.head_count and .attention.head_count_kv (other keys are skipped).
  std::string architecture;
  std::vector<std::pair<std::string, int64_t>> integers;
};
FileResult<GgufHeader> read_gguf(const uint8_t* p, size_t available, uint64_t file_size);

// Elements [first, first + n) of a tensor's data (raw bytes at `p`, already at element `first`)
// as doubles, exactly, in the file's order (byte order handled). DType::Ggml: `first` and n are
// whole blocks (a whole tensor is), and the values are ggml's dequantization.
void to_double(const uint8_t* p, size_t n, const TensorInfo& t, double* out);

// The same as float, for the dtypes float holds exactly (float32, float16, bfloat16, and the 8-
// and 16-bit integers): half the memory, and the float kernels (the page reads these the same way).
bool float_exact(DType d);
void to_float(const uint8_t* p, size_t n, const TensorInfo& t, float* out);

// A Fortran-ordered tensor's values in C (row-major) order.
template <class T>
std::vector<T> c_order(const std::vector<T>& fortran, const std::vector<int64_t>& shape);

}  // namespace qe
