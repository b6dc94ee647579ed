// kappa kafka ingest, mirror and status as a user runs them, against librdkafka's mock cluster:
// a mirror and an ingester killed with SIGKILL over and over, with broker errors injected, still
// leave the second log equal to the first; bad input fails with one clear line.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <string>
#include <vector>

#include "tests/kafka/mock_cluster.h"
#include "tests/kafka/test_logs.h"
#include "tests/memlog/test_util.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools::testing {
namespace {

using kappa::testing::AppendNumbered;
using kappa::testing::MockCluster;
using kappa::testing::MustCreate;
using kappa::testing::Rows;
using memlog::testing::TempPath;

RunResult Kappa(const std::vector<std::string>& args) { return KappaProcess(args).Finish(); }

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
  std::vector<std::string> Ingest(const std::string& log, bool until_caught_up) const {
    std::vector<std::string> args = {"kafka", "ingest", log, "--brokers", brokers_, "--topic", "t"};
    if (until_caught_up) args.push_back("--until-caught-up");
    return args;
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
    // Errors for the clients to ride through: a lost leader, timeouts, dropped connections.
    cluster_.PushErrors(0 /* Produce */, {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                          RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
    cluster_.PushErrors(1 /* Fetch */, {RD_KAFKA_RESP_ERR__TRANSPORT});
    rd_kafka_mock_partition_set_leader(cluster_.get(), "t", 0, 1 + round % 3);
    KappaProcess mirror(Mirror(a_path_.str(), false));
    KappaProcess ingest(Ingest(b_path_.str(), false));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 400));
    mirror.Signal(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
    ingest.Signal(SIGKILL);
    EXPECT_EQ(mirror.Finish().status, 128 + SIGKILL) << "round " << round;
    EXPECT_EQ(ingest.Finish().status, 128 + SIGKILL) << "round " << round;
  }
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
