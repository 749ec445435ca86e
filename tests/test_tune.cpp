// anneal tune end to end on the lesson's model: Hyperband's rungs as planned, a promoted trial
// resumed from its checkpoint ending exactly where a straight run of its spec ends, a killed study
// resumed to the same table, seeded draws, and the mistakes a user makes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "anneal/history_plot.hpp"
#include "helpers.hpp"

using namespace anneal;
using namespace anneal::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string model() { return source_path("models/ionosphere.yaml"); }

std::string small_space(const TempDir& d) {
  const std::string path = d.path() + "/space.yaml";
  std::ofstream(path) << "version: 1\n"
                         "space:\n"
                         "  optimizer.momentum: {choice: [0.0, 0.9]}\n"
                         "  schedule.type:\n"
                         "    choice:\n"
                         "      - step_decay: {lr: {log_uniform: [0.01, 0.3]}, drop: {uniform: [0.3, 0.7]}, epochs_drop: {int_uniform: [2, 5]}}\n"
                         "      - one_cycle: {max_lr: {log_uniform: [0.05, 0.5]}}\n"
                         "      - constant: {lr: {log_uniform: [0.01, 0.3]}}\n";
  return path;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST_CASE("a hyperband study trains its rungs as planned and promoted trials resume exactly", "[tune][cli]") {
  TempDir d;
  const std::string study = d.path() + "/study";
  const auto r = run_cli("tune " + model() + " --space " + small_space(d) + " --max-epochs 9 --trials 20 --seed 4 -j 2 -o " + study);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("tune: hyperband, 20 configurations"));
  CHECK_THAT(r.out, Contains("wrote " + study + "/best.yaml"));
  // Brackets for R = 9, eta = 3 (9, 3 and 3 configurations … cut to 20): per (bracket, rung) the
  // number of trials and the budget.
  const auto rows = csv_rows(study + "/trials.csv");
  REQUIRE(rows.size() > 1);
  CHECK(rows[0][0] == "trial");
  std::map<std::pair<std::string, std::string>, int> count;
  std::map<std::pair<std::string, std::string>, std::string> budget;
  for (size_t i = 1; i < rows.size(); ++i) {
    ++count[{rows[i][1], rows[i][2]}];
    budget[{rows[i][1], rows[i][2]}] = rows[i][3];
  }
  // Hyperband(1, 9, 3): s = 2: 9 @ 1, 3 @ 3, 1 @ 9; s = 1: 5 @ 3, 1 @ 9; s = 0: 3 @ 9; then 3 of
  // the next iteration's s = 2 bracket: 3 @ 1, 1 @ 3, 1 @ 9.
  CHECK(count[{"1", "0"}] == 9);
  CHECK(budget[{"1", "0"}] == "1");
  CHECK(count[{"1", "1"}] == 3);
  CHECK(budget[{"1", "1"}] == "3");
  CHECK(count[{"1", "2"}] == 1);
  CHECK(budget[{"1", "2"}] == "9");
  CHECK(count[{"2", "0"}] == 5);
  CHECK(count[{"2", "1"}] == 1);
  CHECK(count[{"3", "0"}] == 3);
  CHECK(budget[{"3", "0"}] == "9");
  CHECK(count[{"4", "0"}] == 3);
  CHECK(count[{"4", "1"}] == 1);

  // The promoted trial of bracket 1 trained 1 + 2 + 6 epochs in three processes, each resuming
  // the last one's checkpoint; its 9-epoch history equals one straight run of its spec.
  std::string promoted;
  for (size_t i = 1; i < rows.size(); ++i)
    if (rows[i][1] == "1" && rows[i][2] == "2") promoted = rows[i][0];
  REQUIRE(!promoted.empty());
  char folder[16];
  std::snprintf(folder, sizeof folder, "%04d", std::stoi(promoted));
  const std::string trial = study + "/trials/" + folder;
  CHECK(fs::exists(trial + "/seed1-e1.ckpt"));
  CHECK(fs::exists(trial + "/seed1-e3.ckpt"));
  REQUIRE(run_cli("train --quiet " + trial + "/spec.yaml --seed 1 --history " + d.path() + "/straight.csv").exit_code == 0);
  const History straight = read_history_csv(d.path() + "/straight.csv"), sliced = read_history_csv(trial + "/seed1-e9.csv");
  REQUIRE(sliced.epochs.size() == 9);
  REQUIRE(straight.epochs.size() == 9);
  for (size_t e = 0; e < 9; ++e) CHECK(sliced.epochs[e].logs.values == straight.epochs[e].logs.values);
  // The winning spec runs as it is.
  CHECK(run_cli("train --quiet " + study + "/best.yaml").exit_code == 0);
  CHECK_THAT(read_text(study + "/study.json"), Contains("\"kind\": \"study\", \"method\": \"hyperband\""));
}

