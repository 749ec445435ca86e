#include "anneal/spec.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/depthguard.h>

#include "anneal/file_checks.hpp"
#include "anneal/plugin.hpp"

namespace anneal {
namespace fs = std::filesystem;

namespace {

// YAML forbids a key twice in one mapping; yaml-cpp keeps both and lookups see one, so a
// repeated key would silently drop a value. Reported at the second occurrence.
void reject_duplicate_keys(const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) {
    for (const auto& item : node) reject_duplicate_keys(item, path);
  } else if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& item : node) {
      if (item.first.IsScalar() && !seen.insert(item.first.Scalar()).second) {
        const auto mark = item.first.Mark();
        throw SpecError(SourceLocation{path, mark.line + 1, mark.column + 1},
                        "key '" + item.first.Scalar() + "' appears twice in this mapping (YAML forbids duplicate keys)");
      }
      reject_duplicate_keys(item.second, path);
    }
  }
}

}  // namespace

YAML::Node load_yaml_file(const std::string& path) {
  if (const auto problem = regular_file_problem(path); !problem.empty())
    throw InputError(format_error({path, 0, 0}, "'" + path + "' " + problem));
  std::ifstream in(path);
  if (!in) throw InputError(format_error({path, 0, 0}, "cannot open file"));
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp refuses documents nested deeper than its fixed limit (and says only "bad file").
    throw SpecError(SourceLocation{path, e.mark.line + 1, e.mark.column + 1},
                    "the YAML nests mappings and lists more than " + std::to_string(kMaxYamlDepth) +
                        " levels deep, the limit specs have (a schedule nested in another's mapping takes one level, in a list two); "
                        "flatten it, e.g. one sequential schedule with many stages");
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based.
    throw SpecError(SourceLocation{path, e.mark.line + 1, e.mark.column + 1},
                    "invalid YAML: " + e.msg);
  }
  reject_duplicate_keys(root, path);
  return root;
}

AttrMap typed_attrs(const YAML::Node& node, const std::shared_ptr<const SpecOrigin>& origin,
                    const std::string& path, const std::string& kind) {
  if (node.IsScalar()) {
    // "relu" is shorthand for {type: relu}; the shorthand keeps the scalar's position.
    YAML::Node map(YAML::NodeType::Map);
    map["type"] = node;
    AttrMap attrs(map, origin, path, kind);
    return attrs;
  }
  if (!node.IsDefined() || node.IsNull())
    throw SpecError(node_location(node, *origin, path), kind + ": missing");
  return AttrMap(node, origin, path, kind);
}

AttrMap nested_typed_attrs(AttrMap& parent, const std::string& key, const std::string& fallback) {
  const YAML::Node node = parent.raw(key);
  const std::string what = parent.what() + ": " + key;
  if (node.IsDefined() && !node.IsNull()) return typed_attrs(node, parent.origin(), parent.child_path(key), what);
  if (fallback.empty()) return AttrMap({}, parent.origin(), parent.child_path(key), what);
  YAML::Node map(YAML::NodeType::Map);
  map["type"] = fallback;
  return AttrMap(map, parent.origin(), parent.child_path(key), what);
}

namespace {

void check_version(AttrMap& root) {
  const int version = root.get<int>("version");
  if (version != kSpecVersion)
    root.fail("version", "is " + std::to_string(version) + ": unsupported spec version (this build reads version " +
                             std::to_string(kSpecVersion) + ")");
}

// Loads the spec's `plugins:` (paths relative to the spec) before anything looks up a name, when
// the user allows a spec to load code; a downloaded spec must not run code just by being read.
void load_spec_plugins(AttrMap& root, const std::string& spec_file, bool allowed) {
  const auto paths = root.get<std::vector<std::string>>("plugins", {});
  if (!paths.empty() && !allowed) {
    std::string list;
    for (const auto& path : paths) list += (list.empty() ? "" : ", ") + path;
    throw PluginsNotAllowed(root.location_of("plugins"), root.what() + ": this spec loads native code (" + list +
                                                             "), which a spec may only do when its reader allows it");
  }
  for (const auto& path : paths) {
    const fs::path p(path);
    const std::string resolved = p.is_absolute() ? path : (fs::path(spec_file).parent_path() / p).string();
    try {
      load_plugin(resolved);
    } catch (const PluginError& e) {
      root.fail_value("plugins", e.what());
    }
  }
}

// A `callbacks:` list: each item a name or a mapping with type:.
// The typed entries of a list key (callbacks, metrics); none when the key is absent or null.
std::vector<AttrMap> typed_list(AttrMap& root, const std::string& key, const char* kind, const std::string& not_a_list) {
  std::vector<AttrMap> out;
  const YAML::Node list = root.raw(key);
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence()) root.fail(key, not_a_list);
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(typed_attrs(list[i], root.origin(), key + "." + std::to_string(i), kind));
  return out;
}

