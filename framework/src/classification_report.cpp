#include "anneal/classification_report.hpp"
#include "anneal/json_text.hpp"

#include <algorithm>
#include <cstdio>

#include "anneal/metric.hpp"

namespace anneal {

std::vector<std::string> class_labels(const std::vector<std::string>& names, int64_t classes) {
  std::vector<std::string> out(static_cast<size_t>(classes));
  for (int64_t c = 0; c < classes; ++c)
    out[static_cast<size_t>(c)] = c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : std::to_string(c);
  return out;
}

namespace {
ClassScores scores(int64_t tp, int64_t predicted, int64_t support) {
  ClassScores s;
  s.support = support;
  s.precision = predicted ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
  s.recall = support ? static_cast<double>(tp) / static_cast<double>(support) : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}
}  // namespace

ClassificationReport classification_report(const std::vector<float>& outputs, int64_t width, const Dataset& data) {
  ClassificationReport r;
  const int64_t classes = std::max(class_count(width), static_cast<int64_t>(data.class_names.size()));
  r.classes = class_labels(data.class_names, classes);
  r.confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(static_cast<size_t>(classes), 0));
  const int64_t tw = data.targets.sample_shape().numel();
  r.rows = data.rows();
  int64_t correct = 0;
  for (int64_t i = 0; i < data.rows(); ++i) {
    const int64_t predicted = predicted_class(outputs.data() + i * width, width);
    const int64_t actual = target_class(data.targets.row(i), width, tw);
    if (actual < 0 || actual >= classes) continue;
    ++r.confusion[static_cast<size_t>(actual)][static_cast<size_t>(predicted)];
    correct += predicted == actual;
  }
  r.accuracy = r.rows ? static_cast<double>(correct) / static_cast<double>(r.rows) : 0.0;
  for (int64_t c = 0; c < classes; ++c) {
    int64_t predicted = 0, support = 0;
    for (int64_t k = 0; k < classes; ++k) {
      predicted += r.confusion[static_cast<size_t>(k)][static_cast<size_t>(c)];
      support += r.confusion[static_cast<size_t>(c)][static_cast<size_t>(k)];
    }
    r.per_class.push_back(scores(r.confusion[static_cast<size_t>(c)][static_cast<size_t>(c)], predicted, support));
  }
  for (const auto& s : r.per_class) {
    const double n = static_cast<double>(classes), w = r.rows ? static_cast<double>(s.support) / static_cast<double>(r.rows) : 0.0;
    r.macro.precision += s.precision / n, r.macro.recall += s.recall / n, r.macro.f1 += s.f1 / n;
    r.weighted.precision += s.precision * w, r.weighted.recall += s.recall * w, r.weighted.f1 += s.f1 * w;
  }
  r.macro.support = r.weighted.support = r.rows;
  return r;
}

std::string ClassificationReport::text() const {
  size_t name_width = 12;
  for (const auto& c : classes) name_width = std::max(name_width, c.size());
  const int nw = static_cast<int>(name_width);
  std::string out = "confusion matrix (rows: actual, columns: predicted)\n";
  char line[256];
  std::snprintf(line, sizeof line, "%*s", nw, "");
  out += line;
  for (const auto& c : classes) {
    std::snprintf(line, sizeof line, " %8.8s", c.c_str());
    out += line;
  }
  out += "\n";
  for (size_t a = 0; a < classes.size(); ++a) {
    std::snprintf(line, sizeof line, "%*s", nw, classes[a].c_str());
    out += line;
    for (int64_t v : confusion[a]) {
      std::snprintf(line, sizeof line, " %8lld", static_cast<long long>(v));
      out += line;
    }
    out += "\n";
  }
  std::snprintf(line, sizeof line, "\n%*s %9s %9s %9s %9s\n", nw, "", "precision", "recall", "f1-score", "support");
  out += line;
  auto row = [&](const std::string& name, const ClassScores& s) {
    std::snprintf(line, sizeof line, "%*s %9.4f %9.4f %9.4f %9lld\n", nw, name.c_str(), s.precision, s.recall, s.f1,
                  static_cast<long long>(s.support));
    out += line;
  };
  for (size_t c = 0; c < classes.size(); ++c) row(classes[c], per_class[c]);
  std::snprintf(line, sizeof line, "\n%*s %9s %9s %9.4f %9lld\n", nw, "accuracy", "", "", accuracy, static_cast<long long>(rows));
  out += line;
  row("macro avg", macro);
  row("weighted avg", weighted);
  return out;
}

namespace {
std::string json_scores(const ClassScores& s) {
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "{\"precision\": %.9g, \"recall\": %.9g, \"f1\": %.9g, \"support\": %lld}", s.precision, s.recall,
                s.f1, static_cast<long long>(s.support));
  return buffer;
}
}  // namespace

std::string ClassificationReport::json() const {
  std::string out = "{\"classes\": [";
  for (size_t c = 0; c < classes.size(); ++c) out += (c ? ", " : "") + json_string(classes[c]);
  out += "], \"confusion\": [";
  for (size_t a = 0; a < confusion.size(); ++a) {
    out += a ? ", [" : "[";
    for (size_t p = 0; p < confusion[a].size(); ++p) out += (p ? ", " : "") + std::to_string(confusion[a][p]);
    out += "]";
  }
  out += "], \"per_class\": {";
  for (size_t c = 0; c < classes.size(); ++c) out += (c ? ", " : "") + json_string(classes[c]) + ": " + json_scores(per_class[c]);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", accuracy);
  out += "}, \"accuracy\": " + std::string(buffer) + ", \"macro avg\": " + json_scores(macro) + ", \"weighted avg\": " + json_scores(weighted) + "}";
  return out;
}

}  // namespace anneal
