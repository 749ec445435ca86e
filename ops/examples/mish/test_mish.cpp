// The plugin's own test, with the op test kit installed with Anneal (anneal::testing): golden
// values from the definition in double, and the gradient check. It loads the plugin it tests.
#include <anneal/plugin.hpp>
#include <anneal/testing/gradient_check.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: test_mish PLUGIN.so\n");
    return 2;
  }
  anneal::load_plugin(argv[1]);
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += !ok;
  };

  const std::vector<float> x{-5, -1, -0.2f, 0, 0.3f, 2, 20};
  const auto y = anneal::testing::forward_values("{type: mish}", {anneal::Shape{7}}, 1, {x});
  bool golden = true;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i], expected = v * std::tanh(std::log1p(std::exp(v)));
    golden = golden && std::abs(y[i] - expected) <= 1e-6 * std::max(1.0, std::abs(expected));
  }
  check(golden, "mish values match x tanh(log(1 + e^x))");

  for (const auto& c : {anneal::testing::GradientCase{"mish", "{type: mish}", {anneal::Shape{6}}, anneal::testing::InputFill::kSigned},
                        anneal::testing::GradientCase{"mish", "{type: dense, units: 3, activation: mish}", {anneal::Shape{4}}}}) {
    const auto report = anneal::testing::check_op_gradients(c);
    std::printf("  %s: relative error %.2e over %lld values (worst: %s)\n", c.yaml.c_str(), report.relative_error,
                static_cast<long long>(report.checked), report.worst.c_str());
    check(report.relative_error < 1e-2 && report.contract.empty() && report.checked > 0, "gradient check");
  }
  check(anneal::testing::op_error("{type: mish, beta: 1}").find("unknown key 'beta'") != std::string::npos,
        "an unknown attribute is refused");
  std::printf("%d passed, %d failed\n", 4 - failures, failures);
  return failures == 0 ? 0 : 1;
}
