#include "memlog/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/files.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"
#include "memlog/log.h"

namespace kappa::memlog {

namespace {

Status Corrupt(const std::string& path, const std::string& what) {
  return Status::Error(StatusCode::kCorrupt, path + ": " + what);
}

template <class T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string Hex32(std::uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

}  // namespace

Status ValidateArchiveSettings(const ArchiveSettings& s) {
  auto bad = [](const std::string& what) {
    return Status::Error(StatusCode::kInvalidArgument, what);
  };
  if (s.segment_bytes < kMinSegmentBytes || s.segment_bytes > kMaxSegmentBytes)
    return bad("segment size " + std::to_string(s.segment_bytes) + " must be in [4 KiB, 1 TiB]");
  if (s.segment_age.count() < 0) return bad("segment age must not be negative");
  if (s.flush_interval.count() <= 0) return bad("flush interval must be > 0 ms");
  if (s.retain_age.count() < 0) return bad("retention age must not be negative");
  if (s.retain_cursor.size() > kMaxCursorName)
    return bad("retention cursor name is longer than " + std::to_string(kMaxCursorName) + " bytes");
  for (char c : s.retain_cursor)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("retention cursor name holds a space or control character");
  const int max_level = s.codec == Codec::kLz4 ? 12 : s.codec == Codec::kZstd ? 19 : 0;
  if (s.codec != Codec::kNone && s.codec != Codec::kLz4 && s.codec != Codec::kZstd)
    return bad("unknown codec");
  if (s.codec_level < 0 || s.codec_level > max_level)
    return bad(std::string("codec level ") + std::to_string(s.codec_level) + " for " +
               CodecName(s.codec) + " must be in [0, " + std::to_string(max_level) + "]");
  return Status::Ok();
}

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return "none";
    case Codec::kLz4:
      return "lz4";
    case Codec::kZstd:
      return "zstd";
  }
  return "unknown";
}

bool ParseCodec(std::string_view name, Codec* codec) {
  for (Codec c : {Codec::kNone, Codec::kLz4, Codec::kZstd}) {
    if (name == CodecName(c)) {
      *codec = c;
      return true;
    }
  }
  return false;
}

std::uint64_t Manifest::sealed_bytes() const {
  std::uint64_t total = 0;
  for (const SegmentInfo& s : segments) total += s.bytes();
  return total;
}

std::uint64_t Manifest::stored_bytes() const {
  std::uint64_t total = 0;
  for (const SegmentInfo& s : segments) total += s.stored_bytes;
  return total;
}

std::string SegmentFileName(std::uint64_t base, Codec codec) {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.%s", static_cast<unsigned long long>(base),
                codec == Codec::kNone ? "seg" : "segz");
  return name;
}

std::string IndexFileName(std::uint64_t base) {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.idx", static_cast<unsigned long long>(base));
  return name;
}

bool ParseSegmentFileName(std::string_view name, std::string_view suffix, std::uint64_t* base) {
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return false;
  for (char c : name.substr(0, 20))
    if (c < '0' || c > '9') return false;
  return ParseNumber(name.substr(0, 20), base);
}

std::string FormatManifest(const Manifest& m) {
  std::string out = "kappa-archive-manifest 1\n";
  auto line = [&](const char* key, const std::string& value) {
    out += key;
    out += ' ';
    out += value;
    out += '\n';
  };
  line("log", m.log_name);
  line("ring", m.ring_path);
  line("identity", m.identity);
  line("created_unix_ns", std::to_string(m.created_unix_ns));
  line("capacity", std::to_string(m.capacity));
  line("policy", PolicyName(m.policy));
  line("durability", DurabilityName(m.durability));
  line("max_payload", std::to_string(m.max_payload));
  line("unblock_timeout_ms", std::to_string(m.unblock_timeout_ms));
  line("sync_interval_ms", std::to_string(m.sync_interval_ms));
  line("segment_bytes", std::to_string(m.settings.segment_bytes));
  line("segment_age_ms", std::to_string(m.settings.segment_age.count()));
  line("flush_interval_ms", std::to_string(m.settings.flush_interval.count()));
  line("retain_bytes", std::to_string(m.settings.retain_bytes));
  line("retain_age_ms", std::to_string(m.settings.retain_age.count()));
  line("retain_cursor", m.settings.retain_cursor.empty() ? "-" : m.settings.retain_cursor);
  line("codec",
       std::string(CodecName(m.settings.codec)) + " " + std::to_string(m.settings.codec_level));
  line("earliest", std::to_string(m.earliest));
  for (const SegmentInfo& s : m.segments) {
    line("segment", std::to_string(s.base) + " " + std::to_string(s.end) + " " +
                        std::to_string(s.records) + " " + std::to_string(s.min_timestamp_ns) + " " +
                        std::to_string(s.max_timestamp_ns) + " " +
                        std::to_string(s.sealed_unix_ns) + " " + CodecName(s.codec) + " " +
                        std::to_string(s.stored_bytes));
  }
  line("crc", Hex32(Crc32c(0, out.data(), out.size())));
  return out;
}

