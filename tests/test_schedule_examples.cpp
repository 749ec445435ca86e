// Every schedule type has an example spec in schedules/ that trains the Ionosphere model, and
// momentum schedules really drive the optimizer's momentum (or Adam's beta_1).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "anneal/callbacks.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

TEST_CASE("every schedule type has an example spec that trains the Ionosphere model", "[schedules][examples][cli]") {
  std::set<std::string> covered;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("schedules"))) {
    if (entry.path().extension() != ".yaml") continue;
    const auto type = YAML::LoadFile(entry.path().string())["schedule"]["type"].as<std::string>();
    covered.insert(type);
    DYNAMIC_SECTION(entry.path().filename().string()) {
      const auto r = run_cli("train " + source_path("models/ionosphere.yaml") + " --schedule " + entry.path().string());
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK_THAT(r.out, Contains("Epoch 50/50"));
      CHECK_THAT(r.out, Contains("final val_accuracy: "));
    }
  }
  for (const auto& [name, entry] : ScheduleRegistry::instance().entries()) {
    if (entry.origin != "built-in") continue;
    INFO("schedule type '" << name << "' has no example in schedules/");
    CHECK(covered.count(name) == 1);
  }
}

namespace {
// Records the momentum the optimizer holds at each update, after the scheduler has run.
struct MomentumRecorder : Callback {
  std::vector<double> momenta, rates;
  void on_batch_begin(TrainingContext& ctx) override {
    momenta.push_back(ctx.momentum().value_or(-1));
    rates.push_back(ctx.lr());
  }
};

void check_driven(const std::vector<std::string>& sets) {
  auto spec = load_model_spec(source_path("models/ionosphere.yaml"), load_with(sets));
  Experiment ex = build_experiment(std::move(spec));
  REQUIRE(ex.schedule);
  const Schedule& schedule = *ex.schedule;
  std::vector<double> expected_m, expected_lr;
  Progress p;
  p.steps_per_epoch = 9;
  p.epochs = ex.spec.train.epochs;
  for (p.step = 0; p.step < 9 * p.epochs; ++p.step) {
    p.epoch = p.step / 9;
    expected_m.push_back(schedule.momentum(p).value());
    expected_lr.push_back(schedule.lr(p));
  }
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {ex.spec.train.epochs, 28, true, 1});
  LrScheduler scheduler(std::move(ex.schedule));
  MomentumRecorder recorder;
  trainer.add_callback(&scheduler);
  trainer.add_callback(&recorder);
  trainer.fit(*ex.train, nullptr);
  REQUIRE(recorder.momenta.size() == expected_m.size());
  for (size_t i = 0; i < expected_m.size(); ++i) {
    INFO("update " << i);
    CHECK(recorder.momenta[i] == Approx(expected_m[i]));
    CHECK(recorder.rates[i] == Approx(expected_lr[i]));
  }
}
}  // namespace

TEST_CASE("cyclic and one_cycle drive SGD momentum and Adam's beta_1 before every update", "[schedules][training]") {
  check_driven({"train.epochs=4", "optimizer.momentum=0.5",
                "schedule={type: cyclic, base_lr: 0.01, max_lr: 0.1, step_size_up: 5}"});
  check_driven({"train.epochs=3", "optimizer={type: adam}", "schedule={type: one_cycle, max_lr: 0.01}"});
}

TEST_CASE("a momentum schedule on an optimizer without momentum is refused", "[schedules][cli]") {
  const auto r = run_cli("check " + source_path("models/ionosphere.yaml") +
                         " --set 'optimizer={type: rmsprop}' --set 'schedule={type: cyclic, base_lr: 0.01, max_lr: 0.1}'");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("needs an optimizer with momentum"));
}
