// The `anneal` command line. Library code throws; only this file turns errors into exit codes:
// 0 success, 2 invalid spec, data or usage, 1 runtime failure.
#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "anneal/errors.hpp"
#include "anneal/registry.hpp"
#include "commands.hpp"
#include "distributed.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(const anneal::cli::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"train", anneal::cli::train_command, "train a model spec, optionally with a schedule file"},
    {"check", anneal::cli::check_command, "compile a model spec and print its nodes, shapes and parameters"},
    {"list", anneal::cli::list_command, "list registered ops, schedules, optimizers, initializers, losses, metrics, callbacks"},
    {"graph", anneal::cli::graph_command, "write the compiled graph as Graphviz dot"},
    {"schedule", anneal::cli::schedule_command, "show or plot a schedule's rates (and momentum) before training"},
    {"evaluate", anneal::cli::evaluate_command, "loss and metrics of a checkpoint's weights"},
    {"predict", anneal::cli::predict_command, "outputs and class labels for each row of a CSV"},
    {"export", anneal::cli::export_command, "write a trained model as ONNX or a NumPy archive"},
    {"plot", anneal::cli::plot_command, "loss, accuracy and learning-rate curves from history CSVs"},
    {"sweep", anneal::cli::sweep_command, "train schedules x seeds (in parallel) and compare them"},
    {"report", anneal::cli::report_command, "one self-contained HTML page for a sweep, a tune study or a cv run"},
    {"tune", anneal::cli::tune_command, "search spec keys by grid, random search, successive halving or Hyperband"},
    {"cv", anneal::cli::cv_command, "k-fold cross-validation"},
    {"lr-find", anneal::cli::lr_find_command, "learning-rate range test: suggests a rate"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: anneal COMMAND [options]   (anneal COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
  std::fprintf(out, "\nexit codes: 0 success, 1 runtime failure, 2 invalid spec, data or usage\n");
}

void report(const std::string& message) {
  // Under an MPI launcher every rank meets the same error; rank 0 says it.
  if (anneal::cli::rank_from_environment() > 0) return;
  anneal::cli::print_error(message);
}

}  // namespace

void anneal::cli::print_error(const std::string& message) {
  if (message.find("error: ") == std::string::npos) std::fprintf(stderr, "anneal: error: %s\n", message.c_str());
  else std::fprintf(stderr, "%s\n", message.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return anneal::kExitInvalidInput;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return anneal::kExitOk;
  }
  if (const auto conflicts = anneal::builtin_registration_conflicts(); !conflicts.empty()) {
    for (const auto& c : conflicts) report("internal error: a built-in name is registered twice: " + c);
    return anneal::kExitRuntime;
  }
  const anneal::cli::Args args(argv + 1, argv + argc);
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const anneal::Bfloat16Unsupported& e) {
      report(std::string(e.what()) + " (--emulate-bf16 does, with no speed-up)");
      return e.exit_code();
    } catch (const anneal::PluginsNotAllowed& e) {
      report(std::string(e.what()) + "; run with --allow-plugins to let it, or load the libraries yourself with --plugin");
      return e.exit_code();
    } catch (const anneal::MemoryLimitExceeded& e) {
      report(std::string(e.what()) + "; --max-memory SIZE sets the limit");
      return e.exit_code();
    } catch (const anneal::Error& e) {
      report(e.what());
      return e.exit_code();
    } catch (const boost::program_options::error& e) {
      report(std::string(e.what()) + " (see anneal " + name + " --help)");
      return anneal::kExitInvalidInput;
    } catch (const std::exception& e) {
      report(std::string("internal error: ") + e.what());
      return anneal::kExitRuntime;
    }
  }
  report("unknown command '" + name + "'");
  print_usage(stderr);
  return anneal::kExitInvalidInput;
}
