// Helpers shared by the archive tests: a log with an archive, an archiver, appending while it
// archives, reading a tagged sequence back, and the files in an archive directory.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "memlog/archive.h"
#include "memlog/archiver.h"
#include "memlog/log.h"
#include "tests/memlog/test_util.h"

namespace kappa::memlog::testing {

// Under ThreadSanitizer, concurrent readers read only what the archive holds: no byte of the ring
// is read while producers may lap it (a lapped zero-copy read races with the producer's write by
// the memory model, seal words included; StillValid catches it in practice, TSan rightly reports
// it).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kArchivedOnly = true;
#else
inline constexpr bool kArchivedOnly = false;
#endif

inline CreateOptions Archived(const std::string& dir, std::uint64_t capacity,
                              std::uint64_t segment_bytes) {
  CreateOptions o;
  o.capacity = capacity;
  o.archive_directory = dir;
  o.archive.segment_bytes = segment_bytes;
  o.archive.flush_interval = std::chrono::milliseconds(5);
  return o;
}

inline std::unique_ptr<Log> MustCreate(const std::string& path, const CreateOptions& o) {
  auto log = Log::Create(path, o);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? std::move(*log) : nullptr;
}

inline std::unique_ptr<Archiver> MustArchive(
    Log* log, std::vector<std::string>* notes = nullptr,
    std::optional<ArchiveSettings> settings = std::nullopt) {
  ArchiverOptions o;
  o.settings = std::move(settings);
  if (notes) o.report = [notes](const std::string& n) { notes->push_back(n); };
  auto a = Archiver::Open(log, std::move(o));
  EXPECT_TRUE(a.ok()) << a.status().message();
  return a.ok() ? std::move(*a) : nullptr;
}

// Appends records tagged (0, first..first+n-1) of `size` bytes, running the archiver's passes
// whenever the ring is full.
inline void AppendArchiving(Log* log, Archiver* archiver, std::uint64_t first, std::uint64_t n,
                            std::size_t size = 100) {
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok());
  for (std::uint64_t seq = first; seq < first + n;) {
    auto payload = MakeTagged(0, seq, size);
    const AppendResult r = (*producer)->Append(payload, 1, static_cast<std::int64_t>(seq));
    if (r == AppendResult::kOk) {
      ++seq;
      continue;
    }
    ASSERT_EQ(r, AppendResult::kFull);
    ASSERT_NE(archiver, nullptr) << "the ring is full and no archiver runs";
    ASSERT_TRUE(archiver->Pass().ok());
    ASSERT_TRUE(archiver->Flush().ok());
  }
}

// A thread that appends records tagged (0, 0..n-1) of 20 to 219 bytes, each stamped with its
// sequence number as its event time, waiting while the ring is full.
inline std::thread ProduceTagged(Log* log, std::uint64_t n) {
  return std::thread([log, n] {
    auto p = log->NewProducer();
    ASSERT_TRUE(p.ok());
    for (std::uint64_t seq = 0; seq < n; ++seq) {
      auto payload = MakeTagged(0, seq, 20 + seq % 200);
      ASSERT_EQ((*p)->AppendBlocking(payload, 1, static_cast<std::int64_t>(seq),
                                     std::chrono::seconds(30)),
                AppendResult::kOk);
    }
  });
}

// Reads every record from `reader` until it is empty; checks that they are tagged in sequence.
inline std::uint64_t ReadSequence(LogReader& reader, std::uint64_t expect_first,
                                  std::uint64_t* archived = nullptr) {
  RecordBatch batch;
  std::uint64_t next = expect_first;
  for (;;) {
    const PollStatus st = reader.Poll(&batch);
    if (st == PollStatus::kEmpty) break;
    EXPECT_EQ(st, PollStatus::kOk)
        << PollStatusName(st) << " at " << reader.position() << ": " << reader.error();
    if (st != PollStatus::kOk) break;
    if (archived && batch.archived()) *archived += batch.size();
    for (const Record& r : batch) {
      Tagged t;
      EXPECT_TRUE(ParseTagged(r.payload, &t)) << "offset " << r.offset;
      EXPECT_TRUE(r.ChecksumOk()) << "offset " << r.offset;
      EXPECT_EQ(t.seq, next) << "offset " << r.offset;
      next = t.seq + 1;
    }
  }
  return next - expect_first;
}

// The names of the segment files in `dir` that end in `suffix`, sorted.
inline std::vector<std::string> SegmentFiles(const std::string& dir,
                                             std::string_view suffix = ".seg") {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::uint64_t base;
      if (ParseSegmentFileName(e->d_name, suffix, &base)) out.push_back(e->d_name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Writes `bytes` over the file at `path` from `at`.
inline void Scribble(const std::string& path, off_t at, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), at), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// "lz4" and the like, for tests parameterized by codec.
inline std::string CodecTestName(const ::testing::TestParamInfo<Codec>& param) {
  return CodecName(param.param);
}

}  // namespace kappa::memlog::testing
