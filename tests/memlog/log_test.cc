#include "memlog/log.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <thread>

#include "memlog/crc32c.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"
#include "tests/memlog/test_util.h"

namespace kappa::memlog {
namespace {

using testing::Bytes;
using testing::Drain;
using testing::Str;
using testing::TempPath;

std::unique_ptr<Log> MakeLog(const TempPath& p, std::uint64_t capacity, Policy policy,
                             std::uint32_t unblock_ms = 1000) {
  CreateOptions o;
  o.capacity = capacity;
  o.policy = policy;
  o.unblock_timeout_ms = unblock_ms;
  auto log = Log::Create(p.str(), o);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return std::move(log).value();
}

TEST(Crc32cTest, ShouldMatchKnownVectors) {
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);
  // Incremental equals one-shot.
  EXPECT_EQ(Crc32c(Crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

TEST(Crc32cTest, ShouldComputeRecordChecksumsInBatchesAsOneByOne) {
  // The record checksum is CRC32C over (type, flags, length, timestamp) then the payload.
  const std::string payload = "hello, record";
  unsigned char meta[16];
  const std::uint16_t type = 7, flags = 0;
  const auto len = static_cast<std::uint32_t>(payload.size());
  const std::int64_t ts = -123456789;
  std::memcpy(meta, &type, 2);
  std::memcpy(meta + 2, &flags, 2);
  std::memcpy(meta + 4, &len, 4);
  std::memcpy(meta + 8, &ts, 8);
  EXPECT_EQ(RecordCrc(type, flags, ts, payload.data(), len),
            Crc32c(Crc32c(0, meta, 16), payload.data(), len));

  // Mixed lengths (0 to 100 bytes, word-aligned or not), in runs that are and are not multiples
  // of four.
  std::string bytes(128, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  for (std::size_t n = 0; n <= 11; ++n) {
    std::vector<RecordCrcInput> in;
    for (std::size_t i = 0; i < n; ++i) {
      const auto length = static_cast<std::uint32_t>((i * 29 + n * 7) % 101);
      in.push_back(RecordCrcInput{static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(n),
                                  length, static_cast<std::int64_t>(i * 1000 + n),
                                  bytes.data() + i % 9});
    }
    std::vector<std::uint32_t> out(n);
    RecordCrcs(in.data(), n, out.data());
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(out[i],
                RecordCrc(in[i].type, in[i].flags, in[i].timestamp_ns, in[i].payload, in[i].length))
          << "record " << i << " of " << n;
    }
  }
}

TEST(FormatTest, ShouldEncodeSealsAndLapTags) {
  const std::uint64_t seal = MakeSeal(0xDEADBEEF, kSealRecord, 1234);
  EXPECT_EQ(SealTag(seal), 0xDEADBEEFu);
  EXPECT_EQ(SealState(seal), kSealRecord);
  EXPECT_EQ(SealLength(seal), 1234u);
  // Adjacent laps never share a tag; the same lap always does.
  for (std::uint64_t lap = 0; lap < 1000; ++lap) {
    EXPECT_NE(LapTag(lap << 12, 12, 77), LapTag((lap + 1) << 12, 12, 77));
    EXPECT_EQ(LapTag(lap << 12, 12, 77), LapTag((lap << 12) + 4095, 12, 77));
  }
  EXPECT_EQ(RecordFrameSize(0), 24u);
  EXPECT_EQ(RecordFrameSize(1), 32u);
  EXPECT_EQ(RecordFrameSize(8), 32u);
}

TEST(LogTest, ShouldCreateWithOwnerOnlyPermissions) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  struct stat st;
  ASSERT_EQ(::stat(p.str().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kHeaderSize + (1u << 16));
  EXPECT_EQ(log->earliest_offset(), 0u);
  EXPECT_EQ(log->latest_offset(), 0u);
}

TEST(LogTest, ShouldRefuseToCreateOverExistingFile) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto again = Log::Create(p.str(), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find(p.str()), std::string::npos);
}

TEST(LogTest, ShouldRejectBadCreateOptions) {
  TempPath p;
  CreateOptions o;
  o.capacity = 100000;  // not a power of two
  EXPECT_EQ(Log::Create(p.str(), o).status().code(), StatusCode::kInvalidArgument);
  o.capacity = 1024;  // too small
  EXPECT_EQ(Log::Create(p.str(), o).status().code(), StatusCode::kInvalidArgument);
  o.capacity = 1 << 16;
  o.max_payload = 1 << 15;  // more than a quarter
  EXPECT_EQ(Log::Create(p.str(), o).status().code(), StatusCode::kInvalidArgument);
}

TEST(LogTest, ShouldAppendAndReadBackInOrder) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok());
  std::vector<std::uint64_t> offsets;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t off = 0;
    ASSERT_EQ((*producer)->Append(Bytes("record-" + std::to_string(i)), 7, 1000 + i, &off),
              AppendResult::kOk);
    offsets.push_back(off);
  }
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  RecordBatch batch;
  ASSERT_EQ((*reader)->Poll(&batch), PollStatus::kOk);
  ASSERT_EQ(batch.size(), 100u);
  int i = 0;
  for (const Record& r : batch) {
    EXPECT_EQ(Str(r.payload), "record-" + std::to_string(i));
    EXPECT_EQ(r.type, 7);
    EXPECT_EQ(r.timestamp_ns, 1000 + i);
    EXPECT_EQ(r.offset, offsets[i]);
    EXPECT_TRUE(r.ChecksumOk());
    ++i;
  }
  EXPECT_EQ((*reader)->Poll(&batch), PollStatus::kEmpty);
  EXPECT_EQ((*reader)->position(), log->latest_offset());
  const LogInfo info = log->Info();
  EXPECT_EQ(info.records_appended, 100u);
  EXPECT_EQ(info.live_producers, 1u);
}

