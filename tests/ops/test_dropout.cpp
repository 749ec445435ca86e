#include <catch2/catch.hpp>

#include <anneal/testing/gradient_check.hpp>
#include "../helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

ANNEAL_GRADIENT_CASE("dropout", "{type: dropout, rate: 0.5}", {Shape{6}}, InputFill::kSigned, 4);

TEST_CASE("dropout: attributes and shapes", "[ops][dropout]") {
  CHECK_THAT(op_error("{type: dropout}"), Contains("missing required key 'rate'"));
  CHECK_THAT(op_error("{type: dropout, rate: 1.0}"), Contains("'rate' must be in [0, 1)"));
  CHECK(make_op("{type: dropout, rate: 0.2}")->infer_shape({Shape{7}}) == Shape{7});
}

TEST_CASE("dropout: identity at inference, inverted scaling in training", "[ops][dropout]") {
  std::vector<float> x(1000, 1.0f);
  const auto eval = forward_values("{type: dropout, rate: 0.25}", {Shape{1000}}, 1, {x}, {}, false);
  for (float v : eval) REQUIRE(v == 1.0f);
  const auto train = forward_values("{type: dropout, rate: 0.25}", {Shape{1000}}, 1, {x}, {}, true);
  int zeros = 0;
  for (float v : train) {
    REQUIRE((v == 0.0f || v == Approx(1 / 0.75)));
    zeros += v == 0.0f;
  }
  CHECK(zeros > 200);  // about 250 expected; binomial sd about 14
  CHECK(zeros < 300);
  // Same seed, same mask.
  CHECK(train == forward_values("{type: dropout, rate: 0.25}", {Shape{1000}}, 1, {x}, {}, true));
}
