// kappa gen, kappa run and kappa reprocess: the NEXMark workload from the command line.
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

// kappa gen, run and reprocess.
std::vector<Command> NexmarkCommands();

}  // namespace kappa::tools
