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
#include "anneal/parallel.hpp"

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

void Trainer::gather(const Dataset& data, const int64_t* rows, int64_t count, int64_t begin, int64_t end) {
  const int64_t fw = data.feature_width();
  const int64_t tw = data.targets.sample_shape().numel();
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(targets_.data() + i * tw, data.targets.row(rows[i]), sizeof(float) * static_cast<size_t>(tw));
    if (!data.sample_weights.empty()) weights_batch_[static_cast<size_t>(i)] = data.sample_weights[static_cast<size_t>(rows[i])];
  }
  // The rows split over the passes' threads, which wait for the first product otherwise (a
  // generated batch of 1 024 MNIST-sized rows is a fraction of a millisecond on one).
  float* input = executor_.input();
  parallel_for(split_threads(executor_.gemm_runner().pass_threads(), (end - begin) * fw), end - begin,
               [&](int64_t first, int64_t last) {
                 for (int64_t i = begin + first; i < begin + last; ++i) data.read_features(rows[i], input + (i - begin) * fw);
               });
}

void Trainer::reset_metrics(std::vector<std::vector<double>>& states, int64_t rows, int64_t tw) const {
  const int64_t width = graph_.output_shape().numel();
  states.resize(metrics_.size());
  for (size_t m = 0; m < metrics_.size(); ++m)
    states[m].assign(metrics_[m].metric->state_size(width, tw, rows), 0.0);
}

double Trainer::batch_loss(const Dataset& data, const float* output, int64_t count, int64_t tw, float* grad) const {
  const int64_t width = graph_.output_shape().numel();
  if (data.sample_weights.empty()) return loss_.forward_backward(output, targets_.data(), count, width, tw, grad);
  return loss_.weighted_forward_backward(output, targets_.data(), weights_batch_.data(), count, width, tw, grad);
}

std::pair<int64_t, int64_t> Trainer::forward_batch(const Dataset& data, const int64_t* rows, int64_t count, bool training) {
  const auto [begin, end] = distributed() ? rank_slice(count, options_.comm->rank(), options_.comm->size())
                                          : std::pair<int64_t, int64_t>{0, count};
  gather(data, rows, count, begin, end);
  if (end > begin) executor_.forward(end - begin, training);
  if (distributed()) gather_outputs(count, end - begin);
  return {begin, end};
}

void Trainer::size_distributed_buffers() {
  const auto outputs = static_cast<size_t>(graph_.max_batch() * graph_.output_shape().numel());
  all_outputs_.resize(outputs);
  all_output_grads_.resize(outputs);
  gather_counts_.resize(static_cast<size_t>(options_.comm->size()));
}

void Trainer::gather_outputs(int64_t count, int64_t local) {
  const int64_t width = graph_.output_shape().numel();
  const int ranks = options_.comm->size();
  for (int r = 0; r < ranks; ++r) {
    const auto [b, e] = rank_slice(count, r, ranks);
    gather_counts_[static_cast<size_t>(r)] = (e - b) * width;
  }
  options_.comm->allgather(std::span<const float>(executor_.output(), static_cast<size_t>(local * width)),
                           std::span<float>(all_outputs_).first(static_cast<size_t>(count * width)), gather_counts_);
}

void Trainer::reduce_update() {
  options_.comm->allreduce_sum(executor_.param_grads());
  if (weights_.state.empty()) return;
  options_.comm->allreduce_sum(std::span<float>(weights_.state));
  const float share = 1.0f / static_cast<float>(options_.comm->size());
  for (float& v : weights_.state) v *= share;
}

