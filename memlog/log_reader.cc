#include "memlog/log_reader.h"

#include <algorithm>
#include <thread>

#include "base/check.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"
#include "memlog/log.h"

namespace kappa::memlog {

using detail::Atomic;
using detail::FrameKind;

namespace {
// How far ahead of a batch's walk Poll fetches the ring (see there).
constexpr std::uint64_t kPrefetchAhead = 4096;
}  // namespace

const char* PollStatusName(PollStatus status) {
  switch (status) {
    case PollStatus::kOk:
      return "ok";
    case PollStatus::kEmpty:
      return "empty";
    case PollStatus::kLapped:
      return "lapped";
    case PollStatus::kCorrupt:
      return "corrupt";
    case PollStatus::kExpired:
      return "expired";
  }
  return "unknown";
}

bool Record::ChecksumOk() const noexcept {
  return RecordCrc(type, flags, timestamp_ns, payload.data(),
                   static_cast<std::uint32_t>(payload.size())) == crc;
}

// Frames are re-read here; a lapping producer may be rewriting them (StillValid tells), so
// every length is checked again and a frame that no longer makes sense ends the iteration.
void RecordBatch::Iterator::Skip() noexcept {
  while (pos_ < end_) {
    seal_ = frames_.LoadSealRelaxed(pos_);
    std::uint64_t bytes = 0;
    const FrameKind kind = frames_.layout->Classify(pos_, seal_, &bytes);
    if (kind == FrameKind::kRecord) {
      next_ = pos_ + bytes;
      return;
    }
    if (kind != FrameKind::kPadding) break;
    pos_ += bytes;
  }
  pos_ = end_;
}

Record RecordBatch::Iterator::operator*() const noexcept {
  const RecordHeader* h = frames_.Header(pos_);
  Record r;
  r.offset = pos_;
  r.timestamp_ns = h->timestamp_ns;
  r.type = h->type;
  r.flags = h->flags;
  r.crc = h->crc;
  r.payload = std::span<const std::byte>(frames_.At(pos_) + kRecordHeaderSize, SealLength(seal_));
  return r;
}

RecordBatch::Iterator& RecordBatch::Iterator::operator++() noexcept {
  pos_ = next_ < end_ ? next_ : end_;
  Skip();
  return *this;
}

LogReader::LogReader(const Log* log, std::uint64_t position, CursorSlot* cursor,
                     std::string cursor_name)
    : log_(log),
      ring_(&log->ring()),
      archive_(log->archive()),
      pos_(position),
      cursor_(cursor),
      cursor_name_(std::move(cursor_name)) {
  in_archive_ = archive_ != nullptr && pos_ < ring_->LoadHead();
}

LogReader::~LogReader() = default;

PollStatus LogReader::Poll(RecordBatch* batch, std::size_t max_records,
                           std::size_t max_bytes) noexcept {
  if (in_archive_) [[unlikely]]
    return PollArchive(batch, max_records, max_bytes);
  if (archive_ != nullptr && pos_ < ring_->LoadArchived() && pos_ >= archive_->LoadEarliest())
      [[unlikely]] {
    // Fallen behind what the archive holds: read it there, where a lapping producer cannot
    // write over it while it is read.
    in_archive_ = true;
    return PollArchive(batch, max_records, max_bytes);
  }
  if (segment_ || retired_segment_) [[unlikely]] {
    // Back in the ring: the last archived batch is dead now, and so may its segment's mapping
    // be (retention can only free a segment's space once nobody maps it).
    segment_.reset();
    retired_segment_.reset();
  }
  batch->frames_ = detail::FrameSpan::OfRing(*ring_);
  batch->archived_ = false;
  batch->begin_ = batch->end_ = pos_;
  batch->count_ = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::uint64_t start = pos_;
    std::uint64_t p = start;
    std::size_t n = 0;
    std::uint64_t seal = 0;
    FrameKind kind = FrameKind::kUncommitted;
    while (n < max_records && p - start < max_bytes) {
      seal = ring_->LoadSeal(p);
      std::uint64_t bytes = 0;
      kind = ring_->Classify(p, seal, &bytes);
      if (kind == FrameKind::kRecord) {
        ++n;
        // Each frame's length is in its seal, so the walk is a chain of dependent loads: the
        // ring a few KiB ahead is fetched while the walk goes on, so that it does not wait for
        // each new page. (Not from an idle reader: its spin stays on one line.)
        __builtin_prefetch(ring_->Header(p + kPrefetchAhead));
      } else if (kind != FrameKind::kPadding) {
        break;
      }
      p += bytes;
    }
    // An idle reader spins on the seal word at its position alone, where the next commit lands.
    // It leaves head and tail unread (their lines stay in the producers' caches, off the
    // append's latency path) until it has been idle for kIdleCheckTicks: only then can it learn
    // that it was lapped while the frame at its position was abandoned, or that a reservation
    // there has stalled.
    if (p == start && kind == FrameKind::kUncommitted) {
      const std::uint64_t now = detail::Ticks();
      if (now - checked_ticks_ < kIdleCheckTicks) return PollStatus::kEmpty;
      checked_ticks_ = now;
    }
    // acquire: if a producer of a later lap wrote anything we just read, we see its head move.
    std::atomic_thread_fence(std::memory_order_acquire);
    const std::uint64_t head = Atomic(ring_->header->head.value).load(std::memory_order_relaxed);
    if (head > start) {
      if (archive_ != nullptr) {  // what the ring no longer holds, the archive does
        in_archive_ = true;
        stall_at_ = UINT64_MAX;
        checked_ticks_ = 0;
        return PollArchive(batch, max_records, max_bytes);
      }
      last_lost_ = head - start;
      total_lost_ += last_lost_;
      pos_ = head;
      batch->begin_ = batch->end_ = pos_;
      stall_at_ = UINT64_MAX;
      checked_ticks_ = 0;
      return PollStatus::kLapped;
    }
    if (p > start) {
      pos_ = p;
      stall_at_ = UINT64_MAX;
      batch->end_ = p;
      batch->count_ = n;
      if (n > 0) {
        checked_ticks_ = detail::Ticks();  // the head check above covers the idle check
        return PollStatus::kOk;
      }
      continue;  // only padding so far: look once more past it
    }
    if (kind == FrameKind::kCorrupt) return PollStatus::kCorrupt;
    // Nothing committed at p. Is anything reserved there?
    if (ring_->LoadTail() <= p) return PollStatus::kEmpty;
    const std::int64_t now = detail::MonotonicNs();
    if (stall_at_ != p || stall_seal_ != seal) {
      stall_at_ = p;
      stall_seal_ = seal;
      stall_since_ = now;
      return PollStatus::kEmpty;
    }
    if (now - stall_since_ < ring_->unblock_timeout_ns || !ring_->writable)
      return PollStatus::kEmpty;
    if (!ring_->TryUnblock(p, seal)) return PollStatus::kEmpty;
    stall_at_ = UINT64_MAX;  // unblocked (or committed after all): read again
  }
  return batch->count_ > 0 ? PollStatus::kOk : PollStatus::kEmpty;
}

