// Sharded views: one writer per shard, readers that route each key to its shard and see the
// shards as one view.
#include "serving/shard.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::AsI64;
using testing::I64Value;
using testing::MakeSchema;
using testing::TempNamespace;

KeyedTableOptions ShardOptions(std::uint32_t shards, std::uint32_t shard,
                               std::uint64_t expected = 64) {
  KeyedTableOptions o;
  o.schema = MakeSchema({Field::I64("v")});
  o.shards = shards;
  o.shard = shard;
  o.expected_keys = expected;
  return o;
}

std::vector<std::unique_ptr<KeyedTableWriter>> MakeShards(Namespace& ns, const std::string& name,
                                                          std::uint32_t version,
                                                          std::uint32_t shards,
                                                          std::uint64_t expected = 64) {
  std::vector<std::unique_ptr<KeyedTableWriter>> w;
  for (std::uint32_t i = 0; i < shards; ++i) {
    auto created = KeyedTableWriter::Create(ns, name, version, ShardOptions(shards, i, expected));
    EXPECT_TRUE(created.ok()) << created.status().message();
    w.push_back(std::move(created).value());
  }
  return w;
}

TEST(ShardTest, ShouldSpreadKeysOverShardsDeterministically) {
  std::vector<int> counts(8);
  for (std::uint64_t k = 0; k < 80000; ++k) {
    const std::uint32_t s = ShardOf(k, 8);
    ASSERT_LT(s, 8u);
    ++counts[s];
    EXPECT_EQ(ShardOf(k, 1), 0u);
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 600);
  EXPECT_EQ(ShardOf("alice", 4), ShardOf(std::string("alice"), 4));
  EXPECT_LT(ShardOf("bob", 64), 64u);
}

TEST(ShardTest, ShouldReadAShardedViewAsOneOnceEveryShardExists) {
  TempNamespace t;
  auto ns = t.Open();
  auto w0 = KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(4, 0));
  ASSERT_TRUE(w0.ok()) << w0.status().message();
  // Incomplete: readers and flips refuse it, naming the missing shard.
  auto early = ViewReader::Open(t.path(), "s");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("shard 1 of 4"), std::string::npos)
      << early.status().message();
  // A shard with another count or kind is refused.
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(2, 1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(4, 0)).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(3, 0)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(4, 4)).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<std::unique_ptr<KeyedTableWriter>> w;
  w.push_back(std::move(w0).value());
  for (std::uint32_t i = 1; i < 4; ++i)
    w.push_back(std::move(KeyedTableWriter::Create(*ns, "s", 1, ShardOptions(4, i))).value());

  for (std::uint64_t k = 0; k < 10000; ++k) {
    const std::uint32_t owner = ShardOf(k, 4);
    ASSERT_EQ(w[(owner + 1) % 4]->Upsert(k, I64Value(1), k), WriteResult::kWrongShard);
    ASSERT_EQ(w[owner]->Upsert(k, I64Value(static_cast<std::int64_t>(k) * 2), k), WriteResult::kOk);
  }
  for (std::uint32_t i = 0; i < 4; ++i) w[i]->SetProgress(20000 + i, 100 + i);
  EXPECT_GT(w[0]->generation(), 0u);  // every shard grew from 128 slots

  auto r = std::move(ViewReader::Open(t.path(), "s")).value();
  EXPECT_EQ(r->shard_count(), 4u);
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (std::uint64_t k = 0; k < 10000; k += 7) {
    ASSERT_EQ(r->Get(k, v, &offset), ReadStatus::kOk) << k;
    EXPECT_EQ(AsI64(v), static_cast<std::int64_t>(k) * 2);
    EXPECT_EQ(offset, k);
  }
  EXPECT_EQ(r->Get(10001, v, &offset), ReadStatus::kNotFound);
  std::set<std::uint64_t> keys;
  ASSERT_EQ(r->Scan([&](const RowView& row) { return keys.insert(row.key_u64).second; }),
            ReadStatus::kOk);
  EXPECT_EQ(keys.size(), 10000u);
  const ViewInfo info = r->Info();
  EXPECT_EQ(info.shard_count, 4u);
  ASSERT_EQ(info.shards.size(), 4u);
  EXPECT_EQ(info.counters.entries, 10000u);
  EXPECT_EQ(info.applied_offset, 20000u);  // the slowest shard
  EXPECT_EQ(r->applied_offset(), 20000u);
  EXPECT_EQ(info.watermark_ns, 100);
  EXPECT_TRUE(info.writer_alive);
  std::uint64_t sum = 0;
  for (const ShardInfo& s : info.shards) sum += s.counters.entries;
  EXPECT_EQ(sum, 10000u);

  // One shard's writer detaches: the view is no longer fully written.
  w[2].reset();
  EXPECT_FALSE(r->Info().writer_alive);
  EXPECT_FALSE(r->Info().shards[2].writer_alive);
  // It reattaches to its shard only.
  auto again = KeyedTableWriter::Open(*ns, "s", 1, 2);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ((*again)->shard(), 2u);
  EXPECT_GT((*again)->size(), 2000u);
}

