// libFuzzer target: archive images (manifest, segment and index files) through recovery, the
// reader and time seeks.
//
// The first input byte picks the mode: a manifest text alone (parsed, and if it parses, written
// and parsed again to the same thing), or an archive directory: a manifest, segment 0 (a valid
// header, then frames synthesized from the input with correct lap tags and checksums, or raw
// input bytes), listed as sealed or left to recovery, an index file from the input, a sealed
// segment compressed (LZ4 or Zstandard) and then damaged at a byte the input picks, and then a
// ring made again from that archive and read from its earliest offset.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "memlog/archive.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"
#include "memlog/detail/codec.h"
#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"

using namespace kappa::memlog;  // NOLINT: a fuzz driver, not a header

namespace {

constexpr std::uint64_t kCapacity = 4096;
constexpr std::uint64_t kSalt = 0x1234;

void WriteFile(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  if (::write(fd, bytes.data(), bytes.size()) < 0) {
  }
  ::close(fd);
}

void RemoveAll(const std::string& dir) {
  for (const char* name :
       {"MANIFEST", "LOCK", "00000000000000000000.seg", "00000000000000000000.idx",
        "00000000000000000000.seg.damaged", "00000000000000000000.segz",
        "00000000000000000000.segz.damaged", "00000000000000000000.segz.tmp.compress"})
    ::unlink((dir + "/" + name).c_str());
}

// Frames synthesized from the input: (kind, length) pairs, with correct lap tags for a 4 KiB
// ring (kind 3 is a record with a bad checksum, kind 4 an uncommitted seal).
std::string Frames(const std::uint8_t* data, std::size_t size) {
  std::string out;
  std::uint64_t pos = 0;
  for (std::size_t i = 0; i + 2 <= size && out.size() < (64u << 10);) {
    const std::uint8_t kind = data[i] % 5;
    const std::uint32_t len = data[i + 1] * 4u;
    i += 2;
    const std::uint32_t tag = LapTag(pos, 12, kSalt);
    std::string frame;
    if (kind == 0) {
      const std::uint64_t bytes = AlignFrame(len < 8 ? 8 : len);
      frame.assign(bytes, '\0');
      const std::uint64_t seal = MakeSeal(tag, kSealPadding, static_cast<std::uint32_t>(bytes));
      std::memcpy(frame.data(), &seal, 8);
    } else {
      // Records never straddle the ring end: pad to it first, as a producer would.
      if ((pos & (kCapacity - 1)) + RecordFrameSize(len) > kCapacity) {
        const std::uint64_t gap = kCapacity - (pos & (kCapacity - 1));
        std::string pad(gap, '\0');
        const std::uint64_t seal = MakeSeal(tag, kSealPadding, static_cast<std::uint32_t>(gap));
        std::memcpy(pad.data(), &seal, 8);
        out += pad;
        pos += gap;
        continue;
      }
      frame.assign(RecordFrameSize(len), '\0');
      const std::size_t take = std::min<std::size_t>(len, size - i);
      std::memcpy(frame.data() + kRecordHeaderSize, data + i, take);
      i += take;
      RecordHeader h{};
      h.timestamp_ns = static_cast<std::int64_t>(data[i - 1 < size ? i - 1 : 0]) * 1000;
      h.type = 1;
      h.crc = RecordCrc(1, 0, h.timestamp_ns, frame.data() + kRecordHeaderSize, len) ^
              (kind == 3 ? 1u : 0u);
      h.seal = MakeSeal(LapTag(pos, 12, kSalt), kind == 4 ? 0 : kSealRecord, len);
      std::memcpy(frame.data(), &h, sizeof h);
    }
    out += frame;
    pos += frame.size();
  }
  return out;
}

void Exercise(const std::string& ring, const std::string& dir) {
  OpenOptions o;
  o.archive_directory = dir;
  auto log = Log::Open(ring, o);
  if (!log.ok()) return;
  (*log)->Info();
  for (StartAt start : {StartAt::Earliest(), StartAt::Time(100'000), StartAt::Offset(8)}) {
    auto reader = (*log)->NewReader(start);
    if (!reader.ok()) continue;
    RecordBatch batch;
    for (int polls = 0; polls < 1000; ++polls) {
      const PollStatus s = (*reader)->Poll(&batch);
      if (s == PollStatus::kEmpty || s == PollStatus::kCorrupt) break;
      for (const Record& r : batch) {
        volatile bool ok = r.ChecksumOk();
        (void)ok;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  if ((mode & 1) == 0) {
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto m = ParseManifest(text, "MANIFEST");
    if (m.ok()) {
      auto again = ParseManifest(FormatManifest(*m), "MANIFEST");
      if (!again.ok() || FormatManifest(*again) != FormatManifest(*m)) __builtin_trap();
    }
    return 0;
  }
  const std::string dir = "/dev/shm/kappa-fuzz-archive-" + std::to_string(::getpid());
  const std::string ring = "/dev/shm/kappa-fuzz-archive-" + std::to_string(::getpid()) + ".log";
  ::mkdir(dir.c_str(), 0700);
  RemoveAll(dir);
  ::unlink(ring.c_str());

  // Segment 0: header (damaged when asked), then frames.
  const std::uint64_t identity[2] = {0x1111, 0x2222};
  kappa::memlog::detail::Ring layout;
  layout.capacity = kCapacity;
  layout.salt = kSalt;
  layout.max_payload = kCapacity / 4;
  SegmentHeader h = kappa::memlog::detail::MakeSegmentHeader(identity, 0, layout);
  std::string segment(kSegmentHeaderSize, '\0');
  std::memcpy(segment.data(), &h, sizeof h);
  if (mode & 8) segment[data[1] % sizeof h] ^= static_cast<char>(data[1] | 1);
  std::string frames = (mode & 2) ? Frames(data + 2, size - 2)
                                  : std::string(reinterpret_cast<const char*>(data + 2), size - 2);
  const bool compress = (mode & 4) && (mode & 32);
  if (compress) frames.resize(frames.size() & ~std::size_t{7});  // a sealed segment's exact size
  segment += frames;
  WriteFile(dir + "/" + SegmentFileName(0), segment);

  Manifest m;
  m.log_name = "kappa-fuzz-archive-" + std::to_string(::getpid()) + ".log";
  m.ring_path = ring;
  m.identity = kappa::memlog::detail::IdentityHex(identity);
  m.capacity = kCapacity;
  m.max_payload = kCapacity / 4;
  m.unblock_timeout_ms = 1;
  m.sync_interval_ms = 100;
  m.settings.segment_bytes = 4096;
  const std::uint64_t sealed_end = frames.size() & ~std::uint64_t{7};
  if ((mode & 4) && sealed_end > 0) {  // listed as sealed: only readers look inside
    m.segments.push_back({0, sealed_end, 1, 0, 1'000'000, 1});
    m.active_base = sealed_end;
    m.segments.back().stored_bytes = kSegmentHeaderSize + sealed_end;
    if (mode & 16) {  // an index from the input
      std::string idx(reinterpret_cast<const char*>(data + 2),
                      std::min<std::size_t>(size - 2, 4096));
      WriteFile(dir + "/" + IndexFileName(0), idx);
    }
    if (compress) {  // compressed as an archiver would, then perhaps damaged
      const Codec codec = (mode & 64) ? Codec::kZstd : Codec::kLz4;
      const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
      auto c = kappa::memlog::detail::SegmentCompressor::Start(dir_fd, dir, m.segments.back(),
                                                               codec, 0, identity);
      bool done = false;
      while (c.ok()) {
        auto step = (*c)->Step();
        if (!step.ok() || *step) {
          done = step.ok();
          break;
        }
      }
      if (done) {
        m.segments.back().codec = codec;
        m.segments.back().stored_bytes = (*c)->segment().stored_bytes;
        ::unlink((dir + "/" + SegmentFileName(0)).c_str());
        if (mode & 128) {
          const std::string path = dir + "/" + SegmentFileName(0, codec);
          const int fd = ::open(path.c_str(), O_RDWR);
          const off_t at = static_cast<off_t>((std::uint64_t{data[1]} * 2654435761u) %
                                              m.segments.back().stored_bytes);
          const char flip = static_cast<char>(data[size - 1] | 1);
          char byte = 0;
          if (fd >= 0 && ::pread(fd, &byte, 1, at) == 1) {
            byte ^= flip;
            if (::pwrite(fd, &byte, 1, at) != 1) {
            }
          }
          if (fd >= 0) ::close(fd);
        }
      }
      if (dir_fd >= 0) ::close(dir_fd);
    }
  }
  WriteFile(dir + "/MANIFEST", FormatManifest(m));
  Exercise(ring, dir);
  ::unlink(ring.c_str());
  RemoveAll(dir);
  ::rmdir(dir.c_str());
  return 0;
}
