// Log: a handle on a memory-mapped ring log file.
//
// Thread safety: a Log is safe to share between threads. Producers and readers made from it
// are not: give each thread its own. Producers and readers must be destroyed before their Log.
//
// Many processes may open the same file at once. The first handle to open a log after every
// other handle has gone recovers it (crash recovery): a torn or garbage tail is excluded, the
// reservations of producers that died mid-append become padding, and every committed frame
// before the tail is kept.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/files.h"
#include "memlog/archive.h"
#include "memlog/detail/archive.h"
#include "memlog/detail/ring.h"
#include "memlog/format.h"
#include "memlog/status.h"

namespace kappa::memlog {

class Producer;
class LogReader;
class Archiver;

struct CreateOptions {
  std::uint64_t capacity = std::uint64_t{64} << 20;  // ring bytes, a power of two
  Policy policy = Policy::kBlock;
  Durability durability = Durability::kNone;
  std::uint32_t sync_interval_ms = 100;  // for Durability::kInterval
  std::uint32_t unblock_timeout_ms = 1000;
  std::uint32_t max_payload = 0;  // 0: min(capacity / 4, 256 MiB)
  // An archive directory (created 0700 if missing; its parent must exist) makes the ring the
  // hot tail of a log whose history is kept in segment files there (archive.h). A directory
  // that already holds the archive of a log of this name (its ring lost, say to a reboot of
  // /dev/shm) is taken over: the new ring continues that log, with its identity, at the end of
  // what the archive holds.
  std::string archive_directory;
  ArchiveSettings archive;  // for a new archive
};

struct OpenOptions {
  bool read_only = false;
  // Map every page of the log at open (MAP_POPULATE), for a reader that will go through all of
  // it, such as a pipeline: its reads then take no page faults. Opening takes longer.
  bool populate = false;
  std::optional<Durability> durability;  // unset: the log's creation default
  std::optional<std::uint32_t> sync_interval_ms;
  // If the log file is missing but this directory holds its archive, the log is made again
  // from the archive (as Create with that archive would) and opened.
  std::string archive_directory;
};

// Where a reader starts.
class StartAt {
 public:
  enum class Kind { kEarliest, kLatest, kOffset, kTime };
  static StartAt Earliest() { return {Kind::kEarliest, 0}; }
  static StartAt Latest() { return {Kind::kLatest, 0}; }
  static StartAt Offset(std::uint64_t offset) { return {Kind::kOffset, offset}; }
  // The first record whose event time is >= unix_ns.
  static StartAt Time(std::int64_t unix_ns) {
    return {Kind::kTime, static_cast<std::uint64_t>(unix_ns)};
  }
  Kind kind() const { return kind_; }
  std::uint64_t value() const { return value_; }

 private:
  StartAt(Kind kind, std::uint64_t value) : kind_(kind), value_(value) {}
  Kind kind_;
  std::uint64_t value_;
};

struct CursorInfo {
  std::string name;
  std::uint64_t position = 0;
  std::int64_t updated_unix_ns = 0;
  std::uint32_t pid = 0;
};

struct LogInfo {
  std::string path;
  std::uint32_t version = 0;
  std::uint64_t capacity = 0;
  Policy policy = Policy::kBlock;
  Durability durability = Durability::kNone;           // this handle's
  Durability creation_durability = Durability::kNone;  // the log's default
  std::uint32_t max_payload = 0;
  std::uint32_t unblock_timeout_ms = 0;
  std::uint32_t sync_interval_ms = 0;
  std::int64_t created_unix_ns = 0;
  std::string identity;  // Log::identity()
  std::uint64_t earliest_offset = 0;
  std::uint64_t latest_offset = 0;
  std::uint64_t records_appended = 0;
  std::uint64_t bytes_appended = 0;  // payload bytes
  std::uint64_t padding_frames = 0;
  std::uint64_t unblocked_stalls = 0;
  std::uint64_t recoveries = 0;
  std::uint64_t truncated_bytes = 0;
  std::uint32_t live_producers = 0;
  std::vector<CursorInfo> cursors;
  bool has_archive = false;
  ArchiveInfo archive;
};

const char* PolicyName(Policy policy);
const char* DurabilityName(Durability durability);

class Log {
 public:
  // Creates a new log file (0600, never over an existing file or through a symlink).
  static Result<std::unique_ptr<Log>> Create(const std::string& path, const CreateOptions& options);
  // Opens an existing log file, validating its header first, and recovers it if no other handle
  // has it open.
  static Result<std::unique_ptr<Log>> Open(const std::string& path,
                                           const OpenOptions& options = {});

