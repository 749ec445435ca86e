#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "anneal/experiment.hpp"
#include "anneal/history_plot.hpp"
#include "anneal/shape.hpp"
#include "distributed.hpp"
#include "interrupt.hpp"
#include "options.hpp"

namespace anneal::cli {

namespace {

std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The same command line with --resume pointing at the checkpoint (every other flag kept, so the
// schedule, --set edits and --epochs of the interrupted run come back with it).
std::string continue_command(const Args& args, const std::string& checkpoint) {
  std::string out = "anneal";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--resume") {
      ++i;
      continue;
    }
    if (args[i].rfind("--resume=", 0) == 0) continue;
    out += " " + shell_quoted(args[i]);
  }
  return out + " --resume " + shell_quoted(checkpoint);
}

// A model whose outputs have saturated (a rate too high for unscaled inputs, typically) stops
// learning: with shuffled batches a live model's epoch loss always moves, so a loss that has not
// changed at all over the last three epochs says the run went nowhere.
void warn_if_stuck(const History& history) {
  const auto& e = history.epochs;
  if (e.size() < 3) return;
  const double last = e.back().logs.get("loss", NAN);
  for (size_t i = e.size() - 3; i < e.size(); ++i)
    if (!(e[i].logs.get("loss", NAN) == last)) return;
  std::fprintf(stderr,
               "anneal: warning: the training loss has not changed over the last 3 epochs (%.4f): the model's outputs are "
               "saturated and it is not learning; lower the learning rate, or scale the inputs (normalize: standard in data:)\n",
               last);
}

void scale_rate(Experiment& ex, const LrScaling& scaling) {
  if (scaling.rule.empty()) return;
  // The rate and updates per epoch the schedule itself was built with.
  const ScheduleContext ctx = schedule_context(ex, ex.spec);
  ex.schedule = scale_schedule(std::move(ex.schedule), ctx.optimizer_lr, ctx.steps_per_epoch, scaling);
}

// --extend N: the run becomes N epochs longer; returns the length it continues from.
int64_t extend_run(ModelSpec& spec, int64_t more, const std::string& resume, bool epochs_given) {
  if (resume.empty()) throw UsageError("--extend needs --resume: it continues a checkpoint into a longer run");
  if (epochs_given) throw UsageError("--extend and --epochs both set the run's length; give one");
  if (more < 1) throw UsageError("--extend must be at least 1 epoch");
  const int64_t from = spec.train.epochs;
  try {
    spec.train.epochs = checked_add(spec.train.epochs, more);
  } catch (const SizeOverflow&) {
    throw UsageError("--extend " + std::to_string(more) + ": the run's length does not fit 64-bit arithmetic");
  }
  return from;
}

struct TrainFlags {
  std::string model, schedule, history_path, save, resume, plot;
  std::vector<std::string> callbacks;
};

void add_train_options(po::options_description& options, TrainFlags& f) {
  options.add_options()
      ("model", po::value(&f.model)->required(), "model spec (YAML)")
      ("schedule", po::value(&f.schedule), "schedule spec (YAML); its optimizer: fields override the model's")
      ("seed", po::value<Unsigned>(), "random seed (overrides train.seed)")
      ("epochs", po::value<int64_t>(), "number of epochs in all (overrides train.epochs)")
      ("set", set_option(), kSetHelp)
      ("callback", po::value(&f.callbacks)->composing(), "add a callback, as YAML: '{type: early_stopping, patience: 5}' (repeatable)")
      ("history", po::value(&f.history_path), "write per-epoch history as CSV")
      ("plot", po::value(&f.plot), "write loss, accuracy and learning-rate curves as SVG")
      ("save", po::value(&f.save), "write a checkpoint when the run ends (or is interrupted)")
      ("resume", po::value(&f.resume), "continue from a checkpoint, up to the spec's (or --epochs) total")
      ("extend", po::value<int64_t>(), "with --resume: continue a run of the spec's train.epochs into one N epochs longer "
                                       "(a wsd checkpoint from before its decay: a longer stable phase, then the decay)")
      ("pause-at", po::value<int64_t>(), "stop once this many epochs are done, save to --save, exit 0; --resume continues "
                                         "the same run (the schedule still sees the full length)")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  add_threads_option(options, "BLAS threads (0: OpenBLAS default)");
  add_distributed_options(options);
  add_lr_scaling_options(options);
}

LoadOptions spec_options(const po::variables_map& vm, const TrainFlags& f) {
  LoadOptions load = load_options(vm);
  for (const auto& callback : f.callbacks) load.callbacks.push_back({callback, "--callback " + callback});
  if (vm.count("seed")) load.sets.push_back(flag_override("--seed", std::to_string(vm["seed"].as<Unsigned>().value), "train.seed"));
  if (vm.count("epochs")) load.sets.push_back(flag_override("--epochs", std::to_string(vm["epochs"].as<int64_t>()), "train.epochs"));
  if (vm.count("schedule")) load.schedule_file = f.schedule;
  return load;
}

int64_t pause_at_of(const po::variables_map& vm, const TrainFlags& f) {
  if (!vm.count("pause-at")) return 0;
  const int64_t pause_at = vm["pause-at"].as<int64_t>();
  if (pause_at < 1) throw UsageError("--pause-at must be at least 1");
  if (f.save.empty()) throw UsageError("--pause-at needs --save: the paused run's checkpoint is what continues it");
  return pause_at;
}

// Runs the experiment; over ranks, an error on one rank (the others wait for it in a
// collective) ends every rank, this one saying why.
RunResult run_on_ranks(Experiment& ex, const RunOptions& run, DistributedSession* session) {
  try {
    return run_experiment(ex, run);
  } catch (const Error& e) {
    if (!session) throw;
    session->print_rank_error(e.what());
    session->abort(e.exit_code());
  }
}

void print_final(const Experiment& ex, const History& history, const std::string& save) {
  if (history.epochs.empty()) return;
  const Logs& last = history.epochs.back().logs;
  if (ex.validation) {
    const double acc = last.get("val_accuracy", NAN);
    const auto rows = ex.validation->rows();
    if (!std::isnan(acc))
      std::printf("final val_accuracy: %.4f (%lld/%lld)\n", acc, std::llround(acc * static_cast<double>(rows)),
                  static_cast<long long>(rows));
    std::printf("final val_loss: %.4f\n", last.get("val_loss", NAN));
    for (const auto& m : ex.metrics)
      if (m.name != "accuracy") std::printf("final val_%s: %.4f\n", m.name.c_str(), last.get("val_" + m.name, NAN));
  } else {
    std::printf("final loss: %.4f\n", last.get("loss", NAN));
  }
  if (!save.empty()) std::printf("checkpoint: %s\n", save.c_str());
}

// What rank 0 (or the one process) writes and says once the run has ended; the exit code.
int report_run(const Args& args, const Experiment& ex, const RunResult& result, const TrainFlags& f, bool quiet) {
  if (!f.history_path.empty()) write_history_csv(result.history, f.history_path);
  if (!f.plot.empty()) write_history_plot({{ex.spec.name, result.history}}, f.plot);
  if (result.result == FitResult::kInterrupted) {
    const char* name = result.signal == SIGTERM ? "SIGTERM" : "SIGINT";
    std::fprintf(stderr, "anneal: interrupted by %s; checkpoint saved to %s (continue with: %s)\n", name,
                 result.checkpoint_path.c_str(), continue_command(args, result.checkpoint_path).c_str());
    return 128 + result.signal;
  }
  if (result.result == FitResult::kFailed) throw RuntimeFailure(result.failure);
  if (result.result == FitResult::kPaused) {
    if (!quiet)
      std::printf("paused after %zu of %lld epochs; checkpoint: %s (continue with --resume %s)\n", result.history.epochs.size(),
                  static_cast<long long>(ex.spec.train.epochs), f.save.c_str(), f.save.c_str());
    return kExitOk;
  }
  warn_if_stuck(result.history);
  if (!quiet) print_final(ex, result.history, f.save);
  return kExitOk;
}

}  // namespace

