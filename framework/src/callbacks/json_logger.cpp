// json_logger: one JSON object per epoch and line ({"epoch": 0, "loss": ..., ...}), for other
// tools to read while a run goes on. Non-finite values are written as null.
#include <cmath>
#include <cstdio>

#include "file_logger.hpp"

namespace anneal {
namespace {

class JsonLogger : public FileLogger {
 public:
  JsonLogger(AttrMap& a, const ScheduleContext&) : FileLogger(a, "append") {}

 protected:
  std::string format_header(const Logs&) const override { return ""; }
  std::string format_row(int64_t epoch, const Logs& logs) const override {
    std::string out = "{\"epoch\": " + std::to_string(epoch);
    char buffer[40];
    for (const auto& [key, value] : logs.values) {
      if (std::isfinite(value)) std::snprintf(buffer, sizeof buffer, "%.9g", value);
      else std::snprintf(buffer, sizeof buffer, "null");
      out += ", \"" + key + "\": " + buffer;
    }
    return out + "}";
  }
};

ANNEAL_REGISTER(CallbackRegistry, "json_logger", JsonLogger);

}  // namespace
}  // namespace anneal
