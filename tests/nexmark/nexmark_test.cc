// The NEXMark generator against the specification's rules, and the queries, run by the engine
// over a generated log, against references computed here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "nexmark/generator.h"
#include "nexmark/queries.h"
#include "nexmark/side_input.h"
#include "nexmark/url.h"
#include "serving/view_reader.h"
#include "tests/engine/test_util.h"
#include "tests/temp_dir.h"

namespace kappa::nexmark {
namespace {

using engine::testing::MakeEngine;
using engine::testing::TempLog;
using serving::testing::TempNamespace;

std::string Text(const char* field, std::size_t size) {
  return std::string(field, strnlen(field, size));
}

TEST(GeneratorTest, ShouldMakePersonsAuctionsAndBidsOneToThreeToFortySix) {
  std::uint64_t counts[3] = {0, 0, 0};
  for (std::uint64_t n = 0; n < 5000; ++n) ++counts[static_cast<int>(Generator::KindOf(n))];
  EXPECT_EQ(counts[0], 100u);
  EXPECT_EQ(counts[1], 300u);
  EXPECT_EQ(counts[2], 4600u);
  EXPECT_EQ(Generator::KindOf(0), EventKind::kPerson);
  EXPECT_EQ(Generator::KindOf(1), EventKind::kAuction);
  EXPECT_EQ(Generator::KindOf(3), EventKind::kAuction);
  EXPECT_EQ(Generator::KindOf(4), EventKind::kBid);
  EXPECT_EQ(Generator::KindOf(50), EventKind::kPerson);
}

TEST(GeneratorTest, ShouldBeDeterministicForASeedAndDifferForAnother) {
  const Generator a(GeneratorConfig{.seed = 7}), b(GeneratorConfig{.seed = 7}),
      c(GeneratorConfig{.seed = 8});
  int differ = 0;
  for (std::uint64_t n : {0ull, 1ull, 4ull, 99ull, 12345ull, 4ull}) {  // any order
    Event x, y, z;
    a.Make(n, &x);
    b.Make(n, &y);
    c.Make(n, &z);
    ASSERT_EQ(x.payload().size(), y.payload().size());
    EXPECT_EQ(std::memcmp(x.payload().data(), y.payload().data(), x.payload().size()), 0) << n;
    differ += x.payload().size() != z.payload().size() ||
              std::memcmp(x.payload().data(), z.payload().data(), x.payload().size()) != 0;
  }
  EXPECT_GE(differ, 5);
}

// The first person of seed 1, whatever the compiler: every draw is its own statement, in a fixed
// order (the order of a call's arguments is unspecified, and g++ and clang differ in it).
TEST(GeneratorTest, ShouldGiveTheSameFirstEventsOfASeedWithAnyCompiler) {
  const Generator g(GeneratorConfig{.seed = 1, .base_time_ns = 0});
  Event e;
  g.Make(0, &e);
  ASSERT_EQ(e.kind, EventKind::kPerson);
  const Person& p = e.person;
  EXPECT_EQ(Text(p.name, sizeof p.name) + "|" + Text(p.email_address, sizeof p.email_address) +
                "|" + Text(p.credit_card, sizeof p.credit_card) + "|" +
                Text(p.city, sizeof p.city) + "|" + Text(p.state, sizeof p.state),
            "Saul Spencer|n vio@wr.com|9659 7785 1926 8267|San Francisco|WA");
}

TEST(GeneratorTest, ShouldFollowTheSpecificationsRules) {
  GeneratorConfig config;
  config.base_time_ns = 1'000'000'000'000;
  config.events_per_second = 50'000;
  const Generator g(config);
  constexpr std::uint64_t kEvents = 200'000;
  std::int64_t next_person = Generator::kFirstPersonId, next_auction = Generator::kFirstAuctionId;
  std::uint64_t bids = 0, hot_auction_bids = 0, hot_bidder_bids = 0, hot_channel_bids = 0;
  std::uint64_t long_descriptions = 0;
  std::set<std::string> states;
  // Strings are trimmed, as the nexmark project's.
  auto trimmed = [](const std::string& s) {
    return !s.empty() && s.front() != ' ' && s.back() != ' ';
  };
  for (std::uint64_t n = 0; n < kEvents; ++n) {
    Event e;
    g.Make(n, &e);
    const std::int64_t t = config.base_time_ns + static_cast<std::int64_t>(n) * 20'000;
    ASSERT_NEAR(static_cast<double>(e.date_time()), static_cast<double>(t), 1.0) << n;
    const std::int64_t last_person = Generator::LastBase0PersonId(n) + Generator::kFirstPersonId;
    const std::int64_t last_auction = Generator::LastBase0AuctionId(n) + Generator::kFirstAuctionId;
    switch (e.kind) {
      case EventKind::kPerson:
        ASSERT_EQ(e.person.id, next_person++);  // dense, in creation order
        ASSERT_EQ(e.person.id, last_person);
        ASSERT_EQ(e.person.name[sizeof e.person.name - 1], '\0');
        ASSERT_NE(Text(e.person.email_address, sizeof e.person.email_address).find(".com"),
                  std::string::npos);
        ASSERT_EQ(Text(e.person.credit_card, sizeof e.person.credit_card).size(), 19u);
        ASSERT_TRUE(trimmed(Text(e.person.email_address, sizeof e.person.email_address))) << n;
        states.insert(Text(e.person.state, sizeof e.person.state));
        break;
      case EventKind::kAuction:
        ASSERT_EQ(e.auction.id, next_auction++);
        ASSERT_EQ(e.auction.id, last_auction);
        ASSERT_GE(e.auction.seller, Generator::kFirstPersonId);
        ASSERT_LE(e.auction.seller, last_person + 10);  // at most 10 persons ahead
        ASSERT_GE(e.auction.category, 10);
        ASSERT_LT(e.auction.category, 15);
        ASSERT_GE(e.auction.initial_bid, 100);
        ASSERT_LE(e.auction.initial_bid, 100'000'000);
        ASSERT_GT(e.auction.reserve, e.auction.initial_bid);
        ASSERT_GT(e.auction.expires, e.auction.date_time);
        for (const std::string& text : {Text(e.auction.item_name, sizeof e.auction.item_name),
                                        Text(e.auction.description, sizeof e.auction.description)})
          ASSERT_TRUE(text.empty() || trimmed(text)) << n << ": '" << text << "'";
        ASSERT_LE(Text(e.auction.description, sizeof e.auction.description).size(), 99u);
        long_descriptions += Text(e.auction.description, sizeof e.auction.description).size() > 31;
        break;
      case EventKind::kBid:
        ++bids;
        ASSERT_GE(e.bid.auction, Generator::kFirstAuctionId);
        ASSERT_LE(e.bid.auction, last_auction + 10);  // in flight, or at most 10 ahead
        ASSERT_GE(e.bid.auction, last_auction - 100 - 1);
        ASSERT_GE(e.bid.price, 100);
        ASSERT_LE(e.bid.price, 100'000'000);
        ASSERT_LE(e.bid.bidder, last_person + 10);
        hot_auction_bids += e.bid.auction % 100 == 0;
        hot_bidder_bids += e.bid.bidder % 100 == 1;
        hot_channel_bids += !Text(e.bid.channel, sizeof e.bid.channel).starts_with("channel-");
        break;
    }
  }
  // Hot auctions take half the bids (plus the 1 % of random ones that are multiples of 100),
  // hot bidders three quarters.
  const double hot_auctions = static_cast<double>(hot_auction_bids) / static_cast<double>(bids);
  const double hot_bidders = static_cast<double>(hot_bidder_bids) / static_cast<double>(bids);
  EXPECT_GT(hot_auctions, 0.48);
  EXPECT_LT(hot_auctions, 0.53);
  EXPECT_GT(hot_bidders, 0.73);
  EXPECT_LT(hot_bidders, 0.78);
  // Half of the bids on a hot channel; descriptions up to 99 characters.
  const double hot_channels = static_cast<double>(hot_channel_bids) / static_cast<double>(bids);
  EXPECT_GT(hot_channels, 0.48);
  EXPECT_LT(hot_channels, 0.52);
  EXPECT_GT(long_descriptions, kEvents * 3 / 50 / 2);
  EXPECT_EQ(states, (std::set<std::string>{"AZ", "CA", "ID", "OR", "WA", "WY"}));
}

// ---- queries ----

class QueryTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kEvents = 30'000;
  void SetUp() override {
    GeneratorConfig config;
    // 60 s of event time, across a midnight (UTC) half way: the per-day queries see two days.
    config.base_time_ns = 1'700'006'370'000'000'000;
    config.events_per_second = 500;
    const Generator g(config);
    for (std::uint64_t n = 0; n < kEvents; ++n) {
      Event e;
      g.Make(n, &e);
      events_.push_back(e);
      switch (e.kind) {
        case EventKind::kPerson:
          log_.Append(e.person, e.person.date_time);
          break;
        case EventKind::kAuction:
          log_.Append(e.auction, e.auction.date_time);
          break;
        case EventKind::kBid:
          log_.Append(e.bid, e.bid.date_time);
          break;
      }
    }
  }

