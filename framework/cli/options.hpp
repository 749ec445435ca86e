#pragma once
// Shared option parsing for subcommands.

#include <boost/program_options.hpp>

#include <iostream>
#include <string>

#include "commands.hpp"

namespace anneal::cli {

namespace po = boost::program_options;

// Parses args[1..] into vm. Returns false when --help was printed (the command should exit 0).
bool parse(const Args& args, const std::string& usage, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm);

}  // namespace anneal::cli
