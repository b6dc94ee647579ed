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

#define KAPPA_NEXMARK_FIELD(T, f) kappa::engine::Member(#f, &kappa::nexmark::T::f)

template <>
struct kappa::engine::RecordType<kappa::nexmark::Person> {
  static constexpr const char* kName = "person";
  static constexpr std::uint16_t kLogType = 1;
  static constexpr auto kFields =
      std::make_tuple(KAPPA_NEXMARK_FIELD(Person, id), KAPPA_NEXMARK_FIELD(Person, name),
                      KAPPA_NEXMARK_FIELD(Person, email_address),
                      KAPPA_NEXMARK_FIELD(Person, credit_card), KAPPA_NEXMARK_FIELD(Person, city),
                      KAPPA_NEXMARK_FIELD(Person, state), KAPPA_NEXMARK_FIELD(Person, date_time));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::Auction> {
  static constexpr const char* kName = "auction";
  static constexpr std::uint16_t kLogType = 2;
  static constexpr auto kFields = std::make_tuple(
      KAPPA_NEXMARK_FIELD(Auction, id), KAPPA_NEXMARK_FIELD(Auction, item_name),
      KAPPA_NEXMARK_FIELD(Auction, description), KAPPA_NEXMARK_FIELD(Auction, initial_bid),
      KAPPA_NEXMARK_FIELD(Auction, reserve), KAPPA_NEXMARK_FIELD(Auction, date_time),
      KAPPA_NEXMARK_FIELD(Auction, expires), KAPPA_NEXMARK_FIELD(Auction, seller),
      KAPPA_NEXMARK_FIELD(Auction, category));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::Bid> {
  static constexpr const char* kName = "bid";
  static constexpr std::uint16_t kLogType = 3;
  static constexpr auto kFields =
      std::make_tuple(KAPPA_NEXMARK_FIELD(Bid, auction), KAPPA_NEXMARK_FIELD(Bid, bidder),
                      KAPPA_NEXMARK_FIELD(Bid, price), KAPPA_NEXMARK_FIELD(Bid, channel),
                      KAPPA_NEXMARK_FIELD(Bid, date_time));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::BidInEuros> {
  static constexpr const char* kName = "bid_in_euros";
  static constexpr std::uint16_t kLogType = 11;
  static constexpr auto kFields = std::make_tuple(
      KAPPA_NEXMARK_FIELD(BidInEuros, auction), KAPPA_NEXMARK_FIELD(BidInEuros, bidder),
      KAPPA_NEXMARK_FIELD(BidInEuros, price), KAPPA_NEXMARK_FIELD(BidInEuros, date_time));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::AuctionPrice> {
  static constexpr const char* kName = "auction_price";
  static constexpr std::uint16_t kLogType = 12;
  static constexpr auto kFields = std::make_tuple(KAPPA_NEXMARK_FIELD(AuctionPrice, auction),
                                                  KAPPA_NEXMARK_FIELD(AuctionPrice, price));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::LocalItem> {
  static constexpr const char* kName = "local_item";
  static constexpr std::uint16_t kLogType = 13;
  static constexpr auto kFields = std::make_tuple(
      KAPPA_NEXMARK_FIELD(LocalItem, name), KAPPA_NEXMARK_FIELD(LocalItem, city),
      KAPPA_NEXMARK_FIELD(LocalItem, state), KAPPA_NEXMARK_FIELD(LocalItem, auction));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::HighestBid> {
  static constexpr const char* kName = "highest_bid";
  static constexpr std::uint16_t kLogType = 17;
  static constexpr auto kFields = std::make_tuple(
      KAPPA_NEXMARK_FIELD(HighestBid, auction), KAPPA_NEXMARK_FIELD(HighestBid, price),
      KAPPA_NEXMARK_FIELD(HighestBid, bidder), KAPPA_NEXMARK_FIELD(HighestBid, date_time));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::HotItem> {
  static constexpr const char* kName = "hot_item";
  static constexpr std::uint16_t kLogType = 20;
  static constexpr auto kFields =
      std::make_tuple(KAPPA_NEXMARK_FIELD(HotItem, auction), KAPPA_NEXMARK_FIELD(HotItem, bids));
};
template <>
struct kappa::engine::RecordType<kappa::nexmark::NewUser> {
  static constexpr const char* kName = "new_user";
  static constexpr std::uint16_t kLogType = 18;
  static constexpr auto kFields =
      std::make_tuple(KAPPA_NEXMARK_FIELD(NewUser, id), KAPPA_NEXMARK_FIELD(NewUser, name),
                      KAPPA_NEXMARK_FIELD(NewUser, window_start));
};

template <>
struct kappa::engine::RecordType<kappa::nexmark::WinningBid> {
  static constexpr const char* kName = "winning_bid";
  static constexpr std::uint16_t kLogType = 19;
  static constexpr auto kFields = std::make_tuple(
      KAPPA_NEXMARK_FIELD(WinningBid, auction), KAPPA_NEXMARK_FIELD(WinningBid, seller),
      KAPPA_NEXMARK_FIELD(WinningBid, category), KAPPA_NEXMARK_FIELD(WinningBid, price),
      KAPPA_NEXMARK_FIELD(WinningBid, bidder), KAPPA_NEXMARK_FIELD(WinningBid, date_time),
      KAPPA_NEXMARK_FIELD(WinningBid, expires));
};

#undef KAPPA_NEXMARK_FIELD
