#include "tools/view_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "serving/format.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/status.h"
#include "serving/view_reader.h"
#include "tools/cli/args.h"
#include "tools/cli/clock.h"
#include "tools/cli/mapped_read_guard.h"
#include "tools/cli/row_formatter.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"

namespace kappa::tools {

namespace {

using serving::KeyType;
using serving::Namespace;
using serving::OrphanSweep;
using serving::ReadStatus;
using serving::RowView;
using serving::VersionListing;
using serving::ViewInfo;
using serving::ViewKind;
using serving::ViewListing;
using serving::ViewReader;

constexpr char kDefaultNamespace[] = "default";
// Output is written in pieces of about this size while a long scan runs.
constexpr std::size_t kOutputChunk = 64 * 1024;
// A flip between describing a view and reading it restarts the read this many times at most.
constexpr int kFlipRetries = 10;

constexpr char kLsUsage[] =
    "Usage: kappa view ls [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Lists every view of a namespace: each version with its kind, shards (\"2/4\" while some\n"
    "shards are not created yet), file generation (shard 0's) and creation time; which version\n"
    "is current (the one readers of the name see) and which is previous (the one 'kappa view\n"
    "revert' returns to); and the alias epoch (+1 on every flip).\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE         a namespace in $KAPPA_VIEW_DIR (default /dev/shm/kappa/views), or a\n"
    "                         directory path (default \"default\")\n"
    "  --format table|jsonl   output format (default table)\n"
    "\n"
    "jsonl: one object per view name (current and previous are null when there is none):\n"
    "  {\"name\":\"q5\",\"current\":2,\"previous\":1,\"alias_epoch\":2,\"flipped_unix_ns\":N,\n"
    "   \"versions\":[{\"version\":1,\"kind\":\"keyed\",\"shards\":1,\"shards_present\":1,\n"
    "   \"generation\":0,\"created_unix_ns\":N},...]}\n";

constexpr char kInfoUsage[] =
    "Usage: kappa view info REF [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Describes a view: its kind, key, value fields, capacity, window or order settings, file\n"
    "size, writer (pid, whether it runs, heartbeat), progress (applied log offset, watermark)\n"
    "and counters. REF is NAME (the version its alias names now) or NAME@VERSION.\n"
    "\n"
    "A sharded view is described as a whole (capacity, file bytes and counters summed over its\n"
    "shards; applied offset, watermark and heartbeat those of the slowest shard; the writer pid,\n"
    "epoch and state shard 0's), then shard by shard.\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE         the view namespace (default \"default\"; see 'kappa view --help')\n"
    "  --format table|jsonl   output format (default table)\n"
    "\n"
    "jsonl: one object holding everything the table shows, times in Unix nanoseconds:\n"
    "  {\"namespace\":\"/dev/shm/kappa/views/default\",\"name\":\"q5\",\"version\":2,\n"
    "   \"alias\":\"q5\",\"alias_epoch\":2,\"generation\":0,\"shard_count\":1,\"kind\":\"keyed\",\n"
    "   \"key_type\":\"u64\",\"key_name\":\"user\",\"key_size\":8,\"value_size\":16,\n"
    "   \"fields\":[{\"name\":\"clicks\",\"type\":\"i64\",\"size\":8,\"offset\":0},...],\n"
    "   \"capacity\":1024,\"window_size_ns\":0,\"window_slide_ns\":0,\"retention_ns\":0,\n"
    "   \"windows_per_key\":0,\"order_field\":null,\"order_descending\":false,\n"
    "   \"created_unix_ns\":N,\"file_bytes\":N,\"writer_pid\":N,\"writer_alive\":true,\n"
    "   \"heartbeat_unix_ns\":N,\"writer_epoch\":1,\"writer_state\":\"live\",\n"
    "   \"applied_offset\":N,\"watermark_ns\":N,\"newest_window\":N,\"list_count\":0,\n"
    "   \"counters\":{\"updates\":N,\"inserts\":N,\"entries\":N,\"tombstones\":N,\n"
    "   \"expired\":N,\"repaired\":N,\"publishes\":N},\"shards\":[{\"shard\":0,\"generation\":0,\n"
    "   \"capacity\":1024,\"writer_pid\":N,\"writer_alive\":true,\"heartbeat_unix_ns\":N,\n"
    "   \"applied_offset\":N,\"watermark_ns\":N,\"counters\":{...}},...]}\n"
    "  (alias is null for NAME@VERSION; key_name null for a list; order_field null unless top-K)\n";

constexpr char kGetUsage[] =
    "Usage: kappa view get REF KEY [--window START] [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Prints the value of KEY, its fields by name, and the log offset of its last update. KEY is\n"
    "a decimal number for a view with u64 keys, the key's text for one with bytes keys. For a\n"
    "windowed view, prints every retained window of KEY (oldest first), or with --window the one\n"
    "starting at START. For a top-K view, prints KEY's row if KEY is in the list. Fails if KEY\n"
    "is not there.\n"
    "\n"
    "Options:\n"
    "  --window START         a window start: Unix nanoseconds, or an ISO-8601 time as the table\n"
    "                         shows it (2024-05-01T12:00:00Z)\n"
    "  --ns NAMESPACE         the view namespace (default \"default\"; see 'kappa view --help')\n"
    "  --format table|jsonl   output format (default table; see 'kappa view scan --help')\n";

constexpr char kScanUsage[] =
    "Usage: kappa view scan REF [--limit N] [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Prints every row of a view: a keyed or windowed view's entries in slot order (each row\n"
    "consistent, the whole not a snapshot), a top-K view's list best first, a list's retained\n"
    "rows oldest first. If some entries stayed mid-update (their writer died or stalled), prints\n"
    "the others and then fails.\n"
    "\n"
    "Options:\n"
    "  --limit N              print at most N rows\n"
    "  --ns NAMESPACE         the view namespace (default \"default\"; see 'kappa view --help')\n"
    "  --format table|jsonl   output format (default table)\n"
    "\n"
    "Columns: rank (top-K; 1 is the best) or index (list: the row's index), the key under the\n"
    "view's key name, window_start (windowed), each value field under its name, and offset (the\n"
    "log offset of the entry's last update). A key or field named like a column before it, or\n"
    "like one of the fixed columns, gets '_' appended.\n"
    "\n"
    "table: a header line, then aligned columns; text escaped (\\\\ and \\xHH), window starts as\n"
    "       UTC times.\n"
    "jsonl: one object per row, for example\n"
    "       {\"rank\":1,\"user\":42,\"score\":17.5,\"name\":\"bob\",\"offset\":1234}\n"
    "       u64 keys and i64/u64 fields as JSON integers, bytes keys and string fields as JSON\n"
    "       strings, f64 fields as JSON numbers that read back exactly (always with a '.' or an\n"
    "       exponent; NaN and infinities as null), window_start in Unix nanoseconds.\n";

constexpr char kTopUsage[] =
    "Usage: kappa view top REF [--limit N] [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Prints a top-K view's list, best first, read as one consistent snapshot. For other kinds of\n"
    "view use 'kappa view scan'.\n"
    "\n"
    "Options:\n"
    "  --limit N              print at most the N best rows\n"
    "  --ns NAMESPACE         the view namespace (default \"default\"; see 'kappa view --help')\n"
    "  --format table|jsonl   output format (default table; see 'kappa view scan --help')\n";

constexpr char kWatchUsage[] =
    "Usage: kappa view watch REF [options]\n"
    "\n"
    "Shows a view's rows and progress, refreshed every --interval like top(1): the applied log\n"
    "offset, the watermark, the writer's pid, whether it runs and its heartbeat's age, and\n"
    "updates per second since the last refresh. Follows flips of the name's alias. Stops after\n"
    "--count refreshes, or on SIGINT or SIGTERM (exit 0).\n"
    "\n"
    "On a terminal each refresh redraws the screen; otherwise the refreshes are printed one\n"
    "after another, separated by a blank line.\n"
    "\n"
    "Options:\n"
    "  --interval MS          milliseconds between refreshes (default 1000)\n"
    "  --count N              stop after N refreshes\n"
    "  --limit N              rows shown: a keyed or windowed view's first N in slot order, a\n"
    "                         top-K view's N best, a list's N newest (default 20)\n"
    "  --ns NAMESPACE         the view namespace (default \"default\"; see 'kappa view --help')\n"
    "  --format table|jsonl   output format (default table)\n"
    "\n"
    "jsonl: one object per refresh, its rows as in 'kappa view scan --help':\n"
    "  {\"view\":\"q5\",\"version\":2,\"shard_count\":1,\"time_unix_ns\":N,\"applied_offset\":N,\n"
    "   \"watermark_ns\":N,\"writer_pid\":N,\"writer_alive\":true,\"heartbeat_unix_ns\":N,\n"
    "   \"updates\":N,\"updates_per_s\":12.5,\"rows\":[{...},...]}\n"
    "  (updates_per_s is null on the first refresh and after the alias moved to another version;\n"
    "  for a sharded view the progress and heartbeat are the slowest shard's, writer_pid shard\n"
    "  0's, writer_alive true if every shard's writer runs)\n";

constexpr char kFlipUsage[] =
    "Usage: kappa view flip NAME VERSION [--ns NAMESPACE]\n"
    "       kappa view flip NAME@VERSION [--ns NAMESPACE]\n"
    "\n"
    "Makes VERSION the version readers of NAME see (one atomic store; readers move on their next\n"
    "read). The version it replaces becomes the one 'kappa view revert' returns to.\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE   the view namespace (default \"default\"; see 'kappa view --help')\n";

constexpr char kRevertUsage[] =
    "Usage: kappa view revert NAME [--ns NAMESPACE]\n"
    "\n"
    "Flips NAME back to its previous version; a second revert undoes the first.\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE   the view namespace (default \"default\"; see 'kappa view --help')\n";

constexpr char kRetireUsage[] =
    "Usage: kappa view retire NAME@VERSION [--ns NAMESPACE]\n"
    "       kappa view retire NAME VERSION [--ns NAMESPACE]\n"
    "\n"
    "Deletes one version of a view: its files and its registry entry. Refuses the current\n"
    "version; retiring the previous one ends the chance to revert to it. Readers still on the\n"
    "version fail with \"gone\".\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE   the view namespace (default \"default\"; see 'kappa view --help')\n";

constexpr char kDropUsage[] =
    "Usage: kappa view drop NAME [--ns NAMESPACE]\n"
    "\n"
    "Deletes every version of a view and its name: the view is gone for good. Readers of it\n"
    "fail with \"gone\".\n"
    "\n"
    "Options:\n"
    "  --ns NAMESPACE   the view namespace (default \"default\"; see 'kappa view --help')\n";

// ----------------------------------------------------------------------------- helpers

void ThrowIfFailed(const serving::Status& status) {
  if (!status.ok()) throw CommandError(status.message());
}

std::string U64(std::uint64_t v) { return std::to_string(v); }

void WriteStdout(const std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    throw CommandError(std::string("cannot write to standard output: ") + std::strerror(errno));
}

void FlushStdout() {
  if (std::fflush(stdout) != 0)
    throw CommandError(std::string("cannot write to standard output: ") + std::strerror(errno));
}

// A view as the user named it: "name" (follow the alias) or "name@version".
struct ViewRef {
  std::string name;
  std::uint32_t version = 0;  // 0: follow the alias

