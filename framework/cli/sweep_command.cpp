// anneal sweep: every schedule x seed as its own `anneal train` process (up to --jobs at once),
// then a comparison table (Markdown, CSV and JSON) with the evidence for each difference — a
// bootstrap interval of each mean, and against a baseline schedule the paired mean difference
// with its interval and a Wilcoxon signed-rank p-value, Holm-corrected — and a plot of the mean
// per epoch with a min-max band. A run that fails is reported and does not stop the others.
#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "anneal/atomic_file.hpp"
#include "anneal/history_plot.hpp"
#include "anneal/json_text.hpp"
#include "anneal/registry.hpp"
#include "anneal/stats.hpp"
#include "anneal/svg_plot.hpp"
#include "anneal/trainer.hpp"
#include "anneal/work_queue.hpp"
#include "options.hpp"
#include "distributed.hpp"
#include "processes.hpp"

namespace anneal::cli {
namespace fs = std::filesystem;
namespace {

struct Run {
  std::string schedule, name;
  uint64_t seed = 0;
  std::string history, log;
  double wall_s = 0;
  History result;
  std::string error;
};

// snprintf into a string, for the table's cells.
template <class... Values>
std::string cell(const char* format, Values... values) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, format, values...);
  return buffer;
}

std::string pm(const Summary& s) { return cell("%.4f ± %.4f", s.mean, s.stddev); }
std::string fixed(double v) { return cell("%.4f", v); }

// A finished run's history (or why it has none).
void finish(Run& r, const ChildExit& exit) {
  r.wall_s = exit.wall_s;
  if (exit.exit_code != 0) {
    r.error = "exit " + std::to_string(exit.exit_code) + ": " + last_line(r.log);
    return;
  }
  try {
    r.result = read_history_csv(r.history);
  } catch (const Error& e) {
    r.error = e.what();
  }
}

// Starts every run, at most `jobs` at once here, or over the session's ranks one at a time per
// rank; collects each one's history or error. Over ranks, a run's history and log come back to
// rank 0 in its result, so the ranks need not share the output folder.
void run_all(std::vector<Run>& runs, int jobs, DistributedSession* session,
             const std::function<std::vector<std::string>(const Run&)>& argv_of) {
  std::vector<ChildProcess> children;
  for (const auto& r : runs) children.push_back({argv_of(r), r.log});
  if (!session) {
    run_children(children, jobs, [&](size_t i, const ChildExit& exit) { finish(runs[i], exit); });
    return;
  }
  share_tasks(
      &session->comm(), children.size(),
      [&](size_t i) {
        ChildExit exit;
        run_children({children[i]}, 1, [&](size_t, const ChildExit& e) { exit = e; });
        return pack_fields({std::to_string(exit.exit_code), cell("%.17g", exit.wall_s), file_text(runs[i].history),
                            file_text(runs[i].log)});
      },
      [&](size_t i, const std::string& bytes) {
        const auto fields = unpack_fields(bytes);
        if (fields.size() != 4) throw RuntimeFailure("a sweep run's result message is damaged");
        if (!fields[2].empty()) write_file_atomically(runs[i].history, fields[2]);
        write_file_atomically(runs[i].log, fields[3]);
        finish(runs[i], ChildExit{std::stoi(fields[0]), std::stod(fields[1])});
      });
}

// One schedule's results: final and best metric per seed, the final val_loss, the wall time, and
// the mean per epoch for the plot.
struct ScheduleResults {
  std::string name;
  std::map<uint64_t, double> final_by_seed;
  std::vector<double> finals, bests, losses, walls;
  std::vector<std::vector<double>> per_epoch;
  int failed = 0;
};

