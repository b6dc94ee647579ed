// NEXMark throughput per query: each query replays a log of 10 M generated events (persons,
// auctions and bids, 1 : 3 : 46) from its start until every event is applied and every window
// closed, as `kappa run QUERY --until-caught-up` does.
//
// Baseline in the same run: a hand-written loop that reads every event of the same log and
// decodes it by kind (the least any query must do); vs_read is a query's time over the loop's.
// per_core is events/s divided by the CPUs the engine may use (the machine's), and vs_flink
// that figure over the nexmark project's published Flink figure for the query, per core (Q0
// 155 K, Q1 158 K, Q2 175 K, Q3 152 K, Q4 34 K, Q5 22 K, Q7 12 K, Q8 146 K events/s). Each query
// is one job, as `kappa run` starts it.
//
// Events: kappa's default generator (fixed-size records), or with --generator=reference the
// nexmark project's own events, padding included (payloads of 253, 575 and 116 bytes on
// average, the sizes of the events behind the published figures); the run's context names it. Event
// time advances 100,000 events per second: 100 s of events, ten 10 s windows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/engine.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "nexmark/generator.h"
#include "nexmark/queries.h"

namespace kappa::bench {
namespace {

constexpr std::uint64_t kEvents = 10'000'000;
constexpr double kEventRate = 100'000;

std::string g_log;
kappa::nexmark::GeneratorKind g_generator = kappa::nexmark::GeneratorKind::kDefault;
double g_read_seconds = 0;

// The nexmark project's published Flink 1.13 throughput per core (its README: 100 M events,
// 8 task managers); q6 has none (it does not run on Flink).
const std::map<std::string, double> kFlinkPerCore = {
    {"q0", 155.02e3}, {"q1", 157.94e3}, {"q2", 175.21e3},  {"q3", 152.12e3},  {"q4", 34.33e3},
    {"q5", 22.14e3},  {"q7", 12.33e3},  {"q8", 146.14e3},  {"q9", 14.24e3},   {"q10", 57.81e3},
    {"q11", 39.7e3},  {"q12", 75.67e3}, {"q13", 130.73e3}, {"q14", 161.23e3}, {"q15", 72.42e3},
    {"q16", 18.65e3}, {"q17", 116.8e3}, {"q18", 53.7e3},   {"q19", 44.04e3},  {"q20", 18.98e3},
    {"q21", 98.49e3}, {"q22", 129.96e3}};

void BM_ReadLoop(benchmark::State& state) {
  PinThisThread(0);
  for (auto _ : state) {
    auto log = std::move(memlog::Log::Open(
                             g_log, memlog::OpenOptions{.read_only = true, .populate = true}))
                   .value();
    const std::int64_t start = MonotonicNs();
    auto reader = std::move(log->NewReader(memlog::StartAt::Earliest())).value();
    memlog::RecordBatch batch;
    std::uint64_t kinds[4] = {0, 0, 0, 0};
    std::int64_t sum = 0;
    nexmark::Person p;
    nexmark::Auction a;
    nexmark::Bid b;
    while (reader->Poll(&batch, 4096) == memlog::PollStatus::kOk) {
      for (const memlog::Record& r : batch) {
        switch (r.type) {
          case 1:
            std::memcpy(&p, r.payload.data(), sizeof p);
            sum += p.id;
            break;
          case 2:
            std::memcpy(&a, r.payload.data(), sizeof a);
            sum += a.seller;
            break;
          case 3:
            std::memcpy(&b, r.payload.data(), sizeof b);
            sum += b.price;
            break;
          default:
            break;
        }
        ++kinds[r.type & 3];
      }
    }
    benchmark::DoNotOptimize(sum);
    g_read_seconds = static_cast<double>(MonotonicNs() - start) * 1e-9;
    state.SetIterationTime(g_read_seconds);
    // Items over all iterations so far: the library divides them by the total time.
    state.SetItemsProcessed(state.items_processed() +
                            static_cast<std::int64_t>(kinds[1] + kinds[2] + kinds[3]));
  }
}

void RunQuery(benchmark::State& state, const std::string& query) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const std::string ns = UniqueShmPath("nexmark-views");
    engine::EngineOptions o;
    o.threads = threads;
    o.raise_tbb_parallelism = true;
    o.view_namespace = ns;
    auto engine = engine::Engine::Create(o);
    if (!engine.ok()) return state.SkipWithError(engine.status().message().c_str());
    nexmark::QueryOptions qo;
    qo.log = g_log;
    qo.expected_keys = 1 << 18;
    auto job = nexmark::MakeQuery(query, qo);
    if (!job.ok()) return state.SkipWithError(job.status().message().c_str());
    auto running = (*engine)->Start(*job);
    if (!running.ok()) return state.SkipWithError(running.status().message().c_str());
    const std::int64_t start = MonotonicNs();
    if (!(*running)->WaitCaughtUp(std::chrono::minutes(10)))
      return state.SkipWithError(("did not catch up: " + (*running)->status().message()).c_str());
    (*running)->FlushWindows();
    const double seconds = static_cast<double>(MonotonicNs() - start) * 1e-9;
    const engine::JobStats stats = (*running)->Stats();
    running->reset();
    engine->reset();
    std::system(("rm -rf " + ns).c_str());
    state.SetIterationTime(seconds);
    state.SetItemsProcessed(state.items_processed() + static_cast<std::int64_t>(kEvents));
    const double per_core = static_cast<double>(kEvents) / seconds / OnlineCpus();
    state.counters["results"] = static_cast<double>(stats.results);
    state.counters["per_core"] = per_core;
    if (g_read_seconds > 0) state.counters["vs_read"] = seconds / g_read_seconds;
    if (auto it = kFlinkPerCore.find(query); it != kFlinkPerCore.end())
      state.counters["vs_flink"] = per_core / it->second;
  }
}

