// Pipelines on generated streams: their views compared with a reference computed here.
#include "engine/engine.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <thread>
#include <tuple>

#include "engine/checkpoint.h"
#include "engine/metrics.h"
#include "memlog/archiver.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "serving/view_reader.h"
#include "tests/engine/test_util.h"
#include "tests/serving/test_util.h"
#include "tests/temp_dir.h"

namespace kappa::engine::testing {

// The result of a user-defined aggregate: a registered record, so views hold its fields.
struct AmountRange {
  std::int64_t low;
  std::int64_t high;
  std::int64_t clicks;
};

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::AmountRange, 10, low, high, clicks);

namespace kappa::engine::testing {
// A record of many fields, registered by name.
struct Wide {
  std::int64_t f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18,
      f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29;
  double ratio;
  char label[16];
};
}  // namespace kappa::engine::testing

KAPPA_NAMED_RECORD(kappa::engine::testing::Wide, "wide", 12, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9,
                   f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23, f24, f25,
                   f26, f27, f28, f29, ratio, label);

namespace kappa::engine {
namespace {

using serving::testing::TempNamespace;
using testing::Click;
using testing::MakeClicks;
using testing::MakeEngine;
using testing::RemoveLog;
using testing::TempLog;

TEST(EngineTest, ShouldCountPerKeyIntoAShardedViewLikeAReference) {
  for (int partitions : {1, 2, 4}) {
    TempLog log;
    TempNamespace ns;
    const auto clicks = MakeClicks(50000, 1, 0);
    std::map<std::int64_t, std::pair<std::int64_t, std::uint64_t>>
        ref;  // user -> (count of big clicks, last offset)
    for (const Click& c : clicks) log.Append(c, c.time);
    // Also records of another type, which the job must skip.
    log.AppendRaw("not a click", 99);
    std::uint64_t offset = 0;
    {
      auto reader = std::move(log.log().NewReader(memlog::StartAt::Earliest())).value();
      memlog::RecordBatch batch;
      while (reader->Poll(&batch) == memlog::PollStatus::kOk) {
        for (const memlog::Record& r : batch) {
          if (r.type != 7) continue;
          Click c;
          std::memcpy(&c, r.payload.data(), sizeof c);
          if (c.amount < 100) continue;
          auto& e = ref[c.user % 97];
          ++e.first;
          e.second = r.offset;
          offset = r.offset;
        }
      }
    }
    auto engine = MakeEngine(ns, partitions);
    Job job =
        From<Click>("big_clicks", log.path())
            .Filter([](const Click& c) { return c.amount >= 100; })
            .Map([](const Click& c) {
              return Click{c.user % 97, c.page, c.amount, c.time};
            })
            .KeyBy([](const Click& c) { return c.user; })
            .Aggregate(operators::Count<Click>{})
            .ToView("big_clicks", ViewSinkOptions{.key_name = "user", .value_name = "clicks"});
    auto running = std::move(engine->Start(job)).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60))) << running->status().message();
    const JobStats stats = running->Stats();
    EXPECT_EQ(stats.records_in, clicks.size());
    EXPECT_EQ(stats.lag_bytes(), 0u);
    running->Stop();

    auto reader = std::move(serving::ViewReader::Open(ns.path(), "big_clicks")).value();
    EXPECT_EQ(reader->shard_count(), static_cast<std::uint32_t>(partitions));
    EXPECT_EQ(reader->schema().field(0).name, "clicks");
    std::size_t rows = 0;
    ASSERT_EQ(reader->Scan([&](const serving::RowView& row) {
      ++rows;
      std::int64_t n;
      std::memcpy(&n, row.value.data(), 8);
      const auto& e = ref.at(static_cast<std::int64_t>(row.key_u64));
      EXPECT_EQ(n, e.first) << "user " << row.key_u64;
      EXPECT_EQ(row.offset, e.second) << "user " << row.key_u64;
      return true;
    }),
              serving::ReadStatus::kOk);
    EXPECT_EQ(rows, ref.size());
    EXPECT_EQ(reader->applied_offset(), log.log().latest_offset());
    (void)offset;
  }
}

// Windowed sums under disorder: the view equals a reference that applies the same watermark
// rule, whatever the batch size and partitioning.
TEST(EngineTest, ShouldSumPerHoppingWindowLikeAReference) {
  const auto clicks = MakeClicks(40000, 2, 30000);
  constexpr std::int64_t kSize = 20000, kSlide = 5000, kBound = 2000;
  // Reference: per-record watermark = max time so far - bound; a window takes a record while its
  // end is past that watermark.
  std::map<std::tuple<std::int64_t, std::int64_t>, std::int64_t> ref;  // (page, start) -> sum
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  std::uint64_t late = 0;
  for (const Click& c : clicks) {
    const std::int64_t wm =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - kBound;
    bool any = false;
    operators::HoppingWindows(kSize, kSlide).Assign(c.time, [&](const operators::Window& w) {
      if (w.end <= wm) return;
      ref[{c.page, w.start}] += c.amount;
      any = true;
    });
    late += any ? 0 : 1;
    max_time = std::max(max_time, c.time);
  }
  for (auto [partitions, batch] : {std::pair{1, 4096}, std::pair{2, 64}, std::pair{4, 1000}}) {
    TempLog log;
    TempNamespace ns;
    for (const Click& c : clicks) log.Append(c, c.time);
    auto engine = MakeEngine(ns, partitions, Mode::kThroughput, static_cast<std::size_t>(batch));
    Job job = From<Click>("page_amounts", log.path())
                  .EventTime([](const Click& c) { return c.time; }, kBound)
                  .KeyBy([](const Click& c) { return c.page; })
                  .Window(operators::HoppingWindows(kSize, kSlide))
                  .Aggregate(operators::MakeSum<Click>([](const Click& c) { return c.amount; }))
                  .ToView("page_amounts",
                          ViewSinkOptions{
                              .key_name = "page", .value_name = "amount", .windows_per_key = 64});
    auto running = std::move(engine->Start(job)).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    running->FlushWindows();  // the end of the input: every window fires
    const JobStats stats = running->Stats();
    EXPECT_EQ(stats.late, late) << partitions << " partitions, batches of " << batch;
    EXPECT_GT(stats.late, 0u);

    auto reader = std::move(serving::ViewReader::Open(ns.path(), "page_amounts")).value();
    std::map<std::tuple<std::int64_t, std::int64_t>, std::int64_t> got;
    ASSERT_EQ(reader->Scan([&](const serving::RowView& row) {
      std::int64_t v;
      std::memcpy(&v, row.value.data(), 8);
      got[{static_cast<std::int64_t>(row.key_u64), row.window_start}] = v;
      return true;
    }),
              serving::ReadStatus::kOk);
    // The view keeps the last 64 windows per page: compare those.
    std::map<std::tuple<std::int64_t, std::int64_t>, std::int64_t> kept;
    std::map<std::int64_t, int> per_page;
    for (auto it = ref.rbegin(); it != ref.rend(); ++it) {
      if (per_page[std::get<0>(it->first)]++ < 64) kept.insert(*it);
    }
    EXPECT_EQ(got, kept) << partitions << " partitions, batches of " << batch;
  }
}

