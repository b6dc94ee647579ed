// The kappa program's commands, in one table (tools/kappa_main.cc): the program dispatches
// through it, parses each command's flags and prints its --help from it, and makes the command
// lists (the top-level usage, each group's) from it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli/args.h"

namespace kappa::tools {

// One command: "kappa <name> <arguments>".
struct Command {
  std::string_view name;      // "log create", "tour"
  std::string_view synopsis;  // what follows the name in a command list ("REF KEY", "QUERY...")
  std::string_view summary;   // its line in the command lists
  std::string usage;          // its --help text
  std::vector<std::string_view> value_flags;  // the flags that take a value, with their dashes
  std::vector<std::string_view> switches;     // the flags that do not
  // Runs the command with its arguments parsed (never --help). Returns the exit status; throws
  // UsageError on bad input and CommandError when the command fails.
  int (*run)(const Args& args);
};

// Commands that share their first word ("log", "view"), or the program's one-word commands
// (name "").
struct CommandGroup {
  std::string_view name;
  std::string_view synopsis;  // after "kappa <name>" in the group's usage
  std::string_view summary;   // the group's line in the top-level usage
  std::string_view notes;     // after the group's command list
  std::vector<Command> commands;
};

// Runs the command `argv` names in `groups` (argv: the words after "kappa"): --help (or -h, or
// help) anywhere before "--" prints its usage; a group without a command, or "kappa --help",
// prints the list. `program_usage` frames the top-level list: its text up to a line
// "Commands:", the list, then the rest.
int RunCommandLine(std::span<char* const> argv, const std::vector<CommandGroup>& groups,
                   std::string_view program_head, std::string_view program_notes);

}  // namespace kappa::tools
