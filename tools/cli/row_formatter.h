// RowFormatter: prints rows read from a view (serving::RowView) as an aligned table or as JSON
// lines, the row formats of "kappa view get|scan|top|watch".
//
// Columns, in order: the row's position (top-K "rank", 1 = best; list "index", the row's index
// in the list), the key under the view's key name, "window_start" (windowed), each value field
// under its schema name, and "offset" (the log offset of the entry's last update). The fixed
// names ("rank", "index", "window_start", "offset") always mean what they say: a key or field
// whose name is already taken gets '_' appended until it is unique.
//
// JSON lines: one object per row with those members in that order. Keys and i64/u64 fields are
// JSON integers, bytes keys and string fields JSON strings, f64 fields JSON numbers that read
// back exactly (always with a '.' or an exponent; NaN and infinities are null), window_start and
// offset integers. For example:
//   {"rank":1,"user":42,"score":17.5,"name":"bob","offset":1234}
//
// Table (a TextTable): a header line, then one line per row; numbers right-aligned, text
// left-aligned. Text is escaped as by AppendEscapedText; a window start is shown as its UTC time.
// Rows are held back kTableBlockRows at a time to size the columns.
//
// Thread safety: none; one formatter per output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "serving/format.h"
#include "serving/schema.h"
#include "serving/view_reader.h"
#include "tools/cli/text_table.h"

namespace kappa::tools {

enum class RowFormat { kTable, kJsonLines };

// Field `field` of `value` (a record of schema's value size): as JSON (numbers, or a string),
// and as text for a table or a text line.
void AppendFieldJson(const serving::Schema& schema, std::span<const std::byte> value,
                     std::size_t field, std::string* out);
std::string FieldText(const serving::Schema& schema, std::span<const std::byte> value,
                      std::size_t field);

// What the first column of a row says about its place in the view.
enum class RowPosition {
  kNone,   // keyed and windowed views
  kRank,   // top-K: RowView::index + 1
  kIndex,  // list: RowView::index
};

// The parts of a view's description that decide its rows' columns.
struct RowShape {
  serving::ViewKind kind = serving::ViewKind::kKeyed;
  serving::KeyType key_type = serving::KeyType::kNone;
  std::string key_name;
  serving::Schema schema;

  static RowShape Of(const serving::ViewInfo& info);
};

// The position a view's rows carry in the row formats: rank for top-K, index for lists.
RowPosition PositionOf(serving::ViewKind kind);

class RowFormatter {
 public:
  static constexpr std::size_t kTableBlockRows = 1000;

  RowFormatter(const RowShape& shape, RowFormat format, RowPosition position);

  // Appends `row` to *out (JSON lines), or holds it back and appends a block of rows once
  // kTableBlockRows are held (table). REQUIRES: row.value has the shape's value size.
  void Add(const serving::RowView& row, std::string* out);
  // Table: appends the rows held back, after the header if it has not been written yet (so a
  // table without rows is its header alone). JSON lines: nothing.
  void Flush(std::string* out);

  // Appends `row` as one JSON object, without a newline.
  void AppendJson(const serving::RowView& row, std::string* out) const;

 private:
  std::vector<std::string> TableCells(const serving::RowView& row) const;
  void AppendKeyJson(const serving::RowView& row, std::string* out) const;
  void AppendFieldJson(const serving::RowView& row, std::size_t field, std::string* out) const;
  std::string FieldText(const serving::RowView& row, std::size_t field) const;

  RowShape shape_;
  RowFormat format_;
  RowPosition position_;
  bool windowed_ = false;
  bool keyed_ = false;
  // The columns in display order: position, key, window_start, fields, offset. Also holds back
  // the rows of a table.
  TextTable table_;
};

}  // namespace kappa::tools
