#include "tools/cli/command.h"

#include <algorithm>
#include <cstdio>

#include "tools/cli/text.h"

namespace kappa::tools {
namespace {

constexpr std::size_t kListColumn = 45;  // where a command list's summaries start
constexpr std::size_t kWidth = 96;

bool IsHelp(std::string_view word) { return word == "--help" || word == "-h" || word == "help"; }

// "  <left><summary>", the summary at kListColumn and wrapped there.
void AppendListLine(std::string_view left, std::string_view summary, std::string* out) {
  std::string line = "  " + std::string(left);
  std::size_t at = 0;
  bool first = true;
  while (at < summary.size() || first) {
    if (line.size() >= kListColumn) {  // the left part is too wide: the summary goes below
      while (!line.empty() && line.back() == ' ') line.pop_back();
      *out += line + "\n";
      line.clear();
    }
    line.resize(kListColumn, ' ');
    std::size_t end = std::min(summary.size(), at + (kWidth - kListColumn));
    if (end < summary.size()) {
      const std::size_t space = summary.rfind(' ', end);
      if (space != std::string_view::npos && space > at) end = space;
    }
    line += summary.substr(at, end - at);
    *out += line + "\n";
    line.clear();
    at = end;
    while (at < summary.size() && summary[at] == ' ') ++at;
    first = false;
  }
}

// The last word of a command's name ("create" of "log create").
std::string_view LastWord(std::string_view name) {
  const std::size_t space = name.rfind(' ');
  return space == std::string_view::npos ? name : name.substr(space + 1);
}

// "a, b, c or d"
std::string Choices(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::vector<std::string_view> TopLevelNames(const std::vector<CommandGroup>& groups) {
  std::vector<std::string_view> names;
  for (const CommandGroup& g : groups) {
    if (!g.name.empty()) {
      names.push_back(g.name);
      continue;
    }
    for (const Command& c : g.commands) names.push_back(c.name);
  }
  return names;
}

std::string GroupUsage(const CommandGroup& g) {
  std::string out = "Usage: kappa " + std::string(g.name) + " <subcommand> " +
                    std::string(g.synopsis) + "\n\nSubcommands:\n";
  std::size_t width = 0;
  for (const Command& c : g.commands)
    width = std::max(width, LastWord(c.name).size() + 1 + c.synopsis.size());
  for (const Command& c : g.commands) {
    std::string left = std::string(LastWord(c.name));
    if (!c.synopsis.empty()) left += " " + std::string(c.synopsis);
    left.resize(width + 2, ' ');
    out += "  " + left + std::string(c.summary) + "\n";
  }
  return out + "\n" + std::string(g.notes);
}

std::string ProgramUsage(const std::vector<CommandGroup>& groups, std::string_view head,
                         std::string_view notes) {
  std::string out = std::string(head) + "Commands:\n";
  for (const CommandGroup& g : groups) {
    if (!g.name.empty()) {
      std::string subs;
      for (const Command& c : g.commands)
        subs += (subs.empty() ? "" : "|") + std::string(LastWord(c.name));
      AppendListLine(std::string(g.name) + " " + subs + " ", g.summary, &out);
      continue;
    }
    for (const Command& c : g.commands) {
      std::string left = std::string(c.name);
      if (!c.synopsis.empty()) left += " " + std::string(c.synopsis);
      AppendListLine(left + " ", c.summary, &out);
    }
  }
  return out + "\n" + std::string(notes);
}

int Run(const Command& c, std::span<char* const> argv) {
  const Args args = Args::Parse(c.name, argv, c.value_flags, c.switches);
  if (args.help()) {
    std::fputs(c.usage.c_str(), stdout);
    return 0;
  }
  return c.run(args);
}

}  // namespace

int RunCommandLine(std::span<char* const> argv, const std::vector<CommandGroup>& groups,
                   std::string_view program_head, std::string_view program_notes) {
  const std::string see_help = " (see 'kappa --help')";
  const std::string names = Choices(TopLevelNames(groups));
  if (argv.empty()) throw UsageError("missing command: " + names + see_help);
  const std::string_view word = argv[0];
  if (IsHelp(word)) {
    std::fputs(ProgramUsage(groups, program_head, program_notes).c_str(), stdout);
    return 0;
  }
  for (const CommandGroup& g : groups) {
    if (g.name.empty()) {
      for (const Command& c : g.commands)
        if (c.name == word) return Run(c, argv.subspan(1));
      continue;
    }
    if (g.name != word) continue;
    const std::string group_help = " (see 'kappa " + std::string(g.name) + " --help')";
    std::vector<std::string_view> subs;
    for (const Command& c : g.commands) subs.push_back(LastWord(c.name));
    if (argv.size() < 2)
      throw UsageError(std::string(g.name) + ": missing subcommand: " + Choices(subs) + group_help);
    const std::string_view sub = argv[1];
    if (IsHelp(sub)) {
      std::fputs(GroupUsage(g).c_str(), stdout);
      return 0;
    }
    for (const Command& c : g.commands)
      if (LastWord(c.name) == sub) return Run(c, argv.subspan(2));
    if (sub.starts_with("-"))
      throw UsageError(std::string(g.name) + ": unknown flag " + Quote(sub) + group_help);
    throw UsageError(std::string(g.name) + ": unknown subcommand " + Quote(sub) + ": expected " +
                     Choices(subs) + group_help);
  }
  if (word.starts_with("-")) throw UsageError("unknown flag " + Quote(word) + see_help);
  throw UsageError("unknown command " + Quote(word) + ": expected " + names + see_help);
}

}  // namespace kappa::tools
