// Claims an ABI this build does not have; the host must refuse it before registering anything.
extern "C" __attribute__((visibility("default"))) int anneal_plugin_abi_version() { return 999; }
extern "C" __attribute__((visibility("default"))) void anneal_plugin_register(void*) {}
