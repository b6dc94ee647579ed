// Internals shared by the view writers and the header-only reader: atomic access to mapped
// words, hashing, clocks, writer liveness and read-only file mapping.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include "base/files.h"
#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving::detail {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

// Mapped words. Readers map files read-only and only ever load through these; const_cast is
// sound because a load never writes.
inline std::uint64_t LoadRelaxed(const std::uint64_t& w) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_relaxed);
}
inline std::uint32_t LoadRelaxed(const std::uint32_t& w) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(w))
      .load(std::memory_order_relaxed);
}
inline std::int64_t LoadRelaxed(const std::int64_t& w) {
  return std::atomic_ref<std::int64_t>(const_cast<std::int64_t&>(w))
      .load(std::memory_order_relaxed);
}
// acquire: everything the writer wrote before its release store of this word is visible.
inline std::uint64_t LoadAcquire(const std::uint64_t& w) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_acquire);
}
inline void StoreRelaxed(std::uint64_t& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_relaxed);
}
inline void StoreRelaxed(std::uint32_t& w, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(w).store(v, std::memory_order_relaxed);
}
inline void StoreRelaxed(std::int64_t& w, std::int64_t v) {
  std::atomic_ref<std::int64_t>(w).store(v, std::memory_order_relaxed);
}
// release: everything written before is visible to a reader that acquires this word.
inline void StoreRelease(std::uint64_t& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_release);
}

// Word-wise copies to and from mapped bytes, each mapped word one atomic relaxed access (a
// seqlock's payload: the seq check around it rejects a torn copy). The mapped side must be
// 8-byte aligned; the private side may have any alignment. n is a multiple of 8.
inline void CopyFromShared(void* dst, const std::byte* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = reinterpret_cast<const std::uint64_t*>(src);
  for (std::size_t i = 0; i < n / 8; ++i) {
    const std::uint64_t w = LoadRelaxed(s[i]);
    std::memcpy(d + 8 * i, &w, 8);
  }
}
inline void CopyToShared(std::byte* dst, const void* src, std::size_t n) {
  auto* d = reinterpret_cast<std::uint64_t*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n / 8; ++i) {
    std::uint64_t w;
    std::memcpy(&w, s + 8 * i, 8);
    StoreRelaxed(d[i], w);
  }
}
inline void ZeroShared(std::byte* dst, std::size_t n) {
  auto* d = reinterpret_cast<std::uint64_t*>(dst);
  for (std::size_t i = 0; i < n / 8; ++i) StoreRelaxed(d[i], 0);
}

// ---- Hashing ----
// A fixed, seeded 64-bit hash (wyhash's mixing), the same in every process.
__extension__ typedef unsigned __int128 Uint128;
inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
inline constexpr std::uint64_t kHashK0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kHashK1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kHashK2 = 0x8ebc6af09c88c6e3ULL;

inline std::uint64_t HashU64(std::uint64_t key, std::uint64_t seed) {
  return Mix(key ^ seed ^ kHashK0, kHashK1 ^ seed);
}
inline std::uint64_t HashBytes(const void* data, std::size_t n, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed ^ Mix(n ^ kHashK2, kHashK1);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = Mix(h ^ w ^ kHashK0, kHashK1);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = Mix(h ^ w ^ kHashK2, kHashK1);
  }
  return Mix(h, kHashK0);
}
// Checksum of immutable headers.
inline std::uint64_t Hash64(const void* data, std::size_t n) {
  return HashBytes(data, n, 0x6b617070u);
}

// ---- Clocks ----
inline std::int64_t UnixNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
inline std::int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// ---- Writer liveness ----

// The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or 0 if
// it cannot be read.
inline std::uint64_t ProcessStartTicks(std::uint64_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%llu/stat", static_cast<unsigned long long>(pid));
  std::FILE* f = std::fopen(path, "re");
  if (!f) return 0;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  int field = 2;
  for (++p; *p && field < 22; ++p) {
    if (*p == ' ') ++field;
  }
  return field == 22 ? std::strtoull(p, nullptr, 10) : 0;
}

// True if the process `pid` that started at `start_ticks` (0: unknown) still runs.
inline bool ProcessAlive(std::uint64_t pid, std::uint64_t start_ticks) {
  if (pid == 0 || pid > 0x7fffffff) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  if (start_ticks == 0) return true;
  const std::uint64_t now_ticks = ProcessStartTicks(pid);
  return now_ticks == 0 || now_ticks == start_ticks;  // a different start: the pid was reused
}

// ---- Names and paths ----

// View and alias names: 1 to 63 of [A-Za-z0-9_.-], not starting with '.'.
inline bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxViewName || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}
inline Status BadName(std::string_view name) {
  return Status::Error(StatusCode::kInvalidArgument,
                       "bad view name '" + std::string(name) +
                           "': use 1 to 63 of A-Z a-z 0-9 _ . - (not starting with '.')");
}

// Where namespaces live: $KAPPA_VIEW_DIR, else /dev/shm/kappa/views.
inline std::string NamespaceRoot() {
  const char* dir = std::getenv("KAPPA_VIEW_DIR");
  return dir && *dir ? std::string(dir) : std::string("/dev/shm/kappa/views");
}
inline constexpr char kDefaultNamespace[] = "default";
// A bare name (no '/') is a namespace under NamespaceRoot(); anything else is a directory path.
// The empty name is the default namespace.
inline std::string NamespacePath(std::string_view ns) {
  if (ns.empty()) ns = kDefaultNamespace;
  if (ns.find('/') != std::string_view::npos) return std::string(ns);
  return NamespaceRoot() + "/" + std::string(ns);
}

