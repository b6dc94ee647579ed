// View writers: one per kind. Each view version has one writer at a time (an exclusive flock on
// its file, released by the kernel if the writer dies); any number of readers in any process
// read it in place (serving/view_reader.h).
//
//   auto ns = std::move(Namespace::Open("default")).value();
//   KeyedTableOptions o;
//   o.schema = std::move(Schema::Make({Field::I64("count")})).value();
//   auto counts = std::move(KeyedTableWriter::Create(*ns, "clicks", 1, o)).value();
//   counts->Update(user_id, log_offset,
//                  [](std::span<std::byte> v, bool) { ++*(int64_t*)v.data(); });
//   counts->SetProgress(log_offset + 1, watermark_ns);
//
// Thread safety: one thread at a time per writer. Writes never wait for readers.
//
// Offsets: every write names the log offset it applies; readers get it back with the value.
// SetProgress publishes how far the writer has got (and refreshes the heartbeat readers see).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serving/detail/keys.h"
#include "serving/detail/slot_table.h"
#include "serving/detail/view_file.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::serving {

enum class [[nodiscard]] WriteResult{
    kOk,
    kFull,         // the table could not grow (size limit, or no memory for the new file)
    kBadArgument,  // a key too long, a value of the wrong size, a reserved window start
    kWrongKey,     // a u64 key for a bytes-keyed view or the other way round
    kWrongShard,   // a sharded view: the key belongs to another shard (see serving/shard.h)
};
const char* WriteResultName(WriteResult r);
// WriteResultName, and for kFull from a keyed or windowed table the reason it could not grow
// (the file that could not be created and why: a full disk, a size limit).
std::string DescribeWriteResult(WriteResult r, const std::string& grow_error);

struct KeyedTableOptions {
  KeyType key_type = KeyType::kU64;
  std::uint32_t key_size = 8;  // kBytes: the longest key, 1 to 32 bytes
  std::string key_name = "key";
  Schema schema;
  std::uint64_t expected_keys = 1024;  // starting room; the table grows past it
  std::uint32_t shards = 1;            // > 1: this writer writes shard `shard` of that many
  std::uint32_t shard = 0;
};

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

struct TopKOptions {
  KeyType key_type = KeyType::kU64;
  std::uint32_t key_size = 8;
  std::string key_name = "key";
  Schema schema;
  std::uint32_t k = 10;
  std::string order_field;  // a numeric field of the schema
  bool descending = true;   // largest first
};

struct ResultListOptions {
  Schema schema;
  std::uint64_t capacity = 65536;  // rows retained; older rows are overwritten
};

namespace detail {

// What the keyed and windowed writers share: the file, its table, live and tombstone counts,
// and growth into a new file generation.
class TableCore {
 public:
  static Result<std::unique_ptr<TableCore>> Create(Namespace& ns, ViewShape shape);
  static Result<std::unique_ptr<TableCore>> Attach(Namespace& ns, std::string_view name,
                                                   std::uint32_t version, std::uint32_t shard,
                                                   ViewKind kind);

  ViewFile& file() { return *file_; }
  SlotTable& table() { return table_; }
  const SlotTable& table() const { return table_; }

  // Every live slot as bytes (a checkpoint of the table), and the table replaced by such rows
  // (a restore): the rows go to a new file generation that readers switch to at once.
  std::string Export() const;
  Status Replace(std::string_view rows);
  const ViewShape& shape() const { return file_->shape(); }
  std::uint64_t live() const { return live_; }
  // Why the table last failed to grow ("" if it never did).
  const std::string& grow_error() const { return grow_error_; }
  // False if `k` belongs to another shard of a sharded view.
  bool Owns(const KeyRef& k) const {
    return shape().shard_count <= 1 ||
           ShardOf(k, shape().key_type, shape().shard_count) == shape().shard;
  }

  // Makes sure one more entry fits under the load limit, growing the table if needed.
  bool Reserve() {
    if ((live_ + tombstones_ + 1) * 4 <= shape().capacity * 3) [[likely]]
      return true;
    return Grow();
  }
  void Inserted(std::uint64_t idx) {
    if (MetaState(table_.Meta(idx)) == kSlotTombstone) --tombstones_;
    ++live_;
  }
  void Erased() {
    --live_;
    ++tombstones_;
  }
  // Publishes the live and tombstone counts and one more update to the header counters.
  void CountWrite(bool inserted) {
    CounterLine& c = file_->header()->counters;
    ViewFile::Add(c.updates, 1);
    if (inserted) ViewFile::Add(c.inserts, 1);
    StoreRelaxed(c.entries, live_);
    StoreRelaxed(c.tombstones, tombstones_);
  }

