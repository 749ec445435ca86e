// polynomial (Keras PolynomialDecay): (lr - end_lr) * (1 - t'/D)^power + end_lr. Without cycle,
// t' = min(t, D) (clamped at end_lr after D); with cycle, D grows to D * ceil(t / D) (D at t = 0).
#include <algorithm>
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class PolynomialSchedule : public Schedule {
 public:
  PolynomialSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        decay_steps_(positive_number_attr(a, "decay_steps")),
        end_lr_(rate_attr(a, "end_lr", 0.0001)),
        power_(positive_number_attr(a, "power", 1.0)),
        cycle_(a.get<bool>("cycle", false)) {}
  double lr(const Progress& p) const override {
    double t = static_cast<double>(counter(p));
    double horizon = decay_steps_;
    if (cycle_) horizon = t == 0 ? decay_steps_ : decay_steps_ * std::ceil(t / decay_steps_);
    else t = std::min(t, decay_steps_);
    return (lr_ - end_lr_) * std::pow(1.0 - t / horizon, power_) + end_lr_;
  }

 private:
  double lr_, decay_steps_, end_lr_, power_;
  bool cycle_;
};

ANNEAL_REGISTER(ScheduleRegistry, "polynomial", PolynomialSchedule);

}  // namespace
}  // namespace anneal
