// Runs every registered gradient case, and fails when a registered op has none.
#include <catch2/catch.hpp>

#include <set>

#include "anneal/op.hpp"
#include "anneal/parallel.hpp"
#include <anneal/testing/gradient_check.hpp>

using namespace anneal;
using namespace anneal::testing;
using Catch::Matchers::Contains;

TEST_CASE("every op's backward matches central differences", "[gradient]") {
  REQUIRE_FALSE(gradient_cases().empty());
  for (const auto& c : gradient_cases()) {
    // The input shapes are part of the name: Catch runs a section name once, and an op may have
    // two cases with the same spec.
    std::string shapes;
    for (const auto& s : c.inputs) shapes += " " + s.str();
    DYNAMIC_SECTION(c.op << " " << c.yaml << " on" << shapes << " batch " << c.batch) {
      const GradientReport report = check_op_gradients(c);
      INFO("worst: " << report.worst);
      CHECK(report.contract == "");
      CHECK(report.checked > 0);
      CHECK(report.relative_error < 1e-2);
    }
  }
}

TEST_CASE("every registered op has a gradient-check case", "[gradient][registry]") {
  std::set<std::string> covered;
  for (const auto& c : gradient_cases()) covered.insert(c.op);
  for (const auto& [name, entry] : OpRegistry::instance().entries()) {
    if (entry.origin != "built-in") continue;  // a plugin's ops are tested with the plugin
    INFO("op '" << name << "' has no ANNEAL_GRADIENT_CASE in tests/ops/");
    CHECK(covered.count(name) == 1);
  }
}

TEST_CASE("the gradient checker catches a wrong backward", "[gradient]") {
  // A deliberately wrong op: forward doubles, backward claims the derivative is 3.
  struct WrongOp : Op {
    explicit WrongOp(AttrMap&) {}
    Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
    void forward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i) ctx.output.data[i] = 2 * ctx.inputs[0].data[i];
    }
    void backward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i)
        ctx.input_grads[0].data[i] += 3 * ctx.output_grad.data[i];
    }
  };
  AttrMap none;
  WrongOp op(none);
  const auto report = check_gradients(op, {"wrong", "", {Shape{4}}});
  CHECK(report.relative_error > 0.1);
}

TEST_CASE("the gradient checker catches an op that overwrites input gradients", "[gradient]") {
  // Right derivative, but `=` where the contract says `+=`: a value feeding two nodes would lose
  // the other node's gradient.
  struct OverwritingOp : Op {
    explicit OverwritingOp(AttrMap&) {}
    Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
    void forward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i) ctx.output.data[i] = 2 * ctx.inputs[0].data[i];
    }
    void backward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i)
        ctx.input_grads[0].data[i] = 2 * ctx.output_grad.data[i];
    }
  };
  AttrMap none;
  OverwritingOp op(none);
  CHECK(check_gradients(op, {"overwriting", "", {Shape{4}}}).relative_error > 0.1);
}

TEST_CASE("the gradient checker holds an op that takes write_input_gradient to writing all of it", "[gradient]") {
  // y = 2 x. Taking the offer, backward must write dx; these take it and then add (the buffer
  // starts as NaN), or write only the first sample.
  struct DoublingOp : Op {
    enum class Backward { kWrites, kAdds, kWritesFirstSample };
    explicit DoublingOp(Backward how) : how(how) {}
    Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
    bool write_input_gradient(size_t) override { return writes = true; }
    void forward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i) ctx.output.data[i] = 2 * ctx.inputs[0].data[i];
    }
    void backward(const OpContext& ctx) const override {
      const int64_t n = how == Backward::kWritesFirstSample ? ctx.output.sample_size() : ctx.batch * ctx.output.sample_size();
      for (int64_t i = 0; i < n; ++i) {
        float& dx = ctx.input_grads[0].data[i];
        dx = (writes && how != Backward::kAdds ? 0.0f : dx) + 2 * ctx.output_grad.data[i];
      }
    }
    Backward how;
    bool writes = false;
  };
  const GradientCase c{"doubling", "", {Shape{4}}};
  DoublingOp right(DoublingOp::Backward::kWrites), adds(DoublingOp::Backward::kAdds), partial(DoublingOp::Backward::kWritesFirstSample);
  const auto good = check_written_gradients(right, c);
  CHECK(right.writes);
  CHECK(good.contract == "");
  CHECK(good.relative_error < 1e-3);
  CHECK_THAT(check_written_gradients(adds, c).contract, Contains("input 0 has a NaN gradient after the op took write_input_gradient(0)"));
  CHECK_THAT(check_written_gradients(partial, c).contract, Contains("must then write every element of it"));
  // An op that declines every offer has nothing more to check.
  CHECK(check_written_gradients(*make_op("{type: add}"), {"add", "", {Shape{4}, Shape{4}}}).checked == 0);
  // The first check, on an op that is not offered: it adds, as the contract asks.
  DoublingOp offered_nothing(DoublingOp::Backward::kWrites);
  CHECK(check_gradients(offered_nothing, c).relative_error < 1e-3);
  CHECK_FALSE(offered_nothing.writes);
}

