// libFuzzer target: a log image (header and frames) through open, recovery and reading.
//
// The first input byte picks the mode: raw (the input is the whole file, to exercise header
// validation) or framed (a valid superblock for a 4 KiB ring, with the input laid over the
// positions, counters, producer and cursor tables and the ring, to reach recovery and reads).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "memlog/crc32c.h"
#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

using namespace kappa::memlog;  // NOLINT: a fuzz driver, not a header

namespace {

std::string Path() { return "/dev/shm/kappa-fuzz-" + std::to_string(::getpid()) + ".log"; }

void Exercise(const std::string& path) {
  auto log = Log::Open(path);
  if (!log.ok()) return;
  (*log)->Info();
  for (StartAt start : {StartAt::Earliest(), StartAt::Time(0), StartAt::Latest()}) {
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
  auto cursor = (*log)->OpenCursor("fuzz");
  if (cursor.ok()) (*cursor)->CommitCursor();
  auto producer = (*log)->NewProducer();
  if (producer.ok()) {
    const char payload[] = "after recovery";
    (void)(*producer)->Append(std::as_bytes(std::span(payload)), 1, 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string path = Path();
  ::unlink(path.c_str());
  std::vector<std::uint8_t> image;
  if (data[0] & 1) {
    image.assign(data + 1, data + size);
  } else {
    constexpr std::uint64_t kCapacity = 4096;
    image.assign(kHeaderSize + kCapacity, 0);
    SuperBlock super{};
    std::memcpy(super.magic, kMagic, sizeof kMagic);
    super.version = kFormatVersion;
    super.header_size = kHeaderSize;
    super.capacity = kCapacity;
    super.max_payload = kCapacity / 4;
    super.policy = (data[0] & 2) ? 2 : 1;
    super.unblock_timeout_ms = 1;
    super.sync_interval_ms = 100;
    super.salt = 0x1234;
    super.max_producers = kMaxProducers;
    super.max_cursors = kMaxCursors;
    super.crc = Crc32c(0, &super, offsetof(SuperBlock, crc));
    std::memcpy(image.data(), &super, sizeof super);
    if (data[0] & 4) {
      // Synthesized frames with correct lap tags, so recovery and reads see plausible logs:
      // each step takes (kind, length, tag-lap delta) from the input.
      std::uint64_t pos = 0;
      std::size_t i = 1;
      while (i + 3 <= size && pos + 8 <= kCapacity) {
        const std::uint8_t kind = data[i] % 4;
        const std::uint32_t len = data[i + 1] * 4u;
        const std::uint64_t lap = data[i + 2] % 3 == 0 ? 1 : 0;  // sometimes an earlier lap
        i += 3;
        const std::uint32_t tag = LapTag(pos + (lap ? 0 : kCapacity), 12, super.salt);
        std::uint64_t seal;
        std::uint64_t frame;
        if (kind == 0) {
          frame = AlignFrame(len < 8 ? 8 : len);
          seal = MakeSeal(tag, kSealPadding, static_cast<std::uint32_t>(frame));
        } else {
          frame = RecordFrameSize(len);
          seal = MakeSeal(tag, kind == 3 ? 3 : kSealRecord, len);
          RecordHeader h{};
          h.timestamp_ns = static_cast<std::int64_t>(pos);
          const std::size_t take = std::min<std::size_t>(len, size - i);
          std::uint8_t* dst = image.data() + kHeaderSize + pos + kRecordHeaderSize;
          if (pos + kRecordHeaderSize + take <= kCapacity) std::memcpy(dst, data + i, take);
          i += take;
          if (pos + frame <= kCapacity)
            h.crc = kind == 2 ? 0 : RecordCrc(0, 0, h.timestamp_ns, dst, len);
          h.seal = seal;
          if (pos + sizeof h <= kCapacity)
            std::memcpy(image.data() + kHeaderSize + pos, &h, sizeof h);
        }
        std::memcpy(image.data() + kHeaderSize + pos, &seal, 8);
        pos += frame;
      }
      // Positions for lap 1 (tags above used lap 1 unless told otherwise).
      const std::uint64_t head = kCapacity, tail = kCapacity + std::min(pos, kCapacity);
      std::memcpy(image.data() + offsetof(LogHeader, head), &head, 8);
      std::memcpy(image.data() + offsetof(LogHeader, tail), &tail, 8);
    } else {
      // Input bytes after the mode byte: first the dynamic header (positions onwards), then ring.
      std::size_t n = size - 1;
      const std::size_t header_part = std::min<std::size_t>(n, 256);
      std::memcpy(image.data() + 256, data + 1, header_part);
      if (n > header_part) {
        std::memcpy(image.data() + kHeaderSize, data + 1 + header_part,
                    std::min<std::size_t>(n - header_part, kCapacity));
      }
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (!image.empty() && ::write(fd, image.data(), image.size()) < 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  Exercise(path);
  ::unlink(path.c_str());
  return 0;
}
