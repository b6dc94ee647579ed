// Archiver: copies a log's committed frames from the ring into its archive's segment files.
//
//   auto log = Log::Open(path);                  // a log created with an archive directory
//   auto archiver = Archiver::Open(log->get());  // recovers the archive, takes its lock
//   std::atomic<bool> stop{false};
//   Status s = (*archiver)->Run(stop);           // until stop is set or an error
//
// At most one archiver runs per log, held by an exclusive lock on the archive's LOCK file. It
// reads through the log's reserved archive cursor, which it commits only past frames that are
// durable (fsync) in the archive: the ring's head never passes what the archive does not hold
// yet, whatever the log's policy, so producers stop (Block: kFull) rather than lose data when
// the archive cannot keep up or its disk is full. It flushes every flush interval, seals the
// segment being written at its size or age (listing it in the manifest), and deletes whole
// sealed segments, oldest first, past the retention limits. With a codec, each sealed segment is
// then compressed a few blocks per pass (between copies, so the ring keeps draining): the
// compressed file is synced and listed in the manifest before the uncompressed one goes.
//
// Thread safety: one thread at a time, except Stop(), which any thread may call. The Log must
// outlive the Archiver.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "memlog/archive.h"
#include "memlog/log_reader.h"
#include "memlog/status.h"

namespace kappa::memlog {

class Log;
namespace detail {
class SegmentCompressor;
}  // namespace detail

struct ArchiverOptions {
  // Replaces the archive's settings (and is written into its manifest, so that they stay).
  std::optional<ArchiveSettings> settings;
  // Told what recovery and retention did: one sentence each (segments sealed after a crash,
  // damaged tails cut off, segments deleted).
  std::function<void(const std::string&)> report;
};

class Archiver {
 public:
  // REQUIRES: `log` was opened writable and has an archive.
  static Result<std::unique_ptr<Archiver>> Open(Log* log, ArchiverOptions options = {});
  // Stops the background thread if one runs, flushes what was written, releases the lock.
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  // One pass: copies what producers have committed, then flushes, seals and applies retention
  // where due. `*copied` (if given) receives the frame bytes copied.
  Status Pass(std::uint64_t* copied = nullptr);
  // Passes until `stop` is set or a pass fails (the failure is also recorded in the log header,
  // where `kappa log info` shows it). Idle, it sleeps until a producer commits.
  Status Run(const std::atomic<bool>& stop);
  // Runs Run() on a thread of its own; Stop() ends it and returns how it ended.
  void Start();
  Status Stop();

  // Flushes what was written and releases the ring's space behind it.
  Status Flush();
  // Seals the segment being written now, if it holds anything.
  Status Seal();
  // Deletes sealed segments past the retention limits, oldest first.
  Status ApplyRetention();
  // Compresses every sealed segment not yet stored with the archive's codec (Pass() does it a
  // few blocks at a time). A segment whose frames turn out damaged is reported and left as it is.
  Status CompressAll();
  // True while sealed segments wait to be compressed.
  bool compressing() const { return compressor_ != nullptr || !to_compress_.empty(); }

  const ArchiveSettings& settings() const { return manifest_.settings; }
  const Manifest& manifest() const { return manifest_; }
  std::uint64_t written_offset() const { return written_; }
  std::uint64_t durable_offset() const { return durable_; }

 private:
  explicit Archiver(Log* log) : log_(log) {}
  Status StartSegment(std::uint64_t base);
  Status WriteFrames(std::uint64_t begin, std::uint64_t end);
  Status Failed(Status status);
  Status CompressSome(int blocks);
  Status ListCompressed(const SegmentInfo& compressed);
  void PublishSealed();
  void Report(const std::string& note) const;

  Log* log_;
  ArchiverOptions options_;
  std::string directory_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
  int segment_fd_ = -1;
  Manifest manifest_;
  std::unique_ptr<LogReader> reader_;
  std::uint64_t identity_[2] = {0, 0};
  std::uint64_t written_ = 0;            // frames in segment files up to here
  std::uint64_t durable_ = 0;            // flushed up to here (the archive cursor's position)
  std::int64_t segment_started_ns_ = 0;  // monotonic time the active segment got its first frame
  std::int64_t last_flush_ns_ = 0;
  std::int64_t last_retention_ns_ = 0;
  // The active segment's statistics and time index, kept as frames are copied.
  SegmentInfo active_;
  std::vector<IndexEntry> index_;
  std::uint64_t next_index_at_ = 0;
  bool failed_ = false;
  // Sealed segments to compress, oldest first, and the one being compressed.
  std::deque<SegmentInfo> to_compress_;
  std::unique_ptr<detail::SegmentCompressor> compressor_;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  Status thread_status_;
};

}  // namespace kappa::memlog