  std::string text() const { return version == 0 ? name : name + "@" + U64(version); }
};

void CheckViewName(const Args& args, std::string_view name) {
  if (!serving::ValidViewName(name))
    throw args.Error("bad view name " + Quote(name) +
                     ": use 1 to 63 of A-Z a-z 0-9 _ . - (not starting with '.')");
}

std::uint32_t ParseVersion(const Args& args, std::string_view text, std::string_view context) {
  const std::optional<std::uint64_t> v = ParseUint(text);
  if (!v || *v == 0 || *v > std::numeric_limits<std::uint32_t>::max())
    throw args.Error("bad view version in " + Quote(context) +
                     ": versions are whole numbers from 1 to 4294967295");
  return static_cast<std::uint32_t>(*v);
}

ViewRef ParseRef(const Args& args, std::string_view text) {
  ViewRef ref;
  const serving::Status s = serving::ParseViewRef(text, &ref.name, &ref.version);
  if (!s.ok()) throw args.Error(s.message());
  return ref;
}

// NAME@VERSION as one positional argument, or NAME VERSION as two.
ViewRef ParseNameAndVersion(const Args& args) {
  const std::vector<std::string>& p = args.positionals();
  if (!p.empty() && p[0].find('@') != std::string::npos) {
    if (p.size() > 1) throw args.Error("unexpected argument " + Quote(p[1]));
    return ParseRef(args, p[0]);
  }
  args.ExpectPositionals({"NAME", "VERSION"});
  ViewRef ref;
  ref.name = p[0];
  CheckViewName(args, ref.name);
  ref.version = ParseVersion(args, p[1], p[1]);
  return ref;
}

std::string GetNamespace(const Args& args) { return args.GetString("--ns", kDefaultNamespace); }

std::unique_ptr<ViewReader> OpenReader(const Args& args, const ViewRef& ref) {
  return ValueOrThrow(ViewReader::Open(GetNamespace(args), ref.text()));
}

std::unique_ptr<Namespace> OpenNamespace(const Args& args) {
  return ValueOrThrow(Namespace::Open(GetNamespace(args), /*create=*/false));
}

RowFormat GetRowFormat(const Args& args) {
  return args.GetChoice("--format", "table", {"table", "jsonl"}) == "table" ? RowFormat::kTable
                                                                            : RowFormat::kJsonLines;
}

// Builds one JSON object, member by member.
class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }

