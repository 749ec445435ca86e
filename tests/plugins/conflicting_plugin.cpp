// Registers a name that is already built in.
#include <anneal/plugin.hpp>

namespace {
class Dummy : public anneal::Schedule {
 public:
  Dummy(anneal::AttrMap& a, const anneal::ScheduleContext&) : Schedule(a, anneal::ScheduleUnit::kEpoch) {}
  double lr(const anneal::Progress&) const override { return 0; }
};
}  // namespace

ANNEAL_PLUGIN(registrar) { registrar.schedule<Dummy>("step_decay"); }
