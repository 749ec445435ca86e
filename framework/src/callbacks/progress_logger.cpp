// progress: Keras fit(verbose=1) on a terminal — a bar with ETA and running loss and metrics,
// redrawn after each batch — and fit(verbose=2) otherwise: "Epoch i/E" then one line per epoch.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <string>

#include "anneal/clock.hpp"
#include "anneal/callbacks.hpp"

namespace anneal {
std::string format_metric(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, std::abs(value) > 1e-3 ? "%.4f" : "%.4e", value);
  return buffer;
}

ProgressLogger::ProgressLogger(std::FILE* out) : out_(out), bar_(isatty(fileno(out)) != 0) {}

ProgressLogger::ProgressLogger(AttrMap& a, const ScheduleContext&) : ProgressLogger(stdout) {
  const auto mode = a.get<std::string>("mode", "auto");
  a.require(mode == "auto" || mode == "bar" || mode == "lines", "mode", "must be auto, bar or lines");
  if (mode != "auto") bar_ = mode == "bar";
}

void ProgressLogger::on_train_begin(TrainingContext& ctx) {
  if (ctx.val_samples > 0)
    std::fprintf(out_, "Train on %lld samples, validate on %lld samples\n", static_cast<long long>(ctx.train_samples),
                 static_cast<long long>(ctx.val_samples));
  else
    std::fprintf(out_, "Train on %lld samples\n", static_cast<long long>(ctx.train_samples));
  if (ctx.batch_in_epoch > 0) {
    std::fprintf(out_, "Epoch %lld/%lld (resumed after batch %lld)\n", static_cast<long long>(ctx.progress().epoch + 1),
                 static_cast<long long>(ctx.progress().epochs), static_cast<long long>(ctx.batch_in_epoch));
    epoch_start_ = wall_seconds();
  }
}

void ProgressLogger::on_epoch_begin(TrainingContext& ctx) {
  std::fprintf(out_, "Epoch %lld/%lld\n", static_cast<long long>(ctx.progress().epoch + 1),
               static_cast<long long>(ctx.progress().epochs));
  std::fflush(out_);
  epoch_start_ = wall_seconds();
  loss_sum_ = 0;
  batches_ = 0;
}

void ProgressLogger::on_batch_end(TrainingContext& ctx, double loss) {
  if (!bar_) return;
  loss_sum_ += loss;
  ++batches_;
  const int64_t done = ctx.batch_in_epoch + 1, total = ctx.progress().steps_per_epoch;
  const double elapsed = wall_seconds() - epoch_start_;
  const double eta = done < total ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0;
  const int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(static_cast<size_t>(width), '.');
  std::fprintf(out_, "\r%lld/%lld [%s] - ETA: %.0fs - loss: %s", static_cast<long long>(done),
               static_cast<long long>(total), bar.c_str(), eta, format_metric(loss_sum_ / static_cast<double>(batches_)).c_str());
  std::fflush(out_);
}

void ProgressLogger::on_epoch_end(TrainingContext&, Logs& logs) {
  std::string line = (bar_ ? "\r\033[K" : std::string()) + " - " +
                     std::to_string(static_cast<long long>(std::lround(wall_seconds() - epoch_start_))) + "s";
  for (const auto& [key, value] : logs.values) line += " - " + key + ": " + format_metric(value);
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

ANNEAL_REGISTER(CallbackRegistry, "progress", ProgressLogger);

}  // namespace anneal
