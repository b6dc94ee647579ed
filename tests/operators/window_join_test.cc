// WindowJoin: left and right records of one key in one window meet when the watermark passes the
// window's end; compared, in order, with what a brute force over the same records reports.
#include "operators/window_join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace kappa::operators {
namespace {

struct Left {
  std::int64_t id;
};
struct Right {
  std::int64_t id;
};

// What Fire reported: (window start, key, left id, right id or -1, offset).
using Met = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::uint64_t>;

template <class Join>
auto Collect(std::vector<Met>* out) {
  return [out](const Window& w, std::int64_t key, const Left& l, const Right* r,
               std::uint64_t offset) {
    out->emplace_back(w.start, key, l.id, r ? r->id : -1, offset);
  };
}

TEST(WindowJoinTest, ShouldMeetRecordsOfOneKeyInOneWindowWhenTheWatermarkPassesItsEnd) {
  using Join = WindowJoin<std::int64_t, Left, Right, TumblingWindows>;
  Join join(TumblingWindows(100), JoinKind::kInner);
  std::vector<Met> met;
  EXPECT_TRUE(join.AddLeft(1, 0, Left{10}, 5, 0));
  EXPECT_TRUE(join.AddRight(1, 1, Right{20}, 50, 0));
  EXPECT_TRUE(join.AddRight(2, 2, Right{21}, 60, 0));   // another key: meets nothing
  EXPECT_TRUE(join.AddRight(1, 3, Right{22}, 150, 0));  // another window
  EXPECT_TRUE(join.AddLeft(1, 4, Left{11}, 99, 0));
  join.Fire(99, Collect<Join>(&met));  // [0, 100) has not ended at 99
  EXPECT_TRUE(met.empty());
  EXPECT_EQ(join.open_windows(), 2u);
  join.Fire(100, Collect<Join>(&met));
  EXPECT_EQ(met, (std::vector<Met>{{0, 1, 10, 20, 1}, {0, 1, 11, 20, 4}}));
  EXPECT_EQ(join.open_windows(), 1u);
  // [0, 100) has ended for a record whose watermark is 100: it is late and joins nothing.
  EXPECT_FALSE(join.AddRight(1, 5, Right{23}, 30, 100));
  EXPECT_TRUE(join.AddLeft(1, 6, Left{12}, 120, 100));
  met.clear();
  join.Fire(std::numeric_limits<std::int64_t>::max(), Collect<Join>(&met));
  EXPECT_EQ(met, (std::vector<Met>{{100, 1, 12, 22, 6}}));
  EXPECT_EQ(join.open_windows(), 0u);
}

TEST(WindowJoinTest, ShouldReportEachLeftRecordThatMetNothingInALeftOuterJoin) {
  using Join = WindowJoin<std::int64_t, Left, Right, TumblingWindows>;
  Join join(TumblingWindows(100), JoinKind::kLeftOuter);
  std::vector<Met> met;
  ASSERT_TRUE(join.AddLeft(2, 0, Left{10}, 1, 0));
  ASSERT_TRUE(join.AddLeft(1, 1, Left{11}, 2, 0));
  ASSERT_TRUE(join.AddRight(1, 2, Right{20}, 3, 0));
  ASSERT_TRUE(join.AddLeft(3, 3, Left{12}, 4, 0));
  join.Fire(100, Collect<Join>(&met));
  // The pair first, then the unmatched left records in key order.
  EXPECT_EQ(met, (std::vector<Met>{{0, 1, 11, 20, 2}, {0, 2, 10, -1, 0}, {0, 3, 12, -1, 3}}));
}

// Hopping and tumbling windows, random keys (negative ones too, which order after the positive
// ones by their bits), times out of order, a watermark that trails them and Fire called every few
// records: everything Fire reports, in order, equals what a brute force over the windows finds.
template <class Windows>
void CompareWithBruteForce(Windows windows, JoinKind kind, std::uint64_t seed) {
  using Join = WindowJoin<std::int64_t, Left, Right, Windows>;
  struct Arrival {
    bool left;
    std::int64_t key, time, watermark;  // the watermark before the record
  };
  std::mt19937_64 rng(seed);
  std::vector<Arrival> arrivals;
  std::int64_t clock = 0, max_time = -1'000'000;
  for (int i = 0; i < 4000; ++i) {
    clock += static_cast<std::int64_t>(rng() % 4);
    const std::int64_t t = clock - static_cast<std::int64_t>(rng() % (2 * windows.size()));
    arrivals.push_back(
        {rng() % 2 == 0, static_cast<std::int64_t>(rng() % 30) - 10, t, max_time - 50});
    max_time = std::max(max_time, t);
  }

  // The brute force: each window's records (those not late for it on arrival), joined per key.
  struct Key {
    std::int64_t start;
    std::uint64_t key_bits;
    std::size_t left, right;  // arrival indexes; right == SIZE_MAX: unmatched
  };
  std::vector<Key> want_keys;
  std::vector<std::int64_t> starts;
  for (const Arrival& a : arrivals)
    windows.Assign(a.time, [&](const Window& w) { starts.push_back(w.start); });
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  auto in = [&](const Arrival& a, std::int64_t start) {
    const Window w{start, start + windows.size()};
    return a.time >= w.start && a.time < w.end && w.end > a.watermark &&
           windows.LastEnd(a.time) > a.watermark;
  };
  for (std::int64_t start : starts) {
    std::vector<Key> unmatched;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      if (!arrivals[i].left || !in(arrivals[i], start)) continue;
      bool any = false;
      for (std::size_t j = 0; j < arrivals.size(); ++j) {
        if (arrivals[j].left || arrivals[j].key != arrivals[i].key || !in(arrivals[j], start))
          continue;
        want_keys.push_back({start, static_cast<std::uint64_t>(arrivals[i].key), i, j});
        any = true;
      }
      if (!any && kind == JoinKind::kLeftOuter)
        unmatched.push_back({start, static_cast<std::uint64_t>(arrivals[i].key), i, SIZE_MAX});
    }
    // Within a window: by key bits, then left arrival, then right arrival (stable: built so).
    auto first = want_keys.end() - static_cast<std::ptrdiff_t>(std::count_if(
                                       want_keys.begin(), want_keys.end(),
                                       [&](const Key& k) { return k.start == start; }));
    std::stable_sort(first, want_keys.end(),
                     [](const Key& a, const Key& b) { return a.key_bits < b.key_bits; });
    std::stable_sort(unmatched.begin(), unmatched.end(),
                     [](const Key& a, const Key& b) { return a.key_bits < b.key_bits; });
    want_keys.insert(want_keys.end(), unmatched.begin(), unmatched.end());
  }
  std::vector<Met> want;
  for (const Key& k : want_keys) {
    const bool pair = k.right != SIZE_MAX;
    want.emplace_back(k.start, arrivals[k.left].key, static_cast<std::int64_t>(k.left),
                      pair ? static_cast<std::int64_t>(k.right) : -1,
                      pair ? std::max(k.left, k.right) : k.left);
  }

