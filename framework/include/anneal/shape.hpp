#pragma once
// Per-sample shape of a tensor (the batch dimension is kept apart). Fixed capacity so copying a
// shape never allocates: views are built in the training loop.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace anneal {

// A size that does not fit 64-bit arithmetic (a shape, a count of elements or of bytes).
class SizeOverflow : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

// a * b and a + b for non-negative sizes; SizeOverflow instead of wrapping around.
int64_t checked_mul(int64_t a, int64_t b);
int64_t checked_add(int64_t a, int64_t b);

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t back() const { return dims_[static_cast<size_t>(rank_ - 1)]; }
  int64_t numel() const;  // SizeOverflow when the product does not fit
  std::vector<int64_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }

  // "[34]", "[3, 4]"; with_batch prepends "B".
  std::string str(bool with_batch = false) const;

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace anneal
