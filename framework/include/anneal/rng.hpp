#pragma once
// A small deterministic generator (xoshiro256**, seeded through splitmix64). Written out rather
// than taken from <random> so that streams, distributions and saved states are the same with any
// standard library: "same seed, same result" must not depend on libstdc++'s normal_distribution.

#include <array>
#include <cstdint>

namespace anneal {

class Rng {
 public:
  // Independent streams from one user seed: the stream id keeps init, shuffling and dropout apart.
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0);

  uint64_t next_u64();
  double uniform();                        // [0, 1)
  double uniform(double lo, double hi);    // [lo, hi)
  uint64_t below(uint64_t n);              // [0, n), unbiased
  double normal();                         // N(0, 1), Box-Muller without a cached spare

  using State = std::array<uint64_t, 4>;
  State state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_{};
};

// Stream ids used by the framework.
enum class RngStream : uint64_t { kInit = 1, kShuffle = 2, kDropout = 3 };

}  // namespace anneal
