// flatten and reshape: shapes, errors, values unchanged, gradients passed through.
#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("flatten", "{type: flatten}", {Shape{2, 3, 2}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("reshape", "{type: reshape, target_shape: [3, -1]}", {Shape{2, 3, 2}}, InputFill::kSigned);

TEST_CASE("flatten and reshape: shapes and errors", "[ops][reshape]") {
  CHECK(make_op("{type: flatten}")->infer_shape({Shape{32, 7, 7}}) == Shape{1568});
  CHECK(make_op("{type: reshape, target_shape: [1, 8, 8]}")->infer_shape({Shape{64}}) == Shape{1, 8, 8});
  CHECK(make_op("{type: reshape, target_shape: [-1, 4]}")->infer_shape({Shape{2, 8}}) == Shape{4, 4});
  CHECK_THAT(shape_error("{type: reshape, target_shape: [5, 5]}", {Shape{64}}), Contains("holds 25 values, the input 64"));
  CHECK_THAT(shape_error("{type: reshape, target_shape: [-1, 5]}", {Shape{64}}), Contains("do not divide by 5"));
  CHECK_THAT(op_error("{type: reshape, target_shape: [-1, -1]}"), Contains("at most one -1"));
  CHECK_THAT(op_error("{type: reshape, target_shape: [0, 4]}"), Contains("must be positive"));
  CHECK_THAT(op_error("{type: reshape}"), Contains("missing required key 'target_shape'"));
}

TEST_CASE("flatten and reshape keep the values in order", "[ops][reshape]") {
  const std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(forward_values("{type: flatten}", {Shape{2, 2, 2}}, 1, {x}) == x);
  CHECK(forward_values("{type: reshape, target_shape: [4, 1]}", {Shape{2, 2}}, 2, {x}) == x);
}
