// Schema: the named, typed fields of a view's value record, and typed access to a record.
//
// A value record is value_size() bytes: each field at its offset, numbers as 8-byte
// little-endian words, strings NUL-padded to their declared length rounded up to 8. Views store
// the schema in their header, so readers in any process or language decode values without the
// writer's C++ types.
//
// Header-only (used by the header-only reader).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving {

struct Field {
  std::string name;
  FieldType type = FieldType::kI64;
  std::uint32_t size = 8;    // strings: the longest value in bytes; numbers: 8
  std::uint32_t offset = 0;  // set by Schema::Make

  static Field I64(std::string name) { return {std::move(name), FieldType::kI64, 8, 0}; }
  static Field U64(std::string name) { return {std::move(name), FieldType::kU64, 8, 0}; }
  static Field F64(std::string name) { return {std::move(name), FieldType::kF64, 8, 0}; }
  static Field String(std::string name, std::uint32_t length) {
    return {std::move(name), FieldType::kString, length, 0};
  }
};

inline const char* FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kI64:
      return "i64";
    case FieldType::kU64:
      return "u64";
    case FieldType::kF64:
      return "f64";
    case FieldType::kString:
      return "string";
  }
  return "unknown";
}

class Schema {
 public:
  Schema() = default;

  // Lays the fields out in order. Names: 1 to 31 characters of [A-Za-z0-9_], unique.
  static Result<Schema> Make(std::vector<Field> fields) {
    if (fields.empty()) return Invalid("a schema needs at least one field");
    if (fields.size() > kMaxFields)
      return Invalid("a schema holds at most " + std::to_string(kMaxFields) + " fields, not " +
                     std::to_string(fields.size()));
    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      Field& f = fields[i];
      if (!ValidFieldName(f.name))
        return Invalid("bad field name '" + f.name + "': use 1 to 31 of A-Z a-z 0-9 _");
      for (std::size_t j = 0; j < i; ++j) {
        if (fields[j].name == f.name) return Invalid("field '" + f.name + "' appears twice");
      }
      switch (f.type) {
        case FieldType::kI64:
        case FieldType::kU64:
        case FieldType::kF64:
          f.size = 8;
          break;
        case FieldType::kString:
          if (f.size == 0 || f.size > kMaxStringField)
            return Invalid("string field '" + f.name + "' must hold 1 to " +
                           std::to_string(kMaxStringField) + " bytes");
          break;
        default:
          return Invalid("field '" + f.name + "' has an unknown type");
      }
      f.offset = static_cast<std::uint32_t>(offset);
      offset += Align8(f.size);
    }
    if (offset > kMaxValueSize)
      return Invalid("value record of " + std::to_string(offset) + " bytes exceeds " +
                     std::to_string(kMaxValueSize));
    Schema s;
    s.fields_ = std::move(fields);
    s.value_size_ = static_cast<std::uint32_t>(offset);
    return s;
  }

  const std::vector<Field>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }
  const Field& field(std::size_t i) const { return fields_[i]; }
  std::uint32_t value_size() const { return value_size_; }
  // Index of the field called `name`, or -1.
  int Find(std::string_view name) const {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  // Typed access to a record of value_size() bytes. REQUIRES: field i has the matching type.
  std::int64_t GetI64(std::span<const std::byte> value, std::size_t i) const {
    return Get<std::int64_t>(value, i);
  }
  std::uint64_t GetU64(std::span<const std::byte> value, std::size_t i) const {
    return Get<std::uint64_t>(value, i);
  }
  double GetF64(std::span<const std::byte> value, std::size_t i) const {
    return Get<double>(value, i);
  }
  std::string_view GetString(std::span<const std::byte> value, std::size_t i) const {
    const Field& f = fields_[i];
    const char* p = reinterpret_cast<const char*>(value.data() + f.offset);
    return std::string_view(p, ::strnlen(p, f.size));
  }
  // A number of any numeric type, as a double (for ordering and display).
  double GetNumber(std::span<const std::byte> value, std::size_t i) const {
    switch (fields_[i].type) {
      case FieldType::kI64:
        return static_cast<double>(GetI64(value, i));
      case FieldType::kU64:
        return static_cast<double>(GetU64(value, i));
      case FieldType::kF64:
        return GetF64(value, i);
      default:
        return 0;
    }
  }
  void SetI64(std::span<std::byte> value, std::size_t i, std::int64_t v) const { Set(value, i, v); }
  void SetU64(std::span<std::byte> value, std::size_t i, std::uint64_t v) const {
    Set(value, i, v);
  }
  void SetF64(std::span<std::byte> value, std::size_t i, double v) const { Set(value, i, v); }
  // Truncates to the field's length.
  void SetString(std::span<std::byte> value, std::size_t i, std::string_view v) const {
    const Field& f = fields_[i];
    std::byte* p = value.data() + f.offset;
    std::memset(p, 0, Align8(f.size));
    std::memcpy(p, v.data(), std::min<std::size_t>(v.size(), f.size));
  }

  static bool ValidFieldName(std::string_view name) {
    if (name.empty() || name.size() > kMaxFieldName) return false;
    for (char c : name) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      if (!ok) return false;
    }
    return true;
  }

 private:
  static Status Invalid(std::string what) {
    return Status::Error(StatusCode::kInvalidArgument, "schema: " + std::move(what));
  }
  template <class T>
  T Get(std::span<const std::byte> value, std::size_t i) const {
    KAPPA_DCHECK(i < fields_.size() && fields_[i].size == sizeof(T) &&
                     fields_[i].type != FieldType::kString && value.size() >= value_size_,
                 "Schema: a field read as another type, or a value of the wrong size");
    T v;
    std::memcpy(&v, value.data() + fields_[i].offset, sizeof v);
    return v;
  }
  template <class T>
  void Set(std::span<std::byte> value, std::size_t i, T v) const {
    KAPPA_DCHECK(i < fields_.size() && fields_[i].size == sizeof(T) &&
                     fields_[i].type != FieldType::kString && value.size() >= value_size_,
                 "Schema: a field written as another type, or a value of the wrong size");
    std::memcpy(value.data() + fields_[i].offset, &v, sizeof v);
  }

  std::vector<Field> fields_;
  std::uint32_t value_size_ = 0;
};

}  // namespace kappa::serving
