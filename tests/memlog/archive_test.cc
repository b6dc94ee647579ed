// The archive: segments behind the ring, one offset space, retention, recovery after a lost ring
// and after damaged files, and a full disk.
#include "memlog/archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "memlog/archiver.h"
#include "memlog/log.h"
#include "tests/memlog/archive_util.h"
#include "tests/memlog/test_util.h"
#include "tests/small_filesystem.h"
#include "tests/temp_dir.h"

namespace kappa::memlog {
namespace {

using testing::MakeTagged;
using testing::ParseTagged;
using testing::Tagged;
using testing::TempPath;

using kappa::testing::TempDir;
using testing::AppendArchiving;
using testing::Archived;
using testing::MustArchive;
using testing::MustCreate;
using testing::ReadSequence;
using testing::Scribble;
using testing::SegmentFiles;

TEST(ArchiveTest, ShouldReserveTheArchiveCursorAndWriteAManifestAtCreation) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  ASSERT_TRUE(log);
  const LogInfo info = log->Info();
  ASSERT_TRUE(info.has_archive);
  EXPECT_EQ(info.archive.directory, dir.str());
  ASSERT_EQ(info.cursors.size(), 1u);
  EXPECT_EQ(info.cursors[0].name, kArchiveCursorName);
  auto manifest = ReadManifest(dir.str());
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  EXPECT_EQ(manifest->identity, log->identity());
  EXPECT_EQ(manifest->settings.segment_bytes, 16u << 10);
  EXPECT_EQ(log->DeleteCursor(kArchiveCursorName).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(log->OpenCursor(kArchiveCursorName).status().code(), StatusCode::kPermissionDenied);
}

TEST(ArchiveTest, ShouldBlockProducersUntilTheArchiveHoldsTheirFramesWhateverThePolicy) {
  for (Policy policy : {Policy::kBlock, Policy::kOverwrite}) {
    TempPath path;
    TempDir dir;
    CreateOptions o = Archived(dir.str(), 64 << 10, 16 << 10);
    o.policy = policy;
    auto log = MustCreate(path.str(), o);
    ASSERT_TRUE(log);
    auto producer = log->NewProducer();
    ASSERT_TRUE(producer.ok());
    std::vector<std::byte> payload(1000);
    int appended = 0;
    AppendResult r;
    while ((r = (*producer)->Append(payload)) == AppendResult::kOk) ++appended;
    EXPECT_EQ(r, AppendResult::kFull) << PolicyName(policy);
    EXPECT_LT(appended, 66);
    auto archiver = MustArchive(log.get());
    ASSERT_TRUE(archiver);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
    EXPECT_EQ((*producer)->Append(payload), AppendResult::kOk) << PolicyName(policy);
    // Nothing was overwritten: every record is read from offset 0.
    auto reader = log->NewReader(StartAt::Earliest());
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(testing::Drain(**reader).size(), static_cast<std::size_t>(appended + 1))
        << PolicyName(policy);
  }
}

TEST(ArchiveTest, ShouldReadEveryRecordOnceFromTheEarliestAcrossSegmentsAndRingWhileAppending) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 32 << 10));
  ASSERT_TRUE(log);
  auto archiver = MustArchive(log.get());
  ASSERT_TRUE(archiver);
  archiver->Start();
  constexpr std::uint64_t kRecords = 40000;  // ~5 MiB: 60+ times the ring
  std::thread producer = testing::ProduceTagged(log.get(), kRecords);
  // A reader that starts at the earliest offset and keeps up at its own pace, falling behind the
  // ring's head and reading on from the archive.
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  std::uint64_t next = 0, from_archive = 0;
  RecordBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto fall_behind = [&] {  // until the ring's head has passed the reader several times over
    const std::uint64_t from = log->latest_offset();
    while (log->latest_offset() < from + 4 * log->capacity() &&
           log->latest_offset() < kRecords * 100 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  fall_behind();
  while (next < kRecords && std::chrono::steady_clock::now() < deadline) {
    const PollStatus st = (*reader)->Wait(&batch, std::chrono::milliseconds(10), 64);
    if (st == PollStatus::kEmpty) continue;
    ASSERT_EQ(st, PollStatus::kOk) << PollStatusName(st) << ": " << (*reader)->error();
    if (batch.archived()) from_archive += batch.size();
    for (const Record& r : batch) {
      Tagged t;
      ASSERT_TRUE(ParseTagged(r.payload, &t));
      ASSERT_EQ(t.seq, next) << "offset " << r.offset;
      ++next;
    }
    ASSERT_TRUE((*reader)->StillValid(batch));
    if (next % 8192 < batch.size()) fall_behind();
  }
  producer.join();
  ASSERT_TRUE(archiver->Stop().ok());
  EXPECT_EQ(next, kRecords);
  EXPECT_GT(from_archive, 0u);
  EXPECT_GE(archiver->manifest().segments.size(), 20u);
  // Read again from the start, now mostly from sealed segments.
  auto again = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(again.ok());
  std::uint64_t archived = 0;
  EXPECT_EQ(ReadSequence(**again, 0, &archived), kRecords);
  EXPECT_GT(archived, kRecords / 2);
}

TEST(ArchiveTest, ShouldSeekByOffsetAndByTimeIntoTheArchive) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  ASSERT_TRUE(log);
  auto archiver = MustArchive(log.get());
  ASSERT_TRUE(archiver);
  AppendArchiving(log.get(), archiver.get(), 0, 20000);
  ASSERT_TRUE(archiver->Seal().ok());
  ASSERT_GE(archiver->manifest().segments.size(), 10u);
  // Timestamps are the sequence numbers: time seek finds the record with seq == t.
  for (std::int64_t t : {0, 1, 777, 5000, 12345, 19999}) {
    auto reader = log->NewReader(StartAt::Time(t));
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    RecordBatch batch;
    ASSERT_EQ((*reader)->Poll(&batch, 1), PollStatus::kOk) << "t=" << t;
    Tagged tag;
    ASSERT_TRUE(ParseTagged((*batch.begin()).payload, &tag));
    EXPECT_EQ(static_cast<std::int64_t>(tag.seq), t);
    // And by its offset.
    const std::uint64_t offset = (*batch.begin()).offset;
    auto by_offset = log->NewReader(StartAt::Offset(offset));
    ASSERT_TRUE(by_offset.ok()) << by_offset.status().message();
    EXPECT_EQ(ReadSequence(**by_offset, static_cast<std::uint64_t>(t)),
              20000u - static_cast<std::uint64_t>(t));
  }
  EXPECT_EQ(log->NewReader(StartAt::Offset(4)).status().code(), StatusCode::kInvalidArgument);
}

