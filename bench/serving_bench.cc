// Serving-layer speed: point lookups from another process (idle, and while the writer updates
// at full speed), scans, and single-writer keyed-count updates, each against an in-process
// std::unordered_map doing the same work in the same run.
//
// A writer process (pinned to CPU 1) creates two keyed views of random u64 keys, each with a
// 16-byte value {count, sum}: "small" (1,024 keys, cache-resident) and "large" (10 M keys,
// about 1 GiB of slots). The benchmark process (CPU 0) reads them through ViewReader. On
// command the writer updates random keys of one view as fast as it can.
//
// Baselines (measured in main() before the benchmarks, median of three, and run again as the
// Map* benchmarks): std::unordered_map<uint64_t, Value> holding the same keys, looked up,
// iterated and updated in the same order. Every view benchmark reports vs_map: its time per
// operation over the baseline's (1.0 = as fast; lower is faster).
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"

namespace kappa::bench {
namespace {

using serving::ReadStatus;
using serving::ViewReader;

constexpr std::size_t kSmallKeys = 1024;
constexpr std::size_t kLargeKeys = 10'000'000;
constexpr std::size_t kProbeCount = 1 << 20;  // lookups cycle through this many random keys

struct Value {
  std::int64_t count;
  std::int64_t sum;
};

enum Mode : int { kIdle = 0, kBusySmall = 1, kBusyLarge = 2, kExit = 3 };

struct Control {
  std::atomic<int> ready{0};  // 1: views written; -1: the writer failed
  std::atomic<int> mode{kIdle};
  std::atomic<std::uint64_t> updates{0};
};

struct Dataset {
  std::vector<std::uint64_t> keys;    // the view's keys
  std::vector<std::uint64_t> probes;  // lookup order: keys in random order, repeated
  std::unordered_map<std::uint64_t, Value> map;
};

struct Environment {
  std::string ns_path;
  Control* ctl = nullptr;
  pid_t writer = -1;
  Dataset small, large;
  std::map<std::string, double> baseline_ns;  // per operation
};
Environment* g_env = nullptr;

Dataset MakeDataset(std::size_t n, std::uint64_t seed) {
  Dataset d;
  std::mt19937_64 rng(seed);
  d.keys.resize(n);
  for (std::uint64_t& k : d.keys) k = rng();
  d.probes.resize(std::min(kProbeCount, std::max<std::size_t>(n, 1) * 64));
  for (std::uint64_t& p : d.probes) p = d.keys[rng() % n];
  d.map.reserve(n);
  for (std::size_t i = 0; i < n; ++i) d.map[d.keys[i]] = Value{static_cast<std::int64_t>(i), 0};
  return d;
}

// ---- the writer process ----

int RunWriter(const std::string& ns_path, Control* ctl) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  PinThisThread(1);
  auto ns = serving::Namespace::Open(ns_path);
  if (!ns.ok()) return 1;
  const Dataset& small = g_env->small;
  const Dataset& large = g_env->large;
  auto schema =
      std::move(serving::Schema::Make({serving::Field::I64("count"), serving::Field::I64("sum")}))
          .value();
  auto make = [&](const char* name, const Dataset& d, std::uint64_t expected) {
    serving::KeyedTableOptions o;
    o.schema = schema;
    o.expected_keys = expected;
    auto w = std::move(serving::KeyedTableWriter::Create(**ns, name, 1, o)).value();
    for (std::size_t i = 0; i < d.keys.size(); ++i) {
      const Value v{static_cast<std::int64_t>(i), 0};
      if (w->Upsert(d.keys[i], std::as_bytes(std::span(&v, 1)), i) != serving::WriteResult::kOk)
        std::abort();
    }
    return w;
  };
  auto small_view = make("small", small, kSmallKeys);
  // 2^24 slots (1 GiB): a load of 0.6 for 10 M keys, below the 0.75 that would grow it.
  auto large_view = make("large", large, std::uint64_t{1} << 23);
  ctl->ready.store(1, std::memory_order_release);
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL, offset = large.keys.size();
  for (;;) {
    const int mode = ctl->mode.load(std::memory_order_acquire);
    if (mode == kExit) return 0;
    if (mode == kIdle) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    serving::KeyedTableWriter* w = mode == kBusySmall ? small_view.get() : large_view.get();
    const std::vector<std::uint64_t>& keys = mode == kBusySmall ? small.keys : large.keys;
    for (int i = 0; i < 4096; ++i) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      const serving::WriteResult r =
          w->Update(keys[rng % keys.size()], ++offset, [](std::span<std::byte> v, bool) {
            Value x;
            std::memcpy(&x, v.data(), sizeof x);
            ++x.count;
            x.sum += 3;
            std::memcpy(v.data(), &x, sizeof x);
          });
      if (r != serving::WriteResult::kOk) [[unlikely]]
        std::abort();  // every key exists: an update never needs room
    }
    ctl->updates.fetch_add(4096, std::memory_order_relaxed);
  }
}

