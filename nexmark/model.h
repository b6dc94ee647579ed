// NEXMark's three event kinds as kappa records (record types 1, 2, 3 in a log), and the result
// records of its queries.
//
// The fields are those of the nexmark project's Person, Auction and Bid as fixed-layout records:
// strings have a fixed capacity that holds the longest the generators make (a name 14
// characters, an email 15, a card 19, an item name 19, a description 99). The `extra` padding
// (which brings the nexmark project's events to 200, 500 and 100 bytes on average, as it counts
// their sizes) is not a field: it follows the record in the log (a record tail, engine/record.h),
// where the reference generator writes it; pipelines read the fixed part. A bid has a channel (the
// nexmark project's later generators draw one); its url is a function of the channel
// (nexmark/url.h), not a field.
//
// Sizes: Person 112 bytes, Auction 184, Bid 48; with the reference's padding, payloads of 253,
// 575 and 116 bytes on average (over the reference's first 10,000 events).
//
// Times are event times in unix nanoseconds (the nexmark project's are milliseconds: the
// reference generator's are whole milliseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>

#include "engine/record.h"

namespace kappa::nexmark {

struct Person {
  std::int64_t id;
  char name[24];
  char email_address[24];
  char credit_card[24];
  char city[16];
  char state[8];
  std::int64_t date_time;
};

struct Auction {
  std::int64_t id;
  char item_name[24];
  char description[104];
  std::int64_t initial_bid;
  std::int64_t reserve;
  std::int64_t date_time;
  std::int64_t expires;
  std::int64_t seller;
  std::int64_t category;
};

struct Bid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  char channel[16];
  std::int64_t date_time;
};

static_assert(sizeof(Person) == 112 && sizeof(Auction) == 184 && sizeof(Bid) == 48,
              "the sizes the header states");

// Room for the longest `extra` padding the reference generator draws for a bid (81 bytes).
inline constexpr std::size_t kMaxBidExtraBytes = 88;

// Q1: a bid with its price in euros.
struct BidInEuros {
  std::int64_t auction;
  std::int64_t bidder;
  double price;
  std::int64_t date_time;
};

// Q2: an auction and a price bid on it.
struct AuctionPrice {
  std::int64_t auction;
  std::int64_t price;
};

// Q3: a seller in OR, ID or CA and an auction of theirs in category 10.
struct LocalItem {
  char name[24];
  char city[16];
  char state[8];
  std::int64_t auction;
};

// Q7: a bid equal to its window's highest price (every one of them), with the window
// [window_start, window_end] it is the highest of: the SQL matches a bid at window_end itself
// too (BETWEEN includes both ends), so a bid at a window boundary may come for two windows.
struct HighestBid {
  std::int64_t auction;
  std::int64_t price;
  std::int64_t bidder;
  std::int64_t date_time;
  char extra[kMaxBidExtraBytes];
  std::int64_t window_start;
  std::int64_t window_end;
};

// Q13: a bid with a value of the side input row it met (its key: the bid's auction % 10,000).
struct SideInputBid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  std::int64_t date_time;
  char value[32];  // nexmark::kMaxSideValueBytes, NUL-padded
};

// Q5: an auction with the most bids of a window (every one tied for the most).
struct HotItem {
  std::int64_t auction;
  std::int64_t num;
  std::int64_t window_start;
  std::int64_t window_end;
};

// Q9: the bid that won an auction: the highest (the first of equal ones) between the auction's
// start and its expiry.
struct WinningBid {
  std::int64_t auction;
  std::int64_t seller;
  std::int64_t category;
  std::int64_t price;
  std::int64_t bidder;
  std::int64_t date_time;  // the bid's
  std::int64_t expires;
};

// Q20: a bid with its auction (of category 10): the bid's fields, then the auction's (the
// auction's time as auction_date_time).
struct AuctionBid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  char channel[16];
  std::int64_t date_time;
  char item_name[24];
  char description[104];
  std::int64_t initial_bid;
  std::int64_t reserve;
  std::int64_t auction_date_time;
  std::int64_t expires;
  std::int64_t seller;
  std::int64_t category;
};

