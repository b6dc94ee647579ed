#include "memlog/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "base/files.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"
#include "memlog/detail/archive_recovery.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::memlog {

using detail::Atomic;
using detail::FrameKind;

namespace detail {
namespace {
std::atomic<MsyncFunction> g_msync{&::msync};
}
void SetMsyncForTesting(MsyncFunction fn) { g_msync.store(fn ? fn : &::msync); }
}  // namespace detail

namespace {

Status Err(StatusCode code, const std::string& path, const std::string& what) {
  return Status::Error(code, path + ": " + what);
}

Status ErrnoStatus(const std::string& path, const std::string& what, int err) {
  StatusCode code = StatusCode::kIoError;
  if (err == ENOENT) code = StatusCode::kNotFound;
  if (err == EEXIST) code = StatusCode::kAlreadyExists;
  if (err == EACCES || err == EPERM || err == EROFS) code = StatusCode::kPermissionDenied;
  if (err == ELOOP)
    return Err(StatusCode::kPermissionDenied, path, "is a symbolic link; refusing to follow it");
  if (err == EISDIR)
    return Err(StatusCode::kInvalidArgument, path, "is a directory, not a log file");
  return Err(code, path, what + ": " + std::strerror(err));
}

std::uint32_t SuperCrc(const SuperBlock& s) { return Crc32c(0, &s, offsetof(SuperBlock, crc)); }

// Validates a superblock read from a file of `file_size` bytes.
Status ValidateSuper(const SuperBlock& s, std::uint64_t file_size, const std::string& path) {
  if (std::memcmp(s.magic, kMagic, sizeof kMagic) != 0)
    return Err(StatusCode::kCorrupt, path, "bad magic: not a kappa log");
  if (s.version < kOldestFormatVersion || s.version > kFormatVersion)
    return Err(StatusCode::kCorrupt, path,
               "format version " + std::to_string(s.version) + ", this build reads versions " +
                   std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion));
  if (SuperCrc(s) != s.crc) return Err(StatusCode::kCorrupt, path, "header checksum mismatch");
  if (s.header_size != kHeaderSize)
    return Err(StatusCode::kCorrupt, path,
               "header size " + std::to_string(s.header_size) + ", expected " +
                   std::to_string(kHeaderSize));
  if (!std::has_single_bit(s.capacity) || s.capacity < kMinCapacity || s.capacity > kMaxCapacity)
    return Err(
        StatusCode::kCorrupt, path,
        "capacity " + std::to_string(s.capacity) + " is not a power of two in [4 KiB, 1 TiB]");
  if (file_size != kHeaderSize + s.capacity)
    return Err(StatusCode::kCorrupt, path,
               "file is " + std::to_string(file_size) + " bytes but its header describes " +
                   std::to_string(kHeaderSize + s.capacity));
  if (s.policy != static_cast<std::uint8_t>(Policy::kBlock) &&
      s.policy != static_cast<std::uint8_t>(Policy::kOverwrite))
    return Err(StatusCode::kCorrupt, path,
               "unknown backpressure policy " + std::to_string(s.policy));
  if (s.durability > static_cast<std::uint8_t>(Durability::kSync))
    return Err(StatusCode::kCorrupt, path, "unknown durability " + std::to_string(s.durability));
  if (s.max_payload == 0 || s.max_payload > kMaxPayloadLimit || s.max_payload > s.capacity / 2)
    return Err(StatusCode::kCorrupt, path,
               "max payload " + std::to_string(s.max_payload) + " out of range");
  if (s.max_producers != kMaxProducers || s.max_cursors != kMaxCursors)
    return Err(StatusCode::kCorrupt, path,
               "producer or cursor table size does not match this build");
  return Status::Ok();
}

// Owner value of a producer slot while a dead owner's slot is being reclaimed.
constexpr std::uint64_t kReclaiming = ~std::uint64_t{0};

