// Checkpoints and the runs around them: a job that starts at the end of its log, a bounded run
// rerun over the same log or a grown one, a checkpoint taken on another log, the file itself.
#include "engine/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "tests/engine/test_util.h"

namespace kappa::engine::testing {
namespace {

// A view's rows as (key, window start, value bytes), in scan order.
using Rows = std::vector<std::tuple<std::uint64_t, std::int64_t, std::string>>;
Rows ScanAll(const TempNamespace& ns, const std::string& ref) {
  Rows rows;
  auto reader = serving::ViewReader::Open(ns.path(), ref);
  EXPECT_TRUE(reader.ok()) << ref << ": " << reader.status().message();
  if (!reader.ok()) return rows;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& r) {
    rows.emplace_back(r.key_u64, r.window_start,
                      std::string(reinterpret_cast<const char*>(r.value.data()), r.value.size()));
    return true;
  }),
            serving::ReadStatus::kOk);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Checkpoints every millisecond into a fresh directory beside the namespace.
class CheckpointDir {
 public:
  explicit CheckpointDir(const TempNamespace& ns) : path_(ns.path() + "-checkpoints") { Remove(); }
  ~CheckpointDir() { Remove(); }
  const std::string& path() const { return path_; }
  EngineOptions Options(const TempNamespace& ns) const { return CheckpointingOptions(ns, path_); }

 private:
  void Remove() const { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string path_;
};

// Counts per page in 10,000-ns tumbling windows; sessions per user (1,000-ns gap) into a list.
Job PagesPerWindow(const std::string& log) {
  return From<Click>("pages", log)
      .EventTime([](const Click& c) { return c.time; }, 0)
      .KeyBy([](const Click& c) { return c.page; })
      .Window(operators::TumblingWindows(10000))
      .Aggregate(operators::Count<Click>{})
      .ToView("pages", ViewSinkOptions{.windows_per_key = 64});
}
Job SessionsPerUser(const std::string& log) {
  return From<Click>("sessions", log)
      .EventTime([](const Click& c) { return c.time; }, 0)
      .KeyBy([](const Click& c) { return c.user; })
      .Window(operators::SessionWindows(1000))
      .Aggregate(operators::Count<Click>{})
      .ToList("sessions", 1 << 16);
}

std::vector<Click> SortedClicks(std::size_t n, std::uint64_t seed) {
  std::vector<Click> clicks = MakeClicks(n, seed, 0);
  std::sort(clicks.begin(), clicks.end(),
            [](const Click& a, const Click& b) { return a.time < b.time; });
  return clicks;
}

// Runs `job` to the end of the log and flushes its windows, as `kappa run --until-caught-up`.
struct BoundedRun {
  bool restored = false;
  std::uint64_t records_in = 0;
};
BoundedRun RunToEnd(const EngineOptions& o, const Job& job) {
  auto engine = std::move(Engine::Create(o)).value();
  auto started = engine->Start(job);
  EXPECT_TRUE(started.ok()) << started.status().message();
  if (!started.ok()) return {};
  auto& running = *started;
  EXPECT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30))) << running->status().message();
  running->FlushWindows();
  EXPECT_TRUE(running->status().ok()) << running->status().message();
  return {running->restored(), running->Stats().records_in};
}

TEST(CheckpointTest, ShouldBeCaughtUpAtOnceWhenStartingAtTheEndOfTheLog) {
  TempLog log;
  TempNamespace ns;
  for (const Click& c : SortedClicks(100, 1)) log.Append(c, c.time);
  auto engine = MakeEngine(ns, 2);
  auto running =
      std::move(engine->Start(From<Click>("late_comer", log.path(),
                                          SourceOptions{.start = memlog::StartAt::Latest()})
                                  .KeyBy([](const Click& c) { return c.user; })
                                  .Aggregate(operators::Count<Click>{})
                                  .ToView("late_comer")))
          .value();
  EXPECT_TRUE(running->WaitCaughtUp(std::chrono::seconds(5)));
  EXPECT_EQ(running->Stats().applied_offset, log.log().latest_offset());
  EXPECT_EQ(running->Stats().lag_bytes(), 0u);
}

