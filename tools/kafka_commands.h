// The "kappa kafka" subcommands: ingest, mirror and status (kafka/).
#pragma once

#include "tools/cli/command.h"

namespace kappa::tools {

CommandGroup KafkaCommands();

}  // namespace kappa::tools
