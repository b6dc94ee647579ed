// The "kappa view" subcommands: ls, info, get, scan, top, watch (read views in place) and flip,
// revert, retire, drop (change a namespace's registry).
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

// The "kappa view" commands.
CommandGroup ViewCommands();

}  // namespace kappa::tools
