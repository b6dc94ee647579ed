// The record type the ingest tests encode into, and typed access to what they encoded.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/record_catalog.h"

namespace kappa::ingest::testing {

// "7 click user:i64 page:string16 ms:f64 n:u64 note:tail": 40 bytes, then the tail.
inline engine::CatalogEntry ClickType() {
  auto catalog = engine::RecordCatalog::Parse(
      "7 click user:i64 page:string16 ms:f64 n:u64 note:tail\n", "test");
  return catalog.value().entries().at(0);
}

struct Click {
  std::int64_t user;
  std::string page;
  double ms;
  std::uint64_t n;
  std::string note;
};

inline Click Decode(const engine::CatalogEntry& type, std::string_view bytes) {
  const auto value = std::as_bytes(std::span<const char>(bytes.data(), bytes.size()));
  const serving::Schema& s = type.schema;
  return Click{s.GetI64(value, 0), std::string(s.GetString(value, 1)), s.GetF64(value, 2),
               s.GetU64(value, 3), std::string(bytes.substr(s.value_size()))};
}

// `text` followed by the padding JsonLinesEncoder reads past a line.
struct Padded {
  explicit Padded(std::string_view text) : storage(std::string(text) + std::string(64, 'x')) {}
  std::string_view view() const { return std::string_view(storage).substr(0, storage.size() - 64); }
  std::string storage;
};

}  // namespace kappa::ingest::testing
