// terminate_on_nan (on by default): a loss that is NaN or infinite ends the run as a failure,
// naming the batch, instead of training on garbage.
#include <cmath>
#include <string>

#include "anneal/callbacks.hpp"

namespace anneal {

TerminateOnNan::TerminateOnNan(AttrMap&, const ScheduleContext&) {}

void TerminateOnNan::on_batch_end(TrainingContext& ctx, double loss) {
  if (std::isfinite(loss)) return;
  ctx.fail("Batch " + std::to_string(ctx.batch_in_epoch) + " of epoch " + std::to_string(ctx.progress().epoch + 1) +
           " (update " + std::to_string(ctx.progress().step) + "): invalid loss " + std::to_string(loss) +
           ", terminating training (try a lower learning rate)");
}

ANNEAL_REGISTER(CallbackRegistry, "terminate_on_nan", TerminateOnNan);

}  // namespace anneal
