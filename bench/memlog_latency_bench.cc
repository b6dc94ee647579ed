// Cross-process append -> visible latency of a memlog, against a bare cross-core ping-pong
// between the same two processes on the same two CPUs, measured in the same run.
//
// The parent (producer, CPU 0) creates a Policy::kOverwrite log in /dev/shm and forks a reader
// process (CPU 1) that opens the log by path and spins on LogReader::Poll. Each sample record
// carries a CLOCK_MONOTONIC stamp taken right before Producer::Append; the reader reads the
// clock right after Poll returns the record, and (now - stamp) is one sample of the one-way
// latency. The reader then acknowledges the record through a shared line, and the producer waits
// for the acknowledgement (and a minimum gap) before the next record, so queueing never adds to
// a sample. Before any sample the producer laps the ring once with large records that the reader
// also reads: every page is mapped in both processes and head advances on each append (the
// steady state of an overwrite log).
//
// Baseline: the producer stores a sequence number into one 128-byte line of a MAP_SHARED page,
// the reader spins until it sees it and stores it back into another line; one-way = round trip
// / 2. Baseline and log samples alternate in rounds, so that both see the same machine state.
//
// Usage: memlog_latency_bench [--samples=N] [--rounds=R] [--gap_ns=G] [--capacity_mib=M]
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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
#include <vector>

#include "bench/bench_util.h"
#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::bench {
namespace {

using memlog::AppendResult;
using memlog::Log;
using memlog::LogReader;
using memlog::PollStatus;
using memlog::Producer;

constexpr int kProducerCpu = 0;
constexpr int kReaderCpu = 1;
constexpr std::uint32_t kWarmupPayload = 4096;
constexpr std::uint32_t kSamplePayload = 16;  // the Stamp below
constexpr std::uint16_t kWarmupType = 1;
constexpr std::uint16_t kSampleType = 2;
constexpr std::int64_t kStallLimitNs = 10'000'000'000;  // a peer silent this long has failed

struct Options {
  std::size_t samples = 200'000;
  std::size_t rounds = 4;
  std::int64_t gap_ns = 1000;
  std::uint64_t capacity_mib = 64;
};

// The first bytes of every record's payload.
struct Stamp {
  std::uint64_t seq;
  std::int64_t monotonic_ns;
};
static_assert(sizeof(Stamp) == kSamplePayload);

// A 128-byte line holding one word written by one process and read by the other.
struct alignas(memlog::kCacheLinePairSize) SharedWord {
  std::uint64_t value;
  std::uint8_t pad[memlog::kCacheLinePairSize - 8];
};
static_assert(sizeof(SharedWord) == memlog::kCacheLinePairSize);

// Lives in a MAP_SHARED anonymous page shared by the two processes.
struct Control {
  SharedWord ping;   // producer -> reader (baseline)
  SharedWord pong;   // reader -> producer (baseline)
  SharedWord ack;    // reader -> producer: seq of the last record read
  SharedWord state;  // reader -> producer: kReaderStarting / kReaderReady / kReaderFailed
};
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
constexpr std::uint64_t kReaderStarting = 0;
constexpr std::uint64_t kReaderReady = 1;
constexpr std::uint64_t kReaderFailed = 2;

// acquire: observe what the other process wrote before it stored the word.
std::uint64_t LoadAcquire(SharedWord& w) {
  return std::atomic_ref<std::uint64_t>(w.value).load(std::memory_order_acquire);
}
// release: publish everything written before the word.
void StoreRelease(SharedWord& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w.value).store(v, std::memory_order_release);
}

// Both processes derive the same schedule from the options.
std::size_t WarmupRecords(const Options& o) {
  const std::uint64_t capacity = o.capacity_mib << 20;
  return static_cast<std::size_t>(
      (capacity + capacity / 4) / memlog::RecordFrameSize(kWarmupPayload) + 1);
}
std::size_t PerRound(const Options& o) { return o.samples / o.rounds; }

// ---- reader process ----

