// anneal report: one self-contained HTML page (inline CSS and SVG; no script, no external file)
// for what `sweep`, `tune` or `cv` left behind:
//   a sweep folder (summary.json, runs/NAME-seedS.csv): the comparison table with intervals and
//     significance marks, each schedule's metric and loss per epoch (median and interquartile band
//     over seeds) and its learning-rate curve;
//   a study folder (study.json, trials/): the best configurations, the objective against each
//     parameter, the halving rungs, and the best trials' curves;
//   a cv results file (the CSV of `anneal cv -o`): per-fold values with the mean's interval.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "anneal/atomic_file.hpp"
#include "anneal/history_plot.hpp"
#include "anneal/search_space.hpp"
#include "anneal/stats.hpp"
#include "anneal/svg_plot.hpp"
#include "options.hpp"

namespace anneal::cli {
namespace fs = std::filesystem;
namespace {

std::string fmt(double v, const char* format = "%.4f") {
  if (!std::isfinite(v)) return "–";
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

double number_of(const YAML::Node& n) {
  if (!n || n.IsNull() || !n.IsScalar()) return NAN;
  try {
    return n.as<double>();
  } catch (const YAML::Exception&) {
    return NAN;
  }
}

// A page: title, sections of HTML, and the style they share.
class Page {
 public:
  explicit Page(std::string title) : title_(std::move(title)) {}
  void heading(const std::string& text) { body_ += "<h2>" + xml_escape(text) + "</h2>\n"; }
  void paragraph(const std::string& html) { body_ += "<p>" + html + "</p>\n"; }
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
             const std::vector<bool>& highlight = {}) {
    body_ += "<table>\n<tr>";
    for (const auto& h : header) body_ += "<th>" + xml_escape(h) + "</th>";
    body_ += "</tr>\n";
    for (size_t r = 0; r < rows.size(); ++r) {
      body_ += r < highlight.size() && highlight[r] ? "<tr class=\"mark\">" : "<tr>";
      for (const auto& cell : rows[r]) body_ += "<td>" + xml_escape(cell) + "</td>";
      body_ += "</tr>\n";
    }
    body_ += "</table>\n";
  }
  void plot(const std::vector<PlotPanel>& panels, int columns = 2) {
    if (panels.empty()) return;
    body_ += "<div class=\"plot\">" + inline_svg(render_svg(panels, columns, 560, 360)) + "</div>\n";
  }
  std::string html() const {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + xml_escape(title_) +
           "</title>\n<style>\n"
           "body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 24px; color: #222; max-width: 1200px; }\n"
           "h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }\n"
           "table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }\n"
           "th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }\n"
           "th { background: #f0f0f0; } tr.mark td { background: #fff4d6; }\n"
           "p { font-size: 14px; line-height: 1.45; } .plot { margin: 10px 0; } .note { color: #555; font-size: 13px; }\n"
           "</style>\n</head>\n<body>\n<h1>" + xml_escape(title_) + "</h1>\n" + body_ + "</body>\n</html>\n";
  }

 private:
  std::string title_, body_;
};

// Per epoch, the median and the interquartile range of one column over several runs.
PlotSeries median_band(const std::string& name, const std::vector<History>& runs, const std::string& key, int color) {
  PlotSeries s{name, {}, {}, {}, {}, false, color};
  for (size_t e = 0;; ++e) {
    std::vector<double> values;
    for (const auto& h : runs)
      if (e < h.epochs.size() && h.epochs[e].logs.has(key)) values.push_back(h.epochs[e].logs.get(key, NAN));
    if (values.empty()) break;
    std::sort(values.begin(), values.end());
    const auto quantile = [&](double q) {
      const double at = q * static_cast<double>(values.size() - 1);
      const size_t i = static_cast<size_t>(std::floor(at));
      const double frac = at - static_cast<double>(i);
      return i + 1 < values.size() ? values[i] * (1 - frac) + values[i + 1] * frac : values[i];
    };
    s.x.push_back(static_cast<double>(e + 1));
    s.y.push_back(quantile(0.5));
    s.band_low.push_back(quantile(0.25));
    s.band_high.push_back(quantile(0.75));
  }
  return s;
}

bool has_key(const std::vector<History>& runs, const std::string& key) {
  for (const auto& h : runs)
    if (!h.epochs.empty() && h.epochs.front().logs.has(key)) return true;
  return false;
}

// --- sweep -------------------------------------------------------------------------------------

void sweep_report(const std::string& dir, Page& page) {
  const YAML::Node summary = YAML::LoadFile((fs::path(dir) / "summary.json").string());
  const std::string metric = summary["metric"].as<std::string>(), baseline = summary["baseline"].as<std::string>();
  page.paragraph("Final <b>" + xml_escape(metric) + "</b> per schedule over seeds. CI: 95 % percentile bootstrap of the mean (" +
                 std::to_string(summary["bootstrap_resamples"].as<int>()) + " resamples). Δ: mean difference from <b>" +
                 xml_escape(baseline) + "</b> over the seeds both finished, with its paired bootstrap CI; p: two-sided Wilcoxon "
                 "signed-rank; Holm: corrected for the number of comparisons; ★ and a shaded row: significant at 0.05 after "
                 "correction.");
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> marks;
  std::vector<std::string> names;
  for (const auto& s : summary["schedules"]) {
    const std::string name = s["name"].as<std::string>();
    names.push_back(name);
    const bool base = s["baseline"].as<bool>(), significant = s["significant"].as<bool>();
    rows.push_back({name, std::to_string(s["runs"].as<int>()) + (s["failed"].as<int>() ? " (+" + std::to_string(s["failed"].as<int>()) + " failed)" : ""),
                    fmt(number_of(s["mean"])) + " ± " + fmt(number_of(s["std"])),
                    "[" + fmt(number_of(s["ci"][0])) + ", " + fmt(number_of(s["ci"][1])) + "]", fmt(number_of(s["median"])),
                    base ? "(baseline)" : fmt(number_of(s["difference"]), "%+.4f") + " [" + fmt(number_of(s["difference_ci"][0])) +
                                              ", " + fmt(number_of(s["difference_ci"][1])) + "]" + (significant ? " ★" : ""),
                    base ? "" : fmt(number_of(s["p_wilcoxon"]), "%.4g"), base ? "" : fmt(number_of(s["p_holm"]), "%.4g")});
    marks.push_back(significant);
  }
  page.heading("Comparison");
  page.table({"schedule", "runs", "mean ± std", "95 % CI", "median", "Δ vs " + baseline + " [95 % CI]", "Wilcoxon p", "Holm p"}, rows, marks);

  std::map<std::string, std::vector<History>> runs;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "runs")) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() != ".csv") continue;
    const auto at = stem.rfind("-seed");
    if (at == std::string::npos) continue;
    try {
      runs[stem.substr(0, at)].push_back(read_history_csv(entry.path().string()));
    } catch (const Error&) {
      // A run that failed left no readable history; the table counts it.
    }
  }
  PlotPanel curves{"median " + metric + " per epoch (band: quartiles)", "epoch", metric, false, false, {}};
  PlotPanel losses{"median val_loss per epoch (band: quartiles)", "epoch", "val_loss", false, false, {}};
  PlotPanel rates{"learning rate per epoch (median over seeds)", "epoch", "lr", false, true, {}};
  for (size_t k = 0; k < names.size(); ++k) {
    const auto& r = runs[names[k]];
    if (r.empty()) continue;
    curves.series.push_back(median_band(names[k], r, metric, static_cast<int>(k)));
    if (has_key(r, "val_loss")) losses.series.push_back(median_band(names[k], r, "val_loss", static_cast<int>(k)));
    PlotSeries lr = median_band(names[k], r, "lr", static_cast<int>(k));
    lr.band_low.clear();
    lr.band_high.clear();
    rates.series.push_back(lr);
  }
  page.heading("Training curves");
  std::vector<PlotPanel> panels{curves};
  if (!losses.series.empty()) panels.push_back(losses);
  page.plot(panels);
  page.heading("Learning-rate schedules");
  page.plot({rates}, 1);
}

