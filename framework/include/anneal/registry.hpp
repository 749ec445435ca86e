#pragma once
// One string-keyed registry template, reused by every extension point (ops, losses, metrics,
// optimizers, initializers, schedules, callbacks). Registration is one line:
//
//   ANNEAL_REGISTER(OpRegistry, "dense", DenseOp);
//
// The registry lives in libanneal (a shared library), so static registrations in the library and
// in dlopen'ed plugins all land in the same table and the linker cannot drop them.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace anneal {

// Every name that two built-ins registered ("op 'relu' (...)"), across all registries; the CLI
// refuses to start when there is one.
std::vector<std::string> builtin_registration_conflicts();

// "did you mean 'bar'? known: a, b, c" for an unknown name among `known`.
std::string suggest_known(const std::string& name, const std::vector<std::string>& known);

template <class Base, class... Args>
class Registry {
 public:
  using Product = std::unique_ptr<Base>;
  using Factory = std::function<Product(Args...)>;

  struct Entry {
    Factory factory;
    std::string origin;  // "built-in" or the plugin path that registered it
  };

  // Defined once, in libanneal (registries.cpp), for each registry type: every module that
  // registers or looks up, plugins built with hidden visibility included, reaches the same table.
  static Registry& instance();

  // Returns false (and keeps the first) when the name is taken, so a plugin cannot silently
  // replace a built-in; the plugin loader turns that into an error.
  bool add(const std::string& name, Factory factory, const std::string& origin = "built-in") {
    if (auto taken = entries_.find(name); taken != entries_.end()) {
      // Two built-ins under one name is a build defect that static registration would hide
      // (the second silently lost): kept for builtin_registration_conflicts().
      if (origin == "built-in") builtin_conflicts_.push_back(name + " (registered by " + taken->second.origin + " and again)");
      return false;
    }
    entries_.emplace(name, Entry{std::move(factory), origin});
    return true;
  }
  const std::vector<std::string>& builtin_conflicts() const { return builtin_conflicts_; }

  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

  const std::map<std::string, Entry>& entries() const { return entries_; }

  // "unknown op 'foo' (did you mean 'bar'? known: ...)"
  std::string unknown_message(const std::string& kind, const std::string& name) const {
    return "unknown " + kind + " '" + name + "' (" + suggest_known(name, names()) + ")";
  }

 private:
  Registry() = default;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> builtin_conflicts_;
};

}  // namespace anneal

#define ANNEAL_CONCAT_INNER(a, b) a##b
#define ANNEAL_CONCAT(a, b) ANNEAL_CONCAT_INNER(a, b)

// Registers `Class` under `name` in `RegistryType`; Class must be constructible from the
// registry's factory arguments.
#define ANNEAL_REGISTER(RegistryType, name, Class)                                          \
  static const bool ANNEAL_CONCAT(anneal_registered_, __LINE__) [[maybe_unused]] =           \
      RegistryType::instance().add(name, [](auto&&... args) -> RegistryType::Product {       \
        return std::make_unique<Class>(std::forward<decltype(args)>(args)...);               \
      })