TEST(ShardTest, ShouldFlipBetweenShardedAndUnshardedVersionsAndRetireAllShards) {
  TempNamespace t;
  auto ns = t.Open();
  auto v1 = MakeShards(*ns, "q", 1, 2);
  for (std::uint64_t k = 0; k < 100; ++k)
    EXPECT_EQ(v1[ShardOf(k, 2)]->Upsert(k, I64Value(1), k), WriteResult::kOk);
  KeyedTableOptions plain = ShardOptions(1, 0);
  auto v2 = std::move(KeyedTableWriter::Create(*ns, "q", 2, plain)).value();
  for (std::uint64_t k = 0; k < 100; ++k)
    EXPECT_EQ(v2->Upsert(k, I64Value(2), k), WriteResult::kOk);
  auto v3 = MakeShards(*ns, "q", 3, 8);
  for (std::uint64_t k = 0; k < 100; ++k)
    EXPECT_EQ(v3[ShardOf(k, 8)]->Upsert(k, I64Value(3), k), WriteResult::kOk);

  auto r = std::move(ViewReader::Open(t.path(), "q")).value();
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  auto read = [&](std::uint64_t k) {
    EXPECT_EQ(r->Get(k, v, &offset), ReadStatus::kOk);
    return AsI64(v);
  };
  EXPECT_EQ(read(5), 1);
  ASSERT_TRUE(ns->Flip("q", 2).ok());
  EXPECT_EQ(read(5), 2);
  EXPECT_EQ(r->shard_count(), 1u);
  ASSERT_TRUE(ns->Flip("q", 3).ok());
  EXPECT_EQ(read(5), 3);
  EXPECT_EQ(r->shard_count(), 8u);
  ASSERT_TRUE(ns->Revert("q").ok());
  EXPECT_EQ(read(77), 2);

  const ViewListing l = std::move(ns->Describe("q")).value();
  ASSERT_EQ(l.versions.size(), 3u);
  EXPECT_EQ(l.versions[2].shard_count, 8u);
  EXPECT_EQ(l.versions[2].shards_present, 8u);
  v1.clear();
  ASSERT_TRUE(ns->Retire("q", 1).ok());
  for (int s = 0; s < 2; ++s)
    EXPECT_NE(::access((t.path() + "/" + detail::ViewFileName("q", 1, 0, s, 2)).c_str(), F_OK), 0);
  v3.clear();
  v2.reset();
  ASSERT_TRUE(ns->Drop("q").ok());
  EXPECT_EQ(r->Get(5, v, &offset), ReadStatus::kGone);
}

