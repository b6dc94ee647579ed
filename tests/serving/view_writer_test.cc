// The view kinds, written by their writers and read back by ViewReader.
#include "serving/view_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "serving/detail/names.h"
#include "serving/view_reader.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::AsI64;
using testing::I64Value;
using testing::MakeSchema;
using testing::TempNamespace;

std::unique_ptr<ViewReader> OpenReader(const TempNamespace& t, const std::string& ref) {
  auto r = ViewReader::Open(t.path(), ref);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : nullptr;
}

KeyedTableOptions CountOptions(std::uint64_t expected = 16) {
  KeyedTableOptions o;
  o.schema = MakeSchema({Field::I64("count")});
  o.expected_keys = expected;
  return o;
}

TEST(KeyedTableTest, ShouldReadBackWhatWasWrittenWithItsOffset) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "counts", 1, CountOptions())).value();
  ASSERT_EQ(w->Upsert(7, I64Value(70), 1000), WriteResult::kOk);
  ASSERT_EQ(w->Upsert(8, I64Value(80), 1001), WriteResult::kOk);
  ASSERT_EQ(w->Upsert(7, I64Value(71), 1002), WriteResult::kOk);
  w->SetProgress(1003, 55);

  auto r = OpenReader(t, "counts");
  std::vector<std::byte> v(8);
  std::uint64_t offset = 0;
  ASSERT_EQ(r->Get(7, v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 71);
  EXPECT_EQ(offset, 1002u);
  ASSERT_EQ(r->Get(8, v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 80);
  EXPECT_EQ(offset, 1001u);
  EXPECT_EQ(r->Get(9, v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->applied_offset(), 1003u);
  EXPECT_EQ(r->watermark_ns(), 55);
  const ViewInfo info = r->Info();
  EXPECT_EQ(info.counters.entries, 2u);
  EXPECT_EQ(info.counters.inserts, 2u);
  EXPECT_EQ(info.counters.updates, 3u);
  EXPECT_EQ(info.writer_pid, static_cast<std::uint64_t>(::getpid()));
  EXPECT_TRUE(info.writer_alive);
  EXPECT_EQ(info.schema.field(0).name, "count");
}

TEST(KeyedTableTest, ShouldCountInPlaceWithUpdate) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "counts", 1, CountOptions())).value();
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(w->Update(i % 10, i,
                        [](std::span<std::byte> v, bool) {
                          std::int64_t c = AsI64(v);
                          ++c;
                          std::memcpy(v.data(), &c, 8);
                        }),
              WriteResult::kOk);
  }
  auto r = OpenReader(t, "counts");
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (std::uint64_t k = 0; k < 10; ++k) {
    ASSERT_EQ(r->Get(k, v, &offset), ReadStatus::kOk);
    EXPECT_EQ(AsI64(v), 100);
    EXPECT_EQ(offset, 990 + k);
  }
}

TEST(KeyedTableTest, ShouldGrowIntoNewGenerationsWhileAReaderFollows) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "grow", 1, CountOptions(8))).value();
  auto r = OpenReader(t, "grow");
  EXPECT_EQ(w->capacity(), 16u);
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (std::uint64_t k = 0; k < 5000; ++k) {
    ASSERT_EQ(w->Upsert(k * 7919, I64Value(static_cast<std::int64_t>(k)), k), WriteResult::kOk);
    if (k % 97 == 0) {
      // The reader sees every key written so far, across growths.
      for (std::uint64_t j = 0; j <= k; j += 13) {
        ASSERT_EQ(r->Get(j * 7919, v, &offset), ReadStatus::kOk) << "key " << j << " after " << k;
        ASSERT_EQ(AsI64(v), static_cast<std::int64_t>(j));
      }
    }
  }
  EXPECT_GT(w->generation(), 5u);
  EXPECT_GE(w->capacity() * 3, w->size() * 4);  // load at most 3/4
  EXPECT_EQ(w->size(), 5000u);
  EXPECT_EQ(r->Get(1, v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->generation(), w->generation());
  // Old generations' files are gone; only the current one remains.
  auto listing = std::move(ns->Describe("grow")).value();
  ASSERT_EQ(listing.versions.size(), 1u);
  EXPECT_EQ(listing.versions[0].generation, w->generation());
  int files = 0;
  for (std::uint32_t g = 0; g <= w->generation(); ++g)
    files += ::access((t.path() + "/" + detail::ViewFileName("grow", 1, g)).c_str(), F_OK) == 0;
  EXPECT_EQ(files, 1);
}

