// The Kafka mirror and ingester against the bare librdkafka loops they are built on, on the
// same records and the same mock cluster, in the same run, for records of 64 bytes and for the
// NEXMark reference generator's events (146 bytes on average):
// - throughput: a mirror round (log -> topic, delivered) against a producer loop with the same
//   settings and header, and an ingest round (topic -> log, with its position records) against
//   a consumer loop that copies each payload out; ratios are kappa's rate over the bare loop's,
//   the target 0.8 or more;
// - end-to-end latency at a paced rate: a record appended to log A until it can be read in log
//   B (mirror and ingester running), against a bare producer and consumer passing the send
//   time in the payload; ratios are the bare loop's latency over kappa's (1.0: no cost added).
//
// The consumers here use fetch.wait.max.ms=10: the mock cluster holds an empty fetch for all of
// it even when records arrive meanwhile (a broker answers as soon as they do), which would
// otherwise put up to 500 ms of the mock's own into every figure.
//
// The mock cluster runs in this process on loopback, so what is measured is the clients' cost
// plus the mock's, not a network's: the ratio is what it says, the absolute rates are not a
// Kafka cluster's.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "kafka/ingest.h"
#include "kafka/mirror.h"
#include "kafka/records.h"
#include "memlog/detail/ring.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "nexmark/generator.h"

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

constexpr const char* kFetchWait = "10";

// The clock a log stamps records with (CLOCK_REALTIME), for both sides' latencies.
std::int64_t WallNs() { return memlog::detail::UnixNs(); }

struct Workload {
  std::string name;
  std::vector<std::uint16_t> types;
  std::vector<std::string> payloads;
  double mean_size() const {
    double bytes = 0;
    for (const std::string& p : payloads) bytes += static_cast<double>(p.size());
    return bytes / static_cast<double>(payloads.size());
  }
};

Workload SixtyFourBytes(std::size_t records) {
  Workload w{"64B", {}, {}};
  for (std::size_t i = 0; i < records; ++i) {
    w.types.push_back(1);
    w.payloads.emplace_back(64, static_cast<char>('a' + i % 26));
  }
  return w;
}

Workload Nexmark(std::size_t records) {
  Workload w{"NEXMark", {}, {}};
  nexmark::GeneratorConfig config;
  config.kind = nexmark::GeneratorKind::kReference;
  config.base_time_ns = 1'767'225'600'000'000'000LL;  // 2026-01-01
  const nexmark::Generator generator(config);
  nexmark::Event event;
  for (std::size_t n = 0; n < records; ++n) {
    generator.Make(n, &event);
    const auto payload = event.payload();
    w.types.push_back(event.type());
    w.payloads.emplace_back(reinterpret_cast<const char*>(payload.data()), payload.size());
  }
  return w;
}

void ProduceOne(rd_kafka_t* rk, const std::string& topic, const std::string& payload,
                std::uint64_t offset) {
  kafka::OriginHeader header;
  header.offset = offset;
  const auto bytes = header.Encode();
  while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                           RD_KAFKA_V_HEADER(kafka::kOriginHeaderName, bytes.data(),
                                             static_cast<ssize_t>(bytes.size())),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
    rd_kafka_poll(rk, 10);
  rd_kafka_poll(rk, 0);
}

rd_kafka_t* BareProducer(const std::string& brokers) {
  return NewClient(RD_KAFKA_PRODUCER, brokers,
                   {{"enable.idempotence", "true"},
                    {"acks", "all"},
                    {"linger.ms", "5"},
                    {"message.timeout.ms", "0"}});
}

