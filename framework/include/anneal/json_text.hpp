#pragma once
// Writing JSON by hand for the few files Anneal emits (evaluate --format json, study.json,
// summary.json): a quoted, escaped string and a number that round-trips (non-finite as null).

#include <string>

namespace anneal {

std::string json_string(const std::string& s);
std::string json_number(double v);  // %.9g; NaN and infinities as null

}  // namespace anneal
