#pragma once
// Large-batch rate scaling (Goyal et al., 2017, "Accurate, Large Minibatch SGD"): when the batch
// grows k-fold, the rate grows by a factor (k for the linear rule, sqrt(k) for the square-root
// rule), reached by a linear warm-up from the unscaled rate so that the first updates of a
// still-random model do not diverge. The scaled rate multiplies whatever the schedule gives.

#include <cstdint>
#include <memory>

#include "anneal/schedule.hpp"

namespace anneal {

// `base` times a factor that rises linearly per update from 1 at update 0 to `factor` at update
// `warmup_steps` and stays there. A null `base` is the optimizer's constant `base_lr`. Momentum,
// metric-driven observation and state are the base schedule's.
std::unique_ptr<Schedule> scaled_schedule(std::unique_ptr<Schedule> base, double base_lr, double factor,
                                          int64_t warmup_steps);

}  // namespace anneal
