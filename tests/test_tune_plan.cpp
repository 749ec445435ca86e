// The pieces of `anneal tune` that are pure: Hyperband's budget plan against the paper's table,
// and search spaces: parsing with locations, seeded sampling, grids and the overrides they make.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "anneal/halving.hpp"
#include "anneal/search_space.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {

std::vector<std::pair<int64_t, int64_t>> rungs(const Bracket& b) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& r : b.rungs) out.emplace_back(r.trials, r.budget);
  return out;
}

std::string write_space(const TempDir& d, const std::string& text) {
  const std::string path = d.path() + "/space.yaml";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("hyperband with R = 81 and eta = 3 is the paper's Table 1", "[tune][halving]") {
  // Li et al. 2018, Table 1: (n_i, r_i) per bracket s = 4 … 0.
  const auto brackets = hyperband(1, 81, 3);
  REQUIRE(brackets.size() == 5);
  using R = std::vector<std::pair<int64_t, int64_t>>;
  CHECK(rungs(brackets[0]) == R{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}});
  CHECK(rungs(brackets[1]) == R{{34, 3}, {11, 9}, {3, 27}, {1, 81}});
  CHECK(rungs(brackets[2]) == R{{15, 9}, {5, 27}, {1, 81}});
  CHECK(rungs(brackets[3]) == R{{8, 27}, {2, 81}});
  CHECK(rungs(brackets[4]) == R{{5, 81}});
  // Resuming promoted trials: bracket s = 4 trains 81*1 + 27*2 + 9*6 + 3*18 + 1*54 epochs.
  CHECK(bracket_epochs(brackets[0]) == 81 + 27 * 2 + 9 * 6 + 3 * 18 + 54);
  CHECK(halving_depth(1, 81, 3) == 4);
  CHECK(halving_depth(1, 80, 3) == 3);
  CHECK(halving_depth(2, 50, 3) == 2);
}

TEST_CASE("hyperband repeats its brackets up to a trial count and cuts the last one to fit", "[tune][halving]") {
  const auto one = hyperband(1, 81, 3);
  int64_t per_iteration = 0;
  for (const auto& b : one) per_iteration += b.rungs.front().trials;
  CHECK(per_iteration == 81 + 34 + 15 + 8 + 5);
  const auto brackets = hyperband(1, 81, 3, 200);
  int64_t started = 0;
  for (const auto& b : brackets) started += b.rungs.front().trials;
  CHECK(started == 200);
  // 143 in the first iteration; the second starts its s = 4 bracket with the 57 left.
  REQUIRE(brackets.size() == 6);
  using R = std::vector<std::pair<int64_t, int64_t>>;
  CHECK(rungs(brackets[5]) == R{{57, 1}, {19, 3}, {6, 9}, {2, 27}, {1, 81}});
}

TEST_CASE("successive halving keeps the best 1/eta per rung and ends at the full budget", "[tune][halving]") {
  using R = std::vector<std::pair<int64_t, int64_t>>;
  CHECK(rungs(successive_halving(27, 2, 54, 3)) == R{{27, 2}, {9, 6}, {3, 18}, {1, 54}});
  // 50 epochs from 2: two halvings, budgets 50/9, 50/3, 50 rounded.
  CHECK(rungs(successive_halving(20, 2, 50, 3)) == R{{20, 6}, {6, 17}, {2, 50}});
  // A budget too small to halve: one rung at the full budget.
  CHECK(rungs(successive_halving(5, 4, 10, 3)) == R{{5, 10}});
  // Rounded budgets that coincide merge (10 * 3^-2 and 10 * 3^-1 round to 1 and 3; 1 * 3^-3 … ).
  for (const auto& r : successive_halving(30, 1, 10, 2).rungs) CHECK(r.budget >= 1);
}

