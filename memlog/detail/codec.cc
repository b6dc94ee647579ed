#include "memlog/detail/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lz4hc.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>

#include "base/files.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"

namespace kappa::memlog::detail {

namespace {

constexpr int kZstdDefaultLevel = 3;

Status WriteAll(int fd, const void* data, std::size_t size, std::uint64_t at,
                const std::string& path) {
  const auto* p = static_cast<const std::byte*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t w = ::pwrite(fd, p + done, size - done, static_cast<off_t>(at + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return base::ErrnoStatus(path, "cannot write compressed segment", w < 0 ? errno : ENOSPC);
    done += static_cast<std::size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

BlockCodec::BlockCodec(Codec codec, int level) : codec_(codec), level_(level) {
  if (codec_ == Codec::kZstd) {
    cctx_ = ZSTD_createCCtx();
    dctx_ = ZSTD_createDCtx();
  }
}

BlockCodec::~BlockCodec() {
  if (cctx_ != nullptr) ZSTD_freeCCtx(cctx_);
  if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
}

bool BlockCodec::Compress(std::span<const std::byte> raw, std::vector<std::byte>* out) {
  const auto* src = reinterpret_cast<const char*>(raw.data());
  if (codec_ == Codec::kLz4) {
    if (raw.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return false;
    const int n = static_cast<int>(raw.size());
    out->resize(static_cast<std::size_t>(LZ4_compressBound(n)));
    auto* dst = reinterpret_cast<char*>(out->data());
    const int cap = static_cast<int>(out->size());
    const int written = level_ == 0 ? LZ4_compress_default(src, dst, n, cap)
                                    : LZ4_compress_HC(src, dst, n, cap, level_);
    if (written <= 0) return false;
    out->resize(static_cast<std::size_t>(written));
    return true;
  }
  if (cctx_ == nullptr) return false;
  out->resize(ZSTD_compressBound(raw.size()));
  const std::size_t written = ZSTD_compressCCtx(cctx_, out->data(), out->size(), src, raw.size(),
                                                level_ == 0 ? kZstdDefaultLevel : level_);
  if (ZSTD_isError(written)) return false;
  out->resize(written);
  return true;
}

bool BlockCodec::Decompress(std::span<const std::byte> stored, std::span<std::byte> raw) {
  if (codec_ == Codec::kLz4) {
    if (stored.size() > static_cast<std::size_t>(INT32_MAX) ||
        raw.size() > static_cast<std::size_t>(INT32_MAX))
      return false;
    const int n = LZ4_decompress_safe(
        reinterpret_cast<const char*>(stored.data()), reinterpret_cast<char*>(raw.data()),
        static_cast<int>(stored.size()), static_cast<int>(raw.size()));
    return n >= 0 && static_cast<std::size_t>(n) == raw.size();
  }
  if (dctx_ == nullptr) return false;
  const std::size_t n =
      ZSTD_decompressDCtx(dctx_, raw.data(), raw.size(), stored.data(), stored.size());
  return !ZSTD_isError(n) && n == raw.size();
}

Result<std::unique_ptr<SegmentCompressor>> SegmentCompressor::Start(
    int dir_fd, const std::string& directory, const SegmentInfo& segment, Codec codec, int level,
    const std::uint64_t identity[2]) {
  std::unique_ptr<SegmentCompressor> c(new SegmentCompressor());
  c->dir_fd_ = dir_fd;
  c->directory_ = directory;
  c->segment_ = segment;
  c->codec_ = codec;
  c->identity_[0] = identity[0];
  c->identity_[1] = identity[1];
  c->next_ = segment.base;
  auto source = SegmentFile::OpenSealed(dir_fd, directory, segment, identity);
  if (!source.ok()) return source.status();
  c->source_ = std::move(*source);
  c->block_codec_ = std::make_unique<BlockCodec>(codec, level);
  c->final_name_ = SegmentFileName(segment.base, codec);
  c->temp_name_ = c->final_name_ + ".tmp.compress";
  ::unlinkat(dir_fd, c->temp_name_.c_str(), 0);  // left by an earlier attempt
  c->fd_ = ::openat(dir_fd, c->temp_name_.c_str(),
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (c->fd_ < 0) return base::ErrnoStatus(directory + "/" + c->temp_name_, "cannot create", errno);
  return c;
}

SegmentCompressor::~SegmentCompressor() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_ && !temp_name_.empty()) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
}

Result<bool> SegmentCompressor::Step() {
  if (done_) return true;
  if (next_ >= segment_.end) return Finish();
  const std::string source_path = source_->path();
  // A block: whole frames from next_, until it holds kBlockBytes or the segment ends.
  const FrameSpan frames = source_->frames();
  const std::uint64_t begin = next_;
  std::uint64_t end = begin;
  while (end < segment_.end && end - begin < kBlockBytes) {
    std::uint64_t bytes = 0;
    const FrameKind kind = frames.layout->Classify(end, frames.LoadSealRelaxed(end), &bytes);
    if ((kind != FrameKind::kRecord && kind != FrameKind::kPadding) || bytes > segment_.end - end ||
        end - begin + bytes > UINT32_MAX)
      return Status::Error(StatusCode::kCorrupt,
                           source_path + ": damaged frame at offset " + std::to_string(end));
    end += bytes;
  }
  const std::span<const std::byte> raw(frames.At(begin), end - begin);
  if (!block_codec_->Compress(raw, &out_))
    return Status::Error(StatusCode::kIoError, source_path + ": " + CodecName(codec_) +
                                                   " could not compress the block at offset " +
                                                   std::to_string(begin));
  if (Status s = WriteAll(fd_, out_.data(), out_.size(), file_at_, directory_ + "/" + temp_name_);
      !s.ok())
    return s;
  BlockEntry e;
  std::memset(&e, 0, sizeof e);
  e.first_offset = begin;
  e.file_at = file_at_;
  e.stored_bytes = static_cast<std::uint32_t>(out_.size());
  e.raw_bytes = static_cast<std::uint32_t>(end - begin);
  e.crc = Crc32c(0, out_.data(), out_.size());
  blocks_.push_back(e);
  max_block_bytes_ = std::max(max_block_bytes_, e.raw_bytes);
  file_at_ += out_.size();
  next_ = end;
  return false;
}

Result<bool> SegmentCompressor::Finish() {
  const std::string temp_path = directory_ + "/" + temp_name_;
  const std::size_t index_bytes = blocks_.size() * sizeof(BlockEntry);
  if (Status s = WriteAll(fd_, blocks_.data(), index_bytes, file_at_, temp_path); !s.ok()) return s;
  SegmentHeader h = MakeSegmentHeader(identity_, segment_.base, source_->layout());
  h.codec = codec_;
  h.max_block_bytes = max_block_bytes_;
  h.end_offset = segment_.end;
  h.blocks = blocks_.size();
  h.block_index_at = file_at_;
  h.block_index_crc = Crc32c(0, blocks_.data(), index_bytes);
  SealSegmentHeader(&h);
  std::vector<std::byte> header(kSegmentHeaderSize);
  std::memcpy(header.data(), &h, sizeof h);
  if (Status s = WriteAll(fd_, header.data(), header.size(), 0, temp_path); !s.ok()) return s;
  if (::fsync(fd_) != 0) return base::ErrnoStatus(temp_path, "cannot flush (fsync)", errno);
  if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, final_name_.c_str()) != 0)
    return base::ErrnoStatus(directory_ + "/" + final_name_,
                             "cannot rename the compressed segment into place", errno);
  done_ = true;
  if (::fsync(dir_fd_) != 0) return base::ErrnoStatus(directory_, "cannot flush (fsync)", errno);
  segment_.codec = codec_;
  segment_.stored_bytes = file_at_ + index_bytes;
  return true;
}

}  // namespace kappa::memlog::detail
