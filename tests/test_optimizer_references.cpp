// The newer optimizers against their papers' pseudo-code, transcribed in NumPy by
// tests/reference/make_optimizer_tables.py: the same closed-loop problem (the gradient taken at
// the optimizer's training point), every step's training point and model point compared.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <cmath>

#include "anneal/optimizer.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;

namespace {

std::string flow(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

}  // namespace

TEST_CASE("schedule-free, D-Adaptation and Prodigy follow their papers' algorithms step by step", "[optimizers][reference]") {
  const YAML::Node table = YAML::LoadFile(source_path("tests/reference/optimizer_tables.yaml"));
  int cases = 0;
  for (const auto& c : table["cases"]) {
    double worst = 0;
    const std::string spec = flow(c["spec"]);
    INFO(spec);
    AttrMap attrs = attrs_from(spec, "optimizer");
    auto opt = create_from<OptimizerRegistry>(attrs, "optimizer");
    opt->prepare(3);
    const auto a = c["a"].as<std::vector<double>>(), b = c["b"].as<std::vector<double>>();
    std::vector<float> w, g(3), model(3);
    for (double v : c["w0"].as<std::vector<double>>()) w.push_back(static_cast<float>(v));
    const auto rates = c["rates"].as<std::vector<double>>();
    for (const auto& step : c["steps"]) {
      const auto t = step[0].as<size_t>();
      for (size_t i = 0; i < 3; ++i) g[i] = static_cast<float>(a[i] * (w[i] - b[i]) + 0.1 * std::pow(w[i], 3));
      opt->set_lr(rates[t - 1]);
      opt->step(w, g);
      model = w;
      opt->to_model_point(model);
      const auto y = step[1].as<std::vector<double>>(), x = step[2].as<std::vector<double>>();
      for (size_t i = 0; i < 3; ++i) {
        INFO("update " << t << ", parameter " << i);
        // float32 against float64 over 25 closed-loop updates. The estimated step sizes grow by orders
        // of magnitude in a few updates, which amplifies rounding; the worst difference measured is
        // printed (about 4e-4 relative, floor 0.1). A wrong formula is off by far more.
        CHECK(w[i] == Approx(y[i]).epsilon(1e-3).margin(1e-4));
        CHECK(model[i] == Approx(x[i]).epsilon(1e-3).margin(1e-4));
        worst = std::max({worst, std::abs(w[i] - y[i]) / std::max(std::abs(y[i]), 0.1), std::abs(model[i] - x[i]) / std::max(std::abs(x[i]), 0.1)});
      }
      // Back to the training point exactly: the model point and the training point are one state.
      std::vector<float> back = model;
      opt->to_training_point(back);
      CHECK(back == w);
      // The estimated step size, as the history's lr column shows it.
      if (step.size() > 3) CHECK(opt->logged_lr() == Approx(step[3].as<double>()).epsilon(1e-3));
    }
    ++cases;
    WARN(spec << ": worst relative difference from the reference " << worst);
  }
  CHECK(cases == 10);
}
