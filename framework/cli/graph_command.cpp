#include <iostream>
#include <sstream>

#include "anneal/atomic_file.hpp"
#include "anneal/experiment.hpp"
#include "options.hpp"

namespace anneal::cli {

int graph_command(const Args& args) {
  po::options_description options("graph options");
  std::string model, output;
  options.add_options()
      ("model", po::value(&model)->required(), "model spec (YAML)")
      ("output,o", po::value(&output)->required(), "dot file to write ('-' for standard output)")
      ("set", set_option(), kSetHelp);
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse(args, "graph MODEL -o FILE.dot", options, positional, vm)) return kExitOk;

  LoadOptions load = load_options(vm);
  const ModelSpec spec = load_model_spec(model, load);
  const CompiledGraph graph = compile(spec, 1);
  std::ostringstream dot;
  write_dot(graph, dot);
  if (output == "-") std::cout << dot.str();
  else write_file_atomically(output, dot.str());
  return kExitOk;
}

}  // namespace anneal::cli
