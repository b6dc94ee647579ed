// kappa report: the measurements `kappa run|tour --metrics-out FILE` wrote, as a
// self-contained HTML page of charts.
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

std::vector<Command> ReportCommands();

}  // namespace kappa::tools
