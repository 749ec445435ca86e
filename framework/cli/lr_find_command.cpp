// anneal lr-find: the learning-rate range test, with a suggested rate and a plot.
#include <cstdio>

#include "anneal/atomic_file.hpp"
#include "anneal/lr_finder.hpp"
#include "anneal/svg_plot.hpp"
#include "options.hpp"

namespace anneal::cli {

int lr_find_command(const Args& args) {
  po::options_description options("lr-find options");
  std::string model, schedule, output = "lr_find.svg";
  LrFinderOptions o;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("start", po::value(&o.start)->default_value(1e-7), "first learning rate")
      ("end", po::value(&o.end)->default_value(10.0), "last learning rate")
      ("steps", po::value(&o.steps)->default_value(100), "number of updates")
      ("schedule", po::value(&schedule), "schedule file whose optimizer: fields (momentum) to use")
      ("set", set_option(), kSetHelp)
      ("output,o", po::value(&output)->default_value("lr_find.svg"), "SVG plot of loss against rate");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "lr-find MODEL [--start 1e-7] [--end 10] [--steps 100] [-o lr_find.svg]", options, positional, vm))
    return kExitOk;
  if (!(o.start > 0 && o.end > o.start)) throw UsageError("lr-find: need 0 < --start < --end");
  if (o.steps < 10) throw UsageError("lr-find: --steps must be at least 10");
  LoadOptions load = load_options(vm);
  if (vm.count("schedule")) load.schedule_file = schedule;
  Experiment ex = build_experiment(load_model_spec(model, load), true, build_options(vm));
  ex.schedule.reset();  // the range test sets the rate itself
  const LrFinderResult r = find_learning_rate(ex, o);

  std::printf("range test: %zu updates from %g to %g%s\n", r.rates.size(), o.start, r.rates.empty() ? 0.0 : r.rates.back(),
              r.diverged ? " (stopped: the smoothed loss passed 4x its best)" : "");
  std::printf("suggested learning rate: %.3g (steepest descent of the smoothed loss)\n", r.suggested);
  std::printf("minimum smoothed loss at lr %.3g (a tenth of it: %.3g)\n", r.minimum, r.minimum / 10);

  PlotPanel panel{"Learning-rate range test", "learning rate (log scale)", "smoothed loss", true, false, {}};
  panel.series.push_back({"smoothed loss", r.rates, r.smoothed, {}, {}, false, 0});
  double lo = INFINITY, hi = -INFINITY;
  for (double v : r.smoothed) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  char label[64];
  std::snprintf(label, sizeof label, "suggested %.3g", r.suggested);
  panel.series.push_back({label, {r.suggested, r.suggested}, {lo, hi}, {}, {}, true, 3});
  write_file_atomically(output, render_svg({panel}));
  std::printf("plot: %s\n", output.c_str());
  return kExitOk;
}

}  // namespace anneal::cli
