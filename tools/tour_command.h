// kappa tour: a guided run of the Kappa architecture (the README's main job).
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

// kappa tour (its exit status is 1 if a check failed).
std::vector<Command> TourCommands();

}  // namespace kappa::tools
