// NEXMark's three event kinds as kappa records (record types 1, 2, 3 in a log), and the result
// records of its queries.
//
// The fields are those of the nexmark project's Person, Auction and Bid, with two changes for
// fixed-layout records: strings have a fixed capacity (longer values are cut, as the generator
// never makes them), and the padding fields ("extra", and the bid's url) are left out, so that
// a bid is 48 bytes where the nexmark project's are about 100 (Flink's figures, which
// RESULTS.md compares with, are for those).
//
// Times are event times in unix nanoseconds (the nexmark project's are milliseconds).
#pragma once

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
  char description[32];
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

// Q7: the highest bid of a window (the earliest of equal ones, then the smaller auction, then
// the smaller bidder).
struct HighestBid {
  std::int64_t auction;
  std::int64_t price;
  std::int64_t bidder;
  std::int64_t date_time;
};

// Q5: the auction with the most bids in a window (the smaller id of equal ones).
struct HotItem {
  std::int64_t auction;
  std::int64_t bids;
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
KAPPA_NAMED_RECORD(kappa::nexmark::HighestBid, "highest_bid", 17, auction, price, bidder,
                   date_time);
KAPPA_NAMED_RECORD(kappa::nexmark::HotItem, "hot_item", 20, auction, bids);
KAPPA_NAMED_RECORD(kappa::nexmark::NewUser, "new_user", 18, id, name, window_start);
KAPPA_NAMED_RECORD(kappa::nexmark::WinningBid, "winning_bid", 19, auction, seller, category, price,
                   bidder, date_time, expires);
