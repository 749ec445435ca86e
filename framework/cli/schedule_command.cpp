// anneal schedule show|plot: the rates a schedule will set, before any training.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "anneal/atomic_file.hpp"
#include "anneal/experiment.hpp"
#include "anneal/svg_plot.hpp"
#include "anneal/trainer.hpp"
#include "distributed.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace {

struct Preview {
  std::string name;
  std::vector<int64_t> epochs, steps;
  std::vector<double> rates, momenta;
  bool has_momentum = false;
  int64_t steps_per_epoch = 1;
};

struct PreviewOptions {
  int64_t epochs = 0, steps_per_epoch = 0;
  std::string model;
  bool per_step = false;
  int64_t memory_limit = 0;
  bool allow_plugins = false;
  LrScaling scaling;  // --ranks with --scale-lr: the rate a data-parallel run will set
};

// The schedule a run would set, with the run's length and its updates per epoch.
struct BuiltSchedule {
  std::unique_ptr<Schedule> schedule;
  int64_t epochs = 0, steps_per_epoch = 0;
};

// Builds the schedule as a run would: with the model (data, optimizer, epochs) when given,
// otherwise from the schedule file alone.
BuiltSchedule build_schedule(const std::string& path, const PreviewOptions& o) {
  ScheduleContext ctx;
  BuiltSchedule b{nullptr, o.epochs, o.steps_per_epoch};
  if (!o.model.empty()) {
    LoadOptions load;
    load.allow_plugins = o.allow_plugins;
    load.schedule_file = path;
    if (b.epochs > 0) load.sets.push_back(flag_override("--epochs", std::to_string(b.epochs), "train.epochs"));
    ModelSpec spec = load_model_spec(o.model, load);
    scale_batch(spec, o.scaling);
    Experiment ex = build_experiment(std::move(spec), true, BuildOptions{o.memory_limit, {}});
    ctx = schedule_context(ex, ex.spec);
    b.schedule = std::move(ex.schedule);
    if (b.epochs == 0) b.epochs = ex.spec.train.epochs;
    if (b.steps_per_epoch == 0) b.steps_per_epoch = ctx.steps_per_epoch;
  } else {
    if (b.epochs <= 0) throw UsageError("schedule: --epochs is required without --model");
    if (b.steps_per_epoch <= 0) b.steps_per_epoch = 1;
    ScheduleFile file = load_schedule_file(path, o.allow_plugins);
    if (file.optimizer) {
      if (auto lr = file.optimizer->get_optional<double>("lr")) ctx.optimizer_lr = *lr;
    }
    ctx.epochs = b.epochs;
    ctx.steps_per_epoch = b.steps_per_epoch;
    b.schedule = make_schedule(file.schedule, ctx);
  }
  // Without a model, --steps-per-epoch is taken as already counting the scaled (global) batch.
  b.schedule = scale_schedule(std::move(b.schedule), ctx.optimizer_lr, b.steps_per_epoch, o.scaling);
  return b;
}

// Rows of the table: one per epoch, or per update. A preview is for reading: refuse a table
// nobody could (and the memory it would take).
int64_t preview_rows(int64_t epochs, int64_t steps_per_epoch, bool per_step) {
  constexpr int64_t kMaxRows = 10'000'000;
  int64_t rows = epochs;
  try {
    checked_mul(epochs, steps_per_epoch);  // the step counter of the last row must fit
    if (per_step) rows = checked_mul(epochs, steps_per_epoch);
  } catch (const SizeOverflow&) {
    throw UsageError("schedule: " + std::to_string(epochs) + " epochs x " + std::to_string(steps_per_epoch) +
                     " steps do not fit 64-bit arithmetic");
  }
  if (rows > kMaxRows)
    throw UsageError("schedule: " + std::to_string(rows) + " rows is more than a preview shows (" + std::to_string(kMaxRows) +
                     "); ask for fewer epochs" + (per_step ? std::string(", or drop --per-step") : std::string()));
  return rows;
}

Preview preview(const std::string& path, const PreviewOptions& o) {
  const BuiltSchedule built = build_schedule(path, o);
  if (built.schedule->metric_driven())
    std::fprintf(stderr, "note: %s is metric-driven; showing its base schedule (reductions depend on the run)\n",
                 path.c_str());
  const Schedule& shown = built.schedule->preview();
  const int64_t steps_per_epoch = built.steps_per_epoch, rows = preview_rows(built.epochs, steps_per_epoch, o.per_step);
  Preview out;
  out.name = std::filesystem::path(path).stem().string();
  out.steps_per_epoch = steps_per_epoch;
  Progress p;
  p.steps_per_epoch = steps_per_epoch;
  p.epochs = built.epochs;
  for (int64_t i = 0; i < rows; ++i) {
    p.step = o.per_step ? i : i * steps_per_epoch;
    p.epoch = o.per_step ? i / steps_per_epoch : i;
    // Shown 1-based, as the progress lines and the history count epochs (and updates).
    out.epochs.push_back(p.epoch + 1);
    out.steps.push_back(p.step + 1);
    const double rate = shown.lr(p);
    if (!std::isfinite(rate) || rate < 0)
      throw InputError(path + ": the schedule gives the rate " + std::to_string(rate) + " at epoch " + std::to_string(p.epoch + 1) +
                       ", update " + std::to_string(p.step + 1) + " (a rate must be a finite number >= 0)");
    out.rates.push_back(rate);
    const auto m = shown.momentum(p);
    out.has_momentum = out.has_momentum || m.has_value();
    out.momenta.push_back(m.value_or(NAN));
  }
  return out;
}

