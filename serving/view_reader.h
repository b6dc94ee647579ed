// ViewReader: reads a view in place, from any process. Header-only: include this file, nothing
// to link.
//
//   auto reader = kappa::serving::ViewReader::Open("default", "q5");   // alias, or "q5@2"
//   std::vector<std::byte> value(reader->schema().value_size());
//   std::uint64_t offset;
//   if (reader->Get(42, value, &offset) == ReadStatus::kOk) { ... }
//
// Thread safety: one thread at a time per ViewReader (it caches mappings and a scratch buffer);
// open one per reading thread. Readers never block the writer and never return a torn value:
// every entry is read under its seqlock, and an entry that stays mid-update (its writer died,
// or stopped) yields kStale after a bounded time instead of spinning forever.
//
// Following: a reader opened by name follows the name's alias. Each read first checks two words
// in the namespace registry (the alias and the view's generation); after a flip, a revert or a
// growth, that read maps the new file and carries on. A view that was retired gives kGone.
//
// Every successful read returns the log offset of the entry's last update.
#pragma once

#include <sched.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "serving/detail/clock.h"
#include "serving/detail/keys.h"
#include "serving/detail/liveness.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/detail/registry.h"
#include "serving/detail/view_shape.h"
#include "serving/format.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::serving {

enum class [[nodiscard]] ReadStatus{
    kOk,
    kNotFound,     // no such key, window or row
    kStale,        // the entry stayed mid-update: its writer died or stalled
    kGone,         // the view was retired, or its alias removed, since it was opened
    kWrongKind,    // the call does not suit the view's kind or key type
    kBadArgument,  // a key too long, a value buffer too small, a reserved window start
    kBusy,         // the registry stayed mid-update, or memory ran out while following a flip
};

inline const char* ReadStatusName(ReadStatus s) {
  switch (s) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kNotFound:
      return "not found";
    case ReadStatus::kStale:
      return "stale (the writer died or stalled mid-update)";
    case ReadStatus::kGone:
      return "gone (the view was retired or dropped)";
    case ReadStatus::kWrongKind:
      return "wrong kind of view for this call";
    case ReadStatus::kBadArgument:
      return "bad argument";
    case ReadStatus::kBusy:
      return "busy";
  }
  return "unknown";
}

inline const char* WriterStateName(WriterState s) {
  switch (s) {
    case WriterState::kLive:
      return "live";
    case WriterState::kSuperseded:
      return "superseded";
    case WriterState::kRetired:
      return "retired";
  }
  return "unknown";
}

// View names: 1 to 63 of A-Z a-z 0-9 _ . -, not starting with '.'.
inline bool ValidViewName(std::string_view name) { return detail::ValidName(name); }
// Splits a reference, "name" or "name@version" (version 0 when none is given), checking both.
inline Status ParseViewRef(std::string_view ref, std::string* name, std::uint32_t* version) {
  return detail::ParseViewRef(ref, name, version);
}

struct ReaderOptions {
  // How long an entry may stay mid-update, while its writer's process lives, before reads of it
  // give kStale. A dead writer is noticed within microseconds.
  std::int64_t stale_after_ns = 1'000'000'000;
};

struct ViewCounters {
  std::uint64_t updates = 0;
  std::uint64_t inserts = 0;
  std::uint64_t entries = 0;
  std::uint64_t tombstones = 0;
  std::uint64_t expired = 0;
  std::uint64_t repaired = 0;
  std::uint64_t publishes = 0;
};

struct ShardInfo {
  std::uint32_t shard = 0;
  std::uint32_t generation = 0;
  std::uint64_t capacity = 0;
  std::uint64_t writer_pid = 0;
  bool writer_alive = false;
  std::int64_t heartbeat_unix_ns = 0;
  std::uint64_t applied_offset = 0;
  std::int64_t watermark_ns = 0;
  ViewCounters counters;
};

