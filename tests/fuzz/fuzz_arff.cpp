// The ARFF reader and the data encoding.
#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = anneal::fuzz::write_input(data, size, ".arff");
  anneal::DataSpec spec;
  spec.path = path;
  spec.format = "arff";
  spec.label_index = -1;
  spec.missing = "mean";
  spec.normalize = "standard";
  return anneal::fuzz::guarded([&] {
    const anneal::Dataset raw = anneal::read_arff(spec);
    anneal::encode(anneal::fit_encoding(raw, spec), raw);
  });
}