TEST(KeyedTableTest, ShouldEraseAndReuseTombstonesWithoutLosingOtherKeys) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "churn", 1, CountOptions(64))).value();
  std::map<std::uint64_t, std::int64_t> model;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t k = rng() % 200;
    if (rng() % 3 == 0) {
      EXPECT_EQ(w->Erase(k), model.erase(k) == 1);
    } else {
      ASSERT_EQ(w->Upsert(k, I64Value(i), static_cast<std::uint64_t>(i)), WriteResult::kOk);
      model[k] = i;
    }
  }
  EXPECT_EQ(w->size(), model.size());
  auto r = OpenReader(t, "churn");
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (std::uint64_t k = 0; k < 200; ++k) {
    auto it = model.find(k);
    if (it == model.end()) {
      EXPECT_EQ(r->Get(k, v, &offset), ReadStatus::kNotFound) << k;
    } else {
      ASSERT_EQ(r->Get(k, v, &offset), ReadStatus::kOk) << k;
      EXPECT_EQ(AsI64(v), it->second);
    }
  }
  // Scan returns each live key once.
  std::set<std::uint64_t> seen;
  ASSERT_EQ(r->Scan([&](const RowView& row) {
    EXPECT_TRUE(seen.insert(row.key_u64).second);
    EXPECT_EQ(AsI64(row.value), model.at(row.key_u64));
    return true;
  }),
            ReadStatus::kOk);
  EXPECT_EQ(seen.size(), model.size());
}

