// kappa gen, kappa run and kappa reprocess: the NEXMark workload from the command line.
#pragma once

#include <span>

namespace kappa::tools {

// Each runs its command on argv (the words after the command's name) and returns the exit
// status. Throw UsageError on bad input and CommandError when the command fails.
int RunGenCommand(std::span<char* const> argv);
int RunRunCommand(std::span<char* const> argv);
int RunReprocessCommand(std::span<char* const> argv);

}  // namespace kappa::tools