bool PidAlive(std::uint32_t pid) {
  if (pid == 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint32_t ArchiveBlockCrc(const ArchiveBlock& b) {
  return Crc32c(0, &b, offsetof(ArchiveBlock, crc));
}

// What Create learns from, or writes into, the archive directory of a new log.
struct ArchiveStart {
  std::string directory;  // absolute
  std::string ring_path;  // the new ring's, absolute
  int dir_fd = -1;
  int lock_fd = -1;
  bool fresh = true;  // a new archive (its manifest written by Create)
  Manifest manifest;
  ~ArchiveStart() {
    if (lock_fd >= 0) ::close(lock_fd);
    if (dir_fd >= 0) ::close(dir_fd);
  }
};

// Prepares the archive of a log being created at `path`: a new one, or the archive of the same
// log (by name) whose ring is being made again.
Status PrepareArchive(const std::string& path, const CreateOptions& o, ArchiveStart* a) {
  if (Status s = ValidateArchiveSettings(o.archive); !s.ok())
    return s.WithPrefix(o.archive_directory + ": ");
  auto fd = detail::OpenArchiveDirectory(o.archive_directory, /*create=*/true);
  if (!fd.ok()) return fd.status();
  a->dir_fd = *fd;
  char* real = ::realpath(o.archive_directory.c_str(), nullptr);
  if (real == nullptr) return base::ErrnoStatus(o.archive_directory, "cannot resolve", errno);
  a->directory = real;
  std::free(real);
  char* ring_dir = ::realpath(base::DirectoryOf(path).c_str(), nullptr);
  if (ring_dir == nullptr)
    return base::ErrnoStatus(base::DirectoryOf(path), "cannot resolve", errno);
  a->ring_path = std::string(ring_dir) + "/" + base::BaseName(path);
  std::free(ring_dir);
  if (a->directory.size() > kMaxArchiveDirectory)
    return Status::Error(StatusCode::kInvalidArgument,
                         a->directory + ": archive directory path is longer than " +
                             std::to_string(kMaxArchiveDirectory) + " bytes");
  auto lock = detail::LockArchive(a->dir_fd, a->directory);
  if (!lock.ok()) return lock.status();
  a->lock_fd = *lock;
  struct stat st;
  if (::fstatat(a->dir_fd, kManifestFile, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    auto manifest = ReadManifest(a->directory);
    if (!manifest.ok()) return manifest.status();
    if (manifest->log_name != base::BaseName(path))
      return Status::Error(StatusCode::kAlreadyExists,
                           a->directory + ": holds the archive of log '" + manifest->log_name +
                               "', not of '" + base::BaseName(path) + "': use another directory");
    // The log's ring may still exist where it was last made: a second ring would fork the log.
    if (!manifest->ring_path.empty() && manifest->ring_path != a->ring_path) {
      auto other = Log::Open(manifest->ring_path, OpenOptions{.read_only = true});
      if (other.ok() && (*other)->identity() == manifest->identity)
        return Status::Error(StatusCode::kAlreadyExists,
                             a->directory + ": the ring of log '" + manifest->log_name +
                                 "' still exists at " + manifest->ring_path +
                                 ": use that one (a second ring would fork the log)");
    }
    auto rec = detail::RecoverArchive(a->dir_fd, a->directory, manifest->identity);
    if (!rec.ok()) return rec.status();
    a->fresh = false;
    a->manifest = std::move(rec->manifest);
    return Status::Ok();
  }
  const int dir = ::openat(a->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = dir >= 0 ? ::fdopendir(dir) : nullptr;
  if (d == nullptr && dir >= 0) ::close(dir);
  if (d != nullptr) {
    bool segments = false;
    while (dirent* e = ::readdir(d)) {
      std::uint64_t base = 0;
      segments |= ParseSegmentFileName(e->d_name, ".seg", &base) ||
                  ParseSegmentFileName(e->d_name, ".segz", &base);
    }
    ::closedir(d);
    if (segments)
      return Status::Error(StatusCode::kCorrupt, a->directory + ": holds segment files but no " +
                                                     kManifestFile +
                                                     ": not an archive this build can continue");
  }
  return Status::Ok();
}

}  // namespace

const char* PolicyName(Policy policy) {
  return policy == Policy::kOverwrite ? "overwrite" : "block";
}
const char* DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kInterval:
      return "interval";
    case Durability::kSync:
      return "sync";
    default:
      return "none";
  }
}

std::string Log::DefaultDirectory() {
  const char* dir = std::getenv("KAPPA_DATA_DIR");
  return dir && *dir ? std::string(dir) : std::string("/dev/shm/kappa");
}

std::string Log::ResolvePath(std::string_view name_or_path) {
  if (name_or_path.find('/') != std::string_view::npos) return std::string(name_or_path);
  return DefaultDirectory() + "/" + std::string(name_or_path);
}

Status Log::ValidatePath(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string::npos
                                    ? std::string_view(path)
                                    : std::string_view(path).substr(slash + 1);
  bool ok = !name.empty() && name.size() <= kMaxLogName && name[0] != '.' && path.size() < 4096;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-');
  }
  for (unsigned char c : path)
    ok = ok && c >= 0x20 && c != 0x7f;  // no newline, no control character
  if (ok) return Status::Ok();
  std::string shown;
  for (unsigned char c : path.substr(0, 200)) {
    if (c >= 0x20 && c != 0x7f) {
      shown += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      shown += esc;
    }
  }
  return Status::Error(
      StatusCode::kInvalidArgument,
      "bad log name '" + shown + "': its file name takes 1 to " + std::to_string(kMaxLogName) +
          " of A-Z a-z 0-9 _ . - (not starting with '.'), and the path no control characters");
}

