// anneal tune: searches a space of spec keys (search_space.hpp) by grid, random search,
// successive halving or Hyperband (halving.hpp). Every training is an `anneal train` process;
// a configuration promoted to a larger budget resumes from its checkpoint (`--pause-at` slices,
// so the schedule always sees the full length). The study folder keeps the settings, the space,
// each trial's overrides, checkpoints, histories and logs; `--resume DIR` re-plans the same study
// from its seed and skips every run whose history is already there.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <set>

#include "anneal/atomic_file.hpp"
#include "anneal/clock.hpp"
#include "anneal/experiment.hpp"
#include "anneal/halving.hpp"
#include "anneal/json_text.hpp"
#include "anneal/history_plot.hpp"
#include "anneal/registry.hpp"
#include "anneal/search_space.hpp"
#include "anneal/spec.hpp"
#include "anneal/stats.hpp"
#include "options.hpp"
#include "processes.hpp"

namespace anneal::cli {
namespace fs = std::filesystem;
namespace {

const std::vector<std::string> kMethods = {"grid", "random", "successive_halving", "hyperband"};

// Everything that defines a study; saved as DIR/study.yaml so --resume re-plans the same one.
struct TuneSettings {
  std::string model, space;  // absolute paths (the space is the study's own copy)
  std::string method = "hyperband";
  int64_t trials = 0;  // configurations to start (random, successive_halving, hyperband)
  int grid_points = 3;
  int64_t min_epochs = 1, max_epochs = 0;
  int eta = 3;
  std::string objective = "val_accuracy", mode;
  int seeds = 1, confirm = 0, confirm_top = 3;
  uint64_t first_seed = 1, seed = 0;
  std::vector<std::string> sets, plugins;
  bool allow_plugins = false;
};

void save_settings(const TuneSettings& s, const std::string& path) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << s.model << YAML::Key << "space" << YAML::Value << s.space;
  out << YAML::Key << "method" << YAML::Value << s.method << YAML::Key << "trials" << YAML::Value << s.trials;
  out << YAML::Key << "grid_points" << YAML::Value << s.grid_points;
  out << YAML::Key << "min_epochs" << YAML::Value << s.min_epochs << YAML::Key << "max_epochs" << YAML::Value << s.max_epochs;
  out << YAML::Key << "eta" << YAML::Value << s.eta;
  out << YAML::Key << "objective" << YAML::Value << s.objective << YAML::Key << "mode" << YAML::Value << s.mode;
  out << YAML::Key << "seeds" << YAML::Value << s.seeds << YAML::Key << "first_seed" << YAML::Value << s.first_seed;
  out << YAML::Key << "confirm" << YAML::Value << s.confirm << YAML::Key << "confirm_top" << YAML::Value << s.confirm_top;
  out << YAML::Key << "seed" << YAML::Value << s.seed;
  out << YAML::Key << "sets" << YAML::Value << YAML::Flow << s.sets;
  out << YAML::Key << "plugins" << YAML::Value << YAML::Flow << s.plugins;
  out << YAML::Key << "allow_plugins" << YAML::Value << s.allow_plugins;
  out << YAML::EndMap;
  write_file_atomically(path, std::string("# anneal tune settings (read by --resume)\n") + out.c_str() + "\n");
}

TuneSettings load_settings(const std::string& path) {
  const YAML::Node n = load_yaml_file(path);
  TuneSettings s;
  try {
    s.model = n["model"].as<std::string>();
    s.space = n["space"].as<std::string>();
    s.method = n["method"].as<std::string>();
    s.trials = n["trials"].as<int64_t>();
    s.grid_points = n["grid_points"].as<int>();
    s.min_epochs = n["min_epochs"].as<int64_t>();
    s.max_epochs = n["max_epochs"].as<int64_t>();
    s.eta = n["eta"].as<int>();
    s.objective = n["objective"].as<std::string>();
    s.mode = n["mode"].as<std::string>();
    s.seeds = n["seeds"].as<int>();
    s.first_seed = n["first_seed"].as<uint64_t>();
    s.confirm = n["confirm"].as<int>();
    s.confirm_top = n["confirm_top"].as<int>();
    s.seed = n["seed"].as<uint64_t>();
    s.sets = n["sets"].as<std::vector<std::string>>();
    s.plugins = n["plugins"].as<std::vector<std::string>>();
    s.allow_plugins = n["allow_plugins"].as<bool>();
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": not the settings of an anneal tune study (" + e.msg + ")");
  }
  return s;
}

