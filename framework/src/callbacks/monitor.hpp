#pragma once
// The "is this value better?" rule shared by early stopping and model checkpoints (Keras):
// mode min, max, or auto (max when the monitored name contains "acc", min otherwise).

#include <cmath>
#include <limits>
#include <string>

#include "anneal/attr_map.hpp"
#include "anneal/schedule.hpp"

namespace anneal {

class Monitor {
 public:
  Monitor(AttrMap& a, const ScheduleContext& ctx, double default_min_delta)
      : key_(a.get<std::string>("monitor", "val_loss")), min_delta_(std::abs(a.get<double>("min_delta", default_min_delta))) {
    const auto mode = a.get<std::string>("mode", "auto");
    a.require(mode == "auto" || mode == "min" || mode == "max", "mode", "must be auto, min or max");
    maximize_ = mode == "max" || (mode == "auto" && key_.find("acc") != std::string::npos);
    if (!ctx.log_keys.empty()) {
      std::string list;
      bool known = false;
      for (const auto& k : ctx.log_keys) {
        known = known || k == key_;
        list += (list.empty() ? "" : ", ") + k;
      }
      a.require(known, "monitor", "is '" + key_ + "', which this run does not log (it logs " + list + ")");
    }
  }
  const std::string& key() const { return key_; }
  double worst() const { return maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity(); }
  // Strictly better than `best` by more than min_delta.
  bool better(double current, double best) const {
    return maximize_ ? current - min_delta_ > best : current + min_delta_ < best;
  }

 private:
  std::string key_;
  double min_delta_;
  bool maximize_ = false;
};

}  // namespace anneal