Result<std::unique_ptr<Log>> Log::Create(const std::string& path, const CreateOptions& o) {
  if (Status s = ValidatePath(path); !s.ok()) return s;
  if (!std::has_single_bit(o.capacity) || o.capacity < kMinCapacity || o.capacity > kMaxCapacity)
    return Err(
        StatusCode::kInvalidArgument, path,
        "capacity " + std::to_string(o.capacity) + " must be a power of two in [4096, 2^40]");
  if (o.policy != Policy::kBlock && o.policy != Policy::kOverwrite)
    return Err(StatusCode::kInvalidArgument, path, "unknown policy");
  if (o.unblock_timeout_ms == 0)
    return Err(StatusCode::kInvalidArgument, path, "unblock timeout must be > 0 ms");
  if (o.durability == Durability::kInterval && o.sync_interval_ms == 0)
    return Err(StatusCode::kInvalidArgument, path, "sync interval must be > 0 ms");
  std::uint64_t max_payload = o.max_payload;
  const std::uint64_t payload_limit = std::min<std::uint64_t>(o.capacity / 4, kMaxPayloadLimit);
  if (max_payload == 0) max_payload = payload_limit;
  if (max_payload > payload_limit)
    return Err(StatusCode::kInvalidArgument, path,
               "max payload " + std::to_string(max_payload) + " exceeds " +
                   std::to_string(payload_limit) + " (a quarter of the capacity, at most 256 MiB)");

  ArchiveStart archive;
  if (!o.archive_directory.empty()) {
    if (Status s = PrepareArchive(path, o, &archive); !s.ok()) return s;
  }

  // The default directory is ours to create (and must be ours alone); any other parent must
  // exist, and be ours or sticky. The file is created in the directory opened and checked.
  const std::string dir = base::DirectoryOf(path);
  const bool in_default = dir == DefaultDirectory();
  auto dir_fd = base::OpenDirectory(dir, DirectoryUseFor(path), /*create=*/in_default);
  if (!dir_fd.ok()) return dir_fd.status();
  const std::string file = base::BaseName(path);
  const int fd =
      ::openat(*dir_fd, file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const int open_errno = errno;
  ::close(*dir_fd);
  if (fd < 0) {
    if (open_errno == EEXIST) return Err(StatusCode::kAlreadyExists, path, "already exists");
    return ErrnoStatus(path, "cannot create", open_errno);
  }
  auto fail = [&](Status s) {
    ::unlink(path.c_str());
    ::close(fd);
    if (archive.fresh && archive.dir_fd >= 0) ::unlinkat(archive.dir_fd, kManifestFile, 0);
    return s;
  };
  if (::flock(fd, LOCK_EX) != 0) return fail(ErrnoStatus(path, "flock", errno));
  const std::uint64_t size = kHeaderSize + o.capacity;
  if (int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0)
    return fail(ErrnoStatus(path, "cannot allocate " + std::to_string(size) + " bytes", err));

  auto header = std::make_unique<LogHeader>();
  std::memset(header.get(), 0, sizeof(LogHeader));
  SuperBlock& s = header->super;
  s.version = kFormatVersion;
  s.header_size = kHeaderSize;
  s.capacity = o.capacity;
  s.max_payload = static_cast<std::uint32_t>(max_payload);
  s.policy = static_cast<std::uint8_t>(o.policy);
  s.durability = static_cast<std::uint8_t>(o.durability);
  s.unblock_timeout_ms = o.unblock_timeout_ms;
  s.sync_interval_ms = o.sync_interval_ms;
  std::random_device rd;
  s.salt = (std::uint64_t{rd()} << 32) ^ rd() ^ static_cast<std::uint64_t>(detail::UnixNs());
  s.created_unix_ns = detail::UnixNs();
  s.identity[0] = (std::uint64_t{rd()} << 32) ^ rd();
  s.identity[1] = (std::uint64_t{rd()} << 32) ^ rd();
  s.max_producers = kMaxProducers;
  s.max_cursors = kMaxCursors;
  header->counters.clean_close = 1;
  if (archive.dir_fd >= 0) {
    // The ring continues the archived log where the archive ends, with its identity; or a new
    // archive starts at offset 0 with this log's.
    Manifest& m = archive.manifest;
    if (!archive.fresh && !detail::ParseIdentityHex(m.identity, s.identity))
      return fail(
          Err(StatusCode::kCorrupt, archive.directory, "the manifest's identity is malformed"));
    if (archive.fresh) {
      m.log_name = base::BaseName(path);
      m.ring_path = archive.ring_path;
      m.identity = detail::IdentityHex(s.identity);
      m.created_unix_ns = s.created_unix_ns;
      m.settings = o.archive;
    }
    m.ring_path = archive.ring_path;
    m.capacity = o.capacity;
    m.policy = o.policy;
    m.durability = o.durability;
    m.max_payload = s.max_payload;
    m.unblock_timeout_ms = o.unblock_timeout_ms;
    m.sync_interval_ms = o.sync_interval_ms;
    if (Status w = detail::WriteManifest(archive.dir_fd, archive.directory, m); !w.ok())
      return fail(w);
    const std::uint64_t start = m.active_base;
    header->head.value = header->tail.value = start;
    ArchiveBlock& b = header->archive_block;
    std::memcpy(b.magic, kArchiveMagic, sizeof b.magic);
    b.directory_len = static_cast<std::uint32_t>(archive.directory.size());
    std::memcpy(b.directory, archive.directory.data(), archive.directory.size());
    b.crc = ArchiveBlockCrc(b);
    ArchiveLine& line = header->archive;
    line.active_base = start;
    line.earliest = m.earliest;
    line.written = start;
    line.sealed_bytes = m.sealed_bytes();
    line.stored_bytes = m.stored_bytes();
    line.codec = m.settings.codec;
    line.segments = static_cast<std::uint32_t>(m.segments.size());
    line.oldest_sealed_unix_ns = m.segments.empty() ? 0 : m.segments.front().sealed_unix_ns;
    line.cursor_slot = 0;
    CursorSlot& c = header->cursors[0];
    c.state = static_cast<std::uint64_t>(CursorState::kActive);
    c.position = start;
    c.updated_unix_ns = s.created_unix_ns;
    c.pid = static_cast<std::uint32_t>(::getpid());
    c.name_len = static_cast<std::uint32_t>(std::strlen(kArchiveCursorName));
    std::memcpy(c.name, kArchiveCursorName, c.name_len);
  }
  // The magic goes in last, with the checksum, so a half-created file is never taken for a log.
  if (::pwrite(fd, header.get(), sizeof(LogHeader), 0) != static_cast<ssize_t>(sizeof(LogHeader)))
    return fail(ErrnoStatus(path, "cannot write header", errno));
  std::memcpy(s.magic, kMagic, sizeof kMagic);
  s.crc = SuperCrc(s);
  if (::pwrite(fd, &s, sizeof s, 0) != static_cast<ssize_t>(sizeof s))
    return fail(ErrnoStatus(path, "cannot write header", errno));
  if (o.durability != Durability::kNone && ::fsync(fd) != 0)
    return fail(ErrnoStatus(path, "fsync", errno));
  auto log = OpenFd(fd, path, true, std::nullopt, std::nullopt, true);
  if (!log.ok()) ::unlink(path.c_str());
  return log;
}

Result<std::unique_ptr<Log>> Log::Open(const std::string& path, const OpenOptions& o) {
  if (Status s = ValidatePath(path); !s.ok()) return s;
  const int flags = (o.read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC;
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0 && errno == ENOENT && !o.archive_directory.empty() && !o.read_only) {
    // The ring is gone (a reboot emptied /dev/shm, say): make it again from the archive.
    auto manifest = ReadManifest(o.archive_directory);
    if (!manifest.ok()) return manifest.status();
    CreateOptions c;
    c.capacity = manifest->capacity;
    c.policy = manifest->policy;
    c.durability = manifest->durability;
    c.sync_interval_ms = manifest->sync_interval_ms;
    c.unblock_timeout_ms = manifest->unblock_timeout_ms;
    c.max_payload = manifest->max_payload;
    c.archive_directory = o.archive_directory;
    // Made, then opened as asked. Another process may be making it at the same moment (it holds
    // the archive's lock: kBusy) or have made it (kAlreadyExists): then it is opened once there.
    OpenOptions again = o;
    again.archive_directory.clear();
    for (int attempt = 0;; ++attempt) {
      auto made = Create(path, c);
      if (made.ok() || made.status().code() == StatusCode::kAlreadyExists) return Open(path, again);
      if (made.status().code() != StatusCode::kBusy || attempt >= 200) return made.status();
      ::usleep(10'000);
      if (auto opened = Open(path, again);
          opened.ok() || opened.status().code() != StatusCode::kNotFound)
        return opened;
    }
  }
  if (fd < 0) {
    if (errno == ENOENT) return Err(StatusCode::kNotFound, path, "no such log file");
    return ErrnoStatus(path, "cannot open", errno);
  }
  bool exclusive = false;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    exclusive = true;
  } else if (::flock(fd, LOCK_SH) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(path, "flock", err);
  }
  return OpenFd(fd, path, !o.read_only, o.durability, o.sync_interval_ms, exclusive, o.populate);
}

Result<std::unique_ptr<Log>> Log::OpenFd(int fd, const std::string& path, bool writable,
                                         std::optional<Durability> durability,
                                         std::optional<std::uint32_t> sync_interval_ms,
                                         bool exclusive, bool populate) {
  auto fail = [&](Status s) {
    ::close(fd);
    return s;
  };
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(ErrnoStatus(path, "stat", errno));
  if (S_ISDIR(st.st_mode))
    return fail(Err(StatusCode::kInvalidArgument, path, "is a directory, not a log file"));
  if (!S_ISREG(st.st_mode))
    return fail(Err(StatusCode::kInvalidArgument, path, "is not a regular file"));
  if (st.st_uid != ::geteuid())
    return fail(Err(StatusCode::kPermissionDenied, path,
                    "owned by another user (uid " + std::to_string(st.st_uid) + "): refused"));
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < kHeaderSize)
    return fail(Err(StatusCode::kCorrupt, path,
                    "file is " + std::to_string(file_size) + " bytes, shorter than the " +
                        std::to_string(kHeaderSize) + "-byte log header: not a kappa log"));
  // Read and check the superblock with pread before mapping anything.
  SuperBlock super;
  if (::pread(fd, &super, sizeof super, 0) != static_cast<ssize_t>(sizeof super))
    return fail(ErrnoStatus(path, "cannot read header", errno));
  if (Status s = ValidateSuper(super, file_size, path); !s.ok()) return fail(s);

  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* map = ::mmap(nullptr, file_size, prot, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
  if (map == MAP_FAILED) return fail(ErrnoStatus(path, "mmap", errno));

  std::unique_ptr<Log> log(new Log());
  log->path_ = path;
  log->fd_ = fd;
  log->map_ = map;
  log->map_size_ = file_size;
  detail::Ring& r = log->ring_;
  r.header = static_cast<LogHeader*>(map);
  r.data = static_cast<std::byte*>(map) + kHeaderSize;
  r.capacity = super.capacity;
  r.mask = super.capacity - 1;
  r.capacity_log2 = static_cast<unsigned>(std::countr_zero(super.capacity));
  r.salt = super.salt;
  r.max_payload = super.max_payload;
  r.policy = static_cast<Policy>(super.policy);
  r.unblock_timeout_ns = std::int64_t{super.unblock_timeout_ms} * 1'000'000;
  r.writable = writable;
  log->durability_ = durability.value_or(static_cast<Durability>(super.durability));
  log->sync_interval_ms_ = sync_interval_ms.value_or(super.sync_interval_ms);
  if (log->durability_ == Durability::kInterval && log->sync_interval_ms_ == 0)
    return Err(StatusCode::kInvalidArgument, path, "sync interval must be > 0 ms");
  if (log->durability_ != Durability::kNone && !writable) log->durability_ = Durability::kNone;

  // Positions are read once each, then checked.
  const std::uint64_t head = Atomic(r.header->head.value).load(std::memory_order_acquire);
  const std::uint64_t tail = Atomic(r.header->tail.value).load(std::memory_order_acquire);
  if (head > tail || tail - head > r.capacity || head % kFrameAlignment || tail % kFrameAlignment)
    return Err(StatusCode::kCorrupt, path,
               "head " + std::to_string(head) + " and tail " + std::to_string(tail) +
                   " are inconsistent with capacity " + std::to_string(r.capacity));

  const ArchiveBlock& block = r.header->archive_block;
  if (super.version >= 2 && std::memcmp(block.magic, kArchiveMagic, sizeof kArchiveMagic) == 0) {
    if (ArchiveBlockCrc(block) != block.crc || block.directory_len == 0 ||
        block.directory_len > kMaxArchiveDirectory)
      return Err(StatusCode::kCorrupt, path, "the archive block of the header is damaged");
    const std::string directory(block.directory, block.directory_len);
    const std::uint32_t slot = r.header->archive.cursor_slot;
    CursorSlot* cursor = slot < kMaxCursors ? &r.header->cursors[slot] : nullptr;
    if (cursor == nullptr ||
        Atomic(cursor->state).load(std::memory_order_acquire) !=
            static_cast<std::uint64_t>(CursorState::kActive) ||
        std::string_view(cursor->name, std::min<std::uint32_t>(cursor->name_len, kMaxCursorName)) !=
            kArchiveCursorName)
      return Err(StatusCode::kCorrupt, path, "the archive's cursor is missing from the header");
    r.archive_cursor = cursor;
    auto archive = detail::Archive::Open(directory, r.header);
    if (!archive.ok()) return archive.status().WithPrefix(path + ": ");
    log->archive_ = std::move(*archive);
  }

  if (writable && !exclusive) {
    // Other handles are open: this one may crash too, so the log is not clean until the last
    // handle closes.
    Atomic(r.header->counters.clean_close).store(0, std::memory_order_relaxed);
  }
  if (exclusive && writable) {
    log->Recover();
    ::flock(fd, LOCK_SH);  // see Open: a concurrent opener waits for this in its LOCK_SH
  } else if (exclusive) {
    ::flock(fd, LOCK_SH);
  }
  log->open_complete_ = true;
  if (log->durability_ == Durability::kInterval) {
    log->sync_thread_ = std::thread([l = log.get()] { l->SyncLoop(); });
  }
  return log;
}

// Runs with the exclusive lock: no other handle is open, so every producer slot is stale.
void Log::Recover() {
  LogHeader* h = ring_.header;
  CounterLine& c = h->counters;
  const bool was_clean = Atomic(c.clean_close).load(std::memory_order_relaxed) == 1;
  Atomic(c.clean_close).store(0, std::memory_order_relaxed);
  // No handle is open: nobody sleeps on the wake line, whatever a reader killed mid-sleep left.
  Atomic(h->wake.waiters).store(0, std::memory_order_relaxed);

  const std::uint64_t head = Atomic(h->head.value).load(std::memory_order_relaxed);
  const std::uint64_t tail = Atomic(h->tail.value).load(std::memory_order_relaxed);
  bool orphaned_producers = false;  // producers that died with a handle open
  for (ProducerSlot& slot : h->producers)
    orphaned_producers |= Atomic(slot.owner).load(std::memory_order_relaxed) != 0;
  if (!was_clean || orphaned_producers) {
    Atomic(c.recoveries).fetch_add(1, std::memory_order_relaxed);
    std::uint64_t pos = head;
    while (pos < tail) {
      const std::uint64_t seal = ring_.LoadSeal(pos);
      std::uint64_t bytes = 0;
      const FrameKind kind = ring_.Classify(pos, seal, &bytes);
      if (kind == FrameKind::kRecord && pos + bytes <= tail && ring_.RecordCrcMatches(pos, seal)) {
        pos += bytes;
      } else if (kind == FrameKind::kPadding && pos + bytes <= tail) {
        pos += bytes;
      } else if (kind == FrameKind::kUncommitted && ring_.TryUnblock(pos, seal)) {
        continue;  // a dead producer's reservation, now padding
      } else {
        break;  // torn or garbage: everything from here on is excluded
      }
    }
    if (pos < tail) {
      // Clear the excluded bytes so that nothing in them can pass for a frame later.
      for (std::uint64_t p = pos; p < tail;) {
        const std::uint64_t idx = p & ring_.mask;
        const std::uint64_t n = std::min(tail - p, ring_.capacity - idx);
        std::memset(ring_.data + idx, 0, n);
        p += n;
      }
      Atomic(c.truncated_bytes).fetch_add(tail - pos, std::memory_order_relaxed);
      recovered_truncated_ = tail - pos;
      Atomic(h->tail.value).store(pos, std::memory_order_release);
    }
  }
  for (ProducerSlot& slot : h->producers) {
    if (Atomic(slot.owner).load(std::memory_order_relaxed) == 0) continue;
    ring_.FoldCounters(slot);
    std::memset(&slot, 0, sizeof slot);
  }
  if (ring_.archive_cursor != nullptr) {
    // A ring that came back older than its archive (a file-backed ring after a power cut, or a
    // damaged frame cut off above) must not hand out offsets the archive already holds: it goes
    // on after them, empty.
    const std::uint64_t archived =
        std::max(ring_.LoadArchived(), Atomic(h->archive.written).load(std::memory_order_relaxed));
    const std::uint64_t now_tail = Atomic(h->tail.value).load(std::memory_order_relaxed);
    if (now_tail < archived) {
      Atomic(h->head.value).store(archived, std::memory_order_relaxed);
      Atomic(h->tail.value).store(archived, std::memory_order_release);
    }
  }
  for (CursorSlot& cur : h->cursors) {
    if (Atomic(cur.state).load(std::memory_order_relaxed) ==
        static_cast<std::uint64_t>(CursorState::kClaiming))
      std::memset(&cur, 0, sizeof cur);
  }
}

Log::~Log() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (ring_.writable && open_complete_) {
    if (durability_ != Durability::kNone && !failed()) Sync().ok();
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
      Atomic(ring_.header->counters.clean_close).store(1, std::memory_order_release);
      if (durability_ != Durability::kNone) detail::g_msync.load()(map_, kHeaderSize, MS_SYNC);
    }
  }
  ::munmap(map_, map_size_);
  ::close(fd_);
}

