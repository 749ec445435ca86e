#pragma once
// Wall time for progress lines, epoch timings and benchmarks (a steady clock, in seconds).

#include <chrono>

namespace anneal {

inline double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace anneal