TEST(LogTest, ShouldAcceptEmptyPayloads) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  ASSERT_EQ(producer->Append({}, 1, 5), AppendResult::kOk);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_TRUE((*batch.begin()).payload.empty());
  EXPECT_TRUE((*batch.begin()).ChecksumOk());
}

TEST(LogTest, ShouldRejectPayloadsOverTheLimit) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  std::vector<std::byte> big((1 << 16) / 4 + 1);
  EXPECT_EQ(producer->Append(big), AppendResult::kTooLarge);
  big.resize((1 << 16) / 4);
  EXPECT_EQ(producer->Append(big), AppendResult::kOk);
}

TEST(LogTest, ShouldPadAtRingEnd) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kOverwrite);
  auto producer = std::move(log->NewProducer()).value();
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  // 100-byte payloads make 128-byte frames... use 90 bytes: 120-byte frames, which do not divide
  // 4096, so the ring end needs padding.
  const std::string payload(90, 'x');
  std::uint64_t last = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(producer->Append(Bytes(payload), 0, i, &last), AppendResult::kOk);
    RecordBatch batch;
    ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
    ASSERT_EQ(batch.size(), 1u);
    const Record r = *batch.begin();
    EXPECT_EQ(r.timestamp_ns, i);
    // No frame straddles the ring end.
    EXPECT_LE((r.offset % 4096) + RecordFrameSize(90), 4096u);
  }
  EXPECT_GT(last, 4096u);
  EXPECT_EQ(log->Info().padding_frames, 1u);
}

TEST(LogTest, ShouldReportFullInBlockModeUntilCursorConsumes) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kBlock);
  auto cursor = std::move(log->OpenCursor("c1")).value();
  auto producer = std::move(log->NewProducer()).value();
  const std::string payload(40, 'b');  // 64-byte frames: 64 fit exactly
  int appended = 0;
  while (producer->Append(Bytes(payload)) == AppendResult::kOk) ++appended;
  EXPECT_EQ(appended, 64);
  EXPECT_EQ(producer->Append(Bytes(payload)), AppendResult::kFull);
  // Reading alone frees nothing; committing the cursor does.
  RecordBatch batch;
  ASSERT_EQ(cursor->Poll(&batch, 10), PollStatus::kOk);
  EXPECT_EQ(producer->Append(Bytes(payload)), AppendResult::kFull);
  cursor->CommitCursor();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(producer->Append(Bytes(payload)), AppendResult::kOk);
  EXPECT_EQ(producer->Append(Bytes(payload)), AppendResult::kFull);
  EXPECT_EQ(producer->AppendBlocking(Bytes(payload), 0, 0, std::chrono::milliseconds(20)),
            AppendResult::kTimedOut);
}

