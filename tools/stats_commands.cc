// kappa stats and kappa top: the metrics engines publish for their jobs, as views named
// "metrics.<job>" (row 0 the job, row 1 + p its partition p; engine/metrics.h), read in place.
#include "tools/stats_commands.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "engine/metrics.h"
#include "serving/namespace.h"
#include "serving/view_reader.h"
#include "tools/cli/args.h"
#include "tools/cli/clock.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"

namespace kappa::tools {
namespace {

constexpr char kStatsUsage[] =
    "Usage: kappa stats [JOB...] [--ns NAMESPACE] [--format table|jsonl]\n"
    "\n"
    "Prints the metrics of engine jobs whose views are in NAMESPACE (default \"default\"): per "
    "job\n"
    "records read and their rate, records processed, results written, late and malformed records,\n"
    "lag behind the log's end, watermark, append-to-view latency percentiles and checkpoints;\n"
    "then the same per key partition. Without JOB, every job that has published metrics.\n"
    "\n"
    "jsonl: one object per job, with its partitions in \"partitions\".\n";

constexpr char kTopUsage[] =
    "Usage: kappa top [JOB...] [--ns NAMESPACE] [--interval MS] [--count N]\n"
    "\n"
    "Shows the metrics 'kappa stats' prints, refreshed in place every --interval milliseconds\n"
    "(default 1000) until interrupted (or --count refreshes), under a header line. It fits the\n"
    "terminal (or $COLUMNS and $LINES when it writes elsewhere): columns that do not fit are\n"
    "left out, the least needed first (p99.9, max, checkpoints, ...: 'kappa stats' shows them\n"
    "all), and lines that do not fit are cut, the header kept.\n";

using engine::MetricsRow;

struct JobMetrics {
  std::string job;
  std::uint32_t version = 0;
  MetricsRow total;
  std::vector<MetricsRow> partitions;
};

// The metrics of each job asked for (all if none), in name order.
std::vector<JobMetrics> Collect(const std::string& ns, const std::vector<std::string>& jobs) {
  auto opened = serving::Namespace::Open(ns, /*create=*/false);
  if (!opened.ok()) throw CommandError(opened.status().message());
  std::vector<JobMetrics> out;
  for (const serving::ViewListing& l : (*opened)->List()) {
    if (l.name.rfind(engine::kMetricsViewPrefix, 0) != 0 || l.current == 0) continue;
    const std::string job = l.name.substr(sizeof engine::kMetricsViewPrefix - 1);
    if (!jobs.empty() && std::find(jobs.begin(), jobs.end(), job) == jobs.end()) continue;
    auto reader = serving::ViewReader::Open(ns, l.name);
    if (!reader.ok()) continue;  // dropped meanwhile
    JobMetrics m;
    m.job = job;
    m.version = (*reader)->version();
    std::vector<std::pair<std::uint64_t, MetricsRow>> rows;
    const serving::ReadStatus scanned = (*reader)->Scan([&](const serving::RowView& row) {
      rows.emplace_back(row.key_u64, engine::DecodeMetrics((*reader)->schema(), row.value));
      return true;
    });
    // Gone: retired or dropped meanwhile. Stale rows (a writer that died mid-update) are left out.
    if (scanned != serving::ReadStatus::kOk && scanned != serving::ReadStatus::kStale) continue;
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, row] : rows) {
      if (key == 0) {
        m.total = std::move(row);
      } else {
        m.partitions.push_back(std::move(row));
      }
    }
    out.push_back(std::move(m));
  }
  for (const std::string& job : jobs) {
    if (std::none_of(out.begin(), out.end(), [&](const JobMetrics& m) { return m.job == job; }))
      throw CommandError("no metrics for job " + Quote(job) + " in " +
                         serving::detail::NamespacePath(ns));
  }
  return out;
}

std::string Ns(std::int64_t ns) { return ns <= 0 ? "-" : FormatDuration(ns); }

std::size_t WidestLine(const std::string& text) {
  std::size_t widest = 0;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    widest = std::max(widest, end - at);
    at = end + 1;
  }
  return widest;
}

// `text` with every line cut to `width` bytes (0: as it is).
std::string CutLines(const std::string& text, std::size_t width) {
  if (width == 0) return text;
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    out.append(text, at, std::min(end - at, width));
    if (end < text.size()) out.push_back('\n');
    at = end + 1;
  }
  return out;
}

