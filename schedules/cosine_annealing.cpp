// cosine_annealing (PyTorch CosineAnnealingLR, closed form): eta_min + (lr - eta_min) *
// 0.5 * (1 + cos(pi * t / t_max)). Not clamped: past t_max the rate rises again (period 2 t_max).
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class CosineAnnealingSchedule : public Schedule {
 public:
  CosineAnnealingSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        t_max_(positive_number_attr(a, "t_max")),
        eta_min_(rate_attr(a, "eta_min", 0.0)) {}
  double lr(const Progress& p) const override {
    return eta_min_ + (lr_ - eta_min_) * half_cosine(static_cast<double>(counter(p)) / t_max_);
  }

 private:
  double lr_, t_max_, eta_min_;
};

ANNEAL_REGISTER(ScheduleRegistry, "cosine_annealing", CosineAnnealingSchedule);

}  // namespace
}  // namespace anneal
