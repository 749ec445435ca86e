#include "anneal/errors.hpp"

namespace anneal {

std::string SourceLocation::str() const {
  std::string out = file;
  if (line > 0) {
    out.append(":").append(std::to_string(line));
    if (column > 0) out.append(":").append(std::to_string(column));
  }
  return out;
}

std::string format_error(const SourceLocation& where, const std::string& what) {
  const std::string place = where.str();
  return place.empty() ? "error: " + what : place + ": error: " + what;
}

SpecError::SpecError(const SourceLocation& where, const std::string& what)
    : InputError(format_error(where, what)) {}

}  // namespace anneal
