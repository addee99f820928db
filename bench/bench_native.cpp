// Native rows of `npm run bench`: the same analyze() as the wasm build, on the same samples
// (a raw little-endian float32 file written by bench/bench.js). Prints one JSON object per row.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "analyze.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_native SAMPLES.f32 REPEATS\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary | std::ios::ate);
  if (!in) {
    std::fprintf(stderr, "bench_native: cannot open %s\n", argv[1]);
    return 2;
  }
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<float> x(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
  const int repeats = std::max(1, std::stoi(argv[2]));
  // The SIMD bodies (through SIMDe, when the build has them) and the scalar twin.
  const bool simd = qe::simd_available();
  for (qe::Kernel kernel : {qe::Kernel::Simd, qe::Kernel::Scalar})
    for (qe::Arithmetic arith : {qe::Arithmetic::Float32, qe::Arithmetic::Float64}) {
      if (kernel == qe::Kernel::Simd && !simd) continue;
      qe::AnalyzeOptions o;
      o.kernel = kernel;
      o.scheme.bits = 8;
      o.scheme.mode = qe::Mode::Asymmetric;
      o.scheme.arithmetic = arith;
      o.per_sample = false;
      std::vector<double> ms;
      qe::Metrics m;
      for (int r = -1; r < repeats; ++r) {  // r = -1: warm-up (page faults, caches)
        const auto t0 = std::chrono::steady_clock::now();
        auto res = qe::analyze(x.data(), x.size(), o);
        const auto t1 = std::chrono::steady_clock::now();
        if (auto* e = std::get_if<qe::Error>(&res)) {
          std::fprintf(stderr, "bench_native: %s\n", e->message.c_str());
          return 1;
        }
        m = std::get<qe::Analysis>(res).metrics;
        if (r >= 0) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::printf("{\"name\":\"native %s %s\",\"n\":%zu,\"ms\":[", kernel == qe::Kernel::Simd ? "simd" : "scalar",
                  arith == qe::Arithmetic::Float32 ? "f32" : "f64", x.size());
      for (size_t i = 0; i < ms.size(); ++i) std::printf("%s%.4f", i ? "," : "", ms[i]);
      std::printf(
          "],\"metrics\":{\"mse\":%.17g,\"mae\":%.17g,\"maxAbsError\":%.17g,\"maxAbsErrorIndex\":%lld,"
          "\"meanError\":%.17g,\"sqnrDb\":%.17g,\"clipCount\":%llu,\"tieCount\":%llu}}\n",
          m.mse, m.mae, m.max_abs_error, static_cast<long long>(m.max_abs_error_index), m.mean_error, m.sqnr_db,
          static_cast<unsigned long long>(m.clip_count), static_cast<unsigned long long>(m.tie_count));
    }
  return 0;
}
