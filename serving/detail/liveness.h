// Whether a view's writer process still runs (its pid and its start time, so that a reused pid
// does not count).
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <errno.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kappa::serving::detail {

// The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or 0 if
// it cannot be read.
inline std::uint64_t ProcessStartTicks(std::uint64_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%llu/stat", static_cast<unsigned long long>(pid));
  std::FILE* f = std::fopen(path, "re");
  if (!f) return 0;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  int field = 2;
  for (++p; *p && field < 22; ++p) {
    if (*p == ' ') ++field;
  }
  return field == 22 ? std::strtoull(p, nullptr, 10) : 0;
}

// True if the process `pid` that started at `start_ticks` (0: unknown) still runs.
inline bool ProcessAlive(std::uint64_t pid, std::uint64_t start_ticks) {
  if (pid == 0 || pid > 0x7fffffff) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  if (start_ticks == 0) return true;
  const std::uint64_t now_ticks = ProcessStartTicks(pid);
  return now_ticks == 0 || now_ticks == start_ticks;  // a different start: the pid was reused
}

}  // namespace kappa::serving::detail
