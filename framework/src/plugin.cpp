#include "anneal/plugin.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <map>

namespace anneal {

std::vector<std::string> load_plugin(const std::string& path) {
  static std::map<std::string, std::vector<std::string>> loaded;  // canonical path -> registered
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(path, ec);
  if (ec) throw PluginError("plugin '" + path + "': no such file");
  if (auto it = loaded.find(canonical.string()); it != loaded.end()) return it->second;

  // RTLD_LOCAL: a plugin's own symbols stay its own; it shares libanneal (and so the
  // registries) through its normal link.
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw PluginError("plugin '" + path + "' cannot be loaded: " + dlerror());
  using AbiFn = int (*)();
  using RegisterFn = void (*)(PluginRegistrar*);
  auto abi = reinterpret_cast<AbiFn>(dlsym(handle, "anneal_plugin_abi_version"));
  auto entry = reinterpret_cast<RegisterFn>(dlsym(handle, "anneal_plugin_register"));
  if (!abi || !entry) {
    dlclose(handle);
    throw PluginError("'" + path + "' is not an Anneal plugin (it lacks anneal_plugin_abi_version or "
                      "anneal_plugin_register; write the entry point with ANNEAL_PLUGIN)");
  }
  if (const int version = abi(); version != ANNEAL_PLUGIN_ABI_VERSION) {
    dlclose(handle);
    throw PluginError("plugin '" + path + "' was built for plugin ABI " + std::to_string(version) +
                      ", but this anneal has ABI " + std::to_string(ANNEAL_PLUGIN_ABI_VERSION) +
                      ": rebuild the plugin against this version");
  }
  PluginRegistrar registrar(canonical.string());
  entry(&registrar);
  if (!registrar.conflicts().empty()) {
    std::string names;
    for (const auto& n : registrar.conflicts()) names += (names.empty() ? "" : ", ") + n;
    // The library stays loaded: what it did register may already be referenced.
    throw PluginError("plugin '" + path + "' registers " + names + ", already registered by another plugin or built in");
  }
  return loaded[canonical.string()] = registrar.registered();
}

}  // namespace anneal