void Log::Fail(std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_.load(std::memory_order_relaxed)) failure_ = path_ + ": " + std::move(what);
  failed_.store(true, std::memory_order_relaxed);
}

base::DirectoryUse Log::DirectoryUseFor(const std::string& path) {
  return base::DirectoryOf(path) == DefaultDirectory() ? base::DirectoryUse::kPrivate
                                                       : base::DirectoryUse::kShared;
}

std::string Log::identity() const {
  // The superblock never changes after creation and was validated when the log was opened.
  const SuperBlock& super = ring_.header->super;
  std::uint64_t id[2] = {super.identity[0], super.identity[1]};
  if (id[0] == 0 && id[1] == 0) {  // a log made before identities: its salt and creation time
    id[0] = super.salt;
    id[1] = static_cast<std::uint64_t>(super.created_unix_ns);
  }
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(id[0]),
                static_cast<unsigned long long>(id[1]));
  return text;
}

std::string Log::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

Status Log::Sync() {
  if (failed()) return Status::Error(StatusCode::kIoError, failure());
  if (!ring_.writable) return Status::Ok();
  if (detail::g_msync.load()(map_, map_size_, MS_SYNC) != 0) {
    Fail(std::string("msync failed: ") + std::strerror(errno) + "; the handle is now unusable");
    return Status::Error(StatusCode::kIoError, failure());
  }
  return Status::Ok();
}

