// flatten: any per-sample shape -> [its number of elements] (Keras Flatten).
#include "view_op.hpp"

namespace anneal {
namespace {

class FlattenOp : public ViewOp {
 public:
  explicit FlattenOp(AttrMap&) {}
  Shape infer_shape(const std::vector<Shape>& in) const override { return Shape{in[0].numel()}; }
};

ANNEAL_REGISTER(OpRegistry, "flatten", FlattenOp);

}  // namespace
}  // namespace anneal
