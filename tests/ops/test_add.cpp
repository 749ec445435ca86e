#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("add", "{type: add}", {Shape{4}, Shape{4}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("add", "{type: add}", {Shape{2, 2}, Shape{2, 2}, Shape{2, 2}}, InputFill::kSigned);

TEST_CASE("add: arity, attributes and shapes", "[ops][add]") {
  auto op = make_op("{type: add}");
  CHECK(op->arity() == Op::kVariadic);
  CHECK(op->infer_shape({Shape{3}, Shape{3}}) == Shape{3});
  CHECK_THROWS_WITH(op->infer_shape({Shape{3}, Shape{4}}), Contains("same shape"));
  CHECK_THAT(op_error("{type: add, axis: 1}"), Contains("unknown key 'axis'"));
}

TEST_CASE("add: golden values", "[ops][add]") {
  const auto y = forward_values("{type: add}", {Shape{3}, Shape{3}}, 1, {{1, 2, 3}, {10, -20, 0.5f}});
  CHECK(y == std::vector<float>{11, -18, 3.5f});
}
