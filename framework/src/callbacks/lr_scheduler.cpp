// Applies a registered schedule: before every update (unit step) or at each epoch start
// (unit epoch), the optimizer's rate (and momentum, where the schedule drives it) is set from
// the schedule's closed form. Nothing is read back from the optimizer, so resume is exact.
#include <cmath>
#include <string>

#include "anneal/callbacks.hpp"
#include "anneal/errors.hpp"

namespace anneal {

LrScheduler::LrScheduler(std::unique_ptr<Schedule> schedule) : schedule_(std::move(schedule)) {}

LrScheduler::LrScheduler(AttrMap& a, const ScheduleContext& ctx)
    : LrScheduler(make_schedule(a.child("schedule"), ctx)) {}

void LrScheduler::apply(TrainingContext& ctx) {
  const double lr = schedule_->lr(ctx.progress());
  // A formula or a plugin can produce anything; a negative or non-finite rate stops the run
  // rather than silently training with it.
  if (!std::isfinite(lr) || lr < 0)
    // Numbered from 1, as the progress lines, the history and `schedule show` number them.
    throw RuntimeFailure("the schedule gave learning rate " + std::to_string(lr) + " at epoch " +
                         std::to_string(ctx.progress().epoch + 1) + ", update " + std::to_string(ctx.progress().step + 1));
  ctx.set_lr(lr);
  if (auto m = schedule_->momentum(ctx.progress())) ctx.set_momentum(*m);
}

void LrScheduler::on_epoch_end(TrainingContext& ctx, Logs& logs) {
  if (schedule_->metric_driven()) schedule_->observe(logs, ctx.progress());
}

void LrScheduler::on_epoch_begin(TrainingContext& ctx) {
  if (schedule_->unit() == ScheduleUnit::kEpoch) apply(ctx);
}

void LrScheduler::on_batch_begin(TrainingContext& ctx) {
  if (schedule_->unit() == ScheduleUnit::kStep) apply(ctx);
}

ANNEAL_REGISTER(CallbackRegistry, "lr_scheduler", LrScheduler);

}  // namespace anneal
