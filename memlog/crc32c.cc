#include "memlog/crc32c.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace kappa::memlog {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

constexpr std::array<std::array<std::uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}
constexpr auto kTables = MakeTables();

std::uint32_t Software(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  crc = ~crc;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= crc;
    crc = kTables[7][w & 0xFF] ^ kTables[6][(w >> 8) & 0xFF] ^ kTables[5][(w >> 16) & 0xFF] ^
          kTables[4][(w >> 24) & 0xFF] ^ kTables[3][(w >> 32) & 0xFF] ^
          kTables[2][(w >> 40) & 0xFF] ^ kTables[1][(w >> 48) & 0xFF] ^ kTables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

// The 16 bytes of record metadata that precede the payload in a record's checksum, as two
// little-endian words: (type, flags, length) and the timestamp.
std::uint64_t MetaWord(std::uint16_t type, std::uint16_t flags, std::uint32_t length) {
  return std::uint64_t{type} | std::uint64_t{flags} << 16 | std::uint64_t{length} << 32;
}

#if defined(__x86_64__)
// The raw chain: no inversion on entry or exit.
__attribute__((target("sse4.2"))) std::uint32_t HardwareChain(std::uint64_t c,
                                                              const unsigned char* p,
                                                              std::size_t n) {
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

__attribute__((target("sse4.2"))) std::uint32_t Hardware(std::uint32_t crc, const unsigned char* p,
                                                         std::size_t n) {
  return ~HardwareChain(~crc, p, n);
}

__attribute__((target("sse4.2"))) std::uint64_t HardwareMeta(const RecordCrcInput& r) {
  const std::uint64_t c = __builtin_ia32_crc32di(0xFFFFFFFFu, MetaWord(r.type, r.flags, r.length));
  return __builtin_ia32_crc32di(c, static_cast<std::uint64_t>(r.timestamp_ns));
}

// Four records: the chains advance in lockstep over the words all four payloads have, then each
// finishes alone.
__attribute__((target("sse4.2"))) void HardwareRecords4(const RecordCrcInput* in,
                                                        std::uint32_t* out) {
  std::uint64_t c0 = HardwareMeta(in[0]), c1 = HardwareMeta(in[1]);
  std::uint64_t c2 = HardwareMeta(in[2]), c3 = HardwareMeta(in[3]);
  const auto* p0 = static_cast<const unsigned char*>(in[0].payload);
  const auto* p1 = static_cast<const unsigned char*>(in[1].payload);
  const auto* p2 = static_cast<const unsigned char*>(in[2].payload);
  const auto* p3 = static_cast<const unsigned char*>(in[3].payload);
  const std::size_t common =
      std::min(std::min(in[0].length, in[1].length), std::min(in[2].length, in[3].length)) & ~7u;
  for (std::size_t i = 0; i < common; i += 8) {
    std::uint64_t w0, w1, w2, w3;
    std::memcpy(&w0, p0 + i, 8);
    std::memcpy(&w1, p1 + i, 8);
    std::memcpy(&w2, p2 + i, 8);
    std::memcpy(&w3, p3 + i, 8);
    c0 = __builtin_ia32_crc32di(c0, w0);
    c1 = __builtin_ia32_crc32di(c1, w1);
    c2 = __builtin_ia32_crc32di(c2, w2);
    c3 = __builtin_ia32_crc32di(c3, w3);
  }
  out[0] = ~HardwareChain(c0, p0 + common, in[0].length - common);
  out[1] = ~HardwareChain(c1, p1 + common, in[1].length - common);
  out[2] = ~HardwareChain(c2, p2 + common, in[2].length - common);
  out[3] = ~HardwareChain(c3, p3 + common, in[3].length - common);
}

const bool kHaveHardware = __builtin_cpu_supports("sse4.2");
#else
const bool kHaveHardware = false;
#endif

}  // namespace

std::uint32_t Crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (kHaveHardware) return Hardware(crc, p, n);
#endif
  return Software(crc, p, n);
}

std::uint32_t RecordCrc(std::uint16_t type, std::uint16_t flags, std::int64_t timestamp_ns,
                        const void* payload, std::uint32_t length) noexcept {
#if defined(__x86_64__)
  if (kHaveHardware) {
    const RecordCrcInput r{type, flags, length, timestamp_ns, payload};
    return ~HardwareChain(HardwareMeta(r), static_cast<const unsigned char*>(payload), length);
  }
#endif
  unsigned char meta[16];
  const std::uint64_t word = MetaWord(type, flags, length);
  std::memcpy(meta, &word, 8);
  std::memcpy(meta + 8, &timestamp_ns, 8);
  return Crc32c(Crc32c(0, meta, sizeof meta), payload, length);
}

void RecordCrcs(const RecordCrcInput* in, std::size_t n, std::uint32_t* out) noexcept {
  std::size_t i = 0;
#if defined(__x86_64__)
  if (kHaveHardware) {
    for (; i + 4 <= n; i += 4) HardwareRecords4(in + i, out + i);
  }
#endif
  for (; i < n; ++i)
    out[i] = RecordCrc(in[i].type, in[i].flags, in[i].timestamp_ns, in[i].payload, in[i].length);
}

bool Crc32cIsHardware() noexcept { return kHaveHardware; }

}  // namespace kappa::memlog
