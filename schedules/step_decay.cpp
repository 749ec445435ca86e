// step_decay: the lesson's drop-based schedule, lr * drop^floor((t + offset) / epochs_drop) with
// t the 0-based epoch. offset 1 makes the first drop land on the epochs_drop-th epoch (t = 9).
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class StepDecaySchedule : public Schedule {
 public:
  StepDecaySchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        drop_(a.get<double>("drop", 0.5)),
        epochs_drop_(a.get<int64_t>("epochs_drop", 10)),
        offset_(a.get<int64_t>("offset", 1)) {
    a.require(drop_ > 0, "drop", "must be > 0");
    a.require(epochs_drop_ > 0, "epochs_drop", "must be at least 1");
  }
  double lr(const Progress& p) const override {
    const auto k = static_cast<double>((counter(p) + offset_) / epochs_drop_);
    return lr_ * std::pow(drop_, k);
  }

 private:
  double lr_, drop_;
  int64_t epochs_drop_, offset_;
};

ANNEAL_REGISTER(ScheduleRegistry, "step_decay", StepDecaySchedule);

}  // namespace
}  // namespace anneal
