// multiply and subtract: two inputs of the same shape.
#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("multiply", "{type: multiply}", {Shape{4}, Shape{4}}, InputFill::kSigned);
ANNEAL_GRADIENT_CASE("subtract", "{type: subtract}", {Shape{2, 3}, Shape{2, 3}}, InputFill::kSigned);

TEST_CASE("multiply and subtract: arity, shapes, values", "[ops][elementwise]") {
  for (const char* name : {"multiply", "subtract"}) {
    auto op = make_op(std::string("{type: ") + name + "}");
    CHECK(op->arity() == 2);
    CHECK(op->infer_shape({Shape{3}, Shape{3}}) == Shape{3});
    CHECK_THAT(shape_error(std::string("{type: ") + name + "}", {Shape{3}, Shape{4}}), Contains("same shape, got [3] and [4]"));
  }
  const std::vector<float> a{1, -2, 3}, b{4, 5, -6};
  CHECK(forward_values("{type: multiply}", {Shape{3}, Shape{3}}, 1, {a, b}) == std::vector<float>{4, -10, -18});
  CHECK(forward_values("{type: subtract}", {Shape{3}, Shape{3}}, 1, {a, b}) == std::vector<float>{-3, -7, 9});
}
