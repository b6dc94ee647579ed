// kappa: the command-line tool of the kappa engine. Dispatches to the command modules and is
// the one place that turns their exceptions into a message and an exit status.
#include <cstdio>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <string_view>

#include "tools/args.h"
#include "tools/demo_command.h"
#include "tools/log_commands.h"
#include "tools/nexmark_commands.h"
#include "tools/stats_commands.h"
#include "tools/text.h"
#include "tools/tour_command.h"
#include "tools/view_commands.h"

namespace kappa::tools {
namespace {

constexpr char kUsage[] =
    "Usage: kappa <command> [arguments]\n"
    "\n"
    "kappa is a single-machine Kappa-architecture engine built on memory-mapped ring logs.\n"
    "\n"
    "Commands:\n"
    "  log create|info|append|tail|dump|verify   create, inspect, write and read logs\n"
    "  view ls|info|get|scan|top|watch           list, describe and read views in place\n"
    "  view flip|revert|retire|drop              move a view's alias, delete versions and views\n"
    "  tour                                      a guided run of the Kappa architecture: live\n"
    "                                            queries, readers, reprocessing, replay\n"
    "  gen                                       generate NEXMark events into a log\n"
    "  run QUERY...                              run NEXMark queries over a log into views\n"
    "  reprocess QUERY                           replay a changed query into a new view version\n"
    "                                            and flip readers over to it\n"
    "  stats, top                                engine jobs' metrics, once or refreshed live\n"
    "  demo                                      run producer processes and a reader on a fresh\n"
    "                                            log and report throughput, latency and checks\n"
    "\n"
    "A LOG argument is a path, or a bare name (no '/') of a log in $KAPPA_DATA_DIR (default\n"
    "/dev/shm/kappa). A view namespace (--ns) is a directory path, or a bare name of one in\n"
    "$KAPPA_VIEW_DIR (default /dev/shm/kappa/views). Run 'kappa <command> --help' for a\n"
    "command's options.\n"
    "\n"
    "Exit status: 0 on success, 1 when a command fails, 2 on bad usage.\n";

int Run(std::span<char* const> argv) {
  if (argv.empty())
    throw UsageError(
        "missing command: log, view, tour, gen, run, reprocess, stats, top or demo (see 'kappa "
        "--help')");
  const std::string_view command = argv[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "log") return RunLogCommand(argv.subspan(1));
  if (command == "view") return RunViewCommand(argv.subspan(1));
  if (command == "tour") return RunTourCommand(argv.subspan(1));
  if (command == "gen") return RunGenCommand(argv.subspan(1));
  if (command == "run") return RunRunCommand(argv.subspan(1));
  if (command == "reprocess") return RunReprocessCommand(argv.subspan(1));
  if (command == "stats") return RunStatsCommand(argv.subspan(1));
  if (command == "top") return RunTopCommand(argv.subspan(1));
  if (command == "demo") return RunDemoCommand(argv.subspan(1));
  if (command.starts_with("-"))
    throw UsageError("unknown flag " + Quote(command) + " (see 'kappa --help')");
  throw UsageError(
      "unknown command " + Quote(command) +
      ": expected log, view, tour, gen, run, reprocess, stats, top or demo (see 'kappa --help')");
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
    return kappa::tools::Run(std::span<char* const>(argv + 1, argc > 0 ? argc - 1 : 0));
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