bool Log::SyncRange(std::uint64_t offset, std::uint64_t bytes) {
  if (failed()) return false;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  auto sync = [&](std::uint64_t begin, std::uint64_t end) {  // byte offsets into the mapping
    begin &= ~(page - 1);
    return detail::g_msync.load()(static_cast<std::byte*>(map_) + begin, end - begin, MS_SYNC) == 0;
  };
  bool ok = true;
  while (bytes > 0 && ok) {
    const std::uint64_t idx = offset & ring_.mask;
    const std::uint64_t n = std::min(bytes, ring_.capacity - idx);
    ok = sync(kHeaderSize + idx, kHeaderSize + idx + n);
    offset += n;
    bytes -= n;
  }
  ok = ok && sync(0, sizeof(LogHeader));
  if (!ok)
    Fail(std::string("msync failed: ") + std::strerror(errno) + "; the handle is now unusable");
  return ok;
}

void Log::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::milliseconds(sync_interval_ms_));
    if (stopping_) break;
    lock.unlock();
    const bool ok = failed() || Sync().ok();
    lock.lock();
    if (!ok || failed()) break;
  }
}

LogInfo Log::Info() const {
  const LogHeader* h = ring_.header;
  LogInfo info;
  info.path = path_;
  info.version = h->super.version;
  info.capacity = ring_.capacity;
  info.policy = ring_.policy;
  info.durability = durability_;
  info.creation_durability = static_cast<Durability>(h->super.durability);
  info.max_payload = ring_.max_payload;
  info.unblock_timeout_ms = h->super.unblock_timeout_ms;
  info.sync_interval_ms = sync_interval_ms_;
  info.created_unix_ns = h->super.created_unix_ns;
  info.identity = identity();
  info.earliest_offset = earliest_offset();
  info.latest_offset = latest_offset();
  auto& c = const_cast<CounterLine&>(h->counters);
  info.records_appended = Atomic(c.records).load(std::memory_order_relaxed);
  info.bytes_appended = Atomic(c.bytes).load(std::memory_order_relaxed);
  info.padding_frames = Atomic(c.padding_frames).load(std::memory_order_relaxed);
  info.unblocked_stalls = Atomic(c.unblocked_stalls).load(std::memory_order_relaxed);
  info.recoveries = Atomic(c.recoveries).load(std::memory_order_relaxed);
  info.truncated_bytes = Atomic(c.truncated_bytes).load(std::memory_order_relaxed);
  for (ProducerSlot& slot : ring_.header->producers) {
    const std::uint64_t owner = Atomic(slot.owner).load(std::memory_order_acquire);
    if (owner == 0) continue;
    // A slot whose process died mid-run keeps its counters until it is reclaimed.
    if (owner != kReclaiming && PidAlive(static_cast<std::uint32_t>(owner >> 32)))
      ++info.live_producers;
    info.records_appended += Atomic(slot.records).load(std::memory_order_relaxed);
    info.bytes_appended += Atomic(slot.bytes).load(std::memory_order_relaxed);
    info.padding_frames += Atomic(slot.padding_frames).load(std::memory_order_relaxed);
  }
  for (CursorSlot& cur : ring_.header->cursors) {
    if (Atomic(cur.state).load(std::memory_order_acquire) !=
        static_cast<std::uint64_t>(CursorState::kActive))
      continue;
    CursorInfo ci;
    const std::uint32_t len = std::min<std::uint32_t>(cur.name_len, kMaxCursorName);
    ci.name.assign(cur.name, len);
    ci.position = Atomic(cur.position).load(std::memory_order_acquire);
    ci.updated_unix_ns = std::atomic_ref(cur.updated_unix_ns).load(std::memory_order_relaxed);
    ci.pid = std::atomic_ref(cur.pid).load(std::memory_order_relaxed);
    info.cursors.push_back(std::move(ci));
  }
  if (archive_) {
    ArchiveLine& line = archive_->line();
    auto load = [](auto& word) { return std::atomic_ref(word).load(std::memory_order_relaxed); };
    ArchiveInfo& a = info.archive;
    info.has_archive = true;
    a.directory = archive_->directory();
    a.earliest_offset = archive_->LoadEarliest();
    a.active_base = archive_->LoadActiveBase();
    a.written_offset = load(line.written);
    a.durable_offset = ring_.LoadArchived();
    a.segments = load(line.segments);
    a.sealed_bytes = load(line.sealed_bytes);
    a.stored_bytes = load(line.stored_bytes);
    a.codec = load(line.codec);
    a.oldest_sealed_unix_ns = load(line.oldest_sealed_unix_ns);
    a.heartbeat_unix_ns = load(line.heartbeat_unix_ns);
    a.archiver_pid = load(line.archiver_pid);
    a.archiver_running = PidAlive(a.archiver_pid);
    a.error = load(line.error);
  }
  return info;
}

