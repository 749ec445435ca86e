// linear (PyTorch LinearLR): lr * (s + (e - s) * min(t, T) / T), clamped at end_factor after T.
#include <algorithm>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class LinearSchedule : public Schedule {
 public:
  LinearSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        start_(a.get<double>("start_factor", 1.0 / 3.0)),
        end_(a.get<double>("end_factor", 1.0)),
        total_(positive_attr(a, "total_iters", 5)) {
    a.require(start_ > 0 && start_ <= 1, "start_factor", "must be in (0, 1]");
    a.require(end_ >= 0 && end_ <= 1, "end_factor", "must be in [0, 1]");
  }
  double lr(const Progress& p) const override {
    const double fraction = static_cast<double>(std::min(counter(p), total_)) / static_cast<double>(total_);
    return lr_ * (start_ + (end_ - start_) * fraction);
  }

 private:
  double lr_, start_, end_;
  int64_t total_;
};

ANNEAL_REGISTER(ScheduleRegistry, "linear", LinearSchedule);

}  // namespace
}  // namespace anneal
