// CRC32C (Castagnoli), with the SSE4.2 instruction where the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kappa::memlog {

// Extends `crc` (0 to start) over `n` bytes at `data`.
std::uint32_t Crc32c(std::uint32_t crc, const void* data, std::size_t n) noexcept;

// The checksum stored in a record frame: CRC32C of (type, flags, payload length, timestamp)
// followed by the payload.
std::uint32_t RecordCrc(std::uint16_t type, std::uint16_t flags, std::int64_t timestamp_ns,
                        const void* payload, std::uint32_t length) noexcept;

// RecordCrc of several records at once: out[i] = RecordCrc(in[i]...). With the hardware
// instruction, up to four records' checksums run as independent chains, which hides the
// instruction's latency (a lone chain runs at a third of its throughput).
struct RecordCrcInput {
  std::uint16_t type;
  std::uint16_t flags;
  std::uint32_t length;
  std::int64_t timestamp_ns;
  const void* payload;
};
void RecordCrcs(const RecordCrcInput* in, std::size_t n, std::uint32_t* out) noexcept;

// True when Crc32c uses the hardware instruction.
bool Crc32cIsHardware() noexcept;

}  // namespace kappa::memlog
