// Windows at their boundaries, late data, session merging, and results that do not depend on
// how the input is cut into batches.
#include "operators/window_aggregator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace kappa::operators {
namespace {

struct Event {
  std::uint64_t key;
  std::int64_t time;
  std::int64_t value;
};

std::vector<Window> Assigned(const auto& windows, std::int64_t t) {
  std::vector<Window> out;
  windows.Assign(t, [&](const Window& w) { out.push_back(w); });
  return out;
}

TEST(WindowTest, ShouldAssignTumblingWindowsAtTheirBoundaries) {
  const TumblingWindows w(10);
  EXPECT_EQ(Assigned(w, 0), (std::vector<Window>{{0, 10}}));
  EXPECT_EQ(Assigned(w, 9), (std::vector<Window>{{0, 10}}));
  EXPECT_EQ(Assigned(w, 10), (std::vector<Window>{{10, 20}}));
  EXPECT_EQ(Assigned(w, -1), (std::vector<Window>{{-10, 0}}));
  EXPECT_EQ(Assigned(w, -10), (std::vector<Window>{{-10, 0}}));
  EXPECT_EQ(w.LastEnd(19), 20);
}

TEST(WindowTest, ShouldTakeSizesAsChronoDurationsInNanosecondsOfEventTime) {
  using namespace std::chrono_literals;
  static_assert(TumblingWindows(10s).size() == 10'000'000'000);
  static_assert(HoppingWindows(10s, 2s).size() == 10'000'000'000);
  static_assert(HoppingWindows(10s, 2s).slide() == 2'000'000'000);
  static_assert(HoppingWindows(1min, 250ms).slide() == 250'000'000);
  static_assert(SessionWindows(500ms).gap() == 500'000'000);
  static_assert(TumblingWindows(std::chrono::microseconds(3)).size() == 3'000);
  std::vector<Window> got;
  HoppingWindows(10s, 5s).Assign(12'000'000'000, [&](Window w) { got.push_back(w); });
  EXPECT_EQ(got, (std::vector<Window>{{5'000'000'000, 15'000'000'000},
                                      {10'000'000'000, 20'000'000'000}}));
}

TEST(WindowTest, ShouldAssignEveryHoppingWindowHoldingATime) {
  const HoppingWindows w(10, 2);
  EXPECT_EQ(Assigned(w, 3), (std::vector<Window>{{-6, 4}, {-4, 6}, {-2, 8}, {0, 10}, {2, 12}}));
  EXPECT_EQ(Assigned(w, 4), (std::vector<Window>{{-4, 6}, {-2, 8}, {0, 10}, {2, 12}, {4, 14}}));
  EXPECT_EQ(w.LastEnd(3), 12);
  // A slide that does not divide the size.
  const HoppingWindows odd(10, 3);
  EXPECT_EQ(Assigned(odd, 9), (std::vector<Window>{{0, 10}, {3, 13}, {6, 16}, {9, 19}}));
  EXPECT_EQ(Assigned(odd, 10), (std::vector<Window>{{3, 13}, {6, 16}, {9, 19}}));
  // Every assigned window holds the time, and no other window does.
  for (std::int64_t t = -50; t < 50; ++t) {
    std::set<std::int64_t> starts;
    for (const Window& x : Assigned(odd, t)) {
      EXPECT_LE(x.start, t);
      EXPECT_GT(x.end, t);
      starts.insert(x.start);
    }
    for (std::int64_t s = -99; s <= 60; s += 3)
      EXPECT_EQ(starts.count(s) == 1, s <= t && t < s + 10) << t << " " << s;
  }
}

struct ValueOf {
  std::int64_t operator()(const Event& e) const { return e.value; }
};
using SumAgg = Sum<Event, ValueOf>;
SumAgg SumValues() { return SumAgg{ValueOf{}}; }

struct Emitted {
  std::map<std::tuple<std::uint64_t, std::int64_t, std::int64_t>,
           std::pair<std::int64_t, std::uint64_t>>
      last;
  int emissions = 0;
  void operator()(std::uint64_t key, const Window& w, std::int64_t v, std::uint64_t offset) {
    last[{key, w.start, w.end}] = {v, offset};
    ++emissions;
  }
};

TEST(WindowAggregatorTest, ShouldFireWhenTheWatermarkPassesTheEndAndNotBefore) {
  WindowAggregator<std::uint64_t, SumAgg, TumblingWindows> agg(SumValues(), TumblingWindows(10));
  Emitted out;
  EXPECT_TRUE(agg.Add(1, {1, 3, 5}, 3, 100, kNoWatermark));
  EXPECT_TRUE(agg.Add(1, {1, 9, 6}, 9, 101, 3));
  EXPECT_TRUE(agg.Add(2, {2, 10, 7}, 10, 102, 9));
  agg.AdvanceTo(9, std::ref(out));
  EXPECT_EQ(out.emissions, 0);
  agg.AdvanceTo(10, std::ref(out));
  EXPECT_EQ(out.emissions, 1);
  EXPECT_EQ(out.last.at({1, 0, 10}), (std::pair<std::int64_t, std::uint64_t>{11, 101}));
  agg.AdvanceTo(10, std::ref(out));  // nothing new
  EXPECT_EQ(out.emissions, 1);
  EXPECT_EQ(agg.open_windows(), 1u);
  // A record for the closed window is late: dropped and counted.
  EXPECT_FALSE(agg.Add(1, {1, 5, 100}, 5, 103, 10));
  EXPECT_EQ(agg.late_records(), 1u);
  agg.AdvanceTo(20, std::ref(out));
  EXPECT_EQ(out.last.at({2, 10, 20}).first, 7);
  EXPECT_EQ(agg.open_windows(), 0u);
}

TEST(WindowAggregatorTest, ShouldAcceptLateRecordsWithinTheAllowedLatenessAndReEmit) {
  WindowAggregator<std::uint64_t, SumAgg, TumblingWindows> agg(SumValues(), TumblingWindows(10),
                                                               /*allowed_lateness=*/5);
  Emitted out;
  agg.Add(1, {1, 2, 1}, 2, 1, kNoWatermark);
  agg.AdvanceTo(12, std::ref(out));
  EXPECT_EQ(out.last.at({1, 0, 10}).first, 1);
  EXPECT_EQ(out.emissions, 1);
  EXPECT_TRUE(agg.Add(1, {1, 4, 10}, 4, 2, 14));  // 10 + 5 > 14: still accepted
  agg.AdvanceTo(14, std::ref(out));
  EXPECT_EQ(out.last.at({1, 0, 10}), (std::pair<std::int64_t, std::uint64_t>{11, 2}));
  EXPECT_EQ(out.emissions, 2);
  EXPECT_FALSE(agg.Add(1, {1, 4, 100}, 4, 3, 15));  // 10 + 5 <= 15: late
  agg.AdvanceTo(15, std::ref(out));
  EXPECT_EQ(agg.open_windows(), 0u);
  EXPECT_EQ(out.last.at({1, 0, 10}).first, 11);
}

TEST(WindowAggregatorTest, ShouldSplitAHoppingRecordBetweenOpenAndClosedWindows) {
  WindowAggregator<std::uint64_t, SumAgg, HoppingWindows> agg(SumValues(), HoppingWindows(10, 5));
  Emitted out;
  // t = 7 belongs to [0, 10) and [5, 15); at watermark 10 only the second is open.
  EXPECT_TRUE(agg.Add(1, {1, 7, 3}, 7, 1, 10));
  agg.AdvanceTo(15, std::ref(out));
  EXPECT_EQ(out.last.count({1, 0, 10}), 0u);
  EXPECT_EQ(out.last.at({1, 5, 15}).first, 3);
  EXPECT_EQ(agg.late_records(), 0u);
}

// The same events with per-record watermarks (max time so far - bound), fired at different
// batch sizes, end with the same results.
TEST(WindowAggregatorTest, ShouldGiveTheSameResultsHoweverTheInputIsBatched) {
  std::mt19937_64 rng(5);
  std::vector<Event> events(20000);
  std::int64_t clock = 0;
  for (auto& e : events) {
    clock += static_cast<std::int64_t>(rng() % 3);
    e = Event{rng() % 50, clock - static_cast<std::int64_t>(rng() % 80),
              static_cast<std::int64_t>(rng() % 10)};
  }
  auto run = [&](std::size_t batch) {
    WindowAggregator<std::uint64_t, SumAgg, HoppingWindows> agg(SumValues(), HoppingWindows(20, 5),
                                                                3);
    Emitted out;
    std::int64_t max_time = kNoWatermark;
    std::int64_t watermark = kNoWatermark;
    for (std::size_t i = 0; i < events.size(); ++i) {
      agg.Add(events[i].key, events[i], events[i].time, i, watermark);
      max_time = std::max(max_time, events[i].time);
      watermark = max_time - 25;  // bounded out-of-orderness, a bit short of the real disorder
      if ((i + 1) % batch == 0) agg.AdvanceTo(watermark, std::ref(out));
    }
    agg.AdvanceTo(std::numeric_limits<std::int64_t>::max(), std::ref(out));
    return std::make_pair(out.last, agg.late_records());
  };
  const auto one = run(1);
  EXPECT_GT(one.second, 0u);  // the disorder made some records late
  EXPECT_EQ(run(97), one);
  EXPECT_EQ(run(5000), one);
  EXPECT_EQ(run(events.size()), one);
}

TEST(SessionAggregatorTest, ShouldMergeRecordsAtMostOneGapApartAsFlinksSessionsDo) {
  SessionAggregator<std::uint64_t, SumAgg> agg(SumValues(), /*gap=*/10);
  Emitted out;
  agg.Add(1, {1, 0, 1}, 0, 1, kNoWatermark);
  agg.Add(1, {1, 9, 2}, 9, 2, kNoWatermark);     // joins: 9 - 0 <= 10
  agg.Add(1, {1, 41, 4}, 41, 3, kNoWatermark);   // a new session: 41 - 9 > 10
  agg.Add(1, {1, 19, 8}, 19, 4, kNoWatermark);   // exactly one gap after 9: joins [0, 19)
  agg.Add(1, {1, 31, 16}, 31, 5, kNoWatermark);  // 31 - 19 > 10, 41 - 31 = 10: joins [41, 51)
  agg.AdvanceTo(100, std::ref(out));
  EXPECT_EQ(out.last.at({1, 0, 29}).first, 11);
  EXPECT_EQ(out.last.at({1, 31, 51}).first, 20);
  EXPECT_EQ(out.emissions, 2);
}

TEST(SessionAggregatorTest, ShouldEmitASessionOnlyOnceTheWatermarkIsPastItsEnd) {
  SessionAggregator<std::uint64_t, SumAgg> agg(SumValues(), 10);
  Emitted out;
  agg.Add(3, {3, 5, 1}, 5, 1, kNoWatermark);  // [5, 15)
  agg.AdvanceTo(15, std::ref(out));           // a record at 15 may still come, and join
  EXPECT_EQ(out.emissions, 0);
  EXPECT_TRUE(agg.Add(3, {3, 15, 2}, 15, 2, 15));  // it does: [5, 25)
  agg.AdvanceTo(25, std::ref(out));
  EXPECT_EQ(out.emissions, 0);
  agg.AdvanceTo(26, std::ref(out));
  ASSERT_EQ(out.emissions, 1);
  EXPECT_EQ(out.last.at({3, 5, 25}).first, 3);
  EXPECT_FALSE(agg.Add(3, {3, 14, 4}, 14, 3, 26));  // its session has ended: late
}

TEST(SessionAggregatorTest, ShouldBridgeTwoSessionsIntoOne) {
  SessionAggregator<std::uint64_t, SumAgg> agg(SumValues(), 10);
  Emitted out;
  agg.Add(7, {7, 0, 1}, 0, 1, kNoWatermark);
  agg.Add(7, {7, 15, 2}, 15, 2, kNoWatermark);  // [0,10) and [15,25)
  agg.Add(7, {7, 8, 4}, 8, 3, kNoWatermark);    // [8,18) touches both: one session [0, 25)
  agg.AdvanceTo(25, std::ref(out));
  EXPECT_EQ(out.emissions, 0);
  agg.AdvanceTo(26, std::ref(out));
  ASSERT_EQ(out.emissions, 1);
  EXPECT_EQ(out.last.at({7, 0, 25}), (std::pair<std::int64_t, std::uint64_t>{7, 3}));
  EXPECT_EQ(agg.keys(), 0u);
  // A record for a closed session that would not reopen anything is late.
  EXPECT_FALSE(agg.Add(7, {7, 3, 1}, 3, 4, 26));
  EXPECT_EQ(agg.late_records(), 1u);
}

// A session aggregator restored from a snapshot taken midway ends as one that ran through,
// emitted sessions and allowed lateness included.
TEST(SessionAggregatorTest, ShouldContinueFromASnapshotAsIfUninterrupted) {
  std::mt19937_64 rng(5);
  std::vector<Event> events(4000);
  std::int64_t clock = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    clock += static_cast<std::int64_t>(rng() % 7);
    // Keys 15 to 29 only before the snapshot: their sessions must come out of the restored state.
    const std::uint64_t keys = i < 2001 ? 30 : 15;
    events[i] = Event{rng() % keys, clock - static_cast<std::int64_t>(rng() % 20),
                      static_cast<std::int64_t>(rng() % 100)};
  }
  // The watermark trails the largest time seen by 2.
  std::vector<std::int64_t> watermarks(events.size());
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min() + 2;
  for (std::size_t i = 0; i < events.size(); ++i) {
    watermarks[i] = max_time - 2;
    max_time = std::max(max_time, events[i].time);
  }
  auto feed = [&](SessionAggregator<std::uint64_t, SumAgg>& agg, Emitted& out, std::size_t from,
                  std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      agg.Add(events[i].key, events[i], events[i].time, i, watermarks[i]);
      if (i % 50 == 0) agg.AdvanceTo(watermarks[i], std::ref(out));
    }
  };
  SessionAggregator<std::uint64_t, SumAgg> whole(SumValues(), 5, 2);
  Emitted one;
  feed(whole, one, 0, events.size());
  whole.AdvanceTo(std::numeric_limits<std::int64_t>::max(), std::ref(one));

  SessionAggregator<std::uint64_t, SumAgg> first(SumValues(), 5, 2);
  Emitted two;
  feed(first, two, 0, 2001);
  std::string bytes;
  first.Snapshot(&bytes);
  SessionAggregator<std::uint64_t, SumAgg> second(SumValues(), 5, 2);
  ASSERT_TRUE(second.Restore(bytes));
  feed(second, two, 2001, events.size());
  second.AdvanceTo(std::numeric_limits<std::int64_t>::max(), std::ref(two));
  EXPECT_EQ(two.last, one.last);
  EXPECT_EQ(two.emissions, one.emissions);
  EXPECT_EQ(second.late_records(), whole.late_records());
  EXPECT_GT(whole.late_records(), 0u);
  // Damaged bytes are refused.
  SessionAggregator<std::uint64_t, SumAgg> bad(SumValues(), 5, 2);
  EXPECT_FALSE(bad.Restore(std::string_view(bytes).substr(0, bytes.size() - 3)));
  EXPECT_FALSE(bad.Restore(bytes + "x"));
}

TEST(KeyedAggregatorTest, ShouldEmitEachChangedKeyOncePerFlush) {
  KeyedAggregator<std::uint64_t, Count<Event>> agg(Count<Event>{});
  for (std::uint64_t i = 0; i < 10; ++i) agg.Add(i % 3, Event{i % 3, 0, 0}, 100 + i);
  std::vector<std::tuple<std::uint64_t, std::int64_t, std::uint64_t>> out;
  agg.Flush(
      [&](std::uint64_t k, std::int64_t n, std::uint64_t off) { out.emplace_back(k, n, off); });
  EXPECT_EQ(out, (std::vector<std::tuple<std::uint64_t, std::int64_t, std::uint64_t>>{
                     {0, 4, 109}, {1, 3, 107}, {2, 3, 108}}));
  out.clear();
  agg.Flush(
      [&](std::uint64_t k, std::int64_t n, std::uint64_t off) { out.emplace_back(k, n, off); });
  EXPECT_TRUE(out.empty());
  agg.Add(1, Event{1, 0, 0}, 200);
  agg.Flush(
      [&](std::uint64_t k, std::int64_t n, std::uint64_t off) { out.emplace_back(k, n, off); });
  EXPECT_EQ(out,
            (std::vector<std::tuple<std::uint64_t, std::int64_t, std::uint64_t>>{{1, 4, 200}}));
}

}  // namespace
}  // namespace kappa::operators