std::vector<AttrMap> callback_list(AttrMap& root) { return typed_list(root, "callbacks", "callback", "must be a list of callbacks"); }

// How a message names text from outside the file: the caller's words for it, or what it is and
// the text itself ("override train.epochs=0", "callback {...}").
std::string source_name(const ExternalInput& input, const char* kind) {
  return input.source.empty() ? kind + (" " + input.text) : input.source;
}
std::string override_name(const ExternalInput& set) { return source_name(set, "override"); }

// The list item `part` of an override's path names, checked against the list's length.
size_t list_index(const YAML::Node& list, const std::string& part, const ExternalInput& set) {
  // Decimal digits only: stoul would read "0x1" as 0 and "1junk" as 1.
  if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
    throw InputError(override_name(set) + ": '" + part + "' is not a list index (" +
                     (list.size() == 0 ? std::string("the list is empty")
                                       : "the list has " + std::to_string(list.size()) + " items, 0 to " +
                                             std::to_string(list.size() - 1)) + ")");
  const size_t index = std::stoul(part);
  if (index >= list.size())
    throw InputError(override_name(set) + ": index " + part + " is past the end of the list (" +
                     std::to_string(list.size()) + " items)");
  return index;
}

// Applies one "a.b.0.c=value" override to the YAML tree; messages about the overridden keys then
// name the override instead of a line of the file.
void apply_set(YAML::Node root, const ExternalInput& set, SpecOrigin& origin) {
  const std::string& assignment = set.text;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(override_name(set) + ": expected dotted.key=value");
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw InputError(override_name(set) + ": invalid YAML value: " + e.msg);
  }
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);

  YAML::Node node = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (node.IsSequence()) {
      const size_t index = list_index(node, part, set);
      if (last) node[index] = value;
      else node.reset(node[index]);
    } else if (node.IsMap() || node.IsNull() || !node.IsDefined()) {
      if (last) node[part] = value;
      else {
        if (!node[part].IsDefined() || node[part].IsNull()) node[part] = YAML::Node(YAML::NodeType::Map);
        node.reset(node[part]);
      }
    } else {
      throw InputError(override_name(set) + ": '" + parts[i - 1] + "' is not a mapping or list");
    }
  }
  const std::string name = override_name(set);
  origin.overrides[path] = name;
  origin.textual.insert(name);
}

// Bounds on synthetic data, so that a typo is an error at its key rather than an allocation that
// fails or takes the machine: a row keeps its label and its index (12 bytes), the labels' teacher
// is features x classes floats, and one row is generated at a time into a buffer of its size.
constexpr int64_t kMaxSyntheticRows = int64_t{1} << 28;         // 3 GiB of labels and indices
constexpr int64_t kMaxSyntheticFeatures = int64_t{1} << 26;     // 256 MiB for one row
constexpr int64_t kMaxSyntheticTeacher = int64_t{1} << 28;      // 1 GiB of teacher weights