TEST(EngineTest, ShouldAppendAStatelessStreamToAListAndFollowALiveLog) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2, Mode::kLowLatency);
  Job job = From<Click>("rich", log.path(), SourceOptions{memlog::StartAt::Earliest()})
                .Filter([](const Click& c) { return c.amount > 900; })
                .ToList("rich_clicks", 1 << 12);
  auto running = std::move(engine->Start(job)).value();
  // Appended while the job runs.
  const auto clicks = MakeClicks(5000, 3, 0);
  std::vector<std::int64_t> expected;
  for (const Click& c : clicks) {
    log.Append(c, c.time);
    if (c.amount > 900) expected.push_back(c.amount);
  }
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "rich_clicks")).value();
  std::vector<std::int64_t> got;
  std::uint64_t next = 0;
  ASSERT_EQ(reader->ListRows(
                0, 1 << 20,
                [&](const serving::RowView& row) {
                  Click c;
                  std::memcpy(&c, row.value.data(), sizeof c);
                  got.push_back(c.amount);
                  return true;
                },
                &next),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got, expected);  // in log order
  EXPECT_EQ(reader->schema().field(2).name, "amount");
}

// Two stages chained through a derived log: the first filters and rewrites, the second counts.
TEST(EngineTest, ShouldChainTwoPipelinesThroughADerivedLog) {
  TempLog log;
  TempNamespace ns;
  const std::string derived = log.path() + ".derived";
  RemoveLog(derived);
  const auto clicks = MakeClicks(20000, 4, 0);
  std::map<std::int64_t, std::int64_t> ref;
  for (const Click& c : clicks) {
    log.Append(c, c.time);
    if (c.page < 10) ++ref[c.page];
  }
  auto engine = MakeEngine(ns, 2);
  auto first = std::move(engine->Start(From<Click>("stage1", log.path())
                                           .Filter([](const Click& c) { return c.page < 10; })
                                           .ToLog(derived)))
                   .value();
  auto second =
      std::move(engine->Start(From<Click>("stage2", derived, SourceOptions{.cursor = "stage2"})
                                  .KeyBy([](const Click& c) { return c.page; })
                                  .Aggregate(operators::Count<Click>{})
                                  .ToView("pages")))
          .value();
  ASSERT_TRUE(first->WaitCaughtUp(std::chrono::seconds(60)));
  ASSERT_TRUE(second->WaitCaughtUp(std::chrono::seconds(60)));
  EXPECT_EQ(second->Stats().records_in, first->Stats().results);
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "pages")).value();
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (const auto& [page, n] : ref) {
    ASSERT_EQ(reader->Get(static_cast<std::uint64_t>(page), v, &offset), serving::ReadStatus::kOk);
    std::int64_t got;
    std::memcpy(&got, v.data(), 8);
    EXPECT_EQ(got, n) << page;
  }
  first->Stop();
  second->Stop();
  RemoveLog(derived);
}

// A named cursor: a job records what it applied, and the next job on that cursor resumes there.
TEST(EngineTest, ShouldResumeFromItsCursor) {
  TempLog log;
  TempNamespace ns;
  for (const Click& c : MakeClicks(1000, 5, 0)) log.Append(c, c.time);
  auto job = [&](const char* view) {
    return From<Click>("resumable", log.path(), SourceOptions{.cursor = "counter"})
        .KeyBy([](const Click& c) { return c.page; })
        .Aggregate(operators::Count<Click>{})
        .ToView(view);
  };
  auto engine = MakeEngine(ns, 2);
  {
    auto running = std::move(engine->Start(job("first"))).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    EXPECT_EQ(running->Stats().records_in, 1000u);
  }
  const memlog::LogInfo info = log.log().Info();
  ASSERT_EQ(info.cursors.size(), 1u);
  EXPECT_EQ(info.cursors[0].position, log.log().latest_offset());
  for (const Click& c : MakeClicks(300, 6, 0)) log.Append(c, c.time);
  auto running = std::move(engine->Start(job("second"))).value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().records_in, 300u);
}

TEST(EngineTest, ShouldRefuseAMissingLogAnExistingViewAndBadOptions) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2);
  auto job = [&](std::string log_path) {
    return From<Click>("j", std::move(log_path))
        .KeyBy([](const Click& c) { return c.user; })
        .Aggregate(operators::Count<Click>{})
        .ToView("counts");
  };
  auto missing = engine->Start(job("/dev/shm/kappa-test-no-such-log"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("kappa-test-no-such-log"), std::string::npos)
      << missing.status().message();
  auto first = engine->Start(job(log.path()));
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto again = engine->Start(job(log.path()));  // view version 1 exists
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().message();
  EngineOptions bad;
  bad.partitions = 3;
  bad.view_namespace = ns.path();
  EXPECT_FALSE(Engine::Create(bad).ok());
}

std::int64_t ProcessCpuNs() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000'000LL +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

// An idle job sleeps until a producer commits: a second of idling costs a small part of a core
// (it used the whole of one), and a record appended then is applied at once.
TEST(EngineTest, ShouldCostAlmostNoCpuWhileIdleAndWakeForANewRecord) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2);
  auto running = std::move(engine->Start(testing::ClicksPerUser(log.path()))).value();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past start-up
  const std::int64_t before = ProcessCpuNs();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::int64_t idle = ProcessCpuNs() - before;
  EXPECT_LT(idle, 200'000'000) << "one idle second used " << idle / 1'000'000 << " ms of CPU";
  log.Append(Click{1, 2, 3, 4}, 4);
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().records_in, 1u);
}

