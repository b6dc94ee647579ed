// Opening and mapping view files and namespace directories: no symlinks followed, only files and
// directories of this user trusted, sizes checked before anything is mapped.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/files.h"
#include "serving/status.h"

namespace kappa::serving::detail {

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
