#include "anneal/halving.hpp"

#include <algorithm>
#include <cmath>

namespace anneal {

int halving_depth(int64_t min_budget, int64_t max_budget, int eta) {
  // Integer arithmetic: floor(log_eta(max / min)) without rounding trouble at exact powers.
  int s = 0;
  for (int64_t r = min_budget; r <= max_budget / eta; r *= eta) ++s;
  return s;
}

namespace {

Bracket make_bracket(int64_t n, int s, int64_t max_budget, int eta) {
  Bracket b;
  double kept = static_cast<double>(n);
  for (int i = 0; i <= s; ++i) {
    const double budget = static_cast<double>(max_budget) * std::pow(static_cast<double>(eta), i - s);
    b.rungs.push_back({std::max<int64_t>(1, std::llround(budget)), std::max<int64_t>(1, static_cast<int64_t>(std::floor(kept + 1e-9)))});
    kept /= eta;
  }
  // Budgets rounded to whole epochs can coincide at the bottom (max 10, eta 3: 1.1 and 1.2 are
  // both 1); a rung that adds no epoch only ranks again, so merge it into the next.
  Bracket merged;
  for (const auto& r : b.rungs) {
    if (!merged.rungs.empty() && merged.rungs.back().budget == r.budget) merged.rungs.back().trials = r.trials;
    else merged.rungs.push_back(r);
  }
  return merged;
}

}  // namespace

Bracket successive_halving(int64_t n, int64_t min_budget, int64_t max_budget, int eta) {
  return make_bracket(n, halving_depth(min_budget, max_budget, eta), max_budget, eta);
}

std::vector<Bracket> hyperband(int64_t min_budget, int64_t max_budget, int eta, int64_t trials) {
  const int s_max = halving_depth(min_budget, max_budget, eta);
  std::vector<Bracket> out;
  int64_t started = 0;
  do {
    for (int s = s_max; s >= 0; --s) {
      int64_t n = static_cast<int64_t>(std::ceil(static_cast<double>(s_max + 1) / (s + 1) * std::pow(static_cast<double>(eta), s) - 1e-9));
      if (trials > 0) n = std::min(n, trials - started);
      if (n <= 0) break;
      out.push_back(make_bracket(n, s, max_budget, eta));
      started += n;
    }
  } while (trials > 0 && started < trials);
  return out;
}

int64_t bracket_epochs(const Bracket& bracket) {
  int64_t total = 0, previous = 0;
  for (const auto& r : bracket.rungs) {
    total += r.trials * (r.budget - previous);
    previous = r.budget;
  }
  return total;
}

}  // namespace anneal
