#include "tools/cli/stop_signals.h"

#include <signal.h>

#include <algorithm>
#include <csignal>
#include <thread>

namespace kappa::tools {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int /*signal*/) { g_stop_requested = 1; }

void SetAction(int signal, void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(signal, &action, nullptr);
}

}  // namespace

void StopSignals::Install() {
  SetAction(SIGINT, OnStopSignal);
  SetAction(SIGTERM, OnStopSignal);
}

bool StopSignals::requested() { return g_stop_requested != 0; }

bool StopSignals::SleepUnlessStopped(std::chrono::milliseconds duration) {
  constexpr std::chrono::milliseconds kCheck{50};
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!requested()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kCheck));
  }
  return false;
}

void StopSignals::ResetInChild() {
  SetAction(SIGINT, SIG_DFL);
  SetAction(SIGTERM, SIG_DFL);
}

}  // namespace kappa::tools
