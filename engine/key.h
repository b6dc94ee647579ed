// Keys: what KeyBy returns, the unit of partitioning, state and views.
//
// A key is an integer, or a composite of integers and char arrays: a trivially copyable struct
// without padding bytes, of at most 32 bytes, compared and hashed by its bytes (so a char
// array's unused bytes must be zeros, as records' strings are):
//
//   struct AuctionDay {
//     std::int64_t auction;
//     std::int64_t day;
//   };
//   bids.KeyBy([](const Bid& b) { return AuctionDay{b.auction, b.date_time / kDay}; })
//
// Views keep an integer key as a u64 key and a composite one as a bytes key of sizeof(K) bytes
// (its object bytes, in the machine's byte order): readers find a composite key by those bytes
// (serving::ViewReader::Get(std::string_view)), and scans show them as escaped text, so a
// result that readers should see by field carries the key's fields in its value too.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "serving/format.h"
#include "serving/shard.h"

namespace kappa::engine {

template <class K>
concept IntegerKey = std::is_integral_v<K>;

template <class K>
concept CompositeKey =
    !std::is_integral_v<K> && std::is_trivially_copyable_v<K> &&
    std::has_unique_object_representations_v<K> && sizeof(K) <= serving::kMaxKeyBytes;

template <class K>
concept Key = IntegerKey<K> || CompositeKey<K>;

namespace detail {

// Refuses a key type with the reason.
template <class K>
constexpr void CheckKey() {
  static_assert(IntegerKey<K> || (std::is_trivially_copyable_v<K> &&
                                  std::has_unique_object_representations_v<K>),
                "a key is an integer or a struct of integers without padding (engine/key.h)");
  static_assert(IntegerKey<K> || sizeof(K) <= serving::kMaxKeyBytes,
                "a composite key has at most 32 bytes (engine/key.h)");
}

// The key as a view stores it: a u64, or the composite's bytes.
template <Key K>
auto ViewKeyOf(const K& k) {
  if constexpr (IntegerKey<K>) {
    return static_cast<std::uint64_t>(k);
  } else {
    return std::string_view(reinterpret_cast<const char*>(&k), sizeof k);
  }
}

// The bytes of a view's composite keys; 0 for a u64 key.
template <Key K>
inline constexpr std::uint32_t kViewKeyBytes = IntegerKey<K> ? 0 : sizeof(K);

// The view shard (and so the partition) of a key among `count`.
template <Key K>
std::uint32_t ShardOfKey(const K& k, std::uint32_t count) {
  return count <= 1 ? 0 : serving::ShardOf(ViewKeyOf(k), count);
}

}  // namespace detail
}  // namespace kappa::engine