TEST(KeyedTableTest, ShouldKeyByBytesUpToTheirLength) {
  TempNamespace t;
  auto ns = t.Open();
  KeyedTableOptions o = CountOptions();
  o.key_type = KeyType::kBytes;
  o.key_size = 12;
  o.key_name = "user";
  auto w = std::move(KeyedTableWriter::Create(*ns, "users", 1, o)).value();
  ASSERT_EQ(w->Upsert("alice", I64Value(1), 1), WriteResult::kOk);
  ASSERT_EQ(w->Upsert("bob", I64Value(2), 2), WriteResult::kOk);
  ASSERT_EQ(w->Upsert("twelve-bytes", I64Value(3), 3), WriteResult::kOk);
  EXPECT_EQ(w->Upsert("thirteen-byte", I64Value(4), 4), WriteResult::kBadArgument);
  EXPECT_EQ(w->Upsert(std::uint64_t{5}, I64Value(4), 4), WriteResult::kWrongKey);
  ASSERT_EQ(w->Upsert(std::string_view("a\0b", 3), I64Value(5), 5), WriteResult::kOk);
  auto r = OpenReader(t, "users");
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  ASSERT_EQ(r->Get("alice", v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 1);
  ASSERT_EQ(r->Get("twelve-bytes", v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 3);
  ASSERT_EQ(r->Get(std::string_view("a\0b", 3), v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 5);
  EXPECT_EQ(r->Get("a", v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->Get("alic", v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->Get(std::uint64_t{1}, v, &offset), ReadStatus::kWrongKind);
  EXPECT_EQ(r->Get("much-too-long-a-key", v, &offset), ReadStatus::kBadArgument);
  std::set<std::string> keys;
  ASSERT_EQ(
      r->Scan([&](const RowView& row) { return keys.insert(std::string(row.key_bytes)).second; }),
      ReadStatus::kOk);
  EXPECT_EQ(keys, (std::set<std::string>{"alice", "bob", "twelve-bytes", std::string("a\0b", 3)}));
}

TEST(KeyedTableTest, ShouldReopenAsWriterAndKeepEverything) {
  TempNamespace t;
  auto ns = t.Open();
  {
    auto w = std::move(KeyedTableWriter::Create(*ns, "keep", 1, CountOptions())).value();
    for (std::uint64_t k = 0; k < 100; ++k)
      ASSERT_EQ(w->Upsert(k, I64Value(static_cast<std::int64_t>(k)), k), WriteResult::kOk);
    w->SetProgress(100);
    // A second writer is refused while the first holds the view.
    auto second = KeyedTableWriter::Open(*ns, "keep", 1);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  }
  auto w = std::move(KeyedTableWriter::Open(*ns, "keep", 1)).value();
  EXPECT_EQ(w->size(), 100u);
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  ASSERT_TRUE(w->Get(42, v, &offset));
  EXPECT_EQ(AsI64(v), 42);
  auto r = OpenReader(t, "keep");
  EXPECT_EQ(r->applied_offset(), 100u);
  EXPECT_EQ(r->Info().writer_epoch, 2u);
  // Wrong-kind opens are refused.
  auto as_window = WindowedTableWriter::Open(*ns, "keep", 1);
  EXPECT_FALSE(as_window.ok());
}

TEST(KeyedTableTest, ShouldRefuseBadOptions) {
  TempNamespace t;
  auto ns = t.Open();
  KeyedTableOptions o = CountOptions();
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "bad name", 1, o).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyedTableWriter::Create(*ns, ".hidden", 1, o).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "ok", 0, o).status().code(),
            StatusCode::kInvalidArgument);
  KeyedTableOptions no_schema;
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "ok", 1, no_schema).status().code(),
            StatusCode::kInvalidArgument);
  KeyedTableOptions long_key = CountOptions();
  long_key.key_type = KeyType::kBytes;
  long_key.key_size = 33;
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "ok", 1, long_key).status().code(),
            StatusCode::kInvalidArgument);
  KeyedTableOptions clash = CountOptions();
  clash.key_name = "count";
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "ok", 1, clash).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(KeyedTableWriter::Create(*ns, "ok", 1, o).ok());
  EXPECT_EQ(KeyedTableWriter::Create(*ns, "ok", 1, o).status().code(), StatusCode::kAlreadyExists);
}

TEST(KeyedTableTest, ShouldExportAndRestoreItsContentsAtOnceForReaders) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(KeyedTableWriter::Create(*ns, "snap", 1, CountOptions())).value();
  for (std::uint64_t k = 0; k < 500; ++k)
    ASSERT_EQ(w->Upsert(k, I64Value(static_cast<std::int64_t>(k)), k), WriteResult::kOk);
  const std::string saved = w->Export();
  // Later changes: updates, new keys, deletions.
  for (std::uint64_t k = 0; k < 800; ++k)
    ASSERT_EQ(w->Upsert(k, I64Value(-1), 1000 + k), WriteResult::kOk);
  ASSERT_TRUE(w->Erase(3));
  auto r = OpenReader(t, "snap");
  const std::uint32_t generation = r->generation();
  ASSERT_TRUE(w->Restore(saved).ok());
  EXPECT_EQ(w->size(), 500u);
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  for (std::uint64_t k = 0; k < 500; ++k) {
    ASSERT_EQ(r->Get(k, v, &offset), ReadStatus::kOk) << k;
    EXPECT_EQ(AsI64(v), static_cast<std::int64_t>(k));
    EXPECT_EQ(offset, k);
  }
  EXPECT_EQ(r->Get(600, v, &offset), ReadStatus::kNotFound);
  EXPECT_GT(r->generation(), generation);  // a new generation, switched to at once
  EXPECT_FALSE(w->Restore("garbage").ok());
  EXPECT_FALSE(w->Restore(saved.substr(0, saved.size() - 1)).ok());
  // A windowed table's export keeps its directories.
  WindowedTableOptions wo;
  wo.schema = MakeSchema({Field::I64("count")});
  wo.window_size_ns = 10;
  wo.windows_per_key = 3;
  auto ww = std::move(WindowedTableWriter::Create(*ns, "wsnap", 1, wo)).value();
  for (std::int64_t s = 0; s < 50; s += 10)
    EXPECT_EQ(ww->Upsert(std::uint64_t{7}, s, I64Value(s), 1), WriteResult::kOk);
  const std::string wsaved = ww->Export();
  EXPECT_EQ(ww->Upsert(std::uint64_t{7}, 100, I64Value(100), 2), WriteResult::kOk);
  ASSERT_TRUE(ww->Restore(wsaved).ok());
  auto wr = OpenReader(t, "wsnap");
  std::vector<std::int64_t> starts;
  EXPECT_EQ(
      wr->GetWindows(std::uint64_t{7},
                     [&](const RowView& row) { return starts.push_back(row.window_start), true; }),
      ReadStatus::kOk);
  EXPECT_EQ(starts, (std::vector<std::int64_t>{20, 30, 40}));
}

