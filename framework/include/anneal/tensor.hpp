#pragma once
// Tensor = a shape plus contiguous row-major float storage. Ops never own tensors; they see
// TensorViews (pointer + per-sample shape) into buffers the compiler planned.

#include <cstddef>
#include <vector>

#include "anneal/shape.hpp"

namespace anneal {

struct TensorView {
  float* data = nullptr;
  Shape shape;  // per sample; the batch size travels separately

  bool empty() const { return data == nullptr; }
  int64_t sample_size() const { return shape.numel(); }
};

struct ConstTensorView {
  const float* data = nullptr;
  Shape shape;

  ConstTensorView() = default;
  ConstTensorView(const float* d, Shape s) : data(d), shape(s) {}
  ConstTensorView(const TensorView& v) : data(v.data), shape(v.shape) {}  // NOLINT: views widen
  int64_t sample_size() const { return shape.numel(); }
};

// An owning tensor with a leading batch dimension, for tests, data sets and tools.
class Tensor {
 public:
  Tensor() = default;
  Tensor(int64_t batch, Shape sample_shape, float fill = 0.0f);

  int64_t batch() const { return batch_; }
  // Same values, another per-sample shape with the same number of elements.
  void reshape(Shape sample_shape);
  const Shape& sample_shape() const { return shape_; }
  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  size_t size() const { return values_.size(); }
  float& operator[](size_t i) { return values_[i]; }
  float operator[](size_t i) const { return values_[i]; }
  float* row(int64_t b) { return values_.data() + b * shape_.numel(); }
  const float* row(int64_t b) const { return values_.data() + b * shape_.numel(); }
  TensorView view() { return {values_.data(), shape_}; }
  ConstTensorView view() const { return {values_.data(), shape_}; }
  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }

 private:
  int64_t batch_ = 0;
  Shape shape_;
  std::vector<float> values_;
};

}  // namespace anneal
