#include "anneal/attr_map.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "anneal/registry.hpp"

namespace anneal {

std::string SpecOrigin::file_for(const std::string& path) const {
  // The longest overridden prefix of `path` wins ("layers.0" covers "layers.0.units").
  std::string best_key;
  const std::string* best = nullptr;
  for (const auto& [prefix, name] : overrides) {
    const bool covers = path == prefix || (path.size() > prefix.size() &&
                                           path.compare(0, prefix.size(), prefix) == 0 &&
                                           path[prefix.size()] == '.');
    if (covers && prefix.size() >= best_key.size()) {
      best_key = prefix;
      best = &name;
    }
  }
  return best ? *best : file;
}

SourceLocation node_location(const YAML::Node& node, const SpecOrigin& origin,
                             const std::string& path) {
  SourceLocation loc{origin.file_for(path), 0, 0};
  if (node.IsDefined()) {
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) {
      loc.line = mark.line + 1;
      loc.column = mark.column + 1;
    }
  }
  // An overridden value was parsed from the override's text, not from the file: no line to point at.
  if (loc.file != origin.file && origin.textual.count(loc.file)) loc.line = loc.column = 0;
  return loc;
}

namespace {

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "'" + node.Scalar() + "'";
}

[[noreturn]] void type_error(const YAML::Node& node, const SourceLocation& where,
                             const std::string& what, const char* expected) {
  throw SpecError(where, what + ": expected " + expected + ", got " + describe(node));
}

template <class Number>
bool parse_number(const std::string& text, Number& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && begin != end;
}

}  // namespace

template <>
std::string convert_scalar<std::string>(const YAML::Node& node, const SourceLocation& where,
                                        const std::string& what) {
  if (!node.IsScalar()) type_error(node, where, what, "a string");
  return node.Scalar();
}

template <>
int64_t convert_scalar<int64_t>(const YAML::Node& node, const SourceLocation& where,
                                const std::string& what) {
  int64_t value = 0;
  if (!node.IsScalar() || !parse_number(node.Scalar(), value))
    type_error(node, where, what, "an integer");
  return value;
}

template <>
int convert_scalar<int>(const YAML::Node& node, const SourceLocation& where,
                        const std::string& what) {
  const int64_t value = convert_scalar<int64_t>(node, where, what);
  if (value < INT32_MIN || value > INT32_MAX) type_error(node, where, what, "a 32-bit integer");
  return static_cast<int>(value);
}

template <>
uint64_t convert_scalar<uint64_t>(const YAML::Node& node, const SourceLocation& where,
                                  const std::string& what) {
  uint64_t value = 0;
  if (!node.IsScalar() || !parse_number(node.Scalar(), value))
    type_error(node, where, what, "a non-negative integer");
  return value;
}

template <>
double convert_scalar<double>(const YAML::Node& node, const SourceLocation& where,
                              const std::string& what) {
  double value = 0;
  if (!node.IsScalar() || !parse_number(node.Scalar(), value) || !std::isfinite(value))
    type_error(node, where, what, "a number");
  return value;
}

template <>
bool convert_scalar<bool>(const YAML::Node& node, const SourceLocation& where,
                          const std::string& what) {
  if (node.IsScalar()) {
    std::string s = node.Scalar();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  type_error(node, where, what, "true or false");
}

namespace {
template <class T>
std::vector<T> convert_list(const YAML::Node& node, const SourceLocation& where,
                            const std::string& what, const SpecOrigin& origin,
                            const std::string& path, const char* expected) {
  if (!node.IsSequence()) type_error(node, where, what, expected);
  std::vector<T> out;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = path + "." + std::to_string(i);
    out.push_back(convert_scalar<T>(node[i], node_location(node[i], origin, item_path),
                                    what + "[" + std::to_string(i) + "]"));
  }
  return out;
}
}  // namespace

AttrMap::AttrMap(YAML::Node node, std::shared_ptr<const SpecOrigin> origin, std::string path,
                 std::string what)
    : node_(std::move(node)), origin_(std::move(origin)), path_(std::move(path)),
      what_(std::move(what)) {
  if (!node_.IsDefined() || node_.IsNull()) node_ = YAML::Node(YAML::NodeType::Map);
  if (!node_.IsMap())
    throw SpecError(location(), what_ + ": expected a mapping, got " + describe(node_));
}

