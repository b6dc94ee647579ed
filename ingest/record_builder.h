// RecordBuilder: builds the payload of a log's record type (an engine::CatalogEntry) field by
// field, from typed values (JSON numbers and strings) or from text (CSV cells), checking each
// value against its field's type and size. The encoders of JSON lines and CSV build on it.
//
// A record is the schema's value record (serving/schema.h: numbers as 8-byte little-endian
// words, strings NUL-padded), then, for a type with a tail, the tail's bytes. Every field must
// be set once; the tail is optional (empty when not set).
//
// Errors name the field and what was wrong ("field 'price': 12.5 is not an integer (i64)"),
// never the record's position in the input, which only the caller knows.
//
// Thread safety: none; one builder per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/check.h"
#include "engine/record_catalog.h"

namespace kappa::ingest {

class RecordBuilder {
 public:
  // REQUIRES: `entry` outlives the builder.
  explicit RecordBuilder(const engine::CatalogEntry& entry);

  const engine::CatalogEntry& entry() const { return entry_; }
  std::size_t field_count() const { return entry_.schema.size(); }
  // The index of the field called `name`; field_count() for the tail's name; -1 for neither.
  int Find(std::string_view name) const;
  // The name of field `i`, or of the tail for i == field_count().
  const std::string& Name(std::size_t i) const;
  // What field `i` (or the tail) holds, for messages: "an integer (i64)", "a string".
  const char* Expected(std::size_t i) const;

  // Starts a record at the end of *out: the schema's value record, zeroed.
  // REQUIRES: *out stays alive and is changed only through this builder until Finish or Cancel.
  void Begin(std::string* out);

  // Set field `i` of the record begun. On failure *error says why and the record is unchanged.
  // REQUIRES: i < field_count(), and the field has the type the setter's name says (SetNumber
  // and SetText take any field).
  bool SetI64(std::size_t i, std::int64_t v, std::string* error) {
    KAPPA_DCHECK(entry_.schema.field(i).type == serving::FieldType::kI64, "SetI64 on another type");
    return SetWord(i, v, error);
  }
  bool SetU64(std::size_t i, std::uint64_t v, std::string* error) {
    KAPPA_DCHECK(entry_.schema.field(i).type == serving::FieldType::kU64, "SetU64 on another type");
    return SetWord(i, v, error);
  }
  bool SetF64(std::size_t i, double v, std::string* error) {
    KAPPA_DCHECK(entry_.schema.field(i).type == serving::FieldType::kF64, "SetF64 on another type");
    return SetWord(i, v, error);
  }
  bool SetString(std::size_t i, std::string_view v, std::string* error);
  // Field `i` from its text: a decimal integer (i64, u64), a decimal or exponent number, "nan",
  // "inf" or "-inf" (f64), or the text itself (strings).
  bool SetText(std::size_t i, std::string_view text, std::string* error);
  // The tail's bytes. REQUIRES: the type has a tail; `tail` stays alive until Finish.
  bool SetTail(std::string_view tail, std::string* error);
  // Whether field `i` (or the tail, i == field_count()) is set in the record begun.
  bool IsSet(std::size_t i) const { return (set_ >> i) & 1; }

  // Ends the record begun: its bytes are now the end of *out. False, with *error naming the
  // first field not set, if any is missing; the record is then removed from *out.
  bool Finish(std::string* error);
  // Removes the record begun from *out.
  void Cancel();

 private:
  // Marks field `i` set; false (a repeated field) if it was.
  bool Claim(std::size_t i, std::string* error) {
    if (IsSet(i)) return Repeated(i, error);
    set_ |= std::uint64_t{1} << i;
    return true;
  }
  template <class T>
  bool SetWord(std::size_t i, T v, std::string* error) {
    if (!Claim(i, error)) return false;
    std::memcpy(FieldBytes(i), &v, sizeof v);
    return true;
  }
  std::byte* FieldBytes(std::size_t i) const {
    return reinterpret_cast<std::byte*>(out_->data() + start_ + entry_.schema.field(i).offset);
  }
  bool Repeated(std::size_t i, std::string* error) const;
  bool TypeError(std::size_t i, const char* what, std::string* error) const;

  const engine::CatalogEntry& entry_;
  std::string* out_ = nullptr;
  std::size_t start_ = 0;         // where the record begun starts in *out_
  std::uint64_t set_ = 0;         // bit i: field i set; bit field_count(): the tail
  std::uint64_t all_fields_ = 0;  // the bits of every field
  std::string_view tail_;
};

}  // namespace kappa::ingest
