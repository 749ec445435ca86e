#pragma once
// One function per `anneal` subcommand. Each parses its own arguments (argv[0] is the
// subcommand's name), throws anneal errors, and returns the process exit code.

#include <string>
#include <vector>

namespace anneal::cli {

using Args = std::vector<std::string>;

// Prints an error to stderr in the one shape every message has: located messages already read
// "file:line:col: error: ..."; the rest become "anneal: error: ...".
void print_error(const std::string& message);

int train_command(const Args& args);
int check_command(const Args& args);
int list_command(const Args& args);
int graph_command(const Args& args);
int schedule_command(const Args& args);
int evaluate_command(const Args& args);
int predict_command(const Args& args);
int export_command(const Args& args);
int plot_command(const Args& args);
int sweep_command(const Args& args);
int tune_command(const Args& args);
int report_command(const Args& args);
int cv_command(const Args& args);
int lr_find_command(const Args& args);

}  // namespace anneal::cli