// --- study -------------------------------------------------------------------------------------

struct TrialView {
  int id = 0, bracket = 0;
  Assignment params;
  std::vector<std::pair<double, double>> rungs;  // (budget, score)
  std::vector<double> confirm;
  bool complete = false;
  std::string folder, error;
  double final_score() const { return rungs.empty() ? NAN : rungs.back().second; }
};

// A study as study.json describes it, with its complete trials ranked as tune ranks them.
struct StudyView {
  std::string dir, objective, mode;
  bool maximize = true;
  std::vector<TrialView> trials;
  std::vector<const TrialView*> ranked;  // complete trials, best first
  std::set<double> budgets;
  bool better(double a, double b) const { return maximize ? a > b : a < b; }
};

StudyView read_study(const std::string& dir, const YAML::Node& study) {
  StudyView v;
  v.dir = dir;
  v.objective = study["objective"].as<std::string>();
  v.mode = study["mode"].as<std::string>();
  v.maximize = v.mode == "max";
  for (const auto& t : study["trials"]) {
    TrialView tv;
    tv.id = t["id"].as<int>();
    tv.bracket = t["bracket"].as<int>();
    tv.folder = t["folder"].as<std::string>();
    tv.complete = t["complete"].as<bool>();
    tv.error = t["error"].as<std::string>();
    for (const auto& p : t["params"]) tv.params.emplace_back(p.first.as<std::string>(), p.second.as<std::string>());
    for (const auto& r : t["rungs"]) tv.rungs.emplace_back(number_of(r["budget"]), number_of(r["score"]));
    for (const auto& c : t["confirm"]) tv.confirm.push_back(number_of(c));
    for (const auto& r : tv.rungs) v.budgets.insert(r.first);
    v.trials.push_back(std::move(tv));
  }
  for (const auto& t : v.trials)
    if (t.complete) v.ranked.push_back(&t);
  // Confirmed configurations first, by their confirmation mean; then by the search's score.
  const auto mean = [](const std::vector<double>& values) { return summarize(values).mean; };
  std::stable_sort(v.ranked.begin(), v.ranked.end(), [&](const TrialView* a, const TrialView* b) {
    if (a->confirm.empty() != b->confirm.empty()) return !a->confirm.empty();
    if (!a->confirm.empty()) return v.better(mean(a->confirm), mean(b->confirm));
    return v.better(a->final_score(), b->final_score());
  });
  return v;
}