// Restored at the end of the log, with nothing of its type read ever: nothing moves its applied
// offset but the checkpoint's position.
TEST(CheckpointTest, ShouldBeCaughtUpWhenRestoredFromACheckpointBeforeAnyRecordOfItsType) {
  TempLog log;
  TempNamespace ns;
  const CheckpointDir dir(ns);
  log.AppendRaw("not a click", 99);  // another type only
  EXPECT_FALSE(RunToEnd(dir.Options(ns), PagesPerWindow(log.path())).restored);
  const BoundedRun again = RunToEnd(dir.Options(ns), PagesPerWindow(log.path()));
  EXPECT_TRUE(again.restored);
  EXPECT_EQ(again.records_in, 0u);
}

TEST(CheckpointTest, ShouldLeaveItsViewsIntactWhenABoundedRunIsRerunOverTheSameLog) {
  TempLog log;
  TempNamespace ns;
  const CheckpointDir dir(ns);
  for (const Click& c : SortedClicks(3000, 2)) log.Append(c, c.time);
  EXPECT_FALSE(RunToEnd(dir.Options(ns), PagesPerWindow(log.path())).restored);
  EXPECT_FALSE(RunToEnd(dir.Options(ns), SessionsPerUser(log.path())).restored);
  const Rows pages = ScanAll(ns, "pages");
  const Rows sessions = ScanAll(ns, "sessions");
  ASSERT_FALSE(pages.empty());
  ASSERT_FALSE(sessions.empty());
  for (int rerun = 0; rerun < 2; ++rerun) {
    const BoundedRun p = RunToEnd(dir.Options(ns), PagesPerWindow(log.path()));
    const BoundedRun s = RunToEnd(dir.Options(ns), SessionsPerUser(log.path()));
    EXPECT_TRUE(p.restored && s.restored);
    EXPECT_EQ(p.records_in + s.records_in, 0u);
    EXPECT_EQ(ScanAll(ns, "pages"), pages) << "rerun " << rerun;
    EXPECT_EQ(ScanAll(ns, "sessions"), sessions) << "rerun " << rerun;  // no session emitted twice
  }
}

TEST(CheckpointTest, ShouldApplyOnlyTheNewRecordsWhenABoundedRunIsRerunOverAGrownLog) {
  TempLog log;
  TempNamespace ns;
  const CheckpointDir dir(ns);
  const std::vector<Click> clicks = SortedClicks(6000, 3);
  for (std::size_t i = 0; i < 2500; ++i) log.Append(clicks[i], clicks[i].time);
  RunToEnd(dir.Options(ns), PagesPerWindow(log.path()));
  RunToEnd(dir.Options(ns), SessionsPerUser(log.path()));
  for (std::size_t i = 2500; i < clicks.size(); ++i) log.Append(clicks[i], clicks[i].time);
  const BoundedRun p = RunToEnd(dir.Options(ns), PagesPerWindow(log.path()));
  const BoundedRun s = RunToEnd(dir.Options(ns), SessionsPerUser(log.path()));
  EXPECT_TRUE(p.restored && s.restored);
  EXPECT_EQ(p.records_in, clicks.size() - 2500);
  EXPECT_EQ(s.records_in, clicks.size() - 2500);
  // The same views as one bounded run over the whole log.
  TempNamespace whole;
  const CheckpointDir whole_dir(whole);
  RunToEnd(whole_dir.Options(whole), PagesPerWindow(log.path()));
  RunToEnd(whole_dir.Options(whole), SessionsPerUser(log.path()));
  EXPECT_EQ(ScanAll(ns, "pages"), ScanAll(whole, "pages"));
  EXPECT_EQ(ScanAll(ns, "sessions"), ScanAll(whole, "sessions"));
}