SyntheticSpec parse_synthetic(AttrMap s) {
  SyntheticSpec out;
  out.rows = s.get<int64_t>("rows");
  s.require(out.rows >= 1, "rows", "must be at least 1");
  s.require(out.rows <= kMaxSyntheticRows, "rows", "must be at most " + std::to_string(kMaxSyntheticRows) + " (each row keeps a label and an index: 12 bytes)");
  const bool has_features = s.has("features"), has_shape = s.has("shape");
  if (has_features == has_shape) s.fail_here("give either 'features' (a count) or 'shape' (a list), not both");
  if (has_features) {
    out.shape = {s.get<int64_t>("features")};
  } else {
    out.shape = s.get<std::vector<int64_t>>("shape");
    s.require(!out.shape.empty() && out.shape.size() <= static_cast<size_t>(Shape::kMaxRank), "shape", "must list 1 to 6 dimensions");
  }
  const char* size_key = has_features ? "features" : "shape";
  int64_t values = 1;
  for (int64_t d : out.shape) {
    s.require(d >= 1, size_key, "must be positive");
    values = d > kMaxSyntheticFeatures / values ? kMaxSyntheticFeatures + 1 : values * d;
  }
  s.require(values <= kMaxSyntheticFeatures, size_key,
            "must give at most " + std::to_string(kMaxSyntheticFeatures) + " values per row (256 MiB)");
  out.classes = s.get<int64_t>("classes", 2);
  s.require(out.classes >= 2, "classes", "must be at least 2");
  s.require(out.classes <= kMaxSyntheticTeacher / values, "classes",
            "times the " + std::to_string(values) + " values per row must be at most " + std::to_string(kMaxSyntheticTeacher) +
                " (the labels' teacher holds one weight for each: 1 GiB)");
  out.seed = s.get<uint64_t>("seed", 0);
  s.finish();
  return out;
}

// A column by 0-based index (negative counts from the end) or, with a header, by name.
ColumnRef column_ref(const YAML::Node& node, const SourceLocation& where, const std::string& what) {
  ColumnRef ref;
  ref.location = where;
  if (!node.IsScalar()) throw SpecError(where, what + " must be a column index or a column name");
  const std::string text = node.Scalar();
  try {
    size_t used = 0;
    const int64_t index = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    ref.index = index;
  } catch (const std::logic_error&) {
    ref.name = text;
  }
  return ref;
}

std::string resolve_path(const std::string& path, const std::string& spec_file) {
  const fs::path p(path);
  return p.is_absolute() ? path : (fs::path(spec_file).parent_path() / p).lexically_normal().string();
}

void parse_file_layout(AttrMap& data, DataSpec& out, const std::string& spec_file) {
  const auto path = data.get<std::string>("path");
  out.path_location = data.location_of("path");
  out.path = resolve_path(path, spec_file);
  const bool arff_suffix = path.size() >= 5 && path.compare(path.size() - 5, 5, ".arff") == 0;
  out.format = data.get<std::string>("format", arff_suffix ? "arff" : "csv");
  data.require(out.format == "csv" || out.format == "arff", "format", "is '" + out.format + "', expected csv or arff");
  out.header = data.get<bool>("header", false);
  data.require(!(out.header && out.format == "arff"), "header", "does not apply to ARFF files (their @attribute lines name the columns)");
  const auto delimiter = data.get<std::string>("delimiter", ",");
  data.require(delimiter.size() == 1, "delimiter", "must be one character");
  out.delimiter = delimiter[0];
  out.skip_rows = data.get<int64_t>("skip_rows", 0);
  data.require(out.skip_rows >= 0, "skip_rows", "must be 0 or more");
  if (data.has("validation_path")) {
    out.validation_location = data.location_of("validation_path");
    out.validation_path = resolve_path(data.get<std::string>("validation_path"), spec_file);
  }
}

void parse_columns(AttrMap& data, DataSpec& out) {
  out.label_location = data.location_of("label");
  const YAML::Node label = data.raw("label");
  if (!label.IsDefined() || label.IsNull()) {
    out.label_index = -1;
  } else {
    const ColumnRef ref = column_ref(label, out.label_location, "label");
    out.label_index = ref.index;
    out.label_name = ref.name;
  }
  const bool named_columns = out.header || out.format == "arff";
  data.require(!out.label_name || named_columns, "label", "is a column name, which needs header: true");
  if (data.has("categorical")) {
    const YAML::Node list = data.raw("categorical");
    const std::string path = data.child_path("categorical");
    if (!list.IsSequence()) data.fail("categorical", "must be a list of column indices or names");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto where = node_location(list[i], *data.origin(), path + "." + std::to_string(i));
      out.categorical.push_back(column_ref(list[i], where, "categorical entry"));
      if (out.categorical.back().name && !named_columns)
        throw SpecError(where, "categorical column '" + *out.categorical.back().name + "' is a name, which needs header: true");
    }
  }
  if (data.has("sample_weight")) {
    out.sample_weight = column_ref(data.raw("sample_weight"), data.location_of("sample_weight"), "sample_weight");
    data.require(!out.sample_weight->name || named_columns, "sample_weight", "is a column name, which needs header: true");
  }
  out.missing = data.get<std::string>("missing", "error");
  data.require(out.missing == "error" || out.missing == "mean" || out.missing == "zero" || out.missing == "drop_row",
               "missing", "is '" + out.missing + "', expected error, mean, zero or drop_row");
}