TEST_CASE("the gradient checker reports a parameter gradient that is added to, not written", "[gradient]") {
  // y = w x with a parameter w of one element; backward adds into dW, which starts as NaN.
  struct AccumulatingOp : Op {
    explicit AccumulatingOp(AttrMap&) {}
    Shape infer_shape(const std::vector<Shape>& in) const override { return in[0]; }
    std::vector<ParamSpec> param_specs(const std::vector<Shape>&) const override { return {{"w", Shape{1}, {}, "ones", {}}}; }
    void forward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i)
        ctx.output.data[i] = ctx.params[0].data[0] * ctx.inputs[0].data[i];
    }
    void backward(const OpContext& ctx) const override {
      for (int64_t i = 0; i < ctx.batch * ctx.output.sample_size(); ++i) {
        ctx.param_grads[0].data[0] += ctx.output_grad.data[i] * ctx.inputs[0].data[i];
        ctx.input_grads[0].data[i] += ctx.params[0].data[0] * ctx.output_grad.data[i];
      }
    }
  };
  AttrMap none;
  AccumulatingOp op(none);
  const auto report = check_gradients(op, {"accumulating", "", {Shape{3}}});
  CHECK_THAT(report.contract, Catch::Matchers::Contains("parameter 'w' has a NaN gradient"));
}

TEST_CASE("the gradient checker reports an op whose split passes give other numbers than one thread", "[gradient][parallel]") {
  // y = the sum of a sample's values, its terms split over ctx.threads and the ranges' partial
  // sums then added: a different order of additions, so other rounding, for each split. The
  // derivative is right; only the contract is broken.
  struct SplitSumOp : Op {
    explicit SplitSumOp(AttrMap&) {}
    Shape infer_shape(const std::vector<Shape>&) const override { return Shape{1}; }
    void forward(const OpContext& ctx) const override {
      const int64_t n = ctx.inputs[0].sample_size();
      for (int64_t b = 0; b < ctx.batch; ++b) {
        const float* x = ctx.inputs[0].data + b * n;
        std::vector<float> partial(static_cast<size_t>(n), 0.0f);  // at each range's first index
        parallel_for(ctx.threads, n, [&](int64_t begin, int64_t end) {
          for (int64_t j = begin; j < end; ++j) partial[static_cast<size_t>(begin)] += x[j];
        });
        float total = 0;
        for (float p : partial) total += p;
        ctx.output.data[b] = total;
      }
    }
    void backward(const OpContext& ctx) const override {
      const int64_t n = ctx.inputs[0].sample_size();
      for (int64_t b = 0; b < ctx.batch; ++b)
        for (int64_t j = 0; j < n; ++j) ctx.input_grads[0].data[b * n + j] += ctx.output_grad.data[b];
    }
  };
  AttrMap none;
  SplitSumOp op(none);
  const auto report = check_gradients(op, {"split_sum", "", {Shape{12}}, InputFill::kSigned, 4});
  CHECK(report.relative_error < 1e-2);
  CHECK_THAT(report.contract, Catch::Matchers::Contains("split over 3 threads"));
}
