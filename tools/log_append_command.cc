// "kappa log append" (records from standard input: text lines, JSON lines, CSV or fixed-size
// binary, the typed formats encoded through the log's catalog) and "kappa log schema" (the
// catalog declared from the command line).
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/record_catalog.h"
#include "ingest/csv_encoder.h"
#include "ingest/json_lines_encoder.h"
#include "memlog/format.h"
#include "memlog/producer.h"
#include "tools/cli/args.h"
#include "tools/cli/text.h"
#include "tools/log_commands.h"

namespace kappa::tools {
namespace {

using memlog::AppendResult;
using memlog::Log;
using memlog::RecordView;

// How long an append waits for room before giving up.
constexpr std::chrono::seconds kAppendTimeout{10};
// Standard input is read this much at a time.
constexpr std::size_t kReadSize = std::size_t{1} << 20;
// No record (a line, a CSV record) may be longer than this in the input.
constexpr std::size_t kMaxInputRecord = std::size_t{1} << 30;
// Skipped records reported one by one before only the count.
constexpr std::uint64_t kReportedSkips = 10;

constexpr char kAppendUsage[] =
    "Usage: kappa log append LOG [--format lines|jsonl|csv|raw] [--type N|NAME] [options]\n"
    "\n"
    "Appends the records read from standard input to the log, and prints \"appended N records\"\n"
    "on standard error at the end. Records are appended as they arrive: those read together go\n"
    "in one atomic batch (readers see all of them or none). When the log is full, waits up to\n"
    "10 s for room, then fails with \"log full\". The append time of each record (its timestamp,\n"
    "what 'kappa log dump' shows as ts and time windows use unless a job reads event time from\n"
    "a field) is the wall clock when it is appended.\n"
    "\n"
    "Formats:\n"
    "  lines  one record per line, its bytes as they are, without the newline (the default)\n"
    "  jsonl  one JSON object per line, encoded into the record type --type names in the log's\n"
    "         catalog (LOG.types; see 'kappa log schema'): each field from the member of its\n"
    "         name (integers for i64 and u64, numbers or null (NaN) for f64, strings for string\n"
    "         fields and the tail); other members are skipped (their values unchecked), so that\n"
    "         the lines 'kappa log dump --format jsonl' prints read back as they are. Blank\n"
    "         lines are skipped\n"
    "  csv    CSV (RFC 4180: cells quoted with \"\" where they hold the delimiter, quotes or line\n"
    "         ends), encoded like jsonl: the first line names the columns (every field must be\n"
    "         one; other columns are ignored), or with --no-header the columns are the fields in\n"
    "         the catalog's order, then the tail. Blank lines are skipped\n"
    "  raw    fixed-size binary records of --record-size bytes back to back (default: the size\n"
    "         of the type's schema)\n"
    "\n"
    "A record that does not fit the type (jsonl, csv) is reported with its line number and\n"
    "field, and stops the command: the records before it are appended, nothing after it.\n"
    "\n"
    "Options:\n"
    "  --type N|NAME        record type: a number, 0 to 65279 (65280 and up are kappa's own), or\n"
    "                       a type's name in the log's catalog; jsonl and csv need a catalog type\n"
    "                       (default 0)\n"
    "  --on-error stop|skip what a record that does not fit does: stop the command (default), or\n"
    "                       be skipped, reported (the first 10) and counted\n"
    "  --batch N            append N records at a time as one atomic batch, waiting for N to\n"
    "                       arrive (default: the records read together)\n"
    "  --delimiter C        csv: the cell delimiter, one character, or 'tab' (default ',')\n"
    "  --no-header          csv: the input has no header line\n"
    "  --record-size SIZE   raw: bytes per record\n";

constexpr char kSchemaUsage[] =
    "Usage: kappa log schema LOG [add NAME FIELD:TYPE... [--id N]]\n"
    "\n"
    "Shows the record types of the log's catalog (LOG.types), or adds one: NAME (1 to 31 of\n"
    "[A-Za-z0-9_]) with its fields in order. A field's TYPE is i64, u64 or f64 (8 bytes each), or\n"
    "stringN (text of up to N bytes, 1 to 1024, NUL-padded); a last field of type `tail` names\n"
    "text of any length after the others (engine/record.h). Adding a type that is there already\n"
    "with the same fields does nothing; with other fields it is an error.\n"
    "\n"
    "Records of a type are then appended with 'kappa log append LOG --type NAME --format\n"
    "jsonl|csv|raw', shown by field by 'kappa log dump', and read by jobs through a C++ struct of\n"
    "the same layout (KAPPA_NAMED_RECORD) or a pipeline.\n"
    "\n"
    "  kappa log schema clicks add click user:i64 page:string32 duration_ms:f64\n"
    "\n"
    "Options:\n"
    "  --id N   the type's number in the log, 0 to 65279 (default: one more than the highest\n"
    "           listed, or 1)\n";

std::string U64(std::uint64_t v) { return std::to_string(v); }

std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// The type names a catalog lists, for messages: "person, auction, bid".
std::string TypeNames(const engine::RecordCatalog& catalog) {
  std::string names;
  for (const engine::CatalogEntry& e : catalog.entries())
    names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

// Standard input, read as it arrives: Read() returns once some bytes came (or the input ended),
// so that records a pausing writer has sent are appended at once. The unread bytes are always
// followed by JsonLinesEncoder::kPadding readable bytes.
class Input {
 public:
  Input() : buffer_(kReadSize + ingest::JsonLinesEncoder::kPadding) {}

  // Reads more; false at the end of the input.
  bool Read() {
    if (begin_ > 0) {  // keep the unread bytes at the front
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ > kMaxInputRecord)
      throw CommandError("standard input: a record longer than " + FormatBytes(kMaxInputRecord));
    if (buffer_.size() < end_ + kReadSize + ingest::JsonLinesEncoder::kPadding)
      buffer_.resize(2 * (end_ + kReadSize) + ingest::JsonLinesEncoder::kPadding);
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buffer_.data() + end_, kReadSize);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
        return true;
      }
      if (n == 0) return false;
      if (errno != EINTR)
        throw CommandError(std::string("cannot read standard input: ") + std::strerror(errno));
    }
  }
  std::string_view unread() const { return {buffer_.data() + begin_, end_ - begin_}; }
  void Consume(std::size_t n) { begin_ += n; }

