// The three core schedules against values worked out independently (by hand from the lesson's
// and Keras' formulas), their boundaries, purity, and argument checks.
#include <catch2/catch.hpp>

#include <cmath>

#include "anneal/schedule.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Schedule> make(const std::string& yaml, double optimizer_lr = 0.01) {
  ScheduleContext ctx;
  ctx.optimizer_lr = optimizer_lr;
  return make_schedule(attrs_from(yaml, "schedule"), ctx);
}

Progress at_epoch(int64_t e) {
  Progress p;
  p.epoch = e;
  p.step = e * 9;
  p.steps_per_epoch = 9;
  p.epochs = 50;
  return p;
}

Progress at_step(int64_t t) {
  Progress p = at_epoch(t / 9);
  p.step = t;
  return p;
}

std::string schedule_error(const std::string& yaml) {
  try {
    make(yaml);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("constant: the same rate at every step and epoch", "[schedules]") {
  auto s = make("{type: constant, lr: 0.1}");
  for (int64_t e : {0, 1, 49, 1000}) CHECK(s->lr(at_epoch(e)) == 0.1);
  CHECK(make("constant", 0.05)->lr(at_epoch(3)) == 0.05);  // defaults to the optimizer's rate
}

TEST_CASE("step_decay: the lesson's 0.1 * 0.5^floor((1 + epoch) / 10)", "[schedules]") {
  auto s = make("{type: step_decay, lr: 0.1, drop: 0.5, epochs_drop: 10}");
  CHECK(s->unit() == ScheduleUnit::kEpoch);
  // Worked out by hand: the first halving is the 10th epoch (index 9).
  const std::pair<int64_t, double> table[] = {{0, 0.1},    {1, 0.1},     {8, 0.1},      {9, 0.05},
                                              {10, 0.05},  {18, 0.05},   {19, 0.025},   {29, 0.0125},
                                              {39, 0.00625}, {48, 0.00625}, {49, 0.003125}, {99, 0.1 / 1024}};
  for (const auto& [epoch, expected] : table) {
    INFO("epoch " << epoch);
    CHECK(s->lr(at_epoch(epoch)) == Approx(expected).epsilon(1e-12));
  }
  auto no_offset = make("{type: step_decay, lr: 1.0, drop: 0.1, epochs_drop: 3, offset: 0}");
  CHECK(no_offset->lr(at_epoch(2)) == Approx(1.0));
  CHECK(no_offset->lr(at_epoch(3)) == Approx(0.1));
  CHECK(no_offset->lr(at_epoch(6)) == Approx(0.01));
}

TEST_CASE("time_based: Keras legacy decay lr / (1 + decay * t) per update", "[schedules]") {
  auto s = make("{type: time_based, lr: 0.1, decay: 0.002}");
  CHECK(s->unit() == ScheduleUnit::kStep);
  CHECK(s->lr(at_step(0)) == 0.1);
  CHECK(s->lr(at_step(1)) == Approx(0.1 / 1.002));
  CHECK(s->lr(at_step(9)) == Approx(0.1 / 1.018));
  // The last update of the lesson's 50 epochs of 9 updates is t = 449; after it t = 450.
  CHECK(s->lr(at_step(449)) == Approx(0.1 / 1.898));
  CHECK(s->lr(at_step(450)) == Approx(0.0526315789));
  auto per_epoch = make("{type: time_based, lr: 0.1, decay: 0.5, unit: epoch}");
  CHECK(per_epoch->lr(at_epoch(2)) == Approx(0.05));
}

TEST_CASE("schedules are pure: any call order gives the same values", "[schedules]") {
  for (const char* yaml : {"{type: constant, lr: 0.3}", "{type: time_based, lr: 0.1, decay: 0.01}",
                           "{type: step_decay, lr: 0.2}"}) {
    auto s = make(yaml);
    std::vector<double> forward, backward(100);
    for (int64_t t = 0; t < 100; ++t) forward.push_back(s->lr(at_step(t)));
    for (int64_t t = 99; t >= 0; --t) backward[static_cast<size_t>(t)] = s->lr(at_step(t));
    CHECK(forward == backward);
    CHECK(s->lr(at_step(37)) == forward[37]);
  }
}

TEST_CASE("schedule arguments are validated", "[schedules]") {
  CHECK_THAT(schedule_error("{type: constant, lr: -0.1}"), Contains("'lr' must be >= 0"));
  CHECK_THAT(schedule_error("{type: time_based, lr: 0.1}"), Contains("missing required key 'decay'"));
  CHECK_THAT(schedule_error("{type: time_based, decay: -1}"), Contains("'decay' must be >= 0"));
  CHECK_THAT(schedule_error("{type: step_decay, epochs_drop: 0}"), Contains("'epochs_drop' must be at least 1"));
  CHECK_THAT(schedule_error("{type: step_decay, drop: 0}"), Contains("'drop' must be > 0"));
  CHECK_THAT(schedule_error("{type: step_decay, unit: batch}"), Contains("'unit' must be step or epoch"));
  CHECK_THAT(schedule_error("{type: step_decay, epoch_drop: 5}"), Contains("did you mean 'epochs_drop'"));
  CHECK_THAT(schedule_error("{type: cosine_decay}"), Contains("unknown schedule 'cosine_decay'"));
}
