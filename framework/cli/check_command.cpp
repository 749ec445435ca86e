#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <strings.h>

#include "anneal/atomic_file.hpp"
#include "anneal/blas.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {

namespace {

// 1234567 -> "1.23 M"; bytes use the binary prefixes.
std::string human(double value, bool bytes = false) {
  const char* units[] = {"", " K", " M", " G", " T"};
  const char* byte_units[] = {" B", " KiB", " MiB", " GiB", " TiB"};
  const double step = bytes ? 1024 : 1000;
  int u = 0;
  while (value >= step && u < 4) {
    value /= step;
    ++u;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, u == 0 ? "%.0f%s" : "%.2f%s", value, bytes ? byte_units[u] : units[u]);
  return buffer;
}

// Per sample: forward, plus the backward work this node really does in training.
double training_flops(const CompiledGraph& g, const CompiledNode& node) {
  if (!node.requires_grad) return node.flops.forward;
  const bool inputs_need = std::any_of(node.inputs.begin(), node.inputs.end(), [&](int in) {
    return g.nodes()[static_cast<size_t>(in)].requires_grad;
  });
  return node.flops.forward + node.flops.backward - (inputs_need ? 0 : node.flops.input_gradient);
}

void print_nodes(const CompiledGraph& g) {
  const double batch = static_cast<double>(g.max_batch());
  std::printf("%-20s %-18s %-16s %10s %14s %12s  %s\n", "node", "op", "shape", "params", "FLOPs/batch", "activations",
              "inputs");
  for (int index : g.order()) {
    const auto& node = g.nodes()[static_cast<size_t>(index)];
    std::string inputs;
    for (int in : node.inputs) inputs += (inputs.empty() ? "" : ", ") + g.nodes()[static_cast<size_t>(in)].name;
    std::string params = std::to_string(node.parameter_count());
    if (node.parameter_count() && !node.params.front().training.trainable) params += "*";
    const double flops = batch * training_flops(g, node);
    std::printf("%-20s %-18s %-16s %10s %14s %12s  %s\n", node.name.c_str(), node.op_type.c_str(),
                node.shape.str(true).c_str(), params.c_str(), human(flops).c_str(),
                human(batch * static_cast<double>(node.shape.numel()) * sizeof(float), true).c_str(), inputs.c_str());
  }
}

void print_totals(const CompiledGraph& g) {
  const auto& s = g.sizes();
  const double f = sizeof(float);
  double per_sample = 0;
  for (const auto& node : g.nodes()) per_sample += training_flops(g, node);
  std::printf("output: %s %s\n", g.nodes()[static_cast<size_t>(g.output())].name.c_str(), g.output_shape().str(true).c_str());
  std::printf("parameters: %lld (trainable %lld, frozen %lld; * marks a frozen node), %s\n",
              static_cast<long long>(s.params), static_cast<long long>(s.trainable),
              static_cast<long long>(s.params - s.trainable), human(f * static_cast<double>(s.params), true).c_str());
  std::printf("non-trainable state: %lld values, %s\n", static_cast<long long>(s.state),
              human(f * static_cast<double>(s.state), true).c_str());
  std::printf("FLOPs per training sample (forward + backward): %s\n", human(per_sample).c_str());
  std::printf("planned memory at batch %lld: activations %s, activation gradients %s (%s without sharing buffers "
              "between lifetimes), parameter gradients %s, saved workspaces %s, scratch %s\n",
              static_cast<long long>(g.max_batch()), human(f * static_cast<double>(s.activations), true).c_str(),
              human(f * static_cast<double>(s.gradients), true).c_str(),
              human(f * static_cast<double>(s.unshared_gradients), true).c_str(),
              human(f * static_cast<double>(s.trainable), true).c_str(), human(f * static_cast<double>(s.saved), true).c_str(),
              human(f * static_cast<double>(s.scratch), true).c_str());
  std::printf("total for training: %s (weights %s, one training executor %s)\n",
              human(f * static_cast<double>(s.params + s.state) + static_cast<double>(g.executor_bytes(true)), true).c_str(),
              human(f * static_cast<double>(s.params + s.state), true).c_str(), human(static_cast<double>(g.executor_bytes(true)), true).c_str());
  std::printf("forward-only runs (predict): %s per executor (activations shared by liveness: %s)\n",
              human(static_cast<double>(g.executor_bytes(false)), true).c_str(),
              human(f * static_cast<double>(s.inference), true).c_str());
}

// Each convolution the ops declared: oneDNN's direct kernel, or the op's im2col and products.
void print_convolutions(const CompiledGraph& g) {
  const auto& convolutions = g.gemm_plan().convolutions();
  if (convolutions.empty()) return;
  std::printf("convolutions at batch %lld (another batch runs on im2col and products):\n", static_cast<long long>(g.max_batch()));
  std::printf("  %-44s %-8s %s\n", "input * kernel, strides, dilation, padding", "runs as", "chosen by");
  for (const auto& c : convolutions)
    std::printf("  %-44s %-8s %s\n", c.shape.str().c_str(), c.direct ? "direct" : "im2col",
                (c.source + (c.direct ? " (" + c.implementation + ")" : "")).c_str());
}

// Whether a dense layer's two gradient products run at the same time, one thread each.
void print_side_by_side(const GemmPlan& plan) {
  if (!onednn_available()) return;
  const auto& choices = plan.choices();
  const bool on_onednn = std::any_of(choices.begin(), choices.end(), [](const GemmChoice& c) { return c.backend == GemmBackend::kOneDnn; });
  const std::string how = !plan.side_by_side() ? "one after the other (" + plan.side_by_side_reason() + ")"
                          : on_onednn          ? std::string("side by side, one thread each, where both run on oneDNN")
                                               : std::string("one after the other (side by side needs them on oneDNN)");
  std::printf("  a dense layer's two gradient products: %s\n", how.c_str());
}

// Each matrix product the ops declared, the library that runs it, and why.
void print_gemms(const CompiledGraph& g, const BuildOptions& build) {
  print_convolutions(g);
  const auto& choices = g.gemm_plan().choices();
  if (choices.empty()) return;
  const char* policy = build.gemm.policy == GemmPolicy::kAuto ? "auto" : build.gemm.policy == GemmPolicy::kOneDnn ? "onednn" : "openblas";
  // OPENBLAS_CORETYPE overrides the kernels OpenBLAS would pick for this CPU (an AVX2 set on an
  // AVX-512 CPU halves its rate); say so, since it moves every decision below. OpenBLAS ignores a
  // name it does not know, and compares names without case.
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  const std::string core = blas::core();
  std::string kernels = "OpenBLAS's " + core + " kernels";
  if (forced && *forced)
    kernels += strcasecmp(forced, core.c_str()) == 0 ? ", forced by OPENBLAS_CORETYPE"
                                                     : std::string(", OPENBLAS_CORETYPE=") + forced + " not recognised";
  std::printf("matrix products at batch %lld (--gemm %s; %s; %s; %d threads; %s):\n", static_cast<long long>(g.max_batch()),
              policy, onednn_description().c_str(), kernels.c_str(), build.gemm.threads, cpu_model().c_str());
  std::printf("  %-28s %-9s %12s %12s  %s\n", "op(A)op(B) m x n x k", "runs on", "openblas", "onednn", "chosen by");
  for (const auto& c : choices) {
    auto rate = [](double gflops) { return gflops > 0 ? std::to_string(static_cast<int>(gflops + 0.5)) + " GF/s" : std::string("-"); };
    std::string why = c.source;
    if (!c.implementation.empty() && c.backend == GemmBackend::kOneDnn) why += " (" + c.implementation + ")";
    if (c.split != GemmSplit::kNone)
      why += std::string(", in halves by ") + split_name(c.split) + " (one per thread" +
             (c.split_gflops > 0 ? ": " + std::to_string(static_cast<int>(c.split_gflops + 0.5)) + " GF/s)" : std::string(")"));
    std::printf("  %-28s %-9s %12s %12s  %s\n", c.shape.str().c_str(), backend_name(c.backend), rate(c.openblas_gflops).c_str(),
                rate(c.onednn_gflops).c_str(), why.c_str());
  }
  if (!g.gemm_plan().decision().empty()) std::printf("  decided by: %s\n", g.gemm_plan().decision().c_str());
  if (g.gemm_plan().passes_share_pool())
    std::printf("  ops' elementwise passes: split over the products' %d threads (no product splits over OpenBLAS's)\n",
                build.gemm.threads);
  else if (onednn_available())
    std::printf("  ops' elementwise passes: one thread (OpenBLAS splits a product over its own threads, which would compete)\n");
  print_side_by_side(g.gemm_plan());
}

// Which source line became which side: lets another tool (bench/bundled_models.py) use exactly
// the rows Anneal trains and validates on.
void write_split(const Experiment& ex, const std::string& path) {
  if (!ex.train) throw UsageError("--split-out needs the data (drop --no-data)");
  std::string text = "file,line,side\n";
  auto add = [&](const Dataset& data, const char* side) {
    for (int64_t r = 0; r < data.rows(); ++r)
      text += data.source + "," + std::to_string(r < static_cast<int64_t>(data.lines.size()) ? data.lines[static_cast<size_t>(r)] : 0) +
              "," + side + "\n";
  };
  add(*ex.train, "train");
  if (ex.validation) add(*ex.validation, "validation");
  write_file_atomically(path, text);
}

}  // namespace