// A view that cannot grow on a full disk fails the job, naming the view and the cause; the
// job does not report ok while it drops keys, commits no cursor and takes no checkpoint past the
// loss, and once there is room again a restart ends with every key.
TEST(EngineTest, ShouldFailTheJobWhenAViewCannotTakeAResultAndRecoverOnceThereIsRoom) {
  serving::testing::SmallFilesystem disk(4 << 20);
  if (!disk.ok()) GTEST_SKIP() << disk.why();
  const TempNamespace ns(disk.path() + "/views");
  TempLog log;
  constexpr std::int64_t kUsers = 200'000;
  for (std::int64_t user = 0; user < kUsers; ++user) log.Append(Click{user, 0, 1, user}, user);
  EngineOptions o = testing::CheckpointingOptions(
      ns, "/dev/shm/kappa-test-engine-full-" + std::to_string(::getpid()));
  std::system(("rm -rf " + o.checkpoint_dir).c_str());
  o.partitions = 1;
  auto job = [&] {
    return From<Click>("users", log.path(), SourceOptions{.cursor = "users"})
        .KeyBy([](const Click& c) { return c.user; })
        .Aggregate(operators::Count<Click>{})
        .ToView("users", ViewSinkOptions{.expected_keys = 1024});
  };
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    EXPECT_FALSE(running->WaitCaughtUp(std::chrono::seconds(60)));
    const Status s = running->status();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("cannot write to view users"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
    running->Stop();
    EXPECT_FALSE(running->status().ok());
  }
  // Keys go in in log order: the view holds users 0..held-1 at most, and neither the cursor nor
  // the checkpoint is past the first user it could not take.
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "users")).value();
  std::uint64_t held = 0;
  EXPECT_EQ(reader->Scan([&](const serving::RowView&) { return ++held, true; }),
            serving::ReadStatus::kOk);
  reader.reset();
  ASSERT_LT(held, static_cast<std::uint64_t>(kUsers));
  const std::uint64_t frame = memlog::RecordFrameSize(sizeof(Click));
  const auto info = log.log().Info();
  ASSERT_EQ(info.cursors.size(), 1u);
  EXPECT_LE(info.cursors[0].position, held * frame);
  auto checkpoint = ReadCheckpoint(o.checkpoint_dir + "/users@1.ckpt");
  if (checkpoint.ok()) {
    EXPECT_LE(checkpoint->source_offset, held * frame);
  }

  // Room again: the restart applies what was refused, and every key is there.
  ASSERT_EQ(::mount("tmpfs", disk.path().c_str(), "tmpfs", MS_REMOUNT, "size=256m"), 0)
      << std::strerror(errno);
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60))) << running->status().message();
    running->Stop();
  }
  reader = std::move(serving::ViewReader::Open(ns.path(), "users")).value();
  std::uint64_t keys = 0, total = 0;
  EXPECT_EQ(reader->Scan([&](const serving::RowView& r) {
    std::int64_t n;
    std::memcpy(&n, r.value.data(), 8);
    ++keys;
    total += static_cast<std::uint64_t>(n);
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(keys, static_cast<std::uint64_t>(kUsers));
  EXPECT_EQ(total, static_cast<std::uint64_t>(kUsers));  // each counted once
  reader.reset();
  std::system(("rm -rf " + o.checkpoint_dir).c_str());
}

// A log that cannot be opened keeps memlog's code on its way through the engine (it was turned
// into kNotFound, whatever the cause).
TEST(EngineTest, ShouldKeepTheCodeOfALogItCannotOpen) {
  TempNamespace ns;
  const std::string path =
      "/dev/shm/kappa-test-engine-garbage-" + std::to_string(::getpid()) + ".log";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(std::string(40000, 'g').c_str(), f);
    std::fclose(f);
  }
  auto engine = MakeEngine(ns, 1);
  auto started = engine->Start(testing::ClicksPerUser(path));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kCorrupt) << started.status().message();
  EXPECT_NE(started.status().message().find("job clicks_per_user: " + path), std::string::npos)
      << started.status().message();
  ::unlink(path.c_str());
}

TEST(EngineTest, ShouldCountMalformedRecordsOfTheSourceType) {
  TempLog log;
  TempNamespace ns;
  log.Append(Click{1, 2, 3, 4}, 4);
  log.AppendRaw("short", RecordType<Click>::kLogType);
  log.Append(Click{1, 2, 3, 5}, 5);
  auto engine = MakeEngine(ns, 1);
  auto running = std::move(engine->Start(From<Click>("m", log.path())
                                             .KeyBy([](const Click& c) { return c.user; })
                                             .Aggregate(operators::Count<Click>{})
                                             .ToView("m")))
                     .value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(10)));
  EXPECT_EQ(running->Stats().malformed, 1u);
  EXPECT_EQ(running->Stats().records_in, 2u);
}

// Checkpoints: a job stopped and started again resumes where it stopped, views and state put
// back; a damaged checkpoint is refused.
// testing::CheckpointingOptions, into `dir` emptied first.
EngineOptions CheckpointingOptions(const TempNamespace& ns, const std::string& dir) {
  std::system(("rm -rf " + dir).c_str());
  return testing::CheckpointingOptions(ns, dir);
}

TEST(EngineTest, ShouldResumeFromItsCheckpoint) {
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const EngineOptions o = CheckpointingOptions(ns, dir);
  auto job = [&] {
    return From<Click>("pages", log.path())
        .EventTime([](const Click& c) { return c.time; }, 0)
        .KeyBy([](const Click& c) { return c.page; })
        .Window(operators::TumblingWindows(10000))
        .Aggregate(operators::Count<Click>{})
        .ToView("pages", ViewSinkOptions{.windows_per_key = 64});
  };
  const auto clicks = MakeClicks(4000, 8, 0);
  std::vector<Click> sorted = clicks;
  std::sort(sorted.begin(), sorted.end(),
            [](const Click& a, const Click& b) { return a.time < b.time; });
  for (std::size_t i = 0; i < 2000; ++i) log.Append(sorted[i], sorted[i].time);
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    EXPECT_FALSE(running->restored());
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
    EXPECT_GE(running->checkpoints(), 1u);
  }
  for (std::size_t i = 2000; i < sorted.size(); ++i) log.Append(sorted[i], sorted[i].time);
  auto engine = std::move(Engine::Create(o)).value();
  auto running = std::move(engine->Start(job())).value();
  EXPECT_TRUE(running->restored());
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().records_in, 2000u);  // only what came after the checkpoint
  running->FlushWindows();
  // The windows straddling the stop count records from both runs.
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> ref;
  for (const Click& c : clicks) ++ref[{c.page, operators::FloorTo(c.time, 10000)}];
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "pages")).value();
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> got;
  EXPECT_EQ(reader->Scan([&](const serving::RowView& r) {
    std::int64_t n;
    std::memcpy(&n, r.value.data(), 8);
    got[{static_cast<std::int64_t>(r.key_u64), r.window_start}] = n;
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got, ref);
  running.reset();
  // A damaged checkpoint stops the job from starting, naming the file.
  const std::string file = dir + "/pages@1.ckpt";
  {
    std::FILE* f = std::fopen(file.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 40, SEEK_SET);
    std::fputc('X', f);
    std::fclose(f);
  }
  auto damaged = engine->Start(job());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kCorrupt) << damaged.status().message();
  EXPECT_NE(damaged.status().message().find("checksum"), std::string::npos)
      << damaged.status().message();
  std::system(("rm -rf " + dir).c_str());
}

