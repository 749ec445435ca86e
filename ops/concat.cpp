// concat: joins two or more inputs along `axis` (default -1, the last; counted per sample, so
// axis 0 is the first non-batch axis). All other dimensions must match.
#include <cstring>

#include "anneal/export_graph.hpp"
#include "anneal/op.hpp"

namespace anneal {
namespace {

class ConcatOp : public Op {
 public:
  // The per-sample axis, counted with the batch axis in front.
  std::string export_onnx(ExportGraph& g, const ExportNode& node) const override {
    const int rank = node.input_shapes[0].rank();
    return g.node("Concat", node.inputs, {{"axis", int64_t{(axis_ < 0 ? rank + axis_ : axis_) + 1}}}, node.name);
  }
  explicit ConcatOp(AttrMap& a) : axis_(a.get<int>("axis", -1)) {}
  int arity() const override { return kVariadic; }

  Shape infer_shape(const std::vector<Shape>& in) const override {
    const int rank = in[0].rank();
    const int axis = axis_ < 0 ? rank + axis_ : axis_;
    if (axis < 0 || axis >= rank)
      throw ShapeMismatch("axis " + std::to_string(axis_) + " is outside rank " + std::to_string(rank));
    Shape out = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      bool fits = in[i].rank() == rank;
      for (int d = 0; fits && d < rank; ++d) fits = d == axis || in[i][d] == in[0][d];
      if (!fits)
        throw ShapeMismatch("inputs must match except on axis " + std::to_string(axis_) + ", got " +
                            in[0].str() + " and " + in[i].str());
      out[axis] += in[i][axis];
    }
    return out;
  }

  void prepare(const std::vector<Shape>& in) override {
    const int rank = in[0].rank();
    const int axis = axis_ < 0 ? rank + axis_ : axis_;
    outer_ = 1;
    for (int d = 0; d < axis; ++d) outer_ *= in[0][d];
    blocks_.clear();
    for (const auto& s : in) blocks_.push_back(s.numel() / outer_);  // floats per outer index
    total_block_ = 0;
    for (auto b : blocks_) total_block_ += b;
  }

  void forward(const OpContext& ctx) const override {
    const int64_t outer = ctx.batch * outer_;
    for (int64_t o = 0; o < outer; ++o) {
      float* y = ctx.output.data + o * total_block_;
      for (size_t k = 0; k < blocks_.size(); ++k) {
        std::memcpy(y, ctx.inputs[k].data + o * blocks_[k], sizeof(float) * static_cast<size_t>(blocks_[k]));
        y += blocks_[k];
      }
    }
  }

  void backward(const OpContext& ctx) const override {
    const int64_t outer = ctx.batch * outer_;
    for (int64_t o = 0; o < outer; ++o) {
      const float* dy = ctx.output_grad.data + o * total_block_;
      for (size_t k = 0; k < blocks_.size(); ++k) {
        if (!ctx.input_grads[k].empty()) {
          float* dx = ctx.input_grads[k].data + o * blocks_[k];
          for (int64_t i = 0; i < blocks_[k]; ++i) dx[i] += dy[i];
        }
        dy += blocks_[k];
      }
    }
  }

 private:
  int axis_;
  int64_t outer_ = 1, total_block_ = 0;
  std::vector<int64_t> blocks_;
};

ANNEAL_REGISTER(OpRegistry, "concat", ConcatOp);

}  // namespace
}  // namespace anneal
