#pragma once
// Forward-only passes over a dataset: what `anneal predict` computes.

#include <vector>

#include "anneal/data.hpp"
#include "anneal/graph.hpp"

namespace anneal {

struct PredictOptions {
  // Executors running chunks of the plan's batch side by side, each with single-threaded
  // products (0: one per BLAS thread; 1: one executor whose products use every BLAS thread).
  // Chunks are independent in inference, so side by side the cores never wait for each other
  // inside a product, and the elementwise work between products runs on every core too. The
  // outputs are the same whichever executor computes a chunk.
  int workers = 0;
};

// The model's outputs for every row of `data` ([rows, output size]), in inference mode, in chunks
// of the plan's batch (generated rows are generated a chunk at a time, by the executor that
// reads them). With several workers OpenBLAS's process-wide thread count is 1 while they run and
// restored on return.
std::vector<float> predict_outputs(const CompiledGraph& graph, Weights& weights, const Dataset& data,
                                   const PredictOptions& options = {});

}  // namespace anneal
