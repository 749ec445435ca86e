#pragma once
// Writing a file so that no reader ever sees half of it.

#include <string>

namespace anneal {

// Writes `text` to `path` through a temporary file in the same folder, fsync and a rename.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace anneal