struct Trial {
  int id = 0;          // 1-based, in the order configurations were drawn
  size_t bracket = 0;
  Assignment params;
  std::vector<std::string> sets;  // the overrides that apply `params`
  std::vector<double> scores;     // mean objective over seeds, per rung reached
  std::vector<std::vector<double>> values;  // per rung, one value per seed
  std::vector<double> confirm_values;       // the confirmation runs' final values
  std::string error;                        // the first failure
  std::string folder;
};

struct Job {
  size_t trial = 0;
  uint64_t seed = 0;
  int64_t budget = 0, previous = 0;  // resumes from the checkpoint at `previous` epochs (0: fresh)
  std::string stem;                  // folder/seedS-eB
};

class Study {
 public:
  Study(TuneSettings settings, std::string dir, int jobs) : s_(std::move(settings)), dir_(std::move(dir)), jobs_(jobs) {}

  void plan(const SearchSpace& space);
  void validate();
  void run();
  int report();

 private:
  bool better(double a, double b) const { return s_.mode == "max" ? a > b : a < b; }
  std::vector<std::string> train_argv(const Trial& t, const Job& job) const;
  // Runs a wave; its epochs count towards the search's budget, or with `confirmation` apart.
  void run_wave(std::vector<Job>& wave, bool confirmation = false);
  void write_trial_spec(const Trial& t) const;
  std::vector<size_t> promote(const std::vector<size_t>& alive, size_t rung, int64_t keep) const;
  void confirm_best();
  std::vector<size_t> ranking() const;  // trials that reached the full budget, best first
  void write_outputs(const std::vector<size_t>& ranked) const;

  TuneSettings s_;
  std::string dir_;
  int jobs_;
  std::string self_ = self_executable();  // the anneal the trials run
  std::vector<Bracket> brackets_;
  std::vector<Trial> trials_;
  int64_t epochs_run_ = 0, epochs_total_ = 0, confirm_epochs_ = 0;
  int jobs_run_ = 0, jobs_reused_ = 0;
  double start_ = wall_seconds();
};

std::string trial_folder(const std::string& dir, int id) {
  char name[32];
  std::snprintf(name, sizeof name, "%04d", id);
  return (fs::path(dir) / "trials" / name).string();
}

void Study::plan(const SearchSpace& space) {
  std::vector<Assignment> configs;
  if (s_.method == "grid") {
    configs = grid_assignments(space, s_.grid_points);
    brackets_.push_back({{{s_.max_epochs, static_cast<int64_t>(configs.size())}}});
  } else {
    if (s_.method == "random") brackets_.push_back({{{s_.max_epochs, s_.trials}}});
    else if (s_.method == "successive_halving") brackets_.push_back(successive_halving(s_.trials, s_.min_epochs, s_.max_epochs, s_.eta));
    else brackets_ = hyperband(s_.min_epochs, s_.max_epochs, s_.eta, s_.trials);
    Rng rng(s_.seed);
    for (const auto& b : brackets_)
      for (int64_t i = 0; i < b.rungs.front().trials; ++i) configs.push_back(sample_assignment(space, rng));
  }
  size_t next = 0;
  for (size_t b = 0; b < brackets_.size(); ++b)
    for (int64_t i = 0; i < brackets_[b].rungs.front().trials; ++i, ++next) {
      Trial t;
      t.id = static_cast<int>(next + 1);
      t.bracket = b;
      t.params = configs[next];
      t.sets = s_.sets;
      for (const auto& set : assignment_sets(t.params)) t.sets.push_back(set);
      t.folder = trial_folder(dir_, t.id);
      trials_.push_back(std::move(t));
    }
}

