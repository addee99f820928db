#include "matmul.h"

#include "simd.h"

namespace qe {

namespace {

#define QE_NOINLINE __attribute__((noinline))
#define QE_INLINE inline __attribute__((always_inline))

// ---- scalar twins: the definitions -----------------------------------------------------------

template <class TB>
QE_NOINLINE void matmul_scalar(const double* a, size_t m, const TB* b, size_t n, size_t k, double* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    const double* ai = a + i * k;
    for (size_t j = 0; j < n; ++j) {
      const TB* bj = b + j * k;
      double s0 = 0, s1 = 0;
      size_t kk = 0;
      for (; kk + 2 <= k; kk += 2) {
        s0 += ai[kk] * static_cast<double>(bj[kk]);
        s1 += ai[kk + 1] * static_cast<double>(bj[kk + 1]);
      }
      if (kk < k) s0 += ai[kk] * static_cast<double>(bj[kk]);
      c[i * ldc + j] = s0 + s1;
    }
  }
}

QE_NOINLINE void matmul_f32_scalar(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    const float* ai = a + i * k;
    for (size_t j = 0; j < n; ++j) {
      const float* bj = b + j * k;
      float s[4] = {0, 0, 0, 0};
      for (size_t kk = 0; kk < k; ++kk) s[kk % 4] += ai[kk] * bj[kk];
      c[i * ldc + j] = (s[0] + s[1]) + (s[2] + s[3]);
    }
  }
}

QE_NOINLINE void matmul_int_scalar(const int32_t* a, size_t m, const int32_t* b, size_t n, size_t k, size_t block,
                                   int64_t* c, size_t ldc) {
  const size_t nb = k / block;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const int32_t* ai = a + i * k;
      const int32_t* bj = b + j * k;
      for (size_t blk = 0; blk < nb; ++blk) {
        int64_t s = 0;
        for (size_t kk = blk * block; kk < (blk + 1) * block; ++kk) s += int64_t{ai[kk]} * int64_t{bj[kk]};
        c[(i * ldc + j) * nb + blk] = s;
      }
    }
  }
}

#ifdef QE_SIMD

// ---- SIMD bodies ------------------------------------------------------------------------------

QE_INLINE v128_t load2(const double* p) { return wasm_v128_load(p); }
QE_INLINE v128_t load2(const float* p) { return wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(p)); }

// A TI × TJ tile of C: the f64x2 accumulator of (i, j) holds lanes (s0, s1) over k pairs; an odd
// k's last product goes to s0, as in the twin.
template <int TI, int TJ, class TB>
QE_INLINE void tile_f64(const double* a, size_t k, const TB* b, double* c, size_t ldc) {
  v128_t acc[TI][TJ];
  for (int i = 0; i < TI; ++i)
    for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_f64x2_splat(0.0);
  size_t kk = 0;
  for (; kk + 2 <= k; kk += 2) {
    v128_t bv[TJ];
    for (int j = 0; j < TJ; ++j) bv[j] = load2(b + j * k + kk);
    for (int i = 0; i < TI; ++i) {
      const v128_t av = wasm_v128_load(a + i * k + kk);
      for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_f64x2_add(acc[i][j], wasm_f64x2_mul(av, bv[j]));
    }
  }
  for (int i = 0; i < TI; ++i) {
    for (int j = 0; j < TJ; ++j) {
      double s0 = wasm_f64x2_extract_lane(acc[i][j], 0);
      const double s1 = wasm_f64x2_extract_lane(acc[i][j], 1);
      if (kk < k) s0 += a[i * k + kk] * static_cast<double>(b[j * k + kk]);
      c[i * ldc + j] = s0 + s1;
    }
  }
}

template <class TB>
QE_NOINLINE void matmul_simd(const double* a, size_t m, const TB* b, size_t n, size_t k, double* c, size_t ldc) {
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_f64<4, 2>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
    for (; i < m; ++i) tile_f64<1, 2>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
  }
  for (; j < n; ++j) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_f64<4, 1>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
    for (; i < m; ++i) tile_f64<1, 1>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
  }
}

// float32: the f32x4 accumulator of (i, j) holds lanes s0..s3 over k quadruples; the last k % 4
// products go to lanes 0, 1, 2 in order, as in the twin.
template <int TI, int TJ>
QE_INLINE void tile_f32(const float* a, size_t k, const float* b, float* c, size_t ldc) {
  v128_t acc[TI][TJ];
  for (int i = 0; i < TI; ++i)
    for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_f32x4_splat(0.0f);
  size_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    v128_t bv[TJ];
    for (int j = 0; j < TJ; ++j) bv[j] = wasm_v128_load(b + j * k + kk);
    for (int i = 0; i < TI; ++i) {
      const v128_t av = wasm_v128_load(a + i * k + kk);
      for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_f32x4_add(acc[i][j], wasm_f32x4_mul(av, bv[j]));
    }
  }
  for (int i = 0; i < TI; ++i) {
    for (int j = 0; j < TJ; ++j) {
      float s[4] = {wasm_f32x4_extract_lane(acc[i][j], 0), wasm_f32x4_extract_lane(acc[i][j], 1),
                    wasm_f32x4_extract_lane(acc[i][j], 2), wasm_f32x4_extract_lane(acc[i][j], 3)};
      for (size_t t = kk; t < k; ++t) s[t - kk] += a[i * k + t] * b[j * k + t];
      c[i * ldc + j] = (s[0] + s[1]) + (s[2] + s[3]);
    }
  }
}