  JsonObject& Uint(std::string_view name, std::uint64_t v) { return Raw(name, std::to_string(v)); }
  JsonObject& Int(std::string_view name, std::int64_t v) { return Raw(name, std::to_string(v)); }
  JsonObject& Bool(std::string_view name, bool v) { return Raw(name, v ? "true" : "false"); }
  JsonObject& Null(std::string_view name) { return Raw(name, "null"); }
  JsonObject& String(std::string_view name, std::string_view v) {
    Member(name);
    AppendJsonString(v, out_);
    return *this;
  }
  // A version, or null for 0 (none).
  JsonObject& Version(std::string_view name, std::uint32_t v) {
    return v == 0 ? Null(name) : Uint(name, v);
  }
  // `json` is already JSON text.
  JsonObject& Raw(std::string_view name, std::string_view json) {
    Member(name);
    out_->append(json);
    return *this;
  }
  void Close() { out_->push_back('}'); }

 private:
  void Member(std::string_view name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(name, out_);
    out_->push_back(':');
  }

  std::string* out_;
  bool first_ = true;
};

// "name  value" lines of a description table.
void AppendInfoRow(const char* label, const std::string& value, std::string* out) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%-18s ", label);
  out->append(buf).append(value).push_back('\n');
}

std::string WithUnit(std::uint64_t bytes) { return U64(bytes) + " (" + FormatBytes(bytes) + ")"; }

std::string DurationNs(std::int64_t ns) {
  return std::to_string(ns) + " ns (" + FormatDuration(ns) + ")";
}

std::string WriterText(std::uint64_t pid, bool alive) {
  if (pid == 0) return "none attached";
  return U64(pid) + (alive ? " (alive)" : " (not running)");
}

// "3/4 alive": how many of a sharded view's shard writers run.
std::string ShardWritersAlive(const ViewInfo& i) {
  const auto alive = std::count_if(i.shards.begin(), i.shards.end(),
                                   [](const serving::ShardInfo& s) { return s.writer_alive; });
  return std::to_string(alive) + "/" + U64(i.shards.size()) + " alive";
}

// "writer 4242 (alive)", or for a sharded view "writers 3/4 alive".
std::string WritersText(const ViewInfo& i) {
  if (i.shard_count <= 1) {
    return "writer " +
           (i.writer_pid == 0 ? std::string("none") : WriterText(i.writer_pid, i.writer_alive));
  }
  return "writers " + ShardWritersAlive(i);
}

std::string HeartbeatAge(std::int64_t heartbeat_unix_ns, std::int64_t now_ns) {
  if (heartbeat_unix_ns == 0) return "never";
  // The heartbeat comes from shared memory: no value of it may overflow the subtraction.
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now_ns, heartbeat_unix_ns, &age)) return "at an unreadable time";
  return age >= 0 ? FormatDuration(age) + " ago" : FormatDuration(age).substr(1) + " from now";
}

std::string VersionList(const std::vector<VersionListing>& versions) {
  std::string text;
  for (const VersionListing& v : versions) text += (text.empty() ? "" : ", ") + U64(v.version);
  return text;
}

// ----------------------------------------------------------------------------- reading rows

// What reading rows came to.
struct RowsRead {
  ReadStatus status = ReadStatus::kOk;
  std::uint64_t rows = 0;
  ViewInfo info;  // the description the rows match
};

// True if the reader's current file is not the one `info` describes (it followed a flip, or a
// drop and re-creation, since): rows it reads may have another shape.
bool Moved(const ViewReader& reader, const ViewInfo& info) {
  return reader.version() != info.version || reader.kind() != info.kind ||
         reader.value_size() != info.schema.value_size();
}

// Calls `read` (which reads with the reader and passes each row to the RowFn it is given) and
// passes each row, at most `limit` of them, to `on_row(info, row)` with the description the row
// matches. A reader that follows an alias may move to another version (and schema) between
// Info() and the read: the read is then restarted, before any row was passed on. (A read keeps
// to one file from its first row to its last.)
template <class Read, class OnRow>
RowsRead ReadRows(ViewReader& reader, std::uint64_t limit, const Read& read, const OnRow& on_row) {
  for (int attempt = 0;; ++attempt) {
    RowsRead r;
    r.info = reader.Info();  // follows the alias first
    if (limit == 0) return r;
    bool moved = false;
    r.status = read([&](const RowView& row) {
      if (r.rows == 0 && Moved(reader, r.info)) {
        moved = true;
        return false;
      }
      on_row(r.info, row);
      return ++r.rows < limit;
    });
    if (r.rows == 0 && (moved || Moved(reader, r.info)) && attempt < kFlipRetries) continue;
    return r;
  }
}

// Reads rows as ReadRows does and prints them to standard output as they come.
template <class Read>
RowsRead PrintRows(ViewReader& reader, RowFormat format, std::uint64_t limit, const Read& read) {
  std::optional<RowFormatter> formatter;
  std::string out;
  RowsRead r = ReadRows(reader, limit, read, [&](const ViewInfo& info, const RowView& row) {
    if (!formatter) formatter.emplace(RowShape::Of(info), format, PositionOf(info.kind));
    formatter->Add(row, &out);
    if (out.size() >= kOutputChunk) {
      WriteStdout(out);
      out.clear();
    }
  });
  // A read that failed before any row prints nothing, not even a header.
  if (!formatter && r.status == ReadStatus::kOk)
    formatter.emplace(RowShape::Of(r.info), format, PositionOf(r.info.kind));
  if (formatter) formatter->Flush(&out);
  WriteStdout(out);
  FlushStdout();
  return r;
}

