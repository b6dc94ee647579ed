// The Kafka mirror and ingester against librdkafka's mock cluster: a log mirrored to a topic and
// ingested into another log arrives whole, once and in order, through re-sends, restarts,
// injected broker errors and key partitioning; bad input fails with an error naming it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "kafka/ingest.h"
#include "kafka/mirror.h"
#include "kafka/records.h"
#include "kafka/status.h"
#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "tests/kafka/mock_cluster.h"
#include "tests/kafka/test_logs.h"
#include "tests/memlog/test_util.h"

namespace kappa::kafka {
namespace {

using memlog::Log;
using memlog::testing::TempPath;
using testing::AppendNumbered;
using testing::CountType;
using testing::MockCluster;
using testing::MustCreate;
using testing::Row;
using testing::Rows;

ClientOptions Client(const MockCluster& cluster) {
  ClientOptions c;
  c.brokers = cluster.bootstraps();
  c.connect_timeout = std::chrono::milliseconds(5000);
  return c;
}

MirrorStats MirrorAll(Log* log, const MockCluster& cluster, const std::string& topic,
                      KeyFunction key = nullptr) {
  MirrorOptions options;
  options.client = Client(cluster);
  options.topic = topic;
  options.key = std::move(key);
  options.until_caught_up = true;
  auto mirror = Mirror::Open(log, options);
  EXPECT_TRUE(mirror.ok()) << mirror.status().message();
  if (!mirror.ok()) return {};
  auto stats = (*mirror)->Run([] { return false; });
  EXPECT_TRUE(stats.ok()) << stats.status().message();
  return stats.ok() ? *stats : MirrorStats{};
}

base::Result<IngestStats> IngestAll(Log* log, const MockCluster& cluster, const std::string& topic,
                                    std::optional<std::uint16_t> foreign_type = std::nullopt) {
  IngestOptions options;
  options.client = Client(cluster);
  options.topic = topic;
  options.until_caught_up = true;
  options.foreign_type = foreign_type;
  auto ingester = Ingester::Open(log, options);
  if (!ingester.ok()) return ingester.status();
  return (*ingester)->Run([] { return false; });
}

// Produces `count` plain Kafka records (no kappa header) "foreign <i>" to partition 0.
void ProduceForeign(const MockCluster& cluster, const std::string& topic, int first, int count,
                    std::size_t size = 0) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", cluster.bootstraps().c_str(), error, sizeof error);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  ASSERT_NE(rk, nullptr) << error;
  for (int i = first; i < first + count; ++i) {
    std::string value = "foreign " + std::to_string(i);
    if (value.size() < size) value.resize(size, '.');
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

TEST(KafkaRecordsTest, OriginHeaderRoundTrips) {
  OriginHeader header{7, 123456789, -42, *ParseOriginId("00112233445566778899aabbccddeeff")};
  auto bytes = header.Encode();
  ASSERT_EQ(bytes.size(), OriginHeader::kSize);
  auto back = OriginHeader::Decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, 7);
  EXPECT_EQ(back->offset, 123456789u);
  EXPECT_EQ(back->timestamp_ns, -42);
  EXPECT_EQ(OriginIdHex(back->origin), "00112233445566778899aabbccddeeff");
  EXPECT_FALSE(OriginHeader::Decode(std::span(bytes).first(34)));
  bytes[0] = std::byte{2};
  EXPECT_FALSE(OriginHeader::Decode(bytes));
  EXPECT_FALSE(ParseOriginId("0011"));
  EXPECT_FALSE(ParseOriginId("zz112233445566778899aabbccddeeff"));
}

TEST(KafkaRecordsTest, IngestPositionRoundTripsAndRefusesDamage) {
  IngestPosition position;
  position.topic = "bids";
  position.partitions = {{0, 17, {{*ParseOriginId("00112233445566778899aabbccddeeff"), 99}}},
                         {3, 1LL << 40, {}}};
  auto bytes = position.Encode();
  auto back = IngestPosition::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->topic, "bids");
  ASSERT_EQ(back->partitions.size(), 2u);
  EXPECT_EQ(back->partitions[0].next_offset, 17);
  ASSERT_EQ(back->partitions[0].origins.size(), 1u);
  EXPECT_EQ(back->partitions[0].origins[0].next_offset, 99u);
  EXPECT_EQ(back->partitions[1].partition, 3);
  EXPECT_EQ(back->partitions[1].next_offset, 1LL << 40);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    auto damaged = IngestPosition::Decode(std::span(bytes).first(cut));
    EXPECT_EQ(damaged.status().code(), base::StatusCode::kCorrupt) << "cut at " << cut;
  }
  auto longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(IngestPosition::Decode(longer).ok());
  auto reserved = bytes;  // what does not encode back the same is damage too
  reserved[1] = std::byte{1};
  EXPECT_FALSE(IngestPosition::Decode(reserved).ok());
}

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.ok());
    cluster_.CreateTopic("t", 1);
  }
  MockCluster cluster_;
  TempPath a_path_, b_path_;
};

