// kappa gen, run and reprocess, through the built binary (KAPPA_BINARY): normal use, the formats
// other programs read, bad input, and interruption.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "serving/namespace.h"
#include "serving/view_reader.h"
#include "tests/serving/test_util.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using serving::testing::TempNamespace;
using testing::Contains;
using testing::ExpectOneErrorLine;
using testing::KappaProcess;
using testing::Lines;
using testing::RunResult;

class NexmarkCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = "/dev/shm/kappa-test-nexmark-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log";
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    ::unlink(log_.c_str());
    ::unlink((log_ + ".types").c_str());
  }
  RunResult Kappa(const std::vector<std::string>& args) { return KappaProcess(args).Finish(); }
  void Gen(std::uint64_t events) {
    const RunResult r = Kappa({"gen", log_, "--events", std::to_string(events), "--capacity", "64M",
                               "--base-time", "2026-01-01T00:00:00Z", "--event-rate", "1000"});
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(Contains(r.out, "generated " + std::to_string(events) + " events")) << r.out;
  }
  std::vector<std::string> Run(std::vector<std::string> args) {
    args.insert(args.end(), {"--log", log_, "--ns", ns_.path(), "--threads", "2"});
    return args;
  }

  std::string log_;
  TempNamespace ns_;
  int version_ = 0;
};

TEST_F(NexmarkCliTest, ShouldGenerateEventsThatDumpAsJsonWithTheirFields) {
  Gen(5000);
  const RunResult r = Kappa({"log", "dump", log_, "--format", "jsonl", "--count", "5"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  // Event 0 is a person, 1-3 auctions, 4 a bid; event time from the base time at 1000/s.
  EXPECT_TRUE(lines[0].starts_with("{\"offset\":0,\"type\":1,\"timestamp_ns\":")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], ",\"kind\":\"person\",\"id\":1000,\"name\":\"")) << lines[0];
  // The default generator writes no padding: the record's tail is empty.
  EXPECT_TRUE(Contains(lines[0], ",\"date_time\":1767225600000000000,\"extra\":\"\"}")) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "\"kind\":\"auction\",\"id\":1000,\"item_name\":")) << lines[1];
  EXPECT_TRUE(Contains(lines[1], ",\"seller\":1000,\"category\":")) << lines[1];
  EXPECT_TRUE(Contains(lines[4], "\"kind\":\"bid\",\"auction\":")) << lines[4];
  EXPECT_TRUE(Contains(lines[4], ",\"date_time\":1767225600004000000,\"extra\":\"\"}")) << lines[4];
  // The same seed and base time give the same events (appended at another time).
  auto without_timestamps = [](std::string text) {
    const std::string member = "\"timestamp_ns\":";
    for (auto at = text.find(member); at != std::string::npos; at = text.find(member, at)) {
      auto end = at + member.size();
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      text.erase(at, end - at);
    }
    return text;
  };
  const std::string first = without_timestamps(r.out);
  Remove();
  Gen(5000);
  EXPECT_EQ(
      without_timestamps(Kappa({"log", "dump", log_, "--format", "jsonl", "--count", "5"}).out),
      first);
  // Text shows the fields too.
  const RunResult text = Kappa({"log", "dump", log_, "--count", "1"});
  EXPECT_TRUE(Contains(text.out, " kind=person id=1000 name=")) << text.out;
}