TEST(ShardTest, ShouldReportStaleOnlyForTheShardWhoseWriterDied) {
  TempNamespace t;
  std::uint64_t torn_key = 0;
  while (ShardOf(torn_key, 2) != 1) ++torn_key;
  const pid_t child = ::fork();
  if (child == 0) {
    auto ns = t.Open();
    auto shard1 = KeyedTableWriter::Create(*ns, "d", 1, ShardOptions(2, 1));
    if (!shard1.ok()) _exit(1);
    EXPECT_EQ((*shard1)->Upsert(torn_key, I64Value(9), 1), WriteResult::kOk);
    // Leave the key's slot mid-update, as a writer killed there would.
    int dir = -1;
    detail::Mapping map;
    detail::ViewShape shape;
    if (!detail::OpenDirectory(t.path(), &dir).ok()) _exit(2);
    const std::string file = detail::ViewFileName("d", 1, 0, 1, 2);
    if (!detail::MapView(dir, file, file, true, &map, &shape).ok()) _exit(3);
    for (std::uint64_t i = 0; i < shape.capacity; ++i) {
      auto* w =
          reinterpret_cast<std::uint64_t*>(map.data() + shape.slots_offset + i * shape.slot.size);
      if (MetaState(w[1]) == kSlotLive) detail::StoreRelease(w[0], w[0] | 1);
    }
    ::kill(::getpid(), SIGKILL);
  }
  auto ns = t.Open();
  auto shard0 = std::move(KeyedTableWriter::Create(*ns, "d", 1, ShardOptions(2, 0))).value();
  std::uint64_t other_key = 0;
  while (ShardOf(other_key, 2) != 0) ++other_key;
  EXPECT_EQ(shard0->Upsert(other_key, I64Value(4), 2), WriteResult::kOk);
  int status;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ReaderOptions o;
  o.stale_after_ns = 600'000'000'000;  // only the dead writer can make it give up soon
  auto r = std::move(ViewReader::Open(t.path(), "d", o)).value();
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  EXPECT_EQ(r->Get(torn_key, v, &offset), ReadStatus::kStale);
  ASSERT_EQ(r->Get(other_key, v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 4);
  // The shard's new writer repairs it.
  auto shard1 = std::move(KeyedTableWriter::Open(*ns, "d", 1, 1)).value();
  EXPECT_EQ(r->Get(torn_key, v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->Info().shards[1].counters.repaired, 1u);
}

TEST(ShardTest, ShouldKeepAWindowedKeysWindowsInItsShard) {
  TempNamespace t;
  auto ns = t.Open();
  std::vector<std::unique_ptr<WindowedTableWriter>> w;
  for (std::uint32_t i = 0; i < 4; ++i) {
    WindowedTableOptions o;
    o.schema = MakeSchema({Field::I64("v")});
    o.window_size_ns = 10;
    o.windows_per_key = 2;
    o.shards = 4;
    o.shard = i;
    w.push_back(std::move(WindowedTableWriter::Create(*ns, "w", 1, o)).value());
  }
  for (std::uint64_t k = 0; k < 50; ++k) {
    for (std::int64_t start = 0; start < 30; start += 10) {
      EXPECT_EQ(w[(ShardOf(k, 4) + 1) % 4]->Upsert(k, start, I64Value(start), 1),
                WriteResult::kWrongShard);
      ASSERT_EQ(
          w[ShardOf(k, 4)]->Upsert(k, start, I64Value(start + static_cast<std::int64_t>(k)), 1),
          WriteResult::kOk);
    }
  }
  auto r = std::move(ViewReader::Open(t.path(), "w")).value();
  for (std::uint64_t k = 0; k < 50; ++k) {
    std::vector<std::int64_t> got;
    ASSERT_EQ(r->GetWindows(k,
                            [&](const RowView& row) {
                              got.push_back(AsI64(row.value));
                              return true;
                            }),
              ReadStatus::kOk);
    EXPECT_EQ(got, (std::vector<std::int64_t>{10 + static_cast<std::int64_t>(k),
                                              20 + static_cast<std::int64_t>(k)}));
  }
}

// Writers of two shards in their own threads, a reader checking every value.
TEST(ShardTest, ShouldServeConcurrentShardWritersToAReader) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = MakeShards(*ns, "c", 1, 2, 16);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written[2] = {0, 0};
  std::vector<std::thread> writers;
  for (std::uint32_t s = 0; s < 2; ++s) {
    writers.emplace_back([&, s] {
      std::uint64_t round = 1;
      while (!stop.load(std::memory_order_relaxed)) {
        for (std::uint64_t k = 0; k < 4000; ++k) {
          if (ShardOf(k, 2) != s) continue;
          // Value: key * 1,000,000 + round; the round only grows.
          EXPECT_EQ(
              w[s]->Upsert(k, I64Value(static_cast<std::int64_t>(k * 1'000'000 + round)), round),
              WriteResult::kOk);
        }
        written[s].store(round++, std::memory_order_release);
      }
    });
  }
  while (written[0].load() == 0 || written[1].load() == 0) std::this_thread::yield();
  auto r = std::move(ViewReader::Open(t.path(), "c")).value();
  std::vector<std::byte> v(8);
  std::uint64_t offset, reads = 0, bad = 0;
  std::vector<std::int64_t> last(4000, 0);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < end) {
    for (std::uint64_t k = 0; k < 4000; k += 3) {
      if (r->Get(k, v, &offset) != ReadStatus::kOk) {
        ++bad;
        continue;
      }
      const std::int64_t x = AsI64(v);
      const std::int64_t round = x % 1'000'000;
      if (x / 1'000'000 != static_cast<std::int64_t>(k) || round < last[k] ||
          static_cast<std::uint64_t>(round) != offset)
        ++bad;
      last[k] = round;
      ++reads;
    }
  }
  stop.store(true);
  for (auto& th : writers) th.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(reads, 10000u);
  EXPECT_GT(r->generation(), 0u);
}

