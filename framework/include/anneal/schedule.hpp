#pragma once
// A learning-rate schedule is a pure, closed-form function of training progress. Nothing here
// reads or multiplies the optimizer's current rate, so any call order gives the same values and
// resuming at step k is exact.

#include <cstdint>
#include <optional>
#include <string>

#include "anneal/attr_map.hpp"
#include "anneal/registry.hpp"

namespace anneal {

struct Progress {
  int64_t step = 0;             // optimizer updates done before this one (0-based)
  int64_t epoch = 0;            // 0-based epoch index
  int64_t steps_per_epoch = 1;
  int64_t epochs = 1;
  int64_t total_steps() const { return steps_per_epoch * epochs; }
};

enum class ScheduleUnit { kStep, kEpoch };

// What a schedule may need from the run when it is built.
struct ScheduleContext {
  double optimizer_lr = 0.01;  // default for `lr` where a schedule has one
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double lr(const Progress& p) const = 0;
  // Momentum (or Adam's beta_1) where the schedule drives it.
  virtual std::optional<double> momentum(const Progress& /*p*/) const { return std::nullopt; }
  ScheduleUnit unit() const { return unit_; }
  // The schedule's own counter t: the step or the epoch, by unit.
  int64_t counter(const Progress& p) const {
    return unit_ == ScheduleUnit::kStep ? p.step : p.epoch;
  }

 protected:
  // Reads `unit` (step|epoch) with the schedule's default.
  Schedule(AttrMap& attrs, ScheduleUnit default_unit);

 private:
  ScheduleUnit unit_;
};

using ScheduleRegistry = Registry<Schedule, AttrMap&, const ScheduleContext&>;

// Builds a schedule from a mapping with a `type:` key; checks unconsumed keys.
std::unique_ptr<Schedule> make_schedule(AttrMap attrs, const ScheduleContext& ctx);

}  // namespace anneal