rd_kafka_t* BareConsumer(const std::string& brokers, const std::string& topic) {
  rd_kafka_t* rk = NewClient(
      RD_KAFKA_CONSUMER, brokers,
      {{"group.id", "bench"}, {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", kFetchWait}});
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  return rk;
}

// The bare producer: the same payloads, settings and header as the mirror's, then a flush.
double BareProduce(const std::string& brokers, const std::string& topic, const Workload& w) {
  rd_kafka_t* rk = BareProducer(brokers);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < w.payloads.size(); ++i) ProduceOne(rk, topic, w.payloads[i], i);
  if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) Die("flush");
  const double s = Seconds(start);
  rd_kafka_destroy(rk);
  return s;
}

// The bare consumer: partition 0 from the start to its end, each payload copied out.
double BareConsume(const std::string& brokers, const std::string& topic, std::size_t count) {
  const auto start = Clock::now();
  rd_kafka_t* rk = BareConsumer(brokers, topic);
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

kafka::MirrorOptions MirrorTo(const std::string& brokers, const std::string& topic) {
  kafka::MirrorOptions o;
  o.client.brokers = brokers;
  o.topic = topic;
  return o;
}

kafka::IngestOptions IngestFrom(const std::string& brokers, const std::string& topic) {
  kafka::IngestOptions o;
  o.client.brokers = brokers;
  o.client.conf = {{"fetch.wait.max.ms", kFetchWait}};
  o.topic = topic;
  return o;
}

// Two fresh logs in /dev/shm, removed when it goes.
struct LogPair {
  LogPair() {
    memlog::CreateOptions options;
    options.capacity = 64 << 20;
    a = Must(memlog::Log::Create(a_path, options), "create");
    b = Must(memlog::Log::Create(b_path, options), "create");
  }
  ~LogPair() {
    a.reset();
    b.reset();
    ::unlink(a_path.c_str());
    ::unlink(b_path.c_str());
  }
  std::string a_path = UniqueShmPath("kafka-a"), b_path = UniqueShmPath("kafka-b");
  std::unique_ptr<memlog::Log> a, b;
};

struct Throughput {
  double mirror_s = 1e9, produce_s = 1e9, ingest_s = 1e9, consume_s = 1e9;
};

void MeasureThroughput(rd_kafka_mock_cluster_t* cluster, const std::string& brokers,
                       const Workload& w, int round, Throughput* t) {
  const std::string bare_topic = "bare-" + w.name + std::to_string(round);
  const std::string kappa_topic = "kappa-" + w.name + std::to_string(round);
  rd_kafka_mock_topic_create(cluster, bare_topic.c_str(), 1, 1);
  rd_kafka_mock_topic_create(cluster, kappa_topic.c_str(), 1, 1);
  t->produce_s = std::min(t->produce_s, BareProduce(brokers, bare_topic, w));
  t->consume_s = std::min(t->consume_s, BareConsume(brokers, bare_topic, w.payloads.size()));

  LogPair logs;
  auto producer = Must(logs.a->NewProducer(), "producer");
  for (std::size_t i = 0; i < w.payloads.size(); ++i)
    if (producer->Append(std::as_bytes(std::span(w.payloads[i])), w.types[i]) !=
        memlog::AppendResult::kOk)
      Die("append");
  kafka::MirrorOptions mo = MirrorTo(brokers, kappa_topic);
  mo.until_caught_up = true;
  auto mirror = Must(kafka::Mirror::Open(logs.a.get(), mo), "mirror");
  auto start = Clock::now();
  auto sent = Must(mirror->Run([] { return false; }), "mirror run");
  t->mirror_s = std::min(t->mirror_s, Seconds(start));
  if (sent.records_sent != w.payloads.size()) Die("mirror sent too few");
  kafka::IngestOptions io = IngestFrom(brokers, kappa_topic);
  io.until_caught_up = true;
  start = Clock::now();
  auto ingester = Must(kafka::Ingester::Open(logs.b.get(), io), "ingest");
  auto taken = Must(ingester->Run([] { return false; }), "ingest run");
  t->ingest_s = std::min(t->ingest_s, Seconds(start));
  if (taken.records_appended != w.payloads.size()) Die("ingest took too few");
}

// Waits until the first (warm-up) record has arrived: until then a consumer may still be
// starting. Returns when the measured records' pacing starts.
Clock::time_point WaitForWarmUp(const std::atomic<std::size_t>& received) {
  while (received == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Clock::now();
}

// Sends a warm-up record, then w's records at `rate` per second (the bare loop: the send time in
// the payload's first 8 bytes) and returns each one's latency, sorted.
std::vector<std::int64_t> BareLatency(rd_kafka_mock_cluster_t* cluster, const std::string& brokers,
                                      const Workload& w, std::size_t count, double rate) {
  const std::string topic = "bare-latency-" + w.name;
  rd_kafka_mock_topic_create(cluster, topic.c_str(), 1, 1);
  rd_kafka_t* consumer = BareConsumer(brokers, topic);
  rd_kafka_t* producer = BareProducer(brokers);
  std::vector<std::int64_t> latencies;
  std::atomic<std::size_t> received{0};
  std::thread receive([&] {
    while (received < count + 1) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= 8) {
        std::int64_t sent;
        std::memcpy(&sent, m->payload, sizeof sent);
        latencies.push_back(WallNs() - sent);
        ++received;
      }
      rd_kafka_message_destroy(m);
    }
  });
  auto start = Clock::now();
  for (std::size_t i = 0; i <= count; ++i) {
    if (i == 1) start = WaitForWarmUp(received);
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                              static_cast<double>(i - (i > 0)) * 1e9 / rate)));
    std::string payload = w.payloads[i % w.payloads.size()];
    const std::int64_t now = WallNs();
    std::memcpy(payload.data(), &now, sizeof now);
    ProduceOne(producer, topic, payload, i);
  }
  receive.join();
  rd_kafka_flush(producer, 10000);
  rd_kafka_destroy(producer);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  latencies.erase(latencies.begin());  // the warm-up record's
  std::sort(latencies.begin(), latencies.end());
  return latencies;
}

