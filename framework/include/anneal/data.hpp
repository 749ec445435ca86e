#pragma once
// Tabular data: a CSV reader, Keras-style validation split, and the row set a trainer reads.

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/spec.hpp"
#include "anneal/tensor.hpp"

namespace anneal {

struct Dataset {
  Tensor features;  // [rows, features]
  Tensor targets;   // [rows, target columns]
  std::vector<std::string> class_names;  // label names in encoded order (empty: numeric labels)
  std::string source;

  int64_t rows() const { return features.batch(); }
};

// Reads spec.path. String labels are encoded in sorted order (like scikit-learn's LabelEncoder);
// numeric labels are kept as numbers. Without a label column (neither index nor name) every
// column is a feature and the targets are empty. Any malformed cell is a DataError naming file,
// line and column.
Dataset read_csv(const DataSpec& spec);

// spec.synthetic: Gaussian features of the given shape, labels (class indices, or one-hot rows)
// from a random linear teacher; the same seed gives the same rows.
Dataset make_synthetic(const DataSpec& spec);

// Keras validation_split: the LAST fraction of rows (before any shuffling) is validation.
// split_at = floor(rows * (1 - fraction)).
struct SplitData {
  Dataset train;
  Dataset validation;
};
SplitData split_validation(const Dataset& data, double fraction);

Dataset take_rows(const Dataset& data, int64_t begin, int64_t end);

}  // namespace anneal
