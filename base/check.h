// KAPPA_DCHECK(condition, message): a function's REQUIRES: condition, checked in debug builds
// and in sanitizer builds (where KAPPA_DCHECKS is defined), free in release builds. A failed
// check is a programmer error: it prints the condition, the message and the place, and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace kappa::base {

[[noreturn]] inline void DcheckFailed(const char* condition, const char* message, const char* file,
                                      int line) {
  std::fprintf(stderr, "kappa: %s:%d: check failed: %s: %s\n", file, line, condition, message);
  std::abort();
}

}  // namespace kappa::base

#if defined(KAPPA_DCHECKS) || !defined(NDEBUG)
#define KAPPA_DCHECK(condition, message) \
  ((condition) ? static_cast<void>(0)    \
               : ::kappa::base::DcheckFailed(#condition, message, __FILE__, __LINE__))
#else
#define KAPPA_DCHECK(condition, message) static_cast<void>(0)
#endif
