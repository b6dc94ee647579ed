// UntilJoin: each left record keeps the best right record of its key between its time and its
// deadline; compared, in order, with what a brute force over the same records reports.
#include "operators/until_join.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace kappa::operators {
namespace {

struct Auction {
  std::int64_t id;
};
struct Bid {
  std::int64_t id;
  std::int64_t price;
};
struct HigherPrice {
  bool operator()(const Bid& candidate, const Bid& best) const {
    return candidate.price > best.price;
  }
};
using Join = UntilJoin<std::int64_t, Auction, Bid, HigherPrice>;
// What came out: (key, left id, best right id or -1, deadline, offset).
using Out = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::uint64_t>;

auto Collect(std::vector<Out>* out) {
  return [out](std::int64_t key, const Auction& a, const Bid* best, std::int64_t deadline,
               std::uint64_t offset) {
    out->emplace_back(key, a.id, best ? best->id : -1, deadline, offset);
  };
}

TEST(UntilJoinTest, ShouldKeepTheBestRightRecordUntilTheDeadline) {
  Join join{HigherPrice{}};
  std::vector<Out> out;
  join.AddLeft(1, Auction{10}, 100, 200, 0, Collect(&out));
  EXPECT_TRUE(join.AddRight(1, Bid{20, 5}, 150, 1, 0));
  EXPECT_TRUE(join.AddRight(1, Bid{21, 7}, 160, 2, 0));
  EXPECT_TRUE(join.AddRight(1, Bid{22, 7}, 170, 3, 0));  // a tie: the first stays best
  EXPECT_TRUE(join.AddRight(1, Bid{23, 9}, 250, 4, 0));  // after the deadline
  EXPECT_TRUE(join.AddRight(1, Bid{24, 9}, 90, 5, 0));   // before the left record's time
  join.Advance(200, Collect(&out));                      // the deadline is not before 200
  EXPECT_TRUE(out.empty());
  join.Advance(201, Collect(&out));
  EXPECT_EQ(out, (std::vector<Out>{{1, 10, 21, 200, 2}}));
  EXPECT_EQ(join.open(), 0u);
}

TEST(UntilJoinTest, ShouldLetRightRecordsThatCameFirstWaitForTheirLeftRecord) {
  Join join{HigherPrice{}};
  std::vector<Out> out;
  EXPECT_TRUE(join.AddRight(1, Bid{20, 5}, 150, 0, 100));
  EXPECT_FALSE(join.AddRight(1, Bid{21, 9}, 90, 1, 100));  // before the watermark: late
  EXPECT_EQ(join.waiting(), 1u);
  join.AddLeft(1, Auction{10}, 140, 300, 2, Collect(&out));  // meets the waiting 20
  join.AddLeft(2, Auction{11}, 140, 300, 3, Collect(&out));  // no bid for 2
  join.Advance(151, Collect(&out));  // 20 stops waiting: no left record at or before 150 can come
  EXPECT_EQ(join.waiting(), 0u);
  join.AddLeft(1, Auction{12}, 152, 400, 4, Collect(&out));  // closes 10 at once
  EXPECT_EQ(out, (std::vector<Out>{{1, 10, 20, 300, 2}}));
  join.Advance(std::numeric_limits<std::int64_t>::max(), Collect(&out));
  // In order of deadline: 11 (no right record), then 12.
  EXPECT_EQ(out, (std::vector<Out>{{1, 10, 20, 300, 2}, {2, 11, -1, 300, 3}, {1, 12, -1, 400, 4}}));
}

TEST(UntilJoinTest, ShouldCloseEveryOpenLeftRecordAtTheEndAndKeepTheWaitingOnes) {
  Join join{HigherPrice{}};
  std::vector<Out> out;
  join.AddLeft(1, Auction{10}, 100, 900, 0, Collect(&out));
  join.AddLeft(2, Auction{11}, 100, 500, 1, Collect(&out));
  EXPECT_TRUE(join.AddRight(3, Bid{20, 5}, 150, 2, 0));  // waits for an auction of 3
  join.CloseAll(Collect(&out));
  EXPECT_EQ(out, (std::vector<Out>{{2, 11, -1, 500, 1}, {1, 10, -1, 900, 0}}));
  EXPECT_EQ(join.open(), 0u);
  EXPECT_EQ(join.waiting(), 1u);
  join.AddLeft(3, Auction{12}, 140, 300, 3, Collect(&out));
  join.CloseAll(Collect(&out));
  EXPECT_EQ(out.back(), (Out{3, 12, 20, 300, 3}));
}

// Random keys, times out of order, deadlines, ties in price, Advance every few records: what comes
// out, in order, equals what a brute force computes per left record from the whole input.
TEST(UntilJoinTest, ShouldReportWhatABruteForceFindsInItsOrder) {
  struct Arrival {
    bool left;
    std::int64_t key, time, deadline, price, watermark;  // the watermark before the record
  };
  std::mt19937_64 rng(17);
  std::vector<Arrival> arrivals;
  std::int64_t clock = 0, max_time = -1'000'000;
  for (int i = 0; i < 3000; ++i) {
    clock += static_cast<std::int64_t>(rng() % 4);
    const std::int64_t t = clock - static_cast<std::int64_t>(rng() % 100);
    const bool left = rng() % 4 == 0;
    arrivals.push_back({left, static_cast<std::int64_t>(rng() % 25), t,
                        t + static_cast<std::int64_t>(rng() % 300),
                        static_cast<std::int64_t>(rng() % 20), max_time - 40});
    max_time = std::max(max_time, t);
  }
  const std::size_t n = arrivals.size();
  // Advance after record i (every 7th, and at the end with the largest watermark).
  auto advance_at = [&](std::size_t i) { return i % 7 == 6 && i + 1 < n; };
  auto advance_watermark = [&](std::size_t i) { return arrivals[i + 1].watermark; };

  // When each left record closes, as a position in the input: 2i+1 is "after record i's
  // Advance", 2j is "as record j comes" (a later left record of its key); SIZE_MAX: at the end.
  std::vector<std::size_t> close(n, SIZE_MAX);
  for (std::size_t i = 0; i < n; ++i) {
    if (!arrivals[i].left) continue;
    for (std::size_t j = i; j < n; ++j) {
      if (j > i && arrivals[j].left && arrivals[j].key == arrivals[i].key) {
        close[i] = 2 * j;
        break;
      }
      if (advance_at(j) && advance_watermark(j) > arrivals[i].deadline) {
        close[i] = 2 * j + 1;
        break;
      }
    }
  }
  auto open_left_at = [&](std::size_t m) -> std::size_t {  // the open left record of m's key
    for (std::size_t i = 0; i < m; ++i)
      if (arrivals[i].left && arrivals[i].key == arrivals[m].key && 2 * m < close[i]) return i;
    return SIZE_MAX;
  };
  struct Want {
    std::size_t close;
    std::int64_t deadline, key;
    Out out;
  };
  std::vector<Want> want;
  std::size_t want_late = 0;
  for (std::size_t m = 0; m < n; ++m)
    if (!arrivals[m].left && open_left_at(m) == SIZE_MAX &&
        arrivals[m].time < arrivals[m].watermark)
      ++want_late;
  for (std::size_t i = 0; i < n; ++i) {
    const Arrival& l = arrivals[i];
    if (!l.left) continue;
    // Offered: the right records waiting when it opens (in the order they came), then those of
    // its key that come while it is open.
    std::vector<std::size_t> offered;
    for (std::size_t m = 0; m < i; ++m) {
      const Arrival& r = arrivals[m];
      if (r.left || r.key != l.key || open_left_at(m) != SIZE_MAX || r.time < r.watermark) continue;
      bool forgotten = false;
      for (std::size_t a = m; a < i && !forgotten; ++a)
        forgotten = advance_at(a) && advance_watermark(a) > r.time;
      if (!forgotten) offered.push_back(m);
    }
    for (std::size_t m = i + 1; m < n && 2 * m < close[i]; ++m)
      if (!arrivals[m].left && arrivals[m].key == l.key) offered.push_back(m);
    std::size_t best = SIZE_MAX;
    for (std::size_t m : offered) {
      const Arrival& r = arrivals[m];
      if (r.time < l.time || r.time > l.deadline) continue;
      if (best == SIZE_MAX || r.price > arrivals[best].price) best = m;
    }
    want.push_back({close[i], l.deadline, l.key,
                    Out{l.key, static_cast<std::int64_t>(i),
                        best == SIZE_MAX ? -1 : static_cast<std::int64_t>(best), l.deadline,
                        best == SIZE_MAX ? i : std::max(i, best)}});
  }
  std::stable_sort(want.begin(), want.end(), [](const Want& a, const Want& b) {
    return std::tie(a.close, a.deadline, a.key) < std::tie(b.close, b.deadline, b.key);
  });

  Join join{HigherPrice{}};
  std::vector<Out> got;
  std::size_t late = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Arrival& a = arrivals[i];
    const auto id = static_cast<std::int64_t>(i);
    if (a.left) {
      join.AddLeft(a.key, Auction{id}, a.time, a.deadline, i, Collect(&got));
    } else if (!join.AddRight(a.key, Bid{id, a.price}, a.time, i, a.watermark)) {
      ++late;
    }
    if (advance_at(i)) join.Advance(advance_watermark(i), Collect(&got));
  }
  join.Advance(std::numeric_limits<std::int64_t>::max(), Collect(&got));
  EXPECT_EQ(late, want_late);
  EXPECT_GT(want_late, 10u);
  ASSERT_EQ(got.size(), want.size());
  std::size_t with_best = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i], want[i].out) << "result " << i;
    with_best += std::get<2>(want[i].out) >= 0;
  }
  EXPECT_GT(with_best, 300u);
}

