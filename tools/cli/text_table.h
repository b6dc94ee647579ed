// TextTable: columns of text aligned for people: a header line of column names, then the rows;
// columns two spaces apart, each left- or right-aligned (numbers read best right-aligned), no
// trailing spaces.
//
// Rows are held back until Flush(), which sizes each column to the widest cell it has seen so
// far: a caller printing a long table flushes every few hundred rows to bound its memory, and a
// wider value that comes later widens its column from then on.
//
// Thread safety: none.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace kappa::tools {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string name;
    Align align = Align::kLeft;
  };

  // Every line starts with `indent`.
  explicit TextTable(std::vector<Column> columns, std::string indent = "");

  const std::vector<Column>& columns() const { return columns_; }
  std::size_t held() const { return held_.size(); }

  // REQUIRES: one cell per column, each without a newline.
  void AddRow(std::vector<std::string> cells);
  // Appends the rows held back, after the header the first time (so a table without rows is
  // its header alone).
  void Flush(std::string* out);

 private:
  void AppendLine(const std::vector<std::string>& cells, std::string* out) const;

  std::vector<Column> columns_;
  std::string indent_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<std::string>> held_;
  bool header_written_ = false;
};

}  // namespace kappa::tools
