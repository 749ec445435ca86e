// warmup: ramps from start_lr to then(0) over `steps` (linear, exponential or constant), then
// runs the `then` schedule from its own step 0: then(t - steps). The warm-up counts in its
// child's unit.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class WarmupSchedule : public Schedule {
 public:
  WarmupSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(ScheduleUnit::kStep),
        steps_(positive_attr(a, "steps")),
        start_lr_(rate_attr(a, "start_lr", 0.0)),
        shape_(a.get<std::string>("shape", "linear")) {
    a.require(shape_ == "linear" || shape_ == "exponential" || shape_ == "constant", "shape",
              "must be linear, exponential or constant");
    a.require(shape_ != "exponential" || start_lr_ > 0, "start_lr", "must be > 0 for an exponential warm-up");
    children_.push_back(make_child_schedule(a, "then", ctx));
    set_unit(then().unit());
    if (const auto given = a.get_optional<std::string>("unit"))
      a.require(*given == unit_name(unit()), "unit",
                "must match the 'then' schedule's unit (" + std::string(unit_name(unit())) +
                    "); a warm-up counts in its child's unit");
  }

  double lr(const Progress& p) const override {
    const int64_t t = counter(p);
    if (t >= steps_) return then().lr(shifted(p, steps_));
    const double target = then().lr(shifted(p, t));  // then(0)
    const double fraction = static_cast<double>(t) / static_cast<double>(steps_);
    if (shape_ == "constant") return start_lr_;
    if (shape_ == "exponential") return start_lr_ * std::pow(target / start_lr_, fraction);
    return start_lr_ + (target - start_lr_) * fraction;
  }
  std::optional<double> momentum(const Progress& p) const override {
    const int64_t t = counter(p);
    return then().momentum(shifted(p, t >= steps_ ? steps_ : t));
  }

 private:
  const Schedule& then() const { return *children_.front(); }
  int64_t steps_;
  double start_lr_;
  std::string shape_;
};

ANNEAL_REGISTER(ScheduleRegistry, "warmup", WarmupSchedule);

}  // namespace
}  // namespace anneal
