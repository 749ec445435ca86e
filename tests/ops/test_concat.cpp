#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("concat", "{type: concat}", {Shape{2}, Shape{3}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("concat", "{type: concat, axis: 0}", {Shape{1, 2}, Shape{2, 2}}, InputFill::kSigned);

TEST_CASE("concat: arity, attributes and shapes", "[ops][concat]") {
  auto last = make_op("{type: concat}");
  CHECK(last->arity() == Op::kVariadic);
  CHECK(last->infer_shape({Shape{2}, Shape{3}}) == Shape{5});
  CHECK(last->infer_shape({Shape{4, 2}, Shape{4, 3}}) == Shape{4, 5});
  CHECK(make_op("{type: concat, axis: 0}")->infer_shape({Shape{1, 2}, Shape{3, 2}}) == Shape{4, 2});
  CHECK_THROWS_WITH(last->infer_shape({Shape{4, 2}, Shape{3, 3}}), Contains("must match except on axis"));
  CHECK_THROWS_WITH(make_op("{type: concat, axis: 3}")->infer_shape({Shape{2}, Shape{2}}), Contains("outside rank"));
  CHECK_THAT(op_error("{type: concat, axis: last}"), Contains("expected an integer"));
}

TEST_CASE("concat: golden values", "[ops][concat]") {
  // Two samples: [1, 2] ++ [3, 4, 5] and [6, 7] ++ [8, 9, 10].
  const auto y = forward_values("{type: concat}", {Shape{2}, Shape{3}}, 2, {{1, 2, 6, 7}, {3, 4, 5, 8, 9, 10}});
  CHECK(y == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  const auto rows = forward_values("{type: concat, axis: 0}", {Shape{1, 2}, Shape{1, 2}}, 1, {{1, 2}, {3, 4}});
  CHECK(rows == std::vector<float>{1, 2, 3, 4});
}
