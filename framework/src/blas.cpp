// The only file that includes <cblas.h>.
#include "anneal/blas.hpp"

#include <cblas.h>

#include "gemm_onednn.hpp"

namespace anneal::blas {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}

void gemv(bool trans, int64_t rows, int64_t cols, float alpha, const float* a, const float* x,
          float beta, float* y) {
  cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, static_cast<blasint>(rows),
              static_cast<blasint>(cols), alpha, a, static_cast<blasint>(cols), x, 1, beta, y, 1);
}

void axpy(int64_t n, float alpha, const float* x, float* y) {
  cblas_saxpy(static_cast<blasint>(n), alpha, x, 1, y, 1);
}

void scal(int64_t n, float alpha, float* x) { cblas_sscal(static_cast<blasint>(n), alpha, x, 1); }

// oneDNN's products (gemm.hpp) run on the same cores: both libraries get the same count.
void set_threads(int threads) {
  if (threads > 0) openblas_set_num_threads(threads);
  detail::onednn_set_threads(threads);
}

int threads() { return openblas_get_num_threads(); }

std::string core() {
  const char* name = openblas_get_corename();
  return name && *name ? name : "unknown";
}

}  // namespace anneal::blas
