// sigmoid (Caffe): lr / (1 + exp(-gamma * (t - step_size))). Caffe requires gamma >= 0, so the
// rate RISES from about 0 to lr around step_size: a smooth warm-up, not a decay.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class SigmoidSchedule : public Schedule {
 public:
  SigmoidSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        gamma_(required_rate_attr(a, "gamma")),
        step_size_(positive_number_attr(a, "step_size")) {}
  double lr(const Progress& p) const override {
    return lr_ / (1.0 + std::exp(-gamma_ * (static_cast<double>(counter(p)) - step_size_)));
  }

 private:
  double lr_, gamma_, step_size_;
};

ANNEAL_REGISTER(ScheduleRegistry, "sigmoid", SigmoidSchedule);

}  // namespace
}  // namespace anneal