TEST(ArchiveTest, ShouldDeleteOldestSegmentsPastRetentionAndTellAReaderTheBytesLost) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  ASSERT_TRUE(log);
  ArchiveSettings settings;
  settings.segment_bytes = 16 << 10;
  settings.flush_interval = std::chrono::milliseconds(5);
  settings.retain_bytes = 100 << 10;
  std::vector<std::string> notes;
  auto archiver = MustArchive(log.get(), &notes, settings);
  ASSERT_TRUE(archiver);
  auto early = log->NewReader(StartAt::Earliest());  // reads nothing until retention has run
  ASSERT_TRUE(early.ok());
  AppendArchiving(log.get(), archiver.get(), 0, 10000);
  ASSERT_TRUE(archiver->Seal().ok());
  ASSERT_TRUE(archiver->ApplyRetention().ok());
  const Manifest& m = archiver->manifest();
  // The limit counts the files' bytes, headers included.
  EXPECT_LE(m.stored_bytes(), settings.retain_bytes);
  EXPECT_GT(m.stored_bytes() + kSegmentHeaderSize + settings.segment_bytes, settings.retain_bytes);
  EXPECT_GT(m.earliest, 0u);
  EXPECT_FALSE(notes.empty());
  EXPECT_EQ(SegmentFiles(dir.str()).size(), m.segments.size() + 1);  // and the active one
  RecordBatch batch;
  ASSERT_EQ((*early)->Poll(&batch), PollStatus::kExpired);
  EXPECT_EQ((*early)->last_lost_bytes(), m.earliest);
  EXPECT_EQ((*early)->position(), m.earliest);
  EXPECT_EQ(log->earliest_offset(), m.earliest);
  // From there on, it reads in sequence to the end.
  ASSERT_EQ((*early)->Poll(&batch, 1), PollStatus::kOk);
  Tagged first;
  ASSERT_TRUE(ParseTagged((*batch.begin()).payload, &first));
  EXPECT_EQ(ReadSequence(**early, first.seq + 1), 10000 - first.seq - 1);
}

