// kappa tour: the Kappa architecture, end to end, on one machine. NEXMark events go into one log
// live; five queries process them as they arrive into views (the speed layer); another process
// reads those views in place while they change (the serving layer); one query is changed and
// reprocessed from the start of the log into a new view version while the old one serves, then
// readers are flipped over; the unchanged queries are replayed from the start ("batch" is the
// same pipeline over the same log) and their views compared with the live ones, byte for byte.
#include "tools/tour_command.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "engine/record_catalog.h"
#include "memlog/archiver.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "nexmark/generator.h"
#include "nexmark/queries.h"
#include "serving/namespace.h"
#include "serving/view_reader.h"
#include "tools/cli/args.h"
#include "tools/cli/clock.h"
#include "tools/cli/metrics_recorder.h"
#include "tools/cli/progress_bar.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/cli/text_table.h"

namespace kappa::tools {
namespace {

using nexmark::Event;

constexpr char kTourUsage[] =
    "Usage: kappa tour [options]\n"
    "\n"
    "A guided run of the Kappa architecture on this machine, explained as it goes:\n"
    "  1. NEXMark events are appended live to one log, the only copy of the data;\n"
    "  2. the speed layer: queries q1 q2 q5 q7 q8 process them as they arrive into views;\n"
    "  3. the serving layer: a second process reads those views in place while they change;\n"
    "  4. reprocessing: q5 gets a new definition, replays the log from its start into a new\n"
    "     view version while the old one serves, and readers are flipped over to it;\n"
    "  5. batch is a replay: the unchanged queries run again from the start of the log, and\n"
    "     their views are compared with the live ones, byte for byte.\n"
    "The log's ring holds an eighth of what the run appends; the rest of its history is in an\n"
    "archive of segment files in $TMPDIR (default /tmp), from which steps 4 and 5 replay.\n"
    "Ends with a summary table; the exit status is 1 if a check failed. Everything it creates\n"
    "(in /dev/shm and the archive) is removed at the end.\n"
    "\n"
    "Options:\n"
    "  --rate N        events per second appended live (default 200000)\n"
    "  --seconds N     how long events are generated (default 10)\n"
    "  --threads N     engine threads (default: one per CPU)\n"
    "  --metrics-out FILE  write the queries' measurements (throughput, lag, latency\n"
    "                  percentiles, about every 200 ms; the reprocessing and the replays too) as\n"
    "                  JSON lines, for 'kappa report'\n";

// What the reader process saw, in shared memory.
struct ReaderReport {
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> read_ns{0};
  std::atomic<std::uint64_t> q2_rows{0};    // rows of q2 seen arrive
  std::atomic<std::int64_t> q2_auction{0};  // the latest of them
  std::atomic<std::int64_t> q2_price{0};
  std::atomic<std::uint32_t> q5_version{0};
  std::atomic<std::uint64_t> flip_seen_at{0};  // reads done when q5's version changed
  std::atomic<std::uint64_t> failed_reads{0};  // reads that did not succeed (stale, gone, busy)
  std::atomic<int> stop{0};
};

// The reader process, as any application on this machine would read the views: tails q2 (a
// result list) for the rows that arrive, and reads the newest window's hottest auction in q5
// (another list, which also tells it the version it reads), until told to stop.
[[noreturn]] void ReaderMain(const std::string& ns, ReaderReport* report) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::unique_ptr<serving::ViewReader> q2, q5;
  std::uint32_t version = 0;
  std::uint64_t next = 0;
  while (report->stop.load(std::memory_order_acquire) == 0) {
    if (!q2 || !q5) {
      if (!q2) {
        auto r = serving::ViewReader::Open(ns, "q2");
        if (r.ok()) q2 = std::move(r).value();
      }
      if (!q5) {
        auto r = serving::ViewReader::Open(ns, "q5");
        if (r.ok()) q5 = std::move(r).value();
      }
      ::usleep(2000);
      continue;
    }
    const std::int64_t start = SteadyNs();
    std::uint64_t rows = 0;
    std::int64_t auction = 0, price = 0;
    const serving::ReadStatus listed = q2->ListRows(
        next, 4096,
        [&](const serving::RowView& row) {
          ++rows;
          std::memcpy(&auction, row.value.data(), sizeof auction);  // AuctionPrice
          std::memcpy(&price, row.value.data() + 8, sizeof price);
          return true;
        },
        &next);
    std::int64_t hottest = 0;
    std::uint64_t after_newest = 0;
    const std::uint64_t count = q5->ListCount();
    const serving::ReadStatus looked_up = q5->ListRows(
        count == 0 ? 0 : count - 1, 1,
        [&](const serving::RowView& row) {  // the newest window's (a) hottest auction
          std::memcpy(&hottest, row.value.data(), sizeof hottest);  // HotItem
          return false;
        },
        &after_newest);
    for (const serving::ReadStatus st : {listed, looked_up})
      if (st != serving::ReadStatus::kOk && st != serving::ReadStatus::kNotFound)
        report->failed_reads.fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t v = q5->version();
    report->read_ns.fetch_add(static_cast<std::uint64_t>(SteadyNs() - start),
                              std::memory_order_relaxed);
    const std::uint64_t reads = report->reads.load(std::memory_order_relaxed) + 2;
    report->reads.store(reads, std::memory_order_relaxed);
    if (rows > 0) {
      report->q2_rows.fetch_add(rows, std::memory_order_relaxed);
      report->q2_auction.store(auction, std::memory_order_relaxed);
      report->q2_price.store(price, std::memory_order_relaxed);
    }
    if (version != 0 && v != version) report->flip_seen_at.store(reads, std::memory_order_relaxed);
    version = v;
    report->q5_version.store(v, std::memory_order_release);
    ::usleep(1000);
  }
  ::_exit(0);
}

// Every row of a view version (key, window, index, offset, value bytes), sorted: two views
// are the same when these are equal.
using RowKey = std::tuple<std::uint64_t, std::int64_t, std::uint64_t, std::uint64_t, std::string>;
std::vector<RowKey> ViewRows(const std::string& ns, const std::string& ref) {
  std::vector<RowKey> rows;
  auto reader = serving::ViewReader::Open(ns, ref);
  if (!reader.ok()) return rows;
  const bool list = (*reader)->Info().kind == serving::ViewKind::kList;  // else index is no content
  const serving::ReadStatus scanned = (*reader)->Scan([&](const serving::RowView& r) {
    rows.emplace_back(r.key_u64, r.window_start, list ? r.index : 0, r.offset,
                      std::string(reinterpret_cast<const char*>(r.value.data()), r.value.size()));
    return true;
  });
  // A scan that skipped rows equals nothing.
  if (scanned != serving::ReadStatus::kOk)
    rows.assign(1, RowKey{UINT64_MAX, 0, 0, 0,
                          std::string("scan failed: ") + serving::ReadStatusName(scanned)});
  std::sort(rows.begin(), rows.end());
  return rows;
}

struct QueryReport {
  std::string name;
  std::string definition;
  engine::JobStats live;
  double replay_records_per_s = 0;
  std::size_t rows = 0;
  std::uint64_t view_bytes = 0;
  std::string check;
};

void Say(const char* text) {
  std::fputs(text, stdout);
  std::fflush(stdout);
}

class Tour {
 public:
  Tour(std::uint64_t rate, std::uint64_t seconds, int threads, const std::string& metrics_out)
      : rate_(rate), seconds_(seconds), threads_(threads) {
    if (!metrics_out.empty()) metrics_ = std::make_unique<MetricsRecorder>(metrics_out, "tour");
    const std::string id = std::to_string(::getpid());
    log_path_ = "/dev/shm/kappa-tour-" + id + ".log";
    ns_path_ = "/dev/shm/kappa-tour-" + id + "-views";
    // The history on a real filesystem (not /dev/shm, which a reboot empties).
    const char* tmp = std::getenv("TMPDIR");
    archive_path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/kappa-tour-" + id + "-archive";
  }
  ~Tour() { Cleanup(); }

