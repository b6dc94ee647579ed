// kappa gen, kappa run and kappa reprocess: NEXMark events into a log, and NEXMark queries
// over it into views, live or replayed, from the command line.
#include "tools/nexmark_commands.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "memlog/archiver.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "nexmark/generator.h"
#include "nexmark/queries.h"
#include "serving/format.h"
#include "tools/cli/args.h"
#include "tools/cli/clock.h"
#include "tools/cli/metrics_recorder.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"
#include "tools/log_commands.h"

namespace kappa::tools {
namespace {

using nexmark::Event;
using nexmark::Generator;

constexpr char kGenUsage[] =
    "Usage: kappa gen LOG [options]\n"
    "\n"
    "Generates NEXMark events (persons, auctions and bids, 1 : 3 : 46, with hot auctions,\n"
    "bidders and sellers) into LOG, creating it if it does not exist, and names their record\n"
    "types in the log's catalog so that 'kappa log dump' shows their fields. Stops after\n"
    "--events events, or at SIGINT/SIGTERM (every event appended so far stays in the log).\n"
    "The same options give the same events.\n"
    "\n"
    "Two generators:\n"
    "  default     the nexmark project's rules and distributions with kappa's own, faster\n"
    "              random numbers (--seed), nanosecond times and records of fixed size (a bid\n"
    "              is 48 bytes)\n"
    "  reference   the nexmark project's generator event for event (java.util.Random seeded\n"
    "              with each event's id; --seed plays no part): its strings, its millisecond\n"
    "              times and its 'extra' padding after each record (payloads of 253, 575 and\n"
    "              116 bytes on average). Its bids have no channel: kappa draws one by its own\n"
    "              rule (half of them hot, as the nexmark project's later generators)\n"
    "\n"
    "Options:\n"
    "  --generator default|reference   which generator (default: default)\n"
    "  --events N          events to generate (default 10000000; 0: until interrupted)\n"
    "  --rate N            append N events per second, paced (default: as fast as possible)\n"
    "  --event-rate N      event time advances as if N events came per second (default: --rate,\n"
    "                      or 1000000)\n"
    "  --seed N            random seed (default 1)\n"
    "  --base-time T       event time of the first event: ISO-8601 or Unix ns (default: now)\n"
    "  --first-event N     number of the first event, to continue an earlier run (default 0)\n"
    "  --capacity SIZE     ring size of a new log, a power of two with K/M/G (default 1G)\n"
    "  --policy block|overwrite   what a new log does when full (default overwrite)\n"
    "  --archive DIR       a new log keeps its history in DIR ('kappa log create --help'). For a\n"
    "                      log with an archive, gen archives as it goes unless 'kappa log "
    "archive'\n"
    "                      runs\n";

constexpr char kQueryOptionsUsage[] =
    "Query options (the defaults are the nexmark project's):\n"
    "  --window-ms N       q5, q7, q8, q12 window size (default 10000)\n"
    "  --slide-ms N        q5 window slide (default 2000)\n"
    "  --euro-rate X       q1 exchange rate (default 0.908)\n"
    "  --modulus N         q2 keeps bids on auctions whose id is a multiple of N (default 123)\n"
    "  --gap-ms N          q11 session gap (default 10000)\n"
    "  --delay-ms N        out-of-orderness the watermark allows (default 0)\n"
    "  --side-input FILE   q13's side input, CSV rows key,value (default: the nexmark\n"
    "                      project's 10000 rows i,i); read when the query starts\n"
    "  --list-rows N       rows the result lists (q0-q3, q5, q7, q10, q12 to q14, q20-q22)\n"
    "                      keep, the newest (default 65536, up to 2^32: a list's view file\n"
    "                      holds them all)\n";

constexpr char kRunUsage[] =
    "Usage: kappa run QUERY... --log LOG [options]\n"
    "\n"
    "Runs NEXMark queries over LOG, each into a view named after it in NAMESPACE, until\n"
    "SIGINT/SIGTERM (or, with --until-caught-up, until every record in the log when it started\n"
    "is applied and every window is closed). Then prints each query's figures. Queries: q0 to\n"
    "q22 ('kappa run --list' describes them).\n"
    "\n"
    "Options:\n"
    "  --log LOG           the NEXMark log (see 'kappa gen')\n"
    "  --ns NAMESPACE      where the views go (default \"default\")\n"
    "  --from WHERE        earliest, latest, offset:N or time:T (default earliest)\n"
    "  --threads N         engine threads (default: one per CPU)\n"
    "  --partitions N      key partitions per query, a power of two (default: the threads)\n"
    "  --mode throughput|latency   large batches, or small ones run to completion (default\n"
    "                      throughput)\n"
    "  --checkpoints DIR   keep exactly-once checkpoints there (a directory of yours alone); a\n"
    "                      query run again resumes: after --until-caught-up, over the same log\n"
    "                      it has nothing to do, over a grown one it applies only the new records\n"
    "  --version N         write version N of the views (default 1)\n"
    "  --until-caught-up   stop once the log as it was at the start is processed\n"
    "  --metrics-out FILE  write each query's measurements as they are published (about every\n"
    "                      200 ms: throughput, lag, latency percentiles) as JSON lines, for\n"
    "                      'kappa report'\n"
    "  --list              list the queries and exit\n"
    "\n";

constexpr char kReprocessUsage[] =
    "Usage: kappa reprocess QUERY --log LOG [options]\n"
    "\n"
    "Kappa reprocessing of one query, in four steps: (1) start the query's definition, with the\n"
    "options given, as the next version of its view, reading LOG from --from while the current\n"
    "version keeps serving; (2) show its progress while it catches up with the live log;\n"
    "(3) once it has, flip the view's alias: readers move to the new version on their next\n"
    "read; (4) keep the old version for 'kappa view revert' until 'kappa view retire'. The new\n"
    "version then keeps running, live, until SIGINT/SIGTERM (or exits at once with\n"
    "--exit-after-flip).\n"
    "\n"
    "Options:\n"
    "  --log LOG           the NEXMark log\n"
    "  --ns NAMESPACE      the views' namespace (default \"default\")\n"
    "  --from WHERE        earliest, offset:N or time:T (default earliest)\n"
    "  --threads N, --partitions N, --mode throughput|latency   as for 'kappa run'\n"
    "  --max-lag BYTES     flip once within this much of the log's end (default 0)\n"
    "  --timeout-s N       give up (nothing flipped) after N seconds (default 1800)\n"
    "  --exit-after-flip   stop after the flip\n"
    "\n";

// ---- gen ----

std::unique_ptr<memlog::Log> OpenOrCreateLog(const Args& args, const std::string& path) {
  auto opened = memlog::Log::Open(path);
  if (opened.ok()) return std::move(opened).value();
  if (opened.status().code() != memlog::StatusCode::kNotFound)
    throw CommandError(opened.status().message());
  memlog::CreateOptions o;
  o.archive_directory = args.GetString("--archive", "");
  o.capacity = args.GetSize("--capacity", std::uint64_t{1} << 30);
  o.policy = args.GetChoice("--policy", "overwrite", {"block", "overwrite"}) == "block"
                 ? memlog::Policy::kBlock
                 : memlog::Policy::kOverwrite;
  auto created = memlog::Log::Create(path, o);
  if (!created.ok()) throw CommandError(created.status().message());
  return std::move(created).value();
}

int GenCommand(const Args& args) {
  args.ExpectPositionals({"LOG"});
  const std::uint64_t events = args.GetUint("--events", 10'000'000);
  const std::uint64_t rate = args.GetUint("--rate", 0, 0, 1'000'000'000);
  const std::uint64_t event_rate =
      args.GetUint("--event-rate", rate > 0 ? rate : 1'000'000, 1, 1'000'000'000);
  nexmark::GeneratorConfig config;
  const std::string kind = args.GetString("--generator", "default");
  if (kind == "reference") {
    config.kind = nexmark::GeneratorKind::kReference;
  } else if (kind != "default") {
    throw args.Error("--generator: " + Quote(kind) + " is not default or reference");
  }
  config.seed = args.GetUint("--seed", 1);
  config.events_per_second = static_cast<double>(event_rate);
  config.base_time_ns = UnixNs();
  if (config.kind == nexmark::GeneratorKind::kReference)
    config.base_time_ns -= config.base_time_ns % 1'000'000;  // the reference counts in ms
  if (const auto text = args.Get("--base-time")) {
    const auto t = ParseTime(*text);
    if (!t)
      throw args.Error("--base-time: " + Quote(*text) + " is not ISO-8601 or Unix nanoseconds");
    config.base_time_ns = *t;
  }
  if (serving::Status s = Generator::CheckConfig(config); !s.ok())
    throw args.Error("--base-time: " + s.message());
  const std::uint64_t first = args.GetUint("--first-event", 0);
  const std::string path = memlog::Log::ResolvePath(args.positionals()[0]);

  StopSignals::Install();
  const std::unique_ptr<memlog::Log> log = OpenOrCreateLog(args, path);
  if (serving::Status s = nexmark::RegisterEventTypes(path); !s.ok())
    throw CommandError(s.message());
  auto producer = std::move(log->NewProducer());
  if (!producer.ok()) throw CommandError(producer.status().message());
  // A log with an archive needs an archiver, or producers stop when the ring is full: run one
  // here unless another process does.
  std::unique_ptr<memlog::Archiver> archiver;
  if (log->has_archive()) {
    memlog::ArchiverOptions ao;
    ao.report = [](const std::string& note) { std::fprintf(stderr, "kappa: %s\n", note.c_str()); };
    auto opened = memlog::Archiver::Open(log.get(), ao);
    if (opened.ok()) {
      archiver = std::move(*opened);
      archiver->Start();
    } else if (opened.status().code() != memlog::StatusCode::kBusy) {
      throw CommandError(opened.status().message());
    }
  }

  const Generator generator(config);
  constexpr std::size_t kBatch = 512;
  std::vector<Event> batch(kBatch);
  std::vector<memlog::RecordView> views(kBatch);
  std::uint64_t counts[3] = {0, 0, 0};
  std::uint64_t done = 0;
  const std::uint64_t first_offset = log->latest_offset();
  ProgressBar progress("gen", "events", events);
  const std::int64_t start = SteadyNs();
  while ((events == 0 || done < events) && !StopSignals::requested()) {
    std::size_t n = kBatch;
    if (events != 0) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, events - done));
    if (rate > 0) {
      // Paced: never ahead of rate × elapsed; small batches keep the stream smooth.
      const auto due = static_cast<std::uint64_t>(static_cast<double>(SteadyNs() - start) * 1e-9 *
                                                  static_cast<double>(rate));
      if (due <= done) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      n = static_cast<std::size_t>(std::min<std::uint64_t>(n, due - done));
    }
    for (std::size_t i = 0; i < n; ++i) {
      Event& e = batch[i];
      generator.Make(first + done + i, &e);
      ++counts[static_cast<int>(e.kind)];
      views[i] = {e.payload(), e.type()};
    }
    const std::int64_t full_since = SteadyNs();
    memlog::AppendResult r;
    while ((r = (*producer)->AppendBatch(std::span(views.data(), n))) ==
               memlog::AppendResult::kFull &&
           SteadyNs() - full_since < 2'000'000'000 && !StopSignals::requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (r != memlog::AppendResult::kOk) {
      progress.Finish();
      for (std::size_t i = 0; i < n; ++i) --counts[static_cast<int>(batch[i].kind)];
      if (r == memlog::AppendResult::kFull && StopSignals::requested()) break;
      std::string why;
      if (r == memlog::AppendResult::kFull && log->has_archive()) {
        const memlog::ArchiveInfo a = log->Info().archive;
        why = a.error != 0 ? " (the archive in " + a.directory +
                                 " cannot take more: " + std::strerror(a.error) + ")"
                           : " (the archiver does not keep up, or none runs: 'kappa log archive')";
        if (archiver) {
          if (memlog::Status st = archiver->Stop(); !st.ok()) why = " (" + st.message() + ")";
        }
      } else if (r == memlog::AppendResult::kFull) {
        why =
            " (a block-policy log with nothing consuming it; use a larger --capacity, or create it "
            "with --policy "
            "overwrite)";
      }
      throw CommandError(path + ": append failed after " + std::to_string(done) +
                         " events: " + memlog::AppendResultName(r) + why);
    }
    done += n;
    progress.Update(done);
  }
  progress.Finish();
  if (archiver) {
    // Everything generated is archived before the command returns.
    if (memlog::Status st = archiver->Stop(); !st.ok()) throw CommandError(st.message());
    while (archiver->written_offset() < log->latest_offset()) {
      std::uint64_t copied = 0;
      if (memlog::Status st = archiver->Pass(&copied); !st.ok()) throw CommandError(st.message());
      if (copied == 0) break;
    }
    if (memlog::Status st = archiver->Flush(); !st.ok()) throw CommandError(st.message());
  }
  const double seconds = static_cast<double>(SteadyNs() - start) * 1e-9;
  std::printf("generated %" PRIu64 " events (%" PRIu64 " persons, %" PRIu64 " auctions, %" PRIu64
              " bids; %s generator) into %s in %.2f s: %s events/s; offsets %" PRIu64 "..%" PRIu64
              "; next --first-event %" PRIu64 "%s\n",
              done, counts[0], counts[1], counts[2], generator.kind_name(), path.c_str(), seconds,
              ShortCount(seconds > 0 ? static_cast<double>(done) / seconds : 0).c_str(),
              first_offset, log->latest_offset(), first + done,
              StopSignals::requested() ? " (interrupted)" : "");
  return 0;
}

// ---- run and reprocess ----

nexmark::QueryOptions GetQueryOptions(const Args& args, const std::string& log,
                                      memlog::StartAt start) {
  nexmark::QueryOptions o;
  o.log = log;
  o.source.start = start;
  constexpr std::uint64_t kMaxMs = std::uint64_t{1} << 40;
  auto ms = [&](const char* flag, std::uint64_t fallback, std::uint64_t least) {
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(args.GetUint(flag, fallback, least, kMaxMs)));
  };
  o.window = ms("--window-ms", 10'000, 1);
  o.slide = ms("--slide-ms", 2'000, 1);
  o.session_gap = ms("--gap-ms", 10'000, 1);
  o.max_out_of_orderness = ms("--delay-ms", 0, 0);
  o.auction_modulus = static_cast<std::int64_t>(args.GetUint("--modulus", 123, 1, 1'000'000'000));
  o.list_capacity = args.GetUint("--list-rows", o.list_capacity, 1, serving::kMaxListRows);
  o.side_input = args.Get("--side-input").value_or("");
  if (const auto text = args.Get("--euro-rate")) {
    char* end = nullptr;
    o.euro_rate = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !std::isfinite(o.euro_rate) || o.euro_rate <= 0)
      throw args.Error("--euro-rate: " + Quote(*text) + " is not a positive number");
  }
  if (o.slide > o.window) throw args.Error("--slide-ms must not exceed --window-ms");
  return o;
}

engine::EngineOptions GetEngineOptions(const Args& args) {
  engine::EngineOptions o;
  o.threads = static_cast<int>(args.GetUint("--threads", 0, 0, 256));
  o.raise_tbb_parallelism = true;  // the program owns its process: --threads means all of them
  o.partitions = static_cast<int>(args.GetUint("--partitions", 0, 0, 64));
  if (o.partitions != 0 && (o.partitions & (o.partitions - 1)) != 0)
    throw args.Error("--partitions: " + std::to_string(o.partitions) + " is not a power of two");
  o.mode = args.GetChoice("--mode", "throughput", {"throughput", "latency"}) == "latency"
               ? engine::Mode::kLowLatency
               : engine::Mode::kThroughput;
  o.view_namespace = args.GetString("--ns", "default");
  o.checkpoint_dir = args.GetString("--checkpoints", "");
  o.view_version = static_cast<std::uint32_t>(args.GetUint("--version", 1, 1, 1'000'000));
  return o;
}

engine::Job MakeQueryOrThrow(const Args& args, const std::string& query,
                             const nexmark::QueryOptions& o) {
  auto job = nexmark::MakeQuery(query, o);
  if (!job.ok()) {
    if (job.status().code() == serving::StatusCode::kNotFound)
      throw args.Error(job.status().message());
    throw CommandError(job.status().message());
  }
  return std::move(job).value();
}

std::unique_ptr<memlog::Log> OpenSourceLog(const std::string& path) {
  auto log = memlog::Log::Open(path, memlog::OpenOptions{.read_only = true});
  if (!log.ok()) throw CommandError(log.status().message());
  return std::move(log).value();
}

void PrintJobTable(const std::vector<std::unique_ptr<engine::RunningJob>>& jobs, double seconds) {
  using A = TextTable::Align;
  TextTable table({{"query", A::kLeft},
                   {"records", A::kRight},
                   {"results", A::kRight},
                   {"late", A::kRight},
                   {"malformed", A::kRight},
                   {"records/s", A::kRight},
                   {"lag", A::kRight},
                   {"p50", A::kRight},
                   {"p99", A::kRight},
                   {"status", A::kLeft}});
  bool replayed = false;
  for (const auto& job : jobs) {
    const engine::JobStats s = job->Stats();
    const engine::Status st = job->status();
    replayed = replayed || s.replayed > 0;
    table.AddRow({job->name(), std::to_string(s.records_in), std::to_string(s.results),
                  std::to_string(s.late), std::to_string(s.malformed),
                  ShortCount(seconds > 0 ? static_cast<double>(s.records_in) / seconds : 0),
                  FormatBytes(s.lag_bytes()),
                  s.latency_p50_ns > 0 ? FormatDuration(s.latency_p50_ns) : "-",
                  s.latency_p99_ns > 0 ? FormatDuration(s.latency_p99_ns) : "-",
                  st.ok() ? "ok" : st.message()});
  }
  std::string out;
  table.Flush(&out);
  if (replayed)
    out +=
        "p50, p99: of the records appended while the queries ran (those already in the log were "
        "replayed)\n";
  std::fputs(out.c_str(), stdout);
}

int RunCommand(const Args& args) {
  if (args.Has("--list")) {
    for (const nexmark::QueryInfo& q : nexmark::Queries())
      std::printf("%-5s %s\n", q.name, q.summary);
    return 0;
  }
  if (args.positionals().empty()) throw args.Error("no QUERY given");
  if (!args.Has("--log")) throw args.Error("--log LOG is required");
  const std::string path = memlog::Log::ResolvePath(*args.Get("--log"));
  const nexmark::QueryOptions qo = GetQueryOptions(args, path, GetStartAt(args, "earliest"));
  const engine::EngineOptions eo = GetEngineOptions(args);
  std::vector<engine::Job> specs;
  for (const std::string& q : args.positionals()) specs.push_back(MakeQueryOrThrow(args, q, qo));
  const std::unique_ptr<memlog::Log> log = OpenSourceLog(path);
  std::unique_ptr<MetricsRecorder> metrics;
  if (args.Has("--metrics-out"))
    metrics = std::make_unique<MetricsRecorder>(*args.Get("--metrics-out"), "run");

  StopSignals::Install();
  auto engine = engine::Engine::Create(eo);
  if (!engine.ok()) throw CommandError(engine.status().message());
  std::vector<std::unique_ptr<engine::RunningJob>> jobs;
  for (const engine::Job& spec : specs) {
    auto running = (*engine)->Start(spec);
    if (!running.ok() && running.status().code() == serving::StatusCode::kAlreadyExists)
      throw CommandError(
          running.status().message() +
          " (run it as a new version with --version N or 'kappa reprocess " + spec.name() +
          "', resume it with --checkpoints DIR, or delete it with 'kappa view drop " + spec.view() +
          "')");
    if (!running.ok()) throw CommandError(running.status().message());
    jobs.push_back(std::move(running).value());
  }
  std::vector<std::string> job_names;
  for (const auto& job : jobs) job_names.push_back(job->name());
  const std::uint64_t start_offset = log->earliest_offset();
  const std::uint64_t target = log->latest_offset();
  const std::int64_t start = SteadyNs();
  ProgressBar progress("run", "bytes",
                       args.Has("--until-caught-up") ? target - std::min(target, start_offset) : 0);
  bool failed = false;
  while (!StopSignals::requested()) {
    bool caught_up = true;
    std::uint64_t slowest = UINT64_MAX;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i]->status().ok()) failed = true;
      if (specs[i].log() != path) continue;  // a second stage, reading its first stage's log
      const engine::JobStats s = jobs[i]->Stats();
      slowest = std::min(slowest, s.applied_offset);
      if (s.applied_offset < target) caught_up = false;
    }
    if (failed) break;
    if (metrics) metrics->SampleJobs(eo.view_namespace, job_names);
    progress.Update(slowest > start_offset ? slowest - start_offset : 0);
    if (args.Has("--until-caught-up") && caught_up) break;
    StopSignals::SleepUnlessStopped(std::chrono::milliseconds(50));
  }
  progress.Finish();
  // In order, so that a first stage has written everything before its second stage catches up.
  for (const auto& job : jobs) {
    if (args.Has("--until-caught-up") && !failed && !StopSignals::requested()) {
      job->WaitCaughtUp(std::chrono::minutes(10));
      job->FlushWindows();
    } else {
      job->Stop();
    }
  }
  const double seconds = static_cast<double>(SteadyNs() - start) * 1e-9;
  if (metrics) {  // what the stopped jobs published last
    metrics->SampleJobs(eo.view_namespace, job_names);
    metrics->Close();
  }
  PrintJobTable(jobs, seconds);
  for (const auto& job : jobs) {
    if (!job->status().ok()) throw CommandError(job->name() + ": " + job->status().message());
  }
  return 0;
}

int ReprocessCommand(const Args& args) {
  args.ExpectPositionals({"QUERY"});
  if (!args.Has("--log")) throw args.Error("--log LOG is required");
  const std::string query = args.positionals()[0];
  const std::string path = memlog::Log::ResolvePath(*args.Get("--log"));
  const memlog::StartAt from = GetStartAt(args, "earliest");
  if (from.kind() == memlog::StartAt::Kind::kLatest)
    throw args.Error("--from latest cannot reprocess anything");
  const nexmark::QueryOptions qo = GetQueryOptions(args, path, from);
  const engine::EngineOptions eo = GetEngineOptions(args);
  const engine::Job spec = MakeQueryOrThrow(args, query, qo);
  const std::unique_ptr<memlog::Log> log = OpenSourceLog(spec.log());

  StopSignals::Install();
  auto engine = engine::Engine::Create(eo);
  if (!engine.ok()) throw CommandError(engine.status().message());
  const std::string& view = spec.view();
  const auto listing = (*engine)->views().Describe(view);
  const std::uint32_t before = listing.ok() ? listing->current : 0;
  std::printf("1. starting %s as a new version of view %s, from the %s of %s, while %s serves\n",
              query.c_str(), view.c_str(),
              from.kind() == memlog::StartAt::Kind::kEarliest ? "start" : "given place",
              spec.log().c_str(),
              before != 0 ? ("version " + std::to_string(before)).c_str() : "nothing");
  std::fflush(stdout);
  const std::uint64_t begin = log->earliest_offset();
  ProgressBar progress("2. catching up", "bytes", log->latest_offset() - begin);
  engine::ReprocessOptions ro;
  ro.max_lag_bytes = args.GetUint("--max-lag", 0);
  ro.timeout = std::chrono::seconds(args.GetUint("--timeout-s", 1800, 1));
  ro.progress = [&](const engine::JobStats& s) {
    progress.Update(s.applied_offset > begin ? s.applied_offset - begin : 0);
  };
  const std::int64_t start = SteadyNs();
  auto running = (*engine)->Reprocess(spec, ro);
  progress.Finish();
  if (!running.ok()) throw CommandError(running.status().message());
  const double seconds = static_cast<double>(SteadyNs() - start) * 1e-9;
  const engine::JobStats s = (*running)->Stats();
  const auto after = (*engine)->views().Describe(view);
  std::printf("2. caught up: %" PRIu64
              " records in %.2f s (%s records/s), %s behind the log's end\n",
              s.records_in, seconds,
              ShortCount(seconds > 0 ? static_cast<double>(s.records_in) / seconds : 0).c_str(),
              FormatBytes(s.lag_bytes()).c_str());
  std::printf("3. flipped %s to version %s: readers of %s now read it\n", view.c_str(),
              after.ok() ? std::to_string(after->current).c_str() : "?", view.c_str());
  if (before != 0) {
    std::printf(
        "4. version %u stays for an instant revert ('kappa view revert %s'); 'kappa view retire "
        "%s@%u' "
        "deletes it\n",
        before, view.c_str(), view.c_str(), before);
  } else {
    std::printf("4. no earlier version to keep\n");
  }
  std::fflush(stdout);
  if (!args.Has("--exit-after-flip")) {
    std::printf("running %s live; SIGINT or SIGTERM stops it\n", query.c_str());
    std::fflush(stdout);
    while (!StopSignals::requested() && (*running)->status().ok())
      StopSignals::SleepUnlessStopped(std::chrono::milliseconds(200));
  }
  (*running)->Stop();
  if (!(*running)->status().ok()) throw CommandError(query + ": " + (*running)->status().message());
  return 0;
}

}  // namespace

std::vector<Command> NexmarkCommands() {
  return {
      {"gen",
       "LOG",
       "generate NEXMark events into a log",
       kGenUsage,
       {"--generator", "--events", "--rate", "--event-rate", "--seed", "--base-time",
        "--first-event", "--capacity", "--policy", "--archive"},
       {},
       GenCommand},
      {"run",
       "QUERY...",
       "run NEXMark queries over a log into views",
       std::string(kRunUsage) + std::string(kQueryOptionsUsage),
       {"--log", "--ns", "--from", "--threads", "--partitions", "--mode", "--checkpoints",
        "--version", "--window-ms", "--slide-ms", "--euro-rate", "--modulus", "--gap-ms",
        "--delay-ms", "--list-rows", "--side-input", "--metrics-out"},
       {"--until-caught-up", "--list"},
       RunCommand},
      {"reprocess",
       "QUERY",
       "replay a changed query into a new view version and flip readers over to it",
       std::string(kReprocessUsage) + std::string(kQueryOptionsUsage),
       {"--log", "--ns", "--from", "--threads", "--partitions", "--mode", "--max-lag",
        "--timeout-s", "--window-ms", "--slide-ms", "--euro-rate", "--modulus", "--gap-ms",
        "--delay-ms", "--list-rows", "--side-input"},
       {"--exit-after-flip"},
       ReprocessCommand},
  };
}

}  // namespace kappa::tools