 private:
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

enum class Format { kLines, kJsonLines, kCsv, kRaw };

// Runs `append()` until it succeeds, waiting while the log is full (or, under the overwrite
// policy, stalled behind an older reservation) for at most kAppendTimeout in all, and retrying
// when memlog abandoned our reservation because this process stalled (nothing of it was
// published, so retrying cannot duplicate a record).
template <class AppendFn>
AppendResult AppendWithRetries(AppendFn&& append) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + kAppendTimeout;
  for (int abandoned = 0;;) {
    const AppendResult r = append();
    if (r == AppendResult::kAbandoned && ++abandoned <= 3) continue;
    if (r == AppendResult::kFull || r == AppendResult::kStalled) {
      if (Clock::now() >= deadline) return r == AppendResult::kFull ? AppendResult::kTimedOut : r;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    return r;
  }
}

// Why a block-policy log stays full, and what would free it.
std::string FullHint(const Log& log) {
  const memlog::LogInfo info = log.Info();
  if (info.cursors.empty())
    return "a block-policy log without cursors keeps every record, so it stays full (use "
           "--policy overwrite or a larger --capacity)";
  const memlog::CursorInfo* slowest = &info.cursors[0];
  for (const memlog::CursorInfo& c : info.cursors) {
    if (c.position < slowest->position) slowest = &c;
  }
  return "the slowest cursor " + Quote(slowest->name) + " is " +
         U64(info.latest_offset - std::min(slowest->position, info.latest_offset)) +
         " bytes behind, and space is freed only as it advances (for example 'kappa log tail " +
         log.path() + " --cursor " + slowest->name + "')";
}

// `what` names the records ("line 3", "lines 1-100"); `appended` counts the records before.
CommandError AppendError(AppendResult r, const Log& log, const std::string& what,
                         std::uint64_t appended) {
  const std::string before = " (" + U64(appended) + " records appended before it)";
  switch (r) {
    case AppendResult::kTimedOut:
      return CommandError("log full: " + log.path() + ": no room for " + what + " after " +
                          std::to_string(kAppendTimeout.count()) + " s; " + FullHint(log) + before);
    case AppendResult::kTooLarge:  // single records are checked against the max payload before
      return CommandError(log.path() + ": " + what +
                          ": too large for one batch (a batch may fill at most half the ring); "
                          "use a smaller --batch" +
                          before);
    case AppendResult::kStalled:
      return CommandError(log.path() + ": " + what + ": append stalled for " +
                          std::to_string(kAppendTimeout.count()) +
                          " s behind an older reservation that could not be unblocked" + before);
    case AppendResult::kIoError:
      return CommandError(log.failure() + before);
    case AppendResult::kAbandoned:
      return CommandError(log.path() + ": " + what +
                          ": append abandoned repeatedly (this process stalled past the log's "
                          "unblock timeout)" +
                          before);
    default:
      return CommandError(log.path() + ": " + what +
                          ": append failed: " + memlog::AppendResultName(r) + before);
  }
}

// The records encoded and not yet appended, and the input lines they came from.
class PendingRecords {
 public:
  PendingRecords(Log* log, memlog::Producer* producer, std::uint16_t type, std::uint64_t batch)
      : log_(*log),
        producer_(*producer),
        type_(type),
        batch_(batch),
        // A batch may fill at most half the ring; frames add a header to each payload.
        max_batch_bytes_(std::min<std::uint64_t>(log->capacity() / 4, 16u << 20)) {}