TEST(LogTest, ShouldNeverDiscardInBlockModeWithoutCursors) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  const std::string payload(40, 'b');
  int appended = 0;
  while (producer->Append(Bytes(payload)) == AppendResult::kOk) ++appended;
  EXPECT_EQ(appended, 64);
  EXPECT_EQ(log->earliest_offset(), 0u);
}

TEST(LogTest, ShouldReportLappedInOverwriteModeAndNeverAnotherLapsRecord) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kOverwrite);
  auto producer = std::move(log->NewProducer()).value();
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  for (int i = 0; i < 1000; ++i) {
    const std::string payload = "v" + std::to_string(i) + std::string(30, 'o');
    ASSERT_EQ(producer->Append(Bytes(payload), 0, i), AppendResult::kOk);
  }
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kLapped);
  EXPECT_GT(reader->last_lost_bytes(), 0u);
  EXPECT_EQ(reader->position(), log->earliest_offset());
  // What is left is the most recent records, in order, ending with the last one.
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  std::int64_t prev = -1;
  std::int64_t last = -1;
  for (const Record& r : batch) {
    EXPECT_TRUE(r.ChecksumOk());
    EXPECT_GT(r.timestamp_ns, prev);
    prev = last = r.timestamp_ns;
    EXPECT_EQ(Str(r.payload), "v" + std::to_string(r.timestamp_ns) + std::string(30, 'o'));
  }
  EXPECT_TRUE(reader->StillValid(batch));
  EXPECT_EQ(last, 999);
  // The log holds at most one ring's worth.
  EXPECT_LE(log->latest_offset() - log->earliest_offset(), 4096u);
}

// An idle reader watches only the seal word at its position; when later laps overwrite that
// frame (so it never looks committed), the reader must still learn that it was lapped.
TEST(LogTest, ShouldReportLapToAnIdleReaderWhoseFrameWasOverwritten) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kOverwrite);
  auto producer = std::move(log->NewProducer()).value();
  auto reader = std::move(log->NewReader(StartAt::Latest())).value();
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kEmpty);
  const std::uint64_t idle_at = reader->position();
  for (int i = 0; i < 1000; ++i) {
    // 37-byte payloads: frames of 64 bytes, so after the first lap frame starts no longer fall
    // on idle_at's lap-relative position with its lap's tag.
    const std::string payload = "w" + std::to_string(i) + std::string(30, 'o');
    ASSERT_EQ(producer->Append(Bytes(payload), 0, i), AppendResult::kOk);
  }
  ASSERT_GT(log->earliest_offset(), idle_at);
  ASSERT_EQ(reader->Wait(&batch, std::chrono::seconds(5)), PollStatus::kLapped);
  EXPECT_EQ(reader->position(), log->earliest_offset());
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  std::int64_t last = -1;
  for (const Record& r : batch) last = r.timestamp_ns;
  EXPECT_EQ(last, 999);
}

TEST(LogTest, ShouldCommitACursorAtAnOffsetBehindItsPosition) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  std::vector<std::uint64_t> offsets(4);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(producer->Append(Bytes("r" + std::to_string(i)), 0, i,
                               &offsets[static_cast<std::size_t>(i)]),
              AppendResult::kOk);
  {
    auto reader = std::move(log->OpenCursor("ahead")).value();
    RecordBatch batch;
    ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
    EXPECT_EQ(batch.size(), 4u);
    reader->CommitCursorAt(offsets[2]);  // only r0 and r1 are finished with
    reader->CommitCursorAt(UINT64_MAX);  // clamped to its position: all four
    reader->CommitCursorAt(offsets[2]);
  }
  auto reader = std::move(log->OpenCursor("ahead")).value();
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  std::vector<std::string> got;
  for (const Record& r : batch) got.push_back(Str(r.payload));
  EXPECT_EQ(got, (std::vector<std::string>{"r2", "r3"}));
}

TEST(LogTest, ShouldInvalidateBatchOverwrittenWhileHeld) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kOverwrite);
  auto producer = std::move(log->NewProducer()).value();
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  ASSERT_EQ(producer->Append(Bytes("first")), AppendResult::kOk);
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  EXPECT_TRUE(reader->StillValid(batch));
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(producer->Append(Bytes(std::string(40, 'z'))), AppendResult::kOk);
  EXPECT_FALSE(reader->StillValid(batch));
}