 private:
  TableCore() : table_(nullptr) {}
  explicit TableCore(std::unique_ptr<ViewFile> f) : file_(std::move(f)), table_(file_.get()) {}
  bool Grow();
  // Writes a new file generation holding the rows each(emit) emits, and publishes it: readers
  // move from the old contents to the new at once.
  template <class ForEachRow>
  bool Rebuild(std::uint64_t entries, ForEachRow&& each);
  void Recount();

  std::unique_ptr<ViewFile> file_;
  SlotTable table_;
  std::uint64_t live_ = 0;
  std::uint64_t tombstones_ = 0;
  std::string grow_error_;
};

}  // namespace detail

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

class TopKWriter {
 public:
  static Result<std::unique_ptr<TopKWriter>> Create(Namespace& ns, std::string_view name,
                                                    std::uint32_t version,
                                                    const TopKOptions& options);
  // Becomes the writer of an existing version, starting from the list readers see.
  static Result<std::unique_ptr<TopKWriter>> Open(Namespace& ns, std::string_view name,
                                                  std::uint32_t version);
  ~TopKWriter();

  const Schema& schema() const { return file_->shape().schema; }
  std::uint32_t k() const { return static_cast<std::uint32_t>(file_->shape().capacity); }
  std::size_t staged() const { return rows_.size(); }

  // Sets key's row (a new row, or a new value for it). Rows outside the K best are dropped at
  // the next Publish.
  WriteResult Offer(std::uint64_t key, std::span<const std::byte> value, std::uint64_t offset);
  WriteResult Offer(std::string_view key, std::span<const std::byte> value, std::uint64_t offset);
  bool Remove(std::uint64_t key);
  bool Remove(std::string_view key);
  // Writes the K best rows, sorted, to the buffer readers are not reading, then points readers
  // at it with one release store: readers see whole lists only.
  void Publish();
  // Whether `key` has a row here (after a Publish: among the K best), and its order value.
  bool Holds(std::uint64_t key, double* order) const {
    if (file_->shape().key_type != KeyType::kU64) return false;
    auto it = index_.find(KeyString(detail::U64Key(key)));
    if (it == index_.end()) return false;
    *order = rows_[it->second].order;
    return true;
  }

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    file_->SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { file_->Heartbeat(); }

 private:
  struct Row {
    detail::KeyRef key;
    std::uint64_t offset = 0;
    double order = 0;
    std::vector<std::byte> value;
  };
  explicit TopKWriter(std::unique_ptr<detail::ViewFile> f) : file_(std::move(f)) {}
  WriteResult Stage(const detail::KeyRef& k, std::span<const std::byte> value,
                    std::uint64_t offset);
  bool Unstage(const detail::KeyRef& k);
  void LoadPublished();
  static std::string KeyString(const detail::KeyRef& k) {
    return std::string(reinterpret_cast<const char*>(k.words), k.len);
  }

  std::unique_ptr<detail::ViewFile> file_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, std::size_t> index_;  // key bytes -> rows_ index
};

class ResultListWriter {
 public:
  static Result<std::unique_ptr<ResultListWriter>> Create(Namespace& ns, std::string_view name,
                                                          std::uint32_t version,
                                                          const ResultListOptions& options);
  static Result<std::unique_ptr<ResultListWriter>> Open(Namespace& ns, std::string_view name,
                                                        std::uint32_t version);

  const Schema& schema() const { return file_->shape().schema; }
  std::uint64_t count() const { return count_; }
  std::uint64_t capacity() const { return file_->shape().capacity; }

  // Appends one row (value.size() == schema().value_size()); it becomes row count()-1.
  WriteResult Append(std::span<const std::byte> value, std::uint64_t offset);
  // Goes back to `count` rows (a restore): the next Append becomes row `count`. Rows at and
  // past it stay readable until overwritten. REQUIRES: count <= count().
  void RewindTo(std::uint64_t count);

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    file_->SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { file_->Heartbeat(); }

 private:
  explicit ResultListWriter(std::unique_ptr<detail::ViewFile> f) : file_(std::move(f)) {}
  std::unique_ptr<detail::ViewFile> file_;
  std::uint64_t count_ = 0;
};

}  // namespace kappa::serving