// A view version's description. For a sharded view: capacity, file bytes and counters are the
// shards' sums; applied offset, watermark and heartbeat their minimum (the view reflects the log
// as far as its slowest shard); writer_alive is true if every shard's writer runs; the writer's
// pid, epoch and state are shard 0's; `shards` has each shard's own.
struct ViewInfo {
  std::string namespace_path;
  std::string name;
  std::string alias;  // empty when opened as name@version
  std::uint32_t alias_epoch = 0;
  std::uint32_t version = 0;
  std::uint32_t generation = 0;  // shard 0's
  std::uint32_t shard_count = 1;
  ViewKind kind = ViewKind::kKeyed;
  KeyType key_type = KeyType::kNone;
  std::uint32_t key_size = 0;
  std::string key_name;
  Schema schema;
  std::uint64_t capacity = 0;
  std::int64_t window_size_ns = 0;
  std::int64_t window_slide_ns = 0;
  std::int64_t retention_ns = 0;
  std::uint32_t windows_per_key = 0;
  std::string order_field;
  bool order_descending = false;
  std::int64_t created_unix_ns = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t writer_pid = 0;  // 0: no writer attached
  bool writer_alive = false;
  std::int64_t heartbeat_unix_ns = 0;
  std::uint64_t writer_epoch = 0;
  WriterState writer_state = WriterState::kLive;
  std::uint64_t applied_offset = 0;
  std::int64_t watermark_ns = 0;
  std::int64_t newest_window = 0;
  std::uint64_t list_count = 0;  // list: rows appended so far
  ViewCounters counters;
  std::vector<ShardInfo> shards;
};

// One row as read. The spans point into the reader; they stay valid until its next call.
struct RowView {
  std::uint64_t key_u64 = 0;      // u64 keys
  std::string_view key_bytes;     // bytes keys
  std::int64_t window_start = 0;  // windowed
  std::uint64_t index = 0;        // list: the row's index; top-K: its rank (0 = first)
  std::uint64_t offset = 0;       // the log offset of the entry's last update
  std::span<const std::byte> value;
};

class ViewReader {
 public:
  using RowFn = std::function<bool(const RowView&)>;  // return false to stop

  // Opens `ref` ("name" follows the alias; "name@version" pins a version) in namespace `ns` (a
  // name under $KAPPA_VIEW_DIR, default /dev/shm/kappa/views, or a directory path).
  static Result<std::unique_ptr<ViewReader>> Open(std::string_view ns, std::string_view ref,
                                                  const ReaderOptions& options = {}) {
    std::unique_ptr<ViewReader> r(new ViewReader());
    r->options_ = options;
    r->ns_path_ = detail::NamespacePath(ns);
    Status s = detail::ParseViewRef(ref, &r->name_, &r->pinned_version_);
    if (!s.ok()) return s;
    s = detail::OpenDirectory(r->ns_path_, &r->dir_fd_);
    if (!s.ok()) return s;
    s = detail::RegistryMap::Open(r->dir_fd_, r->ns_path_, /*writable=*/false, &r->registry_);
    if (!s.ok()) return s;
    s = r->Resolve();
    if (!s.ok()) return s;
    return r;
  }

