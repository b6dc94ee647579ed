// The "kappa log" subcommands: create, info, append, schema, cursors, cursor, tail, dump, verify
// and archive.
#pragma once

#include <cstdio>
#include <memory>
#include <string_view>

#include "memlog/log.h"
#include "tools/cli/command.h"

namespace kappa::tools {

class Args;

// The "kappa log" commands.
CommandGroup LogCommands();
// "kappa log append" and "kappa log schema" (tools/log_append_command.cc).
Command LogAppendCommand();
Command LogSchemaCommand();
// "kappa log cursors" and "kappa log cursor" (tools/log_cursor_commands.cc).
Command LogCursorsCommand();
Command LogCursorCommand();

// The log at `name_or_path` (a path, or a bare name in $KAPPA_DATA_DIR). Throws CommandError
// naming the file if it cannot be opened.
std::unique_ptr<memlog::Log> OpenLog(std::string_view name_or_path, bool read_only);

// Prints `info` (from Log::Info()) as an aligned table, every line starting with `indent`.
void PrintLogInfoTable(const memlog::LogInfo& info, const char* indent, std::FILE* out);

// The durability the log was created with. (LogInfo::durability is the handle's own setting,
// which is always kNone on a read-only handle.)
memlog::Durability CreatedDurability(const memlog::Log& log);

// The start position in "--from WHERE" (or `flag`): earliest, latest, offset:N, time:T, or
// `fallback`'s. Throws UsageError naming the flag.
memlog::StartAt GetStartAt(const Args& args, std::string_view fallback,
                           std::string_view flag = "--from");

}  // namespace kappa::tools