ScheduleResults collect(const std::vector<Run>& runs, const std::string& schedule, const std::string& metric,
                        std::vector<std::string>& failures) {
  ScheduleResults out;
  out.name = fs::path(schedule).stem().string();
  for (const auto& r : runs) {
    if (r.schedule != schedule) continue;
    if (!r.error.empty() || r.result.epochs.empty() || !r.result.epochs.back().logs.has(metric)) {
      ++out.failed;
      failures.push_back(r.name + " seed " + std::to_string(r.seed) + ": " +
                         (r.error.empty() ? "no '" + metric + "' in its history" : r.error));
      continue;
    }
    double best = -INFINITY;
    for (size_t e = 0; e < r.result.epochs.size(); ++e) {
      const double v = r.result.epochs[e].logs.get(metric, NAN);
      best = std::max(best, v);
      if (out.per_epoch.size() <= e) out.per_epoch.resize(e + 1);
      out.per_epoch[e].push_back(v);
    }
    out.final_by_seed[r.seed] = r.result.epochs.back().logs.get(metric, NAN);
    out.finals.push_back(out.final_by_seed[r.seed]);
    out.bests.push_back(best);
    out.losses.push_back(r.result.epochs.back().logs.get("val_loss", NAN));
    out.walls.push_back(r.wall_s);
  }
  return out;
}

// Against the baseline: the runs paired by seed (both finished).
struct Comparison {
  bool baseline = false;
  int pairs = 0;
  double difference = NAN;  // mean of this - baseline
  Interval interval{NAN, NAN};
  double p = NAN, p_holm = NAN;
};

Comparison compare(const ScheduleResults& s, const ScheduleResults& base, uint64_t seed) {
  Comparison c;
  std::vector<double> mine, theirs;
  for (const auto& [run_seed, value] : s.final_by_seed) {
    auto other = base.final_by_seed.find(run_seed);
    if (other == base.final_by_seed.end()) continue;
    mine.push_back(value);
    theirs.push_back(other->second);
  }
  c.pairs = static_cast<int>(mine.size());
  if (c.pairs == 0) return c;
  double sum = 0;
  for (size_t i = 0; i < mine.size(); ++i) sum += mine[i] - theirs[i];
  c.difference = sum / static_cast<double>(mine.size());
  c.interval = paired_bootstrap_interval(mine, theirs, seed);
  c.p = wilcoxon_signed_rank(mine, theirs).p_value;
  return c;
}

std::string signed_fixed(double v) { return cell("%+.4f", v); }
std::string p_cell(double p) { return cell(p < 1e-4 ? "%.1e" : "%.4f", p); }

// The table in Markdown, CSV and JSON, in schedule order.
struct Tables {
  std::string md, csv, json;
};