TEST_CASE("a search space reads every domain, branches under a choice, and names the place of a mistake", "[tune][space]") {
  TempDir d;
  const auto space = load_search_space(write_space(d,
      "version: 1\n"
      "space:\n"
      "  optimizer.momentum: {uniform: [0.5, 0.99]}\n"
      "  schedule.type:\n"
      "    choice:\n"
      "      - constant\n"
      "      - step_decay: {drop: {uniform: [0.3, 0.7]}, epochs_drop: {int_uniform: [5, 20]}}\n"
      "      - cosine_annealing: {t_max: {int_uniform: [10, 50]}}\n"
      "  schedule.lr: {log_uniform: [0.001, 0.3]}\n"
      "  layers.0.units: {choice: [16, 34, 64]}\n"));
  REQUIRE(space.params.size() == 4);
  CHECK(space.params[1].options[1].value == "step_decay");
  REQUIRE(space.params[1].options[1].branch.size() == 2);
  CHECK(space.params[1].options[1].branch[0].path == "schedule.drop");
  CHECK(space.params[1].options[1].branch[1].path == "schedule.epochs_drop");

  // Seeded: the same draws from the same seed; every drawn value in its domain.
  Rng a(5), b(5);
  std::set<std::string> types;
  for (int i = 0; i < 300; ++i) {
    const Assignment x = sample_assignment(space, a), y = sample_assignment(space, b);
    CHECK(x == y);
    std::map<std::string, std::string> by(x.begin(), x.end());
    types.insert(by["schedule.type"]);
    const double momentum = std::stod(by["optimizer.momentum"]), lr = std::stod(by["schedule.lr"]);
    CHECK((momentum >= 0.5 && momentum <= 0.99));
    CHECK((lr >= 0.001 && lr <= 0.3));
    CHECK((by["layers.0.units"] == "16" || by["layers.0.units"] == "34" || by["layers.0.units"] == "64"));
    // Branch keys exactly with their option.
    CHECK(by.count("schedule.drop") == (by["schedule.type"] == "step_decay" ? 1u : 0u));
    CHECK(by.count("schedule.t_max") == (by["schedule.type"] == "cosine_annealing" ? 1u : 0u));
    if (by.count("schedule.epochs_drop")) {
      const int e = std::stoi(by["schedule.epochs_drop"]);
      CHECK((e >= 5 && e <= 20));
    }
  }
  CHECK(types.size() == 3);

  // The grid: 3 momenta x (1 + 3*3 + 3 schedules) x 3 rates x 3 unit counts.
  const auto grid = grid_assignments(space, 3);
  CHECK(grid.size() == 3u * (1 + 9 + 3) * 3 * 3);
  CHECK(grid.front() == Assignment{{"optimizer.momentum", "0.5"}, {"schedule.type", "constant"}, {"schedule.lr", "0.001"}, {"layers.0.units", "16"}});
  // log_uniform's grid is geometric: 0.001, sqrt(0.0003), 0.3.
  CHECK(grid[3][2].second == format_real(std::sqrt(0.001 * 0.3)));
  CHECK(grid[1][3].second == "34");

  // The grid's size is known before it is built; one above the limit is refused with the figure.
  CHECK(grid_size(space, 3) == 3.0 * 13 * 3 * 3);
  CHECK(grid_size(space, 100) == 100.0 * (1 + 100 * 16 + 41) * 100 * 3);
  CHECK_THROWS_WITH(grid_assignments(space, 100), Contains("the grid over this space has 4.926e+07 configurations, more than the 100000"));
  // A drawn type replaces its mapping before the other keys apply.
  CHECK(assignment_sets({{"schedule.lr", "0.1"}, {"schedule.type", "step_decay"}, {"schedule.drop", "0.5"}}) ==
        std::vector<std::string>{"schedule={type: step_decay}", "schedule.lr=0.1", "schedule.drop=0.5"});
}

TEST_CASE("search space mistakes are refused with file, line and column", "[tune][space]") {
  TempDir d;
  const auto refused = [&](const std::string& text, const std::string& message) {
    const std::string path = write_space(d, text);
    CHECK_THROWS_WITH(load_search_space(path), Contains(message));
  };
  refused("version: 1\nspace:\n  schedule.lr: {uniform: [0.3, 0.1]}\n", "space.yaml:3:26: error: schedule.lr: uniform needs finite bounds with low < high");
  refused("version: 1\nspace:\n  schedule.lr: {log_uniform: [0, 0.1]}\n", "log_uniform needs 0 < low < high");
  refused("version: 1\nspace:\n  layers.0.units: {int_uniform: [1.5, 8]}\n", "int_uniform takes two integers");
  refused("version: 1\nspace:\n  schedule.lr: {uniform: [a, 1]}\n", "uniform takes two numbers");
  refused("version: 1\nspace:\n  schedule.lr: 0.1\n", "space.yaml:3:16: error: schedule.lr: expected a domain");
  refused("version: 1\nspace:\n  schedule.lr: {normal: [0, 1]}\n", "expected a domain");
  refused("version: 1\nspace:\n  schedule.type: {choice: []}\n", "choice takes a non-empty list");
  refused("version: 1\nspace:\n  schedule.type: {choice: [step, step]}\n", "'step' is listed twice");
  refused("version: 1\nspaces: {}\n", "space.yaml:2:1: error: unknown key 'spaces'");
  refused("space: {a: {choice: [1]}}\n", "version: 1 is required");
  refused("version: 1\nspace: {}\n", "space: must map spec keys");
  refused("version: 1\nspace:\n  schedule.type:\n    choice:\n      - step_decay: {drop: {uniform: [1, 0]}}\n",
          "space.yaml:5:38: error: schedule.drop: uniform needs");
}