// A failed read of `what` ("q5", "q5: key 42").
CommandError ReadFailure(const std::string& what, ReadStatus status) {
  return CommandError(what + ": " + serving::ReadStatusName(status));
}

// ----------------------------------------------------------------------------- ls

void AppendListingJson(const ViewListing& l, std::string* out) {
  JsonObject o(out);
  o.String("name", l.name)
      .Version("current", l.current)
      .Version("previous", l.previous)
      .Uint("alias_epoch", l.alias_epoch)
      .Int("flipped_unix_ns", l.flipped_unix_ns);
  std::string versions = "[";
  for (const VersionListing& v : l.versions) {
    if (versions.size() > 1) versions.push_back(',');
    JsonObject(&versions)
        .Uint("version", v.version)
        .String("kind", serving::ViewKindName(v.kind))
        .Uint("shards", v.shard_count)
        .Uint("shards_present", v.shards_present)
        .Uint("generation", v.generation)
        .Int("created_unix_ns", v.created_unix_ns)
        .Close();
  }
  versions.push_back(']');
  o.Raw("versions", versions).Close();
  out->push_back('\n');
}

// Removes what writers killed while creating views left behind, and says so on stderr. Returns
// the files removed.
std::uint64_t RemoveOrphans(Namespace& ns) {
  const OrphanSweep sweep = ValueOrThrow(ns.RemoveOrphans());
  if (sweep.files > 0)
    std::fprintf(
        stderr,
        "removed %llu view file%s (%s) that writers killed while creating them left behind\n",
        static_cast<unsigned long long>(sweep.files), sweep.files == 1 ? "" : "s",
        FormatBytes(sweep.bytes).c_str());
  return sweep.files;
}

int LsCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  args.ExpectPositionals({});
  const std::unique_ptr<Namespace> ns = OpenNamespace(args);
  RemoveOrphans(*ns);
  const std::vector<ViewListing> listings = ns->List();
  std::string out;
  if (format == RowFormat::kJsonLines) {
    for (const ViewListing& l : listings) AppendListingJson(l, &out);
    WriteStdout(out);
    FlushStdout();
    return 0;
  }
  if (listings.empty()) {
    WriteStdout("no views in " + ns->path() + "\n");
    FlushStdout();
    return 0;
  }
  using Align = TextTable::Align;
  TextTable table({{"name", Align::kLeft},
                   {"version", Align::kRight},
                   {"alias", Align::kLeft},
                   {"kind", Align::kLeft},
                   {"shards", Align::kRight},
                   {"generation", Align::kRight},
                   {"epoch", Align::kRight},
                   {"created", Align::kLeft}});
  for (const ViewListing& l : listings) {
    for (const VersionListing& v : l.versions) {
      const char* alias = v.current ? "current" : v.previous ? "previous" : "";
      const std::string shards = v.shards_present == v.shard_count
                                     ? U64(v.shard_count)
                                     : U64(v.shards_present) + "/" + U64(v.shard_count);
      table.AddRow({l.name, U64(v.version), alias, serving::ViewKindName(v.kind), shards,
                    U64(v.generation), U64(l.alias_epoch), FormatUtcTime(v.created_unix_ns)});
    }
    if (l.versions.empty()) {  // an alias left without versions (a registry repair can do this)
      table.AddRow({l.name, "-", l.current == 0 ? "" : "current: " + U64(l.current) + " (missing)",
                    "-", "-", "-", U64(l.alias_epoch), "-"});
    }
  }
  table.Flush(&out);
  WriteStdout(out);
  FlushStdout();
  return 0;
}

// ----------------------------------------------------------------------------- info

// Each shard of a sharded view, one line apiece.
void AppendShardTable(const std::vector<serving::ShardInfo>& shards, std::int64_t now_ns,
                      std::string* out) {
  using Align = TextTable::Align;
  TextTable table({{"shard", Align::kRight},
                   {"generation", Align::kRight},
                   {"capacity", Align::kRight},
                   {"writer", Align::kLeft},
                   {"heartbeat", Align::kLeft},
                   {"applied offset", Align::kRight},
                   {"watermark", Align::kRight},
                   {"updates", Align::kRight},
                   {"entries", Align::kRight}},
                  "  ");
  for (const serving::ShardInfo& s : shards) {
    table.AddRow({U64(s.shard), U64(s.generation), U64(s.capacity),
                  WriterText(s.writer_pid, s.writer_alive),
                  HeartbeatAge(s.heartbeat_unix_ns, now_ns), U64(s.applied_offset),
                  s.watermark_ns == std::numeric_limits<std::int64_t>::max()
                      ? "end of input"
                      : std::to_string(s.watermark_ns),
                  U64(s.counters.updates), U64(s.counters.entries)});
  }
  table.Flush(out);
}

// A watermark: none yet, a time, or the end of a bounded run (every window closed).
std::string WatermarkText(std::int64_t w) {
  if (w == 0) return "0 (none)";
  if (w == std::numeric_limits<std::int64_t>::max()) return "end of input (every window closed)";
  return std::to_string(w) + " (" + FormatUtcTime(w) + ")";
}

