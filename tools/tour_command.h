// kappa tour: a guided run of the Kappa architecture (the README's main job).
#pragma once

#include <span>

namespace kappa::tools {

// Runs "kappa tour <argv...>" and returns the exit status (1 if a check failed).
int RunTourCommand(std::span<char* const> argv);

}  // namespace kappa::tools
