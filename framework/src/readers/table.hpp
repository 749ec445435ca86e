#pragma once
// What a reader hands to the decoder: the file's cells as text, with their line and column, and
// what the format declares about each column (ARFF's nominal values). Decoding (numbers, missing
// cells, categories, labels) is the same for every format, in table.cpp.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anneal/data.hpp"

namespace anneal::readers {

struct Cell {
  std::string text;
  int column = 0;  // 1-based character column where the cell starts
  bool quoted = false;
};

struct TableColumn {
  std::string name;                   // "" when the file names none
  bool nominal = false;               // ARFF {a, b, c}: categorical with declared values
  std::vector<std::string> declared;  // the declared values, in order
};

struct Table {
  std::string source;
  std::vector<TableColumn> columns;
  std::vector<std::vector<Cell>> rows;
  std::vector<int> lines;
};

// Lines of a text file, gunzipped when the name ends in .gz. Refuses non-regular files and
// lines longer than kMaxLine (a binary file given as data).
class LineSource {
 public:
  static constexpr size_t kMaxLine = 64 << 20;
  LineSource(const std::string& path, const SourceLocation& named_at);
  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;
  bool next(std::string& line);  // false at the end
  int line_number() const { return line_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  int line_ = 0;
};

// Rows wider than this are refused (a binary file, or a file with no line breaks), before each
// cell costs memory.
inline constexpr size_t kMaxColumns = 1 << 20;

// A line that cannot be split into cells: the character column and what is wrong.
struct CellSyntax {
  int column;
  std::string what;
};
// Splits a line at `delimiter`, trimming blanks; a cell that starts with one of `quotes` runs to
// the matching quote (delimiters inside are text; backslash escapes). Throws CellSyntax.
std::vector<Cell> split_cells(const std::string& line, char delimiter, const std::string& quotes);

// The whole file, or with `max_rows` >= 0 the header and at most that many data rows.
Table read_csv_table(const DataSpec& spec, int64_t max_rows = -1);
Table read_arff_table(const DataSpec& spec, int64_t max_rows = -1);
Dataset decode_table(Table table, const DataSpec& spec);

}  // namespace anneal::readers
