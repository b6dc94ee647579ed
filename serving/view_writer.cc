#include "serving/view_writer.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "base/check.h"

namespace kappa::serving {

using detail::KeyRef;
using detail::LoadRelaxed;
using detail::SlotTable;
using detail::StoreRelaxed;
using detail::StoreRelease;
using detail::ViewFile;
using detail::ViewShape;

std::string DescribeWriteResult(WriteResult r, const std::string& grow_error) {
  std::string text = WriteResultName(r);
  if (r == WriteResult::kFull && !grow_error.empty()) text += ": " + grow_error;
  return text;
}

const char* WriteResultName(WriteResult r) {
  switch (r) {
    case WriteResult::kOk:
      return "ok";
    case WriteResult::kFull:
      return "full (the table could not grow)";
    case WriteResult::kBadArgument:
      return "bad argument";
    case WriteResult::kWrongKey:
      return "wrong key type for this view";
    case WriteResult::kWrongShard:
      return "the key belongs to another shard";
  }
  return "unknown";
}

namespace {

Status Invalid(std::string_view name, const std::string& what) {
  return Status::Error(StatusCode::kInvalidArgument, std::string(name) + ": " + what);
}

// The shape fields every kind shares, checked.
Result<ViewShape> BaseShape(std::string_view name, std::uint32_t version, ViewKind kind,
                            KeyType key_type, std::uint32_t key_size, const std::string& key_name,
                            const Schema& schema) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  if (version == 0) return Invalid(name, "view versions start at 1");
  if (schema.size() == 0)
    return Invalid(name, "the value schema has no fields (make it with Schema::Make)");
  ViewShape s;
  s.kind = kind;
  s.key_type = key_type;
  if (kind == ViewKind::kList) {
    s.key_type = KeyType::kNone;
    s.key_size = 0;
  } else if (key_type == KeyType::kU64) {
    s.key_size = 8;
  } else if (key_type == KeyType::kBytes) {
    if (key_size == 0 || key_size > kMaxKeyBytes)
      return Invalid(name, "bytes keys hold 1 to " + std::to_string(kMaxKeyBytes) + " bytes, not " +
                               std::to_string(key_size));
    s.key_size = key_size;
  } else {
    return Invalid(name, "a keyed view needs a u64 or bytes key");
  }
  if (kind != ViewKind::kList) {
    if (!Schema::ValidFieldName(key_name)) return Invalid(name, "bad key name '" + key_name + "'");
    if (schema.Find(key_name) >= 0)
      return Invalid(name, "the key name '" + key_name + "' is also the name of a value field");
    s.key_name = key_name;
  }
  s.value_size = schema.value_size();
  s.schema = schema;
  s.slots_offset = kViewHeaderSize;
  s.view_version = version;
  s.generation = 0;
  s.created_unix_ns = detail::UnixNs();
  s.name = std::string(name);
  std::random_device rd;
  s.hash_seed = (std::uint64_t{rd()} << 32) | rd();
  return s;
}

Status SetShards(std::string_view name, std::uint32_t shards, std::uint32_t shard, ViewShape* s) {
  if (shards == 0 || shards > kMaxShards || (shards & (shards - 1)) != 0)
    return Invalid(name, "shards must be a power of two from 1 to " + std::to_string(kMaxShards));
  if (shard >= shards)
    return Invalid(name, "shard " + std::to_string(shard) + " of " + std::to_string(shards));
  s->shard = shard;
  s->shard_count = shards;
  return Status::Ok();
}

// Slots for `expected` entries at a starting load of one half.
Result<std::uint64_t> SlotsFor(std::string_view name, std::uint64_t expected) {
  if (expected == 0 || expected > kMaxSlots / 2)
    return Invalid(name, "expected entries must be 1 to " + std::to_string(kMaxSlots / 2));
  return std::max<std::uint64_t>(kMinSlots, std::bit_ceil(expected * 2));
}

}  // namespace

// ---- TableCore ----

