#include "serving/detail/table_core.h"

#include <algorithm>
#include <cstring>

#include "serving/detail/clock.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"

namespace kappa::serving::detail {

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

}  // namespace kappa::serving::detail
