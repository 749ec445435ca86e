// The schedule-spec loader and every schedule it can build: the rates of a short run, as
// `schedule show` computes them (a few epochs and steps, at its edges too).
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = anneal::fuzz::write_input(data, size, ".schedule.yaml");
  return anneal::fuzz::guarded([&] {
    const anneal::ScheduleFile file = anneal::load_schedule_file(path, false);
    anneal::ScheduleContext ctx;
    ctx.epochs = 50;
    ctx.steps_per_epoch = 9;
    ctx.optimizer_lr = 0.1;
    ctx.log_keys = {"loss", "val_loss", "accuracy", "val_accuracy"};
    const auto schedule = anneal::make_schedule(file.schedule, ctx);
    anneal::Progress p;
    p.epochs = ctx.epochs;
    p.steps_per_epoch = ctx.steps_per_epoch;
    for (int64_t step : {int64_t{0}, int64_t{1}, int64_t{8}, int64_t{9}, int64_t{225}, int64_t{449}}) {
      p.step = step;
      p.epoch = step / p.steps_per_epoch;
      (void)schedule->lr(p);
      (void)schedule->momentum(p);
    }
  });
}
