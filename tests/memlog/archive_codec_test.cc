// Compressed archive segments: sealed segments compressed in blocks (LZ4, Zstandard), read through
// the same LogReader, seeks, a codec chosen later, retention, damaged and half-made files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "memlog/archive.h"
#include "memlog/archiver.h"
#include "memlog/crc32c.h"
#include "memlog/detail/archive.h"
#include "memlog/detail/archive_recovery.h"
#include "memlog/detail/codec.h"
#include "memlog/log.h"
#include "tests/memlog/archive_util.h"
#include "tests/memlog/test_util.h"
#include "tests/temp_dir.h"

namespace kappa::memlog {
namespace {

using kappa::testing::TempDir;
using testing::AppendArchiving;
using testing::Archived;
using testing::MustArchive;
using testing::MustCreate;
using testing::ParseTagged;
using testing::ReadSequence;
using testing::Scribble;
using testing::SegmentFiles;
using testing::Tagged;
using testing::TempPath;

std::uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

CreateOptions Compressed(const std::string& dir, Codec codec,
                         std::uint64_t segment_bytes = 64 << 10) {
  CreateOptions o = Archived(dir, 64 << 10, segment_bytes);
  o.archive.codec = codec;
  return o;
}

// A log of `records` tagged records whose sealed segments are all compressed with `codec`.
struct CompressedLog {
  TempPath path;
  TempDir dir;
  std::unique_ptr<Log> log;
  std::unique_ptr<Archiver> archiver;
  std::vector<std::string> notes;
  Manifest manifest;  // as Make() left it

