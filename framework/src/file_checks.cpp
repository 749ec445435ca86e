#include "anneal/file_checks.hpp"

#include <filesystem>

namespace anneal {

std::string regular_file_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  switch (status.type()) {
    case fs::file_type::regular: return "";
    case fs::file_type::not_found: return "does not exist";
    case fs::file_type::directory: return "is a directory";
    case fs::file_type::fifo: return "is a FIFO, not a regular file";
    case fs::file_type::character:
    case fs::file_type::block: return "is a device, not a regular file";
    case fs::file_type::socket: return "is a socket, not a regular file";
    default: return ec ? "cannot be read: " + ec.message() : "is not a regular file";
  }
}

}  // namespace anneal
