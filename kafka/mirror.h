// Mirror: publishes a kappa log to a Kafka topic, exactly as far as Kafka has acknowledged it.
//
// The mirror reads the log through a named cursor ("kafka-mirror.<topic>") and produces every
// record (but kappa's own, of the reserved types) as one Kafka record with the idempotent
// producer (enable.idempotence, acks=all, gapless), so that within a partition Kafka holds what
// was sent in the order it was sent, each once. Every Kafka record carries the `kappa` header
// (kafka/records.h: the record's type, kappa offset and timestamp, and the log's identity). The
// cursor moves only past records whose delivery Kafka has acknowledged, so a mirror that dies or
// is killed sends again at most what was in flight; an ingester drops those duplicates by their
// header, so they never reach a kappa log.
//
// Thread safety: one thread at a time per Mirror.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "kafka/client.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"

namespace kappa::kafka {

// The Kafka key of a record, or nullopt for none.
using KeyFunction = std::function<std::optional<std::span<const std::byte>>(const memlog::Record&)>;

struct MirrorOptions {
  ClientOptions client;
  std::string topic;
  // Where records go: `key` set, by their key (librdkafka's murmur2_random partitioner, as the
  // Java client's; records without a key to a random partition); otherwise all to `partition`.
  std::int32_t partition = 0;
  KeyFunction key;
  // Stop once every record appended before the stop was noticed is delivered (rather than wait
  // for more).
  bool until_caught_up = false;
  // Progress lines and warnings (a lapped cursor, broker errors), or nullptr for none; called
  // from librdkafka's threads too.
  std::function<void(const std::string&)> log_line;
};

struct MirrorStats {
  std::uint64_t records_sent = 0;     // produced (and delivered) by this run
  std::uint64_t bytes_sent = 0;       // their payload bytes
  std::uint64_t records_skipped = 0;  // kappa's own records, not published
  std::uint64_t lost_bytes = 0;       // overwritten in the ring before the mirror read them
  std::uint64_t cursor_offset = 0;    // where the cursor stands when Run returns
};

class Mirror {
 public:
  // Connects to the brokers (an error if none answers within client.connect_timeout or the topic
  // or partition does not exist) and opens the cursor.
  static base::Result<std::unique_ptr<Mirror>> Open(memlog::Log* log, MirrorOptions options);
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  // Publishes until `should_stop()` (polled between batches) says so, the log is caught up with
  // (until_caught_up), or delivery fails for good (an error). On return everything produced has
  // been delivered or given up, and the cursor stands past the delivered records.
  base::Result<MirrorStats> Run(const std::function<bool()>& should_stop);

  static std::string CursorName(const std::string& topic) { return "kafka-mirror." + topic; }

 private:
  struct State;
  explicit Mirror(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kappa::kafka
