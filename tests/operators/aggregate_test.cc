// Aggregations and sketches: exact results for the exact ones, stated error bounds for the
// sketches, and merges equal to one pass.
#include "operators/aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "operators/flat_map.h"

namespace kappa::operators {
namespace {

struct Sale {
  std::int64_t item;
  std::int64_t price;
  double weight;
};

template <class A>
typename A::Output Fold(const A& a, const std::vector<typename A::Input>& in) {
  typename A::Acc acc = a.Init();
  for (const auto& x : in) a.Add(acc, x);
  return a.Result(acc);
}

// The lines of operators/aggregate.h's overview, as they are written there.
struct Bid {
  std::int64_t auction, bidder, price, date_time;
};
TEST(AggregateTest, ShouldBuildEveryBuiltInAsTheHeaderShows) {
  auto value = [](const Bid& b) { return b.price; };
  auto id = [](const Bid& b) { return b.bidder; };
  auto count = Count<Bid>{};
  auto sum = MakeSum<Bid>([](const Bid& b) { return b.price; });
  auto max = MakeMax<Bid>(value);
  auto avg = MakeAvg<Bid>(value);
  auto distinct = MakeDistinctCount<Bid, 12>([](const Bid& b) { return b.bidder; });
  auto quantiles = MakeQuantiles<Bid>(value);
  auto top = MakeTopK<Bid, 10>(value, id);
  const Bid bids[] = {{1, 7, 10, 0}, {1, 8, 30, 1}, {2, 7, 20, 2}};
  auto c = count.Init();
  auto s = sum.Init();
  auto m = max.Init();
  auto a = avg.Init();
  auto d = distinct.Init();
  auto q = quantiles.Init();
  auto t = top.Init();
  for (const Bid& b : bids) {
    count.Add(c, b);
    sum.Add(s, b);
    max.Add(m, b);
    avg.Add(a, b);
    distinct.Add(d, b);
    quantiles.Add(q, b);
    top.Add(t, b);
  }
  EXPECT_EQ(count.Result(c), 3);
  EXPECT_EQ(sum.Result(s), 60);
  EXPECT_EQ(max.Result(m), 30);
  EXPECT_DOUBLE_EQ(avg.Result(a), 20.0);
  EXPECT_EQ(distinct.Result(d), 2);
  EXPECT_NEAR(quantiles.Result(q).Quantile(1.0), 30.0, 0.5);
  EXPECT_EQ(top.Result(t).size, 2);  // one entry per id: bidders 7 and 8
}

TEST(AggregateTest, ShouldComputeExactAggregates) {
  const std::vector<Sale> sales = {{1, 10, 0.5}, {2, -4, 1.5}, {1, 30, 2.0}, {3, 7, 0.0}};
  EXPECT_EQ(Fold(Count<Sale>{}, sales), 4);
  EXPECT_EQ(Fold(MakeSum<Sale>([](const Sale& s) { return s.price; }), sales), 43);
  EXPECT_EQ(Fold(MakeMin<Sale>([](const Sale& s) { return s.price; }), sales), -4);
  EXPECT_EQ(Fold(MakeMax<Sale>([](const Sale& s) { return s.price; }), sales), 30);
  EXPECT_DOUBLE_EQ(Fold(MakeAvg<Sale>([](const Sale& s) { return s.weight; }), sales), 1.0);
  EXPECT_DOUBLE_EQ(Fold(MakeAvg<Sale>([](const Sale& s) { return s.weight; }), {}), 0.0);
  EXPECT_EQ(Fold(MakeMax<Sale>([](const Sale& s) { return s.price; }), {}),
            std::numeric_limits<std::int64_t>::lowest());
  static_assert(Aggregation<Count<Sale>>);
  static_assert(Aggregation<decltype(MakeAvg<Sale>([](const Sale& s) { return s.weight; }))>);
}

TEST(AggregateTest, ShouldMergeToTheSameResultAsOnePass) {
  std::mt19937_64 rng(1);
  std::vector<Sale> sales(1000);
  for (auto& s : sales)
    s = Sale{static_cast<std::int64_t>(rng() % 50), static_cast<std::int64_t>(rng() % 1000), 1.0};
  auto sum = MakeSum<Sale>([](const Sale& s) { return s.price; });
  auto top = MakeTopK<Sale, 5>([](const Sale& s) { return s.price; },
                               [](const Sale& s) { return s.item; });
  auto a = sum.Init(), b = sum.Init();
  auto ta = top.Init(), tb = top.Init();
  for (std::size_t i = 0; i < sales.size(); ++i) {
    sum.Add(i % 2 ? a : b, sales[i]);
    top.Add(i % 3 ? ta : tb, sales[i]);
  }
  sum.Merge(a, b);
  top.Merge(ta, tb);
  EXPECT_EQ(a, Fold(sum, sales));
  const auto whole = Fold(top, sales);
  ASSERT_EQ(ta.size, whole.size);
  for (int i = 0; i < whole.size; ++i) {
    EXPECT_EQ(ta.entries[i].id, whole.entries[i].id);
    EXPECT_EQ(ta.entries[i].value, whole.entries[i].value);
  }
}

TEST(AggregateTest, ShouldKeepTheExactTopKOnePerId) {
  std::mt19937_64 rng(2);
  std::vector<Sale> sales(500);
  for (auto& s : sales)
    s = Sale{static_cast<std::int64_t>(rng() % 40), static_cast<std::int64_t>(rng() % 100), 0};
  const auto got = Fold(MakeTopK<Sale, 7>([](const Sale& s) { return s.price; },
                                          [](const Sale& s) { return s.item; }),
                        sales);
  // Reference: each item's largest price; the 7 largest, ties by smaller item.
  std::map<std::int64_t, std::int64_t> best;
  for (const Sale& s : sales)
    best[s.item] = std::max(best.count(s.item) ? best[s.item] : -1, s.price);
  std::vector<std::pair<std::int64_t, std::int64_t>> ref;  // (-price, item)
  for (auto [item, price] : best) ref.emplace_back(-price, item);
  std::sort(ref.begin(), ref.end());
  ASSERT_EQ(got.size, 7);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(got.entries[i].id, static_cast<std::uint64_t>(ref[i].second)) << i;
    EXPECT_EQ(got.entries[i].value, static_cast<double>(-ref[i].first)) << i;
  }
  // Fewer ids than K.
  const auto small = Fold(MakeTopK<Sale, 7>([](const Sale& s) { return s.price; },
                                            [](const Sale& s) { return s.item; }),
                          {{1, 5, 0}, {2, 9, 0}, {1, 7, 0}});
  ASSERT_EQ(small.size, 2);
  EXPECT_EQ(small.entries[0].id, 2u);
  EXPECT_EQ(small.entries[1].value, 7.0);
}

TEST(HyperLogLogTest, ShouldEstimateWithinItsStatedError) {
  for (std::uint64_t n : {0ull, 1ull, 10ull, 1000ull, 50000ull, 1000000ull}) {
    HyperLogLog<12> hll;
    for (std::uint64_t i = 0; i < n; ++i) {
      hll.Add(HashValue(i * 7919 + 13));
      hll.Add(HashValue(i * 7919 + 13));  // duplicates do not count
    }
    const double est = hll.Estimate();
    // 4 standard errors: a failure would be a 1-in-15,000 event for a correct sketch.
    const double bound =
        std::max(1.0, 4 * HyperLogLog<12>::RelativeError() * static_cast<double>(n));
    EXPECT_NEAR(est, static_cast<double>(n), bound) << n;
  }
  EXPECT_NEAR(HyperLogLog<12>::RelativeError(), 0.01625, 1e-4);
}

TEST(HyperLogLogTest, ShouldMergeAsTheUnion) {
  HyperLogLog<10> a, b, all;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    (i % 2 ? a : b).Add(HashValue(i));
    all.Add(HashValue(i));
  }
  a.Merge(b);
  EXPECT_EQ(std::memcmp(&a, &all, sizeof a), 0);
  auto distinct = MakeDistinctCount<Sale, 12>([](const Sale& s) { return s.item; });
  std::vector<Sale> sales;
  for (int i = 0; i < 3000; ++i) sales.push_back(Sale{i % 1000, 0, 0});
  EXPECT_NEAR(static_cast<double>(Fold(distinct, sales)), 1000.0,
              1000 * 4 * HyperLogLog<12>::RelativeError());
}