namespace detail {

Result<std::unique_ptr<TableCore>> TableCore::Create(Namespace& ns, ViewShape shape) {
  shape.slot = MakeSlotLayout(shape.kind, shape.key_size, shape.value_size, shape.windows_per_key);
  shape.slot_size = shape.slot.size;
  shape.mask = shape.capacity - 1;
  auto file = ViewFile::Create(ns, shape);
  if (!file.ok()) return file.status();
  const std::string name =
      ViewFileName(shape.name, shape.view_version, 0, shape.shard, shape.shard_count);
  if (Status s =
          ns.AddView(shape.name, shape.view_version, shape.kind, 0, shape.shard, shape.shard_count);
      !s.ok()) {
    ::unlinkat(ns.dir_fd(), name.c_str(), 0);
    return s;
  }
  return std::unique_ptr<TableCore>(new TableCore(std::move(file).value()));
}

Result<std::unique_ptr<TableCore>> TableCore::Attach(Namespace& ns, std::string_view name,
                                                     std::uint32_t version, std::uint32_t shard,
                                                     ViewKind kind) {
  auto file = ViewFile::Attach(ns, name, version, shard);
  if (!file.ok()) return file.status();
  if ((*file)->shape().kind != kind)
    return Status::Error(StatusCode::kInvalidArgument, (*file)->path() + ": is a " +
                                                           ViewKindName((*file)->shape().kind) +
                                                           " view, not " + ViewKindName(kind));
  std::unique_ptr<TableCore> core(new TableCore(std::move(file).value()));
  std::uint64_t repaired = 0;
  for (std::uint64_t i = 0; i < core->shape().capacity; ++i)
    repaired += core->table_.Repair(i) ? 1 : 0;
  ViewFile::Add(core->file_->header()->counters.repaired, static_cast<std::int64_t>(repaired));
  core->Recount();
  return core;
}

void TableCore::Recount() {
  live_ = tombstones_ = 0;
  for (std::uint64_t i = 0; i < shape().capacity; ++i) {
    const std::uint8_t state = MetaState(table_.Meta(i));
    if (state == kSlotLive) ++live_;
    if (state == kSlotTombstone) ++tombstones_;
  }
  CounterLine& c = file_->header()->counters;
  StoreRelaxed(c.entries, live_);
  StoreRelaxed(c.tombstones, tombstones_);
}

bool TableCore::Grow() {
  const ViewShape& old = shape();
  return Rebuild(live_, [&](auto&& emit) {
    alignas(8) std::byte payload[kMaxValueSize + 8 * (kMaxWindowsPerKey + 1)];
    for (std::uint64_t i = 0; i < old.capacity; ++i) {
      const std::uint64_t meta = table_.Meta(i);
      if (MetaState(meta) != kSlotLive) continue;
      KeyRef k;
      std::int64_t window;
      table_.ReadKey(i, &k, &window);
      CopyFromShared(payload, table_.Payload(i), old.slot.payload);
      emit(k, window, MetaFlags(meta), table_.Offset(i), payload);
    }
  });
}

template <class ForEachRow>
bool TableCore::Rebuild(std::uint64_t entries, ForEachRow&& each) {
  const ViewShape& old = shape();
  std::uint64_t capacity = kMinSlots;
  while ((entries + 1) * 2 > capacity) capacity *= 2;  // a load of at most one half
  if (capacity > kMaxSlots) {
    grow_error_ = file_->path() + ": " + std::to_string(entries) +
                  " entries need more than the largest table (" + std::to_string(kMaxSlots) +
                  " slots)";
    return false;
  }
  ViewShape next = old;
  next.capacity = capacity;
  next.mask = capacity - 1;
  next.generation = old.generation + 1;
  next.created_unix_ns = UnixNs();
  auto created = ViewFile::Create(file_->ns(), next);
  if (!created.ok()) {
    grow_error_ = created.status().message();
    return false;
  }
  std::unique_ptr<ViewFile> file = std::move(created).value();
  SlotTable table(file.get());
  std::uint64_t live = 0;
  each([&](const KeyRef& k, std::int64_t window, std::uint16_t flags, std::uint64_t offset,
           const std::byte* payload) {
    const std::uint64_t h = table.Hash(k, window);
    bool inserted;
    const std::int64_t idx = table.FindOrClaim(k, h, window, flags, &inserted);
    table.Write(static_cast<std::uint64_t>(idx), k, h, window, flags, offset, payload,
                old.slot.payload);
    live += inserted ? 1 : 0;
  });
  file->InheritFrom(*file_);
  if (Status s =
          file_->ns().PublishGeneration(next.name, next.view_version, next.generation, next.shard);
      !s.ok()) {
    grow_error_ = s.message();
    file->Supersede();  // removes the unpublished file
    return false;
  }
  file_->Supersede();
  file_ = std::move(file);
  table_ = SlotTable(file_.get());
  live_ = live;
  tombstones_ = 0;
  CountWrite(false);
  return true;
}

// Exported rows: u64 count, u64 row size, then each row: u64 flags, u64 offset, i64 window,
// u64 key length, the key words, the payload.
std::string TableCore::Export() const {
  const ViewShape& s = shape();
  const std::uint32_t key_words = Align8(s.key_size) / 8;
  const std::uint64_t row = 32 + 8 * key_words + s.slot.payload;
  std::string out(16 + row * live_, '\0');
  std::uint64_t n = 0;
  std::byte* p = reinterpret_cast<std::byte*>(out.data()) + 16;
  for (std::uint64_t i = 0; i < s.capacity && n < live_; ++i) {
    const std::uint64_t meta = table_.Meta(i);
    if (MetaState(meta) != kSlotLive) continue;
    KeyRef k;
    std::int64_t window;
    table_.ReadKey(i, &k, &window);
    const std::uint64_t head[4] = {MetaFlags(meta), table_.Offset(i),
                                   static_cast<std::uint64_t>(window), k.len};
    std::memcpy(p, head, sizeof head);
    std::memcpy(p + 32, k.words, 8 * key_words);
    CopyFromShared(p + 32 + 8 * key_words, table_.Payload(i), s.slot.payload);
    p += row;
    ++n;
  }
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, &row, 8);
  out.resize(16 + row * n);
  return out;
}

