// exponential (Keras ExponentialDecay): lr * decay_rate^(t / decay_steps), the exponent floored
// when staircase. PyTorch's ExponentialLR (gamma^t) and Caffe's "exp" are decay_steps 1.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class ExponentialSchedule : public Schedule {
 public:
  ExponentialSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        decay_rate_(positive_number_attr(a, "decay_rate")),
        decay_steps_(positive_number_attr(a, "decay_steps", 1.0)),
        staircase_(a.get<bool>("staircase", false)) {}
  double lr(const Progress& p) const override {
    double exponent = static_cast<double>(counter(p)) / decay_steps_;
    if (staircase_) exponent = std::floor(exponent);
    return lr_ * std::pow(decay_rate_, exponent);
  }

 private:
  double lr_, decay_rate_, decay_steps_;
  bool staircase_;
};

ANNEAL_REGISTER(ScheduleRegistry, "exponential", ExponentialSchedule);

}  // namespace
}  // namespace anneal
