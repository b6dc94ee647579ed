#include "ingest/csv_encoder.h"

#include <cstring>

#include "base/check.h"

namespace kappa::ingest {

CsvEncoder::CsvEncoder(const engine::CatalogEntry& entry, Options options)
    : builder_(entry), options_(options) {
  KAPPA_DCHECK(options.delimiter != '"' && options.delimiter != '\r' && options.delimiter != '\n',
               "CsvEncoder: a delimiter that is not a quote or a line end");
  if (!options_.header) {
    for (std::size_t i = 0; i < builder_.field_count(); ++i)
      column_field_.push_back(static_cast<int>(i));
    if (!entry.tail.empty()) column_field_.push_back(static_cast<int>(builder_.field_count()));
    has_columns_ = true;
  }
}

std::size_t CsvEncoder::RecordLength(std::string_view input, bool at_end, std::size_t* lines) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
  *lines = 0;
  bool quoted = false;
  while (p < end) {
    const auto* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* const stop = newline ? newline : end;
    // Quotes before the line end decide whether it ends the record.
    for (const char* q = p; (q = static_cast<const char*>(std::memchr(q, '"', stop - q)));)
      quoted = !quoted, ++q;
    if (newline == nullptr) break;
    ++*lines;
    p = newline + 1;
    if (!quoted) return static_cast<std::size_t>(p - begin);
  }
  *lines = 0;
  return at_end ? input.size() : 0;
}

bool CsvEncoder::SplitCells(std::string_view record, std::string* error) {
  if (!record.empty() && record.back() == '\n') record.remove_suffix(1);
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  cells_.clear();
  quoted_cells_ = 0;
  quoted_.clear();
  const char delimiter = options_.delimiter;
  if (std::memchr(record.data(), '"', record.size()) == nullptr) {  // the usual case: no quotes
    for (std::size_t i = 0;;) {
      const void* next = std::memchr(record.data() + i, delimiter, record.size() - i);
      const std::size_t end =
          next ? static_cast<std::size_t>(static_cast<const char*>(next) - record.data())
               : record.size();
      cells_.push_back(record.substr(i, end - i));
      if (next == nullptr) return true;
      i = end + 1;
    }
  }
  std::size_t i = 0;
  for (;;) {
    if (i < record.size() && record[i] == '"') {
      if (quoted_cells_ == unquoted_.size()) unquoted_.emplace_back();
      std::string& text = unquoted_[quoted_cells_];
      text.clear();
      ++i;
      for (;;) {
        const std::size_t close = record.find('"', i);
        if (close == std::string_view::npos) {
          *error = "cell " + std::to_string(cells_.size() + 1) + ": a quote is not closed";
          return false;
        }
        text.append(record.substr(i, close - i));
        i = close + 1;
        if (i < record.size() && record[i] == '"') {  // "" is one quote
          text += '"';
          ++i;
          continue;
        }
        break;
      }
      if (i < record.size() && record[i] != delimiter) {
        *error = "cell " + std::to_string(cells_.size() + 1) +
                 ": text after the closing quote (a quote inside a cell is written \"\")";
        return false;
      }
      quoted_.emplace_back(cells_.size(), quoted_cells_++);
      cells_.emplace_back();
    } else {
      std::size_t next = record.find(delimiter, i);
      if (next == std::string_view::npos) next = record.size();
      const std::string_view cell = record.substr(i, next - i);
      if (cell.find('"') != std::string_view::npos) {
        *error = "cell " + std::to_string(cells_.size() + 1) +
                 ": a quote inside an unquoted cell (quote the cell and write the quote as \"\")";
        return false;
      }
      cells_.push_back(cell);
      i = next;
    }
    if (i >= record.size()) break;
    ++i;                       // the delimiter
    if (i == record.size()) {  // a last, empty cell
      cells_.emplace_back();
      break;
    }
  }
  for (const auto& [cell, text] : quoted_) cells_[cell] = unquoted_[text];
  return true;
}

bool CsvEncoder::ReadHeader(std::string* error) {
  column_field_.assign(cells_.size(), -1);
  std::vector<bool> seen(builder_.field_count() + 1, false);
  for (std::size_t c = 0; c < cells_.size(); ++c) {
    const int field = builder_.Find(cells_[c]);
    if (field < 0) continue;
    if (seen[field]) {
      *error = "the header names '" + std::string(cells_[c]) + "' twice";
      return false;
    }
    seen[field] = true;
    column_field_[c] = field;
  }
  for (std::size_t i = 0; i < builder_.field_count(); ++i) {
    if (!seen[i]) {
      *error = "no column '" + builder_.Name(i) + "' (a field of " + builder_.entry().name + ")";
      return false;
    }
  }
  has_columns_ = true;
  return true;
}

CsvEncoder::Outcome CsvEncoder::Encode(std::string_view record, std::string* out,
                                       std::string* error) {
  if (!SplitCells(record, error)) return Outcome::kBad;
  if (!has_columns_) return ReadHeader(error) ? Outcome::kHeader : Outcome::kBad;
  if (cells_.size() > column_field_.size()) {
    *error = std::to_string(cells_.size()) + " cells where " +
             (options_.header ? "the header has " : builder_.entry().name + " has ") +
             std::to_string(column_field_.size()) + " columns";
    return Outcome::kBad;
  }
  builder_.Begin(out);
  const std::size_t fields = builder_.field_count();
  for (std::size_t c = 0; c < cells_.size(); ++c) {
    const int field = column_field_[c];
    if (field < 0) continue;
    const auto i = static_cast<std::size_t>(field);
    const bool ok =
        i == fields ? builder_.SetTail(cells_[c], error) : builder_.SetText(i, cells_[c], error);
    if (!ok) {
      builder_.Cancel();
      return Outcome::kBad;
    }
  }
  return builder_.Finish(error) ? Outcome::kRecord : Outcome::kBad;
}

}  // namespace kappa::ingest
