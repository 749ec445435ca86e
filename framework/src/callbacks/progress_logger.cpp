#include <chrono>
#include <cmath>
#include <string>

#include "anneal/callbacks.hpp"

namespace anneal {
namespace {
double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string format_metric(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, std::abs(value) > 1e-3 ? "%.4f" : "%.4e", value);
  return buffer;
}

ProgressLogger::ProgressLogger(AttrMap&, const ScheduleContext&) : out_(stdout) {}

void ProgressLogger::on_train_begin(TrainingContext& ctx) {
  if (ctx.val_samples > 0)
    std::fprintf(out_, "Train on %lld samples, validate on %lld samples\n",
                 static_cast<long long>(ctx.train_samples), static_cast<long long>(ctx.val_samples));
  else
    std::fprintf(out_, "Train on %lld samples\n", static_cast<long long>(ctx.train_samples));
}

void ProgressLogger::on_epoch_begin(TrainingContext& ctx) {
  std::fprintf(out_, "Epoch %lld/%lld\n", static_cast<long long>(ctx.progress().epoch + 1),
               static_cast<long long>(ctx.progress().epochs));
  epoch_start_ = now_s();
}

void ProgressLogger::on_epoch_end(TrainingContext&, Logs& logs) {
  std::string line = " - " + std::to_string(static_cast<long long>(std::lround(now_s() - epoch_start_))) + "s";
  for (const auto& [key, value] : logs.values) line += " - " + key + ": " + format_metric(value);
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

ANNEAL_REGISTER(CallbackRegistry, "progress", ProgressLogger);

}  // namespace anneal
