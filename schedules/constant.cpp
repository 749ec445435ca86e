// constant: lr at every step.
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class ConstantSchedule : public Schedule {
 public:
  ConstantSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch), lr_(a.get<double>("lr", ctx.optimizer_lr)) {
    a.require(lr_ >= 0, "lr", "must be >= 0");
  }
  double lr(const Progress&) const override { return lr_; }

 private:
  double lr_;
};

ANNEAL_REGISTER(ScheduleRegistry, "constant", ConstantSchedule);

}  // namespace
}  // namespace anneal
