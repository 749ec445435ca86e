// time_based: Keras' legacy optimizer `decay`, lr / (1 + decay * t), t = updates done so far.
// Unlike the lesson's prose (a per-epoch, compounding rule), Keras applies it per batch without
// compounding; this follows the code.
#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class TimeBasedSchedule : public Schedule {
 public:
  TimeBasedSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        decay_(a.get<double>("decay")) {
    a.require(decay_ >= 0, "decay", "must be >= 0");
  }
  double lr(const Progress& p) const override {
    return lr_ / (1.0 + decay_ * static_cast<double>(counter(p)));
  }

 private:
  double lr_, decay_;
};

ANNEAL_REGISTER(ScheduleRegistry, "time_based", TimeBasedSchedule);

}  // namespace
}  // namespace anneal
