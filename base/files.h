// Files that other local users cannot subvert: directories checked before anything is created in
// them, files created new (O_EXCL) and never through a symlink (O_NOFOLLOW), written atomically,
// and read only when they are this user's regular files.
//
// The attack these stop: another user creates kappa's directory first, or plants a symlink at
// a name kappa is about to create or rename over, and makes kappa (perhaps running as root)
// write through it into a file of theirs choosing.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kappa::base {

enum class DirectoryUse {
  kPrivate,  // kappa's own (data, view and checkpoint directories): this user's, and writable
             // by nobody else
  kShared,   // a directory the user named for a log: this user's, or a sticky one such as /tmp
             // (where nobody can rename or delete another's files)
};

inline Status ErrnoStatus(const std::string& path, const std::string& what, int err) {
  const StatusCode code = err == ENOENT   ? StatusCode::kNotFound
                          : err == EEXIST ? StatusCode::kAlreadyExists
                          : err == EACCES || err == EPERM || err == ELOOP
                              ? StatusCode::kPermissionDenied
                          : err == ENOSPC || err == EDQUOT ? StatusCode::kResourceExhausted
                                                           : StatusCode::kIoError;
  return Status::Error(code, path + ": " + what + ": " + std::strerror(err));
}

// Checks a directory opened as `fd` (at `path`) for `use`.
inline Status CheckDirectory(int fd, const std::string& path, DirectoryUse use) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (!S_ISDIR(st.st_mode))
    return Status::Error(StatusCode::kInvalidArgument, path + ": not a directory");
  const bool mine = st.st_uid == ::geteuid();
  const bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (use == DirectoryUse::kShared && !mine && (st.st_mode & S_ISVTX) != 0) return Status::Ok();
  if (!mine)
    return Status::Error(StatusCode::kPermissionDenied,
                         path + ": owned by another user (uid " + std::to_string(st.st_uid) +
                             "): refused; use a directory of your own");
  if (use == DirectoryUse::kPrivate && others_write)
    return Status::Error(StatusCode::kPermissionDenied, path + ": writable by others (mode " +
                                                            std::to_string((st.st_mode >> 6) & 7) +
                                                            std::to_string((st.st_mode >> 3) & 7) +
                                                            std::to_string(st.st_mode & 7) +
                                                            "): refused; chmod go-w it");
  return Status::Ok();
}

// Opens directory `path` (for kPrivate, without following a symlink at its last component) and
// checks it for `use`; with `create`, makes it first (0700) if it is missing. The caller closes
// the result.
inline Result<int> OpenDirectory(const std::string& path, DirectoryUse use, bool create) {
  if (create && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return ErrnoStatus(path, "cannot create", errno);
  // kappa's own directories are never reached through a symlink (another user could plant one
  // at their name); a directory the user named may be (the checks apply to where it leads).
  const int nofollow = use == DirectoryUse::kPrivate ? O_NOFOLLOW : 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | nofollow | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR)
      return Status::Error(StatusCode::kPermissionDenied,
                           path + ": a symlink or not a directory: refused");
    return ErrnoStatus(path, "cannot open", errno);
  }
  if (Status s = CheckDirectory(fd, path, use); !s.ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

// The directory part of `path` ("." for a bare name) and its last component.
inline std::string DirectoryOf(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
inline std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Writes `bytes` as file `name` of the directory open as `dir_fd` (at `dir_path`), atomically:
// a new temporary file "<name>.tmp.<pid>.<n>" (0600, O_EXCL|O_NOFOLLOW: a symlink planted there
// is removed, never written through), fsynced, renamed over `name`, then the directory fsynced.
// A crash leaves the old file or the new one. Threads may write the same name at once (the last
// rename wins).
inline Status WriteFileAtomically(int dir_fd, const std::string& dir_path, const std::string& name,
                                  std::string_view bytes) {
  static std::atomic<std::uint64_t> writes{0};  // tells apart the threads of one process
  const std::string tmp = name + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(writes.fetch_add(1, std::memory_order_relaxed));
  const std::string shown = dir_path + "/" + tmp;
  ::unlinkat(dir_fd, tmp.c_str(),
             0);  // a crashed writer's leftover (unlinking a symlink removes only it)
  const int fd =
      ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(shown, "cannot create", errno);
  std::size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return ErrnoStatus(shown, "cannot write", err);
  }
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
    err = errno;
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return ErrnoStatus(dir_path + "/" + name, "cannot rename into place", err);
  }
  if (::fsync(dir_fd) != 0) return ErrnoStatus(dir_path, "cannot sync", errno);
  return Status::Ok();
}

// The same, for a file given by its path: its directory is opened for `use` first.
inline Status WriteFileAtomically(const std::string& path, std::string_view bytes,
                                  DirectoryUse use) {
  const std::string dir = DirectoryOf(path);
  auto fd = OpenDirectory(dir, use, /*create=*/false);
  if (!fd.ok()) return fd.status();
  const Status s = WriteFileAtomically(*fd, dir, BaseName(path), bytes);
  ::close(*fd);
  return s;
}

// The whole of file `path`: not through a symlink (kPermissionDenied), a regular file of this
// user (kPermissionDenied otherwise), kNotFound if there is none.
inline Result<std::string> ReadOwnFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP)
      return Status::Error(StatusCode::kPermissionDenied, path + ": a symlink: refused");
    return ErrnoStatus(path, "cannot open", errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    return Status::Error(StatusCode::kPermissionDenied,
                         path + (S_ISREG(st.st_mode) ? ": owned by another user (uid " +
                                                           std::to_string(st.st_uid) + "): refused"
                                                     : ": not a regular file: refused"));
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

}  // namespace kappa::base
