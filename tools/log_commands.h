// The "kappa log" subcommands: create, info, append, tail, dump, verify and archive.
#pragma once

#include <cstdio>
#include <string_view>

#include "memlog/log.h"
#include "tools/cli/command.h"

namespace kappa::tools {

class Args;

// The "kappa log" commands.
CommandGroup LogCommands();

// Prints `info` (from Log::Info()) as an aligned table, every line starting with `indent`.
void PrintLogInfoTable(const memlog::LogInfo& info, const char* indent, std::FILE* out);

// The durability the log was created with. (LogInfo::durability is the handle's own setting,
// which is always kNone on a read-only handle.)
memlog::Durability CreatedDurability(const memlog::Log& log);

// The start position in "--from WHERE" (earliest, latest, offset:N, time:T), or `fallback`'s.
// Throws UsageError naming the flag.
memlog::StartAt GetStartAt(const Args& args, std::string_view fallback);

}  // namespace kappa::tools
