// The engine process the crash test kills: runs the two test pipelines over a log, with
// checkpoints, until everything in the log is applied; then stops cleanly (exit 0).
//   engine_crash_worker LOG NAMESPACE CHECKPOINT_DIR INTERVAL_MS
#include <cstdio>
#include <cstdlib>

#include "engine/engine.h"
#include "memlog/log.h"
#include "tests/engine/clicks.h"

int main(int argc, char** argv) {
  using namespace kappa::engine;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s LOG NAMESPACE CHECKPOINT_DIR INTERVAL_MS\n", argv[0]);
    return 2;
  }
  EngineOptions o;
  o.threads = 2;
  o.partitions = 2;
  o.view_namespace = argv[2];
  o.checkpoint_dir = argv[3];
  o.checkpoint_interval = std::chrono::milliseconds(std::atoi(argv[4]));
  o.batch_records = 512;
  auto engine = Engine::Create(o);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().message().c_str());
    return 1;
  }
  auto users = (*engine)->Start(testing::ClicksPerUser(argv[1]));
  auto pages = (*engine)->Start(testing::AmountPerPage(argv[1]));
  if (!users.ok() || !pages.ok()) {
    std::fprintf(stderr, "%s\n", (users.ok() ? pages.status() : users.status()).message().c_str());
    return 1;
  }
  for (auto* job : {&*users, &*pages}) {
    if (!(*job)->WaitCaughtUp(std::chrono::minutes(2))) {
      std::fprintf(stderr, "%s did not catch up: %s\n", (*job)->name().c_str(),
                   (*job)->status().message().c_str());
      return 1;
    }
    (*job)->Stop();
    if (!(*job)->status().ok()) {
      std::fprintf(stderr, "%s\n", (*job)->status().message().c_str());
      return 1;
    }
  }
  return 0;
}