// A table of `columns` and `rows`, leaving out the columns `droppable` names, in its order,
// while the table is wider than `width` (0: no limit); lines still wider are cut.
std::string FitTable(std::vector<TextTable::Column> columns,
                     std::vector<std::vector<std::string>> rows,
                     const std::vector<std::string_view>& droppable, std::size_t width,
                     const std::string& indent = "") {
  for (std::size_t dropped = 0;; ++dropped) {
    TextTable table(columns, indent);
    for (const std::vector<std::string>& row : rows) table.AddRow(row);
    std::string out;
    table.Flush(&out);
    if (width == 0 || WidestLine(out) <= width) return out;
    if (dropped == droppable.size()) return CutLines(out, width);
    const auto it = std::find_if(columns.begin(), columns.end(), [&](const TextTable::Column& c) {
      return c.name == droppable[dropped];
    });
    if (it == columns.end()) continue;
    const auto index = static_cast<std::size_t>(it - columns.begin());
    columns.erase(it);
    for (std::vector<std::string>& row : rows) row.erase(row.begin() + index);
  }
}

// The metrics as tables, fitted to `width` columns (0: every column).
std::string Table(const std::vector<JobMetrics>& jobs, std::int64_t now, std::size_t width = 0) {
  if (jobs.empty()) return "no job metrics\n";
  using A = TextTable::Align;
  std::string out;
  std::vector<TextTable::Column> columns = {{"job"},
                                            {"version", A::kRight},
                                            {"read", A::kRight},
                                            {"per s", A::kRight},
                                            {"processed", A::kRight},
                                            {"results", A::kRight},
                                            {"late", A::kRight},
                                            {"malformed", A::kRight},
                                            {"lag", A::kRight},
                                            {"latency p50", A::kRight},
                                            {"p99", A::kRight},
                                            {"p99.9", A::kRight},
                                            {"max", A::kRight},
                                            {"p99 all", A::kRight},
                                            {"replayed", A::kRight},
                                            {"checkpoints", A::kRight},
                                            {"updated", A::kRight}};
  std::vector<std::vector<std::string>> rows;
  for (const JobMetrics& m : jobs) {
    const MetricsRow& r = m.total;
    rows.push_back({m.job, std::to_string(m.version), std::to_string(r.records_in),
                    std::to_string(std::llround(r.records_per_s)),
                    std::to_string(r.records_processed), std::to_string(r.results),
                    std::to_string(r.late), std::to_string(r.malformed), FormatBytes(r.lag_bytes),
                    Ns(r.latency_p50_ns), Ns(r.latency_p99_ns), Ns(r.latency_p999_ns),
                    Ns(r.latency_max_ns), Ns(r.latency_total_p99_ns), std::to_string(r.replayed),
                    std::to_string(r.checkpoints), Ns(now - r.updated_unix_ns) + " ago"});
  }
  out += FitTable(columns, rows,
                  {"p99.9", "max", "checkpoints", "replayed", "p99 all", "malformed", "late",
                   "version", "results", "updated", "processed"},
                  width);
  out += CutLines(
      "latency: append to view, over the last publish interval (p99 all: since the job\n"
      "started); records appended before the job started are replayed, not counted in it\n",
      width);
  for (const JobMetrics& m : jobs) {
    out += CutLines("\n" + m.job + " partitions\n", width);
    std::vector<TextTable::Column> part_columns = {{"partition", A::kRight},
                                                   {"processed", A::kRight},
                                                   {"results", A::kRight},
                                                   {"late", A::kRight},
                                                   {"applied offset", A::kRight},
                                                   {"lag", A::kRight},
                                                   {"latency p50", A::kRight},
                                                   {"p99", A::kRight},
                                                   {"max", A::kRight}};
    std::vector<std::vector<std::string>> part_rows;
    for (std::size_t i = 0; i < m.partitions.size(); ++i) {
      const MetricsRow& r = m.partitions[i];
      part_rows.push_back({std::to_string(i), std::to_string(r.records_processed),
                           std::to_string(r.results), std::to_string(r.late),
                           std::to_string(r.applied_offset), FormatBytes(r.lag_bytes),
                           Ns(r.latency_p50_ns), Ns(r.latency_p99_ns), Ns(r.latency_max_ns)});
    }
    out += FitTable(part_columns, part_rows, {"max", "results", "late", "applied offset", "p99"},
                    width, "  ");
  }
  return out;
}

// The size of the screen `kappa top` draws on: the terminal's, else $COLUMNS and $LINES (0:
// no limit).
struct Screen {
  std::size_t columns = 0;
  std::size_t lines = 0;
};

Screen ScreenSize() {
  Screen screen;
  if (::isatty(STDOUT_FILENO) == 1) {
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      screen.columns = size.ws_col;
      screen.lines = size.ws_row;
      return screen;
    }
    screen = {80, 24};  // a terminal that does not say
  }
  auto from_env = [](const char* name, std::size_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr) return fallback;
    const std::optional<std::uint64_t> n = ParseUint(text);
    return n && *n > 0 && *n < 100'000 ? static_cast<std::size_t>(*n) : fallback;
  };
  screen.columns = from_env("COLUMNS", screen.columns);
  screen.lines = from_env("LINES", screen.lines);
  return screen;
}

