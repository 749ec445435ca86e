#pragma once
// The error hierarchy library code throws. Only the CLI's main() maps these to exit codes, so the
// library never decides how a process ends.

#include <stdexcept>
#include <string>

namespace anneal {

// A place in a spec or data file. Lines and columns are 1-based; 0 means "not known".
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:col", "file:line" or "file", whichever parts are known.
  std::string str() const;
};

// Exit codes, documented in the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitInvalidInput = 2;

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const { return kExitRuntime; }
};

// Something the user wrote is wrong: a spec, a data file, a flag. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitInvalidInput; }
};

// A spec (model or schedule YAML) is invalid; the message starts with "file:line:col: error: ".
class SpecError : public InputError {
 public:
  SpecError(const SourceLocation& where, const std::string& what);
  explicit SpecError(const std::string& already_formatted) : InputError(already_formatted) {}
};

// train.precision: mixed_bfloat16 on a machine without bfloat16 products: a SpecError at the key,
// typed so that a front end can say how to ask for the emulation.
class Bfloat16Unsupported : public SpecError {
 public:
  using SpecError::SpecError;
};

// A model whose training would need more memory than the limit it was built with
// (BuildOptions::memory_limit); the message gives both figures.
class MemoryLimitExceeded : public InputError {
 public:
  using InputError::InputError;
};

// A data file is malformed; the message names the file, row and column.
class DataError : public InputError {
 public:
  using InputError::InputError;
};

// Command-line misuse.
class UsageError : public InputError {
 public:
  using InputError::InputError;
};

// Training or I/O failed at run time. Exit code 1.
class RuntimeFailure : public Error {
 public:
  using Error::Error;
};

std::string format_error(const SourceLocation& where, const std::string& what);

}  // namespace anneal
