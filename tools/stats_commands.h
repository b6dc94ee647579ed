// kappa stats, kappa top: engine job metrics, read from the views engines publish.
#pragma once

#include <span>

namespace kappa::tools {

int RunStatsCommand(std::span<char* const> argv);
int RunTopCommand(std::span<char* const> argv);

}  // namespace kappa::tools