int train_command(const Args& args) {
  po::options_description options("train options");
  TrainFlags f;
  add_train_options(options, f);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "train MODEL [options]", options, positional, vm)) return kExitOk;
  const LoadOptions load = spec_options(vm, f);
  apply_threads(vm);
  const int64_t pause_at = pause_at_of(vm, f);
  LrScaling scaling = lr_scaling(vm);

  const auto session = open_distributed(vm, interrupt_signal);
  install_interrupt_handlers();  // after MPI's start, which installs handlers of its own
  const bool root = !session || session->rank() == 0;
  const bool quiet = vm["quiet"].as<bool>() || !root;  // only rank 0 speaks
  scaling.ranks = session ? session->size() : 1;
  std::optional<Experiment> built;
  int64_t extended_from = 0;
  if (const int code = agree_on_setup(session.get(), [&] {
        ModelSpec spec = load_model_spec(f.model, load);
        if (vm.count("extend")) extended_from = extend_run(spec, vm["extend"].as<int64_t>(), f.resume, vm.count("epochs") > 0);
        // Over ranks a checkpoint that cannot be read is found here, where every rank agrees on
        // the error, rather than mid-run, where each rank would end the job on its own.
        if (session && !f.resume.empty()) (void)load_checkpoint(f.resume);
        scale_batch(spec, scaling);
        built.emplace(build_experiment(std::move(spec), true, build_options(vm)));
        scale_rate(*built, scaling);
        if (session && session->size() > built->spec.train.batch_size)
          throw UsageError("train.batch_size " + std::to_string(built->spec.train.batch_size) + " is the global batch, split over " +
                           std::to_string(session->size()) + " ranks: it must be at least the number of ranks");
      }))
    return code;
  Experiment& ex = *built;
  if (root)  // warnings are worth reading even with --quiet
    for (const auto& warning : ex.warnings) std::fprintf(stderr, "anneal: warning: %s\n", warning.c_str());
  if (!quiet && session && session->size() == 1)
    std::printf("note: --distributed with one rank (start several with mpirun -np N): training as one process\n");
  if (!quiet && session && session->size() > 1)
    std::printf("data-parallel over %d ranks: %lld rows per rank per update (global batch %lld)\n", session->size(),
                static_cast<long long>(ex.spec.train.batch_size / session->size()), static_cast<long long>(ex.spec.train.batch_size));
  RunOptions run;
  run.verbose = !quiet;
  run.save_path = f.save;
  run.resume_path = f.resume;
  run.pause_at = pause_at;
  run.extended_from = extended_from;
  run.interrupt_path = ex.spec.name + ".interrupted.ckpt";
  run.comm = session ? &session->comm() : nullptr;
  run.stop_request = interrupt_signal;
  const RunResult result = run_on_ranks(ex, run, session.get());
  if (root) return report_run(args, ex, result, f, quiet);
  // Other ranks end as rank 0 does, silently.
  if (result.result == FitResult::kInterrupted) return 128 + result.signal;
  return result.result == FitResult::kFailed ? kExitRuntime : kExitOk;
}

}  // namespace anneal::cli
