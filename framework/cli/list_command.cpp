#include <cstdio>

#include "anneal/callback.hpp"
#include "anneal/initializer.hpp"
#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/op.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/schedule.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {
// "name", or "name  (plugin: path)" for what a plugin registered.
template <class R>
std::vector<std::string> names_of() {
  std::vector<std::string> out;
  for (const auto& [name, entry] : R::instance().entries())
    out.push_back(entry.origin == "built-in" ? name : name + "  (plugin: " + entry.origin + ")");
  return out;
}
}  // namespace

int list_command(const Args& args) {
  po::options_description options("list options");
  std::string what;
  options.add_options()("what", po::value(&what)->required(),
                        "ops | schedules | optimizers | initializers | losses | metrics | callbacks");
  po::positional_options_description positional;
  positional.add("what", 1);
  po::variables_map vm;
  if (!parse(args, "list ops|schedules|optimizers|initializers|losses|metrics|callbacks [--plugin LIB.so]", options, positional, vm))
    return kExitOk;

  const std::pair<const char*, std::vector<std::string> (*)()> kinds[] = {
      {"ops", names_of<OpRegistry>},
      {"schedules", names_of<ScheduleRegistry>},
      {"optimizers", names_of<OptimizerRegistry>},
      {"initializers", names_of<InitializerRegistry>},
      {"losses", names_of<LossRegistry>},
      {"metrics", names_of<MetricRegistry>},
      {"callbacks", names_of<CallbackRegistry>},
  };
  std::vector<std::string> known;
  for (const auto& [kind, names] : kinds) {
    known.push_back(kind);
    if (what != kind) continue;
    for (const auto& name : names()) std::printf("%s\n", name.c_str());
    return kExitOk;
  }
  throw UsageError("list: unknown kind '" + what + "' (" + suggest_known(what, known) + ")");
}

}  // namespace anneal::cli