// The reference generator's events dump as the nexmark project's (its first person and first
// bid, tests/nexmark/data/), padding included; a base time in a fraction of a millisecond is
// refused.
TEST_F(NexmarkCliTest, ShouldGenerateTheReferenceEventsWithTheirPadding) {
  const RunResult r = Kappa({"gen", log_, "--generator", "reference", "--events", "5", "--capacity",
                             "1M", "--base-time", "2026-01-01T00:00:00Z"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "; reference generator)")) << r.out;
  const RunResult dump = Kappa({"log", "dump", log_, "--format", "jsonl"});
  ASSERT_EQ(dump.status, 0) << dump.err;
  const auto lines = Lines(dump.out);
  ASSERT_EQ(lines.size(), 5u) << dump.out;
  EXPECT_TRUE(
      Contains(lines[0],
               "\"kind\":\"person\",\"id\":1000,\"name\":\"Peter Jones\","
               "\"email_address\":\"nhd@xcat.com\",\"credit_card\":\"7241 7320 9143 4888\","
               "\"city\":\"Portland\",\"state\":\"WY\",\"date_time\":1767225600000000000,"
               "\"extra\":\"WN_HS_bnpkkiwhwana_L^`KZjdgsid`K]MLU[aaOH`ztxbulvlxtkn_ZZ^T\\\\mqgd"))
      << lines[0];
  EXPECT_TRUE(
      Contains(lines[4], "\"kind\":\"bid\",\"auction\":1000,\"bidder\":1001,\"price\":32530001,"))
      << lines[4];
  EXPECT_TRUE(Contains(lines[4], "\"extra\":\"fdiysaV^]NLVsbolvyqwgticfdrwdyiyofziYMU\\\\Z`UaTQO]"))
      << lines[4];
  Remove();
  const RunResult bad = Kappa({"gen", log_, "--generator", "reference", "--events", "5",
                               "--base-time", "1000000000000000001"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(Contains(bad.err, "whole number of them")) << bad.err;
  const RunResult unknown = Kappa({"gen", log_, "--generator", "beam", "--events", "5"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_TRUE(Contains(unknown.err, "'beam' is not default or reference")) << unknown.err;
}

// A pass-through query keeps the newest 65,536 rows by default, and all of them with enough
// --list-rows.
TEST_F(NexmarkCliTest, ShouldKeepAsManyResultRowsAsAskedFor) {
  Gen(80'000);  // 73,600 bids
  auto rows_of = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", "q0", "--until-caught-up", "--version",
                                     std::to_string(++version_)};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = Kappa(Run(args));
    EXPECT_EQ(r.status, 0) << r.err;
    const RunResult scan = Kappa({"view", "scan", "q0@" + std::to_string(version_), "--ns",
                                  ns_.path(), "--format", "jsonl"});
    EXPECT_EQ(scan.status, 0) << scan.err;
    return Lines(scan.out).size();
  };
  EXPECT_EQ(rows_of({}), 65'536u);
  EXPECT_EQ(rows_of({"--list-rows", "100000"}), 73'600u);
  EXPECT_EQ(rows_of({"--list-rows", "10"}), 10u);
  const RunResult bad = Kappa(Run({"run", "q0", "--until-caught-up", "--list-rows", "0"}));
  EXPECT_EQ(bad.status, 2) << bad.err;
}

TEST_F(NexmarkCliTest, ShouldRunQueriesIntoViewsThatScanAsJsonLines) {
  Gen(20000);
  const RunResult r = Kappa(Run({"run", "q2", "q7", "--until-caught-up", "--modulus", "10"}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // header, q2, q7, what the latency means
  EXPECT_TRUE(lines[3].starts_with("p50, p99: of the records appended while the queries ran"))
      << r.out;
  EXPECT_TRUE(Contains(lines[1], "  -    -  ok")) << r.out;  // a replay has no latency
  EXPECT_TRUE(lines[0].starts_with("query")) << r.out;
  EXPECT_TRUE(lines[1].starts_with("q2 ")) << r.out;
  EXPECT_TRUE(Contains(lines[1], " 18400 ")) << r.out;  // 46 bids in every 50 events
  EXPECT_TRUE(Contains(lines[2], " ok")) << r.out;

  const RunResult q2 = Kappa({"view", "scan", "q2", "--ns", ns_.path(), "--format", "jsonl"});
  ASSERT_EQ(q2.status, 0) << q2.err;
  const auto rows = Lines(q2.out);
  ASSERT_GT(rows.size(), 100u);
  for (const std::string& row : rows) {
    ASSERT_TRUE(row.starts_with("{\"index\":")) << row;
    ASSERT_TRUE(Contains(row, ",\"auction\":")) << row;
    const auto at = row.find("\"auction\":") + 10;
    ASSERT_EQ(std::stoll(row.substr(at)) % 10, 0) << row;
  }
  // Q7: the highest bids of each 10 s window of the 20 s of events (one each here: no ties), a
  // result list of the bids' fields and the window.
  const RunResult q7 = Kappa({"view", "scan", "q7", "--ns", ns_.path(), "--format", "jsonl"});
  ASSERT_EQ(q7.status, 0) << q7.err;
  const auto windows = Lines(q7.out);
  ASSERT_EQ(windows.size(), 2u) << q7.out;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    EXPECT_TRUE(windows[i].starts_with("{\"index\":" + std::to_string(i) + ",\"auction\":"))
        << windows[i];
    EXPECT_TRUE(Contains(windows[i], ",\"extra\":\"\",\"window_start\":" +
                                         std::to_string(1767225600000000000 + i * 10000000000) +
                                         ",\"window_end\":"))
        << windows[i];
  }
}

TEST_F(NexmarkCliTest, ShouldReprocessAChangedQueryAndFlipItsView) {
  Gen(10000);
  ASSERT_EQ(Kappa(Run({"run", "q1", "--until-caught-up"})).status, 0);
  const RunResult r = Kappa(Run({"reprocess", "q1", "--euro-rate", "2", "--exit-after-flip"}));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "1. starting q1 as a new version of view q1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "while version 1 serves")) << r.out;
  EXPECT_TRUE(Contains(r.out, "2. caught up: 9200 records")) << r.out;
  EXPECT_TRUE(Contains(r.out, "3. flipped q1 to version 2")) << r.out;
  EXPECT_TRUE(Contains(r.out, "4. version 1 stays for an instant revert")) << r.out;

  auto v1 = std::move(serving::ViewReader::Open(ns_.path(), "q1@1")).value();
  auto v2 = std::move(serving::ViewReader::Open(ns_.path(), "q1")).value();
  EXPECT_EQ(v2->version(), 2u);
  std::vector<double> old_prices, new_prices;
  EXPECT_EQ(v1->Scan([&](const serving::RowView& row) {
    old_prices.push_back(v1->schema().GetF64(row.value, 2));
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(v2->Scan([&](const serving::RowView& row) {
    new_prices.push_back(v2->schema().GetF64(row.value, 2));
    return true;
  }),
            serving::ReadStatus::kOk);
  ASSERT_EQ(old_prices.size(), 9200u);
  ASSERT_EQ(new_prices.size(), old_prices.size());
  for (std::size_t i = 0; i < old_prices.size(); ++i)
    ASSERT_DOUBLE_EQ(new_prices[i], old_prices[i] / 0.908 * 2) << i;
  // Revert goes back to version 1.
  ASSERT_EQ(Kappa({"view", "revert", "q1", "--ns", ns_.path()}).status, 0);
  EXPECT_EQ(std::move(serving::ViewReader::Open(ns_.path(), "q1")).value()->version(), 1u);
}

TEST_F(NexmarkCliTest, ShouldRefuseBadInputWithOneLine) {
  Gen(100);
  struct Case {
    std::vector<std::string> args;
    int status;
    const char* error;
  };
  const std::string not_a_log = log_ + ".types";  // a text file
  const std::vector<Case> cases = {
      {{"run", "q42", "--log", log_, "--ns", ns_.path()}, 2, "unknown query 'q42'"},
      {{"run", "q1", "--ns", ns_.path()}, 2, "--log LOG is required"},
      {{"run", "--log", log_}, 2, "no QUERY given"},
      {{"run", "q1", "--log", "/dev/shm/kappa-test-no-such.log", "--ns", ns_.path()},
       1,
       "kappa-test-no-such.log"},
      {{"run", "q1", "--log", not_a_log, "--ns", ns_.path()}, 1, ".types"},
      {{"run", "q5", "--log", log_, "--slide-ms", "20000", "--ns", ns_.path()},
       2,
       "--slide-ms must not exceed"},
      {{"run", "q1", "--log", log_, "--partitions", "3", "--ns", ns_.path()},
       2,
       "not a power of two"},
      {{"run", "q1", "--log", log_, "--euro-rate", "abc", "--ns", ns_.path()},
       2,
       "--euro-rate: 'abc'"},
      {{"run", "q1", "--log", log_, "--from", "yesterday", "--ns", ns_.path()}, 2, "--from"},
      {{"gen", log_, "--rate", "fast"}, 2, "--rate"},
      {{"gen"}, 2, "LOG"},
      {{"gen", not_a_log, "--events", "10"}, 1, ".types"},
      {{"reprocess", "q1", "--log", log_, "--from", "latest", "--ns", ns_.path()},
       2,
       "--from latest"},
      {{"reprocess", "q1", "q2", "--log", log_, "--ns", ns_.path()}, 2, "unexpected argument 'q2'"},
  };
  for (const Case& c : cases) {
    const RunResult r = Kappa(c.args);
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    EXPECT_EQ(r.status, c.status) << joined << r.err;
    ExpectOneErrorLine(r, joined);
    EXPECT_TRUE(Contains(r.err, c.error)) << joined << r.err;
  }
  // A query whose view exists already says what to do instead.
  ASSERT_EQ(Kappa(Run({"run", "q2", "--until-caught-up"})).status, 0);
  const RunResult again = Kappa(Run({"run", "q2", "--until-caught-up"}));
  EXPECT_EQ(again.status, 1);
  ExpectOneErrorLine(again, "run again");
  EXPECT_TRUE(Contains(again.err, "already exists (run it as a new version with --version N"))
      << again.err;
  EXPECT_EQ(Kappa(Run({"run", "q2", "--until-caught-up", "--version", "2"})).status, 0);
  // The log is untouched by all that.
  EXPECT_EQ(Kappa({"log", "verify", log_}).status, 0);
}

TEST_F(NexmarkCliTest, ShouldCountRecordsOfTheWrongShapeAsMalformed) {
  ASSERT_EQ(Kappa({"log", "create", log_, "--capacity", "1M"}).status, 0);
  // Two records of the bid type that are not bids.
  ASSERT_EQ(KappaProcess({"log", "append", log_, "--type", "3"}, {.input = "not a bid\nnor this\n"})
                .Finish()
                .status,
            0);
  const RunResult r = Kappa(Run({"run", "q1", "--until-caught-up"}));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("query  records  results  late  malformed")) << r.out;
  std::istringstream words(lines[1]);
  std::string query, records, results, late, malformed;
  words >> query >> records >> results >> late >> malformed;
  EXPECT_EQ(query, "q1") << r.out;
  EXPECT_EQ(results, "0") << r.out;
  EXPECT_EQ(malformed, "2") << r.out;
}

TEST_F(NexmarkCliTest, ShouldLeaveALogIntactWhenGenerationIsInterrupted) {
  KappaProcess gen({"gen", log_, "--events", "0", "--rate", "20000", "--capacity", "64M"});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  gen.Signal(SIGINT);
  const RunResult r = gen.Finish(std::chrono::seconds(30));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "(interrupted)")) << r.out;
  const RunResult verify = Kappa({"log", "verify", log_});
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  // Every event the summary counts is in the log, whole.
  const auto at = r.out.find("generated ") + 10;
  const std::uint64_t generated = std::stoull(r.out.substr(at));
  ASSERT_GT(generated, 1000u);
  EXPECT_TRUE(Contains(verify.out, "ok: " + std::to_string(generated) + " records")) << verify.out;
}

TEST_F(NexmarkCliTest, ShouldStopARunningQueryCleanlyOnInterrupt) {
  Gen(2000);
  KappaProcess run(Run({"run", "q5"}));
  // Wait for the view to appear and reflect the log.
  bool applied = false;
  for (int i = 0; i < 300 && !applied; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto reader = serving::ViewReader::Open(ns_.path(), "q5");
    applied = reader.ok() && (*reader)->applied_offset() > 0;
  }
  ASSERT_TRUE(applied);
  run.Signal(SIGINT);
  const RunResult r = run.Finish(std::chrono::seconds(30));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "q5 ")) << r.out;
  EXPECT_EQ(Kappa({"view", "info", "q5", "--ns", ns_.path()}).status, 0);
}

// The main job, shortened: every step runs and every check passes, and nothing is left behind.
TEST(TourCliTest, ShouldWalkThroughTheKappaArchitectureAndPassItsChecks) {
  const RunResult r =
      KappaProcess({"tour", "--seconds", "2", "--rate", "20000", "--threads", "2"}).Finish();
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  for (const char* step : {"1-2. The speed layer", "3. The serving layer", "4. Reprocessing",
                           "flipped", "5. Batch is a replay", "All checks passed."})
    EXPECT_TRUE(Contains(r.out, step)) << step << "\n" << r.out;
  EXPECT_TRUE(Contains(r.out, "it saw q5 move from version 1 to 2 at its read #")) << r.out;
  for (const char* q : {"   q1 ", "   q2 ", "   q7 ", "   q8 "}) {
    bool found = false;
    for (const std::string& line : Lines(r.out))
      found = found || (line.starts_with(q) && line.ends_with("live == replay"));
    EXPECT_TRUE(found) << q << "\n" << r.out;
  }
  const auto at = r.out.find("/dev/shm/kappa-tour-");
  ASSERT_NE(at, std::string::npos);
  const std::string log = r.out.substr(at, r.out.find(',', at) - at);
  EXPECT_NE(::access(log.c_str(), F_OK), 0) << log << " is left behind";
  // Reprocessing replayed more history than the ring held, from the archive, which is gone too.
  EXPECT_TRUE(Contains(r.out, "the archive's")) << r.out;
  const auto archive_at = r.out.find("segment files in ");
  ASSERT_NE(archive_at, std::string::npos) << r.out;
  const std::string archive =
      r.out.substr(archive_at + 17, r.out.find(". Every", archive_at) - archive_at - 17);
  EXPECT_NE(::access(archive.c_str(), F_OK), 0) << archive << " is left behind";
}

}  // namespace
}  // namespace kappa::tools
