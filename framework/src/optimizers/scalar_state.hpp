#pragma once
// Scalars an optimizer must carry through a checkpoint exactly (a running sum, an estimated step
// size): kept as doubles inside a float state buffer, two floats' bytes each, because checkpoints
// store optimizer state as float buffers and a double rounded to float would make a resumed run
// drift from the uninterrupted one.
#include <cstring>
#include <span>
#include <vector>

namespace anneal {

class ScalarState {
 public:
  explicit ScalarState(size_t count = 0) : buffer_(2 * count, 0.0f) {}
  double get(size_t k) const {
    double v;
    std::memcpy(&v, buffer_.data() + 2 * k, sizeof v);
    return v;
  }
  void set(size_t k, double v) { std::memcpy(buffer_.data() + 2 * k, &v, sizeof v); }
  std::span<float> buffer() { return buffer_; }

 private:
  std::vector<float> buffer_;
};

}  // namespace anneal