  // Runs `query` over the whole log, with every window closed at the end.
  void Run(const std::string& query, QueryOptions o = {}) {
    o.log = log_.path();
    auto job = MakeQuery(query, o);
    ASSERT_TRUE(job.ok()) << job.status().message();
    auto engine = MakeEngine(ns_, 2);
    auto running = engine->Start(*job);
    ASSERT_TRUE(running.ok()) << running.status().message();
    ASSERT_TRUE((*running)->WaitCaughtUp(std::chrono::seconds(60)))
        << (*running)->status().message();
    (*running)->FlushWindows();
    ASSERT_TRUE((*running)->status().ok()) << (*running)->status().message();
  }

  template <class Row>
  std::vector<Row> Rows(const std::string& view,
                        std::vector<std::pair<std::uint64_t, std::int64_t>>* keys = nullptr) {
    return engine::testing::ScanRows<Row>(ns_, view, keys);
  }

  TempLog log_{256 << 20};
  TempNamespace ns_;
  std::vector<Event> events_;

  // Runs q5 with these windows and compares its rows with the SQL's; gives the number of windows
  // with more than one hottest auction.
  std::size_t CheckHotItems(std::chrono::nanoseconds window, std::chrono::nanoseconds slide);

  // The winning bid of each auction that had one (as Q9 defines it), by auction id.
  std::map<std::int64_t, WinningBid> WinningBids() const {
    std::map<std::int64_t, Auction> auctions;
    std::map<std::int64_t, WinningBid> best;
    for (const Event& e : events_) {
      if (e.kind == EventKind::kAuction) auctions[e.auction.id] = e.auction;
    }
    for (const Event& e : events_) {
      if (e.kind != EventKind::kBid) continue;
      auto a = auctions.find(e.bid.auction);
      if (a == auctions.end() || e.bid.date_time < a->second.date_time ||
          e.bid.date_time > a->second.expires)
        continue;
      const WinningBid w{a->second.id, a->second.seller, a->second.category, e.bid.price,
                         e.bid.bidder, e.bid.date_time,  a->second.expires};
      auto [it, fresh] = best.try_emplace(w.auction, w);
      if (!fresh && w.price > it->second.price) it->second = w;
    }
    return best;
  }
};

TEST_F(QueryTest, ShouldConvertAndSelectBidsLikeQ1AndQ2) {
  QueryOptions o;
  o.euro_rate = 0.5;
  o.auction_modulus = 7;
  Run("q1", o);
  Run("q2", o);
  std::vector<std::tuple<std::int64_t, std::int64_t, double>> want_q1, got_q1;
  std::vector<std::pair<std::int64_t, std::int64_t>> want_q2, got_q2;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    want_q1.emplace_back(e.bid.auction, e.bid.bidder, static_cast<double>(e.bid.price) * 0.5);
    if (e.bid.auction % 7 == 0) want_q2.emplace_back(e.bid.auction, e.bid.price);
  }
  for (const BidInEuros& b : Rows<BidInEuros>("q1"))
    got_q1.emplace_back(b.auction, b.bidder, b.price);
  for (const AuctionPrice& p : Rows<AuctionPrice>("q2")) got_q2.emplace_back(p.auction, p.price);
  ASSERT_GT(want_q2.size(), 100u);
  EXPECT_EQ(got_q1, want_q1);
  EXPECT_EQ(got_q2, want_q2);
}

