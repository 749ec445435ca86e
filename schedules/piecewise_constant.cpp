// piecewise_constant (Keras PiecewiseConstantDecay): values[0] while t <= boundaries[0],
// values[i] while boundaries[i-1] < t <= boundaries[i], values[-1] after the last boundary. The
// old value is kept AT a boundary.
#include <algorithm>

#include "anneal/schedule.hpp"

namespace anneal {
namespace {

class PiecewiseConstantSchedule : public Schedule {
 public:
  PiecewiseConstantSchedule(AttrMap& a, const ScheduleContext&)
      : Schedule(a, ScheduleUnit::kStep),
        boundaries_(a.get<std::vector<double>>("boundaries")),
        values_(a.get<std::vector<double>>("values")) {
    a.require(values_.size() == boundaries_.size() + 1, "values",
              "must have one more entry than boundaries (" + std::to_string(boundaries_.size()) + " boundaries, " +
                  std::to_string(values_.size()) + " values)");
    for (size_t i = 1; i < boundaries_.size(); ++i)
      a.require(boundaries_[i] > boundaries_[i - 1], "boundaries", "must be strictly increasing");
    for (double v : values_) a.require(v >= 0, "values", "must be >= 0");
  }
  double lr(const Progress& p) const override {
    const auto t = static_cast<double>(counter(p));
    // The first boundary that is >= t selects the value; none selects the last.
    const auto index = std::lower_bound(boundaries_.begin(), boundaries_.end(), t) - boundaries_.begin();
    return values_[static_cast<size_t>(index)];
  }

 private:
  std::vector<double> boundaries_, values_;
};

ANNEAL_REGISTER(ScheduleRegistry, "piecewise_constant", PiecewiseConstantSchedule);

}  // namespace
}  // namespace anneal
