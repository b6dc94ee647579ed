// The "kappa view" subcommands: ls, info, get, scan, top, watch (read views in place) and flip,
// revert, retire, drop (change a namespace's registry).
#pragma once

#include <span>

namespace kappa::tools {

// Runs "kappa view <argv...>" (argv holds the words after "view") and returns the exit status.
// Throws UsageError on bad input and CommandError when the command fails.
int RunViewCommand(std::span<char* const> argv);

}  // namespace kappa::tools