TEST(SchemaTest, ShouldLayOutFieldsAndRefuseBadOnes) {
  auto s =
      Schema::Make({Field::I64("a"), Field::String("name", 5), Field::F64("c"), Field::U64("d")});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->field(1).offset, 8u);
  EXPECT_EQ(s->field(2).offset, 16u);
  EXPECT_EQ(s->value_size(), 32u);
  std::vector<std::byte> v(s->value_size());
  s->SetString(v, 1, "longer than five");
  EXPECT_EQ(s->GetString(v, 1), "longe");
  s->SetF64(v, 2, 2.5);
  EXPECT_EQ(s->GetNumber(v, 2), 2.5);
  EXPECT_EQ(s->Find("d"), 3);
  EXPECT_EQ(s->Find("e"), -1);
  EXPECT_FALSE(Schema::Make({}).ok());
  EXPECT_FALSE(Schema::Make({Field::I64("a"), Field::I64("a")}).ok());
  EXPECT_FALSE(Schema::Make({Field::I64("bad-name")}).ok());
  EXPECT_FALSE(Schema::Make({Field::String("s", 0)}).ok());
  EXPECT_FALSE(Schema::Make({Field::String("s", kMaxValueSize + 1)}).ok());
}

// ---- Windowed ----

WindowedTableOptions WindowOptions(std::uint32_t per_key, std::int64_t retention = 0) {
  WindowedTableOptions o;
  o.schema = MakeSchema({Field::I64("count")});
  o.window_size_ns = 10;
  o.window_slide_ns = 2;
  o.windows_per_key = per_key;
  o.retention_ns = retention;
  o.expected_entries = 64;
  return o;
}

std::vector<std::pair<std::int64_t, std::int64_t>> Windows(ViewReader& r, std::uint64_t key) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  EXPECT_EQ(r.GetWindows(key,
                         [&](const RowView& row) {
                           out.emplace_back(row.window_start, AsI64(row.value));
                           return true;
                         }),
            ReadStatus::kOk);
  return out;
}