// ---- baselines ----

const Dataset& DatasetFor(std::int64_t size) { return size == 0 ? g_env->small : g_env->large; }
const char* SizeName(std::int64_t size) { return size == 0 ? "small" : "large"; }

double MapLookupNs(const Dataset& d, double seconds) {
  std::size_t i = 0, n = 0;
  const std::int64_t start = MonotonicNs();
  const auto budget = static_cast<std::int64_t>(seconds * 1e9);
  std::int64_t now = start;
  while (now - start < budget) {
    for (int j = 0; j < 4096; ++j) {
      auto it = d.map.find(d.probes[i]);
      benchmark::DoNotOptimize(it->second);
      if (++i == d.probes.size()) i = 0;
    }
    n += 4096;
    now = MonotonicNs();
  }
  return static_cast<double>(now - start) / static_cast<double>(n);
}

double MapScanNs(const Dataset& d, double seconds) {
  std::size_t n = 0;
  const std::int64_t start = MonotonicNs();
  std::int64_t now = start;
  do {
    std::int64_t total = 0;
    for (const auto& [k, v] : d.map) total += v.count;
    benchmark::DoNotOptimize(total);
    n += d.map.size();
    now = MonotonicNs();
  } while (now - start < static_cast<std::int64_t>(seconds * 1e9));
  return static_cast<double>(now - start) / static_cast<double>(n);
}

double MapUpdateNs(const Dataset& d, double seconds) {
  std::unordered_map<std::uint64_t, Value> map = d.map;
  std::size_t i = 0, n = 0;
  const std::int64_t start = MonotonicNs();
  std::int64_t now = start;
  while (now - start < static_cast<std::int64_t>(seconds * 1e9)) {
    for (int j = 0; j < 4096; ++j) {
      Value& v = map[d.probes[i]];
      ++v.count;
      v.sum += 3;
      if (++i == d.probes.size()) i = 0;
    }
    benchmark::ClobberMemory();
    n += 4096;
    now = MonotonicNs();
  }
  return static_cast<double>(now - start) / static_cast<double>(n);
}

double Median3(double (*f)(const Dataset&, double), const Dataset& d) {
  double t[3] = {f(d, 0.2), f(d, 0.2), f(d, 0.2)};
  std::sort(t, t + 3);
  return t[1];
}

// ---- benchmarks ----

