#pragma once
// Summary statistics and the evidence for comparing runs: bootstrap confidence intervals (plain
// and paired by seed), the Wilcoxon signed-rank test, and Holm's correction for several
// comparisons. Every resampling draws from a seeded stream, so a table is reproducible.

#include <cstdint>
#include <string>
#include <vector>

namespace anneal {

struct Summary {
  int count = 0;
  double mean = 0, stddev = 0, median = 0, min = 0, max = 0;  // stddev: sample (n - 1)
};

Summary summarize(std::vector<double> values);

struct Interval {
  double low = 0, high = 0;
};

// Percentile bootstrap interval of the mean: `resamples` samples of the same size drawn with
// replacement, and the (1 - level) / 2 and (1 + level) / 2 quantiles of their means (linear
// interpolation between order statistics, as numpy's default). One value gives [value, value].
Interval bootstrap_mean_interval(const std::vector<double>& values, uint64_t seed, int resamples = 10000,
                                 double level = 0.95);
// The same for the mean difference of paired runs, a[i] - b[i]: pairs are resampled together
// (runs are paired by seed, so the seed-to-seed variation common to both cancels).
Interval paired_bootstrap_interval(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed,
                                   int resamples = 10000, double level = 0.95);
// "[low, high]" at four decimals, as the comparison tables print an interval.
std::string interval_text(const Interval& i);

// Two-sided Wilcoxon signed-rank test of the differences a[i] - b[i]. Zero differences are
// dropped (Wilcoxon's method, scipy's default). With at most 50 differences, no zeros and no ties
// the p-value is exact (the null distribution of the positive rank sum, counted); otherwise it
// uses the normal approximation with the tie correction of the variance and no continuity
// correction. Returns 1 when every difference is zero (no evidence of a difference).
struct WilcoxonResult {
  double statistic = 0;  // min(R+, R-)
  double p_value = 1;
  bool exact = false;
};
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);

// Holm's step-down adjustment: sort the p-values, multiply the k-th smallest by (m - k), keep the
// sequence non-decreasing, cap at 1. Returned in the input order; a comparison is significant at
// level alpha when its adjusted p-value is below alpha.
std::vector<double> holm_adjust(const std::vector<double>& p_values);

}  // namespace anneal
