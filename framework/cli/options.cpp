#include "options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <limits>

#include "anneal/blas.hpp"
#include "anneal/errors.hpp"
#include "anneal/gemm.hpp"
#include "anneal/plugin.hpp"

namespace anneal::cli {

bool parse(const Args& args, const std::string& usage, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm) {
  options.add_options()("help,h", "show this help")(
      "plugin", po::value<std::vector<std::string>>()->composing(), "load a plugin library (repeatable)")(
      "allow-plugins", po::bool_switch(), "let specs load the libraries their plugins: lists name (native code)")(
      "max-memory", po::value<std::string>(), "refuse models that need more memory to train (8G, 512M, bytes; default: what is available)")(
      "gemm", po::value<std::string>()->default_value("auto"),
      "library for matrix products: auto (the faster per shape, timed once per machine), openblas, onednn")(
      "gemm-cache", po::value<std::string>(), "file of auto's measurements (default: ~/.cache/anneal/gemm-plans.tsv; none: keep none)")(
      "precision", po::value<std::string>(), "float32 or mixed_bfloat16 (sets train.precision)")(
      "emulate-bf16", po::bool_switch(),
      "mixed_bfloat16 on a CPU without bfloat16 support: round the products' inputs and run them in float32 (same numbers, no speed-up)");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  po::store(po::command_line_parser(rest).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: anneal " << usage << "\n\n" << options << "\n";
    return false;
  }
  po::notify(vm);
  if (vm.count("plugin"))
    for (const auto& path : vm["plugin"].as<std::vector<std::string>>()) load_plugin(path);
  return true;
}

int64_t memory_limit(const po::variables_map& vm) {
  if (vm.count("max-memory")) {
    const std::string text = vm["max-memory"].as<std::string>();
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const std::string unit = text.substr(used);
    double scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    else if (unit == "K" || unit == "KiB") scale = 1024.0;
    else if (unit == "M" || unit == "MiB") scale = 1024.0 * 1024;
    else if (unit == "G" || unit == "GiB") scale = 1024.0 * 1024 * 1024;
    else if (unit == "T" || unit == "TiB") scale = 1024.0 * 1024 * 1024 * 1024;
    if (used == 0 || scale == 0 || !(value > 0) || value * scale > 9e18)
      throw UsageError("--max-memory " + text + ": expected a positive size such as 8G, 512M or 1000000");
    return static_cast<int64_t>(value * scale);
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    int64_t kib = 0;
    meminfo >> kib;
    if (key == "MemAvailable:") return kib * 1024;
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

namespace {

std::string default_gemm_cache() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && *xdg) return std::string(xdg) + "/anneal/gemm-plans.tsv";
  if (home && *home) return std::string(home) + "/.cache/anneal/gemm-plans.tsv";
  return "";
}

}  // namespace

BuildOptions build_options(const po::variables_map& vm) {
  BuildOptions options;
  options.memory_limit = memory_limit(vm);
  const std::string name = vm.count("gemm") ? vm["gemm"].as<std::string>() : "auto";
  const auto policy = parse_gemm_policy(name);
  if (!policy) throw UsageError("--gemm " + name + ": expected auto, openblas or onednn");
  if (*policy == GemmPolicy::kOneDnn && !onednn_available()) throw UsageError("--gemm onednn: " + onednn_description());
  options.gemm.policy = *policy;
  options.gemm.threads = blas::threads();
  options.gemm.emulate_bfloat16 = vm.count("emulate-bf16") && vm["emulate-bf16"].as<bool>();
  if (*policy != GemmPolicy::kAuto) return options;
  const std::string path = vm.count("gemm-cache") ? vm["gemm-cache"].as<std::string>() : default_gemm_cache();
  if (path.empty() || path == "none") return options;
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  if (error) {
    std::fprintf(stderr, "warning: cannot create the folder of the gemm cache %s (%s); measuring without one\n", path.c_str(),
                 error.message().c_str());
    return options;
  }
  options.gemm.cache = std::make_shared<FileGemmCache>(path);
  return options;
}

po::typed_value<std::vector<std::string>>* set_option() { return po::value<std::vector<std::string>>()->composing(); }

LoadOptions load_options(const po::variables_map& vm) {
  LoadOptions load;
  load.allow_plugins = vm.count("allow-plugins") && vm["allow-plugins"].as<bool>();
  if (vm.count("precision")) load.sets.push_back(flag_override("--precision", vm["precision"].as<std::string>(), "train.precision"));
  if (vm.count("set"))
    for (const auto& assignment : vm["set"].as<std::vector<std::string>>()) load.sets.push_back({assignment, "--set " + assignment});
  return load;
}

ExternalInput flag_override(const std::string& flag, const std::string& value, const std::string& key) {
  return {key + "=" + value, flag + " " + value};
}

int clamp_threads(int requested) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores > 0 && requested > cores) {
    std::fprintf(stderr, "warning: --threads %d is more than the %d cores; using %d\n", requested, cores, cores);
    return cores;
  }
  return requested;
}

void add_threads_option(po::options_description& options, const char* what) {
  options.add_options()("threads", po::value<int>()->default_value(0), what);
}

void apply_threads(const po::variables_map& vm) {
  const int threads = vm["threads"].as<int>();
  if (threads < 0) throw UsageError("--threads must be >= 0");
  blas::set_threads(clamp_threads(threads));
}

std::ostream& operator<<(std::ostream& out, const Unsigned& u) { return out << u.value; }

void validate(boost::any& v, const std::vector<std::string>& values, Unsigned*, int) {
  po::validators::check_first_occurrence(v);
  const std::string& text = po::validators::get_single_string(values);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw po::invalid_option_value(text + " (expected a whole number from 0 to 18446744073709551615)");
  v = Unsigned{value};
}

}  // namespace anneal::cli