TEST(ArchiveTest, ShouldMakeALostRingAgainFromTheArchiveAndContinueTheLog) {
  TempPath path;
  TempDir dir;
  std::string identity;
  std::uint64_t end = 0;
  {
    auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
    ASSERT_TRUE(log);
    identity = log->identity();
    auto archiver = MustArchive(log.get());
    AppendArchiving(log.get(), archiver.get(), 0, 3000);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
    end = log->latest_offset();
  }
  ASSERT_EQ(::unlink(path.str().c_str()), 0);  // a reboot empties /dev/shm
  EXPECT_EQ(Log::Open(path.str()).status().code(), StatusCode::kNotFound);
  OpenOptions o;
  o.archive_directory = dir.str();
  auto log = Log::Open(path.str(), o);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ((*log)->identity(), identity);
  EXPECT_EQ((*log)->earliest_offset(), 0u);
  EXPECT_EQ((*log)->latest_offset(), end);
  auto archiver = MustArchive(log->get());
  AppendArchiving(log->get(), archiver.get(), 3000, 1000);
  auto reader = (*log)->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), 4000u);
  // Another log's name over the same archive is refused.
  TempPath other;
  EXPECT_EQ(Log::Create(other.str(), Archived(dir.str(), 64 << 10, 16 << 10)).status().code(),
            StatusCode::kBusy);  // the archiver holds the lock
  archiver.reset();
  auto refused = Log::Create(other.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find("holds the archive of log"), std::string::npos)
      << refused.status().message();
  // Nor is a second ring of the same log elsewhere while the first exists: it would fork the log.
  TempDir elsewhere("/dev/shm");
  const std::string twin = elsewhere / path.str().substr(path.str().rfind('/') + 1);
  auto forked = Log::Create(twin, Archived(dir.str(), 64 << 10, 16 << 10));
  EXPECT_EQ(forked.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(forked.status().message().find("still exists at " + path.str()), std::string::npos)
      << forked.status().message();
}

// An archiver that starts where a producer holds a reservation it has not committed yet (a slow
// claim, or a producer that died with the archiver) waits for it like any reader, rather than
// refusing to start (which would leave a Block log full for good).
TEST(ArchiveTest, ShouldStartWhereAProducerHoldsAnUncommittedReservation) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  ASSERT_TRUE(log);
  {
    auto archiver = MustArchive(log.get());
    AppendArchiving(log.get(), archiver.get(), 0, 100);
    ASSERT_TRUE(archiver->Pass().ok());
  }
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok());
  ClaimedRecord claim;
  ASSERT_EQ((*producer)->Claim(100, &claim), AppendResult::kOk);
  auto archiver = Archiver::Open(log.get());
  ASSERT_TRUE(archiver.ok()) << archiver.status().message();
  const auto payload = MakeTagged(0, 100, 100);
  std::memcpy(claim.data, payload.data(), payload.size());
  ASSERT_EQ((*producer)->Commit(&claim, 1, 100), AppendResult::kOk);
  ASSERT_TRUE((*archiver)->Pass().ok());
  EXPECT_EQ((*archiver)->written_offset(), log->latest_offset());
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), 101u);
}

