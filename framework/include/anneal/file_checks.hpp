#pragma once
// Inputs are read only from regular files: a directory, a FIFO (which would block forever) or a
// device (/dev/zero, which never ends) is refused by name before anything is read.

#include <string>

namespace anneal {

// "" for a regular file; otherwise what the path is ("is a directory", "is a FIFO, not a regular
// file", "does not exist"), for the caller's own error.
std::string regular_file_problem(const std::string& path);

}  // namespace anneal
