// HyperLogLog (Flajolet et al. 2007) with 2^P one-byte registers, the bias-free estimator's
// small-range correction (linear counting below 2.5 m) and no large-range correction (64-bit
// hashes do not saturate). Standard error 1.04 / sqrt(2^P).
//
// A plain fixed-size struct: trivially copyable, so it can live in flat state tables and be
// checkpointed as bytes.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace kappa::operators {

template <int P>
struct HyperLogLog {
  static_assert(P >= 4 && P <= 16, "precision from 4 to 16 bits");
  static constexpr std::uint32_t kRegisters = 1u << P;

  std::uint8_t registers[kRegisters] = {};

  // Adds an element by its 64-bit hash (use a good hash: HashValue).
  void Add(std::uint64_t hash) {
    const auto index = static_cast<std::uint32_t>(hash >> (64 - P));
    const std::uint64_t rest = hash << P;
    // Position of the first 1 bit in the remaining 64 - P bits (64 - P + 1 if none).
    const auto rank =
        static_cast<std::uint8_t>(rest == 0 ? 64 - P + 1 : std::countl_zero(rest) + 1);
    if (rank > registers[index]) registers[index] = rank;
  }

  void Merge(const HyperLogLog& other) {
    for (std::uint32_t i = 0; i < kRegisters; ++i)
      if (other.registers[i] > registers[i]) registers[i] = other.registers[i];
  }

  double Estimate() const {
    constexpr double m = kRegisters;
    const double alpha = P == 4   ? 0.673
                         : P == 5 ? 0.697
                         : P == 6 ? 0.709
                                  : 0.7213 / (1.0 + 1.079 / m);
    double sum = 0;
    std::uint32_t zeros = 0;
    for (std::uint32_t i = 0; i < kRegisters; ++i) {
      sum += std::ldexp(1.0, -registers[i]);
      zeros += registers[i] == 0;
    }
    const double raw = alpha * m * m / sum;
    if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / zeros);  // linear counting
    return raw;
  }

  // The standard error of Estimate().
  static double RelativeError() { return 1.04 / std::sqrt(static_cast<double>(kRegisters)); }
};

}  // namespace kappa::operators