  Join join(windows, kind);
  std::vector<Met> got;
  std::size_t late = 0, want_late = 0;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    const Arrival& a = arrivals[i];
    const auto id = static_cast<std::int64_t>(i);
    const bool kept = a.left ? join.AddLeft(a.key, i, Left{id}, a.time, a.watermark)
                             : join.AddRight(a.key, i, Right{id}, a.time, a.watermark);
    if (!kept) ++late;
    if (windows.LastEnd(a.time) <= a.watermark) ++want_late;
    if (i % 7 == 6 && i + 1 < arrivals.size())
      join.Fire(arrivals[i + 1].watermark, Collect<Join>(&got));
  }
  join.Fire(std::numeric_limits<std::int64_t>::max(), Collect<Join>(&got));
  EXPECT_EQ(late, want_late);
  EXPECT_GT(want_late, 10u);
  EXPECT_GT(want.size(), 500u);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "result " << i;
}

TEST(WindowJoinTest, ShouldReportWhatABruteForceFindsInItsOrder) {
  CompareWithBruteForce(TumblingWindows(100), JoinKind::kInner, 1);
  CompareWithBruteForce(TumblingWindows(100), JoinKind::kLeftOuter, 2);
  CompareWithBruteForce(HoppingWindows(200, 50), JoinKind::kInner, 3);
  CompareWithBruteForce(HoppingWindows(200, 50), JoinKind::kLeftOuter, 4);
}

TEST(WindowJoinTest, ShouldGoOnFromWhatItHoldsAsBefore) {
  using Join = WindowJoin<std::int64_t, Left, Right, HoppingWindows>;
  std::mt19937_64 rng(9);
  Join a(HoppingWindows(100, 25), JoinKind::kLeftOuter);
  auto add = [&](Join& j, std::int64_t i, std::int64_t t, std::int64_t key, bool left) {
    if (left) {
      (void)j.AddLeft(key, static_cast<std::uint64_t>(i), Left{i}, t, 0);
    } else {
      (void)j.AddRight(key, static_cast<std::uint64_t>(i), Right{i}, t, 0);
    }
  };
  for (std::int64_t i = 0; i < 300; ++i)
    add(a, i, static_cast<std::int64_t>(rng() % 400), static_cast<std::int64_t>(rng() % 8),
        rng() % 2 == 0);
  Join b(HoppingWindows(100, 25), JoinKind::kLeftOuter);
  a.ForEach([&](std::int64_t start, std::span<const Join::Entry<Left>> l,
                std::span<const Join::Entry<Right>> r) {
    b.Restore(start, {l.begin(), l.end()}, {r.begin(), r.end()});
  });
  EXPECT_EQ(b.open_windows(), a.open_windows());
  std::vector<Met> from_a, from_b;
  for (Join* j : {&a, &b}) {
    std::vector<Met>& out = j == &a ? from_a : from_b;
    j->Fire(200, Collect<Join>(&out));
    add(*j, 1000, 390, 3, true);
    add(*j, 1001, 395, 3, false);
    j->Fire(std::numeric_limits<std::int64_t>::max(), Collect<Join>(&out));
  }
  EXPECT_GT(from_a.size(), 300u);
  EXPECT_EQ(from_a, from_b);
}

}  // namespace
}  // namespace kappa::operators
