#include "kafka/mirror.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include "kafka/detail/client.h"
#include "kafka/records.h"
#include "memlog/format.h"

namespace kappa::kafka {
namespace {

// One record read from the log and not yet acknowledged: the cursor may pass `end` once it and
// everything before it are.
struct InFlight {
  std::uint64_t end = 0;
  bool delivered = false;
};

// A record copied out of the ring (so that a lap while it is produced cannot tear it).
struct Copied {
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
  std::int64_t timestamp_ns = 0;
  std::uint16_t type = 0;
  std::size_t at = 0;  // in the arena
  std::size_t size = 0;
};

constexpr std::size_t kMaxBatchRecords = 4096;
constexpr std::size_t kMaxBatchBytes = std::size_t{4} << 20;

}  // namespace

struct Mirror::State {
  memlog::Log* log = nullptr;
  MirrorOptions options;
  OriginId origin{};
  std::unique_ptr<memlog::LogReader> reader;
  // Records in log order from `first_sequence`; a delivery report finds its own by sequence.
  std::deque<InFlight> in_flight;
  std::uint64_t first_sequence = 0;
  std::uint64_t next_sequence = 0;
  std::uint64_t committed = 0;
  std::string failure;  // a delivery that failed for good
  MirrorStats stats;
  std::vector<std::byte> arena;
  std::vector<Copied> copied;
  // Last, so that it goes first: no callback of it outlives the state above.
  detail::Handle rk;

  void Say(const std::string& line) const {
    if (options.log_line) options.log_line(line);
  }

  // From librdkafka's threads.
  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    if (detail::WorthSaying(level, facility, text))
      static_cast<const State*>(rd_kafka_opaque(rk))->Say(std::string("kafka: ") + text);
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<State*>(opaque);
    const auto sequence = reinterpret_cast<std::uintptr_t>(message->_private);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (self->failure.empty())
        self->failure = "Kafka did not take a record for " + self->options.topic + ": " +
                        detail::ErrorText(message->err);
      return;
    }
    if (sequence < self->first_sequence) return;
    self->in_flight[sequence - self->first_sequence].delivered = true;
    ++self->stats.records_sent;
    self->stats.bytes_sent += message->len;
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<State*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char text[512];
      rd_kafka_fatal_error(rk, text, sizeof text);
      if (self->failure.empty()) self->failure = std::string("Kafka producer failed: ") + text;
      return;
    }
    self->Say(std::string("kafka: ") + reason);
  }

  // Moves the cursor past the acknowledged prefix.
  void Advance() {
    std::uint64_t end = committed;
    while (!in_flight.empty() && in_flight.front().delivered) {
      end = in_flight.front().end;
      in_flight.pop_front();
      ++first_sequence;
    }
    if (end != committed) {
      reader->CommitCursorAt(end);
      committed = end;
    }
  }

  base::Status Produce(const Copied& record) {
    std::span<const std::byte> payload(arena.data() + record.at, record.size);
    in_flight.push_back({record.end, false});
    const std::uint64_t sequence = next_sequence++;
    if (memlog::IsReservedType(record.type)) {
      in_flight.back().delivered = true;
      ++stats.records_skipped;
      return base::Status::Ok();
    }
    OriginHeader header{record.type, record.offset, record.timestamp_ns, origin};
    const auto header_bytes = header.Encode();
    std::optional<std::span<const std::byte>> key;
    if (options.key) {
      memlog::Record view;
      view.offset = record.offset;
      view.timestamp_ns = record.timestamp_ns;
      view.type = record.type;
      view.payload = payload;
      key = options.key(view);
    }
    const void* key_data = key ? static_cast<const void*>(key->data()) : nullptr;
    const std::size_t key_size = key ? key->size() : 0;
    const std::int32_t partition = options.key ? RD_KAFKA_PARTITION_UA : options.partition;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk.get(), RD_KAFKA_V_TOPIC(options.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<std::byte*>(payload.data()), payload.size()),
          RD_KAFKA_V_KEY(key_data, key_size),
          RD_KAFKA_V_HEADER(kOriginHeaderName, header_bytes.data(),
                            static_cast<ssize_t>(header_bytes.size())),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(sequence))),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return base::Status::Ok();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        in_flight.pop_back();
        --next_sequence;
        return base::Status::Error(
            base::StatusCode::kIoError,
            "cannot produce to Kafka topic " + options.topic + ": " + detail::ErrorText(err));
      }
      rd_kafka_poll(rk.get(), 100);  // the queue is full: wait for deliveries
      Advance();
      if (!failure.empty()) return base::Status::Error(base::StatusCode::kIoError, failure);
    }
  }
};

Mirror::Mirror(std::unique_ptr<State> state) : state_(std::move(state)) {}
Mirror::~Mirror() = default;

