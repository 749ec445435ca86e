// anneal sweep: every schedule x seed as its own `anneal train` process (up to --jobs at once),
// then a comparison table (Markdown and CSV) and a plot of mean validation accuracy per epoch
// with a min-max band. A run that fails is reported in the table and does not stop the others.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "anneal/atomic_file.hpp"
#include "anneal/clock.hpp"
#include "anneal/history_plot.hpp"
#include "anneal/stats.hpp"
#include "anneal/svg_plot.hpp"
#include "anneal/trainer.hpp"
#include "options.hpp"

extern char** environ;

namespace anneal::cli {
namespace fs = std::filesystem;
namespace {

struct Run {
  std::string schedule, name;
  uint64_t seed = 0;
  std::string history, log;
  pid_t pid = 0;
  double start = 0, wall_s = 0;
  int exit_code = -1;
  History result;
  std::string error;
};

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw RuntimeFailure("sweep: cannot start " + argv[0]);
  return pid;
}

std::string pm(const Summary& s) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f ± %.4f", s.mean, s.stddev);
  return buffer;
}

std::string fixed(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}

}  // namespace

int sweep_command(const Args& args) {
  po::options_description options("sweep options");
  std::string model, out_dir = "sweep", metric = "val_accuracy";
  std::vector<std::string> schedules, sets;
  int seeds = 5, jobs = 1;
  uint64_t first_seed = 1;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("schedule", po::value(&schedules)->required()->composing(), "schedule spec (repeatable)")
      ("seeds", po::value(&seeds)->default_value(5), "seeds per schedule")
      ("first-seed", po::value(&first_seed)->default_value(1), "the first seed")
      ("jobs,j", po::value(&jobs)->default_value(1), "runs at once (separate processes)")
      ("metric", po::value(&metric)->default_value("val_accuracy"), "the log key to compare")
      ("epochs", po::value<int64_t>(), "override train.epochs")
      ("set", po::value(&sets)->composing(), "override a spec field in every run (repeatable)")
      ("output,o", po::value(&out_dir)->default_value("sweep"), "folder for histories, logs, tables and the plot");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "sweep MODEL --schedule A.yaml [--schedule B.yaml ...] --seeds N [--jobs J] [-o DIR]", options,
             positional, vm))
    return kExitOk;
  if (seeds < 1 || jobs < 1) throw UsageError("--seeds and --jobs must be at least 1");
  fs::create_directories(fs::path(out_dir) / "runs");
  const std::string self = fs::read_symlink("/proc/self/exe").string();

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

  std::printf("sweep: %zu runs (%zu schedules x %d seeds), %d at a time\n", runs.size(), schedules.size(), seeds, jobs);
  std::fflush(stdout);
  std::map<pid_t, size_t> running;
  size_t next = 0, finished = 0;
  while (finished < runs.size()) {
    while (next < runs.size() && static_cast<int>(running.size()) < jobs) {
      Run& r = runs[next];
      std::vector<std::string> argv{self, "train", model, "--schedule", r.schedule, "--seed", std::to_string(r.seed),
                                    "--history", r.history, "--quiet", "--threads", "1"};
      if (vm.count("epochs")) argv.insert(argv.end(), {"--epochs", std::to_string(vm["epochs"].as<int64_t>())});
      for (const auto& s : sets) argv.insert(argv.end(), {"--set", s});
      if (vm.count("plugin"))
        for (const auto& p : vm["plugin"].as<std::vector<std::string>>()) argv.insert(argv.end(), {"--plugin", p});
      r.start = wall_seconds();
      r.pid = spawn(argv, r.log);
      running[r.pid] = next++;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    Run& r = runs[it->second];
    running.erase(it);
    ++finished;
    r.wall_s = wall_seconds() - r.start;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r.exit_code == 0) {
      try {
        r.result = read_history_csv(r.history);
      } catch (const Error& e) {
        r.error = e.what();
      }
    } else {
      r.error = "exit " + std::to_string(r.exit_code) + ": " + last_line(r.log);
    }
  }

  // One table row per schedule.
  std::string md = "| schedule | runs | final " + metric + " mean ± std | median | min | max | best " + metric +
                   " mean ± std | best max | final val_loss mean ± std | wall s/run |\n|---|---|---|---|---|---|---|---|---|---|\n";
  std::string csv = "schedule,runs,failed,final_mean,final_std,final_median,final_min,final_max,best_mean,best_std,best_max,"
                    "val_loss_mean,val_loss_std,wall_s_mean\n";
  PlotPanel panel{"Mean " + metric + " per epoch (band: min to max over seeds)", "epoch", metric, false, false, {}};
  std::vector<std::string> failures;
  for (size_t k = 0; k < schedules.size(); ++k) {
    std::vector<double> finals, bests, losses, walls;
    std::vector<std::vector<double>> per_epoch;
    int failed = 0;
    for (const auto& r : runs) {
      if (r.schedule != schedules[k]) continue;
      if (!r.error.empty() || r.result.epochs.empty() || !r.result.epochs.back().logs.has(metric)) {
        ++failed;
        failures.push_back(r.name + " seed " + std::to_string(r.seed) + ": " +
                           (r.error.empty() ? "no '" + metric + "' in its history" : r.error));
        continue;
      }
      double best = -INFINITY;
      for (size_t e = 0; e < r.result.epochs.size(); ++e) {
        const double v = r.result.epochs[e].logs.get(metric, NAN);
        best = std::max(best, v);
        if (per_epoch.size() <= e) per_epoch.resize(e + 1);
        per_epoch[e].push_back(v);
      }
      finals.push_back(r.result.epochs.back().logs.get(metric, NAN));
      bests.push_back(best);
      losses.push_back(r.result.epochs.back().logs.get("val_loss", NAN));
      walls.push_back(r.wall_s);
    }
    const std::string name = fs::path(schedules[k]).stem().string();
    const Summary f = summarize(finals), b = summarize(bests), l = summarize(losses), w = summarize(walls);
    const std::string runs_cell = std::to_string(f.count) + (failed ? " (+" + std::to_string(failed) + " failed)" : "");
    if (f.count == 0) {
      md += "| " + name + " | " + runs_cell + " | all runs failed | | | | | | | |\n";
    } else {
      md += "| " + name + " | " + runs_cell + " | " + pm(f) + " | " + fixed(f.median) + " | " + fixed(f.min) + " | " +
            fixed(f.max) + " | " + pm(b) + " | " + fixed(b.max) + " | " + pm(l) + " | " + fixed(w.mean) + " |\n";
    }
    char line[512];
    std::snprintf(line, sizeof line, "%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.4f\n", name.c_str(), f.count,
                  failed, f.mean, f.stddev, f.median, f.min, f.max, b.mean, b.stddev, b.max, l.mean, l.stddev, w.mean);
    csv += line;
    PlotSeries s{name, {}, {}, {}, {}, false, static_cast<int>(k)};
    for (size_t e = 0; e < per_epoch.size(); ++e) {
      const Summary es = summarize(per_epoch[e]);
      s.x.push_back(static_cast<double>(e + 1));
      s.y.push_back(es.mean);
      s.band_low.push_back(es.min);
      s.band_high.push_back(es.max);
    }
    if (!s.x.empty()) panel.series.push_back(std::move(s));
  }
  std::printf("\n%s", md.c_str());
  for (const auto& f : failures) std::printf("failed: %s\n", f.c_str());
  write_file_atomically((fs::path(out_dir) / "summary.md").string(), md);
  write_file_atomically((fs::path(out_dir) / "summary.csv").string(), csv);
  write_file_atomically((fs::path(out_dir) / (metric + ".svg")).string(), render_svg({panel}, 1, 760, 440));
  std::printf("\nwrote %s/summary.md, %s/summary.csv, %s/%s.svg and runs/\n", out_dir.c_str(), out_dir.c_str(),
              out_dir.c_str(), metric.c_str());
  return failures.size() == runs.size() ? kExitRuntime : kExitOk;
}

}  // namespace anneal::cli