void best_table(const StudyView& v, Page& page) {
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < std::min<size_t>(v.ranked.size(), 10); ++r) {
    const TrialView& t = *v.ranked[r];
    std::string confirm_cell, ci;
    if (!t.confirm.empty()) {
      confirm_cell = fmt(summarize(t.confirm).mean) + " (" + std::to_string(t.confirm.size()) + " runs)";
      if (t.confirm.size() >= 2) ci = interval_text(bootstrap_mean_interval(t.confirm, 0));
    }
    rows.push_back({std::to_string(r + 1), std::to_string(t.id), fmt(t.final_score()), confirm_cell, ci, assignment_text(t.params)});
  }
  page.heading("Best configurations");
  page.table({"rank", "trial", v.objective + " (search)", "confirmed mean", "95 % CI", "configuration"}, rows, std::vector<bool>{true});
}

// Objective against each numeric parameter, one colour per budget (the low rungs show how a small
// budget ranked a value, the full budget what it finally reached); a table per choice.
void parameter_section(const StudyView& v, Page& page) {
  std::vector<std::string> keys;
  std::set<std::string> categorical;
  for (const auto& t : v.trials)
    for (const auto& [k, value] : t.params) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') categorical.insert(k);
    }
  std::vector<PlotPanel> panels;
  std::vector<std::vector<std::string>> choice_rows;
  for (const auto& key : keys) {
    if (categorical.count(key)) {
      // Per option: how often drawn, how often it reached the full budget, the best and median there.
      std::map<std::string, std::vector<double>> by;
      std::map<std::string, int> drawn;
      for (const auto& t : v.trials)
        for (const auto& [k, value] : t.params)
          if (k == key) {
            ++drawn[value];
            if (t.complete) by[value].push_back(t.final_score());
          }
      for (const auto& [value, count] : drawn) {
        const auto& scores = by[value];
        const Summary s = summarize(scores);
        choice_rows.push_back({key, value, std::to_string(count), std::to_string(scores.size()),
                               scores.empty() ? "–" : fmt(v.maximize ? s.max : s.min), scores.empty() ? "–" : fmt(s.median)});
      }
      continue;
    }
    PlotPanel p{v.objective + " against " + key, key, v.objective, false, false, {}};
    int color = 0;
    for (double b : v.budgets) {
      PlotSeries s{fmt(b, "%.0f") + " epochs", {}, {}, {}, {}, false, color++};
      s.points = true;
      for (const auto& t : v.trials)
        for (const auto& [k, value] : t.params)
          if (k == key)
            for (const auto& r : t.rungs)
              if (r.first == b) {
                s.x.push_back(std::strtod(value.c_str(), nullptr));
                s.y.push_back(r.second);
              }
      if (!s.x.empty()) p.series.push_back(s);
    }
    // A parameter spread over decades reads better on a log axis.
    double lo = INFINITY, hi = 0;
    for (const auto& s : p.series)
      for (double x : s.x) lo = std::min(lo, x), hi = std::max(hi, x);
    p.log_x = lo > 0 && hi / lo >= 50;
    panels.push_back(p);
  }
  page.heading("Objective against each parameter");
  page.plot(panels);
  if (!choice_rows.empty())
    page.table({"parameter", "value", "drawn", "reached the full budget", "best " + v.objective, "median " + v.objective}, choice_rows);
}