  int Run();

 private:
  void Cleanup() {
    if (reader_pid_ > 0) {
      report_->stop.store(1, std::memory_order_release);
      int status;
      ::waitpid(reader_pid_, &status, 0);
      reader_pid_ = -1;
    }
    if (report_ != nullptr) ::munmap(report_, sizeof(ReaderReport));
    report_ = nullptr;
    jobs_.clear();
    engine_.reset();
    if (archiver_) archiver_->Stop().ok();
    archiver_.reset();
    log_.reset();
    ::unlink(log_path_.c_str());
    std::system(("rm -rf '" + archive_path_ + "'").c_str());
    ::unlink(engine::RecordCatalog::PathFor(log_path_).c_str());
    std::system(("rm -rf '" + ns_path_ + "'").c_str());
  }
  nexmark::QueryOptions Options() const {
    nexmark::QueryOptions o;
    o.log = log_path_;
    o.expected_keys = 1 << 15;
    return o;
  }
  engine::Job Query(const std::string& name, nexmark::QueryOptions o) {
    auto job = nexmark::MakeQuery(name, o);
    if (!job.ok()) throw CommandError(job.status().message());
    return std::move(job).value();
  }
  void Generate();
  void StartReader();
  // A sample of the jobs named (by their job names, "q5@2" for a version) for --metrics-out.
  void Sample(const std::vector<std::string>& names) {
    if (metrics_) metrics_->SampleJobs(ns_path_, names);
  }
  void SampleLiveJobs() {
    if (!metrics_) return;
    std::vector<std::string> names;
    for (const auto& [name, job] : jobs_) names.push_back(name);
    Sample(names);
  }