TEST(LogTest, ShouldAppendBatchesAtomicallyAcrossTheRingEnd) {
  TempPath p;
  auto log = MakeLog(p, 4096, Policy::kOverwrite);
  auto producer = std::move(log->NewProducer()).value();
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  std::vector<std::string> payloads;
  for (int i = 0; i < 7; ++i)
    payloads.push_back("batch-record-" + std::to_string(i) + std::string(i * 9, '+'));
  std::vector<RecordView> views;
  for (auto& s : payloads) views.push_back({Bytes(s), 3, 42});
  int seen = 0;
  for (int round = 0; round < 60; ++round) {
    std::uint64_t first = 0;
    ASSERT_EQ(producer->AppendBatch(views, &first), AppendResult::kOk);
    RecordBatch batch;
    ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk) << round;
    ASSERT_EQ(batch.size(), payloads.size());
    EXPECT_EQ((*batch.begin()).offset, first);
    int i = 0;
    for (const Record& r : batch) {
      EXPECT_EQ(Str(r.payload), payloads[i++]);
      EXPECT_TRUE(r.ChecksumOk());
      ++seen;
    }
  }
  EXPECT_EQ(seen, 420);
  EXPECT_GT(log->Info().padding_frames, 0u);
}

TEST(LogTest, ShouldCommitAndAbortClaims) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  ClaimedRecord claim;
  ASSERT_EQ(producer->Claim(5, &claim), AppendResult::kOk);
  std::memcpy(claim.data, "hello", 5);
  ASSERT_EQ(producer->Commit(&claim, 9, 77), AppendResult::kOk);
  ASSERT_EQ(producer->Claim(6, &claim), AppendResult::kOk);
  std::memcpy(claim.data, "hidden", 6);
  producer->Abort(&claim);
  ASSERT_EQ(producer->Append(Bytes("world")), AppendResult::kOk);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  EXPECT_EQ(Drain(*reader), (std::vector<std::string>{"hello", "world"}));
}

TEST(LogTest, ShouldResumeNamedCursorInAnotherHandle) {
  TempPath p;
  {
    auto log = MakeLog(p, 1 << 16, Policy::kBlock);
    auto producer = std::move(log->NewProducer()).value();
    for (int i = 0; i < 10; ++i)
      ASSERT_EQ(producer->Append(Bytes(std::to_string(i))), AppendResult::kOk);
    auto cursor = std::move(log->OpenCursor("consumer")).value();
    RecordBatch batch;
    ASSERT_EQ(cursor->Poll(&batch, 4), PollStatus::kOk);
    EXPECT_EQ(batch.size(), 4u);
    cursor->CommitCursor();
    ASSERT_EQ(cursor->Poll(&batch, 2), PollStatus::kOk);  // read but not committed
  }
  auto log = std::move(Log::Open(p.str())).value();
  auto cursor = std::move(log->OpenCursor("consumer")).value();
  EXPECT_EQ(Drain(*cursor), (std::vector<std::string>{"4", "5", "6", "7", "8", "9"}));
  const LogInfo info = log->Info();
  ASSERT_EQ(info.cursors.size(), 1u);
  EXPECT_EQ(info.cursors[0].name, "consumer");
  EXPECT_TRUE(log->DeleteCursor("consumer").ok());
  EXPECT_EQ(log->DeleteCursor("consumer").code(), StatusCode::kNotFound);
  EXPECT_TRUE(log->Info().cursors.empty());
  EXPECT_EQ(log->OpenCursor(std::string(100, 'n')).status().code(), StatusCode::kInvalidArgument);
}

