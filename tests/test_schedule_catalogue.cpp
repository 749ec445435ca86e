// Every schedule type against reference values computed by another tool
// (tests/reference/schedule_tables.yaml: PyTorch's own schedulers for the PyTorch types, Keras' and
// Caffe's published formulas in Python for theirs), plus validation, purity, equivalences,
// composition and the metric-driven schedule's state.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "anneal/rng.hpp"
#include "anneal/schedule.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

ScheduleContext run_context() {
  ScheduleContext ctx;
  ctx.optimizer_lr = 0.1;
  ctx.epochs = 50;
  ctx.steps_per_epoch = 9;
  return ctx;
}

// The reference tables give their own horizons (one_cycle's total_steps), so no run length.
ScheduleContext table_context() {
  ScheduleContext ctx;
  ctx.optimizer_lr = 0.1;
  return ctx;
}

std::unique_ptr<Schedule> from_yaml(const std::string& yaml, ScheduleContext ctx = run_context()) {
  return make_schedule(attrs_from(yaml, "schedule"), ctx);
}

Progress at(const Schedule& s, int64_t t) {
  Progress p;
  p.steps_per_epoch = 9;
  p.epochs = 50;
  if (s.unit() == ScheduleUnit::kStep) {
    p.step = t;
    p.epoch = t / 9;
  } else {
    p.epoch = t;
    p.step = t * 9;
  }
  return p;
}