  // Log names (a path's last component) take 1 to kMaxLogName of A-Z a-z 0-9 _ . - and do not
  // start with '.'; no part of a path holds a newline or another control character. Create and
  // Open refuse anything else with kInvalidArgument.
  static constexpr std::size_t kMaxLogName = 127;
  static Status ValidatePath(const std::string& path);
  // How the directory of a log at `path` is checked before a file is created in it (logs and
  // their catalogs): the default directory must be this user's alone, another this user's or
  // sticky (base/files.h).
  static base::DirectoryUse DirectoryUseFor(const std::string& path);
  // $KAPPA_DATA_DIR if set, else /dev/shm/kappa.
  static std::string DefaultDirectory();
  // A bare name (no '/') lives in DefaultDirectory(); anything else is a path as given.
  static std::string ResolvePath(std::string_view name_or_path);

  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t capacity() const { return ring_.capacity; }
  Policy policy() const { return ring_.policy; }
  Durability durability() const { return durability_; }
  bool read_only() const { return !ring_.writable; }
  // The log's identity: 32 hex digits drawn at random when it was created. It names this log,
  // whatever its path: a log renamed keeps it, a new log created at the same path has another.
  std::string identity() const;
  // Oldest offset still retained: in the archive, for a log with one, else in the ring.
  std::uint64_t earliest_offset() const;
  // Offset the next reservation will take (end of everything reserved so far).
  std::uint64_t latest_offset() const { return ring_.LoadTail(); }
  // Bytes recovery excluded as a torn tail when this handle opened the log (0 if none).
  std::uint64_t recovered_truncated_bytes() const { return recovered_truncated_; }
  LogInfo Info() const;

  Result<std::unique_ptr<Producer>> NewProducer();
  // An anonymous reader: nothing in the log remembers its position.
  Result<std::unique_ptr<LogReader>> NewReader(StartAt start);
  // A reader on the named durable cursor, created at `if_new` when it does not exist yet.
  Result<std::unique_ptr<LogReader>> OpenCursor(std::string_view name,
                                                StartAt if_new = StartAt::Earliest());
  Status DeleteCursor(std::string_view name);

  // Resolves a start position to an offset of a frame boundary.
  Result<std::uint64_t> Resolve(StartAt start) const;

  // Flushes the mapping to the file now (msync MS_SYNC). A failure is fatal for the handle.
  Status Sync();
  // True after an I/O error on sync: every append on this handle then fails with kIoError.
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::string failure() const;

  const detail::Ring& ring() const { return ring_; }
  // The log's archive (null for a log without one).
  const detail::Archive* archive() const { return archive_.get(); }
  bool has_archive() const { return archive_ != nullptr; }

  // Internal to memlog: flushes the ring bytes [offset, offset + bytes) and the header.
  bool SyncRange(std::uint64_t offset, std::uint64_t bytes);

 private:
  friend class Archiver;
  Log() = default;
  // The reader an Archiver copies through, on the archive's reserved cursor, at `position`
  // (a frame boundary: where the archive ends, whether or not a frame is committed there yet).
  Result<std::unique_ptr<LogReader>> OpenArchiveCursor(std::uint64_t position);
  static Result<std::unique_ptr<Log>> OpenFd(int fd, const std::string& path, bool writable,
                                             std::optional<Durability> durability,
                                             std::optional<std::uint32_t> sync_interval_ms,
                                             bool exclusive, bool populate = false);
  void Recover();
  void Fail(std::string what);
  void SyncLoop();
  Result<std::uint64_t> TimeToOffset(std::int64_t unix_ns) const;
  // The first record at or after `unix_ns` in the archive, or the ring's head if none is.
  Result<std::uint64_t> ArchiveTimeToOffset(std::int64_t unix_ns, std::uint64_t head) const;
  Status CheckArchivedFrame(std::uint64_t offset) const;

  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  detail::Ring ring_;
  std::unique_ptr<detail::Archive> archive_;
  Durability durability_ = Durability::kNone;
  std::uint32_t sync_interval_ms_ = 100;
  std::uint64_t recovered_truncated_ = 0;
  bool open_complete_ = false;  // a handle rejected during open leaves the file as it was

  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::string failure_;  // guarded by mu_
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread sync_thread_;
};

namespace detail {
// Fault injection for tests: replaces msync for every handle in this process.
using MsyncFunction = int (*)(void*, std::size_t, int);
void SetMsyncForTesting(MsyncFunction fn);
}  // namespace detail

}  // namespace kappa::memlog
