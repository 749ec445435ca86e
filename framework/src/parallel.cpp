#include "anneal/parallel.hpp"

#include <algorithm>

namespace anneal {

void parallel_ranges(int threads, int64_t n, void (*call)(void*, int64_t, int64_t), void* body) {
  if (n <= 0) return;
  const int64_t parts = std::min<int64_t>(std::max(threads, 1), n);
#ifdef _OPENMP
  if (parts > 1) {
#pragma omp parallel for num_threads(static_cast<int>(parts)) schedule(static, 1)
    for (int64_t t = 0; t < parts; ++t) call(body, t * n / parts, (t + 1) * n / parts);
    return;
  }
#endif
  call(body, 0, n);
}

}  // namespace anneal