  // The bytes a record is encoded into: Add() takes what was appended here since the last one.
  std::string* bytes() { return &bytes_; }
  std::size_t size() const { return ends_.size(); }
  std::uint64_t appended() const { return appended_; }

  // Takes the record just encoded into bytes(), from input line `line`.
  void Add(std::uint64_t line) {
    ends_.push_back(bytes_.size());
    lines_.push_back(line);
    if (batch_ != 0 && ends_.size() == batch_) AppendAll();
  }

  // Appends what is pending: in batches of --batch records, or without --batch in batches of
  // at most max_batch_bytes_ (when `whole_batches_only`, a last short --batch waits for more).
  void Append(bool whole_batches_only) {
    if (batch_ != 0 && whole_batches_only) return;  // Add() appends each whole batch
    AppendAll();
  }

 private:
  void AppendAll() {
    std::size_t first = 0;
    while (first < ends_.size()) {
      std::size_t last = first;  // one past the batch's last record
      std::uint64_t batch_bytes = 0;
      views_.clear();
      for (std::size_t begin = first == 0 ? 0 : ends_[first - 1]; last < ends_.size(); ++last) {
        const std::size_t size = ends_[last] - begin;
        if (batch_ == 0 && last > first && batch_bytes + size + 64 > max_batch_bytes_) break;
        batch_bytes += size + 64;
        views_.push_back(RecordView{
            .payload = AsBytes(std::string_view(bytes_).substr(begin, size)), .type = type_});
        begin = ends_[last];
      }
      const AppendResult r = AppendWithRetries([&] { return producer_.AppendBatch(views_); });
      if (r != AppendResult::kOk) {
        const std::string what = last - first == 1
                                     ? "line " + U64(lines_[first])
                                     : "lines " + U64(lines_[first]) + "-" + U64(lines_[last - 1]);
        throw AppendError(r, log_, what, appended_);
      }
      appended_ += last - first;
      first = last;
    }
    bytes_.clear();
    ends_.clear();
    lines_.clear();
  }

