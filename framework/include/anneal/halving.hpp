#pragma once
// Budget plans for successive halving and Hyperband (Li et al., "Hyperband: A Novel Bandit-Based
// Approach to Hyperparameter Optimization", JMLR 2018). The budget is epochs. A bracket starts n
// configurations at a small budget r; at each rung the best 1/eta go on with eta times the budget,
// until the maximum R. Hyperband runs brackets from the most aggressive (many configurations,
// budget R * eta^-s_max) to plain full-budget runs (s = 0), hedging against a small budget
// ranking configurations badly.

#include <cstdint>
#include <vector>

namespace anneal {

struct Rung {
  int64_t budget = 0;  // epochs a configuration has trained when this rung ranks it
  int64_t trials = 0;  // configurations evaluated at this rung
};

struct Bracket {
  std::vector<Rung> rungs;
};

// s_max = floor(log_eta(max / min)): how many times the budget can grow by eta from `min`.
int halving_depth(int64_t min_budget, int64_t max_budget, int eta);

// One bracket of n configurations with s = halving_depth halvings: rung i has floor(n eta^-i)
// configurations (at least 1) trained for round(max eta^(i-s)) epochs (at least 1).
Bracket successive_halving(int64_t n, int64_t min_budget, int64_t max_budget, int eta);

// Hyperband's brackets s = s_max … 0, bracket s starting ceil((s_max+1)/(s+1) eta^s)
// configurations at budget max eta^-s. With `trials` > 0 the brackets repeat (a new Hyperband
// iteration) until that many configurations have started; the last bracket is cut to fit.
std::vector<Bracket> hyperband(int64_t min_budget, int64_t max_budget, int eta, int64_t trials = 0);

// Epochs a bracket trains in all when a promoted configuration resumes from its checkpoint
// (each rung adds only budget_i - budget_{i-1} epochs per configuration).
int64_t bracket_epochs(const Bracket& bracket);

}  // namespace anneal
