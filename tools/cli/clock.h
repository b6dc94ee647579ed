// The clocks the kappa tool reads: a monotonic one for durations and rates (CLOCK_MONOTONIC,
// the same in every process of the machine), and the wall clock for times shown to people and
// event times.
#pragma once

#include <chrono>
#include <cstdint>

namespace kappa::tools {

inline std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t UnixNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kappa::tools
