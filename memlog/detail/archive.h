// The read side of a log's archive, shared by Log, LogReader and Archiver: the archive
// directory, the positions the archiver publishes in the log header, the manifest, and read-only
// mappings of segment files.
//
// Thread safety: an Archive is shared by every reader of its Log; its manifest cache is guarded
// by a mutex. A SegmentMap belongs to one reader.
//
// Where a reader of an archived log reads offset `o` (cursor = the archive's durable cursor):
//   o >= cursor                       the ring (head never passes the cursor)
//   o < archive earliest              deleted by retention (unless o >= head: the ring)
//   o >= active base                  the segment being written (readable up to the cursor)
//   otherwise                         the sealed segment the manifest lists for it
// Everything below the cursor is flushed in a segment file, where nothing is written over.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "memlog/archive.h"
#include "memlog/detail/ring.h"
#include "memlog/status.h"

namespace kappa::memlog::detail {

// A log identity as Log::identity() spells it (32 hex digits), and back.
std::string IdentityHex(const std::uint64_t identity[2]);
bool ParseIdentityHex(std::string_view hex, std::uint64_t identity[2]);

// The frame layout of the ring a segment's frames were copied from (no memory of its own).
Ring LayoutOf(const SegmentHeader& header);

// kOk or kCorrupt naming `path`: magic, version, sizes, checksum, ring parameters.
Status ValidateSegmentHeader(const SegmentHeader& header, const std::string& path);
SegmentHeader MakeSegmentHeader(const std::uint64_t identity[2], std::uint64_t base, const Ring& ring);

// A read-only mapping of one segment file, never past the file's end.
class SegmentMap {
 public:
  // Opens segment `base` of the archive open as `dir_fd`. A sealed one (`sealed_end` its end)
  // must hold exactly its frames; the active one (sealed_end = UINT64_MAX) is mapped as far as
  // it is written and grows with Extend(). `identity` must match the segment's header.
  static Result<std::unique_ptr<SegmentMap>> Open(int dir_fd, const std::string& directory,
                                                  std::uint64_t base, std::uint64_t sealed_end,
                                                  const std::uint64_t identity[2]);
  ~SegmentMap();
  SegmentMap(const SegmentMap&) = delete;
  SegmentMap& operator=(const SegmentMap&) = delete;

  std::uint64_t base() const { return base_; }
  bool sealed() const { return sealed_end_ != UINT64_MAX; }
  std::uint64_t sealed_end() const { return sealed_end_; }
  // Frames below this offset are mapped.
  std::uint64_t mapped_end() const { return mapped_end_; }
  // The active segment: maps what was written since (the old mapping stays valid until
  // ReleaseRetired()). False if the file could not be mapped again.
  bool Extend();
  void ReleaseRetired();
  const Ring& layout() const { return layout_; }
  FrameSpan frames() const { return {data_, base_, ~std::uint64_t{0}, &layout_}; }
  const std::string& path() const { return path_; }

 private:
  SegmentMap() = default;
  bool Map(std::uint64_t file_size);

  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::vector<std::pair<void*, std::size_t>> retired_;
  const std::byte* data_ = nullptr;
  std::uint64_t base_ = 0;
  std::uint64_t sealed_end_ = UINT64_MAX;
  std::uint64_t mapped_end_ = 0;
  Ring layout_;
};

// What a walk over a segment's frames found.
struct FrameScan {
  std::uint64_t end = 0;  // end of the valid frames from where the walk began
  std::uint64_t records = 0;
  std::int64_t min_timestamp_ns = 0;
  std::int64_t max_timestamp_ns = 0;
  std::vector<IndexEntry> index;  // with build_index
};
// Walks the frames of `frames` from `from` while they are committed records with a matching
// checksum or padding, up to `limit`.
FrameScan ScanFrames(const FrameSpan& frames, std::uint64_t from, std::uint64_t limit, bool build_index);

class Archive {
 public:
  // Opens the archive directory a log's header names (following a symlink the user chose, then
  // checked: this user's, writable by nobody else).
  static Result<std::unique_ptr<Archive>> Open(const std::string& directory, LogHeader* header);
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  const std::string& directory() const { return directory_; }
  int dir_fd() const { return dir_fd_; }
  const std::uint64_t* identity() const { return identity_; }
  ArchiveLine& line() const { return header_->archive; }

  // acquire: retention publishes a new earliest before it deletes the files below it.
  std::uint64_t LoadEarliest() const;
  // acquire: a segment is listed in the manifest before the next one becomes active.
  std::uint64_t LoadActiveBase() const;

  // The sealed segment that holds `offset` (re-reading the manifest when the cached one does not
  // know it); kNotFound if none does.
  Result<SegmentInfo> FindSealed(std::uint64_t offset) const;
  // The manifest as the directory holds it now (and the cache updated).
  Result<Manifest> ReadManifest() const;
  // The sealed segments, from the cache while it agrees with the positions the archiver
  // publishes (re-read from the manifest otherwise).
  Result<std::vector<SegmentInfo>> SealedSegments() const;

 private:
  Archive() = default;

  std::string directory_;
  int dir_fd_ = -1;
  LogHeader* header_ = nullptr;
  std::uint64_t identity_[2] = {0, 0};
  mutable std::mutex mu_;
  mutable std::vector<SegmentInfo> cached_;  // guarded by mu_
};

// The archive directory `path`: created (0700) if missing and `create`, opened following a
// symlink, and checked to be this user's and writable by nobody else.
Result<int> OpenArchiveDirectory(const std::string& path, bool create);

}  // namespace kappa::memlog::detail
