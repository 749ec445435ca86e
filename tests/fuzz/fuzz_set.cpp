// --set assignments: the input is one "dotted.key=value" applied to the lesson's spec.
#include "anneal/experiment.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string spec =
      "version: 1\ninput: [4]\nlayers: [{type: dense, units: 3, activation: relu}, {type: dense, units: 1}]\n"
      "loss: mse\noptimizer: {type: sgd, lr: 0.1}\ntrain: {epochs: 2}\n";
  static const std::string base =
      anneal::fuzz::write_input(reinterpret_cast<const uint8_t*>(spec.data()), spec.size(), ".base.yaml");
  anneal::LoadOptions options;
  options.sets.emplace_back(std::string(reinterpret_cast<const char*>(data), size));
  return anneal::fuzz::guarded([&] { anneal::build_experiment(anneal::load_model_spec(base, options), false, anneal::BuildOptions{int64_t{1} << 30, {}}); });
}
