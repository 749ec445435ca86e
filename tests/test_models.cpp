// The bundled models: each compiles against its data; the digits CNN reaches its accuracy band and
// trains without allocating.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "allocation_counter.hpp"
#include "anneal/callbacks.hpp"
#include "anneal/experiment.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

TEST_CASE("every bundled model compiles against its data", "[models][cli]") {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("models"))) {
    if (entry.path().extension() != ".yaml") continue;
    INFO(entry.path().string());
    const auto r = run_cli("check " + entry.path().string());
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("FLOPs per training sample"));
    ++checked;
  }
  CHECK(checked >= 3);
}

TEST_CASE("the digits CNN reaches 97 % held-out accuracy", "[models][digits][cli]") {
  const auto r = run_cli("train " + source_path("models/digits_cnn.yaml"));
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  const std::regex final_line("final val_accuracy: ([0-9.]+) \\((\\d+)/360\\)");
  REQUIRE(std::regex_search(r.out, m, final_line));
  CHECK(std::stod(m[1]) >= 0.97);
}

TEST_CASE("a convolutional net with batch_norm and dropout trains without allocating", "[models][memory]") {
  Experiment ex = build_experiment(load_model_spec(source_path("models/digits_cnn.yaml"), load_with({"train.epochs=1"})));
  CountDuringBatches counter;
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {2, 32, true, 1});
  LrScheduler scheduler(std::move(ex.schedule));
  trainer.add_callback(&counter);
  trainer.add_callback(&scheduler);
  trainer.fit(*ex.train, nullptr);
  CHECK(counter.batches == 2 * 45);  // 1,437 training rows, batch 32
  CHECK(counter.during == 0);
}

TEST_CASE("anneal check: a conv layer's FLOPs and activation memory, worked out by hand", "[models][check][cli]") {
  const auto r = run_cli("check " + source_path("models/digits_cnn.yaml"));
  REQUIRE(r.exit_code == 0);
  // conv2d_2: 32 -> 64 channels, 3x3, same, on 4x4: K = 32 * 9 = 288 rows, P = 16 positions.
  // Forward: 2 * 64 * 288 * 16 = 589,824 (product) + 1,024 (bias) = 590,848 per sample.
  // Backward: the kernel's and the input's gradients, 589,824 each, + 1,024 (bias) = 1,180,672.
  // Per sample 1,771,520; at batch 32: 56,688,640 = "56.69 M". Output 32 x 64 x 16 floats = 128 KiB.
  const std::regex line("conv2d_2 +conv2d +\\[B, 64, 4, 4\\] +18496 +56\\.69 M +128\\.00 KiB +max_pool2d_1");
  CHECK(std::regex_search(r.out, line));
  // conv2d_1 reads the model input, which needs no gradient: no input-gradient product.
  // 2 * 32 * 9 * 64 = 36,864 + 2,048 forward, the same again for the kernel: 77,824 x 32 = 2.49 M.
  CHECK(std::regex_search(r.out, std::regex("conv2d_1 +conv2d +\\[B, 32, 8, 8\\] +320 +2\\.49 M")));
  CHECK_THAT(r.out, Contains("non-trainable state: 320 values"));
}
