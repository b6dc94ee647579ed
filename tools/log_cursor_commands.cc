// "kappa log cursors" and "kappa log cursor": a log's named cursors listed, moved and deleted,
// as kafka-consumer-groups does for a Kafka consumer group's offsets.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "tools/cli/args.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"
#include "tools/log_commands.h"

namespace kappa::tools {
namespace {

using memlog::CursorInfo;
using memlog::Log;
using memlog::LogInfo;

constexpr char kCursorsUsage[] =
    "Usage: kappa log cursors LOG [--format table|json]\n"
    "\n"
    "Lists the log's named cursors: each one's position (the offset its reader resumes at), how\n"
    "far it is behind the latest offset, when it was last committed, and the process that\n"
    "created it (\"running\" while that process lives). Opens the log read-only.\n"
    "\n"
    "Options:\n"
    "  --format table|json   output format (default table)\n";

constexpr char kCursorUsage[] =
    "Usage: kappa log cursor LOG NAME seek --to WHERE | reset | delete [--force] [--dry-run]\n"
    "\n"
    "Moves or deletes the named cursor NAME of the log:\n"
    "  seek --to WHERE   to earliest, latest, offset:N (the start of a record), or time:T (the\n"
    "                    first record appended at or after T, ISO-8601 or Unix nanoseconds); a\n"
    "                    cursor that does not exist is created there\n"
    "  reset             to the earliest offset the log keeps (seek --to earliest)\n"
    "  delete            removes it: its reader no longer holds back a block-policy log\n"
    "\n"
    "A cursor whose creating process still runs is refused without --force: that process would\n"
    "commit over the change (stop the consumer first, as with a Kafka consumer group). A job\n"
    "that checkpoints resumes from its checkpoint, not from its cursor: replay a job with\n"
    "'kappa reprocess'.\n"
    "\n"
    "Options:\n"
    "  --to WHERE   where seek moves the cursor\n"
    "  --force      change a cursor whose creating process still runs\n"
    "  --dry-run    say what would change, and change nothing\n";

std::string U64(std::uint64_t v) { return std::to_string(v); }

bool ProcessRuns(std::uint32_t pid) {
  if (pid == 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint64_t LagOf(const LogInfo& info, const CursorInfo& c) {
  return info.latest_offset - std::min(c.position, info.latest_offset);
}

int CursorsCommand(const Args& args) {
  const bool json = args.GetChoice("--format", "table", {"table", "json"}) == "json";
  args.ExpectPositionals({"LOG"});
  const std::unique_ptr<Log> log = OpenLog(args.positionals()[0], /*read_only=*/true);
  const LogInfo info = log->Info();
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < info.cursors.size(); ++i) {
      const CursorInfo& c = info.cursors[i];
      out.append(i == 0 ? "{\"name\":" : ",{\"name\":");
      AppendJsonString(c.name, &out);
      out.append(",\"position\":").append(U64(c.position));
      out.append(",\"lag_bytes\":").append(U64(LagOf(info, c)));
      out.append(",\"updated_unix_ns\":").append(std::to_string(c.updated_unix_ns));
      out.append(",\"pid\":").append(U64(c.pid));
      out.append(",\"running\":").append(ProcessRuns(c.pid) ? "true" : "false");
      out.push_back('}');
    }
    out.append("]\n");
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  if (info.cursors.empty()) {
    std::printf("%s has no cursors (latest offset %" PRIu64 ")\n", log->path().c_str(),
                info.latest_offset);
    return 0;
  }
  TextTable table({{"name", TextTable::Align::kLeft},
                   {"position", TextTable::Align::kRight},
                   {"lag", TextTable::Align::kRight},
                   {"updated", TextTable::Align::kLeft},
                   {"pid", TextTable::Align::kRight},
                   {"process", TextTable::Align::kLeft}});
  for (const CursorInfo& c : info.cursors) {
    table.AddRow({c.name, U64(c.position), FormatBytes(LagOf(info, c)),
                  c.updated_unix_ns ? FormatUtcTime(c.updated_unix_ns) : "-", U64(c.pid),
                  ProcessRuns(c.pid) ? "running" : "gone"});
  }
  std::string out;
  table.Flush(&out);
  std::fputs(out.c_str(), stdout);
  std::printf("latest offset %" PRIu64 "\n", info.latest_offset);
  return 0;
}

int CursorCommand(const Args& args) {
  const std::vector<std::string>& words = args.positionals();
  if (words.size() < 3)
    throw args.Error(words.size() < 2 ? "missing NAME argument"
                                      : "missing action: seek --to WHERE, reset or delete");
  if (words.size() > 3) throw args.Error("unexpected argument " + Quote(words[3]));
  const std::string& name = words[1];
  const std::string& action = words[2];
  if (action != "seek" && action != "reset" && action != "delete")
    throw args.Error("unknown action " + Quote(action) + ": expected seek, reset or delete");
  if (action == "seek" && !args.Has("--to")) throw args.Error("seek needs --to WHERE");
  if (action != "seek" && args.Has("--to")) throw args.Error("--to is for seek");
  if (name == memlog::kArchiveCursorName)
    throw CommandError(Quote(name) + " is the archive's own cursor: only the archiver moves it");
  const bool force = args.Has("--force");
  const bool dry_run = args.Has("--dry-run");

  const std::unique_ptr<Log> log = OpenLog(words[0], /*read_only=*/dry_run);
  const LogInfo info = log->Info();
  std::optional<CursorInfo> cursor;
  for (const CursorInfo& c : info.cursors) {
    if (c.name == name) cursor = c;
  }
  if (cursor && ProcessRuns(cursor->pid) && cursor->pid != static_cast<std::uint32_t>(::getpid()) &&
      !force)
    throw CommandError("cursor " + Quote(name) + " of " + log->path() + " was created by process " +
                       U64(cursor->pid) +
                       ", which still runs and would commit over the change: stop it first, "
                       "or pass --force");
  const std::string prefix = dry_run ? "would move" : "moved";
  if (action == "delete") {
    if (!cursor) throw CommandError(log->path() + ": no cursor named " + Quote(name));
    if (!dry_run) {
      const memlog::Status s = log->DeleteCursor(name);
      if (!s.ok()) throw CommandError(s.message());
    }
    std::printf("%s cursor %s (it was at offset %" PRIu64 ", %s behind)\n",
                dry_run ? "would delete" : "deleted", name.c_str(), cursor->position,
                FormatBytes(LagOf(info, *cursor)).c_str());
    return 0;
  }
  const memlog::StartAt target =
      action == "reset" ? memlog::StartAt::Earliest() : GetStartAt(args, "earliest", "--to");
  const memlog::Result<std::uint64_t> to = log->Resolve(target);
  if (!to.ok()) throw CommandError(to.status().message());
  if (dry_run) {
    if (cursor) {
      std::printf("would move cursor %s from offset %" PRIu64 " to %" PRIu64 "\n", name.c_str(),
                  cursor->position, *to);
    } else {
      std::printf("would create cursor %s at offset %" PRIu64 "\n", name.c_str(), *to);
    }
    return 0;
  }
  memlog::Result<std::unique_ptr<memlog::LogReader>> reader = log->OpenCursor(name, target);
  if (!reader.ok()) throw CommandError(reader.status().message());
  if (const memlog::Status s = (*reader)->Seek(memlog::StartAt::Offset(*to)); !s.ok())
    throw CommandError(s.message());
  (*reader)->CommitCursor();
  const std::uint64_t lag = info.latest_offset - std::min(*to, info.latest_offset);
  if (cursor) {
    std::printf("%s cursor %s from offset %" PRIu64 " to %" PRIu64 " (%s behind the latest)\n",
                prefix.c_str(), name.c_str(), cursor->position, *to, FormatBytes(lag).c_str());
  } else {
    std::printf("created cursor %s at offset %" PRIu64 " (%s behind the latest)\n", name.c_str(),
                *to, FormatBytes(lag).c_str());
  }
  return 0;
}

}  // namespace

Command LogCursorsCommand() {
  return {"log cursors", "",           "list a log's named cursors, their positions and lag",
          kCursorsUsage, {"--format"}, {},
          CursorsCommand};
}

Command LogCursorCommand() {
  return {"log cursor",
          "NAME seek --to WHERE | reset | delete",
          "move, reset or delete a log's named cursor",
          kCursorUsage,
          {"--to"},
          {"--force", "--dry-run"},
          CursorCommand};
}

}  // namespace kappa::tools
