#include "anneal/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "anneal/rng.hpp"

namespace anneal {

std::string interval_text(const Interval& i) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "[%.4f, %.4f]", i.low, i.high);
  return buffer;
}

Summary summarize(std::vector<double> values) {
  Summary s;
  s.count = static_cast<int>(values.size());
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.min = values.front();
  s.max = values.back();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  for (double v : values) s.mean += v;
  s.mean /= static_cast<double>(n);
  if (n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(n - 1));
  }
  return s;
}

namespace {

// numpy.percentile's default (linear) on sorted values, q in [0, 1].
double quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - static_cast<double>(lo));
}

Interval percentile_interval(const std::vector<double>& values, uint64_t seed, int resamples, double level) {
  if (values.empty()) return {NAN, NAN};
  if (values.size() == 1) return {values[0], values[0]};
  Rng rng(seed, 6);
  const auto n = static_cast<uint64_t>(values.size());
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& m : means) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += values[rng.below(n)];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return {quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)};
}

std::vector<double> differences(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(std::min(a.size(), b.size()));
  for (size_t i = 0; i < d.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// P(R+ <= k) under the null, by counting the 2^n sign patterns through the rank-sum distribution.
std::vector<double> signed_rank_pmf(int n) {
  const int top = n * (n + 1) / 2;
  std::vector<double> counts(static_cast<size_t>(top + 1), 0.0);
  counts[0] = 1;
  for (int rank = 1; rank <= n; ++rank)
    for (int s = top; s >= rank; --s) counts[static_cast<size_t>(s)] += counts[static_cast<size_t>(s - rank)];
  const double total = std::ldexp(1.0, n);
  for (auto& c : counts) c /= total;
  return counts;
}

}  // namespace

Interval bootstrap_mean_interval(const std::vector<double>& values, uint64_t seed, int resamples, double level) {
  return percentile_interval(values, seed, resamples, level);
}

Interval paired_bootstrap_interval(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed,
                                   int resamples, double level) {
  // Resampling pairs and taking the mean of a - b is resampling the differences.
  return percentile_interval(differences(a, b), seed, resamples, level);
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  bool zeros = false;
  for (double v : differences(a, b)) {
    if (v == 0) zeros = true;
    else d.push_back(v);
  }
  WilcoxonResult out;
  const size_t n = d.size();
  if (n == 0) return out;
  // Average ranks of |d|; ties get the mean of the ranks they span.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return std::abs(d[i]) < std::abs(d[j]); });
  std::vector<double> rank(n);
  double tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && std::abs(d[order[j + 1]]) == std::abs(d[order[i]])) ++j;
    const double average = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = average;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * (t * t - 1);
    i = j + 1;
  }
  double r_plus = 0, r_minus = 0;
  for (size_t i = 0; i < n; ++i) (d[i] > 0 ? r_plus : r_minus) += rank[i];
  out.statistic = std::min(r_plus, r_minus);
  const double count = static_cast<double>(n);
  if (n <= 50 && !zeros && tie_term == 0) {
    out.exact = true;
    const auto pmf = signed_rank_pmf(static_cast<int>(n));
    const auto k = static_cast<size_t>(r_plus);
    if (2 * k == pmf.size() - 1) {
      out.p_value = 1;
    } else {
      const double less = std::accumulate(pmf.begin(), pmf.begin() + static_cast<std::ptrdiff_t>(k) + 1, 0.0);
      const double greater = std::accumulate(pmf.begin() + static_cast<std::ptrdiff_t>(k), pmf.end(), 0.0);
      out.p_value = std::min(1.0, 2 * std::min(less, greater));
    }
    return out;
  }
  const double mean = count * (count + 1) / 4;
  const double se = std::sqrt((count * (count + 1) * (2 * count + 1) - 0.5 * tie_term) / 24);
  const double z = (out.statistic - mean) / se;
  out.p_value = se > 0 ? std::erfc(std::abs(z) / std::sqrt(2.0)) : 1.0;
  return out;
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return p[i] < p[j]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t k = 0; k < m; ++k) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - k) * p[order[k]]));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

}  // namespace anneal
