// Optimizer steps against values worked out by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "anneal/optimizer.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Optimizer> make_optimizer(const std::string& yaml, int64_t n) {
  AttrMap a = attrs_from(yaml, "optimizer");
  auto opt = create_from<OptimizerRegistry>(a, "optimizer");
  opt->prepare(n);
  return opt;
}

// The message of the SpecError that building the optimizer throws ("" if none).
std::string error(const std::string& yaml) {
  try {
    make_optimizer(yaml, 1);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

// Runs steps with the given per-step gradients (one parameter) and rates; returns w after each.
std::vector<double> trajectory(Optimizer& opt, double w0, const std::vector<double>& grads,
                               const std::vector<double>& rates = {}) {
  std::vector<float> w{static_cast<float>(w0)}, g(1);
  std::vector<double> out;
  for (size_t t = 0; t < grads.size(); ++t) {
    if (!rates.empty()) opt.set_lr(rates[t]);
    g[0] = static_cast<float>(grads[t]);
    opt.step(w, g);
    out.push_back(w[0]);
  }
  return out;
}

}  // namespace

TEST_CASE("sgd without momentum: w -= lr g", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1}", 1);
  const auto w = trajectory(*opt, 1.0, {0.5, -1.0});
  CHECK(w[0] == Approx(0.95));
  CHECK(w[1] == Approx(1.05));
  CHECK(opt->iterations() == 2);
}

TEST_CASE("sgd momentum, Keras form: v = m v - lr g, w += v", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9}", 1);
  // Rates change between steps, which is where the two forms differ.
  const auto w = trajectory(*opt, 1.0, {1.0, 1.0, 2.0}, {0.1, 0.05, 0.05});
  // v1 = -0.1; w1 = 0.9. v2 = -0.09 - 0.05 = -0.14; w2 = 0.76. v3 = -0.126 - 0.1 = -0.226; w3 = 0.534
  CHECK(w[0] == Approx(0.9));
  CHECK(w[1] == Approx(0.76));
  CHECK(w[2] == Approx(0.534));
}

TEST_CASE("sgd momentum, PyTorch form: b = m b + g, w -= lr b", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, momentum_form: pytorch}", 1);
  const auto w = trajectory(*opt, 1.0, {1.0, 1.0, 2.0}, {0.1, 0.05, 0.05});
  // b1 = 1; w1 = 0.9. b2 = 1.9; w2 = 0.805. b3 = 3.71; w3 = 0.6195
  CHECK(w[0] == Approx(0.9));
  CHECK(w[1] == Approx(0.805));
  CHECK(w[2] == Approx(0.6195));
}

TEST_CASE("sgd nesterov in both forms agrees at a constant rate", "[optimizers]") {
  auto keras = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.5, nesterov: true}", 1);
  auto torch = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.5, nesterov: true, momentum_form: pytorch}", 1);
  const auto a = trajectory(*keras, 1.0, {1.0, 2.0});
  const auto b = trajectory(*torch, 1.0, {1.0, 2.0});
  // Keras: v1 = -0.1, w1 = 1 + 0.5(-0.1) - 0.1 = 0.85; v2 = -0.05 - 0.2 = -0.25, w2 = 0.85 - 0.125 - 0.2 = 0.525
  CHECK(a[0] == Approx(0.85));
  CHECK(a[1] == Approx(0.525));
  CHECK(b[0] == Approx(a[0]));
  CHECK(b[1] == Approx(a[1]));
}

TEST_CASE("sgd legacy decay: lr / (1 + decay * iterations)", "[optimizers]") {
  auto opt = make_optimizer("{type: sgd, lr: 0.1, decay: 0.5}", 1);
  CHECK(opt->effective_lr() == Approx(0.1));
  const auto w = trajectory(*opt, 0.0, {1.0, 1.0, 1.0});
  // rates 0.1, 0.1/1.5, 0.1/2
  CHECK(w[0] == Approx(-0.1));
  CHECK(w[1] == Approx(-0.1 - 0.1 / 1.5));
  CHECK(w[2] == Approx(-0.1 - 0.1 / 1.5 - 0.05));
}

