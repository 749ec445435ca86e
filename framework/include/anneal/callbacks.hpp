#pragma once
// Built-in callbacks the CLI wires up itself.

#include <cstdio>
#include <memory>

#include "anneal/callback.hpp"

namespace anneal {

class LrScheduler : public Callback {
 public:
  explicit LrScheduler(std::unique_ptr<Schedule> schedule);
  LrScheduler(AttrMap& attrs, const ScheduleContext& ctx);
  void on_epoch_begin(TrainingContext& ctx) override;
  void on_batch_begin(TrainingContext& ctx) override;
  void on_epoch_end(TrainingContext& ctx, Logs& logs) override;
  const Schedule& schedule() const { return *schedule_; }
  Schedule& schedule() { return *schedule_; }

 private:
  void apply(TrainingContext& ctx);
  std::unique_ptr<Schedule> schedule_;
};

// Keras fit(verbose=2): "Epoch i/E" then " - Ts - loss: ... - val_accuracy: ... - lr: ...".
class ProgressLogger : public Callback {
 public:
  explicit ProgressLogger(std::FILE* out = stdout) : out_(out) {}
  ProgressLogger(AttrMap& attrs, const ScheduleContext& ctx);
  void on_train_begin(TrainingContext& ctx) override;
  void on_epoch_begin(TrainingContext& ctx) override;
  void on_epoch_end(TrainingContext& ctx, Logs& logs) override;

 private:
  std::FILE* out_;
  double epoch_start_ = 0;
};

// Keras' number format in progress lines: %.4f above 1e-3, %.4e otherwise.
std::string format_metric(double value);

}  // namespace anneal