TEST_CASE("a study whose runs were lost resumes without repeating finished ones and ends with the same table", "[tune][cli]") {
  TempDir d;
  const std::string study = d.path() + "/study";
  const std::string args = "tune " + model() + " --space " + small_space(d) + " --method successive_halving --max-epochs 9 --trials 9 -o " + study;
  REQUIRE(run_cli(args).exit_code == 0);
  const std::string table = read_text(study + "/trials.csv");
  // As if killed: the last rung's runs and one of the middle rung's are gone.
  int removed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(study + "/trials")) {
    const std::string name = entry.path().filename().string();
    if (name == "seed1-e9.csv" || (name == "seed1-e3.csv" && removed == 0)) {
      fs::remove(entry.path());
      ++removed;
    }
  }
  REQUIRE(removed == 2);
  const auto again = run_cli("tune --resume " + study);
  REQUIRE(again.exit_code == 0);
  CHECK_THAT(again.out, Contains("21 epochs in the search (8 trained now), 0 in confirmation runs; 2 runs now, 11 reused from the study folder"));
  CHECK(read_text(study + "/trials.csv") == table);
  // Settings come from the study; changing them is refused.
  const auto changed = run_cli("tune --resume " + study + " --trials 3");
  CHECK(changed.exit_code == 2);
  CHECK_THAT(changed.err, Contains("--trials cannot change them"));
  const auto twice = run_cli(args);
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Contains("a study is already there; continue it with --resume"));
}

TEST_CASE("random and grid studies: seeded draws, every grid point, seeds averaged, confirmation intervals", "[tune][cli]") {
  TempDir d;
  const std::string space = small_space(d);
  const std::string base = "tune " + model() + " --space " + space + " --max-epochs 3 ";
  REQUIRE(run_cli(base + "--method random --trials 6 --seed 11 -o " + d.path() + "/a").exit_code == 0);
  REQUIRE(run_cli(base + "--method random --trials 6 --seed 11 -o " + d.path() + "/b").exit_code == 0);
  REQUIRE(run_cli(base + "--method random --trials 6 --seed 12 -o " + d.path() + "/c").exit_code == 0);
  CHECK(read_text(d.path() + "/a/trials.csv") == read_text(d.path() + "/b/trials.csv"));
  CHECK(read_text(d.path() + "/a/trials.csv") != read_text(d.path() + "/c/trials.csv"));
  // Grid with 2 points: momentum 2 x (step_decay 2*2*2 + one_cycle 2 + constant 2).
  REQUIRE(run_cli(base + "--method grid --grid-points 2 -o " + d.path() + "/g").exit_code == 0);
  CHECK(csv_rows(d.path() + "/g/trials.csv").size() == 1 + 2 * (8 + 2 + 2));
  // Two seeds: each row's objective is their mean; --confirm reruns the best with new seeds.
  const auto r = run_cli(base + "--method random --trials 3 --seeds 2 --confirm 4 --confirm-top 2 -o " + d.path() + "/s");
  REQUIRE(r.exit_code == 0);
  const auto rows = csv_rows(d.path() + "/s/trials.csv");
  REQUIRE(rows.size() == 4);
  for (size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i][4] == "2");
    char folder[16];
    std::snprintf(folder, sizeof folder, "%04d", std::stoi(rows[i][0]));
    const std::string t = d.path() + "/s/trials/" + folder;
    const double a = read_history_csv(t + "/seed1-e3.csv").epochs.back().logs.get("val_accuracy", -1);
    const double b = read_history_csv(t + "/seed2-e3.csv").epochs.back().logs.get("val_accuracy", -1);
    CHECK(std::stod(rows[i][5]) == Approx((a + b) / 2).epsilon(1e-8));
  }
  int confirmed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(d.path() + "/s/trials"))
    confirmed += entry.path().filename().string().rfind("confirm-seed", 0) == 0 && entry.path().extension() == ".csv";
  CHECK(confirmed == 2 * 4);
  CHECK_THAT(r.out, Contains("| 1 | "));
  CHECK_THAT(r.out, Contains("| 4 | "));  // runs behind the winner's interval
}

