#pragma once
// Training curves from histories: loss, accuracy and learning rate per epoch, training solid and
// validation dashed, several runs overlaid.

#include <string>
#include <vector>

#include "anneal/trainer.hpp"

namespace anneal {

struct NamedHistory {
  std::string name;
  History history;
};

void write_history_plot(const std::vector<NamedHistory>& runs, const std::string& path);

// Reads a history CSV written by write_history_csv (or --history).
History read_history_csv(const std::string& path);

}  // namespace anneal