TEST_F(KafkaTest, MirroredLogIngestsWholeOnceAndInOrder) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 20000);
  MirrorStats sent = MirrorAll(a.get(), cluster_, "t");
  EXPECT_EQ(sent.records_sent, 20000u);
  EXPECT_EQ(sent.cursor_offset, a->latest_offset());
  auto taken = IngestAll(b.get(), cluster_, "t");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(taken->records_appended, 20000u);
  EXPECT_EQ(taken->duplicates_dropped, 0u);
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
  EXPECT_EQ(CountType(b.get(), memlog::kKafkaPositionType), taken->batches);

  auto positions = Ingester::ReadPositions(b.get(), "t");
  ASSERT_TRUE(positions.ok());
  ASSERT_EQ(positions->size(), 1u);
  ASSERT_EQ((*positions)[0].partitions.size(), 1u);
  EXPECT_EQ((*positions)[0].partitions[0].next_offset, 20000);
  ASSERT_EQ((*positions)[0].partitions[0].origins.size(), 1u);
  EXPECT_EQ(OriginIdHex((*positions)[0].partitions[0].origins[0].origin), a->identity());

  // The status: nothing behind on either side.
  ClientOptions client = Client(cluster_);
  auto status_b = ReadLinkStatus(b.get(), &client);
  ASSERT_TRUE(status_b.ok()) << status_b.status().message();
  ASSERT_EQ(status_b->ingests.size(), 1u);
  EXPECT_EQ(status_b->ingests[0].lag_records(), 0);
  auto status_a = ReadLinkStatus(a.get(), nullptr);
  ASSERT_TRUE(status_a.ok());
  ASSERT_EQ(status_a->mirrors.size(), 1u);
  EXPECT_EQ(status_a->mirrors[0].topic, "t");
  EXPECT_EQ(status_a->mirrors[0].lag_records, 0u);
  AppendNumbered(a.get(), 20000, 5);
  status_a = ReadLinkStatus(a.get(), nullptr);
  EXPECT_EQ(status_a->mirrors[0].lag_records, 5u);
  EXPECT_GT(status_a->mirrors[0].lag_bytes, 5u * 24);
}

TEST_F(KafkaTest, ReSentRecordsReachKafkaButNotTheLog) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 3000);
  MirrorAll(a.get(), cluster_, "t");
  ASSERT_TRUE(IngestAll(b.get(), cluster_, "t").ok());
  // A mirror that lost its cursor sends the whole log again.
  ASSERT_TRUE(a->DeleteCursor(Mirror::CursorName("t")).ok());
  EXPECT_EQ(MirrorAll(a.get(), cluster_, "t").records_sent, 3000u);
  AppendNumbered(a.get(), 3000, 100);
  MirrorAll(a.get(), cluster_, "t");
  auto taken = IngestAll(b.get(), cluster_, "t");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(taken->duplicates_dropped, 3000u);
  EXPECT_EQ(taken->records_appended, 100u);
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
  // An ingester started from the earliest offset instead of its position still drops them.
  IngestOptions options;
  options.client = Client(cluster_);
  options.topic = "t";
  options.start = IngestStart::kEarliest;
  options.until_caught_up = true;
  auto again = Ingester::Open(b.get(), options);
  ASSERT_TRUE(again.ok());
  auto stats = (*again)->Run([] { return false; });
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->records_appended, 0u);
  EXPECT_EQ(stats->duplicates_dropped, 6100u);
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
}

