// constant: lr at every step.
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class ConstantSchedule : public Schedule {
 public:
  ConstantSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch), lr_(rate_attr(a, "lr", ctx.optimizer_lr)) {
  }
  double lr(const Progress&) const override { return lr_; }

 private:
  double lr_;
};

ANNEAL_REGISTER(ScheduleRegistry, "constant", ConstantSchedule);

}  // namespace
}  // namespace anneal
