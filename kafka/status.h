// Where a kappa log stands against Kafka: what its ingesters have taken of each topic partition
// (from the log's position records, and against the partition's end when the brokers are given)
// and how far each mirror's cursor is behind the log's end.
//
// Thread safety: a pure function of the log (and the brokers' answers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "kafka/client.h"
#include "memlog/log.h"

namespace kappa::kafka {

struct IngestLag {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;            // the next Kafka offset the log would take
  std::optional<std::int64_t> end_offset;  // the partition's high watermark, if asked
  std::optional<std::int64_t> lag_records() const {
    if (!end_offset) return std::nullopt;
    return *end_offset > next_offset ? *end_offset - next_offset : 0;
  }
};

struct MirrorLag {
  std::string topic;
  std::uint64_t cursor_offset = 0;  // the first log offset not yet acknowledged by Kafka
  std::uint64_t log_end = 0;        // the log's tail when read
  std::uint64_t lag_bytes = 0;      // log bytes between them
  std::uint64_t lag_records = 0;    // records between them, kappa's own not counted
};

struct LinkStatus {
  std::vector<IngestLag> ingests;
  std::vector<MirrorLag> mirrors;
};

// Reads the status of `log`. With `brokers`, asks them for each partition's end (an error if
// none answers within its connect_timeout).
base::Result<LinkStatus> ReadLinkStatus(memlog::Log* log, const ClientOptions* brokers);

}  // namespace kappa::kafka