DataSpec parse_data(AttrMap data, const std::string& spec_file) {
  DataSpec out;
  out.location = data.location();
  out.one_hot = data.get<bool>("one_hot", false);
  out.normalize = data.get<std::string>("normalize", "none");
  data.require(out.normalize == "none" || out.normalize == "standard" || out.normalize == "minmax", "normalize",
               "is '" + out.normalize + "', expected none, standard or minmax");
  if (data.has("synthetic")) {
    out.synthetic = parse_synthetic(data.child("synthetic"));
    data.finish();
    return out;
  }
  if (!data.has("path")) {
    // A misspelt key is the likely cause: name it (with a did-you-mean) before asking for 'path'.
    for (const char* key : {"format", "header", "delimiter", "skip_rows", "validation_path", "label", "categorical",
                            "sample_weight", "missing"})
      data.has(key);
    data.finish();
    data.fail_here("needs 'path' (a data file) or 'synthetic' (generated rows)");
  }
  parse_file_layout(data, out, spec_file);
  parse_columns(data, out);
  data.finish();
  return out;
}

// class_weight: balanced, or a mapping label -> weight (labels as written in the data).
void parse_class_weight(AttrMap& train, TrainSpec& out) {
  out.class_weight_location = train.location_of("class_weight");
  const YAML::Node node = train.raw("class_weight");
  if (!node.IsDefined() || node.IsNull()) return;
  if (node.IsScalar()) {
    train.require(node.Scalar() == "balanced", "class_weight", "is '" + node.Scalar() + "', expected balanced or a mapping label: weight");
    out.balanced_class_weight = true;
    return;
  }
  if (!node.IsMap()) train.fail("class_weight", "must be balanced or a mapping label: weight");
  const std::string path = train.child_path("class_weight");
  for (const auto& item : node) {
    const auto label = item.first.as<std::string>();
    const auto where = node_location(item.second, *train.origin(), path + "." + label);
    const auto weight = convert_scalar<double>(item.second, where, "class_weight of '" + label + "'");
    if (!(weight >= 0) || !std::isfinite(weight)) throw SpecError(where, "class_weight of '" + label + "' must be a finite number >= 0");
    out.class_weight.emplace_back(label, weight);
  }
}

TrainSpec parse_train(AttrMap train) {
  TrainSpec out;
  out.location = train.location();
  out.epochs = train.get<int64_t>("epochs", 1);
  train.require(out.epochs > 0, "epochs", "must be at least 1");
  out.batch_size = train.get<int64_t>("batch_size", 32);
  train.require(out.batch_size > 0, "batch_size", "must be at least 1");
  out.validation_split = train.get<double>("validation_split", 0.0);
  train.require(out.validation_split >= 0 && out.validation_split < 1, "validation_split",
                "must be in [0, 1)");
  out.split = train.get<std::string>("split", "last");
  train.require(out.split == "last" || out.split == "shuffled" || out.split == "stratified", "split",
                "is '" + out.split + "', expected last, shuffled or stratified");
  out.split_seed = train.get<uint64_t>("split_seed", 0);
  out.shuffle = train.get<bool>("shuffle", true);
  out.seed = train.get<uint64_t>("seed", 0);
  out.terminate_on_nan = train.get<bool>("terminate_on_nan", true);
  out.precision = train.get<std::string>("precision", "float32");
  out.precision_location = train.location_of("precision");
  train.require(out.precision == "float32" || out.precision == "mixed_bfloat16", "precision",
                "is '" + out.precision + "', expected float32 or mixed_bfloat16");
  parse_class_weight(train, out);
  train.finish();
  return out;
}

