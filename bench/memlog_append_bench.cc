// Append throughput of memlog::Producer, against a memcpy baseline measured in the same run.
//
// Every benchmark reports records/s (items_per_second), payload bytes/s (bytes_per_second) and
// vs_memcpy: payload bytes/s divided by the memcpy baseline's payload bytes/s for the same
// payload size and thread count.
//
// Baseline: the same payloads, 64 at a time, copied with memcpy into a /dev/shm mapping as large
// as the ring, packed back to back and wrapping at its end (the log walks its ring the same way,
// but also writes a 24-byte record header per payload). With two threads, each thread copies
// into its own half. main() measures it before any benchmark runs (median of three timed loops)
// and prints it in the context header; the Memcpy benchmarks run the same loop again, so their
// vs_memcpy (expected near 1.0) shows how stable the baseline was.
//
// Logs: one Policy::kOverwrite log in /dev/shm (the ring never fills), lapped twice before any
// measurement, so every append also pays for moving head past the bytes it overwrites: the
// steady state of an overwrite log. Timestamps are explicit except in Append_TimestampNow.
// Benchmark thread i is pinned to CPU i.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "memlog/crc32c.h"
#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/producer.h"

namespace kappa::bench {
namespace {

using memlog::AppendResult;
using memlog::Log;
using memlog::Producer;
using memlog::RecordView;

constexpr std::uint64_t kCapacity = std::uint64_t{64} << 20;
constexpr int kBatch = 64;
constexpr std::size_t kMaxPayload = 1024;
constexpr std::int64_t kFixedTimestamp = 1'764'028'800'000'000'000;  // 2025-11-25T00:00:00Z
constexpr std::array<std::size_t, 4> kPayloadSizes = {16, 64, 256, 1024};
constexpr std::array<int, 2> kThreadCounts = {1, 2};

// What every benchmark shares: the log, the baseline's mapping, the source payloads and the
// measured baselines. Built in main() before any benchmark runs; read-only afterwards.
struct Environment {
  std::unique_ptr<Log> log;
  std::unique_ptr<MappedFile> region;
  std::vector<std::byte> source;  // kBatch payloads of up to kMaxPayload bytes
  std::map<std::pair<std::size_t, int>, double> memcpy_bytes_per_second;  // (size, threads)
};
Environment* g_env = nullptr;

const std::byte* SourcePayload(int index, std::size_t size) {
  return g_env->source.data() + static_cast<std::size_t>(index) * size;
}

// The baseline's destination: a slice of the mapping, walked like the ring.
struct CopyCursor {
  std::byte* base;
  std::size_t span;
  std::size_t pos = 0;
};

CopyCursor SliceFor(int thread, int threads) {
  const std::size_t span = g_env->region->size() / static_cast<std::size_t>(threads);
  return CopyCursor{g_env->region->data() + span * static_cast<std::size_t>(thread), span};
}

// Copies the kBatch source payloads of `size` bytes to the cursor, wrapping at the slice end.
inline void CopyBatch(CopyCursor* c, std::size_t size) {
  for (int j = 0; j < kBatch; ++j) {
    if (c->pos + size > c->span) c->pos = 0;
    std::memcpy(c->base + c->pos, SourcePayload(j, size), size);
    c->pos += size;
  }
}

// Times the baseline loop with `threads` threads (thread i on CPU i) for about `seconds`, after
// one untimed lap over each slice. Returns aggregate payload bytes/s.
double TimeMemcpy(std::size_t size, int threads, double seconds) {
  std::vector<double> rates(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      PinThisThread(t);
      CopyCursor c = SliceFor(t, threads);
      std::size_t n = size;
      benchmark::DoNotOptimize(n);  // the size is not a compile-time constant, as in the log
      const std::size_t lap_batches = c.span / (n * kBatch) + 1;
      for (std::size_t i = 0; i < lap_batches; ++i) CopyBatch(&c, n);
      ready.fetch_add(1, std::memory_order_acq_rel);
      while (ready.load(std::memory_order_acquire) < threads) {
      }
      const auto budget = static_cast<std::int64_t>(seconds * 1e9);
      const std::int64_t start = MonotonicNs();
      std::int64_t now = start;
      std::uint64_t batches = 0;
      while (now - start < budget) {
        for (int k = 0; k < 256; ++k) CopyBatch(&c, n);
        benchmark::ClobberMemory();
        batches += 256;
        now = MonotonicNs();
      }
      rates[static_cast<std::size_t>(t)] =
          static_cast<double>(batches * kBatch * n) / (static_cast<double>(now - start) * 1e-9);
    });
  }
  for (std::thread& th : pool) th.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

double MeasureMemcpyBaseline(std::size_t size, int threads) {
  std::array<double, 3> trials;
  for (double& t : trials) t = TimeMemcpy(size, threads, 0.1);
  std::sort(trials.begin(), trials.end());
  return trials[1];
}

double Baseline(std::size_t size, int threads) {
  return g_env->memcpy_bytes_per_second.at({size, threads});
}

// Wall time of one thread's timed loop, read around it (the library's own timer is not exposed
// per thread). Starts before the loop's start barrier, which adds microseconds to a 0.1 s+ run.
class LoopTimer {
 public:
  LoopTimer() : start_(MonotonicNs()) {}
  double Seconds() const { return static_cast<double>(MonotonicNs() - start_) * 1e-9; }