Tables tabulate(const std::vector<ScheduleResults>& results, const std::vector<Comparison>& comparisons,
                const std::string& metric, const std::string& baseline, uint64_t seed) {
  Tables t;
  t.md = "| schedule | runs | final " + metric + " mean ± std | 95 % CI | median | min | max | Δ vs " + baseline +
         " [95 % CI] | Wilcoxon p | Holm p | best " + metric + " mean ± std | final val_loss mean ± std | wall s/run |\n"
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  t.csv = "schedule,runs,failed,final_mean,final_std,ci_low,ci_high,final_median,final_min,final_max,diff_mean,diff_low,"
          "diff_high,p_wilcoxon,p_holm,significant,best_mean,best_std,best_max,val_loss_mean,val_loss_std,wall_s_mean\n";
  t.json = "{\"metric\": " + json_string(metric) + ", \"baseline\": " + json_string(baseline) + ", \"bootstrap_resamples\": 10000, "
           "\"bootstrap_seed\": " + std::to_string(seed) + ", \"alpha\": 0.05, \"schedules\": [";
  for (size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    const auto& c = comparisons[k];
    const Summary f = summarize(r.finals), b = summarize(r.bests), l = summarize(r.losses), w = summarize(r.walls);
    const Interval ci = bootstrap_mean_interval(r.finals, seed);
    const bool significant = !c.baseline && c.pairs > 0 && c.p_holm < 0.05;
    const std::string runs_cell = std::to_string(f.count) + (r.failed ? " (+" + std::to_string(r.failed) + " failed)" : "");
    std::string diff = "(baseline)", p = "", holm = "";
    if (!c.baseline) {
      diff = c.pairs == 0 ? "no paired runs" : signed_fixed(c.difference) + " " + interval_text(c.interval) + (significant ? " *" : "");
      p = c.pairs == 0 ? "" : p_cell(c.p);
      holm = c.pairs == 0 ? "" : p_cell(c.p_holm);
    }
    if (f.count == 0) {
      t.md += "| " + r.name + " | " + runs_cell + " | all runs failed | | | | | | | | | | |\n";
    } else {
      t.md += "| " + r.name + " | " + runs_cell + " | " + pm(f) + " | " + interval_text(ci) + " | " + fixed(f.median) + " | " +
              fixed(f.min) + " | " + fixed(f.max) + " | " + diff + " | " + p + " | " + holm + " | " + pm(b) + " | " + pm(l) +
              " | " + fixed(w.mean) + " |\n";
    }
    char line[768];
    std::snprintf(line, sizeof line, "%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.4f\n",
                  r.name.c_str(), f.count, r.failed, f.mean, f.stddev, ci.low, ci.high, f.median, f.min, f.max, c.difference,
                  c.interval.low, c.interval.high, c.p, c.p_holm, significant ? 1 : 0, b.mean, b.stddev, b.max, l.mean, l.stddev,
                  w.mean);
    t.csv += line;
    t.json += std::string(k ? ", " : "") + "{\"name\": " + json_string(r.name) + ", \"runs\": " + std::to_string(f.count) +
              ", \"failed\": " + std::to_string(r.failed) + ", \"mean\": " + json_number(f.mean) + ", \"std\": " +
              json_number(f.stddev) + ", \"ci\": [" + json_number(ci.low) + ", " + json_number(ci.high) + "], \"median\": " +
              json_number(f.median) + ", \"min\": " + json_number(f.min) + ", \"max\": " + json_number(f.max) +
              ", \"baseline\": " + (c.baseline ? "true" : "false") + ", \"pairs\": " + std::to_string(c.pairs) +
              ", \"difference\": " + json_number(c.difference) + ", \"difference_ci\": [" + json_number(c.interval.low) + ", " +
              json_number(c.interval.high) + "], \"p_wilcoxon\": " + json_number(c.p) + ", \"p_holm\": " + json_number(c.p_holm) +
              ", \"significant\": " + (significant ? "true" : "false") + "}";
  }
  t.json += "]}\n";
  return t;
}

PlotSeries mean_curve(const ScheduleResults& r, int colour) {
  PlotSeries s{r.name, {}, {}, {}, {}, false, colour};
  for (size_t e = 0; e < r.per_epoch.size(); ++e) {
    const Summary es = summarize(r.per_epoch[e]);
    s.x.push_back(static_cast<double>(e + 1));
    s.y.push_back(es.mean);
    s.band_low.push_back(es.min);
    s.band_high.push_back(es.max);
  }
  return s;
}

// Every schedule x seed, with where its history and log go.
std::vector<Run> plan_runs(const std::vector<std::string>& schedules, int seeds, uint64_t first_seed, const std::string& out_dir) {
  std::vector<Run> runs;
  for (const auto& schedule : schedules)
    for (int s = 0; s < seeds; ++s) {
      Run r;
      r.schedule = schedule;
      r.name = fs::path(schedule).stem().string();
      r.seed = first_seed + static_cast<uint64_t>(s);
      const std::string stem = (fs::path(out_dir) / "runs" / (r.name + "-seed" + std::to_string(r.seed))).string();
      r.history = stem + ".csv";
      r.log = stem + ".log";
      runs.push_back(r);
    }
  return runs;
}

