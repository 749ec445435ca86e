#pragma once
// Mini-batch training: shuffles the training rows every epoch from the seed, runs the executor,
// the loss and the optimizer, evaluates on the validation rows, and drives the callbacks.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anneal/callback.hpp"
#include "anneal/data.hpp"
#include "anneal/executor.hpp"
#include "anneal/loss.hpp"
#include "anneal/metric.hpp"
#include "anneal/optimizer.hpp"

namespace anneal {

struct NamedMetric {
  std::string name;
  std::unique_ptr<Metric> metric;
};

struct EpochRecord {
  Logs logs;       // loss, metrics, val_loss, val_metrics, lr
  double time_s = 0;  // wall time of the epoch's training and validation
};

struct History {
  std::vector<EpochRecord> epochs;
  // Column names in order (from the first epoch).
  std::vector<std::string> keys() const;
};

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
};

struct Evaluation {
  double loss = 0;
  std::vector<double> metrics;  // in NamedMetric order
};

class Trainer {
 public:
  Trainer(CompiledGraph& graph, const Loss& loss, const std::vector<NamedMetric>& metrics,
          Optimizer& optimizer, TrainOptions options);

  void add_callback(Callback* callback) { callbacks_.push_back(callback); }
  History fit(const Dataset& train, const Dataset* validation);
  Evaluation evaluate(const Dataset& data);

 private:
  // Copies rows idx[begin, end) into the input and target buffers.
  void gather(const Dataset& data, const int64_t* rows, int64_t count);

  CompiledGraph& graph_;
  Executor executor_;
  const Loss& loss_;
  const std::vector<NamedMetric>& metrics_;
  Optimizer& optimizer_;
  TrainOptions options_;
  std::vector<Callback*> callbacks_;
  std::vector<float> targets_;  // [max_batch, target width]
  std::vector<double> metric_sums_;
};

// Writes the history CSV atomically: epoch (1-based), the log keys, time_s.
void write_history_csv(const History& history, const std::string& path);

// Writes `text` to `path` through a temporary file and a rename, so readers never see a
// half-written file.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace anneal
