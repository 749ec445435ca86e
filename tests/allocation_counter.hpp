#pragma once
// Counts calls to operator new between start and stop, process-wide (libanneal included).

#include "anneal/callback.hpp"

namespace anneal::test {
void start_counting_allocations();
long stop_counting_allocations();  // the number counted since start

// Counts allocations inside every training batch (add it first, so counting starts before any
// other callback runs).
struct CountDuringBatches : Callback {
  long during = 0;
  int batches = 0;
  void on_batch_begin(TrainingContext&) override { start_counting_allocations(); }
  void on_batch_end(TrainingContext&, double) override {
    during += stop_counting_allocations();
    ++batches;
  }
};
}  // namespace anneal::test
