// chained: lr * product of factor_k(t), where factor_k is child k evaluated with its own lr set
// to 1 (PyTorch's ChainedScheduler, as a closed form). Each child counts in its own unit; the
// chain is evaluated before every update when any child counts steps.
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"

namespace anneal {
namespace {

class ChainedSchedule : public Schedule {
 public:
  ChainedSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(ScheduleUnit::kEpoch), lr_(rate_attr(a, "lr", ctx.optimizer_lr)) {
    const YAML::Node list = a.raw("schedules");
    if (!list.IsDefined() || !list.IsSequence() || list.size() == 0)
      a.fail("schedules", "must be a non-empty list of schedules");
    ScheduleContext unit_rate = ctx;
    unit_rate.optimizer_lr = 1.0;
    for (size_t i = 0; i < list.size(); ++i) {
      AttrMap child = typed_attrs(list[i], a.origin(), a.child_path("schedules") + "." + std::to_string(i),
                                  a.what() + ": schedules[" + std::to_string(i) + "]");
      child.require(!child.has("lr"), "lr", "must not be set on a chained child: its factor is taken at lr 1; give lr on chained");
      children_.push_back(make_schedule(child, unit_rate));
      if (children_.back()->unit() == ScheduleUnit::kStep) set_unit(ScheduleUnit::kStep);
    }
  }

  double lr(const Progress& p) const override {
    double rate = lr_;
    for (const auto& child : children_) rate *= child->lr(p);
    return rate;
  }

 private:
  double lr_;
};

ANNEAL_REGISTER(ScheduleRegistry, "chained", ChainedSchedule);

}  // namespace
}  // namespace anneal