double Trainer::train_forward(const Dataset& data, const int64_t* rows, int64_t count, int64_t& local) {
  const int64_t tw = data.targets.sample_shape().numel();
  const auto [begin, end] = forward_batch(data, rows, count, true);
  local = end - begin;
  if (!distributed()) return batch_loss(data, executor_.output(), count, tw, executor_.output_grad());
  // The loss of the whole batch, as one process computes it; this rank back-propagates its rows.
  const int64_t width = graph_.output_shape().numel();
  const double loss = batch_loss(data, all_outputs_.data(), count, tw, all_output_grads_.data());
  std::copy(all_output_grads_.begin() + begin * width, all_output_grads_.begin() + end * width, executor_.output_grad());
  return loss;
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
  if (distributed()) size_distributed_buffers();
  for (int64_t begin = 0; begin < n; begin += graph_.max_batch()) {
    const int64_t count = std::min(graph_.max_batch(), n - begin);
    std::iota(rows.begin(), rows.begin() + count, begin);
    // Over ranks each runs its slice of the chunk, and every rank then scores the whole chunk.
    forward_batch(data, rows.data(), count, false);
    const float* batch_outputs = outputs_of_batch();
    if (outputs) std::copy(batch_outputs, batch_outputs + count * width, outputs->begin() + begin * width);
    out.loss += batch_loss(data, batch_outputs, count, tw, nullptr) * static_cast<double>(count);
    for (size_t m = 0; m < metrics_.size(); ++m)
      metrics_[m].metric->accumulate(states[m], batch_outputs, targets_.data(), count, width, tw);
  }
  out.loss /= static_cast<double>(n);
  out.loss += regularization(graph_, weights_.params);
  for (size_t m = 0; m < metrics_.size(); ++m) out.metrics.push_back(metrics_[m].metric->result(states[m], width, tw));
  return out;
}

bool Trainer::stop_requested() const {
  if (!options_.stop_request) return false;  // the same on every rank
  const int local = options_.stop_request();
  if (!distributed()) return local != 0;
  return options_.comm->allreduce_max(local) != 0;
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

void Trainer::prepare_fit(const Dataset& train, TrainState& state) {
  const int64_t tw = train.targets.sample_shape().numel();
  targets_.assign(static_cast<size_t>(graph_.max_batch() * tw), 0.0f);
  weights_batch_.assign(static_cast<size_t>(graph_.max_batch()), 1.0f);
  order_.resize(static_cast<size_t>(train.rows()));
  if (state.metric_states.size() != metrics_.size()) reset_metrics(state.metric_states, train.rows(), tw);
  executor_.dropout_rng().set_state(state.dropout);
  if (!distributed()) return;
  size_distributed_buffers();
  // Rank 0's weights are the run's (they agree already when every rank read the same seed or
  // checkpoint; this makes it so whatever happened before).
  options_.comm->broadcast(std::span<float>(weights_.params), 0);
  options_.comm->broadcast(std::span<float>(weights_.state), 0);
  if (options_.comm->rank() > 0) {
    // Other ranks draw their own dropout masks (rank 0's stream is the one checkpoints keep), so
    // dropout is independent over the batch's rows as in one process, though not the same draws.
    const uint64_t mixed = state.dropout[0] ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(options_.comm->rank()));
    executor_.dropout_rng() = Rng(mixed, static_cast<uint64_t>(RngStream::kDropout));
  }
}

Rng Trainer::shuffle(const TrainState& state) {
  // Every epoch's order is rebuilt from the stream's state at the epoch's start, so resuming
  // mid-epoch needs no saved permutation.
  Rng rng(0);
  rng.set_state(state.epoch_shuffle);
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle)
    for (int64_t i = static_cast<int64_t>(order_.size()) - 1; i > 0; --i)
      std::swap(order_[static_cast<size_t>(i)], order_[rng.below(static_cast<uint64_t>(i + 1))]);
  return rng;
}

double Trainer::train_batch(const Dataset& train, int64_t begin, int64_t count, TrainState& state) {
  const int64_t width = graph_.output_shape().numel();
  const int64_t tw = train.targets.sample_shape().numel();
  const std::span<float> params = std::span<float>(weights_.params).first(static_cast<size_t>(graph_.sizes().trainable));
  const std::span<float> grads = executor_.param_grads();
  int64_t local = 0;
  double loss = train_forward(train, order_.data() + begin, count, local);
  // Metrics see this batch's forward pass, before the update (as Keras reports them).
  for (size_t m = 0; m < metrics_.size(); ++m)
    metrics_[m].metric->accumulate(state.metric_states[m], outputs_of_batch(), targets_.data(), count, width, tw);
  if (local > 0) executor_.backward(local);
  else std::fill(grads.begin(), grads.end(), 0.0f);  // a rank without rows adds nothing
  if (distributed()) reduce_update();
  // Keras adds the layers' regularization terms to the training loss it reports.
  if (graph_.has_regularizers()) {
    const double reg = regularization(graph_, weights_.params, grads);
    loss += reg;
    state.reg_loss_sum += reg * static_cast<double>(count);
  }
  state.lr_used = optimizer_.logged_lr();
  // The step runs on the products' threads where the passes do (GemmRunner::pass_threads): on
  // one, where OpenBLAS's threads would compete for the cores.
  optimizer_.step(params, grads, executor_.gemm_runner().pass_threads());
  ++state.step;
  ++state.batch_in_epoch;
  state.loss_sum += loss * static_cast<double>(count);
  state.seen += count;
  return loss;
}