  std::uint64_t rate_, seconds_;
  int threads_;
  std::string log_path_, ns_path_, archive_path_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::Archiver> archiver_;
  std::unique_ptr<engine::Engine> engine_;
  std::map<std::string, std::unique_ptr<engine::RunningJob>> jobs_;
  std::unique_ptr<MetricsRecorder> metrics_;
  ReaderReport* report_ = nullptr;
  pid_t reader_pid_ = -1;
  std::atomic<std::uint64_t> generated_{0};
  std::atomic<bool> stop_generating_{false};
  std::atomic<bool> generator_done_{false};
  std::string generate_error_;  // written by the generator before generator_done_
  double generate_seconds_ = 0;
};

void Tour::StartReader() {
  void* shared = ::mmap(nullptr, sizeof(ReaderReport), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw CommandError(std::string("mmap: ") + std::strerror(errno));
  report_ = new (shared) ReaderReport();
  std::fflush(stdout);
  reader_pid_ = ::fork();
  if (reader_pid_ < 0) throw CommandError(std::string("fork: ") + std::strerror(errno));
  if (reader_pid_ == 0) {
    StopSignals::ResetInChild();
    ReaderMain(ns_path_, report_);
  }
}

int Tour::Run() {
  std::printf("kappa tour: the Kappa architecture on one machine (%u CPUs)\n\n",
              std::max(1u, std::thread::hardware_concurrency()));
  // The reader process starts first (before any thread), and waits for the views.
  StartReader();

  // A ring an eighth of what the run appends (about 90 bytes an event): the reprocessing step
  // replays several rings' worth of history, from the archive behind the ring.
  memlog::CreateOptions lo;
  lo.capacity =
      std::bit_floor(std::max<std::uint64_t>(std::uint64_t{1} << 20, rate_ * seconds_ * 90 / 8));
  lo.policy = memlog::Policy::kBlock;
  lo.archive_directory = archive_path_;
  lo.archive.segment_bytes = lo.capacity / 2;
  auto log = memlog::Log::Create(log_path_, lo);
  if (!log.ok()) throw CommandError(log.status().message());
  log_ = std::move(log).value();
  auto archiver = memlog::Archiver::Open(log_.get());
  if (!archiver.ok()) throw CommandError(archiver.status().message());
  archiver_ = std::move(archiver).value();
  archiver_->Start();
  if (serving::Status s = nexmark::RegisterEventTypes(log_path_); !s.ok())
    throw CommandError(s.message());
  std::printf(
      "The log: %s, a %s memory-mapped ring: the hot tail of a log whose whole\n"
      "history an archiver copies into segment files in %s. Every event is\n"
      "appended here once and never changed; everything below is computed from it, and can be\n"
      "computed again.\n\n",
      log_path_.c_str(), FormatBytes(lo.capacity).c_str(), archive_path_.c_str());

  engine::EngineOptions eo;
  eo.threads = threads_;
  eo.raise_tbb_parallelism = true;
  eo.view_namespace = ns_path_;
  auto engine = engine::Engine::Create(eo);
  if (!engine.ok()) throw CommandError(engine.status().message());
  engine_ = std::move(engine).value();

  const std::vector<std::string> live = {"q1", "q2", "q5", "q7", "q8"};
  std::printf("1-2. The speed layer: %zu NEXMark queries run live, each into a view in %s:\n",
              live.size(), ns_path_.c_str());
  for (const std::string& q : live) {
    for (const nexmark::QueryInfo& info : nexmark::Queries()) {
      if (q == info.name) std::printf("       %-4s %s\n", info.name, info.summary);
    }
    auto running = engine_->Start(Query(q, Options()));
    if (!running.ok()) throw CommandError(running.status().message());
    jobs_[q] = std::move(running).value();
  }
  std::printf("     Events arrive at %s/s for %" PRIu64
              " s (persons, auctions and bids, 1 : 3 : 46, from kappa's default NEXMark\n"
              "     generator: 'kappa gen --help').\n\n",
              ShortCount(static_cast<double>(rate_)).c_str(), seconds_);
  Say("3. The serving layer: another process reads the views in place while they change.\n");

  std::thread generator([this] { Generate(); });
  // However this ends (a step may throw), the generator stops and is joined.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop.store(true, std::memory_order_relaxed);
      if (thread.joinable()) thread.join();
    }
  } joiner{stop_generating_, generator};
  // Half-way through, q5 changes: 20 s windows sliding by 5 s instead of 10 s by 2 s.
  const std::int64_t started = SteadyNs();
  std::int64_t next_line = started + 1'000'000'000;
  bool reprocessed = false;
  std::unique_ptr<engine::RunningJob> q5_v2;
  std::uint64_t q5_v2_records = 0;
  double q5_v2_seconds = 0;
  while (true) {
    const std::int64_t now = SteadyNs();
    const bool generating =
        !generator_done_.load(std::memory_order_acquire) && !StopSignals::requested();
    if (now >= next_line && generating) {
      next_line += 1'000'000'000;
      const engine::JobStats q1 = jobs_["q1"]->Stats();
      const std::uint64_t reads = report_->reads.load(std::memory_order_relaxed);
      std::printf(
          "   %4.1f s  log: %-5s events  q1 p99 %-8s | reader: %-5s reads, %-5s q2 rows, latest "
          "auction %" PRId64 " bid %" PRId64 ", q5 v%u\n",
          static_cast<double>(now - started) * 1e-9,
          ShortCount(static_cast<double>(generated_.load(std::memory_order_relaxed))).c_str(),
          q1.latency_p99_ns > 0 ? FormatDuration(q1.latency_p99_ns).c_str() : "-",
          ShortCount(static_cast<double>(reads)).c_str(),
          ShortCount(static_cast<double>(report_->q2_rows.load(std::memory_order_relaxed))).c_str(),
          report_->q2_auction.load(std::memory_order_relaxed),
          report_->q2_price.load(std::memory_order_relaxed),
          report_->q5_version.load(std::memory_order_acquire));
      std::fflush(stdout);
    }
    if (!reprocessed &&
        (now - started) * 2 >= static_cast<std::int64_t>(seconds_) * 1'000'000'000) {
      reprocessed = true;
      std::printf(
          "\n4. Reprocessing: q5 gets a new definition (20 s windows sliding by 5 s). Version 2\n"
          "   replays the log from its first event while version 1 keeps serving the live "
          "tail...\n");
      std::fflush(stdout);
      nexmark::QueryOptions o = Options();
      o.window = std::chrono::seconds(20);
      o.slide = std::chrono::seconds(5);
      engine::ReprocessOptions ro;
      ro.progress = [this](const engine::JobStats&) {
        SampleLiveJobs();
        Sample({"q5@2"});
      };
      {
        const memlog::LogInfo li = log_->Info();
        std::printf(
            "   The history so far is %s; the ring holds its last %s, the archive's %" PRIu64
            " sealed segments\n   and the one being written hold the rest.\n",
            FormatBytes(li.latest_offset - li.earliest_offset).c_str(),
            FormatBytes(li.latest_offset - log_->ring().LoadHead()).c_str(), li.archive.segments);
      }
      const std::int64_t t0 = SteadyNs();
      auto running = engine_->Reprocess(Query("q5", o), ro);
      if (!running.ok()) throw CommandError(running.status().message());
      q5_v2 = std::move(running).value();
      q5_v2_seconds = static_cast<double>(SteadyNs() - t0) * 1e-9;
      q5_v2_records = q5_v2->Stats().records_in;
      std::printf(
          "   caught up with the live log (%s events in %.2f s, %s events/s) and flipped: readers "
          "of\n"
          "   q5 now read version 2; version 1 stays for an instant revert until it is "
          "retired.\n\n",
          ShortCount(static_cast<double>(q5_v2_records)).c_str(), q5_v2_seconds,
          ShortCount(static_cast<double>(q5_v2_records) / std::max(q5_v2_seconds, 1e-9)).c_str());
      std::fflush(stdout);
      jobs_["q5"]->Stop();  // version 1 stops being updated; its view stays
    }
    SampleLiveJobs();
    if (!generating) break;
    StopSignals::SleepUnlessStopped(std::chrono::milliseconds(20));
  }
  generator.join();
  if (StopSignals::requested()) {
    std::printf("interrupted\n");
    return 1;
  }
  const auto generated = static_cast<double>(generated_.load(std::memory_order_relaxed));
  std::printf("   %s events appended in %.1f s (%s events/s).\n\n", ShortCount(generated).c_str(),
              generate_seconds_, ShortCount(generated / std::max(generate_seconds_, 1e-9)).c_str());
  if (q5_v2) jobs_["q5@2"] = std::move(q5_v2);

