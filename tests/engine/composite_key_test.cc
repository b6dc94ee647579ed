// Composite keys (engine/key.h): a struct of integers as the key of running aggregates, windows
// and a second stage, partitioned and kept in views by its bytes, compared with a reference.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string_view>
#include <tuple>

#include "engine/engine.h"
#include "engine/results.h"
#include "serving/view_reader.h"
#include "tests/engine/test_util.h"
#include "tests/serving/test_util.h"

namespace kappa::engine {
namespace {

using serving::testing::TempNamespace;
using testing::Click;
using testing::MakeClicks;
using testing::MakeEngine;
using testing::TempLog;

struct UserPage {
  std::int64_t user;
  std::int64_t page;
  auto operator<=>(const UserPage&) const = default;
};
static_assert(CompositeKey<UserPage>);
static_assert(!Key<std::tuple<std::int64_t, std::int32_t>>);  // padding: refused

std::string_view BytesOf(const UserPage& k) {
  return {reinterpret_cast<const char*>(&k), sizeof k};
}

// Every (user, page) of a keyed view of composite keys, with its i64 value.
std::map<UserPage, std::int64_t> ReadCounts(const TempNamespace& ns, const std::string& view) {
  std::map<UserPage, std::int64_t> got;
  auto reader = serving::ViewReader::Open(ns.path(), view);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return got;
  EXPECT_EQ((*reader)->key_type(), serving::KeyType::kBytes);
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& row) {
    UserPage k;
    EXPECT_EQ(row.key_bytes.size(), sizeof k);
    std::memcpy(&k, row.key_bytes.data(), sizeof k);
    std::int64_t v;
    std::memcpy(&v, row.value.data(), 8);
    got[k] = v;
    return true;
  }),
            serving::ReadStatus::kOk);
  return got;
}

TEST(CompositeKeyTest, ShouldCountAndAverageByAStructKeyInEveryPartitionCount) {
  const auto clicks = MakeClicks(30000, 21, 0);
  std::map<UserPage, std::int64_t> counts, sums;
  for (const Click& c : clicks) {
    ++counts[{c.user, c.page}];
    sums[{c.user, c.page}] += c.amount;
  }
  ASSERT_GT(counts.size(), 1000u);
  auto key = [](const Click& c) { return UserPage{c.user, c.page}; };
  for (int partitions : {1, 4}) {
    TempLog log;
    TempNamespace ns;
    for (const Click& c : clicks) log.Append(c, c.time);
    auto engine = MakeEngine(ns, partitions, Mode::kThroughput, 700);
    auto count = std::move(engine->Start(From<Click>("count", log.path())
                                             .KeyBy(key)
                                             .Aggregate(operators::Count<Click>{})
                                             .ToView("count")))
                     .value();
    auto avg = std::move(engine->Start(From<Click>("avg", log.path())
                                           .KeyBy(key)
                                           .Aggregate(operators::MakeAvg<Click>(
                                               [](const Click& c) { return c.amount; }))
                                           .ToView("avg")))
                   .value();
    ASSERT_TRUE(count->WaitCaughtUp(std::chrono::seconds(60)));
    ASSERT_TRUE(avg->WaitCaughtUp(std::chrono::seconds(60)));
    EXPECT_EQ(ReadCounts(ns, "count"), counts) << partitions << " partitions";

    // A point read by the key's bytes finds the shard and the row.
    auto reader = std::move(serving::ViewReader::Open(ns.path(), "avg")).value();
    std::size_t checked = 0;
    for (const auto& [k, n] : counts) {
      double mean = 0;
      std::uint64_t offset = 0;
      ASSERT_EQ(reader->Get(BytesOf(k), std::as_writable_bytes(std::span(&mean, 1)), &offset),
                serving::ReadStatus::kOk);
      EXPECT_DOUBLE_EQ(mean, static_cast<double>(sums[k]) / static_cast<double>(n));
      ++checked;
    }
    EXPECT_EQ(checked, counts.size());
    const UserPage absent{-1, -1};
    double mean = 0;
    std::uint64_t offset = 0;
    EXPECT_EQ(reader->Get(BytesOf(absent), std::as_writable_bytes(std::span(&mean, 1)), &offset),
              serving::ReadStatus::kNotFound);
  }
}

