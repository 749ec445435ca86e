// step (PyTorch StepLR, Caffe "step"): lr * gamma^floor(t / step_size).
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class StepSchedule : public Schedule {
 public:
  StepSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        step_size_(positive_attr(a, "step_size")),
        gamma_(rate_attr(a, "gamma", 0.1)) {}
  double lr(const Progress& p) const override {
    return lr_ * std::pow(gamma_, static_cast<double>(counter(p) / step_size_));
  }

 private:
  double lr_;
  int64_t step_size_;
  double gamma_;
};

ANNEAL_REGISTER(ScheduleRegistry, "step", StepSchedule);

}  // namespace
}  // namespace anneal