// Q15: a day's bids, bidders and auctions, in all and by price rank (rank 1: price < 10,000;
// rank 2: 10,000 to 999,999; rank 3: 1,000,000 and more). Bidders and auctions are counted
// exactly (each once per day and rank). The day is "yyyy-MM-dd" in UTC.
struct DayBidStats {
  char day[16];
  std::int64_t total_bids;
  std::int64_t rank1_bids;
  std::int64_t rank2_bids;
  std::int64_t rank3_bids;
  std::int64_t total_bidders;
  std::int64_t rank1_bidders;
  std::int64_t rank2_bidders;
  std::int64_t rank3_bidders;
  std::int64_t total_auctions;
  std::int64_t rank1_auctions;
  std::int64_t rank2_auctions;
  std::int64_t rank3_auctions;
};

// Q16: Q15's figures per channel and day, with the day's latest minute ("HH:mm", UTC).
struct ChannelDayStats {
  char channel[16];
  char day[16];
  char minute[8];
  std::int64_t total_bids;
  std::int64_t rank1_bids;
  std::int64_t rank2_bids;
  std::int64_t rank3_bids;
  std::int64_t total_bidders;
  std::int64_t rank1_bidders;
  std::int64_t rank2_bidders;
  std::int64_t rank3_bidders;
  std::int64_t total_auctions;
  std::int64_t rank1_auctions;
  std::int64_t rank2_auctions;
  std::int64_t rank3_auctions;
};

// Q17: an auction's bids of a day: counts by price rank, and the lowest, highest, mean (an
// integer, truncated, as the SQL's AVG of a BIGINT) and total price.
struct AuctionDayStats {
  std::int64_t auction;
  char day[16];
  std::int64_t total_bids;
  std::int64_t rank1_bids;
  std::int64_t rank2_bids;
  std::int64_t rank3_bids;
  std::int64_t min_price;
  std::int64_t max_price;
  std::int64_t avg_price;
  std::int64_t sum_price;
};

// Q10: a bid as the SQL logs it to files partitioned by day and minute: its fields, its `extra`
// padding, and the partition's day ("yyyy-MM-dd") and minute ("HH:mm"), in UTC.
struct LoggedBid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  std::int64_t date_time;
  char extra[kMaxBidExtraBytes];
  char dt[16];
  char hm[8];
};

// Q14: a bid of 1,000,000 to 50,000,000 euros (exclusive), with the part of the day it was made
// in ("dayTime" 08:00 to 18:59 UTC, "nightTime" 20:00 to 06:59, else "otherTime"), its `extra`
// padding and the number of 'c' characters in it.
struct BidCalculation {
  std::int64_t auction;
  std::int64_t bidder;
  double price;  // in euros (price × 0.908)
  char bid_time_type[16];
  std::int64_t date_time;
  std::int64_t c_counts;
  char extra[kMaxBidExtraBytes];
};

// Q19: one of an auction's 10 highest bids, with its rank (1 the highest).
struct RankedBid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  char channel[16];
  std::int64_t date_time;
  std::int64_t rank_number;
};

// Q21: a bid with its channel's id: 0 to 3 for Apple, Google, Facebook, Baidu (in any case),
// else the url's channel_id parameter (nexmark/url.h).
struct ChannelBid {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  char channel[16];
  char channel_id[16];
};

// Q22: a bid with the first three directories of its url (empty where the url has fewer).
struct UrlDirectories {
  std::int64_t auction;
  std::int64_t bidder;
  std::int64_t price;
  char channel[16];
  char dir1[8];
  char dir2[8];
  char dir3[8];
};

// Q8: a person who opened an auction in the window they registered in.
struct NewUser {
  std::int64_t id;
  char name[24];
  std::int64_t window_start;
};

}  // namespace kappa::nexmark