TEST(DDSketchTest, ShouldAnswerQuantilesWithinOnePercentRelativeError) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(3.0, 1.5);  // about e^-1.5 .. e^7.5 mostly
  std::vector<double> values(100000);
  DDSketch sketch;
  for (double& v : values) {
    v = dist(rng);
    sketch.Add(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = values[static_cast<std::size_t>(q * (values.size() - 1))];
    EXPECT_NEAR(sketch.Quantile(q), exact, exact * DDSketch::kAlpha * 1.0001) << "q=" << q;
  }
  EXPECT_EQ(sketch.count, values.size());
}

TEST(DDSketchTest, ShouldHandleNegativesZerosMergesAndEmptiness) {
  DDSketch empty;
  EXPECT_TRUE(std::isnan(empty.Quantile(0.5)));
  DDSketch a, b, all;
  std::vector<double> values;
  for (int i = -500; i <= 500; ++i) {
    const double v = i * 0.37;
    values.push_back(v);
    (i % 2 ? a : b).Add(v);
    all.Add(v);
  }
  a.Merge(b);
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 0.1, 0.5, 0.77, 1.0}) {
    const double exact = values[static_cast<std::size_t>(q * (values.size() - 1))];
    EXPECT_NEAR(a.Quantile(q), exact, std::abs(exact) * DDSketch::kAlpha + 1e-9) << q;
    EXPECT_EQ(a.Quantile(q), all.Quantile(q)) << q;
  }
  // A range wider than the buckets: the high quantiles keep their accuracy.
  DDSketch wide;
  for (int e = -30; e <= 30; ++e) wide.Add(std::pow(10.0, e / 2.0));
  EXPECT_NEAR(wide.Quantile(1.0), 1e15, 1e15 * DDSketch::kAlpha);
  EXPECT_NEAR(wide.Quantile(0.9), std::pow(10.0, 12.0), 1e12 * DDSketch::kAlpha);
}

TEST(FlatMapTest, ShouldBehaveAsAMapThroughGrowthAndErasure) {
  FlatMap<std::uint64_t, std::int64_t> map(4);
  std::map<std::uint64_t, std::int64_t> ref;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t k = rng() % 5000;
    switch (rng() % 3) {
      case 0: {
        auto [v, inserted] = map.Insert(k, 7);
        EXPECT_EQ(inserted, ref.count(k) == 0);
        *v += i;
        ref[k] = (inserted ? 7 : ref[k]) + i;
        break;
      }
      case 1:
        EXPECT_EQ(map.Erase(k), ref.erase(k) == 1);
        break;
      default: {
        const std::int64_t* v = map.Find(k);
        ASSERT_EQ(v != nullptr, ref.count(k) == 1);
        if (v) {
          EXPECT_EQ(*v, ref[k]);
        }
      }
    }
  }
  EXPECT_EQ(map.size(), ref.size());
  std::size_t visited = 0;
  map.ForEach([&](const std::uint64_t& k, std::int64_t& v) {
    EXPECT_EQ(v, ref.at(k));
    ++visited;
  });
  EXPECT_EQ(visited, ref.size());
}

}  // namespace
}  // namespace kappa::operators
