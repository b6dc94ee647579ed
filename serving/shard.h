// Sharded views: which shard holds a key.
//
// A keyed or windowed view version may be split into 1 to 64 shards (a power of two), each a
// file with its own writer, so that every partition of a pipeline writes its own shard without
// sharing anything. Readers route each key to its shard by the rule below; writers refuse keys
// that are not theirs. Partition keys by ShardOf and give partition i the writer of shard i.
//
// Header-only.
#pragma once

#include <cstdint>
#include <string_view>

#include "serving/detail/hash.h"
#include "serving/detail/keys.h"

namespace kappa::serving {

// The shard of a u64 key in a view of `shard_count` shards (0 when there is one).
inline std::uint32_t ShardOf(std::uint64_t key, std::uint32_t shard_count) {
  return detail::ShardOf(detail::U64Key(key), KeyType::kU64, shard_count);
}
// The shard of a bytes key.
inline std::uint32_t ShardOf(std::string_view key, std::uint32_t shard_count) {
  if (shard_count <= 1) return 0;
  return static_cast<std::uint32_t>(
             detail::Avalanche(detail::HashBytes(key.data(), key.size(), detail::kShardSeed)) >>
             40) &
         (shard_count - 1);
}

}  // namespace kappa::serving
