#pragma once
// The YAML mapping of one op, schedule, optimizer, callback or spec section, with typed getters
// that remember every value's position. finish() rejects keys nobody asked for, so a misspelled
// key fails loudly instead of silently falling back to a default.

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "anneal/errors.hpp"

namespace anneal {

// Which file a YAML node came from. A spec can mix nodes from the model file, a schedule file
// and --set flags; overrides maps a dotted path to the file (or flag) its value came from.
struct SpecOrigin {
  std::string file;
  std::map<std::string, std::string> overrides;  // dotted path -> origin name
  std::set<std::string> textual;                 // origin names parsed from a string: no lines to point at

  std::string file_for(const std::string& path) const;
};

class AttrMap {
 public:
  AttrMap() = default;
  // `what` names the owner in messages ("op 'dense'"); `path` is its dotted path in the spec.
  AttrMap(YAML::Node node, std::shared_ptr<const SpecOrigin> origin, std::string path,
          std::string what);

  // Asking whether a key is there marks it as understood (it appears in "known" lists).
  bool has(const std::string& key) const;

  template <class T>
  T get(const std::string& key);  // required
  template <class T>
  T get(const std::string& key, const T& fallback);  // optional
  template <class T>
  std::optional<T> get_optional(const std::string& key);

  // Nested mappings and lists of mappings (e.g. an initializer or a child schedule).
  AttrMap child(const std::string& key);
  std::vector<AttrMap> child_list(const std::string& key);
  // The raw node of a key (marks it used), for values that are "a name or a mapping".
  YAML::Node raw(const std::string& key);

  // Throws for the first key that no getter asked for, with a did-you-mean among the keys the
  // owner does understand (everything it asked for, present or not).
  void finish() const;

  SourceLocation location() const;                        // the mapping itself
  SourceLocation location_of(const std::string& key) const;  // a key's value (or the mapping)
  SourceLocation key_location(const std::string& key) const; // the key text
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  [[noreturn]] void fail_here(const std::string& message) const;
  // At a key's value, with a message that does not start with the key ("unknown op 'x' ...").
  [[noreturn]] void fail_value(const std::string& key, const std::string& message) const;
  // fail(key, message) unless ok.
  void require(bool ok, const std::string& key, const std::string& message) const {
    if (!ok) fail(key, message);
  }

  const std::string& what() const { return what_; }
  void set_what(std::string what);
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  const std::shared_ptr<const SpecOrigin>& origin() const { return origin_; }
  std::string child_path(const std::string& key) const;

 private:
  YAML::Node value_node(const std::string& key);
  SourceLocation location_of_node(const YAML::Node& node, const std::string& path) const;

  YAML::Node node_;
  std::shared_ptr<const SpecOrigin> origin_;
  std::string path_;
  std::string what_;
  mutable std::set<std::string> asked_;  // has() records what an owner understands
};

// Location of any node, given where it sits in the spec.
SourceLocation node_location(const YAML::Node& node, const SpecOrigin& origin,
                             const std::string& path);

// Converts a scalar to T or throws SpecError at the node ("expected an integer, got 'abc'").
template <class T>
T convert_scalar(const YAML::Node& node, const SourceLocation& where, const std::string& what);

}  // namespace anneal
