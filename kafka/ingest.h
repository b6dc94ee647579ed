// Ingester: consumes a Kafka topic into a kappa log, exactly once.
//
// Each batch of consumed Kafka records is appended together with one position record (type
// memlog::kKafkaPositionType, kafka/records.h: the topic and, per partition, the next Kafka offset
// and what has been taken from each origin log) in one all-or-nothing AppendBatch. A restarted
// ingester resumes from the last position the log holds, so a crash between consuming and
// appending loses nothing and takes nothing twice. Kafka consumer-group commits are made for
// monitoring only; they are never read back.
//
// Records a kappa mirror published (they carry the `kappa` header) get their type and timestamp
// back, and one whose kappa offset is below what this log has already taken from that origin
// log through that partition is dropped: a mirror that re-sent after a restart leaves duplicates
// in Kafka but none in the log. Records of other producers need a record type (`foreign_type`)
// and keep Kafka's timestamp. Records a mirror of this very log published are dropped too (a log
// that both mirrors to and ingests from one topic takes only the others' records).
//
// One ingester per log and topic partition: two that take the same partition into one log at
// once both append it.
//
// Thread safety: one thread at a time per Ingester.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "kafka/client.h"
#include "kafka/records.h"
#include "memlog/log.h"

namespace kappa::kafka {

enum class IngestStart {
  kResume,    // from the log's positions; partitions it has none for from the earliest offset
  kEarliest,  // from each partition's earliest offset (the origin offsets still drop duplicates)
  kLatest,    // from each partition's end: only what is produced from now on
};

struct IngestOptions {
  ClientOptions client;
  std::string topic;
  std::vector<std::int32_t> partitions;  // empty: all of the topic's
  IngestStart start = IngestStart::kResume;
  // The record type of records without the `kappa` header; unset, such a record is an error.
  std::optional<std::uint16_t> foreign_type;
  std::string group_id = "kappa-ingest";  // the consumer group the monitoring commits go to
  // Stop once every partition has been read to its end (rather than wait for more).
  bool until_caught_up = false;
  // Warnings (broker errors), or nullptr for none; called from librdkafka's threads too.
  std::function<void(const std::string&)> log_line;
};

struct IngestStats {
  std::uint64_t records_appended = 0;     // Kafka records appended to the log by this run
  std::uint64_t bytes_appended = 0;       // their payload bytes
  std::uint64_t duplicates_dropped = 0;   // mirrored records the log already had
  std::uint64_t own_records_dropped = 0;  // records a mirror of this very log published
  std::uint64_t batches = 0;              // AppendBatch calls (each with its position record)
};

class Ingester {
 public:
  // Reads the log's positions for the topic, connects (an error if no broker answers within
  // client.connect_timeout, or the topic or a partition does not exist) and assigns the
  // partitions at their start offsets.
  static base::Result<std::unique_ptr<Ingester>> Open(memlog::Log* log, IngestOptions options);
  ~Ingester();
  Ingester(const Ingester&) = delete;
  Ingester& operator=(const Ingester&) = delete;

  // Consumes and appends until `should_stop()` (polled every 100 ms at most), every partition is
  // read to its end (until_caught_up), or an error: a record without the header and no
  // foreign_type, a partition whose next offset Kafka no longer keeps, a full disk. What was
  // consumed before an error is appended first.
  base::Result<IngestStats> Run(const std::function<bool()>& should_stop);

  // The positions the log holds for `topic` (all topics if empty): the latest per partition.
  // Scans the log from its earliest record.
  static base::Result<std::vector<IngestPosition>> ReadPositions(memlog::Log* log,
                                                                 const std::string& topic);

 private:
  struct State;
  explicit Ingester(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kappa::kafka
