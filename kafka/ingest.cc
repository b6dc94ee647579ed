#include "kafka/ingest.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka/detail/client.h"
#include "memlog/format.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::kafka {
namespace {

using base::Result;
using base::Status;
using base::StatusCode;

using PositionsByTopic =
    std::map<std::string, std::map<std::int32_t, PartitionPosition>, std::less<>>;

constexpr std::size_t kMaxBatchRecords = 10000;
constexpr std::uint64_t kFrameOverhead = 24;

std::uint64_t FrameBytes(std::size_t payload) { return (kFrameOverhead + payload + 7) & ~7ull; }

// Reads the position records from `from` to the log's end into `out` (later ones win).
Status ScanPositions(memlog::Log* log, std::uint64_t from, const std::string& topic,
                     PositionsByTopic* out) {
  auto reader = log->NewReader(memlog::StartAt::Offset(from));
  if (!reader.ok()) return reader.status();
  memlog::RecordBatch batch;
  const std::uint64_t end = log->latest_offset();
  while ((*reader)->position() < end) {
    memlog::PollStatus polled = (*reader)->Poll(&batch, 4096, std::size_t{8} << 20);
    if (polled == memlog::PollStatus::kEmpty) break;
    if (polled == memlog::PollStatus::kCorrupt)
      return Status::Error(StatusCode::kCorrupt,
                           "the log " + log->path() + " is damaged at offset " +
                               std::to_string((*reader)->position()) + " " + (*reader)->error());
    if (polled != memlog::PollStatus::kOk) continue;  // lapped or expired: read on
    for (const memlog::Record& r : batch) {
      if (r.type != memlog::kKafkaPositionType) continue;
      auto position = IngestPosition::Decode(r.payload);
      if (!position.ok())
        return Status::Error(StatusCode::kCorrupt, "the log " + log->path() + " at offset " +
                                                       std::to_string(r.offset) + ": " +
                                                       position.status().message());
      if (!topic.empty() && position->topic != topic) continue;
      auto& partitions = (*out)[position->topic];
      for (PartitionPosition& p : position->partitions) partitions[p.partition] = std::move(p);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<IngestPosition>> Ingester::ReadPositions(memlog::Log* log,
                                                            const std::string& topic) {
  PositionsByTopic found;
  if (Status s = ScanPositions(log, log->earliest_offset(), topic, &found); !s.ok()) return s;
  std::vector<IngestPosition> out;
  for (auto& [name, partitions] : found) {
    IngestPosition& p = out.emplace_back();
    p.topic = name;
    for (auto& [index, position] : partitions) p.partitions.push_back(std::move(position));
  }
  return out;
}

struct Ingester::State {
  memlog::Log* log = nullptr;
  OriginId own_identity{};
  IngestOptions options;
  std::unique_ptr<memlog::Producer> producer;
  std::map<std::int32_t, PartitionPosition> positions;  // what the log holds once appended
  std::map<std::int32_t, bool> at_end;                  // partition read to its end
  IngestStats stats;
  // The batch being gathered: payloads in the arena, and the positions it moves to.
  std::vector<std::byte> arena;
  struct Pending {
    std::size_t at = 0;
    std::size_t size = 0;
    std::uint16_t type = 0;
    std::int64_t timestamp_ns = 0;
  };
  std::vector<Pending> pending;
  std::map<std::int32_t, PartitionPosition> next_positions;
  std::uint64_t pending_frame_bytes = 0;
  bool pending_consumed = false;  // a record was consumed (even one dropped) since the last append
  std::uint64_t batch_limit = 0;
  // Last, so that it goes first.
  detail::Handle rk;

  void Say(const std::string& line) const {
    if (options.log_line) options.log_line(line);
  }

  // From librdkafka's threads.
  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    if (detail::WorthSaying(level, facility, text))
      static_cast<const State*>(rd_kafka_opaque(rk))->Say(std::string("kafka: ") + text);
  }

  static void OnError(rd_kafka_t*, int, const char* reason, void* opaque) {
    static_cast<State*>(opaque)->Say(std::string("kafka: ") + reason);
  }

  std::string Where(const rd_kafka_message_t* m) const {
    return options.topic + " partition " + std::to_string(m->partition) + " offset " +
           std::to_string(m->offset);
  }

  // Appends the gathered records and the position record after them, in one batch.
  Status Flush(const std::function<bool()>& should_stop) {
    if (!pending_consumed) return Status::Ok();
    IngestPosition position;
    position.topic = options.topic;
    for (const auto& [index, p] : next_positions) position.partitions.push_back(p);
    const std::vector<std::byte> encoded = position.Encode();
    std::vector<memlog::RecordView> views;
    views.reserve(pending.size() + 1);
    for (const Pending& p : pending)
      views.push_back(
          {std::span<const std::byte>(arena.data() + p.at, p.size), p.type, p.timestamp_ns});
    views.push_back({encoded, memlog::kKafkaPositionType, memlog::kTimestampNow});
    for (;;) {
      memlog::AppendResult r = producer->AppendBatch(views);
      if (r == memlog::AppendResult::kOk) break;
      if (r != memlog::AppendResult::kFull || should_stop())
        return Status::Error(
            StatusCode::kIoError,
            "cannot append " + std::to_string(pending.size()) + " Kafka record(s) of " +
                options.topic + " to the log " + log->path() + ": " + memlog::AppendResultName(r) +
                (r == memlog::AppendResult::kFull ? " (stopped while it was full)" : ""));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stats.records_appended += pending.size();
    stats.bytes_appended += arena.size();
    ++stats.batches;
    positions = next_positions;
    // For monitoring only: the log's position records are what a restart reads.
    if (detail::PartitionList list(
            rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
        list) {
      for (const auto& [index, p] : positions)
        rd_kafka_topic_partition_list_add(list.get(), options.topic.c_str(), index)->offset =
            p.next_offset;
      rd_kafka_commit(rk.get(), list.get(), /*async=*/1);
    }
    arena.clear();
    pending.clear();
    pending_frame_bytes = FrameBytes(encoded.size());
    pending_consumed = false;
    return Status::Ok();
  }

  // Takes one Kafka record into the batch being gathered. An error leaves the batch as it was.
  Status Take(const rd_kafka_message_t* m) {
    PartitionPosition& p = next_positions[m->partition];
    if (m->offset < p.next_offset) return Status::Ok();  // fetched again: already taken
    std::uint16_t type = 0;
    std::int64_t timestamp_ns = 0;
    const void* value = nullptr;
    std::size_t size = 0;
    rd_kafka_headers_t* headers = nullptr;
    std::optional<OriginHeader> header;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(headers, kOriginHeaderName, &value, &size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      header = OriginHeader::Decode(
          std::span<const std::byte>(static_cast<const std::byte*>(value), size));
      if (!header)
        return Status::Error(StatusCode::kCorrupt, "the Kafka record at " + Where(m) +
                                                       " has a malformed kappa header (" +
                                                       std::to_string(size) + " bytes)");
      if (memlog::IsReservedType(header->type))
        return Status::Error(StatusCode::kCorrupt, "the Kafka record at " + Where(m) +
                                                       " claims the reserved type " +
                                                       std::to_string(header->type));
      if (header->origin == own_identity) {
        // This log's own records, mirrored out and come back: taking them would append them
        // again, and a mirror of this log would send them again, for ever.
        p.next_offset = m->offset + 1;
        pending_consumed = true;
        ++stats.own_records_dropped;
        return Status::Ok();
      }
      auto origin = std::find_if(p.origins.begin(), p.origins.end(), [&](const OriginProgress& o) {
        return o.origin == header->origin;
      });
      if (origin == p.origins.end())
        origin = p.origins.insert(p.origins.end(), OriginProgress{header->origin, 0});
      if (header->offset < origin->next_offset) {
        p.next_offset = m->offset + 1;
        pending_consumed = true;
        ++stats.duplicates_dropped;
        return Status::Ok();
      }
      origin->next_offset = header->offset + 1;
      type = header->type;
      timestamp_ns = header->timestamp_ns;
    } else {
      if (!options.foreign_type)
        return Status::Error(StatusCode::kInvalidArgument,
                             "the Kafka record at " + Where(m) +
                                 " has no kappa header (it was not published by a kappa mirror); "
                                 "give it a record type to take such records");
      type = *options.foreign_type;
      rd_kafka_timestamp_type_t kind;
      const std::int64_t ms = rd_kafka_message_timestamp(m, &kind);
      timestamp_ns = ms >= 0 ? ms * 1'000'000 : memlog::kTimestampNow;
    }
    if (m->len > log->ring().max_payload)
      return Status::Error(StatusCode::kInvalidArgument,
                           "the Kafka record at " + Where(m) + " has " + std::to_string(m->len) +
                               " bytes, more than the log's largest record (" +
                               std::to_string(log->ring().max_payload) + ")");
    p.next_offset = m->offset + 1;
    pending_consumed = true;
    pending.push_back({arena.size(), m->len, type, timestamp_ns});
    const auto* bytes = static_cast<const std::byte*>(m->payload);
    arena.insert(arena.end(), bytes, bytes + m->len);
    pending_frame_bytes += FrameBytes(m->len);
    return Status::Ok();
  }

  bool Full() const {
    return pending.size() >= kMaxBatchRecords || pending_frame_bytes >= batch_limit;
  }
};

Ingester::Ingester(std::unique_ptr<State> state) : state_(std::move(state)) {}
Ingester::~Ingester() = default;

Result<std::unique_ptr<Ingester>> Ingester::Open(memlog::Log* log, IngestOptions options) {
  auto state = std::make_unique<State>();
  state->log = log;
  if (std::optional<OriginId> id = ParseOriginId(log->identity())) state->own_identity = *id;
  state->options = std::move(options);
  const IngestOptions& o = state->options;
  if (o.topic.empty()) return Status::Error(StatusCode::kInvalidArgument, "no Kafka topic given");
  if (o.foreign_type && memlog::IsReservedType(*o.foreign_type))
    return Status::Error(StatusCode::kInvalidArgument,
                         "record type " + std::to_string(*o.foreign_type) +
                             " is reserved for kappa's own records (65280 and up)");
  if (log->read_only())
    return Status::Error(StatusCode::kPermissionDenied,
                         "the log " + log->path() + " is open read-only");
  // A batch (records and the position record) stays well within what one append may hold.
  state->batch_limit = std::min<std::uint64_t>(std::uint64_t{4} << 20, log->capacity() / 8);

  // The positions: the ring's records first (the latest are there), the rest of the log only if
  // a partition has none in the ring.
  PositionsByTopic found;
  if (Status s = ScanPositions(log, log->ring().LoadHead(), o.topic, &found); !s.ok()) return s;

  auto conf = detail::MakeConf(o.client, {{"group.id", o.group_id}},
                               {{"enable.auto.commit", "false"},
                                {"enable.auto.offset.store", "false"},
                                {"enable.partition.eof", "true"},
                                {"auto.offset.reset", "error"}});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), state.get());
  rd_kafka_conf_set_error_cb(conf->get(), &State::OnError);
  rd_kafka_conf_set_log_cb(conf->get(), &State::OnLog);
  auto rk = detail::MakeHandle(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  state->rk = std::move(*rk);
  rd_kafka_poll_set_consumer(state->rk.get());  // errors come through rd_kafka_consumer_poll
  auto count = detail::TopicPartitions(state->rk.get(), o.client, o.topic);
  if (!count.ok()) return count.status();
  std::vector<std::int32_t> partitions = o.partitions;
  if (partitions.empty())
    for (std::int32_t i = 0; i < *count; ++i) partitions.push_back(i);
  for (std::int32_t p : partitions)
    if (p < 0 || p >= *count)
      return Status::Error(StatusCode::kInvalidArgument,
                           "Kafka topic '" + o.topic + "' has " + std::to_string(*count) +
                               " partition(s): there is no partition " + std::to_string(p));
  auto& known = found[o.topic];
  if (std::any_of(partitions.begin(), partitions.end(),
                  [&](std::int32_t p) { return !known.contains(p); }) &&
      log->earliest_offset() < log->ring().LoadHead()) {
    found.clear();
    if (Status s = ScanPositions(log, log->earliest_offset(), o.topic, &found); !s.ok()) return s;
  }
  detail::PartitionList list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (std::int32_t p : partitions) {
    PartitionPosition position;
    position.partition = p;
    if (auto it = found[o.topic].find(p); it != found[o.topic].end()) position = it->second;
    std::int64_t start = position.next_offset;
    if (o.start == IngestStart::kEarliest ||
        (o.start == IngestStart::kResume && !found[o.topic].contains(p)))
      start = RD_KAFKA_OFFSET_BEGINNING;
    else if (o.start == IngestStart::kLatest)
      start = RD_KAFKA_OFFSET_END;
    if (o.start == IngestStart::kResume && found[o.topic].contains(p)) {
      std::int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(state->rk.get(), o.topic.c_str(), p, &low, &high,
                                           static_cast<int>(o.client.connect_timeout.count()));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return Status::Error(StatusCode::kIoError,
                             "cannot read the offsets of Kafka topic '" + o.topic + "' partition " +
                                 std::to_string(p) + ": " + detail::ErrorText(err));
      if (position.next_offset < low)
        return Status::Error(StatusCode::kFailedPrecondition,
                             "the log resumes Kafka topic '" + o.topic + "' partition " +
                                 std::to_string(p) + " at offset " +
                                 std::to_string(position.next_offset) +
                                 ", but Kafka keeps it from " + std::to_string(low) +
                                 " on: offsets " + std::to_string(position.next_offset) + " to " +
                                 std::to_string(low - 1) + " are gone (retention deleted them)");
    }
    // A start other than resume keeps the origin offsets, so mirrored records still come once;
    // the Kafka offset it records is where it starts.
    if (start < 0) position.next_offset = 0;
    state->positions[p] = position;
    state->at_end[p] = false;
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), p)->offset = start;
  }
  state->next_positions = state->positions;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(state->rk.get(), list.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Status::Error(StatusCode::kIoError,
                         "cannot assign Kafka topic '" + o.topic + "': " + detail::ErrorText(err));
  auto producer = log->NewProducer();
  if (!producer.ok()) return producer.status();
  state->producer = std::move(*producer);
  return std::unique_ptr<Ingester>(new Ingester(std::move(state)));
}

Result<IngestStats> Ingester::Run(const std::function<bool()>& should_stop) {
  State& s = *state_;
  s.stats = IngestStats{};
  s.pending_frame_bytes = 0;
  Status status = Status::Ok();
  while (status.ok() && !should_stop()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(s.rk.get(), s.pending.empty() ? 100 : 0);
    if (m == nullptr) {
      status = s.Flush(should_stop);
      if (s.options.until_caught_up &&
          std::all_of(s.at_end.begin(), s.at_end.end(), [](const auto& e) { return e.second; }))
        break;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // A partition's records come in order, so all before the end have been taken.
      s.at_end[m->partition] = true;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const bool lost = m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                        m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE;
      if (lost || rd_kafka_fatal_error(s.rk.get(), nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string what = "Kafka topic '" + s.options.topic + "' partition " +
                           std::to_string(m->partition) + ": " + rd_kafka_message_errstr(m);
        if (Status f = s.Flush(should_stop); !f.ok()) what += "; and " + f.message();
        status = Status::Error(lost ? StatusCode::kFailedPrecondition : StatusCode::kIoError, what);
      } else {
        s.Say(std::string("kafka: ") + rd_kafka_message_errstr(m));
      }
    } else {
      s.at_end[m->partition] = false;
      if (Status t = s.Take(m); !t.ok()) {
        std::string what = t.message();
        if (Status f = s.Flush(should_stop); !f.ok()) what += "; and " + f.message();
        status = Status::Error(t.code(), what);
      } else if (s.Full()) {
        status = s.Flush(should_stop);
      }
    }
    rd_kafka_message_destroy(m);
  }
  if (status.ok()) status = s.Flush(should_stop);
  rd_kafka_consumer_close(s.rk.get());
  if (!status.ok()) return status;
  return s.stats;
}

}  // namespace kappa::kafka
