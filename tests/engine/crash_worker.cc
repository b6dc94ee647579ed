// The engine process the crash test kills: runs the test pipelines over a log, with
// checkpoints, until everything in the log is applied; then stops cleanly (exit 0). Once its jobs
// have started it prints, for each, "NAME restored" or "NAME new", then "started".
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
  auto busiest = (*engine)->Start(testing::BusiestPage(argv[1]));
  for (const auto* job : {&users, &pages, &busiest}) {
    if (!job->ok()) {
      std::fprintf(stderr, "%s\n", job->status().message().c_str());
      return 1;
    }
  }
  // The test kills the process only from here on (startup is not what it tests); it also wants
  // to know which jobs resumed from a checkpoint.
  for (const auto* job : {&*users, &*pages, &*busiest})
    std::printf("%s %s\n", (*job)->name().c_str(), (*job)->restored() ? "restored" : "new");
  std::printf("started\n");
  std::fflush(stdout);
  for (auto* job : {&*users, &*pages, &*busiest}) {
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
