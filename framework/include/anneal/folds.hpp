#pragma once
// k-fold splits: each row lands in exactly one fold. Plain folds cut a seeded permutation into
// k nearly equal parts; stratified folds deal each class's shuffled rows round-robin, so every
// fold keeps the classes' proportions (as scikit-learn's StratifiedKFold aims to).

#include <cstdint>
#include <string>
#include <vector>

#include "anneal/data.hpp"

namespace anneal {

// The class of each row: its label (one target column holding a class index) or the argmax of its
// one-hot row. Throws DataError when a single target column is not a class index.
std::vector<int64_t> row_classes(const Dataset& data, const std::string& why);

// fold_of[row] in [0, k).
std::vector<int> assign_folds(const Dataset& data, int k, bool stratified, uint64_t seed);

// Rows of `data` whose fold is (or is not) `fold`.
Dataset select_rows(const Dataset& data, const std::vector<int>& fold_of, int fold, bool in_fold);

// How the validation rows are chosen (train.split): the last fraction of the rows (Keras'
// validation_split), a seeded random fraction, or a seeded random fraction of every class
// (scikit-learn's stratified split: each class keeps its share, the total is exact).
enum class SplitKind { kLast, kShuffled, kStratified };
// Both sides keep the rows' file order; `seed` is train.split_seed.
SplitData split_rows(const Dataset& data, double fraction, SplitKind kind, uint64_t seed);

}  // namespace anneal
