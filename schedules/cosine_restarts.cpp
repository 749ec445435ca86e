// cosine_restarts (Keras CosineDecayRestarts, SGDR): period i lasts first_decay_steps * t_mul^i
// steps and peaks at lr * m_mul^i; within it the rate follows
// lr * ((1 - alpha) * m_mul^i * 0.5 * (1 + cos(pi * fraction)) + alpha).
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class CosineRestartsSchedule : public Schedule {
 public:
  CosineRestartsSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        first_(positive_number_attr(a, "first_decay_steps")),
        t_mul_(positive_number_attr(a, "t_mul", 2.0)),
        m_mul_(rate_attr(a, "m_mul", 1.0)),
        alpha_(a.get<double>("alpha", 0.0)) {
    a.require(alpha_ >= 0 && alpha_ <= 1, "alpha", "must be in [0, 1]");
  }
  double lr(const Progress& p) const override {
    const double f = static_cast<double>(counter(p)) / first_;
    double i = 0, fraction = 0;
    if (t_mul_ == 1.0) {
      i = std::floor(f);
      fraction = f - i;
    } else {
      i = std::floor(std::log(1.0 - f * (1.0 - t_mul_)) / std::log(t_mul_));
      const double start = (1.0 - std::pow(t_mul_, i)) / (1.0 - t_mul_);
      fraction = (f - start) / std::pow(t_mul_, i);
    }
    return lr_ * ((1 - alpha_) * std::pow(m_mul_, i) * half_cosine(fraction) + alpha_);
  }

 private:
  double lr_, first_, t_mul_, m_mul_, alpha_;
};

ANNEAL_REGISTER(ScheduleRegistry, "cosine_restarts", CosineRestartsSchedule);

}  // namespace
}  // namespace anneal