// "<name>@<version>.<generation>.view", or "<name>@<version>#<shard>.<generation>.view" for a
// shard of a sharded version.
inline std::string ViewFileName(std::string_view name, std::uint32_t version,
                                std::uint32_t generation, std::uint32_t shard = 0,
                                std::uint32_t shard_count = 1) {
  std::string f = std::string(name) + "@" + std::to_string(version);
  if (shard_count > 1) f += "#" + std::to_string(shard);
  return f + "." + std::to_string(generation) + ".view";
}

// Copies a NUL-terminated name out of a fixed array that another process may have written:
// never reads past the array.
template <std::size_t N>
inline std::string FixedString(const char (&s)[N]) {
  return std::string(s, ::strnlen(s, N));
}

// ---- Files ----

inline Status ErrnoStatus(const std::string& path, const std::string& what, int err) {
  StatusCode code = StatusCode::kIoError;
  if (err == ENOENT) code = StatusCode::kNotFound;
  if (err == EEXIST) code = StatusCode::kAlreadyExists;
  if (err == EACCES || err == EPERM || err == EROFS) code = StatusCode::kPermissionDenied;
  if (err == ELOOP)
    return Status::Error(StatusCode::kPermissionDenied,
                         path + ": is a symbolic link; refusing to follow it");
  if (err == EISDIR) return Status::Error(StatusCode::kInvalidArgument, path + ": is a directory");
  if (err == ENOTDIR)
    return Status::Error(StatusCode::kInvalidArgument, path + ": is not a directory");
  return Status::Error(code, path + ": " + what + ": " + std::strerror(err));
}

// Checks that an open file is a regular file owned by this user; returns its size.
inline Status CheckOwnedRegularFile(int fd, const std::string& path, std::uint64_t* size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode))
    return Status::Error(StatusCode::kInvalidArgument, path + ": is a directory");
  if (!S_ISREG(st.st_mode))
    return Status::Error(StatusCode::kInvalidArgument, path + ": is not a regular file");
  if (st.st_uid != ::geteuid())
    return Status::Error(StatusCode::kPermissionDenied,
                         path + ": owned by uid " + std::to_string(st.st_uid) +
                             ", not by this user (uid " + std::to_string(::geteuid()) +
                             "); refusing to trust it");
  *size = static_cast<std::uint64_t>(st.st_size);
  return Status::Ok();
}

// A read-only (or read-write) shared mapping of a whole file, unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* data, std::size_t size) : data_(data), size_(size) {}
  Mapping(Mapping&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      Reset();
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  ~Mapping() { Reset(); }
  void Reset() {
    if (data_) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }
  std::byte* data() const { return static_cast<std::byte*>(data_); }
  std::size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// Opens `name` in directory `dir_fd` (no symlinks), checks it, and maps all of it.
// `min_size`: the file must be at least this large before anything is mapped.
inline Status MapFile(int dir_fd, const std::string& name, const std::string& path, bool writable,
                      std::uint64_t min_size, Mapping* out, int* fd_out = nullptr) {
  const int fd =
      ::openat(dir_fd, name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(path, "cannot open", errno);
  std::uint64_t size = 0;
  Status s = CheckOwnedRegularFile(fd, path, &size);
  if (s.ok() && size < min_size)
    s = Status::Error(StatusCode::kCorrupt, path + ": file is " + std::to_string(size) +
                                                " bytes, too short to hold a header of " +
                                                std::to_string(min_size));
  if (s.ok() && size > (std::uint64_t{1} << 46))
    s = Status::Error(StatusCode::kCorrupt,
                      path + ": file of " + std::to_string(size) + " bytes is implausibly large");
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  // A writer's mapping is populated, so that its updates do not stall on first touches.
  void* map = ::mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                     writable ? MAP_SHARED | MAP_POPULATE : MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(path, "cannot map", err);
  }
  if (fd_out) {
    *fd_out = fd;
  } else {
    ::close(fd);
  }
  *out = Mapping(map, size);
  return Status::Ok();
}

// Opens a namespace directory (no symlinks; owned by this user).
inline Status OpenDirectory(const std::string& path, int* fd_out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOTDIR || errno == ELOOP) {
      struct stat st;
      if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return Status::Error(StatusCode::kPermissionDenied,
                             path + ": is a symbolic link; refusing to follow it");
      return Status::Error(StatusCode::kInvalidArgument, path + ": is not a directory");
    }
    if (errno == ENOENT)
      return Status::Error(StatusCode::kNotFound, path + ": no such view namespace");
    return ErrnoStatus(path, "cannot open namespace", errno);
  }
  // This user's alone: another user could otherwise plant or swap files in it.
  if (Status s = base::CheckDirectory(fd, path, base::DirectoryUse::kPrivate); !s.ok()) {
    ::close(fd);
    return Status::Error(s.code(), "view namespace " + s.message());
  }
  *fd_out = fd;
  return Status::Ok();
}

}  // namespace kappa::serving::detail