// Reads `count` records; if `out` is set, stores one latency sample per record there.
bool ReadRecords(LogReader* reader, Control* ctl, std::size_t count, std::int64_t* out) {
  memlog::RecordBatch batch;
  std::size_t got = 0;
  std::int64_t last_progress = MonotonicNs();
  std::uint32_t idle = 0;
  while (got < count) {
    const PollStatus s = reader->Poll(&batch);
    if (s == PollStatus::kOk) {
      const std::int64_t now = MonotonicNs();
      for (const memlog::Record& rec : batch) {
        if (got == count || rec.payload.size() < sizeof(Stamp)) return false;
        Stamp stamp;
        std::memcpy(&stamp, rec.payload.data(), sizeof stamp);
        if (out) out[got] = now - stamp.monotonic_ns;
        ++got;
        StoreRelease(ctl->ack, stamp.seq);
      }
      last_progress = now;
    } else if (s == PollStatus::kEmpty) {
      if ((++idle & 0xFFFF) == 0 && MonotonicNs() - last_progress > kStallLimitNs) return false;
    } else {
      std::fprintf(stderr, "reader: poll: %s\n", memlog::PollStatusName(s));
      return false;
    }
  }
  return true;
}

// Echoes ping sequence numbers [first, first + count) back through pong.
bool EchoPings(Control* ctl, std::uint64_t first, std::size_t count) {
  for (std::uint64_t seq = first; seq < first + count; ++seq) {
    std::uint32_t idle = 0;
    const std::int64_t since = MonotonicNs();
    while (LoadAcquire(ctl->ping) != seq) {
      if ((++idle & 0xFFFF) == 0 && MonotonicNs() - since > kStallLimitNs) return false;
    }
    StoreRelease(ctl->pong, seq);
  }
  return true;
}

int RunReader(const Options& o, const std::string& path, Control* ctl, std::int64_t* samples) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto fail = [&](const char* what, const std::string& detail) {
    std::fprintf(stderr, "reader: %s: %s\n", what, detail.c_str());
    StoreRelease(ctl->state, kReaderFailed);
    return 1;
  };
  if (!PinThisThread(kReaderCpu)) return fail("pin", "cannot pin to CPU 1");
  auto log = Log::Open(path);
  if (!log.ok()) return fail("open", log.status().message());
  auto reader = (*log)->NewReader(memlog::StartAt::Latest());
  if (!reader.ok()) return fail("reader", reader.status().message());
  StoreRelease(ctl->state, kReaderReady);

  if (!ReadRecords(reader->get(), ctl, WarmupRecords(o), nullptr)) return fail("warm-up", "failed");
  const std::size_t n = PerRound(o);
  for (std::size_t r = 0; r < o.rounds; ++r) {
    if (!EchoPings(ctl, 1 + r * n, n)) return fail("ping-pong", "producer went silent");
    if (!ReadRecords(reader->get(), ctl, n, samples + r * n)) return fail("read", "failed");
  }
  return 0;
}

// ---- producer process ----

class ProducerSide {
 public:
  ProducerSide(const Options& o, Producer* producer, Control* ctl, pid_t reader)
      : o_(o), producer_(producer), ctl_(ctl), reader_(reader) {}

  // Appends `count` records of `payload_bytes` and waits for each to be read. If `append_ns` is
  // set, stores the duration of each Append call there.
  bool SendRecords(std::size_t count, std::uint32_t payload_bytes, std::uint16_t type,
                   std::int64_t* append_ns) {
    std::vector<std::byte> payload(payload_bytes);
    for (std::size_t i = 0; i < count; ++i) {
      Pace();
      const Stamp stamp{++record_seq_, MonotonicNs()};
      std::memcpy(payload.data(), &stamp, sizeof stamp);
      const AppendResult r = producer_->Append(payload, type, stamp.monotonic_ns);
      const std::int64_t appended = MonotonicNs();
      if (r != AppendResult::kOk) {
        std::fprintf(stderr, "producer: append: %s\n", memlog::AppendResultName(r));
        return false;
      }
      if (append_ns) append_ns[i] = appended - stamp.monotonic_ns;
      last_send_ = stamp.monotonic_ns;
      if (!WaitFor(ctl_->ack, record_seq_)) return false;
    }
    return true;
  }

