// The GEMM planner: oneDNN's products agree with OpenBLAS's on every form the ops use, auto
// decides once and reads its decision back from the cache, training on either library reaches
// the same model, and the CLI names what it chose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "anneal/blas.hpp"
#include "anneal/clock.hpp"
#include "anneal/experiment.hpp"
#include "anneal/gemm.hpp"
#include "anneal/parallel.hpp"
#include "allocation_counter.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// C = op(A) op(B) (+ C) in double, by definition.
std::vector<float> reference(const GemmShape& s, const std::vector<float>& a, const std::vector<float>& b, std::vector<float> c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = s.accumulate ? c[static_cast<size_t>(i * s.ldc + j)] : 0.0;
      for (int64_t p = 0; p < s.k; ++p) {
        const float x = s.trans_a ? a[static_cast<size_t>(p * s.lda + i)] : a[static_cast<size_t>(i * s.lda + p)];
        const float y = s.trans_b ? b[static_cast<size_t>(j * s.ldb + p)] : b[static_cast<size_t>(p * s.ldb + j)];
        sum += static_cast<double>(x) * y;
      }
      c[static_cast<size_t>(i * s.ldc + j)] = static_cast<float>(sum);
    }
  return c;
}

std::vector<float> filled(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

// Every form dense and conv2d use: NN, TN, NT with accumulation, a skinny output, and a stride
// wider than the matrix.
std::vector<GemmShape> forms() {
  return {{false, false, 37, 29, 41, 41, 29, 29, false}, {true, false, 41, 29, 37, 41, 29, 29, false},
          {false, true, 37, 41, 29, 29, 29, 41, true},   {false, false, 64, 3, 50, 50, 3, 3, false},
          {false, false, 8, 20, 10, 12, 24, 22, false}};
}

class MemoryCache : public GemmCache {
 public:
  std::optional<std::string> find(const std::string& key) const override {
    ++finds;
    const auto it = entries.find(key);
    return it == entries.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  void remember(const std::string& key, const std::string& value) override { entries[key] = value; }
  std::string name() const override { return "memory"; }
  std::map<std::string, std::string> entries;
  mutable int finds = 0;
};

const char* kMlp = R"(version: 1
data: {synthetic: {rows: 512, features: 96, classes: 4, seed: 2}}
input: [96]
layers:
  - {type: dense, units: 128, activation: relu}
  - {type: dense, units: 64, activation: relu}
  - {type: dense, units: 4, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
train: {epochs: 4, batch_size: 128, validation_split: 0.25, seed: 3}
)";

const char* kConv = R"(version: 1
data: {synthetic: {rows: 192, shape: [2, 10, 10], classes: 3, seed: 5}}
input: [2, 10, 10]
layers:
  - {type: conv2d, filters: 6, kernel_size: 3, activation: relu}
  - {type: flatten}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.05}
train: {epochs: 3, batch_size: 32, validation_split: 0.25, seed: 3}
)";

RunResult train_with(const std::string& path, GemmPolicy policy, Experiment* out = nullptr) {
  BuildOptions build;
  build.gemm.policy = policy;
  Experiment ex = build_experiment(load_model_spec(path), true, build);
  RunOptions quiet;
  quiet.verbose = false;
  RunResult r = run_experiment(ex, quiet);
  if (out) *out = std::move(ex);
  return r;
}

}  // namespace

TEST_CASE("gemm shapes print as transposes, sizes and accumulation, and policies parse", "[gemm]") {
  CHECK(GemmShape{false, true, 256, 784, 1024, 1024, 1024, 784, true}.str() == "NT 256x784x1024 +=");
  CHECK(GemmShape{false, false, 8, 20, 10, 12, 24, 22, false}.str() == "NN 8x20x10 ld 12/24/22");
  CHECK(GemmShape{true, false, 4, 5, 6, 4, 5, 5, false}.key() == "TN 4x5x6 ld 4/5/5");
  CHECK(parse_gemm_policy("auto") == GemmPolicy::kAuto);
  CHECK(parse_gemm_policy("openblas") == GemmPolicy::kOpenBlas);
  CHECK(parse_gemm_policy("onednn") == GemmPolicy::kOneDnn);
  CHECK_FALSE(parse_gemm_policy("mkl"));
}