  Log& log_;
  memlog::Producer& producer_;
  const std::uint16_t type_;
  const std::uint64_t batch_;  // 0: no --batch
  const std::uint64_t max_batch_bytes_;
  std::string bytes_;
  std::vector<std::size_t> ends_;     // where each record ends in bytes_
  std::vector<std::uint64_t> lines_;  // each record's first input line
  std::vector<RecordView> views_;
  std::uint64_t appended_ = 0;
};

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The record type --type names: its number, and its catalog entry if the catalog has one.
struct TypeChoice {
  std::uint16_t type = 0;
  const engine::CatalogEntry* entry = nullptr;
};

TypeChoice ChooseType(const Args& args, const Log& log, const engine::RecordCatalog& catalog,
                      Format format) {
  const std::string text = args.GetString("--type", "0");
  TypeChoice choice;
  if (const auto number = ParseUint(text)) {
    if (*number >= memlog::kFirstReservedType)
      throw args.Error("--type: " + text + " is kappa's own (application types are 0 to " +
                       U64(memlog::kFirstReservedType - 1) + ")");
    choice.type = static_cast<std::uint16_t>(*number);
    choice.entry = catalog.Find(choice.type);
  } else {
    for (const engine::CatalogEntry& e : catalog.entries()) {
      if (e.name == text) choice.entry = &e;
    }
    if (choice.entry == nullptr) {
      if (catalog.entries().empty())
        throw CommandError(
            log.path() + " has no record types (no " + engine::RecordCatalog::PathFor(log.path()) +
            "): declare one with 'kappa log schema " + log.path() + " add NAME FIELD:TYPE...'");
      throw CommandError(engine::RecordCatalog::PathFor(log.path()) + " has no type " +
                         Quote(text) + " (it has: " + TypeNames(catalog) + ")");
    }
    choice.type = choice.entry->type;
  }
  const bool typed = format == Format::kJsonLines || format == Format::kCsv;
  if (typed && choice.entry == nullptr)
    throw args.Error("--format " + args.GetString("--format", "") +
                     " encodes records into a type of the log's catalog: --type " +
                     (args.Has("--type") ? text + " is not one of them" : "is missing"));
  if (format == Format::kLines && choice.entry != nullptr && !ParseUint(text))
    throw args.Error("--type " + text +
                     " has fields: its records are not text lines (use "
                     "--format jsonl, csv or raw)");
  return choice;
}

int AppendCommand(const Args& args) {
  const std::string format_name =
      args.GetChoice("--format", "lines", {"lines", "jsonl", "csv", "raw"});
  const Format format = format_name == "jsonl" ? Format::kJsonLines
                        : format_name == "csv" ? Format::kCsv
                        : format_name == "raw" ? Format::kRaw
                                               : Format::kLines;
  const bool skip_bad = args.GetChoice("--on-error", "stop", {"stop", "skip"}) == "skip";
  const std::uint64_t batch = args.GetUint("--batch", 0, 1, 1 << 20);
  if ((args.Has("--delimiter") || args.Has("--no-header")) && format != Format::kCsv)
    throw args.Error("--delimiter and --no-header are for --format csv");
  if (args.Has("--record-size") && format != Format::kRaw)
    throw args.Error("--record-size is for --format raw");
  args.ExpectPositionals({"LOG"});

  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/false);
  const engine::RecordCatalog catalog = ValueOrThrow(engine::RecordCatalog::Load(log->path()));
  const TypeChoice type = ChooseType(args, *log, catalog, format);
  const std::uint32_t max_payload = log->Info().max_payload;

  std::size_t record_size = 0;
  if (format == Format::kRaw) {
    const std::uint64_t fallback = type.entry ? type.entry->schema.value_size() : 0;
    record_size = args.GetSize("--record-size", fallback, max_payload);
    if (record_size == 0)
      throw args.Error("--format raw needs --record-size (or a --type of the catalog)");
    if (type.entry != nullptr && !type.entry->Fits(record_size))
      throw args.Error("--record-size " + U64(record_size) + " does not fit " + type.entry->name +
                       ", whose records are " + (type.entry->tail.empty() ? "" : "at least ") +
                       U64(type.entry->schema.value_size()) + " bytes");
  }
  std::optional<ingest::JsonLinesEncoder> json;
  std::optional<ingest::CsvEncoder> csv;
  if (format == Format::kJsonLines) json.emplace(*type.entry);
  if (format == Format::kCsv) {
    ingest::CsvEncoder::Options options;
    options.header = !args.Has("--no-header");
    const std::string delimiter = args.GetString("--delimiter", ",");
    if (delimiter == "tab") {
      options.delimiter = '\t';
    } else if (delimiter.size() == 1 && delimiter != "\"" && delimiter != "\r" &&
               delimiter != "\n") {
      options.delimiter = delimiter[0];
    } else {
      throw args.Error("--delimiter: one character other than a quote or a line end, or 'tab'");
    }
    csv.emplace(*type.entry, options);
  }

