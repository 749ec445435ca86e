// multistep (PyTorch MultiStepLR, Caffe "multistep"): lr * gamma^(number of milestones <= t), so
// the rate switches AT each milestone. Milestones must be strictly increasing.
#include <algorithm>
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class MultiStepSchedule : public Schedule {
 public:
  MultiStepSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kEpoch),
        lr_(rate_attr(a, "lr", ctx.optimizer_lr)),
        milestones_(a.get<std::vector<int64_t>>("milestones")),
        gamma_(rate_attr(a, "gamma", 0.1)) {
    a.require(!milestones_.empty(), "milestones", "must list at least one milestone");
    a.require(milestones_.front() >= 0, "milestones", "must be >= 0");
    for (size_t i = 1; i < milestones_.size(); ++i)
      a.require(milestones_[i] > milestones_[i - 1], "milestones", "must be strictly increasing");
  }
  double lr(const Progress& p) const override {
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), counter(p)) - milestones_.begin();
    return lr_ * std::pow(gamma_, static_cast<double>(passed));
  }

 private:
  double lr_;
  std::vector<int64_t> milestones_;
  double gamma_;
};

ANNEAL_REGISTER(ScheduleRegistry, "multistep", MultiStepSchedule);

}  // namespace
}  // namespace anneal
