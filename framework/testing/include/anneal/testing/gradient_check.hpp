#pragma once
// Anneal's op test kit, installed with the package (CMake target anneal::testing). Every built-in
// op is tested with it, and an op author's plugin uses it the same way:
//
//   #include <anneal/testing/gradient_check.hpp>
//   auto report = anneal::testing::check_op_gradients({"mish", "{type: mish}", {anneal::Shape{5}}});
//   assert(report.relative_error < 1e-2);
//
// The gradient checker compares an op's backward() with central differences computed in double
// over a random projection of its outputs to a scalar, by relative error
// ||g - g_hat|| / (||g|| + ||g_hat||), and reports the worst element. It also enforces the op
// contract: input gradients start non-zero (an op that overwrites instead of accumulating
// fails), parameter gradients start as NaN (an op that accumulates into them fails), an op that
// takes Op::write_input_gradient is checked a second time with those input gradients starting as
// NaN (one that leaves an element unwritten fails), the
// scratch workspace is NaN before every call (an op that reads scratch it did not write fails),
// and forward and backward with the passes split over three threads (OpContext::threads) give
// the same bits as on one (an op whose split ranges overlap or reorder a sum fails).
// It depends on no test framework.

#include <memory>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/op.hpp"
#include "anneal/shape.hpp"

namespace anneal::testing {

// How the checker fills an op's inputs. kAwayFromZero keeps |x| >= 0.1 so kinks (relu at 0) are
// not straddled by the finite difference.
enum class InputFill { kAwayFromZero, kPositive, kSigned };

struct GradientCase {
  std::string op;    // the registered op name this case covers
  std::string yaml;  // the op's spec, e.g. "{type: dense, units: 3}"
  std::vector<Shape> inputs;
  InputFill fill = InputFill::kAwayFromZero;
  int64_t batch = 3;
  bool training = true;
  double step = 1e-3;  // finite-difference step (relative to |x| above 1)
};

struct GradientReport {
  double relative_error = 0;
  std::string worst;    // "input 0 element 5: analytic 0.12, numeric 0.13"
  int64_t checked = 0;  // number of elements compared
  std::string contract; // a broken rule of the op contract, "" if none
};

// An AttrMap over inline YAML, as if read from a file called "test.yaml".
AttrMap attrs_from(const std::string& yaml, const std::string& what = "test");
// Builds a registered op from inline YAML ("{type: dense, units: 3}"); SpecError on bad attributes.
std::unique_ptr<Op> make_op(const std::string& yaml);
// The message of the SpecError that building the op throws ("" if none).
std::string op_error(const std::string& yaml);
// The message of the ShapeMismatch that shape inference throws for these inputs ("" if none).
std::string shape_error(const std::string& yaml, const std::vector<Shape>& inputs);

// Checks the op built from c.yaml as a node adding to its input gradients, then a second one
// offered to write them (Op::write_input_gradient); the report is the worse of the two.
GradientReport check_op_gradients(const GradientCase& c, uint64_t seed = 1);
// The first of those checks only, on an op built by the caller (c.yaml is then unused).
GradientReport check_gradients(Op& op, const GradientCase& c, uint64_t seed = 1);
// The second only, on a new op built by the caller: each input is offered to it to write (an op
// that takes none gets an empty report, 0 elements checked).
GradientReport check_written_gradients(Op& op, const GradientCase& c, uint64_t seed = 1);

// Runs one op's forward on given values (row-major, batch first) and returns its output.
// `state` gives non-trainable state (empty: each StateSpec's initial value).
std::vector<float> forward_values(const std::string& yaml, const std::vector<Shape>& shapes, int64_t batch,
                                  const std::vector<std::vector<float>>& inputs,
                                  const std::vector<std::vector<float>>& params = {}, bool training = false,
                                  std::vector<std::vector<float>>* state = nullptr);

// One training forward and backward pass of an op on given values, through `runner` (an
// executor's GEMM runner on a plan the caller chose; null: OpenBLAS, as the gradient checker runs
// ops): for comparing an op's paths, such as a convolution run direct against its im2col path.
// Input gradients start from `input_grads` (backward adds to them); the workspaces start as NaN.
// The op's passes run on `threads` threads.
struct PassValues {
  std::vector<std::vector<float>> inputs, params, input_grads;
  std::vector<float> output_grad;
};
struct PassResult {
  std::vector<float> output;
  std::vector<std::vector<float>> param_grads, input_grads;
};
PassResult run_pass(Op& op, const std::vector<Shape>& shapes, int64_t batch, const PassValues& values, GemmRunner* runner,
                    int threads = 1);

// Cases registered next to each op's tests; a project runs them all and checks that every
// registered op has at least one.
std::vector<GradientCase>& gradient_cases();
bool register_gradient_case(GradientCase c);

}  // namespace anneal::testing

#define ANNEAL_GRADIENT_CASE(...)                                                               \
  static const bool ANNEAL_CONCAT(gradient_case_, __LINE__) [[maybe_unused]] =                  \
      ::anneal::testing::register_gradient_case(::anneal::testing::GradientCase{__VA_ARGS__})
