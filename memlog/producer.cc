#include "memlog/producer.h"

#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/check.h"
#include "memlog/crc32c.h"
#include "memlog/log.h"

namespace kappa::memlog {

using detail::Atomic;
using detail::FrameKind;

const char* AppendResultName(AppendResult result) {
  switch (result) {
    case AppendResult::kOk:
      return "ok";
    case AppendResult::kFull:
      return "full";
    case AppendResult::kTooLarge:
      return "too large";
    case AppendResult::kAbandoned:
      return "abandoned (stalled past the unblock timeout)";
    case AppendResult::kStalled:
      return "stalled behind an older reservation";
    case AppendResult::kIoError:
      return "I/O error";
    case AppendResult::kReadOnly:
      return "read-only";
    case AppendResult::kTimedOut:
      return "timed out while full";
  }
  return "unknown";
}

Producer::Producer(Log* log, std::uint32_t slot, std::uint64_t /*owner*/)
    : log_(log),
      ring_(&log->ring()),
      slot_(&log->ring().header->producers[slot]),
      slot_index_(slot) {
  head_cache_ = ring_->LoadHead();
}

Producer::~Producer() {
  ring_->FoldCounters(*slot_);
  // release: the counters are folded before the slot can be reused.
  Atomic(slot_->owner).store(0, std::memory_order_release);
}

AppendResult Producer::CheckRoom(std::uint64_t end) noexcept {
  const std::uint64_t cap = ring_->capacity;
  if (end - head_cache_ <= cap) return AppendResult::kOk;
  head_cache_ = ring_->LoadHead();
  if (end - head_cache_ <= cap) return AppendResult::kOk;
  if (ring_->policy == Policy::kBlock) {
    head_cache_ = ring_->RaiseHeadToCursors();
    return end - head_cache_ <= cap ? AppendResult::kOk : AppendResult::kFull;
  }
  // With an archive, nothing it does not hold yet is overwritten, whatever the policy.
  if (ring_->archive_cursor != nullptr && end - cap > ring_->LoadArchived())
    return AppendResult::kFull;
  if (!ring_->AdvanceHeadTo(end - cap)) return AppendResult::kStalled;
  head_cache_ = end - cap;
  return AppendResult::kOk;
}

AppendResult Producer::Reserve(std::uint64_t frame_bytes, std::uint64_t* start,
                               std::uint64_t* record, std::uint64_t* end) noexcept {
  std::uint64_t& tail = ring_->header->tail.value;
  std::uint64_t t = Atomic(tail).load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t idx = t & ring_->mask;
    const std::uint64_t pad = idx + frame_bytes > ring_->capacity ? ring_->capacity - idx : 0;
    const std::uint64_t e = t + pad + frame_bytes;
    if (AppendResult r = CheckRoom(e); r != AppendResult::kOk) return r;
    Atomic(slot_->res_start).store(t, std::memory_order_relaxed);
    Atomic(slot_->res_end).store(e, std::memory_order_relaxed);
    // acq_rel: release the slot's reservation record to unblockers that acquire the tail.
    if (Atomic(tail).compare_exchange_weak(t, e, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
      *start = t;
      *record = t + pad;
      *end = e;
      // release: our writes into the region come after we saw head move past its last lap, so
      // a lapped reader that sees any of them also sees that head.
      std::atomic_thread_fence(std::memory_order_release);
      return AppendResult::kOk;
    }
  }
}

RecordHeader* Producer::WriteFrame(std::uint64_t offset, std::span<const std::byte> payload,
                                   std::uint16_t type, std::int64_t timestamp_ns) noexcept {
  RecordHeader* h = ring_->Header(offset);
  const auto len = static_cast<std::uint32_t>(payload.size());
  if (len)
    std::memcpy(ring_->data + (offset & ring_->mask) + kRecordHeaderSize, payload.data(), len);
  h->timestamp_ns = timestamp_ns;
  h->type = type;
  h->flags = 0;
  return h;
}

AppendResult Producer::Publish(std::uint64_t start, std::uint64_t end,
                               std::uint64_t first_seal_before, std::uint64_t first_seal) noexcept {
  std::uint64_t expected = first_seal_before;
  // seq_cst (release at least): the frames of the whole reservation are complete before any
  // reader can see them; seq_cst for WakeReaders (the same locked instruction on x86).
  if (!Atomic(ring_->SealWord(start))
           .compare_exchange_strong(expected, first_seal, std::memory_order_seq_cst,
                                    std::memory_order_relaxed))
    return AppendResult::kAbandoned;
  ring_->WakeReaders();
  // The next append writes from `end` on and, once the ring has lapped, first reads the seal of
  // the frame it overwrites there: fetch those lines now, off the next append's latency path.
  __builtin_prefetch(ring_->data + (end & ring_->mask), 1, 3);
  __builtin_prefetch(ring_->data + ((end + 64) & ring_->mask), 1, 3);
  if (log_->durability() == Durability::kSync && !log_->SyncRange(start, end - start))
    return AppendResult::kIoError;
  return AppendResult::kOk;
}

namespace {
std::int64_t Now(std::int64_t ts) { return ts == kTimestampNow ? detail::UnixNs() : ts; }
}  // namespace

AppendResult Producer::Append(std::span<const std::byte> payload, std::uint16_t type,
                              std::int64_t timestamp_ns, std::uint64_t* offset) noexcept {
  if (log_->failed()) return AppendResult::kIoError;
  if (payload.size() > ring_->max_payload) return AppendResult::kTooLarge;
  const std::uint64_t frame = RecordFrameSize(payload.size());
  std::uint64_t start, rec, end;
  if (AppendResult r = Reserve(frame, &start, &rec, &end); r != AppendResult::kOk) return r;
  const std::uint64_t before = Atomic(ring_->SealWord(start)).load(std::memory_order_relaxed);
  std::uint64_t unused;
  if (ring_->Classify(start, before, &unused) != FrameKind::kUncommitted)
    return AppendResult::kAbandoned;  // unblocked before we even started
  const std::int64_t ts = Now(timestamp_ns);
  // The CRC from the caller's bytes, not the ring's: a reader spinning on this frame's line may
  // take the line away between our writes.
  WriteFrame(rec, payload, type, ts)->crc =
      RecordCrc(type, 0, ts, payload.data(), static_cast<std::uint32_t>(payload.size()));
  const std::uint64_t rec_seal =
      MakeSeal(ring_->Tag(rec), kSealRecord, static_cast<std::uint32_t>(payload.size()));
  std::uint64_t first = rec_seal;
  if (rec != start) {
    Atomic(ring_->SealWord(rec)).store(rec_seal, std::memory_order_relaxed);
    first = MakeSeal(ring_->Tag(start), kSealPadding, static_cast<std::uint32_t>(rec - start));
    ++padding_;
  }
  const AppendResult r = Publish(start, end, before, first);
  if (r == AppendResult::kAbandoned) return r;
  ++records_;
  bytes_ += payload.size();
  Atomic(slot_->records).store(records_, std::memory_order_relaxed);
  Atomic(slot_->bytes).store(bytes_, std::memory_order_relaxed);
  if (rec != start) Atomic(slot_->padding_frames).store(padding_, std::memory_order_relaxed);
  if (offset) *offset = rec;
  return r;
}

AppendResult Producer::AppendBlocking(std::span<const std::byte> payload, std::uint16_t type,
                                      std::int64_t timestamp_ns, std::chrono::nanoseconds timeout,
                                      std::uint64_t* offset) noexcept {
  // Back off as LogReader::Wait does: yield for a while before sleeping.
  const std::int64_t begin = detail::MonotonicNs();
  const std::int64_t deadline = begin + timeout.count();
  for (;;) {
    const AppendResult r = Append(payload, type, timestamp_ns, offset);
    if (r != AppendResult::kFull) return r;
    const std::int64_t now = detail::MonotonicNs();
    if (now >= deadline) return AppendResult::kTimedOut;
    if (now - begin < 5'000'000) {
      sched_yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

AppendResult Producer::AppendBatch(std::span<const RecordView> records,
                                   std::uint64_t* first_offset) noexcept {
  if (log_->failed()) return AppendResult::kIoError;
  if (records.empty()) return AppendResult::kOk;
  std::uint64_t total = 0;
  std::uint64_t largest = 0;
  for (const RecordView& r : records) {
    if (r.payload.size() > ring_->max_payload) return AppendResult::kTooLarge;
    const std::uint64_t f = RecordFrameSize(r.payload.size());
    total += f;
    largest = std::max(largest, f);
  }
  // Padding at the ring end costs at most one frame's worth; keep the whole reservation within
  // what a padding frame can describe and within half the ring.
  if (total + largest > std::min<std::uint64_t>(ring_->capacity / 2, std::uint64_t{1} << 29))
    return AppendResult::kTooLarge;

  std::uint64_t& tail = ring_->header->tail.value;
  std::uint64_t t = Atomic(tail).load(std::memory_order_relaxed);
  std::uint64_t end;
  for (;;) {
    // Lay the batch out from t: a record that would straddle the ring end gets padding first.
    std::uint64_t pos = t;
    for (const RecordView& r : records) {
      const std::uint64_t f = RecordFrameSize(r.payload.size());
      const std::uint64_t idx = pos & ring_->mask;
      if (idx + f > ring_->capacity) pos += ring_->capacity - idx;
      pos += f;
    }
    end = pos;
    if (AppendResult r = CheckRoom(end); r != AppendResult::kOk) return r;
    Atomic(slot_->res_start).store(t, std::memory_order_relaxed);
    Atomic(slot_->res_end).store(end, std::memory_order_relaxed);
    if (Atomic(tail).compare_exchange_weak(t, end, std::memory_order_acq_rel,
                                           std::memory_order_relaxed))
      break;
  }
  std::atomic_thread_fence(std::memory_order_release);  // as in Reserve
  const std::uint64_t start = t;
  const std::uint64_t before = Atomic(ring_->SealWord(start)).load(std::memory_order_relaxed);
  std::uint64_t unused;
  if (ring_->Classify(start, before, &unused) != FrameKind::kUncommitted)
    return AppendResult::kAbandoned;
  std::uint64_t first_seal = 0;
  std::uint64_t pos = start;
  std::uint64_t pads = 0, bytes = 0;
  const std::int64_t now = detail::UnixNs();
  // Checksums go in chunks, so that several records' CRC chains run side by side.
  constexpr std::size_t kCrcChunk = 16;
  RecordCrcInput crc_in[kCrcChunk];
  RecordHeader* crc_at[kCrcChunk];
  std::uint32_t crc_out[kCrcChunk];
  std::size_t pending = 0;
  auto store_crcs = [&] {
    RecordCrcs(crc_in, pending, crc_out);
    for (std::size_t i = 0; i < pending; ++i) crc_at[i]->crc = crc_out[i];
    pending = 0;
  };
  for (const RecordView& r : records) {
    const std::uint64_t f = RecordFrameSize(r.payload.size());
    const std::uint64_t idx = pos & ring_->mask;
    if (idx + f > ring_->capacity) {
      const std::uint64_t pad_seal = MakeSeal(ring_->Tag(pos), kSealPadding,
                                              static_cast<std::uint32_t>(ring_->capacity - idx));
      if (pos == start)
        first_seal = pad_seal;
      else
        Atomic(ring_->SealWord(pos)).store(pad_seal, std::memory_order_relaxed);
      pos += ring_->capacity - idx;
      ++pads;
    }
    const auto len = static_cast<std::uint32_t>(r.payload.size());
    const std::int64_t ts = r.timestamp_ns == kTimestampNow ? now : r.timestamp_ns;
    crc_at[pending] = WriteFrame(pos, r.payload, r.type, ts);
    crc_in[pending++] = RecordCrcInput{r.type, 0, len, ts, r.payload.data()};
    if (pending == kCrcChunk) store_crcs();
    const std::uint64_t seal = MakeSeal(ring_->Tag(pos), kSealRecord, len);
    if (pos == start)
      first_seal = seal;
    else
      Atomic(ring_->SealWord(pos)).store(seal, std::memory_order_relaxed);
    if (&r == &records.front() && first_offset) *first_offset = pos;
    bytes += len;
    pos += f;
  }
  store_crcs();
  const AppendResult result = Publish(start, end, before, first_seal);
  if (result == AppendResult::kAbandoned) return result;
  records_ += records.size();
  bytes_ += bytes;
  padding_ += pads;
  Atomic(slot_->records).store(records_, std::memory_order_relaxed);
  Atomic(slot_->bytes).store(bytes_, std::memory_order_relaxed);
  Atomic(slot_->padding_frames).store(padding_, std::memory_order_relaxed);
  return result;
}

AppendResult Producer::Claim(std::uint32_t size, ClaimedRecord* claim) noexcept {
  KAPPA_DCHECK(!claim_open_, "Producer::Claim: another claim of this producer is open");
  if (log_->failed()) return AppendResult::kIoError;
  if (size > ring_->max_payload) return AppendResult::kTooLarge;
  std::uint64_t start, rec, end;
  if (AppendResult r = Reserve(RecordFrameSize(size), &start, &rec, &end); r != AppendResult::kOk)
    return r;
  const std::uint64_t before = Atomic(ring_->SealWord(start)).load(std::memory_order_relaxed);
  claim->data = ring_->data + (rec & ring_->mask) + kRecordHeaderSize;
  claim->size = size;
  claim->offset = rec;
  claim->reservation_start = start;
  claim->reservation_end = end;
  claim->first_seal_before = before;
  claim_open_ = true;
  return AppendResult::kOk;
}

AppendResult Producer::Commit(ClaimedRecord* claim, std::uint16_t type,
                              std::int64_t timestamp_ns) noexcept {
  claim_open_ = false;
  const std::uint64_t rec = claim->offset;
  const std::uint64_t start = claim->reservation_start;
  RecordHeader* h = ring_->Header(rec);
  const std::int64_t ts = Now(timestamp_ns);
  h->timestamp_ns = ts;
  h->type = type;
  h->flags = 0;
  h->crc = RecordCrc(type, 0, ts, claim->data, claim->size);
  const std::uint64_t rec_seal = MakeSeal(ring_->Tag(rec), kSealRecord, claim->size);
  std::uint64_t first = rec_seal;
  if (rec != start) {
    Atomic(ring_->SealWord(rec)).store(rec_seal, std::memory_order_relaxed);
    first = MakeSeal(ring_->Tag(start), kSealPadding, static_cast<std::uint32_t>(rec - start));
    ++padding_;
  }
  const AppendResult r = Publish(start, claim->reservation_end, claim->first_seal_before, first);
  claim->data = nullptr;
  if (r == AppendResult::kAbandoned) return r;
  ++records_;
  bytes_ += claim->size;
  Atomic(slot_->records).store(records_, std::memory_order_relaxed);
  Atomic(slot_->bytes).store(bytes_, std::memory_order_relaxed);
  Atomic(slot_->padding_frames).store(padding_, std::memory_order_relaxed);
  return r;
}

void Producer::Abort(ClaimedRecord* claim) noexcept {
  claim_open_ = false;
  const std::uint64_t start = claim->reservation_start;
  const std::uint64_t pad = MakeSeal(ring_->Tag(start), kSealPadding,
                                     static_cast<std::uint32_t>(claim->reservation_end - start));
  std::uint64_t expected = claim->first_seal_before;
  if (Atomic(ring_->SealWord(start))
          .compare_exchange_strong(expected, pad, std::memory_order_release,
                                   std::memory_order_relaxed)) {
    ++padding_;
    Atomic(slot_->padding_frames).store(padding_, std::memory_order_relaxed);
  }
  claim->data = nullptr;
}

}  // namespace kappa::memlog
