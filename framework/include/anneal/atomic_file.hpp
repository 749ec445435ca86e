#pragma once
// Writing a file so that no reader ever sees half of it.

#include <string>

namespace anneal {

// Writes `text` to `path` through a temporary file in the same folder (".NAME.tmpPID"), fsync,
// a rename and an fsync of the folder. Temporary files of NAME left by writers that were killed
// (their process is gone) are removed first.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace anneal
