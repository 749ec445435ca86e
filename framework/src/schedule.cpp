#include "anneal/schedule.hpp"

#include <cmath>
#include <numbers>

#include "anneal/spec.hpp"

namespace anneal {

double half_cosine(double fraction) { return 0.5 * (1.0 + std::cos(std::numbers::pi * fraction)); }

const char* unit_name(ScheduleUnit unit) { return unit == ScheduleUnit::kStep ? "step" : "epoch"; }

Schedule::Schedule(AttrMap& attrs, ScheduleUnit default_unit) : unit_(default_unit) {
  const auto unit = attrs.get<std::string>("unit", unit_name(default_unit));
  attrs.require(unit == "step" || unit == "epoch", "unit", "must be step or epoch");
  unit_ = unit == "step" ? ScheduleUnit::kStep : ScheduleUnit::kEpoch;
}

std::optional<double> Schedule::momentum(const Progress& p) const {
  for (const auto& child : children_)
    if (auto m = child->momentum(p)) return m;
  return std::nullopt;
}

Progress Schedule::shifted(const Progress& p, int64_t offset) const {
  Progress out = p;
  (unit_ == ScheduleUnit::kStep ? out.step : out.epoch) -= offset;
  return out;
}

bool Schedule::metric_driven() const {
  for (const auto& child : children_)
    if (child->metric_driven()) return true;
  return false;
}

void Schedule::observe(const Logs& logs, const Progress& p) {
  for (auto& child : children_) child->observe(logs, p);
}

void Schedule::save_state(std::vector<double>& out) const {
  for (const auto& child : children_) child->save_state(out);
}

void Schedule::load_state(std::span<const double>& in) {
  for (auto& child : children_) child->load_state(in);
}

std::unique_ptr<Schedule> make_schedule(AttrMap attrs, const ScheduleContext& ctx) {
  return create_from<ScheduleRegistry>(attrs, "schedule", ctx);
}

std::unique_ptr<Schedule> make_child_schedule(AttrMap& parent, const std::string& key, const ScheduleContext& ctx) {
  const YAML::Node node = parent.raw(key);
  if (!node.IsDefined() || node.IsNull()) parent.fail_here("missing required key '" + key + "' (a schedule)");
  return make_schedule(typed_attrs(node, parent.origin(), parent.child_path(key), parent.what() + ": " + key), ctx);
}

double rate_attr(AttrMap& a, const std::string& key, double fallback) {
  const double value = a.get<double>(key, fallback);
  a.require(value >= 0, key, "must be >= 0");
  return value;
}

double required_rate_attr(AttrMap& a, const std::string& key) {
  const double value = a.get<double>(key);
  a.require(value >= 0, key, "must be >= 0");
  return value;
}

int64_t positive_attr(AttrMap& a, const std::string& key) {
  const int64_t value = a.get<int64_t>(key);
  a.require(value >= 1, key, "must be at least 1");
  return value;
}

int64_t positive_attr(AttrMap& a, const std::string& key, int64_t fallback) {
  const int64_t value = a.get<int64_t>(key, fallback);
  a.require(value >= 1, key, "must be at least 1");
  return value;
}

double positive_number_attr(AttrMap& a, const std::string& key, std::optional<double> fallback) {
  const double value = fallback ? a.get<double>(key, *fallback) : a.get<double>(key);
  a.require(value > 0, key, "must be > 0");
  return value;
}

}  // namespace anneal
