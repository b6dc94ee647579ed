#include "ingest/record_builder.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "base/check.h"

namespace kappa::ingest {
namespace {

using serving::FieldType;

const char* TypeText(FieldType type) {
  switch (type) {
    case FieldType::kI64:
      return "an integer (i64)";
    case FieldType::kU64:
      return "a non-negative integer (u64)";
    case FieldType::kF64:
      return "a number (f64)";
    case FieldType::kString:
      return "a string";
  }
  return "a value";
}

// `text` quoted for a message, cut after 40 bytes.
std::string Shown(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string shown = "\"";
  for (const char c : text.substr(0, kMax)) {
    if (c == '"' || c == '\\') shown += '\\';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      shown += hex;
    } else {
      shown += c;
    }
  }
  return shown + (text.size() > kMax ? "...\"" : "\"");
}

template <class N>
bool ParseWhole(std::string_view text, N* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

RecordBuilder::RecordBuilder(const engine::CatalogEntry& entry) : entry_(entry) {
  static_assert(serving::kMaxFields < 64, "one bit per field and one for the tail");
  all_fields_ = (std::uint64_t{1} << entry.schema.size()) - 1;
}

int RecordBuilder::Find(std::string_view name) const {
  const int i = entry_.schema.Find(name);
  if (i >= 0) return i;
  if (!entry_.tail.empty() && name == entry_.tail) return static_cast<int>(field_count());
  return -1;
}

const std::string& RecordBuilder::Name(std::size_t i) const {
  return i == field_count() ? entry_.tail : entry_.schema.field(i).name;
}

const char* RecordBuilder::Expected(std::size_t i) const {
  return i == field_count() ? "text (the tail)" : TypeText(entry_.schema.field(i).type);
}

void RecordBuilder::Begin(std::string* out) {
  out_ = out;
  start_ = out->size();
  out->resize(start_ + entry_.schema.value_size(), '\0');
  set_ = 0;
  tail_ = {};
}

bool RecordBuilder::Repeated(std::size_t i, std::string* error) const {
  *error = "field '" + Name(i) + "' appears twice";
  return false;
}

bool RecordBuilder::TypeError(std::size_t i, const char* what, std::string* error) const {
  *error = "field '" + Name(i) + "' holds " + Expected(i) + ", not " + what;
  return false;
}

bool RecordBuilder::SetString(std::size_t i, std::string_view v, std::string* error) {
  const serving::Field& f = entry_.schema.field(i);
  KAPPA_DCHECK(f.type == FieldType::kString, "SetString on another type");
  if (v.size() > f.size) {
    *error = "field '" + f.name + "' holds at most " + std::to_string(f.size) + " bytes, not " +
             std::to_string(v.size()) + " (" + Shown(v) + ")";
    return false;
  }
  bool has_nul = false;  // a loop: most strings are short
  for (const char c : v) has_nul |= c == '\0';
  if (has_nul) {
    *error = "field '" + f.name + "' holds text without NUL bytes, not " + Shown(v);
    return false;
  }
  if (!Claim(i, error)) return false;
  std::memcpy(FieldBytes(i), v.data(), v.size());  // the rest stays NUL
  return true;
}

bool RecordBuilder::SetText(std::size_t i, std::string_view text, std::string* error) {
  switch (entry_.schema.field(i).type) {
    case FieldType::kI64: {
      std::int64_t v;
      if (!ParseWhole(text, &v)) return TypeError(i, Shown(text).c_str(), error);
      return SetI64(i, v, error);
    }
    case FieldType::kU64: {
      std::uint64_t v;
      if (!ParseWhole(text, &v)) return TypeError(i, Shown(text).c_str(), error);
      return SetU64(i, v, error);
    }
    case FieldType::kF64: {
      double v;
      if (!ParseWhole(text, &v)) return TypeError(i, Shown(text).c_str(), error);
      return SetF64(i, v, error);
    }
    case FieldType::kString:
      return SetString(i, text, error);
  }
  return TypeError(i, Shown(text).c_str(), error);
}

bool RecordBuilder::SetTail(std::string_view tail, std::string* error) {
  KAPPA_DCHECK(!entry_.tail.empty(), "SetTail on a type without a tail");
  if (!Claim(field_count(), error)) return false;
  tail_ = tail;
  return true;
}

bool RecordBuilder::Finish(std::string* error) {
  if ((set_ & all_fields_) != all_fields_) {
    for (std::size_t i = 0; i < field_count(); ++i) {
      if (!IsSet(i)) {
        *error = "field '" + Name(i) + "' is missing";
        break;
      }
    }
    Cancel();
    return false;
  }
  out_->append(tail_);
  out_ = nullptr;
  return true;
}

void RecordBuilder::Cancel() {
  if (out_ != nullptr) out_->resize(start_);
  out_ = nullptr;
}

}  // namespace kappa::ingest