TEST(WindowedTableTest, ShouldKeepTheLastNWindowsOfEachKey) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(WindowedTableWriter::Create(*ns, "win", 1, WindowOptions(3))).value();
  for (std::int64_t start = 0; start < 10; start += 2) {
    ASSERT_EQ(w->Upsert(1, start, I64Value(start * 10), static_cast<std::uint64_t>(start)),
              WriteResult::kOk);
  }
  ASSERT_EQ(w->Upsert(2, 4, I64Value(444), 100), WriteResult::kOk);
  // Out of order: an older window than all retained ones is dropped at once.
  ASSERT_EQ(w->Upsert(1, 0, I64Value(-1), 101), WriteResult::kOk);
  auto r = OpenReader(t, "win");
  EXPECT_EQ(Windows(*r, 1),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 40}, {6, 60}, {8, 80}}));
  EXPECT_EQ(Windows(*r, 2), (std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 444}}));
  EXPECT_EQ(r->GetWindows(3, [](const RowView&) { return true; }), ReadStatus::kNotFound);
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  ASSERT_EQ(r->GetWindow(1, 6, v, &offset), ReadStatus::kOk);
  EXPECT_EQ(AsI64(v), 60);
  EXPECT_EQ(offset, 6u);
  EXPECT_EQ(r->GetWindow(1, 2, v, &offset), ReadStatus::kNotFound);
  EXPECT_EQ(r->Info().newest_window, 8);
  // A window in the middle, inserted late, evicts the oldest.
  ASSERT_EQ(w->Upsert(1, 5, I64Value(55), 102), WriteResult::kOk);
  EXPECT_EQ(Windows(*r, 1),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{5, 55}, {6, 60}, {8, 80}}));
  // Scan shows window rows only (directories are internal).
  int rows = 0;
  EXPECT_EQ(r->Scan([&](const RowView& row) {
    ++rows;
    EXPECT_TRUE(row.key_u64 == 1 || row.key_u64 == 2);
    return true;
  }),
            ReadStatus::kOk);
  EXPECT_EQ(rows, 4);
}

TEST(WindowedTableTest, ShouldExpireWindowsPastTheRetention) {
  TempNamespace t;
  auto ns = t.Open();
  auto w = std::move(WindowedTableWriter::Create(*ns, "exp", 1, WindowOptions(8, 5))).value();
  for (std::uint64_t key = 0; key < 50; ++key) {
    for (std::int64_t start = 0; start <= 20; start += 2)
      ASSERT_EQ(w->Upsert(key, start, I64Value(start), 1), WriteResult::kOk);
  }
  // Windows [s, s+10) with s+10 <= 30-5, i.e. s <= 15, go.
  EXPECT_EQ(w->Expire(30), 50u * 5);  // 8 retained per key: 6..20; of those 6,8,10,12,14 go
  auto r = OpenReader(t, "exp");
  EXPECT_EQ(Windows(*r, 7),
            (std::vector<std::pair<std::int64_t, std::int64_t>>{{16, 16}, {18, 18}, {20, 20}}));
  EXPECT_EQ(w->Expire(30), 0u);
  EXPECT_EQ(w->Expire(100), 150u);
  EXPECT_EQ(r->GetWindows(7, [](const RowView&) { return true; }), ReadStatus::kNotFound);
  EXPECT_EQ(w->size(), 0u);  // directories went with their last window
  EXPECT_EQ(r->Info().counters.entries, 0u);
}

TEST(WindowedTableTest, ShouldRebuildDirectoriesWhenReopenedAndSurviveGrowth) {
  TempNamespace t;
  auto ns = t.Open();
  {
    auto w = std::move(WindowedTableWriter::Create(*ns, "re", 1, WindowOptions(4))).value();
    for (std::uint64_t key = 0; key < 300; ++key) {
      for (std::int64_t start = 0; start < 12; start += 2)
        ASSERT_EQ(w->Update(key, start, 1,
                            [&](std::span<std::byte> v, bool inserted) {
                              EXPECT_TRUE(inserted);
                              std::memcpy(v.data(), &start, 8);
                            }),
                  WriteResult::kOk);
    }
  }
  auto w = std::move(WindowedTableWriter::Open(*ns, "re", 1)).value();
  EXPECT_EQ(w->size(), 300u * 5);  // 4 windows and a directory per key
  auto r = OpenReader(t, "re");
  for (std::uint64_t key = 0; key < 300; key += 37)
    EXPECT_EQ(Windows(*r, key), (std::vector<std::pair<std::int64_t, std::int64_t>>{
                                    {4, 4}, {6, 6}, {8, 8}, {10, 10}}));
}

