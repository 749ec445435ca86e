// Measurements for bench/run_bench.py, printed as one JSON object per command:
//   anneal_bench sgemm M N K [trans_a trans_b] [--threads T]      GFLOP/s of one sgemm shape
//   anneal_bench train MODEL [--batch B] [--updates N] [--warmup W] [--threads T] [--profile 1]
//                            [--blocks K]  (the median of K equal blocks of the updates; default 1)
//                            [--precision float32|mixed_bfloat16] [--emulate-bf16 1]   (train and predict)
//                            [--reuse-conversions 0]  (mixed_bfloat16: every product converts its operands)
//                            [--parallel-passes 0]  (ops' elementwise passes on the calling thread only)
//                            [--direct-conv 0]  (conv2d on im2col and products where oneDNN's direct
//                                                convolution would run)
//                            [--side-by-side 0|alternate]  (a dense layer's two gradient products one after
//                                                the other; alternate: blocks of each in turn, compared pairwise)
//                            [--halves auto|none|rows|columns]  (float32 products on oneDNN in two halves, one per
//                                                thread: as timed, never, or always so)
//                            [--gemm auto|openblas|onednn] [--gemm-cache FILE|none]   (auto: what the CLI does)
//                                                                  time per update of a spec's model
//                                                                  (and each node's share of it)
//   anneal_bench epochs MODEL [--threads T]                         seconds per epoch (history time_s)
//   anneal_bench predict MODEL [--rows N] [--batch B] [--threads T] [--workers W] [--gemm ...]
//                                                                  rows/s of the model's outputs over the
//                                                                  spec's synthetic rows, as anneal predict
//                                                                  computes them (best of three passes)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "anneal/clock.hpp"
#include "anneal/blas.hpp"
#include "anneal/errors.hpp"
#include "anneal/experiment.hpp"
#include "anneal/predict.hpp"
#include "anneal/stats.hpp"

using namespace anneal;

namespace {

// Peak resident memory of this process (VmHWM), in MiB. Read by the process itself: a parent's
// rusage would also count the memory of whatever forked it.
double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::atof(line + 6);
  std::fclose(f);
  return kib / 1024;
}

double median(const std::vector<double>& v) { return summarize(v).median; }