// Kappa reprocessing: version 2 (a changed definition) replays the log while version 1 serves,
// then takes over readers at once. Readers in two other processes read all the while: every
// read succeeds, each version's counts only grow, and they follow the flip, the reverts and the
// retirement of version 1.
struct ReaderShared {
  std::atomic<std::uint32_t> stop{0};
  struct Child {
    std::atomic<std::uint32_t> seen_versions{0};  // bit v: read version v
    std::atomic<std::uint32_t> version{0};        // the version of the last read
    std::atomic<std::uint64_t> reads{0};
    std::atomic<std::uint64_t> bad{0};  // failed reads, or counts that went down
  } child[2];
};

[[noreturn]] void ReadUntilStopped(const std::string& ns, ReaderShared::Child& me,
                                   const ReaderShared& shared) {
  std::unique_ptr<serving::ViewReader> r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!r && std::chrono::steady_clock::now() < deadline) {
    auto opened = serving::ViewReader::Open(ns, "per_page");
    if (opened.ok()) {
      r = std::move(opened).value();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (!r) std::_Exit(3);
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::int64_t> last;  // (version, page) -> count
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  while (shared.stop.load() == 0) {
    for (std::uint64_t page = 0; page < 40; ++page) {
      const serving::ReadStatus st = r->Get(page, v, &offset);
      const std::uint32_t version = r->version();
      if (st == serving::ReadStatus::kOk) {
        std::int64_t n;
        std::memcpy(&n, v.data(), 8);
        std::int64_t& before = last[{version, page}];
        if (n < before) me.bad.fetch_add(1);
        before = n;
      } else if (st != serving::ReadStatus::kNotFound) {
        me.bad.fetch_add(1);
      }
      me.seen_versions.fetch_or(1u << version);
      me.version.store(version);
      me.reads.fetch_add(1);
    }
  }
  std::_Exit(0);
}

TEST(EngineTest, ShouldReprocessIntoANewVersionAndFlipReadersInOtherProcesses) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(30000, 9, 0);
  for (std::size_t i = 0; i < 20000; ++i) log.Append(clicks[i], clicks[i].time);

  // The readers start before the engine (a process with threads should not fork).
  void* mem = ::mmap(nullptr, sizeof(ReaderShared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = new (mem) ReaderShared();
  pid_t readers[2] = {-1, -1};
  // However the test ends, the readers stop and are reaped.
  struct Reaper {
    ReaderShared* shared;
    pid_t* readers;
    ~Reaper() {
      shared->stop.store(1);
      for (int i = 0; i < 2; ++i) {
        if (readers[i] > 0) ::waitpid(readers[i], nullptr, 0);
      }
      ::munmap(shared, sizeof(ReaderShared));
    }
  } reaper{shared, readers};
  for (int i = 0; i < 2; ++i) {
    readers[i] = ::fork();
    ASSERT_GE(readers[i], 0);
    if (readers[i] == 0) ReadUntilStopped(ns.path(), shared->child[i], *shared);
  }
  // Waits until both readers have read `version` last (or, with `any`, ever).
  auto wait_for = [&](std::uint32_t version, bool any = false) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (const ReaderShared::Child& c : shared->child) {
      while (any ? (c.seen_versions.load() & (1u << version)) == 0 : c.version.load() != version) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
    return true;
  };

  auto engine = MakeEngine(ns, 2);
  auto counts = [&](bool only_big) {
    return From<Click>("per_page", log.path())
        .Filter([only_big](const Click& c) { return !only_big || c.amount >= 500; })
        .KeyBy([](const Click& c) { return c.page; })
        .Aggregate(operators::Count<Click>{})
        .ToView("per_page");
  };
  auto v1 = std::move(engine->Start(counts(false))).value();
  ASSERT_TRUE(v1->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_TRUE(wait_for(1));

  // More records arrive while version 2 catches up.
  std::thread producer([&] {
    for (std::size_t i = 20000; i < clicks.size(); ++i) log.Append(clicks[i], clicks[i].time);
  });
  std::vector<JobStats> progress;
  ReprocessOptions ro;
  ro.progress = [&](const JobStats& s) { progress.push_back(s); };
  auto v2 = engine->Reprocess(counts(true), ro);
  producer.join();
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  ASSERT_TRUE((*v2)->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(v1->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_FALSE(progress.empty());
  EXPECT_TRUE(wait_for(2));

  std::map<std::int64_t, std::int64_t> all, big;
  for (const Click& c : clicks) {
    ++all[c.page];
    if (c.amount >= 500) ++big[c.page];
  }
  auto value_of = [&](const std::string& ref, std::int64_t page) {
    auto r = std::move(serving::ViewReader::Open(ns.path(), ref)).value();
    std::vector<std::byte> v(8);
    std::uint64_t offset;
    std::int64_t n = -1;
    if (r->Get(static_cast<std::uint64_t>(page), v, &offset) == serving::ReadStatus::kOk)
      std::memcpy(&n, v.data(), 8);
    return n;
  };
  for (std::int64_t page = 0; page < 40; ++page) {
    EXPECT_EQ(value_of("per_page", page), big[page]) << page;    // readers follow version 2
    EXPECT_EQ(value_of("per_page@1", page), all[page]) << page;  // version 1 still serves
  }
  // Revert is instant, and so is going forward again.
  ASSERT_TRUE(engine->views().Revert("per_page").ok());
  EXPECT_EQ(value_of("per_page", 3), all[3]);
  EXPECT_TRUE(wait_for(1));
  ASSERT_TRUE(engine->views().Revert("per_page").ok());
  EXPECT_TRUE(wait_for(2));
  // Version 1 retires once its job stops; readers stay on version 2.
  v1.reset();
  EXPECT_EQ(engine->views().Retire("per_page", 2).code(),
            StatusCode::kFailedPrecondition);  // current
  ASSERT_TRUE(engine->views().Retire("per_page", 1).ok());
  EXPECT_EQ(engine->views().Revert("per_page").code(), StatusCode::kFailedPrecondition);
  const std::uint64_t reads_at_retire =
      shared->child[0].reads.load() + shared->child[1].reads.load();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (shared->child[0].reads.load() + shared->child[1].reads.load() < reads_at_retire + 1000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

  shared->stop.store(1);
  for (int i = 0; i < 2; ++i) {
    int status = 0;
    ASSERT_EQ(::waitpid(readers[i], &status, 0), readers[i]);
    readers[i] = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "reader " << i << " status " << status;
    EXPECT_GT(shared->child[i].reads.load(), 0u);
    EXPECT_EQ(shared->child[i].bad.load(), 0u) << "reader " << i;
    EXPECT_EQ(shared->child[i].seen_versions.load(), 0b110u) << "reader " << i;
    EXPECT_EQ(shared->child[i].version.load(), 2u) << "reader " << i;
  }

  // A log-writing job cannot be reprocessed.
  auto logjob = From<Click>("to_log", log.path()).ToLog(log.path() + ".out");
  EXPECT_FALSE(engine->Reprocess(logjob).ok());
  RemoveLog(log.path() + ".out");
}

// Batch/stream equivalence: a job run live, while the log was being written, and the same job
// replaying the whole log afterwards end with identical views.
TEST(EngineTest, ShouldGiveTheSameViewsLiveAndOnReplay) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2, Mode::kLowLatency);
  auto job = [&] {
    return From<Click>("pages", log.path())
        .EventTime([](const Click& c) { return c.time; }, 3000)
        .KeyBy([](const Click& c) { return c.page; })
        .Window(operators::HoppingWindows(20000, 5000))
        .Aggregate(operators::MakeQuantiles<Click>([](const Click& c) { return c.amount; }))
        .ToView("pages", ViewSinkOptions{.windows_per_key = 64});
  };
  auto live = std::move(engine->Start(job())).value();
  const auto clicks = MakeClicks(30000, 10, 5000);
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    log.Append(clicks[i], clicks[i].time);
    if (i % 1000 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // live, in small batches
  }
  ASSERT_TRUE(live->WaitCaughtUp(std::chrono::seconds(60)));
  auto replay = engine->Reprocess(job());
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_EQ((*replay)->Stats().late, live->Stats().late);
  const auto a = testing::SortedRows(ns, "pages@1");
  const auto b = testing::SortedRows(ns, "pages@2");
  EXPECT_GT(a.size(), 100u);
  EXPECT_TRUE(a == b) << a.size() << " rows live, " << b.size() << " on replay";
  EXPECT_GT(live->Stats().batches, (*replay)->Stats().batches);  // really cut differently
}

// Kappa reprocessing over the whole history: the log's ring holds a tenth of it, the archive the
// rest; the replay reads it from the archive and ends with the live run's views.
TEST(EngineTest, ShouldReprocessFromAnArchiveHoldingTenTimesTheRing) {
  kappa::testing::TempDir archive_dir;
  constexpr std::uint64_t kRing = 256 << 10;
  TempLog log(kRing, archive_dir.str());
  auto archiver = std::move(memlog::Archiver::Open(&log.log())).value();
  archiver->Start();
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2);
  auto job = [&] {
    return From<Click>("pages", log.path())
        .EventTime([](const Click& c) { return c.time; }, 3000)
        .KeyBy([](const Click& c) { return c.page; })
        .Window(operators::TumblingWindows(10000))
        .Aggregate(operators::MakeSum<Click>([](const Click& c) { return c.amount; }))
        .ToView("pages", ViewSinkOptions{.windows_per_key = 64});
  };
  auto live = std::move(engine->Start(job())).value();
  const auto clicks =
      MakeClicks(10 * kRing / memlog::RecordFrameSize(sizeof(Click)) + 1000, 11, 2000);
  for (const Click& c : clicks) log.Append(c, c.time);
  ASSERT_TRUE(live->WaitCaughtUp(std::chrono::seconds(60)));
  ASSERT_GT(log.log().ring().LoadHead(), 9 * kRing) << "the ring no longer holds the start";
  EXPECT_EQ(log.log().earliest_offset(), 0u);
  auto replay = engine->Reprocess(job());
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_EQ((*replay)->Stats().lost_bytes, 0u);
  EXPECT_EQ((*replay)->Stats().records_in, clicks.size());
  const auto a = testing::SortedRows(ns, "pages@1");
  const auto b = testing::SortedRows(ns, "pages@2");
  EXPECT_GT(a.size(), 100u);
  EXPECT_TRUE(a == b) << a.size() << " rows live, " << b.size() << " on replay";
  ASSERT_TRUE(archiver->Stop().ok());
}

// Metrics: published as a view any process reads, per job and per partition. Latency counts the
// records appended while the job runs (over each publish interval, and since the start); records
// that were in the log before it started are replayed, and their age is not a latency.
TEST(EngineTest, ShouldPublishItsMetricsAsAView) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(5000, 12, 0);
  for (std::size_t i = 0; i < 1000; ++i)
    log.Append(clicks[i], memlog::kTimestampNow);  // before the job
  auto engine = MakeEngine(ns, 2);
  auto running = std::move(engine->Start(From<Click>("metered", log.path())
                                             .KeyBy([](const Click& c) { return c.page; })
                                             .Aggregate(operators::Count<Click>{})
                                             .ToView("metered")))
                     .value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  for (std::size_t i = 1000; i < clicks.size(); ++i)
    log.Append(clicks[i], memlog::kTimestampNow);  // live
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  running->Stop();  // publishes a last time
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "metrics.metered")).value();
  const serving::Schema& s = reader->schema();
  std::vector<std::byte> v(s.value_size());
  std::uint64_t offset;
  auto field = [&](const char* name) {
    return s.GetU64(v, static_cast<std::size_t>(s.Find(name)));
  };
  auto signed_field = [&](const char* name) {
    return s.GetI64(v, static_cast<std::size_t>(s.Find(name)));
  };
  ASSERT_EQ(reader->Get(0, v, &offset), serving::ReadStatus::kOk);
  EXPECT_EQ(field("records_in"), 5000u);
  EXPECT_EQ(field("records_processed"), 5000u);
  EXPECT_EQ(field("applied_offset"), log.log().latest_offset());
  EXPECT_EQ(field("lag_bytes"), 0u);
  EXPECT_EQ(field("replayed"), 1000u);
  EXPECT_EQ(field("latency_count"), 4000u);
  EXPECT_EQ(running->Stats().replayed, 1000u);
  const std::int64_t p99 = signed_field("latency_total_p99_ns");
  EXPECT_GT(p99, 0);
  EXPECT_LT(p99, 60'000'000'000);  // stamped with the wall clock at append: seconds at most here
  EXPECT_LE(signed_field("latency_p99_ns"), signed_field("latency_max_ns"));  // the last interval's
  std::uint64_t processed = 0, replayed = 0;
  for (std::uint64_t row : {1, 2}) {
    ASSERT_EQ(reader->Get(row, v, &offset), serving::ReadStatus::kOk);
    processed += field("records_processed");
    replayed += field("replayed");
  }
  EXPECT_EQ(processed, 5000u);
  EXPECT_EQ(replayed, 1000u);
}

// Percentiles over an interval see only that interval's samples: a slow start-up does not set
// the p99 of the job's whole life.
// A metrics row decodes by field name, from this build's schema and from one that has other
// fields, or these in another order (another build's view).
TEST(MetricsTest, ShouldDecodeARowByFieldName) {
  MetricsRow row;
  row.records_in = 7;
  row.lag_bytes = 9;
  row.watermark_ns = -3;
  row.records_per_s = 2.5;
  const serving::Schema schema = MetricsSchema();
  ASSERT_EQ(schema.value_size(), sizeof row);
  std::vector<std::byte> v(sizeof row);
  std::memcpy(v.data(), &row, sizeof row);
  const MetricsRow same = DecodeMetrics(schema, v);
  EXPECT_EQ(same.records_in, 7u);
  EXPECT_EQ(same.lag_bytes, 9u);
  EXPECT_EQ(same.watermark_ns, -3);
  EXPECT_EQ(same.records_per_s, 2.5);
  using serving::Field;
  const serving::Schema other =
      std::move(serving::Schema::Make({Field::I64("watermark_ns"), Field::U64("future"),
                                       Field::U64("records_in"), Field::F64("lag_bytes")}))
          .value();
  std::vector<std::byte> w(other.value_size());
  other.SetI64(w, 0, 11);
  other.SetU64(w, 1, 12);
  other.SetU64(w, 2, 13);
  other.SetF64(w, 3, 14.0);
  const MetricsRow theirs = DecodeMetrics(other, w);
  EXPECT_EQ(theirs.watermark_ns, 11);
  EXPECT_EQ(theirs.records_in, 13u);
  EXPECT_EQ(theirs.lag_bytes, 0u);  // another type: left out
  EXPECT_EQ(theirs.results, 0u);    // absent
}

TEST(LatencyHistogramTest, ShouldGivePercentilesOverAnIntervalAndSinceTheStart) {
  detail::LatencyHistogram h;
  h.Record(10'000'000, 1000);  // a slow start: 10 ms
  const detail::LatencyHistogram::Counts before = h.Read();
  h.Record(1'000, 1000);  // then 1 us
  const detail::LatencyHistogram::Counts now = h.Read();
  EXPECT_LE(detail::LatencyHistogram::Percentile(now, before, 0.99), 1'200u);
  EXPECT_LE(detail::LatencyHistogram::Max(now, before), 1'200u);
  EXPECT_GE(h.Percentile(0.99), 10'000'000u);  // since the start
  EXPECT_EQ(detail::LatencyHistogram::Percentile(now, now, 0.99), 0u);
}

// After a bounded run the metrics count what its end flushed, and after a reprocess they follow
// the flip to the version that serves.
TEST(EngineTest, ShouldPublishMetricsAfterTheFinalFlushAndFlipThemWithTheJob) {
  TempLog log;
  TempNamespace ns;
  for (const Click& c : MakeClicks(3000, 13, 0)) log.Append(c, c.time);
  auto engine = MakeEngine(ns, 2);
  auto running = std::move(engine->Start(testing::AmountPerPage(log.path()))).value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  running->FlushWindows();
  const std::uint64_t results = running->Stats().results;
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "metrics.amount_per_page")).value();
  const serving::Schema& s = reader->schema();
  std::vector<std::byte> v(s.value_size());
  std::uint64_t offset;
  ASSERT_EQ(reader->Get(0, v, &offset), serving::ReadStatus::kOk);
  EXPECT_EQ(s.GetU64(v, static_cast<std::size_t>(s.Find("results"))), results);
  EXPECT_EQ(reader->version(), 1u);

  auto v2 = engine->Reprocess(testing::AmountPerPage(log.path()));
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  ASSERT_EQ(reader->Get(0, v, &offset), serving::ReadStatus::kOk);
  EXPECT_EQ(reader->version(), 2u);  // the reader followed the metrics' flip
  (*v2)->Stop();
}

TEST(EngineTest, ShouldRunJobsOneAfterAnotherAndSideBySide) {
  TempLog log;
  const auto clicks = MakeClicks(3000, 7, 0);
  for (const Click& c : clicks) log.Append(c, c.time);
  for (int round = 0; round < 30; ++round) {
    TempNamespace ns;
    EngineOptions o;
    o.threads = 1 + round % 2;
    o.partitions = 1 << (round % 3);
    o.view_namespace = ns.path();
    o.max_in_flight = 2;
    o.batch_records = 100;
    auto engine = std::move(Engine::Create(o)).value();
    std::vector<std::unique_ptr<RunningJob>> jobs;
    for (int j = 0; j < 3; ++j) {
      jobs.push_back(std::move(engine->Start(From<Click>("job" + std::to_string(j), log.path())
                                                 .KeyBy([](const Click& c) { return c.page; })
                                                 .Aggregate(operators::Count<Click>{})
                                                 .ToView("v" + std::to_string(j))))
                         .value());
    }
    for (auto& job : jobs) {
      ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(30))) << "round " << round;
      EXPECT_EQ(job->Stats().records_in, clicks.size());
    }
  }
}