std::string error_of(const std::string& yaml, ScheduleContext ctx = run_context()) {
  try {
    from_yaml(yaml, ctx);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

YAML::Node tables() {
  static const YAML::Node node = YAML::LoadFile(source_path("tests/reference/schedule_tables.yaml"));
  return node;
}

std::string to_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace

TEST_CASE("every schedule type matches its reference values", "[schedules][reference]") {
  std::map<std::string, int> points_per_type;
  for (const auto& c : tables()["cases"]) {
    const auto name = c["name"].as<std::string>();
    DYNAMIC_SECTION(name << " (" << c["source"].as<std::string>() << ")") {
      auto s = from_yaml(to_yaml(c["spec"]), table_context());
      CHECK(unit_name(s->unit()) == c["unit"].as<std::string>());
      for (const auto& point : c["points"]) {
        const auto t = point[0].as<int64_t>();
        INFO("t = " << t);
        CHECK(s->lr(at(*s, t)) == Approx(point[1].as<double>()).epsilon(1e-9).margin(1e-15));
        if (point.size() > 2) {
          REQUIRE(s->momentum(at(*s, t)).has_value());
          CHECK(*s->momentum(at(*s, t)) == Approx(point[2].as<double>()).epsilon(1e-9));
        }
      }
    }
    points_per_type[c["spec"]["type"].as<std::string>()] += static_cast<int>(c["points"].size());
  }
  for (const auto& c : tables()["plateau"]) points_per_type["reduce_on_plateau"] += static_cast<int>(c["rates"].size());
  points_per_type["expression"] += 0;  // checked by equivalence below
  // Every registered built-in type has reference points (expression: by equivalence).
  for (const auto& [name, entry] : ScheduleRegistry::instance().entries()) {
    if (entry.origin != "built-in") continue;
    INFO("schedule '" << name << "' has no reference case");
    CHECK(points_per_type.count(name) == 1);
  }
}

TEST_CASE("reduce_on_plateau follows the Keras and PyTorch algorithms epoch by epoch", "[schedules][reference]") {
  for (const auto& c : tables()["plateau"]) {
    DYNAMIC_SECTION(c["name"].as<std::string>()) {
      ScheduleContext ctx = run_context();
      ctx.log_keys = {"loss", "val_loss"};
      auto s = from_yaml(to_yaml(c["spec"]), ctx);
      CHECK(s->metric_driven());
      const auto metrics = c["metrics"].as<std::vector<double>>();
      const auto rates = c["rates"].as<std::vector<double>>();
      for (size_t e = 0; e < metrics.size(); ++e) {
        INFO("epoch " << e);
        const Progress p = at(*s, static_cast<int64_t>(e));
        CHECK(s->lr(p) == Approx(rates[e]).epsilon(1e-12));
        Logs logs;
        logs.set("val_loss", metrics[e]);
        s->observe(logs, p);
      }
    }
  }
}

TEST_CASE("reduce_on_plateau saves and restores its state: a resumed run sees the same rates", "[schedules]") {
  ScheduleContext ctx = run_context();
  ctx.log_keys = {"val_loss"};
  const std::string yaml = "{type: reduce_on_plateau, factor: 0.5, patience: 1, base: {type: time_based, lr: 0.1, decay: 0.01}}";
  auto whole = from_yaml(yaml, ctx);
  auto first = from_yaml(yaml, ctx);
  const std::vector<double> metrics{1, 0.9, 0.95, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  std::vector<double> uninterrupted, resumed;
  auto feed = [&](Schedule& s, size_t e, std::vector<double>& out) {
    const Progress p = at(s, static_cast<int64_t>(e));
    out.push_back(s.lr(p));
    Logs logs;
    logs.set("val_loss", metrics[e]);
    s.observe(logs, p);
  };
  for (size_t e = 0; e < metrics.size(); ++e) feed(*whole, e, uninterrupted);
  for (size_t e = 0; e < 4; ++e) feed(*first, e, resumed);
  std::vector<double> state;
  first->save_state(state);
  auto second = from_yaml(yaml, ctx);
  std::span<const double> in(state);
  second->load_state(in);
  CHECK(in.empty());
  for (size_t e = 4; e < metrics.size(); ++e) feed(*second, e, resumed);
  CHECK(resumed == uninterrupted);
  CHECK(uninterrupted.back() < 0.1 / 2);  // it did reduce
  // Composed with a time-based base: the rate still decays between reductions.
  CHECK(uninterrupted[1] < uninterrupted[0]);
}

TEST_CASE("schedules are pure: calls in any order give the same values", "[schedules]") {
  for (const auto& c : tables()["cases"]) {
    auto s = from_yaml(to_yaml(c["spec"]), table_context());
    std::vector<int64_t> ts(60);
    for (size_t i = 0; i < ts.size(); ++i) ts[i] = static_cast<int64_t>(i);
    std::vector<double> ordered;
    for (int64_t t : ts) ordered.push_back(s->lr(at(*s, t)));
    std::mt19937 shuffle(7);
    std::shuffle(ts.begin(), ts.end(), shuffle);
    for (int64_t t : ts) {
      INFO(c["name"].as<std::string>() << " t = " << t);
      REQUIRE(s->lr(at(*s, t)) == ordered[static_cast<size_t>(t)]);
    }
  }
}

TEST_CASE("equivalences between schedule types", "[schedules]") {
  auto drop = from_yaml("{type: step_decay, lr: 0.1, drop: 0.5, epochs_drop: 10}");
  auto formula = from_yaml("{type: expression, formula: '0.1 * 0.5^floor((1 + epoch) / 10)'}");
  auto formula_pow = from_yaml("{type: expression, formula: '0.1 * pow(0.5, floor((t + 1) / 10))'}");
  for (int64_t e = 0; e < 120; ++e) {
    CHECK(formula->lr(at(*formula, e)) == Approx(drop->lr(at(*drop, e))).epsilon(1e-15));
    CHECK(formula_pow->lr(at(*formula_pow, e)) == Approx(drop->lr(at(*drop, e))).epsilon(1e-15));
  }
  auto time_based = from_yaml("{type: time_based, lr: 0.1, decay: 0.002}");
  auto inverse_time = from_yaml("{type: inverse_time, lr: 0.1, decay_rate: 0.002, decay_steps: 1}");
  for (int64_t t = 0; t < 500; t += 7) CHECK(time_based->lr(at(*time_based, t)) == inverse_time->lr(at(*inverse_time, t)));
  auto per_step = from_yaml("{type: expression, unit: step, formula: 'max(0.001, 0.1 - step * 0.0002) + 0 * (steps_per_epoch + epochs + total_steps + ceil(1) + exp(0) + log(1) + sqrt(1) + min(1, 2) + abs(-1) + sin(0) + cos(0))'}");
  CHECK(per_step->unit() == ScheduleUnit::kStep);
  CHECK(per_step->lr(at(*per_step, 100)) == Approx(0.08));
  CHECK(per_step->lr(at(*per_step, 10000)) == Approx(0.001));
}

TEST_CASE("composites nest any schedule, including each other", "[schedules]") {
  // warmup -> sequential(cosine, chained(exponential x step)); all counting steps.
  auto s = from_yaml(R"({type: warmup, steps: 5, start_lr: 0.0, then: {type: sequential, stages: [
      {schedule: {type: cosine, lr: 0.1, decay_steps: 10}, until: 10},
      {schedule: {type: chained, lr: 0.05, schedules: [{type: exponential, decay_rate: 0.9},
                                                        {type: step, step_size: 4, gamma: 0.5, unit: step}]}}]}})");
  CHECK(s->unit() == ScheduleUnit::kStep);
  CHECK(s->lr(at(*s, 0)) == 0.0);
  CHECK(s->lr(at(*s, 2)) == Approx(0.1 * 2 / 5));
  CHECK(s->lr(at(*s, 5)) == Approx(0.1));                                    // cosine at its step 0
  CHECK(s->lr(at(*s, 10)) == Approx(0.1 * 0.5 * (1 + std::cos(3.141592653589793 * 5 / 10))));
  CHECK(s->lr(at(*s, 15)) == Approx(0.05));                                  // chained at its step 0
  CHECK(s->lr(at(*s, 15 + 6)) == Approx(0.05 * std::pow(0.9, 6) * 0.5));
  // A warm-up in front of a momentum schedule passes the momentum through.
  auto cyc = from_yaml("{type: warmup, steps: 2, then: {type: cyclic, base_lr: 0.01, max_lr: 0.1, step_size_up: 4}}");
  CHECK(cyc->momentum(at(*cyc, 0)).value() == Approx(0.9));
  CHECK(cyc->momentum(at(*cyc, 2 + 4)).value() == Approx(0.8));
}

