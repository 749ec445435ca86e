// anneal plot: training curves from history CSVs, several runs overlaid.
#include <filesystem>

#include "anneal/history_plot.hpp"
#include "options.hpp"

namespace anneal::cli {

int plot_command(const Args& args) {
  po::options_description options("plot options");
  std::vector<std::string> histories;
  std::string output;
  options.add_options()("histories", po::value(&histories)->required()->multitoken(), "history CSVs (from --history)")
      ("output,o", po::value(&output)->required(), "SVG file to write");
  po::positional_options_description positional;
  positional.add("histories", -1);
  po::variables_map vm;
  if (!parse(args, "plot HISTORY.csv [more.csv ...] -o curves.svg", options, positional, vm)) return kExitOk;
  std::vector<NamedHistory> runs;
  for (const auto& path : histories) runs.push_back({std::filesystem::path(path).stem().string(), read_history_csv(path)});
  write_history_plot(runs, output);
  return kExitOk;
}

}  // namespace anneal::cli
