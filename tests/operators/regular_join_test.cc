// RegularJoin: both sides kept, a record meets what came before and what comes after, within the
// retention; compared with every pair a brute force finds.
#include "operators/regular_join.h"

#include <gtest/gtest.h>

#include <algorithm>
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
using Join = RegularJoin<std::int64_t, Left, Right>;
using Pairs = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (left id, right id)

TEST(RegularJoinTest, ShouldMeetMatchesThatCameBeforeAndThatComeAfter) {
  Join join(kForever);
  Pairs met;
  auto meet = [&](const Left& l, const Right& r) { met.emplace_back(l.id, r.id); };
  join.AddLeft(1, Left{10}, 0, meet);    // nothing to meet yet
  join.AddRight(1, Right{20}, 1, meet);  // meets 10, which came before
  join.AddRight(2, Right{21}, 2, meet);  // another key: nothing
  join.AddLeft(1, Left{11}, 3, meet);    // meets 20
  join.AddRight(1, Right{22}, 4, meet);  // meets 10 and 11, in the order they came
  EXPECT_EQ(met, (Pairs{{10, 20}, {11, 20}, {10, 22}, {11, 22}}));
  EXPECT_EQ(join.size(), 5u);
  join.Expire(1'000'000);  // kept for ever
  EXPECT_EQ(join.size(), 5u);
}

TEST(RegularJoinTest, ShouldDropRecordsOnceTheWatermarkPassesTheirRetention) {
  Join join(100);
  Pairs met;
  auto meet = [&](const Left& l, const Right& r) { met.emplace_back(l.id, r.id); };
  join.AddLeft(1, Left{10}, 0, meet);
  join.AddLeft(1, Left{11}, 50, meet);
  join.Expire(100);  // 0 + 100 is not before 100: still kept
  EXPECT_EQ(join.size(), 2u);
  join.Expire(101);  // 10 goes
  EXPECT_EQ(join.size(), 1u);
  join.AddRight(1, Right{20}, 120, meet);
  EXPECT_EQ(met, (Pairs{{11, 20}}));
  join.Expire(221);  // all go; the key too
  EXPECT_EQ(join.size(), 0u);
  join.AddLeft(1, Left{12}, 300, meet);
  EXPECT_EQ(met.size(), 1u);
}

TEST(RegularJoinTest, ShouldGoOnFromWhatItKeptAsBefore) {
  Join join(1000);
  Pairs met;
  auto meet = [&](const Left& l, const Right& r) { met.emplace_back(l.id, r.id); };
  join.AddLeft(1, Left{10}, 0, meet);
  join.AddRight(2, Right{20}, 10, meet);
  join.AddLeft(2, Left{11}, 900, meet);
  join.AddRight(1, Right{21}, 950, meet);
  Join copy(1000);
  join.ForEach(
      [&](std::int64_t key, Join::Side side, std::int64_t time, const Left* l, const Right* r) {
        if (side == Join::Side::kLeft) {
          copy.RestoreLeft(key, *l, time);
        } else {
          copy.RestoreRight(key, *r, time);
        }
      });
  EXPECT_EQ(copy.size(), join.size());
  Pairs a, b;
  for (Join* j : {&join, &copy}) {
    Pairs& out = j == &join ? a : b;
    auto m = [&](const Left& l, const Right& r) { out.emplace_back(l.id, r.id); };
    j->Expire(1005);  // 10 goes (0 + 1000 is before 1005), 20 stays (10 + 1000 is not)
    j->AddRight(1, Right{22}, 1005, m);
    j->AddLeft(2, Left{12}, 1006, m);
    j->Expire(1011);
    j->AddLeft(2, Left{13}, 1012, m);
  }
  EXPECT_EQ(a, (Pairs{{12, 20}}));
  EXPECT_EQ(a, b);
}

// Random keys, times out of order and a watermark that trails them: the pairs that meet are those
// a brute force finds, a pair meeting when its later record comes while the earlier one's time +
// retention is not before the watermark then.
TEST(RegularJoinTest, ShouldMeetExactlyThePairsABruteForceFinds) {
  std::mt19937_64 rng(5);
  for (std::int64_t retention : {std::int64_t{0}, std::int64_t{300}, kForever}) {
    struct Arrival {
      bool left;
      std::int64_t key, time, id, watermark;
    };
    std::vector<Arrival> arrivals;
    std::int64_t clock = 0, max_time = -1'000'000;
    for (std::int64_t id = 0; id < 3000; ++id) {
      clock += static_cast<std::int64_t>(rng() % 10);
      const std::int64_t t = clock - static_cast<std::int64_t>(rng() % 200);
      arrivals.push_back(
          {rng() % 2 == 0, static_cast<std::int64_t>(rng() % 40), t, id, max_time - 100});
      max_time = std::max(max_time, t);
    }
    Pairs want, got;
    for (std::size_t j = 0; j < arrivals.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        const Arrival &a = arrivals[i], &b = arrivals[j];
        if (a.left == b.left || a.key != b.key) continue;
        const bool kept = retention == kForever || !(a.time + retention < b.watermark);
        if (kept) want.emplace_back(a.left ? a.id : b.id, a.left ? b.id : a.id);
      }
    }
    Join join(retention);
    for (const Arrival& a : arrivals) {
      join.Expire(a.watermark);
      auto meet = [&](const Left& l, const Right& r) { got.emplace_back(l.id, r.id); };
      if (a.left) {
        join.AddLeft(a.key, Left{a.id}, a.time, meet);
      } else {
        join.AddRight(a.key, Right{a.id}, a.time, meet);
      }
    }
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_GT(want.size(), retention == 0 ? 100u : 1000u);
    EXPECT_EQ(got, want) << "retention " << retention;
  }
}

}  // namespace
}  // namespace kappa::operators