void add_preview_options(po::options_description& options, PreviewOptions& o) {
  options.add_options()
      ("epochs", po::value(&o.epochs), "epochs to show (default: the model's)")
      ("steps-per-epoch", po::value(&o.steps_per_epoch), "updates per epoch (default 1, or the model's)")
      ("model", po::value(&o.model), "model spec: takes epochs, updates per epoch and the optimizer from it")
      ("per-step", po::bool_switch(&o.per_step), "one row per update instead of one per epoch")
      ("ranks", po::value(&o.scaling.ranks)->default_value(1), "with --scale-lr: the MPI ranks of the run to preview");
  add_lr_scaling_options(options);
}

// The --scale-lr options into `o` (after parsing).
void read_scaling(const po::variables_map& vm, PreviewOptions& o) {
  const int ranks = o.scaling.ranks;
  if (ranks < 1) throw UsageError("--ranks must be at least 1");
  o.scaling = lr_scaling(vm);
  o.scaling.ranks = ranks;
}

int show(const Args& args) {
  po::options_description options("schedule show options");
  std::string path, format = "table";
  PreviewOptions o;
  options.add_options()("schedule", po::value(&path)->required(), "schedule spec (YAML)")
      ("format", po::value(&format)->default_value("table"), "table | csv");
  add_preview_options(options, o);
  po::positional_options_description positional;
  positional.add("schedule", 1);
  po::variables_map vm;
  if (!parse(args, "schedule show SCHED.yaml --epochs N [--steps-per-epoch K | --model MODEL.yaml] [--per-step] [--format table|csv]",
             options, positional, vm))
    return kExitOk;
  if (format != "table" && format != "csv") throw UsageError("--format must be table or csv, got '" + format + "'");
  o.memory_limit = memory_limit(vm);
  o.allow_plugins = load_options(vm).allow_plugins;
  read_scaling(vm, o);
  const Preview pv = preview(path, o);
  const bool csv = format == "csv";
  if (csv) std::printf("epoch,step,lr%s\n", pv.has_momentum ? ",momentum" : "");
  else std::printf("%6s %8s %14s%s\n", "epoch", "step", "lr", pv.has_momentum ? "       momentum" : "");
  for (size_t i = 0; i < pv.rates.size(); ++i) {
    if (csv) {
      std::printf("%lld,%lld,%.12g", static_cast<long long>(pv.epochs[i]), static_cast<long long>(pv.steps[i]), pv.rates[i]);
      if (pv.has_momentum) std::printf(",%.12g", pv.momenta[i]);
    } else {
      std::printf("%6lld %8lld %14.8g", static_cast<long long>(pv.epochs[i]), static_cast<long long>(pv.steps[i]), pv.rates[i]);
      if (pv.has_momentum) std::printf(" %14.8g", pv.momenta[i]);
    }
    std::printf("\n");
  }
  return kExitOk;
}

int plot(const Args& args) {
  po::options_description options("schedule plot options");
  std::vector<std::string> paths;
  std::string output;
  PreviewOptions o;
  options.add_options()("schedules", po::value(&paths)->required()->multitoken(), "schedule specs (YAML)")
      ("output,o", po::value(&output)->required(), "SVG file to write");
  add_preview_options(options, o);
  po::positional_options_description positional;
  positional.add("schedules", -1);
  po::variables_map vm;
  if (!parse(args, "schedule plot A.yaml [B.yaml ...] --epochs N [--steps-per-epoch K | --model MODEL.yaml] [--per-step] -o lr.svg",
             options, positional, vm))
    return kExitOk;
  o.memory_limit = memory_limit(vm);
  o.allow_plugins = load_options(vm).allow_plugins;
  read_scaling(vm, o);
  PlotPanel rates{"Learning rate schedule", "epoch", "learning rate", false, false, {}};
  PlotPanel momenta{"Momentum", "epoch", "momentum", false, false, {}};
  for (const auto& path : paths) {
    const Preview pv = preview(path, o);
    const int color = static_cast<int>(rates.series.size());
    PlotSeries s{pv.name, {}, pv.rates, {}, {}, false, color};
    // Per update, x is the fractional epoch, so both views share the lesson's axis.
    for (size_t i = 0; i < pv.rates.size(); ++i)
      s.x.push_back(o.per_step ? 1.0 + static_cast<double>(pv.steps[i] - 1) / static_cast<double>(pv.steps_per_epoch)
                               : static_cast<double>(pv.epochs[i]));
    if (pv.has_momentum) momenta.series.push_back({pv.name, s.x, pv.momenta, {}, {}, false, color});
    rates.series.push_back(std::move(s));
  }
  std::vector<PlotPanel> panels{rates};
  if (!momenta.series.empty()) panels.push_back(momenta);
  write_file_atomically(output, render_svg(panels, 1));
  return kExitOk;
}

}  // namespace

int schedule_command(const Args& args) {
  const std::string usage = "usage: anneal schedule show|plot ... (anneal schedule show --help)";
  if (args.size() < 2) throw UsageError(usage);
  const Args rest(args.begin() + 1, args.end());
  if (args[1] == "show") return show(rest);
  if (args[1] == "plot") return plot(rest);
  if (args[1] == "--help" || args[1] == "-h") {
    std::printf("%s\n", usage.c_str());
    return kExitOk;
  }
  throw UsageError("schedule: unknown action '" + args[1] + "' (" + usage + ")");
}

}  // namespace anneal::cli