Status TableCore::Replace(std::string_view rows) {
  const ViewShape& s = shape();
  const std::uint32_t key_words = Align8(s.key_size) / 8;
  const std::uint64_t row = 32 + 8 * key_words + s.slot.payload;
  std::uint64_t n = 0, size = 0;
  if (rows.size() >= 16) {
    std::memcpy(&n, rows.data(), 8);
    std::memcpy(&size, rows.data() + 8, 8);
  }
  const bool fits = rows.size() >= 16 && (n == 0 ? rows.size() == 16
                                                 : size == row && n <= (rows.size() - 16) / row &&
                                                       rows.size() == 16 + n * row);
  if (!fits)
    return Status::Error(StatusCode::kCorrupt,
                         file_->path() + ": exported rows do not fit this view's layout");
  const auto* base = reinterpret_cast<const std::byte*>(rows.data()) + 16;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t len;
    std::memcpy(&len, base + i * row + 24, 8);
    if (len > s.key_size)
      return Status::Error(StatusCode::kCorrupt, file_->path() + ": exported key too long");
  }
  const bool ok = Rebuild(n, [&](auto&& emit) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::byte* p = base + i * row;
      std::uint64_t head[4];
      std::memcpy(head, p, sizeof head);
      KeyRef k;
      k.len = static_cast<std::uint32_t>(head[3]);
      std::memcpy(k.words, p + 32, 8 * key_words);
      emit(k, static_cast<std::int64_t>(head[2]), static_cast<std::uint16_t>(head[0]), head[1],
           p + 32 + 8 * key_words);
    }
  });
  if (!ok)
    return Status::Error(StatusCode::kResourceExhausted,
                         file_->path() + ": cannot write the restored table");
  return Status::Ok();
}

}  // namespace detail

// ---- KeyedTableWriter ----

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

// ---- WindowedTableWriter ----

Result<std::unique_ptr<WindowedTableWriter>> WindowedTableWriter::Create(
    Namespace& ns, std::string_view name, std::uint32_t version, const WindowedTableOptions& o) {
  auto shape =
      BaseShape(name, version, ViewKind::kWindowed, o.key_type, o.key_size, o.key_name, o.schema);
  if (!shape.ok()) return shape.status();
  if (o.window_size_ns <= 0) return Invalid(name, "window size must be > 0");
  const std::int64_t slide = o.window_slide_ns == 0 ? o.window_size_ns : o.window_slide_ns;
  if (slide < 0 || slide > o.window_size_ns)
    return Invalid(name, "window slide must be in (0, size]");
  if (o.windows_per_key == 0 || o.windows_per_key > kMaxWindowsPerKey)
    return Invalid(name, "windows per key must be 1 to " + std::to_string(kMaxWindowsPerKey));
  if (o.retention_ns < 0) return Invalid(name, "retention must be >= 0");
  auto slots = SlotsFor(name, o.expected_entries);
  if (!slots.ok()) return slots.status();
  shape->capacity = *slots;
  shape->window_size_ns = o.window_size_ns;
  shape->window_slide_ns = slide;
  shape->windows_per_key = o.windows_per_key;
  shape->retention_ns = o.retention_ns;
  if (Status s = SetShards(name, o.shards, o.shard, &*shape); !s.ok()) return s;
  auto core = detail::TableCore::Create(ns, std::move(shape).value());
  if (!core.ok()) return core.status();
  StoreRelaxed((*core)->file().header()->progress.newest_window,
               std::numeric_limits<std::int64_t>::min());
  return std::unique_ptr<WindowedTableWriter>(new WindowedTableWriter(std::move(core).value()));
}

