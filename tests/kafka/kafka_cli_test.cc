// kappa kafka ingest, mirror and status as a user runs them, against librdkafka's mock cluster:
// a mirror and an ingester killed with SIGKILL over and over, with broker errors injected, still
// leave the second log equal to the first; bad input fails with one clear line.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tests/kafka/mock_cluster.h"
#include "tests/kafka/test_logs.h"
#include "tests/memlog/test_util.h"
#include "tests/serving/test_util.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools::testing {
namespace {

using kappa::testing::AppendNumbered;
using kappa::testing::MockCluster;
using kappa::testing::MustCreate;
using kappa::testing::Rows;
using memlog::testing::TempPath;

RunResult Kappa(const std::vector<std::string>& args) { return KappaProcess(args).Finish(); }

std::uint64_t LatestOffset(const std::string& path) {
  auto log = memlog::Log::Open(path, {.read_only = true});
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? (*log)->latest_offset() : 0;
}

// `kappa log dump LOG --from offset:FROM --data-only`, each line without its offset.
std::vector<std::string> DumpWithoutOffsets(const std::string& log, std::uint64_t from) {
  RunResult r =
      Kappa({"log", "dump", log, "--from", "offset:" + std::to_string(from), "--data-only"});
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  for (std::string& line : lines) {
    EXPECT_TRUE(line.starts_with("offset=")) << line;
    line.erase(0, line.find(' ') + 1);
  }
  return lines;
}

// The first line where two dumps differ, for a failure message that can be read.
std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) return "record " + std::to_string(i) + ":\n  " + a[i] + "\n  " + b[i];
  return std::to_string(a.size()) + " records against " + std::to_string(b.size());
}

// `kappa gen` of the reference generator's events [first, first + count) into `log`.
void Gen(const std::string& log, int first, int count) {
  RunResult r = Kappa({"gen", log, "--generator", "reference", "--events", std::to_string(count),
                       "--first-event", std::to_string(first), "--base-time",
                       "2026-01-01T00:00:00Z", "--capacity", "256M"});
  ASSERT_EQ(r.status, 0) << r.err;
}

class KafkaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.ok());
    cluster_.CreateTopic("t", 1);
    brokers_ = cluster_.bootstraps();
  }
  std::vector<std::string> Mirror(const std::string& log, bool until_caught_up) const {
    std::vector<std::string> args = {"kafka", "mirror", log, "--brokers", brokers_, "--topic", "t"};
    if (until_caught_up) args.push_back("--until-caught-up");
    return args;
  }
  // The mock cluster holds an empty fetch for all of fetch.wait.max.ms even when records arrive
  // meanwhile (a broker answers as they do), so the ingesters here wait 10 ms, not 500.
  std::vector<std::string> Ingest(const std::string& log, bool until_caught_up,
                                  const std::string& topic = "t") const {
    std::vector<std::string> args = {"kafka",     "ingest",       log,
                                     "--brokers", brokers_,       "--topic",
                                     topic,       "--kafka-conf", "fetch.wait.max.ms=10"};
    if (until_caught_up) args.push_back("--until-caught-up");
    return args;
  }
  // Errors and delays for the clients to ride through: a lost leader, timeouts, dropped
  // connections, the leader moved and a slow broker.
  void InjectFaults(int round, std::mt19937& random) {
    cluster_.PushErrors(0 /* Produce */, {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                          RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
    cluster_.PushErrors(1 /* Fetch */, {RD_KAFKA_RESP_ERR__TRANSPORT});
    rd_kafka_mock_partition_set_leader(cluster_.get(), "t", 0, 1 + round % 3);
    for (int broker = 1; broker <= 3; ++broker)
      rd_kafka_mock_broker_set_rtt(cluster_.get(), broker, static_cast<int>(random() % 40));
  }
  void ClearDelays() {
    for (int broker = 1; broker <= 3; ++broker)
      rd_kafka_mock_broker_set_rtt(cluster_.get(), broker, 0);
  }
  void TearDown() override {
    ::unlink((a_path_.str() + ".types").c_str());
    ::unlink((b_path_.str() + ".types").c_str());
  }
  MockCluster cluster_;
  std::string brokers_;
  TempPath a_path_, b_path_;
};

TEST_F(KafkaCliTest, KilledMirrorsAndIngestersLoseAndDuplicateNothing) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  std::mt19937 random(2026);
  int appended = 0;
  for (int round = 0; round < 20; ++round) {
    AppendNumbered(a.get(), appended, 1000);
    appended += 1000;
    InjectFaults(round, random);
    KappaProcess mirror(Mirror(a_path_.str(), false));
    KappaProcess ingest(Ingest(b_path_.str(), false));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 400));
    mirror.Signal(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
    ingest.Signal(SIGKILL);
    EXPECT_EQ(mirror.Finish().status, 128 + SIGKILL) << "round " << round;
    EXPECT_EQ(ingest.Finish().status, 128 + SIGKILL) << "round " << round;
  }
  ClearDelays();
  RunResult mirrored = Kappa(Mirror(a_path_.str(), true));
  ASSERT_EQ(mirrored.status, 0) << mirrored.err;
  RunResult ingested = Kappa(Ingest(b_path_.str(), true));
  ASSERT_EQ(ingested.status, 0) << ingested.err;
  EXPECT_EQ(Rows(b.get()).size(), static_cast<std::size_t>(appended));
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));

  RunResult status = Kappa({"kafka", "status", b_path_.str(), "--brokers", brokers_});
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_TRUE(Contains(status.out, "ingested from Kafka:")) << status.out;
  EXPECT_TRUE(Contains(status.out, "mirrored: nothing")) << status.out;
  RunResult status_a = Kappa({"kafka", "status", a_path_.str()});
  ASSERT_EQ(status_a.status, 0) << status_a.err;
  EXPECT_TRUE(Contains(status_a.out, "mirrored to Kafka:")) << status_a.out;
}

