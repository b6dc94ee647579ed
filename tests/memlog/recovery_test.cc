// Crash recovery: torn, zeroed, random and earlier-lap tails are excluded; the committed prefix
// survives exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "memlog/format.h"
#include "memlog/log.h"
#include "tests/memlog/test_util.h"

namespace kappa::memlog {
namespace {

using testing::Bytes;
using testing::Drain;
using testing::TempPath;

// Writes `n` records "r0".."r{n-1}" (each 40 bytes) and returns their offsets. The log is
// closed uncleanly (clean flag cleared) so the next open recovers.
std::vector<std::uint64_t> WriteRecords(const TempPath& p, int n, std::uint64_t capacity = 1 << 16,
                                        Policy policy = Policy::kBlock) {
  CreateOptions o;
  o.capacity = capacity;
  o.policy = policy;
  auto log = std::move(Log::Create(p.str(), o)).value();
  auto producer = std::move(log->NewProducer()).value();
  std::vector<std::uint64_t> offsets;
  for (int i = 0; i < n; ++i) {
    std::string s = "r" + std::to_string(i);
    s.resize(40, '.');
    std::uint64_t off;
    EXPECT_EQ(producer->Append(Bytes(s), 0, i, &off), AppendResult::kOk);
    offsets.push_back(off);
  }
  return offsets;
}

void MarkUnclean(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR);
  const std::uint64_t zero = 0;
  ASSERT_EQ(
      ::pwrite(fd, &zero, 8, offsetof(LogHeader, counters) + offsetof(CounterLine, clean_close)),
      8);
  ::close(fd);
}

void Patch(const std::string& path, std::uint64_t ring_offset, const void* bytes, std::size_t n,
           std::uint64_t capacity = 1 << 16) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_EQ(::pwrite(fd, bytes, n, kHeaderSize + (ring_offset & (capacity - 1))),
            static_cast<ssize_t>(n));
  ::close(fd);
}

std::vector<std::string> ReadAll(const std::string& path, std::uint64_t* truncated = nullptr) {
  auto log = Log::Open(path);
  EXPECT_TRUE(log.ok()) << log.status().message();
  if (truncated) *truncated = (*log)->recovered_truncated_bytes();
  auto reader = std::move((*log)->NewReader(StartAt::Earliest())).value();
  std::vector<std::string> out;
  for (auto& s : Drain(*reader)) out.push_back(s.substr(0, s.find('.')));
  return out;
}

std::vector<std::string> Names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("r" + std::to_string(i));
  return v;
}

TEST(RecoveryTest, ShouldKeepEverythingAfterACleanClose) {
  TempPath p;
  WriteRecords(p, 20);
  EXPECT_EQ(ReadAll(p.str()), Names(20));
}

TEST(RecoveryTest, ShouldKeepEverythingCommittedAfterAnUncleanClose) {
  TempPath p;
  WriteRecords(p, 20);
  MarkUnclean(p.str());
  std::uint64_t truncated = 99;
  EXPECT_EQ(ReadAll(p.str(), &truncated), Names(20));
  EXPECT_EQ(truncated, 0u);
  auto log = std::move(Log::Open(p.str())).value();
  EXPECT_EQ(log->Info().recoveries, 1u);
}

TEST(RecoveryTest, ShouldExcludeATornLastFrame) {
  TempPath p;
  auto offsets = WriteRecords(p, 20);
  MarkUnclean(p.str());
  const char garbage = 'G';  // payload byte changed after commit: checksum fails
  Patch(p.str(), offsets[19] + kRecordHeaderSize + 3, &garbage, 1);
  std::uint64_t truncated = 0;
  EXPECT_EQ(ReadAll(p.str(), &truncated), Names(19));
  EXPECT_EQ(truncated, RecordFrameSize(40));
  // Appending continues at the recovered tail.
  auto log = std::move(Log::Open(p.str())).value();
  EXPECT_EQ(log->latest_offset(), offsets[19]);
}

TEST(RecoveryTest, ShouldExcludeZeroedFrames) {
  TempPath p;
  auto offsets = WriteRecords(p, 20);
  MarkUnclean(p.str());
  std::string zeros(3 * RecordFrameSize(40), '\0');
  Patch(p.str(), offsets[17], zeros.data(), zeros.size());
  EXPECT_EQ(ReadAll(p.str()), Names(17));
}

TEST(RecoveryTest, ShouldExcludeRandomizedFrames) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 50; ++trial) {
    TempPath p;
    auto offsets = WriteRecords(p, 30);
    MarkUnclean(p.str());
    const int first_bad = 20 + static_cast<int>(rng() % 10);
    std::string noise(offsets.back() + RecordFrameSize(40) - offsets[first_bad], '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    Patch(p.str(), offsets[first_bad], noise.data(), noise.size());
    EXPECT_EQ(ReadAll(p.str()), Names(first_bad)) << "trial " << trial;
  }
}

TEST(RecoveryTest, ShouldRejectValidLookingFramesFromAnEarlierLap) {
  TempPath p;
  const std::uint64_t cap = 4096;
  // Two laps of a 4 KiB overwrite ring; then copy a whole frame image of lap 0 (same ring
  // position) over the last frame of lap 1: the bytes are a perfectly valid frame, of the wrong
  // lap.
  std::vector<std::uint64_t> offsets;
  std::vector<std::string> images;
  {
    CreateOptions o;
    o.capacity = cap;
    o.policy = Policy::kOverwrite;
    auto log = std::move(Log::Create(p.str(), o)).value();
    auto producer = std::move(log->NewProducer()).value();
    for (int i = 0; i < 128; ++i) {  // 64-byte frames: 64 per lap
      std::string s = "r" + std::to_string(i);
      s.resize(40, '.');
      std::uint64_t off;
      ASSERT_EQ(producer->Append(Bytes(s), 0, i, &off), AppendResult::kOk);
      offsets.push_back(off);
      if (i == 63) {
        images.resize(1);
        images[0].assign(reinterpret_cast<const char*>(log->ring().data + (off & (cap - 1))), 64);
      }
    }
  }
  ASSERT_EQ(offsets[127] - offsets[63], cap);
  MarkUnclean(p.str());
  Patch(p.str(), offsets[127], images[0].data(), images[0].size(), cap);
  auto got = ReadAll(p.str());
  ASSERT_EQ(got.size(), 63u);  // r64..r126
  EXPECT_EQ(got.front(), "r64");
  EXPECT_EQ(got.back(), "r126");
}

TEST(RecoveryTest, ShouldTurnADeadProducersReservationIntoPadding) {
  TempPath p;
  CreateOptions o;
  o.capacity = 1 << 16;
  {
    auto log = Log::Create(p.str(), o);
    ASSERT_TRUE(log.ok());
  }
  // A child process appends, claims without committing and dies without any clean-up.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = std::move(Log::Open(p.str())).value();
    auto a = std::move(log->NewProducer()).value();
    auto b = std::move(log->NewProducer()).value();
    bool ok = a->Append(Bytes("one")) == AppendResult::kOk;
    ClaimedRecord claim;
    ok = ok && a->Claim(100, &claim) == AppendResult::kOk;
    ok = ok && b->Append(Bytes("two")) == AppendResult::kOk;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto log = std::move(Log::Open(p.str())).value();
  EXPECT_EQ(log->Info().unblocked_stalls, 1u);
  EXPECT_EQ(log->Info().live_producers, 0u);
  EXPECT_EQ(log->Info().records_appended, 2u);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  EXPECT_EQ(Drain(*reader), (std::vector<std::string>{"one", "two"}));
}

}  // namespace
}  // namespace kappa::memlog
