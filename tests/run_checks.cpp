// Checks shared by the tests that compare two training runs.
#include <algorithm>
#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>

#include "anneal/checkpoint.hpp"
#include "helpers.hpp"

namespace anneal::test {

// History rows without the time_s column.
std::vector<std::string> rows_without_time(const std::string& path) {
  std::stringstream in(read_text(path));
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

void check_same_run(const std::string& a_ckpt, const std::string& b_ckpt, const std::string& a_hist, const std::string& b_hist) {
  const Checkpoint a = load_checkpoint(a_ckpt), b = load_checkpoint(b_ckpt);
  REQUIRE(a.params.size() == b.params.size());
  CHECK(std::equal(a.params.begin(), a.params.end(), b.params.begin(),
                   [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }));
  REQUIRE(a.state.size() == b.state.size());
  // memcmp of an empty vector's data() (which may be null) is undefined: compare as vectors of
  // bits instead.
  CHECK(std::equal(a.state.begin(), a.state.end(), b.state.begin(),
                   [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }));
  CHECK(a.optimizer_state == b.optimizer_state);
  CHECK(a.train.step == b.train.step);
  CHECK(rows_without_time(a_hist) == rows_without_time(b_hist));
}

}  // namespace anneal::test
