// SlotTable: the writer's side of a keyed or windowed view's open-addressing table (linear
// probing, tombstones), and the seqlock protocol for writing slots.
//
// Slot writes: seq becomes odd (relaxed), a release fence, the slot's words (relaxed atomic
// stores), then seq becomes even with a release store. A reader that acquires the even seq,
// copies the words and sees the same seq again after an acquire fence has a consistent copy.
//
// Thread safety: one thread at a time (the view's writer).
#pragma once

#include <cstdint>
#include <cstring>

#include "serving/detail/keys.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/view_file.h"
#include "serving/format.h"

namespace kappa::serving::detail {

class SlotTable {
 public:
  explicit SlotTable(ViewFile* file)
      : shape_(&file->shape()),
        base_(file->slots()),
        size_(file->shape().slot.size),
        mask_(file->shape().mask),
        key_words_(Align8(file->shape().key_size) / 8),
        windowed_(file->shape().kind == ViewKind::kWindowed) {}

  std::uint64_t Hash(const KeyRef& k, std::int64_t window) const {
    return windowed_ ? WindowKeyHash(k, shape_->key_type, window, shape_->hash_seed)
                     : KeyHash(k, shape_->key_type, shape_->hash_seed);
  }

  std::byte* Slot(std::uint64_t idx) const { return base_ + idx * size_; }
  // Starts fetching the slot where hash h's probe begins.
  void Prefetch(std::uint64_t h) const { __builtin_prefetch(Slot(h & mask_), 1, 3); }
  std::uint64_t* Words(std::uint64_t idx) const {
    return reinterpret_cast<std::uint64_t*>(Slot(idx));
  }
  std::uint64_t Meta(std::uint64_t idx) const { return LoadRelaxed(Words(idx)[1]); }
  std::byte* Payload(std::uint64_t idx) const { return Slot(idx) + shape_->slot.value_at; }

  // The live slot holding (k, window, flags), or -1.
  std::int64_t Find(const KeyRef& k, std::uint64_t h, std::int64_t window,
                    std::uint16_t flags) const {
    std::int64_t unused;
    return Probe(k, h, window, flags, &unused);
  }

  // The slot of (k, window, flags): the live one, or (with *inserted) a claimed free one on its
  // probe path, whose key is written with the first Write. -1 if the table has no room.
  std::int64_t FindOrClaim(const KeyRef& k, std::uint64_t h, std::int64_t window,
                           std::uint16_t flags, bool* inserted) const {
    std::int64_t free_slot = -1;
    const std::int64_t found = Probe(k, h, window, flags, &free_slot);
    *inserted = found < 0;
    return found >= 0 ? found : free_slot;
  }

  // Writes a whole slot: key, window, offset and payload (`payload_bytes` of it; the rest of
  // the payload area is zeroed).
  void Write(std::uint64_t idx, const KeyRef& k, std::uint64_t h, std::int64_t window,
             std::uint16_t flags, std::uint64_t offset, const void* payload,
             std::uint32_t payload_bytes) {
    std::uint64_t* w = Words(idx);
    const std::uint64_t seq = BeginWrite(w);
    StoreRelaxed(w[1], MakeMeta(kSlotLive, static_cast<std::uint8_t>(k.len), flags,
                                static_cast<std::uint32_t>(h >> 32)));
    StoreRelaxed(w[2], offset);
    if (windowed_) StoreRelaxed(w[3], static_cast<std::uint64_t>(window));
    CopyToShared(Slot(idx) + shape_->slot.key_at, k.words, key_words_ * 8);
    std::byte* p = Payload(idx);
    const std::uint32_t copy = std::min(payload_bytes, shape_->slot.payload) & ~7u;
    CopyToShared(p, payload, copy);
    ZeroShared(p + copy, shape_->slot.payload - copy);
    EndWrite(w, seq);
  }

