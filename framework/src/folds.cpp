#include "anneal/folds.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>

#include "anneal/errors.hpp"
#include "anneal/metric.hpp"
#include "anneal/rng.hpp"

namespace anneal {
namespace {
void shuffle(std::vector<int64_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}
}  // namespace

std::vector<int64_t> row_classes(const Dataset& data, const std::string& why) {
  const int64_t n = data.rows(), tw = data.targets.sample_shape().numel();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    const float* t = data.targets.row(r);
    if (tw == 1 && static_cast<float>(static_cast<int64_t>(t[0])) != t[0])
      throw DataError(data.source + ": " + why + " needs class labels, but row " + std::to_string(r + 1) +
                      " has the target " + std::to_string(t[0]));
    // The same decoding the metrics use: the index itself, or the one-hot row's argmax.
    out[static_cast<size_t>(r)] = target_class(t, tw, tw);
  }
  return out;
}

std::vector<int> assign_folds(const Dataset& data, int k, bool stratified, uint64_t seed) {
  const int64_t n = data.rows();
  Rng rng(seed, 4);
  std::vector<int> fold_of(static_cast<size_t>(n));
  if (!stratified) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    for (int64_t i = 0; i < n; ++i) fold_of[static_cast<size_t>(order[static_cast<size_t>(i)])] = static_cast<int>(i * k / n);
    return fold_of;
  }
  const auto classes = row_classes(data, "stratified folds");
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t r = 0; r < n; ++r) by_class[classes[static_cast<size_t>(r)]].push_back(r);
  int64_t dealt = 0;
  for (auto& [cls, rows] : by_class) {
    shuffle(rows, rng);
    for (int64_t r : rows) fold_of[static_cast<size_t>(r)] = static_cast<int>(dealt++ % k);
  }
  return fold_of;
}

Dataset select_rows(const Dataset& data, const std::vector<int>& fold_of, int fold, bool in_fold) {
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < data.rows(); ++r)
    if ((fold_of[static_cast<size_t>(r)] == fold) == in_fold) rows.push_back(r);
  return subset(data, rows);
}

SplitData split_rows(const Dataset& data, double fraction, SplitKind kind, uint64_t seed) {
  if (kind == SplitKind::kLast) return split_validation(data, fraction);
  const int64_t n = data.rows();
  const auto train_rows = static_cast<int64_t>(static_cast<double>(n) * (1.0 - fraction));
  if (train_rows <= 0 || train_rows >= n)
    throw DataError("validation_split " + std::to_string(fraction) + " leaves an empty side of " + std::to_string(n) + " rows");
  const int64_t val_rows = n - train_rows;
  Rng rng(seed, 5);
  std::vector<int> side(static_cast<size_t>(n), 0);  // 1: validation
  if (kind == SplitKind::kShuffled) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    for (int64_t i = 0; i < val_rows; ++i) side[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
  } else {
    const auto classes = row_classes(data, "a stratified split");
    std::map<int64_t, std::vector<int64_t>> by_class;
    for (int64_t r = 0; r < n; ++r) by_class[classes[static_cast<size_t>(r)]].push_back(r);
    // Each class's share of the validation rows, floored; the rows left over go to the classes
    // with the largest remainders, so the total is exact.
    std::vector<std::pair<double, int64_t>> remainders;
    std::map<int64_t, int64_t> quota;
    int64_t given = 0;
    for (const auto& [cls, rows] : by_class) {
      const double exact = static_cast<double>(val_rows) * static_cast<double>(rows.size()) / static_cast<double>(n);
      quota[cls] = static_cast<int64_t>(exact);
      given += quota[cls];
      remainders.emplace_back(-(exact - static_cast<double>(quota[cls])), cls);
    }
    std::sort(remainders.begin(), remainders.end());
    for (size_t i = 0; given < val_rows; ++i, ++given) ++quota[remainders[i % remainders.size()].second];
    for (auto& [cls, rows] : by_class) {
      shuffle(rows, rng);
      for (int64_t i = 0; i < quota[cls]; ++i) side[static_cast<size_t>(rows[static_cast<size_t>(i)])] = 1;
    }
  }
  return {select_rows(data, side, 1, false), select_rows(data, side, 1, true)};
}

}  // namespace anneal
