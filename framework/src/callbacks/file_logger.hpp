#pragma once
// A per-epoch log file that is rewritten atomically after every epoch (temporary file, fsync,
// rename): a reader or a crash never sees half a line. On resume it continues the file it wrote.

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "anneal/atomic_file.hpp"
#include "anneal/callback.hpp"
#include "anneal/trainer.hpp"

namespace anneal {

class FileLogger : public Callback {
 public:
  FileLogger(AttrMap& a, const char* default_append_key)
      : path_(a.get<std::string>("filename")), append_(a.get<bool>(default_append_key, false)) {}
  bool writes_output() const override { return true; }

  void on_train_begin(TrainingContext&) override {
    if (resumed_lines_ > 0 || append_) {
      // Keep what is there: everything on a resume (up to what this run had written), or the
      // whole file with append: true.
      std::ifstream in(path_);
      std::string line;
      int64_t kept = 0;
      while (std::getline(in, line) && (resumed_lines_ == 0 || kept < resumed_lines_)) {
        text_ += line + "\n";
        ++kept;
      }
      lines_ = kept;
    }
  }

  void on_epoch_end(TrainingContext& ctx, Logs& logs) override {
    if (lines_ == 0) {
      const std::string header = format_header(logs);
      if (!header.empty()) add_line(header);
    }
    add_line(format_row(ctx.progress().epoch, logs));
    write_file_atomically(path_, text_);
  }

  void save_state(std::vector<double>& out) const override { out.push_back(static_cast<double>(lines_)); }
  void load_state(std::span<const double>& in) override {
    const double lines = take_state(in, 1, "logger")[0];
    if (!(lines >= 0) || lines != std::floor(lines)) throw InputError("saved state of a logger is damaged");
    resumed_lines_ = static_cast<int64_t>(lines);
  }

 protected:
  virtual std::string format_header(const Logs& logs) const = 0;  // "" for none
  virtual std::string format_row(int64_t epoch, const Logs& logs) const = 0;

 private:
  void add_line(const std::string& line) {
    text_ += line + "\n";
    ++lines_;
  }
  std::string path_;
  bool append_;
  std::string text_;
  int64_t lines_ = 0, resumed_lines_ = 0;
};

}  // namespace anneal