TEST(LogTest, ShouldSeekByEventTimeAndOffset) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto producer = std::move(log->NewProducer()).value();
  std::vector<std::uint64_t> offsets(50);
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(producer->Append(Bytes(std::to_string(i)), 0, 1000 * i, &offsets[i]),
              AppendResult::kOk);
  auto reader = std::move(log->NewReader(StartAt::Time(25'500))).value();
  EXPECT_EQ(reader->position(), offsets[26]);
  ASSERT_TRUE(reader->Seek(StartAt::Time(0)).ok());
  EXPECT_EQ(reader->position(), offsets[0]);
  ASSERT_TRUE(reader->Seek(StartAt::Time(1'000'000)).ok());
  EXPECT_EQ(reader->position(), log->latest_offset());
  ASSERT_TRUE(reader->Seek(StartAt::Offset(offsets[10])).ok());
  EXPECT_EQ(Drain(*reader).front(), "10");
  EXPECT_FALSE(reader->Seek(StartAt::Offset(offsets[10] + 8)).ok());
  EXPECT_FALSE(reader->Seek(StartAt::Offset(log->latest_offset() + 64)).ok());
  ASSERT_TRUE(reader->Seek(StartAt::Latest()).ok());
  EXPECT_TRUE(Drain(*reader).empty());
}

TEST(LogTest, ShouldUnblockAProducerThatDiedMidAppend) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock, /*unblock_ms=*/30);
  auto producer = std::move(log->NewProducer()).value();
  auto other = std::move(log->NewProducer()).value();
  ASSERT_EQ(producer->Append(Bytes("before")), AppendResult::kOk);
  ClaimedRecord claim;  // a claim never committed stands for a producer that died
  ASSERT_EQ(producer->Claim(16, &claim), AppendResult::kOk);
  ASSERT_EQ(other->Append(Bytes("after")), AppendResult::kOk);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  RecordBatch batch;
  ASSERT_EQ(reader->Poll(&batch), PollStatus::kOk);
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(reader->Poll(&batch), PollStatus::kEmpty);  // stalled, within the timeout
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(reader->Wait(&batch, std::chrono::seconds(10)), PollStatus::kOk);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(Str((*batch.begin()).payload), "after");
  EXPECT_EQ(log->Info().unblocked_stalls, 1u);
  // The late producer learns its record was given up.
  EXPECT_EQ(producer->Commit(&claim), AppendResult::kAbandoned);
}

TEST(LogTest, ShouldSyncInSyncModeAndFailTheHandleOnSyncError) {
  TempPath p;
  CreateOptions o;
  o.capacity = 1 << 16;
  o.durability = Durability::kSync;
  auto log = std::move(Log::Create(p.str(), o)).value();
  auto producer = std::move(log->NewProducer()).value();
  ASSERT_EQ(producer->Append(Bytes("durable")), AppendResult::kOk);
  detail::SetMsyncForTesting([](void*, std::size_t, int) {
    errno = EIO;
    return -1;
  });
  EXPECT_EQ(producer->Append(Bytes("lost")), AppendResult::kIoError);
  detail::SetMsyncForTesting(nullptr);
  // Never retried and ignored: the handle stays failed.
  EXPECT_TRUE(log->failed());
  EXPECT_NE(log->failure().find("msync"), std::string::npos);
  EXPECT_EQ(producer->Append(Bytes("after")), AppendResult::kIoError);
  EXPECT_FALSE(log->Sync().ok());
}

TEST(LogTest, ShouldSyncInBackgroundInIntervalMode) {
  TempPath p;
  CreateOptions o;
  o.capacity = 1 << 16;
  o.durability = Durability::kInterval;
  o.sync_interval_ms = 5;
  auto log = std::move(Log::Create(p.str(), o)).value();
  static std::atomic<int> calls{0};
  detail::SetMsyncForTesting([](void* a, std::size_t n, int f) {
    calls.fetch_add(1);
    return ::msync(a, n, f);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  detail::SetMsyncForTesting(nullptr);
  EXPECT_GT(calls.load(), 0);
  EXPECT_FALSE(log->failed());
}

TEST(LogTest, ShouldOpenReadOnlyAndRefuseToAppend) {
  TempPath p;
  {
    auto log = MakeLog(p, 1 << 16, Policy::kBlock);
    auto producer = std::move(log->NewProducer()).value();
    ASSERT_EQ(producer->Append(Bytes("x")), AppendResult::kOk);
  }
  OpenOptions ro;
  ro.read_only = true;
  auto log = std::move(Log::Open(p.str(), ro)).value();
  EXPECT_EQ(log->NewProducer().status().code(), StatusCode::kPermissionDenied);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  EXPECT_EQ(Drain(*reader), std::vector<std::string>{"x"});
}

TEST(LogTest, ShouldReclaimProducerSlotsOfDeadProcesses) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock, /*unblock_ms=*/20);
  // A child takes every producer slot, leaves one reservation open, and dies without clean-up.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto child_log = std::move(Log::Open(p.str())).value();
    std::vector<std::unique_ptr<Producer>> producers;
    for (std::uint32_t i = 0; i < kMaxProducers; ++i) {
      auto producer = child_log->NewProducer();
      if (!producer.ok()) ::_exit(1);
      producers.push_back(std::move(producer).value());
    }
    if (child_log->NewProducer().ok()) ::_exit(2);  // the 65th must fail while all are alive
    ClaimedRecord claim;
    if (producers[5]->Append(Bytes("kept")) != AppendResult::kOk) ::_exit(3);
    if (producers[7]->Claim(10, &claim) != AppendResult::kOk) ::_exit(4);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << WEXITSTATUS(status);
  EXPECT_EQ(log->Info().live_producers, 0u);  // all 64 slots taken, by a dead process
  EXPECT_EQ(log->Info().records_appended, 1u);
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok()) << producer.status().message();
  ASSERT_EQ((*producer)->Append(Bytes("new")), AppendResult::kOk);
  EXPECT_EQ(log->Info().live_producers, 1u);
  EXPECT_EQ(log->Info().records_appended, 2u);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  EXPECT_EQ(Drain(*reader), (std::vector<std::string>{"kept", "new"}));
}