// The reader's lookups of the view (arg 0: 0 small, 1 large; arg 1: 0 writer idle, 1 busy).
void BM_ViewLookup(benchmark::State& state) {
  PinThisThread(0);
  const std::int64_t size = state.range(0);
  const bool busy = state.range(1) != 0;
  const Dataset& d = DatasetFor(size);
  auto reader = ViewReader::Open(g_env->ns_path, SizeName(size));
  if (!reader.ok()) return state.SkipWithError(reader.status().message().c_str());
  g_env->ctl->mode.store(busy ? (size == 0 ? kBusySmall : kBusyLarge) : kIdle);
  const std::uint64_t updates_before = g_env->ctl->updates.load();
  Value v;
  std::uint64_t offset;
  std::size_t i = 0;
  const std::int64_t start = MonotonicNs();
  for (auto _ : state) {
    const ReadStatus s =
        (*reader)->Get(d.probes[i], std::as_writable_bytes(std::span(&v, 1)), &offset);
    if (s != ReadStatus::kOk) [[unlikely]] {
      state.SkipWithError(serving::ReadStatusName(s));
      break;
    }
    benchmark::DoNotOptimize(v);
    if (++i == d.probes.size()) i = 0;
  }
  const double elapsed = static_cast<double>(MonotonicNs() - start);
  g_env->ctl->mode.store(kIdle);
  const double per_op = elapsed / static_cast<double>(state.iterations());
  const double base = g_env->baseline_ns.at(std::string("lookup/") + SizeName(size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ns_per_lookup"] = per_op;
  state.counters["vs_map"] = per_op / base;
  if (busy) {
    state.counters["writer_updates_per_s"] =
        static_cast<double>(g_env->ctl->updates.load() - updates_before) / (elapsed * 1e-9);
  }
}

void BM_MapLookup(benchmark::State& state) {
  PinThisThread(0);
  const Dataset& d = DatasetFor(state.range(0));
  std::size_t i = 0;
  const std::int64_t start = MonotonicNs();
  for (auto _ : state) {
    auto it = d.map.find(d.probes[i]);
    benchmark::DoNotOptimize(it->second);
    if (++i == d.probes.size()) i = 0;
  }
  const double per_op =
      static_cast<double>(MonotonicNs() - start) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ns_per_lookup"] = per_op;
  state.counters["vs_map"] =
      per_op / g_env->baseline_ns.at(std::string("lookup/") + SizeName(state.range(0)));
}

void BM_ViewScan(benchmark::State& state) {
  PinThisThread(0);
  const std::int64_t size = state.range(0);
  auto reader = ViewReader::Open(g_env->ns_path, SizeName(size));
  if (!reader.ok()) return state.SkipWithError(reader.status().message().c_str());
  std::uint64_t rows = 0;
  const std::int64_t start = MonotonicNs();
  for (auto _ : state) {
    std::int64_t total = 0;
    const ReadStatus s = (*reader)->Scan([&](const serving::RowView& row) {
      std::int64_t c;
      std::memcpy(&c, row.value.data(), 8);
      total += c;
      ++rows;
      return true;
    });
    if (s != ReadStatus::kOk) return state.SkipWithError(serving::ReadStatusName(s));
    benchmark::DoNotOptimize(total);
  }
  const double per_row = static_cast<double>(MonotonicNs() - start) / static_cast<double>(rows);
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.counters["ns_per_row"] = per_row;
  state.counters["vs_map"] = per_row / g_env->baseline_ns.at(std::string("scan/") + SizeName(size));
}

// Single-writer keyed count in this process: Update(key, ++count) on a view of the same keys.
void BM_ViewUpdate(benchmark::State& state) {
  PinThisThread(0);
  const std::int64_t size = state.range(0);
  const Dataset& d = DatasetFor(size);
  auto ns = serving::Namespace::Open(g_env->ns_path);
  if (!ns.ok()) return state.SkipWithError(ns.status().message().c_str());
  serving::KeyedTableOptions o;
  o.schema =
      std::move(serving::Schema::Make({serving::Field::I64("count"), serving::Field::I64("sum")}))
          .value();
  o.expected_keys = size == 0 ? kSmallKeys : std::uint64_t{1} << 23;
  const std::string name = std::string("update_") + SizeName(size);
  auto w = serving::KeyedTableWriter::Create(**ns, name, 1, o);
  if (!w.ok()) return state.SkipWithError(w.status().message().c_str());
  for (std::size_t k = 0; k < d.keys.size(); ++k) {
    const Value v{0, 0};
    if ((*w)->Upsert(d.keys[k], std::as_bytes(std::span(&v, 1)), k) != serving::WriteResult::kOk)
      return state.SkipWithError("a view refused a key");
  }
  std::size_t i = 0;
  std::uint64_t offset = 0;
  const std::int64_t start = MonotonicNs();
  std::uint64_t refused = 0;
  for (auto _ : state) {
    refused += (*w)->Update(d.probes[i], ++offset, [](std::span<std::byte> v, bool) {
      Value x;
      std::memcpy(&x, v.data(), sizeof x);
      ++x.count;
      x.sum += 3;
      std::memcpy(v.data(), &x, sizeof x);
    }) != serving::WriteResult::kOk;
    if (++i == d.probes.size()) i = 0;
  }
  const double per_op =
      static_cast<double>(MonotonicNs() - start) / static_cast<double>(state.iterations());
  if (refused > 0) state.SkipWithError("a view refused updates");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["ns_per_update"] = per_op;
  state.counters["vs_map"] =
      per_op / g_env->baseline_ns.at(std::string("update/") + SizeName(size));
  w->reset();
  (void)(*ns)->Drop(name);
}

void SizesAndWriter(benchmark::internal::Benchmark* b) {
  b->ArgNames({"large", "writer_busy"});
  for (int size : {0, 1})
    for (int busy : {0, 1}) b->Args({size, busy});
  b->UseRealTime();
}

BENCHMARK(BM_MapLookup)->ArgName("large")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_ViewLookup)->Apply(SizesAndWriter);
BENCHMARK(BM_ViewScan)->ArgName("large")->Arg(0)->Arg(1)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_ViewUpdate)->ArgName("large")->Arg(0)->Arg(1)->UseRealTime();

