// Runs an engine job in this process, then the built `kappa` binary (KAPPA_BINARY) on the
// metrics view it published: "kappa stats" and "kappa top" must report what the job did.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "tests/engine/clicks.h"
#include "tests/serving/test_util.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using engine::testing::Click;
using serving::testing::TempNamespace;
using testing::Contains;
using testing::ExpectOneErrorLine;
using testing::KappaProcess;
using testing::Lines;
using testing::RunResult;

constexpr std::uint64_t kClicks = 3000;

class StatsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_path_ = "/dev/shm/kappa-test-stats-" + std::to_string(::getpid()) + ".log";
    ::unlink(log_path_.c_str());
    auto log = std::move(memlog::Log::Create(log_path_, memlog::CreateOptions{})).value();
    auto producer = std::move(log->NewProducer()).value();
    for (std::uint64_t i = 0; i < kClicks; ++i) {
      const Click c{static_cast<std::int64_t>(i % 50), static_cast<std::int64_t>(i % 7), 1,
                    static_cast<std::int64_t>(i)};
      ASSERT_EQ(producer->Append(std::as_bytes(std::span(&c, 1)), 7, memlog::kTimestampNow),
                memlog::AppendResult::kOk);
    }
    engine::EngineOptions o;
    o.threads = 2;
    o.partitions = 2;
    o.view_namespace = ns_.path();
    auto engine = std::move(engine::Engine::Create(o)).value();
    auto job = std::move(engine->Start(engine::testing::ClicksPerUser(log_path_))).value();
    ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(60)));
    job->Stop();  // publishes the metrics a last time
  }
  void TearDown() override { ::unlink(log_path_.c_str()); }

  RunResult Kappa(const std::vector<std::string>& args) { return KappaProcess(args).Finish(); }

  TempNamespace ns_;
  std::string log_path_;
};

TEST_F(StatsCliTest, ShouldPrintAJobsCountsAsJsonLines) {
  const RunResult r = Kappa({"stats", "--ns", ns_.path(), "--format", "jsonl"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const std::string& line = lines[0];
  EXPECT_TRUE(line.starts_with("{\"job\":\"clicks_per_user\",\"version\":1,")) << line;
  EXPECT_TRUE(Contains(line, "\"records_in\":" + std::to_string(kClicks) + ",")) << line;
  EXPECT_TRUE(Contains(line, "\"records_processed\":" + std::to_string(kClicks) + ",")) << line;
  EXPECT_TRUE(Contains(line, "\"lag_bytes\":0,")) << line;
  EXPECT_TRUE(Contains(line, "\"late\":0,")) << line;
  // Two partitions, each with its own counters, whose processed records add up to the total.
  const std::size_t parts = line.find("\"partitions\":[");
  ASSERT_NE(parts, std::string::npos) << line;
  std::uint64_t processed = 0;
  int partitions = 0;
  for (std::size_t at = line.find("\"records_processed\":", parts); at != std::string::npos;
       at = line.find("\"records_processed\":", at + 1)) {
    processed += std::stoull(line.substr(at + std::string("\"records_processed\":").size()));
    ++partitions;
  }
  EXPECT_EQ(partitions, 2) << line;
  EXPECT_EQ(processed, kClicks) << line;
  EXPECT_TRUE(line.ends_with("]}")) << line;
}

TEST_F(StatsCliTest, ShouldPrintATableWithTheJobAndItsPartitions) {
  const RunResult r = Kappa({"stats", "clicks_per_user", "--ns", ns_.path()});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 6u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("job")) << r.out;
  EXPECT_TRUE(lines[1].starts_with("clicks_per_user")) << r.out;
  EXPECT_TRUE(Contains(lines[1], " " + std::to_string(kClicks) + " ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "\nclicks_per_user partitions\n")) << r.out;
}

TEST_F(StatsCliTest, ShouldRefreshTopAsManyTimesAsAsked) {
  const RunResult r = Kappa({"top", "--ns", ns_.path(), "--interval", "10", "--count", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::size_t tables = 0;
  for (const std::string& line : Lines(r.out)) tables += line.starts_with("job ") ? 1 : 0;
  EXPECT_EQ(tables, 3u) << r.out;
}

// kappa top fits the screen: an 80-column one leaves out the columns least needed and keeps
// its header; a short one cuts lines and says so.
TEST_F(StatsCliTest, ShouldFitTopToTheScreen) {
  auto top = [&](std::vector<std::string> env, bool terminal = false) {
    testing::KappaOptions options;
    options.env = std::move(env);
    options.unset_env = {"COLUMNS", "LINES"};
    options.stdout_is_terminal = terminal;
    return KappaProcess({"top", "--ns", ns_.path(), "--count", "1"}, options).Finish();
  };
  RunResult r = top({"COLUMNS=80"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 4u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("kappa top: 1 job in " + ns_.path() + ", every 1 s, "))
      << lines[0];
  for (const std::string& line : lines) EXPECT_LE(line.size(), 80u) << line;
  EXPECT_TRUE(lines[1].starts_with("job ")) << r.out;
  EXPECT_TRUE(Contains(lines[1], " read ") && Contains(lines[1], " lag ")) << lines[1];
  EXPECT_FALSE(Contains(lines[1], "p99.9")) << lines[1];  // left out first
  EXPECT_TRUE(Contains(lines[2], " " + std::to_string(kClicks) + " ")) << lines[2];

  r = top({"COLUMNS=300"});  // wide enough for all of them
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(Lines(r.out)[1], "p99.9")) << r.out;
  EXPECT_TRUE(Contains(Lines(r.out)[1], "checkpoints")) << r.out;

  r = top({"COLUMNS=80", "LINES=6"});
  ASSERT_EQ(r.status, 0) << r.err;
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;  // one line fewer than the screen
  EXPECT_TRUE(lines[0].starts_with("kappa top: ")) << r.out;
  EXPECT_TRUE(lines[4].starts_with("(") && Contains(lines[4], "more lines")) << r.out;

  r = top({}, /*terminal=*/true);  // a terminal that does not give its size: 80 x 24
  ASSERT_EQ(r.status, 0) << r.err;
  lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines[0].starts_with("\x1b[H\x1b[Jkappa top: ")) << lines[0];
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the terminal's line ends
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST_F(StatsCliTest, ShouldFailWithOneLineForAnUnknownJobOrNamespace) {
  RunResult r = Kappa({"stats", "no_such_job", "--ns", ns_.path()});
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r, "unknown job");
  EXPECT_TRUE(Contains(r.err, "no metrics for job 'no_such_job'")) << r.err;
  r = Kappa({"stats", "--ns", ns_.path() + "-missing"});
  EXPECT_NE(r.status, 0);
  ExpectOneErrorLine(r, "missing namespace");
  r = Kappa({"stats", "--format", "xml", "--ns", ns_.path()});
  EXPECT_NE(r.status, 0);
  ExpectOneErrorLine(r, "bad format");
}

}  // namespace
}  // namespace kappa::tools
