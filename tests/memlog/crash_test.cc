// kill -9 producer processes at random points, hundreds of times. After each kill (and after
// recoveries with every handle closed) every record whose append returned is present exactly
// once and in order per producer, no corrupt record is delivered, and the reader never waits on
// a dead producer's reservation much past the unblock timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "memlog/log.h"
#include "tests/memlog/test_util.h"

namespace kappa::memlog {
namespace {

using testing::MakeTagged;
using testing::ParseTagged;
using testing::Tagged;
using testing::TempPath;

constexpr int kRounds = 110;  // two producers killed per round: 220 kills
constexpr int kProducersPerRound = 2;
constexpr std::uint32_t kUnblockMs = 20;

// Shared with the children: the last sequence number whose append returned kOk, per producer.
struct Acks {
  std::atomic<std::int64_t> acked[kRounds * kProducersPerRound];
};

[[noreturn]] void RunProducer(const std::string& path, std::uint32_t id, Acks* acks) {
  auto log = Log::Open(path);
  if (!log.ok()) ::_exit(10);
  auto producer = (*log)->NewProducer();
  if (!producer.ok()) ::_exit(11);
  std::mt19937 rng(id);
  std::vector<RecordView> views;
  std::vector<std::vector<std::byte>> payloads;
  for (std::uint64_t seq = 0;;) {
    AppendResult r;
    const unsigned mode = rng() % 8;
    if (mode == 0) {  // a batch of up to 8 records
      payloads.clear();
      views.clear();
      const unsigned n = 1 + rng() % 8;
      for (unsigned k = 0; k < n; ++k)
        payloads.push_back(MakeTagged(id, seq + k, 12 + rng() % 100));
      for (auto& p : payloads) views.push_back({p, 1, 0});
      r = (*producer)->AppendBatch(views);
      if (r == AppendResult::kOk) {
        seq += n;
        acks->acked[id].store(static_cast<std::int64_t>(seq) - 1, std::memory_order_release);
        continue;
      }
    } else if (mode == 1) {  // a claim filled in place
      auto p = MakeTagged(id, seq, 40);
      ClaimedRecord claim;
      r = (*producer)->Claim(40, &claim);
      if (r == AppendResult::kOk) {
        std::memcpy(claim.data, p.data(), 40);
        r = (*producer)->Commit(&claim, 2);
      }
      if (r == AppendResult::kOk) {
        acks->acked[id].store(static_cast<std::int64_t>(seq++), std::memory_order_release);
        continue;
      }
    } else {
      auto p = MakeTagged(id, seq, 12 + rng() % 200);
      r = (*producer)->Append(p, 0);
      if (r == AppendResult::kOk) {
        acks->acked[id].store(static_cast<std::int64_t>(seq++), std::memory_order_release);
        continue;
      }
    }
    if (r != AppendResult::kFull && r != AppendResult::kAbandoned) ::_exit(12);
    sched_yield();  // full (or given up after a stall): try the same sequence number again
  }
}

TEST(CrashTest, ShouldKeepEveryAcknowledgedRecordAcrossKillNine) {
  TempPath p;
  CreateOptions o;
  o.capacity = 1 << 20;
  o.unblock_timeout_ms = kUnblockMs;
  {
    auto log = Log::Create(p.str(), o);
    ASSERT_TRUE(log.ok()) << log.status().message();
  }

  void* shared =
      ::mmap(nullptr, sizeof(Acks), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* acks = new (shared) Acks();
  for (auto& a : acks->acked) a.store(-1);

  std::vector<std::int64_t> next(kRounds * kProducersPerRound, 0);
  std::mt19937 rng(20261125);
  std::uint64_t records = 0, bad = 0, duplicates = 0, kills = 0;
  std::int64_t longest_wait_ms = 0;

  std::unique_ptr<Log> log;
  std::unique_ptr<LogReader> reader;
  auto open = [&] {
    auto l = Log::Open(p.str());
    ASSERT_TRUE(l.ok()) << l.status().message();
    log = std::move(l).value();
    auto r = log->OpenCursor("crash-test");
    ASSERT_TRUE(r.ok()) << r.status().message();
    reader = std::move(r).value();
  };
  // Reads up to the tail as it is now; returns false if it could not get there.
  auto drain = [&](bool children_running) {
    RecordBatch batch;
    const auto start = std::chrono::steady_clock::now();
    auto waiting_since = start;
    for (;;) {
      const PollStatus s = reader->Poll(&batch);
      EXPECT_NE(s, PollStatus::kCorrupt) << "at " << reader->position();
      EXPECT_NE(s, PollStatus::kLapped);
      if (s == PollStatus::kOk) {
        for (const Record& r : batch) {
          Tagged t;
          if (!r.ChecksumOk() || !ParseTagged(r.payload, &t) || t.producer >= next.size()) {
            ++bad;
            continue;
          }
          if (static_cast<std::int64_t>(t.seq) < next[t.producer]) {
            ++duplicates;
          } else if (static_cast<std::int64_t>(t.seq) != next[t.producer]) {
            ++bad;  // a gap: a record was lost or reordered
          } else {
            ++next[t.producer];
            ++records;
          }
        }
        reader->CommitCursor();
        waiting_since = std::chrono::steady_clock::now();
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (!children_running && reader->position() >= log->latest_offset()) return true;
      if (children_running && now - start > std::chrono::milliseconds(1 + rng() % 4)) return true;
      longest_wait_ms = std::max<std::int64_t>(
          longest_wait_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(now - waiting_since).count());
      if (now - waiting_since > std::chrono::seconds(20)) return false;
      std::this_thread::yield();
    }
  };

  open();
  for (int round = 0; round < kRounds; ++round) {
    pid_t children[kProducersPerRound];
    for (int k = 0; k < kProducersPerRound; ++k) {
      const std::uint32_t id = round * kProducersPerRound + k;
      children[k] = ::fork();
      ASSERT_GE(children[k], 0);
      if (children[k] == 0) RunProducer(p.str(), id, acks);
    }
    // Let them run (and read concurrently), then kill each at its own random moment.
    ASSERT_TRUE(drain(true));
    for (int k = 0; k < kProducersPerRound; ++k) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
      ASSERT_EQ(::kill(children[k], SIGKILL), 0);
      int status = 0;
      ASSERT_EQ(::waitpid(children[k], &status, 0), children[k]);
      ASSERT_TRUE(WIFSIGNALED(status)) << "producer exited by itself with " << WEXITSTATUS(status);
      ++kills;
    }
    if (round % 10 == 9) {
      // Every handle closes: the next open recovers the log (exclusive open).
      reader.reset();
      log.reset();
      open();
    }
    ASSERT_TRUE(drain(false)) << "reader stalled at " << reader->position() << " in round "
                              << round;
    for (int k = 0; k < kProducersPerRound; ++k) {
      const std::uint32_t id = round * kProducersPerRound + k;
      const std::int64_t acked = acks->acked[id].load();
      // Every acknowledged record arrived; at most the one in flight at the kill beyond that.
      EXPECT_GE(next[id], acked + 1) << "producer " << id;
      EXPECT_LE(next[id], acked + 1 + 8) << "producer " << id;
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GE(kills, 200u);
  EXPECT_GT(records, 0u);
  // Never stuck behind a dead producer for long: the timeout plus scheduling slack.
  EXPECT_LT(longest_wait_ms, 5000);
  const LogInfo info = log->Info();
  RecordProperty("records", static_cast<int>(records));
  RecordProperty("unblocked_stalls", static_cast<int>(info.unblocked_stalls));
  RecordProperty("recoveries", static_cast<int>(info.recoveries));
  RecordProperty("longest_wait_ms", static_cast<int>(longest_wait_ms));
  std::printf("records=%llu kills=%llu unblocked=%llu recoveries=%llu longest_wait_ms=%lld\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(info.unblocked_stalls),
              static_cast<unsigned long long>(info.recoveries),
              static_cast<long long>(longest_wait_ms));
  ::munmap(shared, sizeof(Acks));
}

}  // namespace
}  // namespace kappa::memlog