  const std::unique_ptr<memlog::Producer> producer = ValueOrThrow(log->NewProducer());
  PendingRecords pending(log.get(), producer.get(), type.type, batch);
  std::uint64_t line = 1;  // the line the next record starts on
  std::uint64_t skipped = 0;
  std::string error;
  // A record that does not fit: skipped and counted, or the end of the command.
  auto bad_record = [&](std::uint64_t at, const std::string& why, bool fatal) {
    const std::string where = log->path() + ": line " + U64(at) + ": " + why;
    if (!skip_bad || fatal) {
      pending.Append(/*whole_batches_only=*/false);
      throw CommandError(where + " (" + U64(pending.appended()) + " records appended before it" +
                         (skipped ? ", " + U64(skipped) + " skipped" : "") + ")");
    }
    if (++skipped <= kReportedSkips) {
      std::fprintf(stderr, "kappa: skipped %s\n", where.c_str());
      if (skipped == kReportedSkips) std::fprintf(stderr, "kappa: (further skips only counted)\n");
    }
  };
  auto too_large = [&](std::uint64_t at, std::size_t size) {
    bad_record(at,
               "a record of " + U64(size) + " bytes, more than the log's max payload of " +
                   U64(max_payload) + " bytes",
               /*fatal=*/false);
  };

  Input input;
  for (bool more = true; more;) {
    more = input.Read();
    const bool at_end = !more;
    for (;;) {
      const std::string_view unread = input.unread();
      if (unread.empty()) break;
      std::size_t length = 0;
      std::size_t lines = 1;
      if (format == Format::kRaw) {
        if (unread.size() < record_size) {
          if (!at_end) break;
          pending.Append(/*whole_batches_only=*/false);
          throw CommandError(log->path() + ": standard input ends with " + U64(unread.size()) +
                             " bytes, not a whole record of " + U64(record_size) + " (" +
                             U64(pending.appended()) + " records appended before them)");
        }
        length = record_size;
        pending.bytes()->append(unread.substr(0, record_size));
        pending.Add(line);
        input.Consume(length);
        ++line;
        continue;
      }
      if (format == Format::kCsv) {
        length = ingest::CsvEncoder::RecordLength(unread, at_end, &lines);
        if (length == 0) break;
      } else {
        const void* newline = std::memchr(unread.data(), '\n', unread.size());
        if (newline == nullptr && !at_end) break;
        length = newline ? static_cast<const char*>(newline) - unread.data() + 1 : unread.size();
        lines = newline ? 1 : 0;
      }
      std::string_view record = unread.substr(0, length);
      if (format != Format::kCsv && record.ends_with('\n')) record.remove_suffix(1);
      const std::uint64_t at = line;
      input.Consume(length);
      line += lines;
      if (format == Format::kLines) {
        if (record.size() > max_payload) {
          too_large(at, record.size());
          continue;
        }
        pending.bytes()->append(record);
        pending.Add(at);
        continue;
      }
      if (IsBlank(record.substr(0, record.size() - (record.ends_with('\n') ? 1 : 0)))) continue;
      const std::size_t before = pending.bytes()->size();
      if (format == Format::kJsonLines) {
        if (!json->Encode(record, pending.bytes(), &error)) {
          bad_record(at, error, /*fatal=*/false);
          continue;
        }
      } else {
        const ingest::CsvEncoder::Outcome outcome = csv->Encode(record, pending.bytes(), &error);
        if (outcome == ingest::CsvEncoder::Outcome::kHeader) continue;
        if (outcome == ingest::CsvEncoder::Outcome::kBad) {
          bad_record(at, csv->has_columns() ? error : "the header: " + error,
                     /*fatal=*/!csv->has_columns());
          continue;
        }
      }
      if (const std::size_t size = pending.bytes()->size() - before; size > max_payload) {
        pending.bytes()->resize(before);
        too_large(at, size);
        continue;
      }
      pending.Add(at);
    }
    pending.Append(/*whole_batches_only=*/more);
  }
  std::string summary = "appended " + U64(pending.appended()) + " records";
  if (skipped > 0)
    summary += "; skipped " + U64(skipped) + (skipped == 1 ? " record" : " records") +
               " that did not fit" + (type.entry ? " " + type.entry->name : "");
  std::fprintf(stderr, "%s\n", summary.c_str());
  return 0;
}

