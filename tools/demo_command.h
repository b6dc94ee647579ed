// "kappa demo": producer processes append to one fresh log while a reader tails it; reports
// throughput, append-to-read latency and whether every record arrived once and in order.
#pragma once

#include <vector>

#include "tools/cli/command.h"

namespace kappa::tools {

// kappa demo.
std::vector<Command> DemoCommands();

}  // namespace kappa::tools
