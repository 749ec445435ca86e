#pragma once
// A search space over spec keys, for `anneal tune`: each key is a dotted path as `--set` takes it
// (`schedule.lr`, `optimizer.momentum`, `layers.0.units`) with a domain:
//   {choice: [a, b, …]}   one of the values; an option written as `name: {key: domain, …}` is a
//                         branch whose keys exist only when that option is drawn (a key without a
//                         dot is a sibling of the choice's key: under `schedule.type`, `drop`
//                         means `schedule.drop`)
//   {uniform: [a, b]}     a real in [a, b)
//   {log_uniform: [a, b]} a real whose logarithm is uniform (0 < a < b)
//   {int_uniform: [a, b]} an integer in [a, b]
// File layout: `version: 1` and `space:` mapping keys to domains. Errors name file:line:col.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "anneal/errors.hpp"
#include "anneal/rng.hpp"

namespace anneal {

struct ParamDomain;

struct ChoiceOption {
  std::string value;                // YAML text of the value
  std::vector<ParamDomain> branch;  // keys that exist only with this option
};

struct ParamDomain {
  enum class Kind { kChoice, kUniform, kLogUniform, kIntUniform };
  std::string path;
  Kind kind = Kind::kChoice;
  std::vector<ChoiceOption> options;  // kChoice
  double low = 0, high = 0;           // the others
  SourceLocation location;
};

struct SearchSpace {
  std::string file;
  std::vector<ParamDomain> params;
};

// One configuration: (path, YAML value) in the order they are applied.
using Assignment = std::vector<std::pair<std::string, std::string>>;

SearchSpace load_search_space(const std::string& path);

// A configuration drawn at random: each choice uniformly, then its branch.
Assignment sample_assignment(const SearchSpace& space, Rng& rng);
// Every combination: choices by their options (a branch's keys only with its option), reals at
// `points` values from a to b inclusive (geometric for log_uniform), integers at every value when
// there are at most `points`, else at `points` of them spread evenly. A grid above `limit`
// configurations is refused (SpecError at the space file) before any is built: grids grow as a
// product, and a few keys can ask for billions.
std::vector<Assignment> grid_assignments(const SearchSpace& space, int points, double limit = 100000);
// How many configurations that grid has (a double: it may not fit an integer).
double grid_size(const SearchSpace& space, int points);
// The `--set` overrides that apply a configuration to a model spec. A drawn `X.type` replaces the
// whole `X` mapping first (`X={type: value}`), so a schedule of another type does not inherit the
// keys of the spec's own schedule; the configuration's other `X.*` keys follow.
std::vector<std::string> assignment_sets(const Assignment& assignment);
// "path=value, path=value", as tune and report print a configuration.
std::string assignment_text(const Assignment& assignment);

// Formats a drawn real the way configurations store it (6 significant digits: the trial runs
// exactly the value the study reports).
std::string format_real(double value);

}  // namespace anneal