Result<std::unique_ptr<Producer>> Log::NewProducer() {
  if (!ring_.writable)
    return Err(StatusCode::kPermissionDenied, path_, "opened read-only; cannot append");
  const std::uint64_t pid = static_cast<std::uint64_t>(::getpid());
  static std::atomic<std::uint32_t> nonce{1};
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint32_t i = 0; i < kMaxProducers; ++i) {
      ProducerSlot& slot = ring_.header->producers[i];
      std::uint64_t expected = 0;
      const std::uint64_t owner = (pid << 32) | nonce.fetch_add(1, std::memory_order_relaxed);
      if (Atomic(slot.owner).compare_exchange_strong(expected, owner, std::memory_order_acq_rel)) {
        Atomic(slot.res_start).store(0, std::memory_order_relaxed);
        Atomic(slot.res_end).store(0, std::memory_order_relaxed);
        Atomic(slot.records).store(0, std::memory_order_relaxed);
        Atomic(slot.bytes).store(0, std::memory_order_relaxed);
        Atomic(slot.padding_frames).store(0, std::memory_order_relaxed);
        slot.attached_unix_ns = detail::UnixNs();
        return std::unique_ptr<Producer>(new Producer(this, i, owner));
      }
    }
    // Every slot taken: reclaim those of dead processes whose reservation is resolved.
    for (ProducerSlot& slot : ring_.header->producers) {
      const std::uint64_t owner = Atomic(slot.owner).load(std::memory_order_acquire);
      if (owner == 0 || owner == kReclaiming || PidAlive(static_cast<std::uint32_t>(owner >> 32)))
        continue;
      const std::uint64_t start = Atomic(slot.res_start).load(std::memory_order_relaxed);
      const std::uint64_t end = Atomic(slot.res_end).load(std::memory_order_relaxed);
      if (end > start && start >= ring_.LoadHead() && start < ring_.LoadTail()) {
        const std::uint64_t seal = ring_.LoadSeal(start);
        std::uint64_t bytes;
        if (ring_.Classify(start, seal, &bytes) == FrameKind::kUncommitted &&
            !ring_.TryUnblock(start, seal))
          continue;
      }
      // Claim the slot for reclaiming first, so that two reclaimers never fold it twice.
      std::uint64_t expected = owner;
      if (!Atomic(slot.owner)
               .compare_exchange_strong(expected, kReclaiming, std::memory_order_acq_rel))
        continue;
      ring_.FoldCounters(slot);
      Atomic(slot.owner).store(0, std::memory_order_release);
    }
  }
  return Err(StatusCode::kResourceExhausted, path_,
             "all " + std::to_string(kMaxProducers) + " producer slots are in use");
}

