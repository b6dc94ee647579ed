// kappa: the command-line tool of the kappa engine. Its command table (tools/cli/command.h)
// dispatches to the command modules; main() is the one place that turns their exceptions into a
// message and an exit status.
#include <cstdio>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <string_view>

#include "tools/cli/args.h"
#include "tools/cli/command.h"
#include "tools/cli/text.h"
#include "tools/demo_command.h"
#if KAPPA_WITH_KAFKA
#include "tools/kafka_commands.h"
#endif
#include "tools/log_commands.h"
#include "tools/nexmark_commands.h"
#include "tools/report_command.h"
#include "tools/stats_commands.h"
#include "tools/tour_command.h"
#include "tools/view_commands.h"

namespace kappa::tools {
namespace {

constexpr char kHead[] =
    "Usage: kappa <command> [arguments]\n"
    "\n"
    "kappa is a single-machine Kappa-architecture engine built on memory-mapped ring logs.\n"
    "\n";

constexpr char kNotes[] =
    "A LOG argument is a path, or a bare name (no '/') of a log in $KAPPA_DATA_DIR (default\n"
    "/dev/shm/kappa). A view namespace (--ns) is a directory path, or a bare name of one in\n"
    "$KAPPA_VIEW_DIR (default /dev/shm/kappa/views). Run 'kappa <command> --help' for a\n"
    "command's options, 'kappa --version' for the version.\n"
    "\n"
    "Exit status: 0 on success, 1 when a command fails, 2 on bad usage.\n";

// "kappa 0.1.0", and what this build holds.
void PrintVersion() {
  std::printf("kappa %s (%s build; Kafka: %s)\n", KAPPA_VERSION, KAPPA_BUILD_TYPE,
#if KAPPA_WITH_KAFKA
              "yes"
#else
              "no"
#endif
  );
}

// Every command of the program, in the order the usage lists them.
std::vector<CommandGroup> Commands() {
  CommandGroup top{"", "", "", "", {}};
  for (auto* commands :
       {&TourCommands, &NexmarkCommands, &StatsCommands, &ReportCommands, &DemoCommands})
    for (Command& c : (*commands)()) top.commands.push_back(std::move(c));
  std::vector<CommandGroup> groups = {LogCommands(), ViewCommands()};
#if KAPPA_WITH_KAFKA
  groups.push_back(KafkaCommands());
#endif
  groups.push_back(std::move(top));
  return groups;
}

int Fail(int status, const char* what) {
  std::fflush(stdout);
  std::fprintf(stderr, "kappa: %s\n", what);
  return status;
}

}  // namespace
}  // namespace kappa::tools

int main(int argc, char** argv) {
  using kappa::tools::Fail;
  try {
    if (argc == 2 && (std::string_view(argv[1]) == "--version" ||
                      std::string_view(argv[1]) == "version")) {
      kappa::tools::PrintVersion();
      return 0;
    }
    return kappa::tools::RunCommandLine(std::span<char* const>(argv + 1, argc > 0 ? argc - 1 : 0),
                                        kappa::tools::Commands(), kappa::tools::kHead,
                                        kappa::tools::kNotes);
  } catch (const kappa::tools::UsageError& e) {
    return Fail(2, e.what());
  } catch (const kappa::tools::CommandError& e) {
    return Fail(1, e.what());
  } catch (const std::bad_alloc&) {
    return Fail(1, "out of memory");
  } catch (const std::exception& e) {
    return Fail(1, e.what());
  }
}
