// The records kappa exchanges with Kafka, and their encodings (memlog/FORMAT.md, "Reserved record
// types", documents both):
//
// - OriginHeader: the `kappa` header of every Kafka record a mirror publishes, 35 bytes:
//     version u8 (1), type u16, kappa offset u64, timestamp ns i64, origin log identity 16 bytes
//   all little-endian. An ingester uses it to restore the record's type and timestamp and to drop
//   what it has already taken from that origin.
// - IngestPosition: the payload of a record of type memlog::kKafkaPositionType, which an ingester
//   appends in the same batch as the records it consumed: the topic, and per partition the next
//   Kafka offset to consume and, per origin log, the kappa offset below which it has taken
//   everything.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kappa::kafka {

using base::Result;
using base::Status;
using base::StatusCode;

// A log's identity (memlog::Log::identity(): 32 hex digits) as 16 bytes.
using OriginId = std::array<std::byte, 16>;
// nullopt unless `hex` is 32 hex digits.
std::optional<OriginId> ParseOriginId(std::string_view hex);
std::string OriginIdHex(const OriginId& id);

inline constexpr char kOriginHeaderName[] = "kappa";

struct OriginHeader {
  static constexpr std::uint8_t kVersion = 1;
  static constexpr std::size_t kSize = 35;

  std::uint16_t type = 0;
  std::uint64_t offset = 0;  // the record's offset in its origin log
  std::int64_t timestamp_ns = 0;
  OriginId origin{};

  std::array<std::byte, kSize> Encode() const;
  // nullopt unless `bytes` is a version-1 header of kSize bytes.
  static std::optional<OriginHeader> Decode(std::span<const std::byte> bytes);
};

// What an ingester has taken from one origin log through one partition: every record of that
// origin with a kappa offset below `next_offset`.
struct OriginProgress {
  OriginId origin{};
  std::uint64_t next_offset = 0;
};

struct PartitionPosition {
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;  // the next Kafka offset to consume
  std::vector<OriginProgress> origins;
};

struct IngestPosition {
  static constexpr std::uint8_t kVersion = 1;

  std::string topic;  // 1 to 249 characters, as Kafka allows
  std::vector<PartitionPosition> partitions;

  std::vector<std::byte> Encode() const;
  // Parses Encode()'s bytes; an error names what is wrong.
  static Result<IngestPosition> Decode(std::span<const std::byte> bytes);
};

}  // namespace kappa::kafka