Result<std::unique_ptr<WindowedTableWriter>> WindowedTableWriter::Open(Namespace& ns,
                                                                       std::string_view name,
                                                                       std::uint32_t version,
                                                                       std::uint32_t shard) {
  auto core = detail::TableCore::Attach(ns, name, version, shard, ViewKind::kWindowed);
  if (!core.ok()) return core.status();
  std::unique_ptr<WindowedTableWriter> w(new WindowedTableWriter(std::move(core).value()));
  w->RebuildDirectories();
  return w;
}

WriteResult WindowedTableWriter::Upsert(std::uint64_t key, std::int64_t window,
                                        std::span<const std::byte> value, std::uint64_t offset) {
  if (core_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
  return Set(detail::U64Key(key), window, value, offset);
}
WriteResult WindowedTableWriter::Upsert(std::string_view key, std::int64_t window,
                                        std::span<const std::byte> value, std::uint64_t offset) {
  KeyRef k;
  if (WriteResult r = BytesKey(key, &k); r != WriteResult::kOk) return r;
  return Set(k, window, value, offset);
}

WriteResult WindowedTableWriter::Set(const KeyRef& k, std::int64_t window,
                                     std::span<const std::byte> value, std::uint64_t offset) {
  const std::uint32_t n = core_->shape().value_size;
  if (value.size() != n || window == detail::kDirectoryWindow) return WriteResult::kBadArgument;
  if (!core_->Owns(k)) return WriteResult::kWrongShard;
  SlotTable* t = &core_->table();
  const std::uint64_t h = t->Hash(k, window);
  bool inserted = false;
  std::int64_t idx = t->FindOrClaim(k, h, window, 0, &inserted);
  if (!inserted) {
    t->Write(static_cast<std::uint64_t>(idx), k, h, window, 0, offset, value.data(), n);
    core_->CountWrite(false);
    return WriteResult::kOk;
  }
  if (!core_->Reserve()) return WriteResult::kFull;
  t = &core_->table();
  idx = t->FindOrClaim(k, h, window, 0, &inserted);
  if (idx < 0) return WriteResult::kFull;
  core_->Inserted(static_cast<std::uint64_t>(idx));
  t->Write(static_cast<std::uint64_t>(idx), k, h, window, 0, offset, value.data(), n);
  core_->CountWrite(true);
  std::int64_t& newest = core_->file().header()->progress.newest_window;
  if (window > LoadRelaxed(newest)) StoreRelaxed(newest, window);
  return AddToDirectory(k, window, offset) ? WriteResult::kOk : WriteResult::kFull;
}

namespace {
struct Directory {
  std::uint64_t count = 0;
  std::int64_t starts[kMaxWindowsPerKey] = {};
};
static_assert(sizeof(Directory) == DirectorySize(kMaxWindowsPerKey));
}  // namespace

bool WindowedTableWriter::AddToDirectory(const KeyRef& k, std::int64_t window,
                                         std::uint64_t offset) {
  // Copied: a growth below replaces the file the shape belongs to.
  const std::uint32_t per_key = core_->shape().windows_per_key;
  const std::uint32_t dir_size = DirectorySize(per_key);
  SlotTable* t = &core_->table();
  const std::uint64_t hd = t->Hash(k, detail::kDirectoryWindow);
  bool inserted = false;
  std::int64_t di = t->FindOrClaim(k, hd, detail::kDirectoryWindow, kSlotFlagDirectory, &inserted);
  Directory dir;
  if (!inserted) detail::CopyFromShared(&dir, t->Payload(static_cast<std::uint64_t>(di)), dir_size);
  dir.count = std::min<std::uint64_t>(dir.count, per_key);
  std::int64_t* begin = dir.starts;
  std::int64_t* end = dir.starts + dir.count;
  std::int64_t* at = std::lower_bound(begin, end, window);
  if (at != end && *at == window) return true;
  std::copy_backward(at, end, end + (dir.count < per_key ? 1 : 0));
  if (dir.count < per_key) {
    *at = window;
    ++dir.count;
  } else {
    // Full: the oldest window goes (unless the new one is older still: then it goes at once).
    std::int64_t evict = dir.starts[0];
    if (at == begin) {
      evict = window;
    } else {
      std::copy(begin + 1, at, begin);
      *(at - 1) = window;
    }
    const std::int64_t ei = t->Find(k, t->Hash(k, evict), evict, 0);
    if (ei >= 0) {
      t->Erase(static_cast<std::uint64_t>(ei));
      core_->Erased();
      ViewFile::Add(core_->file().header()->counters.expired, 1);
    }
  }
  if (inserted) {
    if (!core_->Reserve()) return false;
    t = &core_->table();
    di = t->FindOrClaim(k, hd, detail::kDirectoryWindow, kSlotFlagDirectory, &inserted);
    if (di < 0) return false;
    core_->Inserted(static_cast<std::uint64_t>(di));
    t->Write(static_cast<std::uint64_t>(di), k, hd, detail::kDirectoryWindow, kSlotFlagDirectory,
             offset, &dir, dir_size);
  } else {
    t->Modify(static_cast<std::uint64_t>(di), offset,
              [&](std::byte* p) { std::memcpy(p, &dir, dir_size); });
  }
  core_->CountWrite(inserted);
  return true;
}

void WindowedTableWriter::RemoveFromDirectory(const KeyRef& k, std::int64_t window,
                                              std::uint64_t offset) {
  const ViewShape& s = core_->shape();
  SlotTable& t = core_->table();
  const std::int64_t di =
      t.Find(k, t.Hash(k, detail::kDirectoryWindow), detail::kDirectoryWindow, kSlotFlagDirectory);
  if (di < 0) return;
  Directory dir;
  detail::CopyFromShared(&dir, t.Payload(static_cast<std::uint64_t>(di)),
                         DirectorySize(s.windows_per_key));
  dir.count = std::min<std::uint64_t>(dir.count, s.windows_per_key);
  std::int64_t* end = std::remove(dir.starts, dir.starts + dir.count, window);
  dir.count = static_cast<std::uint64_t>(end - dir.starts);
  if (dir.count == 0) {
    t.Erase(static_cast<std::uint64_t>(di));
    core_->Erased();
  } else {
    t.Modify(static_cast<std::uint64_t>(di), offset,
             [&](std::byte* p) { std::memcpy(p, &dir, DirectorySize(s.windows_per_key)); });
  }
  core_->CountWrite(false);
}

std::uint64_t WindowedTableWriter::Expire(std::int64_t watermark_ns) {
  const ViewShape& s = core_->shape();
  if (s.retention_ns <= 0) return 0;
  // A window [start, start + size) goes once start <= watermark - retention - size (computed
  // without overflow: below the smallest time nothing goes).
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (watermark_ns < kMin + s.retention_ns) return 0;
  const std::int64_t after_retention = watermark_ns - s.retention_ns;
  if (after_retention < kMin + s.window_size_ns) return 0;
  const std::int64_t cutoff = after_retention - s.window_size_ns;
  SlotTable& t = core_->table();
  std::uint64_t expired = 0;
  for (std::uint64_t i = 0; i < s.capacity; ++i) {
    const std::uint64_t meta = t.Meta(i);
    if (MetaState(meta) != kSlotLive || MetaFlags(meta) != 0) continue;
    KeyRef k;
    std::int64_t window;
    t.ReadKey(i, &k, &window);
    if (window > cutoff) continue;
    const std::uint64_t offset = t.Offset(i);
    t.Erase(i);
    core_->Erased();
    RemoveFromDirectory(k, window, offset);
    ++expired;
  }
  if (expired > 0) {
    ViewFile::Add(core_->file().header()->counters.expired, static_cast<std::int64_t>(expired));
    core_->CountWrite(false);
  }
  return expired;
}

void WindowedTableWriter::RebuildDirectories() {
  const ViewShape& s = core_->shape();
  SlotTable& t = core_->table();
  std::map<std::string, std::pair<KeyRef, std::vector<std::pair<std::int64_t, std::uint64_t>>>>
      windows;
  for (std::uint64_t i = 0; i < s.capacity; ++i) {
    const std::uint64_t meta = t.Meta(i);
    if (MetaState(meta) != kSlotLive) continue;
    if (MetaFlags(meta) == kSlotFlagDirectory) {
      t.Erase(i);
      core_->Erased();
      continue;
    }
    KeyRef k;
    std::int64_t window;
    t.ReadKey(i, &k, &window);
    auto& entry = windows[std::string(reinterpret_cast<const char*>(k.words), k.len)];
    entry.first = k;
    entry.second.emplace_back(window, t.Offset(i));
  }
  for (auto& [unused, entry] : windows) {
    std::sort(entry.second.begin(), entry.second.end());
    for (const auto& [window, offset] : entry.second) AddToDirectory(entry.first, window, offset);
  }
}

bool WindowedTableWriter::Lookup(const KeyRef& k, std::int64_t window, std::span<std::byte> value,
                                 std::uint64_t* offset) const {
  SlotTable& t = core_->table();
  const std::uint32_t n = core_->shape().value_size;
  if (value.size() < n || window == detail::kDirectoryWindow) return false;
  const std::int64_t idx = t.Find(k, t.Hash(k, window), window, 0);
  if (idx < 0) return false;
  detail::CopyFromShared(value.data(), t.Payload(static_cast<std::uint64_t>(idx)), n);
  if (offset) *offset = t.Offset(static_cast<std::uint64_t>(idx));
  return true;
}
bool WindowedTableWriter::Get(std::uint64_t key, std::int64_t window, std::span<std::byte> value,
                              std::uint64_t* offset) const {
  return core_->shape().key_type == KeyType::kU64 &&
         Lookup(detail::U64Key(key), window, value, offset);
}
bool WindowedTableWriter::Get(std::string_view key, std::int64_t window, std::span<std::byte> value,
                              std::uint64_t* offset) const {
  KeyRef k;
  return BytesKey(key, &k) == WriteResult::kOk && Lookup(k, window, value, offset);
}

// ---- TopKWriter ----

Result<std::unique_ptr<TopKWriter>> TopKWriter::Create(Namespace& ns, std::string_view name,
                                                       std::uint32_t version,
                                                       const TopKOptions& o) {
  auto shape =
      BaseShape(name, version, ViewKind::kTopK, o.key_type, o.key_size, o.key_name, o.schema);
  if (!shape.ok()) return shape.status();
  if (o.k == 0 || o.k > kMaxTopK)
    return Invalid(name, "K must be 1 to " + std::to_string(kMaxTopK));
  const int field = o.schema.Find(o.order_field);
  if (field < 0) return Invalid(name, "no field '" + o.order_field + "' to order by");
  if (o.schema.field(static_cast<std::size_t>(field)).type == FieldType::kString)
    return Invalid(name, "order field '" + o.order_field + "' must be numeric");
  shape->capacity = o.k;
  shape->order_field = static_cast<std::uint32_t>(field);
  shape->order_descending = o.descending;
  shape->slot_size = TopKRowSize(shape->key_size, shape->value_size);
  shape->topk_buffer_size = TopKBufferSize(o.k, shape->slot_size);
  auto file = ViewFile::Create(ns, *shape);
  if (!file.ok()) return file.status();
  if (Status s = ns.AddView(name, version, ViewKind::kTopK, 0); !s.ok()) {
    ::unlinkat(ns.dir_fd(), detail::ViewFileName(name, version, 0).c_str(), 0);
    return s;
  }
  return std::unique_ptr<TopKWriter>(new TopKWriter(std::move(file).value()));
}

Result<std::unique_ptr<TopKWriter>> TopKWriter::Open(Namespace& ns, std::string_view name,
                                                     std::uint32_t version) {
  auto file = ViewFile::Attach(ns, name, version);
  if (!file.ok()) return file.status();
  if ((*file)->shape().kind != ViewKind::kTopK)
    return Status::Error(StatusCode::kInvalidArgument, (*file)->path() + ": is not a top-K view");
  std::unique_ptr<TopKWriter> w(new TopKWriter(std::move(file).value()));
  w->LoadPublished();
  return w;
}

TopKWriter::~TopKWriter() = default;

void TopKWriter::LoadPublished() {
  const ViewShape& s = file_->shape();
  ViewHeader* h = file_->header();
  const std::uint64_t active = LoadRelaxed(h->list.active) & 1;
  // The buffer readers do not read may have been left mid-write: make its seq even again.
  auto* idle = reinterpret_cast<std::uint64_t*>(file_->slots() + (active ^ 1) * s.topk_buffer_size);
  if (LoadRelaxed(idle[0]) & 1) {
    StoreRelease(idle[0], LoadRelaxed(idle[0]) + 1);
    ViewFile::Add(h->counters.repaired, 1);
  }
  const std::byte* buf = file_->slots() + active * s.topk_buffer_size;
  const std::uint64_t n = std::min<std::uint64_t>(
      LoadRelaxed(reinterpret_cast<const std::uint64_t*>(buf)[1]), s.capacity);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::byte* r = buf + kTopKBufferHeader + i * s.slot_size;
    Row row;
    const auto* words = reinterpret_cast<const std::uint64_t*>(r);
    row.offset = LoadRelaxed(words[0]);
    row.key.len =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(LoadRelaxed(words[1]), s.key_size));
    detail::CopyFromShared(row.key.words, r + kTopKRowHeader, Align8(s.key_size));
    row.value.resize(s.value_size);
    detail::CopyFromShared(row.value.data(), r + kTopKRowHeader + Align8(s.key_size), s.value_size);
    row.order = s.schema.GetNumber(row.value, s.order_field);
    index_[KeyString(row.key)] = rows_.size();
    rows_.push_back(std::move(row));
  }
}

