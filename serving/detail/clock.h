// The clocks views stamp: wall time for readers in other processes, monotonic for intervals.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <cstdint>
#include <ctime>

namespace kappa::serving::detail {

inline std::int64_t UnixNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
inline std::int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace kappa::serving::detail
