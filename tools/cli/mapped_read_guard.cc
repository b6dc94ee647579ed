#include "tools/cli/mapped_read_guard.h"

#include <signal.h>

#include <mutex>

namespace kappa::tools {
namespace {

thread_local sigjmp_buf* t_jump = nullptr;

void OnSigbus(int sig, siginfo_t* info, void*) {
  if (t_jump != nullptr && info != nullptr && info->si_code == BUS_ADRERR) siglongjmp(*t_jump, 1);
  // Not ours: what SIGBUS always does.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void MappedReadGuard::Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
}

sigjmp_buf* MappedReadGuard::Current() { return t_jump; }
void MappedReadGuard::SetCurrent(sigjmp_buf* jump) { t_jump = jump; }

}  // namespace kappa::tools
