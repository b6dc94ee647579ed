// kill -9 the archiver at random moments, again and again, while producers append and a reader
// reads from the earliest offset across archive and ring: after each restart nothing is lost or
// duplicated, and at the end every record is read once, in order, with a good checksum, from
// sealed segments, the segment being written and the ring. Once with uncompressed segments, once
// with LZ4 ones (killed while compressing, too).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "memlog/archiver.h"
#include "memlog/log.h"
#include "tests/memlog/archive_util.h"
#include "tests/memlog/test_util.h"
#include "tests/temp_dir.h"

#ifndef KAPPA_ARCHIVER_WORKER
#error "KAPPA_ARCHIVER_WORKER must name the archiver worker executable"
#endif

namespace kappa::memlog {
namespace {

using kappa::testing::TempDir;
using testing::MakeTagged;
using testing::ParseTagged;
using testing::Tagged;
using testing::TempPath;

constexpr int kKills = 60;
// The kills go on until the producer has appended at least this many records too (a slow machine
// or a sanitizer appends fewer in the same time), up to kMaxKills.
constexpr std::uint64_t kMinRecords = 20'000;
constexpr int kMaxKills = 20 * kKills;

using testing::kArchivedOnly;

pid_t SpawnArchiver(const std::string& log) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG,
            SIGKILL);  // never outlive a test that failed (it holds ctest's pipes)
    ::execl(KAPPA_ARCHIVER_WORKER, KAPPA_ARCHIVER_WORKER, log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ArchiveCrashTest : public ::testing::TestWithParam<Codec> {};

TEST_P(ArchiveCrashTest, ShouldLoseAndDuplicateNothingWhenTheArchiverIsKilledAgainAndAgain) {
  TempPath path;
  TempDir dir;
  CreateOptions o;
  o.capacity = 64 << 10;
  o.archive_directory = dir.str();
  o.archive.segment_bytes = 24 << 10;
  o.archive.flush_interval = std::chrono::milliseconds(2);
  o.archive.codec = GetParam();
  auto created = Log::Create(path.str(), o);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::unique_ptr<Log> log = std::move(*created);

  std::atomic<bool> done{false};          // the producer is to stop
  std::atomic<bool> produced_all{false};  // it has
  std::atomic<std::uint64_t> appended{0};
  std::thread producer([&] {
    auto p = log->NewProducer();
    ASSERT_TRUE(p.ok());
    std::mt19937 rng(7);
    for (std::uint64_t seq = 0; !done.load(std::memory_order_acquire);) {
      auto payload = MakeTagged(0, seq, 12 + rng() % 300);
      const AppendResult r = (*p)->AppendBlocking(payload, 1, static_cast<std::int64_t>(seq),
                                                  std::chrono::milliseconds(20));
      if (r == AppendResult::kTimedOut) continue;  // no archiver at the moment: the ring is full
      ASSERT_EQ(r, AppendResult::kOk);
      appended.store(++seq, std::memory_order_release);
    }
    produced_all.store(true, std::memory_order_release);
  });
  std::atomic<std::uint64_t> read{0};
  std::atomic<bool> reader_failed{false};
  std::uint64_t reread = 0;  // batches overwritten in the ring while read, read again
  std::thread reader([&] {
    auto r = log->NewReader(StartAt::Earliest());
    ASSERT_TRUE(r.ok());
    RecordBatch batch;
    std::uint64_t next = 0;
    std::mt19937 rng(9);
    while (!produced_all.load(std::memory_order_acquire) ||
           next < appended.load(std::memory_order_acquire)) {
      if (kArchivedOnly && (*r)->position() >= log->ring().LoadArchived()) {
        // Under ThreadSanitizer (see kArchivedOnly): the records are read once the archive holds
        // them.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const PollStatus st = (*r)->Wait(&batch, std::chrono::milliseconds(5), 1 + rng() % 200);
      if (st == PollStatus::kEmpty) continue;
      if (st != PollStatus::kOk) {
        ADD_FAILURE() << PollStatusName(st) << " at " << (*r)->position() << ": " << (*r)->error();
        reader_failed = true;
        return;
      }
      EXPECT_TRUE(!kArchivedOnly || batch.archived());
      // As a zero-copy reader must: look at the batch, then ask whether the ring's copy stayed
      // intact; if not, read it again (from the archive) and trust nothing of this read.
      std::uint64_t seen = next;
      bool ok = true;
      std::uint64_t bad_offset = 0, bad_seq = 0;
      for (const Record& rec : batch) {
        Tagged t{0, UINT64_MAX};
        if (ok && (!ParseTagged(rec.payload, &t) || t.seq != seen || !rec.ChecksumOk())) {
          ok = false;
          bad_offset = rec.offset;
          bad_seq = t.seq;
        }
        ++seen;
      }
      if (!(*r)->StillValid(batch)) {
        (*r)->ReadAgain(batch);
        ++reread;
        continue;
      }
      if (!ok) {
        ADD_FAILURE() << "offset " << bad_offset << ": expected record " << next << "+, got "
                      << bad_seq;
        reader_failed = true;
        return;
      }
      next = seen;
      read.store(next, std::memory_order_release);
      if (rng() % 64 == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));  // falls behind
    }
  });

  std::mt19937 rng(3);
  for (int kill = 0;
       (kill < kKills || appended.load() < kMinRecords) && kill < kMaxKills && !reader_failed;
       ++kill) {
    const std::uint64_t archived_before = log->ring().LoadArchived();
    const pid_t pid = SpawnArchiver(path.str());
    if (kill % 2 == 1) {
      // Every other archiver is let run until it has archived something (a starting process may
      // take longer than the delay below on a loaded machine, and the log would not move), ...
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (log->ring().LoadArchived() == archived_before &&
             std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // ... and each is killed at a random moment: while it starts, recovers, copies, seals or
    // compresses.
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 30000));
    ::kill(pid, SIGKILL);
    const int status = Reap(pid);
    ASSERT_EQ(status, 128 + SIGKILL)
        << "the archiver exited by itself (status " << status << ") on restart " << kill;
    if (kill % 10 == 9) {
      // As 'kappa log verify' does: every record from the earliest offset, in order, checksums
      // good, through whatever the archive and the ring hold at this moment.
      auto check = log->NewReader(StartAt::Earliest());
      ASSERT_TRUE(check.ok());
      // (Under ThreadSanitizer as far as the archive holds: no ring byte is read while it may be
      // lapped.)
      const std::uint64_t end =
          kArchivedOnly ? log->Info().archive.durable_offset : log->latest_offset();
      RecordBatch batch;
      std::uint64_t next = 0;
      while ((*check)->position() < end) {
        const PollStatus st = (*check)->Poll(&batch);
        if (st == PollStatus::kEmpty) continue;
        ASSERT_EQ(st, PollStatus::kOk) << PollStatusName(st) << ": " << (*check)->error();
        std::uint64_t seen = next;
        bool ok = true;
        for (const Record& rec : batch) {
          Tagged t{0, UINT64_MAX};
          ok = ok && ParseTagged(rec.payload, &t) && t.seq == seen && rec.ChecksumOk();
          ++seen;
        }
        if (!(*check)->StillValid(batch)) {
          (*check)->ReadAgain(batch);
          continue;
        }
        ASSERT_TRUE(ok) << "after kill " << kill << ", near record " << next;
        next = seen;
      }
    }
  }
  // A last archiver, in this process, takes over and archives the rest.
  auto archiver = Archiver::Open(log.get());
  ASSERT_TRUE(archiver.ok()) << archiver.status().message();
  (*archiver)->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  done.store(true, std::memory_order_release);
  producer.join();
  reader.join();
  ASSERT_TRUE((*archiver)->Stop().ok());
  ASSERT_TRUE((*archiver)->Seal().ok());
  ASSERT_TRUE((*archiver)->CompressAll().ok());
  for (const SegmentInfo& s : (*archiver)->manifest().segments)
    ASSERT_EQ(s.codec, GetParam()) << s.base;
  const std::uint64_t total = appended.load();
  EXPECT_EQ(read.load(), total);
  EXPECT_GE(total, kMinRecords);
  EXPECT_GE((*archiver)->manifest().segments.size(), 20u);
  // Everything, once and in order, checksums included, from offset 0.
  auto again = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(again.ok());
  RecordBatch batch;
  std::uint64_t next = 0, archived = 0;
  PollStatus st;
  while ((st = (*again)->Poll(&batch)) == PollStatus::kOk) {
    if (batch.archived()) archived += batch.size();
    for (const Record& rec : batch) {
      Tagged t;
      ASSERT_TRUE(ParseTagged(rec.payload, &t) && rec.ChecksumOk()) << rec.offset;
      ASSERT_EQ(t.seq, next) << rec.offset;
      ++next;
    }
  }
  EXPECT_EQ(st, PollStatus::kEmpty) << (*again)->error();
  EXPECT_EQ(next, total);
  EXPECT_GT(archived, total / 2);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ArchiveCrashTest, ::testing::Values(Codec::kNone, Codec::kLz4),
                         testing::CodecTestName);

}  // namespace
}  // namespace kappa::memlog