TEST_CASE("invalid schedule parameters fail with the place and the reason", "[schedules]") {
  const std::pair<const char*, const char*> cases[] = {
      {"{type: step, step_size: 0}", "'step_size' must be at least 1"},
      {"{type: step}", "missing required key 'step_size'"},
      {"{type: exponential, lr: -1, decay_rate: 0.5}", "'lr' must be >= 0"},
      {"{type: exponential, decay_rate: 0.5, decay_steps: 0}", "'decay_steps' must be > 0"},
      {"{type: multistep, milestones: [5, 3]}", "'milestones' must be strictly increasing"},
      {"{type: multistep, milestones: [5, 5]}", "'milestones' must be strictly increasing"},
      {"{type: piecewise_constant, boundaries: [10, 20], values: [0.1, 0.01]}", "must have one more entry than boundaries"},
      {"{type: piecewise_constant, boundaries: [20, 10], values: [1, 2, 3]}", "'boundaries' must be strictly increasing"},
      {"{type: polynomial, decay_steps: 0}", "'decay_steps' must be > 0"},
      {"{type: inv, gamma: 0.1}", "missing required key 'power'"},
      {"{type: linear, start_factor: 0}", "'start_factor' must be in (0, 1]"},
      {"{type: constant_factor, factor: 2}", "'factor' must be in [0, 1]"},
      {"{type: cosine, decay_steps: 10, warmup_steps: 5}", "needs warmup_target"},
      {"{type: cosine_annealing, t_max: 0}", "'t_max' must be > 0"},
      {"{type: cosine_warm_restarts, t_0: 0}", "'t_0' must be at least 1"},
      {"{type: cosine_warm_restarts, t_0: 2, t_mult: 1.5}", "expected an integer"},
      {"{type: cyclic, base_lr: 0.1, max_lr: 1, mode: sawtooth}", "'mode' must be triangular, triangular2 or exp_range"},
      {"{type: one_cycle, max_lr: 0.1, pct_start: 1.5}", "'pct_start' must be in [0, 1]"},
      {"{type: one_cycle, max_lr: 0.1, total_steps: 100}", "shorter than the run (50 epochs x 9 steps = 450)"},
      {"{type: one_cycle, max_lr: 0.1, anneal_strategy: cosine}", "must be cos or linear"},
      {"{type: warmup, steps: 3}", "missing required key 'then'"},
      {"{type: warmup, steps: 3, shape: exponential, then: {type: constant}}", "must be > 0 for an exponential warm-up"},
      {"{type: warmup, steps: 3, unit: epoch, then: {type: exponential, decay_rate: 0.9}}", "must match the 'then' schedule's unit"},
      {"{type: sequential, stages: [{schedule: constant, until: 5}, {schedule: constant, until: 9}]}", "must not be set on the last stage"},
      {"{type: sequential, stages: [{schedule: constant, until: 5}, {schedule: constant, until: 3}, {schedule: constant}]}",
       "must be greater than the previous stage's until"},
      {"{type: sequential, stages: [{schedule: constant, until: 5}, {schedule: {type: exponential, decay_rate: 0.5}}]}",
       "set the same unit on every stage"},
      {"{type: chained, schedules: [{type: step, lr: 0.1, step_size: 2}]}", "must not be set on a chained child"},
      {"{type: chained, schedules: []}", "must be a non-empty list"},
      {"{type: reduce_on_plateau, factor: 1.5}", "'factor' must be in (0, 1)"},
      {"{type: reduce_on_plateau, convention: tf}", "must be keras or pytorch"},
      {"{type: expression, formula: '0.1 * decay^epoch'}", "unknown name 'decay' at character 7"},
      {"{type: expression, formula: '0.1 * (epoch'}", "cannot read formula"},
      {"{type: step_decay, epochs_dorp: 5}", "did you mean 'epochs_drop'"},
      {"{type: wsd, shape: exponential}", "'shape' must be linear, cosine or sqrt"},
      {"{type: wsd, decay_fraction: 1.5}", "'decay_fraction' must be in [0, 1]"},
      {"{type: wsd, decay_fraction: 0.2, decay_start_epoch: 40}", "give either decay_fraction or decay_start_epoch"},
      {"{type: wsd, warmup_steps: 400, decay_fraction: 0.2}", "puts the decay's start (update 360) inside the warm-up (400 updates)"},
      {"{type: wsd, decay_start_epoch: 60}", "puts the decay's start (update 540) past the run's end (450 updates)"},
      {"{type: wsd, warmup_steps: -1}", "'warmup_steps' must be >= 0"},
  };
  for (const auto& [yaml, expected] : cases) {
    INFO(yaml);
    CHECK_THAT(error_of(yaml), Contains(expected));
    CHECK_THAT(error_of(yaml), Contains("test.yaml:1:"));
  }
  ScheduleContext known = run_context();
  known.log_keys = {"loss", "accuracy"};
  CHECK_THAT(error_of("{type: reduce_on_plateau}", known), Contains("is 'val_loss', which this run does not log (it logs loss, accuracy)"));
  ScheduleContext no_momentum = run_context();
  no_momentum.optimizer_has_momentum = false;
  CHECK_THAT(error_of("{type: cyclic, base_lr: 0.1, max_lr: 1}", no_momentum), Contains("needs an optimizer with momentum"));
}
