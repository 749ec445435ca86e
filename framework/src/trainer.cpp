#include "anneal/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unistd.h>

namespace anneal {
namespace {
double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  if (!epochs.empty())
    for (const auto& [key, value] : epochs.front().logs.values) out.push_back(key);
  return out;
}

Trainer::Trainer(CompiledGraph& graph, const Loss& loss, const std::vector<NamedMetric>& metrics,
                 Optimizer& optimizer, TrainOptions options)
    : graph_(graph), executor_(graph, options.seed), loss_(loss), metrics_(metrics),
      optimizer_(optimizer), options_(options), metric_sums_(metrics.size()) {
  optimizer_.prepare(static_cast<int64_t>(graph_.params().size()));
}

void Trainer::gather(const Dataset& data, const int64_t* rows, int64_t count) {
  const int64_t fw = data.features.sample_shape().numel();
  const int64_t tw = data.targets.sample_shape().numel();
  float* input = executor_.input();
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(input + i * fw, data.features.row(rows[i]), sizeof(float) * static_cast<size_t>(fw));
    std::memcpy(targets_.data() + i * tw, data.targets.row(rows[i]), sizeof(float) * static_cast<size_t>(tw));
  }
}

Evaluation Trainer::evaluate(const Dataset& data) {
  const int64_t n = data.rows(), width = graph_.output_shape().numel();
  const int64_t tw = data.targets.sample_shape().numel();
  targets_.resize(static_cast<size_t>(graph_.max_batch() * tw));
  std::vector<int64_t> rows(static_cast<size_t>(graph_.max_batch()));
  Evaluation out;
  out.metrics.assign(metrics_.size(), 0.0);
  for (int64_t begin = 0; begin < n; begin += graph_.max_batch()) {
    const int64_t count = std::min(graph_.max_batch(), n - begin);
    std::iota(rows.begin(), rows.begin() + count, begin);
    gather(data, rows.data(), count);
    executor_.forward(count, false);
    out.loss += loss_.forward_backward(executor_.output(), targets_.data(), count, width, tw, nullptr) *
                static_cast<double>(count);
    for (size_t m = 0; m < metrics_.size(); ++m)
      out.metrics[m] += metrics_[m].metric->batch_sum(executor_.output(), targets_.data(), count, width, tw);
  }
  out.loss /= static_cast<double>(n);
  for (auto& m : out.metrics) m /= static_cast<double>(n);
  return out;
}

History Trainer::fit(const Dataset& train, const Dataset* validation) {
  const int64_t n = train.rows(), batch = options_.batch_size;
  const int64_t width = graph_.output_shape().numel();
  const int64_t tw = train.targets.sample_shape().numel();
  targets_.assign(static_cast<size_t>(graph_.max_batch() * tw), 0.0f);

  Progress progress;
  progress.steps_per_epoch = (n + batch - 1) / batch;
  progress.epochs = options_.epochs;
  TrainingContext ctx(optimizer_, progress);
  ctx.train_samples = n;
  ctx.val_samples = validation ? validation->rows() : 0;

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle_rng(options_.seed, static_cast<uint64_t>(RngStream::kShuffle));
  std::span<float> params(graph_.params());
  std::span<const float> grads(graph_.param_grads());

  History history;
  for (auto* cb : callbacks_) cb->on_train_begin(ctx);
  for (int64_t epoch = 0; epoch < options_.epochs && !ctx.stop_requested(); ++epoch) {
    const double start = now_s();
    progress.epoch = epoch;
    for (auto* cb : callbacks_) cb->on_epoch_begin(ctx);
    if (options_.shuffle)
      for (int64_t i = n - 1; i > 0; --i)
        std::swap(order[static_cast<size_t>(i)], order[shuffle_rng.below(static_cast<uint64_t>(i + 1))]);

    double loss_sum = 0, lr_used = optimizer_.effective_lr();
    std::fill(metric_sums_.begin(), metric_sums_.end(), 0.0);
    int64_t seen = 0;
    for (int64_t begin = 0; begin < n && !ctx.stop_requested(); begin += batch) {
      const int64_t count = std::min(batch, n - begin);
      for (auto* cb : callbacks_) cb->on_batch_begin(ctx);
      gather(train, order.data() + begin, count);
      executor_.forward(count, true);
      const double loss = loss_.forward_backward(executor_.output(), targets_.data(), count, width, tw,
                                                 executor_.output_grad());
      // Metrics see this batch's forward pass, before the update (as Keras reports them).
      for (size_t m = 0; m < metrics_.size(); ++m)
        metric_sums_[m] += metrics_[m].metric->batch_sum(executor_.output(), targets_.data(), count, width, tw);
      executor_.backward(count);
      lr_used = optimizer_.effective_lr();
      optimizer_.step(params, grads);
      ++progress.step;
      loss_sum += loss * static_cast<double>(count);
      seen += count;
      for (auto* cb : callbacks_) cb->on_batch_end(ctx, loss);
    }

    EpochRecord record;
    const double denom = static_cast<double>(std::max<int64_t>(seen, 1));
    record.logs.set("loss", loss_sum / denom);
    for (size_t m = 0; m < metrics_.size(); ++m) record.logs.set(metrics_[m].name, metric_sums_[m] / denom);
    if (validation && validation->rows() > 0) {
      const Evaluation val = evaluate(*validation);
      record.logs.set("val_loss", val.loss);
      for (size_t m = 0; m < metrics_.size(); ++m) record.logs.set("val_" + metrics_[m].name, val.metrics[m]);
    }
    // The rate of the epoch's last update (for a per-epoch schedule, the epoch's rate).
    record.logs.set("lr", lr_used);
    record.time_s = now_s() - start;
    for (auto* cb : callbacks_) cb->on_epoch_end(ctx, record.logs);
    history.epochs.push_back(std::move(record));
  }
  for (auto* cb : callbacks_) cb->on_train_end(ctx);
  return history;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path temp = target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) throw RuntimeFailure("cannot write '" + temp.string() + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                       ::fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    fs::remove(temp);
    throw RuntimeFailure("cannot write '" + temp.string() + "'");
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp);
    throw RuntimeFailure("cannot rename '" + temp.string() + "' to '" + path + "': " + ec.message());
  }
}

void write_history_csv(const History& history, const std::string& path) {
  std::string text = "epoch";
  for (const auto& key : history.keys()) text += "," + key;
  text += ",time_s\n";
  char buffer[64];
  for (size_t e = 0; e < history.epochs.size(); ++e) {
    text += std::to_string(e + 1);
    for (const auto& [key, value] : history.epochs[e].logs.values) {
      // %.9g round-trips a float and keeps doubles readable.
      std::snprintf(buffer, sizeof buffer, ",%.9g", value);
      text += buffer;
    }
    std::snprintf(buffer, sizeof buffer, ",%.6f\n", history.epochs[e].time_s);
    text += buffer;
  }
  write_file_atomically(path, text);
}

}  // namespace anneal
