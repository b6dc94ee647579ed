// Compressed archive segments: the block codecs (LZ4, Zstandard) and the writer that turns a
// sealed segment into its compressed file ("<base>.segz", memlog/FORMAT.md), a block at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "memlog/archive.h"
#include "memlog/format.h"
#include "memlog/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace kappa::memlog::detail {

class SegmentFile;

// Compresses and decompresses whole blocks. One thread at a time.
class BlockCodec {
 public:
  // REQUIRES: codec is kLz4 or kZstd, level as ValidateArchiveSettings allows.
  BlockCodec(Codec codec, int level);
  ~BlockCodec();
  BlockCodec(const BlockCodec&) = delete;
  BlockCodec& operator=(const BlockCodec&) = delete;

  Codec codec() const { return codec_; }
  // Compresses `raw` into `*out` (resized to the compressed size); false if the codec failed.
  bool Compress(std::span<const std::byte> raw, std::vector<std::byte>* out);
  // Decompresses `stored` into `raw`; false unless it holds exactly raw.size() bytes.
  bool Decompress(std::span<const std::byte> stored, std::span<std::byte> raw);

 private:
  Codec codec_;
  int level_;
  ZSTD_CCtx_s* cctx_ = nullptr;
  ZSTD_DCtx_s* dctx_ = nullptr;
};

// Writes the compressed copy of one sealed, uncompressed segment of an archive as
// "<base>.segz.tmp.compress", then renames it into place once it is complete and synced. The
// uncompressed file is left alone (the caller lists the new one in the manifest, then removes
// the old one). Destroying an unfinished compressor removes its temporary file.
class SegmentCompressor {
 public:
  static Result<std::unique_ptr<SegmentCompressor>> Start(int dir_fd, const std::string& directory,
                                                          const SegmentInfo& segment, Codec codec,
                                                          int level,
                                                          const std::uint64_t identity[2]);
  ~SegmentCompressor();
  SegmentCompressor(const SegmentCompressor&) = delete;
  SegmentCompressor& operator=(const SegmentCompressor&) = delete;

  // Compresses the next block; after the last one writes the block index and the header, syncs
  // the file and renames it into place, and returns true. kCorrupt if the uncompressed segment's
  // frames are damaged; an I/O status naming the file otherwise.
  Result<bool> Step();
  // The segment, with its codec and stored size once Step() returned true.
  const SegmentInfo& segment() const { return segment_; }

 private:
  SegmentCompressor() = default;
  Result<bool> Finish();

  int dir_fd_ = -1;
  std::string directory_;
  std::string temp_name_;
  std::string final_name_;
  int fd_ = -1;
  bool done_ = false;
  SegmentInfo segment_;
  Codec codec_ = Codec::kNone;
  std::unique_ptr<SegmentFile> source_;
  std::unique_ptr<BlockCodec> block_codec_;
  std::vector<std::byte> out_;
  std::vector<BlockEntry> blocks_;
  std::uint64_t next_ = 0;  // offset of the next block's first frame
  std::uint64_t file_at_ = kSegmentHeaderSize;
  std::uint32_t max_block_bytes_ = 0;
  std::uint64_t identity_[2] = {0, 0};
};

}  // namespace kappa::memlog::detail
