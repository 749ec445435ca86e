// CSV: skip_rows raw lines, then an optional header, then rows of the same width. Double quotes
// protect delimiters inside a cell; blank lines are ignored.
#include "anneal/errors.hpp"
#include "table.hpp"

namespace anneal::readers {

Table read_csv_table(const DataSpec& spec, int64_t max_rows) {
  LineSource lines(spec.path, spec.path_location);
  Table table;
  table.source = spec.path;
  std::string line;
  for (int64_t skipped = 0; skipped < spec.skip_rows && lines.next(line); ++skipped) {
  }
  bool named = !spec.header;
  size_t width = 0;
  while ((max_rows < 0 || static_cast<int64_t>(table.rows.size()) < max_rows) && lines.next(line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<Cell> cells;
    try {
      cells = split_cells(line, spec.delimiter, "\"");
    } catch (const CellSyntax& e) {
      throw DataError(format_error({spec.path, lines.line_number(), e.column}, e.what));
    }
    if (width == 0) width = cells.size();
    if (cells.size() != width) {
      std::string hint;
      if (table.rows.empty() && !named) hint = " (the header)";
      else if (table.rows.size() <= 1 && !spec.header && spec.skip_rows == 0)
        hint = "; if the file starts with a line that is not data, skip it with skip_rows: 1";
      throw DataError(format_error({spec.path, lines.line_number(), 0},
                                   "expected " + std::to_string(width) + " columns" + (table.rows.empty() ? "" : " (as line " + std::to_string(table.lines.front()) + ")") +
                                       ", got " + std::to_string(cells.size()) + hint));
    }
    if (!named) {
      for (auto& c : cells) table.columns.push_back({c.text, false, {}});
      named = true;
      continue;
    }
    table.rows.push_back(std::move(cells));
    table.lines.push_back(lines.line_number());
  }
  if (table.columns.empty()) table.columns.resize(width);
  return table;
}

}  // namespace anneal::readers