base::Result<std::unique_ptr<Mirror>> Mirror::Open(memlog::Log* log, MirrorOptions options) {
  auto state = std::make_unique<State>();
  state->log = log;
  std::optional<OriginId> origin = ParseOriginId(log->identity());
  if (!origin)
    return base::Status::Error(base::StatusCode::kCorrupt,
                               "log " + log->path() + " has no valid identity");
  state->origin = *origin;
  state->options = std::move(options);
  const MirrorOptions& o = state->options;
  if (o.topic.empty())
    return base::Status::Error(base::StatusCode::kInvalidArgument, "no Kafka topic given");
  auto conf =
      detail::MakeConf(o.client, {{"linger.ms", "5"}, {"partitioner", "murmur2_random"}},
                       {{"enable.idempotence", "true"},
                        {"acks", "all"},
                        {"enable.gapless.guarantee", "true"},
                        // Retry for ever: what is delivered of a partition is then always a prefix
                        // of what was sent, which is what lets the cursor stand for "delivered".
                        {"message.timeout.ms", "0"}});
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), state.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &State::OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &State::OnError);
  rd_kafka_conf_set_log_cb(conf->get(), &State::OnLog);
  auto rk = detail::MakeHandle(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk.ok()) return rk.status();
  state->rk = std::move(*rk);
  auto partitions = detail::TopicPartitions(state->rk.get(), o.client, o.topic);
  if (!partitions.ok()) return partitions.status();
  if (!o.key && (o.partition < 0 || o.partition >= *partitions))
    return base::Status::Error(base::StatusCode::kInvalidArgument,
                               "Kafka topic '" + o.topic + "' has " + std::to_string(*partitions) +
                                   " partition(s): there is no partition " +
                                   std::to_string(o.partition));
  auto reader = log->OpenCursor(CursorName(o.topic), memlog::StartAt::Earliest());
  if (!reader.ok()) return reader.status();
  state->reader = std::move(*reader);
  state->committed = state->reader->position();
  state->stats.cursor_offset = state->committed;
  return std::unique_ptr<Mirror>(new Mirror(std::move(state)));
}

base::Result<MirrorStats> Mirror::Run(const std::function<bool()>& should_stop) {
  State& s = *state_;
  s.stats = MirrorStats{};
  base::Status status = base::Status::Ok();
  memlog::RecordBatch batch;
  while (status.ok() && s.failure.empty() && !should_stop()) {
    const bool idle = s.in_flight.empty();
    memlog::PollStatus polled =
        idle ? s.reader->Wait(&batch, std::chrono::milliseconds(50), kMaxBatchRecords)
             : s.reader->Poll(&batch, kMaxBatchRecords, kMaxBatchBytes);
    if (polled == memlog::PollStatus::kEmpty) {
      rd_kafka_poll(s.rk.get(), idle ? 0 : 5);
      s.Advance();
      if (s.options.until_caught_up && s.in_flight.empty() &&
          s.reader->position() >= s.log->latest_offset())
        break;
      continue;
    }
    if (polled == memlog::PollStatus::kLapped || polled == memlog::PollStatus::kExpired) {
      s.stats.lost_bytes += s.reader->last_lost_bytes();
      s.Say("kafka mirror: " + std::to_string(s.reader->last_lost_bytes()) +
            " bytes of the log were " +
            (polled == memlog::PollStatus::kLapped ? "overwritten" : "deleted") +
            " before they were sent (the log is written faster than Kafka takes it)");
      continue;
    }
    if (polled == memlog::PollStatus::kCorrupt) {
      status = base::Status::Error(
          base::StatusCode::kCorrupt,
          "the log " + s.log->path() + " is damaged at offset " +
              std::to_string(s.reader->position()) +
              (s.reader->error().empty() ? std::string() : ": " + s.reader->error()));
      break;
    }
    // Copy first, then check the ring kept the bytes throughout.
    s.arena.clear();
    s.copied.clear();
    for (const memlog::Record& r : batch) {
      if (!s.copied.empty()) s.copied.back().end = r.offset;
      s.copied.push_back({r.offset, 0, r.timestamp_ns, r.type, s.arena.size(), r.payload.size()});
      s.arena.insert(s.arena.end(), r.payload.begin(), r.payload.end());
    }
    if (!s.copied.empty()) s.copied.back().end = batch.end_offset();
    if (!s.reader->StillValid(batch)) {
      s.reader->ReadAgain(batch);
      continue;
    }
    for (const Copied& c : s.copied) {
      status = s.Produce(c);
      if (!status.ok()) break;
    }
    rd_kafka_poll(s.rk.get(), 0);
    s.Advance();
  }
  // Deliver what is in flight (a while: a stop should not wait for ever on a dead cluster).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!s.in_flight.empty() && s.failure.empty() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(s.rk.get(), 50);
    s.Advance();
  }
  s.Advance();
  s.stats.cursor_offset = s.committed;
  if (!status.ok()) return status;
  if (!s.failure.empty()) return base::Status::Error(base::StatusCode::kIoError, s.failure);
  if (!s.in_flight.empty())
    return base::Status::Error(base::StatusCode::kIoError,
                               std::to_string(s.in_flight.size()) +
                                   " record(s) were still not acknowledged by Kafka after 30 s; "
                                   "the cursor stands before them, so the next run sends them");
  return s.stats;
}

}  // namespace kappa::kafka