// A user-defined aggregate: the range of amounts and the number of clicks.
struct RangeOfAmounts {
  using Input = Click;
  using Acc = testing::AmountRange;
  using Output = testing::AmountRange;
  Acc Init() const {
    return {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(), 0};
  }
  void Add(Acc& acc, const Click& c) const {
    acc.low = std::min(acc.low, c.amount);
    acc.high = std::max(acc.high, c.amount);
    ++acc.clicks;
  }
  void Merge(Acc& into, const Acc& from) const {
    into.low = std::min(into.low, from.low);
    into.high = std::max(into.high, from.high);
    into.clicks += from.clicks;
  }
  Output Result(const Acc& acc) const { return acc; }
};

TEST(EngineTest, ShouldRunAUserDefinedAggregateKeyedAndWindowed) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(20000, 31, 0);
  for (const Click& c : clicks) log.Append(c, c.time);
  using Range = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
  std::map<std::int64_t, Range> per_page;
  std::map<std::pair<std::int64_t, std::int64_t>, Range> per_window;
  auto add = [](Range& r, const Click& c) {
    if (std::get<2>(r) == 0) r = {c.amount, c.amount, 0};
    r = {std::min(std::get<0>(r), c.amount), std::max(std::get<1>(r), c.amount),
         std::get<2>(r) + 1};
  };
  for (const Click& c : clicks) {
    add(per_page[c.page], c);
    add(per_window[{c.page, operators::FloorTo(c.time, 50000)}], c);
  }
  auto engine = MakeEngine(ns, 4);
  auto by_page = [&](const std::string& name) {
    return From<Click>(name, log.path()).KeyBy([](const Click& c) { return c.page; });
  };
  auto keyed =
      std::move(engine->Start(by_page("ranges").Aggregate(RangeOfAmounts{}).ToView("ranges")))
          .value();
  auto windowed = std::move(engine->Start(by_page("window_ranges")
                                              .Window(operators::TumblingWindows(50000))
                                              .Aggregate(RangeOfAmounts{})
                                              .ToView("window_ranges", {.windows_per_key = 64})))
                      .value();
  ASSERT_TRUE(keyed->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(windowed->WaitCaughtUp(std::chrono::seconds(30)));
  windowed->FlushWindows();
  auto decode = [](const serving::RowView& r) {
    testing::AmountRange a;
    std::memcpy(&a, r.value.data(), sizeof a);
    return Range{a.low, a.high, a.clicks};
  };
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "ranges")).value();
  ASSERT_EQ(reader->schema().size(), 3u);
  EXPECT_EQ(reader->schema().field(0).name, "low");
  std::map<std::int64_t, Range> got;
  EXPECT_EQ(reader->Scan([&](const serving::RowView& r) {
    got[static_cast<std::int64_t>(r.key_u64)] = decode(r);
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got, per_page);
  std::map<std::pair<std::int64_t, std::int64_t>, Range> got_windows;
  auto wreader = std::move(serving::ViewReader::Open(ns.path(), "window_ranges")).value();
  EXPECT_EQ(wreader->Scan([&](const serving::RowView& r) {
    got_windows[{static_cast<std::int64_t>(r.key_u64), r.window_start}] = decode(r);
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got_windows, per_window);
}

// A user's latest amount: a result that goes down as well as up.
struct LatestAmount {
  using Input = Click;
  using Acc = std::int64_t;
  using Output = std::int64_t;
  Acc Init() const { return -1; }
  void Add(Acc& acc, const Click& c) const { acc = c.amount; }
  void Merge(Acc& into, const Acc& from) const { into = from; }
  Output Result(const Acc& acc) const { return acc; }
};

// The K best of `values` (key -> order value), as a top-K view ranks them: by value, then by the
// key's bytes.
std::vector<std::pair<std::uint64_t, std::int64_t>> TopOf(
    const std::map<std::int64_t, std::int64_t>& values, std::size_t k, bool ascending) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> rows(values.begin(), values.end());
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return ascending ? a.second < b.second : a.second > b.second;
    return std::memcmp(&a.first, &b.first, 8) <
           0;  // little-endian bytes, as the view compares keys
  });
  if (rows.size() > k) rows.resize(k);
  return rows;
}