// ----------------------------------------------------------------------------- schema

void PrintCatalog(const std::string& log_path, const engine::RecordCatalog& catalog) {
  if (catalog.entries().empty()) {
    std::printf(
        "%s has no record types (add one with 'kappa log schema %s add NAME "
        "FIELD:TYPE...')\n",
        log_path.c_str(), log_path.c_str());
    return;
  }
  // The catalog file's own lines, without its header: "<type> <name> <field>:<type>...".
  std::string text = catalog.Text();
  text.erase(0, text.find('\n') + 1);
  std::fputs(text.c_str(), stdout);
}

int SchemaCommand(const Args& args) {
  const std::vector<std::string>& words = args.positionals();
  if (words.empty()) throw args.Error("missing LOG argument");
  const std::unique_ptr<Log> log = OpenLog(words[0], /*read_only=*/true);
  const std::string& path = log->path();
  engine::RecordCatalog catalog = ValueOrThrow(engine::RecordCatalog::Load(path));
  if (words.size() == 1) {
    if (args.Has("--id")) throw args.Error("--id is for 'add'");
    PrintCatalog(path, catalog);
    return 0;
  }
  if (words[1] != "add") throw args.Error("unknown action " + Quote(words[1]) + " (expected add)");
  if (words.size() < 3) throw args.Error("add: missing NAME");
  if (words.size() < 4) throw args.Error("add " + words[2] + ": missing FIELD:TYPE");
  std::uint64_t next = 1;
  for (const engine::CatalogEntry& e : catalog.entries())
    next = std::max<std::uint64_t>(next, e.type + 1u);
  const std::uint64_t id = args.GetUint("--id", next, 0, memlog::kFirstReservedType - 1);
  if (id >= memlog::kFirstReservedType)
    throw CommandError("no type number left below " + U64(memlog::kFirstReservedType) +
                       ": pass --id");
  // The entry as a catalog line, read by the catalog's own parser.
  std::string line = U64(id) + " " + words[2];
  for (std::size_t i = 3; i < words.size(); ++i) line += " " + words[i];
  const engine::RecordCatalog parsed =
      ValueOrThrow(engine::RecordCatalog::Parse(line + "\n", "kappa log schema add"));
  const engine::CatalogEntry& entry = parsed.entries().at(0);
  for (const engine::CatalogEntry& e : catalog.entries()) {
    if (e.name == entry.name && e.type != entry.type && args.Has("--id"))
      throw CommandError(engine::RecordCatalog::PathFor(path) + ": " + e.name + " is type " +
                         U64(e.type) + " already");
    if (e.name == entry.name && !args.Has("--id")) {
      // Adding it again: the same fields are no change, others an error (below).
      const serving::Status again =
          engine::RecordCatalog::Register(path, e.type, entry.name, entry.schema, entry.tail);
      if (!again.ok()) throw CommandError(again.message());
      std::printf("%s is type %u already, with these fields\n", e.name.c_str(), e.type);
      return 0;
    }
  }
  const serving::Status added =
      engine::RecordCatalog::Register(path, entry.type, entry.name, entry.schema, entry.tail);
  if (!added.ok()) throw CommandError(added.message());
  std::printf("added type %u %s (%u bytes%s) to %s\n", entry.type, entry.name.c_str(),
              entry.schema.value_size(), entry.tail.empty() ? "" : ", then its tail",
              engine::RecordCatalog::PathFor(path).c_str());
  return 0;
}

}  // namespace

Command LogAppendCommand() {
  return {"log append",
          "",
          "append standard input to a log: text lines, JSON lines, CSV or binary records",
          kAppendUsage,
          {"--format", "--type", "--on-error", "--batch", "--delimiter", "--record-size"},
          {"--no-header"},
          AppendCommand};
}

Command LogSchemaCommand() {
  return {"log schema",
          "[add NAME FIELD:TYPE...]",
          "show or declare the record types of a log's catalog",
          kSchemaUsage,
          {"--id"},
          {},
          SchemaCommand};
}

}  // namespace kappa::tools
