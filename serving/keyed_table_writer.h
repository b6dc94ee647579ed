// KeyedTableWriter: a view of one value per key (serving/view_writer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "serving/detail/keys.h"
#include "serving/detail/slot_table.h"
#include "serving/detail/table_core.h"
#include "serving/format.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/status.h"
#include "serving/write_result.h"

namespace kappa::serving {

struct KeyedTableOptions {
  KeyType key_type = KeyType::kU64;
  std::uint32_t key_size = 8;  // kBytes: the longest key, 1 to 32 bytes
  std::string key_name = "key";
  Schema schema;
  std::uint64_t expected_keys = 1024;  // starting room; the table grows past it
  std::uint32_t shards = 1;            // > 1: this writer writes shard `shard` of that many
  std::uint32_t shard = 0;
};

class KeyedTableWriter {
 public:
  // Creates version `version` (>= 1) of view `name` (or, with options.shards > 1, its shard
  // options.shard: each shard has its own writer). kAlreadyExists if it exists.
  static Result<std::unique_ptr<KeyedTableWriter>> Create(Namespace& ns, std::string_view name,
                                                          std::uint32_t version,
                                                          const KeyedTableOptions& options);
  // Becomes the writer of an existing version or shard (after a restart). Entries a dead writer
  // left mid-update are deleted (counted in the `repaired` counter). kBusy if it has a writer.
  static Result<std::unique_ptr<KeyedTableWriter>> Open(Namespace& ns, std::string_view name,
                                                        std::uint32_t version,
                                                        std::uint32_t shard = 0);

  const Schema& schema() const { return core_->shape().schema; }
  std::uint64_t size() const { return core_->live(); }
  std::uint64_t capacity() const { return core_->shape().capacity; }
  std::uint32_t generation() const { return core_->shape().generation; }
  std::uint32_t shard() const { return core_->shape().shard; }
  std::uint32_t shard_count() const { return core_->shape().shard_count; }

  // Sets key's value (value.size() == schema().value_size()).
  WriteResult Upsert(std::uint64_t key, std::span<const std::byte> value, std::uint64_t offset) {
    if (core_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
    return Set(detail::U64Key(key), value, offset);
  }
  WriteResult Upsert(std::string_view key, std::span<const std::byte> value, std::uint64_t offset) {
    detail::KeyRef k;
    if (WriteResult r = BytesKey(key, &k); r != WriteResult::kOk) return r;
    return Set(k, value, offset);
  }
  // Read-modify-write of key's value: fn(std::span<std::byte> value, bool inserted) edits it in
  // place (a new key starts from a zeroed record). Readers see the old or the new value whole.
  template <class Fn>
  WriteResult Update(std::uint64_t key, std::uint64_t offset, Fn&& fn) {
    if (core_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
    return Apply(detail::U64Key(key), offset, fn);
  }
  template <class Fn>
  WriteResult Update(std::string_view key, std::uint64_t offset, Fn&& fn) {
    detail::KeyRef k;
    if (WriteResult r = BytesKey(key, &k); r != WriteResult::kOk) return r;
    return Apply(k, offset, fn);
  }
  // Starts fetching the memory an update of `key` touches: call it a few keys ahead of the
  // updates of a batch of random keys, so that their cache misses overlap.
  void Prefetch(std::uint64_t key) const {
    const detail::SlotTable& t = core_->table();
    t.Prefetch(t.Hash(detail::U64Key(key), 0));
  }
  void Prefetch(std::string_view key) const {
    detail::KeyRef k;
    if (!detail::BytesKey(key, core_->shape().key_size, &k)) return;
    const detail::SlotTable& t = core_->table();
    t.Prefetch(t.Hash(k, 0));
  }

  // Deletes key. False if it was not there.
  bool Erase(std::uint64_t key);
  bool Erase(std::string_view key);
  // The writer's own read (no seqlock needed: nobody else writes).
  bool Get(std::uint64_t key, std::span<std::byte> value, std::uint64_t* offset) const;
  bool Get(std::string_view key, std::span<std::byte> value, std::uint64_t* offset) const;

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    core_->file().SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { core_->file().Heartbeat(); }
  // Why the table last failed to grow, for a kFull ("" if it never did).
  const std::string& grow_error() const { return core_->grow_error(); }

  // The view's contents as bytes (for a checkpoint), and contents put back from them: readers
  // see the old contents or the restored ones, never a mix.
  std::string Export() const { return core_->Export(); }
  Status Restore(std::string_view exported) { return core_->Replace(exported); }

 private:
  explicit KeyedTableWriter(std::unique_ptr<detail::TableCore> core) : core_(std::move(core)) {}
  WriteResult BytesKey(std::string_view key, detail::KeyRef* k) const {
    if (core_->shape().key_type != KeyType::kBytes) return WriteResult::kWrongKey;
    return detail::BytesKey(key, core_->shape().key_size, k) ? WriteResult::kOk
                                                             : WriteResult::kBadArgument;
  }
  WriteResult Set(const detail::KeyRef& k, std::span<const std::byte> value, std::uint64_t offset);
  bool Lookup(const detail::KeyRef& k, std::span<std::byte> value, std::uint64_t* offset) const;
  bool Remove(const detail::KeyRef& k);

  template <class Fn>
  WriteResult Apply(const detail::KeyRef& k, std::uint64_t offset, Fn& fn) {
    if (!core_->Owns(k)) return WriteResult::kWrongShard;
    detail::SlotTable* t = &core_->table();
    const std::uint64_t h = t->Hash(k, 0);
    bool inserted = false;
    std::int64_t idx = t->FindOrClaim(k, h, 0, 0, &inserted);
    const std::uint32_t n = core_->shape().value_size;
    if (!inserted) {
      t->Modify(static_cast<std::uint64_t>(idx), offset,
                [&](std::byte* p) { fn(std::span<std::byte>(p, n), false); });
      core_->CountWrite(false);
      return WriteResult::kOk;
    }
    if (!core_->Reserve()) return WriteResult::kFull;
    t = &core_->table();  // growth replaces the table
    idx = t->FindOrClaim(k, h, 0, 0, &inserted);
    if (idx < 0) return WriteResult::kFull;
    alignas(8) std::byte local[kMaxValueSize] = {};
    fn(std::span<std::byte>(local, n), true);
    core_->Inserted(static_cast<std::uint64_t>(idx));
    t->Write(static_cast<std::uint64_t>(idx), k, h, 0, 0, offset, local, n);
    core_->CountWrite(true);
    return WriteResult::kOk;
  }

  std::unique_ptr<detail::TableCore> core_;
};

}  // namespace kappa::serving