std::uint64_t Log::earliest_offset() const {
  const std::uint64_t head = ring_.LoadHead();
  return archive_ ? std::min(head, archive_->LoadEarliest()) : head;
}

Status Log::CheckArchivedFrame(std::uint64_t off) const {
  auto m = archive_->OpenSegmentAt(off);
  if (!m.ok()) return m.status();
  if (Status s = (*m)->Load(off); !s.ok()) return s;
  std::uint64_t bytes;
  const detail::FrameSpan frames = (*m)->frames();
  const FrameKind kind = off + kFrameAlignment <= (*m)->window_end()
                             ? frames.layout->Classify(off, frames.LoadSealRelaxed(off), &bytes)
                             : FrameKind::kUncommitted;
  if (kind != FrameKind::kRecord && kind != FrameKind::kPadding)
    return Err(StatusCode::kInvalidArgument, path_,
               "offset " + std::to_string(off) + " is not the start of a frame");
  return Status::Ok();
}

Result<std::uint64_t> Log::Resolve(StartAt start) const {
  switch (start.kind()) {
    case StartAt::Kind::kEarliest:
      return earliest_offset();
    case StartAt::Kind::kLatest:
      return latest_offset();
    case StartAt::Kind::kTime:
      return TimeToOffset(static_cast<std::int64_t>(start.value()));
    case StartAt::Kind::kOffset:
      break;
  }
  const std::uint64_t off = start.value();
  const std::uint64_t earliest = earliest_offset();
  const std::uint64_t head = ring_.LoadHead();
  const std::uint64_t tail = latest_offset();
  if (off < earliest || off > tail)
    return Err(StatusCode::kInvalidArgument, path_,
               "offset " + std::to_string(off) + " is outside the retained range [" +
                   std::to_string(earliest) + ", " + std::to_string(tail) + "]");
  if (off % kFrameAlignment != 0)
    return Err(StatusCode::kInvalidArgument, path_,
               "offset " + std::to_string(off) + " is not the start of a frame");
  if (off < head) {
    if (Status s = CheckArchivedFrame(off); !s.ok()) return s;
    return off;
  }
  std::uint64_t bytes;
  if (off != tail && ring_.Classify(off, ring_.LoadSeal(off), &bytes) == FrameKind::kUncommitted)
    return Err(StatusCode::kInvalidArgument, path_,
               "offset " + std::to_string(off) + " is not the start of a committed frame");
  return off;
}

Result<std::uint64_t> Log::ArchiveTimeToOffset(std::int64_t unix_ns, std::uint64_t head) const {
  // Sealed segments first: the first whose newest record is at or after unix_ns holds the
  // answer; its index says where to start the walk.
  auto sealed = archive_->SealedSegments();
  if (!sealed.ok()) return sealed.status();
  const std::uint64_t earliest = archive_->LoadEarliest();
  // The first record at or after unix_ns in [from, to) of a segment, a window at a time.
  auto walk = [&](detail::SegmentFile& m, std::uint64_t from,
                  std::uint64_t to) -> Result<std::optional<std::uint64_t>> {
    for (std::uint64_t pos = from; pos < to;) {
      if (Status s = m.Load(pos); !s.ok()) return s;
      const detail::FrameSpan frames = m.frames();
      const std::uint64_t end = std::min(to, m.window_end());
      if (pos >= end) break;
      while (pos < end) {
        std::uint64_t bytes = 0;
        const FrameKind kind = frames.layout->Classify(pos, frames.LoadSealRelaxed(pos), &bytes);
        if (kind == FrameKind::kRecord && frames.Header(pos)->timestamp_ns >= unix_ns)
          return std::optional(pos);
        if ((kind != FrameKind::kRecord && kind != FrameKind::kPadding) || bytes > end - pos)
          return std::optional<std::uint64_t>();
        pos += bytes;
      }
    }
    return std::optional<std::uint64_t>();
  };
  std::uint64_t active_base = earliest;
  for (const SegmentInfo& seg : *sealed) {
    active_base = seg.end;
    if (seg.end <= earliest || seg.records == 0 || seg.max_timestamp_ns < unix_ns) continue;
    if (seg.base >= head) break;
    std::uint64_t from = seg.base;
    if (auto index =
            detail::ReadIndex(archive_->dir_fd(), archive_->directory(), seg.base, seg.end);
        index.ok()) {
      for (const IndexEntry& e : *index) {
        if (e.max_timestamp_ns >= unix_ns) {
          from = e.offset;
          break;
        }
      }
    }
    auto m = archive_->OpenSegmentAt(seg.base);
    if (!m.ok() && m.status().code() == StatusCode::kNotFound &&
        archive_->LoadEarliest() >= seg.end)
      continue;
    if (!m.ok()) return m.status();  // (deleted by retention meanwhile: skipped above)
    auto found = walk(**m, from, seg.end);
    if (!found.ok()) return found.status();
    if (*found) return **found;
  }
  // The segment being written, up to the ring's head.
  if (!sealed->empty()) active_base = sealed->back().end;
  const std::uint64_t active = std::max(active_base, earliest);
  if (active < head) {
    auto m = detail::SegmentFile::OpenActive(archive_->dir_fd(), archive_->directory(), active_base,
                                             archive_->identity());
    if (!m.ok()) return m.status();
    auto found = walk(**m, active, head);
    if (!found.ok()) return found.status();
    if (*found) return **found;
  }
  return head;
}

