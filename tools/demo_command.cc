#include "tools/demo_command.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "tools/cli/args.h"
#include "tools/cli/clock.h"
#include "tools/cli/metrics_recorder.h"
#include "tools/cli/stop_signals.h"
#include "tools/cli/text.h"
#include "tools/log_commands.h"

namespace kappa::tools {

namespace {

using memlog::AppendResult;
using memlog::Log;
using memlog::LogReader;
using memlog::PollStatus;
using memlog::Record;
using memlog::RecordBatch;

constexpr char kDemoUsage[] =
    "Usage: kappa demo [options]\n"
    "\n"
    "Creates a fresh log, forks producer processes that append to it concurrently, and reads\n"
    "every record back in this process through a named cursor (so that, under the block\n"
    "policy, producers wait for the reader rather than overwrite). Each record carries its\n"
    "producer id, sequence number and a CLOCK_MONOTONIC send time. Prints throughput overall\n"
    "and per producer, append-to-read latency percentiles, and how many records were lost,\n"
    "duplicated or out of order (all must be 0, else the exit status is 1), then the log's\n"
    "statistics.\n"
    "\n"
    "Options:\n"
    "  --producers N     producer processes, 1 to 64 (default 3)\n"
    "  --records N       records per producer (default 1000000)\n"
    "  --payload SIZE    payload bytes per record, at least 24 (default 64)\n"
    "  --capacity SIZE   ring bytes, a power of two (default 256M)\n"
    "  --rate N          records per second per producer, paced (default 0: as fast as\n"
    "                    possible, so latency includes queueing behind the reader)\n"
    "  --log LOG         create and keep this log (a path, or a bare name in $KAPPA_DATA_DIR);\n"
    "                    by default a uniquely named log in $KAPPA_DATA_DIR (default\n"
    "                    /dev/shm/kappa) is created and deleted at the end\n"
    "  --metrics-out FILE  write the reader's measurements every 200 ms (records/s, lag,\n"
    "                    latency percentiles of the interval) as JSON lines, for 'kappa report'\n"
    "\n"
    "SIZE is a whole number of bytes with an optional K, M or G suffix (powers of 1024).\n";

constexpr std::uint32_t kPayloadMagic = 0x4B444D4F;  // "KDMO"
constexpr std::uint16_t kDemoRecordType = 1;
constexpr char kCursorName[] = "kappa-demo-reader";
constexpr std::chrono::seconds kAppendTimeout{10};
constexpr std::chrono::seconds kStartTimeout{30};
constexpr std::int64_t kProgressIntervalNs = 250'000'000;
// How often --metrics-out samples the reader.
constexpr std::int64_t kSampleIntervalNs = 200'000'000;

std::int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// The start of every demo payload; the rest of the payload is filler.
struct DemoPayload {
  std::uint32_t magic;
  std::uint32_t producer;
  std::uint64_t seq;
  std::int64_t send_mono_ns;  // CLOCK_MONOTONIC just before the append
};
static_assert(sizeof(DemoPayload) == 24);
static_assert(offsetof(DemoPayload, seq) == 8);

// What a producer process reports about itself.
struct ProducerReport {
  std::uint64_t appended;
  std::int64_t elapsed_ns;  // from the start signal to its last append
};
static_assert(sizeof(ProducerReport) == 16);

// Shared by the demo's processes through an anonymous shared mapping made before fork().
// A plain fixed-width layout; `ready` and `go` are accessed only through SharedWord().
//   ready       producers attached to the log and waiting to start
//   go          set to 1 by the reader once every producer is ready
//   reports[i]  written by producer i before it exits; read only after it has been reaped
struct DemoShared {
  std::uint64_t ready;
  std::uint8_t pad0[memlog::kCacheLinePairSize - 8];
  std::uint64_t go;
  std::uint8_t pad1[memlog::kCacheLinePairSize - 8];
  ProducerReport reports[memlog::kMaxProducers];
};
static_assert(offsetof(DemoShared, go) == memlog::kCacheLinePairSize);
static_assert(offsetof(DemoShared, reports) == 2 * memlog::kCacheLinePairSize);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

std::atomic_ref<std::uint64_t> SharedWord(std::uint64_t& word) {
  return std::atomic_ref<std::uint64_t>(word);
}

struct Unmapper {
  void operator()(DemoShared* shared) const { ::munmap(shared, sizeof(DemoShared)); }
};

std::unique_ptr<DemoShared, Unmapper> MapShared() {
  void* map = ::mmap(nullptr, sizeof(DemoShared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    throw CommandError(std::string("demo: cannot map shared memory: ") + std::strerror(errno));
  return std::unique_ptr<DemoShared, Unmapper>(static_cast<DemoShared*>(map));  // zero-filled
}

// Log-linear histogram of latencies in nanoseconds: exact below 256 ns, then 128 buckets per
// power of two (relative error under 0.8 %). Recording never allocates.
class LatencyHistogram {
 public:
  LatencyHistogram() : counts_(kBuckets, 0) {}

  void Record(std::int64_t ns) {
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    ++counts_[BucketOf(v)];
    ++count_;
    max_ = std::max(max_, v);
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }

  // The latency at or below which `percent` % of the samples fall; 0 without samples.
  double Percentile(double percent) const {
    if (count_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(Midpoint(i), static_cast<double>(max_));
    }
    return static_cast<double>(max_);
  }

 private:
  static constexpr unsigned kSubBucketBits = 7;
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
  static constexpr std::size_t kBuckets = (64 - kSubBucketBits + 1) << kSubBucketBits;

  static std::size_t BucketOf(std::uint64_t v) {
    if (v < 2 * kSubBuckets) return v;
    const unsigned exponent = static_cast<unsigned>(std::bit_width(v)) - 1;
    const unsigned shift = exponent - kSubBucketBits;
    return ((exponent - kSubBucketBits + 1) << kSubBucketBits) + ((v >> shift) & (kSubBuckets - 1));
  }
  static double Midpoint(std::size_t bucket) {
    if (bucket < 2 * kSubBuckets) return static_cast<double>(bucket);
    const unsigned exponent = static_cast<unsigned>(bucket >> kSubBucketBits) + kSubBucketBits - 1;
    const unsigned shift = exponent - kSubBucketBits;
    const std::uint64_t low = (kSubBuckets + (bucket & (kSubBuckets - 1))) << shift;
    return static_cast<double>(low) + static_cast<double>((std::uint64_t{1} << shift) - 1) / 2;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

// Checks that every producer's records arrive exactly once and in sequence order.
class DeliveryCheck {
 public:
  DeliveryCheck(std::uint32_t producers, std::uint64_t records_each)
      : records_each_(records_each), streams_(producers) {
    for (Stream& s : streams_) s.seen.assign((records_each + 63) / 64, 0);
  }

  // REQUIRES: producer < producers and seq < records_each.
  void Observe(std::uint32_t producer, std::uint64_t seq) {
    Stream& s = streams_[producer];
    std::uint64_t& word = s.seen[seq / 64];
    const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
    if (word & bit) {
      ++duplicated_;
      return;
    }
    word |= bit;
    ++received_;
    if (seq < s.next) {
      ++out_of_order_;
    } else {
      s.next = seq + 1;
    }
  }

  std::uint64_t expected() const { return streams_.size() * records_each_; }
  std::uint64_t received() const { return received_; }  // distinct records
  std::uint64_t lost() const { return expected() - received_; }
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t out_of_order() const { return out_of_order_; }

 private:
  struct Stream {
    std::vector<std::uint64_t> seen;  // bitmap of sequence numbers
    std::uint64_t next = 0;           // one past the highest sequence number seen
  };
  std::uint64_t records_each_;
  std::vector<Stream> streams_;
  std::uint64_t received_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t out_of_order_ = 0;
};

// The forked producer processes. Any still running when this goes are terminated and reaped.
class ProducerProcesses {
 public:
  ProducerProcesses() = default;
  ~ProducerProcesses() { TerminateAll(); }
  ProducerProcesses(const ProducerProcesses&) = delete;
  ProducerProcesses& operator=(const ProducerProcesses&) = delete;

  void Add(pid_t pid) { children_.push_back(Child{pid, false, 0}); }

  // Reaps the children that have exited, without waiting; returns how many are still running.
  std::size_t ReapExited() {
    std::size_t running = 0;
    for (Child& c : children_) {
      if (!c.reaped && !Reap(&c, WNOHANG)) ++running;
    }
    return running;
  }
  // Waits for every child to exit.
  void ReapAll() {
    for (Child& c : children_) {
      while (!c.reaped && !Reap(&c, 0)) {
      }
    }
  }
  // Sends SIGTERM to the children still running, then reaps them all.
  void TerminateAll() {
    for (const Child& c : children_) {
      if (!c.reaped) ::kill(c.pid, SIGTERM);
    }
    ReapAll();
  }
  // REQUIRES: child `i` has been reaped.
  bool Succeeded(std::size_t i) const {
    return WIFEXITED(children_[i].status) && WEXITSTATUS(children_[i].status) == 0;
  }
  std::size_t failures() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < children_.size(); ++i) n += children_[i].reaped && !Succeeded(i);
    return n;
  }

 private:
  struct Child {
    pid_t pid;
    bool reaped;
    int status;
  };
  // True once `c` is reaped (or was never ours to reap).
  static bool Reap(Child* c, int options) {
    int status = 0;
    const pid_t r = ::waitpid(c->pid, &status, options);
    if (r == c->pid) {
      c->reaped = true;
      c->status = status;
    } else if (r < 0 && errno != EINTR) {
      c->reaped = true;
      c->status = -1;
    }
    return c->reaped;
  }
  std::vector<Child> children_;
};

// Removes a file when it goes (the demo's temporary log).
class RemoveFileOnExit {
 public:
  explicit RemoveFileOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveFileOnExit() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  RemoveFileOnExit(const RemoveFileOnExit&) = delete;
  RemoveFileOnExit& operator=(const RemoveFileOnExit&) = delete;

 private:
  std::string path_;
};

// The body of producer process `id`: opens the log itself, waits for the start signal, then
// appends `records` records. Returns the process's exit status.
int RunProducer(const std::string& path, std::uint32_t id, std::uint64_t records,
                std::uint64_t rate, std::size_t payload_size, pid_t reader_pid,
                DemoShared* shared) {
  auto fail = [id](const std::string& what) {
    std::fprintf(stderr, "kappa: demo producer %u: %s\n", id, what.c_str());
    return 1;
  };
  auto log = Log::Open(path);
  if (!log.ok()) return fail(log.status().message());
  auto producer = (*log)->NewProducer();
  if (!producer.ok()) return fail(producer.status().message());
  std::vector<std::byte> payload(payload_size);
  for (std::size_t i = sizeof(DemoPayload); i < payload_size; ++i)
    payload[i] = static_cast<std::byte>('a' + (i + id) % 26);

  // release: our producer slot is taken before the reader counts us as ready.
  SharedWord(shared->ready).fetch_add(1, std::memory_order_release);
  // acquire: pairs with the reader's release of `go`.
  while (SharedWord(shared->go).load(std::memory_order_acquire) == 0) {
    if (::getppid() != reader_pid) return fail("the reader process went away");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  const std::int64_t start = MonotonicNs();
  DemoPayload header{kPayloadMagic, id, 0, 0};
  const double interval_ns = rate ? 1e9 / static_cast<double>(rate) : 0.0;
  for (std::uint64_t seq = 0; seq < records; ++seq) {
    header.seq = seq;
    if (rate) {  // paced: spin until this record's send time
      const auto due = start + static_cast<std::int64_t>(interval_ns * static_cast<double>(seq));
      while (MonotonicNs() < due) {
      }
    }
    AppendResult r;
    int attempts = 0;
    do {  // an abandoned reservation published nothing: sending again cannot duplicate
      header.send_mono_ns = MonotonicNs();
      std::memcpy(payload.data(), &header, sizeof header);
      r = (*producer)->AppendBlocking(payload, kDemoRecordType, memlog::kTimestampNow,
                                      kAppendTimeout);
    } while (r == AppendResult::kAbandoned && ++attempts <= 3);
    if (r != AppendResult::kOk) {
      shared->reports[id] = ProducerReport{seq, MonotonicNs() - start};
      return fail("record " + std::to_string(seq) +
                  ": append failed: " + memlog::AppendResultName(r));
    }
  }
  shared->reports[id] = ProducerReport{records, MonotonicNs() - start};
  return 0;
}

// Forks producer process `id`; in the child, runs it and exits without returning.
pid_t ForkProducer(const std::string& path, std::uint32_t id, std::uint64_t records,
                   std::uint64_t rate, std::size_t payload_size, DemoShared* shared) {
  const pid_t reader_pid = ::getpid();
  std::fflush(nullptr);  // the child must not write out our buffered output again
  const pid_t pid = ::fork();
  if (pid < 0) throw CommandError(std::string("demo: fork failed: ") + std::strerror(errno));
  if (pid > 0) return pid;
  StopSignals::ResetInChild();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the reader
  int status = 1;
  if (::getppid() == reader_pid) {
    try {
      status = RunProducer(path, id, records, rate, payload_size, reader_pid, shared);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kappa: demo producer %u: %s\n", id, e.what());
    }
  }
  std::fflush(nullptr);
  ::_exit(status);  // skips the destructors of the reader's objects inherited through fork()
}

double Rate(double amount, std::int64_t ns) {
  return ns > 0 ? amount * 1e9 / static_cast<double>(ns) : 0.0;
}

}  // namespace

int RunDemoCommand(const Args& args) {
  args.ExpectPositionals({});
  const auto producers =
      static_cast<std::uint32_t>(args.GetUint("--producers", 3, 1, memlog::kMaxProducers));
  const std::uint64_t records = args.GetUint("--records", 1'000'000, 1, 1'000'000'000);
  const std::uint64_t rate = args.GetUint("--rate", 0, 0, 1'000'000'000);
  const std::uint64_t capacity = args.GetSize("--capacity", std::uint64_t{256} << 20);
  if (!std::has_single_bit(capacity) || capacity < memlog::kMinCapacity ||
      capacity > memlog::kMaxCapacity)
    throw args.Error("--capacity must be a power of two from 4K to 1024G, not " +
                     std::to_string(capacity));
  const std::uint64_t payload_limit =
      std::min<std::uint64_t>(capacity / 4, memlog::kMaxPayloadLimit);
  const std::uint64_t payload = args.GetSize("--payload", 64);
  if (payload < sizeof(DemoPayload) || payload > payload_limit)
    throw args.Error("--payload must be from " + std::to_string(sizeof(DemoPayload)) + " to " +
                     std::to_string(payload_limit) + " bytes (a quarter of the capacity), not " +
                     std::to_string(payload));
  const bool keep_log = args.Has("--log");
  const std::string path = keep_log ? Log::ResolvePath(*args.Get("--log"))
                                    : Log::ResolvePath("demo-" + std::to_string(::getpid()) + "-" +
                                                       std::to_string(MonotonicNs()));

  memlog::CreateOptions options;
  options.capacity = capacity;
  options.policy = memlog::Policy::kBlock;
  const std::unique_ptr<Log> log = [&] {
    auto created = Log::Create(path, options);
    if (!created.ok()) throw CommandError(created.status().message());
    return std::move(created).value();
  }();
  const RemoveFileOnExit remove_log(keep_log ? "" : path);
  // The cursor exists before any producer starts, so the block policy holds every record for it.
  const std::unique_ptr<LogReader> reader = [&] {
    auto opened = log->OpenCursor(kCursorName, memlog::StartAt::Earliest());
    if (!opened.ok()) throw CommandError(opened.status().message());
    return std::move(opened).value();
  }();
  const std::unique_ptr<DemoShared, Unmapper> shared = MapShared();
  std::unique_ptr<MetricsRecorder> metrics;
  if (args.Has("--metrics-out"))
    metrics = std::make_unique<MetricsRecorder>(*args.Get("--metrics-out"), "demo");

  std::printf(
      "%u producer process%s append to one memory-mapped ring log while a reader process tails "
      "it\nthrough a named cursor, checking that every record arrives exactly once and in order, "
      "and\ntiming each record from append to read.\n",
      producers, producers == 1 ? "" : "es");
  std::printf("  log        %s (capacity %s, block policy: producers wait for the reader)%s\n",
              path.c_str(), FormatBytes(capacity).c_str(), keep_log ? "" : ", deleted at the end");
  std::printf("  workload   %u x %" PRIu64 " records of %" PRIu64
              " bytes (producer id, sequence number, send time, filler)\n",
              producers, records, payload);
  if (rate)
    std::printf("  pacing     %" PRIu64 " records/s per producer\n", rate);
  else
    std::printf("  pacing     none: producers append as fast as they can\n");

  StopSignals::Install();
  ProducerProcesses children;
  for (std::uint32_t id = 0; id < producers; ++id)
    children.Add(ForkProducer(path, id, records, rate, payload, shared.get()));

  // acquire: pairs with each producer's release of `ready`.
  for (const std::int64_t deadline =
           MonotonicNs() + std::chrono::nanoseconds(kStartTimeout).count();
       SharedWord(shared->ready).load(std::memory_order_acquire) < producers;) {
    if (children.ReapExited() < producers)
      throw CommandError("demo: a producer process exited before it started");
    if (StopSignals::requested()) throw CommandError("demo: interrupted");
    if (MonotonicNs() > deadline)
      throw CommandError("demo: producer processes did not start within " +
                         std::to_string(kStartTimeout.count()) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const std::int64_t start = MonotonicNs();
  // release: the reader's cursor and start time come before any producer's first append.
  SharedWord(shared->go).store(1, std::memory_order_release);

  DeliveryCheck check(producers, records);
  LatencyHistogram latency;
  LatencyHistogram interval_latency;  // since the last --metrics-out sample
  std::uint64_t malformed = 0;
  std::uint64_t bad_checksums = 0;
  std::uint64_t lapped_bytes = 0;
  std::int64_t last_read = start;
  auto consume = [&](const RecordBatch& batch) {
    for (const Record& r : batch) {
      const std::int64_t now = MonotonicNs();
      if (!r.ChecksumOk()) {
        ++bad_checksums;
        continue;
      }
      DemoPayload h;
      if (r.payload.size() != payload) {
        ++malformed;
        continue;
      }
      std::memcpy(&h, r.payload.data(), sizeof h);
      if (h.magic != kPayloadMagic || h.producer >= producers || h.seq >= records) {
        ++malformed;
        continue;
      }
      latency.Record(now - h.send_mono_ns);
      if (metrics) interval_latency.Record(now - h.send_mono_ns);
      check.Observe(h.producer, h.seq);
    }
    // Consumed: under the block policy this frees the space for the producers.
    reader->CommitCursor();
    last_read = MonotonicNs();
  };

  const bool show_progress = ::isatty(STDERR_FILENO) == 1;
  std::int64_t next_progress = start + kProgressIntervalNs;
  std::int64_t next_sample = start + kSampleIntervalNs;
  std::int64_t last_sample = start;
  std::uint64_t sampled_records = 0;
  // One line of --metrics-out: what was read since the previous one.
  auto sample = [&](std::int64_t now) {
    const double seconds = static_cast<double>(now - last_sample) * 1e-9;
    metrics->Sample(
        "log", UnixNs(),
        {{"records_in", static_cast<double>(check.received())},
         {"records_per_s",
          seconds > 0 ? static_cast<double>(check.received() - sampled_records) / seconds : 0},
         {"lag_bytes", static_cast<double>(log->latest_offset() -
                                           std::min(reader->position(), log->latest_offset()))},
         {"latency_p50_ns", interval_latency.Percentile(50)},
         {"latency_p99_ns", interval_latency.Percentile(99)},
         {"latency_p999_ns", interval_latency.Percentile(99.9)},
         {"latency_max_ns", static_cast<double>(interval_latency.max())}});
    interval_latency = LatencyHistogram();
    sampled_records = check.received();
    last_sample = now;
  };
  RecordBatch batch;
  bool interrupted = false;
  while (check.received() < check.expected()) {
    if (StopSignals::requested()) {
      interrupted = true;
      break;
    }
    const PollStatus status = reader->Wait(&batch, std::chrono::milliseconds(50));
    if (status == PollStatus::kOk) {
      consume(batch);
    } else if (status == PollStatus::kLapped) {  // not expected: the cursor holds the records
      lapped_bytes += reader->last_lost_bytes();
    } else if (status == PollStatus::kCorrupt) {
      throw CommandError(log->path() + ": corrupt frame at offset " +
                         std::to_string(reader->position()));
    } else if (children.ReapExited() == 0 && reader->position() >= log->latest_offset()) {
      break;  // every producer has gone and everything they appended has been read
    }
    if (metrics && MonotonicNs() >= next_sample) {
      next_sample += kSampleIntervalNs;
      sample(MonotonicNs());
    }
    if (show_progress && MonotonicNs() >= next_progress) {
      next_progress += kProgressIntervalNs;
      std::fprintf(stderr, "\r  read %" PRIu64 " of %" PRIu64 " records", check.received(),
                   check.expected());
    }
  }
  if (show_progress) std::fprintf(stderr, "\r%60s\r", "");
  if (interrupted) {
    children.TerminateAll();
    throw CommandError("demo: interrupted");
  }
  children.ReapAll();
  // Anything appended after the last expected record (duplicates) is counted too.
  while (reader->Poll(&batch) == PollStatus::kOk) consume(batch);
  if (metrics) {
    sample(MonotonicNs());
    metrics->Close();
  }

  const std::int64_t elapsed = last_read - start;
  const std::uint64_t read = check.received();
  std::printf("\nresults\n");
  std::printf("  records read     %" PRIu64 " of %" PRIu64 "\n", read, check.expected());
  std::printf("  elapsed          %.3f s\n", static_cast<double>(elapsed) / 1e9);
  std::printf("  throughput       %.0f records/s, %.1f MB/s of payload\n",
              Rate(static_cast<double>(read), elapsed),
              Rate(static_cast<double>(read * payload), elapsed) / 1e6);
  for (std::uint32_t id = 0; id < producers; ++id) {
    const ProducerReport& report = shared->reports[id];
    if (!children.Succeeded(id)) {
      std::printf("  producer %-7u failed after %" PRIu64 " records\n", id, report.appended);
      continue;
    }
    std::printf("  producer %-7u %" PRIu64 " records in %.3f s: %.0f records/s, %.1f MB/s\n", id,
                report.appended, static_cast<double>(report.elapsed_ns) / 1e9,
                Rate(static_cast<double>(report.appended), report.elapsed_ns),
                Rate(static_cast<double>(report.appended * payload), report.elapsed_ns) / 1e6);
  }
  std::printf("latency from append to read, microseconds (%" PRIu64 " records)\n", latency.count());
  std::printf("  p50 %.2f   p90 %.2f   p99 %.2f   p99.9 %.2f   max %.2f\n",
              latency.Percentile(50) / 1e3, latency.Percentile(90) / 1e3,
              latency.Percentile(99) / 1e3, latency.Percentile(99.9) / 1e3,
              static_cast<double>(latency.max()) / 1e3);
  const std::size_t failed_producers = children.failures();
  const bool ok = check.lost() == 0 && check.duplicated() == 0 && check.out_of_order() == 0 &&
                  malformed == 0 && bad_checksums == 0 && lapped_bytes == 0 &&
                  failed_producers == 0;
  std::printf("checks\n");
  std::printf("  lost %" PRIu64 "   duplicated %" PRIu64 "   out of order %" PRIu64
              "   malformed %" PRIu64 "   bad checksums %" PRIu64 "   failed producers %zu\n",
              check.lost(), check.duplicated(), check.out_of_order(), malformed, bad_checksums,
              failed_producers);
  std::printf("  %s\n", ok ? "ok: every record arrived exactly once and in order"
                           : "FAILED: see the counts above");
  std::printf("log statistics\n");
  memlog::LogInfo info = log->Info();
  info.durability = CreatedDurability(*log);
  PrintLogInfoTable(info, "  ", stdout);
  std::fflush(stdout);
  if (!ok) {
    throw CommandError("demo: " + std::to_string(check.lost()) + " lost, " +
                       std::to_string(check.duplicated()) + " duplicated, " +
                       std::to_string(check.out_of_order()) + " out of order, " +
                       std::to_string(malformed + bad_checksums) + " damaged records, " +
                       std::to_string(failed_producers) + " failed producers");
  }
  return 0;
}

std::vector<Command> DemoCommands() {
  return {
      {"demo",
       "",
       "run producer processes and a reader on a fresh log and report throughput, latency and "
       "checks",
       kDemoUsage,
       {"--producers", "--records", "--payload", "--capacity", "--log", "--rate", "--metrics-out"},
       {},
       RunDemoCommand},
  };
}

}  // namespace kappa::tools