TEST_CASE("the planner trusts a timing once its fastest sample is matched by a second", "[gemm]") {
  RepeatedTimings t(2);
  CHECK_FALSE(t.settled(0.03));  // nothing yet
  t.add(0, 31.8e-3);
  t.add(1, 43.7e-3);
  CHECK_FALSE(t.settled(0.03));  // one sample each
  t.add(0, 32.2e-3);             // candidate 0 at 31.8 and 32.2 ms: within 3 %
  t.add(1, 31.2e-3);             // candidate 1 at 31.2 and 43.7 ms: its fastest seen once
  CHECK_FALSE(t.settled(0.03));
  t.add(1, 36.0e-3);  // the second fastest, 36.0, is 15 % above 31.2: still unsettled
  CHECK_FALSE(t.settled(0.03));
  t.add(1, 29.0e-3);  // a faster one, now 29.0 and 31.2: 7.6 % apart
  CHECK_FALSE(t.settled(0.03));
  CHECK(t.settled(0.08));
  t.add(1, 29.5e-3);  // 29.0 and 29.5: settled, and the estimate is the fastest
  CHECK(t.settled(0.03));
  CHECK(t.best(0) == 31.8e-3);
  CHECK(t.best() == std::vector<double>{31.8e-3, 29.0e-3});
}

