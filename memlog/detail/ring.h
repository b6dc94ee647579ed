// Internal view of a mapped log shared by Log, Producer and LogReader.
//
// Thread safety: a Ring is immutable after Log::Open; all mutable state lives in the mapping and
// is accessed through std::atomic_ref with the memory orders named below.
//
// Invariants (offsets are logical byte positions, never reused):
//   head <= every committed frame a reader may still read <= tail
//   tail - head <= capacity
//   A writer advances head past a region before it writes over that region's ring bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

#include "memlog/format.h"

namespace kappa::memlog::detail {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

inline std::atomic_ref<std::uint64_t> Atomic(std::uint64_t& word) {
  return std::atomic_ref<std::uint64_t>(word);
}

static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

// The wake line's words (a futex word is 32 bits).
inline std::atomic_ref<std::uint32_t> Atomic(std::uint32_t& word) {
  return std::atomic_ref<std::uint32_t>(word);
}

inline std::int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
inline std::int64_t UnixNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// A cheap, monotonic-enough tick count for spacing out idle checks: the TSC on x86-64 (no
// system call, no fence; about 10 ns), else CLOCK_MONOTONIC nanoseconds.
inline std::uint64_t Ticks() {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#else
  return static_cast<std::uint64_t>(MonotonicNs());
#endif
}

enum class FrameKind { kRecord, kPadding, kUncommitted, kCorrupt };

struct Ring {
  LogHeader* header = nullptr;
  std::byte* data = nullptr;
  std::uint64_t capacity = 0;
  std::uint64_t mask = 0;
  unsigned capacity_log2 = 0;
  std::uint64_t salt = 0;
  std::uint32_t max_payload = 0;
  Policy policy = Policy::kBlock;
  std::int64_t unblock_timeout_ns = 0;
  bool writable = false;
  // The cursor the archive reads through, for a log with an archive (else null): head never
  // passes its position, whatever the policy.
  CursorSlot* archive_cursor = nullptr;

  std::uint32_t Tag(std::uint64_t offset) const { return LapTag(offset, capacity_log2, salt); }
  std::uint64_t& SealWord(std::uint64_t offset) const {
    return *reinterpret_cast<std::uint64_t*>(data + (offset & mask));
  }
  RecordHeader* Header(std::uint64_t offset) const {
    return reinterpret_cast<RecordHeader*>(data + (offset & mask));
  }
  const std::byte* Payload(std::uint64_t offset) const {
    return data + (offset & mask) + kRecordHeaderSize;
  }

  // acquire: observe a fully written frame.
  std::uint64_t LoadSeal(std::uint64_t offset) const {
    return Atomic(SealWord(offset)).load(std::memory_order_acquire);
  }
  // acquire: pairs with the release of the reservation CAS, so producer slots written before
  // it are visible.
  std::uint64_t LoadTail() const {
    return Atomic(header->tail.value).load(std::memory_order_acquire);
  }
  // acquire: a region behind head may be being overwritten.
  std::uint64_t LoadHead() const {
    return Atomic(header->head.value).load(std::memory_order_acquire);
  }
  // acquire: the archive released its cursor only after the frames before it were durable.
  std::uint64_t LoadArchived() const {
    return Atomic(archive_cursor->position).load(std::memory_order_acquire);
  }

  // What the seal word `seal` read at `offset` says; *frame_bytes is set for kRecord/kPadding.
  FrameKind Classify(std::uint64_t offset, std::uint64_t seal, std::uint64_t* frame_bytes) const {
    if (SealTag(seal) != Tag(offset)) return FrameKind::kUncommitted;
    const std::uint32_t state = SealState(seal);
    const std::uint32_t length = SealLength(seal);
    if (state == kSealRecord) {
      const std::uint64_t bytes = RecordFrameSize(length);
      if (length > max_payload || (offset & mask) + bytes > capacity) return FrameKind::kCorrupt;
      *frame_bytes = bytes;
      return FrameKind::kRecord;
    }
    if (state == kSealPadding) {
      if (length < kFrameAlignment || length % kFrameAlignment != 0 || length > capacity)
        return FrameKind::kCorrupt;
      *frame_bytes = length;
      return FrameKind::kPadding;
    }
    return FrameKind::kUncommitted;
  }

  // Wakes readers asleep in WaitForCommit, if any. Call after a commit. The commit's CAS and
  // this load are seq_cst, and so are the sleeper's increment of `waiters` and its fence before
  // it looks at the log again: one of the two sees the other (a lost wake-up costs a sleeper
  // its timeout at most).
  void WakeReaders() const {
    if (Atomic(header->wake.waiters).load(std::memory_order_seq_cst) != 0) [[unlikely]]
      WakeAll();
  }
  void WakeAll() const;
  // Readers: announce a sleep (then look at the log once more: PollStatus may have changed),
  // sleep until a commit bumps the sequence from `seen` or `timeout_ns` passes, and end it.
  std::uint32_t BeginSleep() const;  // returns the sequence to sleep on
  void Sleep(std::uint32_t seen, std::int64_t timeout_ns) const;
  void EndSleep() const;

  // CRC32C of a record frame as stored in RecordHeader::crc.
  bool RecordCrcMatches(std::uint64_t offset, std::uint64_t seal) const;

  // Turns the stalled reservation starting at `offset` (its seal word last seen as `observed`)
  // into one padding frame, if a producer slot names it. Returns true if the frame at `offset`
  // is committed or padding afterwards (by us or anyone else).
  // REQUIRES: writable.
  bool TryUnblock(std::uint64_t offset, std::uint64_t observed) const;

  // Adds a producer slot's counters to the log's totals and zeroes them, before the slot is
  // freed. REQUIRES: the slot's producer is gone or is the caller.
  void FoldCounters(ProducerSlot& slot) const;

  // Block policy: raises head to the slowest active cursor (never lowers it, never past tail).
  std::uint64_t RaiseHeadToCursors() const;

  // Overwrite policy: advances head to at least `limit` by walking committed frames; frames that
  // stay uncommitted past the unblock timeout are unblocked. Returns false if it could not.
  bool AdvanceHeadTo(std::uint64_t limit) const;
};

// Where frames lie in memory: frame `offset` starts at data + ((offset - base) & mask). The
// ring's frames: base 0, mask capacity - 1. A segment file's: base its first offset, mask ~0.
// `layout` classifies them (the ring they were written in).
struct FrameSpan {
  const std::byte* data = nullptr;
  std::uint64_t base = 0;
  std::uint64_t mask = 0;
  const Ring* layout = nullptr;

  const std::byte* At(std::uint64_t offset) const { return data + ((offset - base) & mask); }
  const RecordHeader* Header(std::uint64_t offset) const {
    return reinterpret_cast<const RecordHeader*>(At(offset));
  }
  // relaxed: a segment's frames never change once written, and a ring's are checked afterwards
  // (LogReader::StillValid).
  std::uint64_t LoadSealRelaxed(std::uint64_t offset) const {
    return std::atomic_ref<std::uint64_t>(
               *const_cast<std::uint64_t*>(reinterpret_cast<const std::uint64_t*>(At(offset))))
        .load(std::memory_order_relaxed);
  }
  static FrameSpan OfRing(const Ring& ring) { return {ring.data, 0, ring.mask, &ring}; }
};

}  // namespace kappa::memlog::detail