Result<std::uint64_t> Log::TimeToOffset(std::int64_t unix_ns) const {
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::uint64_t head = ring_.LoadHead();
    const std::uint64_t tail = latest_offset();
    if (archive_ && archive_->LoadEarliest() < head) {
      auto in_archive = ArchiveTimeToOffset(unix_ns, head);
      if (!in_archive.ok()) return in_archive.status();
      if (*in_archive < head) return *in_archive;
    }
    std::uint64_t pos = head;
    while (pos < tail) {
      const std::uint64_t seal = ring_.LoadSeal(pos);
      std::uint64_t bytes = 0;
      const FrameKind kind = ring_.Classify(pos, seal, &bytes);
      if (kind == FrameKind::kRecord && ring_.Header(pos)->timestamp_ns >= unix_ns) break;
      if (kind != FrameKind::kRecord && kind != FrameKind::kPadding) break;
      pos += bytes;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (ring_.LoadHead() <= head) return pos;  // not lapped while we walked
  }
  return Err(StatusCode::kResourceExhausted, path_, "time seek kept being lapped by producers");
}

Result<std::unique_ptr<LogReader>> Log::NewReader(StartAt start) {
  auto pos = Resolve(start);
  if (!pos.ok()) return pos.status();
  return std::unique_ptr<LogReader>(new LogReader(this, *pos, nullptr, ""));
}

Result<std::unique_ptr<LogReader>> Log::OpenCursor(std::string_view name, StartAt if_new) {
  if (name.empty() || name.size() > kMaxCursorName)
    return Err(StatusCode::kInvalidArgument, path_,
               "cursor name must be 1.." + std::to_string(kMaxCursorName) + " bytes");
  if (name == kArchiveCursorName)
    return Err(StatusCode::kPermissionDenied, path_,
               "cursor name '" + std::string(name) + "' is reserved for the archive");
  auto find = [&](std::uint32_t skip) -> CursorSlot* {
    for (std::uint32_t i = 0; i < kMaxCursors; ++i) {
      CursorSlot& c = ring_.header->cursors[i];
      if (i == skip) continue;
      if (Atomic(c.state).load(std::memory_order_acquire) ==
              static_cast<std::uint64_t>(CursorState::kActive) &&
          c.name_len == name.size() && std::memcmp(c.name, name.data(), name.size()) == 0)
        return &c;
    }
    return nullptr;
  };
  if (CursorSlot* c = find(UINT32_MAX)) {
    const std::uint64_t pos = Atomic(c->position).load(std::memory_order_acquire);
    return std::unique_ptr<LogReader>(new LogReader(this, pos, c, std::string(name)));
  }
  if (!ring_.writable)
    return Err(StatusCode::kPermissionDenied, path_,
               "cursor '" + std::string(name) + "' does not exist and the log is open read-only");
  auto pos = Resolve(if_new);
  if (!pos.ok()) return pos.status();
  for (std::uint32_t i = 0; i < kMaxCursors; ++i) {
    CursorSlot& c = ring_.header->cursors[i];
    std::uint64_t expected = static_cast<std::uint64_t>(CursorState::kFree);
    if (!Atomic(c.state).compare_exchange_strong(expected,
                                                 static_cast<std::uint64_t>(CursorState::kClaiming),
                                                 std::memory_order_acq_rel))
      continue;
    std::memset(c.name, 0, sizeof c.name);
    std::memcpy(c.name, name.data(), name.size());
    c.name_len = static_cast<std::uint32_t>(name.size());
    c.pid = static_cast<std::uint32_t>(::getpid());
    c.updated_unix_ns = detail::UnixNs();
    Atomic(c.position).store(*pos, std::memory_order_release);
    // release: name and position are complete before the cursor counts.
    Atomic(c.state).store(static_cast<std::uint64_t>(CursorState::kActive),
                          std::memory_order_release);
    if (CursorSlot* other = find(i); other != nullptr && other < &c) {
      // Someone created the same name at the same moment: keep theirs.
      Atomic(c.state).store(static_cast<std::uint64_t>(CursorState::kFree),
                            std::memory_order_release);
      const std::uint64_t p = Atomic(other->position).load(std::memory_order_acquire);
      return std::unique_ptr<LogReader>(new LogReader(this, p, other, std::string(name)));
    }
    // A producer may have moved head past us while we were not yet counted.
    std::uint64_t start = *pos;
    const std::uint64_t head = earliest_offset();
    if (start < head) start = head;  // (with an archive, that is the archive's start)
    Atomic(c.position).store(start, std::memory_order_release);
    return std::unique_ptr<LogReader>(new LogReader(this, start, &c, std::string(name)));
  }
  return Err(StatusCode::kResourceExhausted, path_,
             "all " + std::to_string(kMaxCursors) + " cursor slots are in use");
}

Result<std::unique_ptr<LogReader>> Log::OpenArchiveCursor(std::uint64_t pos) {
  if (ring_.archive_cursor == nullptr)
    return Err(StatusCode::kFailedPrecondition, path_, "has no archive");
  std::atomic_ref(ring_.archive_cursor->pid)
      .store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  return std::unique_ptr<LogReader>(
      new LogReader(this, pos, ring_.archive_cursor, kArchiveCursorName));
}

Status Log::DeleteCursor(std::string_view name) {
  if (!ring_.writable) return Err(StatusCode::kPermissionDenied, path_, "opened read-only");
  if (archive_ && name == kArchiveCursorName)
    return Err(StatusCode::kPermissionDenied, path_,
               "cursor '" + std::string(name) + "' belongs to the archive");
  for (CursorSlot& c : ring_.header->cursors) {
    if (Atomic(c.state).load(std::memory_order_acquire) ==
            static_cast<std::uint64_t>(CursorState::kActive) &&
        c.name_len == name.size() && std::memcmp(c.name, name.data(), name.size()) == 0) {
      Atomic(c.state).store(static_cast<std::uint64_t>(CursorState::kFree),
                            std::memory_order_release);
      return Status::Ok();
    }
  }
  return Err(StatusCode::kNotFound, path_, "no cursor named '" + std::string(name) + "'");
}

}  // namespace kappa::memlog
