// Allocations that report instead of aborting. The web build has no exceptions, so a std::vector
// that cannot grow aborts the whole module: what may be large (per-sample outputs, per-channel
// and per-group records) is asked for first, and a failure is an Error naming the option to change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace qe {

// Whether `bytes` can be allocated now: the block is allocated and at once freed (the allocator
// hands the same memory to what asks next). Without asking, the answer is no beyond the largest
// block: 2^31 − 1 bytes on 32-bit targets (on wasm32 a block above 2 GB, which the allocator can
// hand out of a heap already grown that far, breaks memory accesses), 2^40 bytes (1 TB) on 64-bit
// ones (no tensor needs that, and sanitizer builds refuse such requests by aborting).
constexpr double kLargestBlock = sizeof(size_t) < 8 ? 2147483647.0 : 1099511627776.0;
// malloc is called through a volatile pointer: a malloc that is freed unused may otherwise be
// optimised away (LLVM does), and then the probe says yes to anything.
inline bool can_allocate(double bytes) {
  if (!(bytes <= kLargestBlock)) return false;
  void* (*volatile allocate)(size_t) = std::malloc;
  void* p = allocate(bytes < 1 ? 1 : static_cast<size_t>(bytes));
  if (!p) return false;
  std::free(p);
  return true;
}

// 16777216 → "16,777,216".
inline std::string grouped_digits(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Bytes as whole megabytes (10^6), rounded up: "2,281 MB".
inline std::string megabytes_text(double bytes) {
  const double mb = bytes / 1e6;
  const uint64_t whole = mb >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(mb);
  return grouped_digits(whole + (static_cast<double>(whole) < mb ? 1 : 0)) + " MB";
}

}  // namespace qe