std::string AttrMap::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool AttrMap::has(const std::string& key) const {
  asked_.insert(key);
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

YAML::Node AttrMap::value_node(const std::string& key) {
  asked_.insert(key);
  return node_[key];
}

SourceLocation AttrMap::location() const {
  // A mapping built from shorthand ("relu" for {type: relu}) has no mark of its own; point at
  // its first value instead.
  if (node_.Mark().is_null())
    for (const auto& item : node_)
      if (!item.second.Mark().is_null()) return node_location(item.second, *origin_, path_);
  return node_location(node_, *origin_, path_);
}

SourceLocation AttrMap::location_of(const std::string& key) const {
  const YAML::Node value = node_[key];
  if (value.IsDefined() && !value.Mark().is_null())
    return node_location(value, *origin_, child_path(key));
  return location();
}

SourceLocation AttrMap::key_location(const std::string& key) const {
  for (const auto& item : node_)
    if (item.first.IsScalar() && item.first.Scalar() == key)
      return node_location(item.first, *origin_, child_path(key));
  return location();
}

void AttrMap::fail(const std::string& key, const std::string& message) const {
  throw SpecError(location_of(key), what_ + ": '" + key + "' " + message);
}

void AttrMap::fail_value(const std::string& key, const std::string& message) const {
  throw SpecError(location_of(key), what_ + ": " + message);
}

void AttrMap::fail_here(const std::string& message) const {
  throw SpecError(location(), what_ + ": " + message);
}

template <class T>
std::optional<T> AttrMap::get_optional(const std::string& key) {
  const YAML::Node value = value_node(key);
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  const std::string what = what_ + ": '" + key + "'";
  if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<int64_t>> ||
                std::is_same_v<T, std::vector<std::string>>) {
    using Item = typename T::value_type;
    const char* expected = std::is_same_v<Item, std::string> ? "a list of strings"
                           : std::is_same_v<Item, double>    ? "a list of numbers"
                                                             : "a list of integers";
    return convert_list<Item>(value, location_of(key), what, *origin_, child_path(key), expected);
  } else {
    return convert_scalar<T>(value, location_of(key), what);
  }
}

template <class T>
T AttrMap::get(const std::string& key) {
  auto value = get_optional<T>(key);
  if (!value) {
    // A misspelling of the missing key is the likeliest cause: say so at the misspelled key.
    for (const auto& item : node_) {
      const std::string other = item.first.Scalar();
      if (asked_.count(other)) continue;
      if (suggest_known(other, {key}).rfind("did you mean", 0) == 0)
        throw SpecError(key_location(other), what_ + ": unknown key '" + other + "' (did you mean '" + key +
                                                 "'? it is required)");
    }
    throw SpecError(location(), what_ + ": missing required key '" + key + "'");
  }
  return *value;
}

template <class T>
T AttrMap::get(const std::string& key, const T& fallback) {
  auto value = get_optional<T>(key);
  return value ? *value : fallback;
}

#define ANNEAL_ATTR_TYPE(T)                                                   \
  template std::optional<T> AttrMap::get_optional<T>(const std::string&);    \
  template T AttrMap::get<T>(const std::string&);                             \
  template T AttrMap::get<T>(const std::string&, const T&);
ANNEAL_ATTR_TYPE(std::string)
ANNEAL_ATTR_TYPE(int64_t)
ANNEAL_ATTR_TYPE(int)
ANNEAL_ATTR_TYPE(uint64_t)
ANNEAL_ATTR_TYPE(double)
ANNEAL_ATTR_TYPE(bool)
ANNEAL_ATTR_TYPE(std::vector<double>)
ANNEAL_ATTR_TYPE(std::vector<int64_t>)
ANNEAL_ATTR_TYPE(std::vector<std::string>)
#undef ANNEAL_ATTR_TYPE

YAML::Node AttrMap::raw(const std::string& key) { return value_node(key); }

AttrMap AttrMap::child(const std::string& key) {
  const YAML::Node value = value_node(key);
  const std::string what = what_ + ": '" + key + "'";
  if (value.IsDefined() && !value.IsNull() && !value.IsMap())
    throw SpecError(location_of(key), what + ": expected a mapping, got " + describe(value));
  AttrMap out(value, origin_, child_path(key), what);
  return out;
}

std::vector<AttrMap> AttrMap::child_list(const std::string& key) {
  const YAML::Node value = value_node(key);
  if (!value.IsDefined() || value.IsNull()) return {};
  if (!value.IsSequence())
    throw SpecError(location_of(key),
                    what_ + ": '" + key + "': expected a list, got " + describe(value));
  std::vector<AttrMap> out;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string path = child_path(key) + "." + std::to_string(i);
    out.emplace_back(value[i], origin_, path, what_ + ": " + key + "[" + std::to_string(i) + "]");
  }
  return out;
}

void AttrMap::finish() const {
  std::vector<std::string> known(asked_.begin(), asked_.end());
  for (const auto& item : node_) {
    const std::string key = item.first.Scalar();
    if (!asked_.count(key))
      throw SpecError(key_location(key),
                      what_ + ": unknown key '" + key + "' (" + suggest_known(key, known) + ")");
  }
}

void AttrMap::set_what(std::string what) { what_ = std::move(what); }

}  // namespace anneal
