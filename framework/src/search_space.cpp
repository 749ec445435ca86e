#include "anneal/search_space.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "anneal/spec.hpp"

namespace anneal {
namespace {

SourceLocation where(const std::string& file, const YAML::Node& node) {
  const auto mark = node.Mark();
  return {file, mark.line + 1, mark.column + 1};
}

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

// Under `schedule.type`, `drop` means `schedule.drop`; a dotted key is a full path.
std::string branch_path(const std::string& choice_path, const std::string& key) {
  if (key.find('.') != std::string::npos) return key;
  const auto dot = choice_path.rfind('.');
  return dot == std::string::npos ? key : choice_path.substr(0, dot + 1) + key;
}

bool is_domain(const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) return false;
  const std::string kind = node.begin()->first.Scalar();
  return kind == "choice" || kind == "uniform" || kind == "log_uniform" || kind == "int_uniform";
}

ParamDomain parse_domain(const std::string& file, const std::string& path, const YAML::Node& node);

std::vector<ParamDomain> parse_branch(const std::string& file, const std::string& choice_path, const YAML::Node& map) {
  std::vector<ParamDomain> out;
  for (const auto& item : map) out.push_back(parse_domain(file, branch_path(choice_path, item.first.Scalar()), item.second));
  return out;
}

std::pair<double, double> bounds(const std::string& file, const std::string& path, const std::string& kind, const YAML::Node& node) {
  if (!node.IsSequence() || node.size() != 2 || !node[0].IsScalar() || !node[1].IsScalar())
    throw SpecError(where(file, node), path + ": " + kind + " takes two numbers, [low, high]");
  double low = 0, high = 0;
  try {
    low = node[0].as<double>();
    high = node[1].as<double>();
  } catch (const YAML::Exception&) {
    throw SpecError(where(file, node), path + ": " + kind + " takes two numbers, [low, high]");
  }
  const bool ordered = low < high || (kind == "int_uniform" && low == high);  // one integer is a fixed value
  if (!std::isfinite(low) || !std::isfinite(high) || !ordered)
    throw SpecError(where(file, node), path + ": " + kind + " needs finite bounds with low < high");
  return {low, high};
}

ParamDomain parse_domain(const std::string& file, const std::string& path, const YAML::Node& node) {
  if (!is_domain(node))
    throw SpecError(where(file, node), path + ": expected a domain, one of {choice: [...]}, {uniform: [a, b]}, "
                                              "{log_uniform: [a, b]} or {int_uniform: [a, b]}");
  ParamDomain d;
  d.path = path;
  d.location = where(file, node);
  const std::string kind = node.begin()->first.Scalar();
  const YAML::Node value = node.begin()->second;
  if (kind == "choice") {
    d.kind = ParamDomain::Kind::kChoice;
    if (!value.IsSequence() || value.size() == 0) throw SpecError(where(file, value), path + ": choice takes a non-empty list");
    std::set<std::string> seen;
    for (const auto& option : value) {
      ChoiceOption o;
      // `name: {key: domain, …}` is a branch; any other value is taken as it is.
      if (option.IsMap() && option.size() == 1 && option.begin()->second.IsMap() &&
          std::all_of(option.begin()->second.begin(), option.begin()->second.end(),
                      [](const auto& item) { return is_domain(item.second); })) {
        o.value = yaml_text(option.begin()->first);
        o.branch = parse_branch(file, path, option.begin()->second);
      } else {
        o.value = yaml_text(option);
      }
      if (!seen.insert(o.value).second) throw SpecError(where(file, option), path + ": '" + o.value + "' is listed twice");
      d.options.push_back(std::move(o));
    }
    return d;
  }
  const auto [low, high] = bounds(file, path, kind, value);
  d.low = low;
  d.high = high;
  if (kind == "uniform") {
    d.kind = ParamDomain::Kind::kUniform;
  } else if (kind == "log_uniform") {
    d.kind = ParamDomain::Kind::kLogUniform;
    if (low <= 0) throw SpecError(where(file, value), path + ": log_uniform needs 0 < low < high");
  } else {
    d.kind = ParamDomain::Kind::kIntUniform;
    if (low != std::floor(low) || high != std::floor(high) || std::abs(low) > 1e15 || std::abs(high) > 1e15)
      throw SpecError(where(file, value), path + ": int_uniform takes two integers, [low, high]");
  }
  return d;
}

std::string format_int(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f", value);
  return buffer;
}

void sample_into(const ParamDomain& d, Rng& rng, Assignment& out) {
  switch (d.kind) {
    case ParamDomain::Kind::kChoice: {
      const auto& option = d.options[rng.below(d.options.size())];
      out.emplace_back(d.path, option.value);
      for (const auto& b : option.branch) sample_into(b, rng, out);
      return;
    }
    case ParamDomain::Kind::kUniform:
      out.emplace_back(d.path, format_real(rng.uniform(d.low, d.high)));
      return;
    case ParamDomain::Kind::kLogUniform:
      out.emplace_back(d.path, format_real(std::exp(rng.uniform(std::log(d.low), std::log(d.high)))));
      return;
    case ParamDomain::Kind::kIntUniform:
      out.emplace_back(d.path, format_int(d.low + static_cast<double>(rng.below(static_cast<uint64_t>(d.high - d.low) + 1))));
      return;
  }
}

// The values a grid takes for one domain, each with the assignments it brings (a branch's grid).
std::vector<Assignment> grid_of(const ParamDomain& d, int points);

std::vector<Assignment> product(const std::vector<ParamDomain>& domains, int points) {
  std::vector<Assignment> out{Assignment{}};
  for (const auto& d : domains) {
    std::vector<Assignment> next;
    for (const auto& prefix : out)
      for (const auto& tail : grid_of(d, points)) {
        Assignment a = prefix;
        a.insert(a.end(), tail.begin(), tail.end());
        next.push_back(std::move(a));
      }
    out = std::move(next);
  }
  return out;
}

std::vector<Assignment> grid_of(const ParamDomain& d, int points) {
  std::vector<Assignment> out;
  const double n = static_cast<double>(std::max(points, 1));
  switch (d.kind) {
    case ParamDomain::Kind::kChoice:
      for (const auto& option : d.options)
        for (const auto& tail : product(option.branch, points)) {
          Assignment a{{d.path, option.value}};
          a.insert(a.end(), tail.begin(), tail.end());
          out.push_back(std::move(a));
        }
      break;
    case ParamDomain::Kind::kUniform:
    case ParamDomain::Kind::kLogUniform: {
      const bool log = d.kind == ParamDomain::Kind::kLogUniform;
      const double lo = log ? std::log(d.low) : d.low, hi = log ? std::log(d.high) : d.high;
      for (int i = 0; i < points; ++i) {
        const double t = points == 1 ? 0.5 : static_cast<double>(i) / (n - 1);
        const double v = lo + t * (hi - lo);
        out.push_back({{d.path, format_real(log ? std::exp(v) : v)}});
      }
      break;
    }
    case ParamDomain::Kind::kIntUniform: {
      const double count = d.high - d.low + 1;
      std::string last;
      for (int i = 0; i < std::min<double>(count, n); ++i) {
        const double v = count <= n ? d.low + i : std::round(d.low + (points == 1 ? 0.5 : static_cast<double>(i) / (n - 1)) * (d.high - d.low));
        const std::string text = format_int(v);
        if (text != last) out.push_back({{d.path, text}});
        last = text;
      }
      break;
    }
  }
  return out;
}

}  // namespace

