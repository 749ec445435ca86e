// inv (Caffe): lr * (1 + gamma * t)^(-power).
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class InvSchedule : public Schedule {
 public:
  InvSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        gamma_(required_rate_attr(a, "gamma")),
        power_(required_rate_attr(a, "power")) {}
  double lr(const Progress& p) const override {
    return lr_ * std::pow(1.0 + gamma_ * static_cast<double>(counter(p)), -power_);
  }

 private:
  double lr_, gamma_, power_;
};

ANNEAL_REGISTER(ScheduleRegistry, "inv", InvSchedule);

}  // namespace
}  // namespace anneal