LoadOptions trial_load_options(const TuneSettings& s, const Trial& t) {
  LoadOptions load;
  load.sets.insert(load.sets.end(), t.sets.begin(), t.sets.end());
  load.sets.push_back("train.epochs=" + std::to_string(s.max_epochs));
  load.allow_plugins = s.allow_plugins;
  return load;
}

// The overrides of a configuration that decide which raw rows it trains on: configurations that
// agree on them share one read of the data while they are checked.
std::string data_key(const std::vector<std::string>& sets) {
  std::string key;
  for (const auto& set : sets)
    if (set.rfind("data", 0) == 0 || set.rfind("train.split", 0) == 0 || set.rfind("train.validation_split", 0) == 0)
      key += set + "\n";
  return key;
}

// Every configuration must make a valid spec (a schedule key of the wrong type, a units value the
// model refuses) before anything trains; and the objective must be a column of the history.
void Study::validate() {
  std::set<std::vector<std::string>> seen;
  std::map<std::string, RawSplit> rows;  // by data_key
  for (const auto& t : trials_) {
    if (!seen.insert(t.sets).second) continue;
    try {
      const ModelSpec spec = load_model_spec(s_.model, trial_load_options(s_, t));
      std::optional<Dataset> train, validation;
      if (spec.data) {
        const std::string key = data_key(t.sets);
        auto found = rows.find(key);
        if (found == rows.end()) found = rows.emplace(key, load_raw_split(spec)).first;
        train = found->second.train;
        validation = found->second.validation;
      }
      const Experiment ex = build_experiment_on(spec, std::move(train), std::move(validation));
      if (&t != &trials_.front()) continue;
      std::vector<std::string> columns{"loss", "lr"};
      for (const auto& m : ex.metrics) columns.push_back(m.name);
      if (ex.validation) {
        columns.push_back("val_loss");
        for (const auto& m : ex.metrics) columns.push_back("val_" + m.name);
      }
      if (std::find(columns.begin(), columns.end(), s_.objective) == columns.end())
        throw UsageError("--objective " + s_.objective + ": not a column of this model's history (" +
                         suggest_known(s_.objective, columns) + ")");
    } catch (const UsageError&) {
      throw;
    } catch (const InputError& e) {
      throw InputError("tune: configuration " + std::to_string(t.id) + " (" + assignment_text(t.params) + ") is not a valid spec: " + e.what());
    }
  }
}

std::vector<std::string> Study::train_argv(const Trial& t, const Job& job) const {
  std::vector<std::string> argv{self_, "train", s_.model, "--seed", std::to_string(job.seed), "--epochs",
                                std::to_string(s_.max_epochs), "--pause-at", std::to_string(job.budget), "--save",
                                job.stem + ".ckpt", "--history", job.stem + ".csv", "--quiet", "--threads", "1"};
  for (const auto& set : t.sets) argv.insert(argv.end(), {"--set", set});
  if (job.previous > 0)
    argv.insert(argv.end(), {"--resume", (fs::path(t.folder) / ("seed" + std::to_string(job.seed) + "-e" +
                                                                std::to_string(job.previous) + ".ckpt")).string()});
  for (const auto& p : s_.plugins) argv.insert(argv.end(), {"--plugin", p});
  if (s_.allow_plugins) argv.push_back("--allow-plugins");
  return argv;
}

// Each trial's folder holds its spec, ready to run on its own (spec.yaml: the model with the
// configuration applied and the full budget).
void Study::write_trial_spec(const Trial& t) const {
  const std::string path = (fs::path(t.folder) / "spec.yaml").string();
  if (fs::exists(path)) return;
  fs::create_directories(t.folder);
  YAML::Emitter out;
  out << resolved_spec_tree(s_.model, trial_load_options(s_, t).sets);
  write_file_atomically(path, "# anneal tune trial " + std::to_string(t.id) + ": " + assignment_text(t.params) + "\n" + out.c_str() + "\n");
}

