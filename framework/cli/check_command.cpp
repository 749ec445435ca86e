#include <cstdio>

#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {

int check_command(const Args& args) {
  po::options_description options("check options");
  std::string model, schedule;
  std::vector<std::string> sets;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("schedule", po::value(&schedule), "schedule spec to check with it")
      ("set", po::value(&sets)->composing(), "override a spec field: dotted.key=value (repeatable)")
      ("no-data", po::bool_switch(), "do not read the data file");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "check MODEL [options]", options, positional, vm)) return kExitOk;

  LoadOptions load;
  load.sets = sets;
  if (vm.count("schedule")) load.schedule_file = schedule;
  const Experiment ex = build_experiment(load_model_spec(model, load), !vm["no-data"].as<bool>());

  std::printf("%-20s %-12s %-16s %10s  %s\n", "node", "op", "shape", "params", "inputs");
  int64_t total = 0;
  for (int index : ex.graph.order()) {
    const auto& node = ex.graph.nodes()[static_cast<size_t>(index)];
    std::string inputs;
    for (int in : node.inputs) inputs += (inputs.empty() ? "" : ", ") + ex.graph.nodes()[static_cast<size_t>(in)].name;
    std::printf("%-20s %-12s %-16s %10lld  %s\n", node.name.c_str(), node.op_type.c_str(),
                node.shape.str(true).c_str(), static_cast<long long>(node.parameter_count()), inputs.c_str());
    total += node.parameter_count();
  }
  std::printf("output: %s %s\n", ex.graph.nodes()[static_cast<size_t>(ex.graph.output())].name.c_str(),
              ex.graph.output_shape().str(true).c_str());
  std::printf("parameters: %lld\n", static_cast<long long>(total));
  const int64_t gradients = static_cast<int64_t>(sizeof(float) * ex.graph.activation_grads().size());
  std::printf("planned memory: %lld bytes (batch %lld): parameters and their gradients %lld, activations %lld, "
              "activation gradients %lld (%lld without sharing buffers between lifetimes)\n",
              static_cast<long long>(ex.graph.planned_bytes()), static_cast<long long>(ex.graph.max_batch()),
              static_cast<long long>(sizeof(float) * 2 * ex.graph.params().size()),
              static_cast<long long>(sizeof(float) * ex.graph.activations().size()), static_cast<long long>(gradients),
              static_cast<long long>(ex.graph.unshared_gradient_bytes()));
  std::printf("forward-only runs (predict): activations %lld bytes, shared by liveness\n",
              static_cast<long long>(sizeof(float) * ex.graph.inference_floats()));
  if (ex.train)
    std::printf("data: %s, %lld training rows, %lld validation rows\n", ex.train->source.c_str(),
                static_cast<long long>(ex.train->rows()),
                static_cast<long long>(ex.validation ? ex.validation->rows() : 0));
  return kExitOk;
}

}  // namespace anneal::cli