std::string format_real(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

SearchSpace load_search_space(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) throw SpecError(SourceLocation{path, 1, 1}, "a search space must be a YAML mapping with version: 1 and space:");
  for (const auto& item : root) {
    const std::string key = item.first.Scalar();
    if (key != "version" && key != "space")
      throw SpecError(where(path, item.first), "unknown key '" + key + "' (a search space has version: and space:)");
  }
  if (!root["version"] || !root["version"].IsScalar() || root["version"].Scalar() != "1")
    throw SpecError(root["version"] ? where(path, root["version"]) : SourceLocation{path, 1, 1},
                    "version: 1 is required (the search space format this build reads)");
  const YAML::Node space = root["space"];
  if (!space || !space.IsMap() || space.size() == 0)
    throw SpecError(space ? where(path, space) : SourceLocation{path, 1, 1},
                    "space: must map spec keys (dotted paths, such as train.batch_size or layers.0.units) to domains");
  SearchSpace out;
  out.file = path;
  for (const auto& item : space) out.params.push_back(parse_domain(path, item.first.Scalar(), item.second));
  return out;
}

Assignment sample_assignment(const SearchSpace& space, Rng& rng) {
  Assignment out;
  for (const auto& d : space.params) sample_into(d, rng, out);
  return out;
}

namespace {

double values_in(const ParamDomain& d, int points);

double combinations(const std::vector<ParamDomain>& domains, int points) {
  double n = 1;
  for (const auto& d : domains) n *= values_in(d, points);
  return n;
}

double values_in(const ParamDomain& d, int points) {
  switch (d.kind) {
    case ParamDomain::Kind::kChoice: {
      double n = 0;
      for (const auto& option : d.options) n += combinations(option.branch, points);
      return n;
    }
    case ParamDomain::Kind::kUniform:
    case ParamDomain::Kind::kLogUniform: return std::max(points, 1);
    case ParamDomain::Kind::kIntUniform: return std::min(d.high - d.low + 1, static_cast<double>(std::max(points, 1)));
  }
  return 1;
}

}  // namespace

double grid_size(const SearchSpace& space, int points) { return combinations(space.params, points); }

std::vector<Assignment> grid_assignments(const SearchSpace& space, int points, double limit) {
  const double size = grid_size(space, points);
  if (size > limit) {
    char figure[32];
    std::snprintf(figure, sizeof figure, "%.4g", size);
    throw SpecError(SourceLocation{space.file, 0, 0}, "the grid over this space has " + std::string(figure) +
                                                          " configurations, more than the " + format_real(limit) +
                                                          " a study runs; use fewer grid points, or random search");
  }
  return product(space.params, points);
}

std::string assignment_text(const Assignment& assignment) {
  std::string out;
  for (const auto& [path, value] : assignment) out += (out.empty() ? "" : ", ") + path + "=" + value;
  return out;
}

std::vector<std::string> assignment_sets(const Assignment& assignment) {
  std::vector<std::string> resets, rest;
  for (const auto& [path, value] : assignment) {
    const std::string suffix = ".type";
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      resets.push_back(path.substr(0, path.size() - suffix.size()) + "={type: " + value + "}");
    else
      rest.push_back(path + "=" + value);
  }
  resets.insert(resets.end(), rest.begin(), rest.end());
  return resets;
}

}  // namespace anneal
