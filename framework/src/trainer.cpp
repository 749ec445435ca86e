#include "anneal/clock.hpp"
#include "anneal/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unistd.h>

#include "anneal/atomic_file.hpp"

namespace anneal {
std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  if (!epochs.empty())
    for (const auto& [key, value] : epochs.front().logs.values) out.push_back(key);
  return out;
}

Trainer::Trainer(const CompiledGraph& graph, Weights& weights, const Loss& loss, const std::vector<NamedMetric>& metrics,
                 Optimizer& optimizer, TrainOptions options)
    : graph_(graph), weights_(weights), executor_(graph, weights, options.seed), loss_(loss), metrics_(metrics),
      optimizer_(optimizer), options_(options) {
  optimizer_.prepare(graph_.sizes().trainable);
  std::vector<ParamGroup> groups;
  for (int index : graph_.order())
    for (const auto& p : graph_.nodes()[static_cast<size_t>(index)].params)
      if (p.training.trainable) groups.push_back({p.offset, p.size(), p.training.lr_mult, p.training.decay_mult});
  std::sort(groups.begin(), groups.end(), [](const ParamGroup& a, const ParamGroup& b) { return a.offset < b.offset; });
  optimizer_.set_groups(std::move(groups));
}

void Trainer::gather(const Dataset& data, const int64_t* rows, int64_t count) {
  const int64_t fw = data.features.sample_shape().numel();
  const int64_t tw = data.targets.sample_shape().numel();
  float* input = executor_.input();
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(input + i * fw, data.features.row(rows[i]), sizeof(float) * static_cast<size_t>(fw));
    std::memcpy(targets_.data() + i * tw, data.targets.row(rows[i]), sizeof(float) * static_cast<size_t>(tw));
    if (!data.sample_weights.empty()) weights_batch_[static_cast<size_t>(i)] = data.sample_weights[static_cast<size_t>(rows[i])];
  }
}

void Trainer::reset_metrics(std::vector<std::vector<double>>& states, int64_t rows, int64_t tw) const {
  const int64_t width = graph_.output_shape().numel();
  states.resize(metrics_.size());
  for (size_t m = 0; m < metrics_.size(); ++m)
    states[m].assign(metrics_[m].metric->state_size(width, tw, rows), 0.0);
}

double Trainer::batch_loss(const Dataset& data, int64_t count, int64_t tw, float* grad) const {
  const int64_t width = graph_.output_shape().numel();
  if (data.sample_weights.empty())
    return loss_.forward_backward(executor_.output(), targets_.data(), count, width, tw, grad);
  return loss_.weighted_forward_backward(executor_.output(), targets_.data(), weights_batch_.data(), count, width, tw, grad);
}

Evaluation Trainer::evaluate(const Dataset& data, std::vector<float>* outputs) {
  const int64_t n = data.rows(), width = graph_.output_shape().numel();
  const int64_t tw = data.targets.sample_shape().numel();
  targets_.resize(static_cast<size_t>(graph_.max_batch() * tw));
  weights_batch_.resize(static_cast<size_t>(graph_.max_batch()));
  std::vector<int64_t> rows(static_cast<size_t>(graph_.max_batch()));
  Evaluation out;
  std::vector<std::vector<double>> states;
  reset_metrics(states, n, tw);
  if (outputs) outputs->resize(static_cast<size_t>(n * width));
  for (int64_t begin = 0; begin < n; begin += graph_.max_batch()) {
    const int64_t count = std::min(graph_.max_batch(), n - begin);
    std::iota(rows.begin(), rows.begin() + count, begin);
    gather(data, rows.data(), count);
    executor_.forward(count, false);
    if (outputs) std::copy(executor_.output(), executor_.output() + count * width, outputs->begin() + begin * width);
    out.loss += batch_loss(data, count, tw, nullptr) * static_cast<double>(count);
    for (size_t m = 0; m < metrics_.size(); ++m)
      metrics_[m].metric->accumulate(states[m], executor_.output(), targets_.data(), count, width, tw);
  }
  out.loss /= static_cast<double>(n);
  out.loss += regularization(graph_, weights_.params);
  for (size_t m = 0; m < metrics_.size(); ++m) out.metrics.push_back(metrics_[m].metric->result(states[m], width, tw));
  return out;
}

TrainState Trainer::initial_state() const {
  TrainState state;
  state.epoch_shuffle = Rng(options_.seed, static_cast<uint64_t>(RngStream::kShuffle)).state();
  state.dropout = Rng(options_.seed, static_cast<uint64_t>(RngStream::kDropout)).state();
  return state;
}

History Trainer::fit(const Dataset& train, const Dataset* validation) {
  TrainState state = initial_state();
  if (fit(train, validation, state) == FitResult::kFailed) throw RuntimeFailure(state.failure);
  return std::move(state.history);
}