// Tumbling windows per (user, page), and their results keyed again by an integer: the clicks of
// each window's busiest (user, page).
TEST(CompositeKeyTest, ShouldWindowByAStructKeyAndRekeyItsResults) {
  constexpr std::int64_t kWindow = 20000;
  const auto clicks = MakeClicks(20000, 22, 0);
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::int64_t> ref;
  std::map<std::int64_t, std::int64_t> busiest;  // window start -> most clicks of a (user, page)
  for (const Click& c : clicks) ++ref[{c.user, c.page, operators::FloorTo(c.time, kWindow)}];
  for (const auto& [k, n] : ref) busiest[std::get<2>(k)] = std::max(busiest[std::get<2>(k)], n);
  using Result = WindowResult<UserPage, std::int64_t>;
  for (int partitions : {1, 2}) {
    TempLog log;
    TempNamespace ns;
    for (const Click& c : clicks) log.Append(c, c.time);
    auto engine = MakeEngine(ns, partitions, Mode::kThroughput, 512);
    auto windowed = From<Click>("windows", log.path())
                        .EventTime([](const Click& c) { return c.time; }, 0)
                        .KeyBy([](const Click& c) {
                          return UserPage{c.user, c.page};
                        })
                        .Window(operators::TumblingWindows(kWindow));
    auto per_key =
        std::move(engine->Start(From<Click>("per_key", log.path())
                                    .EventTime([](const Click& c) { return c.time; }, 0)
                                    .KeyBy([](const Click& c) {
                                      return UserPage{c.user, c.page};
                                    })
                                    .Window(operators::TumblingWindows(kWindow))
                                    .Aggregate(operators::Count<Click>{})
                                    .ToView("per_key", ViewSinkOptions{.windows_per_key = 64})))
            .value();
    auto most =
        std::move(engine->Start(std::move(windowed)
                                    .Aggregate(operators::Count<Click>{})
                                    .KeyBy([](const Result& r) { return r.start; })
                                    .Aggregate(operators::MakeMax<Result>(
                                        [](const Result& r) { return r.value; }))
                                    .ToView("most", ViewSinkOptions{.key_name = "window_start"})))
            .value();
    ASSERT_TRUE(per_key->WaitCaughtUp(std::chrono::seconds(60)));
    ASSERT_TRUE(most->WaitCaughtUp(std::chrono::seconds(60)));
    per_key->FlushWindows();
    most->FlushWindows();

    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::int64_t> got;
    auto reader = std::move(serving::ViewReader::Open(ns.path(), "per_key")).value();
    ASSERT_EQ(reader->Scan([&](const serving::RowView& row) {
      UserPage k;
      std::memcpy(&k, row.key_bytes.data(), sizeof k);
      std::int64_t n;
      std::memcpy(&n, row.value.data(), 8);
      got[{k.user, k.page, row.window_start}] = n;
      return true;
    }),
              serving::ReadStatus::kOk);
    EXPECT_EQ(got, ref) << partitions << " partitions";

    std::map<std::int64_t, std::int64_t> got_most;
    auto most_reader = std::move(serving::ViewReader::Open(ns.path(), "most")).value();
    ASSERT_EQ(most_reader->Scan([&](const serving::RowView& row) {
      std::int64_t n;
      std::memcpy(&n, row.value.data(), 8);
      got_most[static_cast<std::int64_t>(row.key_u64)] = n;
      return true;
    }),
              serving::ReadStatus::kOk);
    EXPECT_EQ(got_most, busiest) << partitions << " partitions";
  }
}

}  // namespace
}  // namespace kappa::engine
