#pragma once
// Tabular data. Readers (CSV, gzip'd CSV, ARFF) produce *raw* rows: numeric cells as numbers, a
// categorical cell as the index of its category in the column's dictionary, a missing cell as NaN,
// and one target column (a class index, or the number itself for regression). The fitted
// FeatureEncoding (encoding.hpp) turns raw rows into what the model reads (one-hot categories,
// filled missing values, normalisation, one-hot targets); it is fitted on training rows only.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anneal/spec.hpp"
#include "anneal/tensor.hpp"

namespace anneal {

// One raw feature column.
struct RawColumn {
  std::string name;                     // header or ARFF name; "column N" when the file has none
  bool categorical = false;
  std::vector<std::string> categories;  // categorical: the dictionary its cells index
  bool declared = false;  // the file declares the categories (ARFF nominal): all of them are kept
};

// Rows computed when they are read instead of stored: synthetic data produces a row's features
// from the seed and the row's index alone, so 65 536 MNIST-sized rows cost no memory and any row
// comes out the same in any order of calls. Implementations are immutable (datasets share them).
class RowGenerator {
 public:
  virtual ~RowGenerator() = default;
  // The features of row `index` of the generator into `out` (the dataset's per-row size). The
  // trainer calls it from several threads at once, for different rows: it must not change shared
  // state.
  virtual void generate(int64_t index, float* out) const = 0;
};

struct Dataset {
  Tensor features;  // [rows, features]; generated rows: none stored, only the per-row shape
  Tensor targets;   // [rows, target columns]: raw data has 1 (or 0: no labels)
  std::vector<std::string> class_names;  // string labels in encoded order (empty: numeric labels)
  int64_t label_classes = 0;  // classes the labels name (0: not class labels)
  std::vector<RawColumn> columns;  // raw data: one per feature column (empty: all numeric)
  std::vector<float> sample_weights;  // empty: every row weighs 1
  std::vector<int> lines;   // the source line of each row (0: unknown), for error messages
  std::string source;
  // Generated rows (features then stores none): the generator and each row's index in it.
  std::shared_ptr<const RowGenerator> generator;
  std::vector<int64_t> generated_rows;

  int64_t rows() const { return generator ? static_cast<int64_t>(generated_rows.size()) : features.batch(); }
  int64_t feature_width() const { return features.sample_shape().numel(); }
  // The features of rows [begin, begin + count) into `out`, one row after another: copied, or
  // generated. Every reader of features goes through here (or RowReader), never features.row().
  void read_features(int64_t begin, int64_t count, float* out) const;
  void read_features(int64_t row, float* out) const { read_features(row, 1, out); }
  // "file:line" of a row, or "row N" when the line is unknown.
  std::string where(int64_t row) const;
};

// One row at a time, for loops over rows: a pointer into the stored rows, or a generated row in a
// buffer of the reader's own (valid until the next call).
class RowReader {
 public:
  explicit RowReader(const Dataset& data);
  const float* operator()(int64_t row);

 private:
  const Dataset& data_;
  std::vector<float> buffer_;
};

// Reads spec.path as CSV (gzip'd when it ends in .gz) or ARFF (.arff suffix or format: arff) into
// raw rows. String labels are encoded in sorted order (scikit-learn's LabelEncoder), a nominal
// ARFF class in its declared order; numeric labels are kept as numbers. Without a label column
// every column is a feature and the targets are empty. Malformed input is a DataError naming
// file, line and column.
Dataset read_data(const DataSpec& spec);
// How many columns the file has (label and weight columns included), from its header and first
// data row: the reader's own rules (quotes, gzip, skip_rows, ARFF attributes), without reading
// the rest. 0 for a file with no columns.
int64_t column_count(const DataSpec& spec);
Dataset read_csv(const DataSpec& spec);
Dataset read_arff(const DataSpec& spec);

// spec.synthetic: approximately standard normal features of the given shape (each the sum of four
// uniform 16-bit draws, scaled to unit variance: a hash of seed, row and position, so rows are
// generated when a batch reads them, never stored), class indices from a random linear teacher
// (computed once per row here and kept: 4 bytes a row); the same seed gives the same rows.
Dataset make_synthetic(const DataSpec& spec);

// `data` with its features stored (generated rows generated once, into memory).
Dataset stored(const Dataset& data);

// Rows `rows` of `data` in that order (every per-row field follows).
Dataset subset(const Dataset& data, const std::vector<int64_t>& rows);
Dataset take_rows(const Dataset& data, int64_t begin, int64_t end);

// Keras validation_split: the LAST fraction of rows (before any shuffling) is validation.
// split_at = floor(rows * (1 - fraction)).
struct SplitData {
  Dataset train;
  Dataset validation;
};
SplitData split_validation(const Dataset& data, double fraction);

// Re-encodes the string labels of `data` (a separate validation file) into `class_names` (the
// training file's order). A label the training file does not have is a DataError naming it.
void align_labels(Dataset& data, const std::vector<std::string>& class_names);

}  // namespace anneal
