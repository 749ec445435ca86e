// reduce_on_plateau: the metric-driven schedule. At each epoch end it watches `monitor`; after
// `patience` epochs without improvement it multiplies its scale by `factor`, and the rate is
// base(t) * scale, never reduced below min_lr. The base is any schedule (default: constant at the
// optimizer's rate), which PyTorch's composites cannot combine with a plateau.
//
// convention keras (default): reduce when wait >= patience; cooldown counted down before the
//   improvement check; reduce only while the rate is above min_lr.
// convention pytorch: reduce when bad epochs > patience (one epoch later); cooldown counted
//   after the check; skip reductions smaller than 1e-8.
#include <cmath>
#include <limits>

#include "anneal/errors.hpp"
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"

namespace anneal {
namespace {

class ReduceOnPlateauSchedule : public Schedule {
 public:
  ReduceOnPlateauSchedule(AttrMap& a, const ScheduleContext& ctx)
      : Schedule(ScheduleUnit::kEpoch),
        monitor_(a.get<std::string>("monitor", "val_loss")),
        factor_(a.get<double>("factor", 0.1)),
        patience_(a.get<int64_t>("patience", 10)),
        min_delta_(a.get<double>("min_delta", 1e-4)),
        cooldown_(a.get<int64_t>("cooldown", 0)),
        min_lr_(rate_attr(a, "min_lr", 0.0)) {
    const auto mode = a.get<std::string>("mode", "auto");
    a.require(mode == "auto" || mode == "min" || mode == "max", "mode", "must be auto, min or max");
    // Keras' auto: 'acc' in the name means higher is better.
    maximize_ = mode == "max" || (mode == "auto" && monitor_.find("acc") != std::string::npos);
    const auto threshold_mode = a.get<std::string>("threshold_mode", "abs");
    a.require(threshold_mode == "abs" || threshold_mode == "rel", "threshold_mode", "must be abs or rel");
    relative_ = threshold_mode == "rel";
    const auto convention = a.get<std::string>("convention", "keras");
    a.require(convention == "keras" || convention == "pytorch", "convention", "must be keras or pytorch");
    pytorch_ = convention == "pytorch";
    a.require(factor_ > 0 && factor_ < 1, "factor", "must be in (0, 1)");
    a.require(patience_ >= 0, "patience", "must be >= 0");
    a.require(min_delta_ >= 0, "min_delta", "must be >= 0");
    a.require(cooldown_ >= 0, "cooldown", "must be >= 0");
    if (!ctx.log_keys.empty()) {
      bool known = false;
      std::string list;
      for (const auto& key : ctx.log_keys) {
        known = known || key == monitor_;
        list += (list.empty() ? "" : ", ") + key;
      }
      a.require(known, "monitor", "is '" + monitor_ + "', which this run does not log (it logs " + list + ")");
    }
    if (a.has("base")) {
      children_.push_back(make_child_schedule(a, "base", ctx));
    } else {
      AttrMap constant = typed_attrs(YAML::Node("constant"), a.origin(), a.child_path("base"), a.what() + ": base");
      children_.push_back(make_schedule(constant, ctx));
    }
    set_unit(base().unit());
    reset();
  }

  double lr(const Progress& p) const override {
    const double b = base().lr(p);
    return std::max(b * scale_, std::min(b, min_lr_));
  }

  bool metric_driven() const override { return true; }
  const Schedule& preview() const override { return base().preview(); }

  void observe(const Logs& logs, const Progress& p) override {
    if (!logs.has(monitor_))
      throw RuntimeFailure("reduce_on_plateau: monitor '" + monitor_ + "' is not in this epoch's logs");
    const double current = logs.get(monitor_, 0);
    const double rate = lr(p);
    if (pytorch_) observe_pytorch(current, rate);
    else observe_keras(current, rate);
  }

  void save_state(std::vector<double>& out) const override {
    out.insert(out.end(), {best_, static_cast<double>(wait_), static_cast<double>(cooldown_counter_), scale_});
    Schedule::save_state(out);
  }
  void load_state(std::span<const double>& in) override {
    if (in.size() < 4) throw InputError("reduce_on_plateau: saved state is too short");
    best_ = in[0];
    wait_ = static_cast<int64_t>(in[1]);
    cooldown_counter_ = static_cast<int64_t>(in[2]);
    scale_ = in[3];
    in = in.subspan(4);
    Schedule::load_state(in);
  }

 private:
  const Schedule& base() const { return *children_.front(); }

  void reset() {
    best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    wait_ = cooldown_counter_ = 0;
    scale_ = 1.0;
  }

  bool improved(double current) const {
    if (std::isinf(best_)) return std::isfinite(current);
    if (maximize_) return relative_ ? current > best_ * (1 + min_delta_) : current > best_ + min_delta_;
    return relative_ ? current < best_ * (1 - min_delta_) : current < best_ - min_delta_;
  }

  void observe_keras(double current, double rate) {
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    if (improved(current)) {
      best_ = current;
      wait_ = 0;
    } else if (cooldown_counter_ == 0) {
      if (++wait_ >= patience_ && rate > min_lr_) {
        scale_ *= factor_;
        cooldown_counter_ = cooldown_;
        wait_ = 0;
      }
    }
  }

  void observe_pytorch(double current, double rate) {
    if (improved(current)) {
      best_ = current;
      wait_ = 0;
    } else {
      ++wait_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    if (wait_ > patience_) {
      if (rate - std::max(rate * factor_, min_lr_) > 1e-8) scale_ *= factor_;
      cooldown_counter_ = cooldown_;
      wait_ = 0;
    }
  }

  std::string monitor_;
  double factor_;
  int64_t patience_;
  double min_delta_;
  int64_t cooldown_;
  double min_lr_;
  bool maximize_ = false, relative_ = false, pytorch_ = false;
  double best_ = 0;
  int64_t wait_ = 0, cooldown_counter_ = 0;
  double scale_ = 1;
};

ANNEAL_REGISTER(ScheduleRegistry, "reduce_on_plateau", ReduceOnPlateauSchedule);

}  // namespace
}  // namespace anneal