QE_NOINLINE void matmul_f32_simd(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, size_t ldc) {
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_f32<4, 2>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
    for (; i < m; ++i) tile_f32<1, 2>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
  }
  for (; j < n; ++j) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_f32<4, 1>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
    for (; i < m; ++i) tile_f32<1, 1>(a + i * k, k, b + j * k, c + i * ldc + j, ldc);
  }
}

// Integers whose partial sums fit int32: i32x4 lanes over k quadruples, per block; the lanes are
// added in int64. Exact, so any order gives the twin's sums.
template <int TI, int TJ>
QE_INLINE void tile_int(const int32_t* a, size_t k, const int32_t* b, size_t block, int64_t* c, size_t ldc) {
  const size_t nb = k / block;
  for (size_t blk = 0; blk < nb; ++blk) {
    v128_t acc[TI][TJ];
    for (int i = 0; i < TI; ++i)
      for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_i32x4_splat(0);
    const size_t end = (blk + 1) * block;
    size_t kk = blk * block;
    for (; kk + 4 <= end; kk += 4) {
      v128_t bv[TJ];
      for (int j = 0; j < TJ; ++j) bv[j] = wasm_v128_load(b + j * k + kk);
      for (int i = 0; i < TI; ++i) {
        const v128_t av = wasm_v128_load(a + i * k + kk);
        for (int j = 0; j < TJ; ++j) acc[i][j] = wasm_i32x4_add(acc[i][j], wasm_i32x4_mul(av, bv[j]));
      }
    }
    for (int i = 0; i < TI; ++i) {
      for (int j = 0; j < TJ; ++j) {
        int64_t s = int64_t{wasm_i32x4_extract_lane(acc[i][j], 0)} + wasm_i32x4_extract_lane(acc[i][j], 1) +
                    wasm_i32x4_extract_lane(acc[i][j], 2) + wasm_i32x4_extract_lane(acc[i][j], 3);
        for (size_t t = kk; t < end; ++t) s += int64_t{a[i * k + t]} * b[j * k + t];
        c[(i * ldc + j) * nb + blk] = s;
      }
    }
  }
}

QE_NOINLINE void matmul_int_simd(const int32_t* a, size_t m, const int32_t* b, size_t n, size_t k, size_t block, int64_t* c,
                                 size_t ldc) {
  const size_t nb = k / block;
  size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_int<4, 2>(a + i * k, k, b + j * k, block, c + (i * ldc + j) * nb, ldc);
    for (; i < m; ++i) tile_int<1, 2>(a + i * k, k, b + j * k, block, c + (i * ldc + j) * nb, ldc);
  }
  for (; j < n; ++j) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) tile_int<4, 1>(a + i * k, k, b + j * k, block, c + (i * ldc + j) * nb, ldc);
    for (; i < m; ++i) tile_int<1, 1>(a + i * k, k, b + j * k, block, c + (i * ldc + j) * nb, ldc);
  }
}

#endif

// Engines compile a WebAssembly function first quickly (V8's Liftoff) and optimize it once it
// has run for a while, but a call already running stays in the quick code: so the drivers call
// the bodies on chunks of B's rows (each output depends on its own row only, so the results are
// the same), and the optimized body takes over after the first chunks.
constexpr size_t kChunkRows = 16;

}  // namespace

template <class TB>
void matmul_nt(const double* a, size_t m, const TB* b, size_t n, size_t k, double* c, Kernel kernel) {
  for (size_t j = 0; j < n; j += kChunkRows) {
    const size_t rows = n - j < kChunkRows ? n - j : kChunkRows;
#ifdef QE_SIMD
    if (use_simd(kernel)) {
      matmul_simd(a, m, b + j * k, rows, k, c + j, n);
      continue;
    }
#endif
    matmul_scalar(a, m, b + j * k, rows, k, c + j, n);
  }
  (void)kernel;
}

void matmul_nt_f32(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, Kernel kernel) {
  for (size_t j = 0; j < n; j += kChunkRows) {
    const size_t rows = n - j < kChunkRows ? n - j : kChunkRows;
#ifdef QE_SIMD
    if (use_simd(kernel)) {
      matmul_f32_simd(a, m, b + j * k, rows, k, c + j, n);
      continue;
    }
#endif
    matmul_f32_scalar(a, m, b + j * k, rows, k, c + j, n);
  }
  (void)kernel;
}

void matmul_int_nt(const int32_t* a, size_t m, const int32_t* b, size_t n, size_t k, size_t block, bool narrow, int64_t* c,
                   Kernel kernel) {
  const size_t nb = k / block;
  for (size_t j = 0; j < n; j += kChunkRows) {
    const size_t rows = n - j < kChunkRows ? n - j : kChunkRows;
#ifdef QE_SIMD
    if (narrow && use_simd(kernel)) {
      matmul_int_simd(a, m, b + j * k, rows, k, block, c + j * nb, n);
      continue;
    }
#endif
    matmul_int_scalar(a, m, b + j * k, rows, k, block, c + j * nb, n);
  }
  (void)kernel, (void)narrow;
}

template void matmul_nt<float>(const double*, size_t, const float*, size_t, size_t, double*, Kernel);
template void matmul_nt<double>(const double*, size_t, const double*, size_t, size_t, double*, Kernel);

}  // namespace qe
