#include "tools/cli/text_table.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace kappa::tools {

TextTable::TextTable(std::vector<Column> columns, std::string indent)
    : columns_(std::move(columns)), indent_(std::move(indent)) {
  for (const Column& c : columns_) widths_.push_back(c.name.size());
}

void TextTable::AddRow(std::vector<std::string> cells) {
  KAPPA_DCHECK(cells.size() == columns_.size(), "TextTable::AddRow: one cell per column");
  held_.push_back(std::move(cells));
}

void TextTable::Flush(std::string* out) {
  for (const std::vector<std::string>& cells : held_) {
    for (std::size_t i = 0; i < cells.size(); ++i)
      widths_[i] = std::max(widths_[i], cells[i].size());
  }
  if (!header_written_) {
    std::vector<std::string> names;
    for (const Column& c : columns_) names.push_back(c.name);
    AppendLine(names, out);
    header_written_ = true;
  }
  for (const std::vector<std::string>& cells : held_) AppendLine(cells, out);
  held_.clear();
}

void TextTable::AppendLine(const std::vector<std::string>& cells, std::string* out) const {
  out->append(indent_);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out->append("  ");
    const std::size_t pad = widths_[i] > cells[i].size() ? widths_[i] - cells[i].size() : 0;
    const bool right = columns_[i].align == Align::kRight;
    if (right) out->append(pad, ' ');
    out->append(cells[i]);
    if (!right && i + 1 < cells.size()) out->append(pad, ' ');
  }
  out->push_back('\n');
}

}  // namespace kappa::tools