// Every configuration's score at every budget it reached; lines join a promoted one's rungs.
void halving_section(const StudyView& v, Page& page) {
  PlotPanel halving{"Halving rungs: " + v.objective + " at each budget", "epochs (budget)", v.objective, v.budgets.size() > 2, false, {}};
  std::map<int, PlotSeries> by_bracket;
  for (const auto& t : v.trials) {
    auto& s = by_bracket.try_emplace(t.bracket, PlotSeries{"bracket " + std::to_string(t.bracket), {}, {}, {}, {}, false, t.bracket - 1})
                  .first->second;
    s.points = true;
    PlotSeries line{"", {}, {}, {}, {}, false, t.bracket - 1};
    line.legend = false;
    for (const auto& r : t.rungs) {
      s.x.push_back(r.first);
      s.y.push_back(r.second);
      line.x.push_back(r.first);
      line.y.push_back(r.second);
    }
    if (t.rungs.size() > 1) halving.series.push_back(line);
  }
  for (auto& [b, s] : by_bracket) halving.series.push_back(s);
  page.heading("Successive halving");
  page.plot({halving}, 1);
}

// The history a trial reached its largest budget with (its first seed's run).
std::optional<History> longest_history(const StudyView& v, const TrialView& t) {
  fs::path best_csv;
  int64_t best_budget = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(v.dir) / t.folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("seed", 0) != 0 || entry.path().extension() != ".csv") continue;
    const int64_t budget = std::strtoll(name.c_str() + name.rfind("-e") + 2, nullptr, 10);
    if (budget > best_budget) best_budget = budget, best_csv = entry.path();
  }
  if (best_csv.empty()) return std::nullopt;
  try {
    return read_history_csv(best_csv.string());
  } catch (const Error&) {
    return std::nullopt;  // a run that failed; the tables count it
  }
}

void curves_section(const StudyView& v, Page& page) {
  PlotPanel curves{v.objective + " per epoch, best configurations", "epoch", v.objective, false, false, {}};
  PlotPanel rates{"their learning rate per epoch", "epoch", "lr", false, true, {}};
  for (size_t r = 0; r < std::min<size_t>(v.ranked.size(), 5); ++r) {
    const auto h = longest_history(v, *v.ranked[r]);
    if (!h) continue;
    const std::string name = "trial " + std::to_string(v.ranked[r]->id);
    for (auto [panel, key] : {std::pair{&curves, v.objective}, {&rates, std::string("lr")}}) {
      PlotSeries series = median_band(name, {*h}, key, static_cast<int>(r));
      series.band_low.clear();
      series.band_high.clear();
      panel->series.push_back(series);
    }
  }
  page.heading("Best configurations' curves");
  page.plot({curves, rates});
}

void study_report(const std::string& dir, Page& page) {
  const YAML::Node study = YAML::LoadFile((fs::path(dir) / "study.json").string());
  const StudyView v = read_study(dir, study);
  int failed = 0;
  for (const auto& t : v.trials) failed += t.error.empty() ? 0 : 1;
  page.paragraph("Method <b>" + xml_escape(study["method"].as<std::string>()) + "</b>, " + std::to_string(v.trials.size()) +
                 " configurations, full budget " + std::to_string(study["max_epochs"].as<int>()) + " epochs, eta " +
                 std::to_string(study["eta"].as<int>()) + ", " + std::to_string(study["seeds"].as<int>()) +
                 " seed(s) per configuration, " + std::to_string(study["epochs"].as<long long>()) + " epochs trained in all; " +
                 "objective <b>" + xml_escape(v.objective) + "</b> (" + xml_escape(v.mode) + ")" +
                 (failed ? "; " + std::to_string(failed) + " configuration(s) failed" : "") + ".");
  best_table(v, page);
  parameter_section(v, page);
  halving_section(v, page);
  curves_section(v, page);
}