  ~ViewReader() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }
  ViewReader(const ViewReader&) = delete;
  ViewReader& operator=(const ViewReader&) = delete;

  const Schema& schema() const { return shape().schema; }
  ViewKind kind() const { return shape().kind; }
  KeyType key_type() const { return shape().key_type; }
  std::uint32_t value_size() const { return shape().value_size; }
  std::uint32_t version() const { return shape().view_version; }
  std::uint32_t generation() const { return shape().generation; }
  const std::string& name() const { return name_; }
  const std::string& key_name() const { return shape().key_name; }

  // ---- Keyed tables ----
  ReadStatus Get(std::uint64_t key, std::span<std::byte> value, std::uint64_t* offset) noexcept {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kKeyed || shape().key_type != KeyType::kU64)
      return ReadStatus::kWrongKind;
    return Lookup(detail::U64Key(key), 0, 0, value, offset);
  }
  ReadStatus Get(std::string_view key, std::span<std::byte> value, std::uint64_t* offset) noexcept {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kKeyed || shape().key_type != KeyType::kBytes)
      return ReadStatus::kWrongKind;
    detail::KeyRef k;
    if (!detail::BytesKey(key, shape().key_size, &k)) return ReadStatus::kBadArgument;
    return Lookup(k, 0, 0, value, offset);
  }

  // ---- Windowed tables ----
  ReadStatus GetWindow(std::uint64_t key, std::int64_t window_start, std::span<std::byte> value,
                       std::uint64_t* offset) noexcept {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kWindowed || shape().key_type != KeyType::kU64)
      return ReadStatus::kWrongKind;
    if (window_start == detail::kDirectoryWindow) return ReadStatus::kBadArgument;
    return Lookup(detail::U64Key(key), window_start, 0, value, offset);
  }
  ReadStatus GetWindow(std::string_view key, std::int64_t window_start, std::span<std::byte> value,
                       std::uint64_t* offset) noexcept {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kWindowed || shape().key_type != KeyType::kBytes)
      return ReadStatus::kWrongKind;
    detail::KeyRef k;
    if (!detail::BytesKey(key, shape().key_size, &k) || window_start == detail::kDirectoryWindow)
      return ReadStatus::kBadArgument;
    return Lookup(k, window_start, 0, value, offset);
  }
  // Every retained window of `key`, oldest first. kNotFound if the key has none.
  ReadStatus GetWindows(std::uint64_t key, const RowFn& fn) {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kWindowed || shape().key_type != KeyType::kU64)
      return ReadStatus::kWrongKind;
    return Windows(detail::U64Key(key), fn);
  }
  ReadStatus GetWindows(std::string_view key, const RowFn& fn) {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kWindowed || shape().key_type != KeyType::kBytes)
      return ReadStatus::kWrongKind;
    detail::KeyRef k;
    if (!detail::BytesKey(key, shape().key_size, &k)) return ReadStatus::kBadArgument;
    return Windows(k, fn);
  }

  // ---- Any kind: every row ----
  // Keyed and windowed: every entry, in slot order; each row is consistent, the whole is not a
  // snapshot. Top-K: the list, best first. List: every retained row, oldest first. kStale if
  // some entries were skipped because they stayed mid-update (the others were all visited).
  ReadStatus Scan(const RowFn& fn) {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    switch (shape().kind) {
      case ViewKind::kKeyed:
      case ViewKind::kWindowed:
        return ScanSlots(fn);
      case ViewKind::kTopK:
        return TopK(fn);
      case ViewKind::kList: {
        std::uint64_t next = 0;
        return ListRows(0, UINT64_MAX, fn, &next);
      }
    }
    return ReadStatus::kWrongKind;
  }

  // Scan a chunk at a time: at most `max_rows` rows from position `from` (0: the start); *next
  // receives where the next chunk starts, UINT64_MAX once every row has been visited, so that
  // a reader of a large view holds one chunk at a time. Positions: keyed and windowed, the
  // slots (an entry that moves between chunks may be missed or seen twice, as by one Scan);
  // top-K, the ranks of the list as it is at each chunk; list, the rows' indexes.
  ReadStatus ScanFrom(std::uint64_t from, std::uint64_t max_rows, const RowFn& fn,
                      std::uint64_t* next) {
    *next = UINT64_MAX;
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (max_rows == 0) {
      *next = from;
      return ReadStatus::kOk;
    }
    switch (shape().kind) {
      case ViewKind::kKeyed:
      case ViewKind::kWindowed:
        return ScanSlots(fn, from, max_rows, next);
      case ViewKind::kTopK: {
        std::uint64_t delivered = 0;
        const ReadStatus s = TopK([&](const RowView& v) {
          if (v.index < from) return true;
          if (delivered == max_rows) {
            *next = v.index;
            return false;
          }
          ++delivered;
          if (fn(v)) return true;
          *next = v.index + 1;
          return false;
        });
        return s == ReadStatus::kNotFound ? ReadStatus::kOk : s;
      }
      case ViewKind::kList: {
        const ReadStatus s = ListRows(from, max_rows, fn, next);
        // acquire: as ListRows read it; rows appended since are the next chunk's.
        if (*next >= detail::LoadAcquire(header()->list.count)) *next = UINT64_MAX;
        return s;
      }
    }
    return ReadStatus::kWrongKind;
  }

  // ---- Top-K ----
  // The current list, best first, read as one consistent snapshot.
  ReadStatus TopK(const RowFn& fn) {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kTopK) return ReadStatus::kWrongKind;
    const std::uint32_t row = shape().slot_size;
    Backoff backoff;
    std::uint64_t n = 0;
    for (;;) {
      // acquire: the buffer `active` names was complete before it was named.
      const std::uint64_t b = detail::LoadAcquire(header()->list.active) & 1;
      const std::byte* buf = parts_[0].slots + b * shape().topk_buffer_size;
      const auto& seq = *reinterpret_cast<const std::uint64_t*>(buf);
      const bool ok = detail::TrySeqRead(seq, [&] {
        n = std::min<std::uint64_t>(
            detail::LoadRelaxed(*reinterpret_cast<const std::uint64_t*>(buf + 8)),
            shape().capacity);
        detail::CopyFromShared(Scratch(n * row), buf + kTopKBufferHeader, n * row);
      });
      if (ok) break;
      if (ReadStatus s = backoff.Wait(*this, parts_[0]); s != ReadStatus::kOk) return s;
    }
    const std::byte* rows = reinterpret_cast<const std::byte*>(scratch_.data());
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::byte* r = rows + i * row;
      RowView v;
      std::uint64_t key_len;
      std::memcpy(&v.offset, r, 8);
      std::memcpy(&key_len, r + 8, 8);
      DecodeKey(reinterpret_cast<const std::uint64_t*>(r + kTopKRowHeader),
                static_cast<std::uint32_t>(std::min<std::uint64_t>(key_len, shape().key_size)), &v);
      v.index = i;
      v.value = std::span<const std::byte>(r + kTopKRowHeader + Align8(shape().key_size),
                                           shape().value_size);
      if (!fn(v)) break;
    }
    return ReadStatus::kOk;
  }

  // ---- Result lists ----
  // Rows appended so far (row i is retained while i >= count - capacity).
  std::uint64_t ListCount() const { return detail::LoadAcquire(header()->list.count); }
  // Reads up to `max_rows` retained rows from index `from` on, oldest first; `*next` receives the
  // index to continue from. Rows already overwritten are skipped.
  ReadStatus ListRows(std::uint64_t from, std::uint64_t max_rows, const RowFn& fn,
                      std::uint64_t* next) {
    if (ReadStatus s = Follow(); s != ReadStatus::kOk) return s;
    if (shape().kind != ViewKind::kList) return ReadStatus::kWrongKind;
    // acquire: rows below count were complete before count covered them.
    const std::uint64_t count = detail::LoadAcquire(header()->list.count);
    const std::uint64_t first = count > shape().capacity ? count - shape().capacity : 0;
    std::uint64_t i = std::max(from, first);
    *next = i;
    bool skipped = false;
    std::uint64_t* buf = Scratch(shape().slot_size);
    for (std::uint64_t done = 0; i < count && done < max_rows; ++i, ++done) {
      const std::byte* slot = parts_[0].slots + (i % shape().capacity) * shape().slot_size;
      const auto& seq = *reinterpret_cast<const std::uint64_t*>(slot);
      Backoff backoff;
      ReadStatus st = ReadStatus::kOk;
      while (
          !detail::TrySeqRead(seq, [&] { detail::CopyFromShared(buf, slot, shape().slot_size); })) {
        if ((st = backoff.Wait(*this, parts_[0])) != ReadStatus::kOk) break;
      }
      *next = i + 1;
      if (st != ReadStatus::kOk) {
        skipped = true;
        continue;
      }
      if (buf[1] != i) continue;  // overwritten by a later row
      RowView v;
      v.index = i;
      v.offset = buf[2];
      v.value = std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf) + kListRowHeader,
                                           shape().value_size);
      if (!fn(v)) return ReadStatus::kOk;
    }
    return skipped ? ReadStatus::kStale : ReadStatus::kOk;
  }

  // ---- Progress and description ----
  // The log offset up to which the writer has applied records (acquire: what it applied first).
  // A sharded view reflects the log as far as its slowest shard.
  std::uint64_t applied_offset() const {
    std::uint64_t offset = UINT64_MAX;
    for (const Part& p : parts_)
      offset = std::min(offset, detail::LoadAcquire(p.header()->progress.applied_offset));
    return offset;
  }
  std::int64_t watermark_ns() const {
    std::int64_t watermark = INT64_MAX;
    for (const Part& p : parts_)
      watermark = std::min(watermark, detail::LoadRelaxed(p.header()->progress.watermark_ns));
    return watermark;
  }
  std::uint32_t shard_count() const { return static_cast<std::uint32_t>(parts_.size()); }

  ViewInfo Info() {
    (void)Follow();
    ViewInfo i;
    i.namespace_path = ns_path_;
    i.name = name_;
    if (pinned_version_ == 0) {
      i.alias = name_;
      i.alias_epoch = AliasEpoch(alias_cached_);
    }
    i.version = shape().view_version;
    i.generation = shape().generation;
    i.shard_count = static_cast<std::uint32_t>(parts_.size());
    i.kind = shape().kind;
    i.key_type = shape().key_type;
    i.key_size = shape().key_size;
    i.key_name = shape().key_name;
    i.schema = shape().schema;
    i.window_size_ns = shape().window_size_ns;
    i.window_slide_ns = shape().window_slide_ns;
    i.retention_ns = shape().retention_ns;
    i.windows_per_key = shape().windows_per_key;
    if (shape().kind == ViewKind::kTopK)
      i.order_field = shape().schema.field(shape().order_field).name;
    i.order_descending = shape().order_descending;
    i.created_unix_ns = shape().created_unix_ns;
    const ViewHeader* h = header();
    i.writer_pid = detail::LoadRelaxed(h->writer.pid);
    i.writer_epoch = detail::LoadRelaxed(h->writer.epoch);
    i.writer_state = static_cast<WriterState>(detail::LoadRelaxed(h->writer.state));
    i.list_count = detail::LoadRelaxed(h->list.count);
    i.writer_alive = true;
    i.applied_offset = UINT64_MAX;
    i.watermark_ns = INT64_MAX;
    i.heartbeat_unix_ns = INT64_MAX;
    i.newest_window = INT64_MIN;
    // A sharded view: sizes and counters add up; it reflects the log as far as its slowest shard.
    for (const Part& p : parts_) {
      const ViewHeader* ph = p.header();
      ShardInfo si;
      si.shard = p.shape.shard;
      si.generation = p.shape.generation;
      si.capacity = p.shape.capacity;
      si.writer_pid = detail::LoadRelaxed(ph->writer.pid);
      si.writer_alive = PartWriterAlive(p);
      si.heartbeat_unix_ns = detail::LoadRelaxed(ph->writer.heartbeat_unix_ns);
      si.applied_offset = detail::LoadRelaxed(ph->progress.applied_offset);
      si.watermark_ns = detail::LoadRelaxed(ph->progress.watermark_ns);
      const CounterLine& c = ph->counters;
      si.counters = {detail::LoadRelaxed(c.updates),  detail::LoadRelaxed(c.inserts),
                     detail::LoadRelaxed(c.entries),  detail::LoadRelaxed(c.tombstones),
                     detail::LoadRelaxed(c.expired),  detail::LoadRelaxed(c.repaired),
                     detail::LoadRelaxed(c.publishes)};
      i.capacity += si.capacity;
      i.file_bytes += p.map.size();
      i.writer_alive = i.writer_alive && si.writer_alive;
      i.heartbeat_unix_ns = std::min(i.heartbeat_unix_ns, si.heartbeat_unix_ns);
      i.applied_offset = std::min(i.applied_offset, si.applied_offset);
      i.watermark_ns = std::min(i.watermark_ns, si.watermark_ns);
      i.newest_window =
          std::max(i.newest_window,
                   static_cast<std::int64_t>(detail::LoadRelaxed(ph->progress.newest_window)));
      i.counters.updates += si.counters.updates;
      i.counters.inserts += si.counters.inserts;
      i.counters.entries += si.counters.entries;
      i.counters.tombstones += si.counters.tombstones;
      i.counters.expired += si.counters.expired;
      i.counters.repaired += si.counters.repaired;
      i.counters.publishes += si.counters.publishes;
      i.shards.push_back(si);
    }
    return i;
  }

  // True if every shard has a writer attached whose process still runs.
  bool WriterAlive() const {
    for (const Part& p : parts_) {
      if (!PartWriterAlive(p)) return false;
    }
    return true;
  }

  // Checks the alias and generation now (every read does this first): kOk if the reader is on
  // the current file (after following a change), kGone if the view was retired.
  ReadStatus Follow() noexcept {
    // acquire: a flip or growth published a complete file before storing these words.
    bool current = detail::LoadAcquire(*alias_word_) == alias_cached_;
    for (const Part& p : parts_)
      current &= detail::LoadAcquire(*p.generation_word) == p.generation_cached;
    if (current) [[likely]]
      return ReadStatus::kOk;
    try {
      const Status s = Resolve();
      if (s.ok()) return ReadStatus::kOk;
      return s.code() == StatusCode::kNotFound ? ReadStatus::kGone : ReadStatus::kBusy;
    } catch (...) {
      return ReadStatus::kBusy;
    }
  }

 private:
  ViewReader() = default;

  // One mapped file: the view, or one shard of it.
  struct Part {
    detail::Mapping map;
    detail::ViewShape shape;
    const std::byte* slots = nullptr;
    const std::uint64_t* generation_word = nullptr;  // in the registry
    std::uint64_t generation_cached = 0;
    const ViewHeader* header() const { return reinterpret_cast<const ViewHeader*>(map.data()); }
  };

  // Retries a read that found its entry mid-update: spin, then yield; gives up with kStale once
  // the writer's process is gone, or after options_.stale_after_ns of no success.
  class Backoff {
   public:
    ReadStatus Wait(const ViewReader& r, const Part& p) {
      ++spins_;
      if (spins_ < 256) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
        return ReadStatus::kOk;
      }
      if ((spins_ & 63) == 0) {
        const std::int64_t now = detail::MonotonicNs();
        if (since_ == 0) since_ = now;
        if (!PartWriterAlive(p) || now - since_ >= r.options_.stale_after_ns)
          return ReadStatus::kStale;
      }
      sched_yield();
      return ReadStatus::kOk;
    }

   private:
    std::uint32_t spins_ = 0;
    std::int64_t since_ = 0;
  };

  const detail::ViewShape& shape() const { return parts_[0].shape; }
  const ViewHeader* header() const { return parts_[0].header(); }
  // The part holding key k.
  Part& PartOf(const detail::KeyRef& k) {
    if (shard_mask_ == 0) [[likely]]
      return parts_[0];
    return parts_[detail::ShardOf(k, shape().key_type, shard_mask_ + 1)];
  }
  static bool PartWriterAlive(const Part& p) {
    const ViewHeader* h = p.header();
    return detail::ProcessAlive(detail::LoadRelaxed(h->writer.pid),
                                detail::LoadRelaxed(h->writer.pid_start_ticks));
  }

  std::uint64_t* Scratch(std::uint64_t bytes) {
    const std::size_t words = static_cast<std::size_t>((bytes + 7) / 8) + 1;
    if (scratch_.size() < words) scratch_.resize(words);
    return scratch_.data();
  }

  // (Re)resolves the alias and the current generation of every shard of the version it names,
  // and maps those files.
  Status Resolve() {
    for (int attempt = 0;; ++attempt) {
      std::uint32_t version = pinned_version_;
      std::uint64_t alias_word = 0;
      const std::uint64_t* alias_ptr = &pinned_word_;
      if (version == 0) {
        auto alias = registry_.FindAlias(name_);
        if (!alias.ok()) return alias.status();
        version = alias->version();
        alias_word = alias->current;
        alias_ptr = &registry_.alias_word(alias->index);
      }
      auto shards = registry_.FindShards(name_, version);
      if (!shards.ok()) return shards.status();
      std::vector<Part> parts(shards->size());
      Status s;
      for (std::size_t i = 0; i < parts.size() && s.ok(); ++i) {
        const detail::ViewRecord& view = (*shards)[i];
        const std::string file =
            detail::ViewFileName(name_, version, view.generation(), view.shard, view.shard_count);
        s = detail::MapView(dir_fd_, file, ns_path_ + "/" + file, /*writable=*/false, &parts[i].map,
                            &parts[i].shape);
        if (s.ok() &&
            (parts[i].shape.name != name_ || parts[i].shape.view_version != version ||
             parts[i].shape.generation != view.generation() || parts[i].shape.shard != view.shard ||
             parts[i].shape.shard_count != view.shard_count ||
             parts[i].shape.value_size != parts[0].shape.value_size))
          s = Status::Error(StatusCode::kCorrupt,
                            ns_path_ + "/" + file + ": header names another view");
        parts[i].slots = parts[i].map.data() + parts[i].shape.slots_offset;
        parts[i].generation_word = &registry_.generation_word(view.index);
        parts[i].generation_cached = view.generation_word;
      }
      if (s.code() == StatusCode::kNotFound && attempt < 100) {
        sched_yield();  // it grew again (or was retired) between the lookup and the open
        continue;
      }
      if (!s.ok()) return s;
      parts_ = std::move(parts);
      shard_mask_ = static_cast<std::uint32_t>(parts_.size() - 1);
      key_words_ = Align8(shape().key_size) / 8;
      alias_word_ = alias_ptr;
      alias_cached_ = alias_word;
      return Status::Ok();
    }
  }

  void DecodeKey(const std::uint64_t* words, std::uint32_t len, RowView* v) const {
    if (shape().key_type == KeyType::kU64) {
      v->key_u64 = words[0];
    } else {
      const char* p = reinterpret_cast<const char*>(words);
      v->key_bytes = std::string_view(p, std::min<std::uint32_t>(len, shape().key_size));
    }
  }

  // Probes for (key, window) with the given slot flags; copies the value on a hit.
  ReadStatus Lookup(const detail::KeyRef& k, std::int64_t window, std::uint16_t flags,
                    std::span<std::byte> value, std::uint64_t* offset) noexcept {
    const Part& part = PartOf(k);
    const detail::ViewShape& shape = part.shape;
    const std::uint32_t payload =
        flags == kSlotFlagDirectory ? shape.slot.payload : shape.value_size;
    if (value.size() < payload) return ReadStatus::kBadArgument;
    const bool windowed = shape.kind == ViewKind::kWindowed;
    const std::uint64_t h = windowed
                                ? detail::WindowKeyHash(k, shape.key_type, window, shape.hash_seed)
                                : detail::KeyHash(k, shape.key_type, shape.hash_seed);
    const std::uint64_t want = MakeMeta(kSlotLive, static_cast<std::uint8_t>(k.len), flags,
                                        static_cast<std::uint32_t>(h >> 32));
    std::uint64_t idx = h & shape.mask;
    for (std::uint64_t probes = 0; probes <= shape.mask; ++probes, idx = (idx + 1) & shape.mask) {
      const std::byte* slot = part.slots + idx * shape.slot.size;
      const auto* words = reinterpret_cast<const std::uint64_t*>(slot);
      Backoff backoff;
      for (;;) {
        const std::uint64_t before = detail::LoadAcquire(words[0]);
        if (before & 1) {
          if (ReadStatus s = backoff.Wait(*this, part); s != ReadStatus::kOk) return s;
          continue;
        }
        // Decisions to stop or to skip on words read before validation are sound: each word
        // was current at some instant during this read (and a slot's key changes only by a
        // delete and a later insert), so the read takes effect at that instant.
        const std::uint64_t meta = detail::LoadRelaxed(words[1]);
        if (meta != want) {
          if (MetaState(meta) == kSlotEmpty) return ReadStatus::kNotFound;
          break;
        }
        if (windowed && static_cast<std::int64_t>(detail::LoadRelaxed(words[3])) != window) break;
        const auto* key = reinterpret_cast<const std::uint64_t*>(slot + shape.slot.key_at);
        bool same = true;
        for (std::uint32_t i = 0; i < key_words_; ++i)
          same &= detail::LoadRelaxed(key[i]) == k.words[i];
        if (!same) break;
        const std::uint64_t off = detail::LoadRelaxed(words[2]);
        detail::CopyFromShared(value.data(), slot + shape.slot.value_at, payload);
        // acquire: the loads above complete before seq is read again.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (detail::LoadRelaxed(words[0]) != before) {
          if (ReadStatus s = backoff.Wait(*this, part); s != ReadStatus::kOk) return s;
          continue;
        }
        if (offset) *offset = off;
        return ReadStatus::kOk;
      }
    }
    return ReadStatus::kNotFound;
  }

  ReadStatus Windows(const detail::KeyRef& k, const RowFn& fn) {
    std::vector<std::byte> dir(shape().slot.payload);
    std::uint64_t dir_offset = 0;
    ReadStatus s = Lookup(k, detail::kDirectoryWindow, kSlotFlagDirectory, dir, &dir_offset);
    if (s != ReadStatus::kOk) return s;
    std::uint64_t n = 0;
    std::memcpy(&n, dir.data(), 8);
    n = std::min<std::uint64_t>(n, shape().windows_per_key);
    std::vector<std::byte> value(shape().value_size);
    bool any = false;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::int64_t start;
      std::memcpy(&start, dir.data() + 8 + 8 * i, 8);
      RowView v;
      s = Lookup(k, start, 0, value, &v.offset);
      if (s == ReadStatus::kNotFound) continue;  // expired since the directory was read
      if (s != ReadStatus::kOk) return s;
      any = true;
      DecodeKey(k.words, k.len, &v);
      v.window_start = start;
      v.value = value;
      if (!fn(v)) break;
    }
    return any ? ReadStatus::kOk : ReadStatus::kNotFound;
  }

  // Every live slot from position `from` (the slots of all parts, in order), at most
  // `max_rows` of them; *next (if given) is the position after the last one visited, or
  // UINT64_MAX at the end.
  ReadStatus ScanSlots(const RowFn& fn, std::uint64_t from = 0, std::uint64_t max_rows = UINT64_MAX,
                       std::uint64_t* next = nullptr) {
    const std::uint32_t size = shape().slot.size;
    std::uint64_t* buf = Scratch(size);
    const auto* bytes = reinterpret_cast<const std::byte*>(buf);
    bool skipped = false;
    std::uint64_t base = 0;  // the position of the part's first slot
    std::uint64_t delivered = 0;
    if (next != nullptr) *next = UINT64_MAX;
    for (const Part& part : parts_) {
      const std::uint64_t part_base = base;
      base += part.shape.capacity;
      if (from >= base) continue;
      for (std::uint64_t idx = from > part_base ? from - part_base : 0; idx < part.shape.capacity;
           ++idx) {
        const std::byte* slot = part.slots + idx * size;
        const auto& seq = *reinterpret_cast<const std::uint64_t*>(slot);
        // Most slots of a sparse table are empty: skip them on the meta word alone.
        if (MetaState(detail::LoadRelaxed(reinterpret_cast<const std::uint64_t*>(slot)[1])) !=
                kSlotLive &&
            (detail::LoadRelaxed(seq) & 1) == 0)
          continue;
        Backoff backoff;
        ReadStatus st = ReadStatus::kOk;
        while (!detail::TrySeqRead(seq, [&] { detail::CopyFromShared(buf, slot, size); })) {
          if ((st = backoff.Wait(*this, part)) != ReadStatus::kOk) break;
        }
        if (st != ReadStatus::kOk) {
          skipped = true;
          continue;
        }
        const std::uint64_t meta = buf[1];
        if (MetaState(meta) != kSlotLive || MetaFlags(meta) != 0) continue;
        RowView v;
        v.offset = buf[2];
        if (shape().kind == ViewKind::kWindowed) v.window_start = static_cast<std::int64_t>(buf[3]);
        DecodeKey(reinterpret_cast<const std::uint64_t*>(bytes + shape().slot.key_at),
                  MetaKeyLen(meta), &v);
        v.index = idx;
        v.value = std::span<const std::byte>(bytes + shape().slot.value_at, shape().value_size);
        const bool go_on = fn(v);
        if (!go_on || ++delivered == max_rows) {
          if (next != nullptr) *next = part_base + idx + 1;
          return !go_on || !skipped ? ReadStatus::kOk : ReadStatus::kStale;
        }
      }
    }
    return skipped ? ReadStatus::kStale : ReadStatus::kOk;
  }

  ReaderOptions options_;
  std::string ns_path_;
  std::string name_;
  std::uint32_t pinned_version_ = 0;  // 0: follow the alias
  int dir_fd_ = -1;
  detail::RegistryMap registry_;
  std::vector<Part> parts_;  // one per shard (one for an unsharded view)
  std::uint32_t shard_mask_ = 0;
  std::uint32_t key_words_ = 0;
  const std::uint64_t pinned_word_ = 0;
  const std::uint64_t* alias_word_ = &pinned_word_;
  std::uint64_t alias_cached_ = 0;
  std::vector<std::uint64_t> scratch_;
};

}  // namespace kappa::serving
