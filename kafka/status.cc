#include "kafka/status.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "kafka/detail/client.h"
#include "kafka/ingest.h"
#include "kafka/mirror.h"
#include "memlog/format.h"
#include "memlog/log_reader.h"

namespace kappa::kafka {

using base::Result;
using base::Status;
using base::StatusCode;

namespace {

// Records (kappa's own not counted) from `from` to `end`.
Result<std::uint64_t> CountRecords(memlog::Log* log, std::uint64_t from, std::uint64_t end) {
  auto reader = log->NewReader(memlog::StartAt::Offset(std::max(from, log->earliest_offset())));
  if (!reader.ok()) return reader.status();
  std::uint64_t count = 0;
  memlog::RecordBatch batch;
  while ((*reader)->position() < end) {
    memlog::PollStatus polled = (*reader)->Poll(&batch, 4096, std::size_t{8} << 20);
    if (polled == memlog::PollStatus::kEmpty) break;
    if (polled == memlog::PollStatus::kCorrupt)
      return Status::Error(StatusCode::kCorrupt, "the log " + log->path() +
                                                     " is damaged at offset " +
                                                     std::to_string((*reader)->position()));
    if (polled != memlog::PollStatus::kOk) continue;
    for (const memlog::Record& r : batch)
      if (r.offset < end && !memlog::IsReservedType(r.type)) ++count;
  }
  return count;
}

}  // namespace

Result<LinkStatus> ReadLinkStatus(memlog::Log* log, const ClientOptions* brokers) {
  LinkStatus out;
  auto positions = Ingester::ReadPositions(log, "");
  if (!positions.ok()) return positions.status();
  detail::Handle rk;
  if (brokers != nullptr && !positions->empty()) {
    auto conf = detail::MakeConf(*brokers, {}, {});
    if (!conf.ok()) return conf.status();
    auto handle = detail::MakeHandle(RD_KAFKA_CONSUMER, std::move(*conf));
    if (!handle.ok()) return handle.status();
    rk = std::move(*handle);
  }
  for (const IngestPosition& topic : *positions) {
    for (const PartitionPosition& p : topic.partitions) {
      IngestLag& lag = out.ingests.emplace_back();
      lag.topic = topic.topic;
      lag.partition = p.partition;
      lag.next_offset = p.next_offset;
      if (!rk) continue;
      std::int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(rk.get(), topic.topic.c_str(), p.partition, &low, &high,
                                           static_cast<int>(brokers->connect_timeout.count()));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return Status::Error(StatusCode::kIoError,
                             "cannot read the end of Kafka topic '" + topic.topic + "' partition " +
                                 std::to_string(p.partition) + " from " + brokers->brokers + ": " +
                                 detail::ErrorText(err));
      lag.end_offset = high;
    }
  }
  const std::string prefix = Mirror::CursorName("");
  const std::uint64_t end = log->latest_offset();
  for (const memlog::CursorInfo& c : log->Info().cursors) {
    if (!c.name.starts_with(prefix)) continue;
    MirrorLag& lag = out.mirrors.emplace_back();
    lag.topic = c.name.substr(prefix.size());
    lag.cursor_offset = c.position;
    lag.log_end = end;
    lag.lag_bytes = end > c.position ? end - c.position : 0;
    auto count = CountRecords(log, c.position, end);
    if (!count.ok()) return count.status();
    lag.lag_records = *count;
  }
  return out;
}

}  // namespace kappa::kafka
