// Plugins: loading, ABI and name checks, and what they register being usable everywhere.
#include <catch2/catch.hpp>

#include "anneal/plugin.hpp"
#include <anneal/testing/gradient_check.hpp>
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using namespace anneal::testing;
using Catch::Matchers::Contains;

namespace {
std::string plugin_error(const std::string& path) {
  try {
    load_plugin(path);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("a plugin registers schedules, ops and callbacks into the built-in registries", "[plugins]") {
  const auto registered = load_plugin(ANNEAL_TEST_GOOD_PLUGIN);
  CHECK(registered == std::vector<std::string>{"schedule 'test_half'", "op 'test_scale'", "callback 'test_counting'"});
  CHECK(load_plugin(ANNEAL_TEST_GOOD_PLUGIN) == registered);  // loading twice is a no-op
  REQUIRE(ScheduleRegistry::instance().contains("test_half"));
  CHECK_THAT(ScheduleRegistry::instance().find("test_half")->origin, Contains("test_good_plugin"));
  ScheduleContext ctx;
  auto s = make_schedule(attrs_from("{type: test_half, lr: 0.4}", "schedule"), ctx);
  Progress p;
  p.epoch = 3;
  CHECK(s->lr(p) == Approx(0.2));
  // The plugin's op passes the shared gradient check like any built-in.
  const auto report = check_op_gradients({"test_scale", "{type: test_scale, factor: -1.5}", {Shape{4}}});
  CHECK(report.relative_error < 1e-2);
}

TEST_CASE("bad plugins are refused with a clear message", "[plugins]") {
  CHECK_THAT(plugin_error(ANNEAL_TEST_WRONG_ABI_PLUGIN), Contains("was built for plugin ABI 999, but this anneal has ABI " + std::to_string(ANNEAL_PLUGIN_ABI_VERSION)));
  CHECK_THAT(plugin_error(ANNEAL_TEST_NOT_A_PLUGIN), Contains("is not an Anneal plugin"));
  CHECK_THAT(plugin_error(ANNEAL_TEST_CONFLICTING_PLUGIN), Contains("registers schedule 'step_decay', already registered"));
  CHECK_THAT(plugin_error("/nonexistent/plugin.so"), Contains("no such file"));
  CHECK_THAT(plugin_error(source_path("README.md")), Contains("cannot be loaded"));
}

TEST_CASE("plugins from the CLI and from a spec's plugins: list", "[plugins][cli]") {
  auto r = run_cli(std::string("list schedules --plugin ") + ANNEAL_TEST_GOOD_PLUGIN);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("test_half  (plugin: "));
  CHECK_THAT(r.out, Contains("step_decay\n"));
  r = run_cli(std::string("list ops --plugin ") + ANNEAL_TEST_WRONG_ABI_PLUGIN);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("rebuild the plugin"));

  TempDir dir;
  const std::string schedule = dir.write("half.yaml", std::string("version: 1\nplugins: [") + ANNEAL_TEST_GOOD_PLUGIN +
                                                          "]\nschedule: {type: test_half, lr: 0.2}\n");
  // A spec may not run code unless the user allows it.
  r = run_cli("schedule show " + schedule + " --epochs 3");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("half.yaml:2:10: error: schedule file: this spec loads native code (") &&
                        Contains("run with --allow-plugins to let it, or load the libraries yourself with --plugin"));
  r = run_cli("train " + source_path("models/ionosphere.yaml") + " --schedule " + schedule + " --epochs 4 --history " +
              dir.path() + "/h.csv --quiet --allow-plugins");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(read_text(dir.path() + "/h.csv"), Contains("\n3,") );
  const std::string bad = dir.write("bad.yaml", "version: 1\nplugins: [missing.so]\nschedule: {type: test_half}\n");
  r = run_cli("train " + source_path("models/ionosphere.yaml") + " --schedule " + bad + " --allow-plugins");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(bad + ":2:10: error:"));
  CHECK_THAT(r.err, Contains("missing.so': no such file"));
}
