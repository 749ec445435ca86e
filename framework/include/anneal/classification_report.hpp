#pragma once
// What `anneal evaluate` reports for a classifier: the confusion matrix and, per class,
// precision, recall, f1 and support, with accuracy and macro / weighted averages (the layout of
// scikit-learn's classification_report; a class never predicted has precision 0).

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/data.hpp"

namespace anneal {

// The label text of each class: the data's class names, or the class indices as numbers.
std::vector<std::string> class_labels(const std::vector<std::string>& class_names, int64_t classes);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct ClassificationReport {
  std::vector<std::string> classes;
  std::vector<std::vector<int64_t>> confusion;  // [actual][predicted]
  std::vector<ClassScores> per_class;
  ClassScores macro, weighted;
  double accuracy = 0;
  int64_t rows = 0;

  std::string text() const;  // confusion matrix, then the per-class table
  std::string json() const;
};

// outputs: [rows, width] (one unit: sigmoid scores thresholded at 0.5); targets: class indices
// or one-hot rows.
ClassificationReport classification_report(const std::vector<float>& outputs, int64_t width, const Dataset& data);

}  // namespace anneal