// Each schedule against the baseline, Holm-corrected over the comparisons that have pairs.
std::vector<Comparison> compare_all(const std::vector<ScheduleResults>& results, size_t baseline, uint64_t seed) {
  std::vector<Comparison> comparisons;
  std::vector<double> p_values;
  for (size_t k = 0; k < results.size(); ++k) {
    comparisons.push_back(k == baseline ? Comparison{true} : compare(results[k], results[baseline], seed));
    if (!comparisons.back().baseline && comparisons.back().pairs > 0) p_values.push_back(comparisons.back().p);
  }
  const auto adjusted = holm_adjust(p_values);
  for (size_t k = 0, j = 0; k < comparisons.size(); ++k)
    if (!comparisons[k].baseline && comparisons[k].pairs > 0) comparisons[k].p_holm = adjusted[j++];
  return comparisons;
}

PlotPanel mean_panel(const std::vector<ScheduleResults>& results, const std::string& metric) {
  PlotPanel panel{"Mean " + metric + " per epoch (band: min to max over seeds)", "epoch", metric, false, false, {}};
  for (size_t k = 0; k < results.size(); ++k) {
    PlotSeries s = mean_curve(results[k], static_cast<int>(k));
    if (!s.x.empty()) panel.series.push_back(std::move(s));
  }
  return panel;
}

// What the command line asks of a sweep.
struct SweepFlags {
  std::string model, out_dir = "sweep", metric = "val_accuracy", baseline;
  std::vector<std::string> schedules, sets;
  int seeds = 5, jobs = 1;
  Unsigned first_seed{1}, bootstrap_seed{0};
};

void add_sweep_options(po::options_description& options, SweepFlags& f) {
  options.add_options()
      ("model", po::value(&f.model)->required(), "model spec (YAML)")
      ("schedule", po::value(&f.schedules)->required()->composing(), "schedule spec (repeatable)")
      ("seeds", po::value(&f.seeds)->default_value(5), "seeds per schedule")
      ("first-seed", po::value(&f.first_seed)->default_value(Unsigned{1}), "the first seed")
      ("jobs,j", po::value(&f.jobs)->default_value(1), "runs at once (separate processes)")
      ("metric", po::value(&f.metric)->default_value("val_accuracy"), "the log key to compare")
      ("baseline", po::value(&f.baseline), "the schedule the others are compared with (file name without .yaml; default: the first)")
      ("bootstrap-seed", po::value(&f.bootstrap_seed)->default_value(Unsigned{0}), "seed of the bootstrap resampling")
      ("epochs", po::value<int64_t>(), "override train.epochs")
      ("set", po::value(&f.sets)->composing(), "override a spec field in every run (repeatable)")
      ("output,o", po::value(&f.out_dir)->default_value("sweep"), "folder for histories, logs, tables and the plot");
  add_distributed_options(options);
}

// The schedules' names (their file stems), with the flags checked and the baseline resolved;
// creates the output folder.
std::vector<std::string> check_sweep(SweepFlags& f, bool distributed) {
  if (f.seeds < 1 || f.jobs < 1) throw UsageError("--seeds and --jobs must be at least 1");
  if (distributed && f.jobs > 1)
    throw UsageError("--jobs " + std::to_string(f.jobs) + ": over MPI ranks each rank runs one training at a time; start "
                     "more ranks instead");
  std::vector<std::string> names;
  for (const auto& schedule : f.schedules) names.push_back(fs::path(schedule).stem().string());
  if (f.baseline.empty()) f.baseline = names.front();
  if (std::find(names.begin(), names.end(), f.baseline) == names.end())
    throw UsageError("--baseline " + f.baseline + ": not one of the sweep's schedules (" + suggest_known(f.baseline, names) + ")");
  fs::create_directories(fs::path(f.out_dir) / "runs");
  return names;
}

// One run's `anneal train` command: its schedule and seed, and the sweep's overrides and plugins.
std::vector<std::string> train_argv(const std::string& self, const SweepFlags& f, const po::variables_map& vm,
                                    bool allow_plugins, const Run& r) {
  std::vector<std::string> argv{self, "train", f.model, "--schedule", r.schedule, "--seed", std::to_string(r.seed),
                                "--history", r.history, "--quiet", "--threads", "1"};
  if (vm.count("epochs")) argv.insert(argv.end(), {"--epochs", std::to_string(vm["epochs"].as<int64_t>())});
  for (const auto& s : f.sets) argv.insert(argv.end(), {"--set", s});
  if (vm.count("plugin"))
    for (const auto& p : vm["plugin"].as<std::vector<std::string>>()) argv.insert(argv.end(), {"--plugin", p});
  if (allow_plugins) argv.push_back("--allow-plugins");
  return argv;
}

