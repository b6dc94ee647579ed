#include "tools/log_commands.h"

#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/record_catalog.h"
#include "memlog/archiver.h"
#include "memlog/format.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "memlog/status.h"
#include "tools/cli/args.h"
#include "tools/cli/mapped_read_guard.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/row_formatter.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"

namespace kappa::tools {

namespace {

using memlog::AppendResult;
using memlog::Durability;
using memlog::Log;
using memlog::LogInfo;
using memlog::LogReader;
using memlog::Policy;
using memlog::PollStatus;
using memlog::Record;
using memlog::RecordBatch;
using memlog::RecordView;
using memlog::StartAt;
using memlog::Status;

// How long a reader waits for records before it looks at the stop flag again.
constexpr std::chrono::milliseconds kWaitSlice{100};

constexpr char kCreateUsage[] =
    "Usage: kappa log create LOG [options]\n"
    "\n"
    "Creates a new memory-mapped ring log (never over an existing file).\n"
    "\n"
    "Options:\n"
    "  --capacity SIZE            ring bytes, a power of two from 4K to 1024G (default 64M)\n"
    "  --policy block|overwrite   when the ring is full: wait for the slowest cursor, or\n"
    "                             overwrite the oldest records (default block)\n"
    "  --durability none|interval|sync\n"
    "                             flush to the file never, every --sync-interval-ms, or on\n"
    "                             every append (default none)\n"
    "  --sync-interval-ms N       flush interval for --durability interval (default 100)\n"
    "  --unblock-timeout-ms N     how long a stalled append may hold readers back before it is\n"
    "                             turned into padding (default 1000)\n"
    "  --max-payload SIZE         largest record payload (default: a quarter of the capacity,\n"
    "                             at most 256M)\n"
    "\n"
    "History (an archive of segment files behind the ring, kept as long as retention says):\n"
    "  --archive DIR              keep the log's history in DIR (created if missing; a real\n"
    "                             filesystem, not /dev/shm, for it to survive a reboot). Run\n"
    "                             'kappa log archive LOG' (or a program's Archiver) to fill it:\n"
    "                             until one runs, producers stop when the ring is full. If DIR\n"
    "                             holds the archive of a log of this name whose ring is gone,\n"
    "                             the new ring continues it (settings default to the archive's)\n"
    "  --segment-size SIZE        seal a segment at this size (default 128M)\n"
    "  --segment-age DURATION     or at this age (default 1h; 0: by size only)\n"
    "  --flush-interval DURATION  flush (fsync) the archive this often (default 200ms)\n"
    "  --retain-size SIZE         delete the oldest sealed segments past this total (default:\n"
    "                             keep everything)\n"
    "  --retain-age DURATION      delete sealed segments sealed longer ago than this\n"
    "  --retain-cursor NAME       never delete what the named cursor has not read\n"
    "  --codec none|lz4|zstd      compress each segment once it is sealed, in blocks of about\n"
    "                             256 KiB (default none: frames byte for byte)\n"
    "  --codec-level N            lz4: 0 fast (default), 1..12 high compression; zstd: 1..19\n"
    "                             (0: level 3)\n"
    "\n"
    "SIZE is a whole number of bytes with an optional K, M or G suffix (powers of 1024);\n"
    "DURATION a whole number with ms, s, m, h or d.\n";

constexpr char kArchiveUsage[] =
    "Usage: kappa log archive LOG [options]\n"
    "\n"
    "Runs the archiver of a log created with --archive: copies committed records into segment\n"
    "files, flushes them, and only then lets the ring's space be reused. At most one runs per\n"
    "log. First it recovers the archive (a segment left unsealed by a crash is sealed at its last\n"
    "valid record, damaged files are set aside and named). Runs until SIGINT or SIGTERM, or with\n"
    "--once until everything committed so far is archived. Recovery and retention are reported\n"
    "on standard error.\n"
    "\n"
    "Options (each replaces the archive's setting and is kept in its manifest):\n"
    "  --segment-size SIZE, --segment-age DURATION, --flush-interval DURATION,\n"
    "  --retain-size SIZE, --retain-age DURATION, --retain-cursor NAME, --codec NAME,\n"
    "  --codec-level N   (see 'kappa log create --help'; a new codec also applies to the segments\n"
    "                    sealed before it)\n"
    "  --once                     archive what is committed now, seal the segment, compress what\n"
    "                             waits to be compressed, and exit\n";

constexpr char kInfoUsage[] =
    "Usage: kappa log info LOG [--format table|json]\n"
    "\n"
    "Shows a log's settings, offsets, counters, live producers and cursors (with each cursor's\n"
    "lag behind the latest offset), and its archive: segments, bytes, oldest offset and time,\n"
    "how far the archiver lags. Opens the log read-only.\n"
    "\n"
    "Options:\n"
    "  --format table|json   output format (default table)\n";

constexpr char kTailUsage[] =
    "Usage: kappa log tail LOG [options]\n"
    "\n"
    "Follows the log, printing records as they arrive, until --count records have been printed\n"
    "or SIGINT/SIGTERM arrives (then it exits 0). A reader that falls a whole ring behind under\n"
    "the overwrite policy reports \"lapped: lost N bytes\" on standard error and goes on.\n"
    "\n"
    "Options:\n"
    "  --from WHERE        where to start: earliest, latest, offset:N, or time:T with T in\n"
    "                      ISO-8601 (2024-05-01T12:00:00Z) or Unix nanoseconds (default latest)\n"
    "  --cursor NAME       read through the named durable cursor: resume where it stopped\n"
    "                      (--from applies only when it is new) and commit what was printed\n"
    "  --format text|jsonl output format (default text)\n"
    "  --count N           exit after N records\n"
    "  --data-only         leave out the log's own records (types 0xFF00 and up, such as the\n"
    "                      positions 'kappa kafka ingest' keeps; see memlog/FORMAT.md)\n"
    "  --bytes auto|base64|hex  jsonl: how payloads (and tails) are written: auto as a JSON\n"
    "                      string when they are UTF-8 text, in base64 otherwise; or always\n"
    "                      in base64 or hex (default auto; every byte is kept either way)\n"
    "\n"
    "text:  offset=N type=N ts=ISO-8601 payload=TEXT (bytes outside printable ASCII as \\xHH)\n"
    "jsonl: {\"offset\":N,\"type\":N,\"timestamp_ns\":N,\"payload\":\"JSON string\"}, or\n"
    "       \"payload_base64\":\"...\" (\"payload_hex\") for bytes that are not UTF-8 text\n"
    "\n"
    "A record whose type the log's catalog (LOG.types, written by 'kappa gen' and by jobs that\n"
    "write logs) names shows its kind and fields instead of the payload:\n"
    "text:  offset=N type=N ts=ISO-8601 kind=NAME FIELD=VALUE...\n"
    "jsonl: {\"offset\":N,\"type\":N,\"timestamp_ns\":N,\"kind\":\"NAME\",\"FIELD\":VALUE,...}\n";

constexpr char kDumpUsage[] =
    "Usage: kappa log dump LOG [--from WHERE] [--count N] [--format text|jsonl] [--bytes ...]\n"
    "                          [--data-only]\n"
    "\n"
    "Prints the records from the start position up to the latest offset at the time it starts,\n"
    "then exits. Checks every record's checksum; a bad record is reported on standard error,\n"
    "skipped, and makes the exit status 1.\n"
    "\n"
    "Options:\n"
    "  --from WHERE        earliest, latest, offset:N, or time:T with T in ISO-8601 or Unix\n"
    "                      nanoseconds (default earliest)\n"
    "  --count N           print at most N records\n"
    "  --data-only         leave out the log's own records (types 0xFF00 and up, such as the\n"
    "                      positions 'kappa kafka ingest' keeps; see memlog/FORMAT.md)\n"
    "  --format text|jsonl output format (default text; see 'kappa log tail --help')\n"
    "  --bytes auto|base64|hex  jsonl: payloads that are not UTF-8 text in base64 (auto, the\n"
    "                      default), or every payload in base64 or hex\n";

constexpr char kVerifyUsage[] =
    "Usage: kappa log verify LOG\n"
    "\n"
    "Opens the log read-only and walks every frame from the earliest to the latest offset,\n"
    "through the archive's segment files and then the ring, checking each frame header and\n"
    "record checksum. Prints \"ok: N records, M bytes checked\" and exits 0, or reports where the\n"
    "log (or which segment file) is corrupt and exits 1.\n";

enum class RecordFormat { kText, kJsonLines };
// How JSON lines carry bytes: "auto" as a JSON string when they are UTF-8 text (every byte kept)
// and in base64 otherwise, or always in base64 or hex, under the member's name with "_base64"
// or "_hex" appended.
enum class BytesEncoding { kAuto, kBase64, kHex };

struct RecordOutput {
  RecordFormat format = RecordFormat::kText;
  BytesEncoding bytes = BytesEncoding::kAuto;
};

RecordOutput GetRecordOutput(const Args& args) {
  RecordOutput output;
  output.format = args.GetChoice("--format", "text", {"text", "jsonl"}) == "text"
                      ? RecordFormat::kText
                      : RecordFormat::kJsonLines;
  const std::string bytes = args.GetChoice("--bytes", "auto", {"auto", "base64", "hex"});
  if (args.Has("--bytes") && output.format != RecordFormat::kJsonLines)
    throw args.Error("--bytes is for --format jsonl (text escapes every byte that is not text)");
  output.bytes = bytes == "auto"     ? BytesEncoding::kAuto
                 : bytes == "base64" ? BytesEncoding::kBase64
                                     : BytesEncoding::kHex;
  return output;
}

// `"name":` and `bytes` as the encoding says (see BytesEncoding).
void AppendJsonBytes(std::string_view name, std::span<const std::byte> bytes,
                     BytesEncoding encoding, std::string* out) {
  if (encoding == BytesEncoding::kAuto && IsUtf8(bytes)) {
    AppendJsonString(name, out);
    out->push_back(':');
    AppendJsonString(bytes, out);
    return;
  }
  const bool hex = encoding == BytesEncoding::kHex;
  AppendJsonString(std::string(name) + (hex ? "_hex" : "_base64"), out);
  out->append(":\"");
  hex ? AppendHex(bytes, out) : AppendBase64(bytes, out);
  out->push_back('"');
}

StartAt ParseStartAt(const Args& args, std::string_view fallback,
                     std::string_view flag = "--from") {
  const std::string text = args.GetString(flag, fallback);
  if (text == "earliest") return StartAt::Earliest();
  if (text == "latest") return StartAt::Latest();
  const std::string_view view = text;
  if (view.starts_with("offset:")) {
    if (const auto offset = ParseUint(view.substr(7))) return StartAt::Offset(*offset);
  } else if (view.starts_with("time:")) {
    if (const auto unix_ns = ParseTime(view.substr(5))) return StartAt::Time(*unix_ns);
  }
  throw args.Error(std::string(flag) + ": " + Quote(text) +
                   " is not earliest, latest, offset:N or time:T (ISO-8601 or Unix nanoseconds)");
}

std::string GetCursorName(const Args& args) {
  const std::string name = args.GetString("--cursor", "");
  if (args.Has("--cursor") && (name.empty() || name.size() > memlog::kMaxCursorName))
    throw args.Error("--cursor: a cursor name has 1 to " + std::to_string(memlog::kMaxCursorName) +
                     " bytes");
  return name;
}

std::string U64(std::uint64_t v) { return std::to_string(v); }

// A record as a line. A record whose type the log's catalog names, with the size of its schema,
// shows the type's name ("kind") and its fields by name instead of the payload, then its tail
// (the bytes after the record, for a type with one) as text.
void AppendRecordLine(const Record& r, const RecordOutput& output,
                      const engine::RecordCatalog* catalog, std::string* out) {
  const engine::CatalogEntry* entry = catalog != nullptr ? catalog->Find(r.type) : nullptr;
  if (entry != nullptr && !entry->Fits(r.payload.size())) entry = nullptr;
  const std::span<const std::byte> tail = entry != nullptr && !entry->tail.empty()
                                              ? r.payload.subspan(entry->schema.value_size())
                                              : std::span<const std::byte>();
  if (output.format == RecordFormat::kText) {
    out->append("offset=").append(U64(r.offset));
    out->append(" type=").append(U64(r.type));
    out->append(" ts=").append(FormatUtcTime(r.timestamp_ns));
    if (entry != nullptr) {
      out->append(" kind=").append(entry->name);
      for (std::size_t i = 0; i < entry->schema.size(); ++i)
        out->append(" ")
            .append(entry->schema.field(i).name)
            .append("=")
            .append(FieldText(entry->schema, r.payload, i));
      if (!entry->tail.empty()) {
        out->append(" ").append(entry->tail).append("=");
        AppendEscapedText(tail, out);
      }
    } else {
      out->append(" payload=");
      AppendEscapedText(r.payload, out);
    }
  } else {
    out->append("{\"offset\":").append(U64(r.offset));
    out->append(",\"type\":").append(U64(r.type));
    out->append(",\"timestamp_ns\":").append(std::to_string(r.timestamp_ns));
    if (entry != nullptr) {
      out->append(",\"kind\":");
      AppendJsonString(entry->name, out);
      for (std::size_t i = 0; i < entry->schema.size(); ++i) {
        out->push_back(',');
        AppendJsonString(entry->schema.field(i).name, out);
        out->push_back(':');
        AppendFieldJson(entry->schema, r.payload, i, out);
      }
      if (!entry->tail.empty()) {
        out->push_back(',');
        AppendJsonBytes(entry->tail, tail, output.bytes, out);
      }
    } else {
      out->push_back(',');
      AppendJsonBytes("payload", r.payload, output.bytes, out);
    }
    out->push_back('}');
  }
  out->push_back('\n');
}

// The log's record catalog, or none (with a warning) if its file is damaged.
std::optional<engine::RecordCatalog> LoadCatalog(const Log& log) {
  auto catalog = engine::RecordCatalog::Load(log.path());
  if (catalog.ok()) return std::move(catalog).value();
  std::fprintf(stderr, "kappa: %s; records are shown undecoded\n",
               catalog.status().message().c_str());
  return std::nullopt;
}

void WriteStdout(const std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    throw CommandError(std::string("cannot write to standard output: ") + std::strerror(errno));
}

void FlushStdout() {
  if (std::fflush(stdout) != 0)
    throw CommandError(std::string("cannot write to standard output: ") + std::strerror(errno));
}

void ReportLapped(std::uint64_t lost_bytes) {
  std::fprintf(stderr, "lapped: lost %" PRIu64 " bytes\n", lost_bytes);
}

void ReportExpired(std::uint64_t lost_bytes) {
  std::fprintf(stderr,
               "expired: %" PRIu64
               " bytes were deleted by the archive's retention before they were read\n",
               lost_bytes);
}

// What a reader's kCorrupt means, for an error message.
std::string CorruptWhy(const Log& log, const LogReader& reader) {
  if (!reader.error().empty()) return reader.error() + "; stopping";
  return log.path() + ": corrupt frame at offset " + U64(reader.position()) +
         ": its header is damaged; stopping";
}

// What printing one polled batch came to.
struct BatchOutcome {
  std::uint64_t printed = 0;
  // The first record left unprinted because of `end_offset` or `limit`, if any.
  std::optional<std::uint64_t> stopped_at;
  // The batch was overwritten while it was read; nothing of it was printed.
  bool lapped = false;
};

// Prints the records of `batch` before `end_offset`, at most `limit` of them (with `data_only`,
// leaving out the log's own records of reserved types), checking each checksum. A record that fails
// its checksum is reported on stderr, counted in *bad_records and skipped. Output goes through
// `*buffer` so that a batch overwritten while it was formatted prints nothing.
BatchOutcome PrintBatch(const Log& log, LogReader& reader, const RecordBatch& batch,
                        const RecordOutput& output,
                        const std::optional<engine::RecordCatalog>& catalog, bool data_only,
                        std::uint64_t end_offset, std::uint64_t limit, std::uint64_t* bad_records,
                        std::string* buffer) {
  BatchOutcome outcome;
  buffer->clear();
  std::vector<std::uint64_t> bad_offsets;
  for (const Record& r : batch) {
    if (r.offset >= end_offset || outcome.printed >= limit) {
      outcome.stopped_at = r.offset;
      break;
    }
    if (!r.ChecksumOk()) {
      bad_offsets.push_back(r.offset);
      continue;
    }
    if (data_only && memlog::IsReservedType(r.type)) continue;
    AppendRecordLine(r, output, catalog ? &*catalog : nullptr, buffer);
    ++outcome.printed;
  }
  if (!reader.StillValid(batch)) {
    if (log.has_archive()) {  // overwritten in the ring: read it again from the archive
      reader.ReadAgain(batch);
      return BatchOutcome{.printed = 0, .stopped_at = std::nullopt, .lapped = true};
    }
    ReportLapped(batch.end_offset() - batch.begin_offset());
    return BatchOutcome{.printed = 0, .stopped_at = std::nullopt, .lapped = true};
  }
  for (const std::uint64_t offset : bad_offsets) {
    std::fprintf(stderr, "kappa: %s: record at offset %" PRIu64 " fails its checksum; skipped\n",
                 log.path().c_str(), offset);
  }
  *bad_records += bad_offsets.size();
  WriteStdout(*buffer);
  return outcome;
}

// Tells a read-only reader that keeps finding nothing committed at one position before the
// offset it must reach when to give up: when no producer is attached on two polls in a row
// (nothing will ever commit the frame), or after the log's unblock timeout and a second more
// (a producer stalled or died mid-append; only a writable handle can unblock it).
class StallWatch {
 public:
  explicit StallWatch(const Log& log) : log_(log) {}

