// The Kafka mirror and ingester against the bare librdkafka loops they are built on, on the
// same records and the same mock cluster, in the same run: a mirror round (log -> topic,
// delivered) against a producer loop with the same settings and header, and an ingest round
// (topic -> log, with its position records) against a consumer loop that copies each payload
// out. Ratios are kappa's rate over the bare loop's; the target is 0.8 or more.
//
// The mock cluster runs in this process on loopback, so what is measured is the clients' cost
// plus the mock's, not a network's: the ratio is what it says, the absolute rates are not a
// Kafka cluster's.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kafka/ingest.h"
#include "kafka/mirror.h"
#include "kafka/records.h"
#include "memlog/log.h"
#include "memlog/producer.h"

namespace kappa::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "kafka_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(base::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().message());
  return std::move(*r);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const std::string& brokers,
                      std::vector<std::pair<const char*, const char*>> settings) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  settings.insert(settings.begin(), {"bootstrap.servers", brokers.c_str()});
  settings.push_back({"log_level", "0"});
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k, v, error, sizeof error) != RD_KAFKA_CONF_OK) Die(error);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) Die(error);
  return rk;
}

// The bare producer: the same payloads, settings and header as the mirror's, then a flush.
double BareProduce(const std::string& brokers, const std::string& topic,
                   const std::vector<std::string>& payloads) {
  rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, brokers,
                             {{"enable.idempotence", "true"},
                              {"acks", "all"},
                              {"linger.ms", "5"},
                              {"message.timeout.ms", "0"}});
  kafka::OriginHeader header;
  const auto start = Clock::now();
  std::uint64_t offset = 0;
  for (const std::string& p : payloads) {
    header.offset = offset++;
    const auto bytes = header.Encode();
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE(const_cast<char*>(p.data()), p.size()),
                             RD_KAFKA_V_HEADER(kafka::kOriginHeaderName, bytes.data(),
                                               static_cast<ssize_t>(bytes.size())),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 10);
    rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) Die("flush");
  const double s = Seconds(start);
  rd_kafka_destroy(rk);
  return s;
}

// The bare consumer: partition 0 from the start to its end, each payload copied out.
double BareConsume(const std::string& brokers, const std::string& topic, std::size_t count) {
  rd_kafka_t* rk = NewClient(
      RD_KAFKA_CONSUMER, brokers,
      {{"group.id", "bench"}, {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const auto start = Clock::now();
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<char> copy;
  std::size_t got = 0;
  while (got < count) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* p = static_cast<const char*>(m->payload);
      copy.insert(copy.end(), p, p + m->len);
      ++got;
    }
    rd_kafka_message_destroy(m);
  }
  const double s = Seconds(start);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return s;
}

void Row(const char* what, double rate, const char* baseline_what, double baseline) {
  std::printf("%-34s %10.0f rec/s | %-28s %10.0f rec/s | ratio %5.2f | target >= 0.80\n", what,
              rate, baseline_what, baseline, rate / baseline);
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;  // NOLINT: a benchmark's main
  std::size_t records = 20000;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--records="))
      records = std::stoull(a.substr(10));
    else if (a.starts_with("--rounds="))
      rounds = std::stoi(a.substr(9));
    else
      Die("unknown option " + a + " (--records=N --rounds=R)");
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  rd_kafka_t* host = NewClient(RD_KAFKA_PRODUCER, "", {});
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host, 1);
  const std::string brokers = rd_kafka_mock_cluster_bootstraps(cluster);
  std::vector<std::string> payloads(records);
  for (std::size_t i = 0; i < records; ++i)
    payloads[i].assign(100, static_cast<char>('a' + i % 26));
  std::printf(
      "kafka_bench: %zu records of 100 bytes per round, %d rounds, mock cluster of 1 broker\n\n",
      records, rounds);
  double mirror_s = 1e9, produce_s = 1e9, ingest_s = 1e9, consume_s = 1e9;
  for (int round = 0; round < rounds; ++round) {
    const std::string bare_topic = "bare-" + std::to_string(round);
    const std::string kappa_topic = "kappa-" + std::to_string(round);
    rd_kafka_mock_topic_create(cluster, bare_topic.c_str(), 1, 1);
    rd_kafka_mock_topic_create(cluster, kappa_topic.c_str(), 1, 1);
    produce_s = std::min(produce_s, BareProduce(brokers, bare_topic, payloads));
    consume_s = std::min(consume_s, BareConsume(brokers, bare_topic, records));

    const std::string a_path = UniqueShmPath("kafka-a"), b_path = UniqueShmPath("kafka-b");
    kappa::memlog::CreateOptions options;
    options.capacity = 64 << 20;
    auto a = Must(kappa::memlog::Log::Create(a_path, options), "create");
    auto b = Must(kappa::memlog::Log::Create(b_path, options), "create");
    auto producer = Must(a->NewProducer(), "producer");
    for (const std::string& p : payloads)
      if (producer->Append(std::as_bytes(std::span(p)), 1) != kappa::memlog::AppendResult::kOk)
        Die("append");
    kappa::kafka::MirrorOptions mo;
    mo.client.brokers = brokers;
    mo.topic = kappa_topic;
    mo.until_caught_up = true;
    auto mirror = Must(kappa::kafka::Mirror::Open(a.get(), mo), "mirror");
    auto start = Clock::now();
    auto sent = Must(mirror->Run([] { return false; }), "mirror run");
    mirror_s = std::min(mirror_s, Seconds(start));
    if (sent.records_sent != records) Die("mirror sent too few");
    kappa::kafka::IngestOptions io;
    io.client.brokers = brokers;
    io.topic = kappa_topic;
    io.until_caught_up = true;
    start = Clock::now();
    auto ingester = Must(kappa::kafka::Ingester::Open(b.get(), io), "ingest");
    auto taken = Must(ingester->Run([] { return false; }), "ingest run");
    ingest_s = std::min(ingest_s, Seconds(start));
    if (taken.records_appended != records) Die("ingest took too few");
    mirror.reset();
    ingester.reset();
    producer.reset();
    a.reset();
    b.reset();
    ::unlink(a_path.c_str());
    ::unlink(b_path.c_str());
  }
  const double n = static_cast<double>(records);
  Row("mirror (log -> Kafka, delivered)", n / mirror_s, "bare producer loop", n / produce_s);
  Row("ingest (Kafka -> log, positions)", n / ingest_s, "bare consumer loop", n / consume_s);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}
