// The layer's matrix products C = A·Bᵀ (layer.h): A [m, k] and B [n, k], row-major, so each row
// of B is one output channel's weights and each row of A one token; C [m, n] row-major.
//
// Each product exists twice, a wasm_simd128 body (register tiles of 4 rows of A by 2 of B) and
// its scalar twin, and the two give bit-identical results: every output's sum is split into the
// same fixed lanes, each lane is summed in increasing k, and the lanes are added in one order.
//
//   double   C[i][j] = s0 + s1,  s_l = Σ_{k ≡ l (mod 2)} A[i][k]·B[j][k]   (double products and sums;
//            a float B is widened exactly first; no fused multiply-add)
//   float32  C[i][j] = (s0 + s1) + (s2 + s3),  s_l = Σ_{k ≡ l (mod 4)} A[i][k]·B[j][k], every
//            product and sum rounded to float32: the float32 accumulator of a float GEMM
//   integer  C[i][j][b] = Σ_{k in block b} A[i][k]·B[j][k], exact (int64), for blocks of `block`
//            consecutive k
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace qe {

template <class TB>
void matmul_nt(const double* a, size_t m, const TB* b, size_t n, size_t k, double* c, Kernel kernel);

void matmul_nt_f32(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, Kernel kernel);

// `block` divides k; c holds m·n·(k / block) sums, c[(i·n + j)·(k / block) + blk]. `narrow` says
// that block · max|a| · max|b| < 2^31, so int32 lanes hold every partial sum exactly (the fast
// SIMD body); otherwise the products and sums are int64.
void matmul_int_nt(const int32_t* a, size_t m, const int32_t* b, size_t n, size_t k, size_t block, bool narrow, int64_t* c,
                   Kernel kernel);

}  // namespace qe
