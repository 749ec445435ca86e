// The search-space reader of `anneal tune`, seeded draws from what it read, and the grid (its size
// first: a grid above the study limit is refused before anything is built).
#include "anneal/search_space.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = anneal::fuzz::write_input(data, size, ".space.yaml");
  return anneal::fuzz::guarded([&] {
    const anneal::SearchSpace space = anneal::load_search_space(path);
    anneal::Rng rng(1);
    for (int i = 0; i < 8; ++i) (void)anneal::assignment_sets(anneal::sample_assignment(space, rng));
    (void)anneal::grid_assignments(space, 3, 2000);
  });
}
