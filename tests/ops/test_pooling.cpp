// max_pool2d, avg_pool2d, global_avg_pool2d, global_max_pool2d: shapes, golden values, gradients.
#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

// kSigned inputs are distinct almost surely, so no window has a tie the difference could cross.
ANNEAL_GRADIENT_CASE("max_pool2d", "{type: max_pool2d}", {Shape{2, 4, 4}}, InputFill::kSigned, 2);
// An odd last row and column, which no 2x2 window covers (the forward pass's 2x2 loop leaves them).
ANNEAL_GRADIENT_CASE("max_pool2d", "{type: max_pool2d}", {Shape{2, 5, 7}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("max_pool2d", "{type: max_pool2d, pool_size: 3, strides: 2, padding: same}", {Shape{1, 5, 6}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("avg_pool2d", "{type: avg_pool2d}", {Shape{2, 4, 4}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("avg_pool2d", "{type: avg_pool2d, pool_size: [2, 3], strides: 1, padding: same}", {Shape{1, 3, 4}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("global_avg_pool2d", "{type: global_avg_pool2d}", {Shape{3, 2, 3}}, InputFill::kSigned, 2);
ANNEAL_GRADIENT_CASE("global_max_pool2d", "{type: global_max_pool2d}", {Shape{3, 2, 3}}, InputFill::kSigned, 2);

TEST_CASE("pooling shapes follow Keras", "[ops][pooling]") {
  CHECK(make_op("{type: max_pool2d}")->infer_shape({Shape{8, 28, 28}}) == Shape{8, 14, 14});
  CHECK(make_op("{type: max_pool2d}")->infer_shape({Shape{8, 7, 7}}) == Shape{8, 3, 3});
  CHECK(make_op("{type: max_pool2d, padding: same}")->infer_shape({Shape{8, 7, 7}}) == Shape{8, 4, 4});
  CHECK(make_op("{type: avg_pool2d, pool_size: 3, strides: 1}")->infer_shape({Shape{2, 5, 6}}) == Shape{2, 3, 4});
  CHECK(make_op("{type: global_avg_pool2d}")->infer_shape({Shape{8, 5, 5}}) == Shape{8});
  CHECK(make_op("{type: global_max_pool2d}")->infer_shape({Shape{8, 5, 5}}) == Shape{8});
  CHECK_THAT(shape_error("{type: max_pool2d}", {Shape{16}}), Contains("images [channels, height, width]"));
  CHECK_THAT(shape_error("{type: global_avg_pool2d}", {Shape{4, 4}}), Contains("images"));
  CHECK_THAT(op_error("{type: max_pool2d, pool_size: -2}"), Contains("must be positive"));
  CHECK_THAT(op_error("{type: avg_pool2d, padding: full}"), Contains("expected valid or same"));
  CHECK(make_op("{type: max_pool2d}")->param_specs({Shape{1, 4, 4}}).empty());
}

TEST_CASE("pooling golden values", "[ops][pooling]") {
  // One 3x4 plane:
  //   1  5  2  0
  //   3 -1  7  4
  //   9  8 -2  6
  const std::vector<float> x{1, 5, 2, 0, 3, -1, 7, 4, 9, 8, -2, 6};
  const auto mx = forward_values("{type: max_pool2d}", {Shape{1, 3, 4}}, 1, {x});
  CHECK(mx == std::vector<float>{5, 7});
  const auto mx_same = forward_values("{type: max_pool2d, padding: same}", {Shape{1, 3, 4}}, 1, {x});
  CHECK(mx_same == std::vector<float>{5, 7, 9, 6});  // the bottom row pools alone
  const auto av = forward_values("{type: avg_pool2d}", {Shape{1, 3, 4}}, 1, {x});
  CHECK(av[0] == Approx((1 + 5 + 3 - 1) / 4.0));
  CHECK(av[1] == Approx((2 + 0 + 7 + 4) / 4.0));
  // same: the bottom windows average two cells, not four (padding is not counted).
  const auto av_same = forward_values("{type: avg_pool2d, padding: same}", {Shape{1, 3, 4}}, 1, {x});
  CHECK(av_same[2] == Approx((9 + 8) / 2.0));
  CHECK(av_same[3] == Approx((-2 + 6) / 2.0));
  const auto gavg = forward_values("{type: global_avg_pool2d}", {Shape{2, 2, 3}}, 1, {x});
  CHECK(gavg[0] == Approx((1 + 5 + 2 + 0 + 3 - 1) / 6.0));
  CHECK(gavg[1] == Approx((7 + 4 + 9 + 8 - 2 + 6) / 6.0));
  const auto gmax = forward_values("{type: global_max_pool2d}", {Shape{2, 2, 3}}, 1, {x});
  CHECK(gmax == std::vector<float>{5, 9});
}