TEST_CASE("sgd weight decay: decoupled (keras) and coupled L2 (pytorch)", "[optimizers]") {
  auto keras = make_optimizer("{type: sgd, lr: 0.1, weight_decay: 0.5}", 1);
  auto torch = make_optimizer("{type: sgd, lr: 0.1, weight_decay: 0.5, momentum_form: pytorch}", 1);
  // keras: w = 2 - 0.1*0.5*2 = 1.9, then - 0.1*1 = 1.8; pytorch: g = 1 + 0.5*2 = 2, w = 2 - 0.2 = 1.8
  CHECK(trajectory(*keras, 2.0, {1.0})[0] == Approx(1.8));
  CHECK(trajectory(*torch, 2.0, {1.0})[0] == Approx(1.8));
  auto keras_m = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.5}", 1);
  auto torch_m = make_optimizer("{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.5, momentum_form: pytorch}", 1);
  // keras step 2: w1 = 1.8, v1 = -0.1; w = 1.8 - 0.09 = 1.71; v2 = -0.09 - 0.1 = -0.19; w2 = 1.52
  CHECK(trajectory(*keras_m, 2.0, {1.0, 1.0})[1] == Approx(1.52));
  // pytorch step 2: b1 = 2, w1 = 1.8; g2 = 1 + 0.9 = 1.9; b2 = 1.8 + 1.9 = 3.7; w2 = 1.8 - 0.37 = 1.43
  CHECK(trajectory(*torch_m, 2.0, {1.0, 1.0})[1] == Approx(1.43));
}

TEST_CASE("adam, rmsprop and adagrad: first steps by hand", "[optimizers]") {
  auto adam = make_optimizer("{type: adam, lr: 0.01}", 1);
  // Step 1: m = 0.1 g, v = 0.001 g^2; lr_t = 0.01 sqrt(0.001) / 0.1; w -= lr_t m / (sqrt(v) + eps) ~= 0.01 sign(g)
  const auto a = trajectory(*adam, 1.0, {0.5, 0.5});
  CHECK(a[0] == Approx(1.0 - 0.01).epsilon(1e-5));
  CHECK(a[1] == Approx(1.0 - 0.02).epsilon(1e-5));
  CHECK(adam->momentum().value() == Approx(0.9));

  auto rms = make_optimizer("{type: rmsprop, lr: 0.01}", 1);
  // a = 0.1 * 0.25 = 0.025; w = 1 - 0.01 * 0.5 / sqrt(0.025)
  CHECK(trajectory(*rms, 1.0, {0.5})[0] == Approx(1.0 - 0.01 * 0.5 / std::sqrt(0.025)).epsilon(1e-5));

  auto ada = make_optimizer("{type: adagrad, lr: 0.1}", 1);
  // a = 0.1 + 0.25 = 0.35; w = 1 - 0.1 * 0.5 / sqrt(0.35)
  CHECK(trajectory(*ada, 1.0, {0.5})[0] == Approx(1.0 - 0.05 / std::sqrt(0.35)).epsilon(1e-5));
}

TEST_CASE("optimizers reject bad fields", "[optimizers]") {
  CHECK_THAT(error("{type: sgd, lr: -1}"), Contains("'lr' must be >= 0"));
  CHECK_THAT(error("{type: sgd, momentum: 1.5}"), Contains("'momentum' must be in [0, 1]"));
  CHECK_THAT(error("{type: sgd, nesterov: true}"), Contains("needs momentum > 0"));
  CHECK_THAT(error("{type: sgd, momentum_form: caffe}"), Contains("keras or pytorch"));
  CHECK_THAT(error("{type: sgd, momentun: 0.9}"), Contains("did you mean 'momentum'"));
  CHECK_THAT(error("{type: adamm}"), Contains("did you mean 'adam'"));
  CHECK_THAT(error("{type: sgd_schedulefree, momentum: 0}"), Contains("'momentum' must be in (0, 1]"));
  CHECK_THAT(error("{type: adamw_schedulefree, beta_2: 1}"), Contains("'beta_2' must be in [0, 1)"));
  CHECK_THAT(error("{type: adamw_schedulefree, warmup_steps: -5}"), Contains("'warmup_steps' must be >= 0"));
  CHECK_THAT(error("{type: sgd_schedulefree, r: -1}"), Contains("'r' must be >= 0"));
  CHECK_THAT(error("{type: prodigy, d0: 0}"), Contains("'d0' must be a finite number > 0"));
  CHECK_THAT(error("{type: dadapt_adam, growth_rate: 1}"), Contains("'growth_rate' must be > 1"));
  CHECK_THAT(error("{type: dadapt_sgd, beta_1: 0.9}"), Contains("unknown key 'beta_1'"));
}

