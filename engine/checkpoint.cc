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
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeader = 8 + 4 * 4 + 8 * 3;

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

}  // namespace

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  std::string out;
  out.append(kMagic, sizeof kMagic);
  Put(out, kVersion);
  Put(out, static_cast<std::uint32_t>(c.partitions.size()));
  Put(out, c.view_version);
  Put(out, static_cast<std::uint32_t>(c.job.size()));
  Put(out, c.source_offset);
  Put(out, c.max_time);
  Put(out, c.watermark);
  out += c.job;
  for (const std::string& p : c.partitions) {
    Put(out, static_cast<std::uint64_t>(p.size()));
    out += p;
  }
  Put(out, operators::HashValue(std::string_view(out)));

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(tmp, "cannot create");
  const bool written = WriteAll(fd, out) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!written) {
    errno = err;
    ::unlink(tmp.c_str());
    return Errno(tmp, "cannot write");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno(path, "cannot rename into place");
  // The rename is durable once the directory is.
  const std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

serving::Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Error(StatusCode::kNotFound, path + ": no checkpoint");
    return Errno(path, "cannot open");
  }
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
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
  std::uint32_t version = 0, partitions = 0, name = 0;
  Take(in, &version);
  Take(in, &partitions);
  Take(in, &c.view_version);
  Take(in, &name);
  Take(in, &c.source_offset);
  Take(in, &c.max_time);
  Take(in, &c.watermark);
  if (version != kVersion) return bad("checkpoint version " + std::to_string(version));
  if (partitions > 64 || name > in.size()) return bad("sizes out of range");
  c.job.assign(in.substr(0, name));
  in.remove_prefix(name);
  for (std::uint32_t p = 0; p < partitions; ++p) {
    std::uint64_t n = 0;
    if (!Take(in, &n) || n > in.size()) return bad("partition " + std::to_string(p) + " is cut short");
    c.partitions.emplace_back(in.substr(0, n));
    in.remove_prefix(n);
  }
  if (!in.empty()) return bad("trailing bytes");
  return c;
}

}  // namespace kappa::engine