std::optional<double> final_value(const std::string& csv, const std::string& objective, std::string& error) {
  try {
    const History h = read_history_csv(csv);
    if (h.epochs.empty()) {
      error = csv + ": no epochs";
      return std::nullopt;
    }
    const Logs& last = h.epochs.back().logs;
    if (!last.has(objective)) {
      error = csv + ": no '" + objective + "' column";
      return std::nullopt;
    }
    return last.get(objective, NAN);
  } catch (const Error& e) {
    error = e.what();
    return std::nullopt;
  }
}

// Runs the jobs of one wave (some rung of every bracket still going), skipping those a previous
// invocation finished, and records each run's final objective.
void Study::run_wave(std::vector<Job>& wave, bool confirmation) {
  std::vector<ChildProcess> children;
  std::vector<size_t> pending;
  for (size_t i = 0; i < wave.size(); ++i) {
    const Job& job = wave[i];
    const int64_t epochs = job.budget - job.previous;
    (confirmation ? confirm_epochs_ : epochs_total_) += epochs;
    if (fs::exists(job.stem + ".csv")) {
      ++jobs_reused_;
      continue;
    }
    write_trial_spec(trials_[job.trial]);
    children.push_back({train_argv(trials_[job.trial], job), job.stem + ".log"});
    pending.push_back(i);
    if (!confirmation) epochs_run_ += epochs;
  }
  run_children(children, jobs_, [&](size_t k, const ChildExit& exit) {
    ++jobs_run_;
    if (exit.exit_code != 0) {
      Trial& t = trials_[wave[pending[k]].trial];
      if (t.error.empty())
        t.error = "seed " + std::to_string(wave[pending[k]].seed) + ": exit " + std::to_string(exit.exit_code) + ": " +
                  last_line(wave[pending[k]].stem + ".log");
    }
  });
}

std::vector<size_t> Study::promote(const std::vector<size_t>& alive, size_t rung, int64_t keep) const {
  std::vector<size_t> ranked;
  for (size_t t : alive)
    if (trials_[t].error.empty() && trials_[t].scores.size() > rung && std::isfinite(trials_[t].scores[rung])) ranked.push_back(t);
  // Stable: equal scores keep the order the configurations were drawn in.
  std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) { return better(trials_[a].scores[rung], trials_[b].scores[rung]); });
  if (static_cast<int64_t>(ranked.size()) > keep) ranked.resize(static_cast<size_t>(keep));
  return ranked;
}

void Study::run() {
  std::vector<std::vector<size_t>> alive(brackets_.size());
  for (size_t t = 0; t < trials_.size(); ++t) alive[trials_[t].bracket].push_back(t);
  std::vector<size_t> rung(brackets_.size(), 0);
  for (bool any = true; any;) {
    any = false;
    std::vector<Job> wave;
    for (size_t b = 0; b < brackets_.size(); ++b) {
      if (rung[b] >= brackets_[b].rungs.size()) continue;
      const int64_t budget = brackets_[b].rungs[rung[b]].budget;
      const int64_t previous = rung[b] == 0 ? 0 : brackets_[b].rungs[rung[b] - 1].budget;
      for (size_t t : alive[b])
        for (int k = 0; k < s_.seeds; ++k) {
          const uint64_t seed = s_.first_seed + static_cast<uint64_t>(k);
          wave.push_back({t, seed, budget, previous,
                          (fs::path(trials_[t].folder) / ("seed" + std::to_string(seed) + "-e" + std::to_string(budget))).string()});
        }
    }
    if (wave.empty()) break;
    any = true;
    run_wave(wave);
    // Each trial's score at this rung: the mean final objective over its seeds.
    std::map<size_t, std::vector<double>> values;
    for (const auto& job : wave) {
      Trial& t = trials_[job.trial];
      std::string error;
      const auto v = final_value(job.stem + ".csv", s_.objective, error);
      if (!v && t.error.empty()) t.error = "seed " + std::to_string(job.seed) + ": " + error;
      values[job.trial].push_back(v.value_or(NAN));
    }
    for (auto& [index, vs] : values) {
      Trial& t = trials_[index];
      double sum = 0;
      for (double v : vs) sum += v;
      t.values.push_back(vs);
      t.scores.push_back(sum / static_cast<double>(vs.size()));
    }
    for (size_t b = 0; b < brackets_.size(); ++b) {
      if (rung[b] >= brackets_[b].rungs.size()) continue;
      ++rung[b];
      if (rung[b] < brackets_[b].rungs.size()) alive[b] = promote(alive[b], rung[b] - 1, brackets_[b].rungs[rung[b]].trials);
    }
  }
  if (s_.confirm > 0) confirm_best();
}

