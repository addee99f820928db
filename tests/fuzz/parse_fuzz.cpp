// libFuzzer target for the value parser (`npm run fuzz`): any bytes as one token; whatever
// read_double() accepts must be the double strtod reads (correctly rounded in glibc), bit for
// bit (NaNs as NaNs). Long digit strings, where read_double keeps 768 digits and a sticky one,
// are what the corpus grows toward.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  if (s.find('\0') != std::string::npos) return 0;
  double got = 0;
  if (!qe::read_double(s, got)) return 0;
  char* end = nullptr;
  const double want = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) __builtin_trap();  // read_double took what strtod does not
  if (std::isnan(got) != std::isnan(want) || (!std::isnan(got) && std::memcmp(&got, &want, sizeof got) != 0)) __builtin_trap();
  return 0;
}