// A million NEXMark events (the reference generator's, 146 bytes on average) from log A through
// the topic into log B, generated in rounds that fit what the mock cluster keeps of a partition
// (5 MiB). In 20 of the rounds the mirror and the ingester run side by side with broker errors,
// a moved leader and slow brokers, and are killed at random moments before they catch up. After
// each round `kappa log dump --data-only` of A and B, offsets aside, are equal record for record.
TEST_F(KafkaCliTest, AMillionNexmarkEventsRoundTripExactlyOnceThroughKills) {
  const std::string a = a_path_.str(), b = b_path_.str();
  constexpr int kEvents = 1'000'000, kPerRound = 15'000, kKilledRounds = 20;
  RunResult created = Kappa({"log", "create", b, "--capacity", "256M"});
  ASSERT_EQ(created.status, 0) << created.err;
  std::mt19937 random(13);
  int killed_rounds = 0;
  for (int first = 0, round = 0; first < kEvents; first += kPerRound, ++round) {
    const std::uint64_t a_from = first == 0 ? 0 : LatestOffset(a);
    const std::uint64_t b_from = LatestOffset(b);
    const int events = std::min(kPerRound, kEvents - first);
    Gen(a, first, events);
    if (first == 0) std::filesystem::copy_file(a + ".types", b + ".types");  // B's catalog
    if (round % 3 == 1 && killed_rounds < kKilledRounds) {
      ++killed_rounds;
      InjectFaults(round, random);
      KappaProcess mirror(Mirror(a, false));
      KappaProcess ingest(Ingest(b, false));
      std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 300));
      mirror.Signal(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
      ingest.Signal(SIGKILL);
      EXPECT_EQ(mirror.Finish().status, 128 + SIGKILL) << "round " << round;
      EXPECT_EQ(ingest.Finish().status, 128 + SIGKILL) << "round " << round;
    }
    RunResult mirrored = Kappa(Mirror(a, true));
    ASSERT_EQ(mirrored.status, 0) << "round " << round << ": " << mirrored.err;
    RunResult ingested = Kappa(Ingest(b, true));
    ASSERT_EQ(ingested.status, 0) << "round " << round << ": " << ingested.err;
    ClearDelays();
    const std::vector<std::string> from_a = DumpWithoutOffsets(a, a_from);
    const std::vector<std::string> from_b = DumpWithoutOffsets(b, b_from);
    ASSERT_EQ(from_a.size(), static_cast<std::size_t>(events)) << "round " << round;
    ASSERT_TRUE(from_a == from_b) << "round " << round << ", " << FirstDifference(from_a, from_b);
  }
  EXPECT_EQ(killed_rounds, kKilledRounds);
  // B holds its ingest positions too; --data-only is what left them out.
  RunResult whole_b = Kappa({"log", "dump", b, "--count", "100000"});
  EXPECT_TRUE(Contains(whole_b.out, "type=65281 ")) << "no position records in B";
}

// The rows of a view, as `kappa view scan --format jsonl` prints them, sorted, each without the
// log offset of its last update (the two nodes' logs interleave their ingest positions
// differently).
std::vector<std::string> ScanWithoutOffsets(const std::string& view, const std::string& ns) {
  RunResult r = Kappa({"view", "scan", view, "--ns", ns, "--format", "jsonl"});
  EXPECT_EQ(r.status, 0) << view << ": " << r.err;
  std::vector<std::string> rows = Lines(r.out);
  for (std::string& row : rows) {
    const std::size_t at = row.rfind(",\"offset\":");
    EXPECT_NE(at, std::string::npos) << row;
    if (at != std::string::npos) row.erase(at, row.size() - 1 - at);
  }
  std::sort(rows.begin(), rows.end());  // slot order follows the order keys came in
  return rows;
}

