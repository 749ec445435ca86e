#pragma once
// A learning-rate schedule is a pure, closed-form function of training progress. Nothing here
// reads or multiplies the optimizer's current rate, so any call order gives the same values and
// resuming at step k is exact. The one exception is the metric-driven kind (reduce_on_plateau):
// it observes each epoch's logs and keeps explicit, saveable state.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/logs.hpp"
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
const char* unit_name(ScheduleUnit unit);

// What a schedule may need from the run when it is built.
struct ScheduleContext {
  double optimizer_lr = 0.01;          // default for `lr` where a schedule has one
  bool optimizer_has_momentum = true;  // momentum schedules need one (SGD momentum, Adam beta_1)
  int64_t epochs = 0;                  // the run's length; 0 when unknown
  int64_t steps_per_epoch = 0;
  std::vector<std::string> log_keys;   // what a metric-driven schedule may monitor; empty: unknown
};

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual double lr(const Progress& p) const = 0;
  // Momentum (or Adam's beta_1) where the schedule drives it. Composites ask their children.
  virtual std::optional<double> momentum(const Progress& p) const;

  ScheduleUnit unit() const { return unit_; }
  // The schedule's own counter t: the step or the epoch, by unit.
  int64_t counter(const Progress& p) const { return unit_ == ScheduleUnit::kStep ? p.step : p.epoch; }
  // p with this schedule's counter moved back by `offset` (what a composite shows a child).
  Progress shifted(const Progress& p, int64_t offset) const;

  // Metric-driven schedules (and composites holding one) observe every epoch's logs and carry
  // state. The defaults forward to the children.
  virtual bool metric_driven() const;
  virtual void observe(const Logs& logs, const Progress& p);
  virtual void save_state(std::vector<double>& out) const;
  virtual void load_state(std::span<const double>& in);
  // What a preview shows: the schedule itself, or for a metric-driven one its base schedule.
  virtual const Schedule& preview() const { return *this; }

 protected:
  // Reads `unit` (step|epoch) with the schedule's default.
  Schedule(AttrMap& attrs, ScheduleUnit default_unit);
  explicit Schedule(ScheduleUnit unit) : unit_(unit) {}
  void set_unit(ScheduleUnit unit) { unit_ = unit; }

  std::vector<std::unique_ptr<Schedule>> children_;

 private:
  ScheduleUnit unit_;
};

using ScheduleRegistry = Registry<Schedule, AttrMap&, const ScheduleContext&>;

// Builds a schedule from a mapping with a `type:` key; checks unconsumed keys.
std::unique_ptr<Schedule> make_schedule(AttrMap attrs, const ScheduleContext& ctx);
// A child schedule given as a mapping under `key` of `parent`.
std::unique_ptr<Schedule> make_child_schedule(AttrMap& parent, const std::string& key, const ScheduleContext& ctx);

// Shared argument checks with the messages every schedule uses.
double rate_attr(AttrMap& a, const std::string& key, double fallback);  // >= 0
double required_rate_attr(AttrMap& a, const std::string& key);          // >= 0, required
int64_t positive_attr(AttrMap& a, const std::string& key);               // >= 1, required
int64_t positive_attr(AttrMap& a, const std::string& key, int64_t fallback);
double positive_number_attr(AttrMap& a, const std::string& key, std::optional<double> fallback = {});  // > 0

// 0.5 * (1 + cos(pi * fraction)): 1 at 0, 0 at 1 (the cosine schedules' shape).
double half_cosine(double fraction);

}  // namespace anneal
