// One SIMD source for the web and the command line: the kernels are written with the
// wasm_simd128 intrinsics. Under Emscripten with -msimd128 they are WebAssembly SIMD; natively,
// with QE_NATIVE_SIMD, SIMDe (Debian's libsimde-dev) implements the same intrinsics on SSE/AVX,
// with wasm's semantics (NaN propagation, saturating conversions, round-to-nearest-even), so the
// command line runs the same bodies and gets the same bits. QE_SIMD says the bodies are compiled;
// without it only the scalar twins are.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define QE_SIMD 1
#elif defined(QE_NATIVE_SIMD)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#define QE_SIMD 1
#endif
