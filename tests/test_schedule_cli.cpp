// anneal schedule show / plot.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "helpers.hpp"
#include "svg_render.hpp"

using namespace anneal::test;
using Catch::Matchers::Contains;

namespace {
std::vector<std::vector<double>> csv_rows(const std::string& text, std::string& header) {
  std::stringstream in(text);
  std::getline(in, header);
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}
}  // namespace

TEST_CASE("schedule show: the lesson's drop-based rates for 100 epochs", "[cli][schedules]") {
  const auto r = run_cli("schedule show " + source_path("schedules/step_decay.yaml") + " --epochs 100 --format csv");
  REQUIRE(r.exit_code == 0);
  std::string header;
  const auto rows = csv_rows(r.out, header);
  CHECK(header == "epoch,step,lr");
  REQUIRE(rows.size() == 100);
  for (size_t e = 0; e < rows.size(); ++e) {
    CHECK(rows[e][0] == static_cast<double>(e + 1));  // epochs count from 1, as in the history
    CHECK(rows[e][2] == Approx(0.1 * std::pow(0.5, std::floor((1.0 + static_cast<double>(e)) / 10))).epsilon(1e-11));
  }
}

TEST_CASE("schedule show: time-based per update is 0.1 / (1 + 0.002 t)", "[cli][schedules]") {
  const auto r = run_cli("schedule show " + source_path("schedules/time_based.yaml") +
                         " --epochs 50 --steps-per-epoch 9 --per-step --format csv");
  REQUIRE(r.exit_code == 0);
  std::string header;
  const auto rows = csv_rows(r.out, header);
  REQUIRE(rows.size() == 450);
  for (size_t t = 0; t < rows.size(); ++t) {
    CHECK(rows[t][0] == static_cast<double>(t / 9 + 1));
    CHECK(rows[t][1] == static_cast<double>(t + 1));  // the update's number, from 1
    CHECK(rows[t][2] == Approx(0.1 / (1 + 0.002 * static_cast<double>(t))).epsilon(1e-11));
  }
}

TEST_CASE("schedule show: momentum column, the model's run length, metric-driven note", "[cli][schedules]") {
  auto r = run_cli("schedule show " + source_path("schedules/one_cycle.yaml") + " --model " +
                   source_path("models/ionosphere.yaml") + " --format csv");
  REQUIRE(r.exit_code == 0);
  std::string header;
  auto rows = csv_rows(r.out, header);
  CHECK(header == "epoch,step,lr,momentum");
  REQUIRE(rows.size() == 50);
  CHECK(rows[0][2] == Approx(0.2 / 25));
  CHECK(rows[0][3] == Approx(0.95));
  CHECK(rows[49][1] == 442);  // 9 updates per epoch from the model's data and batch size
  r = run_cli("schedule show " + source_path("schedules/reduce_on_plateau.yaml") + " --model " +
              source_path("models/ionosphere.yaml"));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Contains("metric-driven; showing its base schedule"));
  CHECK(run_cli("schedule show " + source_path("schedules/step.yaml")).exit_code == 2);  // no --epochs
  CHECK(run_cli("schedule show " + source_path("schedules/step.yaml") + " --epochs 5 --format xml").exit_code == 2);
  CHECK(run_cli("schedule fly").exit_code == 2);
}

TEST_CASE("schedule plot draws one line per schedule and renders", "[cli][schedules][plot]") {
  TempDir dir;
  const std::string svg = dir.path() + "/lr.svg";
  const auto r = run_cli("schedule plot " + source_path("schedules/time_based.yaml") + " " +
                         source_path("schedules/step_decay.yaml") + " --epochs 50 -o " + svg);
  REQUIRE(r.exit_code == 0);
  const std::string text = read_text(svg);
  CHECK_THAT(text, Contains("<polyline"));
  CHECK_THAT(text, Contains(">time_based<"));
  CHECK_THAT(text, Contains(">step_decay<"));
  CHECK_THAT(text, Contains(">epoch<"));
  CHECK_THAT(text, Contains(">learning rate<"));
  const Image image = rasterize_svg(svg);
  CHECK(image.width == 640);
  const InkStats stats = ink(image);
  CHECK(stats.inked_fraction > 0.01);
  CHECK(stats.colours >= 2);  // two coloured lines
}

TEST_CASE("the ink check tells a blank image from a plot", "[plot]") {
  TempDir dir;
  const std::string blank = dir.write("blank.svg",
                                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\">"
                                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/></svg>");
  const InkStats stats = ink(rasterize_svg(blank));
  CHECK(stats.inked_fraction == 0);
  CHECK(stats.colours == 0);
}
