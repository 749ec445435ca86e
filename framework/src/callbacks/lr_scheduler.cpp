// Applies a registered schedule: before every update (unit step) or at each epoch start
// (unit epoch), the optimizer's rate (and momentum, where the schedule drives it) is set from
// the schedule's closed form. Nothing is read back from the optimizer, so resume is exact.
#include "anneal/callbacks.hpp"

namespace anneal {

LrScheduler::LrScheduler(std::unique_ptr<Schedule> schedule) : schedule_(std::move(schedule)) {}

LrScheduler::LrScheduler(AttrMap& a, const ScheduleContext& ctx)
    : LrScheduler(make_schedule(a.child("schedule"), ctx)) {}

void LrScheduler::apply(TrainingContext& ctx) {
  ctx.set_lr(schedule_->lr(ctx.progress()));
  if (auto m = schedule_->momentum(ctx.progress())) ctx.set_momentum(*m);
}

void LrScheduler::on_epoch_begin(TrainingContext& ctx) {
  if (schedule_->unit() == ScheduleUnit::kEpoch) apply(ctx);
}

void LrScheduler::on_batch_begin(TrainingContext& ctx) {
  if (schedule_->unit() == ScheduleUnit::kStep) apply(ctx);
}

ANNEAL_REGISTER(CallbackRegistry, "lr_scheduler", LrScheduler);

}  // namespace anneal
