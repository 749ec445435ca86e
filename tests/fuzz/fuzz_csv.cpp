// The CSV reader and the data encoding: the first byte picks the layout options (header, label,
// missing-value policy, normalisation, a categorical column), the rest is the file.
#include <cstring>

#include "anneal/data.hpp"
#include "anneal/encoding.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t options = data[0];
  const std::string path = anneal::fuzz::write_input(data + 1, size - 1, (options & 0x80) ? ".csv.gz" : ".csv");
  anneal::DataSpec spec;
  spec.path = path;
  spec.header = options & 1;
  spec.label_index = (options & 2) ? std::optional<int64_t>(0) : std::optional<int64_t>(-1);
  static const char* const policies[] = {"error", "mean", "zero", "drop_row"};
  spec.missing = policies[(options >> 2) & 3];
  spec.normalize = (options & 0x10) ? "standard" : "minmax";
  if (options & 0x20) spec.categorical.push_back({int64_t{1}, std::nullopt, {}});
  spec.one_hot = options & 0x40;
  spec.skip_rows = (options >> 6) & 1;
  return anneal::fuzz::guarded([&] {
    const anneal::Dataset raw = anneal::read_csv(spec);
    const anneal::FeatureEncoding encoding = anneal::fit_encoding(raw, spec);
    const anneal::Dataset copied = anneal::encode(encoding, raw);
    // Encoding in place (the rows' own memory, where it can) gives the copy's values.
    anneal::Dataset moved = anneal::encode(encoding, anneal::Dataset(raw));
    const anneal::Tensor& a = copied.features;
    const anneal::Tensor& b = moved.features;
    if (a.size() != b.size() || (a.size() > 0 && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0)) __builtin_trap();
    anneal::encoding_from_yaml(anneal::encoding_to_yaml(encoding), "fuzz");
  });
}