Result<Manifest> ParseManifest(std::string_view text, const std::string& path) {
  // The checksum line comes last and covers every byte before it.
  if (text.empty()) return Corrupt(path, "empty manifest");
  if (text.back() != '\n') return Corrupt(path, "truncated manifest (no final newline)");
  const std::size_t crc_at = text.rfind("\ncrc ", text.size() - 2);
  if (crc_at == std::string_view::npos) return Corrupt(path, "manifest has no checksum line");
  const std::string_view body = text.substr(0, crc_at + 1);
  const std::string_view crc_text = text.substr(crc_at + 5, text.size() - crc_at - 6);
  std::uint32_t crc = 0;
  {
    const auto [end, ec] =
        std::from_chars(crc_text.data(), crc_text.data() + crc_text.size(), crc, 16);
    if (ec != std::errc() || end != crc_text.data() + crc_text.size() || crc_text.size() != 8)
      return Corrupt(path, "manifest checksum line is malformed");
  }
  if (Crc32c(0, body.data(), body.size()) != crc)
    return Corrupt(path, "manifest checksum mismatch");

  Manifest m;
  std::size_t pos = 0;
  int line_no = 0;
  auto next_line = [&](std::string_view* key, std::string_view* value) {
    if (pos >= body.size()) return false;
    const std::size_t nl = body.find('\n', pos);
    const std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    const std::size_t sp = line.find(' ');
    *key = line.substr(0, sp);
    *value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    return true;
  };
  auto bad = [&](const std::string& what) {
    return Corrupt(path, "line " + std::to_string(line_no) + ": " + what);
  };
  std::string_view key, value;
  if (!next_line(&key, &value) || key != "kappa-archive-manifest" || value != "1")
    return bad("not a kappa archive manifest (version 1)");
  auto expect = [&](const char* want, std::string_view* out) -> bool {
    if (!next_line(&key, out) || key != want) return false;
    return true;
  };
  auto number = [&](const char* want, auto* out) -> bool {
    std::string_view v;
    return expect(want, &v) && ParseNumber(v, out);
  };
  std::string_view v;
  if (!expect("log", &v) || v.empty()) return bad("expected 'log NAME'");
  m.log_name = std::string(v);
  if (!expect("ring", &v) || v.empty() || v[0] != '/')
    return bad("expected 'ring PATH' (absolute)");
  m.ring_path = std::string(v);
  if (!expect("identity", &v) || v.size() != 32 ||
      v.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return bad("expected 'identity' and 32 hex digits");
  m.identity = std::string(v);
  if (!number("created_unix_ns", &m.created_unix_ns)) return bad("expected 'created_unix_ns N'");
  if (!number("capacity", &m.capacity) || !std::has_single_bit(m.capacity) ||
      m.capacity < kMinCapacity || m.capacity > kMaxCapacity)
    return bad("expected 'capacity' and a power of two in [4 KiB, 1 TiB]");
  if (!expect("policy", &v) || (v != "block" && v != "overwrite"))
    return bad("expected 'policy block|overwrite'");
  m.policy = v == "block" ? Policy::kBlock : Policy::kOverwrite;
  if (!expect("durability", &v) || (v != "none" && v != "interval" && v != "sync"))
    return bad("expected 'durability none|interval|sync'");
  m.durability = v == "none"       ? Durability::kNone
                 : v == "interval" ? Durability::kInterval
                                   : Durability::kSync;
  if (!number("max_payload", &m.max_payload) || m.max_payload == 0 ||
      m.max_payload > kMaxPayloadLimit)
    return bad("expected 'max_payload N' in range");
  if (!number("unblock_timeout_ms", &m.unblock_timeout_ms) || m.unblock_timeout_ms == 0)
    return bad("expected 'unblock_timeout_ms N'");
  if (!number("sync_interval_ms", &m.sync_interval_ms)) return bad("expected 'sync_interval_ms N'");
  std::int64_t ms = 0;
  if (!number("segment_bytes", &m.settings.segment_bytes)) return bad("expected 'segment_bytes N'");
  if (!number("segment_age_ms", &ms)) return bad("expected 'segment_age_ms N'");
  m.settings.segment_age = std::chrono::milliseconds(ms);
  if (!number("flush_interval_ms", &ms)) return bad("expected 'flush_interval_ms N'");
  m.settings.flush_interval = std::chrono::milliseconds(ms);
  if (!number("retain_bytes", &m.settings.retain_bytes)) return bad("expected 'retain_bytes N'");
  if (!number("retain_age_ms", &ms)) return bad("expected 'retain_age_ms N'");
  m.settings.retain_age = std::chrono::milliseconds(ms);
  if (!expect("retain_cursor", &v) || v.empty()) return bad("expected 'retain_cursor NAME|-'");
  m.settings.retain_cursor = v == "-" ? std::string() : std::string(v);
  // "codec NAME LEVEL" (absent in manifests written before codecs: none).
  if (!next_line(&key, &v)) return bad("expected 'codec NAME LEVEL' or 'earliest N'");
  if (key == "codec") {
    const std::size_t sp = v.find(' ');
    if (sp == std::string_view::npos || !ParseCodec(v.substr(0, sp), &m.settings.codec) ||
        !ParseNumber(v.substr(sp + 1), &m.settings.codec_level))
      return bad("expected 'codec none|lz4|zstd LEVEL'");
    if (!next_line(&key, &v)) return bad("expected 'earliest N'");
  }
  if (Status s = ValidateArchiveSettings(m.settings); !s.ok()) return bad(s.message());
  if (key != "earliest" || !ParseNumber(v, &m.earliest) || m.earliest % kFrameAlignment != 0)
    return bad("expected 'earliest N'");
  std::uint64_t expected_base = m.earliest;
  while (next_line(&key, &value)) {
    if (key != "segment")
      return bad("expected 'segment BASE END RECORDS MIN_TS MAX_TS SEALED_NS CODEC STORED'");
    SegmentInfo s;
    // The last two fields are absent in manifests written before codecs (then: none, its size).
    std::string_view fields[8];
    std::size_t n = 0;
    for (std::size_t at = 0; n < 8 && at <= value.size(); ++n) {
      const std::size_t sp = value.find(' ', at);
      fields[n] = value.substr(at, sp == std::string_view::npos ? std::string_view::npos : sp - at);
      at = sp == std::string_view::npos ? value.size() + 1 : sp + 1;
    }
    if ((n != 6 && n != 8) || !ParseNumber(fields[0], &s.base) || !ParseNumber(fields[1], &s.end) ||
        !ParseNumber(fields[2], &s.records) || !ParseNumber(fields[3], &s.min_timestamp_ns) ||
        !ParseNumber(fields[4], &s.max_timestamp_ns) ||
        !ParseNumber(fields[5], &s.sealed_unix_ns) ||
        (n == 8 &&
         (!ParseCodec(fields[6], &s.codec) || !ParseNumber(fields[7], &s.stored_bytes))) ||
        value.find(' ', fields[n - 1].data() - value.data()) != std::string_view::npos)
      return bad("malformed segment line");
    if (s.base != expected_base)
      return bad("segment " + std::to_string(s.base) +
                 " does not start where the one before it ends (" + std::to_string(expected_base) +
                 ")");
    if (s.end <= s.base || s.end % kFrameAlignment != 0 ||
        s.end - s.base > kMaxSegmentBytes + kMaxCapacity)
      return bad("segment " + std::to_string(s.base) + " has a bad end " + std::to_string(s.end));
    if (n == 6) s.stored_bytes = kSegmentHeaderSize + (s.end - s.base);
    if (s.codec == Codec::kNone ? s.stored_bytes != kSegmentHeaderSize + (s.end - s.base)
                                : s.stored_bytes < kSegmentHeaderSize)
      return bad("segment " + std::to_string(s.base) + " has a bad stored size " +
                 std::to_string(s.stored_bytes));
    expected_base = s.end;
    m.segments.push_back(s);
  }
  m.active_base = expected_base;
  return m;
}

Result<Manifest> ReadManifest(const std::string& directory) {
  const std::string path = directory + "/" + kManifestFile;
  auto text = base::ReadOwnFile(path);
  if (!text.ok()) return text.status();
  return ParseManifest(*text, path);
}

namespace detail {

namespace {

std::uint32_t SegmentHeaderCrc(const SegmentHeader& h) {
  return Crc32c(0, &h, offsetof(SegmentHeader, crc));
}

}  // namespace

std::string IdentityHex(const std::uint64_t identity[2]) {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(identity[0]),
                static_cast<unsigned long long>(identity[1]));
  return text;
}

bool ParseIdentityHex(std::string_view hex, std::uint64_t identity[2]) {
  if (hex.size() != 32) return false;
  for (int i = 0; i < 2; ++i) {
    const char* b = hex.data() + 16 * i;
    const auto [end, ec] = std::from_chars(b, b + 16, identity[i], 16);
    if (ec != std::errc() || end != b + 16) return false;
  }
  return true;
}

Ring LayoutOf(const SegmentHeader& h) {
  Ring r;
  r.capacity = h.capacity;
  r.mask = h.capacity - 1;
  r.capacity_log2 = static_cast<unsigned>(std::countr_zero(h.capacity));
  r.salt = h.salt;
  r.max_payload = h.max_payload;
  return r;
}

SegmentHeader MakeSegmentHeader(const std::uint64_t identity[2], std::uint64_t base,
                                const Ring& ring) {
  SegmentHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kSegmentMagic, sizeof h.magic);
  h.version = kSegmentVersion;
  h.header_size = kSegmentHeaderSize;
  h.identity[0] = identity[0];
  h.identity[1] = identity[1];
  h.base_offset = base;
  h.capacity = ring.capacity;
  h.salt = ring.salt;
  h.max_payload = ring.max_payload;
  h.created_unix_ns = UnixNs();
  SealSegmentHeader(&h);
  return h;
}