  void Make(Codec codec, std::uint64_t records, std::uint64_t segment_bytes = 64 << 10) {
    log = MustCreate(path.str(), Compressed(dir.str(), codec, segment_bytes));
    ASSERT_TRUE(log);
    archiver = MustArchive(log.get(), &notes);
    ASSERT_TRUE(archiver);
    AppendArchiving(log.get(), archiver.get(), 0, records);
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Seal().ok());
    ASSERT_TRUE(archiver->CompressAll().ok());
    manifest = archiver->manifest();
  }
  const SegmentInfo& Segment(std::size_t i) const { return manifest.segments.at(i); }
  std::string File(std::size_t i) const {
    return dir / SegmentFileName(Segment(i).base, Segment(i).codec);
  }
};

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, ShouldRoundTripABlockAndRefuseOneCutShortOrTooLong) {
  detail::BlockCodec codec(GetParam(), 0);
  std::vector<std::byte> raw(200'000);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = std::byte((i * 7 + i / 1000) & 0xFF);
  std::vector<std::byte> stored;
  ASSERT_TRUE(codec.Compress(raw, &stored));
  EXPECT_LT(stored.size(), raw.size());
  std::vector<std::byte> back(raw.size());
  ASSERT_TRUE(codec.Decompress(stored, back));
  EXPECT_EQ(back, raw);
  std::vector<std::byte> longer(raw.size() + 8);
  EXPECT_FALSE(codec.Decompress(stored, longer));  // holds fewer bytes than asked for
  EXPECT_FALSE(codec.Decompress(std::span(stored).first(stored.size() / 2), back));
}

TEST_P(CodecTest, ShouldReadEveryRecordOnceFromCompressedSegmentsWhileTheArchiverCompresses) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Compressed(dir.str(), GetParam(), 32 << 10));
  ASSERT_TRUE(log);
  auto archiver = MustArchive(log.get());
  ASSERT_TRUE(archiver);
  archiver->Start();
  constexpr std::uint64_t kRecords = 30000;  // ~3.5 MiB: 50+ times the ring, 100+ segments
  std::thread producer = testing::ProduceTagged(log.get(), kRecords);
  // A reader from the earliest offset that falls behind, so that it reads sealed segments that
  // are being compressed, and the compressed files that replace them.
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  std::uint64_t next = 0;
  RecordBatch batch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (next < kRecords && std::chrono::steady_clock::now() < deadline) {
    if (testing::kArchivedOnly && (*reader)->position() >= log->ring().LoadArchived()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const PollStatus st = (*reader)->Wait(&batch, std::chrono::milliseconds(10), 32);
    if (st == PollStatus::kEmpty) continue;
    ASSERT_EQ(st, PollStatus::kOk) << PollStatusName(st) << ": " << (*reader)->error();
    for (const Record& r : batch) {
      Tagged t;
      ASSERT_TRUE(ParseTagged(r.payload, &t) && r.ChecksumOk()) << "offset " << r.offset;
      ASSERT_EQ(t.seq, next) << "offset " << r.offset;
      ++next;
    }
    if (!(*reader)->StillValid(batch)) {
      (*reader)->ReadAgain(batch);
      next -= batch.size();
    }
    if (next % 4096 < 32) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  producer.join();
  ASSERT_TRUE(archiver->Stop().ok());
  EXPECT_EQ(next, kRecords);
  ASSERT_TRUE(archiver->Seal().ok());
  ASSERT_TRUE(archiver->CompressAll().ok());
  const Manifest& m = archiver->manifest();
  ASSERT_GE(m.segments.size(), 20u);
  for (const SegmentInfo& s : m.segments) {
    EXPECT_EQ(s.codec, GetParam()) << s.base;
    EXPECT_EQ(FileSize(dir / SegmentFileName(s.base, s.codec)), s.stored_bytes) << s.base;
  }
  EXPECT_LT(m.stored_bytes(), m.sealed_bytes() / 2);  // the tagged payloads compress well
  // Only the segment being written is left uncompressed.
  EXPECT_EQ(SegmentFiles(dir.str(), ".segz").size(), m.segments.size());
  EXPECT_EQ(SegmentFiles(dir.str(), ".seg").size(), 1u);
  EXPECT_EQ(log->Info().archive.stored_bytes, m.stored_bytes());
  EXPECT_EQ(log->Info().archive.codec, GetParam());
  // Read again from the start: every batch from a compressed block.
  auto again = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(again.ok());
  std::uint64_t archived = 0;
  EXPECT_EQ(ReadSequence(**again, 0, &archived), kRecords);
  EXPECT_EQ(archived, kRecords);
}

TEST_P(CodecTest, ShouldSeekByOffsetAndByTimeIntoCompressedBlocks) {
  CompressedLog c;
  c.Make(GetParam(), 20000, 512 << 10);  // segments of two or three blocks
  ASSERT_GE(c.archiver->manifest().segments.size(), 4u);
  ASSERT_EQ(c.Segment(3).codec, GetParam());
  // Every 997th record, by time (timestamps are the sequence numbers) and by its offset.
  for (std::uint64_t t = 0; t < 20000; t += 997) {
    auto by_time = c.log->NewReader(StartAt::Time(static_cast<std::int64_t>(t)));
    ASSERT_TRUE(by_time.ok()) << by_time.status().message();
    RecordBatch batch;
    ASSERT_EQ((*by_time)->Poll(&batch, 1), PollStatus::kOk) << (*by_time)->error();
    const Record first = *batch.begin();
    Tagged tag;
    ASSERT_TRUE(ParseTagged(first.payload, &tag));
    EXPECT_EQ(tag.seq, t);
    auto by_offset = c.log->NewReader(StartAt::Offset(first.offset));
    ASSERT_TRUE(by_offset.ok()) << by_offset.status().message();
    EXPECT_EQ(ReadSequence(**by_offset, t), 20000u - t);
  }
  // An offset inside a frame of a compressed segment is refused.
  const std::uint64_t inside = c.Segment(3).base + 8;
  EXPECT_EQ(c.log->NewReader(StartAt::Offset(inside)).status().code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest, ::testing::Values(Codec::kLz4, Codec::kZstd),
                         testing::CodecTestName);

TEST(ArchiveCodecTest, ShouldCompressSegmentsSealedBeforeTheCodecWasChosen) {
  TempPath path;
  TempDir dir;
  auto log = MustCreate(path.str(), Archived(dir.str(), 64 << 10, 32 << 10));
  ASSERT_TRUE(log);
  {
    auto archiver = MustArchive(log.get());
    AppendArchiving(log.get(), archiver.get(), 0, 5000);
    ASSERT_TRUE(archiver->Seal().ok());
    ASSERT_GE(archiver->manifest().segments.size(), 5u);
    for (const SegmentInfo& s : archiver->manifest().segments) EXPECT_EQ(s.codec, Codec::kNone);
  }
  // A reader in the middle of an uncompressed segment when it is compressed reads on.
  auto reader = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  RecordBatch batch;
  ASSERT_EQ((*reader)->Poll(&batch, 10), PollStatus::kOk);
  ArchiveSettings settings = ReadManifest(dir.str())->settings;
  settings.codec = Codec::kZstd;
  settings.codec_level = 1;
  auto archiver = MustArchive(log.get(), nullptr, settings);
  ASSERT_TRUE(archiver);
  EXPECT_TRUE(archiver->compressing());
  ASSERT_TRUE(archiver->CompressAll().ok());
  for (const SegmentInfo& s : archiver->manifest().segments)
    EXPECT_EQ(s.codec, Codec::kZstd) << s.base;
  EXPECT_EQ(SegmentFiles(dir.str(), ".seg").size(), 1u);  // the active one
  EXPECT_EQ(ReadSequence(**reader, 10), 5000u - 10);
  auto fresh = log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(ReadSequence(**fresh, 0), 5000u);
}

TEST(ArchiveCodecTest, ShouldCountCompressedBytesForRetentionAndDeleteCompressedFiles) {
  CompressedLog c;
  c.Make(Codec::kLz4, 20000, 16 << 10);
  const Manifest before = c.archiver->manifest();
  const std::uint64_t stored = before.stored_bytes();
  const std::size_t segments = before.segments.size();
  ASSERT_GE(segments, 20u);
  ArchiveSettings settings = c.archiver->settings();
  settings.retain_bytes = stored / 2;  // about half the segments, counted as stored
  c.archiver.reset();
  auto archiver = MustArchive(c.log.get(), nullptr, settings);
  ASSERT_TRUE(archiver);
  ASSERT_TRUE(archiver->ApplyRetention().ok());
  const Manifest& m = archiver->manifest();
  EXPECT_LE(m.stored_bytes(), settings.retain_bytes);
  ASSERT_LT(m.segments.size(), segments);
  const std::size_t dropped = segments - m.segments.size();
  EXPECT_GT(m.stored_bytes() + before.segments[dropped - 1].stored_bytes, settings.retain_bytes);
  EXPECT_GT(m.segments.size(), segments / 4);  // judged by compressed bytes: half of them stay
  EXPECT_EQ(SegmentFiles(c.dir.str(), ".segz").size(), m.segments.size());
  auto reader = c.log->NewReader(StartAt::Offset(m.earliest));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  RecordBatch batch;
  ASSERT_EQ((*reader)->Poll(&batch, 1), PollStatus::kOk);
}

TEST(ArchiveCodecTest, ShouldReportADamagedBlockNamingTheFileAndNeverHandOutItsFrames) {
  CompressedLog c;
  c.Make(Codec::kLz4, 6000);
  ASSERT_GE(c.archiver->manifest().segments.size(), 3u);
  const std::string second = c.File(1);
  Scribble(second, kSegmentHeaderSize + 40, std::string(16, '\x5a'));  // inside its first block
  // A seek into the damaged block says so.
  auto seek = c.log->NewReader(StartAt::Offset(c.Segment(1).base));
  ASSERT_FALSE(seek.ok());
  EXPECT_EQ(seek.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(seek.status().message().find(second), std::string::npos) << seek.status().message();
  // A reader from the start reads the segment before it to its end, then stops at the damage.
  auto early = c.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(early.ok());
  RecordBatch batch;
  PollStatus st;
  std::uint64_t records = 0;
  while ((st = (*early)->Poll(&batch)) == PollStatus::kOk) records += batch.size();
  EXPECT_EQ(st, PollStatus::kCorrupt);
  EXPECT_EQ(records, c.Segment(0).records);
  EXPECT_NE((*early)->error().find(second), std::string::npos) << (*early)->error();
  EXPECT_NE((*early)->error().find("block 0"), std::string::npos) << (*early)->error();
  EXPECT_EQ((*early)->position(), c.Segment(1).base);  // it does not move past it
  EXPECT_EQ((*early)->Poll(&batch), PollStatus::kCorrupt);
}

TEST(ArchiveCodecTest, ShouldReportADamagedBlockTheReadAheadFoundWhereItIs) {
  CompressedLog c;
  c.Make(Codec::kZstd, 20000, 1 << 20);
  const detail::Archive& archive = *c.log->archive();
  auto file = detail::SegmentFile::OpenSealed(archive.dir_fd(), c.dir.str(), c.Segment(0),
                                              archive.identity());
  ASSERT_TRUE(file.ok()) << file.status().message();
  const std::vector<BlockEntry> blocks = (*file)->blocks();
  ASSERT_GE(blocks.size(), 4u);
  file->reset();
  Scribble(c.File(0), static_cast<off_t>(blocks[2].file_at + blocks[2].stored_bytes / 2),
           std::string(8, '\x33'));
  // Blocks 0 and 1 read in order (block 2 read ahead meanwhile); then the damage, at block 2's
  // first offset, named.
  auto reader = c.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  RecordBatch batch;
  PollStatus st;
  while ((st = (*reader)->Poll(&batch)) == PollStatus::kOk) {
  }
  EXPECT_EQ(st, PollStatus::kCorrupt);
  EXPECT_EQ((*reader)->position(), blocks[2].first_offset);
  EXPECT_NE((*reader)->error().find("block 2"), std::string::npos) << (*reader)->error();
  // Past it, the next segment reads to the end.
  auto next = c.log->NewReader(StartAt::Offset(c.Segment(1).base));
  ASSERT_TRUE(next.ok()) << next.status().message();
  ASSERT_EQ((*next)->Poll(&batch, 1), PollStatus::kOk);
  Tagged first;
  ASSERT_TRUE(ParseTagged((*batch.begin()).payload, &first));
  EXPECT_EQ(ReadSequence(**next, first.seq + 1), 20000 - first.seq - 1);
}

TEST(ArchiveCodecTest, ShouldRefuseACompressedSegmentWithABadBlockIndexOrSize) {
  CompressedLog c;
  c.Make(Codec::kZstd, 6000);
  ASSERT_GE(c.archiver->manifest().segments.size(), 3u);
  c.archiver.reset();
  const std::string second = c.File(1);
  const std::uint64_t size = FileSize(second);
  // Garbage over the block index (the file's last bytes): the index's checksum says so.
  Scribble(second, static_cast<off_t>(size - 24), std::string(8, '\x11'));
  auto reader = c.log->NewReader(StartAt::Offset(c.Segment(1).base));
  EXPECT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("block index"), std::string::npos)
      << reader.status().message();
  // Truncated: recovery refuses to continue, naming the file and both sizes.
  ASSERT_EQ(::truncate(second.c_str(), static_cast<off_t>(size - 100)), 0);
  auto archiver = Archiver::Open(c.log.get());
  ASSERT_FALSE(archiver.ok());
  EXPECT_EQ(archiver.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(archiver.status().message().find(second), std::string::npos)
      << archiver.status().message();
  EXPECT_NE(archiver.status().message().find(std::to_string(size)), std::string::npos)
      << archiver.status().message();
}

TEST(ArchiveCodecTest, ShouldFinishACompressionThatWasCutShortAtAnyStep) {
  CompressedLog c;
  c.Make(Codec::kLz4, 8000);
  const std::size_t segments = c.archiver->manifest().segments.size();
  ASSERT_GE(segments, 4u);
  c.archiver.reset();
  // Put the archive back into the states a kill leaves behind, one segment each:
  Manifest m = *ReadManifest(c.dir.str());
  // (a) killed before the manifest listed the compressed file: both files, the manifest says
  //     uncompressed. The uncompressed file is remade from the compressed one's frames.
  const SegmentInfo a = m.segments[1];
  {
    const detail::Archive& archive = *c.log->archive();
    auto file =
        detail::SegmentFile::OpenSealed(archive.dir_fd(), c.dir.str(), a, archive.identity());
    ASSERT_TRUE(file.ok()) << file.status().message();
    std::string raw(kSegmentHeaderSize, '\0');
    const SegmentHeader h = detail::MakeSegmentHeader(archive.identity(), a.base, c.log->ring());
    std::memcpy(raw.data(), &h, sizeof h);
    for (std::uint64_t pos = a.base; pos < a.end; pos = (*file)->window_end()) {
      ASSERT_TRUE((*file)->Load(pos).ok());
      raw.append(reinterpret_cast<const char*>((*file)->frames().At(pos)),
                 (*file)->window_end() - pos);
    }
    ASSERT_EQ(raw.size(), kSegmentHeaderSize + a.bytes());
    std::ofstream(c.dir / SegmentFileName(a.base), std::ios::binary) << raw;
    m.segments[1].codec = Codec::kNone;
    m.segments[1].stored_bytes = raw.size();
  }
  // (b) killed after the manifest listed it but before the uncompressed file went: a copy of
  //     the compressed file's frames under the uncompressed name (any bytes: it is unused).
  const SegmentInfo b = m.segments[2];
  std::ofstream(c.dir / SegmentFileName(b.base), std::ios::binary) << std::string(4096 + 64, 'x');
  // (c) killed while writing: a temporary file.
  std::ofstream(c.dir / (SegmentFileName(m.segments[3].base, Codec::kLz4) + ".tmp.compress"),
                std::ios::binary)
      << "partial";
  ASSERT_TRUE(detail::WriteManifest(c.log->archive()->dir_fd(), c.dir.str(), m).ok());

  auto archiver = MustArchive(c.log.get());
  ASSERT_TRUE(archiver);
  // (a) the unlisted compressed file is gone and the segment is compressed again; (b) the stray
  // uncompressed copy is gone; (c) the temporary file is gone.
  EXPECT_EQ(SegmentFiles(c.dir.str(), ".seg").size(), 2u);  // (a)'s, and the active one
  EXPECT_EQ(FileSize(c.dir / SegmentFileName(b.base)), 0u);
  EXPECT_EQ(FileSize(c.dir / (SegmentFileName(m.segments[3].base, Codec::kLz4) + ".tmp.compress")),
            0u);
  EXPECT_TRUE(archiver->compressing());
  ASSERT_TRUE(archiver->CompressAll().ok());
  for (const SegmentInfo& s : archiver->manifest().segments)
    EXPECT_EQ(s.codec, Codec::kLz4) << s.base;
  EXPECT_EQ(SegmentFiles(c.dir.str(), ".seg").size(), 1u);
  auto reader = c.log->NewReader(StartAt::Earliest());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadSequence(**reader, 0), 8000u);
}

TEST(ArchiveCodecTest, ShouldReadAManifestWrittenBeforeCodecs) {
  CompressedLog c;
  c.Make(Codec::kNone, 3000, 32 << 10);
  std::string text = FormatManifest(c.archiver->manifest());
  // As an earlier build wrote it: no codec line, six fields per segment, its own checksum.
  auto drop_line = [&](const std::string& key) {
    const std::size_t at = text.find("\n" + key + " ");
    ASSERT_NE(at, std::string::npos);
    text.erase(at + 1, text.find('\n', at + 1) - at);
  };
  drop_line("codec");
  drop_line("crc");
  for (std::size_t at = text.find("\nsegment "); at != std::string::npos;
       at = text.find("\nsegment ", at + 1)) {
    const std::size_t eol = text.find('\n', at + 1);
    const std::size_t cut = text.rfind(" none ", eol);
    text.erase(cut, eol - cut);
  }
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", Crc32c(0, text.data(), text.size()));
  text += std::string("crc ") + crc + "\n";
  auto old = ParseManifest(text, "MANIFEST");
  ASSERT_TRUE(old.ok()) << old.status().message() << "\n" << text;
  EXPECT_EQ(old->settings.codec, Codec::kNone);
  ASSERT_EQ(old->segments.size(), c.archiver->manifest().segments.size());
  for (std::size_t i = 0; i < old->segments.size(); ++i) {
    EXPECT_EQ(old->segments[i].codec, Codec::kNone);
    EXPECT_EQ(old->segments[i].stored_bytes, c.Segment(i).stored_bytes);
  }
  // And today's round-trips, codec and sizes included.
  Manifest m = c.archiver->manifest();
  m.settings.codec = Codec::kZstd;
  m.settings.codec_level = 7;
  m.segments[0].codec = Codec::kZstd;
  m.segments[0].stored_bytes = 5000;
  auto back = ParseManifest(FormatManifest(m), "MANIFEST");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->settings.codec, Codec::kZstd);
  EXPECT_EQ(back->settings.codec_level, 7);
  EXPECT_EQ(back->segments[0].codec, Codec::kZstd);
  EXPECT_EQ(back->segments[0].stored_bytes, 5000u);
  // A level out of range is refused.
  m.settings.codec_level = 40;
  EXPECT_EQ(ParseManifest(FormatManifest(m), "MANIFEST").status().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace kappa::memlog
