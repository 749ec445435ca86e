// cyclic (PyTorch CyclicLR): triangular cycles between base_lr and max_lr, up for step_size_up
// updates and down for step_size_down. triangular2 halves the amplitude every cycle; exp_range
// scales it by gamma^t. With cycle_momentum, momentum (or Adam's beta_1) moves the opposite way,
// between max_momentum and base_momentum.
#include <cmath>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class CyclicSchedule : public Schedule {
 public:
  CyclicSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        base_lr_(required_rate_attr(a, "base_lr")),
        max_lr_(required_rate_attr(a, "max_lr")),
        up_(static_cast<double>(positive_attr(a, "step_size_up", 2000))),
        down_(static_cast<double>(positive_attr(a, "step_size_down", static_cast<int64_t>(up_)))),
        mode_(a.get<std::string>("mode", "triangular")),
        gamma_(positive_number_attr(a, "gamma", 1.0)),
        cycle_momentum_(a.get<bool>("cycle_momentum", true)),
        base_momentum_(a.get<double>("base_momentum", 0.8)),
        max_momentum_(a.get<double>("max_momentum", 0.9)) {
    a.require(mode_ == "triangular" || mode_ == "triangular2" || mode_ == "exp_range", "mode",
              "must be triangular, triangular2 or exp_range");
    a.require(base_momentum_ >= 0 && base_momentum_ <= 1, "base_momentum", "must be in [0, 1]");
    a.require(max_momentum_ >= 0 && max_momentum_ <= 1, "max_momentum", "must be in [0, 1]");
    a.require(!cycle_momentum_ || ctx.optimizer_has_momentum, "cycle_momentum",
              "needs an optimizer with momentum (sgd, or adam's beta_1); set cycle_momentum: false");
  }

  double lr(const Progress& p) const override {
    const Shape s = shape(p);
    return base_lr_ + (max_lr_ - base_lr_) * s.height;
  }
  std::optional<double> momentum(const Progress& p) const override {
    if (!cycle_momentum_) return std::nullopt;
    return max_momentum_ - (max_momentum_ - base_momentum_) * shape(p).height;
  }

 private:
  struct Shape {
    double height;  // 0 at base, 1 at the peak of an unscaled cycle
  };
  Shape shape(const Progress& p) const {
    const double t = static_cast<double>(counter(p));
    const double total = up_ + down_;
    const double cycle = std::floor(1 + t / total);
    const double x = 1 + t / total - cycle;
    const double ratio = up_ / total;
    const double factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double scale = 1;
    if (mode_ == "triangular2") scale = 1 / std::pow(2.0, cycle - 1);
    else if (mode_ == "exp_range") scale = std::pow(gamma_, t);
    return {factor * scale};
  }

  double base_lr_, max_lr_, up_, down_;
  std::string mode_;
  double gamma_;
  bool cycle_momentum_;
  double base_momentum_, max_momentum_;
};

ANNEAL_REGISTER(ScheduleRegistry, "cyclic", CyclicSchedule);

}  // namespace
}  // namespace anneal
