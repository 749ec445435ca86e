#pragma once
// k-fold splits: each row lands in exactly one fold. Plain folds cut a seeded permutation into
// k nearly equal parts; stratified folds deal each class's shuffled rows round-robin, so every
// fold keeps the classes' proportions (as scikit-learn's StratifiedKFold aims to).

#include <cstdint>
#include <vector>

#include "anneal/data.hpp"

namespace anneal {

// fold_of[row] in [0, k).
std::vector<int> assign_folds(const Dataset& data, int k, bool stratified, uint64_t seed);

// Rows of `data` whose fold is (or is not) `fold`.
Dataset select_rows(const Dataset& data, const std::vector<int>& fold_of, int fold, bool in_fold);

}  // namespace anneal