// A scan a chunk at a time visits every entry of every shard once, whatever the chunk size.
TEST(ShardTest, ShouldScanEveryShardAChunkAtATime) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = MakeShards(*ns, "s", 1, 4);
  for (std::uint64_t k = 0; k < 500; ++k)
    ASSERT_EQ(w[ShardOf(k, 4)]->Upsert(k, I64Value(static_cast<std::int64_t>(k)), k),
              WriteResult::kOk);
  auto r = std::move(ViewReader::Open(t.path(), "s")).value();
  for (const std::uint64_t chunk : {1u, 7u, 64u, 1000u}) {
    std::vector<std::uint64_t> keys;
    std::uint64_t position = 0;
    int calls = 0;
    while (position != UINT64_MAX) {
      std::uint64_t next = 0;
      std::uint64_t rows = 0;
      ASSERT_EQ(r->ScanFrom(
                    position, chunk,
                    [&](const RowView& row) {
                      keys.push_back(row.key_u64);
                      ++rows;
                      return true;
                    },
                    &next),
                ReadStatus::kOk);
      ASSERT_LE(rows, chunk);
      ASSERT_TRUE(next == UINT64_MAX || next > position) << "chunk " << chunk;
      position = next;
      ASSERT_LT(++calls, 1000);
    }
    std::sort(keys.begin(), keys.end());
    ASSERT_EQ(keys.size(), 500u) << "chunk " << chunk;
    for (std::uint64_t k = 0; k < 500; ++k) ASSERT_EQ(keys[k], k);
  }
  std::uint64_t next = 0;
  EXPECT_EQ(r->ScanFrom(
                12, 0, [](const RowView&) { return true; }, &next),
            ReadStatus::kOk);
  EXPECT_EQ(next, 12u);  // no rows asked for: the same position
}

}  // namespace
}  // namespace kappa::serving