TEST_F(KafkaTest, ALogThatMirrorsToAndIngestsFromOneTopicTakesOnlyTheOthersRecords) {
  auto a = MustCreate(a_path_.str());
  auto other = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 100);
  AppendNumbered(other.get(), 100, 50);
  MirrorAll(a.get(), cluster_, "t");
  MirrorAll(other.get(), cluster_, "t");
  auto taken = IngestAll(a.get(), cluster_, "t");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(taken->records_appended, 50u);
  EXPECT_EQ(taken->own_records_dropped, 100u);
  ASSERT_EQ(Rows(a.get()).size(), 150u);
  // What it took goes out again under its own name, and does not come back in.
  EXPECT_EQ(MirrorAll(a.get(), cluster_, "t").records_sent, 50u);
  taken = IngestAll(a.get(), cluster_, "t");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(taken->records_appended, 0u);
  EXPECT_EQ(taken->own_records_dropped, 50u);
  EXPECT_EQ(Rows(a.get()).size(), 150u);
}

TEST_F(KafkaTest, IngesterResumesFromTheLogsPosition) {
  auto b = MustCreate(b_path_.str());
  ProduceForeign(cluster_, "t", 0, 500);
  auto first = IngestAll(b.get(), cluster_, "t", 9);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->records_appended, 500u);
  ProduceForeign(cluster_, "t", 500, 250);
  auto second = IngestAll(b.get(), cluster_, "t", 9);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->records_appended, 250u);
  std::vector<Row> rows = Rows(b.get());
  ASSERT_EQ(rows.size(), 750u);
  for (int i = 0; i < 750; ++i) {
    EXPECT_EQ(std::get<0>(rows[i]), 9);
    EXPECT_EQ(std::get<2>(rows[i]), "foreign " + std::to_string(i));
    EXPECT_GT(std::get<1>(rows[i]), 0);  // Kafka's timestamp
  }
}

TEST_F(KafkaTest, ForeignRecordWithoutATypeIsAnErrorAfterWhatPrecedesIt) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 10);
  MirrorAll(a.get(), cluster_, "t");
  ProduceForeign(cluster_, "t", 0, 1);
  auto taken = IngestAll(b.get(), cluster_, "t");
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("t partition 0 offset 10 has no kappa header"),
            std::string::npos)
      << taken.status().message();
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
  // Resumed with a type for such records, it takes the foreign one and nothing twice.
  auto typed = IngestAll(b.get(), cluster_, "t", 5);
  ASSERT_TRUE(typed.ok()) << typed.status().message();
  EXPECT_EQ(typed->records_appended, 1u);
  EXPECT_EQ(Rows(b.get()).size(), 11u);
}

TEST_F(KafkaTest, ResumingBelowWhatKafkaStillKeepsNamesTheLostOffsets) {
  auto b = MustCreate(b_path_.str());
  ProduceForeign(cluster_, "t", 0, 10);
  ASSERT_TRUE(IngestAll(b.get(), cluster_, "t", 9).ok());
  // The mock cluster keeps about 5 MiB of a partition: older records go, as retention does.
  ProduceForeign(cluster_, "t", 10, 200, 64 << 10);
  auto resumed = IngestAll(b.get(), cluster_, "t", 9);
  ASSERT_FALSE(resumed.ok());
  EXPECT_EQ(resumed.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(resumed.status().message().find("partition 0 at offset 10, but Kafka keeps it from"),
            std::string::npos)
      << resumed.status().message();
  EXPECT_EQ(Rows(b.get()).size(), 10u);
}

TEST_F(KafkaTest, BrokerErrorsAndLeaderChangesLoseAndDuplicateNothing) {
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 5000);
  cluster_.PushErrors(
      0 /* Produce */,
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
       RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS});
  cluster_.PushErrors(1 /* Fetch */,
                      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR__TRANSPORT});
  rd_kafka_mock_partition_set_leader(cluster_.get(), "t", 0, 2);
  MirrorAll(a.get(), cluster_, "t");
  rd_kafka_mock_partition_set_leader(cluster_.get(), "t", 0, 3);
  auto taken = IngestAll(b.get(), cluster_, "t");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(Rows(b.get()), Rows(a.get()));
}