// A ring that comes back older than its archive (a file-backed ring after a power cut) goes on
// after what the archive holds: no offset is handed out twice.
TEST(ArchiveTest, ShouldNotReuseOffsetsWhenTheRingComesBackOlderThanTheArchive) {
  TempPath path;
  TempDir dir;
  std::uint64_t end = 0;
  {
    auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
    ASSERT_TRUE(log);
    auto archiver = MustArchive(log.get());
    AppendArchiving(log.get(), archiver.get(), 0, 1000);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
    end = log->latest_offset();
  }
  // The ring's positions as an older copy of the file had them (its records are in the archive).
  const std::uint64_t zero = 0;
  const int fd = ::open(path.str().c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, &zero, 8, offsetof(LogHeader, head)), 8);
  ASSERT_EQ(::pwrite(fd, &zero, 8, offsetof(LogHeader, tail)), 8);
  ::close(fd);
  auto log = Log::Open(path.str());
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ((*log)->latest_offset(), end);
  auto archiver = MustArchive(log->get());
  ASSERT_TRUE(archiver);
  AppendArchiving(log->get(), archiver.get(), 1000, 10);
  auto reader = (*log)->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), 1010u);
}

TEST(ArchiveTest, ShouldAllowOneArchiverPerLog) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
  ASSERT_TRUE(log);
  auto first = MustArchive(log.get());
  ASSERT_TRUE(first);
  auto second = Archiver::Open(log.get());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  first.reset();
  EXPECT_TRUE(Archiver::Open(log.get()).ok());
}

// Writes `bytes` at `at` into file `path`.
// A log with an archive of several sealed segments and an active one holding frames; the
// archiver is gone as if killed (its segment never sealed).
struct Damaged {
  TempPath path;
  TempDir dir;
  std::unique_ptr<Log> log;
  std::uint64_t records = 0;

  void Make() {
    log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 16 << 10));
    ASSERT_TRUE(log);
    auto archiver = MustArchive(log.get());
    AppendArchiving(log.get(), archiver.get(), 0, 2000);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
    records = 2000;
    ASSERT_GE(archiver->manifest().segments.size(), 5u);
    archiver.reset();
  }
  std::string Active() const { return SegmentFiles(dir.str()).back(); }
};

TEST(ArchiveRecoveryTest, ShouldCutATornTailOfTheActiveSegmentAndCopyItAgainFromTheRing) {
  Damaged d;
  d.Make();
  const std::string active = d.dir / d.Active();
  struct stat st;
  ASSERT_EQ(::stat(active.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 4096 + 200);
  Scribble(active, st.st_size - 100, std::string(100, '\x5a'));  // garbage over the last frames
  std::vector<std::string> notes;
  auto archiver = MustArchive(d.log.get(), &notes);
  ASSERT_TRUE(archiver);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("torn or damaged tail"), std::string::npos) << notes[0];
  ASSERT_TRUE(archiver->Pass().ok());
  ASSERT_TRUE(archiver->Seal().ok());
  // Everything is there: the cut-off frames were copied again from the ring.
  TempPath fresh;
  auto reader = d.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), d.records);
}

TEST(ArchiveRecoveryTest, ShouldSetASegmentWithADamagedHeaderAsideAndSaySo) {
  Damaged d;
  d.Make();
  const std::string active = d.Active();
  Scribble(d.dir / active, 0, std::string(64, '\0'));
  std::vector<std::string> notes;
  auto archiver = MustArchive(d.log.get(), &notes);
  ASSERT_TRUE(archiver);  // the ring still holds those frames: they are archived again
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("set aside as " + active + ".damaged"), std::string::npos) << notes[0];
  struct stat st;
  EXPECT_EQ(::stat((d.dir / (active + ".damaged")).c_str(), &st), 0);
  ASSERT_TRUE(archiver->Pass().ok());
  auto reader = d.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), d.records);
}

