// The model-spec loader and the compiler: any bytes as a model spec, compiled without its data.
#include "anneal/experiment.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = anneal::fuzz::write_input(data, size, ".yaml");
  return anneal::fuzz::guarded([&] {
    anneal::ModelSpec spec = anneal::load_model_spec(path, {});
    anneal::build_experiment(std::move(spec), false, anneal::BuildOptions{int64_t{1} << 30, {}});
  });
}