  // Call after each empty poll at `position`.
  bool ShouldGiveUp(std::uint64_t position) {
    const auto now = std::chrono::steady_clock::now();
    if (position != position_) {
      position_ = position;
      since_ = now;
      quiet_polls_ = 0;
    }
    const LogInfo info = log_.Info();
    quiet_polls_ = info.live_producers == 0 ? quiet_polls_ + 1 : 0;
    const auto limit = std::chrono::milliseconds(info.unblock_timeout_ms) + std::chrono::seconds(1);
    return quiet_polls_ >= 2 || now - since_ > limit;
  }

  std::string Why() const {
    return "no committed frame here although the log's latest offset is " +
           U64(log_.latest_offset()) +
           " (an append that was torn by a crash or is stalled; opening the log read-write "
           "recovers a torn one)";
  }

 private:
  const Log& log_;
  std::uint64_t position_ = UINT64_MAX;
  std::chrono::steady_clock::time_point since_;
  int quiet_polls_ = 0;
};

std::string WithUnit(std::uint64_t bytes) { return U64(bytes) + " (" + FormatBytes(bytes) + ")"; }

// ----------------------------------------------------------------------------- create

memlog::Codec ParseCodecName(const std::string& name) {
  memlog::Codec codec = memlog::Codec::kNone;
  memlog::ParseCodec(name, &codec);
  return codec;
}

// The archive settings the flags give, over `base`.
memlog::ArchiveSettings GetArchiveSettings(const Args& args, memlog::ArchiveSettings base) {
  base.segment_bytes = args.GetSize("--segment-size", base.segment_bytes);
  base.segment_age = args.GetDuration("--segment-age", base.segment_age);
  base.flush_interval = args.GetDuration("--flush-interval", base.flush_interval);
  base.retain_bytes = args.GetSize("--retain-size", base.retain_bytes);
  base.retain_age = args.GetDuration("--retain-age", base.retain_age);
  base.retain_cursor = args.GetString("--retain-cursor", base.retain_cursor);
  if (args.Has("--codec")) {
    base.codec = ParseCodecName(args.GetChoice("--codec", "none", {"none", "lz4", "zstd"}));
    base.codec_level = 0;  // the new codec's default unless --codec-level says otherwise
  }
  base.codec_level = static_cast<int>(
      args.GetUint("--codec-level", static_cast<std::uint64_t>(base.codec_level), 0, 19));
  if (Status s = memlog::ValidateArchiveSettings(base); !s.ok()) throw args.Error(s.message());
  return base;
}

int CreateCommand(const Args& args) {
  args.ExpectPositionals({"LOG"});
  memlog::CreateOptions options;
  options.archive_directory = args.GetString("--archive", "");
  if (options.archive_directory.empty()) {
    for (const char* flag : {"--segment-size", "--segment-age", "--flush-interval", "--retain-size",
                             "--retain-age", "--retain-cursor"})
      if (args.Has(flag)) throw args.Error(std::string(flag) + " needs --archive DIR");
  }
  // Over an existing archive, the ring is made as it was unless the flags say otherwise.
  std::optional<memlog::Manifest> archived;
  if (!options.archive_directory.empty()) {
    if (auto m = memlog::ReadManifest(options.archive_directory); m.ok()) {
      archived = *m;
    } else if (m.status().code() != memlog::StatusCode::kNotFound) {
      throw CommandError(m.status().message());
    }
  }
  if (archived) {
    options.capacity = archived->capacity;
    options.policy = archived->policy;
    options.durability = archived->durability;
    options.sync_interval_ms = archived->sync_interval_ms;
    options.unblock_timeout_ms = archived->unblock_timeout_ms;
  }
  options.archive =
      GetArchiveSettings(args, archived ? archived->settings : memlog::ArchiveSettings{});
  options.capacity = args.GetSize("--capacity", options.capacity);
  if (!std::has_single_bit(options.capacity) || options.capacity < memlog::kMinCapacity ||
      options.capacity > memlog::kMaxCapacity)
    throw args.Error("--capacity must be a power of two from 4K to 1024G, not " +
                     U64(options.capacity));
  options.policy = args.GetChoice("--policy", memlog::PolicyName(options.policy),
                                  {"block", "overwrite"}) == "block"
                       ? Policy::kBlock
                       : Policy::kOverwrite;
  const std::string durability = args.GetChoice(
      "--durability", memlog::DurabilityName(options.durability), {"none", "interval", "sync"});
  options.durability = durability == "sync"       ? Durability::kSync
                       : durability == "interval" ? Durability::kInterval
                                                  : Durability::kNone;
  options.sync_interval_ms = static_cast<std::uint32_t>(
      args.GetUint("--sync-interval-ms", options.sync_interval_ms, 1, UINT32_MAX));
  options.unblock_timeout_ms = static_cast<std::uint32_t>(
      args.GetUint("--unblock-timeout-ms", options.unblock_timeout_ms, 1, UINT32_MAX));
  const std::uint64_t payload_limit =
      std::min<std::uint64_t>(options.capacity / 4, memlog::kMaxPayloadLimit);
  const std::uint64_t max_payload = args.GetSize("--max-payload", 0);
  if (max_payload > payload_limit)
    throw args.Error("--max-payload must be at most " + U64(payload_limit) +
                     " (a quarter of the capacity, at most 256M), not " + U64(max_payload));
  options.max_payload = static_cast<std::uint32_t>(max_payload);

  const std::unique_ptr<Log> log =
      ValueOrThrow(Log::Create(Log::ResolvePath(args.positionals()[0]), options));
  const LogInfo info = log->Info();
  std::string settings = "capacity " + FormatBytes(info.capacity) + ", policy " +
                         memlog::PolicyName(info.policy) + ", durability " +
                         memlog::DurabilityName(CreatedDurability(*log));
  if (CreatedDurability(*log) == Durability::kInterval)
    settings += " every " + U64(info.sync_interval_ms) + " ms";
  settings += ", max payload " + FormatBytes(info.max_payload) + ", unblock timeout " +
              U64(info.unblock_timeout_ms) + " ms";
  std::printf("created %s: %s\n", info.path.c_str(), settings.c_str());
  if (info.has_archive) {
    const memlog::ArchiveInfo& a = info.archive;
    if (archived) {
      std::printf("continues the archived log at offset %" PRIu64 ": %" PRIu64
                  " segments (%s) from offset %" PRIu64 " in %s\n",
                  info.latest_offset, a.segments, FormatBytes(a.sealed_bytes).c_str(),
                  a.earliest_offset, a.directory.c_str());
    } else {
      std::printf("archive %s: segments of %s; run 'kappa log archive %s' to keep its history\n",
                  a.directory.c_str(), FormatBytes(options.archive.segment_bytes).c_str(),
                  args.positionals()[0].c_str());
    }
  }
  return 0;
}

// ----------------------------------------------------------------------------- archive

int ArchiveCommand(const Args& args) {
  args.ExpectPositionals({"LOG"});
  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/false);
  if (!log->has_archive())
    throw CommandError(log->path() + ": has no archive (it was created without --archive DIR)");
  memlog::ArchiverOptions options;
  bool changed = false;
  for (const char* flag : {"--segment-size", "--segment-age", "--flush-interval", "--retain-size",
                           "--retain-age", "--retain-cursor", "--codec", "--codec-level"})
    changed |= args.Has(flag);
  if (changed) {
    auto manifest = memlog::ReadManifest(log->archive()->directory());
    if (!manifest.ok()) throw CommandError(manifest.status().message());
    options.settings = GetArchiveSettings(args, manifest->settings);
  }
  options.report = [](const std::string& note) {
    std::fprintf(stderr, "kappa: %s\n", note.c_str());
  };
  StopSignals::Install();
  std::unique_ptr<memlog::Archiver> archiver =
      ValueOrThrow(memlog::Archiver::Open(log.get(), options));
  const memlog::ArchiveSettings& s = archiver->settings();
  std::fprintf(stderr,
               "archiving %s into %s from offset %" PRIu64
               " (segments of %s, %s, flushed every %s)\n",
               log->path().c_str(), log->archive()->directory().c_str(), archiver->written_offset(),
               FormatBytes(s.segment_bytes).c_str(),
               s.codec == memlog::Codec::kNone
                   ? "uncompressed"
                   : (std::string(memlog::CodecName(s.codec)) + " when sealed").c_str(),
               FormatDuration(std::chrono::nanoseconds(s.flush_interval).count()).c_str());
  Status status = Status::Ok();
  if (args.Has("--once")) {
    const std::uint64_t end = log->latest_offset();
    while (status.ok() && archiver->written_offset() < end && !StopSignals::requested()) {
      std::uint64_t copied = 0;
      status = archiver->Pass(&copied);
      if (status.ok() && copied == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (status.ok()) status = archiver->Seal();
    if (status.ok()) status = archiver->ApplyRetention();
    if (status.ok()) status = archiver->CompressAll();
  } else {
    std::atomic<bool> stop{false};
    std::thread watch([&] {
      while (!StopSignals::requested() && !stop.load(std::memory_order_acquire))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      stop.store(true, std::memory_order_release);
    });
    status = archiver->Run(stop);
    stop.store(true, std::memory_order_release);
    watch.join();
  }
  if (status.ok()) status = archiver->Flush();
  if (!status.ok()) throw CommandError(status.message());
  std::fprintf(stderr,
               "archived up to offset %" PRIu64
               ": %zu sealed segments (%s of records in %s of files) from offset %" PRIu64 "\n",
               archiver->durable_offset(), archiver->manifest().segments.size(),
               FormatBytes(archiver->manifest().sealed_bytes()).c_str(),
               FormatBytes(archiver->manifest().stored_bytes()).c_str(),
               archiver->manifest().earliest);
  return 0;
}

// ----------------------------------------------------------------------------- info

std::string InfoJson(const LogInfo& info) {
  std::string out = "{\"path\":";
  AppendJsonString(info.path, &out);
  auto number = [&out](const char* key, std::uint64_t value) {
    out.append(",\"").append(key).append("\":").append(U64(value));
  };
  auto text = [&out](const char* key, std::string_view value) {
    out.append(",\"").append(key).append("\":");
    AppendJsonString(value, &out);
  };
  number("version", info.version);
  number("capacity", info.capacity);
  text("policy", memlog::PolicyName(info.policy));
  text("durability", memlog::DurabilityName(info.durability));
  number("sync_interval_ms", info.sync_interval_ms);
  number("max_payload", info.max_payload);
  number("unblock_timeout_ms", info.unblock_timeout_ms);
  text("created", FormatUtcTime(info.created_unix_ns));
  out.append(",\"created_unix_ns\":").append(std::to_string(info.created_unix_ns));
  text("identity", info.identity);
  number("earliest_offset", info.earliest_offset);
  number("latest_offset", info.latest_offset);
  number("retained_bytes", info.latest_offset - info.earliest_offset);
  number("records_appended", info.records_appended);
  number("bytes_appended", info.bytes_appended);
  number("padding_frames", info.padding_frames);
  number("unblocked_stalls", info.unblocked_stalls);
  number("recoveries", info.recoveries);
  number("truncated_bytes", info.truncated_bytes);
  number("live_producers", info.live_producers);
  if (info.has_archive) {
    const memlog::ArchiveInfo& a = info.archive;
    out.append(",\"archive\":{\"directory\":");
    AppendJsonString(a.directory, &out);
    number("segments", a.segments);
    number("sealed_bytes", a.sealed_bytes);
    number("stored_bytes", a.stored_bytes);
    text("codec", memlog::CodecName(a.codec));
    number("earliest_offset", a.earliest_offset);
    out.append(",\"oldest_sealed_unix_ns\":").append(std::to_string(a.oldest_sealed_unix_ns));
    number("active_segment_offset", a.active_base);
    number("written_offset", a.written_offset);
    number("durable_offset", a.durable_offset);
    number("lag_bytes", info.latest_offset - std::min(a.durable_offset, info.latest_offset));
    out.append(",\"archiver_running\":").append(a.archiver_running ? "true" : "false");
    number("archiver_pid", a.archiver_pid);
    text("error", a.error == 0 ? "" : std::strerror(a.error));
    out.push_back('}');
  }
  out.append(",\"cursors\":[");
  for (std::size_t i = 0; i < info.cursors.size(); ++i) {
    const memlog::CursorInfo& c = info.cursors[i];
    out.append(i == 0 ? "{\"name\":" : ",{\"name\":");
    AppendJsonString(c.name, &out);
    number("position", c.position);
    number("lag", info.latest_offset - std::min(c.position, info.latest_offset));
    text("updated", FormatUtcTime(c.updated_unix_ns));
    number("pid", c.pid);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

int InfoCommand(const Args& args) {
  const bool json = args.GetChoice("--format", "table", {"table", "json"}) == "json";
  args.ExpectPositionals({"LOG"});
  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/true);
  LogInfo info = log->Info();
  info.durability = CreatedDurability(*log);
  if (json) {
    WriteStdout(InfoJson(info));
  } else {
    PrintLogInfoTable(info, "", stdout);
  }
  FlushStdout();
  return 0;
}

// ----------------------------------------------------------------------------- tail

int TailCommand(const Args& args) {
  const StartAt from = ParseStartAt(args, "latest");
  const std::string cursor = GetCursorName(args);
  const RecordOutput output = GetRecordOutput(args);
  const bool data_only = args.Has("--data-only");
  const std::uint64_t count = args.GetUint("--count", UINT64_MAX);
  args.ExpectPositionals({"LOG"});

  StopSignals::Install();
  // A writable handle lets the reader unblock a producer that stalled mid-append; without a
  // cursor a read-only one will do when that is all the file allows.
  const std::string path = Log::ResolvePath(args.positionals()[0]);
  memlog::Result<std::unique_ptr<Log>> opened = Log::Open(path);
  if (!opened.ok() && cursor.empty() &&
      opened.status().code() == memlog::StatusCode::kPermissionDenied) {
    opened = Log::Open(path, memlog::OpenOptions{.read_only = true});
  }
  std::unique_ptr<Log> log = ValueOrThrow(std::move(opened));
  std::unique_ptr<LogReader> reader =
      ValueOrThrow(cursor.empty() ? log->NewReader(from) : log->OpenCursor(cursor, from));
  const std::optional<engine::RecordCatalog> catalog = LoadCatalog(*log);

  std::uint64_t printed = 0;
  std::uint64_t bad_records = 0;
  std::optional<std::uint64_t> resume_at;  // first record left unprinted by --count
  std::string buffer;
  RecordBatch batch;
  // A file truncated under the reader (only its owner can) must not kill it: the reads that
  // touch the mapping run guarded, and a truncation stops the tail with an error saying so.
  bool truncated = false;
  while (printed < count && !StopSignals::requested() && !truncated) {
    PollStatus status = PollStatus::kEmpty;
    BatchOutcome outcome;
    const bool whole = MappedReadGuard::Run([&] {
      status = reader->Wait(&batch, kWaitSlice);
      if (status == PollStatus::kOk)
        outcome = PrintBatch(*log, *reader, batch, output, catalog, data_only, UINT64_MAX,
                             count - printed, &bad_records, &buffer);
    });
    if (!whole) {
      truncated = true;
      break;
    }
    if (status == PollStatus::kEmpty) continue;
    if (status == PollStatus::kLapped) {
      ReportLapped(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kExpired) {
      ReportExpired(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kCorrupt) {
      FlushStdout();
      if (!MappedReadGuard::Run([&] { reader->CommitCursor(); })) {
        truncated = true;
        break;
      }
      throw CommandError(CorruptWhy(*log, *reader));
    }
    FlushStdout();
    printed += outcome.printed;
    if (outcome.stopped_at) {
      resume_at = outcome.stopped_at;
      break;
    }
    if (!MappedReadGuard::Run([&] { reader->CommitCursor(); })) truncated = true;
  }
  // Leave a named cursor right after the last record printed (guarded too: a truncation may
  // come at any moment).
  if (!truncated) {
    truncated = !MappedReadGuard::Run([&] {
      if (resume_at && !cursor.empty()) {
        if (reader->Seek(StartAt::Offset(*resume_at)).ok()) reader->CommitCursor();
      } else {
        reader->CommitCursor();
      }
    });
  }
  // Closing touches the header as well: guarded, and after a truncation whatever it could not
  // do is left undone.
  const std::string path_now = log->path();
  const std::uint64_t mapped = log->capacity() + memlog::kHeaderSize;
  truncated = !MappedReadGuard::Run([&] {
    reader.reset();
    log.reset();
  }) || truncated;
  if (truncated) {
    reader.release();
    log.release();
    FlushStdout();
    struct stat st;
    const std::string now = ::stat(path_now.c_str(), &st) == 0
                                ? U64(static_cast<std::uint64_t>(st.st_size)) + " bytes"
                                : std::string("gone");
    throw CommandError(path_now + ": the file was truncated under the reader (now " + now +
                       ", mapped " + U64(mapped) + "): stopping");
  }
  return bad_records == 0 ? 0 : 1;
}

// ----------------------------------------------------------------------------- dump

int DumpCommand(const Args& args) {
  const StartAt from = ParseStartAt(args, "earliest");
  const RecordOutput output = GetRecordOutput(args);
  const bool data_only = args.Has("--data-only");
  const std::uint64_t count = args.GetUint("--count", UINT64_MAX);
  args.ExpectPositionals({"LOG"});
  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/true);
  const std::uint64_t end = log->latest_offset();
  const std::unique_ptr<LogReader> reader = ValueOrThrow(log->NewReader(from));
  const std::optional<engine::RecordCatalog> catalog = LoadCatalog(*log);

  std::uint64_t printed = 0;
  std::uint64_t bad_records = 0;
  std::string buffer;
  RecordBatch batch;
  StallWatch stall(*log);
  const std::uint64_t begin = reader->position();
  ProgressBar progress("dump", "bytes", end > begin ? end - begin : 0, /*streams_stdout=*/true);
  while (printed < count && reader->position() < end) {
    progress.Update(reader->position() - begin);
    const PollStatus status = reader->Wait(&batch, kWaitSlice);
    if (status == PollStatus::kLapped) {
      ReportLapped(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kExpired) {
      ReportExpired(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kCorrupt) {
      FlushStdout();
      throw CommandError(CorruptWhy(*log, *reader));
    }
    if (status == PollStatus::kEmpty) {
      if (stall.ShouldGiveUp(reader->position())) {
        FlushStdout();
        throw CommandError(log->path() + ": stopped at offset " + U64(reader->position()) + ": " +
                           stall.Why());
      }
      continue;
    }
    const BatchOutcome outcome = PrintBatch(*log, *reader, batch, output, catalog, data_only, end,
                                            count - printed, &bad_records, &buffer);
    printed += outcome.printed;
    if (outcome.stopped_at) break;
  }
  FlushStdout();
  return bad_records == 0 ? 0 : 1;
}

// ----------------------------------------------------------------------------- verify

int VerifyCommand(const Args& args) {
  args.ExpectPositionals({"LOG"});
  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/true);
  const std::uint64_t end = log->latest_offset();
  const std::unique_ptr<LogReader> reader = ValueOrThrow(log->NewReader(StartAt::Earliest()));
  auto corrupt = [&](std::uint64_t offset, const std::string& why) {
    return CommandError(log->path() + ": corrupt at offset " + U64(offset) + ": " + why);
  };

  std::uint64_t records = 0;
  std::uint64_t archived_records = 0;
  std::uint64_t bytes_checked = 0;
  std::uint64_t bytes_lost = 0;
  RecordBatch batch;
  StallWatch stall(*log);
  while (reader->position() < end) {
    const PollStatus status = reader->Wait(&batch, kWaitSlice);
    if (status == PollStatus::kLapped) {
      // Live producers overwrote records (overwrite policy) before they could be checked.
      bytes_lost += reader->last_lost_bytes();
      ReportLapped(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kExpired) {
      bytes_lost += reader->last_lost_bytes();
      ReportExpired(reader->last_lost_bytes());
      continue;
    }
    if (status == PollStatus::kCorrupt) {
      if (!reader->error().empty()) throw CommandError(reader->error());
      throw corrupt(reader->position(),
                    "damaged frame header (its length or state is out of range)");
    }
    if (batch.archived()) archived_records += batch.size();
    if (status == PollStatus::kEmpty) {
      if (stall.ShouldGiveUp(reader->position())) throw corrupt(reader->position(), stall.Why());
      continue;
    }
    for (const Record& r : batch) {
      if (r.offset >= end) break;
      if (!r.ChecksumOk()) {
        if (batch.archived())
          throw CommandError(log->archive()->directory() + ": the record at offset " +
                             U64(r.offset) + " in an archive segment fails its checksum (type " +
                             U64(r.type) + ", " + U64(r.payload.size()) + " payload bytes)");
        if (!reader->StillValid(batch)) {  // overwritten while we read it, not corrupt
          bytes_lost += batch.end_offset() - r.offset;
          ReportLapped(batch.end_offset() - r.offset);
          break;
        }
        throw corrupt(r.offset, "record checksum mismatch (type " + U64(r.type) + ", " +
                                    U64(r.payload.size()) + " payload bytes)");
      }
      ++records;
      bytes_checked += memlog::RecordFrameSize(r.payload.size());
    }
  }
  std::string summary =
      "ok: " + U64(records) + " records, " + U64(bytes_checked) + " bytes checked";
  if (log->has_archive()) summary += " (" + U64(archived_records) + " records in the archive)";
  if (bytes_lost > 0)
    summary += " (" + U64(bytes_lost) + " bytes were overwritten before they could be checked)";
  std::printf("%s\n", summary.c_str());
  FlushStdout();
  return 0;
}

}  // namespace

std::unique_ptr<Log> OpenLog(std::string_view name_or_path, bool read_only) {
  memlog::OpenOptions options;
  options.read_only = read_only;
  return ValueOrThrow(Log::Open(Log::ResolvePath(name_or_path), options));
}

memlog::Durability CreatedDurability(const memlog::Log& log) {
  return log.Info().creation_durability;
}

void PrintLogInfoTable(const LogInfo& info, const char* indent, std::FILE* out) {
  auto row = [&](const char* label, const std::string& value) {
    std::fprintf(out, "%s%-18s %s\n", indent, label, value.c_str());
  };
  row("path", info.path);
  row("version", U64(info.version));
  row("capacity", WithUnit(info.capacity));
  row("policy", memlog::PolicyName(info.policy));
  std::string durability = memlog::DurabilityName(info.durability);
  if (info.durability == Durability::kInterval)
    durability += " (every " + U64(info.sync_interval_ms) + " ms)";
  row("durability", durability);
  row("max payload", WithUnit(info.max_payload));
  row("unblock timeout", U64(info.unblock_timeout_ms) + " ms");
  row("created", FormatUtcTime(info.created_unix_ns));
  row("identity", info.identity);
  row("earliest offset", U64(info.earliest_offset));
  row("latest offset", U64(info.latest_offset));
  row("retained bytes", WithUnit(info.latest_offset - info.earliest_offset));
  row("records appended", U64(info.records_appended));
  row("bytes appended", WithUnit(info.bytes_appended));
  row("padding frames", U64(info.padding_frames));
  row("unblocked stalls", U64(info.unblocked_stalls));
  row("recoveries", U64(info.recoveries));
  row("truncated bytes", U64(info.truncated_bytes));
  row("live producers", U64(info.live_producers));
  if (info.has_archive) {
    const memlog::ArchiveInfo& a = info.archive;
    row("archive", a.directory);
    row("  segments", U64(a.segments) + " sealed, " + WithUnit(a.sealed_bytes) + " of records in " +
                          WithUnit(a.stored_bytes) + " of files");
    row("  codec", a.codec == memlog::Codec::kNone
                       ? "none"
                       : std::string(memlog::CodecName(a.codec)) + ", once sealed");
    row("  oldest offset", U64(a.earliest_offset));
    row("  oldest sealed",
        a.oldest_sealed_unix_ns == 0 ? "-" : FormatUtcTime(a.oldest_sealed_unix_ns));
    row("  durable up to",
        U64(a.durable_offset) + " (lag " +
            WithUnit(info.latest_offset - std::min(a.durable_offset, info.latest_offset)) + ")");
    std::string archiver =
        a.archiver_running ? "running (pid " + U64(a.archiver_pid) + ")" : "not running";
    if (a.archiver_running && a.heartbeat_unix_ns != 0)
      archiver += ", last pass " + FormatUtcTime(a.heartbeat_unix_ns);
    if (a.error != 0) archiver += std::string(", failing: ") + std::strerror(a.error);
    row("  archiver", archiver);
  }
  row("cursors", U64(info.cursors.size()));
  if (info.cursors.empty()) return;
  int name_width = 4;
  for (const memlog::CursorInfo& c : info.cursors)
    name_width = std::max(name_width, static_cast<int>(c.name.size()));
  std::fprintf(out, "%s  %-*s %14s %14s  %-30s %8s\n", indent, name_width, "name", "position",
               "lag", "updated", "pid");
  for (const memlog::CursorInfo& c : info.cursors) {
    const std::uint64_t lag = info.latest_offset - std::min(c.position, info.latest_offset);
    std::fprintf(out, "%s  %-*s %14" PRIu64 " %14" PRIu64 "  %-30s %8u\n", indent, name_width,
                 c.name.c_str(), c.position, lag, FormatUtcTime(c.updated_unix_ns).c_str(), c.pid);
  }
}

CommandGroup LogCommands() {
  return {
      "log",
      "LOG [options]",
      "create, inspect, write, read and archive logs",
      "LOG is a path, or a bare name (no '/') of a log in $KAPPA_DATA_DIR (default "
      "/dev/shm/kappa).\n"
      "Run 'kappa log <subcommand> --help' for its options.\n",
      {
          {"log create",
           "",
           "create a new log",
           kCreateUsage,
           {"--capacity", "--policy", "--durability", "--sync-interval-ms", "--unblock-timeout-ms",
            "--max-payload", "--archive", "--segment-size", "--segment-age", "--flush-interval",
            "--retain-size", "--retain-age", "--retain-cursor", "--codec", "--codec-level"},
           {},
           CreateCommand},
          {"log info",
           "",
           "show a log's settings, positions, counters and cursors",
           kInfoUsage,
           {"--format"},
           {},
           InfoCommand},
          LogAppendCommand(),
          LogSchemaCommand(),
          LogCursorsCommand(),
          LogCursorCommand(),
          {"log tail",
           "",
           "follow a log, printing records as they arrive",
           kTailUsage,
           {"--from", "--cursor", "--format", "--count", "--bytes"},
           {"--data-only"},
           TailCommand},
          {"log dump",
           "",
           "print the records a log holds now, then exit",
           kDumpUsage,
           {"--from", "--count", "--format", "--bytes"},
           {"--data-only"},
           DumpCommand},
          {"log verify",
           "",
           "check the checksum of every record a log holds",
           kVerifyUsage,
           {},
           {},
           VerifyCommand},
          {"log archive",
           "",
           "copy a log's records into its archive's segment files, until stopped",
           kArchiveUsage,
           {"--segment-size", "--segment-age", "--flush-interval", "--retain-size", "--retain-age",
            "--retain-cursor", "--codec", "--codec-level"},
           {"--once"},
           ArchiveCommand},
      }};
}

memlog::StartAt GetStartAt(const Args& args, std::string_view fallback, std::string_view flag) {
  return ParseStartAt(args, fallback, flag);
}

}  // namespace kappa::tools
