#include "anneal/schedule.hpp"

#include "anneal/spec.hpp"

namespace anneal {

Schedule::Schedule(AttrMap& attrs, ScheduleUnit default_unit) : unit_(default_unit) {
  const auto unit = attrs.get<std::string>("unit", default_unit == ScheduleUnit::kStep ? "step" : "epoch");
  attrs.require(unit == "step" || unit == "epoch", "unit", "must be step or epoch");
  unit_ = unit == "step" ? ScheduleUnit::kStep : ScheduleUnit::kEpoch;
}

std::unique_ptr<Schedule> make_schedule(AttrMap attrs, const ScheduleContext& ctx) {
  return create_from<ScheduleRegistry>(attrs, "schedule", ctx);
}

}  // namespace anneal