std::vector<std::pair<std::uint64_t, std::int64_t>> TopRows(const TempNamespace& ns,
                                                            const std::string& view) {
  std::vector<std::pair<std::uint64_t, std::int64_t>> rows;
  auto reader = std::move(serving::ViewReader::Open(ns.path(), view)).value();
  EXPECT_EQ(reader->TopK([&](const serving::RowView& r) {
    std::int64_t v;
    std::memcpy(&v, r.value.data(), 8);
    rows.emplace_back(r.key_u64, v);
    return true;
  }),
            serving::ReadStatus::kOk);
  return rows;
}

TEST(EngineTest, ShouldKeepTheKBestKeysInATopKViewForAnyAggregate) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2, Mode::kThroughput, 500);  // small batches: many lists published
  const auto clicks = MakeClicks(30000, 21, 0);
  auto by = [&](const std::string& name, bool by_page) {
    return From<Click>(name, log.path()).KeyBy([by_page](const Click& c) {
      return by_page ? c.page : c.user;
    });
  };
  auto pages =
      std::move(
          engine->Start(
              by("top_pages", true).Aggregate(operators::Count<Click>{}).ToTopK("top_pages", 10)))
          .value();
  auto latest =
      std::move(
          engine->Start(by("top_latest", false).Aggregate(LatestAmount{}).ToTopK("top_latest", 5)))
          .value();
  auto lowest =
      std::move(engine->Start(by("low_latest", false)
                                  .Aggregate(LatestAmount{})
                                  .ToTopK("low_latest", 7, ViewSinkOptions{.ascending = true})))
          .value();
  std::map<std::int64_t, std::int64_t> counts, amounts;
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    log.Append(clicks[i], clicks[i].time);
    ++counts[clicks[i].page];
    amounts[clicks[i].user] = clicks[i].amount;
  }
  for (auto* job : {pages.get(), latest.get(), lowest.get()})
    ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(60)));
  // Then the best users of both lists get worse, in batches of their own: their places go to
  // users whose results did not change.
  std::int64_t time = clicks.back().time;
  for (const auto& [user, amount] : TopOf(amounts, 5, false)) {
    log.Append(Click{static_cast<std::int64_t>(user), 0, 0, ++time}, time);
    amounts[static_cast<std::int64_t>(user)] = 0;
  }
  for (const auto& [user, amount] : TopOf(amounts, 7, true)) {
    log.Append(Click{static_cast<std::int64_t>(user), 0, 999, ++time}, time);
    amounts[static_cast<std::int64_t>(user)] = 999;
  }
  counts[0] += 12;
  for (auto* job : {pages.get(), latest.get(), lowest.get()})
    ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(60)));
  EXPECT_EQ(TopRows(ns, "top_pages"), TopOf(counts, 10, false));
  EXPECT_EQ(TopRows(ns, "top_latest"), TopOf(amounts, 5, false));
  EXPECT_EQ(TopRows(ns, "low_latest"), TopOf(amounts, 7, true));
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "top_latest")).value();
  EXPECT_EQ(reader->Info().kind, serving::ViewKind::kTopK);
  EXPECT_EQ(reader->applied_offset(), log.log().latest_offset());
}