TEST(CheckpointTest, ShouldRefuseACheckpointTakenOnAnotherLog) {
  TempNamespace ns;
  const CheckpointDir dir(ns);
  std::string path;
  {
    TempLog log;
    path = log.path();
    for (const Click& c : SortedClicks(500, 4)) log.Append(c, c.time);
    RunToEnd(dir.Options(ns), PagesPerWindow(path));
  }
  // Another log at the same path, with its own records.
  memlog::CreateOptions co;
  co.capacity = 1 << 20;
  auto other = std::move(memlog::Log::Create(path, co)).value();
  auto engine = std::move(Engine::Create(dir.Options(ns))).value();
  auto refused = engine->Start(PagesPerWindow(path));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("another log"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find(other->identity()), std::string::npos)
      << refused.status().message();
  other.reset();
  RemoveLog(path);
}

TEST(CheckpointTest, ShouldRefuseASecondWriterOfTheSameJob) {
  TempLog log;
  TempNamespace ns;
  const CheckpointDir dir(ns);
  for (const Click& c : SortedClicks(500, 5)) log.Append(c, c.time);
  auto engine = std::move(Engine::Create(dir.Options(ns))).value();
  auto first = std::move(engine->Start(PagesPerWindow(log.path()))).value();
  ASSERT_TRUE(first->WaitCaughtUp(std::chrono::seconds(10)));
  auto second_engine = std::move(Engine::Create(dir.Options(ns))).value();
  auto second = second_engine->Start(PagesPerWindow(log.path()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy) << second.status().message();
  first->Stop();
}

TEST(CheckpointTest, ShouldWriteAndReadBothStatesOfABoundedRunsEnd) {
  TempNamespace ns;
  const CheckpointDir dir(ns);
  ASSERT_EQ(::mkdir(dir.path().c_str(), 0700), 0);
  Checkpoint c;
  c.job = "j";
  c.log_identity = "0123456789abcdef0123456789abcdef";
  c.view_version = 3;
  c.source_offset = 4096;
  c.state = JobState{10, 5, {"after-0", "after-1"}};
  c.before_flush = JobState{9, 4, {"before-0", std::string(1000, 'b')}};
  const std::string file = dir.path() + "/j@3.ckpt";
  ASSERT_TRUE(WriteCheckpoint(file, c).ok());
  auto back = ReadCheckpoint(file);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->job, "j");
  EXPECT_EQ(back->log_identity, c.log_identity);
  EXPECT_EQ(back->source_offset, 4096u);
  EXPECT_EQ(back->state.partitions, c.state.partitions);
  EXPECT_EQ(back->state.max_time, 10);
  ASSERT_TRUE(back->before_flush.has_value());
  EXPECT_EQ(back->before_flush->partitions, c.before_flush->partitions);
  EXPECT_EQ(back->before_flush->watermark, 4);
  c.before_flush.reset();
  ASSERT_TRUE(WriteCheckpoint(file, c).ok());
  EXPECT_FALSE(ReadCheckpoint(file)->before_flush.has_value());
}

// Another user who can write the checkpoint directory plants a symlink at the temporary name:
// the checkpoint must not write through it.
TEST(CheckpointTest, ShouldNotWriteThroughASymlinkAtItsTemporaryName) {
  TempNamespace ns;
  const CheckpointDir dir(ns);
  ASSERT_EQ(::mkdir(dir.path().c_str(), 0700), 0);
  const std::string victim = dir.path() + "-victim";
  {
    std::FILE* f = std::fopen(victim.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("precious", f);
    std::fclose(f);
  }
  const std::string file = dir.path() + "/j@1.ckpt";
  // At every temporary name the next writes of this process can take.
  for (int n = 0; n < 64; ++n)
    ASSERT_EQ(
        ::symlink(victim.c_str(),
                  (file + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n)).c_str()),
        0);
  Checkpoint c;
  c.job = "j";
  c.view_version = 1;
  ASSERT_TRUE(WriteCheckpoint(file, c).ok());
  std::FILE* f = std::fopen(victim.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char text[16] = {};
  EXPECT_EQ(std::fread(text, 1, sizeof text - 1, f), 8u);
  std::fclose(f);
  EXPECT_STREQ(text, "precious");
  ::unlink(victim.c_str());
  // A symlink in place of the checkpoint itself is refused, not followed.
  ASSERT_EQ(::unlink(file.c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", file.c_str()), 0);
  auto read = ReadCheckpoint(file);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied) << read.status().message();
}

}  // namespace
}  // namespace kappa::engine::testing