  // The live jobs finish the log: everything applied, every window closed.
  for (auto& [name, job] : jobs_) {
    if (name == "q5") continue;
    if (!job->WaitCaughtUp(std::chrono::minutes(5)))
      throw CommandError(name + ": " + job->status().message());
    job->FlushWindows();
  }
  // The reader saw the flip?
  const std::uint64_t reads = report_->reads.load(std::memory_order_relaxed);
  const std::uint64_t flip_at = report_->flip_seen_at.load(std::memory_order_relaxed);
  const double read_ns =
      reads > 0 ? static_cast<double>(report_->read_ns.load(std::memory_order_relaxed)) /
                      static_cast<double>(reads)
                : 0;
  report_->stop.store(1, std::memory_order_release);
  int status = 0;
  ::waitpid(reader_pid_, &status, 0);
  reader_pid_ = -1;
  std::printf(
      "   The reader process (another address space) made %s reads, %s each on average;\n"
      "   it saw q5 move from version 1 to 2 at its read #%s, without reopening anything.\n\n",
      ShortCount(static_cast<double>(reads)).c_str(),
      FormatDuration(static_cast<std::int64_t>(read_ns)).c_str(),
      flip_at > 0 ? std::to_string(flip_at).c_str() : "(never: FAILED)");
  const std::uint64_t failed_reads = report_->failed_reads.load(std::memory_order_relaxed);
  if (failed_reads > 0)
    std::printf("   FAILED: %" PRIu64 " of its reads did not succeed (stale, gone or busy).\n\n",
                failed_reads);
  bool ok = flip_at > 0 && failed_reads == 0;

