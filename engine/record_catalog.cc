#include "engine/record_catalog.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

#include "base/files.h"
#include "memlog/log.h"

namespace kappa::engine {
namespace {

using serving::Field;
using serving::FieldType;
using serving::Result;
using serving::Schema;
using serving::Status;
using serving::StatusCode;

constexpr char kHeader[] =
    "# kappa record types: <type> <name> <field>:<i64|u64|f64|string<N>>... [<field>:tail]";

Status Malformed(const std::string& source, std::size_t line, const std::string& why) {
  return Status::Error(StatusCode::kCorrupt, source + ":" + std::to_string(line) + ": " + why);
}

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= 31 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string FieldText(const Field& f) {
  switch (f.type) {
    case FieldType::kI64:
      return f.name + ":i64";
    case FieldType::kU64:
      return f.name + ":u64";
    case FieldType::kF64:
      return f.name + ":f64";
    case FieldType::kString:
      return f.name + ":string" + std::to_string(f.size);
  }
  return f.name + ":?";
}

bool SameSchema(const Schema& a, const Schema& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a.field(i).name != b.field(i).name || a.field(i).type != b.field(i).type ||
        a.field(i).size != b.field(i).size)
      return false;
  }
  return true;
}

template <class N>
bool ParseNumber(std::string_view text, N* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

Status WriteAtomically(const std::string& path, const std::string& text) {
  return base::WriteFileAtomically(path, text, memlog::Log::DirectoryUseFor(path));
}

}  // namespace

Result<RecordCatalog> RecordCatalog::Load(const std::string& log_path) {
  const std::string path = PathFor(log_path);
  // Not through a symlink, and only this user's file.
  auto text = base::ReadOwnFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return RecordCatalog();
    return text.status();
  }
  return Parse(*text, path);
}

Result<RecordCatalog> RecordCatalog::Parse(const std::string& text, const std::string& source) {
  RecordCatalog catalog;
  std::istringstream lines(text);
  std::string line;
  for (std::size_t number = 1; std::getline(lines, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string type_text, name, field_text;
    words >> type_text >> name;
    CatalogEntry e;
    if (!ParseNumber(type_text, &e.type))
      return Malformed(source, number, "bad record type '" + type_text + "'");
    if (memlog::IsReservedType(e.type))
      return Malformed(source, number, "record type " + type_text + " is reserved for kappa's own");
    if (!ValidName(name)) return Malformed(source, number, "bad type name '" + name + "'");
    e.name = name;
    std::vector<Field> fields;
    while (words >> field_text) {
      const auto colon = field_text.find(':');
      if (colon == std::string::npos)
        return Malformed(source, number, "field '" + field_text + "' has no type");
      std::string field = field_text.substr(0, colon);
      const std::string_view type = std::string_view(field_text).substr(colon + 1);
      std::uint32_t size = 0;
      if (!e.tail.empty())
        return Malformed(source, number, "field '" + field_text + "' comes after the tail");
      if (type == "tail") {
        if (!Schema::ValidFieldName(field))
          return Malformed(source, number, "bad tail name '" + field + "'");
        e.tail = std::move(field);
      } else if (type == "i64") {
        fields.push_back(Field::I64(std::move(field)));
      } else if (type == "u64") {
        fields.push_back(Field::U64(std::move(field)));
      } else if (type == "f64") {
        fields.push_back(Field::F64(std::move(field)));
      } else if (type.starts_with("string") && ParseNumber(type.substr(6), &size)) {
        fields.push_back(Field::String(std::move(field), size));
      } else {
        return Malformed(source, number, "field '" + field_text + "' has an unknown type");
      }
    }
    auto schema = Schema::Make(std::move(fields));
    if (!schema.ok()) return Malformed(source, number, schema.status().message());
    e.schema = std::move(schema).value();
    if (!e.tail.empty() && e.schema.Find(e.tail) >= 0)
      return Malformed(source, number, "the tail '" + e.tail + "' is also a field's name");
    if (catalog.Find(e.type) != nullptr)
      return Malformed(source, number, "type " + std::to_string(e.type) + " is listed twice");
    catalog.entries_.push_back(std::move(e));
  }
  std::sort(catalog.entries_.begin(), catalog.entries_.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return a.type < b.type; });
  return catalog;
}

std::string RecordCatalog::Text() const {
  std::string text = std::string(kHeader) + "\n";
  for (const CatalogEntry& e : entries_) {
    text += std::to_string(e.type) + " " + e.name;
    for (const Field& f : e.schema.fields()) text += " " + FieldText(f);
    if (!e.tail.empty()) text += " " + e.tail + ":tail";
    text += "\n";
  }
  return text;
}

const CatalogEntry* RecordCatalog::Find(std::uint16_t type) const {
  for (const CatalogEntry& e : entries_) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

Status RecordCatalog::Register(const std::string& log_path, std::uint16_t type,
                               const std::string& name, const Schema& schema,
                               const std::string& tail) {
  if (!ValidName(name))
    return Status::Error(StatusCode::kInvalidArgument, PathFor(log_path) + ": bad type name '" +
                                                           name + "' (1 to 31 of [A-Za-z0-9_])");
  if (memlog::IsReservedType(type))
    return Status::Error(StatusCode::kInvalidArgument,
                         PathFor(log_path) + ": record type " + std::to_string(type) + " (" + name +
                             ") is reserved: application types are 0 to " +
                             std::to_string(memlog::kFirstReservedType - 1));
  auto catalog = Load(log_path);
  if (!catalog.ok()) return catalog.status();
  if (const CatalogEntry* e = catalog->Find(type)) {
    if (e->name == name && SameSchema(e->schema, schema) && e->tail == tail) return Status::Ok();
    return Status::Error(StatusCode::kAlreadyExists, PathFor(log_path) + ": record type " +
                                                         std::to_string(type) + " is already " +
                                                         e->name + ", with other fields");
  }
  if (!tail.empty() && (!Schema::ValidFieldName(tail) || schema.Find(tail) >= 0))
    return Status::Error(StatusCode::kInvalidArgument,
                         PathFor(log_path) + ": bad tail name '" + tail + "' for " + name);
  catalog->entries_.push_back(CatalogEntry{type, name, schema, tail});
  std::sort(catalog->entries_.begin(), catalog->entries_.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return a.type < b.type; });
  return WriteAtomically(PathFor(log_path), catalog->Text());
}

}  // namespace kappa::engine