KAPPA_NAMED_RECORD(kappa::nexmark::Person, "person", 1, id, name, email_address, credit_card, city,
                   state, date_time);
KAPPA_NAMED_RECORD(kappa::nexmark::Auction, "auction", 2, id, item_name, description, initial_bid,
                   reserve, date_time, expires, seller, category);
KAPPA_NAMED_RECORD(kappa::nexmark::Bid, "bid", 3, auction, bidder, price, channel, date_time);
KAPPA_NAMED_RECORD(kappa::nexmark::BidInEuros, "bid_in_euros", 11, auction, bidder, price,
                   date_time);
KAPPA_NAMED_RECORD(kappa::nexmark::AuctionPrice, "auction_price", 12, auction, price);
KAPPA_NAMED_RECORD(kappa::nexmark::LocalItem, "local_item", 13, name, city, state, auction);
KAPPA_NAMED_RECORD(kappa::nexmark::HighestBid, "highest_bid", 17, auction, price, bidder, date_time,
                   extra, window_start, window_end);
KAPPA_NAMED_RECORD(kappa::nexmark::SideInputBid, "side_input_bid", 30, auction, bidder, price,
                   date_time, value);
KAPPA_NAMED_RECORD(kappa::nexmark::HotItem, "hot_item", 20, auction, num, window_start, window_end);
KAPPA_NAMED_RECORD(kappa::nexmark::AuctionBid, "auction_bid", 21, auction, bidder, price, channel,
                   date_time, item_name, description, initial_bid, reserve, auction_date_time,
                   expires, seller, category);
KAPPA_NAMED_RECORD(kappa::nexmark::NewUser, "new_user", 18, id, name, window_start);
KAPPA_NAMED_RECORD(kappa::nexmark::DayBidStats, "day_bid_stats", 22, day, total_bids, rank1_bids,
                   rank2_bids, rank3_bids, total_bidders, rank1_bidders, rank2_bidders,
                   rank3_bidders, total_auctions, rank1_auctions, rank2_auctions, rank3_auctions);
KAPPA_NAMED_RECORD(kappa::nexmark::ChannelDayStats, "channel_day_stats", 23, channel, day, minute,
                   total_bids, rank1_bids, rank2_bids, rank3_bids, total_bidders, rank1_bidders,
                   rank2_bidders, rank3_bidders, total_auctions, rank1_auctions, rank2_auctions,
                   rank3_auctions);
KAPPA_NAMED_RECORD(kappa::nexmark::AuctionDayStats, "auction_day_stats", 24, auction, day,
                   total_bids, rank1_bids, rank2_bids, rank3_bids, min_price, max_price, avg_price,
                   sum_price);
KAPPA_NAMED_RECORD(kappa::nexmark::LoggedBid, "logged_bid", 27, auction, bidder, price, date_time,
                   extra, dt, hm);
KAPPA_NAMED_RECORD(kappa::nexmark::BidCalculation, "bid_calculation", 26, auction, bidder, price,
                   bid_time_type, date_time, c_counts, extra);
KAPPA_NAMED_RECORD(kappa::nexmark::ChannelBid, "channel_bid", 28, auction, bidder, price, channel,
                   channel_id);
KAPPA_NAMED_RECORD(kappa::nexmark::UrlDirectories, "url_directories", 29, auction, bidder, price,
                   channel, dir1, dir2, dir3);
KAPPA_NAMED_RECORD(kappa::nexmark::RankedBid, "ranked_bid", 25, auction, bidder, price, channel,
                   date_time, rank_number);
KAPPA_NAMED_RECORD(kappa::nexmark::WinningBid, "winning_bid", 19, auction, seller, category, price,
                   bidder, date_time, expires);
// The nexmark project's `extra` padding follows each event's record in the log.
KAPPA_RECORD_TAIL(kappa::nexmark::Person, "extra");
KAPPA_RECORD_TAIL(kappa::nexmark::Auction, "extra");
KAPPA_RECORD_TAIL(kappa::nexmark::Bid, "extra");