WriteResult TopKWriter::Stage(const KeyRef& k, std::span<const std::byte> value,
                              std::uint64_t offset) {
  const ViewShape& s = file_->shape();
  if (value.size() != s.value_size) return WriteResult::kBadArgument;
  const std::string key = KeyString(k);
  auto it = index_.find(key);
  Row* row;
  if (it == index_.end()) {
    index_.emplace(key, rows_.size());
    rows_.emplace_back();
    row = &rows_.back();
    row->key = k;
  } else {
    row = &rows_[it->second];
  }
  row->offset = offset;
  row->value.assign(value.begin(), value.end());
  row->order = s.schema.GetNumber(value, s.order_field);
  return WriteResult::kOk;
}

WriteResult TopKWriter::Offer(std::uint64_t key, std::span<const std::byte> value,
                              std::uint64_t offset) {
  if (file_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
  return Stage(detail::U64Key(key), value, offset);
}
WriteResult TopKWriter::Offer(std::string_view key, std::span<const std::byte> value,
                              std::uint64_t offset) {
  if (file_->shape().key_type != KeyType::kBytes) return WriteResult::kWrongKey;
  KeyRef k;
  if (!detail::BytesKey(key, file_->shape().key_size, &k)) return WriteResult::kBadArgument;
  return Stage(k, value, offset);
}

bool TopKWriter::Unstage(const KeyRef& k) {
  auto it = index_.find(KeyString(k));
  if (it == index_.end()) return false;
  const std::size_t i = it->second;
  index_.erase(it);
  if (i != rows_.size() - 1) {
    rows_[i] = std::move(rows_.back());
    index_[KeyString(rows_[i].key)] = i;
  }
  rows_.pop_back();
  return true;
}
bool TopKWriter::Remove(std::uint64_t key) {
  return file_->shape().key_type == KeyType::kU64 && Unstage(detail::U64Key(key));
}
bool TopKWriter::Remove(std::string_view key) {
  KeyRef k;
  return file_->shape().key_type == KeyType::kBytes &&
         detail::BytesKey(key, file_->shape().key_size, &k) && Unstage(k);
}

void TopKWriter::Publish() {
  const ViewShape& s = file_->shape();
  // NaN sorts last either way; ties go by key, so equal inputs publish equal lists.
  const double worst = s.order_descending ? -std::numeric_limits<double>::infinity()
                                          : std::numeric_limits<double>::infinity();
  auto order = [&](const Row& r) { return std::isnan(r.order) ? worst : r.order; };
  auto better = [&](const Row& a, const Row& b) {
    const double x = order(a), y = order(b);
    if (x != y) return s.order_descending ? x > y : x < y;
    return std::lexicographical_compare(
        reinterpret_cast<const unsigned char*>(a.key.words),
        reinterpret_cast<const unsigned char*>(a.key.words) + a.key.len,
        reinterpret_cast<const unsigned char*>(b.key.words),
        reinterpret_cast<const unsigned char*>(b.key.words) + b.key.len);
  };
  std::sort(rows_.begin(), rows_.end(), better);
  if (rows_.size() > s.capacity) rows_.resize(s.capacity);
  index_.clear();
  for (std::size_t i = 0; i < rows_.size(); ++i) index_[KeyString(rows_[i].key)] = i;

  ViewHeader* h = file_->header();
  const std::uint64_t target = (LoadRelaxed(h->list.active) & 1) ^ 1;
  std::byte* buf = file_->slots() + target * s.topk_buffer_size;
  auto* words = reinterpret_cast<std::uint64_t*>(buf);
  const std::uint64_t seq = SlotTable::BeginWrite(words);
  StoreRelaxed(words[1], rows_.size());
  StoreRelaxed(words[2], static_cast<std::uint64_t>(detail::UnixNs()));
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    std::byte* r = buf + kTopKBufferHeader + i * s.slot_size;
    auto* rw = reinterpret_cast<std::uint64_t*>(r);
    StoreRelaxed(rw[0], rows_[i].offset);
    StoreRelaxed(rw[1], rows_[i].key.len);
    detail::CopyToShared(r + kTopKRowHeader, rows_[i].key.words, Align8(s.key_size));
    detail::CopyToShared(r + kTopKRowHeader + Align8(s.key_size), rows_[i].value.data(),
                         s.value_size);
  }
  SlotTable::EndWrite(words, seq);
  // release: readers that acquire `active` find the buffer complete.
  StoreRelease(h->list.active, target);
  ViewFile::Add(h->counters.publishes, 1);
  ViewFile::Add(h->counters.updates, 1);
  StoreRelaxed(h->counters.entries, rows_.size());
}

