#include "anneal/callback.hpp"

#include "anneal/optimizer.hpp"

namespace anneal {

double Logs::get(const std::string& key, double fallback) const {
  for (const auto& [k, v] : values)
    if (k == key) return v;
  return fallback;
}

bool Logs::has(const std::string& key) const {
  for (const auto& [k, v] : values)
    if (k == key) return true;
  return false;
}

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : values)
    if (k == key) {
      v = value;
      return;
    }
  values.emplace_back(key, value);
}

double TrainingContext::lr() const { return optimizer_.lr(); }
void TrainingContext::set_lr(double lr) { optimizer_.set_lr(lr); }
std::optional<double> TrainingContext::momentum() const { return optimizer_.momentum(); }
void TrainingContext::set_momentum(double m) { optimizer_.set_momentum(m); }
double TrainingContext::effective_lr() const { return optimizer_.effective_lr(); }

}  // namespace anneal