 private:
  std::int64_t start_;
};

void ReportThroughput(benchmark::State& state, const LoopTimer& timer, std::uint64_t records,
                      std::size_t size) {
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.SetBytesProcessed(static_cast<std::int64_t>(records * size));
  // This thread's payload bytes/s over the baseline's aggregate bytes/s; summed over threads
  // (kDefaults), this is the aggregate ratio.
  const double bytes_per_second = static_cast<double>(records * size) / timer.Seconds();
  state.counters["vs_memcpy"] = bytes_per_second / Baseline(size, state.threads());
}

std::unique_ptr<Producer> NewProducerOrSkip(benchmark::State& state) {
  auto producer = g_env->log->NewProducer();
  if (!producer.ok()) {
    state.SkipWithError(producer.status().message().c_str());
    return nullptr;
  }
  return std::move(producer).value();
}

void BM_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  PinThisThread(state.thread_index());
  CopyCursor c = SliceFor(state.thread_index(), state.threads());
  LoopTimer timer;
  for (auto _ : state) {
    CopyBatch(&c, size);
    benchmark::ClobberMemory();
  }
  ReportThroughput(state, timer, static_cast<std::uint64_t>(state.iterations()) * kBatch, size);
}

// One record per call, explicit timestamp.
void BM_Append(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  PinThisThread(state.thread_index());
  auto producer = NewProducerOrSkip(state);
  if (!producer) return;
  int k = 0;
  LoopTimer timer;
  for (auto _ : state) {
    const AppendResult r =
        producer->Append(std::span(SourcePayload(k, size), size), 0, kFixedTimestamp);
    if (r != AppendResult::kOk) {
      state.SkipWithError(memlog::AppendResultName(r));
      break;
    }
    k = (k + 1) & (kBatch - 1);
  }
  ReportThroughput(state, timer, static_cast<std::uint64_t>(state.iterations()), size);
}

// As BM_Append, but the producer reads the wall clock for each record.
void BM_Append_TimestampNow(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  PinThisThread(state.thread_index());
  auto producer = NewProducerOrSkip(state);
  if (!producer) return;
  int k = 0;
  LoopTimer timer;
  for (auto _ : state) {
    const AppendResult r =
        producer->Append(std::span(SourcePayload(k, size), size), 0, memlog::kTimestampNow);
    if (r != AppendResult::kOk) {
      state.SkipWithError(memlog::AppendResultName(r));
      break;
    }
    k = (k + 1) & (kBatch - 1);
  }
  ReportThroughput(state, timer, static_cast<std::uint64_t>(state.iterations()), size);
}