TEST(UntilJoinTest, ShouldGoOnFromWhatItHoldsAsBefore) {
  std::mt19937_64 rng(23);
  Join a{HigherPrice{}};
  std::vector<Out> from_a, from_b;
  for (std::int64_t i = 0; i < 400; ++i) {
    const auto t = static_cast<std::int64_t>(rng() % 500);
    const auto key = static_cast<std::int64_t>(rng() % 10);
    if (rng() % 3 == 0) {
      a.AddLeft(key, Auction{i}, t, t + 200, static_cast<std::uint64_t>(i), Collect(&from_a));
    } else {
      (void)a.AddRight(key, Bid{i, static_cast<std::int64_t>(rng() % 50)}, t,
                       static_cast<std::uint64_t>(i), 0);
    }
  }
  from_b = from_a;
  Join b{HigherPrice{}};
  a.ForEachOpen([&](std::int64_t k, const Join::Open& o) { b.RestoreOpen(k, o); });
  a.ForEachWaiting([&](const Join::Early& e) { b.RestoreWaiting(e); });
  EXPECT_EQ(b.open(), a.open());
  EXPECT_EQ(b.waiting(), a.waiting());
  EXPECT_GT(a.open(), 5u);
  for (auto [j, out] : {std::pair{&a, &from_a}, std::pair{&b, &from_b}}) {
    j->AddLeft(3, Auction{1000}, 450, 900, 1000, Collect(out));
    (void)j->AddRight(3, Bid{1001, 99}, 460, 1001, 400);
    j->Advance(std::numeric_limits<std::int64_t>::max(), Collect(out));
  }
  EXPECT_EQ(from_a, from_b);
}

}  // namespace
}  // namespace kappa::operators