int check_command(const Args& args) {
  po::options_description options("check options");
  std::string model, schedule, split_out;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("schedule", po::value(&schedule), "schedule spec to check with it")
      ("set", set_option(), kSetHelp)
      ("no-data", po::bool_switch(), "do not read the data file")
      ("split-out", po::value(&split_out), "write CSV 'file,line,side': where each row comes from and whether it trains or validates");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "check MODEL [options]", options, positional, vm)) return kExitOk;

  LoadOptions load = load_options(vm);
  if (vm.count("schedule")) load.schedule_file = schedule;
  const BuildOptions build = build_options(vm);
  const Experiment ex = build_experiment(load_model_spec(model, load), !vm["no-data"].as<bool>(), build);
  print_nodes(ex.graph);
  print_totals(ex.graph);
  print_gemms(ex.graph, build);
  if (ex.train)
    std::printf("data: %s, %lld training rows, %lld validation rows\n", ex.train->source.c_str(),
                static_cast<long long>(ex.train->rows()),
                static_cast<long long>(ex.validation ? ex.validation->rows() : 0));
  const auto& columns = ex.encoding.columns;
  const bool informative = ex.encoding.normalize != "none" ||
                           std::any_of(columns.begin(), columns.end(), [](const ColumnEncoding& c) { return c.categorical || c.fill != 0; });
  if (!ex.encoding.empty() && !informative) {
    std::printf("data encoding: %zu numeric features, no normalisation\n", columns.size());
  } else if (!ex.encoding.empty()) {
    std::printf("data encoding (fitted on the training rows; %zu columns -> %lld features):\n%s\n", ex.encoding.columns.size(),
                static_cast<long long>(ex.encoding.width()), encoding_to_yaml(ex.encoding).c_str());
  }
  for (const auto& warning : ex.warnings) std::printf("warning: %s\n", warning.c_str());
  if (!split_out.empty()) write_split(ex, split_out);
  return kExitOk;
}

}  // namespace anneal::cli