// Confirmed configurations first, by their confirmation mean (runs that did not select them),
// then the others by their search score.
std::vector<size_t> Study::ranking() const {
  std::vector<size_t> out;
  for (size_t t = 0; t < trials_.size(); ++t) {
    const Trial& trial = trials_[t];
    if (trial.error.empty() && trial.scores.size() == brackets_[trial.bracket].rungs.size() && std::isfinite(trial.scores.back()))
      out.push_back(t);
  }
  std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) { return better(trials_[a].scores.back(), trials_[b].scores.back()); });
  const auto confirmed_mean = [&](size_t t) { return summarize(trials_[t].confirm_values).mean; };
  std::stable_sort(out.begin(), out.end(), [&](size_t a, size_t b) {
    const bool ca = !trials_[a].confirm_values.empty(), cb = !trials_[b].confirm_values.empty();
    if (ca != cb) return ca;
    return ca && better(confirmed_mean(a), confirmed_mean(b));
  });
  return out;
}

// The best configurations again at the full budget with `confirm` more seeds each, trained from
// scratch: the interval of the winner's mean comes from runs that did not select it.
void Study::confirm_best() {
  auto ranked = ranking();
  if (static_cast<int>(ranked.size()) > s_.confirm_top) ranked.resize(static_cast<size_t>(s_.confirm_top));
  std::vector<Job> wave;
  for (size_t t : ranked)
    for (int k = 0; k < s_.confirm; ++k) {
      const uint64_t seed = s_.first_seed + static_cast<uint64_t>(s_.seeds + k);
      wave.push_back({t, seed, s_.max_epochs, 0,
                      (fs::path(trials_[t].folder) / ("confirm-seed" + std::to_string(seed) + "-e" + std::to_string(s_.max_epochs))).string()});
    }
  run_wave(wave, true);
  for (const auto& job : wave) {
    std::string error;
    const auto v = final_value(job.stem + ".csv", s_.objective, error);
    if (v) trials_[job.trial].confirm_values.push_back(*v);
  }
}

// The values a trial's interval is computed from: the confirmation runs when there are any (they
// did not take part in selecting it), else its seeds at the full budget.
const std::vector<double>& evidence(const Trial& t) { return t.confirm_values.empty() ? t.values.back() : t.confirm_values; }

