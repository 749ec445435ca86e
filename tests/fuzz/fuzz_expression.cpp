// The expression schedule: the input is the formula.
#include "anneal/schedule.hpp"
#include "anneal/spec.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string formula(reinterpret_cast<const char*>(data), size);
  for (char& c : formula)
    if (c == '\n' || c == '\r' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  const std::string text = "version: 1\nschedule: {type: expression, formula: \"" + formula + "\"}\n";
  const std::string path = anneal::fuzz::write_input(reinterpret_cast<const uint8_t*>(text.data()), text.size(), ".expr.yaml");
  return anneal::fuzz::guarded([&] {
    const anneal::ScheduleFile file = anneal::load_schedule_file(path, false);
    anneal::ScheduleContext ctx;
    ctx.epochs = 20;
    ctx.steps_per_epoch = 5;
    ctx.optimizer_lr = 0.1;
    const auto schedule = anneal::make_schedule(file.schedule, ctx);
    anneal::Progress p;
    p.epochs = 20;
    p.steps_per_epoch = 5;
    for (int64_t step = 0; step < 100; step += 7) {
      p.step = step;
      p.epoch = step / 5;
      (void)schedule->lr(p);
    }
  });
}
