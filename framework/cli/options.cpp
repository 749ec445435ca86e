#include "options.hpp"

#include "anneal/errors.hpp"
#include "anneal/plugin.hpp"

namespace anneal::cli {

bool parse(const Args& args, const std::string& usage, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm) {
  options.add_options()("help,h", "show this help")(
      "plugin", po::value<std::vector<std::string>>()->composing(), "load a plugin library (repeatable)");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  po::store(po::command_line_parser(rest).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: anneal " << usage << "\n\n" << options << "\n";
    return false;
  }
  po::notify(vm);
  if (vm.count("plugin"))
    for (const auto& path : vm["plugin"].as<std::vector<std::string>>()) load_plugin(path);
  return true;
}

}  // namespace anneal::cli
