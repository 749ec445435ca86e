#pragma once
// Per-epoch values, in a fixed order: loss, metrics, val_loss, val_metrics, lr.

#include <string>
#include <utility>
#include <vector>

namespace anneal {

struct Logs {
  std::vector<std::pair<std::string, double>> values;
  double get(const std::string& key, double fallback) const;
  bool has(const std::string& key) const;
  void set(const std::string& key, double value);
};

}  // namespace anneal
