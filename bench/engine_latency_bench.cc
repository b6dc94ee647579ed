// End-to-end latency at a fixed input rate: a producer appends bids at `--rate` per second, each
// stamped by the log with the wall clock at its append; a keyed count per auction is kept
// current in a view. A record's latency runs from its stamp to the moment the result it
// changed is written; each batch counts all its records with its oldest record's latency (an
// upper bound for each). Two consumers take turns on the same producer pacing, in the same run:
//
//   loop    the baseline: one thread spinning on LogReader::Poll, counting into an
//           std::unordered_map (what a hand-written consumer would do)
//   engine  a job in Mode::kLowLatency (spinning source, small batches), 1 worker thread,
//           1 partition, writing a keyed view
//
// The producer sleeps between bursts (it appends the records that came due, then sleeps
// --tick_us, with a timer slack of 1 us): on 2 cores a spinning producer would take the core a
// consumer needs.
//
// Usage: engine_latency_bench [--rate=N] [--seconds=S] [--tick_us=T] [--rounds=R]
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/bench_util.h"
#include "engine/detail/latency_histogram.h"
#include "engine/engine.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::bench {

struct Bid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  std::int64_t date_time;
};

}  // namespace kappa::bench

template <>
struct kappa::engine::RecordType<kappa::bench::Bid> {
  static constexpr std::uint16_t kLogType = 3;
  static constexpr auto kFields = std::make_tuple(
      Member("auction", &kappa::bench::Bid::auction), Member("bidder", &kappa::bench::Bid::bidder),
      Member("price", &kappa::bench::Bid::price),
      Member("date_time", &kappa::bench::Bid::date_time));
};

namespace kappa::bench {
namespace {

struct Options {
  std::uint64_t rate = 1'000'000;
  double seconds = 3;
  std::int64_t tick_us = 20;
  int rounds = 2;
};

std::int64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Appends bids at o.rate per second for o.seconds (after `warmup` seconds more), in bursts
// of the bids that came due, sleeping tick_us between bursts. Returns the bids appended.
std::uint64_t Produce(memlog::Log& log, const Options& o, double warmup,
                      std::atomic<bool>* measuring) {
  ::prctl(PR_SET_TIMERSLACK, 1000UL);  // wake within 1 us of the tick, not the default 50 us
  auto producer = std::move(log.NewProducer()).value();
  std::vector<Bid> bids(4096);
  std::vector<memlog::RecordView> views(4096);
  std::uint64_t sent = 0, seed = 1;
  const std::int64_t start = MonotonicNs();
  const auto warm_ns = static_cast<std::int64_t>(warmup * 1e9);
  const std::int64_t end = start + warm_ns + static_cast<std::int64_t>(o.seconds * 1e9);
  for (std::int64_t now = start; now < end; now = MonotonicNs()) {
    if (now - start >= warm_ns) measuring->store(true, std::memory_order_relaxed);
    const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start) * 1e-9 *
                                                static_cast<double>(o.rate));
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(due - sent, bids.size()));
    for (std::size_t i = 0; i < n; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      bids[i] = Bid{static_cast<std::int64_t>((seed >> 33) % 1'000'000), 0, 1, 0};
      views[i] =
          memlog::RecordView{std::as_bytes(std::span(&bids[i], 1)), 3, memlog::kTimestampNow};
    }
    if (n > 0) {
      if (producer->AppendBatch(std::span(views.data(), n)) != memlog::AppendResult::kOk) {
        std::fprintf(stderr, "engine_latency_bench: append failed\n");
        std::exit(1);
      }
      sent += n;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(o.tick_us));
  }
  return sent;
}

struct Summary {
  std::uint64_t count = 0;
  std::int64_t p50 = 0, p99 = 0, p999 = 0, max = 0;
};

Summary Summarize(const engine::detail::LatencyHistogram& h) {
  return Summary{h.count(), static_cast<std::int64_t>(h.Percentile(0.5)),
                 static_cast<std::int64_t>(h.Percentile(0.99)),
                 static_cast<std::int64_t>(h.Percentile(0.999)),
                 static_cast<std::int64_t>(h.max())};
}

