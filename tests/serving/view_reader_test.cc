// Reader behaviour at the edges: entries left mid-update (dead or stalled writers), wrong kinds
// and bad arguments.
#include "serving/view_reader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>

#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/view_writer.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::AsI64;
using testing::I64Value;
using testing::MakeSchema;
using testing::TempNamespace;

KeyedTableOptions Options() {
  KeyedTableOptions o;
  o.schema = MakeSchema({Field::I64("v"), Field::I64("w")});
  return o;
}

std::vector<std::byte> Value(std::int64_t v) {
  std::vector<std::byte> b(16);
  std::memcpy(b.data(), &v, 8);
  std::memcpy(b.data() + 8, &v, 8);
  return b;
}

// Leaves the slot of `key` in view file `path` with an odd seq, as a writer dying mid-update
// would. Returns false if the key is not found.
bool TearSlot(const std::string& ns_path, const std::string& file, std::uint64_t key) {
  int dir = -1;
  if (!detail::OpenDirectory(ns_path, &dir).ok()) return false;
  detail::Mapping map;
  detail::ViewShape shape;
  const Status s =
      detail::MapView(dir, file, ns_path + "/" + file, /*writable=*/true, &map, &shape);
  ::close(dir);
  if (!s.ok()) return false;
  for (std::uint64_t i = 0; i < shape.capacity; ++i) {
    auto* w =
        reinterpret_cast<std::uint64_t*>(map.data() + shape.slots_offset + i * shape.slot.size);
    if (MetaState(w[1]) == kSlotLive && w[shape.slot.key_at / 8] == key) {
      detail::StoreRelease(w[0], w[0] | 1);
      return true;
    }
  }
  return false;
}

TEST(ViewReaderTest, ShouldReturnStaleForAnEntryWhoseWriterDiedMidUpdate) {
  TempNamespace t;
  const pid_t child = ::fork();
  if (child == 0) {
    auto ns = t.Open();
    auto w = KeyedTableWriter::Create(*ns, "s", 1, Options());
    if (!w.ok()) _exit(1);
    for (std::uint64_t k = 0; k < 100; ++k)
      EXPECT_EQ((*w)->Upsert(k, Value(static_cast<std::int64_t>(k)), k), WriteResult::kOk);
    if (!TearSlot(t.path(), "s@1.0.view", 5)) _exit(2);
    ::kill(::getpid(), SIGKILL);  // dies as the writer, holding the view
  }
  int status;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  ReaderOptions o;
  o.stale_after_ns = 600'000'000'000;  // only the dead writer can make it give up soon
  auto r = std::move(ViewReader::Open(t.path(), "s", o)).value();
  EXPECT_FALSE(r->WriterAlive());
  std::vector<std::byte> v(16);
  std::uint64_t offset;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(r->Get(5, v, &offset), ReadStatus::kStale);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  ASSERT_EQ(r->Get(6, v, &offset), ReadStatus::kOk);  // the rest reads fine
  EXPECT_EQ(AsI64(v), 6);
  EXPECT_EQ(r->Scan([](const RowView&) { return true; }), ReadStatus::kStale);  // skipped one

  // A new writer repairs the torn entry: gone, and counted.
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Open(*ns, "s", 1)).value();
  EXPECT_EQ(r->Get(5, v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->Info().counters.repaired, 1u);
  EXPECT_EQ(w->size(), 99u);
  EXPECT_TRUE(r->WriterAlive());
  std::uint64_t rows = 0;
  EXPECT_EQ(r->Scan([&](const RowView&) { return ++rows > 0; }), ReadStatus::kOk);
  EXPECT_EQ(rows, 99u);
}

TEST(ViewReaderTest, ShouldReturnStaleAfterTheBoundForAStalledLiveWriter) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "s", 1, Options())).value();
  for (std::uint64_t k = 0; k < 10; ++k)
    EXPECT_EQ(w->Upsert(k, Value(static_cast<std::int64_t>(k)), k), WriteResult::kOk);
  ASSERT_TRUE(TearSlot(t.path(), "s@1.0.view", 3));
  ReaderOptions o;
  o.stale_after_ns = 20'000'000;
  auto r = std::move(ViewReader::Open(t.path(), "s", o)).value();
  EXPECT_TRUE(r->WriterAlive());
  std::vector<std::byte> v(16);
  std::uint64_t offset;
  EXPECT_EQ(r->Get(3, v, &offset), ReadStatus::kStale);
  // The writer finishes its update: the entry reads again.
  ASSERT_EQ(w->Upsert(3, Value(33), 99), WriteResult::kOk);
  ASSERT_EQ(r->Get(3, v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 33);
  EXPECT_EQ(offset, 99u);
}

TEST(ViewReaderTest, ShouldRefuseCallsThatDoNotSuitTheView) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "k", 1, Options())).value();
  ASSERT_EQ(w->Upsert(1, Value(1), 1), WriteResult::kOk);
  auto r = std::move(ViewReader::Open(t.path(), "k")).value();
  std::vector<std::byte> small(8), v(16);
  std::uint64_t offset;
  EXPECT_EQ(r->Get(1, small, &offset), ReadStatus::kBadArgument);
  EXPECT_EQ(r->Get("bytes", v, &offset), ReadStatus::kWrongKind);
  EXPECT_EQ(r->GetWindow(1, 0, v, &offset), ReadStatus::kWrongKind);
  EXPECT_EQ(r->TopK([](const RowView&) { return true; }), ReadStatus::kWrongKind);
  std::uint64_t next;
  EXPECT_EQ(r->ListRows(
                0, 1, [](const RowView&) { return true; }, &next),
            ReadStatus::kWrongKind);
  // Writers refuse the wrong value size.
  EXPECT_EQ(w->Upsert(2, small, 1), WriteResult::kBadArgument);
  EXPECT_EQ(w->Upsert("bytes", v, 1), WriteResult::kWrongKey);

  WindowedTableOptions wo;
  wo.schema = MakeSchema({Field::I64("v")});
  wo.window_size_ns = 10;
  auto ww = std::move(WindowedTableWriter::Create(*ns, "w", 1, wo)).value();
  EXPECT_EQ(ww->Upsert(1, std::numeric_limits<std::int64_t>::min(), I64Value(1), 1),
            WriteResult::kBadArgument);
  auto wr = std::move(ViewReader::Open(t.path(), "w")).value();
  EXPECT_EQ(wr->GetWindow(1, std::numeric_limits<std::int64_t>::min(), small, &offset),
            ReadStatus::kBadArgument);
  EXPECT_EQ(wr->Get(1, small, &offset), ReadStatus::kWrongKind);
  wo.window_slide_ns = 20;
  EXPECT_FALSE(WindowedTableWriter::Create(*ns, "w2", 1, wo).ok());
}

}  // namespace
}  // namespace kappa::serving
