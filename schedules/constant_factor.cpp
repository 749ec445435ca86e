// constant_factor (PyTorch ConstantLR): lr * factor while t < total_iters, lr afterwards.
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class ConstantFactorSchedule : public Schedule {
 public:
  ConstantFactorSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        factor_(a.get<double>("factor", 1.0 / 3.0)),
        total_(positive_attr(a, "total_iters", 5)) {
    a.require(factor_ >= 0 && factor_ <= 1, "factor", "must be in [0, 1]");
  }
  double lr(const Progress& p) const override { return counter(p) < total_ ? lr_ * factor_ : lr_; }

 private:
  double lr_, factor_;
  int64_t total_;
};

ANNEAL_REGISTER(ScheduleRegistry, "constant_factor", ConstantFactorSchedule);

}  // namespace
}  // namespace anneal
