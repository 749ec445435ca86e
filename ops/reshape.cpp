// reshape: Keras Reshape(target_shape), per sample; one dimension may be -1 and is inferred.
#include "view_op.hpp"

namespace anneal {
namespace {

class ReshapeOp : public ViewOp {
 public:
  explicit ReshapeOp(AttrMap& a) : target_(a.get<std::vector<int64_t>>("target_shape")) {
    a.require(!target_.empty() && static_cast<int>(target_.size()) <= Shape::kMaxRank, "target_shape",
              "must list 1 to " + std::to_string(Shape::kMaxRank) + " dimensions");
    int unknown = 0;
    for (int64_t d : target_) {
      a.require(d > 0 || d == -1, "target_shape", "dimensions must be positive, or -1 for one inferred dimension");
      unknown += d == -1;
    }
    a.require(unknown <= 1, "target_shape", "may have at most one -1");
  }
  Shape infer_shape(const std::vector<Shape>& in) const override {
    std::vector<int64_t> dims = target_;
    int64_t known = 1;
    for (int64_t d : dims) known *= d == -1 ? 1 : d;
    const int64_t total = in[0].numel();
    for (auto& d : dims)
      if (d == -1) {
        if (total % known != 0)
          throw ShapeMismatch("cannot infer the -1 of target_shape: " + std::to_string(total) + " values do not divide by " + std::to_string(known));
        d = total / known;
        known *= d;
      }
    const Shape out(dims);
    if (out.numel() != total)
      throw ShapeMismatch("target_shape " + out.str() + " holds " + std::to_string(out.numel()) + " values, the input " +
                          std::to_string(total));
    return out;
  }

 private:
  std::vector<int64_t> target_;
};

ANNEAL_REGISTER(OpRegistry, "reshape", ReshapeOp);

}  // namespace
}  // namespace anneal