std::string option(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 0; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

int sgemm(int argc, char** argv) {
  const int64_t m = std::atoll(argv[2]), n = std::atoll(argv[3]), k = std::atoll(argv[4]);
  const bool ta = argc > 5 && argv[5][0] == 't', tb = argc > 6 && argv[6][0] == 't';
  std::vector<float> a(static_cast<size_t>(m * k), 0.5f), b(static_cast<size_t>(k * n), 0.25f), c(static_cast<size_t>(m * n));
  const double flop = 2.0 * static_cast<double>(m * n * k);
  const int reps = static_cast<int>(std::max(3.0, std::min(2000.0, 2e9 / flop)));
  std::vector<double> times;
  for (int r = 0; r < 7; ++r) {
    const double t0 = wall_seconds();
    for (int i = 0; i < reps; ++i)
      blas::gemm(ta, tb, m, n, k, 1.0f, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0f, c.data(), n);
    times.push_back((wall_seconds() - t0) / reps);
  }
  const double t = median(times);
  std::printf("{\"seconds\": %.9g, \"gflops\": %.4f, \"openblas_core\": \"%s\"}\n", t, flop / t / 1e9, blas::core().c_str());
  return 0;
}

// Times `updates` training updates after `warmup` ones, in `blocks` equal blocks: the time per
// update is the median block's (PyTorch's side measures the same way), so that an interrupt or a
// neighbour's burst during one block does not move the figure.
struct Stopwatch : Callback {
  int64_t warmup, updates, block, seen = 0;
  double block_start = 0;
  std::vector<double> blocks;  // seconds per update of each whole block; reserved before the run
  Stopwatch(int64_t w, int64_t u, int64_t k) : warmup(w), updates(u), block(std::max<int64_t>(1, u / std::max<int64_t>(1, k))) {
    blocks.reserve(static_cast<size_t>(updates / block + 1));
  }
  void on_batch_begin(TrainingContext&) override {
    if (seen >= warmup && (seen - warmup) % block == 0) {
      toggle_for_next_block();
      block_start = wall_seconds();
    }
  }
  void on_batch_end(TrainingContext& ctx, double) override {
    ++seen;
    if (seen > warmup && (seen - warmup) % block == 0)
      blocks.push_back((wall_seconds() - block_start) / static_cast<double>(block));
    if (seen == warmup + updates) ctx.request_stop();
  }
  double per_update() const { return median(blocks); }
  // --side-by-side alternate: even blocks with a dense layer's gradient products side by side, odd
  // blocks one after the other, so that each pair of neighbouring blocks sees the same machine.
  Executor* alternate = nullptr;
  void on_train_begin(TrainingContext&) override {
    if (alternate) alternate->set_side_by_side(false);  // the warmup one after the other
  }
  void toggle_for_next_block() {
    if (alternate) alternate->set_side_by_side(blocks.size() % 2 == 0);
  }
};

BuildOptions bench_build(int argc, char** argv) {
  BuildOptions build;
  const std::string gemm = option(argc, argv, "--gemm", "auto");
  if (!parse_gemm_policy(gemm)) throw InputError("--gemm " + gemm + ": expected auto, openblas or onednn");
  build.gemm.policy = *parse_gemm_policy(gemm);
  build.gemm.threads = blas::threads();
  const std::string cache = option(argc, argv, "--gemm-cache", "");
  // "none" keeps no cache, as in the CLI's --gemm-cache.
  if (!cache.empty() && cache != "none") build.gemm.cache = std::make_shared<FileGemmCache>(cache);
  build.gemm.emulate_bfloat16 = option(argc, argv, "--emulate-bf16", "0") == "1";
  build.gemm.reuse_conversions = option(argc, argv, "--reuse-conversions", "1") == "1";
  build.gemm.parallel_passes = option(argc, argv, "--parallel-passes", "1") == "1";
  build.gemm.direct_convolutions = option(argc, argv, "--direct-conv", "1") == "1";
  build.gemm.side_by_side = option(argc, argv, "--side-by-side", "1") != "0";
  const std::string halves = option(argc, argv, "--halves", "auto");
  if (halves == "none") build.gemm.halves = GemmOptions::Halves::kNone;
  else if (halves == "rows") build.gemm.halves = GemmOptions::Halves::kRows;
  else if (halves == "columns") build.gemm.halves = GemmOptions::Halves::kColumns;
  else if (halves != "auto") throw InputError("--halves " + halves + ": expected auto, none, rows or columns");
  return build;
}

// The spec's overrides for a measurement: `sets`, then --precision (train.precision) if given.
LoadOptions bench_load(int argc, char** argv, std::vector<ExternalInput> sets) {
  LoadOptions load;
  load.sets = std::move(sets);
  const std::string precision = option(argc, argv, "--precision", "");
  if (!precision.empty()) load.sets.push_back({"train.precision=" + precision, "--precision " + precision});
  return load;
}

int predict(int argc, char** argv) {
  const LoadOptions load = bench_load(argc, argv, {"train.validation_split=0", "data.synthetic.rows=" + option(argc, argv, "--rows", "100000"),
                                                   "train.batch_size=" + option(argc, argv, "--batch", "1024")});
  Experiment ex = build_experiment(load_model_spec(argv[2], load), true, bench_build(argc, argv));
  // Stored before the clock starts, as PyTorch's side holds its rows: the model against the model.
  const Dataset rows = stored(*ex.train);
  PredictOptions predict_options;
  predict_options.workers = std::atoi(option(argc, argv, "--workers", "0").c_str());
  double best = 1e300;
  for (int pass = 0; pass < 3; ++pass) {
    const double start = wall_seconds();
    const std::vector<float> out = predict_outputs(ex.graph, ex.weights, rows, predict_options);
    best = std::min(best, wall_seconds() - start);
    if (out.empty()) return 1;
  }
  std::printf("{\"rows_per_s\": %.2f, \"seconds\": %.6f, \"peak_rss_mib\": %.2f}\n",
              static_cast<double>(ex.train->rows()) / best, best, peak_rss_mib());
  return 0;
}

int train(int argc, char** argv) {
  std::vector<ExternalInput> sets{"train.validation_split=0"};
  const std::string batch = option(argc, argv, "--batch", "");
  if (!batch.empty()) sets.push_back("train.batch_size=" + batch);
  const LoadOptions load = bench_load(argc, argv, std::move(sets));
  const int64_t updates = std::atoll(option(argc, argv, "--updates", "100").c_str());
  const int64_t warmup = std::atoll(option(argc, argv, "--warmup", "10").c_str());
  ModelSpec spec = load_model_spec(argv[2], load);
  Experiment ex = build_experiment(std::move(spec), true, bench_build(argc, argv));
  const int64_t per_epoch = (ex.train->rows() + ex.spec.train.batch_size - 1) / ex.spec.train.batch_size;
  Trainer trainer(ex.graph, ex.weights, *ex.loss, ex.metrics, *ex.optimizer,
                  {(warmup + updates) / per_epoch + 2, ex.spec.train.batch_size, true, ex.spec.train.seed});
  Stopwatch watch(warmup, updates, std::atoll(option(argc, argv, "--blocks", "1").c_str()));
  trainer.add_callback(&watch);
  const bool alternate = option(argc, argv, "--side-by-side", "1") == "alternate";
  if (alternate) watch.alternate = &trainer.executor();
  const bool profile = option(argc, argv, "--profile", "0") == "1";
  trainer.executor().set_profiling(profile);
  trainer.fit(*ex.train, nullptr);
  const double per_update = watch.per_update();
  // With --profile 1: each node's share of the executor's time (forward + backward), by name.
  std::string shares;
  if (profile) {
    const auto& t = trainer.executor().node_times();
    double total = 0;
    for (size_t i = 0; i < t.forward.size(); ++i) total += t.forward[i] + t.backward[i];
    for (int index : ex.graph.order()) {
      const auto i = static_cast<size_t>(index);
      if (!ex.graph.nodes()[i].op) continue;
      char item[160];
      std::snprintf(item, sizeof item, "%s\"%s\": [%.4f, %.4f]", shares.empty() ? "" : ", ", ex.graph.nodes()[i].name.c_str(),
                    t.forward[i] / total, t.backward[i] / total);
      shares += item;
    }
  }
  // --side-by-side alternate: each pair of neighbouring blocks' time one after the other over side by side.
  std::string pairs;
  if (alternate) {
    std::vector<double> ratios, on, off;
    for (size_t b = 0; b + 1 < watch.blocks.size(); b += 2) {
      on.push_back(watch.blocks[b]);
      off.push_back(watch.blocks[b + 1]);
      ratios.push_back(watch.blocks[b + 1] / watch.blocks[b]);
    }
    char text[200];
    std::snprintf(text, sizeof text, ", \"side_by_side_pairs\": {\"pairs\": %zu, \"on_us\": %.1f, \"off_us\": %.1f, \"gain\": %.4f, \"min\": %.4f, \"max\": %.4f}",
                  ratios.size(), median(on) * 1e6, median(off) * 1e6, median(ratios),
                  ratios.empty() ? 0.0 : *std::min_element(ratios.begin(), ratios.end()),
                  ratios.empty() ? 0.0 : *std::max_element(ratios.begin(), ratios.end()));
    pairs = text;
  }
  int on_onednn = 0, in_halves = 0;
  for (const auto& c : ex.graph.gemm_plan().choices()) {
    on_onednn += c.backend == GemmBackend::kOneDnn || c.backend == GemmBackend::kOneDnnBf16;
    in_halves += c.split != GemmSplit::kNone;
  }
  // mixed_bfloat16: values converted to bfloat16 per update, by products and as ops wrote them.
  const auto& converted = trainer.executor().gemm_runner().conversions();
  const auto steps = static_cast<double>(std::max<int64_t>(watch.seen, 1));
  std::printf("{\"us_per_update\": %.4f, \"samples_per_s\": %.2f, \"batch\": %lld, \"peak_rss_mib\": %.2f, "
              "\"gemms_on_onednn\": %d, \"gemms_in_halves\": %d, \"gemms\": %zu, \"pass_threads\": %d, \"side_by_side_per_update\": %.0f, "
              "\"converted_per_update\": [%.0f, %.0f], "
              "\"shares\": {%s}%s}\n",
              per_update * 1e6, static_cast<double>(ex.spec.train.batch_size) / per_update,
              static_cast<long long>(ex.spec.train.batch_size), peak_rss_mib(), on_onednn, in_halves,
              ex.graph.gemm_plan().choices().size(), trainer.executor().gemm_runner().pass_threads(),
              static_cast<double>(trainer.executor().gemm_runner().side_by_side_runs()) / steps,
              static_cast<double>(converted.by_products) / steps,
              static_cast<double>(converted.while_written) / steps, shares.c_str(), pairs.c_str());
  return 0;
}

int epochs(int, char** argv) {
  Experiment ex = build_experiment(load_model_spec(argv[2]));
  RunOptions quiet;
  quiet.verbose = false;
  const RunResult r = run_experiment(ex, quiet);
  std::vector<double> times;
  for (size_t e = 1; e < r.history.epochs.size(); ++e) times.push_back(r.history.epochs[e].time_s);  // skip the first
  std::printf("{\"us_per_epoch\": %.3f, \"peak_rss_mib\": %.2f}\n", median(times) * 1e6, peak_rss_mib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: anneal_bench sgemm M N K [t|n t|n] | train MODEL [...] | epochs MODEL | predict MODEL [...]\n");
    return 2;
  }
  blas::set_threads(std::atoi(option(argc, argv, "--threads", "0").c_str()));
  try {
    const std::string what = argv[1];
    if (what == "sgemm") return sgemm(argc, argv);
    if (what == "train") return train(argc, argv);
    if (what == "epochs") return epochs(argc, argv);
    if (what == "predict") return predict(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return e.exit_code();
  }
  return 2;
}
