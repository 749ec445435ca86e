// one_cycle (PyTorch OneCycleLR): the rate rises from max_lr/div_factor to max_lr over the first
// pct_start of total_steps, then anneals to max_lr/(div_factor * final_div_factor); momentum moves
// the opposite way. three_phase mirrors the rise before a final anneal. total_steps defaults to
// the run's epochs x steps per epoch. PyTorch raises past total_steps; here a run longer than
// total_steps is refused when the schedule is built, and a preview past it stays at the final rate.
#include <cmath>
#include <numbers>
#include <vector>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class OneCycleSchedule : public Schedule {
 public:
  OneCycleSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(a, ScheduleUnit::kStep),
        max_lr_(required_rate_attr(a, "max_lr")),
        pct_start_(a.get<double>("pct_start", 0.3)),
        strategy_(a.get<std::string>("anneal_strategy", "cos")),
        div_factor_(positive_number_attr(a, "div_factor", 25.0)),
        final_div_factor_(positive_number_attr(a, "final_div_factor", 1e4)),
        three_phase_(a.get<bool>("three_phase", false)),
        cycle_momentum_(a.get<bool>("cycle_momentum", true)),
        base_momentum_(a.get<double>("base_momentum", 0.85)),
        max_momentum_(a.get<double>("max_momentum", 0.95)) {
    const int64_t run_steps = ctx.epochs * ctx.steps_per_epoch;
    const auto total = a.get_optional<int64_t>("total_steps");
    if (total) {
      a.require(*total >= 1, "total_steps", "must be at least 1");
      a.require(run_steps == 0 || *total >= run_steps, "total_steps",
                "is " + std::to_string(*total) + ", shorter than the run (" + std::to_string(ctx.epochs) + " epochs x " +
                    std::to_string(ctx.steps_per_epoch) + " steps = " + std::to_string(run_steps) + ")");
      total_ = static_cast<double>(*total);
    } else {
      a.require(run_steps > 0, "total_steps", "is needed when the run's length is not known");
      total_ = static_cast<double>(run_steps);
    }
    a.require(pct_start_ >= 0 && pct_start_ <= 1, "pct_start", "must be in [0, 1]");
    a.require(strategy_ == "cos" || strategy_ == "linear", "anneal_strategy", "must be cos or linear");
    a.require(base_momentum_ >= 0 && base_momentum_ <= 1, "base_momentum", "must be in [0, 1]");
    a.require(max_momentum_ >= 0 && max_momentum_ <= 1, "max_momentum", "must be in [0, 1]");
    a.require(!cycle_momentum_ || ctx.optimizer_has_momentum, "cycle_momentum",
              "needs an optimizer with momentum (sgd, or adam's beta_1); set cycle_momentum: false");
    const double initial = max_lr_ / div_factor_, final_lr = initial / final_div_factor_;
    if (three_phase_) {
      phases_ = {{pct_start_ * total_ - 1, initial, max_lr_, max_momentum_, base_momentum_},
                 {2 * pct_start_ * total_ - 2, max_lr_, initial, base_momentum_, max_momentum_},
                 {total_ - 1, initial, final_lr, max_momentum_, max_momentum_}};
    } else {
      phases_ = {{pct_start_ * total_ - 1, initial, max_lr_, max_momentum_, base_momentum_},
                 {total_ - 1, max_lr_, final_lr, base_momentum_, max_momentum_}};
    }
  }

  double lr(const Progress& p) const override { return evaluate(p, false); }
  std::optional<double> momentum(const Progress& p) const override {
    if (!cycle_momentum_) return std::nullopt;
    return evaluate(p, true);
  }

 private:
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };

  double anneal(double start, double end, double pct) const {
    if (strategy_ == "linear") return start + (end - start) * pct;
    return end + (start - end) / 2 * (std::cos(std::numbers::pi * pct) + 1);
  }

  // PyTorch's phase walk: the first phase whose end_step is >= t (the last one otherwise).
  double evaluate(const Progress& p, bool momentum) const {
    const double t = std::min(static_cast<double>(counter(p)), total_ - 1);
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& phase = phases_[i];
      if (t <= phase.end_step || i + 1 == phases_.size()) {
        const double pct = (t - start_step) / (phase.end_step - start_step);
        return momentum ? anneal(phase.start_momentum, phase.end_momentum, pct) : anneal(phase.start_lr, phase.end_lr, pct);
      }
      start_step = phase.end_step;
    }
    return 0;
  }

  double max_lr_, pct_start_;
  std::string strategy_;
  double div_factor_, final_div_factor_;
  bool three_phase_, cycle_momentum_;
  double base_momentum_, max_momentum_, total_ = 0;
  std::vector<Phase> phases_;
};

ANNEAL_REGISTER(ScheduleRegistry, "one_cycle", OneCycleSchedule);

}  // namespace
}  // namespace anneal