TEST_F(KafkaTest, KeyedRecordsSpreadOverPartitionsAndKeepTheirOrderPerKey) {
  cluster_.CreateTopic("keyed", 3);
  auto a = MustCreate(a_path_.str());
  auto b = MustCreate(b_path_.str());
  AppendNumbered(a.get(), 0, 3000);
  // Key: the record's number modulo 7, from its text.
  auto key = [](const memlog::Record& r) -> std::optional<std::span<const std::byte>> {
    return r.payload.subspan(r.payload.size() - 1);  // its last letter
  };
  MirrorAll(a.get(), cluster_, "keyed", key);
  auto taken = IngestAll(b.get(), cluster_, "keyed");
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  std::vector<Row> in = Rows(a.get());
  std::vector<Row> out = Rows(b.get());
  ASSERT_EQ(out.size(), in.size());
  std::vector<Row> sorted_in = in, sorted_out = out;
  std::sort(sorted_in.begin(), sorted_in.end());
  std::sort(sorted_out.begin(), sorted_out.end());
  EXPECT_EQ(sorted_out, sorted_in);
  // Per key, the order of the origin log.
  std::map<char, std::vector<Row>> by_key_in, by_key_out;
  for (const Row& r : in) by_key_in[std::get<2>(r).back()].push_back(r);
  for (const Row& r : out) by_key_out[std::get<2>(r).back()].push_back(r);
  EXPECT_EQ(by_key_out, by_key_in);
  auto positions = Ingester::ReadPositions(b.get(), "keyed");
  ASSERT_TRUE(positions.ok());
  ASSERT_EQ((*positions)[0].partitions.size(), 3u);
  int used = 0;
  for (const PartitionPosition& p : (*positions)[0].partitions) used += p.next_offset > 0;
  EXPECT_GE(used, 2);
}

TEST_F(KafkaTest, UnreachableBrokersMissingTopicsAndPartitionsAreClearErrors) {
  auto a = MustCreate(a_path_.str());
  MirrorOptions options;
  options.client.brokers = "127.0.0.1:1";
  options.client.connect_timeout = std::chrono::milliseconds(1500);
  options.topic = "t";
  auto unreachable = Mirror::Open(a.get(), options);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("no Kafka broker of 127.0.0.1:1 answered"),
            std::string::npos)
      << unreachable.status().message();

  IngestOptions ingest;
  ingest.client = Client(cluster_);
  ingest.client.conf = {{"allow.auto.create.topics", "false"}};
  ingest.topic = "no-such-topic";
  auto missing = Ingester::Open(a.get(), ingest);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'no-such-topic' does not exist"), std::string::npos)
      << missing.status().message();

  ingest.topic = "t";
  ingest.partitions = {4};
  auto no_partition = Ingester::Open(a.get(), ingest);
  ASSERT_FALSE(no_partition.ok());
  EXPECT_NE(no_partition.status().message().find("there is no partition 4"), std::string::npos);

  options.client = Client(cluster_);
  options.client.conf = {{"acks", "1"}};
  auto weakened = Mirror::Open(a.get(), options);
  ASSERT_FALSE(weakened.ok());
  EXPECT_NE(weakened.status().message().find("acks=all for exactly once"), std::string::npos)
      << weakened.status().message();
  options.client.conf = {{"no.such.setting", "1"}};
  auto unknown = Mirror::Open(a.get(), options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no.such.setting"), std::string::npos);
}

}  // namespace
}  // namespace kappa::kafka
