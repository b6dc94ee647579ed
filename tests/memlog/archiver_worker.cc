// The archiver process the archive crash test kills: opens the log and archives it until it is
// killed (exit 2 if it cannot start).
#include <cstdio>

#include "memlog/archiver.h"
#include "memlog/log.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: memlog_archiver_worker LOG\n");
    return 2;
  }
  auto log = kappa::memlog::Log::Open(argv[1]);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().message().c_str());
    return 2;
  }
  auto archiver = kappa::memlog::Archiver::Open(log->get());
  if (!archiver.ok()) {
    std::fprintf(stderr, "%s\n", archiver.status().message().c_str());
    return 2;
  }
  std::atomic<bool> stop{false};
  const kappa::memlog::Status s = (*archiver)->Run(stop);
  std::fprintf(stderr, "%s\n", s.message().c_str());
  return 1;
}