TEST(ArchiveRecoveryTest, ShouldRefuseAGarbageManifestNamingIt) {
  Damaged d;
  d.Make();
  Scribble(d.dir / kManifestFile, 30, "garbage");
  auto archiver = Archiver::Open(d.log.get());
  ASSERT_FALSE(archiver.ok());
  EXPECT_EQ(archiver.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(archiver.status().message().find(d.dir / kManifestFile), std::string::npos)
      << archiver.status().message();
  for (std::string_view image : {"", "kappa-archive-manifest 1\n", "\n\n\n", "crc 00000000\n"}) {
    EXPECT_EQ(ParseManifest(image, "M").status().code(), StatusCode::kCorrupt) << image;
  }
}

TEST(ArchiveRecoveryTest, ShouldRefuseAManifestNamingAMissingSegmentInTheMiddle) {
  Damaged d;
  d.Make();
  const std::string second = SegmentFiles(d.dir.str())[1];
  ASSERT_EQ(::unlink((d.dir / second).c_str()), 0);
  auto archiver = Archiver::Open(d.log.get());
  ASSERT_FALSE(archiver.ok());
  EXPECT_NE(archiver.status().message().find(second), std::string::npos)
      << archiver.status().message();
  // A reader reaching it is told which file is missing, and does not skip it.
  auto reader = d.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  RecordBatch batch;
  PollStatus st;
  while ((st = (*reader)->Poll(&batch)) == PollStatus::kOk) {
  }
  EXPECT_EQ(st, PollStatus::kCorrupt);
  EXPECT_NE((*reader)->error().find(second), std::string::npos) << (*reader)->error();
}

TEST(ArchiveRecoveryTest, ShouldRefuseATruncatedSealedSegmentNamingItAndNeverMapPastItsEnd) {
  Damaged d;
  d.Make();
  const std::string second = SegmentFiles(d.dir.str())[1];
  struct stat st;
  ASSERT_EQ(::stat((d.dir / second).c_str(), &st), 0);
  ASSERT_EQ(::truncate((d.dir / second).c_str(), st.st_size / 2), 0);
  auto archiver = Archiver::Open(d.log.get());
  ASSERT_FALSE(archiver.ok());
  EXPECT_EQ(archiver.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(archiver.status().message().find(second), std::string::npos)
      << archiver.status().message();
  // A reader stops before it with the file's name (it checks the size before mapping: no SIGBUS).
  auto reader = d.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  RecordBatch batch;
  PollStatus status;
  while ((status = (*reader)->Poll(&batch)) == PollStatus::kOk) {
  }
  EXPECT_EQ(status, PollStatus::kCorrupt);
  EXPECT_NE((*reader)->error().find(second), std::string::npos) << (*reader)->error();
}

TEST(ArchiveRecoveryTest, ShouldDropMissingOldestSegmentsAndStartTheArchiveLater) {
  Damaged d;
  d.Make();
  const auto files = SegmentFiles(d.dir.str());
  ASSERT_EQ(::unlink((d.dir / files[0]).c_str()), 0);
  std::vector<std::string> notes;
  auto archiver = MustArchive(d.log.get(), &notes);
  ASSERT_TRUE(archiver);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("were missing"), std::string::npos) << notes[0];
  std::uint64_t second_base;
  ASSERT_TRUE(ParseSegmentFileName(files[1], ".seg", &second_base));
  EXPECT_EQ(archiver->manifest().earliest, second_base);
  auto reader = d.log->NewReader(StartAt::Offset(0));
  EXPECT_FALSE(reader.ok());  // before the archive's start
}

TEST(ArchiveRecoveryTest, ShouldSealSegmentsTheManifestDoesNotListYet) {
  Damaged d;
  d.Make();
  // The manifest as it was before the last two seals: the segments stay, the list lost them.
  auto m = ReadManifest(d.dir.str());
  ASSERT_TRUE(m.ok());
  Manifest older = *m;
  older.segments.resize(older.segments.size() - 2);
  older.active_base = older.segments.back().end;
  {
    std::ofstream out(d.dir / kManifestFile, std::ios::trunc);
    out << FormatManifest(older);
  }
  std::vector<std::string> notes;
  auto archiver = MustArchive(d.log.get(), &notes);
  ASSERT_TRUE(archiver);
  EXPECT_GE(archiver->manifest().segments.size(), m->segments.size());
  ASSERT_TRUE(archiver->Pass().ok());
  auto reader = d.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), d.records);
}