bool FillLog(std::string* error) {
  memlog::CreateOptions o;
  o.capacity = std::uint64_t{1} << 31;
  auto log = memlog::Log::Create(g_log, o);
  if (!log.ok()) {
    *error = log.status().message();
    return false;
  }
  auto producer = std::move((*log)->NewProducer()).value();
  nexmark::GeneratorConfig config;
  config.kind = g_generator;
  config.base_time_ns = 1'767'225'600'000'000'000;  // 2026-01-01
  config.events_per_second = kEventRate;
  const nexmark::Generator generator(config);
  std::vector<nexmark::Event> events(1024);
  std::vector<memlog::RecordView> views(1024);
  for (std::uint64_t n = 0; n < kEvents; n += events.size()) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      nexmark::Event& e = events[i];
      generator.Make(n + i, &e);
      views[i] = {e.payload(), e.type(), e.date_time()};
    }
    if (producer->AppendBatch(views) != memlog::AppendResult::kOk) {
      *error = "append failed";
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;
  // --generator=default|reference is this program's; the rest are Google Benchmark's.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--generator=reference") {
      g_generator = kappa::nexmark::GeneratorKind::kReference;
    } else if (arg != "--generator=default") {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_log = UniqueShmPath("nexmark-events") + ".log";
  std::string error;
  std::fprintf(stderr, "nexmark_bench: generating %llu events...\n",
               static_cast<unsigned long long>(kEvents));
  if (!FillLog(&error)) {
    std::fprintf(stderr, "nexmark_bench: %s\n", error.c_str());
    ::unlink(g_log.c_str());
    return 1;
  }
  benchmark::AddCustomContext(
      "log", "10 M NEXMark events (1 : 3 : 46), 100 s of event time, 2 GiB log in /dev/shm");
  benchmark::AddCustomContext("generator", g_generator == kappa::nexmark::GeneratorKind::kReference
                                               ? "reference (the nexmark project's events)"
                                               : "default (kappa's, fixed-size records)");
  benchmark::RegisterBenchmark("BM_ReadLoop", BM_ReadLoop)
      ->Iterations(3)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  for (const kappa::nexmark::QueryInfo& q : kappa::nexmark::Queries()) {
    const std::string name = q.name;
    benchmark::RegisterBenchmark(("BM_Nexmark/" + name).c_str(),
                                 [name](benchmark::State& state) { RunQuery(state, name); })
        ->Arg(2)
        ->ArgName("threads")
        ->Iterations(2)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ::unlink(g_log.c_str());
  return 0;
}
