// The seeded 64-bit hash of view keys and header checksums (wyhash's mixing): the same in every
// process, as serving/FORMAT.md specifies.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kappa::serving::detail {

__extension__ typedef unsigned __int128 Uint128;
inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
inline constexpr std::uint64_t kHashK0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kHashK1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kHashK2 = 0x8ebc6af09c88c6e3ULL;

inline std::uint64_t HashU64(std::uint64_t key, std::uint64_t seed) {
  return Mix(key ^ seed ^ kHashK0, kHashK1 ^ seed);
}
inline std::uint64_t HashBytes(const void* data, std::size_t n, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed ^ Mix(n ^ kHashK2, kHashK1);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = Mix(h ^ w ^ kHashK0, kHashK1);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = Mix(h ^ w ^ kHashK2, kHashK1);
  }
  return Mix(h, kHashK0);
}
// Checksum of immutable headers.
inline std::uint64_t Hash64(const void* data, std::size_t n) {
  return HashBytes(data, n, 0x6b617070u);
}

}  // namespace kappa::serving::detail