TEST_CASE("tune refuses bad objectives, invalid configurations and missing studies before training", "[tune][cli]") {
  TempDir d;
  const std::string space = small_space(d);
  auto r = run_cli("tune " + model() + " --space " + space + " --objective val_acc -o " + d.path() + "/x");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--objective val_acc: not a column of this model's history (known: loss, lr, accuracy, val_loss, val_accuracy)"));
  const std::string bad = d.path() + "/bad.yaml";
  std::ofstream(bad) << "version: 1\nspace:\n  schedule.type: {choice: [step_decay, no_such_schedule]}\n";
  r = run_cli("tune " + model() + " --space " + bad + " --method grid -o " + d.path() + "/y");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("configuration 2 (schedule.type=no_such_schedule) is not a valid spec"));
  // Nothing is left behind: the same command runs once the space is fixed.
  CHECK(!fs::exists(d.path() + "/y"));
  std::ofstream(bad) << "version: 1\nspace:\n  optimizer.momentum: {uniform: [0.9]}\n";
  r = run_cli("tune " + model() + " --space " + bad + " -o " + d.path() + "/z");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("bad.yaml:3:33: error: optimizer.momentum: uniform takes two numbers"));
  CHECK(!fs::exists(d.path() + "/z"));
  r = run_cli("tune --resume " + d.path() + "/nothing");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("no study there"));
  r = run_cli("tune " + model() + " --space " + space + " --method bayes -o " + d.path() + "/w");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--method bayes"));
  r = run_cli("tune " + model());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("tune needs a model and --space"));
}

TEST_CASE("report writes one self-contained page per kind of results and refuses anything else", "[report][cli]") {
  TempDir d;
  const std::string p = d.path();
  REQUIRE(run_cli("sweep " + model() + " --schedule " + source_path("schedules/step_decay.yaml") + " --schedule " +
                  source_path("schedules/constant.yaml") + " --seeds 2 --epochs 4 -o " + p + "/sweep").exit_code == 0);
  auto r = run_cli("report " + p + "/sweep -o " + p + "/sweep.html");
  REQUIRE(r.exit_code == 0);
  const std::string sweep = read_text(p + "/sweep.html");
  CHECK(sweep.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK_THAT(sweep, Contains("<td>step_decay</td><td>2</td>"));
  CHECK_THAT(sweep, Contains("Δ vs step_decay [95 % CI]"));
  CHECK_THAT(sweep, Contains("learning rate per epoch"));
  CHECK(sweep.find("<?xml") == std::string::npos);  // SVG inline, not as files
  CHECK(sweep.find("<script") == std::string::npos);

  REQUIRE(run_cli("tune " + model() + " --space " + small_space(d) + " --max-epochs 3 --method random --trials 4 -o " + p + "/study").exit_code == 0);
  REQUIRE(run_cli("report " + p + "/study -o " + p + "/study.html").exit_code == 0);
  const std::string study = read_text(p + "/study.html");
  CHECK_THAT(study, Contains("Method <b>random</b>, 4 configurations"));
  CHECK_THAT(study, Contains("val_accuracy against schedule.lr"));
  CHECK_THAT(study, Contains("<td>schedule.type</td>"));  // choices get a table

  REQUIRE(run_cli("cv " + model() + " --folds 3 --epochs 2 -o " + p + "/cv.csv").exit_code == 0);
  REQUIRE(run_cli("report " + p + "/cv.csv -o " + p + "/cv.html").exit_code == 0);
  CHECK_THAT(read_text(p + "/cv.html"), Contains("val_accuracy over 3 folds: mean <b>"));

  r = run_cli("report " + p + " -o " + p + "/x.html");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("is not a sweep folder (summary.json), a study folder (study.json) or the CSV of anneal cv -o"));
  std::ofstream(p + "/sweep/summary.json") << "{\"metric\": 3";
  r = run_cli("report " + p + "/sweep -o " + p + "/x.html");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("a results file is not what anneal wrote"));
  CHECK(!fs::exists(p + "/x.html"));
}
