#include "tools/stop_signals.h"

#include <signal.h>

#include <csignal>

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

void StopSignals::ResetInChild() {
  SetAction(SIGINT, SIG_DFL);
  SetAction(SIGTERM, SIG_DFL);
}

}  // namespace kappa::tools