// The baseline: one spinning consumer, counting into an std::unordered_map.
Summary RunLoop(memlog::Log& log, const Options& o) {
  std::atomic<bool> stop{false}, measuring{false};
  engine::detail::LatencyHistogram h;
  std::thread consumer([&] {
    auto reader = std::move(log.NewReader(memlog::StartAt::Latest())).value();
    std::unordered_map<std::int64_t, std::int64_t> counts;
    counts.reserve(1 << 20);
    memlog::RecordBatch batch;
    while (!stop.load(std::memory_order_relaxed)) {
      if (reader->Poll(&batch, 64) != memlog::PollStatus::kOk) continue;
      std::int64_t oldest = INT64_MAX;
      std::uint64_t n = 0;
      for (const memlog::Record& r : batch) {
        Bid b;
        std::memcpy(&b, r.payload.data(), sizeof b);
        ++counts[b.auction];
        oldest = std::min(oldest, r.timestamp_ns);
        ++n;
      }
      if (n > 0 && measuring.load(std::memory_order_relaxed)) h.Record(RealtimeNs() - oldest, n);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the reader starts at the end
  Produce(log, o, 0.5, &measuring);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop.store(true);
  consumer.join();
  return Summarize(h);
}

// The engine, low-latency mode. A job's histogram counts from its start: a first job warms up
// (page faults, the view's first pages), a second one is measured.
Summary RunEngine(memlog::Log& log, const std::string& ns, const Options& o) {
  engine::EngineOptions eo;
  eo.threads = 1;
  eo.partitions = 1;
  eo.mode = engine::Mode::kLowLatency;
  eo.view_namespace = ns;
  auto engine = std::move(engine::Engine::Create(eo)).value();
  Summary s;
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms up (page faults, view growth)
    const std::string name = "latency" + std::to_string(pass);
    auto job = engine::From<Bid>(name, log.path(),
                                 engine::SourceOptions{.start = memlog::StartAt::Latest()})
                   .KeyBy([](const Bid& b) { return b.auction; })
                   .Aggregate(operators::Count<Bid>{})
                   .ToView(name, engine::ViewSinkOptions{.expected_keys = 1 << 21});
    auto running = engine->Start(job);
    if (!running.ok()) {
      std::fprintf(stderr, "engine_latency_bench: %s\n", running.status().message().c_str());
      std::exit(1);
    }
    std::atomic<bool> measuring{false};
    Options warm = o;
    if (pass == 0) warm.seconds = 0.5;
    Produce(log, warm, 0, &measuring);
    if (!(*running)->WaitCaughtUp(std::chrono::seconds(30))) {
      std::fprintf(stderr, "engine_latency_bench: the job did not catch up\n");
      std::exit(1);
    }
    const engine::JobStats st = (*running)->Stats();
    s = Summary{st.records_processed, st.latency_p50_ns, st.latency_p99_ns, st.latency_p999_ns,
                st.latency_max_ns};
    (*running)->Stop();
  }
  return s;
}

void Print(const char* what, const Summary& s) {
  std::printf("%-8s records %9" PRIu64 "  p50 %8" PRId64 " ns  p99 %8" PRId64 " ns  p99.9 %9" PRId64
              " ns  max %10" PRId64 " ns\n",
              what, s.count, s.p50, s.p99, s.p999, s.max);
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view flag) { return std::string(a.substr(flag.size())); };
    if (a.starts_with("--rate=")) {
      o.rate = std::strtoull(value("--rate=").c_str(), nullptr, 10);
    } else if (a.starts_with("--seconds=")) {
      o.seconds = std::strtod(value("--seconds=").c_str(), nullptr);
    } else if (a.starts_with("--tick_us=")) {
      o.tick_us = std::strtoll(value("--tick_us=").c_str(), nullptr, 10);
    } else if (a.starts_with("--rounds=")) {
      o.rounds = std::atoi(value("--rounds=").c_str());
    } else {
      std::fprintf(stderr, "usage: %s [--rate=N] [--seconds=S] [--tick_us=T] [--rounds=R]\n",
                   argv[0]);
      return 2;
    }
  }
  if (o.rate == 0 || o.seconds <= 0 || o.tick_us < 0 || o.rounds < 1) {
    std::fprintf(stderr, "need rate > 0, seconds > 0, tick_us >= 0, rounds >= 1\n");
    return 2;
  }
  const std::string path = UniqueShmPath("engine-latency") + ".log";
  const std::string ns = UniqueShmPath("engine-latency-views");
  kappa::memlog::CreateOptions co;
  co.capacity = std::uint64_t{1} << 29;
  co.policy = kappa::memlog::Policy::kOverwrite;
  auto log = kappa::memlog::Log::Create(path, co);
  if (!log.ok()) {
    std::fprintf(stderr, "engine_latency_bench: %s\n", log.status().message().c_str());
    return 1;
  }
  std::printf("append -> view latency at %" PRIu64
              " bids/s for %.1f s per run, producer bursts every %" PRId64 " us; %d CPUs\n",
              o.rate, o.seconds, o.tick_us, OnlineCpus());
  for (int round = 0; round < o.rounds; ++round) {
    const Summary loop = RunLoop(**log, o);
    const Summary eng = RunEngine(**log, ns + "-" + std::to_string(round), o);
    std::printf("round %d\n", round + 1);
    Print("loop", loop);
    Print("engine", eng);
    std::printf(
        "ratio engine / loop: p50 %.2fx  p99 %.2fx; engine p99 %s the 50 us target\n",
        static_cast<double>(eng.p50) / static_cast<double>(std::max<std::int64_t>(1, loop.p50)),
        static_cast<double>(eng.p99) / static_cast<double>(std::max<std::int64_t>(1, loop.p99)),
        eng.p99 <= 50'000 ? "meets" : "misses");
    std::system(("rm -rf " + ns + "-" + std::to_string(round)).c_str());
  }
  log->reset();
  ::unlink(path.c_str());
  return 0;
}
