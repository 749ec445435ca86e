#pragma once
// The one gradient checker every op test uses: central differences in double over a random
// projection of the op's outputs to a scalar, compared with the op's backward() by relative error
// ||g - g_hat|| / (||g|| + ||g_hat||), with the worst element reported.

#include <functional>
#include <string>
#include <vector>

#include "anneal/shape.hpp"

namespace anneal {
class Op;
}

namespace anneal::test {

// How the checker fills an op's inputs. kAwayFromZero keeps |x| >= 0.1 so kinks (relu at 0) are
// not straddled by the finite difference.
enum class InputFill { kAwayFromZero, kPositive, kSigned };

struct GradientCase {
  std::string op;      // the registered op name this case covers
  std::string yaml;    // the op's spec, e.g. "{type: dense, units: 3}"
  std::vector<Shape> inputs;
  InputFill fill = InputFill::kAwayFromZero;
  int64_t batch = 3;
};

struct GradientReport {
  double relative_error = 0;
  std::string worst;  // "input 0 [5]: analytic 0.12 numeric 0.13"
  int64_t checked = 0;  // number of elements compared
};

GradientReport check_op_gradients(const GradientCase& c, uint64_t seed = 1);
// The same on an op built by the caller (c.yaml is then unused).
GradientReport check_gradients(Op& op, const GradientCase& c, uint64_t seed = 1);

// Cases are registered next to each op's tests; one test runs them all and another checks that
// every registered op has at least one.
std::vector<GradientCase>& gradient_cases();
bool register_gradient_case(GradientCase c);

}  // namespace anneal::test

#define ANNEAL_GRADIENT_CASE(...)                                                               \
  static const bool ANNEAL_CONCAT(gradient_case_, __LINE__) [[maybe_unused]] =                  \
      ::anneal::test::register_gradient_case(::anneal::test::GradientCase{__VA_ARGS__})
