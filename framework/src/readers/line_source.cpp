// Text lines from a plain or gzip'd file. zlib's gzread also passes plain files through, but the
// suffix decides, so a plain file named .gz is reported rather than read as text by accident.
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "anneal/errors.hpp"
#include "anneal/file_checks.hpp"
#include "table.hpp"

namespace anneal::readers {

struct LineSource::Impl {
  gzFile gz = nullptr;
  std::ifstream plain;
  std::string pending;  // decompressed bytes not yet returned
  bool eof = false;
};

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

LineSource::LineSource(const std::string& path, const SourceLocation& named_at) : impl_(std::make_unique<Impl>()), path_(path) {
  if (const auto problem = regular_file_problem(path); !problem.empty())
    throw SpecError(named_at, "data file '" + path + "' " + problem);
  // The first two bytes tell a gzip file (1f 8b) from text, whatever its name says.
  unsigned char magic[2] = {0, 0};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    const size_t got = std::fread(magic, 1, 2, f);
    std::fclose(f);
    const bool gzip_bytes = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (gzip_bytes && !ends_with(path, ".gz"))
      throw DataError(format_error({path, 0, 0}, "is gzip-compressed: name it with a .gz suffix, or gunzip it"));
    if (!gzip_bytes && ends_with(path, ".gz"))
      throw DataError(format_error({path, 0, 0}, "ends in .gz but is not gzip-compressed"));
  } else {
    throw SpecError(named_at, "data file '" + path + "' cannot be opened");
  }
  if (ends_with(path, ".gz")) {
    impl_->gz = gzopen(path.c_str(), "rb");
    if (!impl_->gz) throw SpecError(named_at, "data file '" + path + "' cannot be opened");
  } else {
    impl_->plain.open(path, std::ios::binary);
    if (!impl_->plain) throw SpecError(named_at, "data file '" + path + "' cannot be opened");
  }
}

LineSource::~LineSource() {
  if (impl_->gz) gzclose(impl_->gz);
}

bool LineSource::next(std::string& line) {
  line.clear();
  if (!impl_->gz) {
    if (!std::getline(impl_->plain, line)) return false;
    ++line_;
    if (line.size() > kMaxLine) throw DataError(format_error({path_, line_, 0}, "line longer than 64 MiB: not a text table"));
    return true;
  }
  for (;;) {
    const size_t newline = impl_->pending.find('\n');
    if (newline != std::string::npos) {
      line.assign(impl_->pending, 0, newline);
      impl_->pending.erase(0, newline + 1);
      ++line_;
      return true;
    }
    if (impl_->pending.size() > kMaxLine)
      throw DataError(format_error({path_, line_ + 1, 0}, "line longer than 64 MiB: not a text table"));
    if (impl_->eof) {
      if (impl_->pending.empty()) return false;
      line.swap(impl_->pending);
      impl_->pending.clear();
      ++line_;
      return true;
    }
    char buffer[1 << 16];
    const int got = gzread(impl_->gz, buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      throw DataError(format_error({path_, line_ + 1, 0}, std::string("gzip data is corrupt: ") + gzerror(impl_->gz, &code)));
    }
    if (got == 0) {
      int code = 0;
      gzerror(impl_->gz, &code);
      if (code != Z_OK)
        throw DataError(format_error({path_, line_ + 1, 0}, "gzip data is corrupt or truncated"));
      impl_->eof = true;
    }
    impl_->pending.append(buffer, static_cast<size_t>(got));
  }
}

std::vector<Cell> split_cells(const std::string& line, char delimiter, const std::string& quotes) {
  std::vector<Cell> cells;
  size_t at = 0;
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  for (;;) {
    while (at < line.size() && blank(line[at])) ++at;
    Cell cell;
    cell.column = static_cast<int>(at) + 1;
    if (at < line.size() && quotes.find(line[at]) != std::string::npos) {
      const char quote = line[at++];
      cell.quoted = true;
      while (at < line.size() && line[at] != quote) {
        if (line[at] == '\\' && at + 1 < line.size()) ++at;
        cell.text += line[at++];
      }
      if (at >= line.size()) throw CellSyntax{cell.column, "unterminated quote"};
      ++at;
      while (at < line.size() && blank(line[at])) ++at;
      if (at < line.size() && line[at] != delimiter)
        throw CellSyntax{static_cast<int>(at) + 1, "expected '" + std::string(1, delimiter) + "' after a quoted value"};
    } else {
      const size_t end = line.find(delimiter, at);
      cell.text = line.substr(at, end == std::string::npos ? std::string::npos : end - at);
      while (!cell.text.empty() && blank(cell.text.back())) cell.text.pop_back();
      at = end == std::string::npos ? line.size() : end;
    }
    cells.push_back(std::move(cell));
    if (cells.size() > kMaxColumns)
      throw CellSyntax{cells.back().column, "more than " + std::to_string(kMaxColumns) + " columns in one row: not a table Anneal reads"};
    if (at >= line.size()) break;
    ++at;  // the delimiter
  }
  return cells;
}

}  // namespace anneal::readers