// The same through kappa: appended to log A (its append time is the record's timestamp), mirrored,
// ingested into log B, read there.
std::vector<std::int64_t> KappaLatency(rd_kafka_mock_cluster_t* cluster, const std::string& brokers,
                                       const Workload& w, std::size_t count, double rate) {
  const std::string topic = "kappa-latency-" + w.name;
  rd_kafka_mock_topic_create(cluster, topic.c_str(), 1, 1);
  LogPair logs;
  auto mirror = Must(kafka::Mirror::Open(logs.a.get(), MirrorTo(brokers, topic)), "mirror");
  auto ingester = Must(kafka::Ingester::Open(logs.b.get(), IngestFrom(brokers, topic)), "ingest");
  std::atomic<bool> stop{false};
  std::thread mirroring([&] { Must(mirror->Run([&] { return stop.load(); }), "mirror run"); });
  std::thread ingesting([&] { Must(ingester->Run([&] { return stop.load(); }), "ingest run"); });
  std::vector<std::int64_t> latencies;
  std::atomic<std::size_t> received{0};
  std::thread receive([&] {
    auto reader = Must(logs.b->NewReader(memlog::StartAt::Earliest()), "reader");
    memlog::RecordBatch batch;
    while (received < count + 1) {
      if (reader->Wait(&batch, std::chrono::milliseconds(100)) != memlog::PollStatus::kOk) continue;
      const std::int64_t now = WallNs();
      for (const memlog::Record& r : batch)
        if (!memlog::IsReservedType(r.type)) {
          latencies.push_back(now - r.timestamp_ns);
          ++received;
        }
    }
  });
  auto producer = Must(logs.a->NewProducer(), "producer");
  auto start = Clock::now();
  for (std::size_t i = 0; i <= count; ++i) {
    if (i == 1) start = WaitForWarmUp(received);
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                              static_cast<double>(i - (i > 0)) * 1e9 / rate)));
    const std::size_t k = i % w.payloads.size();
    if (producer->Append(std::as_bytes(std::span(w.payloads[k])), w.types[k]) !=
        memlog::AppendResult::kOk)
      Die("append");
  }
  receive.join();
  stop = true;
  mirroring.join();
  ingesting.join();
  latencies.erase(latencies.begin());  // the warm-up record's
  std::sort(latencies.begin(), latencies.end());
  return latencies;
}

void Row(const std::string& what, double rate, const char* baseline_what, double baseline) {
  std::printf("%-44s %9.0f rec/s | %-19s %9.0f rec/s | ratio %5.2f | target >= 0.80\n",
              what.c_str(), rate, baseline_what, baseline, rate / baseline);
}

void LatencyRow(const std::string& what, const std::vector<std::int64_t>& kappa,
                const std::vector<std::int64_t>& bare) {
  auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
  std::printf(
      "%-44s p50 %6.2f ms p99 %6.2f ms max %6.2f | bare p50 %6.2f p99 %6.2f max %6.2f | "
      "bare/kappa p50 %4.2f p99 %4.2f\n",
      what.c_str(), ms(Percentile(kappa, 50)), ms(Percentile(kappa, 99)), ms(kappa.back()),
      ms(Percentile(bare, 50)), ms(Percentile(bare, 99)), ms(bare.back()),
      static_cast<double>(Percentile(bare, 50)) / static_cast<double>(Percentile(kappa, 50)),
      static_cast<double>(Percentile(bare, 99)) / static_cast<double>(Percentile(kappa, 99)));
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;  // NOLINT: a benchmark's main
  int rounds = 3;
  double rate = 2000;
  std::size_t latency_records = 4000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--rounds="))
      rounds = std::stoi(a.substr(9));
    else if (a.starts_with("--rate="))
      rate = std::stod(a.substr(7));
    else if (a.starts_with("--latency-records="))
      latency_records = std::stoull(a.substr(18));
    else
      Die("unknown option " + a + " (--rounds=R --rate=N --latency-records=N)");
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  rd_kafka_t* host = NewClient(RD_KAFKA_PRODUCER, "", {});
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host, 1);
  const std::string brokers = rd_kafka_mock_cluster_bootstraps(cluster);
  // Each round's topic stays within what the mock keeps of a partition (5 MiB).
  const std::vector<Workload> workloads = {SixtyFourBytes(30000), Nexmark(15000)};
  std::printf(
      "kafka_bench: mock cluster of 1 broker, best of %d rounds; latency: %zu records at "
      "%.0f/s\n\n",
      rounds, latency_records, rate);
  for (const Workload& w : workloads) {
    Throughput t;
    for (int round = 0; round < rounds; ++round) MeasureThroughput(cluster, brokers, w, round, &t);
    const double n = static_cast<double>(w.payloads.size());
    char what[64];
    std::snprintf(what, sizeof what, "%s (%zu of %.0f B avg): ", w.name.c_str(), w.payloads.size(),
                  w.mean_size());
    Row(std::string(what) + "mirror", n / t.mirror_s, "bare producer loop", n / t.produce_s);
    Row(std::string(what) + "ingest", n / t.ingest_s, "bare consumer loop", n / t.consume_s);
    const auto bare = BareLatency(cluster, brokers, w, latency_records, rate);
    const auto kappa = KappaLatency(cluster, brokers, w, latency_records, rate);
    LatencyRow(std::string(what) + "A -> Kafka -> B", kappa, bare);
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}
