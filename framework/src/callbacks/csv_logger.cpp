// csv_logger (Keras CSVLogger conventions): `epoch` (0-based) then the log keys in sorted order,
// `separator` (,), `append` (false).
#include <algorithm>
#include <cstdio>

#include "file_logger.hpp"

namespace anneal {
namespace {

class CsvLogger : public FileLogger {
 public:
  CsvLogger(AttrMap& a, const ScheduleContext&) : FileLogger(a, "append"), separator_(a.get<std::string>("separator", ",")) {}

 protected:
  std::string format_header(const Logs& logs) const override {
    std::string out = "epoch";
    for (const auto& key : sorted_keys(logs)) out += separator_ + key;
    return out;
  }
  std::string format_row(int64_t epoch, const Logs& logs) const override {
    std::string out = std::to_string(epoch);
    char buffer[40];
    for (const auto& key : sorted_keys(logs)) {
      std::snprintf(buffer, sizeof buffer, "%.9g", logs.get(key, 0));
      out += separator_ + buffer;
    }
    return out;
  }

 private:
  static std::vector<std::string> sorted_keys(const Logs& logs) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : logs.values) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  std::string separator_;
};

ANNEAL_REGISTER(CallbackRegistry, "csv_logger", CsvLogger);

}  // namespace
}  // namespace anneal