// kBatch records per call (one reservation, one commit), explicit timestamps.
void BM_AppendBatch(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  PinThisThread(state.thread_index());
  auto producer = NewProducerOrSkip(state);
  if (!producer) return;
  std::array<RecordView, kBatch> views;
  for (int j = 0; j < kBatch; ++j) {
    views[static_cast<std::size_t>(j)] =
        RecordView{std::span(SourcePayload(j, size), size), 0, kFixedTimestamp};
  }
  LoopTimer timer;
  for (auto _ : state) {
    const AppendResult r = producer->AppendBatch(views);
    if (r != AppendResult::kOk) {
      state.SkipWithError(memlog::AppendResultName(r));
      break;
    }
  }
  ReportThroughput(state, timer, static_cast<std::uint64_t>(state.iterations()) * kBatch, size);
}

void PayloadsAndThreads(benchmark::internal::Benchmark* b) {
  b->ArgName("payload");
  for (std::size_t size : kPayloadSizes) b->Arg(static_cast<std::int64_t>(size));
  for (int threads : kThreadCounts) b->Threads(threads);
  b->UseRealTime();
}

BENCHMARK(BM_Memcpy)->Apply(PayloadsAndThreads);
BENCHMARK(BM_Append)->Apply(PayloadsAndThreads);
BENCHMARK(BM_AppendBatch)->Apply(PayloadsAndThreads);
BENCHMARK(BM_Append_TimestampNow)->ArgName("payload")->Arg(64)->Threads(1)->UseRealTime();

// Appends 1 KiB records until the ring has been lapped twice, so that the measured appends run
// in the steady state (every page touched, head advanced on each append).
bool LapLog(Log* log, std::string* error) {
  auto producer = log->NewProducer();
  if (!producer.ok()) {
    *error = producer.status().message();
    return false;
  }
  const std::span<const std::byte> payload(g_env->source.data(), kMaxPayload);
  while (log->latest_offset() < 2 * log->capacity()) {
    const AppendResult r = (*producer)->Append(payload, 0, kFixedTimestamp);
    if (r != AppendResult::kOk) {
      *error = std::string("warm-up append: ") + memlog::AppendResultName(r);
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (bench::OnlineCpus() < 2) {
    std::fprintf(stderr, "memlog_append_bench: needs 2 CPUs for the 2-thread runs\n");
    return 1;
  }
  bench::PinThisThread(0);  // benchmark thread 0 runs on the main thread

  bench::Environment env;
  bench::g_env = &env;
  env.source.resize(bench::kBatch * bench::kMaxPayload);
  for (std::size_t i = 0; i < env.source.size(); ++i)
    env.source[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);

  memlog::CreateOptions options;
  options.capacity = bench::kCapacity;
  options.policy = memlog::Policy::kOverwrite;
  const std::string log_path = bench::UniqueShmPath("append") + ".log";
  auto log = memlog::Log::Create(log_path, options);
  if (!log.ok()) {
    std::fprintf(stderr, "memlog_append_bench: %s\n", log.status().message().c_str());
    return 1;
  }
  env.log = std::move(log).value();
  std::string error;
  env.region = bench::MappedFile::Create(bench::UniqueShmPath("memcpy"), bench::kCapacity, &error);
  int rc = 0;
  if (!env.region || !bench::LapLog(env.log.get(), &error)) {
    std::fprintf(stderr, "memlog_append_bench: %s\n", error.c_str());
    rc = 1;
  } else {
    for (int threads : bench::kThreadCounts) {
      for (std::size_t size : bench::kPayloadSizes) {
        const double bps = bench::MeasureMemcpyBaseline(size, threads);
        env.memcpy_bytes_per_second[{size, threads}] = bps;
        char value[64];
        std::snprintf(value, sizeof value, "%.3f GB/s", bps / 1e9);
        benchmark::AddCustomContext("memcpy_baseline/payload:" + std::to_string(size) +
                                        "/threads:" + std::to_string(threads),
                                    value);
      }
    }
    benchmark::AddCustomContext("log", "capacity 64 MiB, overwrite, lapped twice, /dev/shm");
    benchmark::AddCustomContext("crc32c", memlog::Crc32cIsHardware() ? "sse4.2" : "software");
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  const std::string path = env.log ? env.log->path() : std::string();
  env.log.reset();
  if (!path.empty()) ::unlink(path.c_str());
  env.region.reset();
  bench::g_env = nullptr;
  return rc;
}
