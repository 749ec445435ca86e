#include "anneal/callback.hpp"

#include <algorithm>
#include <cmath>

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
bool TrainingContext::optimizer_has_model_point() const { return optimizer_.has_model_point(); }

std::span<const double> take_state(std::span<const double>& in, size_t n, const std::string& owner) {
  if (n > in.size())
    throw InputError("saved state of '" + owner + "' is too short (" + std::to_string(in.size()) + " numbers, " +
                     std::to_string(n) + " needed): the checkpoint is damaged or from another run");
  const auto out = in.first(n);
  in = in.subspan(n);
  return out;
}

namespace {
// A type's id, exact in a double (32 bits of FNV-1a).
double type_id(const std::string& type) {
  uint32_t h = 2166136261u;
  for (unsigned char c : type) h = (h ^ c) * 16777619u;
  return static_cast<double>(h);
}
}  // namespace

std::vector<double> save_callback_states(const std::vector<NamedCallback>& callbacks) {
  std::vector<double> out;
  for (const auto& cb : callbacks) {
    std::vector<double> block;
    cb.callback->save_state(block);
    out.push_back(type_id(cb.type));
    out.push_back(static_cast<double>(block.size()));
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

void load_callback_states(std::span<const double> saved, const std::vector<NamedCallback>& callbacks,
                          const std::function<void(const std::string&)>& note) {
  struct Block {
    double id;
    std::span<const double> values;
    bool used = false;
  };
  std::vector<Block> blocks;
  while (!saved.empty()) {
    const auto header = take_state(saved, 2, "callbacks");
    const double length = header[1];
    if (!(length >= 0) || length != std::floor(length) || length > static_cast<double>(saved.size()))
      throw InputError("the saved callback state is damaged (a block claims " + std::to_string(length) + " numbers)");
    blocks.push_back({header[0], take_state(saved, static_cast<size_t>(length), "callbacks")});
  }
  for (const auto& cb : callbacks) {
    auto block = std::find_if(blocks.begin(), blocks.end(), [&](const Block& b) { return !b.used && b.id == type_id(cb.type); });
    if (block == blocks.end()) {
      std::vector<double> probe;  // stateless callbacks (progress) need no note
      cb.callback->save_state(probe);
      if (!probe.empty()) note("callback '" + cb.type + "' is not in the checkpoint: it starts fresh");
      continue;
    }
    block->used = true;
    std::span<const double> in = block->values;
    cb.callback->load_state(in);
    if (!in.empty())
      throw InputError("saved state of '" + cb.type + "' has " + std::to_string(in.size()) + " numbers too many: the checkpoint is damaged");
  }
  const auto unused = std::count_if(blocks.begin(), blocks.end(), [](const Block& b) { return !b.used && !b.values.empty(); });
  if (unused > 0) note("the checkpoint holds the state of " + std::to_string(unused) + " callback(s) this run does not have: ignored");
}

}  // namespace anneal