void Study::write_outputs(const std::vector<size_t>& ranked) const {
  std::string csv = "trial,bracket,rung,budget,seeds,objective,error";
  std::vector<std::string> keys;
  for (const auto& t : trials_)
    for (const auto& [path, value] : t.params)
      if (std::find(keys.begin(), keys.end(), path) == keys.end()) keys.push_back(path);
  for (const auto& k : keys) csv += "," + k;
  csv += "\n";
  std::string json = "{\"kind\": \"study\", \"method\": " + json_string(s_.method) + ", \"objective\": " + json_string(s_.objective) +
                     ", \"mode\": " + json_string(s_.mode) + ", \"max_epochs\": " + std::to_string(s_.max_epochs) +
                     ", \"eta\": " + std::to_string(s_.eta) + ", \"seeds\": " + std::to_string(s_.seeds) +
                     ", \"epochs\": " + std::to_string(epochs_total_) + ", \"trials\": [";
  for (size_t i = 0; i < trials_.size(); ++i) {
    const Trial& t = trials_[i];
    std::map<std::string, std::string> by(t.params.begin(), t.params.end());
    for (size_t r = 0; r < t.scores.size(); ++r) {
      csv += std::to_string(t.id) + "," + std::to_string(t.bracket + 1) + "," + std::to_string(r) + "," +
             std::to_string(brackets_[t.bracket].rungs[r].budget) + "," + std::to_string(t.values[r].size()) + "," +
             json_number(t.scores[r]) + "," + (t.error.empty() ? "" : "failed");
      for (const auto& k : keys) csv += "," + (by.count(k) ? by[k] : "");
      csv += "\n";
    }
    json += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(t.id) + ", \"bracket\": " + std::to_string(t.bracket + 1) +
            ", \"folder\": " + json_string(fs::relative(t.folder, dir_).string()) + ", \"params\": {";
    for (size_t p = 0; p < t.params.size(); ++p)
      json += std::string(p ? ", " : "") + json_string(t.params[p].first) + ": " + json_string(t.params[p].second);
    json += "}, \"rungs\": [";
    for (size_t r = 0; r < t.scores.size(); ++r)
      json += std::string(r ? ", " : "") + "{\"budget\": " + std::to_string(brackets_[t.bracket].rungs[r].budget) +
              ", \"score\": " + json_number(t.scores[r]) + "}";
    json += "], \"complete\": " + std::string(std::find(ranked.begin(), ranked.end(), i) != ranked.end() ? "true" : "false") +
            ", \"confirm\": [";
    for (size_t c = 0; c < t.confirm_values.size(); ++c) json += std::string(c ? ", " : "") + json_number(t.confirm_values[c]);
    json += "], \"error\": " + json_string(t.error) + "}";
  }
  json += "]}\n";
  write_file_atomically((fs::path(dir_) / "trials.csv").string(), csv);
  write_file_atomically((fs::path(dir_) / "study.json").string(), json);
}

int Study::report() {
  const auto ranked = ranking();
  write_outputs(ranked);
  int failed = 0;
  for (const auto& t : trials_) failed += t.error.empty() ? 0 : 1;
  std::printf("\ntune: %s, %zu configurations, %lld epochs in the search (%lld trained now), %lld in confirmation runs; "
              "%d runs now, %d reused from the study folder; %.1f s\n", s_.method.c_str(), trials_.size(),
              static_cast<long long>(epochs_total_), static_cast<long long>(epochs_run_), static_cast<long long>(confirm_epochs_),
              jobs_run_, jobs_reused_, wall_seconds() - start_);
  if (ranked.empty()) {
    std::printf("no configuration finished the full budget of %lld epochs", static_cast<long long>(s_.max_epochs));
    for (const auto& t : trials_)
      if (!t.error.empty()) {
        std::printf("; trial %d: %s", t.id, t.error.c_str());
        break;
      }
    std::printf("\n");
    return kExitRuntime;
  }
  std::printf("\n| rank | trial | %s at %lld epochs (search, %d seed(s)) | confirmed mean | 95 %% CI | runs | configuration |\n"
              "|---|---|---|---|---|---|---|\n", s_.objective.c_str(), static_cast<long long>(s_.max_epochs), s_.seeds);
  for (size_t r = 0; r < std::min<size_t>(ranked.size(), 5); ++r) {
    const Trial& t = trials_[ranked[r]];
    const auto& values = evidence(t);
    std::string mean = "", ci = "(one run)";
    if (!t.confirm_values.empty()) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.4f", summarize(values).mean);
      mean = buffer;
    }
    if (values.size() >= 2) {
      ci = interval_text(bootstrap_mean_interval(values, s_.seed));
    }
    std::printf("| %zu | %d | %.4f | %s | %s | %zu | %s |\n", r + 1, t.id, t.scores.back(), mean.c_str(), ci.c_str(), values.size(),
                assignment_text(t.params).c_str());
  }
  std::printf("\nCI: 95 %% percentile bootstrap of the mean (10 000 resamples) over the confirmation runs (new seeds, "
              "trained from scratch) where there are any, else over the search's seeds.\n");
  if (s_.confirm == 0 && s_.seeds < 2)
    std::printf("Intervals need several runs per configuration: --seeds K, or --confirm K to rerun the best with K new seeds.\n");
  if (failed > 0) std::printf("%d configuration(s) failed (see trials.csv and each trial's log)\n", failed);

  const Trial& best = trials_[ranked.front()];
  YAML::Emitter out;
  out << resolved_spec_tree(s_.model, trial_load_options(s_, best).sets);
  const std::string best_path = (fs::path(dir_) / "best.yaml").string();
  const std::string score = best.confirm_values.empty() ? json_number(best.scores.back()) + " in the search"
                                                        : json_number(summarize(best.confirm_values).mean) + " over " +
                                                              std::to_string(best.confirm_values.size()) + " confirmation runs";
  write_file_atomically(best_path, "# The best configuration of anneal tune (" + s_.method + ", trial " + std::to_string(best.id) +
                                       ", " + s_.objective + " " + score + "): " + assignment_text(best.params) +
                                       "\n" + out.c_str() + "\n");
  std::printf("\nwrote %s (run it: anneal train %s), trials.csv, study.json\n", best_path.c_str(), best_path.c_str());
  return kExitOk;
}

