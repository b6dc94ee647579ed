#include "nexmark/queries.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>

#include "nexmark/model.h"
#include "nexmark/side_input.h"
#include "nexmark/url.h"
#include "operators/aggregate.h"
#include "operators/window.h"

namespace kappa::nexmark {
namespace {

using engine::Job;
using serving::Status;
using serving::StatusCode;

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

// ---- Q15 to Q19: statistics per day, the latest and the highest bids ----

constexpr std::int64_t kDay = 86'400'000'000'000;
constexpr std::int64_t kMinute = 60'000'000'000;
std::int64_t DayOf(std::int64_t t) { return operators::FloorTo(t, kDay) / kDay; }

// Writes `value` as `digits` decimal digits at `out`.
void PutDigits(char* out, std::int64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
}
// DATE_FORMAT(t, 'yyyy-MM-dd') in UTC, NUL-padded.
void FormatDay(std::int64_t day, char (&out)[16]) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  std::memset(out, 0, sizeof out);
  PutDigits(out, static_cast<int>(ymd.year()), 4);
  out[4] = '-';
  PutDigits(out + 5, static_cast<unsigned>(ymd.month()), 2);
  out[7] = '-';
  PutDigits(out + 8, static_cast<unsigned>(ymd.day()), 2);
}
// DATE_FORMAT(t, 'HH:mm') in UTC, NUL-padded.
void FormatMinute(std::int64_t t, char (&out)[8]) {
  const std::int64_t minute = (t - operators::FloorTo(t, kDay)) / kMinute;
  std::memset(out, 0, sizeof out);
  PutDigits(out, minute / 60, 2);
  out[2] = ':';
  PutDigits(out + 3, minute % 60, 2);
}

// The price ranks of Q15 to Q17: 1 below 10,000, 2 below 1,000,000, 3 from there.
std::int64_t PriceRank(std::int64_t price) {
  return price < 10'000 ? 1 : price < 1'000'000 ? 2 : 3;
}

// Q15, Q16: each bid is seen twice, as its bidder's and as its auction's. Stage 1, keyed by
// (channel, day, who), finds the first bid of each bidder and of each auction in a day, in all and
// in each price rank; stage 2 counts those firsts, so distinct counts are exact.
struct Probe {
  char channel[16];  // Q16's (zeros for Q15)
  std::int64_t day;
  std::int64_t who;  // the bidder, or -1 - the auction
  std::int64_t rank;
  std::int64_t date_time;
};
struct ProbeKey {
  char channel[16];
  std::int64_t day;
  std::int64_t who;
};
struct FirstSeen {
  Probe last;          // the probe just added
  std::int64_t seen;   // bit 0: any rank; bit r: rank r
  std::int64_t fresh;  // the bits the last probe set first
};
struct FirstsOf {
  using Input = Probe;
  using Acc = FirstSeen;
  using Output = FirstSeen;
  Acc Init() const { return FirstSeen{}; }
  void Add(Acc& acc, const Probe& p) const {
    const std::int64_t bits = 1 | (std::int64_t{1} << p.rank);
    acc.last = p;
    acc.fresh = bits & ~acc.seen;
    acc.seen |= bits;
  }
  void Merge(Acc& into, const Acc& from) const {
    into.fresh = from.seen & ~into.seen;
    into.seen |= from.seen;
    into.last = from.last;
  }
  Output Result(const Acc& acc) const { return acc; }
};
using Firsts = engine::KeyedResult<ProbeKey, FirstSeen>;

// Stage 2: a day's (and channel's) counts. Each bid comes twice: its bidder's probe counts the
// bid, both count their firsts.
struct DayCounts {
  char channel[16];
  std::int64_t day;
  std::int64_t last_time;
  std::int64_t bids[4];  // [0] all, [r] rank r
  std::int64_t bidders[4];
  std::int64_t auctions[4];
};
template <class Row>
struct BidStatistics {
  using Input = Firsts;
  using Acc = DayCounts;
  using Output = Row;
  Acc Init() const {
    return DayCounts{{}, 0, std::numeric_limits<std::int64_t>::min(), {}, {}, {}};
  }
  void Add(Acc& acc, const Firsts& f) const {
    const Probe& p = f.value.last;
    std::memcpy(acc.channel, p.channel, sizeof acc.channel);
    acc.day = p.day;
    acc.last_time = std::max(acc.last_time, p.date_time);
    std::int64_t* distinct = p.who >= 0 ? acc.bidders : acc.auctions;
    if (p.who >= 0) {
      ++acc.bids[0];
      ++acc.bids[p.rank];
    }
    if (f.value.fresh & 1) ++distinct[0];
    if (f.value.fresh & (std::int64_t{1} << p.rank)) ++distinct[p.rank];
  }
  void Merge(Acc& into, const Acc& from) const {
    into.last_time = std::max(into.last_time, from.last_time);
    for (int i = 0; i < 4; ++i) {
      into.bids[i] += from.bids[i];
      into.bidders[i] += from.bidders[i];
      into.auctions[i] += from.auctions[i];
    }
  }
  Output Result(const Acc& acc) const {
    Row r{};
    if constexpr (std::is_same_v<Row, ChannelDayStats>) {
      std::memcpy(r.channel, acc.channel, sizeof r.channel);
      FormatMinute(acc.last_time, r.minute);
    }
    FormatDay(acc.day, r.day);
    std::int64_t* out[] = {&r.total_bids,     &r.rank1_bids,     &r.rank2_bids,
                           &r.rank3_bids,     &r.total_bidders,  &r.rank1_bidders,
                           &r.rank2_bidders,  &r.rank3_bidders,  &r.total_auctions,
                           &r.rank1_auctions, &r.rank2_auctions, &r.rank3_auctions};
    for (int i = 0; i < 4; ++i) {
      *out[i] = acc.bids[i];
      *out[4 + i] = acc.bidders[i];
      *out[8 + i] = acc.auctions[i];
    }
    return r;
  }
};

// Q15 (per_channel false) and Q16: the probes of each bid, counted per day (and channel).
template <class Row>
auto BidStatisticsOf(auto bids, bool per_channel) {
  return std::move(bids)
      .template FlatMap<Probe>([per_channel](const Bid& b, auto&& emit) {
        Probe p{};
        if (per_channel) std::memcpy(p.channel, b.channel, sizeof p.channel);
        p.day = DayOf(b.date_time);
        p.rank = PriceRank(b.price);
        p.date_time = b.date_time;
        p.who = b.bidder;
        emit(p);
        p.who = -1 - b.auction;
        emit(p);
      })
      .KeyBy([](const Probe& p) {
        ProbeKey k;
        std::memcpy(k.channel, p.channel, sizeof k.channel);
        k.day = p.day;
        k.who = p.who;
        return k;
      })
      .Aggregate(FirstsOf{});
}

// Q17: an auction's bids of a day.
struct AuctionDay {
  std::int64_t auction;
  std::int64_t day;
};
struct AuctionDayOf {
  struct Acc {
    std::int64_t auction, day, bids[4], min_price, max_price, sum_price;
  };
  using Input = Bid;
  using Output = AuctionDayStats;
  Acc Init() const {
    return Acc{0,
               0,
               {},
               std::numeric_limits<std::int64_t>::max(),
               std::numeric_limits<std::int64_t>::min(),
               0};
  }
  void Add(Acc& acc, const Bid& b) const {
    acc.auction = b.auction;
    acc.day = DayOf(b.date_time);
    ++acc.bids[0];
    ++acc.bids[PriceRank(b.price)];
    acc.min_price = std::min(acc.min_price, b.price);
    acc.max_price = std::max(acc.max_price, b.price);
    acc.sum_price += b.price;
  }
  void Merge(Acc& into, const Acc& from) const {
    for (int i = 0; i < 4; ++i) into.bids[i] += from.bids[i];
    into.min_price = std::min(into.min_price, from.min_price);
    into.max_price = std::max(into.max_price, from.max_price);
    into.sum_price += from.sum_price;
  }
  Output Result(const Acc& acc) const {
    AuctionDayStats r{};
    r.auction = acc.auction;
    FormatDay(acc.day, r.day);
    r.total_bids = acc.bids[0];
    r.rank1_bids = acc.bids[1];
    r.rank2_bids = acc.bids[2];
    r.rank3_bids = acc.bids[3];
    r.min_price = acc.min_price;
    r.max_price = acc.max_price;
    r.avg_price = acc.bids[0] > 0 ? acc.sum_price / acc.bids[0] : 0;
    r.sum_price = acc.sum_price;
    return r;
  }
};

// Q18: a bidder's latest bid on an auction (the later in the log of equal times).
struct BidderAuction {
  std::int64_t bidder;
  std::int64_t auction;
};
struct LatestBid {
  using Input = Bid;
  using Acc = Bid;
  using Output = Bid;
  Acc Init() const {
    Bid b{};
    b.date_time = std::numeric_limits<std::int64_t>::min();
    return b;
  }
  void Add(Acc& acc, const Bid& b) const {
    if (b.date_time >= acc.date_time) acc = b;
  }
  void Merge(Acc& into, const Acc& from) const { Add(into, from); }
  Output Result(const Acc& acc) const { return acc; }
};

// Q19: an auction's 10 highest bids (of equal prices, the earlier ranks higher), and the first
// rank the last bid changed (10: none).
struct TopTen {
  static constexpr int kN = 10;
  Bid bids[kN];
  std::int64_t size;
  std::int64_t changed;
};
struct TopTenOf {
  using Input = Bid;
  using Acc = TopTen;
  using Output = TopTen;
  Acc Init() const { return TopTen{{}, 0, TopTen::kN}; }
  void Add(Acc& acc, const Bid& b) const {
    std::int64_t at = 0;
    while (at < acc.size && acc.bids[at].price >= b.price) ++at;
    acc.changed = at;
    if (at == TopTen::kN) return;
    acc.size = std::min<std::int64_t>(acc.size + 1, TopTen::kN);
    for (std::int64_t i = acc.size - 1; i > at; --i) acc.bids[i] = acc.bids[i - 1];
    acc.bids[at] = b;
  }
  void Merge(Acc& into, const Acc& from) const {
    std::int64_t changed = TopTen::kN;
    for (std::int64_t i = 0; i < from.size; ++i) {
      Add(into, from.bids[i]);
      changed = std::min(changed, into.changed);
    }
    into.changed = changed;
  }
  Output Result(const Acc& acc) const { return acc; }
};
struct AuctionRank {
  std::int64_t auction;
  std::int64_t rank;
};
// The latest record of a key.
template <class T>
struct Latest {
  using Input = T;
  using Acc = T;
  using Output = T;
  Acc Init() const { return T{}; }
  void Add(Acc& acc, const T& t) const { acc = t; }
  void Merge(Acc& into, const Acc& from) const { into = from; }
  Output Result(const Acc& acc) const { return acc; }
};

// ---- Q21, Q22: a bid's url (nexmark/url.h) ----

std::string_view TextOf(const char* field, std::size_t size) {
  return std::string_view(field, strnlen(field, size));
}
bool EqualsLowered(std::string_view s, std::string_view lower) {
  return s.size() == lower.size() &&
         std::equal(s.begin(), s.end(), lower.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}
// REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2): the leftmost channel_id parameter's value.
std::optional<std::string_view> ChannelIdParameter(std::string_view url) {
  constexpr std::string_view kName = "channel_id=";
  for (std::size_t at = url.find(kName); at != std::string_view::npos;
       at = url.find(kName, at + 1)) {
    if (at != 0 && url[at - 1] != '&') continue;
    const std::string_view value = url.substr(at + kName.size());
    return value.substr(0, value.find('&'));
  }
  return std::nullopt;
}
// SPLIT_INDEX(s, '/', i): the i-th (from 0) piece of s split at '/', or nothing.
std::optional<std::string_view> SplitIndex(std::string_view s, int index) {
  for (int i = 0;; ++i) {
    const std::size_t slash = s.find('/');
    if (i == index) return s.substr(0, slash);
    if (slash == std::string_view::npos) return std::nullopt;
    s.remove_prefix(slash + 1);
  }
}
template <std::size_t N>
void PutText(char (&to)[N], std::string_view text) {
  std::memset(to, 0, N);
  std::memcpy(to, text.data(), std::min(text.size(), N - 1));
}

// A bid with its `extra` padding (Q10, Q14).
using BidWithExtra = engine::WithTail<Bid, kMaxBidExtraBytes>;

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
      {"q5", "hot items: the auctions with the most bids (all tied), 10 s windows sliding by 2 s"},
      {"q6", "average selling price per seller, last 10 auctions"},
      {"q7", "highest bid: every bid at the highest price of its 10 s window"},
      {"q8", "new users: persons who opened an auction in their first 10 s window"},
      {"q9", "winning bids: each auction's highest bid before it expired"},
      {"q11", "user sessions: bids per bidder per session (10 s gap)"},
      {"q10", "log to file system: every bid with its extra, day and minute (the partitions)"},
      {"q12", "processing-time windows: bids per bidder per 10 s of append time"},
      {"q13", "bounded side input join: bids with the side input's rows of auction % 10000"},
      {"q14", "calculation: bids of 1 to 50 million euros, with the part of the day, extra's c's"},
      {"q15", "bidding statistics per day: bids, bidders and auctions by price rank"},
      {"q16", "channel statistics per channel and day, as q15"},
      {"q17", "auction statistics per auction and day: bids by price rank, min, max, avg, sum"},
      {"q18", "each bidder's latest bid on each auction"},
      {"q19", "each auction's 10 highest bids, ranked"},
      {"q20", "expanded bids: every bid with its auction, when that is of category 10"},
      {"q21", "add channel id: bids on a named channel or with a channel_id in their url"},
      {"q22", "get url directories: every bid with its url's first three directories"},
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
  if (name == "q10") {
    return events.Read<BidWithExtra>()
        .EventTime([](const BidWithExtra& b) { return b.record.date_time; }, bound)
        .Map([](const BidWithExtra& in) {
          LoggedBid r{};
          r.auction = in.record.auction;
          r.bidder = in.record.bidder;
          r.price = in.record.price;
          r.date_time = in.record.date_time;
          std::memcpy(r.extra, in.tail, sizeof r.extra);
          FormatDay(DayOf(in.record.date_time), r.dt);
          FormatMinute(in.record.date_time, r.hm);
          return r;
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q12") {
    // Processing time is the log's: each record's append timestamp (no EventTime), so a replay
    // windows every bid as the live run did.
    return events.Read<Bid>()
        .KeyBy([](const Bid& b) { return b.bidder; })
        .Window(operators::TumblingWindows(o.window))
        .Aggregate(operators::Count<Bid>{})
        .ToList(view, o.list_capacity,
                engine::ViewSinkOptions{.key_name = "bidder", .value_name = "bid_count"});
  }
  if (name == "q13") {
    // The SQL's processing-time lookup join on a bounded table: the table as the file holds it
    // when the query is made.
    auto table = std::make_shared<const SideInput>(ReferenceSideInput());
    if (!o.side_input.empty()) {
      auto loaded = LoadSideInput(o.side_input);
      if (!loaded.ok()) return loaded.status().WithPrefix(name + ": ");
      table = std::make_shared<const SideInput>(std::move(loaded).value());
    }
    return bids()
        .template FlatMap<SideInputBid>([table](const Bid& b, auto&& emit) {
          const auto* values = table->Find(b.auction % 10'000);  // SQL's MOD: the dividend's sign
          if (values == nullptr) return;
          SideInputBid r{};
          r.auction = b.auction;
          r.bidder = b.bidder;
          r.price = b.price;
          r.date_time = b.date_time;
          for (const SideInput::Value& v : *values) {
            std::memcpy(r.value, v.data(), sizeof r.value);
            emit(r);
          }
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q14") {
    // The SQL's 0.908 * price is a DECIMAL: compared here in thousandths, exactly.
    return events.Read<BidWithExtra>()
        .EventTime([](const BidWithExtra& b) { return b.record.date_time; }, bound)
        .Filter([](const BidWithExtra& b) {
          const std::int64_t thousandths = b.record.price * 908;
          return thousandths > 1'000'000'000 && thousandths < 50'000'000'000;
        })
        .Map([](const BidWithExtra& in) {
          const Bid& b = in.record;
          BidCalculation r{};
          r.auction = b.auction;
          r.bidder = b.bidder;
          r.price = static_cast<double>(b.price * 908) / 1000;
          const std::int64_t hour =
              (b.date_time - operators::FloorTo(b.date_time, kDay)) / (60 * kMinute);
          const std::string_view type = hour >= 8 && hour <= 18   ? "dayTime"
                                        : hour <= 6 || hour >= 20 ? "nightTime"
                                                                  : "otherTime";
          std::memcpy(r.bid_time_type, type.data(), type.size());
          r.date_time = b.date_time;
          std::memcpy(r.extra, in.tail, sizeof r.extra);
          const std::string_view extra = in.tail_text();
          r.c_counts = std::count(extra.begin(), extra.end(), 'c');
          return r;
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q15") {
    return BidStatisticsOf<DayBidStats>(bids(), false)
        .KeyBy([](const Firsts& f) { return f.value.last.day; })
        .Aggregate(BidStatistics<DayBidStats>{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "day_number", .expected_keys = 64});
  }
  if (name == "q16") {
    struct ChannelDay {
      char channel[16];
      std::int64_t day;
    };
    return BidStatisticsOf<ChannelDayStats>(bids(), true)
        .KeyBy([](const Firsts& f) {
          ChannelDay k;
          std::memcpy(k.channel, f.value.last.channel, sizeof k.channel);
          k.day = f.value.last.day;
          return k;
        })
        .Aggregate(BidStatistics<ChannelDayStats>{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "channel_day",
                                              .expected_keys = o.expected_keys});
  }
  if (name == "q17") {
    return bids()
        .KeyBy([](const Bid& b) {
          return AuctionDay{b.auction, DayOf(b.date_time)};
        })
        .Aggregate(AuctionDayOf{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "auction_day",
                                              .expected_keys = o.expected_keys});
  }
  if (name == "q18") {
    return bids()
        .KeyBy([](const Bid& b) {
          return BidderAuction{b.bidder, b.auction};
        })
        .Aggregate(LatestBid{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "bidder_auction",
                                              .expected_keys = o.expected_keys});
  }
  if (name == "q19") {
    using Ranking = engine::KeyedResult<std::int64_t, TopTen>;
    return bids()
        .KeyBy([](const Bid& b) { return b.auction; })
        .Aggregate(TopTenOf{})
        .template FlatMap<RankedBid>([](const Ranking& r, auto&& emit) {
          for (std::int64_t i = r.value.changed; i < r.value.size; ++i) {
            const Bid& b = r.value.bids[i];
            RankedBid row{};
            row.auction = b.auction;
            row.bidder = b.bidder;
            row.price = b.price;
            CopyText(row.channel, b.channel);
            row.date_time = b.date_time;
            row.rank_number = i + 1;
            emit(row);
          }
        })
        .KeyBy([](const RankedBid& r) {
          return AuctionRank{r.auction, r.rank_number};
        })
        .Aggregate(Latest<RankedBid>{})
        .ToView(view, engine::ViewSinkOptions{.key_name = "auction_rank",
                                              .expected_keys = 8 * o.expected_keys});
  }
  if (name == "q21") {
    return bids()
        .template FlatMap<ChannelBid>([](const Bid& b, auto&& emit) {
          const std::string_view channel = TextOf(b.channel, sizeof b.channel);
          constexpr std::string_view kNamed[] = {"apple", "google", "facebook", "baidu"};
          ChannelBid r{};
          r.auction = b.auction;
          r.bidder = b.bidder;
          r.price = b.price;
          CopyText(r.channel, b.channel);
          for (std::size_t i = 0; i < std::size(kNamed); ++i) {
            if (EqualsLowered(channel, kNamed[i])) {
              r.channel_id[0] = static_cast<char>('0' + i);
              emit(r);
              return;
            }
          }
          std::string scratch;
          if (const auto id = ChannelIdParameter(UrlOf(channel, &scratch))) {
            PutText(r.channel_id, *id);
            emit(r);
          }
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q22") {
    return bids()
        .Map([](const Bid& b) {
          UrlDirectories r{};
          r.auction = b.auction;
          r.bidder = b.bidder;
          r.price = b.price;
          CopyText(r.channel, b.channel);
          std::string scratch;
          const std::string_view url = UrlOf(TextOf(b.channel, sizeof b.channel), &scratch);
          PutText(r.dir1, SplitIndex(url, 3).value_or(""));
          PutText(r.dir2, SplitIndex(url, 4).value_or(""));
          PutText(r.dir3, SplitIndex(url, 5).value_or(""));
          return r;
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q5") {
    // Each window's counts meet in the stage keyed by window start, in the tumbling window of
    // the slide that holds the window's last instant: it closes once every count has come.
    using AuctionBids = engine::WindowResult<std::int64_t, std::int64_t>;
    return bids()
        .KeyBy([](const Bid& b) { return b.auction; })
        .Window(operators::HoppingWindows(o.window, o.slide))
        .Aggregate(operators::Count<Bid>{})
        .KeyBy([](const AuctionBids& r) { return r.start; })
        .Window(operators::TumblingWindows(o.slide))
        .ArgMax([](const AuctionBids& r) { return r.value; })
        .Map([](const engine::WindowResult<std::int64_t, AuctionBids>& r) {
          const AuctionBids& c = r.value;
          return HotItem{c.key, c.value, c.start, c.end};
        })
        .ToList(view, o.list_capacity);
  }
  if (name == "q7") {
    // One window at a time holds every bid: one partition keeps each window's highest, and the
    // bids at its end instant that equal it (the SQL's BETWEEN takes both ends).
    return events.Read<BidWithExtra>()
        .EventTime([](const BidWithExtra& b) { return b.record.date_time; }, bound)
        .KeyBy([](const BidWithExtra&) { return std::int64_t{0}; })
        .Window(operators::TumblingWindows(o.window))
        .ArgMax([](const BidWithExtra& b) { return b.record.price; },
                engine::ArgMaxOptions{.include_end = true})
        .Map([](const engine::WindowResult<std::int64_t, BidWithExtra>& r) {
          const Bid& b = r.value.record;
          HighestBid h{};
          h.auction = b.auction;
          h.price = b.price;
          h.bidder = b.bidder;
          h.date_time = b.date_time;
          std::memcpy(h.extra, r.value.tail, sizeof h.extra);
          h.window_start = r.start;
          h.window_end = r.end;
          return h;
        })
        .ToList(view, o.list_capacity);
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