NodeSpec parse_node(AttrMap attrs, bool explicit_form, const std::string& previous,
                    std::map<std::string, int>& type_counts) {
  NodeSpec node;
  node.location = attrs.location();
  const std::string type_key = explicit_form ? "op" : "type";
  node.op = attrs.get<std::string>(type_key);
  node.op_location = attrs.location_of(type_key);
  if (explicit_form) {
    node.name = attrs.get<std::string>("name");
    const YAML::Node inputs = attrs.raw("inputs");
    const std::string inputs_path = attrs.child_path("inputs");
    if (!inputs.IsDefined() || inputs.IsNull()) {
      throw SpecError(node.location, "node '" + node.name + "': missing required key 'inputs'");
    } else if (inputs.IsScalar()) {
      node.inputs.push_back(inputs.Scalar());
      node.input_locations.push_back(node_location(inputs, *attrs.origin(), inputs_path));
    } else if (inputs.IsSequence()) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const auto where = node_location(inputs[i], *attrs.origin(), inputs_path + "." + std::to_string(i));
        node.inputs.push_back(convert_scalar<std::string>(inputs[i], where, "node '" + node.name + "': input"));
        node.input_locations.push_back(where);
      }
    } else {
      attrs.fail("inputs", "must be a node name or a list of node names");
    }
  } else {
    // Keras-style default names: dense_1, dense_2, ...
    node.name = attrs.get<std::string>("name", node.op + "_" + std::to_string(++type_counts[node.op]));
    node.inputs = {previous};
    node.input_locations = {node.location};
  }
  attrs.set_what((explicit_form ? "node '" : "layer '") + node.name + "' (" + node.op + ")");
  node.attrs = std::move(attrs);
  return node;
}

}  // namespace

ScheduleFile load_schedule_file(const std::string& path, bool allow_plugins) {
  auto origin = std::make_shared<SpecOrigin>(SpecOrigin{path, {}, {}});
  AttrMap root(load_yaml_file(path), origin, "", "schedule file");
  check_version(root);
  load_spec_plugins(root, path, allow_plugins);
  ScheduleFile out{typed_attrs(root.raw("schedule"), origin, "schedule", "schedule"), std::nullopt, {}};
  if (root.has("optimizer")) out.optimizer = root.child("optimizer");
  out.callbacks = callback_list(root);
  root.finish();
  return out;
}

namespace {

// The schedule file's optimizer fields override the model's, key by key; the schedule file's
// key node keeps its place for messages.
void merge_schedule_optimizer(YAML::Node& tree, const ScheduleFile& schedule_file, const std::string& schedule_path,
                              SpecOrigin& origin) {
  if (!schedule_file.optimizer) return;
  if (!tree["optimizer"].IsMap()) tree["optimizer"] = YAML::Node(YAML::NodeType::Map);
  for (const auto& item : schedule_file.optimizer->node()) {
    const std::string key = item.first.Scalar();
    tree["optimizer"].remove(key);
    tree["optimizer"][item.first] = item.second;
    origin.overrides["optimizer." + key] = schedule_path;
  }
}

// A name, not a path: files named after it (an interrupted run's checkpoint) stay where the user
// runs Anneal.
std::string spec_name(AttrMap& root, const std::string& path) {
  const auto name = root.get<std::string>("name", fs::path(path).stem().string());
  root.require(!name.empty() && name.find_first_of("/\\") == std::string::npos && name != "." && name != "..", "name",
               "must be a plain name (no '/' or '\\', not '.' or '..'), got '" + name + "'");
  return name;
}

Shape input_shape(AttrMap& root) {
  const auto input = root.get<std::vector<int64_t>>("input");
  if (input.empty() || input.size() > static_cast<size_t>(Shape::kMaxRank))
    root.fail("input", "must list 1 to " + std::to_string(Shape::kMaxRank) + " dimensions");
  for (int64_t d : input) root.require(d > 0, "input", "dimensions must be positive");
  try {
    int64_t elements = 1;
    for (int64_t d : input) elements = checked_mul(elements, d);
  } catch (const SizeOverflow&) {
    root.fail("input", "has more values per sample than 64-bit arithmetic holds");
  }
  return Shape(input);
}

// The model's body: a sequential 'layers' list (each layer reads the one before) or a 'nodes'
// graph (each node names its inputs); exactly one of them.
std::vector<NodeSpec> body_nodes(AttrMap& root) {
  const bool has_layers = root.has("layers"), has_nodes = root.has("nodes");
  if (has_layers == has_nodes)
    root.fail_here(has_layers ? "give either 'layers' or 'nodes', not both"
                              : "missing 'layers' (a sequential list) or 'nodes' (a graph)");
  const std::string list_key = has_layers ? "layers" : "nodes";
  std::map<std::string, int> type_counts;
  std::string previous = "input";
  auto items = root.child_list(list_key);
  if (items.empty()) root.fail(list_key, "must list at least one " + std::string(has_layers ? "layer" : "node"));
  std::vector<NodeSpec> nodes;
  for (auto& item : items) {
    nodes.push_back(parse_node(std::move(item), has_nodes, previous, type_counts));
    previous = nodes.back().name;
  }
  return nodes;
}

// A callback given outside the spec (the command line's --callback); its locations name the text
// it came from, which has no lines in any file.
AttrMap external_callback(const ExternalInput& callback) {
  YAML::Node node;
  const std::string name = source_name(callback, "callback");
  try {
    node = YAML::Load(callback.text);
  } catch (const YAML::Exception& e) {
    throw InputError(name + ": invalid YAML: " + e.msg);
  }
  auto external = std::make_shared<SpecOrigin>(SpecOrigin{name, {}, {}});
  return typed_attrs(node, external, "", "callback");
}

}  // namespace

