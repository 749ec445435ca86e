#include "anneal/lr_scaling.hpp"

#include <algorithm>

namespace anneal {
namespace {

class ScaledSchedule : public Schedule {
 public:
  ScaledSchedule(std::unique_ptr<Schedule> base, double base_lr, double factor, int64_t warmup_steps)
      : Schedule(ScheduleUnit::kStep), base_lr_(base_lr), factor_(factor), warmup_steps_(warmup_steps) {
    if (base) children_.push_back(std::move(base));
  }
  double lr(const Progress& p) const override {
    const double base = children_.empty() ? base_lr_ : children_.front()->lr(p);
    return base * multiplier(p.step);
  }
  std::optional<double> momentum(const Progress& p) const override {
    return children_.empty() ? std::nullopt : children_.front()->momentum(p);
  }

 private:
  double multiplier(int64_t step) const {
    if (step >= warmup_steps_ || warmup_steps_ <= 0) return factor_;
    return 1.0 + (factor_ - 1.0) * static_cast<double>(step) / static_cast<double>(warmup_steps_);
  }
  double base_lr_, factor_;
  int64_t warmup_steps_;
};

}  // namespace

std::unique_ptr<Schedule> scaled_schedule(std::unique_ptr<Schedule> base, double base_lr, double factor,
                                          int64_t warmup_steps) {
  return std::make_unique<ScaledSchedule>(std::move(base), base_lr, factor, warmup_steps);
}

}  // namespace anneal