// ---- ResultListWriter ----

Result<std::unique_ptr<ResultListWriter>> ResultListWriter::Create(Namespace& ns,
                                                                   std::string_view name,
                                                                   std::uint32_t version,
                                                                   const ResultListOptions& o) {
  auto shape = BaseShape(name, version, ViewKind::kList, KeyType::kNone, 0, "", o.schema);
  if (!shape.ok()) return shape.status();
  if (o.capacity == 0 || o.capacity > kMaxListRows)
    return Invalid(name, "a list retains 1 to " + std::to_string(kMaxListRows) + " rows");
  shape->capacity = o.capacity;
  shape->slot_size = ListRowSize(shape->value_size);
  auto file = ViewFile::Create(ns, *shape);
  if (!file.ok()) return file.status();
  if (Status s = ns.AddView(name, version, ViewKind::kList, 0); !s.ok()) {
    ::unlinkat(ns.dir_fd(), detail::ViewFileName(name, version, 0).c_str(), 0);
    return s;
  }
  return std::unique_ptr<ResultListWriter>(new ResultListWriter(std::move(file).value()));
}

Result<std::unique_ptr<ResultListWriter>> ResultListWriter::Open(Namespace& ns,
                                                                 std::string_view name,
                                                                 std::uint32_t version) {
  auto file = ViewFile::Attach(ns, name, version);
  if (!file.ok()) return file.status();
  if ((*file)->shape().kind != ViewKind::kList)
    return Status::Error(StatusCode::kInvalidArgument, (*file)->path() + ": is not a result list");
  std::unique_ptr<ResultListWriter> w(new ResultListWriter(std::move(file).value()));
  const ViewShape& s = w->file_->shape();
  ViewHeader* h = w->file_->header();
  w->count_ = LoadRelaxed(h->list.count);
  // A row a dead writer left mid-write was never counted: mark it as no row at all.
  std::uint64_t repaired = 0;
  for (std::uint64_t i = 0; i < s.capacity; ++i) {
    auto* row = reinterpret_cast<std::uint64_t*>(w->file_->slots() + i * s.slot_size);
    const std::uint64_t seq = LoadRelaxed(row[0]);
    if ((seq & 1) == 0) continue;
    StoreRelaxed(row[1], UINT64_MAX);
    StoreRelease(row[0], seq + 1);
    ++repaired;
  }
  ViewFile::Add(h->counters.repaired, static_cast<std::int64_t>(repaired));
  return w;
}