void SealSegmentHeader(SegmentHeader* h) { h->crc = SegmentHeaderCrc(*h); }

Status ValidateSegmentHeader(const SegmentHeader& h, const std::string& path) {
  if (std::memcmp(h.magic, kSegmentMagic, sizeof kSegmentMagic) != 0)
    return Corrupt(path, "bad magic: not a kappa archive segment");
  if (h.version != kSegmentVersion)
    return Corrupt(path, "segment format version " + std::to_string(h.version) +
                             ", this build reads version " + std::to_string(kSegmentVersion));
  if (SegmentHeaderCrc(h) != h.crc) return Corrupt(path, "segment header checksum mismatch");
  if (h.header_size != kSegmentHeaderSize)
    return Corrupt(path, "segment header size " + std::to_string(h.header_size));
  if (!std::has_single_bit(h.capacity) || h.capacity < kMinCapacity || h.capacity > kMaxCapacity)
    return Corrupt(path,
                   "segment names a ring capacity " + std::to_string(h.capacity) + " out of range");
  if (h.max_payload == 0 || h.max_payload > kMaxPayloadLimit || h.max_payload > h.capacity / 2)
    return Corrupt(
        path, "segment names a max payload " + std::to_string(h.max_payload) + " out of range");
  if (h.base_offset % kFrameAlignment != 0)
    return Corrupt(path, "segment base offset is not 8-aligned");
  if (h.codec != Codec::kNone && h.codec != Codec::kLz4 && h.codec != Codec::kZstd)
    return Corrupt(path, "segment names an unknown codec " +
                             std::to_string(static_cast<std::uint32_t>(h.codec)));
  return Status::Ok();
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::OpenFile(int dir_fd, const std::string& directory,
                                                           std::uint64_t base, Codec codec,
                                                           const std::uint64_t identity[2],
                                                           SegmentHeader* h, std::uint64_t* size) {
  std::unique_ptr<SegmentFile> m(new SegmentFile());
  const std::string name = SegmentFileName(base, codec);
  m->path_ = directory + "/" + name;
  m->base_ = base;
  m->fd_ = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (m->fd_ < 0) {
    if (errno == ELOOP)
      return Status::Error(StatusCode::kPermissionDenied, m->path_ + ": a symlink: refused");
    return base::ErrnoStatus(m->path_, "cannot open archive segment", errno);
  }
  struct stat st;
  if (::fstat(m->fd_, &st) != 0) return base::ErrnoStatus(m->path_, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) return Corrupt(m->path_, "not a regular file");
  if (st.st_uid != ::geteuid())
    return Status::Error(
        StatusCode::kPermissionDenied,
        m->path_ + ": owned by another user (uid " + std::to_string(st.st_uid) + "): refused");
  *size = static_cast<std::uint64_t>(st.st_size);
  if (*size < kSegmentHeaderSize)
    return Corrupt(m->path_,
                   "file is " + std::to_string(*size) + " bytes, shorter than a segment header");
  if (::pread(m->fd_, h, sizeof *h, 0) != static_cast<ssize_t>(sizeof *h))
    return base::ErrnoStatus(m->path_, "cannot read segment header", errno);
  if (Status s = ValidateSegmentHeader(*h, m->path_); !s.ok()) return s;
  if (h->base_offset != base)
    return Corrupt(m->path_, "header says base offset " + std::to_string(h->base_offset) +
                                 ", its name " + std::to_string(base));
  if (h->identity[0] != identity[0] || h->identity[1] != identity[1])
    return Corrupt(m->path_, "segment belongs to another log (identity differs)");
  if (h->codec != codec)
    return Corrupt(m->path_, std::string("header says codec ") + CodecName(h->codec) +
                                 ", the manifest " + CodecName(codec));
  m->layout_ = LayoutOf(*h);
  return m;
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::OpenSealed(int dir_fd,
                                                             const std::string& directory,
                                                             const SegmentInfo& segment,
                                                             const std::uint64_t identity[2]) {
  SegmentHeader h;
  std::uint64_t size = 0;
  auto m = OpenFile(dir_fd, directory, segment.base, segment.codec, identity, &h, &size);
  if (!m.ok()) return m;
  SegmentFile& f = **m;
  f.sealed_end_ = segment.end;
  if (segment.codec != Codec::kNone) {
    if (Status s = f.ReadBlockIndex(h, segment, size); !s.ok()) return s;
    return m;
  }
  if (size != kSegmentHeaderSize + segment.bytes())
    return Corrupt(f.path_, "sealed segment is " + std::to_string(size) +
                                " bytes, its manifest entry needs " +
                                std::to_string(kSegmentHeaderSize + segment.bytes()));
  if (!f.Map(size)) return base::ErrnoStatus(f.path_, "cannot map", errno);
  return m;
}

Result<std::unique_ptr<SegmentFile>> SegmentFile::OpenActive(int dir_fd,
                                                             const std::string& directory,
                                                             std::uint64_t base,
                                                             const std::uint64_t identity[2]) {
  SegmentHeader h;
  std::uint64_t size = 0;
  auto m = OpenFile(dir_fd, directory, base, Codec::kNone, identity, &h, &size);
  if (!m.ok()) return m;
  if (!(*m)->Map(size)) return base::ErrnoStatus((*m)->path_, "cannot map", errno);
  return m;
}

Status SegmentFile::ReadBlockIndex(const SegmentHeader& h, const SegmentInfo& segment,
                                   std::uint64_t size) {
  if (size != segment.stored_bytes)
    return Corrupt(path_, "compressed segment is " + std::to_string(size) +
                              " bytes, its manifest entry says " +
                              std::to_string(segment.stored_bytes));
  if (h.end_offset != segment.end)
    return Corrupt(path_, "header says its frames end at offset " + std::to_string(h.end_offset) +
                              ", the manifest " + std::to_string(segment.end));
  const std::uint64_t max_frame = AlignFrame(kRecordHeaderSize + std::uint64_t{h.max_payload});
  if (h.blocks == 0 || h.blocks > segment.bytes() / kFrameAlignment ||
      h.block_index_at < kSegmentHeaderSize || h.block_index_at > size ||
      (size - h.block_index_at) / sizeof(BlockEntry) != h.blocks ||
      (size - h.block_index_at) % sizeof(BlockEntry) != 0 || h.max_block_bytes == 0 ||
      h.max_block_bytes % kFrameAlignment != 0 || h.max_block_bytes > kBlockBytes + max_frame)
    return Corrupt(path_, "header describes an impossible block index");
  blocks_.resize(h.blocks);
  const std::size_t index_bytes = blocks_.size() * sizeof(BlockEntry);
  if (::pread(fd_, blocks_.data(), index_bytes, static_cast<off_t>(h.block_index_at)) !=
      static_cast<ssize_t>(index_bytes))
    return base::ErrnoStatus(path_, "cannot read the block index", errno ? errno : EIO);
  if (Crc32c(0, blocks_.data(), index_bytes) != h.block_index_crc)
    return Corrupt(path_, "block index checksum mismatch");
  std::uint64_t offset = segment.base;
  std::uint64_t file_at = kSegmentHeaderSize;
  std::uint32_t max_stored = 0;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const BlockEntry& b = blocks_[i];
    if (b.first_offset != offset || b.file_at != file_at || b.raw_bytes == 0 ||
        b.raw_bytes % kFrameAlignment != 0 || b.raw_bytes > h.max_block_bytes ||
        b.raw_bytes > segment.end - offset || b.stored_bytes > h.block_index_at - file_at)
      return Corrupt(path_, "block index entry " + std::to_string(i) + " is inconsistent");
    offset += b.raw_bytes;
    file_at += b.stored_bytes;
    max_stored = std::max(max_stored, b.stored_bytes);
  }
  if (offset != segment.end || file_at != h.block_index_at)
    return Corrupt(path_, "block index does not cover offsets [" + std::to_string(segment.base) +
                              ", " + std::to_string(segment.end) + ")");
  codec_ = std::make_unique<BlockCodec>(h.codec, 0);
  raw_.resize(h.max_block_bytes / sizeof(std::uint64_t));  // 8-aligned, as frames are
  stored_.resize(max_stored);
  window_begin_ = window_end_ = segment.base;
  return Status::Ok();
}

Status SegmentFile::ReadBlock(std::size_t i, BlockCodec& codec, std::vector<std::byte>& stored,
                              std::uint64_t* raw) const {
  const BlockEntry& b = blocks_[i];
  const std::string where = "block " + std::to_string(i) + " (offsets [" +
                            std::to_string(b.first_offset) + ", " +
                            std::to_string(b.first_offset + b.raw_bytes) + "))";
  std::size_t done = 0;
  while (done < b.stored_bytes) {
    const ssize_t r = ::pread(fd_, stored.data() + done, b.stored_bytes - done,
                              static_cast<off_t>(b.file_at + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return r < 0 ? base::ErrnoStatus(path_, "cannot read " + where, errno)
                   : Corrupt(path_, where + " is cut short");
    done += static_cast<std::size_t>(r);
  }
  const std::span<const std::byte> bytes(stored.data(), b.stored_bytes);
  if (Crc32c(0, bytes.data(), bytes.size()) != b.crc)
    return Corrupt(path_, where + ": checksum mismatch");
  if (!codec.Decompress(bytes,
                        std::span<std::byte>(reinterpret_cast<std::byte*>(raw), b.raw_bytes)))
    return Corrupt(path_,
                   where + std::string(": does not decompress (") + CodecName(codec.codec()) + ")");
  return Status::Ok();
}

// The next block of a compressed segment read and decompressed on a thread of its own while the
// reader reads the current one: replay runs at the pace of the slower of the two, not of both.
struct SegmentFile::ReadAhead {
  explicit ReadAhead(Codec c, std::size_t raw_words, std::size_t stored_bytes)
      : codec(c, 0), buffer(raw_words), stored(stored_bytes) {}
  BlockCodec codec;  // its own: a decompression context serves one thread
  std::vector<std::uint64_t> buffer;
  std::vector<std::byte> stored;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::size_t want = SIZE_MAX;   // guarded by mu: the block to read next
  std::size_t ready = SIZE_MAX;  // guarded by mu: the block `buffer` holds
  bool busy = false;             // guarded by mu
  bool stop = false;             // guarded by mu
  Status status;                 // guarded by mu: how reading `ready` went
};

void SegmentFile::StartReadAhead(std::size_t i) {
  if (!ahead_) {
    ahead_ = std::make_unique<ReadAhead>(codec_->codec(), raw_.size(), stored_.size());
    ReadAhead* a = ahead_.get();
    a->thread = std::thread([this, a] {
      std::unique_lock<std::mutex> lock(a->mu);
      for (;;) {
        a->cv.wait(lock, [a] { return a->stop || a->want != SIZE_MAX; });
        if (a->stop) return;
        const std::size_t block = a->want;
        a->want = SIZE_MAX;
        lock.unlock();
        Status s = ReadBlock(block, a->codec, a->stored, a->buffer.data());
        lock.lock();
        a->ready = block;
        a->status = std::move(s);
        a->busy = false;
        a->cv.notify_all();
      }
    });
  }
  std::lock_guard<std::mutex> lock(ahead_->mu);
  ahead_->want = i;
  ahead_->ready = SIZE_MAX;
  ahead_->busy = true;
  ahead_->cv.notify_all();
}

Status SegmentFile::Load(std::uint64_t offset) {
  if (!compressed() || Holds(offset)) return Status::Ok();
  auto it =
      std::upper_bound(blocks_.begin(), blocks_.end(), offset,
                       [](std::uint64_t o, const BlockEntry& b) { return o < b.first_offset; });
  if (it == blocks_.begin() || offset >= sealed_end_)
    return Corrupt(path_, "holds no block for offset " + std::to_string(offset));
  const std::size_t i = static_cast<std::size_t>(it - blocks_.begin()) - 1;
  const bool sequential = loaded_ != SIZE_MAX && i == loaded_ + 1;
  loaded_ = SIZE_MAX;
  window_begin_ = window_end_ = base_;
  bool taken = false;
  if (ahead_) {
    std::unique_lock<std::mutex> lock(ahead_->mu);
    ahead_->cv.wait(lock, [this] { return !ahead_->busy; });
    if (ahead_->ready == i) {
      if (!ahead_->status.ok()) return ahead_->status;
      raw_.swap(ahead_->buffer);  // the caller's last batch pointed into raw_: it is done with it
      ahead_->ready = SIZE_MAX;
      taken = true;
    }
  }
  if (!taken) {
    if (Status s = ReadBlock(i, *codec_, stored_, raw_.data()); !s.ok()) return s;
  }
  const BlockEntry& b = blocks_[i];
  loaded_ = i;
  data_ = reinterpret_cast<const std::byte*>(raw_.data());
  frames_base_ = window_begin_ = b.first_offset;
  window_end_ = b.first_offset + b.raw_bytes;
  // Read on ahead once the caller reads block after block (a seek reads one and stops).
  if ((sequential || taken) && i + 1 < blocks_.size()) StartReadAhead(i + 1);
  return Status::Ok();
}

bool SegmentFile::Map(std::uint64_t file_size) {
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fd_, 0);
  if (map == MAP_FAILED) return false;
  ::madvise(map, file_size, MADV_SEQUENTIAL);
  if (map_ != nullptr) retired_.emplace_back(map_, map_size_);
  map_ = map;
  map_size_ = file_size;
  data_ = static_cast<const std::byte*>(map) + kSegmentHeaderSize;
  frames_base_ = window_begin_ = base_;
  // The file's end: a frame it cuts (a write in progress) is left to the reader's bounds checks.
  window_end_ = base_ + (file_size - kSegmentHeaderSize);
  if (sealed()) window_end_ = std::min(window_end_, sealed_end_);
  return true;
}

bool SegmentFile::Extend() {
  if (sealed()) return true;
  struct stat st;
  if (::fstat(fd_, &st) != 0) return false;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size <= map_size_) return true;
  return Map(size);
}

void SegmentFile::ReleaseRetired() {
  for (auto [map, size] : retired_) ::munmap(map, size);
  retired_.clear();
}

SegmentFile::~SegmentFile() {
  if (ahead_) {
    {
      std::lock_guard<std::mutex> lock(ahead_->mu);
      ahead_->stop = true;
      ahead_->cv.notify_all();
    }
    ahead_->thread.join();
  }
  ReleaseRetired();
  if (map_ != nullptr) ::munmap(map_, map_size_);
  if (fd_ >= 0) ::close(fd_);
}

FrameScan ScanFrames(const FrameSpan& frames, std::uint64_t from, std::uint64_t limit,
                     bool build_index) {
  FrameScan scan;
  scan.end = from;
  std::uint64_t next_entry = from;
  bool any = false;
  const Ring& layout = *frames.layout;
  std::uint64_t pos = from;
  while (pos < limit) {
    if (limit - pos < kFrameAlignment) break;
    const std::uint64_t seal = frames.LoadSealRelaxed(pos);
    std::uint64_t bytes = 0;
    const FrameKind kind = layout.Classify(pos, seal, &bytes);
    if ((kind != FrameKind::kRecord && kind != FrameKind::kPadding) || bytes > limit - pos) break;
    if (build_index && pos >= next_entry) {
      scan.index.push_back({pos, INT64_MIN});
      next_entry = pos + kIndexStride;
    }
    if (kind == FrameKind::kRecord) {
      const RecordHeader* h = frames.Header(pos);
      if (RecordCrc(h->type, h->flags, h->timestamp_ns, frames.At(pos) + kRecordHeaderSize,
                    SealLength(seal)) != h->crc)
        break;
      ++scan.records;
      const std::int64_t ts = h->timestamp_ns;
      scan.min_timestamp_ns = any ? std::min(scan.min_timestamp_ns, ts) : ts;
      scan.max_timestamp_ns = any ? std::max(scan.max_timestamp_ns, ts) : ts;
      any = true;
      if (build_index)
        scan.index.back().max_timestamp_ns = std::max(scan.index.back().max_timestamp_ns, ts);
    }
    pos += bytes;
    scan.end = pos;
  }
  return scan;
}

Result<int> OpenArchiveDirectory(const std::string& path, bool create) {
  if (create && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return base::ErrnoStatus(path, "cannot create the archive directory", errno);
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return base::ErrnoStatus(path, "cannot open the archive directory", errno);
  if (Status s = base::CheckDirectory(fd, path, base::DirectoryUse::kPrivate); !s.ok()) {
    ::close(fd);
    return s;
  }
  return fd;
}

Result<std::unique_ptr<Archive>> Archive::Open(const std::string& directory, LogHeader* header) {
  auto fd = OpenArchiveDirectory(directory, /*create=*/false);
  if (!fd.ok()) return fd.status().WithPrefix("the log's archive: ");
  std::unique_ptr<Archive> a(new Archive());
  a->directory_ = directory;
  a->dir_fd_ = *fd;
  a->header_ = header;
  const SuperBlock& super = header->super;
  a->identity_[0] = super.identity[0];
  a->identity_[1] = super.identity[1];
  return a;
}

Archive::~Archive() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::uint64_t Archive::LoadEarliest() const {
  return std::atomic_ref<std::uint64_t>(header_->archive.earliest).load(std::memory_order_acquire);
}

std::uint64_t Archive::LoadActiveBase() const {
  return std::atomic_ref<std::uint64_t>(header_->archive.active_base)
      .load(std::memory_order_acquire);
}

Result<Manifest> Archive::ReadManifest() const {
  auto m = memlog::ReadManifest(directory_);
  if (!m.ok()) return m.status();
  std::lock_guard<std::mutex> lock(mu_);
  cached_ = m->segments;
  return m;
}

Result<std::vector<SegmentInfo>> Archive::SealedSegments() const {
  const std::uint64_t active = LoadActiveBase();
  const std::uint64_t earliest = LoadEarliest();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool current = cached_.empty()
                             ? active == earliest
                             : cached_.back().end == active && cached_.front().base == earliest;
    if (current) return cached_;
  }
  auto m = ReadManifest();
  if (!m.ok()) return m.status();
  return m->segments;
}

Result<std::unique_ptr<SegmentFile>> Archive::OpenSegmentAt(std::uint64_t offset) const {
  const std::uint64_t active = LoadActiveBase();
  if (offset >= active) return SegmentFile::OpenActive(dir_fd_, directory_, active, identity_);
  auto s = FindSealed(offset);
  if (!s.ok()) return s.status();
  auto file = SegmentFile::OpenSealed(dir_fd_, directory_, *s, identity_);
  if (file.ok() || file.status().code() != StatusCode::kNotFound) return file;
  // Compressed since the manifest was cached (the uncompressed file is gone), or deleted.
  if (auto m = ReadManifest(); !m.ok()) return m.status();
  auto again = FindSealed(offset);
  if (!again.ok()) return again.status();
  if (again->codec == s->codec) return file;
  return SegmentFile::OpenSealed(dir_fd_, directory_, *again, identity_);
}

Result<SegmentInfo> Archive::FindSealed(std::uint64_t offset) const {
  auto find = [&]() -> const SegmentInfo* {
    auto it = std::upper_bound(cached_.begin(), cached_.end(), offset,
                               [](std::uint64_t o, const SegmentInfo& s) { return o < s.base; });
    if (it == cached_.begin()) return nullptr;
    --it;
    return offset < it->end ? &*it : nullptr;
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (const SegmentInfo* s = find()) return *s;
  }
  auto m = ReadManifest();
  if (!m.ok()) return m.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (const SegmentInfo* s = find()) return *s;
  return Status::Error(StatusCode::kNotFound,
                       directory_ + ": no sealed segment holds offset " + std::to_string(offset));
}

}  // namespace detail

}  // namespace kappa::memlog
