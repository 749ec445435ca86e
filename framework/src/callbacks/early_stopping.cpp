// early_stopping (Keras 3 semantics): stops when `monitor` has not improved by more than
// min_delta for `patience` epochs (epochs before start_from_epoch are ignored; with a baseline,
// an improvement must also beat it). restore_best_weights puts back the best epoch's weights
// when training ends.
#include <cmath>
#include <cstdio>

#include "anneal/callbacks.hpp"
#include "anneal/graph.hpp"
#include "monitor.hpp"

namespace anneal {
namespace {

class EarlyStopping : public Callback {
 public:
  EarlyStopping(AttrMap& a, const ScheduleContext& ctx)
      : monitor_(a, ctx, 0.0),
        patience_(a.get<int64_t>("patience", 0)),
        baseline_(a.get_optional<double>("baseline")),
        restore_(a.get<bool>("restore_best_weights", false)),
        start_from_epoch_(a.get<int64_t>("start_from_epoch", 0)) {
    a.require(patience_ >= 0, "patience", "must be >= 0");
    a.require(start_from_epoch_ >= 0, "start_from_epoch", "must be >= 0");
    best_ = monitor_.worst();
  }

  void on_epoch_end(TrainingContext& ctx, Logs& logs) override {
    const int64_t epoch = ctx.progress().epoch;
    if (epoch < start_from_epoch_ || !logs.has(monitor_.key())) return;
    const double current = logs.get(monitor_.key(), 0);
    ++wait_;
    if (monitor_.better(current, best_)) {
      best_ = current;
      best_epoch_ = epoch;
      if (restore_) {
        // Parameters, then the non-trainable state (batch_norm's moving statistics).
        const Weights& w = ctx.weights();
        best_weights_.assign(w.params.begin(), w.params.end());
        best_weights_.insert(best_weights_.end(), w.state.begin(), w.state.end());
      }
      if (!baseline_ || monitor_.better(current, *baseline_)) wait_ = 0;
    }
    if (wait_ >= patience_ && epoch > 0) {
      stopped_epoch_ = epoch;
      ctx.request_stop();
    }
  }

  void on_train_end(TrainingContext& ctx) override {
    if (stopped_epoch_ >= 0) std::printf("Epoch %lld: early stopping\n", static_cast<long long>(stopped_epoch_ + 1));
    if (restore_ && !best_weights_.empty()) {
      Weights& w = ctx.weights();
      const auto split = best_weights_.begin() + static_cast<std::ptrdiff_t>(w.params.size());
      std::copy(best_weights_.begin(), split, w.params.begin());
      std::copy(split, best_weights_.end(), w.state.begin());
      std::printf("Restoring model weights from the end of the best epoch: %lld.\n", static_cast<long long>(best_epoch_ + 1));
    }
  }

  void save_state(std::vector<double>& out) const override {
    out.insert(out.end(), {best_, static_cast<double>(wait_), static_cast<double>(best_epoch_),
                           static_cast<double>(best_weights_.size())});
    out.insert(out.end(), best_weights_.begin(), best_weights_.end());
  }
  void load_state(std::span<const double>& in) override {
    const auto head = take_state(in, 4, "early_stopping");
    best_ = head[0];
    wait_ = static_cast<int64_t>(head[1]);
    best_epoch_ = static_cast<int64_t>(head[2]);
    if (!(head[3] >= 0) || head[3] != std::floor(head[3]) || head[3] > static_cast<double>(in.size()))
      throw InputError("saved state of 'early_stopping' is damaged (best weights of " + std::to_string(head[3]) + " values)");
    const auto weights = take_state(in, static_cast<size_t>(head[3]), "early_stopping");
    best_weights_.assign(weights.begin(), weights.end());
  }
  void on_train_begin(TrainingContext& ctx) override {
    // The weights a callback sees are the training point; with a separate model (schedule-free)
    // restoring them would not restore the model, and the optimizer's average would overwrite
    // them in the saved checkpoint anyway.
    if (restore_ && ctx.optimizer_has_model_point())
      throw InputError("early_stopping: restore_best_weights does not work with an optimizer that keeps its model apart from "
                       "the point it trains at (sgd_schedulefree, adamw_schedulefree); keep the best epoch with "
                       "{type: model_checkpoint, save_best_only: true} instead");
    // Saved best weights must fit this model's (a checkpoint of another run is refused earlier;
    // this guards the restore against a damaged one).
    const Weights& w = ctx.weights();
    if (!best_weights_.empty() && best_weights_.size() != w.params.size() + w.state.size())
      throw InputError("saved state of 'early_stopping' holds " + std::to_string(best_weights_.size()) +
                       " weights, the model has " + std::to_string(w.params.size() + w.state.size()));
  }

 private:
  Monitor monitor_;
  int64_t patience_;
  std::optional<double> baseline_;
  bool restore_;
  int64_t start_from_epoch_;
  double best_ = 0;
  int64_t wait_ = 0, best_epoch_ = -1, stopped_epoch_ = -1;
  std::vector<float> best_weights_;
};

ANNEAL_REGISTER(CallbackRegistry, "early_stopping", EarlyStopping);

}  // namespace
}  // namespace anneal
