#pragma once
// Shared option parsing for subcommands.

#include <boost/program_options.hpp>

#include <cstdint>
#include <iostream>
#include <string>

#include "anneal/experiment.hpp"
#include "anneal/spec.hpp"
#include "commands.hpp"

namespace anneal::cli {

namespace po = boost::program_options;

// Parses args[1..] into vm. Returns false when --help was printed (the command should exit 0).
// Every command also takes --plugin (loaded here), --allow-plugins, --max-memory, --gemm and
// --gemm-cache.
bool parse(const Args& args, const std::string& usage, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm);

// The memory a run may plan for, in bytes: --max-memory (e.g. 8G, 512M, 1000000), else the
// machine's MemAvailable (/proc/meminfo); 0 when neither is known (no limit).
int64_t memory_limit(const po::variables_map& vm);

// What build_experiment needs from the command line: the memory limit, and how matrix products
// are planned (--gemm auto|openblas|onednn, default auto; --gemm-cache PATH|none, default
// $XDG_CACHE_HOME/anneal/gemm-plans.tsv or ~/.cache/anneal/gemm-plans.tsv).
BuildOptions build_options(const po::variables_map& vm);

// --set KEY=VALUE, repeatable, for a command's options (load_options reads it):
// ("set", set_option(), kSetHelp).
po::typed_value<std::vector<std::string>>* set_option();
inline constexpr const char* kSetHelp = "override a spec field: dotted.key=value (repeatable)";

// Spec loading options that every command shares: --allow-plugins, then --precision and each
// --set as overrides, each named in messages by the flag that gave it ("--set train.epochs=0").
LoadOptions load_options(const po::variables_map& vm);
// An override that a command's own flag stands for: flag_override("--epochs", "5", "train.epochs")
// sets train.epochs=5, and a message about that key names "--epochs 5".
ExternalInput flag_override(const std::string& flag, const std::string& value, const std::string& key);

// --threads above the machine's cores only makes the threads wait for each other (on two cores,
// 100 000 spinning threads also delay a signal for minutes): clamped, with a warning.
int clamp_threads(int requested);
// --threads N for the commands that run a model's products (0: OpenBLAS's default), and its
// effect after parse(): BLAS's (and oneDNN's) thread count, clamped; negative is a usage error.
void add_threads_option(po::options_description& options, const char* what);
void apply_threads(const po::variables_map& vm);

// An unsigned option value (seeds): decimal digits only. Boost's own conversion accepts "-1" for
// an unsigned type and wraps it to 18446744073709551615; this refuses it.
struct Unsigned {
  uint64_t value = 0;
};
std::ostream& operator<<(std::ostream& out, const Unsigned& u);
void validate(boost::any& v, const std::vector<std::string>& values, Unsigned*, int);

}  // namespace anneal::cli
