// libFuzzer target for the tensor-file readers (`npm run fuzz`): any bytes, read as a whole .npy,
// .safetensors and .gguf file; every tensor a reader accepts is converted, which must
// stay inside the bytes (AddressSanitizer and UBSan watch).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor_files.h"

namespace {

void convert(const uint8_t* data, size_t size, const qe::TensorInfo& t) {
  if (!t.skipped.empty()) return;
  if (t.offset > size || qe::tensor_bytes(t) > size - t.offset) __builtin_trap();  // accepted data must lie inside the file
  std::vector<double> out(static_cast<size_t>(t.count));
  qe::to_double(data + t.offset, out.size(), t, out.data());
  if (t.fortran_order && !t.shape.empty()) (void)qe::c_order(out, t.shape);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto npy = qe::read_npy(data, size, size);
  if (auto* t = std::get_if<qe::TensorInfo>(&npy)) convert(data, size, *t);
  auto st = qe::read_safetensors(data, size, size);
  if (auto* ts = std::get_if<std::vector<qe::TensorInfo>>(&st))
    for (const auto& t : *ts) convert(data, size, t);
  auto gg = qe::read_gguf(data, size, size);
  if (auto* g = std::get_if<qe::GgufHeader>(&gg))
    for (const auto& t : g->tensors) convert(data, size, t);
  return 0;
}
