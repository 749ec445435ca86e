// model_checkpoint: writes a resumable checkpoint every `every` epochs to a file-name template
// ("ckpt/ionosphere-{epoch:02d}-{val_accuracy:.4f}.ckpt"; {epoch} is 1-based as in Keras), or with
// save_best_only only when `monitor` improves.
#include <cstdio>
#include <regex>
#include <filesystem>

#include "anneal/callbacks.hpp"
#include "monitor.hpp"

namespace anneal {
namespace {

class ModelCheckpoint : public Callback {
 public:
  ModelCheckpoint(AttrMap& a, const ScheduleContext& ctx)
      : template_(a.get<std::string>("filepath")),
        monitor_(a, ctx, 0.0),
        save_best_only_(a.get<bool>("save_best_only", false)),
        every_(a.get<int64_t>("every", 1)),
        verbose_(a.get<bool>("verbose", false)) {
    a.require(every_ >= 1, "every", "must be at least 1");
    best_ = monitor_.worst();
    std::vector<std::string> keys{"epoch"};
    keys.insert(keys.end(), ctx.log_keys.begin(), ctx.log_keys.end());
    keys.push_back("lr");
    try {
      Logs probe;
      for (const auto& k : keys) probe.set(k, 0);
      format_path(template_, 1, probe, !ctx.log_keys.empty());
    } catch (const std::invalid_argument& e) {
      a.fail_value("filepath", std::string("template ") + e.what());
    }
  }

  void on_epoch_end(TrainingContext& ctx, Logs& logs) override {
    const int64_t epoch = ctx.progress().epoch + 1;
    if (epoch % every_ != 0) return;
    if (save_best_only_) {
      if (!logs.has(monitor_.key())) return;
      const double current = logs.get(monitor_.key(), 0);
      if (!monitor_.better(current, best_)) return;
      best_ = current;
    }
    const std::string path = format_path(template_, epoch, logs, true);
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    ctx.request_checkpoint(path);
    if (verbose_) std::printf("Epoch %lld: saving checkpoint to %s\n", static_cast<long long>(epoch), path.c_str());
  }

  void save_state(std::vector<double>& out) const override { out.push_back(best_); }
  void load_state(std::span<const double>& in) override { best_ = take_state(in, 1, "model_checkpoint")[0]; }

 private:
  // Expands {name} and {name:spec} (spec as in Python: 02d, .4f, .3e).
  static std::string format_path(const std::string& text, int64_t epoch, const Logs& logs, bool strict) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '{') {
        out += text[i];
        continue;
      }
      const size_t close = text.find('}', i);
      if (close == std::string::npos) throw std::invalid_argument("has an unclosed '{'");
      const std::string field = text.substr(i + 1, close - i - 1);
      const size_t colon = field.find(':');
      const std::string name = field.substr(0, colon);
      const std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
      double value = 0;
      if (name == "epoch") value = static_cast<double>(epoch);
      else if (logs.has(name)) value = logs.get(name, 0);
      else if (strict) throw std::invalid_argument("names '" + name + "', which is not logged");
      char buffer[64];
      const bool integer = spec.empty() ? name == "epoch" : spec.back() == 'd';
      // The spec is checked whole before it reaches snprintf: [0][width][.precision]type, nothing
      // else, so a template can never smuggle in another conversion ("d%d%d").
      static const std::regex kSpec("0?[0-9]{0,3}(\\.[0-9]{1,3})?[dfeg]");
      if (!spec.empty() && !std::regex_match(spec, kSpec))
        throw std::invalid_argument("has an unsupported format '" + spec + "' (expected e.g. 02d, .4f, .3e)");
      const std::string fmt = "%" + (spec.empty() ? std::string(integer ? "d" : "g") : spec);
      if (integer) std::snprintf(buffer, sizeof buffer, (fmt.substr(0, fmt.size() - 1) + "lld").c_str(), static_cast<long long>(value));
      else std::snprintf(buffer, sizeof buffer, fmt.c_str(), value);
      out += buffer;
      i = close;
    }
    return out;
  }

  std::string template_;
  Monitor monitor_;
  bool save_best_only_;
  int64_t every_;
  bool verbose_;
  double best_ = 0;
};

ANNEAL_REGISTER(CallbackRegistry, "model_checkpoint", ModelCheckpoint);

}  // namespace
}  // namespace anneal
