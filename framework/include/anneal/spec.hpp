#pragma once
// The model spec (versioned YAML) as parsed, before compilation. Loading checks structure and
// types; the compiler checks names, shapes and the graph.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anneal/attr_map.hpp"
#include "anneal/shape.hpp"

namespace anneal {

inline constexpr int kSpecVersion = 1;

// Generated data for benchmarks and tests: Gaussian features, labels from a random linear teacher.
// A spec may nest YAML mappings and lists this deep: yaml-cpp's fixed parser limit, reported by
// name when exceeded.
inline constexpr int kMaxYamlDepth = 500;

struct SyntheticSpec {
  int64_t rows = 0;
  std::vector<int64_t> shape;  // per sample ([784] or [1, 28, 28])
  int64_t classes = 2;
  uint64_t seed = 0;
};

// A column named in a spec: by 0-based index (negative counts from the end) or by header name.
struct ColumnRef {
  std::optional<int64_t> index;
  std::optional<std::string> name;
  SourceLocation location;
};

struct DataSpec {
  std::optional<SyntheticSpec> synthetic;  // instead of a file
  std::string path;  // resolved against the spec's folder
  SourceLocation path_location;
  std::string format = "csv";  // csv | arff (the .arff suffix chooses arff)
  bool header = false;
  char delimiter = ',';
  int64_t skip_rows = 0;  // lines skipped before the header or the first row
  std::optional<int64_t> label_index;  // negative counts from the end
  std::optional<std::string> label_name;
  SourceLocation label_location;
  bool one_hot = false;
  std::string missing = "error";      // error | mean | zero | drop_row
  std::vector<ColumnRef> categorical;  // string feature columns, one-hot encoded
  std::string normalize = "none";     // none | standard | minmax
  std::optional<ColumnRef> sample_weight;
  bool ignore_labels = false;         // predict: the label and weight columns are read past
  std::string validation_path;        // a separate validation file, read with the same options
  SourceLocation validation_location;
  SourceLocation location;            // the data: mapping
};

struct NodeSpec {
  std::string name;
  std::string op;
  SourceLocation location;     // the node's mapping
  SourceLocation op_location;  // its type/op value
  std::vector<std::string> inputs;
  std::vector<SourceLocation> input_locations;
  AttrMap attrs;  // the op's own attributes (name/op/inputs already consumed)
};

struct TrainSpec {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  double validation_split = 0.0;
  std::string split = "last";   // last | shuffled | stratified
  uint64_t split_seed = 0;      // the validation rows' seed, apart from `seed`
  bool shuffle = true;
  uint64_t seed = 0;
  bool terminate_on_nan = true;
  // class_weight (Keras): "balanced" (scikit-learn's n / (classes * count)) or label -> weight.
  bool balanced_class_weight = false;
  std::vector<std::pair<std::string, double>> class_weight;
  SourceLocation class_weight_location;
  // float32, or mixed_bfloat16 (Keras' policy name): matrix products take bfloat16 inputs and
  // accumulate in float32; weights, optimizer state, losses and elementwise ops stay float32.
  std::string precision = "float32";
  SourceLocation precision_location;
  SourceLocation location;
};

struct ModelSpec {
  std::string file;
  std::string name;
  Shape input;
  SourceLocation input_location;
  std::optional<DataSpec> data;
  std::vector<NodeSpec> nodes;
  std::string output;  // node name
  SourceLocation output_location;
  AttrMap loss;
  std::vector<AttrMap> metrics;
  AttrMap optimizer;
  std::optional<AttrMap> schedule;  // from the model file or --schedule
  std::vector<AttrMap> callbacks;   // the model's, then the schedule file's
  TrainSpec train;
};

// Text the loader takes from outside the spec file — a key override ("train.epochs=5") or a
// callback ("{type: early_stopping, patience: 5}") — with the words that name its source in
// messages and locations: a front end passes what its user typed (the CLI: "--set
// train.epochs=5"); left empty, messages say "override train.epochs=5" or "callback {...}".
struct ExternalInput {
  ExternalInput(std::string text_, std::string source_ = {}) : text(std::move(text_)), source(std::move(source_)) {}
  ExternalInput(const char* text_) : text(text_) {}
  std::string text;
  std::string source;
};

struct LoadOptions {
  std::vector<ExternalInput> sets;       // "dotted.key=value" overrides, applied in order
  std::optional<std::string> schedule_file;
  std::vector<ExternalInput> callbacks;  // YAML callbacks, after the spec's own
  // A spec's `plugins:` list runs native code: loaded only when the caller allows it; otherwise
  // PluginsNotAllowed names the libraries.
  bool allow_plugins = false;
};

// A spec lists `plugins:` and the loader was not allowed to load native code; at the list.
class PluginsNotAllowed : public SpecError {
 public:
  using SpecError::SpecError;
};

// Reads a YAML file; a syntax error becomes a SpecError at its line and column.
YAML::Node load_yaml_file(const std::string& path);

ModelSpec load_model_spec(const std::string& path, const LoadOptions& options = {});

// The model file's YAML with `sets` applied as load_model_spec applies them, and its relative file
// paths (data.path, data.validation_path, plugins) made absolute: a spec that runs from any
// folder. `anneal tune` writes its winning configuration this way.
YAML::Node resolved_spec_tree(const std::string& path, const std::vector<ExternalInput>& sets);

// A schedule file: version, schedule mapping, optional optimizer overrides.
struct ScheduleFile {
  AttrMap schedule;
  std::optional<AttrMap> optimizer;
  std::vector<AttrMap> callbacks;
};
ScheduleFile load_schedule_file(const std::string& path, bool allow_plugins = false);

// "a name or a mapping with type:" as one AttrMap with a `type` key.
AttrMap typed_attrs(const YAML::Node& node, const std::shared_ptr<const SpecOrigin>& origin,
                    const std::string& path, const std::string& kind);

// The "a name or a mapping" value under `key` of `parent`, as typed_attrs, named
// "<parent>: <key>" in messages. When the key is absent: {type: fallback}, or an empty AttrMap
// when there is no fallback (the caller's default applies).
AttrMap nested_typed_attrs(AttrMap& parent, const std::string& key, const std::string& fallback = "");

// Builds a registry product from a typed AttrMap and checks that every key was understood.
template <class RegistryType, class... Extra>
typename RegistryType::Product create_from(AttrMap& attrs, const std::string& kind,
                                           Extra&&... extra) {
  const auto type = attrs.get<std::string>("type");
  const auto* entry = RegistryType::instance().find(type);
  if (!entry) attrs.fail_value("type", RegistryType::instance().unknown_message(kind, type));
  auto product = entry->factory(attrs, std::forward<Extra>(extra)...);
  attrs.finish();
  return product;
}

}  // namespace anneal