// --- cv ------------------------------------------------------------------------------------------

void cv_report(const std::string& path, Page& page) {
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  const std::string metric = header.substr(header.rfind(',') + 1);
  std::map<std::string, PlotSeries> by_seed;
  std::vector<double> values;
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (cells.size() != 4) continue;
    const double v = std::strtod(cells[3].c_str(), nullptr);
    values.push_back(v);
    rows.push_back({cells[0], cells[1], cells[2], fmt(v)});
    auto& s = by_seed.try_emplace(cells[0], PlotSeries{"seed " + cells[0], {}, {}, {}, {}, false, static_cast<int>(by_seed.size())}).first->second;
    s.points = true;
    s.x.push_back(std::strtod(cells[1].c_str(), nullptr));
    s.y.push_back(v);
  }
  if (values.empty()) throw InputError(path + ": no fold results (expected the CSV of anneal cv -o)");
  const Summary s = summarize(values);
  const Interval ci = bootstrap_mean_interval(values, 0);
  page.paragraph(xml_escape(metric) + " over " + std::to_string(values.size()) + " folds: mean <b>" + fmt(s.mean) + "</b> ± " +
                 fmt(s.stddev) + " (std), 95 % CI [" + fmt(ci.low) + ", " + fmt(ci.high) +
                 "] (percentile bootstrap, 10 000 resamples), median " + fmt(s.median) + ", min " + fmt(s.min) + ", max " +
                 fmt(s.max) + ".");
  PlotPanel panel{metric + " per fold", "fold", metric, false, false, {}};
  // The mean over every fold and seed, with its interval as a band.
  double folds = 1;
  for (const auto& [seed, series] : by_seed)
    for (double f : series.x) folds = std::max(folds, f);
  panel.series.push_back({"mean (band: 95 % CI)", {1, folds}, {s.mean, s.mean}, {ci.low, ci.low}, {ci.high, ci.high}, false,
                          static_cast<int>(by_seed.size())});
  for (auto& [seed, series] : by_seed) panel.series.push_back(series);
  page.plot({panel}, 1);
  page.heading("Folds");
  page.table({"seed", "fold", "rows", metric}, rows);
}

}  // namespace

int report_command(const Args& args) {
  po::options_description options("report options");
  std::string input, output;
  options.add_options()
      ("input", po::value(&input)->required(), "a sweep or study folder, or the CSV of anneal cv -o")
      ("output,o", po::value(&output)->required(), "the HTML page to write");
  po::positional_options_description positional;
  positional.add("input", 1);
  po::variables_map vm;
  if (!parse(args, "report DIR|CV.csv -o report.html", options, positional, vm)) return kExitOk;
  std::string kind;
  if (fs::is_directory(input) && fs::exists(fs::path(input) / "summary.json")) kind = "sweep";
  else if (fs::is_directory(input) && fs::exists(fs::path(input) / "study.json")) kind = "study";
  else if (fs::is_regular_file(input)) {
    std::ifstream in(input);
    std::string header;
    std::getline(in, header);
    if (header.rfind("seed,fold,rows,", 0) == 0) kind = "cv";
  }
  if (kind.empty())
    throw InputError("report: '" + input + "' is not a sweep folder (summary.json), a study folder (study.json) or the CSV of "
                     "anneal cv -o");
  Page page(kind == "sweep" ? "Sweep: " + fs::path(input).filename().string()
            : kind == "study" ? "Study: " + fs::path(input).filename().string()
                              : "Cross-validation: " + fs::path(input).filename().string());
  try {
    if (kind == "sweep") sweep_report(input, page);
    else if (kind == "study") study_report(input, page);
    else cv_report(input, page);
  } catch (const YAML::Exception& e) {
    throw InputError("report: '" + input + "': a results file is not what anneal wrote (" + e.msg + ")");
  }
  write_file_atomically(output, page.html());
  std::printf("wrote %s\n", output.c_str());
  return kExitOk;
}

}  // namespace anneal::cli
