#include "serving/keyed_table_writer.h"

#include <cstring>

#include "serving/detail/mapped_words.h"
#include "serving/detail/new_shape.h"

namespace kappa::serving {

using detail::BaseShape;
using detail::KeyRef;
using detail::SetShards;
using detail::SlotsFor;
using detail::SlotTable;

Result<std::unique_ptr<KeyedTableWriter>> KeyedTableWriter::Create(Namespace& ns,
                                                                   std::string_view name,
                                                                   std::uint32_t version,
                                                                   const KeyedTableOptions& o) {
  auto shape =
      BaseShape(name, version, ViewKind::kKeyed, o.key_type, o.key_size, o.key_name, o.schema);
  if (!shape.ok()) return shape.status();
  auto slots = SlotsFor(name, o.expected_keys);
  if (!slots.ok()) return slots.status();
  shape->capacity = *slots;
  if (Status s = SetShards(name, o.shards, o.shard, &*shape); !s.ok()) return s;
  auto core = detail::TableCore::Create(ns, std::move(shape).value());
  if (!core.ok()) return core.status();
  return std::unique_ptr<KeyedTableWriter>(new KeyedTableWriter(std::move(core).value()));
}

Result<std::unique_ptr<KeyedTableWriter>> KeyedTableWriter::Open(Namespace& ns,
                                                                 std::string_view name,
                                                                 std::uint32_t version,
                                                                 std::uint32_t shard) {
  auto core = detail::TableCore::Attach(ns, name, version, shard, ViewKind::kKeyed);
  if (!core.ok()) return core.status();
  return std::unique_ptr<KeyedTableWriter>(new KeyedTableWriter(std::move(core).value()));
}

WriteResult KeyedTableWriter::Set(const KeyRef& k, std::span<const std::byte> value,
                                  std::uint64_t offset) {
  const std::uint32_t n = core_->shape().value_size;
  if (value.size() != n) return WriteResult::kBadArgument;
  auto copy = [&](std::span<std::byte> v, bool) { std::memcpy(v.data(), value.data(), n); };
  return Apply(k, offset, copy);
}

bool KeyedTableWriter::Remove(const KeyRef& k) {
  if (!core_->Owns(k)) return false;
  SlotTable& t = core_->table();
  const std::int64_t idx = t.Find(k, t.Hash(k, 0), 0, 0);
  if (idx < 0) return false;
  t.Erase(static_cast<std::uint64_t>(idx));
  core_->Erased();
  core_->CountWrite(false);
  return true;
}
bool KeyedTableWriter::Erase(std::uint64_t key) {
  return core_->shape().key_type == KeyType::kU64 && Remove(detail::U64Key(key));
}
bool KeyedTableWriter::Erase(std::string_view key) {
  KeyRef k;
  return BytesKey(key, &k) == WriteResult::kOk && Remove(k);
}

bool KeyedTableWriter::Lookup(const KeyRef& k, std::span<std::byte> value,
                              std::uint64_t* offset) const {
  SlotTable& t = core_->table();
  const std::uint32_t n = core_->shape().value_size;
  if (value.size() < n) return false;
  const std::int64_t idx = t.Find(k, t.Hash(k, 0), 0, 0);
  if (idx < 0) return false;
  detail::CopyFromShared(value.data(), t.Payload(static_cast<std::uint64_t>(idx)), n);
  if (offset) *offset = t.Offset(static_cast<std::uint64_t>(idx));
  return true;
}
bool KeyedTableWriter::Get(std::uint64_t key, std::span<std::byte> value,
                           std::uint64_t* offset) const {
  return core_->shape().key_type == KeyType::kU64 && Lookup(detail::U64Key(key), value, offset);
}
bool KeyedTableWriter::Get(std::string_view key, std::span<std::byte> value,
                           std::uint64_t* offset) const {
  KeyRef k;
  return BytesKey(key, &k) == WriteResult::kOk && Lookup(k, value, offset);
}

}  // namespace kappa::serving
