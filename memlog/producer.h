// Producer: appends records to a Log.
//
// Thread safety: one thread at a time per Producer; make one Producer per producing thread.
// Any number of Producers, in any number of processes, append to one log at once.
//
// An append reserves its bytes with one CAS on the shared tail, writes the frame(s) and commits
// with one release CAS of the first frame's seal word, so a batch becomes visible all at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "memlog/detail/ring.h"
#include "memlog/format.h"

namespace kappa::memlog {

class Log;

enum class [[nodiscard]] AppendResult{
    kOk,
    kFull,       // Block policy: the slowest cursor has not consumed enough yet
    kTooLarge,   // payload (or batch) exceeds the log's limit
    kAbandoned,  // this producer stalled past the unblock timeout; its reservation became padding
    kStalled,    // Overwrite policy: an older reservation could not be unblocked
    kIoError,    // the handle failed a sync; nothing more is appended through it
    kReadOnly,   // the log was opened read-only
    kTimedOut,   // AppendBlocking: still full at the deadline
};
const char* AppendResultName(AppendResult result);

inline constexpr std::int64_t kTimestampNow = std::numeric_limits<std::int64_t>::min();

struct RecordView {
  std::span<const std::byte> payload;
  std::uint16_t type = 0;
  std::int64_t timestamp_ns = kTimestampNow;
};

// A reservation the caller fills in place, then commits or aborts.
struct ClaimedRecord {
  std::byte* data = nullptr;
  std::uint32_t size = 0;
  std::uint64_t offset = 0;  // offset of the record frame
  // Internal.
  std::uint64_t reservation_start = 0;
  std::uint64_t reservation_end = 0;
  std::uint64_t first_seal_before = 0;
};

class Producer {
 public:
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Appends one record; never waits (Block policy: kFull when there is no room).
  // `*offset`, if given, receives the record's offset. timestamp_ns = kTimestampNow uses the
  // wall clock.
  AppendResult Append(std::span<const std::byte> payload, std::uint16_t type = 0,
                      std::int64_t timestamp_ns = kTimestampNow,
                      std::uint64_t* offset = nullptr) noexcept;
  // Like Append, but waits (spin, then yield, then sleep) while the log is full.
  AppendResult AppendBlocking(std::span<const std::byte> payload, std::uint16_t type,
                              std::int64_t timestamp_ns, std::chrono::nanoseconds timeout,
                              std::uint64_t* offset = nullptr) noexcept;
  // Appends all records with one reservation; readers see all of them or none.
  // `*first_offset`, if given, receives the first record's offset.
  AppendResult AppendBatch(std::span<const RecordView> records,
                           std::uint64_t* first_offset = nullptr) noexcept;

  // Zero-copy: reserves `size` payload bytes at claim->data. REQUIRES: no other claim open.
  AppendResult Claim(std::uint32_t size, ClaimedRecord* claim) noexcept;
  AppendResult Commit(ClaimedRecord* claim, std::uint16_t type = 0,
                      std::int64_t timestamp_ns = kTimestampNow) noexcept;
  // Gives the claim up; its bytes become padding.
  void Abort(ClaimedRecord* claim) noexcept;

  std::uint64_t records_appended() const { return records_; }

 private:
  friend class Log;
  Producer(Log* log, std::uint32_t slot, std::uint64_t owner);

  // Reserves `frame_bytes` at the tail (with padding before it if it would straddle the ring
  // end). On kOk: *start is the reservation start, *record the frame's offset, *end its end.
  AppendResult Reserve(std::uint64_t frame_bytes, std::uint64_t* start, std::uint64_t* record,
                       std::uint64_t* end) noexcept;
  AppendResult CheckRoom(std::uint64_t end) noexcept;
  AppendResult Publish(std::uint64_t start, std::uint64_t end, std::uint64_t first_seal_before,
                       std::uint64_t first_seal) noexcept;
  // Writes a record frame's payload and header, all but the CRC and the seal.
  RecordHeader* WriteFrame(std::uint64_t offset, std::span<const std::byte> payload,
                           std::uint16_t type, std::int64_t timestamp_ns) noexcept;

  Log* log_;
  const detail::Ring* ring_;
  ProducerSlot* slot_;
  std::uint32_t slot_index_;
  std::uint64_t head_cache_ = 0;
  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t padding_ = 0;
  bool claim_open_ = false;
};

}  // namespace kappa::memlog
