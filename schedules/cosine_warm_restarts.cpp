// cosine_warm_restarts (PyTorch CosineAnnealingWarmRestarts): eta_min + (lr - eta_min) *
// 0.5 * (1 + cos(pi * T_cur / T_i)); the first period lasts t_0, each next one t_mult times longer.
// The period is found with integer arithmetic, so restarts land exactly on their step (PyTorch's
// closed form takes a floating log and can be off by one at a boundary).
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class CosineWarmRestartsSchedule : public Schedule {
 public:
  CosineWarmRestartsSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        t_0_(positive_attr(a, "t_0")),
        t_mult_(positive_attr(a, "t_mult", 1)),
        eta_min_(rate_attr(a, "eta_min", 0.0)) {}
  double lr(const Progress& p) const override {
    int64_t t_cur = counter(p), t_i = t_0_;
    if (t_mult_ == 1) t_cur %= t_0_;
    // At most 63 rounds: each period is at least twice the last. A period that would not fit
    // 64 bits is longer than any counter, so the loop ends there.
    while (t_cur >= t_i) {
      t_cur -= t_i;
      t_i = t_i > INT64_MAX / t_mult_ ? INT64_MAX : t_i * t_mult_;
    }
    return eta_min_ + (lr_ - eta_min_) * half_cosine(static_cast<double>(t_cur) / static_cast<double>(t_i));
  }

 private:
  double lr_;
  int64_t t_0_, t_mult_;
  double eta_min_;
};

ANNEAL_REGISTER(ScheduleRegistry, "cosine_warm_restarts", CosineWarmRestartsSchedule);

}  // namespace
}  // namespace anneal