// `rows`: a windowed view's windows (its slots hold one more per key, the key's directory).
std::string InfoTable(const ViewInfo& i, std::int64_t now_ns,
                      std::optional<std::uint64_t> rows = std::nullopt) {
  std::string out;
  auto row = [&out](const char* label, const std::string& value) {
    AppendInfoRow(label, value, &out);
  };
  row("namespace", i.namespace_path);
  row("view", i.name + "@" + U64(i.version));
  row("alias", i.alias.empty() ? "none (opened by version)"
                               : i.alias + " (epoch " + U64(i.alias_epoch) + ")");
  row("generation", U64(i.generation) + (i.shard_count > 1 ? " (shard 0)" : ""));
  row("shards", U64(i.shard_count));
  row("kind", serving::ViewKindName(i.kind));
  if (i.key_type == KeyType::kNone) {
    row("key", "none");
  } else if (i.key_type == KeyType::kU64) {
    row("key", i.key_name + " (u64)");
  } else {
    row("key", i.key_name + " (bytes, at most " + U64(i.key_size) + ")");
  }
  row("value size", U64(i.schema.value_size()) + " bytes");
  row("fields", U64(i.schema.size()));
  using Align = TextTable::Align;
  TextTable fields({{"name", Align::kLeft},
                    {"type", Align::kLeft},
                    {"size", Align::kRight},
                    {"offset", Align::kRight}},
                   "  ");
  for (const serving::Field& f : i.schema.fields())
    fields.AddRow({f.name, serving::FieldTypeName(f.type), U64(f.size), U64(f.offset)});
  fields.Flush(&out);
  switch (i.kind) {
    case ViewKind::kKeyed:
    case ViewKind::kWindowed:
      row("capacity", U64(i.capacity) + " slots");
      break;
    case ViewKind::kTopK:
      row("capacity", U64(i.capacity) + " rows (K)");
      break;
    case ViewKind::kList:
      row("capacity", U64(i.capacity) + " rows");
      break;
  }
  if (i.kind == ViewKind::kWindowed) {
    row("window size", DurationNs(i.window_size_ns));
    row("window slide", DurationNs(i.window_slide_ns));
    row("retention", i.retention_ns == 0 ? "none" : DurationNs(i.retention_ns));
    row("windows per key", U64(i.windows_per_key));
  }
  if (i.kind == ViewKind::kTopK)
    row("order field",
        i.order_field + (i.order_descending ? " (largest first)" : " (smallest first)"));
  row("created", FormatUtcTime(i.created_unix_ns));
  row("file bytes", WithUnit(i.file_bytes));
  // A sharded view's writers are listed shard by shard at the end.
  const std::string of_shard0 = i.shard_count > 1 ? " (shard 0)" : "";
  if (i.shard_count > 1) {
    row("writers", ShardWritersAlive(i));
  } else {
    row("writer pid", WriterText(i.writer_pid, i.writer_alive));
  }
  row("writer heartbeat", i.heartbeat_unix_ns == 0
                              ? "never"
                              : FormatUtcTime(i.heartbeat_unix_ns) + " (" +
                                    HeartbeatAge(i.heartbeat_unix_ns, now_ns) +
                                    (i.shard_count > 1 ? ", the oldest)" : ")"));
  row("writer epoch", U64(i.writer_epoch) + of_shard0);
  row("writer state", serving::WriterStateName(i.writer_state) + of_shard0);
  row("applied offset", U64(i.applied_offset));
  row("watermark", WatermarkText(i.watermark_ns));
  if (i.kind == ViewKind::kWindowed) {
    row("newest window", i.newest_window == 0 ? "0 (none)"
                                              : std::to_string(i.newest_window) + " (" +
                                                    FormatUtcTime(i.newest_window) + ")");
  }
  if (i.kind == ViewKind::kList) row("rows appended", U64(i.list_count));
  row("updates", U64(i.counters.updates));
  row("inserts", U64(i.counters.inserts));
  if (rows) {
    row("rows", U64(*rows));
    row("slots used", U64(i.counters.entries) + " (the rows, and one window directory per key)");
  } else {
    row("entries", U64(i.counters.entries));
  }
  row("tombstones", U64(i.counters.tombstones));
  row("expired", U64(i.counters.expired));
  row("repaired", U64(i.counters.repaired));
  row("publishes", U64(i.counters.publishes));
  if (i.shard_count > 1) AppendShardTable(i.shards, now_ns, &out);
  return out;
}

std::string CountersJson(const serving::ViewCounters& c) {
  std::string out;
  JsonObject(&out)
      .Uint("updates", c.updates)
      .Uint("inserts", c.inserts)
      .Uint("entries", c.entries)
      .Uint("tombstones", c.tombstones)
      .Uint("expired", c.expired)
      .Uint("repaired", c.repaired)
      .Uint("publishes", c.publishes)
      .Close();
  return out;
}

std::string InfoJson(const ViewInfo& i, std::optional<std::uint64_t> rows = std::nullopt) {
  std::string out;
  JsonObject o(&out);
  o.String("namespace", i.namespace_path).String("name", i.name).Uint("version", i.version);
  if (i.alias.empty()) {
    o.Null("alias");
  } else {
    o.String("alias", i.alias);
  }
  o.Uint("alias_epoch", i.alias_epoch)
      .Uint("generation", i.generation)
      .Uint("shard_count", i.shard_count)
      .String("kind", serving::ViewKindName(i.kind))
      .String("key_type", serving::KeyTypeName(i.key_type));
  if (i.key_type == KeyType::kNone) {
    o.Null("key_name");
  } else {
    o.String("key_name", i.key_name);
  }
  o.Uint("key_size", i.key_size).Uint("value_size", i.schema.value_size());
  std::string fields = "[";
  for (const serving::Field& f : i.schema.fields()) {
    if (fields.size() > 1) fields.push_back(',');
    JsonObject(&fields)
        .String("name", f.name)
        .String("type", serving::FieldTypeName(f.type))
        .Uint("size", f.size)
        .Uint("offset", f.offset)
        .Close();
  }
  fields.push_back(']');
  o.Raw("fields", fields)
      .Uint("capacity", i.capacity)
      .Int("window_size_ns", i.window_size_ns)
      .Int("window_slide_ns", i.window_slide_ns)
      .Int("retention_ns", i.retention_ns)
      .Uint("windows_per_key", i.windows_per_key);
  if (i.kind == ViewKind::kTopK) {
    o.String("order_field", i.order_field);
  } else {
    o.Null("order_field");
  }
  o.Bool("order_descending", i.order_descending)
      .Int("created_unix_ns", i.created_unix_ns)
      .Uint("file_bytes", i.file_bytes)
      .Uint("writer_pid", i.writer_pid)
      .Bool("writer_alive", i.writer_alive)
      .Int("heartbeat_unix_ns", i.heartbeat_unix_ns)
      .Uint("writer_epoch", i.writer_epoch)
      .String("writer_state", serving::WriterStateName(i.writer_state))
      .Uint("applied_offset", i.applied_offset)
      .Int("watermark_ns", i.watermark_ns)
      .Int("newest_window", i.newest_window)
      .Uint("list_count", i.list_count);
  if (rows) o.Uint("rows", *rows);  // a windowed view's windows (counters.entries: its slots)
  std::string shards = "[";
  for (const serving::ShardInfo& s : i.shards) {
    if (shards.size() > 1) shards.push_back(',');
    JsonObject(&shards)
        .Uint("shard", s.shard)
        .Uint("generation", s.generation)
        .Uint("capacity", s.capacity)
        .Uint("writer_pid", s.writer_pid)
        .Bool("writer_alive", s.writer_alive)
        .Int("heartbeat_unix_ns", s.heartbeat_unix_ns)
        .Uint("applied_offset", s.applied_offset)
        .Int("watermark_ns", s.watermark_ns)
        .Raw("counters", CountersJson(s.counters))
        .Close();
  }
  shards.push_back(']');
  o.Raw("counters", CountersJson(i.counters)).Raw("shards", shards).Close();
  out.push_back('\n');
  return out;
}

int InfoCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  args.ExpectPositionals({"REF"});
  const ViewRef ref = ParseRef(args, args.positionals()[0]);
  const std::unique_ptr<ViewReader> reader = OpenReader(args, ref);
  const ViewInfo info = reader->Info();
  std::optional<std::uint64_t> rows;
  if (info.kind == ViewKind::kWindowed) {
    std::uint64_t n = 0;
    const ReadStatus scanned = reader->Scan([&](const RowView&) { return ++n, true; });
    if (scanned != ReadStatus::kOk && scanned != ReadStatus::kStale)
      throw CommandError(info.name +
                         ": cannot count its rows: " + serving::ReadStatusName(scanned));
    rows = n;
  }
  WriteStdout(format == RowFormat::kTable ? InfoTable(info, UnixNs(), rows) : InfoJson(info, rows));
  FlushStdout();
  return 0;
}

// ----------------------------------------------------------------------------- get

// A window start: Unix nanoseconds (possibly negative) or an ISO-8601 time.
std::optional<std::int64_t> ParseWindowStart(std::string_view text) {
  if (text.starts_with("-")) {
    const std::optional<std::uint64_t> magnitude = ParseUint(text.substr(1));
    if (!magnitude ||
        *magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return -static_cast<std::int64_t>(*magnitude);
  }
  return ParseTime(text);
}

int GetCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  std::optional<std::int64_t> window;
  if (const std::optional<std::string> text = args.Get("--window")) {
    window = ParseWindowStart(*text);
    if (!window)
      throw args.Error("--window: " + Quote(*text) +
                       " is not a window start (Unix nanoseconds or an ISO-8601 time)");
  }
  args.ExpectPositionals({"REF", "KEY"});
  const ViewRef ref = ParseRef(args, args.positionals()[0]);
  const std::string& key_text = args.positionals()[1];
  const std::unique_ptr<ViewReader> reader = OpenReader(args, ref);
  const ViewInfo info = reader->Info();

  if (info.kind == ViewKind::kList)
    throw CommandError(ref.text() +
                       " is a list view: its rows have no keys; use 'kappa view scan'");
  if (window && info.kind != ViewKind::kWindowed)
    throw CommandError("--window: " + ref.text() + " is a " + serving::ViewKindName(info.kind) +
                       " view, not a windowed one");
  const bool u64_key = info.key_type == KeyType::kU64;
  std::uint64_t key_u64 = 0;
  if (u64_key) {
    const std::optional<std::uint64_t> k = ParseUint(key_text);
    if (!k)
      throw args.Error("KEY " + Quote(key_text) + " is not a whole number (" + ref.text() +
                       " has u64 keys)");
    key_u64 = *k;
  } else if (key_text.size() > info.key_size) {
    throw args.Error("KEY " + Quote(key_text) + " has " + U64(key_text.size()) +
                     " bytes; the keys of " + ref.text() + " have at most " + U64(info.key_size));
  }
  const std::string key_shown = u64_key ? U64(key_u64) : Quote(key_text);

  // A point read: one row made of the value it copied out.
  std::vector<std::byte> value(serving::kMaxValueSize);
  auto point_row = [&](ReadStatus status, std::uint64_t offset, std::int64_t window_start,
                       const ViewReader::RowFn& fn) {
    if (status != ReadStatus::kOk) return status;
    RowView row;
    row.key_u64 = key_u64;
    row.key_bytes = key_text;
    row.window_start = window_start;
    row.offset = offset;
    row.value = std::span<const std::byte>(value.data(), reader->value_size());
    fn(row);
    return status;
  };
  auto read = [&](const ViewReader::RowFn& fn) {
    std::uint64_t offset = 0;
    ReadStatus status = ReadStatus::kWrongKind;
    switch (reader->kind()) {
      case ViewKind::kKeyed:
        status = u64_key ? reader->Get(key_u64, value, &offset)
                         : reader->Get(std::string_view(key_text), value, &offset);
        return point_row(status, offset, 0, fn);
      case ViewKind::kWindowed:
        if (!window) {
          return u64_key ? reader->GetWindows(key_u64, fn)
                         : reader->GetWindows(std::string_view(key_text), fn);
        }
        status = u64_key ? reader->GetWindow(key_u64, *window, value, &offset)
                         : reader->GetWindow(std::string_view(key_text), *window, value, &offset);
        return point_row(status, offset, *window, fn);
      case ViewKind::kTopK: {
        bool found = false;
        status = reader->TopK([&](const RowView& row) {
          const bool match = u64_key ? row.key_u64 == key_u64 : row.key_bytes == key_text;
          if (!match) return true;
          found = true;
          fn(row);
          return false;
        });
        return status == ReadStatus::kOk && !found ? ReadStatus::kNotFound : status;
      }
      case ViewKind::kList:
        break;
    }
    return status;
  };
  const RowsRead r = PrintRows(*reader, format, UINT64_MAX, read);
  if (r.status == ReadStatus::kOk) return 0;
  const std::string what = ref.text() + ": key " + key_shown;
  if (r.status == ReadStatus::kNotFound) {
    if (window) {
      throw CommandError(what + " has no window starting at " + std::to_string(*window) + " (" +
                         FormatUtcTime(*window) + ")");
    }
    if (r.info.kind == ViewKind::kWindowed) throw CommandError(what + " has no windows");
    if (r.info.kind == ViewKind::kTopK)
      throw CommandError(what + " is not in the list (the top " + U64(r.info.capacity) + ")");
    throw CommandError(what + " not found");
  }
  throw ReadFailure(what, r.status);
}

// ----------------------------------------------------------------------------- scan, top

int ScanCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  const std::uint64_t limit = args.GetUint("--limit", UINT64_MAX);
  args.ExpectPositionals({"REF"});
  const ViewRef ref = ParseRef(args, args.positionals()[0]);
  const std::unique_ptr<ViewReader> reader = OpenReader(args, ref);
  const RowsRead r = PrintRows(*reader, format, limit,
                               [&](const ViewReader::RowFn& fn) { return reader->Scan(fn); });
  if (r.status == ReadStatus::kStale)
    throw CommandError(ref.text() +
                       ": some entries were skipped: they stayed mid-update (the writer died or "
                       "stalled)");
  if (r.status != ReadStatus::kOk) throw ReadFailure(ref.text(), r.status);
  return 0;
}

int TopCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  const std::uint64_t limit = args.GetUint("--limit", UINT64_MAX);
  args.ExpectPositionals({"REF"});
  const ViewRef ref = ParseRef(args, args.positionals()[0]);
  const std::unique_ptr<ViewReader> reader = OpenReader(args, ref);
  if (reader->kind() != ViewKind::kTopK)
    throw CommandError(ref.text() + " is a " + serving::ViewKindName(reader->kind()) +
                       " view, not a top-K view; use 'kappa view scan " + ref.text() + "'");
  const RowsRead r = PrintRows(*reader, format, limit,
                               [&](const ViewReader::RowFn& fn) { return reader->TopK(fn); });
  if (r.status != ReadStatus::kOk) throw ReadFailure(ref.text(), r.status);
  return 0;
}

// ----------------------------------------------------------------------------- watch

// Renders the refreshes of "kappa view watch".
class WatchScreen {
 public:
  WatchScreen(ViewReader* reader, std::string ref, RowFormat format, std::uint64_t limit)
      : reader_(reader), ref_(std::move(ref)), format_(format), limit_(limit) {}

  // One refresh: the text to print (table: without a clear-screen or separator).
  std::string Render() {
    std::optional<RowFormatter> formatter;
    std::string rows;
    auto read = [this](const ViewReader::RowFn& fn) {
      switch (reader_->kind()) {
        case ViewKind::kTopK:
          return reader_->TopK(fn);
        case ViewKind::kList: {
          const std::uint64_t count = reader_->ListCount();
          std::uint64_t next = 0;
          return reader_->ListRows(count > limit_ ? count - limit_ : 0, limit_, fn, &next);
        }
        default:
          return reader_->Scan(fn);
      }
    };
    auto on_row = [&](const ViewInfo& info, const RowView& row) {
      if (!formatter) formatter.emplace(RowShape::Of(info), format_, PositionOf(info.kind));
      if (format_ == RowFormat::kTable) {
        formatter->Add(row, &rows);
      } else {
        if (!rows.empty()) rows.push_back(',');
        formatter->AppendJson(row, &rows);
      }
    };
    const RowsRead r = ReadRows(*reader_, limit_, read, on_row);
    if (r.status == ReadStatus::kGone || r.status == ReadStatus::kWrongKind)
      throw ReadFailure(ref_, r.status);
    if (!formatter) formatter.emplace(RowShape::Of(r.info), format_, PositionOf(r.info.kind));
    formatter->Flush(&rows);

    const ViewInfo& i = r.info;
    const std::int64_t now_ns = UnixNs();
    const auto now = std::chrono::steady_clock::now();
    std::optional<double> rate;
    if (last_ && last_->version == i.version && i.counters.updates >= last_->updates) {
      const double seconds = std::chrono::duration<double>(now - last_->time).count();
      if (seconds > 0) rate = static_cast<double>(i.counters.updates - last_->updates) / seconds;
    }
    last_ = Sample{i.version, i.counters.updates, now};

    std::string out;
    if (format_ == RowFormat::kJsonLines) {
      JsonObject o(&out);
      o.String("view", i.name)
          .Uint("version", i.version)
          .Uint("shard_count", i.shard_count)
          .Int("time_unix_ns", now_ns)
          .Uint("applied_offset", i.applied_offset)
          .Int("watermark_ns", i.watermark_ns)
          .Uint("writer_pid", i.writer_pid)
          .Bool("writer_alive", i.writer_alive)
          .Int("heartbeat_unix_ns", i.heartbeat_unix_ns)
          .Uint("updates", i.counters.updates);
      if (rate) {
        std::string number;
        AppendJsonDouble(*rate, &number);
        o.Raw("updates_per_s", number);
      } else {
        o.Null("updates_per_s");
      }
      o.Raw("rows", "[" + rows + "]").Close();
      out.push_back('\n');
      return out;
    }
    char rate_text[32] = "-";
    if (rate) std::snprintf(rate_text, sizeof rate_text, "%.1f", *rate);
    out += ref_ + ": " + i.name + "@" + U64(i.version) + ", " + serving::ViewKindName(i.kind) +
           ", " + (i.shard_count > 1 ? U64(i.shard_count) + " shards, " : "") +
           U64(i.counters.entries) + " entries, at " + FormatUtcTime(now_ns) + "\n";
    out += "applied offset " + U64(i.applied_offset) + "   watermark " +
           (i.watermark_ns == 0 ? std::string("none") : FormatUtcTime(i.watermark_ns)) + "\n";
    out += WritersText(i) + "   heartbeat " + HeartbeatAge(i.heartbeat_unix_ns, now_ns) +
           (i.shard_count > 1 ? " (oldest)" : "") + "   updates/s " + rate_text + "\n\n";
    out += rows;
    if (r.status == ReadStatus::kStale)
      out += "(some entries were skipped: they stayed mid-update)\n";
    if (r.status == ReadStatus::kBusy)
      out += "(the registry was busy; showing the last version read)\n";
    return out;
  }

 private:
  struct Sample {
    std::uint32_t version;
    std::uint64_t updates;
    std::chrono::steady_clock::time_point time;
  };

  ViewReader* reader_;
  std::string ref_;
  RowFormat format_;
  std::uint64_t limit_;
  std::optional<Sample> last_;
};