ModelSpec load_model_spec(const std::string& path, const LoadOptions& options) {
  auto origin = std::make_shared<SpecOrigin>(SpecOrigin{path, {}, {}});
  YAML::Node tree = load_yaml_file(path);
  if (!tree.IsMap())
    throw SpecError(SourceLocation{path, 1, 1}, "a model spec must be a YAML mapping");
  for (const auto& assignment : options.sets) apply_set(tree, assignment, *origin);
  std::optional<ScheduleFile> schedule_file;
  if (options.schedule_file) {
    schedule_file = load_schedule_file(*options.schedule_file, options.allow_plugins);
    merge_schedule_optimizer(tree, *schedule_file, *options.schedule_file, *origin);
  }

  AttrMap root(tree, origin, "", "model spec");
  check_version(root);
  load_spec_plugins(root, path, options.allow_plugins);
  ModelSpec spec;
  spec.file = path;
  spec.name = spec_name(root, path);
  if (root.has("data")) spec.data = parse_data(root.child("data"), path);
  spec.input = input_shape(root);
  spec.input_location = root.location_of("input");
  spec.nodes = body_nodes(root);
  spec.output = root.get<std::string>("output", spec.nodes.back().name);
  spec.output_location = root.location_of("output");

  if (!root.has("loss")) root.fail_here("missing required key 'loss'");
  spec.loss = typed_attrs(root.raw("loss"), origin, "loss", "loss");
  spec.metrics = typed_list(root, "metrics", "metric", "must be a list");
  if (!root.has("optimizer")) root.fail_here("missing required key 'optimizer'");
  spec.optimizer = typed_attrs(root.raw("optimizer"), origin, "optimizer", "optimizer");
  spec.train = parse_train(root.child("train"));
  if (spec.data && !spec.data->validation_path.empty() && spec.train.validation_split > 0)
    throw SpecError(spec.data->validation_location,
                    "validation_path gives the validation rows, so train.validation_split must be absent or 0");
  if (root.has("schedule")) spec.schedule = typed_attrs(root.raw("schedule"), origin, "schedule", "schedule");
  if (schedule_file) spec.schedule = schedule_file->schedule;
  spec.callbacks = callback_list(root);
  if (schedule_file) spec.callbacks.insert(spec.callbacks.end(), schedule_file->callbacks.begin(), schedule_file->callbacks.end());
  for (const ExternalInput& callback : options.callbacks) spec.callbacks.push_back(external_callback(callback));
  root.finish();
  return spec;
}

YAML::Node resolved_spec_tree(const std::string& path, const std::vector<ExternalInput>& sets) {
  SpecOrigin origin{path, {}, {}};
  YAML::Node tree = load_yaml_file(path);
  if (!tree.IsMap()) throw SpecError(SourceLocation{path, 1, 1}, "a model spec must be a YAML mapping");
  for (const auto& assignment : sets) apply_set(tree, assignment, origin);
  const auto absolute = [&](YAML::Node node) {
    if (node && node.IsScalar()) node = fs::absolute(resolve_path(node.Scalar(), path)).lexically_normal().string();
  };
  if (tree["data"] && tree["data"].IsMap()) {
    absolute(tree["data"]["path"]);
    absolute(tree["data"]["validation_path"]);
  }
  if (tree["plugins"] && tree["plugins"].IsSequence())
    for (size_t i = 0; i < tree["plugins"].size(); ++i) absolute(tree["plugins"][i]);
  return tree;
}

}  // namespace anneal