EpochRecord Trainer::epoch_record(const Dataset& train, const Dataset* validation, const TrainState& state) {
  const int64_t width = graph_.output_shape().numel();
  const int64_t tw = train.targets.sample_shape().numel();
  EpochRecord record;
  const double denom = static_cast<double>(std::max<int64_t>(state.seen, 1));
  record.logs.set("loss", state.loss_sum / denom);
  for (size_t m = 0; m < metrics_.size(); ++m)
    record.logs.set(metrics_[m].name, metrics_[m].metric->result(state.metric_states[m], width, tw));
  if (validation && validation->rows() > 0) {
    // Validation sees the model, which some optimizers keep apart from the training point.
    const std::span<float> params = std::span<float>(weights_.params).first(static_cast<size_t>(graph_.sizes().trainable));
    optimizer_.to_model_point(params);
    const Evaluation val = evaluate(*validation);
    optimizer_.to_training_point(params);
    record.logs.set("val_loss", val.loss);
    for (size_t m = 0; m < metrics_.size(); ++m) record.logs.set("val_" + metrics_[m].name, val.metrics[m]);
  }
  // The rate of the epoch's last update (for a per-epoch schedule, the epoch's rate).
  record.logs.set("lr", state.lr_used);
  if (graph_.has_regularizers()) record.logs.set("reg_loss", state.reg_loss_sum / denom);
  return record;
}

void Trainer::reset_epoch_sums(TrainState& state, int64_t rows, int64_t target_width) {
  state.loss_sum = 0;
  state.reg_loss_sum = 0;
  state.seen = 0;
  state.lr_used = optimizer_.logged_lr();
  reset_metrics(state.metric_states, rows, target_width);
}

bool Trainer::run_batches(const Dataset& train, TrainState& state, Progress& progress, TrainingContext& ctx) {
  const int64_t n = train.rows(), batch = options_.batch_size;
  for (int64_t begin = state.batch_in_epoch * batch; begin < n; begin += batch) {
    ctx.batch_in_epoch = state.batch_in_epoch;
    for (auto* cb : callbacks_) cb->on_batch_begin(ctx);
    const double loss = train_batch(train, begin, std::min(batch, n - begin), state);
    progress.step = state.step;
    for (auto* cb : callbacks_) cb->on_batch_end(ctx, loss);
    if (ctx.stop_requested()) break;  // a callback's stop ends the epoch; its record is still kept
    if (stop_requested() && begin + batch < n) return false;
  }
  return true;
}

FitResult Trainer::fit(const Dataset& train, const Dataset* validation, TrainState& state,
                       const CheckpointWriter& writer) {
  const int64_t n = train.rows(), batch = options_.batch_size;
  prepare_fit(train, state);
  Progress progress;
  progress.steps_per_epoch = (n + batch - 1) / batch;
  progress.epochs = options_.epochs;
  progress.step = state.step;
  progress.epoch = state.epoch;
  TrainingContext ctx(optimizer_, progress, weights_);
  ctx.train_samples = n;
  ctx.val_samples = validation ? validation->rows() : 0;
  ctx.batch_in_epoch = state.batch_in_epoch;

  const auto paused = [&] { return options_.pause_at > 0 && state.epoch >= options_.pause_at && state.epoch < options_.epochs; };
  if (paused()) return FitResult::kPaused;
  for (auto* cb : callbacks_) cb->on_train_begin(ctx);
  while (state.epoch < options_.epochs && !ctx.stop_requested()) {
    const double start = wall_seconds() - state.time_s;
    progress.epoch = state.epoch;
    const bool fresh_epoch = state.batch_in_epoch == 0;
    if (fresh_epoch) for (auto* cb : callbacks_) cb->on_epoch_begin(ctx);
    Rng shuffle_rng = shuffle(state);
    if (fresh_epoch) reset_epoch_sums(state, n, train.targets.sample_shape().numel());
    if (!run_batches(train, state, progress, ctx)) {
      state.dropout = executor_.dropout_rng().state();
      state.time_s = wall_seconds() - start;
      return FitResult::kInterrupted;
    }

    EpochRecord record = epoch_record(train, validation, state);
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
  FitResult result = ctx.stop_requested() ? FitResult::kStopped : FitResult::kCompleted;
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