namespace {
std::vector<std::vector<float>> run_steps(Optimizer& opt, std::vector<float> w, const std::vector<std::vector<float>>& grads) {
  std::vector<std::vector<float>> out;
  for (auto g : grads) {
    opt.step(w, g);
    out.push_back(w);
  }
  return out;
}
}  // namespace

TEST_CASE("adamw matches PyTorch's AdamW step by step", "[optimizers][adamw]") {
  // Reference from PyTorch 1.13 (Debian's python3-torch):
  //   w = torch.tensor([1., -2.]); opt = torch.optim.AdamW([w], lr=0.1, weight_decay=0.1[, amsgrad=True])
  //   for g in grads: w.grad = torch.tensor(g); opt.step()
  auto adamw = make_optimizer("{type: adamw, lr: 0.1, weight_decay: 0.1}", 2);
  const auto w = run_steps(*adamw, {1, -2}, {{0.5f, -1}, {0.2f, 0.3f}, {-0.4f, 0.1f}});
  const std::vector<std::vector<double>> torch{{0.890000045, -1.88}, {0.79124254, -1.81841516}, {0.765702248, -1.77340579}};
  for (size_t t = 0; t < 3; ++t)
    for (size_t i = 0; i < 2; ++i) CHECK(w[t][i] == Approx(torch[t][i]).epsilon(1e-5));  // float32 against float32, 3 steps
  auto ams = make_optimizer("{type: adamw, lr: 0.1, weight_decay: 0.1, amsgrad: true}", 2);
  const auto a = run_steps(*ams, {1, -2}, {{0.5f, -1}, {0.1f, 0.3f}, {-0.4f, 0.1f}});
  const std::vector<std::vector<double>> torch_ams{{0.890000045, -1.88}, {0.800795972, -1.81841516}, {0.783418119, -1.77340579}};
  for (size_t t = 0; t < 3; ++t)
    for (size_t i = 0; i < 2; ++i) CHECK(a[t][i] == Approx(torch_ams[t][i]).epsilon(1e-5));
  CHECK(ams->state().size() == 3);
}

TEST_CASE("adam with amsgrad keeps the largest second moment (Keras)", "[optimizers][adam]") {
  auto opt = make_optimizer("{type: adam, lr: 0.1, amsgrad: true}", 1);
  // g = 1 then 0.1: v1 = 0.001, v2 = 0.999e-3 + 1e-5 = 0.001009 > v1... use 1 then 0.01 so v shrinks:
  // v1 = 1e-3; v2 = 0.999 * 1e-3 + 1e-3 * 1e-4 = 0.0009991 < v1, so v_hat2 = 1e-3.
  const auto w = trajectory(*opt, 0.0, {1.0, 0.01});
  const double m1 = 0.1, m2 = 0.9 * 0.1 + 0.1 * 0.01;
  const double lr1 = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9), lr2 = 0.1 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
  const double w1 = -lr1 * m1 / (std::sqrt(1e-3) + 1e-7);
  const double w2 = w1 - lr2 * m2 / (std::sqrt(1e-3) + 1e-7);
  CHECK(w[0] == Approx(w1).epsilon(1e-5));
  CHECK(w[1] == Approx(w2).epsilon(1e-5));
  // Without amsgrad the second step divides by sqrt(v2) instead.
  auto plain = make_optimizer("{type: adam, lr: 0.1}", 1);
  const auto p = trajectory(*plain, 0.0, {1.0, 0.01});
  CHECK(p[1] == Approx(w1 - lr2 * m2 / (std::sqrt(0.0009991) + 1e-7)).epsilon(1e-5));
}

