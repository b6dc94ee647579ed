#include "engine/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "operators/hash.h"

namespace kappa::engine {

using serving::Status;
using serving::StatusCode;

namespace {

constexpr char kMagic[8] = {'K', 'A', 'P', 'P', 'A', 'C', 'K', 'P'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kFlagBeforeFlush = 1;
constexpr std::size_t kHeader = 8 + 4 * 4 + 8 + 4 * 2;

template <class T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool Take(std::string_view& in, T* v) {
  if (in.size() < sizeof *v) return false;
  std::memcpy(v, in.data(), sizeof *v);
  in.remove_prefix(sizeof *v);
  return true;
}

Status Errno(const std::string& path, const std::string& what) {
  return Status::Error(StatusCode::kIoError, path + ": " + what + ": " + std::strerror(errno));
}

// Writes all of `data` to `fd`.
bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void PutState(std::string& out, const JobState& s) {
  Put(out, s.max_time);
  Put(out, s.watermark);
  for (const std::string& p : s.partitions) {
    Put(out, static_cast<std::uint64_t>(p.size()));
    out += p;
  }
}

bool TakeState(std::string_view& in, std::uint32_t partitions, JobState* s) {
  if (!Take(in, &s->max_time) || !Take(in, &s->watermark)) return false;
  for (std::uint32_t p = 0; p < partitions; ++p) {
    std::uint64_t n = 0;
    if (!Take(in, &n) || n > in.size()) return false;
    s->partitions.emplace_back(in.substr(0, n));
    in.remove_prefix(n);
  }
  return true;
}

std::string DirectoryOf(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  if (c.before_flush && c.before_flush->partitions.size() != c.state.partitions.size())
    return Status::Error(StatusCode::kInvalidArgument, path + ": the states before and after the flush differ in partitions");
  std::string out;
  out.append(kMagic, sizeof kMagic);
  Put(out, kVersion);
  Put(out, static_cast<std::uint32_t>(c.state.partitions.size()));
  Put(out, c.view_version);
  Put(out, static_cast<std::uint32_t>(c.job.size()));
  Put(out, c.source_offset);
  Put(out, static_cast<std::uint32_t>(c.log_identity.size()));
  Put(out, c.before_flush ? kFlagBeforeFlush : std::uint32_t{0});
  out += c.job;
  out += c.log_identity;
  PutState(out, c.state);
  if (c.before_flush) PutState(out, *c.before_flush);
  Put(out, operators::HashValue(std::string_view(out)));

  // Everything relative to the directory, opened without following a symlink; the temporary
  // file is new (O_EXCL) and never a symlink planted at its name.
  const std::string dir = DirectoryOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) return Errno(dir, "cannot open the checkpoint directory");
  const std::string name = BaseName(path);
  const std::string tmp = name + ".tmp";
  ::unlinkat(dfd, tmp.c_str(), 0);  // a crash's leftover (unlinking a symlink removes only it)
  const int fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const Status s = Errno(path + ".tmp", "cannot create");
    ::close(dfd);
    return s;
  }
  const bool written = WriteAll(fd, out) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!written) {
    ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    errno = err;
    return Errno(path + ".tmp", "cannot write");
  }
  if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) {
    const Status s = Errno(path, "cannot rename into place");
    ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    return s;
  }
  // The rename is durable once the directory is.
  const bool synced = ::fsync(dfd) == 0;
  const Status s = synced ? Status::Ok() : Errno(dir, "cannot sync the checkpoint directory");
  ::close(dfd);
  return s;
}

serving::Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Error(StatusCode::kNotFound, path + ": no checkpoint");
    if (errno == ELOOP) return Status::Error(StatusCode::kPermissionDenied, path + ": is a symlink, not a checkpoint");
    return Errno(path, "cannot open");
  }
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const Status s = Errno(path, "cannot stat");
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    return Status::Error(StatusCode::kPermissionDenied,
                         path + (S_ISREG(st.st_mode) ? ": owned by another user (uid " + std::to_string(st.st_uid) +
                                                           "): refused"
                                                     : ": not a regular file"));
  }
  if (st.st_size > 0) {
    data.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    data.resize(done);
  }
  ::close(fd);
  auto bad = [&](const std::string& what) { return Status::Error(StatusCode::kCorrupt, path + ": " + what); };
  if (data.size() < kHeader + 8) return bad("too short to be a checkpoint");
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) return bad("bad magic: not a kappa checkpoint");
  std::uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (operators::HashValue(std::string_view(data.data(), data.size() - 8)) != stored) return bad("checksum mismatch");
  std::string_view in(data.data() + sizeof kMagic, data.size() - sizeof kMagic - 8);
  Checkpoint c;
  std::uint32_t version = 0, partitions = 0, name = 0, identity = 0, flags = 0;
  Take(in, &version);
  if (version != kVersion)
    return bad("checkpoint version " + std::to_string(version) + " (this build reads version " +
               std::to_string(kVersion) + "; delete it to start the job over)");
  Take(in, &partitions);
  Take(in, &c.view_version);
  Take(in, &name);
  Take(in, &c.source_offset);
  Take(in, &identity);
  Take(in, &flags);
  if (partitions > 64 || name > in.size() || identity > in.size() - name || (flags & ~kFlagBeforeFlush) != 0)
    return bad("sizes out of range");
  c.job.assign(in.substr(0, name));
  in.remove_prefix(name);
  c.log_identity.assign(in.substr(0, identity));
  in.remove_prefix(identity);
  if (!TakeState(in, partitions, &c.state)) return bad("its state is cut short");
  if (flags & kFlagBeforeFlush) {
    c.before_flush.emplace();
    if (!TakeState(in, partitions, &*c.before_flush)) return bad("its state before the flush is cut short");
  }
  if (!in.empty()) return bad("trailing bytes");
  return c;
}

}  // namespace kappa::engine