PollStatus LogReader::Wait(RecordBatch* batch, std::chrono::nanoseconds timeout,
                           std::size_t max_records) noexcept {
  // Spin briefly (a record that comes within microseconds is taken at once), then sleep on the
  // log's wake line until a producer commits or the timeout passes: an idle reader costs nothing.
  constexpr std::int64_t kSpinNs = 50'000;
  const std::int64_t begin = detail::MonotonicNs();
  const std::int64_t deadline = begin + timeout.count();
  for (int polls = 0;; ++polls) {
    PollStatus s = Poll(batch, max_records);
    if (s != PollStatus::kEmpty) return s;
    if (polls % 64 != 63) continue;
    const std::int64_t now = detail::MonotonicNs();
    if (now >= deadline) return s;
    if (now - begin < kSpinNs) continue;
    if (!ring_->writable) {
      // A read-only handle cannot announce itself on the wake line: it polls every millisecond.
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min<std::int64_t>(1'000'000, deadline - now)));
      continue;
    }
    const std::uint32_t seen = ring_->BeginSleep();
    s = Poll(batch, max_records);
    if (s == PollStatus::kEmpty) ring_->Sleep(seen, deadline - detail::MonotonicNs());
    ring_->EndSleep();
    if (s != PollStatus::kEmpty) return s;
  }
}

bool LogReader::OpenSegmentAt() noexcept {
  auto m = archive_->OpenSegmentAt(pos_);
  if (!m.ok()) {
    error_ = m.status().message();
    return false;
  }
  // The caller's last batch may still point into the segment being left: it goes at the next poll.
  retired_segment_ = std::move(segment_);
  segment_ = std::move(*m);
  return true;
}