// `text` cut to `lines` lines (0: as it is), the last saying how many were left out.
std::string CutToLines(const std::string& text, std::size_t lines, std::size_t width) {
  if (lines == 0) return text;
  std::size_t at = 0;
  for (std::size_t kept = 0; kept + 1 < lines && at < text.size(); ++kept) {
    const std::size_t end = text.find('\n', at);
    if (end == std::string::npos) return text;
    at = end + 1;
  }
  if (at >= text.size()) return text;
  const std::size_t rest =
      static_cast<std::size_t>(std::count(text.begin() + at, text.end(), '\n'));
  if (rest <= 1) return text;
  return text.substr(0, at) +
         CutLines("(" + std::to_string(rest) + " more lines: 'kappa stats' prints them all)\n",
                  width);
}

// Every field of a metrics row, by name, in the row's order.
void AppendRowJson(const MetricsRow& r, std::string* out) {
  bool first = true;
  std::apply(
      [&](const auto&... field) {
        auto put = [&](const auto& f) {
          *out += (first ? "\"" : ",\"") + std::string(f.name) + "\":";
          first = false;
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(r.*(f.member))>, double>) {
            AppendJsonDouble(r.*(f.member), out);
          } else {
            *out += std::to_string(r.*(f.member));
          }
        };
        (put(field), ...);
      },
      engine::RecordType<MetricsRow>::kFields);
}

std::string Jsonl(const std::vector<JobMetrics>& jobs) {
  std::string out;
  for (const JobMetrics& m : jobs) {
    out += "{\"job\":";
    AppendJsonString(m.job, &out);
    out += ",\"version\":" + std::to_string(m.version) + ",";
    AppendRowJson(m.total, &out);
    out += ",\"partitions\":[";
    for (std::size_t i = 0; i < m.partitions.size(); ++i) {
      out += i ? ",{" : "{";
      AppendRowJson(m.partitions[i], &out);
      out += "}";
    }
    out += "]}\n";
  }
  return out;
}

void Print(const std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
    throw CommandError("cannot write to standard output");
  std::fflush(stdout);
}

}  // namespace

int RunStatsCommand(const Args& args) {
  const std::string format = args.GetChoice("--format", "table", {"table", "jsonl"});
  const auto jobs = Collect(args.GetString("--ns", "default"), args.positionals());
  Print(format == "jsonl" ? Jsonl(jobs) : Table(jobs, UnixNs()));
  return 0;
}

int RunTopCommand(const Args& args) {
  const std::chrono::milliseconds interval(args.GetUint("--interval", 1000, 1, 86'400'000));
  const std::uint64_t count = args.GetUint("--count", UINT64_MAX, 1);
  const std::string ns = args.GetString("--ns", "default");
  StopSignals::Install();
  const bool redraw = ::isatty(STDOUT_FILENO) == 1;
  for (std::uint64_t n = 0; n < count && !StopSignals::requested(); ++n) {
    if (n > 0 && !StopSignals::SleepUnlessStopped(interval)) break;
    const Screen screen = ScreenSize();  // again each time: the terminal may have been resized
    const std::vector<JobMetrics> jobs = Collect(ns, args.positionals());
    const std::int64_t now = UnixNs();
    std::string text = CutLines("kappa top: " + std::to_string(jobs.size()) +
                                    (jobs.size() == 1 ? " job in " : " jobs in ") + ns +
                                    ", every " + FormatDuration(interval.count() * 1'000'000) +
                                    ", " + FormatUtcTime(now).substr(0, 19) + "Z\n",
                                screen.columns);
    // One line fewer than the screen: a last newline on the last line would scroll the header off.
    text = CutToLines(text + Table(jobs, now, screen.columns),
                      screen.lines > 1 ? screen.lines - 1 : screen.lines, screen.columns);
    if (redraw) {
      text.insert(0, "\x1b[H\x1b[J");  // cursor home, clear to the end of the screen
    } else if (n > 0) {
      text.insert(0, "\n");
    }
    Print(text);
  }
  return 0;
}

std::vector<Command> StatsCommands() {
  return {
      {"stats", "", "engine jobs' metrics", kStatsUsage, {"--ns", "--format"}, {}, RunStatsCommand},
      {"top",
       "",
       "engine jobs' metrics, refreshed live",
       kTopUsage,
       {"--ns", "--interval", "--count"},
       {},
       RunTopCommand},
  };
}

}  // namespace kappa::tools
