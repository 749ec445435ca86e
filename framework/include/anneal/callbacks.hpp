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
  void save_state(std::vector<double>& out) const override { schedule_->save_state(out); }
  void load_state(std::span<const double>& in) override { schedule_->load_state(in); }
  const Schedule& schedule() const { return *schedule_; }
  Schedule& schedule() { return *schedule_; }

 private:
  void apply(TrainingContext& ctx);
  std::unique_ptr<Schedule> schedule_;
};

// Keras fit(verbose=2): "Epoch i/E" then " - Ts - loss: ... - val_accuracy: ... - lr: ...";
// on a terminal, also a progress bar with ETA and the running loss (verbose=1).
class ProgressLogger : public Callback {
 public:
  explicit ProgressLogger(std::FILE* out = stdout);
  ProgressLogger(AttrMap& attrs, const ScheduleContext& ctx);
  bool writes_output() const override { return true; }
  void on_train_begin(TrainingContext& ctx) override;
  void on_epoch_begin(TrainingContext& ctx) override;
  void on_batch_end(TrainingContext& ctx, double loss) override;
  void on_epoch_end(TrainingContext& ctx, Logs& logs) override;

 private:
  std::FILE* out_;
  bool bar_;
  double epoch_start_ = 0, loss_sum_ = 0;
  int64_t batches_ = 0;
};

class TerminateOnNan : public Callback {
 public:
  TerminateOnNan(AttrMap& attrs, const ScheduleContext& ctx);
  void on_batch_end(TrainingContext& ctx, double loss) override;
};

// Keras' number format in progress lines: %.4f above 1e-3, %.4e otherwise.
std::string format_metric(double value);

}  // namespace anneal
