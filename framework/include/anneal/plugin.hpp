#pragma once
// Plugins: a shared library with two extern "C" functions, written by ANNEAL_PLUGIN:
//
//   #include <anneal/plugin.hpp>
//   ANNEAL_PLUGIN(registrar) {
//     registrar.schedule<InverseSqrtSchedule>("inverse_sqrt");
//   }
//
// The host checks anneal_plugin_abi_version() against its own before it calls
// anneal_plugin_register(), so a plugin built against another version is refused with a message
// instead of crashing. Registration happens in the entry point, never in static initialisers, so
// nothing runs before that check.

#include <memory>
#include <string>
#include <vector>

#include "anneal/activation.hpp"
#include "anneal/callback.hpp"
#include "anneal/errors.hpp"
#include "anneal/initializer.hpp"
#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/op.hpp"
#include "anneal/optimizer.hpp"
#include "anneal/schedule.hpp"

// Bump whenever an extension interface (Op, Schedule, Callback, Optimizer, Loss, Metric,
// Initializer, AttrMap, Registry) changes layout or meaning.
#define ANNEAL_PLUGIN_ABI_VERSION 6  // 6: Op::gemms, OpContext::gemm; 5: Callback::writes_output; 4: Optimizer step hooks, model point, logged_lr; 3: Op::export_onnx; 2: const Op::forward/backward, executor-owned workspaces

namespace anneal {

class PluginError : public InputError {
 public:
  using InputError::InputError;
};

class PluginRegistrar {
 public:
  explicit PluginRegistrar(std::string origin) : origin_(std::move(origin)) {}

  template <class T> void op(const std::string& name) { add<OpRegistry, T>("op", name); }
  template <class T> void schedule(const std::string& name) { add<ScheduleRegistry, T>("schedule", name); }
  template <class T> void callback(const std::string& name) { add<CallbackRegistry, T>("callback", name); }
  template <class T> void optimizer(const std::string& name) { add<OptimizerRegistry, T>("optimizer", name); }
  template <class T> void loss(const std::string& name) { add<LossRegistry, T>("loss", name); }
  template <class T> void metric(const std::string& name) { add<MetricRegistry, T>("metric", name); }
  template <class T> void initializer(const std::string& name) { add<InitializerRegistry, T>("initializer", name); }

  const std::vector<std::string>& conflicts() const { return conflicts_; }
  const std::vector<std::string>& registered() const { return registered_; }

 private:
  template <class R, class T>
  void add(const std::string& kind, const std::string& name) {
    const bool added = R::instance().add(
        name, [](auto&&... args) -> typename R::Product { return std::make_unique<T>(std::forward<decltype(args)>(args)...); },
        origin_);
    (added ? registered_ : conflicts_).push_back(kind + " '" + name + "'");
  }
  std::string origin_;
  std::vector<std::string> conflicts_, registered_;
};

// Loads a plugin once (again is a no-op) and returns what it registered. Throws PluginError
// (exit code 2) when the file cannot be loaded, is not a plugin, was built for another ABI, or
// registers a name that is already taken.
std::vector<std::string> load_plugin(const std::string& path);

}  // namespace anneal

#define ANNEAL_PLUGIN(registrar)                                                                  \
  extern "C" __attribute__((visibility("default"))) int anneal_plugin_abi_version() {           \
    return ANNEAL_PLUGIN_ABI_VERSION;                                                            \
  }                                                                                              \
  static void anneal_plugin_body(::anneal::PluginRegistrar& registrar);                          \
  extern "C" __attribute__((visibility("default"))) void anneal_plugin_register(                 \
      ::anneal::PluginRegistrar* r) {                                                            \
    anneal_plugin_body(*r);                                                                      \
  }                                                                                              \
  static void anneal_plugin_body(::anneal::PluginRegistrar& registrar)
