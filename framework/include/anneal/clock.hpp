#pragma once
// Wall time for progress lines, epoch timings and benchmarks (a steady clock, in seconds), and the
// rule by which repeated timings on a shared machine are read.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <vector>

namespace anneal {

inline double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Repeated timings of several candidates. Other work on the machine only ever slows a timing down,
// so each candidate's estimate is its fastest sample; but a few samples can all be slowed, by
// different amounts, when the machine is busy for longer than they take. The fastest is trusted
// once a second sample lands within `tolerance` of it: the machine has run the candidate at that
// rate twice.
class RepeatedTimings {
 public:
  explicit RepeatedTimings(size_t candidates) : samples_(candidates) {}

  void add(size_t candidate, double seconds) { samples_[candidate].push_back(seconds); }

  double best(size_t candidate) const {
    const auto& s = samples_[candidate];
    return s.empty() ? std::numeric_limits<double>::infinity() : *std::min_element(s.begin(), s.end());
  }

  std::vector<double> best() const {
    std::vector<double> out;
    for (size_t i = 0; i < samples_.size(); ++i) out.push_back(best(i));
    return out;
  }

  // Every candidate's two fastest samples within `tolerance` (0.03 for 3 %) of each other.
  bool settled(double tolerance) const {
    for (auto s : samples_) {
      if (s.size() < 2) return false;
      std::partial_sort(s.begin(), s.begin() + 2, s.end());
      if (s[1] > s[0] * (1 + tolerance)) return false;
    }
    return true;
  }

 private:
  std::vector<std::vector<double>> samples_;
};

}  // namespace anneal