std::string default_mode(const std::string& objective) {
  for (const char* lower : {"loss", "mse", "mae", "rmse"})
    if (objective.size() >= std::strlen(lower) && objective.compare(objective.size() - std::strlen(lower), std::strlen(lower), lower) == 0)
      return "min";
  return "max";
}

// The settings of the study in `dir`; the options that define a study may not be given again.
TuneSettings resumed_settings(const po::variables_map& vm, const std::string& dir) {
  for (const char* other : {"model", "space", "method", "trials", "objective", "mode", "seeds", "set", "output", "max-epochs",
                            "min-epochs", "eta", "seed", "confirm", "grid-points", "first-seed", "confirm-top"})
    if (vm.count(other) && !vm[other].defaulted())
      throw UsageError("--resume " + dir + " takes the study's settings from its study.yaml; --" + other + " cannot change them");
  const std::string settings = (fs::path(dir) / "study.yaml").string();
  if (!fs::exists(settings)) throw InputError("--resume " + dir + ": no study there (" + settings + " does not exist)");
  return load_settings(settings);
}

// Checks a new study's options and fills in what they leave to defaults: the mode from the
// objective, the full budget from the spec, the number of configurations from the method.
void complete_new_settings(TuneSettings& s, const po::variables_map& vm, const std::string& model, const std::string& space,
                           const std::string& mode, const std::string& dir, uint64_t first_seed, uint64_t seed) {
  if (model.empty() || space.empty()) throw UsageError("tune needs a model and --space SPACE.yaml (or --resume DIR)");
  if (std::find(kMethods.begin(), kMethods.end(), s.method) == kMethods.end())
    throw UsageError("--method " + s.method + ": " + suggest_known(s.method, kMethods));
  if (s.seeds < 1 || s.eta < 2 || s.min_epochs < 1 || s.trials < 0 || s.grid_points < 1 || s.confirm < 0 || s.confirm_top < 1)
    throw UsageError("--seeds, --min-epochs, --grid-points and --confirm-top must be at least 1, --eta at least 2, "
                     "--trials and --confirm at least 0");
  if (s.seeds > 1000 || s.trials > 100000 || s.confirm > 1000)
    throw UsageError("--seeds and --confirm are limited to 1000 and --trials to 100000");
  s.mode = mode.empty() ? default_mode(s.objective) : mode;
  if (s.mode != "max" && s.mode != "min") throw UsageError("--mode must be max or min");
  if (fs::exists(fs::path(dir) / "study.yaml"))
    throw UsageError("-o " + dir + ": a study is already there; continue it with --resume " + dir + " or choose another folder");
  s.model = fs::absolute(model).string();
  s.first_seed = first_seed;
  s.seed = seed;
  const LoadOptions load = load_options(vm);
  s.allow_plugins = load.allow_plugins;
  if (vm.count("plugin"))
    for (const auto& p : vm["plugin"].as<std::vector<std::string>>()) s.plugins.push_back(fs::absolute(p).string());
  if (s.max_epochs <= 0) {
    s.max_epochs = load_model_spec(s.model, load).train.epochs;
  }
  if (s.min_epochs > s.max_epochs) throw UsageError("--min-epochs is above the full budget of " + std::to_string(s.max_epochs) + " epochs");
  if (s.trials == 0) {
    if (s.method == "random") s.trials = 20;
    else if (s.method == "successive_halving") {
      s.trials = 1;
      for (int i = 0; i < halving_depth(s.min_epochs, s.max_epochs, s.eta); ++i) s.trials *= s.eta;
    }
  }
  s.space = fs::absolute(fs::path(dir) / "space.yaml").string();
}

}  // namespace

