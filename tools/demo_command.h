// "kappa demo": producer processes append to one fresh log while a reader tails it; reports
// throughput, append-to-read latency and whether every record arrived once and in order.
#pragma once

#include <span>

namespace kappa::tools {

// Runs "kappa demo <argv...>" (argv holds the words after "demo") and returns the exit status.
// Throws UsageError on bad input and CommandError when the demo cannot run.
int RunDemoCommand(std::span<char* const> argv);

}  // namespace kappa::tools
