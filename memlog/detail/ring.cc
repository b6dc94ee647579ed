#include "memlog/detail/ring.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <span>
#include <utility>

#include "base/check.h"
#include "memlog/crc32c.h"

namespace kappa::memlog::detail {

bool Ring::RecordCrcMatches(std::uint64_t offset, std::uint64_t seal) const {
  const RecordHeader* h = Header(offset);
  return RecordCrc(h->type, h->flags, h->timestamp_ns, Payload(offset), SealLength(seal)) == h->crc;
}

bool Ring::TryUnblock(std::uint64_t offset, std::uint64_t observed) const {
  KAPPA_DCHECK(writable, "Ring::TryUnblock: a read-only handle");
  std::uint64_t end = 0;
  for (ProducerSlot& slot : header->producers) {
    if (Atomic(slot.owner).load(std::memory_order_relaxed) == 0) continue;
    const std::uint64_t start = Atomic(slot.res_start).load(std::memory_order_relaxed);
    const std::uint64_t slot_end = Atomic(slot.res_end).load(std::memory_order_relaxed);
    if (start != offset || slot_end <= start || slot_end - start > capacity) continue;
    if (end != 0 && end != slot_end) return false;  // two slots disagree: wait for more
    end = slot_end;
  }
  std::uint64_t frame_bytes;
  if (end == 0) {
    return Classify(offset, LoadSeal(offset), &frame_bytes) != FrameKind::kUncommitted;
  }
  const std::uint64_t padding =
      MakeSeal(Tag(offset), kSealPadding, static_cast<std::uint32_t>(end - offset));
  std::uint64_t expected = observed;
  // release: readers that see the padding also see nothing else of ours; acquire on failure:
  // the producer committed after all and its frame must be visible.
  if (Atomic(SealWord(offset))
          .compare_exchange_strong(expected, padding, std::memory_order_release,
                                   std::memory_order_acquire)) {
    Atomic(header->counters.unblocked_stalls).fetch_add(1, std::memory_order_relaxed);
    Atomic(header->counters.padding_frames).fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return Classify(offset, expected, &frame_bytes) != FrameKind::kUncommitted;
}

// The wake line is in a shared mapping, so the futex calls are not FUTEX_PRIVATE.
void Ring::WakeAll() const {
  // release: nothing to publish (the commit did), but the sequence must change before the wake.
  Atomic(header->wake.sequence).fetch_add(1, std::memory_order_release);
  ::syscall(SYS_futex, &header->wake.sequence, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

std::uint32_t Ring::BeginSleep() const {
  const std::uint32_t seen = Atomic(header->wake.sequence).load(std::memory_order_acquire);
  Atomic(header->wake.waiters).fetch_add(1, std::memory_order_seq_cst);
  // seq_cst: a producer committing now either sees us waiting or its commit is visible to the
  // caller's next look at the log.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return seen;
}

void Ring::Sleep(std::uint32_t seen, std::int64_t timeout_ns) const {
  if (timeout_ns <= 0) return;
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
              static_cast<long>(timeout_ns % 1'000'000'000)};
  // Returns at once if the sequence moved since `seen` (EAGAIN), on a wake, a signal or the
  // timeout.
  ::syscall(SYS_futex, &header->wake.sequence, FUTEX_WAIT, seen, &ts, nullptr, 0);
}

void Ring::EndSleep() const {
  Atomic(header->wake.waiters).fetch_sub(1, std::memory_order_relaxed);
}

void Ring::FoldCounters(ProducerSlot& slot) const {
  CounterLine& c = header->counters;
  for (auto [from, to] : {std::pair{&slot.records, &c.records}, std::pair{&slot.bytes, &c.bytes},
                          std::pair{&slot.padding_frames, &c.padding_frames}}) {
    Atomic(*to).fetch_add(Atomic(*from).load(std::memory_order_relaxed), std::memory_order_relaxed);
    Atomic(*from).store(0, std::memory_order_relaxed);
  }
}

std::uint64_t Ring::RaiseHeadToCursors() const {
  std::uint64_t head = LoadHead();
  const std::uint64_t tail = LoadTail();
  std::uint64_t slowest = UINT64_MAX;
  // With an archive, only what the archive does not hold yet is kept: other readers read the
  // rest from the archive.
  if (archive_cursor != nullptr) slowest = LoadArchived();
  for (CursorSlot& c : archive_cursor != nullptr ? std::span<CursorSlot>()
                                                 : std::span<CursorSlot>(header->cursors)) {
    // acquire: a consumer releases its position only after it has finished reading.
    if (Atomic(c.state).load(std::memory_order_acquire) !=
        static_cast<std::uint64_t>(CursorState::kActive))
      continue;
    const std::uint64_t pos = Atomic(c.position).load(std::memory_order_acquire);
    slowest = std::min(slowest, pos);
  }
  if (slowest == UINT64_MAX) return head;  // no cursor: nothing leaves the ring
  slowest = std::min(slowest, tail);
  while (head < slowest) {
    // acq_rel: publish the new head to readers that check for laps.
    if (Atomic(header->head.value)
            .compare_exchange_weak(head, slowest, std::memory_order_acq_rel,
                                   std::memory_order_acquire))
      return slowest;
  }
  return head;
}

bool Ring::AdvanceHeadTo(std::uint64_t limit) const {
  std::uint64_t head = LoadHead();
  std::int64_t stalled_since = 0;
  std::uint64_t stalled_at = UINT64_MAX;
  while (head < limit) {
    // Walk the committed frames from head, then publish the new head with one CAS. A walk from
    // a stale head may read frames being overwritten; the CAS fails then, as head has moved.
    std::uint64_t walked = head;
    std::uint64_t seal = 0;
    FrameKind kind = FrameKind::kUncommitted;
    while (walked < limit) {
      seal = LoadSeal(walked);
      std::uint64_t bytes = 0;
      kind = Classify(walked, seal, &bytes);
      if (kind != FrameKind::kRecord && kind != FrameKind::kPadding) break;
      walked += bytes;
    }
    if (walked > head) {
      // acq_rel: publish the new head to readers that check for laps (and to producers).
      if (Atomic(header->head.value)
              .compare_exchange_strong(head, walked, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
        head = walked;
      continue;
    }
    if (kind == FrameKind::kCorrupt) {
      // A stale head: another producer may already be writing over that frame.
      const std::uint64_t now_head = LoadHead();
      if (now_head == head) return false;
      head = now_head;
      continue;
    }
    // Uncommitted one lap back: a producer stalled or died mid-append.
    const std::int64_t now = MonotonicNs();
    if (stalled_at != head) {
      stalled_at = head;
      stalled_since = now;
    } else if (now - stalled_since >= unblock_timeout_ns) {
      if (!TryUnblock(head, seal)) return false;
    }
    sched_yield();
    head = LoadHead();
  }
  return true;
}

}  // namespace kappa::memlog::detail
