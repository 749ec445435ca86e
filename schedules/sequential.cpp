// sequential: stage i runs while until(i-1) <= t < until(i) and sees t - until(i-1), so every
// stage starts at its own step 0 (as PyTorch's SequentialLR restarts each scheduler). The last
// stage has no `until`. All stages count in one unit.
#include <algorithm>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class SequentialSchedule : public Schedule {
 public:
  SequentialSchedule(AttrMap& a, const ScheduleContext& ctx) : Schedule(ScheduleUnit::kStep) {
    auto stages = a.child_list("stages");
    a.require(!stages.empty(), "stages", "must list at least one stage");
    for (size_t i = 0; i < stages.size(); ++i) {
      AttrMap& stage = stages[i];
      children_.push_back(make_child_schedule(stage, "schedule", ctx));
      const bool last = i + 1 == stages.size();
      if (last) {
        stage.require(!stage.has("until"), "until", "must not be set on the last stage (it runs to the end)");
      } else {
        const int64_t until = stage.get<int64_t>("until");
        stage.require(until > (starts_.empty() ? 0 : starts_.back()), "until",
                      "must be greater than the previous stage's until (and than 0)");
        starts_.push_back(until);
      }
      if (i > 0)
        stage.require(children_[i]->unit() == children_[0]->unit(), "schedule",
                      "counts in " + std::string(unit_name(children_[i]->unit())) + "s but the first stage counts in " +
                          unit_name(children_[0]->unit()) + "s; set the same unit on every stage");
      stage.finish();
    }
    set_unit(children_.front()->unit());
  }

  double lr(const Progress& p) const override {
    const auto [stage, offset] = locate(p);
    return children_[stage]->lr(shifted(p, offset));
  }
  std::optional<double> momentum(const Progress& p) const override {
    const auto [stage, offset] = locate(p);
    return children_[stage]->momentum(shifted(p, offset));
  }

 private:
  std::pair<size_t, int64_t> locate(const Progress& p) const {
    const auto stage = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), counter(p)) - starts_.begin());
    return {stage, stage == 0 ? 0 : starts_[stage - 1]};
  }
  std::vector<int64_t> starts_;  // until of every stage but the last
};

ANNEAL_REGISTER(ScheduleRegistry, "sequential", SequentialSchedule);

}  // namespace
}  // namespace anneal
