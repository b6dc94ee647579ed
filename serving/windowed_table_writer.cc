#include "serving/windowed_table_writer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "serving/detail/mapped_words.h"
#include "serving/detail/new_shape.h"

namespace kappa::serving {

using detail::BaseShape;
using detail::InvalidView;
using detail::KeyRef;
using detail::LoadRelaxed;
using detail::SetShards;
using detail::SlotsFor;
using detail::SlotTable;
using detail::StoreRelaxed;
using detail::ViewFile;
using detail::ViewShape;

Result<std::unique_ptr<WindowedTableWriter>> WindowedTableWriter::Create(
    Namespace& ns, std::string_view name, std::uint32_t version, const WindowedTableOptions& o) {
  auto shape =
      BaseShape(name, version, ViewKind::kWindowed, o.key_type, o.key_size, o.key_name, o.schema);
  if (!shape.ok()) return shape.status();
  if (o.window_size_ns <= 0) return InvalidView(name, "window size must be > 0");
  const std::int64_t slide = o.window_slide_ns == 0 ? o.window_size_ns : o.window_slide_ns;
  if (slide < 0 || slide > o.window_size_ns)
    return InvalidView(name, "window slide must be in (0, size]");
  if (o.windows_per_key == 0 || o.windows_per_key > kMaxWindowsPerKey)
    return InvalidView(name, "windows per key must be 1 to " + std::to_string(kMaxWindowsPerKey));
  if (o.retention_ns < 0) return InvalidView(name, "retention must be >= 0");
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

}  // namespace kappa::serving