TEST_CASE("nadam follows Keras' formula step by step", "[optimizers][nadam]") {
  auto opt = make_optimizer("{type: nadam, lr: 0.01}", 1);
  const std::vector<double> grads{0.5, -0.2, 0.8, 0.1};
  const auto w = trajectory(*opt, 1.0, grads);
  // By hand, in double: u_t = 0.9 (1 - 0.5 * 0.96^(0.004 t)), P_t = prod u_k.
  double m = 0, v = 0, product = 1, x = 1;
  for (size_t k = 0; k < grads.size(); ++k) {
    const double t = static_cast<double>(k + 1), g = grads[k];
    const double u = 0.9 * (1 - 0.5 * std::pow(0.96, 0.004 * t)), u_next = 0.9 * (1 - 0.5 * std::pow(0.96, 0.004 * (t + 1)));
    product *= u;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const double m_hat = u_next * m / (1 - product * u_next) + (1 - u) * g / (1 - product);
    const double v_hat = v / (1 - std::pow(0.999, t));
    x -= 0.01 * m_hat / (std::sqrt(v_hat) + 1e-7);
    CHECK(w[k] == Approx(x).epsilon(1e-5));
  }
}

TEST_CASE("gradient clipping: clipnorm per tensor, global_clipnorm over all, clipvalue per element (Keras)", "[optimizers][clipping]") {
  // Plain SGD with lr 1 makes the step equal to the clipped gradient. Two tensors: [3, 4] (norm 5)
  // and [0.3, 0.4] (norm 0.5).
  const std::vector<ParamGroup> tensors{{0, 2, 1, 1}, {2, 2, 1, 1}};
  auto step = [&](const std::string& yaml) {
    auto opt = make_optimizer(yaml, 4);
    opt->set_groups(tensors);
    std::vector<float> w(4, 0.0f), g{3, 4, 0.3f, 0.4f};
    opt->step(w, g);
    return w;
  };
  const auto by_tensor = step("{type: sgd, lr: 1, clipnorm: 1}");
  CHECK(by_tensor[0] == Approx(-0.6));
  CHECK(by_tensor[1] == Approx(-0.8));
  CHECK(by_tensor[2] == Approx(-0.3));  // under the norm: untouched
  const auto global = step("{type: sgd, lr: 1, global_clipnorm: 1}");
  const double norm = std::sqrt(25 + 0.25);
  CHECK(global[0] == Approx(-3 / norm));
  CHECK(global[3] == Approx(-0.4 / norm));
  const auto by_value = step("{type: sgd, lr: 1, clipvalue: 0.35}");
  CHECK(by_value == std::vector<float>{-0.35f, -0.35f, -0.3f, -0.35f});
  CHECK_THAT(error("{type: adam, clipnorm: 1, clipvalue: 1}"), Contains("set one of clipnorm, clipvalue and global_clipnorm"));
  CHECK_THAT(error("{type: adam, clipnorm: 0}"), Contains("'clipnorm' must be a finite number > 0"));
}

TEST_CASE("lr_mult and decay_mult scale each tensor's rate and weight decay (Caffe)", "[optimizers][multipliers]") {
  // Keras-form SGD, lr 0.1, decoupled weight decay 0.5: w -= lr wd dm w; w -= lr lm g.
  auto opt = make_optimizer("{type: sgd, lr: 0.1, weight_decay: 0.5}", 3);
  opt->set_groups({{0, 1, 1, 1}, {1, 1, 2, 0}, {2, 1, 0, 1}});
  std::vector<float> w{1, 1, 1}, g{1, 1, 1};
  opt->step(w, g);
  CHECK(w[0] == Approx(1 - 0.05 - 0.1));     // both multipliers 1
  CHECK(w[1] == Approx(1 - 0.2));            // twice the rate, no decay
  CHECK(w[2] == 1.0f);                      // rate 0: nothing moves (decay is scaled by the rate, as in Caffe)
}