TEST_CASE("every product form gives the reference result on each library", "[gemm]") {
  const auto shapes = forms();
  for (GemmPolicy policy : {GemmPolicy::kOpenBlas, GemmPolicy::kOneDnn}) {
    if (policy == GemmPolicy::kOneDnn && !onednn_available()) continue;
    GemmPlan plan;
    for (const auto& s : shapes) plan.add(s);
    plan.add(shapes[0]);  // declared twice: one entry
    REQUIRE(plan.choices().size() == shapes.size());
    plan.choose({policy, nullptr, 0});
    GemmRunner runner(&plan);
    for (const auto& s : shapes) {
      INFO(s.str() << " on " << (policy == GemmPolicy::kOneDnn ? "onednn" : "openblas"));
      const auto a = filled(static_cast<size_t>((s.trans_a ? s.k : s.m) * s.lda), 1);
      const auto b = filled(static_cast<size_t>((s.trans_b ? s.n : s.k) * s.ldb), 2);
      auto c = filled(static_cast<size_t>(s.m * s.ldc), 3);
      const auto want = reference(s, a, b, c);
      runner.run(s, a.data(), b.data(), c.data());
      for (size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
      const int at = plan.find(s);
      REQUIRE(at >= 0);
      CHECK(plan.choices()[static_cast<size_t>(at)].backend ==
            (policy == GemmPolicy::kOneDnn ? GemmBackend::kOneDnn : GemmBackend::kOpenBlas));
    }
    // A product the plan does not name (a short last batch) runs on OpenBLAS, correctly.
    GemmShape shorter = shapes[0];
    shorter.m = 5;
    const auto a = filled(static_cast<size_t>(shorter.m * shorter.lda), 4);
    const auto b = filled(static_cast<size_t>(shorter.k * shorter.ldb), 5);
    std::vector<float> c(static_cast<size_t>(shorter.m * shorter.ldc), 0.0f);
    const auto want = reference(shorter, a, b, c);
    runner.run(shorter, a.data(), b.data(), c.data());
    for (size_t i = 0; i < c.size(); ++i) REQUIRE(std::fabs(c[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
  }
}

TEST_CASE("auto times a plan once, then takes its decision from the cache", "[gemm]") {
  if (!onednn_available()) return;
  auto cache = std::make_shared<MemoryCache>();
  const GemmShape big{false, false, 128, 128, 128, 128, 128, 128, false}, small{false, false, 4, 4, 4, 4, 4, 4, false};
  GemmPlan first;
  first.add(big);
  first.add(small);
  first.choose({GemmPolicy::kAuto, cache, 2});
  REQUIRE(cache->entries.size() == 1);
  CHECK_THAT(first.decision(), StartsWith("timed sequences: all openblas"));
  CHECK(first.choices()[0].source == "timed");
  CHECK(first.choices()[0].openblas_gflops > 0);
  CHECK(first.choices()[0].onednn_gflops > 0);
  CHECK(first.choices()[1].source == "below threshold");  // too small to be worth timing
  CHECK(first.choices()[1].backend == GemmBackend::kOpenBlas);
  const std::string key = cache->entries.begin()->first;
  CHECK_THAT(key, Contains(cpu_model()));
  // OpenBLAS's kernel set is part of the machine: OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU
  // halves its sgemm rate, and a decision timed under one set does not hold under another.
  CHECK_THAT(key, Contains("OpenBLAS " + blas::core()));
  CHECK(blas::core() != "unknown");
  CHECK_THAT(key, Contains("\t2\t"));

  // The same plan again: the decision and the rates come back without timing.
  for (GemmBackend stored : {GemmBackend::kOneDnn, GemmBackend::kOpenBlas}) {
    cache->entries[key] = std::string(backend_name(stored)) + ":100.0:120.0;openblas:1.0:2.0|as stored";
    GemmPlan again;
    again.add(big);
    again.add(small);
    again.choose({GemmPolicy::kAuto, cache, 2});
    CHECK(again.decision() == "cache memory: as stored");
    CHECK(again.choices()[0].backend == stored);
    CHECK(again.choices()[0].onednn_gflops == 120.0);
    CHECK(again.choices()[0].source == "cache");
    CHECK(cache->entries[key] == std::string(backend_name(stored)) + ":100.0:120.0;openblas:1.0:2.0|as stored");
  }
  // Unreadable or mismatched cache text is measured again and replaced.
  for (const char* bad : {"garbage", "onednn:1:2|one product too few", "cuda:1:2;openblas:1:2|unknown library"}) {
    cache->entries[key] = bad;
    GemmPlan again;
    again.add(big);
    again.add(small);
    again.choose({GemmPolicy::kAuto, cache, 2});
    CHECK_THAT(again.decision(), StartsWith("timed sequences"));
    CHECK(cache->entries[key] != bad);
  }
  // Another thread count is another machine.
  GemmPlan other;
  other.add(big);
  other.choose({GemmPolicy::kAuto, cache, 1});
  CHECK(cache->entries.size() == 2);
}

TEST_CASE("a product too small to time that OpenBLAS would thread follows the others onto oneDNN, and only then", "[gemm]") {
  if (!onednn_available()) return;
  const GemmShape big{false, false, 128, 128, 128, 128, 128, 128, false};
  const GemmShape threaded{false, false, 32, 10, 1024, 1024, 10, 10, false};  // 327 680 multiply-adds, 0.66 MFLOP
  const GemmShape tiny{false, false, 4, 4, 4, 4, 4, 4, false};                // on OpenBLAS's calling thread
  auto plan_of = [&](const std::shared_ptr<MemoryCache>& cache) {
    auto plan = std::make_unique<GemmPlan>();
    plan->add(big);
    plan->add(threaded);
    plan->add(tiny);
    plan->choose({GemmPolicy::kAuto, cache, 2});
    return plan;
  };
  auto cache = std::make_shared<MemoryCache>();
  const auto timed = plan_of(cache);
  CHECK_THAT(timed->decision(), StartsWith("timed sequences"));
  CHECK(timed->choices()[1].source.rfind("below threshold", 0) == 0);
  CHECK(timed->choices()[2].backend == GemmBackend::kOpenBlas);
  // With all of the timed products on oneDNN the threaded one joins them; otherwise it stays.
  const bool all_onednn = timed->decision().find("-> all onednn") != std::string::npos;
  CHECK((timed->choices()[1].backend == GemmBackend::kOneDnn) == all_onednn);
  CHECK(timed->passes_share_pool() == all_onednn);
  const std::string key = cache->entries.begin()->first;
  // A stored decision that puts it on oneDNN is taken (it has its primitive), and then the ops'
  // passes share the pool; one that puts the tiny product there is measured again.
  cache->entries[key] = "onednn:100.0:120.0;onednn:0.0:0.0;openblas:0.0:0.0|stored";
  const auto cached = plan_of(cache);
  CHECK(cached->decision() == "cache memory: stored");
  CHECK(cached->choices()[1].backend == GemmBackend::kOneDnn);
  CHECK(cached->passes_share_pool());
  cache->entries[key] = "onednn:100.0:120.0;onednn:0.0:0.0;onednn:0.0:0.0|stored";
  CHECK_THAT(plan_of(cache)->decision(), StartsWith("timed sequences"));
}

TEST_CASE("under auto, products OpenBLAS would thread follow direct convolutions onto oneDNN untimed, and those it runs on one thread stay",
          "[gemm]") {
  if (!onednn_available()) return;
  const ConvShape conv{8, 4, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 12, 12};
  const GemmShape threaded{false, false, 32, 10, 1024, 1024, 10, 10, false};  // 327 680 multiply-adds
  const GemmShape tiny{false, false, 4, 4, 4, 4, 4, 4, false};
  auto plan_of = [&](bool direct) {
    auto plan = std::make_unique<GemmPlan>();
    plan->add(conv, {GemmShape{false, false, 64, 4096, 64, 64, 4096, 4096, false}});  // large enough to time
    plan->add(threaded);
    plan->add(tiny);
    GemmOptions options{GemmPolicy::kAuto, nullptr, 2};
    options.direct_convolutions = direct;
    plan->choose(options);
    return plan;
  };
  const auto with = plan_of(true);
  REQUIRE(with->convolutions()[0].direct);
  CHECK_THAT(with->convolutions()[0].source, StartsWith("auto"));
  CHECK_THAT(with->decision(), StartsWith("untimed: the products follow the direct convolutions"));
  REQUIRE(with->choices().size() == 2);  // the convolution's im2col product is not planned
  CHECK(with->choices()[0].backend == GemmBackend::kOneDnn);
  CHECK(with->choices()[0].source == "with the direct convolutions");
  CHECK(with->choices()[1].backend == GemmBackend::kOpenBlas);
  CHECK(with->passes_share_pool());
  // Without them, the im2col product is planned and auto times as before.
  const auto without = plan_of(false);
  CHECK_FALSE(without->convolutions()[0].direct);
  CHECK(without->convolutions()[0].source == "direct convolutions off");
  CHECK(without->choices().size() == 3);
  CHECK_THAT(without->decision(), StartsWith("timed sequences"));
  // Policy openblas runs every convolution on im2col.
  GemmPlan blas;
  blas.add(conv, {});
  blas.choose({});
  CHECK_FALSE(blas.convolutions()[0].direct);
  CHECK(blas.convolutions()[0].source == "policy openblas");
}

TEST_CASE("the cache file keeps each plan's line, skips lines it cannot read and rewrites atomically", "[gemm]") {
  TempDir d;
  const std::string path = d.write("plans.tsv", "not a line of ours\ncpu\t2\tNN 1x1x1\tonednn:1:2|x\n");
  FileGemmCache cache(path);
  CHECK(cache.find("cpu\t2\tNN 1x1x1") == std::optional<std::string>("onednn:1:2|x"));
  CHECK_FALSE(cache.find("not a line of ours"));
  cache.remember("cpu\t1\tNN 2x2x2", "openblas:3:4|y");
  cache.remember("cpu\t2\tNN 1x1x1", "openblas:1:2|z");
  FileGemmCache reread(path);
  CHECK(reread.find("cpu\t2\tNN 1x1x1") == std::optional<std::string>("openblas:1:2|z"));
  CHECK(reread.find("cpu\t1\tNN 2x2x2") == std::optional<std::string>("openblas:3:4|y"));
}

TEST_CASE("training with every product on oneDNN reaches OpenBLAS's model, the same every time, without allocating",
          "[gemm][training]") {
  if (!onednn_available()) return;
  TempDir d;
  for (const char* yaml : {kMlp, kConv}) {
    const std::string path = d.write("m.yaml", yaml);
    Experiment on_blas, on_dnnl;
    const RunResult blas = train_with(path, GemmPolicy::kOpenBlas, &on_blas);
    const RunResult dnnl = train_with(path, GemmPolicy::kOneDnn, &on_dnnl);
    const RunResult again = train_with(path, GemmPolicy::kOneDnn);
    int on_onednn = 0;
    for (const auto& c : on_dnnl.graph.gemm_plan().choices()) on_onednn += c.backend == GemmBackend::kOneDnn;
    CHECK(on_onednn == static_cast<int>(on_dnnl.graph.gemm_plan().choices().size()));
    CHECK(on_onednn >= 3);
    // Summation order differs between the libraries: close, not equal; within one library, equal.
    const auto& wb = on_blas.weights.params;
    const auto& wd = on_dnnl.weights.params;
    REQUIRE(wb.size() == wd.size());
    double worst = 0;
    for (size_t i = 0; i < wb.size(); ++i) worst = std::max(worst, std::fabs(double(wb[i]) - wd[i]) / std::max(1e-2, std::fabs(double(wb[i]))));
    CHECK(worst < 1e-3);
    CHECK(std::fabs(blas.history.epochs.back().logs.get("val_loss", 0) - dnnl.history.epochs.back().logs.get("val_loss", 0)) < 1e-4);
    CHECK(dnnl.history.epochs.back().logs.get("val_loss", 0) == again.history.epochs.back().logs.get("val_loss", 0));
  }
  // Buffers on oneDNN are planned too (memory handles and scratchpad are the runner's); what
  // remains is oneDNN's own bookkeeping per call (dnnl_primitive_execute builds a map of its
  // arguments): a few small allocations per product, never growing with the batch.
  const std::string path = d.write("m.yaml", kMlp);
  BuildOptions build;
  build.gemm.policy = GemmPolicy::kOneDnn;
  Experiment ex = build_experiment(load_model_spec(path, load_with({"train.validation_split=0"})), true, build);
  CountDuringBatches counter;
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {2, 128, true, 1});
  trainer.add_callback(&counter);
  trainer.fit(*ex.train, nullptr);
  CHECK(counter.batches == 8);
  const int products_per_update = 8;  // the first layer's input gradient is not computed
  CHECK(counter.during <= counter.batches * products_per_update * 8);
  // A direct convolution's calls, reorders included, go through the same C API with argument
  // arrays: nothing of its own is allocated per call.
  const std::string conv_path = d.write("c.yaml", kConv);
  Experiment conv = build_experiment(load_model_spec(conv_path, load_with({"train.validation_split=0"})), true, build);
  REQUIRE(conv.graph.gemm_plan().convolutions()[0].direct);
  CountDuringBatches conv_counter;
  Trainer conv_trainer(conv.graph, conv.weights, *conv.loss, conv.metrics, *conv.optimizer, {1, 32, true, 1});
  conv_trainer.add_callback(&conv_counter);
  conv_trainer.fit(*conv.train, nullptr);
  CHECK(conv_counter.batches == 6);
  // Per update: the convolution forward (3 reorders or kernels) and backward (up to 6), and the
  // dense layer's three products.
  INFO("allocations during " << conv_counter.batches << " updates: " << conv_counter.during);
  CHECK(conv_counter.during <= conv_counter.batches * (9 + 3) * 8);
}

TEST_CASE("anneal check lists the products and their library, and --gemm takes only the three names", "[gemm][cli]") {
  TempDir d;
  const std::string path = d.write("m.yaml", kMlp);
  const auto blas = run_cli("check " + path + " --gemm openblas");
  REQUIRE(blas.exit_code == 0);
  CHECK_THAT(blas.out, Contains("matrix products at batch 128 (--gemm openblas"));
  CHECK_THAT(blas.out, Contains("NN 128x128x96"));
  CHECK_THAT(blas.out, Contains("NT 128x96x128 +="));
  CHECK_THAT(blas.out, Contains("decided by: policy openblas"));
  {  // It names OpenBLAS's kernel set, and says when the environment forced it.
    const char* was = std::getenv("OPENBLAS_CORETYPE");
    const std::string saved = was ? was : "";
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    const auto forced = run_cli("check " + path + " --gemm openblas");
    setenv("OPENBLAS_CORETYPE", "Nonsense", 1);
    const auto unknown = run_cli("check " + path + " --gemm openblas");
    unsetenv("OPENBLAS_CORETYPE");
    const auto own = run_cli("check " + path + " --gemm openblas");
    if (was) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
    CHECK_THAT(forced.out, Contains("OpenBLAS's Haswell kernels, forced by OPENBLAS_CORETYPE;"));
    CHECK_THAT(unknown.out, Contains(" kernels, OPENBLAS_CORETYPE=Nonsense not recognised;"));
    CHECK_THAT(own.out, Contains("OpenBLAS's "));
    CHECK_THAT(own.out, !Contains("forced by"));
  }
  if (onednn_available()) {
    const auto dnnl = run_cli("check " + path + " --gemm onednn");
    REQUIRE(dnnl.exit_code == 0);
    CHECK_THAT(dnnl.out, Contains("onednn"));
    CHECK_THAT(dnnl.out, Contains("decided by: policy onednn"));
    // Whether a dense layer's two gradient products run side by side, and if not, why not.
    if (blas::threads() == 2) {
      CHECK_THAT(dnnl.out, Contains("a dense layer's two gradient products: side by side, one thread each"));
      CHECK_THAT(blas.out, Contains("a dense layer's two gradient products: one after the other (side by side needs them on oneDNN)"));
    } else {
      CHECK_THAT(dnnl.out, Contains("a dense layer's two gradient products: one after the other (threads: "));
    }
    const std::string cache = d.path() + "/plans.tsv";
    const std::string larger = " --set train.batch_size=256 --set layers.0.units=256";  // above auto's threshold
    const auto timed = run_cli("check " + path + larger + " --gemm auto --gemm-cache " + cache);
    REQUIRE(timed.exit_code == 0);
    CHECK_THAT(timed.out, Contains("decided by: timed sequences"));
    const auto cached = run_cli("check " + path + larger + " --gemm auto --gemm-cache " + cache);
    CHECK_THAT(cached.out, Contains("decided by: cache " + cache));
  }
  const auto bad = run_cli("check " + path + " --gemm mkl");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--gemm mkl: expected auto, openblas or onednn"));
}

TEST_CASE("parallel_for covers every index once, in at most as many contiguous ranges as threads", "[gemm][parallel]") {
  for (const int threads : {0, 1, 2, 3, 8})
    for (const int64_t n : {0, 1, 2, 7, 64}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<std::pair<int64_t, int64_t>> ranges(16, {-1, -1});
      std::atomic<int> calls{0};
      parallel_for(threads, n, [&](int64_t begin, int64_t end) {
        ranges[static_cast<size_t>(calls++)] = {begin, end};
        for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
      });
      INFO("threads " << threads << ", n " << n);
      CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
      CHECK(calls == (n == 0 ? 0 : std::min<int64_t>(std::max(threads, 1), n)));
      for (int c = 0; c < calls; ++c) CHECK(ranges[static_cast<size_t>(c)].first < ranges[static_cast<size_t>(c)].second);
    }
}

TEST_CASE("ops' passes on the products' threads give the same bits as on one, and run there only when every product is on oneDNN",
          "[gemm][parallel][training]") {
  if (!onednn_available()) return;
  // Both convolution paths (valid and same, with and without bias), max pooling on planes that do
  // not split evenly, a dense layer wide enough for its passes and its parameters' SGD step to
  // split (32 x 2048 values, 129 Ki weights, whose bfloat16 copy is converted on the pool too), and
  // a short last batch (its products are undeclared: OpenBLAS).
  const char* text = R"(version: 1
data: {synthetic: {rows: 150, shape: [3, 9, 9], classes: 3, seed: 4}}
input: [3, 9, 9]
layers:
  - {type: conv2d, filters: 5, kernel_size: 3, padding: same, activation: relu}
  - {type: max_pool2d, pool_size: 2}
  - {type: conv2d, filters: 7, kernel_size: 2, activation: tanh, use_bias: false}
  - {type: flatten}
  - {type: dense, units: 2048, activation: gelu}
  - {type: dense, units: 3, activation: softmax}
loss: sparse_categorical_crossentropy
metrics: [accuracy]
optimizer: {type: sgd, lr: 0.05, momentum: 0.9}
train: {epochs: 2, batch_size: 32, validation_split: 0.2, seed: 3, precision: PRECISION}
)";
  const int threads = blas::threads();
  blas::set_threads(2);
  TempDir d;
  for (const std::string precision : {"float32", "mixed_bfloat16"}) {
    if (precision == "mixed_bfloat16" && !bfloat16_unsupported_reason().empty()) continue;  // emulated: on OpenBLAS
    std::string yaml = text;
    yaml.replace(yaml.find("PRECISION"), 9, precision);
    const std::string path = d.write("m.yaml", yaml);
    const auto run = [&](bool parallel, GemmPolicy policy, int& pass_threads) {
      BuildOptions build;
      build.gemm.policy = policy;
      build.gemm.parallel_passes = parallel;
      Experiment ex = build_experiment(load_model_spec(path), true, build);
      pass_threads = Executor(ex.graph, ex.weights, 1, ExecutorMode::kTraining).gemm_runner().pass_threads();
      RunOptions quiet;
      quiet.verbose = false;
      RunResult r = run_experiment(ex, quiet);
      return std::make_pair(std::move(r.history), ex.weights.params);
    };
    INFO(precision);
    int on_pool = 0, off = 0, on_blas = 0;
    const auto [h_parallel, w_parallel] = run(true, GemmPolicy::kOneDnn, on_pool);
    const auto [h_serial, w_serial] = run(false, GemmPolicy::kOneDnn, off);
    CHECK(on_pool == 2);
    CHECK(off == 1);
    REQUIRE(h_parallel.epochs.size() == h_serial.epochs.size());
    for (size_t e = 0; e < h_parallel.epochs.size(); ++e) CHECK(h_parallel.epochs[e].logs.values == h_serial.epochs[e].logs.values);
    REQUIRE(w_parallel.size() == w_serial.size());
    CHECK(std::memcmp(w_parallel.data(), w_serial.data(), w_parallel.size() * sizeof(float)) == 0);
    if (precision == "float32") {
      run(true, GemmPolicy::kOpenBlas, on_blas);
      CHECK(on_blas == 1);  // OpenBLAS's threads would compete with the pool
    }
  }
  blas::set_threads(threads);
}

TEST_CASE("a dense layer's two gradient products run side by side on two threads, with the same results as one after the other",
          "[gemm][parallel][training]") {
  if (!onednn_available()) return;
  const int threads = blas::threads();
  blas::set_threads(2);
  // The runner on its own: each product's result is the reference's, and only a pair of two
  // different planned oneDNN products within a factor of two of each other goes side by side.
  const GemmShape dw{true, false, 96, 80, 64, 96, 80, 80, false}, dx{false, true, 64, 96, 80, 80, 80, 96, true};
  const GemmShape small{false, false, 8, 8, 8, 8, 8, 8, false};
  GemmPlan plan;
  for (const GemmShape& s : {dw, dx, small}) plan.add(s);
  GemmOptions options;
  options.policy = GemmPolicy::kOneDnn;
  plan.choose(options);
  REQUIRE(plan.side_by_side());
  CHECK(plan.side_by_side_reason().empty());
  GemmRunner runner(&plan);
  const auto x = filled(64 * 96, 1), dz = filled(64 * 80, 2), w = filled(96 * 80, 3), dx_before = filled(64 * 96, 4);
  std::vector<float> got_dw(96 * 80, 7.0f), got_dx = dx_before;
  runner.run_independent({dw, x.data(), dz.data(), got_dw.data()}, {dx, dz.data(), w.data(), got_dx.data()});
  CHECK(runner.side_by_side_runs() == 1);
  const auto want_dw = reference(dw, x, dz, std::vector<float>(96 * 80, 7.0f)), want_dx = reference(dx, dz, w, dx_before);
  for (size_t i = 0; i < want_dw.size(); ++i) REQUIRE(got_dw[i] == Approx(want_dw[i]).margin(1e-4));
  for (size_t i = 0; i < want_dx.size(); ++i) REQUIRE(got_dx[i] == Approx(want_dx[i]).margin(1e-4));
  std::vector<float> c8(64, 0.0f), c8b(64, 0.0f);
  runner.run_independent({dw, x.data(), dz.data(), got_dw.data()}, {small, x.data(), dz.data(), c8.data()});  // unequal
  runner.run_independent({small, x.data(), dz.data(), c8.data()}, {small, x.data(), dz.data(), c8b.data()});  // one shape twice
  CHECK(runner.side_by_side_runs() == 1);
  const auto want8 = reference(small, x, dz, std::vector<float>(64, 0.0f));
  for (size_t i = 0; i < want8.size(); ++i) REQUIRE(c8[i] == Approx(want8[i]).margin(1e-5));
  CHECK(c8b == c8);

  // Training: side by side reaches the model one after the other reaches, and the same bits every time.
  TempDir d;
  const std::string path = d.write("m.yaml", kMlp);
  const auto train = [&](bool side_by_side, int64_t& runs) {
    BuildOptions build;
    build.gemm.policy = GemmPolicy::kOneDnn;
    build.gemm.side_by_side = side_by_side;
    Experiment ex = build_experiment(load_model_spec(path, load_with({"train.validation_split=0"})), true, build);
    Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer, {4, 128, true, 3});
    trainer.fit(*ex.train, nullptr);
    runs = trainer.executor().gemm_runner().side_by_side_runs();
    return ex.weights.params;
  };
  int64_t on_runs = 0, again_runs = 0, off_runs = 0;
  const auto on = train(true, on_runs), again = train(true, again_runs), off = train(false, off_runs);
  // 512 rows in batches of 128 for four epochs; two layers have both gradients each update.
  CHECK(on_runs == 16 * 2);
  CHECK(again_runs == on_runs);
  CHECK(off_runs == 0);
  REQUIRE(on.size() == off.size());
  CHECK(std::memcmp(on.data(), again.data(), on.size() * sizeof(float)) == 0);
  double worst = 0;
  for (size_t i = 0; i < on.size(); ++i) worst = std::max(worst, std::fabs(double(on[i]) - off[i]) / std::max(1e-2, std::fabs(double(off[i]))));
  CHECK(worst < 1e-4);

  // Where it does not apply, the plan says why.
  GemmPlan one_thread;
  one_thread.add(dw);
  options.threads = 1;
  one_thread.choose(options);
  CHECK_FALSE(one_thread.side_by_side());
  CHECK_THAT(one_thread.side_by_side_reason(), Contains("threads: 1"));
  options.threads = 2;
  options.side_by_side = false;
  one_thread.choose(options);
  CHECK_THAT(one_thread.side_by_side_reason(), Contains("turned off"));
  if (bfloat16_unsupported_reason().empty()) {
    options.side_by_side = true;
    options.bfloat16 = true;
    one_thread.choose(options);
    CHECK_THAT(one_thread.side_by_side_reason(), Contains("mixed_bfloat16"));
  }
  blas::set_threads(threads);
}

TEST_CASE("a product on oneDNN in two halves, one per thread, gives the whole product's result on every form", "[gemm][parallel]") {
  if (!onednn_available()) return;
  const int threads = blas::threads();
  blas::set_threads(2);
  for (const auto halves : {GemmOptions::Halves::kRows, GemmOptions::Halves::kColumns}) {
    GemmPlan plan;
    for (const GemmShape& s : forms()) plan.add(s);
    GemmOptions options;
    options.policy = GemmPolicy::kOneDnn;
    options.halves = halves;
    plan.choose(options);
    const GemmSplit want = halves == GemmOptions::Halves::kRows ? GemmSplit::kRows : GemmSplit::kColumns;
    for (const auto& c : plan.choices()) CHECK(c.split == want);  // every form has at least two rows and columns
    GemmRunner runner(&plan);
    uint32_t seed = 11;
    for (const GemmShape& s : forms()) {
      INFO(s.str() << " in halves by " << split_name(want));
      const auto a = filled(static_cast<size_t>((s.trans_a ? s.k : s.m) * s.lda), seed++);
      const auto b = filled(static_cast<size_t>((s.trans_b ? s.n : s.k) * s.ldb), seed++);
      const auto c0 = filled(static_cast<size_t>(s.m * s.ldc), seed++);
      auto got = c0;
      runner.run(s, a.data(), b.data(), got.data());
      const auto expected = reference(s, a, b, c0);
      for (size_t i = 0; i < got.size(); ++i) {
        const bool in_c = static_cast<int64_t>(i % static_cast<size_t>(s.ldc)) < s.n;
        if (in_c) REQUIRE(got[i] == Approx(expected[i]).margin(1e-4));
        else REQUIRE(got[i] == c0[i]);  // the stride's gap untouched
      }
    }
  }
  // Cached halves come back; none, or one thread, keeps products whole.
  auto cache = std::make_shared<MemoryCache>();
  const GemmShape big{false, false, 128, 128, 128, 128, 128, 128, false};
  GemmPlan first;
  first.add(big);
  first.choose({GemmPolicy::kAuto, cache, 2});
  REQUIRE(cache->entries.size() == 1);
  cache->entries.begin()->second = "onednn-columns:100.0:120.0|as stored";
  GemmPlan cached;
  cached.add(big);
  cached.choose({GemmPolicy::kAuto, cache, 2});
  CHECK(cached.decision() == "cache memory: as stored");
  CHECK(cached.choices()[0].split == GemmSplit::kColumns);
  CHECK(cached.choices()[0].split_gflops == 0);  // a line from before halves kept their rate
  cache->entries.begin()->second = "onednn-rows:100.0:120.0:140.5|as stored";
  cached.choose({GemmPolicy::kAuto, cache, 2});
  CHECK(cached.choices()[0].split == GemmSplit::kRows);
  CHECK(cached.choices()[0].split_gflops == 140.5);
  cache->entries.begin()->second = "onednn-rows:100.0:120.0:140.5:1.0|as stored";  // a field too many
  cached.choose({GemmPolicy::kAuto, cache, 2});
  CHECK(cached.choices()[0].source != "cache");
  GemmOptions none{GemmPolicy::kAuto, cache, 2};
  none.halves = GemmOptions::Halves::kNone;
  cached.choose(none);
  CHECK(cached.choices()[0].split == GemmSplit::kNone);
  GemmOptions one_thread{GemmPolicy::kOneDnn, nullptr, 1};
  one_thread.halves = GemmOptions::Halves::kRows;
  cached.choose(one_thread);
  CHECK(cached.choices()[0].split == GemmSplit::kNone);

  // Training in halves reaches the model trained on whole products, the same bits every time.
  TempDir d;
  const std::string path = d.write("m.yaml", kMlp);
  const auto train = [&](GemmOptions::Halves halves) {
    BuildOptions build;
    build.gemm.policy = GemmPolicy::kOneDnn;
    build.gemm.halves = halves;
    Experiment ex = build_experiment(load_model_spec(path), true, build);
    RunOptions quiet;
    quiet.verbose = false;
    run_experiment(ex, quiet);
    return ex.weights.params;
  };
  const auto rows = train(GemmOptions::Halves::kRows), again = train(GemmOptions::Halves::kRows);
  const auto columns = train(GemmOptions::Halves::kColumns), whole = train(GemmOptions::Halves::kNone);
  REQUIRE(rows.size() == whole.size());
  CHECK(std::memcmp(rows.data(), again.data(), rows.size() * sizeof(float)) == 0);
  double worst = 0;
  for (size_t i = 0; i < whole.size(); ++i) {
    const double scale = std::max(1e-2, std::fabs(double(whole[i])));
    worst = std::max({worst, std::fabs(double(rows[i]) - whole[i]) / scale, std::fabs(double(columns[i]) - whole[i]) / scale});
  }
  CHECK(worst < 1e-4);
  blas::set_threads(threads);
}
