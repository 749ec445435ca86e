#include "anneal/folds.hpp"

#include <cstring>
#include <map>
#include <numeric>

#include "anneal/rng.hpp"

namespace anneal {
namespace {
void shuffle(std::vector<int64_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}
}  // namespace

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
  // Class of a row: its label (one target column) or its one-hot argmax.
  const int64_t tw = data.targets.sample_shape().numel();
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t r = 0; r < n; ++r) {
    const float* t = data.targets.row(r);
    int64_t cls = 0;
    if (tw == 1) cls = static_cast<int64_t>(t[0]);
    else
      for (int64_t j = 1; j < tw; ++j)
        if (t[j] > t[cls]) cls = j;
    by_class[cls].push_back(r);
  }
  int64_t dealt = 0;
  for (auto& [cls, rows] : by_class) {
    shuffle(rows, rng);
    for (int64_t r : rows) fold_of[static_cast<size_t>(r)] = static_cast<int>(dealt++ % k);
  }
  return fold_of;
}

Dataset select_rows(const Dataset& data, const std::vector<int>& fold_of, int fold, bool in_fold) {
  int64_t count = 0;
  for (int f : fold_of) count += (f == fold) == in_fold;
  Dataset out;
  out.source = data.source;
  out.class_names = data.class_names;
  out.features = Tensor(count, data.features.sample_shape());
  out.targets = Tensor(count, data.targets.sample_shape());
  const int64_t fw = data.features.sample_shape().numel(), tw = data.targets.sample_shape().numel();
  int64_t at = 0;
  for (int64_t r = 0; r < data.rows(); ++r) {
    if ((fold_of[static_cast<size_t>(r)] == fold) != in_fold) continue;
    std::memcpy(out.features.row(at), data.features.row(r), sizeof(float) * static_cast<size_t>(fw));
    std::memcpy(out.targets.row(at), data.targets.row(r), sizeof(float) * static_cast<size_t>(tw));
    ++at;
  }
  return out;
}

}  // namespace anneal