// The comparison of the finished runs: printed, and written as summary.md/.csv/.json and a plot.
// Exit code 1 when a schedule has no finished run.
int report_sweep(const std::vector<Run>& runs, const SweepFlags& f, size_t baseline) {
  std::vector<std::string> failures;
  std::vector<ScheduleResults> results;
  for (const auto& schedule : f.schedules) results.push_back(collect(runs, schedule, f.metric, failures));
  const std::vector<Comparison> comparisons = compare_all(results, baseline, f.bootstrap_seed.value);
  const size_t tests = static_cast<size_t>(std::count_if(comparisons.begin(), comparisons.end(),
                                                         [](const Comparison& c) { return !c.baseline && c.pairs > 0; }));
  const Tables t = tabulate(results, comparisons, f.metric, f.baseline, f.bootstrap_seed.value);
  const PlotPanel panel = mean_panel(results, f.metric);
  std::printf("\n%s", t.md.c_str());
  std::printf("\nCI: 95 %% percentile bootstrap of the mean (10 000 resamples). Δ: mean paired difference from %s over the "
              "seeds both finished, with its paired bootstrap CI; p: two-sided Wilcoxon signed-rank; Holm p: corrected for %zu "
              "comparisons; * significant at 0.05 after correction.\n", f.baseline.c_str(), tests);
  for (const auto& failure : failures) std::printf("failed: %s\n", failure.c_str());
  const fs::path out(f.out_dir);
  write_file_atomically((out / "summary.md").string(), t.md);
  write_file_atomically((out / "summary.csv").string(), t.csv);
  write_file_atomically((out / "summary.json").string(), t.json);
  write_file_atomically((out / (f.metric + ".svg")).string(), render_svg({panel}, 1, 760, 440));
  std::printf("\nwrote %s/summary.md, summary.csv, summary.json, %s.svg and runs/\n", f.out_dir.c_str(), f.metric.c_str());
  // A schedule none of whose runs finished has no row to compare: the sweep failed for it.
  const bool schedule_failed = std::any_of(results.begin(), results.end(), [](const ScheduleResults& r) { return r.finals.empty(); });
  return schedule_failed ? kExitRuntime : kExitOk;
}

}  // namespace

int sweep_command(const Args& args) {
  po::options_description options("sweep options");
  SweepFlags f;
  add_sweep_options(options, f);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "sweep MODEL --schedule A.yaml [--schedule B.yaml ...] --seeds N [--jobs J] [--baseline NAME] [-o DIR]",
             options, positional, vm))
    return kExitOk;
  const auto session = open_distributed(vm);
  std::vector<std::string> names;
  if (const int code = agree_on_setup(session.get(), [&] { names = check_sweep(f, session != nullptr); })) return code;
  const std::string self = self_executable();

  std::vector<Run> runs = plan_runs(f.schedules, f.seeds, f.first_seed.value, f.out_dir);
  const bool root = !session || session->rank() == 0;
  if (root) {
    std::printf("sweep: %zu runs (%zu schedules x %d seeds), %d at a time%s\n", runs.size(), f.schedules.size(), f.seeds,
                session ? session->size() : f.jobs, session ? " (one per MPI rank)" : "");
    std::fflush(stdout);
  }
  const bool allow_plugins = load_options(vm).allow_plugins;
  run_all(runs, f.jobs, session.get(), [&](const Run& r) { return train_argv(self, f, vm, allow_plugins, r); });
  if (!root) return kExitOk;  // rank 0 has every run's result and writes the tables
  const auto baseline = std::find(names.begin(), names.end(), f.baseline);
  return report_sweep(runs, f, static_cast<size_t>(baseline - names.begin()));
}

}  // namespace anneal::cli
