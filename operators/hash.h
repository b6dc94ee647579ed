// A fixed 64-bit hash for values (the same in every process and run).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace kappa::operators {

inline std::uint64_t Mix64(std::uint64_t a, std::uint64_t b) {
  __extension__ typedef unsigned __int128 U128;
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

// splitmix64's finalizer: a bijection whose every output bit depends on every input bit, so
// sequential inputs spread evenly in high and low bits alike.
inline std::uint64_t Avalanche(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline std::uint64_t HashValue(std::uint64_t v) { return Avalanche(v + 0x9e3779b97f4a7c15ULL); }
inline std::uint64_t HashValue(std::int64_t v) { return HashValue(static_cast<std::uint64_t>(v)); }
inline std::uint64_t HashValue(std::int32_t v) {
  return HashValue(static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));
}
inline std::uint64_t HashValue(std::uint32_t v) { return HashValue(static_cast<std::uint64_t>(v)); }
inline std::uint64_t HashValue(double v) {
  if (v == 0) v = 0;  // -0.0 and 0.0 are one value
  return HashValue(std::bit_cast<std::uint64_t>(v));
}
inline std::uint64_t HashValue(std::string_view s) {
  std::uint64_t h = Mix64(s.size() ^ 0x8ebc6af09c88c6e3ULL, 0xe7037ed1a0b428dbULL);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = Mix64(h ^ w ^ 0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL);
  }
  if (i < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = Mix64(h ^ w ^ 0x8ebc6af09c88c6e3ULL, 0xe7037ed1a0b428dbULL);
  }
  return Avalanche(h);
}

}  // namespace kappa::operators
