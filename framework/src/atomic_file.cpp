#include "anneal/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "anneal/errors.hpp"

namespace anneal {

void write_file_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path temp = target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(::getpid()));
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (!f) throw RuntimeFailure("cannot write '" + temp.string() + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                       ::fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    fs::remove(temp);
    throw RuntimeFailure("cannot write '" + temp.string() + "'");
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp);
    throw RuntimeFailure("cannot rename '" + temp.string() + "' to '" + path + "': " + ec.message());
  }
}

}  // namespace anneal
