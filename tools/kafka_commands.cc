// kappa kafka ingest, mirror and status: a kappa log fed from or published to Apache Kafka, exactly
// once (kafka/ingest.h, kafka/mirror.h), and where both sides stand.
#include "tools/kafka_commands.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/record_catalog.h"
#include "kafka/ingest.h"
#include "kafka/mirror.h"
#include "kafka/status.h"
#include "memlog/log.h"
#include "tools/cli/args.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"

namespace kappa::tools {
namespace {

constexpr char kClientFlags[] =
    "  --brokers H:P[,H:P]    the Kafka cluster (bootstrap servers)\n"
    "  --kafka-conf KEY=VALUE a librdkafka setting (security.protocol, sasl.*, ssl.*, linger.ms,\n"
    "                         ...), repeated for more; settings exactly once relies on refuse\n"
    "                         other values\n"
    "  --connect-timeout D    how long the first contact may take (default 10s)\n";

const std::string kIngestUsage =
    std::string(
        "Usage: kappa kafka ingest LOG --brokers H:P --topic T [--partitions P,P...]\n"
        "                          [--from resume|earliest|latest] [--type N] [--group G]\n"
        "                          [--kafka-conf KEY=VALUE]... [--until-caught-up]\n"
        "\n"
        "Consumes topic T into LOG, exactly once: each batch of Kafka records is appended with a\n"
        "position record (the next Kafka offset per partition) in one all-or-nothing append, and "
        "a\n"
        "restarted ingester goes on from the last position LOG holds. Records a kappa mirror "
        "published\n"
        "keep their type and timestamp, and one LOG already has from that mirror's log (a re-send) "
        "is\n"
        "dropped. Records of other producers need --type N (they keep Kafka's timestamp). Runs "
        "until\n"
        "interrupted, or with --until-caught-up until every partition is read to its end.\n"
        "\n") +
    kClientFlags +
    "  --partitions P,P       the partitions to take (default all)\n"
    "  --from WHERE           resume (default: LOG's positions, partitions without one from the\n"
    "                         start), earliest or latest (mirrored records still come once)\n"
    "  --type N               the record type of records without a kappa header\n"
    "  --group G              the consumer group offsets are committed to, for monitoring only\n"
    "                         (default kappa-ingest)\n";

const std::string kMirrorUsage =
    std::string(
        "Usage: kappa kafka mirror LOG --brokers H:P --topic T [--partition N | --key-field F]\n"
        "                          [--kafka-conf KEY=VALUE]... [--until-caught-up]\n"
        "\n"
        "Publishes LOG to topic T with the idempotent producer (acks=all), one Kafka record per "
        "log\n"
        "record with the kappa header (type, kappa offset, timestamp, LOG's identity). Its cursor\n"
        "kafka-mirror.T moves only past records Kafka acknowledged, so a restart sends again at "
        "most\n"
        "what was in flight, and ingesters drop those. Runs until interrupted, or with\n"
        "--until-caught-up until everything appended before it is delivered.\n"
        "\n") +
    kClientFlags +
    "  --partition N          the partition every record goes to (default 0)\n"
    "  --key-field F          key each record by its field F (LOG's record types, LOG.types),\n"
    "                         spread over the partitions by key; types without F go unkeyed\n";

constexpr char kStatusUsage[] =
    "Usage: kappa kafka status LOG [--brokers H:P] [--kafka-conf KEY=VALUE]...\n"
    "\n"
    "Where LOG stands against Kafka: per topic partition ingested into it the next Kafka offset\n"
    "(and with --brokers the partition's end and the records behind it); per mirror of it the\n"
    "records and bytes not yet acknowledged by Kafka.\n";

std::unique_ptr<memlog::Log> OpenLog(const Args& args, bool read_only) {
  memlog::OpenOptions options;
  options.read_only = read_only;
  auto log = memlog::Log::Open(memlog::Log::ResolvePath(args.positionals()[0]), options);
  if (!log.ok()) throw CommandError(log.status().message());
  return std::move(*log);
}

kafka::ClientOptions GetClient(const Args& args) {
  kafka::ClientOptions client;
  client.brokers = args.GetString("--brokers", "");
  if (client.brokers.empty()) throw args.Error("--brokers H:P is required");
  for (const std::string& setting : args.GetAll("--kafka-conf")) {
    const std::size_t eq = setting.find('=');
    if (eq == std::string::npos || eq == 0)
      throw args.Error("--kafka-conf " + Quote(setting) + ": use KEY=VALUE");
    client.conf.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
  }
  client.connect_timeout = args.GetDuration("--connect-timeout", std::chrono::seconds(10));
  if (client.connect_timeout.count() == 0) throw args.Error("--connect-timeout must be above 0");
  return client;
}

std::string GetTopic(const Args& args) {
  std::string topic = args.GetString("--topic", "");
  if (topic.empty()) throw args.Error("--topic T is required");
  return topic;
}

void Warn(const std::string& line) { std::fprintf(stderr, "kappa: %s\n", line.c_str()); }

std::vector<std::int32_t> ParsePartitions(const Args& args) {
  std::vector<std::int32_t> out;
  const std::string list = args.GetString("--partitions", "");
  std::size_t start = 0;
  while (!list.empty() && start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::optional<std::uint64_t> p = ParseUint(list.substr(start, comma - start));
    if (!p || *p > 1'000'000)
      throw args.Error("--partitions " + Quote(list) + ": use partition numbers, as 0,1,2");
    out.push_back(static_cast<std::int32_t>(*p));
    start = comma + 1;
  }
  return out;
}

int RunIngest(const Args& args) {
  args.ExpectPositionals({"LOG"});
  kafka::IngestOptions options;
  options.client = GetClient(args);
  options.topic = GetTopic(args);
  options.partitions = ParsePartitions(args);
  const std::string from = args.GetChoice("--from", "resume", {"resume", "earliest", "latest"});
  options.start = from == "resume"     ? kafka::IngestStart::kResume
                  : from == "earliest" ? kafka::IngestStart::kEarliest
                                       : kafka::IngestStart::kLatest;
  if (args.Has("--type"))
    options.foreign_type =
        static_cast<std::uint16_t>(args.GetUint("--type", 0, 0, memlog::kFirstReservedType - 1));
  options.group_id = args.GetString("--group", "kappa-ingest");
  options.until_caught_up = args.Has("--until-caught-up");
  options.log_line = Warn;
  std::unique_ptr<memlog::Log> log = OpenLog(args, /*read_only=*/false);
  StopSignals::Install();
  auto ingester = kafka::Ingester::Open(log.get(), options);
  if (!ingester.ok()) throw CommandError(ingester.status().message());
  auto stats = (*ingester)->Run([] { return StopSignals::requested(); });
  if (!stats.ok()) throw CommandError(stats.status().message());
  std::fprintf(stderr,
               "ingested %" PRIu64 " records (%s) from Kafka topic %s into %s in %" PRIu64
               " appends; %" PRIu64 " re-sent records and %" PRIu64 " of the log's own dropped\n",
               stats->records_appended, FormatBytes(stats->bytes_appended).c_str(),
               options.topic.c_str(), log->path().c_str(), stats->batches,
               stats->duplicates_dropped, stats->own_records_dropped);
  return 0;
}

// The key of a record: its field `name`, for the types of the log's catalog that have one
// (numbers as their 8 bytes, strings without their zero padding).
kafka::KeyFunction KeyByField(const Args& args, const memlog::Log& log, const std::string& name) {
  auto catalog = engine::RecordCatalog::Load(log.path());
  if (!catalog.ok()) throw CommandError(catalog.status().message());
  struct Place {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    bool text = false;
  };
  std::map<std::uint16_t, Place> places;
  for (const engine::CatalogEntry& e : catalog->entries()) {
    const int i = e.schema.Find(name);
    if (i < 0) continue;
    const serving::Field& f = e.schema.fields()[static_cast<std::size_t>(i)];
    places[e.type] = {f.offset, f.size, f.type == serving::FieldType::kString};
  }
  if (places.empty())
    throw args.Error("--key-field " + Quote(name) + ": no record type of " + log.path() +
                     " has that field (see " + engine::RecordCatalog::PathFor(log.path()) + ")");
  return [places = std::move(places)](
             const memlog::Record& r) -> std::optional<std::span<const std::byte>> {
    const auto it = places.find(r.type);
    if (it == places.end() || r.payload.size() < it->second.offset + it->second.size)
      return std::nullopt;
    std::span<const std::byte> key = r.payload.subspan(it->second.offset, it->second.size);
    if (it->second.text)
      while (!key.empty() && key.back() == std::byte{0}) key = key.first(key.size() - 1);
    return key;
  };
}

int RunMirror(const Args& args) {
  args.ExpectPositionals({"LOG"});
  if (args.Has("--partition") && args.Has("--key-field"))
    throw args.Error("give --partition or --key-field, not both");
  kafka::MirrorOptions options;
  options.client = GetClient(args);
  options.topic = GetTopic(args);
  options.partition = static_cast<std::int32_t>(args.GetUint("--partition", 0, 0, 1'000'000));
  options.until_caught_up = args.Has("--until-caught-up");
  options.log_line = Warn;
  std::unique_ptr<memlog::Log> log = OpenLog(args, /*read_only=*/false);
  if (args.Has("--key-field")) options.key = KeyByField(args, *log, *args.Get("--key-field"));
  StopSignals::Install();
  auto mirror = kafka::Mirror::Open(log.get(), options);
  if (!mirror.ok()) throw CommandError(mirror.status().message());
  auto stats = (*mirror)->Run([] { return StopSignals::requested(); });
  if (!stats.ok()) throw CommandError(stats.status().message());
  std::fprintf(stderr,
               "mirrored %" PRIu64
               " records (%s) of %s to Kafka topic %s; cursor %s at offset "
               "%" PRIu64 "\n",
               stats->records_sent, FormatBytes(stats->bytes_sent).c_str(), log->path().c_str(),
               options.topic.c_str(), kafka::Mirror::CursorName(options.topic).c_str(),
               stats->cursor_offset);
  if (stats->lost_bytes > 0)
    std::fprintf(stderr, "kappa: %s of the log were overwritten before they could be sent\n",
                 FormatBytes(stats->lost_bytes).c_str());
  return 0;
}

int RunStatus(const Args& args) {
  args.ExpectPositionals({"LOG"});
  std::optional<kafka::ClientOptions> client;
  if (args.Has("--brokers")) client = GetClient(args);
  std::unique_ptr<memlog::Log> log = OpenLog(args, /*read_only=*/true);
  auto status = kafka::ReadLinkStatus(log.get(), client ? &*client : nullptr);
  if (!status.ok()) throw CommandError(status.status().message());
  std::string out;
  if (status->ingests.empty()) {
    out += "ingested: nothing (no Kafka position records in the log)\n";
  } else {
    out += "ingested from Kafka:\n";
    TextTable table({{"topic"},
                     {"partition", TextTable::Align::kRight},
                     {"next offset", TextTable::Align::kRight},
                     {"end offset", TextTable::Align::kRight},
                     {"lag records", TextTable::Align::kRight}},
                    "  ");
    for (const kafka::IngestLag& i : status->ingests)
      table.AddRow({i.topic, std::to_string(i.partition), std::to_string(i.next_offset),
                    i.end_offset ? std::to_string(*i.end_offset) : "-",
                    i.lag_records() ? std::to_string(*i.lag_records()) : "-"});
    table.Flush(&out);
  }
  if (status->mirrors.empty()) {
    out += "mirrored: nothing (no kafka-mirror.* cursor)\n";
  } else {
    out += "mirrored to Kafka:\n";
    TextTable table({{"topic"},
                     {"cursor offset", TextTable::Align::kRight},
                     {"log end", TextTable::Align::kRight},
                     {"lag records", TextTable::Align::kRight},
                     {"lag bytes", TextTable::Align::kRight}},
                    "  ");
    for (const kafka::MirrorLag& m : status->mirrors)
      table.AddRow({m.topic, std::to_string(m.cursor_offset), std::to_string(m.log_end),
                    std::to_string(m.lag_records), std::to_string(m.lag_bytes)});
    table.Flush(&out);
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

CommandGroup KafkaCommands() {
  const std::vector<std::string_view> client = {"--brokers", "--kafka-conf...",
                                                "--connect-timeout"};
  auto with = [&](std::vector<std::string_view> more) {
    more.insert(more.end(), client.begin(), client.end());
    return more;
  };
  return {"kafka",
          "COMMAND LOG [options]",
          "mirror a log to Apache Kafka, ingest a topic into one, exactly once",
          "",
          {{"kafka ingest",
            "LOG --brokers H:P --topic T",
            "consume a Kafka topic into a log",
            kIngestUsage,
            with({"--topic", "--partitions", "--from", "--type", "--group"}),
            {"--until-caught-up"},
            RunIngest},
           {"kafka mirror",
            "LOG --brokers H:P --topic T",
            "publish a log to a Kafka topic",
            kMirrorUsage,
            with({"--topic", "--partition", "--key-field"}),
            {"--until-caught-up"},
            RunMirror},
           {"kafka status",
            "LOG [--brokers H:P]",
            "positions and lag on both sides",
            kStatusUsage,
            with({}),
            {},
            RunStatus}}};
}

}  // namespace kappa::tools
