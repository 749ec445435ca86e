// ARFF (Weka's format): a header of @relation and @attribute lines, then @data rows. Numeric
// attributes (numeric, real, integer) are numbers; nominal ones ({a, b, 'c d'}) are categorical
// with their declared values in order; string attributes are categorical over the values seen.
// '%' starts a comment line, '?' is a missing value, names and values may be quoted. Sparse rows
// ({index value, ...}), date and relational attributes are refused by name.
#include <algorithm>
#include <cctype>

#include "anneal/errors.hpp"
#include "table.hpp"

namespace anneal::readers {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t skip_blanks(const std::string& s, size_t at) {
  while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\r')) ++at;
  return at;
}

// A word or a quoted string starting at `at`; `at` moves past it.
std::string token(const std::string& line, size_t& at, const SourceLocation& where) {
  at = skip_blanks(line, at);
  std::string out;
  if (at < line.size() && (line[at] == '\'' || line[at] == '"')) {
    const char quote = line[at++];
    while (at < line.size() && line[at] != quote) {
      if (line[at] == '\\' && at + 1 < line.size()) ++at;
      out += line[at++];
    }
    if (at >= line.size()) throw DataError(format_error(where, "unterminated quote"));
    ++at;
    return out;
  }
  while (at < line.size() && line[at] != ' ' && line[at] != '\t' && line[at] != '\r' && line[at] != '{') out += line[at++];
  return out;
}

TableColumn parse_attribute(const std::string& line, const SourceLocation& where) {
  size_t at = 10;  // after "@attribute"
  TableColumn column;
  column.name = token(line, at, where);
  if (column.name.empty()) throw DataError(format_error(where, "@attribute needs a name and a type"));
  at = skip_blanks(line, at);
  if (at < line.size() && line[at] == '{') {
    const size_t close = line.rfind('}');
    if (close == std::string::npos || close < at)
      throw DataError(format_error(where, "nominal attribute '" + column.name + "': missing '}'"));
    try {
      for (auto& cell : split_cells(line.substr(at + 1, close - at - 1), ',', "'\"")) {
        if (cell.text.empty() && !cell.quoted) continue;
        column.declared.push_back(cell.text);
      }
    } catch (const CellSyntax& e) {
      throw DataError(format_error({where.file, where.line, static_cast<int>(at) + 1 + e.column}, e.what));
    }
    if (column.declared.empty()) throw DataError(format_error(where, "nominal attribute '" + column.name + "' declares no values"));
    column.nominal = true;
    return column;
  }
  const std::string type = lower(token(line, at, where));
  if (type == "numeric" || type == "real" || type == "integer") return column;
  if (type == "string") {
    column.nominal = true;  // categories come from the values seen
    return column;
  }
  if (type == "date" || type == "relational")
    throw DataError(format_error(where, "attribute '" + column.name + "' is of type " + type +
                                            ", which Anneal does not read (numeric, nominal and string attributes are supported)"));
  throw DataError(format_error(where, "attribute '" + column.name + "' has an unknown type '" + type +
                                          "' (expected numeric, real, integer, string or {nominal, values})"));
}

}  // namespace

Table read_arff_table(const DataSpec& spec, int64_t max_rows) {
  LineSource lines(spec.path, spec.path_location);
  Table table;
  table.source = spec.path;
  std::string line;
  bool in_data = false, relation = false;
  while ((max_rows < 0 || static_cast<int64_t>(table.rows.size()) < max_rows) && lines.next(line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '%') continue;
    const SourceLocation where{spec.path, lines.line_number(), static_cast<int>(first) + 1};
    if (!in_data) {
      const std::string rest = line.substr(first);
      const std::string keyword = lower(rest.substr(0, rest.find_first_of(" \t\r")));
      if (keyword == "@relation") {
        relation = true;
      } else if (keyword == "@attribute") {
        table.columns.push_back(parse_attribute(rest, where));
      } else if (keyword == "@data") {
        if (table.columns.empty()) throw DataError(format_error(where, "@data before any @attribute"));
        in_data = true;
      } else {
        throw DataError(format_error(where, "expected @relation, @attribute or @data, got '" + rest.substr(0, 40) + "'"));
      }
      continue;
    }
    if (line[first] == '{')
      throw DataError(format_error(where, "sparse ARFF rows ({index value, ...}) are not supported; write the rows in full"));
    std::vector<Cell> cells;
    try {
      cells = split_cells(line, ',', "'\"");
    } catch (const CellSyntax& e) {
      throw DataError(format_error({spec.path, lines.line_number(), e.column}, e.what));
    }
    if (cells.size() != table.columns.size())
      throw DataError(format_error({spec.path, lines.line_number(), 0}, "expected " + std::to_string(table.columns.size()) +
                                                                            " values (one per @attribute), got " + std::to_string(cells.size())));
    table.rows.push_back(std::move(cells));
    table.lines.push_back(lines.line_number());
  }
  if (!relation && table.columns.empty())
    throw DataError(format_error({spec.path, 0, 0}, "is not an ARFF file (no @relation or @attribute lines)"));
  if (!in_data) throw DataError(format_error({spec.path, 0, 0}, "has no @data section"));
  return table;
}

}  // namespace anneal::readers