TEST_F(QueryTest, ShouldSuggestLocalItemsLikeQ3) {
  Run("q3");
  // Every category-10 auction whose seller is in OR, ID or CA, whether the seller registered
  // before or after the auction (SQL's JOIN).
  std::map<std::int64_t, Person> local;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kPerson) continue;
    const std::string state = Text(e.person.state, sizeof e.person.state);
    if (state == "OR" || state == "ID" || state == "CA") local[e.person.id] = e.person;
  }
  std::vector<std::tuple<std::string, std::string, std::int64_t>> want, got;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kAuction || e.auction.category != 10) continue;
    auto it = local.find(e.auction.seller);
    if (it != local.end())
      want.emplace_back(Text(it->second.name, 24), Text(it->second.state, 8), e.auction.id);
  }
  for (const LocalItem& i : Rows<LocalItem>("q3"))
    got.emplace_back(Text(i.name, 24), Text(i.state, 8), i.auction);
  ASSERT_GT(want.size(), 50u);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldJoinBidsWithTheirCategoryTenAuctionsLikeQ20) {
  QueryOptions o;
  o.list_capacity = 1 << 20;
  Run("q20", o);
  // Every bid whose auction is of category 10, whether the auction came before the bid or
  // after it (bids go up to 10 auctions ahead): SQL's JOIN.
  std::map<std::int64_t, Auction> auctions;
  for (const Event& e : events_) {
    if (e.kind == EventKind::kAuction && e.auction.category == 10)
      auctions[e.auction.id] = e.auction;
  }
  using Row = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::string,
                         std::string, std::string, std::int64_t, std::int64_t, std::int64_t,
                         std::int64_t, std::int64_t, std::int64_t>;
  std::vector<Row> want, got;
  std::size_t ahead = 0;  // bids that came before their auction
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    auto it = auctions.find(e.bid.auction);
    if (it == auctions.end()) continue;
    const Auction& a = it->second;
    ahead += e.bid.date_time < a.date_time;
    want.emplace_back(e.bid.auction, e.bid.bidder, e.bid.price, e.bid.date_time,
                      Text(e.bid.channel, 16), Text(a.item_name, sizeof a.item_name),
                      Text(a.description, sizeof a.description), a.initial_bid, a.reserve,
                      a.date_time, a.expires, a.seller, a.category);
  }
  for (const AuctionBid& r : Rows<AuctionBid>("q20"))
    got.emplace_back(r.auction, r.bidder, r.price, r.date_time, Text(r.channel, 16),
                     Text(r.item_name, sizeof r.item_name),
                     Text(r.description, sizeof r.description), r.initial_bid, r.reserve,
                     r.auction_date_time, r.expires, r.seller, r.category);
  ASSERT_GT(want.size(), 1000u);
  EXPECT_GT(ahead, 0u);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldFindTheHottestAuctionsOfEachHoppingWindowLikeQ5) {
  // Windows short enough that the hot auctions' bids often tie with others' (and 10 s ones).
  std::size_t tied_windows = 0;
  for (const std::int64_t ms : {10'000, 200}) {
    SCOPED_TRACE(ms);
    tied_windows += CheckHotItems(std::chrono::milliseconds(ms), std::chrono::milliseconds(ms / 5));
  }
  EXPECT_GT(tied_windows, 0u);  // ties are seen
}

std::size_t QueryTest::CheckHotItems(std::chrono::nanoseconds window,
                                     std::chrono::nanoseconds slide) {
  QueryOptions o;
  o.list_capacity = 1 << 20;
  o.window = window;
  o.slide = slide;
  o.view = "q5-" + std::to_string(window.count());
  Run("q5", o);
  const std::int64_t kSize = window.count(), kSlide = slide.count();
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> counts;  // window -> auction -> bids
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    for (std::int64_t start = operators::FloorTo(e.bid.date_time, kSlide);
         start > e.bid.date_time - kSize; start -= kSlide)
      ++counts[start][e.bid.auction];
  }
  // The SQL joins each window's counts with their max (num >= maxn): every auction tied for the
  // most bids.
  using Row = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
  std::vector<Row> want, got;
  std::size_t tied_windows = 0;
  for (const auto& [start, auctions] : counts) {
    std::int64_t most = 0;
    for (const auto& [auction, bids] : auctions) most = std::max(most, bids);
    std::size_t hottest = 0;
    for (const auto& [auction, bids] : auctions) {
      if (bids != most) continue;
      want.emplace_back(start, start + kSize, auction, bids);
      ++hottest;
    }
    tied_windows += hottest > 1;
  }
  for (const HotItem& r : Rows<HotItem>(o.view))
    got.emplace_back(r.window_start, r.window_end, r.auction, r.num);
  std::sort(got.begin(), got.end());
  EXPECT_GT(counts.size(), 25u);
  EXPECT_EQ(got, want);
  return tied_windows;
}