namespace {
// Records the slices update() is given; elementwise or not, as asked.
class RecordingOptimizer : public Optimizer {
 public:
  RecordingOptimizer(AttrMap& a, bool elementwise) : Optimizer(a, 0.1), elementwise_(elementwise) {}
  void prepare(int64_t) override {}
  std::vector<std::pair<size_t, size_t>> slices;  // offset, size

 protected:
  bool update_is_elementwise() const override { return elementwise_; }
  void update(const UpdateSlice& s) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    slices.emplace_back(s.offset, s.w.size());
  }

 private:
  bool elementwise_;
  std::mutex mutex_;
};
}  // namespace

TEST_CASE("a step splits large runs over threads only for elementwise optimizers, with the same bits", "[optimizers][parallel]") {
  // Three runs (the middle one with other multipliers), two of them large enough to split, with
  // sizes that leave partial blocks.
  const int64_t n = 200003;
  const std::vector<ParamGroup> groups{{0, 70000, 1, 1}, {70000, 80001, 2, 0}, {150001, 49000, 1, 1}, {199001, 1002, 1, 1}};
  SECTION("every optimizer gives the same parameters and state on one thread and on three") {
    for (const char* yaml : {"{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.01}",
                             "{type: sgd, lr: 0.1, momentum: 0.9, nesterov: true, momentum_form: pytorch, weight_decay: 0.01}",
                             "{type: adam, lr: 0.01, amsgrad: true}", "{type: adamw, lr: 0.01}", "{type: rmsprop, lr: 0.01}",
                             "{type: adagrad, lr: 0.1}", "{type: nadam, lr: 0.01}", "{type: sgd, lr: 0.1, clipnorm: 1.0}"}) {
      INFO(yaml);
      auto one = make_optimizer(yaml, n), three = make_optimizer(yaml, n);
      one->set_groups(groups);
      three->set_groups(groups);
      std::vector<float> w1(static_cast<size_t>(n)), w3, g(static_cast<size_t>(n)), g1, g3;
      for (size_t i = 0; i < w1.size(); ++i) w1[i] = std::sin(0.37f * static_cast<float>(i));
      w3 = w1;
      for (int t = 0; t < 3; ++t) {
        for (size_t i = 0; i < g.size(); ++i) g[i] = std::cos(0.11f * static_cast<float>(i) + static_cast<float>(t));
        g1 = g3 = g;
        one->step(w1, g1, 1);
        three->step(w3, g3, 3);
      }
      CHECK(std::memcmp(w1.data(), w3.data(), w1.size() * sizeof(float)) == 0);
      const auto s1 = one->state(), s3 = three->state();
      REQUIRE(s1.size() == s3.size());
      for (size_t k = 0; k < s1.size(); ++k)
        CHECK(std::memcmp(s1[k].data(), s3[k].data(), s1[k].size() * sizeof(float)) == 0);
    }
  }
  SECTION("an optimizer that does not declare an elementwise update gets one call per run") {
    for (const bool elementwise : {false, true}) {
      AttrMap a = attrs_from("{lr: 0.1}", "optimizer");
      RecordingOptimizer opt(a, elementwise);
      opt.set_groups(groups);
      std::vector<float> w(static_cast<size_t>(n)), g(static_cast<size_t>(n));
      opt.step(w, g, 3);
      std::sort(opt.slices.begin(), opt.slices.end());
      // The slices cover every parameter once, in order.
      size_t next = 0;
      for (const auto& [offset, size] : opt.slices) {
        CHECK(offset == next);
        next = offset + size;
      }
      CHECK(next == static_cast<size_t>(n));
      const size_t runs = 3;  // the last two groups share their multipliers: one run
      if (elementwise) CHECK(opt.slices.size() > runs);  // the large runs were split
      else CHECK(opt.slices.size() == runs);
    }
  }
}