  // Rewrites the payload of live slot `idx`: fn(std::byte* payload) edits a private copy, which
  // is then stored under the seqlock.
  // (`local` is filled by CopyFromShared before fn reads it; g++ cannot see through the
  // atomic loads and warns.)
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  template <class Fn>
  void Modify(std::uint64_t idx, std::uint64_t offset, Fn&& fn) {
    alignas(8) std::byte local[kMaxValueSize + 8 * (kMaxWindowsPerKey + 1)];
    const std::uint32_t n = shape_->slot.payload;
    std::byte* p = Payload(idx);
    CopyFromShared(local, p, n);
    fn(local);
    std::uint64_t* w = Words(idx);
    const std::uint64_t seq = BeginWrite(w);
    StoreRelaxed(w[2], offset);
    CopyToShared(p, local, n);
    EndWrite(w, seq);
  }
#pragma GCC diagnostic pop

  // Deletes live slot `idx` (a tombstone: probes continue past it; a later insert may reuse it).
  void Erase(std::uint64_t idx) {
    std::uint64_t* w = Words(idx);
    const std::uint64_t seq = BeginWrite(w);
    StoreRelaxed(w[1], MakeMeta(kSlotTombstone, 0, 0, 0));
    EndWrite(w, seq);
  }

  // Marks a slot a dead writer left mid-update as a tombstone. Returns true if it was one.
  bool Repair(std::uint64_t idx) {
    std::uint64_t* w = Words(idx);
    const std::uint64_t seq = LoadRelaxed(w[0]);
    if ((seq & 1) == 0) return false;
    StoreRelaxed(w[1], MakeMeta(kSlotTombstone, 0, 0, 0));
    StoreRelease(w[0], seq + 1);
    return true;
  }

  // The key, window and flags stored in live slot `idx`.
  void ReadKey(std::uint64_t idx, KeyRef* k, std::int64_t* window) const {
    *k = KeyRef{};
    k->len = MetaKeyLen(Meta(idx));
    CopyFromShared(k->words, Slot(idx) + shape_->slot.key_at, key_words_ * 8);
    *window = windowed_ ? static_cast<std::int64_t>(LoadRelaxed(Words(idx)[3])) : 0;
  }
  std::uint64_t Offset(std::uint64_t idx) const { return LoadRelaxed(Words(idx)[2]); }

  static std::uint64_t BeginWrite(std::uint64_t* w) {
    const std::uint64_t seq = LoadRelaxed(w[0]) | 1;  // odd (even one torn by a dead writer)
    StoreRelaxed(w[0], seq);
    // release: readers that see any of the stores below also see the odd seq.
    std::atomic_thread_fence(std::memory_order_release);
    return seq;
  }
  // release: a reader that acquires the even seq sees every store before it.
  static void EndWrite(std::uint64_t* w, std::uint64_t seq) { StoreRelease(w[0], seq + 1); }

 private:
  std::int64_t Probe(const KeyRef& k, std::uint64_t h, std::int64_t window, std::uint16_t flags,
                     std::int64_t* free_slot) const {
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::uint64_t idx = h & mask_;
    *free_slot = -1;
    for (std::uint64_t probes = 0; probes <= mask_; ++probes, idx = (idx + 1) & mask_) {
      const std::uint64_t meta = Meta(idx);
      const std::uint8_t state = MetaState(meta);
      if (state == kSlotEmpty) {
        if (*free_slot < 0) *free_slot = static_cast<std::int64_t>(idx);
        return -1;
      }
      if (state == kSlotTombstone) {
        if (*free_slot < 0) *free_slot = static_cast<std::int64_t>(idx);
        continue;
      }
      if (MetaHash(meta) != tag || MetaKeyLen(meta) != k.len || MetaFlags(meta) != flags) continue;
      if (windowed_ && static_cast<std::int64_t>(LoadRelaxed(Words(idx)[3])) != window) continue;
      const auto* key = reinterpret_cast<const std::uint64_t*>(Slot(idx) + shape_->slot.key_at);
      bool same = true;
      for (std::uint32_t i = 0; i < key_words_ && same; ++i)
        same = LoadRelaxed(key[i]) == k.words[i];
      if (same) return static_cast<std::int64_t>(idx);
    }
    return -1;
  }

  const ViewShape* shape_;
  std::byte* base_;
  std::uint32_t size_;
  std::uint64_t mask_;
  std::uint32_t key_words_;
  bool windowed_;
};

}  // namespace kappa::serving::detail
