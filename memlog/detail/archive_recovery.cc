#include "memlog/detail/archive_recovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/files.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"

namespace kappa::memlog::detail {

namespace {

std::string Bytes(std::uint64_t n) { return std::to_string(n) + " bytes"; }

// The names in a directory (not "." and "..").
Result<std::vector<std::string>> ListDirectory(int dir_fd, const std::string& directory) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return base::ErrnoStatus(directory, "cannot list", errno);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return base::ErrnoStatus(directory, "cannot list", err);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// Sets a damaged file aside (never deletes what might be evidence).
void SetAside(int dir_fd, const std::string& name, std::vector<std::string>* notes,
              const std::string& why, const std::string& directory) {
  const std::string aside = name + ".damaged";
  if (::renameat(dir_fd, name.c_str(), dir_fd, aside.c_str()) == 0) {
    notes->push_back(directory + "/" + name + ": " + why + "; set aside as " + aside);
  } else {
    notes->push_back(directory + "/" + name + ": " + why +
                     "; could not set it aside: " + std::strerror(errno));
  }
}

// Seals the segment file `name` (base `base`) at the end of its valid frames. Returns false if it
// held no valid frame (then it is gone or set aside); *info describes the sealed segment.
Result<bool> SealFound(int dir_fd, const std::string& directory, std::uint64_t base,
                       const std::uint64_t identity[2], bool check_identity, SegmentInfo* info,
                       std::vector<std::string>* notes) {
  const std::string name = SegmentFileName(base);
  const std::string path = directory + "/" + name;
  const int fd = ::openat(dir_fd, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return base::ErrnoStatus(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return base::ErrnoStatus(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    ::close(fd);
    return Status::Error(StatusCode::kPermissionDenied,
                         path + ": not a regular file of this user: refused");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  SegmentHeader h;
  std::memset(&h, 0, sizeof h);
  Status header =
      size < kSegmentHeaderSize
          ? Status::Error(StatusCode::kCorrupt, path + ": shorter than a segment header")
          : Status::Ok();
  if (header.ok() && ::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
    header = base::ErrnoStatus(path, "cannot read its header", errno);
  if (header.ok()) header = ValidateSegmentHeader(h, path);
  if (header.ok() && h.base_offset != base)
    header = Status::Error(StatusCode::kCorrupt, path + ": its header names base offset " +
                                                     std::to_string(h.base_offset));
  if (header.ok() && check_identity &&
      (h.identity[0] != identity[0] || h.identity[1] != identity[1]))
    header = Status::Error(StatusCode::kCorrupt, path + ": belongs to another log");
  if (!header.ok()) {
    ::close(fd);
    SetAside(dir_fd, name, notes,
             "unreadable segment header (" + header.message().substr(path.size() + 2) + "), " +
                 Bytes(size > kSegmentHeaderSize ? size - kSegmentHeaderSize : 0) +
                 " of frames dropped",
             directory);
    return false;
  }
  const std::uint64_t held = size - kSegmentHeaderSize;
  FrameScan scan;
  scan.end = base;
  if (held > 0) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return base::ErrnoStatus(path, "cannot map", err);
    }
    const Ring layout = LayoutOf(h);
    const FrameSpan frames{static_cast<const std::byte*>(map) + kSegmentHeaderSize, base,
                           ~std::uint64_t{0}, &layout};
    scan = ScanFrames(frames, base, base + held, /*build_index=*/true);
    ::munmap(map, size);
  }
  const std::uint64_t valid = scan.end - base;
  if (valid < held)
    notes->push_back(path + ": kept its frames up to offset " + std::to_string(scan.end) +
                     "; dropped " + Bytes(held - valid) + " of a torn or damaged tail");
  if (valid == 0) {
    ::close(fd);
    ::unlinkat(dir_fd, name.c_str(), 0);
    return false;
  }
  int err = 0;
  if (valid < held && ::ftruncate(fd, static_cast<off_t>(kSegmentHeaderSize + valid)) != 0)
    err = errno;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) return base::ErrnoStatus(path, "cannot seal", err);
  if (Status s = WriteIndex(dir_fd, directory, base, scan.end, scan.index); !s.ok()) return s;
  info->base = base;
  info->end = scan.end;
  info->records = scan.records;
  info->min_timestamp_ns = scan.min_timestamp_ns;
  info->max_timestamp_ns = scan.max_timestamp_ns;
  info->sealed_unix_ns = UnixNs();
  info->codec = Codec::kNone;
  info->stored_bytes = kSegmentHeaderSize + (scan.end - base);
  return true;
}

}  // namespace

Status WriteManifest(int dir_fd, const std::string& directory, const Manifest& manifest) {
  return base::WriteFileAtomically(dir_fd, directory, kManifestFile, FormatManifest(manifest));
}

Status WriteIndex(int dir_fd, const std::string& directory, std::uint64_t base, std::uint64_t end,
                  const std::vector<IndexEntry>& entries) {
  IndexHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kIndexMagic, sizeof h.magic);
  h.base_offset = base;
  h.end_offset = end;
  h.entries = entries.size();
  std::uint32_t crc = Crc32c(0, entries.data(), entries.size() * sizeof(IndexEntry));
  h.crc = Crc32c(crc, &h, offsetof(IndexHeader, crc));
  std::string bytes(sizeof h + entries.size() * sizeof(IndexEntry), '\0');
  std::memcpy(bytes.data(), &h, sizeof h);
  if (!entries.empty())
    std::memcpy(bytes.data() + sizeof h, entries.data(), entries.size() * sizeof(IndexEntry));
  return base::WriteFileAtomically(dir_fd, directory, IndexFileName(base), bytes);
}

Result<std::vector<IndexEntry>> ReadIndex(int dir_fd, const std::string& directory,
                                          std::uint64_t base, std::uint64_t end) {
  const std::string name = IndexFileName(base);
  const std::string path = directory + "/" + name;
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return base::ErrnoStatus(path, "cannot open", errno);
  struct stat st;
  std::string bytes;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
      static_cast<std::uint64_t>(st.st_size) <= (std::uint64_t{64} << 20)) {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    if (::pread(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
      bytes.clear();
  }
  ::close(fd);
  auto corrupt = [&](const char* what) {
    return Status::Error(StatusCode::kCorrupt, path + ": " + what);
  };
  if (bytes.size() < sizeof(IndexHeader)) return corrupt("not a segment index");
  IndexHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kIndexMagic, sizeof h.magic) != 0) return corrupt("bad magic");
  if (h.base_offset != base || h.end_offset != end) return corrupt("describes another segment");
  if (h.entries != (bytes.size() - sizeof h) / sizeof(IndexEntry) ||
      (bytes.size() - sizeof h) % sizeof(IndexEntry))
    return corrupt("entry count does not match its size");
  std::vector<IndexEntry> entries(h.entries);
  if (!entries.empty())
    std::memcpy(entries.data(), bytes.data() + sizeof h, entries.size() * sizeof(IndexEntry));
  std::uint32_t crc = Crc32c(0, entries.data(), entries.size() * sizeof(IndexEntry));
  if (Crc32c(crc, &h, offsetof(IndexHeader, crc)) != h.crc) return corrupt("checksum mismatch");
  std::uint64_t last = base;
  for (const IndexEntry& e : entries) {
    if (e.offset < last || e.offset >= end || e.offset % kFrameAlignment)
      return corrupt("entries out of order");
    last = e.offset;
  }
  return entries;
}

