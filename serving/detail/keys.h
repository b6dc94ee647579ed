// Keys as stored in slots, and their hashes. Header-only.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include "serving/detail/hash.h"
#include "serving/format.h"

namespace kappa::serving::detail {

// A key as a slot stores it: zero-padded words, and its length in bytes.
struct KeyRef {
  std::uint64_t words[kMaxKeyBytes / 8] = {};
  std::uint32_t len = 0;
};

inline KeyRef U64Key(std::uint64_t key) {
  KeyRef k;
  k.words[0] = key;
  k.len = 8;
  return k;
}
// False if `bytes` is longer than `max_len`.
inline bool BytesKey(std::string_view bytes, std::uint32_t max_len, KeyRef* out) {
  if (bytes.size() > max_len || bytes.size() > kMaxKeyBytes) return false;
  *out = KeyRef{};
  std::memcpy(out->words, bytes.data(), bytes.size());
  out->len = static_cast<std::uint32_t>(bytes.size());
  return true;
}

// The window start a windowed key's directory is stored under; not a valid window start.
inline constexpr std::int64_t kDirectoryWindow = std::numeric_limits<std::int64_t>::min();

inline std::uint64_t KeyHash(const KeyRef& k, KeyType type, std::uint64_t seed) {
  return type == KeyType::kU64 ? HashU64(k.words[0], seed) : HashBytes(k.words, k.len, seed);
}
inline std::uint64_t WindowKeyHash(const KeyRef& k, KeyType type, std::int64_t window_start,
                                   std::uint64_t seed) {
  return Mix(KeyHash(k, type, seed) ^ static_cast<std::uint64_t>(window_start), kHashK2);
}

// The shard of a sharded view that holds key k: a hash of the key alone (a windowed key's
// windows share its shard), fixed for every process and version.
inline constexpr std::uint64_t kShardSeed = 0x73686172642d6b79ULL;
// splitmix64's finalizer: spreads sequential keys evenly over the high bits too.
inline std::uint64_t Avalanche(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline std::uint32_t ShardOf(const KeyRef& k, KeyType type, std::uint32_t shard_count) {
  if (shard_count <= 1) return 0;
  return static_cast<std::uint32_t>(Avalanche(KeyHash(k, type, kShardSeed)) >> 40) &
         (shard_count - 1);
}

inline bool SameKey(const KeyRef& a, const std::uint64_t* slot_words, std::uint32_t slot_len,
                    std::uint32_t key_words) {
  if (a.len != slot_len) return false;
  for (std::uint32_t i = 0; i < key_words; ++i) {
    if (a.words[i] != slot_words[i]) return false;
  }
  return true;
}

}  // namespace kappa::serving::detail