PollStatus LogReader::PollArchive(RecordBatch* batch, std::size_t max_records,
                                  std::size_t max_bytes) noexcept {
  retired_segment_.reset();
  if (segment_) segment_->ReleaseRetired();
  batch->archived_ = true;
  batch->count_ = 0;
  max_records = std::max<std::size_t>(max_records, 1);
  max_bytes = std::max<std::size_t>(max_bytes, 1);
  for (int attempt = 0; attempt < 8; ++attempt) {
    batch->begin_ = batch->end_ = pos_;
    // Everything before the archive's cursor is in segment files (flushed): read there, where
    // nothing is ever written over; from it on, the ring.
    const std::uint64_t archived = ring_->LoadArchived();
    if (pos_ >= archived) {  // caught up with what the ring alone holds
      in_archive_ = false;
      return Poll(batch, max_records, max_bytes);
    }
    const std::uint64_t earliest = archive_->LoadEarliest();
    if (pos_ < earliest && pos_ >= ring_->LoadHead()) {  // retention took it, the ring still has it
      in_archive_ = false;
      return Poll(batch, max_records, max_bytes);
    }
    if (pos_ < earliest) {
      last_lost_ = earliest - pos_;
      total_lost_ += last_lost_;
      pos_ = earliest;
      batch->begin_ = batch->end_ = pos_;
      segment_.reset();
      return PollStatus::kExpired;
    }
    if (!segment_ || pos_ < segment_->base() ||
        (segment_->sealed() && pos_ >= segment_->sealed_end())) {
      if (!OpenSegmentAt()) {
        if (pos_ < archive_->LoadEarliest()) continue;  // retention took it meanwhile
        return PollStatus::kCorrupt;
      }
    }
    // A mapping of the segment that was being written is stale once another one is (it was
    // sealed since, perhaps by a restarted archiver that cut a torn tail off it): read it again
    // as sealed, no further than its end. The archive's cursor was loaded first: if it has passed
    // that end, the new active base is visible here.
    if (!segment_->sealed() && archive_->LoadActiveBase() != segment_->base()) {
      segment_.reset();
      continue;
    }
    if (segment_->compressed() && !segment_->Holds(pos_)) {
      if (Status s = segment_->Load(pos_); !s.ok()) {
        error_ = s.message();
        return PollStatus::kCorrupt;
      }
    }
    if (!segment_->sealed() && pos_ + kRecordHeaderSize > segment_->window_end()) {
      // The active segment was written further, or sealed and another one begun.
      if (!segment_->Extend()) {
        error_ = segment_->path() + ": cannot map what was written since";
        return PollStatus::kCorrupt;
      }
      if (pos_ >= segment_->window_end()) {
        error_ = segment_->path() + ": the archive lacks offset " + std::to_string(pos_) +
                 ", which the ring no longer holds";
        return PollStatus::kCorrupt;
      }
    }
    const detail::FrameSpan frames = segment_->frames();
    const std::uint64_t limit = std::min(archived, segment_->window_end());
    std::uint64_t p = pos_;
    std::size_t n = 0;
    bool damaged = false;
    while (p < limit && n < max_records && p - pos_ < max_bytes) {
      std::uint64_t bytes = 0;
      const FrameKind kind = frames.layout->Classify(p, frames.LoadSealRelaxed(p), &bytes);
      if (kind == FrameKind::kRecord) {
        ++n;
      } else if (kind != FrameKind::kPadding) {
        damaged = true;
        break;
      }
      if (bytes > limit - p) {  // runs past what is mapped yet
        if (kind == FrameKind::kRecord) --n;
        // No frame crosses the cursor, a sealed end or a compressed block's end.
        damaged = limit == archived || segment_->sealed();
        break;
      }
      p += bytes;
    }
    if (p == pos_) {
      if (damaged || limit == archived || segment_->sealed()) {
        error_ = segment_->path() + ": damaged frame at offset " + std::to_string(pos_);
        return PollStatus::kCorrupt;
      }
      if (!segment_->Extend()) {
        error_ = segment_->path() + ": cannot map what was written since";
        return PollStatus::kCorrupt;
      }
      continue;
    }
    batch->frames_ = frames;
    batch->begin_ = pos_;
    batch->end_ = p;
    batch->count_ = n;
    pos_ = p;
    if (n > 0) return PollStatus::kOk;
  }
  return PollStatus::kEmpty;
}

void LogReader::ReadAgain(const RecordBatch& batch) noexcept {
  pos_ = batch.begin_offset();
  in_archive_ = archive_ != nullptr && pos_ < ring_->LoadHead();
  stall_at_ = UINT64_MAX;
  checked_ticks_ = 0;
}

bool LogReader::StillValid(const RecordBatch& batch) const noexcept {
  if (batch.archived()) return true;  // segment files are never written over
  // acquire: order the caller's reads of the batch before this check.
  std::atomic_thread_fence(std::memory_order_acquire);
  return Atomic(ring_->header->head.value).load(std::memory_order_relaxed) <= batch.begin_offset();
}

Status LogReader::Seek(const StartAt& start) {
  auto pos = log_->Resolve(start);
  if (!pos.ok()) return pos.status();
  pos_ = *pos;
  in_archive_ = archive_ != nullptr && pos_ < ring_->LoadHead();
  stall_at_ = UINT64_MAX;
  checked_ticks_ = 0;
  return Status::Ok();
}

void LogReader::CommitCursor() noexcept { CommitCursorAt(pos_); }

void LogReader::CommitCursorAt(std::uint64_t offset) noexcept {
  if (cursor_ == nullptr || !ring_->writable) return;
  offset = std::min(offset, pos_);  // past the position means the position
  KAPPA_DCHECK(offset % kFrameAlignment == 0, "LogReader::CommitCursorAt: not a frame boundary");
  std::atomic_ref(cursor_->updated_unix_ns).store(detail::UnixNs(), std::memory_order_relaxed);
  // release: everything before `offset` has been consumed before producers may overwrite it.
  Atomic(cursor_->position).store(offset, std::memory_order_release);
}

}  // namespace kappa::memlog
