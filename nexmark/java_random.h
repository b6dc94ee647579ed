// JavaRandom: java.util.Random as its Javadoc specifies it (a 48-bit linear congruential
// generator), so that kappa draws the same numbers as the nexmark project's generator, which
// seeds one per event.
//
//   JavaRandom r(event_id);
//   const std::int32_t kind = r.NextInt(13);   // Random.nextInt(13)
//
// Thread safety: none (each event has its own).
#pragma once

#include <cstdint>

namespace kappa::nexmark {

class JavaRandom {
 public:
  explicit JavaRandom(std::int64_t seed)
      : state_((static_cast<std::uint64_t>(seed) ^ kMultiplier) & kMask) {}

  // next(bits): the top `bits` bits of the new state, as a signed 32-bit integer.
  std::int32_t Next(int bits) {
    state_ = (state_ * kMultiplier + kAddend) & kMask;
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(state_ >> (48 - bits)));
  }
  // nextInt(): any 32-bit integer.
  std::int32_t NextInt() { return Next(32); }
  // nextInt(bound): uniform in [0, bound). REQUIRES: 0 < bound.
  std::int32_t NextInt(std::int32_t bound) {
    if ((bound & -bound) == bound)  // a power of two
      return static_cast<std::int32_t>((static_cast<std::int64_t>(bound) * Next(31)) >> 31);
    std::int32_t bits, value;
    do {
      bits = Next(31);
      value = bits % bound;
      // Java's int arithmetic: bits - value + (bound - 1) overflowing means a biased draw.
    } while (static_cast<std::int64_t>(bits) - value + (bound - 1) > INT32_MAX);
    return value;
  }
  // nextDouble(): uniform in [0, 1) with 53 random bits.
  double NextDouble() {
    const std::int64_t high = Next(26);
    const std::int64_t low = Next(27);
    return static_cast<double>((high << 27) + low) * 0x1.0p-53;
  }

 private:
  static constexpr std::uint64_t kMultiplier = 0x5DEECE66DULL;
  static constexpr std::uint64_t kAddend = 0xBULL;
  static constexpr std::uint64_t kMask = (std::uint64_t{1} << 48) - 1;
  std::uint64_t state_;
};

}  // namespace kappa::nexmark