// Two nodes, each ingesting the one partition of a topic into its own log and running the same
// NEXMark queries over it, end with the same views, row for row and value for value.
TEST_F(KafkaCliTest, TwoNodesIngestingOnePartitionComputeIdenticalViews) {
  const std::string a = a_path_.str();
  TempPath node1, node2;
  serving::testing::TempNamespace ns1, ns2;
  cluster_.CreateTopic("shared", 1);
  constexpr int kEvents = 150'000, kPerRound = 15'000;
  for (const std::string& node : {node1.str(), node2.str()})
    ASSERT_EQ(Kappa({"log", "create", node, "--capacity", "64M"}).status, 0);
  for (int first = 0; first < kEvents; first += kPerRound) {
    Gen(a, first, kPerRound);
    RunResult mirrored = Kappa(
        {"kafka", "mirror", a, "--brokers", brokers_, "--topic", "shared", "--until-caught-up"});
    ASSERT_EQ(mirrored.status, 0) << mirrored.err;
    KappaProcess ingest1(Ingest(node1.str(), true, "shared"));
    KappaProcess ingest2(Ingest(node2.str(), true, "shared"));
    RunResult r1 = ingest1.Finish(), r2 = ingest2.Finish();
    ASSERT_EQ(r1.status, 0) << r1.err;
    ASSERT_EQ(r2.status, 0) << r2.err;
  }
  const std::vector<std::string> queries = {"q1", "q3", "q4", "q5", "q7", "q8", "q11"};
  for (const auto& [node, ns] : {std::pair{node1.str(), ns1.path()}, {node2.str(), ns2.path()}}) {
    std::filesystem::copy_file(a + ".types", node + ".types");
    std::vector<std::string> run = {"run"};
    run.insert(run.end(), queries.begin(), queries.end());
    run.insert(run.end(), {"--log", node, "--ns", ns, "--threads", "2", "--until-caught-up"});
    RunResult r = Kappa(run);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  for (const std::string& q : queries) {
    const std::vector<std::string> rows1 = ScanWithoutOffsets(q, ns1.path());
    const std::vector<std::string> rows2 = ScanWithoutOffsets(q, ns2.path());
    EXPECT_FALSE(rows1.empty()) << q;
    EXPECT_TRUE(rows1 == rows2) << q << ": " << FirstDifference(rows1, rows2);
  }
  ::unlink((node1.str() + ".types").c_str());
  ::unlink((node2.str() + ".types").c_str());
}

TEST_F(KafkaCliTest, SignalledMirrorAndIngesterStopCleanly) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 2000);
  KappaProcess mirror(Mirror(a_path_.str(), false));
  KappaProcess ingest(Ingest(b_path_.str(), false));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  mirror.Signal(SIGTERM);
  RunResult m = mirror.Finish();
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_TRUE(Contains(m.err, "mirrored 2000 records")) << m.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ingest.Signal(SIGINT);
  RunResult i = ingest.Finish();
  EXPECT_EQ(i.status, 0) << i.err;
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
}

TEST_F(KafkaCliTest, BadInputFailsWithOneClearLine) {
  auto a = MustCreate(a_path_.str());
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"kafka", "mirror", a_path_.str(), "--topic", "t"}, 2, "--brokers H:P is required"},
      {{"kafka", "ingest", a_path_.str(), "--brokers", brokers_}, 2, "--topic T is required"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", "127.0.0.1:1", "--topic", "t",
        "--connect-timeout", "1s"},
       1,
       "no Kafka broker of 127.0.0.1:1 answered within 1000 ms"},
      {{"kafka", "ingest", a_path_.str(), "--brokers", brokers_, "--topic", "missing"},
       1,
       "Kafka topic 'missing' does not exist"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--partition",
        "3"},
       1,
       "there is no partition 3"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--kafka-conf",
        "linger.ms=1", "--kafka-conf", "enable.idempotence=false"},
       1,
       "enable.idempotence=true for exactly once"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--kafka-conf",
        "novalue"},
       2,
       "use KEY=VALUE"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--key-field",
        "auction"},
       2,
       "no record type of"},
      {{"kafka", "ingest", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--type", "65281"},
       2,
       "--type"},
      {{"kafka", "mirror", a_path_.str(), "--brokers", brokers_, "--topic", "t", "--partition", "0",
        "--key-field", "x"},
       2,
       "not both"},
  };
  for (const Case& c : cases) {
    RunResult r = Kappa(c.args);
    std::string context = c.args[1];
    for (std::size_t k = 3; k < c.args.size(); ++k) context += " " + c.args[k];
    EXPECT_EQ(r.status, c.status) << context << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, c.says)) << context << ": " << r.err;
    if (!r.err.empty() && r.status == 2) ExpectOneErrorLine(r, context);
  }
}

}  // namespace
}  // namespace kappa::tools::testing
