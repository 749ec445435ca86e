// The checkpoint reader, and loading a checkpoint's weights and data encoding into a model.
#include "anneal/checkpoint.hpp"
#include "anneal/experiment.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = anneal::fuzz::write_input(data, size, ".ckpt");
  return anneal::fuzz::guarded([&] {
    const anneal::Checkpoint c = anneal::load_checkpoint(path);
    if (!c.encoding.empty()) anneal::encoding_from_yaml(c.encoding, path);
  });
}