  // Round trips of the bare ping-pong; stores each round trip time in `rtt_ns`.
  bool PingPong(std::size_t count, std::int64_t* rtt_ns) {
    for (std::size_t i = 0; i < count; ++i) {
      Pace();
      const std::uint64_t seq = ++ping_seq_;
      const std::int64_t start = MonotonicNs();
      StoreRelease(ctl_->ping, seq);
      if (!WaitFor(ctl_->pong, seq)) return false;
      const std::int64_t end = MonotonicNs();
      rtt_ns[i] = end - start;
      last_send_ = start;
    }
    return true;
  }

 private:
  void Pace() {
    while (MonotonicNs() - last_send_ < o_.gap_ns) {
    }
  }
  // Spins until `word` reaches `target`; fails if the reader failed or went silent. Reads no
  // clock in the first 64 Ki spins, so that it adds nothing to a timed round trip.
  bool WaitFor(SharedWord& word, std::uint64_t target) {
    std::int64_t since = 0;
    std::uint32_t idle = 0;
    while (LoadAcquire(word) < target) {
      if ((++idle & 0xFFFF) != 0) continue;
      if (since == 0) since = MonotonicNs();
      if (LoadAcquire(ctl_->state) == kReaderFailed ||
          ::waitpid(reader_, nullptr, WNOHANG) == reader_ ||
          MonotonicNs() - since > kStallLimitNs) {
        std::fprintf(stderr, "producer: the reader stopped acknowledging\n");
        return false;
      }
    }
    return true;
  }

  const Options& o_;
  Producer* producer_;
  Control* ctl_;
  pid_t reader_;
  std::uint64_t record_seq_ = 0;
  std::uint64_t ping_seq_ = 0;
  std::int64_t last_send_ = 0;
};

std::int64_t ClockReadCost() {
  std::vector<std::int64_t> d(100'000);
  for (std::int64_t& x : d) {
    const std::int64_t a = MonotonicNs();
    x = MonotonicNs() - a;
  }
  std::sort(d.begin(), d.end());
  return Percentile(d, 50);
}

struct Summary {
  std::int64_t p50, p90, p99, p999, max;
};
Summary Summarize(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  return {Percentile(v, 50), Percentile(v, 90), Percentile(v, 99), Percentile(v, 99.9), v.back()};
}
void PrintSummary(const char* what, const Summary& s) {
  std::printf("%-40s p50 %6" PRId64 "  p90 %6" PRId64 "  p99 %6" PRId64 "  p99.9 %7" PRId64
              "  max %8" PRId64 "  ns\n",
              what, s.p50, s.p90, s.p99, s.p999, s.max);
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view flag, auto* out) {
      if (arg.substr(0, flag.size()) != flag) return false;
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(
          std::strtoll(std::string(arg.substr(flag.size())).c_str(), nullptr, 10));
      return true;
    };
    if (!value("--samples=", &o->samples) && !value("--rounds=", &o->rounds) &&
        !value("--gap_ns=", &o->gap_ns) && !value("--capacity_mib=", &o->capacity_mib)) {
      std::fprintf(stderr,
                   "unknown argument %s\nusage: %s [--samples=N] [--rounds=R] "
                   "[--gap_ns=G] [--capacity_mib=M]\n",
                   argv[i], argv[0]);
      return false;
    }
  }
  if (o->rounds == 0 || o->samples < o->rounds || o->capacity_mib == 0 ||
      (o->capacity_mib & (o->capacity_mib - 1)) != 0 || o->capacity_mib > 1024) {
    std::fprintf(stderr, "need samples >= rounds >= 1 and capacity_mib a power of two <= 1024\n");
    return false;
  }
  return true;
}