TEST(ArchiveRecoveryTest, ShouldRefuseToContinueWhenTheArchiveLostWhatTheRingNoLongerHolds) {
  Damaged d;
  d.Make();
  // Fill the ring past the archive several times, then lose the last sealed segments' worth:
  // history in neither place.
  {
    auto archiver = MustArchive(d.log.get());
    AppendArchiving(d.log.get(), archiver.get(), d.records, 3000);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
  }
  const auto files = SegmentFiles(d.dir.str());
  ASSERT_EQ(::truncate((d.dir / files.back()).c_str(), 4096), 0);
  auto m = ReadManifest(d.dir.str());
  ASSERT_TRUE(m.ok());
  Manifest older = *m;
  ASSERT_GT(m->segments.size(), 8u);
  older.segments.resize(older.segments.size() - 6);  // 96 KiB: more than the 64 KiB ring holds
  older.active_base = older.segments.back().end;
  for (std::size_t i = older.segments.size(); i < m->segments.size(); ++i)
    ::unlink((d.dir / SegmentFileName(m->segments[i].base)).c_str());
  {
    std::ofstream out(d.dir / kManifestFile, std::ios::trunc);
    out << FormatManifest(older);
  }
  auto archiver = Archiver::Open(d.log.get());
  ASSERT_FALSE(archiver.ok());
  EXPECT_EQ(archiver.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(archiver.status().message().find("in neither"), std::string::npos)
      << archiver.status().message();
}

TEST(ArchiveTest, ShouldStopProducersOnAFullDiskAndLoseNothing) {
  kappa::testing::SmallFilesystem disk(256 << 10);
  if (!disk.ok()) GTEST_SKIP() << disk.why();
  TempPath path;
  auto log = MustCreate(path.str(), Archived(disk.path(), 64 << 10, 32 << 10));
  ASSERT_TRUE(log);
  std::vector<std::string> notes;
  std::mutex notes_mu;
  ArchiverOptions ao;
  ao.report = [&](const std::string& n) {
    std::lock_guard<std::mutex> lock(notes_mu);
    notes.push_back(n);
  };
  auto archiver = Archiver::Open(log.get(), ao);
  ASSERT_TRUE(archiver.ok()) << archiver.status().message();
  (*archiver)->Start();
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok());
  std::uint64_t appended = 0;
  for (;; ++appended) {
    auto payload = MakeTagged(0, appended, 200);
    const AppendResult r =
        (*producer)->AppendBlocking(payload, 1, 0, std::chrono::milliseconds(1500));
    if (r != AppendResult::kOk) {
      EXPECT_EQ(r, AppendResult::kTimedOut);
      break;
    }
    ASSERT_LT(appended, 10000u) << "a 256 KiB disk took more than 2 MiB";
  }
  EXPECT_EQ(log->Info().archive.error, ENOSPC);
  {
    std::lock_guard<std::mutex> lock(notes_mu);
    ASSERT_FALSE(notes.empty());
    EXPECT_NE(notes[0].find(disk.path()), std::string::npos) << notes[0];
    EXPECT_NE(notes[0].find("No space left on device"), std::string::npos) << notes[0];
  }
  // Room again: the archiver goes on by itself, and every record appended is there.
  ASSERT_EQ(::mount("tmpfs", disk.path().c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0)
      << std::strerror(errno);
  for (std::uint64_t more = 0; more < 1000; ++more, ++appended) {
    auto payload = MakeTagged(0, appended, 200);
    ASSERT_EQ((*producer)->AppendBlocking(payload, 1, 0, std::chrono::seconds(10)),
              AppendResult::kOk);
  }
  ASSERT_TRUE((*archiver)->Stop().ok());
  EXPECT_EQ(log->Info().archive.error, 0);
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), appended);
}

}  // namespace
}  // namespace kappa::memlog