FitResult Trainer::fit(const Dataset& train, const Dataset* validation, TrainState& state,
                       const CheckpointWriter& writer) {
  const int64_t n = train.rows(), batch = options_.batch_size;
  const int64_t width = graph_.output_shape().numel();
  const int64_t tw = train.targets.sample_shape().numel();
  targets_.assign(static_cast<size_t>(graph_.max_batch() * tw), 0.0f);
  weights_batch_.assign(static_cast<size_t>(graph_.max_batch()), 1.0f);
  order_.resize(static_cast<size_t>(n));
  if (state.metric_states.size() != metrics_.size()) reset_metrics(state.metric_states, n, tw);

  Progress progress;
  progress.steps_per_epoch = (n + batch - 1) / batch;
  progress.epochs = options_.epochs;
  progress.step = state.step;
  progress.epoch = state.epoch;
  TrainingContext ctx(optimizer_, progress, weights_);
  ctx.train_samples = n;
  ctx.val_samples = validation ? validation->rows() : 0;
  ctx.batch_in_epoch = state.batch_in_epoch;
  executor_.dropout_rng().set_state(state.dropout);
  const std::span<float> params = std::span<float>(weights_.params).first(static_cast<size_t>(graph_.sizes().trainable));
  const std::span<float> grads = executor_.param_grads();
  const bool regularized = graph_.has_regularizers();

  FitResult result = FitResult::kCompleted;
  const auto paused = [&] { return options_.pause_at > 0 && state.epoch >= options_.pause_at && state.epoch < options_.epochs; };
  if (paused()) return FitResult::kPaused;
  for (auto* cb : callbacks_) cb->on_train_begin(ctx);
  while (state.epoch < options_.epochs && !ctx.stop_requested()) {
    const double start = wall_seconds() - state.time_s;
    progress.epoch = state.epoch;
    const bool fresh_epoch = state.batch_in_epoch == 0;
    if (fresh_epoch) for (auto* cb : callbacks_) cb->on_epoch_begin(ctx);
    // Every epoch's order is rebuilt from the stream's state at the epoch's start, so resuming
    // mid-epoch needs no saved permutation.
    Rng shuffle_rng(0);
    shuffle_rng.set_state(state.epoch_shuffle);
    std::iota(order_.begin(), order_.end(), 0);
    if (options_.shuffle)
      for (int64_t i = n - 1; i > 0; --i)
        std::swap(order_[static_cast<size_t>(i)], order_[shuffle_rng.below(static_cast<uint64_t>(i + 1))]);
    if (fresh_epoch) {
      state.loss_sum = 0;
      state.reg_loss_sum = 0;
      state.seen = 0;
      state.lr_used = optimizer_.logged_lr();
      reset_metrics(state.metric_states, n, tw);
    }

    for (int64_t begin = state.batch_in_epoch * batch; begin < n; begin += batch) {
      const int64_t count = std::min(batch, n - begin);
      ctx.batch_in_epoch = state.batch_in_epoch;
      for (auto* cb : callbacks_) cb->on_batch_begin(ctx);
      gather(train, order_.data() + begin, count);
      executor_.forward(count, true);
      double loss = batch_loss(train, count, tw, executor_.output_grad());
      // Metrics see this batch's forward pass, before the update (as Keras reports them).
      for (size_t m = 0; m < metrics_.size(); ++m)
        metrics_[m].metric->accumulate(state.metric_states[m], executor_.output(), targets_.data(), count, width, tw);
      executor_.backward(count);
      // Keras adds the layers' regularization terms to the training loss it reports.
      if (regularized) {
        const double reg = regularization(graph_, weights_.params, grads);
        loss += reg;
        state.reg_loss_sum += reg * static_cast<double>(count);
      }
      state.lr_used = optimizer_.logged_lr();
      optimizer_.step(params, grads);
      progress.step = ++state.step;
      ++state.batch_in_epoch;
      state.loss_sum += loss * static_cast<double>(count);
      state.seen += count;
      for (auto* cb : callbacks_) cb->on_batch_end(ctx, loss);
      if (ctx.stop_requested()) break;
      if (stop_requested() && begin + batch < n) {
        state.dropout = executor_.dropout_rng().state();
        state.time_s = wall_seconds() - start;
        return FitResult::kInterrupted;
      }
    }

    EpochRecord record;
    const double denom = static_cast<double>(std::max<int64_t>(state.seen, 1));
    record.logs.set("loss", state.loss_sum / denom);
    for (size_t m = 0; m < metrics_.size(); ++m)
      record.logs.set(metrics_[m].name, metrics_[m].metric->result(state.metric_states[m], width, tw));
    if (validation && validation->rows() > 0) {
      // Validation sees the model, which some optimizers keep apart from the training point.
      optimizer_.to_model_point(params);
      const Evaluation val = evaluate(*validation);
      optimizer_.to_training_point(params);
      record.logs.set("val_loss", val.loss);
      for (size_t m = 0; m < metrics_.size(); ++m) record.logs.set("val_" + metrics_[m].name, val.metrics[m]);
    }
    // The rate of the epoch's last update (for a per-epoch schedule, the epoch's rate).
    record.logs.set("lr", state.lr_used);
    if (regularized) record.logs.set("reg_loss", state.reg_loss_sum / denom);
    record.time_s = wall_seconds() - start;
    for (auto* cb : callbacks_) cb->on_epoch_end(ctx, record.logs);
    state.history.epochs.push_back(std::move(record));
    ++state.epoch;
    state.batch_in_epoch = 0;
    state.time_s = 0;
    state.epoch_shuffle = shuffle_rng.state();
    state.dropout = executor_.dropout_rng().state();
    for (const auto& path : ctx.take_checkpoint_requests())
      if (writer) writer(state, path);
    if (stop_requested() && state.epoch < options_.epochs && !ctx.stop_requested()) return FitResult::kInterrupted;
    if (paused() && !ctx.stop_requested()) return FitResult::kPaused;
  }
  if (ctx.stop_requested()) result = FitResult::kStopped;
  for (auto* cb : callbacks_) cb->on_train_end(ctx);
  if (!ctx.failure().empty()) {
    state.failure = ctx.failure();
    result = FitResult::kFailed;
  }
  return result;
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