template <class T>
T* MapShared(std::size_t count) {
  void* p =
      ::mmap(nullptr, sizeof(T) * count, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<T*>(p);
}

int Run(const Options& o) {
  if (OnlineCpus() < 2) {
    std::fprintf(stderr, "memlog_latency_bench: needs CPUs 0 and 1\n");
    return 1;
  }
  const std::size_t n = PerRound(o);
  const std::size_t total = n * o.rounds;
  auto* ctl = MapShared<Control>(1);
  auto* log_samples = MapShared<std::int64_t>(total);
  if (!ctl || !log_samples) {
    std::perror("mmap");
    return 1;
  }
  std::memset(ctl, 0, sizeof *ctl);

  memlog::CreateOptions create;
  create.capacity = o.capacity_mib << 20;
  create.policy = memlog::Policy::kOverwrite;
  const std::string path = UniqueShmPath("latency") + ".log";
  auto log = Log::Create(path, create);
  if (!log.ok()) {
    std::fprintf(stderr, "memlog_latency_bench: %s\n", log.status().message().c_str());
    return 1;
  }

  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    ::unlink(path.c_str());
    return 1;
  }
  if (child == 0) _exit(RunReader(o, path, ctl, log_samples));

  int rc = 1;
  std::vector<std::int64_t> rtt(total), append_ns(total);
  [&] {
    if (!PinThisThread(kProducerCpu)) {
      std::fprintf(stderr, "producer: cannot pin to CPU 0\n");
      return;
    }
    while (LoadAcquire(ctl->state) == kReaderStarting) {
      if (::waitpid(child, nullptr, WNOHANG) == child) return;
    }
    if (LoadAcquire(ctl->state) != kReaderReady) return;
    auto producer = (*log)->NewProducer();
    if (!producer.ok()) {
      std::fprintf(stderr, "producer: %s\n", producer.status().message().c_str());
      return;
    }
    ProducerSide side(o, producer->get(), ctl, child);
    if (!side.SendRecords(WarmupRecords(o), kWarmupPayload, kWarmupType, nullptr)) return;
    for (std::size_t r = 0; r < o.rounds; ++r) {
      if (!side.PingPong(n, rtt.data() + r * n)) return;
      if (!side.SendRecords(n, kSamplePayload, kSampleType, append_ns.data() + r * n)) return;
    }
    rc = 0;
  }();
  if (rc != 0) ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) rc = 1;
  const bool lapped = (*log)->earliest_offset() > 0;
  log->reset();
  ::unlink(path.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "memlog_latency_bench: failed\n");
    return rc;
  }

  std::vector<std::int64_t> one_way(total);
  for (std::size_t i = 0; i < total; ++i) one_way[i] = rtt[i] / 2;
  const std::vector<std::int64_t> visible(log_samples, log_samples + total);
  const Summary base = Summarize(one_way);
  const Summary mem = Summarize(visible);
  const Summary app = Summarize(append_ns);
  const auto over_1us =
      std::count_if(visible.begin(), visible.end(), [](std::int64_t v) { return v > 1000; });

  std::printf("memlog append -> visible, cross-process (producer CPU %d, reader process CPU %d)\n",
              kProducerCpu, kReaderCpu);
  std::printf(
      "samples %zu (%zu rounds x %zu, baseline and log alternating), payload %u B, "
      "gap >= %" PRId64 " ns\n",
      total, o.rounds, n, kSamplePayload, o.gap_ns);
  std::printf("log: %" PRIu64 " MiB, overwrite, %s before the samples\n", o.capacity_mib,
              lapped ? "lapped once" : "NOT lapped");
  std::printf("clock_gettime(CLOCK_MONOTONIC) back to back: p50 %" PRId64 " ns\n", ClockReadCost());
  PrintSummary("baseline ping-pong one-way (RTT/2)", base);
  PrintSummary("memlog append -> visible", mem);
  PrintSummary("  of which Producer::Append call", app);
  const double ratio = static_cast<double>(mem.p50) / static_cast<double>(base.p50);
  std::printf("p50 ratio memlog / baseline one-way: %.2fx (target <= 3x): %s\n", ratio,
              ratio <= 3.0 ? "met" : "missed");
  std::printf("p99 %" PRId64 " ns (target <= 1000 ns): %s; samples over 1 us: %td of %zu\n",
              mem.p99, mem.p99 <= 1000 ? "met" : "missed", over_1us, total);
  return 0;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  kappa::bench::Options options;
  if (!kappa::bench::ParseOptions(argc, argv, &options)) return 2;
  return kappa::bench::Run(options);
}
