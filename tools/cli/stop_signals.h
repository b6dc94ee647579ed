// StopSignals: turns SIGINT and SIGTERM into a flag that long-running commands poll, so that
// they can stop cleanly (commit a cursor, reap child processes, remove temporary files).
//
// Thread safety: Install() and ResetInChild() are for the main thread; requested() may be
// called from anywhere.
#pragma once

#include <chrono>

namespace kappa::tools {

class StopSignals {
 public:
  // Installs the handlers (without SA_RESTART, so blocking calls return EINTR).
  static void Install();
  // True once SIGINT or SIGTERM has arrived.
  static bool requested();
  // In a forked child: restores the default actions, so the child dies on these signals.
  static void ResetInChild();
  // Sleeps for `duration`, or until a stop signal arrives (checking every 50 ms). False if one
  // did.
  static bool SleepUnlessStopped(std::chrono::milliseconds duration);
};

}  // namespace kappa::tools
