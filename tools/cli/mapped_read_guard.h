// MappedReadGuard: lets kappa's long-running readers (`kappa view watch`, `kappa log tail`)
// survive a file truncated under them. Reading a mapped page past a file's new end raises
// SIGBUS, which ends a process; inside Run(), the guard catches it (through a handler the first
// Run installs for the process) and Run returns false, so that the command can say what
// happened and stop. Only the thread inside Run() is covered: a SIGBUS anywhere else, or one
// that is not about a mapping's missing page, ends the process as before.
//
// What Run interrupts is abandoned mid-way (the stack is left without running destructors):
// use it around reads of mappings that take no lock, and stop using the reader afterwards.
//
// Thread safety: any thread; each thread's Run is its own.
#pragma once

#include <csetjmp>
#include <utility>

namespace kappa::tools {

class MappedReadGuard {
 public:
  // Runs fn(); false if it touched a page of a mapping past its file's end.
  // An exception from fn() passes through (the guard is lifted first).
  template <class Fn>
  static bool Run(Fn&& fn) {
    Install();
    sigjmp_buf here;
    const Restore restore{Current()};  // on return, a jump and an exception alike
    if (sigsetjmp(here, 1) != 0) return false;
    SetCurrent(&here);
    std::forward<Fn>(fn)();
    return true;
  }

 private:
  struct Restore {
    sigjmp_buf* outer;
    ~Restore() { SetCurrent(outer); }
  };
  static void Install();
  static sigjmp_buf* Current();
  static void SetCurrent(sigjmp_buf* jump);
};

}  // namespace kappa::tools