int tune_command(const Args& args) {
  po::options_description options("tune options");
  TuneSettings s;
  std::string model, space, out_dir = "study", resume, mode;
  int jobs = 1;
  Unsigned first_seed{1}, seed{0};
  options.add_options()
      ("model", po::value(&model), "model spec (YAML)")
      ("space", po::value(&space), "search space (YAML): spec keys and their domains")
      ("method", po::value(&s.method)->default_value("hyperband"), "grid, random, successive_halving or hyperband")
      ("trials", po::value(&s.trials)->default_value(0), "configurations to start (random: default 20; successive_halving: "
                                                           "default eta^depth; hyperband: default one iteration)")
      ("grid-points", po::value(&s.grid_points)->default_value(3), "values per real or wide integer domain in a grid")
      ("min-epochs", po::value(&s.min_epochs)->default_value(1), "the smallest budget (successive_halving, hyperband)")
      ("max-epochs", po::value(&s.max_epochs)->default_value(0), "the full budget (default: the spec's train.epochs)")
      ("eta", po::value(&s.eta)->default_value(3), "keep the best 1/eta at each rung")
      ("objective", po::value(&s.objective)->default_value("val_accuracy"), "the history column to optimize (final value)")
      ("mode", po::value(&mode), "max or min (default: min for losses and errors, else max)")
      ("seeds", po::value(&s.seeds)->default_value(1), "training seeds per configuration; the objective is their mean")
      ("first-seed", po::value(&first_seed)->default_value(Unsigned{1}), "the first training seed")
      ("confirm", po::value(&s.confirm)->default_value(0), "rerun the best configurations at the full budget with this many new seeds")
      ("confirm-top", po::value(&s.confirm_top)->default_value(3), "how many of the best --confirm reruns")
      ("seed", po::value(&seed)->default_value(Unsigned{0}), "seed of the configurations drawn (random, halving)")
      ("set", po::value(&s.sets)->composing(), "override a spec field in every trial (repeatable)")
      ("jobs,j", po::value(&jobs)->default_value(1), "trainings at once (separate processes)")
      ("output,o", po::value(&out_dir)->default_value("study"), "the study folder")
      ("resume", po::value(&resume), "continue the study in this folder (its settings; --jobs may change)");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "tune MODEL --space SPACE.yaml [--method hyperband] [--objective val_accuracy] [-o DIR] | tune --resume DIR",
             options, positional, vm))
    return kExitOk;
  if (jobs < 1) throw UsageError("--jobs must be at least 1");

  std::string dir = resume.empty() ? out_dir : resume;
  if (!resume.empty()) s = resumed_settings(vm, resume);
  else complete_new_settings(s, vm, model, space, mode, out_dir, first_seed.value, seed.value);

  // Every configuration is checked before the study folder is made: a study that cannot start
  // leaves nothing behind, so the user fixes the space and runs the same command again.
  const bool fresh = resume.empty();
  Study study(s, dir, jobs);
  study.plan(load_search_space(fresh ? space : s.space));
  study.validate();
  if (fresh) {
    fs::create_directories(dir);
    fs::copy_file(space, s.space, fs::copy_options::overwrite_existing);
    save_settings(s, (fs::path(dir) / "study.yaml").string());
  }
  std::printf("tune: %s over %s, objective %s (%s), full budget %lld epochs, %d seed(s) per configuration, %d at a time; "
              "study folder %s\n", s.method.c_str(), s.space.c_str(), s.objective.c_str(), s.mode.c_str(),
              static_cast<long long>(s.max_epochs), s.seeds, jobs, dir.c_str());
  std::fflush(stdout);
  study.run();
  return study.report();
}

}  // namespace anneal::cli
