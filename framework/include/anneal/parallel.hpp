// Elementwise passes split over the threads an op is given (OpContext::threads).
#pragma once

#include <cstdint>
#include <type_traits>

namespace anneal {

// Calls body(begin, end) for `parts` contiguous ranges covering [0, n), parts = min(threads, n),
// each range on its own thread of the OpenMP pool oneDNN's products run on (so the pool's threads,
// which wait between products, do the passes between them), or body(0, n) on the caller when
// parts is 1 or the build has no OpenMP. The ranges are disjoint and every value a body computes
// depends only on its index, so the results are the same bits whatever the split. A body must not
// throw. No allocation: the body is passed by address, not in a std::function.
void parallel_ranges(int threads, int64_t n, void (*call)(void* body, int64_t begin, int64_t end), void* body);

// A pass over fewer values than this stays on one thread: starting the pool's threads costs more
// than splitting such a pass saves. dense's passes, the executor's gradient clears and the
// optimizer's step ask split_threads.
constexpr int64_t kMinSplitValues = int64_t{1} << 16;
// `threads` for a pass over `values` values of at least kMinSplitValues, else 1.
inline int split_threads(int threads, int64_t values) { return values >= kMinSplitValues ? threads : 1; }

template <class Body>
void parallel_for(int threads, int64_t n, Body&& body) {
  using B = std::remove_reference_t<Body>;
  parallel_ranges(threads, n, [](void* f, int64_t begin, int64_t end) { (*static_cast<B*>(f))(begin, end); },
                  const_cast<void*>(static_cast<const void*>(&body)));
}

}  // namespace anneal