void RemoveNamespace(const std::string& path) {
  for (const char* f : {"small@1.0.view", "large@1.0.view", "registry"})
    ::unlink((path + "/" + f).c_str());
  ::rmdir(path.c_str());
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (OnlineCpus() < 2) {
    std::fprintf(stderr, "serving_bench: needs CPUs 0 and 1\n");
    return 1;
  }
  PinThisThread(0);
  Environment env;
  g_env = &env;
  env.ns_path = UniqueShmPath("views");
  std::fprintf(stderr, "serving_bench: generating %zu + %zu keys...\n", kSmallKeys, kLargeKeys);
  env.small = MakeDataset(kSmallKeys, 1);
  env.large = MakeDataset(kLargeKeys, 2);
  env.ctl = static_cast<Control*>(
      ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (env.ctl) Control();
  std::fflush(nullptr);
  env.writer = ::fork();
  if (env.writer == 0) _exit(RunWriter(env.ns_path, env.ctl));
  std::fprintf(stderr, "serving_bench: the writer process is filling the views...\n");
  while (env.ctl->ready.load(std::memory_order_acquire) == 0) {
    if (::waitpid(env.writer, nullptr, WNOHANG) == env.writer) {
      std::fprintf(stderr, "serving_bench: the writer process failed\n");
      RemoveNamespace(env.ns_path);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (std::int64_t size : {0, 1}) {
    const Dataset& d = DatasetFor(size);
    const std::string s = SizeName(size);
    env.baseline_ns["lookup/" + s] = Median3(MapLookupNs, d);
    env.baseline_ns["scan/" + s] = Median3(MapScanNs, d);
    env.baseline_ns["update/" + s] = Median3(MapUpdateNs, d);
  }
  for (const auto& [name, ns] : env.baseline_ns) {
    char value[64];
    std::snprintf(value, sizeof value, "%.2f ns/op", ns);
    benchmark::AddCustomContext("unordered_map/" + name, value);
  }
  benchmark::AddCustomContext("views",
                              "small: 1024 keys; large: 10M keys in 2^24 slots; 16-byte values");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  env.ctl->mode.store(kExit);
  ::waitpid(env.writer, nullptr, 0);
  RemoveNamespace(env.ns_path);
  return 0;
}
