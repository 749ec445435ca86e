#pragma once
// The only door to BLAS. Row-major throughout; transposes are flags, never copies.

#include <cstdint>
#include <string>

namespace anneal::blas {

// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C. lda/ldb/ldc are row strides of the
// matrices as stored.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// y[m] = alpha * op(A) x + beta * y, A stored [rows, cols] row-major.
void gemv(bool trans, int64_t rows, int64_t cols, float alpha, const float* a, const float* x,
          float beta, float* y);

void axpy(int64_t n, float alpha, const float* x, float* y);  // y += alpha x
void scal(int64_t n, float alpha, float* x);                  // x *= alpha

// Called once per process (the CLI's --threads); 0 keeps OpenBLAS's default.
void set_threads(int threads);
int threads();

// The kernel set OpenBLAS runs on this CPU ("Haswell", "SkylakeX", "Cooperlake", ...): chosen by
// OpenBLAS from the CPU, or forced by OPENBLAS_CORETYPE in the environment. Its products can run at
// half the rate or less under an older set, so a timed decision holds only for the set it was timed on.
std::string core();

}  // namespace anneal::blas