  std::printf(
      "5. Batch is a replay: the unchanged queries run again from the start of the log into\n"
      "   version 2 of their views, which must equal the live version 1 byte for byte.\n");
  std::vector<QueryReport> reports;
  for (const std::string q : {"q1", "q2", "q7", "q8"}) {
    QueryReport r;
    r.name = q;
    r.live = jobs_[q]->Stats();
    auto replay = engine_->Start(Query(q, Options()), 2);
    const std::int64_t t0 = SteadyNs();  // from the start of reading (the views exist by now)
    if (!replay.ok()) throw CommandError(replay.status().message());
    if (!(*replay)->WaitCaughtUp(std::chrono::minutes(5)))
      throw CommandError(q + ": " + (*replay)->status().message());
    (*replay)->FlushWindows();
    const double seconds = static_cast<double>(SteadyNs() - t0) * 1e-9;
    Sample({q + "@2"});
    r.replay_records_per_s =
        static_cast<double>((*replay)->Stats().records_in) / std::max(seconds, 1e-9);
    const auto live_rows = ViewRows(ns_path_, q + "@1");
    const auto replay_rows = ViewRows(ns_path_, q + "@2");
    r.rows = live_rows.size();
    auto info = serving::ViewReader::Open(ns_path_, q + "@1");
    if (info.ok()) r.view_bytes = (*info)->Info().file_bytes;
    const bool same = live_rows == replay_rows && !live_rows.empty();
    r.check = same ? "live == replay" : "DIFFERENT";
    if (!same) {
      std::printf("   %s: %zu rows live, %zu on replay\n", q.c_str(), live_rows.size(),
                  replay_rows.size());
      for (std::size_t i = 0; i < std::min(live_rows.size(), replay_rows.size()); ++i) {
        if (live_rows[i] == replay_rows[i]) continue;
        const auto& [k1, w1, i1, o1, v1] = live_rows[i];
        const auto& [k2, w2, i2, o2, v2] = replay_rows[i];
        std::printf("   first difference: live key %" PRIu64 " window %" PRId64 " index %" PRIu64
                    " offset %" PRIu64 "%s; replay key %" PRIu64 " window %" PRId64
                    " index %" PRIu64 " offset %" PRIu64 "\n",
                    k1, w1, i1, o1, v1 == v2 ? " (same value)" : " (other value)", k2, w2, i2, o2);
        break;
      }
    }
    ok = ok && same;
    reports.push_back(std::move(r));
  }
  {
    QueryReport r;
    r.name = "q5 v1 -> v2";
    r.live = jobs_["q5@2"]->Stats();
    r.live.latency_p50_ns = r.live.latency_p99_ns =
        0;  // a replay's "latency" is the age of history
    r.replay_records_per_s = static_cast<double>(q5_v2_records) / std::max(q5_v2_seconds, 1e-9);
    r.rows = ViewRows(ns_path_, "q5@2").size();
    auto info = serving::ViewReader::Open(ns_path_, "q5@2");
    if (info.ok()) r.view_bytes = (*info)->Info().file_bytes;
    r.check = "flipped";
    reports.push_back(std::move(r));
  }
  using A = TextTable::Align;
  TextTable table({{"query", A::kLeft},
                   {"results", A::kRight},
                   {"live p50", A::kRight},
                   {"live p99", A::kRight},
                   {"replay events/s", A::kRight},
                   {"view rows", A::kRight},
                   {"view file", A::kRight},
                   {"check", A::kLeft}},
                  "   ");
  for (const QueryReport& r : reports) {
    table.AddRow({r.name, std::to_string(r.live.results),
                  r.live.latency_p50_ns > 0 ? FormatDuration(r.live.latency_p50_ns) : "-",
                  r.live.latency_p99_ns > 0 ? FormatDuration(r.live.latency_p99_ns) : "-",
                  ShortCount(r.replay_records_per_s), std::to_string(r.rows),
                  FormatBytes(r.view_bytes), r.check});
  }
  std::string out;
  table.Flush(&out);
  std::printf("\n%s\n", out.c_str());
  std::printf(
      "Latency is from an event's append to the log to its result in the view (p50/p99 over the\n"
      "live run; windowed results wait for their window to close, which the figures exclude: they\n"
      "count each batch's updates). Replay speed is events read from the log per second.\n\n");
  if (!generate_error_.empty()) {
    std::printf("The event generator stopped early: %s\n", generate_error_.c_str());
    ok = false;
  }
  if (metrics_) {
    SampleLiveJobs();
    metrics_->Close();
    std::printf("Measurements: %" PRIu64
                " samples in the metrics file ('kappa report' charts them).\n",
                metrics_->lines());
  }
  std::printf(ok ? "All checks passed.\n" : "A check FAILED.\n");
  return ok ? 0 : 1;
}

