// "kappa log cursors" and "kappa log cursor", run as the built binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/temp_dir.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using testing::Contains;
using testing::ExpectOneErrorLine;
using testing::KappaOptions;
using testing::KappaProcess;
using testing::Lines;
using testing::RunResult;

RunResult Kappa(const std::vector<std::string>& args, const std::string& input = "") {
  return KappaProcess(args, KappaOptions{.input = input}).Finish();
}

class LogCursorCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Kappa({"log", "create", log_, "--capacity", "64K"}).status, 0);
    ASSERT_EQ(Kappa({"log", "append", log_}, "r0\nr1\nr2\nr3\nr4\n").status, 0);
  }
  // The payloads `kappa log tail --cursor NAME --count N` prints (and commits).
  std::vector<std::string> Tail(const std::string& cursor, int count) {
    const RunResult r = Kappa({"log", "tail", log_, "--cursor", cursor, "--from", "earliest",
                               "--count", std::to_string(count)});
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::string> payloads;
    for (const std::string& line : Lines(r.out))
      payloads.push_back(line.substr(line.find("payload=") + 8));
    return payloads;
  }
  std::string Cursors() { return Kappa({"log", "cursors", log_, "--format", "json"}).out; }

  kappa::testing::TempDir dir_{"/dev/shm"};
  const std::string log_ = dir_ / "log";
};

TEST_F(LogCursorCliTest, ShouldListCursorsWithPositionAndLag) {
  RunResult r = Kappa({"log", "cursors", log_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "has no cursors")) << r.out;
  ASSERT_EQ(Tail("reader", 2), (std::vector<std::string>{"r0", "r1"}));
  // Five frames of 32 bytes: the cursor is at 64, 96 bytes behind the latest offset 160.
  EXPECT_TRUE(
      Contains(Cursors(), R"([{"name":"reader","position":64,"lag_bytes":96,"updated_unix_ns":)"))
      << Cursors();
  EXPECT_TRUE(Contains(Cursors(), R"("running":false})")) << Cursors();
  r = Kappa({"log", "cursors", log_});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("name")) << r.out;
  EXPECT_TRUE(lines[1].starts_with("reader")) << r.out;
  EXPECT_TRUE(Contains(lines[1], "96 B")) << r.out;
  EXPECT_TRUE(Contains(lines[1], "gone")) << r.out;
  EXPECT_EQ(lines[2], "latest offset 160");
}

TEST_F(LogCursorCliTest, ShouldSeekResetAndDeleteACursor) {
  ASSERT_EQ(Tail("reader", 4).size(), 4u);
  RunResult r = Kappa({"log", "cursor", log_, "reader", "seek", "--to", "offset:32"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "moved cursor reader from offset 128 to 32 (128 B behind the latest)\n");
  EXPECT_EQ(Tail("reader", 1), std::vector<std::string>{"r1"});  // read again from there

  r = Kappa({"log", "cursor", log_, "reader", "reset", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "would move cursor reader from offset 64 to 0\n");
  EXPECT_TRUE(Contains(Cursors(), R"("position":64)")) << Cursors();
  r = Kappa({"log", "cursor", log_, "reader", "reset"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Tail("reader", 1), std::vector<std::string>{"r0"});

  r = Kappa({"log", "cursor", log_, "reader", "seek", "--to", "latest"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(Cursors(), R"("position":160,"lag_bytes":0)")) << Cursors();
  r = Kappa({"log", "cursor", log_, "reader", "seek", "--to", "time:2000-01-01T00:00:00Z"});
  ASSERT_EQ(r.status, 0) << r.err;  // every record is later: the earliest
  EXPECT_TRUE(Contains(Cursors(), R"("position":0,)")) << Cursors();

  r = Kappa({"log", "cursor", log_, "fresh", "seek", "--to", "offset:96"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "created cursor fresh at offset 96 (64 B behind the latest)\n");
  EXPECT_EQ(Tail("fresh", 1), std::vector<std::string>{"r3"});

  r = Kappa({"log", "cursor", log_, "reader", "delete"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "deleted cursor reader (it was at offset 0, 160 B behind)\n");
  EXPECT_FALSE(Contains(Cursors(), "\"reader\"")) << Cursors();
  r = Kappa({"log", "cursor", log_, "reader", "delete"});
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r, "deleting a deleted cursor");
  EXPECT_TRUE(Contains(r.err, "no cursor named 'reader'")) << r.err;
}

// A cursor whose consumer still runs is left alone unless --force says otherwise.
TEST_F(LogCursorCliTest, ShouldRefuseToMoveTheCursorOfARunningConsumer) {
  KappaProcess tail({"log", "tail", log_, "--cursor", "live", "--from", "earliest"});
  ASSERT_TRUE(tail.WaitForOutput("payload=r4"));
  RunResult r = Kappa({"log", "cursor", log_, "live", "reset"});
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r, "resetting a live cursor");
  EXPECT_TRUE(Contains(r.err, "which still runs and would commit over the change")) << r.err;
  EXPECT_TRUE(Contains(Cursors(), R"("running":true)")) << Cursors();
  r = Kappa({"log", "cursor", log_, "live", "delete", "--force"});
  EXPECT_EQ(r.status, 0) << r.err;
  tail.Signal(SIGTERM);
  EXPECT_EQ(tail.Finish().status, 0);
}

TEST_F(LogCursorCliTest, ShouldRejectBadRequests) {
  ASSERT_EQ(Tail("reader", 1).size(), 1u);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"log", "cursor", log_, "reader", "seek"},
           {"log", "cursor", log_, "reader", "rewind"},
           {"log", "cursor", log_, "reader"},
           {"log", "cursor", log_, "reader", "reset", "--to", "latest"},
           {"log", "cursor", log_, "reader", "seek", "--to", "yesterday"}}) {
    const RunResult r = Kappa(args);
    EXPECT_EQ(r.status, 2) << args.back() << ": " << r.err;
  }
  RunResult r = Kappa({"log", "cursor", log_, "reader", "seek", "--to", "offset:8"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, "offset 8 is not the start of a")) << r.err;
  r = Kappa({"log", "cursor", log_, "reader", "seek", "--to", "offset:4096"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, "outside the retained range [0, 160]")) << r.err;
  r = Kappa({"log", "cursor", log_, "kappa.archive", "reset"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, "the archive's own cursor")) << r.err;
  EXPECT_TRUE(Contains(Cursors(), R"("position":32,)")) << Cursors();
}

}  // namespace
}  // namespace kappa::tools
