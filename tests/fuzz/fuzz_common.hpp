#pragma once
// What every fuzz target shares: the input as a file (the readers take paths), and the rule that
// an anneal::Error is a correct answer to bad input while anything else (a crash, a sanitizer
// report, another exception, a runaway allocation past libFuzzer's limit, a hang) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "anneal/errors.hpp"

namespace anneal::fuzz {

inline std::string write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = "/tmp/anneal-fuzz-" + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

template <class F>
int guarded(F&& body) {
  try {
    body();
  } catch (const anneal::Error&) {
    // A clear error (exit 2 or 1 in the CLI) is the right answer to bad input.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: an exception that is not an anneal::Error escaped: %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace anneal::fuzz
