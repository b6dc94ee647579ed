#include "tools/cli/row_formatter.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "tools/cli/text.h"

namespace kappa::tools {

namespace {

using serving::FieldType;
using serving::KeyType;
using serving::RowView;
using serving::ViewKind;

std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::string EscapedText(std::string_view text) {
  std::string out;
  AppendEscapedText(AsBytes(text), &out);
  return out;
}

// The columns of rows of `shape`. The fixed names are claimed first, so that they always mean the
// same thing; a key or field whose name is taken gets '_' appended until it is unique.
std::vector<TextTable::Column> RowColumns(const RowShape& shape, RowPosition position) {
  using Align = TextTable::Align;
  const char* position_name = position == RowPosition::kRank    ? "rank"
                              : position == RowPosition::kIndex ? "index"
                                                                : nullptr;
  const bool windowed = shape.kind == ViewKind::kWindowed;
  std::vector<std::string> taken = {"offset"};
  if (position_name) taken.emplace_back(position_name);
  if (windowed) taken.emplace_back("window_start");
  auto unique = [&taken](std::string name) {
    while (std::find(taken.begin(), taken.end(), name) != taken.end()) name += '_';
    taken.push_back(name);
    return name;
  };
  std::vector<TextTable::Column> columns;
  if (position_name) columns.push_back({position_name, Align::kRight});
  if (shape.key_type != KeyType::kNone) {
    columns.push_back({unique(shape.key_name.empty() ? "key" : shape.key_name),
                       shape.key_type == KeyType::kU64 ? Align::kRight : Align::kLeft});
  }
  if (windowed) columns.push_back({"window_start", Align::kLeft});  // shown as a UTC time
  for (const serving::Field& f : shape.schema.fields())
    columns.push_back(
        {unique(f.name), f.type == FieldType::kString ? Align::kLeft : Align::kRight});
  columns.push_back({"offset", Align::kRight});
  return columns;
}

}  // namespace

RowShape RowShape::Of(const serving::ViewInfo& info) {
  return RowShape{info.kind, info.key_type, info.key_name, info.schema};
}

RowPosition PositionOf(ViewKind kind) {
  switch (kind) {
    case ViewKind::kTopK:
      return RowPosition::kRank;
    case ViewKind::kList:
      return RowPosition::kIndex;
    default:
      return RowPosition::kNone;
  }
}

RowFormatter::RowFormatter(const RowShape& shape, RowFormat format, RowPosition position)
    : shape_(shape),
      format_(format),
      position_(position),
      windowed_(shape.kind == ViewKind::kWindowed),
      keyed_(shape.key_type != KeyType::kNone),
      table_(RowColumns(shape, position)) {}

void RowFormatter::Add(const RowView& row, std::string* out) {
  if (format_ == RowFormat::kJsonLines) {
    AppendJson(row, out);
    out->push_back('\n');
    return;
  }
  table_.AddRow(TableCells(row));
  if (table_.held() >= kTableBlockRows) table_.Flush(out);
}

void RowFormatter::Flush(std::string* out) {
  if (format_ == RowFormat::kTable) table_.Flush(out);
}

std::vector<std::string> RowFormatter::TableCells(const RowView& row) const {
  std::vector<std::string> cells;
  cells.reserve(table_.columns().size());
  if (position_ == RowPosition::kRank) cells.push_back(std::to_string(row.index + 1));
  if (position_ == RowPosition::kIndex) cells.push_back(std::to_string(row.index));
  if (keyed_) {
    cells.push_back(shape_.key_type == KeyType::kU64 ? std::to_string(row.key_u64)
                                                     : EscapedText(row.key_bytes));
  }
  if (windowed_) cells.push_back(FormatUtcTime(row.window_start));
  for (std::size_t i = 0; i < shape_.schema.size(); ++i) cells.push_back(FieldText(row, i));
  cells.push_back(std::to_string(row.offset));
  return cells;
}

std::string RowFormatter::FieldText(const RowView& row, std::size_t field) const {
  return tools::FieldText(shape_.schema, row.value, field);
}

void RowFormatter::AppendJson(const RowView& row, std::string* out) const {
  std::size_t column = 0;
  auto member = [&] {
    out->append(column == 0 ? "{" : ",");
    AppendJsonString(table_.columns()[column++].name, out);
    out->push_back(':');
  };
  if (position_ != RowPosition::kNone) {
    member();
    out->append(std::to_string(position_ == RowPosition::kRank ? row.index + 1 : row.index));
  }
  if (keyed_) {
    member();
    AppendKeyJson(row, out);
  }
  if (windowed_) {
    member();
    out->append(std::to_string(row.window_start));
  }
  for (std::size_t i = 0; i < shape_.schema.size(); ++i) {
    member();
    AppendFieldJson(row, i, out);
  }
  member();
  out->append(std::to_string(row.offset));
  out->push_back('}');
}

void RowFormatter::AppendKeyJson(const RowView& row, std::string* out) const {
  if (shape_.key_type == KeyType::kU64) {
    out->append(std::to_string(row.key_u64));
  } else {
    AppendJsonString(AsBytes(row.key_bytes), out);
  }
}

void RowFormatter::AppendFieldJson(const RowView& row, std::size_t field, std::string* out) const {
  tools::AppendFieldJson(shape_.schema, row.value, field, out);
}

std::string FieldText(const serving::Schema& s, std::span<const std::byte> value,
                      std::size_t field) {
  switch (s.field(field).type) {
    case FieldType::kI64:
      return std::to_string(s.GetI64(value, field));
    case FieldType::kU64:
      return std::to_string(s.GetU64(value, field));
    case FieldType::kF64:
      return FormatDouble(s.GetF64(value, field));
    case FieldType::kString:
      return EscapedText(s.GetString(value, field));
  }
  return "?";
}

void AppendFieldJson(const serving::Schema& s, std::span<const std::byte> value, std::size_t field,
                     std::string* out) {
  switch (s.field(field).type) {
    case FieldType::kI64:
      out->append(std::to_string(s.GetI64(value, field)));
      return;
    case FieldType::kU64:
      out->append(std::to_string(s.GetU64(value, field)));
      return;
    case FieldType::kF64:
      AppendJsonDouble(s.GetF64(value, field), out);
      return;
    case FieldType::kString:
      AppendJsonString(AsBytes(s.GetString(value, field)), out);
      return;
  }
  out->append("null");
}

}  // namespace kappa::tools