TEST(EngineTest, ShouldRestoreATopKViewFromItsCheckpoint) {
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const EngineOptions o = CheckpointingOptions(ns, dir);
  auto job = [&] {
    return From<Click>("latest", log.path())
        .KeyBy([](const Click& c) { return c.user; })
        .Aggregate(LatestAmount{})
        .ToTopK("latest", 8);
  };
  const auto clicks = MakeClicks(6000, 5, 0);
  std::map<std::int64_t, std::int64_t> amounts;
  for (std::size_t i = 0; i < 3000; ++i) {
    log.Append(clicks[i], clicks[i].time);
    amounts[clicks[i].user] = clicks[i].amount;
  }
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
    EXPECT_GE(running->checkpoints(), 1u);
  }
  EXPECT_EQ(TopRows(ns, "latest"), TopOf(amounts, 8, false));
  for (std::size_t i = 3000; i < clicks.size(); ++i) {
    log.Append(clicks[i], clicks[i].time);
    amounts[clicks[i].user] = clicks[i].amount;
  }
  auto engine = std::move(Engine::Create(o)).value();
  auto running = std::move(engine->Start(job())).value();
  EXPECT_TRUE(running->restored());
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().records_in, 3000u);  // only what came after the checkpoint
  EXPECT_EQ(TopRows(ns, "latest"), TopOf(amounts, 8, false));
  running.reset();
  engine.reset();
  std::system(("rm -rf " + dir).c_str());
}

