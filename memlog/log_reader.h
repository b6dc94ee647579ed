// LogReader: zero-copy batch polling from any retained offset.
//
// Thread safety: one thread at a time per LogReader; make one per consuming thread. Readers
// never block producers (except through a named cursor under the Block policy, which is the
// point of it).
//
// Zero-copy batches point into the ring, or for a log with an archive into a segment file's
// mapping or a compressed segment's decompressed block (valid until the next Poll, Wait or Seek
// of the reader). Under the Block policy a
// reader on a named cursor of a log without an archive owns its unconsumed bytes: nobody
// overwrites them until the cursor commits past them. Any other reader may be lapped while it
// looks at a batch: StillValid(batch) after use tells whether the bytes were intact throughout
// (the same check a seqlock reader makes). With an archive, a reader that the ring's head
// overtakes reads on from the archive (no kLapped), and ReadAgain(batch) reads an overwritten
// batch again from there.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "memlog/detail/ring.h"
#include "memlog/status.h"

namespace kappa::memlog {

class Log;
class StartAt;
namespace detail {
class Archive;
class SegmentFile;
}  // namespace detail

struct Record {
  std::uint64_t offset = 0;
  std::int64_t timestamp_ns = 0;
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t crc = 0;
  std::span<const std::byte> payload;
  // Recomputes the CRC32C over the record and compares it with the stored one.
  bool ChecksumOk() const noexcept;
};

// A run of committed frames [begin_offset, end_offset), padding skipped on iteration.
class RecordBatch {
 public:
  class Iterator {
   public:
    Iterator(const detail::FrameSpan& frames, std::uint64_t pos, std::uint64_t end)
        : frames_(frames), pos_(pos), end_(end) {
      Skip();
    }
    Record operator*() const noexcept;
    Iterator& operator++() noexcept;
    bool operator!=(const Iterator& other) const { return pos_ != other.pos_; }

   private:
    void Skip() noexcept;
    detail::FrameSpan frames_;
    std::uint64_t pos_;
    std::uint64_t end_;
    std::uint64_t seal_ = 0;
    std::uint64_t next_ = 0;
  };

  std::uint64_t begin_offset() const { return begin_; }
  std::uint64_t end_offset() const { return end_; }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // True if the batch was read from the archive's segment files rather than the ring.
  bool archived() const { return archived_; }
  Iterator begin() const { return Iterator(frames_, begin_, end_); }
  Iterator end() const { return Iterator(frames_, end_, end_); }

 private:
  friend class LogReader;
  detail::FrameSpan frames_;
  bool archived_ = false;
  std::uint64_t begin_ = 0;
  std::uint64_t end_ = 0;
  std::size_t count_ = 0;
};

enum class [[nodiscard]] PollStatus{
    kOk,       // the batch holds >= 1 record
    kEmpty,    // nothing committed past position() yet
    kLapped,   // records were overwritten before they were read; see last_lost_bytes() (only
               // for logs without an archive)
    kCorrupt,  // the frame at position() is damaged or its archive segment unreadable (error()
               // says which); the reader does not move past it
    kExpired,  // records were deleted by the archive's retention before they were read; see
               // last_lost_bytes(); the reader goes on from the oldest record kept
};
const char* PollStatusName(PollStatus status);

class LogReader {
 public:
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads up to `max_records` committed records (and about `max_bytes`) from position().
  // A producer stalled mid-append holds readers back for at most the unblock timeout.
  PollStatus Poll(RecordBatch* batch, std::size_t max_records = 4096,
                  std::size_t max_bytes = std::size_t{1} << 20) noexcept;
  // Polls until a record arrives, a lap or corruption is seen, or `timeout` passes. After about
  // 50 us of polling it sleeps until a producer commits (a futex on the log's wake line, which
  // any process's producer wakes), so an idle reader costs no CPU. A read-only handle cannot
  // announce its sleep and polls every millisecond instead.
  PollStatus Wait(RecordBatch* batch, std::chrono::nanoseconds timeout,
                  std::size_t max_records = 4096) noexcept;
  // True if nothing in `batch` can have been overwritten since it was polled.
  bool StillValid(const RecordBatch& batch) const noexcept;
  // Goes back to the start of `batch` (the last one polled), so that the next poll reads it
  // again: from the archive, for a log with one, when StillValid(batch) said the ring's copy was
  // overwritten.
  void ReadAgain(const RecordBatch& batch) noexcept;
  // Why the last kCorrupt was returned, for one that came from the archive (empty otherwise).
  const std::string& error() const { return error_; }

  std::uint64_t position() const { return pos_; }
  std::uint64_t last_lost_bytes() const { return last_lost_; }
  std::uint64_t total_lost_bytes() const { return total_lost_; }
  Status Seek(const StartAt& start);

  // Named cursors: the cursor's name ("" for an anonymous reader), and CommitCursor() to record
  // position() durably in the log (release: everything before it has been consumed).
  const std::string& cursor_name() const { return cursor_name_; }
  void CommitCursor() noexcept;
  // Records `offset` (at most position()) instead: a consumer that reads ahead of what it has
  // finished with commits only the latter. REQUIRES: offset is a frame boundary.
  void CommitCursorAt(std::uint64_t offset) noexcept;

 private:
  friend class Log;
  LogReader(const Log* log, std::uint64_t position, CursorSlot* cursor, std::string cursor_name);
  // Reads below the ring's head, from the archive's segment files.
  PollStatus PollArchive(RecordBatch* batch, std::size_t max_records,
                         std::size_t max_bytes) noexcept;
  // Opens the segment that holds pos_; false (error_ set) if it cannot.
  bool OpenSegmentAt() noexcept;

  const Log* log_;
  const detail::Ring* ring_;
  const detail::Archive* archive_;  // null for a log without an archive
  std::uint64_t pos_;
  bool in_archive_ = false;  // pos_ was below the ring's head when last looked at
  std::unique_ptr<detail::SegmentFile> segment_;
  std::unique_ptr<detail::SegmentFile> retired_segment_;  // the previous batch may point into it
  std::string error_;
  // About 10 us at 2-4 GHz (detail::Ticks() counts TSC cycles on x86-64, else nanoseconds).
  static constexpr std::uint64_t kIdleCheckTicks = 1 << 15;
  std::uint64_t checked_ticks_ = 0;  // when head and tail were last read (or a poll found data)
  CursorSlot* cursor_;
  std::string cursor_name_;
  std::uint64_t last_lost_ = 0;
  std::uint64_t total_lost_ = 0;
  std::uint64_t stall_at_ = UINT64_MAX;
  std::uint64_t stall_seal_ = 0;
  std::int64_t stall_since_ = 0;
};

}  // namespace kappa::memlog
