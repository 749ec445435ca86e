#pragma once
// Summary statistics for comparing runs.

#include <vector>

namespace anneal {

struct Summary {
  int count = 0;
  double mean = 0, stddev = 0, median = 0, min = 0, max = 0;  // stddev: sample (n - 1)
};

Summary summarize(std::vector<double> values);

}  // namespace anneal
