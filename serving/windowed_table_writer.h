// WindowedTableWriter: a view of one value per key and window, the last N windows of each key
// kept (serving/view_writer.h).
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

struct WindowedTableOptions {
  KeyType key_type = KeyType::kU64;
  std::uint32_t key_size = 8;
  std::string key_name = "key";
  Schema schema;
  std::uint64_t expected_entries = 1024;  // (key, window) pairs; the table grows past it
  std::int64_t window_size_ns = 0;        // > 0
  std::int64_t window_slide_ns = 0;       // 0: tumbling (= size); else hopping
  std::uint32_t windows_per_key = 8;      // the last N windows of each key are kept (1 to 64)
  std::int64_t retention_ns = 0;          // > 0: Expire drops windows that ended this long ago
  std::uint32_t shards = 1;               // > 1: this writer writes shard `shard` of that many
  std::uint32_t shard = 0;
};

class WindowedTableWriter {
 public:
  static Result<std::unique_ptr<WindowedTableWriter>> Create(Namespace& ns, std::string_view name,
                                                             std::uint32_t version,
                                                             const WindowedTableOptions& options);
  // Becomes the writer of an existing version; repairs what a dead writer left mid-update and
  // rebuilds the per-key window directories from the entries.
  static Result<std::unique_ptr<WindowedTableWriter>> Open(Namespace& ns, std::string_view name,
                                                           std::uint32_t version,
                                                           std::uint32_t shard = 0);

  const Schema& schema() const { return core_->shape().schema; }
  std::uint64_t size() const { return core_->live(); }  // windows and per-key directories
  std::uint64_t capacity() const { return core_->shape().capacity; }
  std::int64_t window_size_ns() const { return core_->shape().window_size_ns; }
  std::int64_t window_slide_ns() const { return core_->shape().window_slide_ns; }
  // Starts fetching the slots an upsert of (key, window_start) touches (its row and the key's
  // window directory): call it a few keys ahead, so that cache misses overlap.
  void Prefetch(std::uint64_t key, std::int64_t window_start) const {
    const detail::SlotTable& t = core_->table();
    t.Prefetch(t.Hash(detail::U64Key(key), window_start));
    t.Prefetch(t.Hash(detail::U64Key(key), detail::kDirectoryWindow));
  }
  void Prefetch(std::string_view key, std::int64_t window_start) const {
    detail::KeyRef k;
    if (!detail::BytesKey(key, core_->shape().key_size, &k)) return;
    const detail::SlotTable& t = core_->table();
    t.Prefetch(t.Hash(k, window_start));
    t.Prefetch(t.Hash(k, detail::kDirectoryWindow));
  }

  // Sets the value of key's window starting at window_start. A key's (N+1)-th window evicts its
  // oldest.
  WriteResult Upsert(std::uint64_t key, std::int64_t window_start, std::span<const std::byte> value,
                     std::uint64_t offset);
  WriteResult Upsert(std::string_view key, std::int64_t window_start,
                     std::span<const std::byte> value, std::uint64_t offset);
  // Read-modify-write of one window's value, as KeyedTableWriter::Update.
  template <class Fn>
  WriteResult Update(std::uint64_t key, std::int64_t window_start, std::uint64_t offset, Fn&& fn) {
    if (core_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
    return Apply(detail::U64Key(key), window_start, offset, fn);
  }
  template <class Fn>
  WriteResult Update(std::string_view key, std::int64_t window_start, std::uint64_t offset,
                     Fn&& fn) {
    detail::KeyRef k;
    if (WriteResult r = BytesKey(key, &k); r != WriteResult::kOk) return r;
    return Apply(k, window_start, offset, fn);
  }
  bool Get(std::uint64_t key, std::int64_t window_start, std::span<std::byte> value,
           std::uint64_t* offset) const;
  bool Get(std::string_view key, std::int64_t window_start, std::span<std::byte> value,
           std::uint64_t* offset) const;

  // Drops every window that ended at or before watermark_ns - retention (no-op without a
  // retention). Returns how many went. Call it as the watermark advances.
  std::uint64_t Expire(std::int64_t watermark_ns);

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    core_->file().SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { core_->file().Heartbeat(); }
  // Why the table last failed to grow, for a kFull ("" if it never did).
  const std::string& grow_error() const { return core_->grow_error(); }

  // As KeyedTableWriter (directories included).
  std::string Export() const { return core_->Export(); }
  Status Restore(std::string_view exported) { return core_->Replace(exported); }

 private:
  explicit WindowedTableWriter(std::unique_ptr<detail::TableCore> core) : core_(std::move(core)) {}
  WriteResult BytesKey(std::string_view key, detail::KeyRef* k) const {
    if (core_->shape().key_type != KeyType::kBytes) return WriteResult::kWrongKey;
    return detail::BytesKey(key, core_->shape().key_size, k) ? WriteResult::kOk
                                                             : WriteResult::kBadArgument;
  }
  WriteResult Set(const detail::KeyRef& k, std::int64_t window, std::span<const std::byte> value,
                  std::uint64_t offset);
  bool Lookup(const detail::KeyRef& k, std::int64_t window, std::span<std::byte> value,
              std::uint64_t* offset) const;
  // Records a new window of k in its directory, evicting the oldest beyond windows_per_key.
  bool AddToDirectory(const detail::KeyRef& k, std::int64_t window, std::uint64_t offset);
  void RemoveFromDirectory(const detail::KeyRef& k, std::int64_t window, std::uint64_t offset);
  void RebuildDirectories();

  template <class Fn>
  WriteResult Apply(const detail::KeyRef& k, std::int64_t window, std::uint64_t offset, Fn& fn) {
    if (window == detail::kDirectoryWindow) return WriteResult::kBadArgument;
    if (!core_->Owns(k)) return WriteResult::kWrongShard;
    detail::SlotTable* t = &core_->table();
    const std::uint64_t h = t->Hash(k, window);
    bool inserted = false;
    std::int64_t idx = t->FindOrClaim(k, h, window, 0, &inserted);
    const std::uint32_t n = core_->shape().value_size;
    if (!inserted) {
      t->Modify(static_cast<std::uint64_t>(idx), offset,
                [&](std::byte* p) { fn(std::span<std::byte>(p, n), false); });
      core_->CountWrite(false);
      return WriteResult::kOk;
    }
    alignas(8) std::byte local[kMaxValueSize] = {};
    fn(std::span<std::byte>(local, n), true);
    return Set(k, window, std::span<const std::byte>(local, n), offset);
  }

  std::unique_ptr<detail::TableCore> core_;
};

}  // namespace kappa::serving