TEST(RecordTest, ShouldRegisterEachFieldByItsMemberNameWithTheMacro) {
  using testing::Wide;
  static_assert(Record<Wide>);
  EXPECT_EQ(RecordType<Wide>::kLogType, 12);
  EXPECT_EQ(RecordName<Wide>(), "wide");
  EXPECT_EQ(RecordName<Click>(), "record7");  // KAPPA_RECORD gives no name
  auto schema = RecordSchema<Wide>();
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  ASSERT_EQ(schema->size(), 32u);
  for (std::size_t i = 0; i < 30; ++i) EXPECT_EQ(schema->field(i).name, "f" + std::to_string(i));
  EXPECT_EQ(schema->field(30).name, "ratio");
  EXPECT_EQ(schema->field(31).name, "label");
  EXPECT_EQ(schema->field(31).offset, offsetof(Wide, label));
  EXPECT_EQ(schema->value_size(), sizeof(Wide));
}

TEST(RecordTest, ShouldDeriveASchemaFromARecordAndCheckItsLayout) {
  auto schema = RecordSchema<Click>();
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_EQ(schema->size(), 4u);
  EXPECT_EQ(schema->field(3).name, "time");
  EXPECT_EQ(schema->value_size(), sizeof(Click));
}

// Linking the engine leaves the program's allocator alone: mimalloc comes only with
// kappa::mimalloc, which this test does not link.
// An engine is library code: it does not change oneTBB's process-wide limit unless asked to, and
// says how many threads it got; a throughput engine that could get no worker refuses to start.
TEST(EngineTest, ShouldLeaveTheProcessWideThreadLimitAloneUnlessAskedTo) {
  using oneapi::tbb::global_control;
  const std::size_t limit = global_control::active_value(global_control::max_allowed_parallelism);
  ASSERT_GE(limit, 2u);
  const TempNamespace views;
  const std::string& ns = views.path();
  {
    auto engine = Engine::Create({.threads = static_cast<int>(limit) + 3, .view_namespace = ns});
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    EXPECT_EQ(global_control::active_value(global_control::max_allowed_parallelism), limit);
    EXPECT_EQ((*engine)->threads(), static_cast<int>(limit) - 1);  // the workers oneTBB allows
    EXPECT_EQ((*engine)->options().threads, static_cast<int>(limit) + 3);
  }
  {
    auto engine = Engine::Create({.threads = static_cast<int>(limit) + 3,
                                  .raise_tbb_parallelism = true,
                                  .view_namespace = ns});
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    EXPECT_EQ(global_control::active_value(global_control::max_allowed_parallelism), limit + 4);
    EXPECT_EQ((*engine)->threads(), static_cast<int>(limit) + 3);
  }
  EXPECT_EQ(global_control::active_value(global_control::max_allowed_parallelism), limit);
  {
    global_control one(global_control::max_allowed_parallelism, 1);
    auto refused = Engine::Create({.threads = 2, .view_namespace = ns});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("raise_tbb_parallelism"), std::string::npos)
        << refused.status().message();
    auto low_latency =
        Engine::Create({.threads = 2, .view_namespace = ns, .mode = Mode::kLowLatency});
    ASSERT_TRUE(low_latency.ok()) << low_latency.status().message();
    EXPECT_EQ((*low_latency)->threads(), 1);  // its source thread alone
  }
}

TEST(EngineLinkTest, ShouldNotBringAnAllocatorOfItsOwn) {
  EXPECT_EQ(::dlsym(RTLD_DEFAULT, "mi_version"), nullptr);
  EXPECT_EQ(::dlsym(RTLD_DEFAULT, "mi_malloc"), nullptr);
}

}  // namespace
}  // namespace kappa::engine