// ---- Top-K ----

TEST(TopKTest, ShouldPublishTheKBestSortedAndWhole) {
  TempNamespace t;
  auto ns = t.Open();
  TopKOptions o;
  o.schema = MakeSchema({Field::String("item", 8), Field::I64("bids")});
  o.k = 3;
  o.order_field = "bids";
  auto w = std::move(TopKWriter::Create(*ns, "hot", 1, o)).value();
  auto value = [&](const std::string& item, std::int64_t bids) {
    std::vector<std::byte> v(w->schema().value_size());
    w->schema().SetString(v, 0, item);
    w->schema().SetI64(v, 1, bids);
    return v;
  };
  auto r = OpenReader(t, "hot");
  auto list = [&] {
    std::vector<std::pair<std::uint64_t, std::int64_t>> out;
    EXPECT_EQ(r->TopK([&](const RowView& row) {
      out.emplace_back(row.key_u64, r->schema().GetI64(row.value, 1));
      EXPECT_EQ(row.index, out.size() - 1);
      return true;
    }),
              ReadStatus::kOk);
    return out;
  };
  EXPECT_TRUE(list().empty());
  ASSERT_EQ(w->Offer(1, value("a", 10), 1), WriteResult::kOk);
  ASSERT_EQ(w->Offer(2, value("b", 30), 2), WriteResult::kOk);
  ASSERT_EQ(w->Offer(3, value("c", 20), 3), WriteResult::kOk);
  ASSERT_EQ(w->Offer(4, value("d", 5), 4), WriteResult::kOk);
  EXPECT_TRUE(list().empty());  // nothing published yet
  w->Publish();
  EXPECT_EQ(list(),
            (std::vector<std::pair<std::uint64_t, std::int64_t>>{{2, 30}, {3, 20}, {1, 10}}));
  ASSERT_EQ(w->Offer(1, value("a", 40), 5), WriteResult::kOk);  // an update moves a row
  ASSERT_EQ(w->Offer(5, value("e", 20), 6), WriteResult::kOk);  // ties go by key
  w->Publish();
  EXPECT_EQ(list(),
            (std::vector<std::pair<std::uint64_t, std::int64_t>>{{1, 40}, {2, 30}, {3, 20}}));
  EXPECT_TRUE(w->Remove(2));
  w->Publish();
  EXPECT_EQ(list(), (std::vector<std::pair<std::uint64_t, std::int64_t>>{{1, 40}, {3, 20}}));
  EXPECT_EQ(r->Info().counters.publishes, 3u);
  // Reopened, the writer starts from the published list.
  w.reset();
  w = std::move(TopKWriter::Open(*ns, "hot", 1)).value();
  EXPECT_EQ(w->staged(), 2u);
  ASSERT_EQ(w->Offer(9, value("z", 25), 7), WriteResult::kOk);
  w->Publish();
  EXPECT_EQ(list(),
            (std::vector<std::pair<std::uint64_t, std::int64_t>>{{1, 40}, {9, 25}, {3, 20}}));
}

TEST(TopKTest, ShouldMatchASortOfRandomInputsAscending) {
  TempNamespace t;
  auto ns = t.Open();
  TopKOptions o;
  o.schema = MakeSchema({Field::F64("latency")});
  o.k = 10;
  o.order_field = "latency";
  o.descending = false;
  o.key_type = KeyType::kBytes;
  o.key_size = 16;
  auto w = std::move(TopKWriter::Create(*ns, "fast", 1, o)).value();
  std::mt19937_64 rng(7);
  std::map<std::string, double> latest;
  for (int i = 0; i < 500; ++i) {
    const std::string key = "host-" + std::to_string(rng() % 40);
    const double latency = static_cast<double>(rng() % 100000) / 100.0;
    std::vector<std::byte> v(8);
    std::memcpy(v.data(), &latency, 8);
    ASSERT_EQ(w->Offer(key, v, static_cast<std::uint64_t>(i)), WriteResult::kOk);
    latest[key] = latency;
  }
  w->Publish();
  std::vector<std::pair<double, std::string>> expected;
  for (const auto& [k, l] : latest) expected.emplace_back(l, k);
  std::sort(expected.begin(), expected.end());
  expected.resize(10);
  auto r = OpenReader(t, "fast");
  std::vector<std::pair<double, std::string>> got;
  ASSERT_EQ(r->TopK([&](const RowView& row) {
    got.emplace_back(r->schema().GetF64(row.value, 0), std::string(row.key_bytes));
    return true;
  }),
            ReadStatus::kOk);
  EXPECT_EQ(got, expected);
}

