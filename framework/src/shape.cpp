#include "anneal/shape.hpp"

#include <stdexcept>

#include "anneal/tensor.hpp"

namespace anneal {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::vector<int64_t>(dims)) {}

Shape::Shape(const std::vector<int64_t>& dims) {
  if (dims.size() > kMaxRank) throw std::invalid_argument("shape rank above " + std::to_string(kMaxRank));
  rank_ = static_cast<int>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) dims_[i] = dims[i];
}

int64_t checked_mul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out))
    throw SizeOverflow(std::to_string(a) + " x " + std::to_string(b) + " does not fit 64-bit arithmetic");
  return out;
}

int64_t checked_add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out))
    throw SizeOverflow(std::to_string(a) + " + " + std::to_string(b) + " does not fit 64-bit arithmetic");
  return out;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    if (__builtin_mul_overflow(n, dims_[static_cast<size_t>(i)], &n))
      throw SizeOverflow("shape " + str() + " has more elements than 64-bit arithmetic holds");
  }
  return n;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if ((*this)[i] != other[i]) return false;
  return true;
}

std::string Shape::str(bool with_batch) const {
  std::string out = "[";
  if (with_batch) out += rank_ ? "B, " : "B";
  for (int i = 0; i < rank_; ++i) {
    if (i) out += ", ";
    out += std::to_string((*this)[i]);
  }
  return out + "]";
}

Tensor::Tensor(int64_t batch, Shape sample_shape, float fill)
    : batch_(batch), shape_(sample_shape),
      values_(static_cast<size_t>(batch * sample_shape.numel()), fill) {}

void Tensor::reshape(Shape sample_shape) {
  if (sample_shape.numel() != shape_.numel())
    throw std::invalid_argument("reshape " + shape_.str() + " to " + sample_shape.str());
  shape_ = sample_shape;
}

}  // namespace anneal
