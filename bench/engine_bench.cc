// Engine throughput over a log of 10 M bids, against a hand-written single-threaded loop doing
// the same work over the same log in the same run:
//   filter_map     keep even prices, convert them (x 0.908, like NEXMark Q1), append the results
//                  to a derived log
//   keyed_count    count bids per auction, 1 M auctions; the engine keeps a sharded view
//                  current after every batch, the loop an std::unordered_map
//   hopping_count  count bids per auction in 10 s windows sliding every 2 s (like NEXMark Q5),
//                  10,000 auctions; results written when the watermark passes a window
//   window_join    new sellers (like NEXMark Q8): people who open an auction in the same 10 s
//                  tumbling window as they register, over a second log of 1 M persons and 3 M
//                  auctions (NEXMark's 1 : 3); every matching (person, auction) pair is
//                  produced and the person's row upserted in a windowed view
//
// Each benchmark is one full run (the log read from its start until everything is applied),
// timed by hand: items_per_second is bids per second; vs_loop is the run's time over the loop's
// (the Loop benchmarks, run first, store theirs). Engine runs use 1 or 2 worker threads; the
// source thread that reads the log comes on top.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <unordered_map>

#include "bench/bench_util.h"
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

struct Converted {
  std::int64_t auction;
  std::int64_t price_cents;
};

struct Person {
  std::int64_t id;
  char name[16];
  std::int64_t date_time;
};

struct Auction {
  std::int64_t id;
  std::int64_t seller;
  std::int64_t reserve;
  std::int64_t date_time;
};