// ---- Result lists ----

TEST(ResultListTest, ShouldAppendAndKeepTheLastCapacityRows) {
  TempNamespace t;
  auto ns = t.Open();
  ResultListOptions o;
  o.schema = MakeSchema({Field::I64("n"), Field::String("note", 12)});
  o.capacity = 8;
  auto w = std::move(ResultListWriter::Create(*ns, "rows", 1, o)).value();
  auto r = OpenReader(t, "rows");
  std::vector<std::byte> v(w->schema().value_size());
  for (std::int64_t i = 0; i < 5; ++i) {
    w->schema().SetI64(v, 0, i);
    w->schema().SetString(v, 1, "row " + std::to_string(i));
    ASSERT_EQ(w->Append(v, 100 + static_cast<std::uint64_t>(i)), WriteResult::kOk);
  }
  std::vector<std::int64_t> seen;
  std::uint64_t next = 0;
  ASSERT_EQ(r->ListRows(
                0, 100,
                [&](const RowView& row) {
                  seen.push_back(r->schema().GetI64(row.value, 0));
                  EXPECT_EQ(row.offset, 100 + row.index);
                  EXPECT_EQ(r->schema().GetString(row.value, 1),
                            "row " + std::to_string(row.index));
                  return true;
                },
                &next),
            ReadStatus::kOk);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(next, 5u);
  for (std::int64_t i = 5; i < 20; ++i) {
    w->schema().SetI64(v, 0, i);
    ASSERT_EQ(w->Append(v, 100 + static_cast<std::uint64_t>(i)), WriteResult::kOk);
  }
  seen.clear();
  ASSERT_EQ(r->ListRows(
                next, 100,
                [&](const RowView& row) {
                  seen.push_back(r->schema().GetI64(row.value, 0));
                  return true;
                },
                &next),
            ReadStatus::kOk);
  EXPECT_EQ(seen,
            (std::vector<std::int64_t>{12, 13, 14, 15, 16, 17, 18, 19}));  // 5..11 overwritten
  EXPECT_EQ(next, 20u);
  EXPECT_EQ(r->ListCount(), 20u);
  // Reopened, appends continue after the last row.
  w.reset();
  w = std::move(ResultListWriter::Open(*ns, "rows", 1)).value();
  EXPECT_EQ(w->count(), 20u);
  ASSERT_EQ(w->Append(v, 500), WriteResult::kOk);
  EXPECT_EQ(r->ListCount(), 21u);
  EXPECT_EQ(w->Append(std::vector<std::byte>(3), 1), WriteResult::kBadArgument);
  // Rewound (a restore), the list continues from the earlier count.
  w->RewindTo(18);
  EXPECT_EQ(r->ListCount(), 18u);
  w->schema().SetI64(v, 0, 77);
  ASSERT_EQ(w->Append(v, 600), WriteResult::kOk);
  std::int64_t last = -1;
  EXPECT_EQ(
      r->ListRows(
          18, 1, [&](const RowView& row) { return last = r->schema().GetI64(row.value, 0), true; },
          &next),
      ReadStatus::kOk);
  EXPECT_EQ(last, 77);
}

}  // namespace
}  // namespace kappa::serving