WriteResult ResultListWriter::Append(std::span<const std::byte> value, std::uint64_t offset) {
  const ViewShape& s = file_->shape();
  if (value.size() != s.value_size) return WriteResult::kBadArgument;
  std::byte* row = file_->slots() + (count_ % s.capacity) * s.slot_size;
  auto* words = reinterpret_cast<std::uint64_t*>(row);
  const std::uint64_t seq = SlotTable::BeginWrite(words);
  StoreRelaxed(words[1], count_);
  StoreRelaxed(words[2], offset);
  detail::CopyToShared(row + kListRowHeader, value.data(), s.value_size);
  SlotTable::EndWrite(words, seq);
  ++count_;
  ViewHeader* h = file_->header();
  // release: the row is complete before count covers it.
  StoreRelease(h->list.count, count_);
  ViewFile::Add(h->counters.updates, 1);
  ViewFile::Add(h->counters.inserts, 1);
  StoreRelaxed(h->counters.entries, std::min<std::uint64_t>(count_, s.capacity));
  return WriteResult::kOk;
}

void ResultListWriter::RewindTo(std::uint64_t count) {
  KAPPA_DCHECK(count <= count_, "ResultListWriter::RewindTo: past the rows appended");
  if (count >= count_) return;
  count_ = count;
  // Readers that see the lower count stop there; rows past it are replaced one by one later,
  // each under its seqlock and with its own index.
  StoreRelease(file_->header()->list.count, count_);
}

}  // namespace kappa::serving