void Tour::Generate() {
  nexmark::GeneratorConfig config;
  config.base_time_ns = UnixNs();
  config.events_per_second = static_cast<double>(rate_);
  const nexmark::Generator generator(config);
  auto log = memlog::Log::Open(log_path_);
  if (!log.ok()) {
    generate_error_ = log.status().message();
    generator_done_.store(true, std::memory_order_release);
    return;
  }
  auto producer = std::move((*log)->NewProducer()).value();
  std::vector<Event> events(256);
  std::vector<memlog::RecordView> views(256);
  const std::uint64_t total = rate_ * seconds_;
  const std::int64_t start = SteadyNs();
  std::uint64_t done = 0;
  while (done < total && !StopSignals::requested() &&
         !stop_generating_.load(std::memory_order_relaxed)) {
    const auto due = std::min<std::uint64_t>(
        total, static_cast<std::uint64_t>(static_cast<double>(SteadyNs() - start) * 1e-9 *
                                          static_cast<double>(rate_)));
    if (due <= done) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      continue;
    }
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(due - done, events.size()));
    for (std::size_t i = 0; i < n; ++i) {
      Event& e = events[i];
      generator.Make(done + i, &e);
      views[i] = {e.payload(), e.type()};
    }
    // A full ring waits for the archiver (which frees it as it archives), for 10 s at most.
    memlog::AppendResult r;
    const std::int64_t full_since = SteadyNs();
    while ((r = producer->AppendBatch(std::span(views.data(), n))) == memlog::AppendResult::kFull &&
           SteadyNs() - full_since < 10'000'000'000 && !StopSignals::requested())
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (r != memlog::AppendResult::kOk) {
      generate_error_ = std::string("appending events failed: ") + memlog::AppendResultName(r);
      break;
    }
    done += n;
    generated_.store(done, std::memory_order_relaxed);
  }
  generate_seconds_ = static_cast<double>(SteadyNs() - start) * 1e-9;
  generator_done_.store(true, std::memory_order_release);
}

}  // namespace

int RunTourCommand(const Args& args) {
  args.ExpectPositionals({});
  const std::uint64_t rate = args.GetUint("--rate", 200'000, 1000, 100'000'000);
  const std::uint64_t seconds = args.GetUint("--seconds", 10, 2, 3600);
  const int threads = static_cast<int>(args.GetUint("--threads", 0, 0, 256));
  StopSignals::Install();
  Tour tour(rate, seconds, threads, args.GetString("--metrics-out", ""));
  return tour.Run();
}

std::vector<Command> TourCommands() {
  return {
      {"tour",
       "",
       "a guided run of the Kappa architecture: live queries, readers, reprocessing, replay",
       kTourUsage,
       {"--rate", "--seconds", "--threads", "--metrics-out"},
       {},
       RunTourCommand},
  };
}

}  // namespace kappa::tools
