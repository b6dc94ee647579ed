#include "memlog/archiver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/files.h"
#include "memlog/detail/archive.h"
#include "memlog/detail/archive_recovery.h"
#include "memlog/detail/codec.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"

namespace kappa::memlog {

using detail::Atomic;
using detail::FrameKind;

namespace {

template <class T>
void StoreRelaxed(T& word, T value) {
  std::atomic_ref<T>(word).store(value, std::memory_order_relaxed);
}

constexpr std::int64_t kRetentionEveryNs = 1'000'000'000;
constexpr std::uint64_t kBatchBytes = 1 << 20;  // a pass that copies less waits for more
constexpr int kGatherMs = 10;                   // but not longer than this
constexpr std::size_t kMaxCopyBytes = std::size_t{4} << 20;  // per poll
constexpr int kCompressBlocksPerPass = 16;                   // about 4 MiB of frames

}  // namespace

Result<std::unique_ptr<Archiver>> Archiver::Open(Log* log, ArchiverOptions options) {
  if (!log->has_archive())
    return Status::Error(
        StatusCode::kFailedPrecondition,
        log->path() + ": has no archive (create the log with an archive directory)");
  if (log->read_only())
    return Status::Error(StatusCode::kPermissionDenied,
                         log->path() + ": opened read-only; cannot archive it");
  if (options.settings) {
    if (Status s = ValidateArchiveSettings(*options.settings); !s.ok()) return s;
  }
  std::unique_ptr<Archiver> a(new Archiver(log));
  a->options_ = std::move(options);
  const detail::Archive* archive = log->archive();
  a->directory_ = archive->directory();
  a->dir_fd_ = ::fcntl(archive->dir_fd(), F_DUPFD_CLOEXEC, 0);
  if (a->dir_fd_ < 0) return base::ErrnoStatus(a->directory_, "cannot open", errno);
  a->identity_[0] = archive->identity()[0];
  a->identity_[1] = archive->identity()[1];
  auto lock = detail::LockArchive(a->dir_fd_, a->directory_);
  if (!lock.ok()) {
    const std::uint32_t pid =
        std::atomic_ref(archive->line().archiver_pid).load(std::memory_order_relaxed);
    if (lock.status().code() == StatusCode::kBusy && pid != 0)
      return Status::Error(StatusCode::kBusy,
                           lock.status().message() + "; pid " + std::to_string(pid));
    return lock.status();
  }
  a->lock_fd_ = *lock;
  // An interrupted retention may have listed its new start without publishing it: readers learn
  // it before recovery removes the files below it.
  if (auto m = ReadManifest(a->directory_); m.ok()) {
    std::uint64_t& earliest = archive->line().earliest;
    if (std::atomic_ref(earliest).load(std::memory_order_relaxed) < m->earliest)
      std::atomic_ref(earliest).store(m->earliest,
                                      std::memory_order_release);  // release: before any unlink
  }
  auto recovered = detail::RecoverArchive(a->dir_fd_, a->directory_, log->identity());
  if (!recovered.ok()) return recovered.status();
  for (const std::string& note : recovered->notes) a->Report(note);
  a->manifest_ = std::move(recovered->manifest);
  if (a->options_.settings) {
    a->manifest_.settings = *a->options_.settings;
    if (Status s = detail::WriteManifest(a->dir_fd_, a->directory_, a->manifest_); !s.ok())
      return s;
  }

  // Continue where the archive ends: the ring must still hold everything from there on.
  const std::uint64_t resume = a->manifest_.active_base;
  const std::uint64_t head = log->ring().LoadHead();
  const std::uint64_t tail = log->ring().LoadTail();
  if (resume > tail)
    return Status::Error(StatusCode::kCorrupt, a->directory_ + ": the archive ends at offset " +
                                                   std::to_string(resume) +
                                                   ", past the log's end " + std::to_string(tail) +
                                                   ": it is not this ring's history");
  if (resume < head)
    return Status::Error(
        StatusCode::kCorrupt,
        a->directory_ + ": the archive ends at offset " + std::to_string(resume) +
            " but the ring now starts at " + std::to_string(head) + ": " +
            std::to_string(head - resume) +
            " bytes of history are in neither (a damaged or removed segment file)");
  // (A producer may hold a reservation at `resume`, uncommitted: the reader waits for it, or
  // unblocks it after the unblock timeout, as any reader does.)
  auto reader = log->OpenArchiveCursor(resume);
  if (!reader.ok()) return reader.status();
  a->reader_ = std::move(*reader);
  a->reader_->CommitCursorAt(resume);
  a->written_ = a->durable_ = resume;
  if (Status s = a->StartSegment(resume); !s.ok()) return s;

  if (a->manifest_.settings.codec !=
      Codec::kNone) {  // sealed before, or before the codec was chosen
    for (const SegmentInfo& s : a->manifest_.segments)
      if (s.codec == Codec::kNone) a->to_compress_.push_back(s);
  }
  ArchiveLine& line = archive->line();
  a->PublishSealed();
  // release: retention publishes the start before it deletes files below it.
  std::atomic_ref(line.earliest).store(a->manifest_.earliest, std::memory_order_release);
  StoreRelaxed(line.archiver_pid, static_cast<std::uint32_t>(::getpid()));
  StoreRelaxed(line.error, 0);
  StoreRelaxed(line.heartbeat_unix_ns, detail::UnixNs());
  a->last_flush_ns_ = detail::MonotonicNs();
  a->last_retention_ns_ = a->last_flush_ns_ - kRetentionEveryNs;  // the first pass applies it
  return a;
}

Archiver::~Archiver() {
  if (thread_.joinable()) Stop().ok();
  if (lock_fd_ >= 0 && !failed_ && reader_) {
    Flush().ok();
    ArchiveLine& line = log_->archive()->line();
    StoreRelaxed(line.archiver_pid, 0u);
  }
  if (segment_fd_ >= 0) ::close(segment_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

void Archiver::Report(const std::string& note) const {
  if (options_.report) options_.report(note);
}

Status Archiver::Failed(Status status) {
  ArchiveLine& line = log_->archive()->line();
  int err = EIO;
  if (status.code() == StatusCode::kResourceExhausted) err = ENOSPC;
  StoreRelaxed(line.error, err);
  return status;
}

void Archiver::PublishSealed() {
  ArchiveLine& line = log_->archive()->line();
  StoreRelaxed(line.segments, static_cast<std::uint32_t>(manifest_.segments.size()));
  StoreRelaxed(line.sealed_bytes, manifest_.sealed_bytes());
  StoreRelaxed(line.stored_bytes, manifest_.stored_bytes());
  StoreRelaxed(line.codec, manifest_.settings.codec);
  StoreRelaxed(line.oldest_sealed_unix_ns, manifest_.segments.empty()
                                               ? std::int64_t{0}
                                               : manifest_.segments.front().sealed_unix_ns);
}

Status Archiver::StartSegment(std::uint64_t base) {
  if (segment_fd_ >= 0) ::close(segment_fd_);
  segment_fd_ = -1;
  const std::string name = SegmentFileName(base);
  const std::string path = directory_ + "/" + name;
  const int fd =
      ::openat(dir_fd_, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Failed(base::ErrnoStatus(path, "cannot create archive segment", errno));
  const SegmentHeader h = detail::MakeSegmentHeader(identity_, base, log_->ring());
  std::string header(kSegmentHeaderSize, '\0');
  std::memcpy(header.data(), &h, sizeof h);
  int err = 0;
  if (::pwrite(fd, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size()))
    err = errno ? errno : EIO;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (err == 0 && ::fsync(dir_fd_) != 0) err = errno;
  if (err != 0) {
    ::close(fd);
    ::unlinkat(dir_fd_, name.c_str(), 0);
    return Failed(base::ErrnoStatus(path, "cannot write archive segment header", err));
  }
  segment_fd_ = fd;
  active_ = SegmentInfo{};
  active_.base = active_.end = base;
  index_.clear();
  next_index_at_ = base;
  segment_started_ns_ = 0;
  ArchiveLine& line = log_->archive()->line();
  StoreRelaxed(line.written, base);
  // release: the file exists (and the segment before it is in the manifest) before readers look
  // for offsets at or past `base` in it.
  std::atomic_ref(line.active_base).store(base, std::memory_order_release);
  return Status::Ok();
}

Status Archiver::WriteFrames(std::uint64_t begin, std::uint64_t end) {
  const detail::Ring& ring = log_->ring();
  // Statistics and the time index of the frames, read before they are written out and kept only
  // once they are (a failed write is tried again later, from `begin`).
  SegmentInfo stats = active_;
  const std::size_t index_size = index_.size();
  const std::uint64_t next_index_at = next_index_at_;
  for (std::uint64_t pos = begin; pos < end;) {
    std::uint64_t bytes = 0;
    const FrameKind kind = ring.Classify(pos, ring.LoadSeal(pos), &bytes);
    if (kind != FrameKind::kRecord && kind != FrameKind::kPadding)
      break;  // cannot be: the reader read them
    if (kind == FrameKind::kRecord) {
      const std::int64_t ts = ring.Header(pos)->timestamp_ns;
      if (stats.records == 0) stats.min_timestamp_ns = stats.max_timestamp_ns = ts;
      stats.min_timestamp_ns = std::min(stats.min_timestamp_ns, ts);
      stats.max_timestamp_ns = std::max(stats.max_timestamp_ns, ts);
      ++stats.records;
      if (pos >= next_index_at_) {
        index_.push_back({pos, ts});
        next_index_at_ = pos + kIndexStride;
      } else {
        index_.back().max_timestamp_ns = std::max(index_.back().max_timestamp_ns, ts);
      }
    }
    pos += bytes;
  }
  auto undo = [&] {
    index_.resize(index_size);
    next_index_at_ = next_index_at;
    // An entry that existed before may have had its maximum raised: it stays an upper bound.
  };
  // The frames byte for byte; the ring's bytes [begin, end) may wrap around its end.
  std::uint64_t at = begin;
  while (at < end) {
    const std::uint64_t idx = at & ring.mask;
    const std::uint64_t n = std::min(end - at, ring.capacity - idx);
    const std::byte* src = ring.data + idx;
    std::uint64_t done = 0;
    while (done < n) {
      const ssize_t w =
          ::pwrite(segment_fd_, src + done, n - done,
                   static_cast<off_t>(kSegmentHeaderSize + (at - active_.base) + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        const int err = w < 0 ? errno : ENOSPC;
        undo();
        return Failed(base::ErrnoStatus(directory_ + "/" + SegmentFileName(active_.base),
                                        "cannot write archive segment", err));
      }
      done += static_cast<std::uint64_t>(w);
    }
    at += n;
  }
  active_ = stats;
  return Status::Ok();
}

Status Archiver::Pass(std::uint64_t* copied) {
  if (copied) *copied = 0;
  if (failed_)
    return Status::Error(StatusCode::kIoError, directory_ + ": the archiver failed earlier");
  if (segment_fd_ < 0) {
    if (Status s = StartSegment(written_); !s.ok()) return s;
  }
  const ArchiveSettings& settings = manifest_.settings;
  const std::uint64_t capacity = log_->ring().capacity;
  if (written_ - active_.base >= settings.segment_bytes) {  // a seal that failed before
    if (Status s = Seal(); !s.ok()) return s;
  }
  RecordBatch batch;
  for (int polls = 0; polls < 64; ++polls) {
    const std::uint64_t held = written_ - active_.base;  // < segment_bytes: full ones are sealed
    const std::size_t max_bytes = static_cast<std::size_t>(
        std::min<std::uint64_t>(kMaxCopyBytes, settings.segment_bytes - held));
    const PollStatus st = reader_->Poll(&batch, std::size_t{1} << 20, max_bytes);
    if (st == PollStatus::kCorrupt)
      return Failed(Status::Error(StatusCode::kCorrupt, log_->path() +
                                                            ": damaged frame at offset " +
                                                            std::to_string(reader_->position()) +
                                                            "; the archive stops before it"));
    // Everything the reader passed (records, and padding it skipped) is copied.
    const std::uint64_t end = reader_->position();
    if (end > written_) {
      // On failure the reader stays ahead: the next pass copies from written_ again.
      if (Status s = WriteFrames(written_, end); !s.ok()) return s;
      if (copied) *copied += end - written_;
      written_ = end;
      active_.end = end;
      StoreRelaxed(log_->archive()->line().written, written_);
      if (segment_started_ns_ == 0) segment_started_ns_ = detail::MonotonicNs();
      if (written_ - active_.base >= settings.segment_bytes) {
        if (Status s = Seal(); !s.ok()) return s;
      } else if (written_ - durable_ >= capacity / 4) {
        if (Status s = Flush(); !s.ok()) return s;  // keep the ring from filling while we copy
      }
    }
    if (st != PollStatus::kOk) break;
  }
  const std::int64_t now = detail::MonotonicNs();
  const auto ns = [](std::chrono::milliseconds ms) { return std::chrono::nanoseconds(ms).count(); };
  if (written_ > durable_ && now - last_flush_ns_ >= ns(settings.flush_interval)) {
    if (Status s = Flush(); !s.ok()) return s;
  }
  if (settings.segment_age.count() > 0 && written_ > active_.base && segment_started_ns_ != 0 &&
      now - segment_started_ns_ >= ns(settings.segment_age)) {
    if (Status s = Seal(); !s.ok()) return s;
  }
  if (now - last_retention_ns_ >= kRetentionEveryNs) {
    if (Status s = ApplyRetention(); !s.ok()) return s;
  }
  if (compressing()) {
    if (Status s = CompressSome(kCompressBlocksPerPass); !s.ok()) return s;
  }
  StoreRelaxed(log_->archive()->line().heartbeat_unix_ns, detail::UnixNs());
  return Status::Ok();
}

Status Archiver::Flush() {
  if (failed_)
    return Status::Error(StatusCode::kIoError, directory_ + ": the archiver failed earlier");
  if (written_ == durable_) {
    last_flush_ns_ = detail::MonotonicNs();
    return Status::Ok();
  }
  if (::fdatasync(segment_fd_) != 0) {
    // Never retried: after a failed flush the kernel may have dropped the pages it could not write.
    failed_ = true;
    return Failed(base::ErrnoStatus(directory_ + "/" + SegmentFileName(active_.base),
                                    "cannot flush (fsync)", errno));
  }
  durable_ = written_;
  reader_->CommitCursorAt(durable_);  // the ring's space before it may now be reused
  last_flush_ns_ = detail::MonotonicNs();
  return Status::Ok();
}

Status Archiver::Seal() {
  if (written_ == active_.base) return Status::Ok();
  if (Status s = Flush(); !s.ok()) return s;
  if (Status s = detail::WriteIndex(dir_fd_, directory_, active_.base, written_, index_); !s.ok())
    return Failed(s);
  SegmentInfo sealed = active_;
  sealed.end = written_;
  sealed.sealed_unix_ns = detail::UnixNs();
  sealed.codec = Codec::kNone;
  sealed.stored_bytes = kSegmentHeaderSize + sealed.bytes();
  Manifest next = manifest_;
  next.segments.push_back(sealed);
  next.active_base = written_;
  if (Status s = detail::WriteManifest(dir_fd_, directory_, next); !s.ok()) {
    // The rename may have happened (a failed directory sync): what the directory says wins.
    auto now = ReadManifest(directory_);
    const bool listed = now.ok() && !now->segments.empty() &&
                        now->segments.back().base == sealed.base &&
                        now->segments.back().end == sealed.end;
    if (!listed) return Failed(s);
  }
  manifest_ = std::move(next);
  if (manifest_.settings.codec != Codec::kNone) to_compress_.push_back(sealed);
  // Sealed: nothing more goes into it, whether or not the next segment can be made now.
  active_ = SegmentInfo{};
  active_.base = active_.end = written_;
  index_.clear();
  next_index_at_ = written_;
  segment_started_ns_ = 0;
  PublishSealed();
  ::close(segment_fd_);
  segment_fd_ = -1;
  return StartSegment(written_);  // if it fails, the next pass tries again
}

Status Archiver::ApplyRetention() {
  last_retention_ns_ = detail::MonotonicNs();
  const ArchiveSettings& settings = manifest_.settings;
  if (settings.retain_bytes == 0 && settings.retain_age.count() == 0) return Status::Ok();
  std::uint64_t keep_from = UINT64_MAX;  // what the retention cursor has not read
  if (!settings.retain_cursor.empty()) {
    for (const CursorInfo& c : log_->Info().cursors)
      if (c.name == settings.retain_cursor) keep_from = c.position;
  }
  const std::int64_t now = detail::UnixNs();
  std::uint64_t bytes = manifest_.stored_bytes();  // on disk: what a size limit is for
  std::size_t drop = 0;
  std::vector<std::string> why;
  while (drop < manifest_.segments.size()) {
    const SegmentInfo& s = manifest_.segments[drop];
    const bool over_bytes = settings.retain_bytes != 0 && bytes > settings.retain_bytes;
    const bool over_age =
        settings.retain_age.count() != 0 &&
        now - s.sealed_unix_ns > std::chrono::nanoseconds(settings.retain_age).count();
    if ((!over_bytes && !over_age) || s.end > keep_from) break;
    why.push_back(SegmentFileName(s.base, s.codec) + " (offsets [" + std::to_string(s.base) + ", " +
                  std::to_string(s.end) + "), " + std::to_string(s.stored_bytes) +
                  " bytes): past the retention " + (over_bytes ? "size" : "age"));
    bytes -= s.stored_bytes;
    ++drop;
  }
  if (drop == 0) return Status::Ok();
  Manifest next = manifest_;
  next.segments.erase(next.segments.begin(),
                      next.segments.begin() + static_cast<std::ptrdiff_t>(drop));
  next.earliest = next.segments.empty() ? next.active_base : next.segments.front().base;
  if (Status s = detail::WriteManifest(dir_fd_, directory_, next); !s.ok()) return Failed(s);
  ArchiveLine& line = log_->archive()->line();
  // release: readers see the new start before the files below it go.
  std::atomic_ref(line.earliest).store(next.earliest, std::memory_order_release);
  // Nothing below the new start is compressed any more.
  if (compressor_ && compressor_->segment().base < next.earliest) compressor_.reset();
  while (!to_compress_.empty() && to_compress_.front().base < next.earliest)
    to_compress_.pop_front();
  for (std::size_t i = 0; i < drop; ++i) {
    const SegmentInfo& s = manifest_.segments[i];
    ::unlinkat(dir_fd_, SegmentFileName(s.base, s.codec).c_str(), 0);
    ::unlinkat(dir_fd_, IndexFileName(s.base).c_str(), 0);
    Report(directory_ + ": deleted " + why[i]);
  }
  manifest_ = std::move(next);
  PublishSealed();
  return Status::Ok();
}

Status Archiver::CompressSome(int blocks) {
  const ArchiveSettings& settings = manifest_.settings;
  while (blocks > 0 && compressing()) {
    if (!compressor_) {
      const SegmentInfo next = to_compress_.front();
      auto c = detail::SegmentCompressor::Start(dir_fd_, directory_, next, settings.codec,
                                                settings.codec_level, identity_);
      if (!c.ok()) {
        if (c.status().code() == StatusCode::kResourceExhausted)
          return Failed(c.status());  // tried again later
        Report(c.status().message() + "; the segment stays uncompressed");
        to_compress_.pop_front();
        continue;
      }
      to_compress_.pop_front();
      compressor_ = std::move(*c);
    }
    auto done = compressor_->Step();
    --blocks;
    if (!done.ok()) {
      const SegmentInfo segment = compressor_->segment();
      compressor_.reset();  // removes the unfinished file
      if (done.status().code() != StatusCode::kResourceExhausted) {
        Report(done.status().message() + "; the segment stays uncompressed");
        continue;
      }
      to_compress_.push_front(segment);  // tried again once there is room
      return Failed(done.status());
    }
    if (!*done) continue;
    const SegmentInfo compressed = compressor_->segment();
    compressor_.reset();
    if (Status s = ListCompressed(compressed); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Archiver::ListCompressed(const SegmentInfo& compressed) {
  Manifest next = manifest_;
  auto it = std::find_if(next.segments.begin(), next.segments.end(),
                         [&](const SegmentInfo& s) { return s.base == compressed.base; });
  if (it == next.segments.end() || it->end != compressed.end || it->codec != Codec::kNone) {
    ::unlinkat(dir_fd_, SegmentFileName(compressed.base, compressed.codec).c_str(),
               0);  // deleted meanwhile
    return Status::Ok();
  }
  const SegmentInfo uncompressed = *it;
  it->codec = compressed.codec;
  it->stored_bytes = compressed.stored_bytes;
  if (Status s = detail::WriteManifest(dir_fd_, directory_, next); !s.ok()) {
    // Recovery removes a compressed file the manifest does not list.
    auto now = ReadManifest(directory_);
    const bool listed =
        now.ok() &&
        std::any_of(now->segments.begin(), now->segments.end(), [&](const SegmentInfo& x) {
          return x.base == compressed.base && x.codec == compressed.codec;
        });
    if (!listed) {
      ::unlinkat(dir_fd_, SegmentFileName(compressed.base, compressed.codec).c_str(), 0);
      to_compress_.push_front(uncompressed);
      return Failed(s);
    }
  }
  manifest_ = std::move(next);
  // Readers find the compressed file from now on; one that has the old file open reads on there.
  ::unlinkat(dir_fd_, SegmentFileName(compressed.base).c_str(), 0);
  PublishSealed();
  return Status::Ok();
}

Status Archiver::CompressAll() {
  while (compressing()) {
    if (Status s = CompressSome(kCompressBlocksPerPass); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Archiver::Run(const std::atomic<bool>& stop) {
  bool waiting_for_room = false;
  while (!stop.load(std::memory_order_acquire)) {
    std::uint64_t copied = 0;
    const Status s = Pass(&copied);
    if (!s.ok()) {
      if (s.code() != StatusCode::kResourceExhausted || failed_) return s;
      // A full disk: producers wait (the ring keeps what is not archived); try again shortly.
      if (!waiting_for_room) Report(s.message() + "; producers wait until there is room");
      waiting_for_room = true;
      for (int i = 0; i < 10 && !stop.load(std::memory_order_acquire); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (waiting_for_room) {
      Report(directory_ + ": archiving again");
      StoreRelaxed(log_->archive()->line().error, 0);
      waiting_for_room = false;
    }
    if (compressing()) {
      continue;  // the pass compressed a few blocks: more come next pass, after a copy
    } else if (copied == 0) {
      // Idle: sleep until a producer commits (or a flush, seal or retention may be due).
      // What it reads, the next pass copies (from written_ to the reader's position).
      RecordBatch batch;
      // Whatever it returns, the next pass's poll reports it again.
      static_cast<void>(reader_->Wait(&batch, std::chrono::milliseconds(50), 1));
    } else if (copied < kBatchBytes) {
      // A trickle: let frames gather for a few milliseconds (one write for many records, not a
      // wake-up and a write for each), unless the ring would fill meanwhile.
      const std::uint64_t enough = std::min<std::uint64_t>(kBatchBytes, log_->ring().capacity / 8);
      for (int ms = 0; ms < kGatherMs && !stop.load(std::memory_order_acquire); ++ms) {
        if (log_->latest_offset() - reader_->position() >= enough) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  return Status::Ok();
}

void Archiver::Start() {
  stop_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { thread_status_ = Run(stop_); });
}

Status Archiver::Stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  return thread_status_;
}

}  // namespace kappa::memlog
