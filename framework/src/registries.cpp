// The one instance of each registry. Defining instance() here, rather than inline in the header,
// keeps a plugin (or anything else linking libanneal) from growing a private copy of a table.
#include "anneal/callback.hpp"
#include "anneal/initializer.hpp"
#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/op.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/registry.hpp"
#include "anneal/schedule.hpp"

namespace anneal {

template <class Base, class... Args>
Registry<Base, Args...>& Registry<Base, Args...>::instance() {
  static Registry registry;
  return registry;
}

template class Registry<Op, AttrMap&>;
template class Registry<Initializer, AttrMap&>;
template class Registry<Loss, AttrMap&>;
template class Registry<Metric, AttrMap&>;
template class Registry<Optimizer, AttrMap&>;
template class Registry<Schedule, AttrMap&, const ScheduleContext&>;
template class Registry<Callback, AttrMap&, const ScheduleContext&>;

std::vector<std::string> builtin_registration_conflicts() {
  std::vector<std::string> out;
  auto collect = [&out](const char* kind, const std::vector<std::string>& names) {
    for (const auto& n : names) out.push_back(std::string(kind) + " '" + n.substr(0, n.find(' ')) + "'" + n.substr(n.find(' ')));
  };
  collect("op", OpRegistry::instance().builtin_conflicts());
  collect("initializer", InitializerRegistry::instance().builtin_conflicts());
  collect("loss", LossRegistry::instance().builtin_conflicts());
  collect("metric", MetricRegistry::instance().builtin_conflicts());
  collect("optimizer", OptimizerRegistry::instance().builtin_conflicts());
  collect("schedule", ScheduleRegistry::instance().builtin_conflicts());
  collect("callback", CallbackRegistry::instance().builtin_conflicts());
  return out;
}

}  // namespace anneal
