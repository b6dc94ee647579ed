// Generator: NEXMark events, as the nexmark project's generator makes them.
//
// Event n (from 0) is a person, an auction or a bid by n mod 50: 0 a person, 1–3 auctions, the
// rest bids (1 : 3 : 46). Ids are dense (persons and auctions from 1000, in creation order).
// Auctions have a seller that is, three times in four, the latest "hot" seller (person ids
// rounded down to a multiple of 100), else a random one of the 1000 most recent persons (or up
// to 10 not yet created, as the nexmark generator does); bids are on the latest hot auction half
// of the time, else on one of the 100 auctions in flight (or up to 10 ahead), by a hot bidder
// three times in four. Event time advances by 1e9 / events_per_second ns per event from
// base_time_ns. Prices are 10^(6u) × 100 rounded (100 to 10^8); auctions expire within twice the
// time it takes to create 100 more auctions.
//
// Event n depends only on the seed and n: Make(n) can be called in any order, and a generation
// can resume at any event.
//
// Thread safety: a Generator is immutable; Make may be called from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "nexmark/model.h"
#include "serving/status.h"

namespace kappa::nexmark {

struct GeneratorConfig {
  std::uint64_t seed = 1;
  std::int64_t base_time_ns = 0;   // event time of event 0
  double events_per_second = 1e6;  // the event-time rate (not the generation speed)
  std::int64_t active_people = 1000;
  std::int64_t auctions_in_flight = 100;
  int hot_auction_ratio = 2;  // 1 in N bids on a random auction, the rest on the hot one
  int hot_bidder_ratio = 4;
  int hot_seller_ratio = 4;
};

enum class EventKind : std::uint8_t { kPerson, kAuction, kBid };

struct Event {
  EventKind kind;
  union {
    Person person;
    Auction auction;
    Bid bid;
  };
  std::int64_t date_time() const;
  // The event as a log carries it: its record type (RecordType<T>::kLogType) and bytes.
  std::uint16_t type() const;
  std::span<const std::byte> payload() const;
};

// Names the three event types in the record catalog of the log at `log_path`, so that tools
// show their fields.
serving::Status RegisterEventTypes(const std::string& log_path);

class Generator {
 public:
  static constexpr int kPersonProportion = 1;
  static constexpr int kAuctionProportion = 3;
  static constexpr int kBidProportion = 46;
  static constexpr int kTotalProportion = kPersonProportion + kAuctionProportion + kBidProportion;
  static constexpr std::int64_t kFirstPersonId = 1000;
  static constexpr std::int64_t kFirstAuctionId = 1000;
  static constexpr std::int64_t kFirstCategoryId = 10;
  static constexpr int kCategories = 5;

  explicit Generator(const GeneratorConfig& config);

  const GeneratorConfig& config() const { return config_; }
  static EventKind KindOf(std::uint64_t n);
  std::int64_t TimeOf(std::uint64_t n) const;
  // Event n.
  void Make(std::uint64_t n, Event* out) const;

  // The id of the last person / auction created at or before event n (base 0, before the
  // first-id offset), as the nexmark generator counts them.
  static std::int64_t LastBase0PersonId(std::uint64_t n);
  static std::int64_t LastBase0AuctionId(std::uint64_t n);

 private:
  GeneratorConfig config_;
  double ns_per_event_;
};

}  // namespace kappa::nexmark
