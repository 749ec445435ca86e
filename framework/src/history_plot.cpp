#include "anneal/atomic_file.hpp"
#include "anneal/history_plot.hpp"

#include <fstream>
#include <sstream>

#include "anneal/svg_plot.hpp"

namespace anneal {

History read_history_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(format_error({path, 0, 0}, "cannot open history file"));
  std::string line;
  if (!std::getline(in, line)) throw DataError(format_error({path, 1, 0}, "empty history file"));
  std::vector<std::string> columns;
  std::stringstream header(line);
  for (std::string c; std::getline(header, c, ',');) columns.push_back(c);
  if (columns.size() < 3 || columns.front() != "epoch" || columns.back() != "time_s")
    throw DataError(format_error({path, 1, 1}, "not a history file (expected epoch,...,time_s)"));
  History h;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    std::stringstream cells(line);
    std::vector<double> values;
    for (std::string c; std::getline(cells, c, ',');) {
      try {
        values.push_back(std::stod(c));
      } catch (...) {
        throw DataError(format_error({path, line_number, 0}, "expected a number, got '" + c + "'"));
      }
    }
    if (values.size() != columns.size())
      throw DataError(format_error({path, line_number, 0}, "expected " + std::to_string(columns.size()) + " columns"));
    EpochRecord record;
    for (size_t i = 1; i + 1 < columns.size(); ++i) record.logs.set(columns[i], values[i]);
    record.time_s = values.back();
    h.epochs.push_back(std::move(record));
  }
  return h;
}

void write_history_plot(const std::vector<NamedHistory>& runs, const std::string& path) {
  PlotPanel loss{"Loss", "epoch", "loss", false, false, {}};
  PlotPanel accuracy{"Accuracy", "epoch", "accuracy", false, false, {}};
  PlotPanel lr{"Learning rate", "epoch", "learning rate", false, false, {}};
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& h = runs[r].history;
    const int color = static_cast<int>(r);
    auto series = [&](const std::string& key, const std::string& label, bool dashed) {
      PlotSeries s{label, {}, {}, {}, {}, dashed, color};
      for (size_t e = 0; e < h.epochs.size(); ++e)
        if (h.epochs[e].logs.has(key)) {
          s.x.push_back(static_cast<double>(e + 1));
          s.y.push_back(h.epochs[e].logs.get(key, 0));
        }
      return s;
    };
    const std::string prefix = runs.size() > 1 ? runs[r].name + " " : "";
    loss.series.push_back(series("loss", prefix + "train", false));
    if (!h.epochs.empty() && h.epochs[0].logs.has("val_loss")) loss.series.push_back(series("val_loss", prefix + "validation", true));
    if (!h.epochs.empty() && h.epochs[0].logs.has("accuracy")) accuracy.series.push_back(series("accuracy", prefix + "train", false));
    if (!h.epochs.empty() && h.epochs[0].logs.has("val_accuracy"))
      accuracy.series.push_back(series("val_accuracy", prefix + "validation", true));
    lr.series.push_back(series("lr", runs[r].name, false));
  }
  std::vector<PlotPanel> panels{loss};
  if (!accuracy.series.empty()) panels.push_back(accuracy);
  panels.push_back(lr);
  write_file_atomically(path, render_svg(panels, static_cast<int>(panels.size()), 520, 380));
}

}  // namespace anneal