Result<int> LockArchive(int dir_fd, const std::string& directory) {
  const int fd =
      ::openat(dir_fd, kArchiveLockFile, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return base::ErrnoStatus(directory + "/" + kArchiveLockFile, "cannot open", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return Status::Error(StatusCode::kBusy,
                           directory + ": another process is archiving this log (it holds " +
                               directory + "/" + kArchiveLockFile + ")");
    return base::ErrnoStatus(directory + "/" + kArchiveLockFile, "cannot lock", err);
  }
  return fd;
}

Result<ArchiveRecovery> RecoverArchive(int dir_fd, const std::string& directory,
                                       const std::string& identity) {
  ArchiveRecovery r;
  auto manifest = ReadManifest(directory);
  if (!manifest.ok()) return manifest.status();
  Manifest& m = *manifest;
  if (!identity.empty() && m.identity != identity)
    return Status::Error(StatusCode::kFailedPrecondition,
                         directory + ": holds the archive of another log (identity " + m.identity +
                             ", this log's is " + identity + ")");
  std::uint64_t id[2];
  if (!ParseIdentityHex(m.identity, id))
    return Status::Error(StatusCode::kCorrupt, directory + "/" + kManifestFile + ": bad identity");
  bool changed = false;

  // Sealed segments: present with their exact size. Missing ones at the start are dropped.
  std::size_t missing_prefix = 0;
  for (std::size_t i = 0; i < m.segments.size(); ++i) {
    const SegmentInfo& s = m.segments[i];
    const std::string name = SegmentFileName(s.base, s.codec);
    const std::string path = directory + "/" + name;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && i == missing_prefix) {
        ++missing_prefix;
        continue;
      }
      return base::ErrnoStatus(path,
                               "listed in the manifest as offsets [" + std::to_string(s.base) +
                                   ", " + std::to_string(s.end) + ") but cannot be found",
                               errno);
    }
    if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != s.stored_bytes)
      return Status::Error(
          StatusCode::kCorrupt,
          path + ": is " + std::to_string(st.st_size) + " bytes, the manifest says " +
              std::to_string(s.stored_bytes) +
              " (a sealed segment never changes: restore it, or move it and every segment after it "
              "away to continue without that history)");
  }
  if (missing_prefix > 0) {
    const std::uint64_t from = m.segments.front().base;
    m.segments.erase(m.segments.begin(),
                     m.segments.begin() + static_cast<std::ptrdiff_t>(missing_prefix));
    m.earliest = m.segments.empty() ? m.active_base : m.segments.front().base;
    r.notes.push_back(directory + ": the oldest " + std::to_string(missing_prefix) +
                      " segment file(s) were missing: offsets [" + std::to_string(from) + ", " +
                      std::to_string(m.earliest) + ") are gone; the archive now starts at " +
                      std::to_string(m.earliest));
    changed = true;
  }

  auto names = ListDirectory(dir_fd, directory);
  if (!names.ok()) return names.status();
  // The listed segment that starts at `base`, if any.
  auto listed = [&](std::uint64_t base) -> const SegmentInfo* {
    auto it = std::lower_bound(m.segments.begin(), m.segments.end(), base,
                               [](const SegmentInfo& s, std::uint64_t b) { return s.base < b; });
    return it != m.segments.end() && it->base == base ? &*it : nullptr;
  };
  for (const std::string& name : *names) {
    std::uint64_t base = 0;
    const bool plain = ParseSegmentFileName(name, ".seg", &base);
    const bool compressed = ParseSegmentFileName(name, ".segz", &base);
    const bool index = ParseSegmentFileName(name, ".idx", &base);
    if (name.find(".tmp.") != std::string::npos) {
      ::unlinkat(dir_fd, name.c_str(), 0);
    } else if ((plain || compressed || index) && base < m.earliest) {
      ::unlinkat(dir_fd, name.c_str(), 0);
      if (!index)
        r.notes.push_back(
            directory + "/" + name +
            ": below the archive's start (left by an interrupted retention); removed");
    } else if (const SegmentInfo* s = listed(base); s != nullptr && (plain || compressed)) {
      // A compression interrupted between its steps: the manifest says which file holds the
      // frames; the other one is a copy.
      if (plain != (s->codec == Codec::kNone)) ::unlinkat(dir_fd, name.c_str(), 0);
    }
  }

  // The segment being written, and any after it not yet in the manifest: sealed where their
  // valid frames end.
  for (;;) {
    const std::uint64_t base = m.active_base;
    struct stat st;
    if (::fstatat(dir_fd, SegmentFileName(base).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
    SegmentInfo info;
    auto sealed = SealFound(dir_fd, directory, base, id, true, &info, &r.notes);
    if (!sealed.ok()) return sealed.status();
    if (!*sealed) break;
    m.segments.push_back(info);
    m.active_base = info.end;
    if (m.segments.size() == 1) m.earliest = info.base;
    changed = true;
  }
  // Segment files past the end that do not continue it cannot be read in one offset space.
  for (const std::string& name : *names) {
    std::uint64_t base = 0;
    const bool segment =
        ParseSegmentFileName(name, ".seg", &base) || ParseSegmentFileName(name, ".segz", &base);
    if (!segment || listed(base) != nullptr || (base <= m.active_base && name.ends_with(".seg")))
      continue;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    SetAside(dir_fd, name, &r.notes,
             base > m.active_base
                 ? "starts at offset " + std::to_string(base) + ", past the archive's end " +
                       std::to_string(m.active_base) + " (not contiguous)"
                 : "a compressed segment the manifest does not list",
             directory);
  }
  if (m.segments.empty()) m.earliest = m.active_base;
  if (changed) {
    if (Status s = WriteManifest(dir_fd, directory, m); !s.ok()) return s;
  }
  r.manifest = std::move(m);
  return r;
}

}  // namespace kappa::memlog::detail
