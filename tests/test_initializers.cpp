// Initializer statistics over many draws, against the Keras definitions.
#include <catch2/catch.hpp>

#include <cmath>

#include "anneal/initializer.hpp"
#include "anneal/rng.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;

namespace {

struct Stats {
  double mean = 0, stddev = 0, min = 1e30, max = -1e30;
};

Stats draw(const std::string& yaml, const Shape& shape, uint64_t seed = 3) {
  AttrMap a = attrs_from(yaml, "initializer");
  auto init = create_from<InitializerRegistry>(a, "initializer");
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  Rng rng(seed, 1);
  init->fill(v, compute_fans(shape), rng);
  Stats s;
  for (float x : v) {
    s.mean += x;
    s.min = std::min<double>(s.min, x);
    s.max = std::max<double>(s.max, x);
  }
  s.mean /= static_cast<double>(v.size());
  for (float x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(s.stddev / static_cast<double>(v.size()));
  return s;
}

}  // namespace

TEST_CASE("fans follow Keras' _compute_fans", "[initializers]") {
  CHECK(compute_fans(Shape{34, 10}).in == 34);
  CHECK(compute_fans(Shape{34, 10}).out == 10);
  CHECK(compute_fans(Shape{3, 3, 8, 16}).in == 72);
  CHECK(compute_fans(Shape{3, 3, 8, 16}).out == 144);
}

TEST_CASE("constant initializers", "[initializers]") {
  auto z = draw("zeros", Shape{100});
  CHECK(z.min == 0);
  CHECK(z.max == 0);
  auto o = draw("ones", Shape{100});
  CHECK(o.min == 1);
  auto c = draw("{type: constant, value: 0.25}", Shape{100});
  CHECK(c.max == 0.25);
}

TEST_CASE("random initializers have the Keras moments", "[initializers]") {
  const Shape big{400, 250};  // 100k draws: the sample stddev is within about 0.5% of the truth
  auto normal = draw("normal", big);
  CHECK(normal.mean == Approx(0).margin(0.002));
  CHECK(normal.stddev == Approx(0.05).epsilon(0.02));
  CHECK(draw("{type: random_normal, mean: 1, stddev: 2}", big).stddev == Approx(2).epsilon(0.02));
  auto uniform = draw("uniform", big);
  CHECK(uniform.min >= -0.05);
  CHECK(uniform.max < 0.05);
  CHECK(uniform.stddev == Approx(0.1 / std::sqrt(12.0)).epsilon(0.02));
  auto truncated = draw("truncated_normal", big);
  CHECK(truncated.min >= -0.1);
  CHECK(truncated.max <= 0.1);
  CHECK(truncated.stddev == Approx(0.05 * 0.8796).epsilon(0.02));  // a unit normal cut at 2 sd
  const double limit = std::sqrt(6.0 / 650);
  auto glorot = draw("glorot_uniform", big);
  CHECK(glorot.max <= limit);
  CHECK(glorot.min >= -limit);
  CHECK(glorot.stddev == Approx(limit / std::sqrt(3.0)).epsilon(0.02));
  CHECK(draw("glorot_normal", big).stddev == Approx(std::sqrt(2.0 / 650)).epsilon(0.02));
  CHECK(draw("he_normal", big).stddev == Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
  CHECK(draw("he_uniform", big).stddev == Approx(std::sqrt(2.0 / 400)).epsilon(0.02));
  CHECK(draw("lecun_normal", big).stddev == Approx(std::sqrt(1.0 / 400)).epsilon(0.02));
}

TEST_CASE("initializers are reproducible from the seed", "[initializers]") {
  CHECK(draw("normal", Shape{10}, 5).mean == draw("normal", Shape{10}, 5).mean);
  CHECK(draw("normal", Shape{10}, 5).mean != draw("normal", Shape{10}, 6).mean);
}
