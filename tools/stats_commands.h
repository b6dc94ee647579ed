// kappa stats, kappa top: engine job metrics, read from the views engines publish.
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

// kappa stats and top.
std::vector<Command> StatsCommands();

}  // namespace kappa::tools