// Q7 as its SQL: each 10 s window's highest price, joined with every bid of that price whose
// time is BETWEEN window_end - 10 s AND window_end (both ends).
std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>
HighestBidsAsTheSql(const std::vector<Bid>& bids, std::int64_t size) {
  std::map<std::int64_t, std::int64_t> highest;  // window start -> max price
  for (const Bid& b : bids) {
    auto [it, fresh] = highest.try_emplace(operators::FloorTo(b.date_time, size), b.price);
    if (!fresh) it->second = std::max(it->second, b.price);
  }
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>
      rows;
  for (const auto& [start, max_price] : highest) {
    for (const Bid& b : bids) {
      if (b.price == max_price && b.date_time >= start && b.date_time <= start + size)
        rows.emplace_back(start, b.auction, b.price, b.bidder, b.date_time);
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST_F(QueryTest, ShouldFindEveryBidAtItsWindowsHighestPriceLikeQ7) {
  Run("q7");
  constexpr std::int64_t kSize = 10'000'000'000;
  std::vector<Bid> bids;
  for (const Event& e : events_) {
    if (e.kind == EventKind::kBid) bids.push_back(e.bid);
  }
  const auto want = HighestBidsAsTheSql(bids, kSize);
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> got;
  for (const HighestBid& r : Rows<HighestBid>("q7")) {
    EXPECT_EQ(r.window_end, r.window_start + kSize);
    EXPECT_EQ(Text(r.extra, sizeof r.extra), "");  // the generated log has no padding
    got.emplace_back(r.window_start, r.auction, r.price, r.bidder, r.date_time);
  }
  std::sort(got.begin(), got.end());
  ASSERT_GE(want.size(), 6u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldFindNewUsersLikeQ8) {
  QueryOptions o;
  o.window = std::chrono::seconds(5);
  Run("q8", o);
  std::map<std::int64_t, std::set<std::int64_t>> persons, sellers;  // window -> ids
  std::map<std::int64_t, std::string> names;
  for (const Event& e : events_) {
    if (e.kind == EventKind::kPerson) {
      persons[operators::FloorTo(e.person.date_time, o.window.count())].insert(e.person.id);
      names[e.person.id] = Text(e.person.name, 24);
    } else if (e.kind == EventKind::kAuction) {
      sellers[operators::FloorTo(e.auction.date_time, o.window.count())].insert(e.auction.seller);
    }
  }
  std::set<std::tuple<std::int64_t, std::string, std::int64_t>> want, got;
  for (const auto& [window, ids] : persons) {
    for (std::int64_t id : ids) {
      if (sellers[window].count(id)) want.emplace(id, names[id], window);
    }
  }
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  const auto rows = Rows<NewUser>("q8", &keys);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(static_cast<std::int64_t>(std::get<0>(keys[i])), rows[i].id);
    EXPECT_EQ(std::get<1>(keys[i]), rows[i].window_start);
    got.emplace(rows[i].id, Text(rows[i].name, 24), rows[i].window_start);
  }
  ASSERT_GT(want.size(), 20u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldFindTheWinningBidOfEachAuctionLikeQ9) {
  Run("q9");
  std::map<std::int64_t,
           std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>
      want, got;
  for (const auto& [id, w] : WinningBids())
    want[id] = {w.seller, w.category, w.price, w.bidder, w.expires};
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  const auto rows = Rows<WinningBid>("q9", &keys);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(static_cast<std::int64_t>(keys[i].first), rows[i].auction);
    got[rows[i].auction] = {rows[i].seller, rows[i].category, rows[i].price, rows[i].bidder,
                            rows[i].expires};
  }
  ASSERT_GT(want.size(), 300u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldAverageClosingPricesPerCategoryLikeQ4) {
  Run("q4");
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> sums;  // category -> (sum, count)
  for (const auto& [id, w] : WinningBids()) {
    sums[w.category].first += w.price;
    ++sums[w.category].second;
  }
  std::map<std::int64_t, double> want, got;
  for (const auto& [category, sc] : sums)
    want[category] = static_cast<double>(sc.first) / static_cast<double>(sc.second);
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  const auto rows = Rows<double>("q4", &keys);
  for (std::size_t i = 0; i < rows.size(); ++i)
    got[static_cast<std::int64_t>(keys[i].first)] = rows[i];
  ASSERT_EQ(want.size(), 5u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldAverageEachSellersLastTenClosingPricesLikeQ6) {
  Run("q6");
  // Auctions close in order of expiry (then id); a seller's average is over its last ten.
  std::vector<WinningBid> closed;
  for (const auto& [id, w] : WinningBids()) closed.push_back(w);
  std::sort(closed.begin(), closed.end(), [](const WinningBid& a, const WinningBid& b) {
    return std::tie(a.expires, a.auction) < std::tie(b.expires, b.auction);
  });
  std::map<std::int64_t, std::vector<std::int64_t>> prices;
  for (const WinningBid& w : closed) prices[w.seller].push_back(w.price);
  std::map<std::int64_t, double> want, got;
  for (const auto& [seller, p] : prices) {
    const std::size_t n = std::min<std::size_t>(p.size(), 10);
    std::int64_t sum = 0;
    for (std::size_t i = p.size() - n; i < p.size(); ++i) sum += p[i];
    want[seller] = static_cast<double>(sum) / static_cast<double>(n);
  }
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  const auto rows = Rows<double>("q6", &keys);
  for (std::size_t i = 0; i < rows.size(); ++i)
    got[static_cast<std::int64_t>(keys[i].first)] = rows[i];
  ASSERT_GT(std::count_if(prices.begin(), prices.end(),
                          [](const auto& p) { return p.second.size() > 10; }),
            0);
  EXPECT_EQ(got, want);
}

// DATE_FORMAT(t, 'yyyy-MM-dd') and 'HH:mm' in UTC, by the C library.
std::string UtcText(std::int64_t t_ns, const char* format) {
  const std::time_t s = static_cast<std::time_t>(t_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char out[32];
  std::strftime(out, sizeof out, format, &tm);
  return out;
}
std::string DayText(std::int64_t t_ns) { return UtcText(t_ns, "%Y-%m-%d"); }
std::string MinuteText(std::int64_t t_ns) { return UtcText(t_ns, "%H:%M"); }
int PriceRankOf(std::int64_t price) { return price < 10'000 ? 1 : price < 1'000'000 ? 2 : 3; }

// Q15 and Q16's figures of a group: bids, and distinct bidders and auctions, in all and by rank.
struct Statistics {
  std::int64_t bids[4] = {};
  std::set<std::int64_t> bidders[4], auctions[4];
  std::int64_t last_time = 0;
  void Add(const Bid& b) {
    const int r = PriceRankOf(b.price);
    for (int i : {0, r}) {
      ++bids[i];
      bidders[i].insert(b.bidder);
      auctions[i].insert(b.auction);
    }
    last_time = std::max(last_time, b.date_time);
  }
  std::vector<std::int64_t> Figures() const {
    std::vector<std::int64_t> v(bids, bids + 4);
    for (const auto& s : bidders) v.push_back(static_cast<std::int64_t>(s.size()));
    for (const auto& s : auctions) v.push_back(static_cast<std::int64_t>(s.size()));
    return v;
  }
};
template <class Row>
std::vector<std::int64_t> FiguresOf(const Row& r) {
  return {r.total_bids,     r.rank1_bids,     r.rank2_bids,     r.rank3_bids,
          r.total_bidders,  r.rank1_bidders,  r.rank2_bidders,  r.rank3_bidders,
          r.total_auctions, r.rank1_auctions, r.rank2_auctions, r.rank3_auctions};
}

TEST_F(QueryTest, ShouldReportEachDaysBidsBiddersAndAuctionsLikeQ15) {
  Run("q15");
  std::map<std::string, Statistics> ref;
  for (const Event& e : events_)
    if (e.kind == EventKind::kBid) ref[DayText(e.bid.date_time)].Add(e.bid);
  std::map<std::string, std::vector<std::int64_t>> want, got;
  for (const auto& [day, s] : ref) want[day] = s.Figures();
  for (const DayBidStats& r : Rows<DayBidStats>("q15")) got[Text(r.day, 16)] = FiguresOf(r);
  ASSERT_EQ(want.size(), 2u);  // both sides of midnight
  // Bidders bid in several ranks: the per-rank distinct counts add up to more than the total.
  for (const auto& [day, f] : want) EXPECT_LT(f[4], f[5] + f[6] + f[7]) << day;
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldReportEachChannelsDaysLikeQ16) {
  Run("q16");
  std::map<std::pair<std::string, std::string>, Statistics> ref;
  for (const Event& e : events_)
    if (e.kind == EventKind::kBid)
      ref[{Text(e.bid.channel, 16), DayText(e.bid.date_time)}].Add(e.bid);
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<std::int64_t>> want, got;
  for (const auto& [at, s] : ref)
    want[{at.first, at.second, MinuteText(s.last_time)}] = s.Figures();
  for (const ChannelDayStats& r : Rows<ChannelDayStats>("q16"))
    got[{Text(r.channel, 16), Text(r.day, 16), Text(r.minute, 8)}] = FiguresOf(r);
  ASSERT_GT(want.size(), 100u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldReportEachAuctionsDaysLikeQ17) {
  Run("q17");
  using Figures = std::vector<std::int64_t>;  // bids by rank, min, max, avg, sum
  std::map<std::pair<std::int64_t, std::string>, Figures> want, got;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    Figures& f = want[{e.bid.auction, DayText(e.bid.date_time)}];
    if (f.empty()) f = {0, 0, 0, 0, e.bid.price, e.bid.price, 0, 0};
    ++f[0];
    ++f[PriceRankOf(e.bid.price)];
    f[4] = std::min(f[4], e.bid.price);
    f[5] = std::max(f[5], e.bid.price);
    f[7] += e.bid.price;
    f[6] = f[7] / f[0];
  }
  std::map<std::int64_t, int> days;  // auction -> the days it had bids on
  for (const auto& [at, f] : want) ++days[at.first];
  for (const AuctionDayStats& r : Rows<AuctionDayStats>("q17"))
    got[{r.auction, Text(r.day, 16)}] = {r.total_bids, r.rank1_bids, r.rank2_bids, r.rank3_bids,
                                         r.min_price,  r.max_price,  r.avg_price,  r.sum_price};
  ASSERT_GT(want.size(), 1000u);
  EXPECT_GT(std::count_if(days.begin(), days.end(), [](const auto& d) { return d.second == 2; }),
            0);  // an auction's two days are two rows
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldKeepEachBiddersLatestBidOnEachAuctionLikeQ18) {
  Run("q18");
  using Row = std::tuple<std::int64_t, std::int64_t, std::string>;  // price, date_time, channel
  std::map<std::pair<std::int64_t, std::int64_t>, Row> want, got;
  std::size_t replaced = 0;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    auto [it, fresh] = want.try_emplace({e.bid.bidder, e.bid.auction});
    if (!fresh && std::get<1>(it->second) > e.bid.date_time) continue;
    replaced += !fresh;
    it->second = {e.bid.price, e.bid.date_time, Text(e.bid.channel, 16)};
  }
  for (const Bid& b : Rows<Bid>("q18"))
    got[{b.bidder, b.auction}] = {b.price, b.date_time, Text(b.channel, 16)};
  ASSERT_GT(replaced, 100u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldRankEachAuctionsTenHighestBidsLikeQ19) {
  Run("q19");
  // ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) <= 10, equal prices in the
  // order the bids came.
  std::map<std::int64_t, std::vector<Bid>> per_auction;
  for (const Event& e : events_)
    if (e.kind == EventKind::kBid) per_auction[e.bid.auction].push_back(e.bid);
  using Row = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // bidder, price, date_time
  std::map<std::pair<std::int64_t, std::int64_t>, Row> want, got;
  std::size_t ties = 0, full = 0;
  for (auto& [auction, bids] : per_auction) {
    std::stable_sort(bids.begin(), bids.end(),
                     [](const Bid& a, const Bid& b) { return a.price > b.price; });
    full += bids.size() > 10;
    for (std::size_t i = 0; i < std::min<std::size_t>(bids.size(), 10); ++i) {
      want[{auction, static_cast<std::int64_t>(i + 1)}] = {bids[i].bidder, bids[i].price,
                                                           bids[i].date_time};
      ties += i > 0 && bids[i].price == bids[i - 1].price;
    }
  }
  for (const RankedBid& r : Rows<RankedBid>("q19"))
    got[{r.auction, r.rank_number}] = {r.bidder, r.price, r.date_time};
  ASSERT_GT(full, 50u);
  EXPECT_EQ(got, want);
  std::cout << ties << " ties among the ranked bids\n";
}

// The base url's shape: https://www.nexmark.com/ then three directories of 3 or 4 characters
// of [a-z_], then item.htm?query=1.
bool IsBaseUrl(const std::string& url) {
  const std::string prefix = "https://www.nexmark.com/", suffix = "item.htm?query=1";
  if (url.compare(0, prefix.size(), prefix) != 0) return false;
  std::size_t at = prefix.size();
  for (int dir = 0; dir < 3; ++dir) {
    const std::size_t slash = url.find('/', at);
    if (slash == std::string::npos || slash - at < 3 || slash - at > 4) return false;
    for (std::size_t i = at; i < slash; ++i)
      if (url[i] != '_' && (url[i] < 'a' || url[i] > 'z')) return false;
    at = slash + 1;
  }
  return url.substr(at) == suffix;
}

// A bid's url is its channel's (nexmark/url.h): the same in every call, of the documented shape,
// channel-K's with Math.abs(Integer.reverse(K)) as its channel_id.
TEST_F(QueryTest, ShouldJoinEachBidWithTheReferenceSideInputLikeQ13) {
  QueryOptions o;
  o.list_capacity = 1 << 20;
  Run("q13", o);
  // The nexmark project's side input: rows "i,i" for i < 10,000, so each bid meets one.
  using Row = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::string>;
  std::vector<Row> want, got;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    want.emplace_back(e.bid.auction, e.bid.bidder, e.bid.price, e.bid.date_time,
                      std::to_string(e.bid.auction % 10'000));
  }
  for (const SideInputBid& r : Rows<SideInputBid>("q13"))
    got.emplace_back(r.auction, r.bidder, r.price, r.date_time, Text(r.value, sizeof r.value));
  ASSERT_GT(want.size(), 20'000u);
  EXPECT_EQ(got, want);
}

TEST_F(QueryTest, ShouldJoinEachBidWithEveryRowOfItsKeyInASideInputFileLikeQ13) {
  // Auctions of this log are 1000 to about 1600: keys 1000 and 1001 match, 1002 twice (in file
  // order, one quoted with a comma and a quote in it), others never; CRLF lines, blank lines.
  const kappa::testing::TempDir dir;
  const std::string path = dir / "side_input.csv";
  std::ofstream(path) << "1000,a thousand\r\n\n1002,first\n1001,\n1002,\"second, \"\"quoted\"\"\"\n"
                         "-1002,negative\n99999,never\n";
  QueryOptions o;
  o.side_input = path;
  o.list_capacity = 1 << 20;
  Run("q13", o);
  const std::map<std::int64_t, std::vector<std::string>> table = {
      {1000, {"a thousand"}}, {1001, {""}}, {1002, {"first", "second, \"quoted\""}}};
  using Row = std::tuple<std::int64_t, std::int64_t, std::string>;
  std::vector<Row> want, got;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    const auto it = table.find(e.bid.auction % 10'000);
    if (it == table.end()) continue;
    for (const std::string& v : it->second) want.emplace_back(e.bid.auction, e.bid.date_time, v);
  }
  for (const SideInputBid& r : Rows<SideInputBid>("q13"))
    got.emplace_back(r.auction, r.date_time, Text(r.value, sizeof r.value));
  std::set<std::int64_t> auctions;
  for (const Row& r : want) auctions.insert(std::get<0>(r));
  ASSERT_EQ(auctions.size(), 3u);  // every key of the file is met
  EXPECT_EQ(got, want);
}

TEST(SideInputTest, ShouldRefuseLinesThatAreNotKeyCommaValueWithTheirLineNumber) {
  const std::pair<std::string, std::string> cases[] = {
      {"1,a\n2\n", "side input f, line 2: no ',' between the key and the value"},
      {"\n\nx,a\n", "side input f, line 3: the key 'x' is not a 64-bit integer"},
      {"1 ,a\n", "line 1: the key '1 ' is not a 64-bit integer"},
      {",a\n", "line 1: the key '' is not a 64-bit integer"},
      {"99999999999999999999,a\n", "line 1: the key '99999999999999999999' is not"},
      {"1,\"open\n", "line 1: the quoted value is not closed on its line"},
      {"1,\"a\"b\n", "line 1: text after the value's closing quote"},
      {"1,a\"b\n", "line 1: a quote inside an unquoted value"},
      {"1," + std::string(33, 'v') + "\n", "line 1: a value of 33 bytes (at most 32)"},
      {std::string("1,a\0b\n", 6), "line 1: a NUL byte in the value"},
  };
  for (const auto& [text, message] : cases) {
    const auto r = ParseSideInput(text, "f");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), serving::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
  }
  const auto ok = ParseSideInput(
      "-5,x\n" + std::to_string(INT64_MAX) + "," + std::string(32, 'v') + "\n5,\"\"", "f");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->row_count, 3u);
  ASSERT_NE(ok->Find(INT64_MAX), nullptr);
  EXPECT_EQ(std::string(ok->Find(INT64_MAX)->at(0).data(), 32), std::string(32, 'v'));
  EXPECT_EQ(ok->Find(5)->at(0)[0], '\0');
  EXPECT_EQ(ok->Find(6), nullptr);
  EXPECT_EQ(ReferenceSideInput().row_count, 10'000u);
  EXPECT_EQ(std::string(ReferenceSideInput().Find(9'999)->at(0).data()), "9999");

  // Files: a missing one, a directory; and the query refuses what the parser refuses.
  const kappa::testing::TempDir dir;
  const auto missing = LoadSideInput(dir / "none.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read side input " + (dir / "none.csv")),
            std::string::npos)
      << missing.status().message();
  const auto directory = LoadSideInput(dir.str());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("not a regular file"), std::string::npos);
  std::ofstream(dir / "bad.csv") << "1,a\n2;b\n";
  QueryOptions o;
  o.log = "/dev/shm/kappa-test-unused.log";
  o.side_input = dir / "bad.csv";
  const auto job = MakeQuery("q13", o);
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("q13: side input " + (dir / "bad.csv") + ", line 2: "),
            std::string::npos)
      << job.status().message();
}

TEST(UrlTest, ShouldGiveEachChannelItsUrl) {
  std::string scratch;
  std::set<std::string> distinct;
  for (const char* hot : {"Google", "Facebook", "Baidu", "Apple"}) {
    const std::string url(UrlOf(hot, &scratch));
    EXPECT_TRUE(IsBaseUrl(url)) << url;
    distinct.insert(url);
  }
  EXPECT_EQ(distinct.size(), 4u);
  const std::pair<const char*, const char*> ids[] = {{"channel-0", "0"},
                                                     {"channel-1", "-2147483648"},
                                                     {"channel-2", "1073741824"},
                                                     {"channel-3", "1073741824"},
                                                     {"channel-9999", "253493248"}};
  for (const auto& [channel, id] : ids) {
    const std::string url(UrlOf(channel, &scratch));
    const std::size_t at = url.find("&channel_id=");
    ASSERT_NE(at, std::string::npos) << url;
    EXPECT_TRUE(IsBaseUrl(url.substr(0, at))) << url;
    EXPECT_EQ(url.substr(at + 12), id) << channel;
  }
  // channel-3 is -(reverse(3)) = -(0xC0000000 as an int) = 1073741824, as channel-2: two urls
  // still differ in their directories.
  EXPECT_NE(UrlOf("channel-2", &scratch), std::string(UrlOf("channel-3", &scratch)));
  // Other channels: a base url of their own, no channel_id; a NUL ends the channel.
  const std::string other(UrlOf("channel-0009", &scratch));
  EXPECT_TRUE(IsBaseUrl(other)) << other;
  EXPECT_EQ(std::string(UrlOf(std::string_view("Apple\0\0", 7), &scratch)),
            std::string(UrlOf("Apple", &scratch)));
}

// REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) and SPLIT_INDEX(url, '/', i), computed
// otherwise than the queries do: the url cut into its '&'-separated pieces (each starts at the
// url's start or after an '&'), the first that starts with channel_id=.
std::vector<std::string> Pieces(const std::string& s, char separator) {
  std::vector<std::string> pieces(1);
  for (char c : s) {
    if (c == separator) {
      pieces.emplace_back();
    } else {
      pieces.back().push_back(c);
    }
  }
  return pieces;
}
std::optional<std::string> ReferenceChannelId(const std::string& url) {
  for (const std::string& piece : Pieces(url, '&'))
    if (piece.rfind("channel_id=", 0) == 0) return piece.substr(11);
  return std::nullopt;
}
std::string ReferenceSplit(const std::string& url, std::size_t index) {
  const std::vector<std::string> pieces = Pieces(url, '/');
  return index < pieces.size() ? pieces[index] : "";
}

TEST_F(QueryTest, ShouldAddChannelIdsAndSplitUrlsLikeQ21AndQ22) {
  QueryOptions o;
  o.list_capacity = 1 << 20;
  Run("q21", o);
  Run("q22", o);
  using Q21 = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::string, std::string>;
  using Q22 = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::string, std::string,
                         std::string, std::string>;
  std::vector<Q21> want21, got21;
  std::vector<Q22> want22, got22;
  std::string scratch;
  std::size_t named = 0;
  for (const Event& e : events_) {
    if (e.kind != EventKind::kBid) continue;
    const Bid& b = e.bid;
    const std::string channel = Text(b.channel, 16);
    const std::string url(UrlOf(channel, &scratch));
    std::string lower = channel;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::map<std::string, std::string> ids = {
        {"apple", "0"}, {"google", "1"}, {"facebook", "2"}, {"baidu", "3"}};
    const auto id = ReferenceChannelId(url);
    if (ids.count(lower)) {
      ++named;
      want21.emplace_back(b.auction, b.bidder, b.price, channel, ids.at(lower));
    } else if (id) {
      want21.emplace_back(b.auction, b.bidder, b.price, channel, *id);
    }
    want22.emplace_back(b.auction, b.bidder, b.price, channel, ReferenceSplit(url, 3),
                        ReferenceSplit(url, 4), ReferenceSplit(url, 5));
  }
  for (const ChannelBid& r : Rows<ChannelBid>("q21"))
    got21.emplace_back(r.auction, r.bidder, r.price, Text(r.channel, 16), Text(r.channel_id, 16));
  for (const UrlDirectories& r : Rows<UrlDirectories>("q22"))
    got22.emplace_back(r.auction, r.bidder, r.price, Text(r.channel, 16), Text(r.dir1, 8),
                       Text(r.dir2, 8), Text(r.dir3, 8));
  EXPECT_GT(named, 1000u);
  EXPECT_GT(want21.size(), named + 1000);  // channel-K bids too
  EXPECT_EQ(got21, want21);
  EXPECT_EQ(got22, want22);
}

// Q12 windows by the log's append time, not by the bids' own times.
TEST(QueriesTest, ShouldWindowBidsByTheirAppendTimeLikeQ12) {
  TempLog log;
  TempNamespace ns;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> want;  // (bidder, start) -> bids
  constexpr std::int64_t kSecond = 1'000'000'000;
  for (std::int64_t i = 0; i < 2000; ++i) {
    Bid b{};
    b.auction = 1000 + i % 7;
    b.bidder = i % 13;
    b.price = 100;
    b.date_time = 5'000 * kSecond - i * kSecond;  // event times run backwards
    const std::int64_t appended = 9'000 * kSecond + i * (kSecond / 20);
    log.Append(b, appended);
    ++want[{b.bidder, operators::FloorTo(appended, 10 * kSecond)}];
  }
  QueryOptions o;
  o.log = log.path();
  auto engine = MakeEngine(ns, 2);
  auto running = std::move(engine->Start(std::move(MakeQuery("q12", o)).value())).value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
  running->FlushWindows();
  ASSERT_TRUE(running->status().ok()) << running->status().message();
  EXPECT_EQ(running->Stats().late, 0u);
  struct Row {
    std::int64_t bidder, window_start, window_end, bid_count;
  };
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> got;
  for (const Row& r : engine::testing::ScanRows<Row>(ns, "q12")) {
    EXPECT_EQ(r.window_end, r.window_start + 10 * kSecond);
    got[{r.bidder, r.window_start}] = r.bid_count;
  }
  EXPECT_EQ(got, want);
}

// Q10 and Q14 over the reference generator's bids, which carry their `extra` padding as a tail.
TEST(QueriesTest, ShouldLogAndCalculateLikeQ10AndQ14OverBidsWithTheirExtra) {
  TempLog log{64 << 20};
  TempNamespace ns;
  GeneratorConfig config;
  config.kind = GeneratorKind::kReference;
  config.base_time_ns = 1'700'020'000'000'000'000;  // 03:46 UTC: 60 s in each part of the day
  const Generator g(config);
  using Row = std::tuple<std::int64_t, std::int64_t, double, std::string, std::int64_t,
                         std::int64_t, std::string>;
  std::vector<Row> want;
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::string,
                         std::string, std::string>>
      want_q10, got_q10;
  std::set<std::string> types;
  constexpr std::int64_t kHour = 3'600'000'000'000;
  for (std::uint64_t n = 0; n < 20'000; ++n) {
    Event e;
    g.Make(n, &e);
    // Spread the bids over the day's hours (the log's order kept), so that every part of the
    // day is seen.
    std::vector<std::byte> payload(e.payload().begin(), e.payload().end());
    if (e.kind == EventKind::kBid) {
      Bid b;
      std::memcpy(&b, payload.data(), sizeof b);
      b.date_time += static_cast<std::int64_t>(n % 24) * kHour;
      std::memcpy(payload.data(), &b, sizeof b);
      const std::string extra(e.extra());
      want_q10.emplace_back(b.auction, b.bidder, b.price, b.date_time, extra, DayText(b.date_time),
                            MinuteText(b.date_time));
      if (b.price * 908 > 1'000'000'000 && b.price * 908 < 50'000'000'000) {
        const std::string hour = MinuteText(b.date_time).substr(0, 2);
        const std::string type = hour >= "08" && hour <= "18"   ? "dayTime"
                                 : hour <= "06" || hour >= "20" ? "nightTime"
                                                                : "otherTime";
        types.insert(type);
        want.emplace_back(b.auction, b.bidder, static_cast<double>(b.price) * 0.908, type,
                          b.date_time, std::count(extra.begin(), extra.end(), 'c'), extra);
      }
    }
    ASSERT_EQ(log.log().NewProducer().value()->Append(payload, e.type(), e.date_time()),
              memlog::AppendResult::kOk);
  }
  QueryOptions o;
  o.log = log.path();
  o.list_capacity = 1 << 20;
  auto engine = MakeEngine(ns, 2);
  for (const char* query : {"q10", "q14"}) {
    auto running = std::move(engine->Start(std::move(MakeQuery(query, o)).value())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    ASSERT_TRUE(running->status().ok()) << running->status().message();
    EXPECT_EQ(running->Stats().malformed, 0u);
  }
  for (const LoggedBid& r : engine::testing::ScanRows<LoggedBid>(ns, "q10"))
    got_q10.emplace_back(r.auction, r.bidder, r.price, r.date_time, Text(r.extra, sizeof r.extra),
                         Text(r.dt, 16), Text(r.hm, 8));
  EXPECT_GT(want_q10.size(), 15'000u);
  EXPECT_EQ(got_q10, want_q10);
  std::vector<Row> got;
  for (const BidCalculation& r : engine::testing::ScanRows<BidCalculation>(ns, "q14"))
    got.emplace_back(r.auction, r.bidder, r.price, Text(r.bid_time_type, 16), r.date_time,
                     r.c_counts, Text(r.extra, sizeof r.extra));
  ASSERT_GT(want.size(), 100u);
  EXPECT_EQ(types.size(), 3u);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(std::get<2>(got[i]), std::get<2>(want[i]), 1e-6) << i;
    std::get<2>(got[i]) = std::get<2>(want[i]);
  }
  EXPECT_EQ(got, want);
}

// Ties and disorder, by hand: Q18 keeps the latest time (the later in the log of equal times,
// never an older one that came later); Q19 ranks equal prices in the order they came, and a bid
// that enters the top 10 pushes the others down a rank.
TEST(QueriesTest, ShouldBreakQ18AndQ19TiesAsDocumented) {
  TempLog log;
  TempNamespace ns;
  auto bid = [&](std::int64_t auction, std::int64_t bidder, std::int64_t price, std::int64_t t) {
    Bid b{};
    b.auction = auction;
    b.bidder = bidder;
    b.price = price;
    b.date_time = t;
    log.Append(b, t);
  };
  bid(1, 7, 100, 5'000);
  bid(1, 7, 200, 5'000);  // the same time, later: Q18 keeps it
  bid(1, 7, 300, 3'000);  // older, later in the log: Q18 keeps the one before
  for (std::int64_t i = 0; i < 11; ++i) bid(2, 10 + i, 50, 6'000 + i);  // 11 equal prices
  bid(2, 99, 60, 7'000);  // the highest, last: rank 1, the others one down
  for (const char* query : {"q18", "q19"}) {
    QueryOptions o;
    o.log = log.path();
    auto engine = MakeEngine(ns, 2);
    auto running = std::move(engine->Start(std::move(MakeQuery(query, o)).value())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    ASSERT_TRUE(running->status().ok()) << running->status().message();
  }
  std::map<std::int64_t, std::int64_t> latest;  // bidder 7's, auction -> price
  for (const Bid& b : engine::testing::ScanRows<Bid>(ns, "q18"))
    if (b.bidder == 7) latest[b.auction] = b.price;
  EXPECT_EQ(latest, (std::map<std::int64_t, std::int64_t>{{1, 200}}));
  std::map<std::int64_t, std::int64_t> rank_of_bidder;  // auction 2
  for (const RankedBid& r : engine::testing::ScanRows<RankedBid>(ns, "q19"))
    if (r.auction == 2) rank_of_bidder[r.bidder] = r.rank_number;
  std::map<std::int64_t, std::int64_t> want = {{99, 1}};
  for (std::int64_t i = 0; i < 9; ++i) want[10 + i] = i + 2;  // the first nine of the equal ones
  EXPECT_EQ(rank_of_bidder, want);
}

// Q7's ties and its window ends, by hand: equal highest prices all come, in any auctions; a bid
// at a window's end instant equal to that window's highest comes for it too, and for its own
// window where it is the highest there; the bids' extra comes with them.
TEST(QueriesTest, ShouldKeepQ7sTiesAndItsWindowEndsAsTheSql) {
  TempLog log;
  TempNamespace ns;
  constexpr std::int64_t kS = 1'000'000'000;
  std::vector<Bid> bids;
  auto bid = [&](std::int64_t auction, std::int64_t price, std::int64_t t, std::string_view extra) {
    Bid b{};
    b.auction = auction;
    b.bidder = 100 + auction;
    b.price = price;
    b.date_time = t;
    bids.push_back(b);
    std::vector<std::byte> payload(sizeof b + extra.size());
    std::memcpy(payload.data(), &b, sizeof b);
    std::memcpy(payload.data() + sizeof b, extra.data(), extra.size());
    ASSERT_EQ(
        log.log().NewProducer().value()->Append(payload, engine::RecordType<Bid>::kLogType, t),
        memlog::AppendResult::kOk);
  };
  bid(1, 300, 2 * kS, "one");
  bid(2, 300, 3 * kS, "");  // ties with auction 1
  bid(3, 100, 4 * kS, "");
  bid(4, 300, 10 * kS, "at the end");  // [0, 10 s]'s highest, and [10 s, 20 s)'s
  bid(5, 200, 15 * kS, "");
  bid(6, 400, 20 * kS, "");  // above [10 s, 20 s]'s highest: only [20 s, 30 s)'s
  bid(7, 100, 25 * kS, "");
  QueryOptions o;
  o.log = log.path();
  auto engine = MakeEngine(ns, 2);
  auto running = std::move(engine->Start(std::move(MakeQuery("q7", o)).value())).value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
  running->FlushWindows();
  ASSERT_TRUE(running->status().ok()) << running->status().message();
  std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> got;  // window, auction, extra
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>
      rows;
  for (const HighestBid& r : engine::testing::ScanRows<HighestBid>(ns, "q7")) {
    got.emplace_back(r.window_start / kS, r.auction, Text(r.extra, sizeof r.extra));
    rows.emplace_back(r.window_start, r.auction, r.price, r.bidder, r.date_time);
  }
  EXPECT_EQ(
      got,
      (std::vector<std::tuple<std::int64_t, std::int64_t, std::string>>{
          {0, 1, "one"}, {0, 2, ""}, {0, 4, "at the end"}, {10, 4, "at the end"}, {20, 6, ""}}));
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, HighestBidsAsTheSql(bids, 10 * kS));
}

// Late bids: a tenth of the bids are stamped up to 15 s earlier than their place in the log, with
// 1 s of disorder allowed, so that some come after some or all of their windows closed. A bid
// counts in the windows still open at the watermark just before it (the largest time before it,
// less 1 s): for q5's counts those whose end is past it, for q7's highest those whose end instant
// is not before it (q7's windows take their end instant too), and q7's bids at a window's end meet
// that window while it is open so. Late bids count in no window, as Flink's windows drop them.
TEST(QueriesTest, ShouldLeaveLateBidsOutOfQ5sAndQ7sWindowsAsTheWatermarkSays) {
  TempLog log(256 << 20);
  TempNamespace ns;
  GeneratorConfig config;
  config.base_time_ns = 1'700'006'370'000'000'000;
  config.events_per_second = 500;
  const Generator g(config);
  constexpr std::int64_t kSecond = 1'000'000'000, kBound = kSecond;
  std::mt19937_64 rng(5);
  std::vector<Bid> bids;
  for (std::uint64_t n = 0; bids.size() < 20'000; ++n) {
    Event e;
    g.Make(n, &e);
    if (e.kind != EventKind::kBid) continue;
    if (rng() % 10 == 0) e.bid.date_time -= static_cast<std::int64_t>(rng() % (15 * kSecond));
    bids.push_back(e.bid);
    log.Append(e.bid, e.bid.date_time);
  }
  QueryOptions o;
  o.log = log.path();
  o.max_out_of_orderness = std::chrono::nanoseconds(kBound);
  o.list_capacity = 1 << 20;
  auto engine = MakeEngine(ns, 2);
  std::uint64_t late[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    auto running =
        std::move(engine->Start(std::move(MakeQuery(i == 0 ? "q5" : "q7", o)).value())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    running->FlushWindows();
    ASSERT_TRUE(running->status().ok()) << running->status().message();
    late[i] = running->Stats().late;
  }
  // The watermark just before each bid.
  std::vector<std::int64_t> watermarks;
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  for (const Bid& b : bids) {
    watermarks.push_back(max_time == std::numeric_limits<std::int64_t>::min() ? max_time
                                                                              : max_time - kBound);
    max_time = std::max(max_time, b.date_time);
  }
  constexpr std::int64_t kSize = 10 * kSecond, kSlide = 2 * kSecond;
  // q5: every auction tied for the most bids that counted in a window.
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> counts;
  std::uint64_t late_for_q5 = 0;
  for (std::size_t i = 0; i < bids.size(); ++i) {
    bool counted = false;
    operators::HoppingWindows(kSize, kSlide).Assign(bids[i].date_time, [&](operators::Window w) {
      if (w.end <= watermarks[i]) return;
      ++counts[w.start][bids[i].auction];
      counted = true;
    });
    late_for_q5 += !counted;
  }
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> want5, got5;
  for (const auto& [start, auctions] : counts) {
    std::int64_t most = 0;
    for (const auto& [auction, n] : auctions) most = std::max(most, n);
    for (const auto& [auction, n] : auctions)
      if (n == most) want5.emplace_back(start, auction, n);
  }
  for (const HotItem& r : engine::testing::ScanRows<HotItem>(ns, "q5"))
    got5.emplace_back(r.window_start, r.auction, r.num);
  std::sort(got5.begin(), got5.end());
  EXPECT_GT(late_for_q5, 10u);  // late bids are seen
  EXPECT_EQ(late[0], late_for_q5);
  EXPECT_EQ(got5, want5);
  // q7: each window's highest among the bids that counted in it, and every bid that equals it,
  // at the window's end instant too.
  std::map<std::int64_t, std::int64_t> highest;
  std::uint64_t late_for_q7 = 0;
  for (std::size_t i = 0; i < bids.size(); ++i) {
    const std::int64_t start = operators::FloorTo(bids[i].date_time, kSize);
    const bool counted = start + kSize >= watermarks[i];
    if (counted) {
      auto [it, fresh] = highest.try_emplace(start, bids[i].price);
      if (!fresh) it->second = std::max(it->second, bids[i].price);
    }
    late_for_q7 += !counted && !(bids[i].date_time == start && start >= watermarks[i]);
  }
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> want7, got7;
  for (std::size_t i = 0; i < bids.size(); ++i) {
    const Bid& b = bids[i];
    const std::int64_t start = operators::FloorTo(b.date_time, kSize);
    auto own = highest.find(start);
    if (start + kSize >= watermarks[i] && own != highest.end() && own->second == b.price)
      want7.emplace_back(start, b.auction, b.price, b.date_time);
    auto before = highest.find(start - kSize);
    if (b.date_time == start && start >= watermarks[i] && before != highest.end() &&
        before->second == b.price)
      want7.emplace_back(start - kSize, b.auction, b.price, b.date_time);
  }
  std::sort(want7.begin(), want7.end());
  for (const HighestBid& r : engine::testing::ScanRows<HighestBid>(ns, "q7"))
    got7.emplace_back(r.window_start, r.auction, r.price, r.date_time);
  std::sort(got7.begin(), got7.end());
  EXPECT_GT(late_for_q7, 10u);
  EXPECT_EQ(late[1], late_for_q7);
  EXPECT_EQ(got7, want7);
}

TEST(QueriesTest, ShouldRefuseUnknownQueriesAndBadParameters) {
  QueryOptions o;
  o.log = "/dev/shm/nowhere.log";
  auto unknown = MakeQuery("q42", o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), serving::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("known: q0, q1"), std::string::npos);
  o.slide = o.window + std::chrono::nanoseconds(1);
  EXPECT_EQ(MakeQuery("q5", o).status().code(), serving::StatusCode::kInvalidArgument);
  o.slide = std::chrono::seconds(2);
  o.join_retention = std::chrono::seconds(-1);
  EXPECT_EQ(MakeQuery("q3", o).status().code(), serving::StatusCode::kInvalidArgument);
  o = QueryOptions{};
  EXPECT_EQ(MakeQuery("q1", o).status().code(), serving::StatusCode::kInvalidArgument);  // no log
  for (const QueryInfo& q : Queries()) {
    QueryOptions ok;
    ok.log = "/dev/shm/nowhere.log";
    EXPECT_TRUE(MakeQuery(q.name, ok).ok()) << q.name;
  }
}

}  // namespace
}  // namespace kappa::nexmark