TEST(LogTest, ShouldRefuseBadLogNames) {
  CreateOptions o;
  o.capacity = 1 << 16;
  for (const std::string& bad :
       {std::string("/dev/shm/kappa-test-bad\nname"), std::string("/dev/shm/.hidden"),
        std::string("/dev/shm/tab\tname"), std::string("/dev/shm/") + std::string(200, 'a'),
        std::string("/dev/shm/dir\x01/log"), std::string("/dev/shm/sp ace"),
        std::string("/dev/shm/")}) {
    auto created = Log::Create(bad, o);
    ASSERT_FALSE(created.ok()) << bad;
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(created.status().message().find("bad log name"), std::string::npos)
        << created.status().message();
    EXPECT_EQ(created.status().message().find('\n'), std::string::npos) << "shown escaped";
    EXPECT_EQ(Log::Open(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  TempPath good;  // kappa-test-<pid>-<n>.log
  EXPECT_TRUE(Log::Create(good.str(), o).ok());
}

TEST(LogTest, ShouldResolveBareNamesInTheDefaultDirectory) {
  ::setenv("KAPPA_DATA_DIR", "/tmp/kappa-data", 1);
  EXPECT_EQ(Log::ResolvePath("events"), "/tmp/kappa-data/events");
  EXPECT_EQ(Log::ResolvePath("./events"), "./events");
  ::unsetenv("KAPPA_DATA_DIR");
  EXPECT_EQ(Log::DefaultDirectory(), "/dev/shm/kappa");
}

std::int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// An idle reader sleeps (it does not spin or yield for the whole wait), and a commit from
// another handle, as from another process, wakes it.
TEST(LogTest, ShouldSleepWhileIdleAndWakeOnACommit) {
  TempPath p;
  auto log = MakeLog(p, 1 << 16, Policy::kBlock);
  auto reader = std::move(log->NewReader(StartAt::Earliest())).value();
  RecordBatch batch;
  // One long wait, then many short ones (a job's source waits a few milliseconds at a time).
  const std::int64_t cpu_before = ThreadCpuNs();
  EXPECT_EQ(reader->Wait(&batch, std::chrono::milliseconds(500)), PollStatus::kEmpty);
  for (int i = 0; i < 250; ++i)
    EXPECT_EQ(reader->Wait(&batch, std::chrono::milliseconds(2)), PollStatus::kEmpty);
  const std::int64_t idle_cpu = ThreadCpuNs() - cpu_before;
  EXPECT_LT(idle_cpu, 150'000'000) << "idle waits for 1 s used " << idle_cpu / 1000 << " us of CPU";

  auto other = std::move(Log::Open(p.str())).value();  // another handle: its own mapping
  auto producer = std::move(other->NewProducer()).value();
  std::atomic<bool> appended{false};
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    appended.store(true);
    ASSERT_EQ(producer->Append(Bytes("wake up"), 1, 0), AppendResult::kOk);
  });
  // Woken by the commit, long before the timeout.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(reader->Wait(&batch, std::chrono::seconds(60)), PollStatus::kOk);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_TRUE(appended.load());
  late.join();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(Str((*batch.begin()).payload), "wake up");
  EXPECT_EQ(log->ring().header->wake.waiters, 0u);
}

}  // namespace
}  // namespace kappa::memlog