// A Q8 result: the person, the window it was seen in, the last matching auction.
struct NewSeller {
  std::int64_t person;
  char name[16];
  std::int64_t window_start;
  std::int64_t auction;
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
template <>
struct kappa::engine::RecordType<kappa::bench::Converted> {
  static constexpr std::uint16_t kLogType = 4;
  static constexpr auto kFields =
      std::make_tuple(Member("auction", &kappa::bench::Converted::auction),
                      Member("price_cents", &kappa::bench::Converted::price_cents));
};

template <>
struct kappa::engine::RecordType<kappa::bench::Person> {
  static constexpr std::uint16_t kLogType = 5;
  static constexpr auto kFields = std::make_tuple(
      Member("id", &kappa::bench::Person::id), Member("name", &kappa::bench::Person::name),
      Member("date_time", &kappa::bench::Person::date_time));
};
template <>
struct kappa::engine::RecordType<kappa::bench::Auction> {
  static constexpr std::uint16_t kLogType = 6;
  static constexpr auto kFields = std::make_tuple(
      Member("id", &kappa::bench::Auction::id), Member("seller", &kappa::bench::Auction::seller),
      Member("reserve", &kappa::bench::Auction::reserve),
      Member("date_time", &kappa::bench::Auction::date_time));
};
template <>
struct kappa::engine::RecordType<kappa::bench::NewSeller> {
  static constexpr std::uint16_t kLogType = 7;
  static constexpr auto kFields =
      std::make_tuple(Member("person", &kappa::bench::NewSeller::person),
                      Member("name", &kappa::bench::NewSeller::name),
                      Member("window_start", &kappa::bench::NewSeller::window_start),
                      Member("auction", &kappa::bench::NewSeller::auction));
};

namespace kappa::bench {
namespace {

constexpr std::size_t kBids = 10'000'000;
constexpr std::int64_t kWindow = 10'000'000'000, kSlide = 2'000'000'000;
constexpr std::int64_t kTimeStep = 1'000;  // ns of event time per bid: 10 s of bids in all
// The join's log: persons and auctions, 1 : 3, 10 us of event time apart (40 s, four windows).
constexpr std::size_t kPeopleEvents = 4'000'000;
constexpr std::int64_t kPeopleTimeStep = 10'000;
constexpr std::int64_t kJoinWindow = 10'000'000'000;

struct Environment {
  std::string log_path;
  std::string people_path;
  std::string derived_path;
  std::map<std::string, double> loop_seconds;
};
Environment* g_env = nullptr;

bool IsKept(const Bid& b) { return (b.price & 1) == 0; }
Converted Convert(const Bid& b) { return Converted{b.auction, b.price * 908 / 10}; }

// Maps the log for a loop, as the engine does: every page at open, before the timer starts.
std::unique_ptr<memlog::Log> OpenLog(const std::string& path) {
  return std::move(
             memlog::Log::Open(path, memlog::OpenOptions{.read_only = true, .populate = true}))
      .value();
}
std::unique_ptr<memlog::Log> OpenLog() { return OpenLog(g_env->log_path); }

NewSeller MakeNewSeller(const Person& p, const Auction& a) {
  NewSeller s{p.id, {}, operators::FloorTo(std::max(p.date_time, a.date_time), kJoinWindow), a.id};
  std::memcpy(s.name, p.name, sizeof s.name);
  return s;
}

// Reads every bid of `log`, calling fn(bid, offset).
template <class Fn>
void ForEachBid(memlog::Log& log, Fn&& fn) {
  auto reader = std::move(log.NewReader(memlog::StartAt::Earliest())).value();
  memlog::RecordBatch batch;
  while (reader->Poll(&batch, 4096) == memlog::PollStatus::kOk) {
    for (const memlog::Record& r : batch) {
      if (r.type != engine::RecordType<Bid>::kLogType || r.payload.size() != sizeof(Bid)) continue;
      Bid b;
      std::memcpy(&b, r.payload.data(), sizeof b);
      fn(b, r.offset);
    }
  }
}

std::unique_ptr<memlog::Log> FreshDerivedLog() {
  ::unlink(g_env->derived_path.c_str());
  memlog::CreateOptions o;
  o.capacity = std::uint64_t{1} << 29;
  o.policy = memlog::Policy::kOverwrite;
  return std::move(memlog::Log::Create(g_env->derived_path, o)).value();
}

void Finish(benchmark::State& state, const std::string& name, double seconds, bool loop) {
  state.SetIterationTime(seconds);
  // Items over all iterations so far: the library divides them by the total time.
  state.SetItemsProcessed(state.items_processed() +
                          static_cast<std::int64_t>(name == "window_join" ? kPeopleEvents : kBids));
  if (loop) g_env->loop_seconds[name] = seconds;
  auto it = g_env->loop_seconds.find(name);
  if (it != g_env->loop_seconds.end()) state.counters["vs_loop"] = seconds / it->second;
}

// ---- hand-written loops ----

void BM_Loop_FilterMap(benchmark::State& state) {
  PinThisThread(0);
  for (auto _ : state) {
    auto derived = FreshDerivedLog();
    auto producer = std::move(derived->NewProducer()).value();
    auto log = OpenLog();
    std::vector<Converted> out;
    std::vector<memlog::RecordView> views;
    const std::int64_t start = MonotonicNs();
    // The same batching as the engine: convert a batch, then append it in one call.
    auto flush = [&] {
      views.clear();
      for (const Converted& c : out) views.push_back({std::as_bytes(std::span(&c, 1)), 4, 0});
      for (std::size_t at = 0; at < views.size(); at += 1024)
        if (producer->AppendBatch(
                std::span(views.data() + at, std::min<std::size_t>(1024, views.size() - at))) !=
            memlog::AppendResult::kOk)
          std::abort();  // the derived log is sized for every result
      out.clear();
    };
    ForEachBid(*log, [&](const Bid& b, std::uint64_t) {
      if (IsKept(b)) out.push_back(Convert(b));
      if (out.size() == 4096) flush();
    });
    flush();
    Finish(state, "filter_map", static_cast<double>(MonotonicNs() - start) * 1e-9, true);
  }
}

void BM_Loop_KeyedCount(benchmark::State& state) {
  PinThisThread(0);
  for (auto _ : state) {
    std::unordered_map<std::int64_t, std::int64_t> counts;
    auto log = OpenLog();
    const std::int64_t start = MonotonicNs();
    ForEachBid(*log, [&](const Bid& b, std::uint64_t) { ++counts[b.auction]; });
    benchmark::DoNotOptimize(counts.size());
    Finish(state, "keyed_count", static_cast<double>(MonotonicNs() - start) * 1e-9, true);
  }
}

void BM_Loop_HoppingCount(benchmark::State& state) {
  PinThisThread(0);
  for (auto _ : state) {
    // One std::unordered_map per open window, oldest first; a window fires (its counts are
    // read out, as a view sink would) once the time passes its end.
    std::deque<std::pair<std::int64_t, std::unordered_map<std::int64_t, std::int64_t>>> windows;
    std::int64_t fired = 0;
    auto fire = [&] {
      for (const auto& [auction, n] : windows.front().second) fired += n;
      windows.pop_front();
    };
    auto log = OpenLog();
    const std::int64_t start = MonotonicNs();
    ForEachBid(*log, [&](const Bid& b, std::uint64_t) {
      operators::HoppingWindows(kWindow, kSlide)
          .Assign(b.date_time, [&](const operators::Window& w) {
            while (windows.empty() || windows.back().first < w.start) {
              windows.emplace_back(windows.empty() ? w.start : windows.back().first + kSlide,
                                   std::unordered_map<std::int64_t, std::int64_t>());
              windows.back().second.reserve(1 << 14);
            }
            for (auto& [s, counts] : windows) {
              if (s == w.start) {
                ++counts[b.auction % 10000];
                break;
              }
            }
          });
      while (!windows.empty() && windows.front().first + kWindow <= b.date_time) fire();
    });
    while (!windows.empty()) fire();
    benchmark::DoNotOptimize(fired);
    Finish(state, "hopping_count", static_cast<double>(MonotonicNs() - start) * 1e-9, true);
  }
}

void BM_Loop_WindowJoin(benchmark::State& state) {
  PinThisThread(0);
  for (auto _ : state) {
    // The open window's persons and auctions by person id; when an event of a later window
    // comes, every (person, auction) pair of a key is produced and the person's row upserted.
    struct Sides {
      std::vector<Person> persons;
      std::vector<Auction> auctions;
    };
    std::unordered_map<std::int64_t, Sides> open;
    std::unordered_map<std::int64_t, NewSeller> view;
    view.reserve(1 << 20);
    std::int64_t window = std::numeric_limits<std::int64_t>::min();
    std::uint64_t pairs = 0;
    auto fire = [&] {
      for (const auto& [id, sides] : open) {
        for (const Person& p : sides.persons) {
          for (const Auction& a : sides.auctions) {
            view[p.id] = MakeNewSeller(p, a);
            ++pairs;
          }
        }
      }
      open.clear();
    };
    auto log = OpenLog(g_env->people_path);
    const std::int64_t start = MonotonicNs();
    auto reader = std::move(log->NewReader(memlog::StartAt::Earliest())).value();
    memlog::RecordBatch batch;
    while (reader->Poll(&batch, 4096) == memlog::PollStatus::kOk) {
      for (const memlog::Record& r : batch) {
        std::int64_t time;
        std::memcpy(&time, r.payload.data() + r.payload.size() - sizeof time, sizeof time);
        if (const std::int64_t w = operators::FloorTo(time, kJoinWindow); w != window) {
          fire();
          window = w;
        }
        if (r.type == engine::RecordType<Person>::kLogType) {
          Person p;
          std::memcpy(&p, r.payload.data(), sizeof p);
          open[p.id].persons.push_back(p);
        } else {
          Auction a;
          std::memcpy(&a, r.payload.data(), sizeof a);
          open[a.seller].auctions.push_back(a);
        }
      }
    }
    fire();
    benchmark::DoNotOptimize(view.size());
    state.counters["results"] = static_cast<double>(pairs);
    Finish(state, "window_join", static_cast<double>(MonotonicNs() - start) * 1e-9, true);
  }
}

// ---- the engine ----

template <class MakeJob>
void RunEngine(benchmark::State& state, const std::string& name, MakeJob make_job) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const std::string ns = UniqueShmPath("engine-views");
    engine::EngineOptions o;
    o.threads = threads;
    o.raise_tbb_parallelism = true;
    o.partitions = threads == 1 ? 1 : 2;
    o.view_namespace = ns;
    if (const char* b = std::getenv("KAPPA_BENCH_BATCH"))
      o.batch_records = std::strtoull(b, nullptr, 10);
    auto engine = engine::Engine::Create(o);
    if (!engine.ok()) return state.SkipWithError(engine.status().message().c_str());
    const engine::Job job = make_job();
    // Timed from the job's start on (its views already created: allocating their memory is
    // not processing), to everything applied and every window emitted.
    auto running = (*engine)->Start(job);
    const std::int64_t start = MonotonicNs();
    if (!running.ok()) return state.SkipWithError(running.status().message().c_str());
    if (!(*running)->WaitCaughtUp(std::chrono::minutes(10)))
      return state.SkipWithError(("did not catch up: " + (*running)->status().message()).c_str());
    const std::int64_t caught_up = MonotonicNs();
    (*running)->FlushWindows();
    const double seconds = static_cast<double>(MonotonicNs() - start) * 1e-9;
    state.counters["flush_s"] = static_cast<double>(MonotonicNs() - caught_up) * 1e-9;
    const engine::JobStats stats = (*running)->Stats();
    state.counters["results"] = static_cast<double>(stats.results);
    running->reset();
    engine->reset();
    std::system(("rm -rf " + ns).c_str());
    Finish(state, name, seconds, false);
  }
}

void BM_Engine_FilterMap(benchmark::State& state) {
  RunEngine(state, "filter_map", [] {
    FreshDerivedLog();
    return engine::From<Bid>("filter_map", g_env->log_path)
        .Filter([](const Bid& b) { return IsKept(b); })
        .Map([](const Bid& b) { return Convert(b); })
        .ToLog(g_env->derived_path);
  });
}

void BM_Engine_KeyedCount(benchmark::State& state) {
  RunEngine(state, "keyed_count", [] {
    return engine::From<Bid>("keyed_count", g_env->log_path)
        .KeyBy([](const Bid& b) { return b.auction; })
        .Aggregate(operators::Count<Bid>{})
        .ToView("bids_per_auction", engine::ViewSinkOptions{.expected_keys = 1 << 20});
  });
}

void BM_Engine_HoppingCount(benchmark::State& state) {
  RunEngine(state, "hopping_count", [] {
    return engine::From<Bid>("hopping_count", g_env->log_path)
        .EventTime([](const Bid& b) { return b.date_time; }, 0)
        .KeyBy([](const Bid& b) { return b.auction % 10000; })
        .Window(operators::HoppingWindows(kWindow, kSlide))
        .Aggregate(operators::Count<Bid>{})
        .ToView("hot_auctions",
                engine::ViewSinkOptions{.expected_keys = 1 << 14, .windows_per_key = 8});
  });
}

void BM_Engine_WindowJoin(benchmark::State& state) {
  RunEngine(state, "window_join", [] {
    return engine::From<Person>("window_join", g_env->people_path)
        .EventTime([](const Person& p) { return p.date_time; }, 0)
        .KeyBy([](const Person& p) { return p.id; })
        .WindowJoin(engine::From<Auction>("", g_env->people_path)
                        .EventTime([](const Auction& a) { return a.date_time; }, 0)
                        .KeyBy([](const Auction& a) { return a.seller; }),
                    operators::TumblingWindows(kJoinWindow))
        .Select([](const Person& p, const Auction& a) { return MakeNewSeller(p, a); })
        .ToView("new_sellers",
                engine::ViewSinkOptions{.expected_keys = 1 << 20, .windows_per_key = 2});
  });
}

BENCHMARK(BM_Loop_FilterMap)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Engine_FilterMap)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Loop_KeyedCount)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Engine_KeyedCount)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Loop_HoppingCount)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Engine_HoppingCount)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Loop_WindowJoin)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Engine_WindowJoin)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Writes kBids bids: auctions uniform over 1 M (the hopping benchmark folds them onto 10,000),
// event time advancing kTimeStep per bid.
bool FillLog(std::string* error) {
  memlog::CreateOptions o;
  o.capacity = std::uint64_t{1} << 30;
  auto log = memlog::Log::Create(g_env->log_path, o);
  if (!log.ok()) {
    *error = log.status().message();
    return false;
  }
  auto producer = std::move((*log)->NewProducer()).value();
  std::mt19937_64 rng(42);
  std::vector<Bid> bids(1024);
  std::vector<memlog::RecordView> views(1024);
  for (std::size_t i = 0; i < kBids; i += bids.size()) {
    for (std::size_t j = 0; j < bids.size(); ++j) {
      const auto t = static_cast<std::int64_t>(i + j) * kTimeStep;
      bids[j] = Bid{static_cast<std::int64_t>(rng() % 1'000'000),
                    static_cast<std::int64_t>(rng() % 100'000),
                    static_cast<std::int64_t>(rng() % 10'000), t};
      views[j] = memlog::RecordView{std::as_bytes(std::span(&bids[j], 1)), 3, t};
    }
    if (producer->AppendBatch(views) != memlog::AppendResult::kOk) {
      *error = "append failed";
      return false;
    }
  }
  return true;
}

// Writes kPeopleEvents persons and auctions, 1 : 3 in NEXMark's pattern (a person, then three
// auctions); each auction's seller is one of the 100 latest persons, so most sellers meet their
// auctions in the window they registered in, and those near a window's end do not.
bool FillPeopleLog(std::string* error) {
  memlog::CreateOptions o;
  o.capacity = std::uint64_t{1} << 28;
  auto log = memlog::Log::Create(g_env->people_path, o);
  if (!log.ok()) {
    *error = log.status().message();
    return false;
  }
  auto producer = std::move((*log)->NewProducer()).value();
  std::mt19937_64 rng(7);
  std::int64_t persons = 0, auctions = 0;
  std::vector<Person> ps;
  std::vector<Auction> as;
  std::vector<memlog::RecordView> views;
  for (std::size_t i = 0; i < kPeopleEvents; i += 1024) {
    ps.clear();
    as.clear();
    views.clear();
    ps.reserve(1024);
    as.reserve(1024);
    for (std::size_t j = i; j < std::min(kPeopleEvents, i + 1024); ++j) {
      const auto t = static_cast<std::int64_t>(j) * kPeopleTimeStep;
      if (j % 4 == 0) {
        Person& p = ps.emplace_back(Person{persons, {}, t});
        std::snprintf(p.name, sizeof p.name, "p%d", static_cast<int>(persons++ % 1'000'000'000));
        views.push_back({std::as_bytes(std::span(&p, 1)), engine::RecordType<Person>::kLogType, t});
      } else {
        const std::int64_t seller =
            std::max<std::int64_t>(0, persons - 1 - static_cast<std::int64_t>(rng() % 100));
        Auction& a = as.emplace_back(
            Auction{auctions++, seller, static_cast<std::int64_t>(rng() % 1000), t});
        views.push_back(
            {std::as_bytes(std::span(&a, 1)), engine::RecordType<Auction>::kLogType, t});
      }
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
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Environment env;
  g_env = &env;
  env.log_path = UniqueShmPath("engine-bids") + ".log";
  env.derived_path = UniqueShmPath("engine-derived") + ".log";
  env.people_path = UniqueShmPath("engine-people") + ".log";
  std::string error;
  std::fprintf(stderr, "engine_bench: writing %zu bids, %zu persons and auctions...\n", kBids,
               kPeopleEvents);
  if (!FillLog(&error) || !FillPeopleLog(&error)) {
    std::fprintf(stderr, "engine_bench: %s\n", error.c_str());
    ::unlink(env.log_path.c_str());
    ::unlink(env.people_path.c_str());
    return 1;
  }
  benchmark::AddCustomContext(
      "log", "10 M bids of 32 bytes (56-byte frames), 1 GiB Block log in /dev/shm");
  benchmark::AddCustomContext("join_log",
                              "1 M persons (32 bytes) and 3 M auctions (32 bytes), 256 MiB log");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ::unlink(env.log_path.c_str());
  ::unlink(env.people_path.c_str());
  ::unlink(env.derived_path.c_str());
  ::unlink((env.derived_path + ".types").c_str());  // the record catalog the job wrote
  return 0;
}
