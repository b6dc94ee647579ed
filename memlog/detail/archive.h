// The read side of a log's archive, shared by Log, LogReader and Archiver: the archive
// directory, the positions the archiver publishes in the log header, the manifest, and read-only
// mappings of segment files.
//
// Thread safety: an Archive is shared by every reader of its Log; its manifest cache is guarded
// by a mutex. A SegmentFile belongs to one reader.
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
#include "memlog/detail/codec.h"
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
SegmentHeader MakeSegmentHeader(const std::uint64_t identity[2], std::uint64_t base,
                                const Ring& ring);
// Sets header->crc after its fields changed.
void SealSegmentHeader(SegmentHeader* header);

// One segment file open for reading, never past the file's end. An uncompressed segment is
// mapped read-only; a compressed one is read a block at a time into a buffer of its own (so a
// batch of its frames is valid until the next Load()), and once blocks are read in order, the
// next one is read and decompressed ahead on a thread of the file's own.
class SegmentFile {
 public:
  // A sealed segment as the manifest lists it (`segment`): its file must hold exactly its frames.
  static Result<std::unique_ptr<SegmentFile>> OpenSealed(int dir_fd, const std::string& directory,
                                                         const SegmentInfo& segment,
                                                         const std::uint64_t identity[2]);
  // The segment being written from `base` (never compressed): mapped as far as it is written,
  // and further with Extend().
  static Result<std::unique_ptr<SegmentFile>> OpenActive(int dir_fd, const std::string& directory,
                                                         std::uint64_t base,
                                                         const std::uint64_t identity[2]);
  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  std::uint64_t base() const { return base_; }
  bool sealed() const { return sealed_end_ != UINT64_MAX; }
  std::uint64_t sealed_end() const { return sealed_end_; }
  bool compressed() const { return codec_ != nullptr; }
  // frames() reads the offsets [window_begin(), window_end()): everything mapped of an
  // uncompressed segment, the loaded block of a compressed one.
  std::uint64_t window_begin() const { return window_begin_; }
  std::uint64_t window_end() const { return window_end_; }
  bool Holds(std::uint64_t offset) const { return offset >= window_begin_ && offset < window_end_; }
  // Makes `offset` readable: a compressed segment loads the block that holds it (kCorrupt naming
  // the file and the block if it is damaged). REQUIRES: base() <= offset < sealed_end().
  Status Load(std::uint64_t offset);
  // The segment being written: maps what was written since (the old mapping stays valid until
  // ReleaseRetired()). False if the file could not be mapped again.
  bool Extend();
  void ReleaseRetired();
  const Ring& layout() const { return layout_; }
  // A compressed segment's block index (empty for an uncompressed one).
  const std::vector<BlockEntry>& blocks() const { return blocks_; }
  FrameSpan frames() const { return {data_, frames_base_, ~std::uint64_t{0}, &layout_}; }
  const std::string& path() const { return path_; }

 private:
  SegmentFile() = default;
  static Result<std::unique_ptr<SegmentFile>> OpenFile(int dir_fd, const std::string& directory,
                                                       std::uint64_t base, Codec codec,
                                                       const std::uint64_t identity[2],
                                                       SegmentHeader* header, std::uint64_t* size);
  Status ReadBlockIndex(const SegmentHeader& header, const SegmentInfo& segment,
                        std::uint64_t file_size);
  // Reads and decompresses block `i` into `raw` (kCorrupt naming the file and block).
  Status ReadBlock(std::size_t i, BlockCodec& codec, std::vector<std::byte>& stored,
                   std::uint64_t* raw) const;
  void StartReadAhead(std::size_t i);
  struct ReadAhead;
  bool Map(std::uint64_t file_size);

  std::string path_;
  int fd_ = -1;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::vector<std::pair<void*, std::size_t>> retired_;
  const std::byte* data_ = nullptr;  // frame `o` of the window is at data_ + (o - frames_base_)
  std::uint64_t frames_base_ = 0;
  std::uint64_t base_ = 0;
  std::uint64_t sealed_end_ = UINT64_MAX;
  std::uint64_t window_begin_ = 0;
  std::uint64_t window_end_ = 0;
  Ring layout_;
  // A compressed segment's blocks, and the one loaded.
  std::unique_ptr<BlockCodec> codec_;
  std::vector<BlockEntry> blocks_;
  std::size_t loaded_ = SIZE_MAX;
  std::vector<std::uint64_t> raw_;
  std::vector<std::byte> stored_;
  std::unique_ptr<ReadAhead> ahead_;  // once blocks are read in order
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
FrameScan ScanFrames(const FrameSpan& frames, std::uint64_t from, std::uint64_t limit,
                     bool build_index);

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
  // The segment file that holds `offset` (sealed, or the one being written), opened; a segment
  // compressed since the cached manifest was read is looked up again.
  Result<std::unique_ptr<SegmentFile>> OpenSegmentAt(std::uint64_t offset) const;

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
