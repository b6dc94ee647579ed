#include "nexmark/queries.h"

#include <cstring>
#include <string_view>
#include <tuple>

#include "nexmark/model.h"
#include "operators/aggregate.h"
#include "operators/window.h"

namespace kappa::nexmark {
namespace {

using engine::Job;
using serving::Status;
using serving::StatusCode;

// Q7's aggregate: the highest bid of a window (of an auction's bids in the first stage, of the
// auctions' highest in the second): the earliest of equal ones, then the smaller auction and
// bidder, so that the result does not depend on the order the partials meet in.
bool Beats(const HighestBid& a, const HighestBid& b) {
  return std::tie(b.price, a.date_time, a.auction, a.bidder) <
         std::tie(a.price, b.date_time, b.auction, b.bidder);
}
struct HighestBidOf {
  using Input = Bid;
  using Acc = HighestBid;
  using Output = HighestBid;
  Acc Init() const { return HighestBid{0, -1, 0, 0}; }
  void Add(Acc& acc, const Bid& b) const {
    const HighestBid x{b.auction, b.price, b.bidder, b.date_time};
    if (Beats(x, acc)) acc = x;
  }
  void Merge(Acc& into, const Acc& from) const {
    if (Beats(from, into)) into = from;
  }
  Output Result(const Acc& acc) const { return acc; }
};
using AuctionsHighest = engine::WindowResult<std::int64_t, HighestBid>;
struct HighestOfAuctions {
  using Input = AuctionsHighest;
  using Acc = HighestBid;
  using Output = HighestBid;
  Acc Init() const { return HighestBid{0, -1, 0, 0}; }
  void Add(Acc& acc, const AuctionsHighest& r) const { Merge(acc, r.value); }
  void Merge(Acc& into, const Acc& from) const {
    if (Beats(from, into)) into = from;
  }
  Output Result(const Acc& acc) const { return acc; }
};

// Q5's second stage: the auction with the most bids among a window's counts (the smaller id of
// equal ones).
using AuctionBids = engine::WindowResult<std::int64_t, std::int64_t>;
struct HottestAuction {
  using Input = AuctionBids;
  using Acc = HotItem;
  using Output = HotItem;
  Acc Init() const { return HotItem{-1, 0}; }
  void Add(Acc& acc, const AuctionBids& r) const { Merge(acc, HotItem{r.key, r.value}); }
  void Merge(Acc& into, const Acc& from) const {
    if (from.bids > into.bids || (from.bids == into.bids && from.auction < into.auction))
      into = from;
  }
  Output Result(const Acc& acc) const { return acc; }
};

// Q6's aggregate: the mean of a seller's last 10 winning prices.
struct LastTenAverage {
  static constexpr int kN = 10;
  struct Acc {
    std::int64_t prices[kN];
    std::int64_t count;  // all seen; the last min(count, kN) are kept, the newest at count % kN - 1
  };
  using Input = WinningBid;
  using Output = double;
  Acc Init() const { return Acc{{}, 0}; }
  void Add(Acc& acc, const WinningBid& w) const { acc.prices[acc.count++ % kN] = w.price; }
  void Merge(Acc& into, const Acc& from) const {
    const std::int64_t n = std::min<std::int64_t>(from.count, kN);
    for (std::int64_t i = from.count - n; i < from.count; ++i)
      into.prices[into.count++ % kN] = from.prices[i % kN];
  }
  Output Result(const Acc& acc) const {
    const std::int64_t n = std::min<std::int64_t>(acc.count, kN);
    if (n == 0) return 0;
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += acc.prices[i];
    return static_cast<double>(sum) / static_cast<double>(n);
  }
};

// Q9's pipeline up to its results: each auction's best bid between its start and its expiry.
auto WinningBids(const engine::Source& events, const QueryOptions& o) {
  const std::int64_t bound = o.max_out_of_orderness.count();
  return events.Read<Auction>()
      .EventTime([](const Auction& a) { return a.date_time; }, bound)
      .KeyBy([](const Auction& a) { return a.id; })
      .JoinUntil(
          events.Read<Bid>()
              .EventTime([](const Bid& b) { return b.date_time; }, bound)
              .KeyBy([](const Bid& b) { return b.auction; }),
          [](const Auction& a) { return a.expires; },
          [](const Bid& candidate, const Bid& best) { return candidate.price > best.price; })
      .Select([](const Auction& a, const Bid& b) {
        return WinningBid{a.id, a.seller, a.category, b.price, b.bidder, b.date_time, a.expires};
      });
}

bool IsLocalState(const Person& p) {
  const std::string_view state(p.state, strnlen(p.state, sizeof p.state));
  return state == "OR" || state == "ID" || state == "CA";
}

template <std::size_t N, std::size_t M>
void CopyText(char (&to)[N], const char (&from)[M]) {
  static_assert(N >= M);
  std::memset(to, 0, N);
  std::memcpy(to, from, M);
}

serving::Status Bad(const std::string& query, const std::string& why) {
  return Status::Error(StatusCode::kInvalidArgument, query + ": " + why);
}

}  // namespace

const std::vector<QueryInfo>& Queries() {
  static const std::vector<QueryInfo> queries = {
      {"q0", "pass-through: every bid"},
      {"q1", "currency conversion: every bid, price in euros"},
      {"q2", "selection: bids on auctions whose id is a multiple of 123"},
      {"q3", "local item suggestion: category-10 auctions of sellers in OR, ID, CA"},
      {"q4", "average closing price per category"},
      {"q5", "hot items: the auction with the most bids, 10 s windows sliding by 2 s"},
      {"q6", "average selling price per seller, last 10 auctions"},
      {"q7", "highest bid of each 10 s window"},
      {"q8", "new users: persons who opened an auction in their first 10 s window"},
      {"q9", "winning bids: each auction's highest bid before it expired"},
      {"q11", "user sessions: bids per bidder per session (10 s gap)"},
      {"q20", "expanded bids: every bid with its auction, when that is of category 10"},
  };
  return queries;
}

serving::Result<Job> MakeQuery(const std::string& name, const QueryOptions& o) {
  const std::string view = o.view.empty() ? name : o.view;
  if (o.log.empty()) return Bad(name, "no log given");
  if (o.window.count() <= 0) return Bad(name, "the window must be > 0");
  if (o.slide.count() <= 0 || o.slide > o.window)
    return Bad(name, "the slide must be in (0, window]");
  if (o.auction_modulus <= 0) return Bad(name, "the auction modulus must be > 0");
  if (o.session_gap.count() <= 0) return Bad(name, "the session gap must be > 0");
  if (o.max_out_of_orderness.count() < 0)
    return Bad(name, "the out-of-orderness bound must be >= 0");
  if (o.join_retention.count() < 0) return Bad(name, "the join retention must be >= 0");
  const std::int64_t bound = o.max_out_of_orderness.count();
  const engine::Source events(o.log, o.source);  // each job is named after its view
  auto bids = [&] {
    return events.Read<Bid>().EventTime([](const Bid& b) { return b.date_time; }, bound);
  };

  if (name == "q0") return bids().Map([](const Bid& b) { return b; }).ToList(view, o.list_capacity);
  if (name == "q1") {
    const double rate = o.euro_rate;
    return bids()
        .Map([rate](const Bid& b) {
          return BidInEuros{b.auction, b.bidder, static_cast<double>(b.price) * rate, b.date_time};
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q2") {
    const std::int64_t modulus = o.auction_modulus;
    return bids()
        .Filter([modulus](const Bid& b) { return b.auction % modulus == 0; })
        .Map([](const Bid& b) {
          return AuctionPrice{b.auction, b.price};
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q3") {
    return events.Read<Auction>()
        .EventTime([](const Auction& a) { return a.date_time; }, bound)
        .Filter([](const Auction& a) { return a.category == 10; })
        .KeyBy([](const Auction& a) { return a.seller; })
        .RegularJoin(events.Read<Person>()
                         .EventTime([](const Person& p) { return p.date_time; }, bound)
                         .Filter([](const Person& p) { return IsLocalState(p); })
                         .KeyBy([](const Person& p) { return p.id; }),
                     o.join_retention)
        .Select([](const Auction& a, const Person& p) {
          LocalItem item{};
          CopyText(item.name, p.name);
          CopyText(item.city, p.city);
          CopyText(item.state, p.state);
          item.auction = a.id;
          return item;
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q20") {
    return bids()
        .KeyBy([](const Bid& b) { return b.auction; })
        .RegularJoin(events.Read<Auction>()
                         .EventTime([](const Auction& a) { return a.date_time; }, bound)
                         .Filter([](const Auction& a) { return a.category == 10; })
                         .KeyBy([](const Auction& a) { return a.id; }),
                     o.join_retention)
        .Select([](const Bid& b, const Auction& a) {
          AuctionBid r{};
          r.auction = b.auction;
          r.bidder = b.bidder;
          r.price = b.price;
          CopyText(r.channel, b.channel);
          r.date_time = b.date_time;
          CopyText(r.item_name, a.item_name);
          CopyText(r.description, a.description);
          r.initial_bid = a.initial_bid;
          r.reserve = a.reserve;
          r.auction_date_time = a.date_time;
          r.expires = a.expires;
          r.seller = a.seller;
          r.category = a.category;
          return r;
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q5") {
    return bids()
        .KeyBy([](const Bid& b) { return b.auction; })
        .Window(operators::HoppingWindows(o.window, o.slide))
        .Aggregate(operators::Count<Bid>{})
        .KeyBy([](const AuctionBids& r) { return r.start; })
        .Aggregate(HottestAuction{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "window_start", .expected_keys = 1024});
  }
  if (name == "q7") {
    return bids()
        .KeyBy([](const Bid& b) { return b.auction; })
        .Window(operators::TumblingWindows(o.window))
        .Aggregate(HighestBidOf{})
        .KeyBy([](const AuctionsHighest& r) { return r.start; })
        .Aggregate(HighestOfAuctions{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "window_start", .expected_keys = 1024});
  }
  if (name == "q8") {
    auto time_of_person = [](const Person& p) { return p.date_time; };
    auto time_of_auction = [](const Auction& a) { return a.date_time; };
    const std::int64_t window = o.window.count();
    return events.Read<Person>()
        .EventTime(time_of_person, bound)
        .KeyBy([](const Person& p) { return p.id; })
        .WindowJoin(
            events.Read<Auction>().EventTime(time_of_auction, bound).KeyBy([](const Auction& a) {
              return a.seller;
            }),
            operators::TumblingWindows(window))
        .Select([window](const Person& p, const Auction& a) {
          NewUser u{};
          u.id = p.id;
          CopyText(u.name, p.name);
          u.window_start = operators::FloorTo(std::max(p.date_time, a.date_time), window);
          return u;
        })
        .ToView(view,
                engine::ViewSinkOptions{.key_name = "person", .expected_keys = o.expected_keys});
  }
  if (name == "q9") {
    return WinningBids(events, o).ToView(
        view, engine::ViewSinkOptions{.key_name = "id", .expected_keys = o.expected_keys});
  }
  if (name == "q4") {
    return WinningBids(events, o)
        .KeyBy([](const WinningBid& w) { return w.category; })
        .Aggregate(operators::MakeAvg<WinningBid>([](const WinningBid& w) { return w.price; }))
        .ToView(view,
                engine::ViewSinkOptions{
                    .key_name = "category", .value_name = "average_price", .expected_keys = 64});
  }
  if (name == "q6") {
    return WinningBids(events, o)
        .KeyBy([](const WinningBid& w) { return w.seller; })
        .Aggregate(LastTenAverage{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "seller",
                                              .value_name = "average_price",
                                              .expected_keys = o.expected_keys});
  }
  if (name == "q11") {
    return bids()
        .KeyBy([](const Bid& b) { return b.bidder; })
        .Window(operators::SessionWindows(o.session_gap))
        .Aggregate(operators::Count<Bid>{})
        .ToView(view,
                engine::ViewSinkOptions{
                    .key_name = "bidder", .value_name = "bids", .expected_keys = o.expected_keys});
  }
  std::string known;
  for (const QueryInfo& q : Queries()) known += (known.empty() ? "" : ", ") + std::string(q.name);
  return Status::Error(StatusCode::kNotFound,
                       "unknown query '" + name + "' (known: " + known + ")");
}

}  // namespace kappa::nexmark