int WatchCommand(const Args& args) {
  const RowFormat format = GetRowFormat(args);
  const std::uint64_t limit = args.GetUint("--limit", 20);
  const std::chrono::milliseconds interval(args.GetUint("--interval", 1000, 1, 86'400'000));
  const std::uint64_t count = args.GetUint("--count", UINT64_MAX, 1);
  args.ExpectPositionals({"REF"});
  const ViewRef ref = ParseRef(args, args.positionals()[0]);
  StopSignals::Install();
  std::unique_ptr<ViewReader> reader = OpenReader(args, ref);
  const bool redraw = format == RowFormat::kTable && ::isatty(STDOUT_FILENO) == 1;

  WatchScreen screen(reader.get(), ref.text(), format, limit);
  for (std::uint64_t n = 0; n < count && !StopSignals::requested(); ++n) {
    if (n > 0 && !StopSignals::SleepUnlessStopped(interval)) break;
    std::string text;
    // A view file truncated under the reader (only its owner can do that; writers never shrink
    // one) must not kill it: the render runs guarded, and a truncation stops the watch.
    if (!MappedReadGuard::Run([&] { text = screen.Render(); })) {
      FlushStdout();
      (void)reader.release();  // abandoned mid-read: not used (nor closed) again
      throw CommandError(ref.text() + ": its file was truncated under the reader: stopping");
    }
    if (redraw) {
      text.insert(0, "\x1b[H\x1b[J");  // cursor home, clear to the end of the screen
    } else if (n > 0 && format == RowFormat::kTable) {
      text.insert(0, "\n");
    }
    WriteStdout(text);
    FlushStdout();
  }
  return 0;
}

// ----------------------------------------------------------------------------- registry changes

// "q5: now version 3 (was 2; revert returns to 2)".
std::string MoveMessage(const ViewListing& before, const ViewListing& after) {
  if (after.current == before.current)
    return after.name + ": already version " + U64(after.current) + "; nothing changed";
  std::string text =
      after.name + ": now version " + U64(after.current) + " (was " + U64(before.current);
  if (after.previous != 0) text += "; revert returns to " + U64(after.previous);
  return text + ")";
}

void PrintLine(const std::string& line) {
  WriteStdout(line + "\n");
  FlushStdout();
}

int FlipCommand(const Args& args) {
  const ViewRef ref = ParseNameAndVersion(args);
  const std::unique_ptr<Namespace> ns = OpenNamespace(args);
  const ViewListing before = ValueOrThrow(ns->Describe(ref.name));
  ThrowIfFailed(ns->Flip(ref.name, ref.version));
  PrintLine(MoveMessage(before, ValueOrThrow(ns->Describe(ref.name))));
  return 0;
}

int RevertCommand(const Args& args) {
  args.ExpectPositionals({"NAME"});
  const std::string& name = args.positionals()[0];
  CheckViewName(args, name);
  const std::unique_ptr<Namespace> ns = OpenNamespace(args);
  const ViewListing before = ValueOrThrow(ns->Describe(name));
  ThrowIfFailed(ns->Revert(name));
  PrintLine(MoveMessage(before, ValueOrThrow(ns->Describe(name))));
  return 0;
}

int RetireCommand(const Args& args) {
  const ViewRef ref = ParseNameAndVersion(args);
  const std::unique_ptr<Namespace> ns = OpenNamespace(args);
  const serving::Result<ViewListing> before = ns->Describe(ref.name);
  ThrowIfFailed(ns->Retire(ref.name, ref.version));
  std::string line = ref.text() + ": retired";
  if (serving::Result<ViewListing> after = ns->Describe(ref.name); after.ok()) {
    const ViewListing& l = after.value();
    line +=
        " (versions left: " + (l.versions.empty() ? std::string("none") : VersionList(l.versions));
    if (l.current != 0) line += "; current " + U64(l.current);
    if (before.ok() && before.value().previous == ref.version) line += "; no revert now";
    line += ")";
  }
  PrintLine(line);
  return 0;
}

int DropCommand(const Args& args) {
  args.ExpectPositionals({"NAME"});
  const std::string& name = args.positionals()[0];
  CheckViewName(args, name);
  const std::unique_ptr<Namespace> ns = OpenNamespace(args);
  const std::uint64_t orphans = RemoveOrphans(*ns);
  auto described = ns->Describe(name);
  if (!described.ok() && described.status().code() == serving::StatusCode::kNotFound && orphans > 0)
    return 0;
  const ViewListing before = ValueOrThrow(std::move(described));
  ThrowIfFailed(ns->Drop(name));
  PrintLine(name + ": dropped (" +
            (before.versions.empty() ? std::string("no versions")
                                     : (before.versions.size() == 1 ? "version " : "versions ") +
                                           VersionList(before.versions)) +
            ")");
  return 0;
}

}  // namespace

CommandGroup ViewCommands() {
  return {"view",
          "[arguments] [--ns NAMESPACE]",
          "list, describe and read views in place; move a view's alias, delete versions and views",
          "REF is NAME (the version its alias names) or NAME@VERSION. NAMESPACE is the name of a\n"
          "namespace in $KAPPA_VIEW_DIR (default /dev/shm/kappa/views), or a directory path "
          "(anything\n"
          "with a '/'); the default is \"default\".\n"
          "Run 'kappa view <subcommand> --help' for its options.\n",
          {
              {"view ls",
               "",
               "list the views of a namespace: versions, aliases, kinds",
               kLsUsage,
               {"--ns", "--format"},
               {},
               LsCommand},
              {"view info",
               "REF",
               "describe a view: key, fields, writer, progress, counters",
               kInfoUsage,
               {"--ns", "--format"},
               {},
               InfoCommand},
              {"view get",
               "REF KEY",
               "print the value of one key",
               kGetUsage,
               {"--ns", "--format", "--window"},
               {},
               GetCommand},
              {"view scan",
               "REF",
               "print every row of a view",
               kScanUsage,
               {"--ns", "--format", "--limit"},
               {},
               ScanCommand},
              {"view top",
               "REF",
               "print a top-K view's list, best first",
               kTopUsage,
               {"--ns", "--format", "--limit"},
               {},
               TopCommand},
              {"view watch",
               "REF",
               "show a view's rows and progress, refreshed in place",
               kWatchUsage,
               {"--ns", "--format", "--limit", "--interval", "--count"},
               {},
               WatchCommand},
              {"view flip",
               "NAME VERSION",
               "make VERSION the version readers of NAME see",
               kFlipUsage,
               {"--ns"},
               {},
               FlipCommand},
              {"view revert",
               "NAME",
               "flip NAME back to its previous version",
               kRevertUsage,
               {"--ns"},
               {},
               RevertCommand},
              {"view retire",
               "NAME@VERSION",
               "delete one version of a view",
               kRetireUsage,
               {"--ns"},
               {},
               RetireCommand},
              {"view drop",
               "NAME",
               "delete every version of a view, and its name",
               kDropUsage,
               {"--ns"},
               {},
               DropCommand},
          }};
}

}  // namespace kappa::tools
